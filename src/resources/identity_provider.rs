use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::common::{Condition, SecretKeyRef};
use super::interval::Interval;

/// One directory (Okta, Entra ID, Google Workspace, JumpCloud or OneLogin), read on its own
/// interval and shared by every SalesforceIntegration in the namespace that links it.
#[derive(CustomResource, KubeSchema, Debug, Clone, PartialEq, Serialize, Deserialize)]
#[kube(
    group = "idgap.io",
    version = "v1alpha1",
    kind = "IdentityProvider",
    namespaced,
    status = "IdentityProviderStatus",
    shortname = "idp",
    category = "idgap",
    printcolumn(name = "Ready", type_ = "string", json_path = ".status.conditions[?(@.type==\"Ready\")].status"),
    printcolumn(name = "Status", type_ = "string", json_path = ".status.conditions[?(@.type==\"Ready\")].reason"),
    printcolumn(name = "Provider", type_ = "string", json_path = ".status.provider"),
    printcolumn(name = "Accounts", type_ = "integer", json_path = ".status.accounts"),
    printcolumn(name = "Last Sync", type_ = "date", json_path = ".status.lastSyncTime"),
    printcolumn(name = "Age", type_ = "date", json_path = ".metadata.creationTimestamp"),
    validation = Rule::new("[has(self.spec.okta), has(self.spec.entraId), has(self.spec.googleWorkspace), has(self.spec.jumpCloud), has(self.spec.oneLogin)].filter(x, x).size() == 1").message("exactly one of okta, entraId, googleWorkspace, jumpCloud, oneLogin must be set").field_path(".spec")
)]
#[serde(rename_all = "camelCase")]
pub struct IdentityProviderSpec {
    /// How often the directory is read, e.g. `30m`.
    #[serde(default = "default_idp_interval")]
    pub interval: Interval,
    /// Stops syncing this directory; integrations keep using the last snapshot.
    #[serde(default)]
    pub suspend: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub okta: Option<OktaSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entra_id: Option<EntraIdSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub google_workspace: Option<GoogleWorkspaceSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jump_cloud: Option<JumpCloudSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub one_login: Option<OneLoginSpec>,
}

fn default_idp_interval() -> Interval {
    Interval::parse("30m").expect("a valid default")
}

/// Okta: an API token, or an OAuth service app (private_key_jwt, optional DPoP).
#[derive(KubeSchema, Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("has(self.apiToken) != has(self.serviceApp)").message("set exactly one of apiToken or serviceApp"))]
pub struct OktaSpec {
    /// The Okta org domain, e.g. `acme.okta.com`.
    #[schemars(length(min = 1, max = 253))]
    pub domain: String,
    /// Overrides `https://<domain>`; subject to the operator's outbound-host allow-list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 2048), regex(pattern = r"^https?://[^\s/]+(/\S*)?$"))]
    pub base_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_token: Option<SecretKeyRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_app: Option<OktaServiceAppSpec>,
}

#[derive(JsonSchema, Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OktaServiceAppSpec {
    #[schemars(length(min = 1, max = 255))]
    pub client_id: String,
    /// PEM private key whose public JWK is registered on the app.
    pub private_key: SecretKeyRef,
    /// The `kid` of the registered key, when the app has several.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    /// Send DPoP proofs (on by default for new Okta service apps).
    #[serde(default = "default_true")]
    pub dpop: bool,
}

fn default_true() -> bool {
    true
}

/// Microsoft Entra ID through Microsoft Graph: client credentials with a secret or a certificate.
#[derive(KubeSchema, Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("has(self.clientSecret) != has(self.certificate)").message("set exactly one of clientSecret or certificate"))]
pub struct EntraIdSpec {
    /// Tenant id (GUID) or a verified domain.
    #[schemars(length(min = 1, max = 253))]
    pub tenant_id: String,
    #[schemars(length(min = 1, max = 255))]
    pub client_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<SecretKeyRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate: Option<EntraCertificateSpec>,
    /// Overrides `https://login.microsoftonline.com` (national clouds, the simulator).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 2048), regex(pattern = r"^https?://[^\s/]+(/\S*)?$"))]
    pub login_base_url: Option<String>,
    /// Overrides `https://graph.microsoft.com`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 2048), regex(pattern = r"^https?://[^\s/]+(/\S*)?$"))]
    pub graph_base_url: Option<String>,
}

#[derive(JsonSchema, Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EntraCertificateSpec {
    /// PEM private key of the certificate registered on the app.
    pub private_key: SecretKeyRef,
    /// The certificate's SHA-1 thumbprint (hex), as shown in the app registration.
    #[schemars(regex(pattern = r"^[0-9A-Fa-f:]{40,59}$"))]
    pub thumbprint: String,
}

/// Google Workspace: a service account with domain-wide delegation.
#[derive(JsonSchema, Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GoogleWorkspaceSpec {
    /// The service account's JSON key file.
    pub service_account_key: SecretKeyRef,
    /// A Workspace admin the service account acts as (the JWT `sub`).
    #[schemars(length(min = 3, max = 320))]
    pub subject: String,
    /// Customer id; defaults to `my_customer`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 2048), regex(pattern = r"^https?://[^\s/]+(/\S*)?$"))]
    pub token_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 2048), regex(pattern = r"^https?://[^\s/]+(/\S*)?$"))]
    pub api_base_url: Option<String>,
}

/// JumpCloud: an administrator API key.
#[derive(JsonSchema, Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JumpCloudSpec {
    pub api_key: SecretKeyRef,
    /// Required for multi-tenant (MTP) administrators.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 2048), regex(pattern = r"^https?://[^\s/]+(/\S*)?$"))]
    pub base_url: Option<String>,
}

/// OneLogin: API client credentials with at least "Read users".
#[derive(JsonSchema, Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OneLoginSpec {
    /// The account subdomain: `acme` for `acme.onelogin.com`.
    #[schemars(
        length(min = 1, max = 63),
        regex(pattern = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
    )]
    pub subdomain: String,
    pub client_id: SecretKeyRef,
    pub client_secret: SecretKeyRef,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 2048), regex(pattern = r"^https?://[^\s/]+(/\S*)?$"))]
    pub base_url: Option<String>,
}

#[derive(JsonSchema, Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IdentityProviderStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    #[serde(default)]
    pub conditions: Vec<Condition>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accounts: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active_accounts: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspended_accounts: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deprovisioned_accounts: Option<u64>,
    /// Accounts whose state the provider did not say (Entra `"accountEnabled": null`):
    /// neither disabled nor flagged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unknown_state_accounts: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requests_last_sync: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_sync_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_successful_sync_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_handled_reconcile_at: Option<String>,
}
