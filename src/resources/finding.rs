use std::collections::BTreeMap;

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// One finding, owned by the SalesforceIntegration that produced it.
///
/// It has no status: when it was first seen is `metadata.creationTimestamp` (set by the API
/// server when the first sync that produced it wrote it, so it cannot drift), and every finding
/// that exists was produced again by the integration's last complete sync
/// (`status.lastSuccessfulSyncTime`) or is an event finding kept for its retention period.
/// A status would cost a second write per new finding for no information.
// Repeated `type_ = "string"` across printcolumns is not a duplicate attribute.
#[allow(clippy::duplicated_attributes)]
#[derive(CustomResource, JsonSchema, Debug, Clone, PartialEq, Serialize, Deserialize)]
#[kube(
    group = "idgap.io",
    version = "v1alpha1",
    kind = "AccessFinding",
    namespaced,
    shortname = "af",
    category = "idgap",
    printcolumn(name = "Severity", type_ = "string", json_path = ".spec.severity"),
    printcolumn(name = "Rule", type_ = "string", json_path = ".spec.rule"),
    printcolumn(
        name = "Subject",
        type_ = "string",
        json_path = ".spec.subject.display"
    ),
    printcolumn(
        name = "Integration",
        type_ = "string",
        json_path = ".spec.integration"
    ),
    printcolumn(
        name = "Category",
        type_ = "string",
        json_path = ".spec.category",
        priority = 1
    ),
    printcolumn(
        name = "Age",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    ),
    selectable = ".spec.severity",
    selectable = ".spec.rule",
    selectable = ".spec.integration"
)]
#[serde(rename_all = "camelCase")]
pub struct AccessFindingSpec {
    /// The SalesforceIntegration that produced this finding.
    #[schemars(
        length(min = 1, max = 253),
        regex(pattern = r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
    )]
    pub integration: String,
    /// The rule id, e.g. `admin-not-in-idp` (also the `idgap.io/rule` label value).
    #[schemars(
        length(min = 1, max = 63),
        regex(pattern = r"^[a-z0-9]+(-[a-z0-9]+)*$")
    )]
    pub rule: String,
    pub title: String,
    #[schemars(regex(pattern = r"^(critical|high|medium|low)$"))]
    pub severity: String,
    #[schemars(regex(pattern = r"^(identity-gap|privilege|session|data-export)$"))]
    pub category: String,
    pub subject: FindingSubject,
    /// What was read that proves the finding, as short strings.
    #[serde(default)]
    pub evidence: BTreeMap<String, String>,
    pub remediation: String,
    /// For findings about an event: when it happened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub occurred_at: Option<String>,
}

#[derive(JsonSchema, Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FindingSubject {
    /// `User`, `OAuthGrant`, `Org` or `AuditEvent`.
    #[serde(rename = "type")]
    pub type_: String,
    /// A short label for `kubectl get`.
    pub display: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub salesforce_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app: Option<String>,
}
