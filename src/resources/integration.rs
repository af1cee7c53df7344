use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::common::{Condition, SecretKeyRef};
use super::interval::Interval;

/// One Salesforce org, read on an interval and compared with the linked identity providers.
#[derive(CustomResource, KubeSchema, Debug, Clone, PartialEq, Serialize, Deserialize)]
#[kube(
    group = "idgap.io",
    version = "v1alpha1",
    kind = "SalesforceIntegration",
    namespaced,
    status = "SalesforceIntegrationStatus",
    shortname = "sfi",
    category = "idgap",
    printcolumn(name = "Ready", type_ = "string", json_path = ".status.conditions[?(@.type==\"Ready\")].status"),
    printcolumn(name = "Status", type_ = "string", json_path = ".status.conditions[?(@.type==\"Ready\")].reason"),
    printcolumn(name = "Critical", type_ = "integer", json_path = ".status.summary.critical"),
    printcolumn(name = "High", type_ = "integer", json_path = ".status.summary.high"),
    printcolumn(name = "Last Sync", type_ = "date", json_path = ".status.lastSyncTime"),
    printcolumn(name = "Age", type_ = "date", json_path = ".metadata.creationTimestamp"),
    validation = Rule::new("!(has(self.spec.environment) && has(self.spec.loginUrl))").message("set either environment or loginUrl, not both").field_path(".spec.loginUrl"),
    validation = Rule::new("!has(self.spec.auth.clientCredentials) || (has(self.spec.loginUrl) && !self.spec.loginUrl.matches('^https?://(login|test)[.]salesforce[.]com/?$'))").message(CLIENT_CREDENTIALS_NEED_MY_DOMAIN).field_path(".spec.loginUrl")
)]
#[serde(rename_all = "camelCase")]
pub struct SalesforceIntegrationSpec {
    /// How often the org is synced, e.g. `1h`.
    #[serde(default = "default_interval")]
    pub interval: Interval,
    /// Stops syncing; existing findings stay.
    #[serde(default)]
    pub suspend: bool,
    /// `production` (login.salesforce.com) or `sandbox` (test.salesforce.com). Defaults to
    /// production when neither this nor `loginUrl` is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<Environment>,
    /// A My Domain login URL, e.g. `https://acme.my.salesforce.com`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^https?://[^/\s]+/?$"))]
    pub login_url: Option<String>,
    pub auth: SalesforceAuthSpec,
    /// IdentityProviders in this namespace whose directories together form the IdP.
    #[serde(default)]
    #[schemars(length(max = 10))]
    #[x_kube(validation = Rule::new("self.all(r, self.exists_one(o, o.name == r.name))").message("each IdentityProvider may be listed once"))]
    pub identity_provider_refs: Vec<IdentityProviderRef>,
    /// How far back the first sync reads the setup audit trail.
    #[serde(default = "default_audit_lookback")]
    pub audit_lookback: Interval,
    /// REST API version, e.g. `v62.0`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^v[0-9]{2,3}\.0$"))]
    pub api_version: Option<String>,
    /// Stop a sync early when the org's daily API usage passes this percentage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 100))]
    pub max_api_usage_percent: Option<u8>,
    #[serde(default)]
    pub rules: RulesSpec,
    /// Reviewed exceptions, each with a reason and an optional expiry.
    #[serde(default)]
    #[schemars(length(max = 500))]
    pub exclusions: Vec<ExclusionSpec>,
    #[serde(default)]
    pub findings: FindingsSpec,
}

/// Salesforce answers client credentials only on the org's My Domain host.
pub const CLIENT_CREDENTIALS_NEED_MY_DOMAIN: &str = "auth.clientCredentials needs loginUrl set to the org's My Domain URL (https://<your-domain>.my.salesforce.com, shown in Setup > My Domain): Salesforce refuses the client-credentials flow on login.salesforce.com and test.salesforce.com";

fn default_interval() -> Interval {
    Interval::parse("1h").expect("a valid default")
}

fn default_audit_lookback() -> Interval {
    Interval::parse("168h").expect("a valid default")
}

#[derive(JsonSchema, Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    Production,
    Sandbox,
}

/// Exactly one way of authenticating without a person present.
#[derive(KubeSchema, Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("[has(self.refreshToken), has(self.jwtBearer), has(self.clientCredentials)].filter(x, x).size() == 1").message("set exactly one of refreshToken, jwtBearer, clientCredentials"))]
pub struct SalesforceAuthSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<RefreshTokenSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwt_bearer: Option<JwtBearerSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_credentials: Option<ClientCredentialsSpec>,
}

/// The connected-app flow (`api refresh_token offline_access id`), e.g. from `idgap connect`.
#[derive(JsonSchema, Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RefreshTokenSpec {
    pub client_id: SecretKeyRef,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<SecretKeyRef>,
    pub refresh_token: SecretKeyRef,
}

#[derive(JsonSchema, Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JwtBearerSpec {
    pub client_id: SecretKeyRef,
    /// The Salesforce username the integration acts as.
    #[schemars(length(min = 3, max = 255))]
    pub username: String,
    /// PEM RSA private key whose certificate is uploaded to the connected app.
    pub private_key: SecretKeyRef,
    /// The assertion's `aud`. By default idgap sends the documented one
    /// (`https://login.salesforce.com`, or `https://test.salesforce.com` for a sandbox) and,
    /// with a My Domain `loginUrl`, falls back to that URL; set this for anything else
    /// (e.g. an Experience Cloud site URL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^https://\S+$"), length(max = 2048))]
    pub audience: Option<String>,
}

#[derive(JsonSchema, Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientCredentialsSpec {
    pub client_id: SecretKeyRef,
    pub client_secret: SecretKeyRef,
}

#[derive(JsonSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IdentityProviderRef {
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
}

/// Rule ids, as in `docs/rules.md`.
#[derive(JsonSchema, Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RuleName {
    AdminNotInIdp,
    UserNotInIdp,
    StaleActiveUser,
    ConnectedAppUnknownUser,
    AdminModifyAllData,
    AdminViewAllData,
    SessionIpNotEnforced,
    BulkDataExport,
    DataExportByNonAdmin,
}

#[derive(JsonSchema, Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SeverityName {
    Critical,
    High,
    Medium,
    Low,
}

#[derive(JsonSchema, Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RulesSpec {
    #[serde(default)]
    pub disabled: Vec<RuleName>,
    /// Profiles whose users also count as admins, by Metadata API name or label (trimmed,
    /// case-insensitive); defaults to `System Administrator`. Added to the built-in
    /// definition: the profile whose API name is `Admin`, and every holder of Modify All Data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admin_profiles: Option<Vec<String>>,
    /// User types the IdP rules cover; defaults to `Standard` (portal, guest and automated
    /// users are not expected in the IdP).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idp_user_types: Option<Vec<String>>,
    /// Profiles left out of the IdP rules (integration and automation users), by Metadata API
    /// name or label (trimmed, case-insensitive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub excluded_profiles: Option<Vec<String>>,
    #[serde(default)]
    pub severity_overrides: Vec<SeverityOverride>,
    /// Email domains that are the same organisation, e.g. acme.io ≡ acme.com.
    #[serde(default)]
    pub domain_aliases: Vec<DomainAlias>,
    /// A directory that shrank by more than this percentage since its last good sync is not
    /// trusted for the IdP rules. Default 50.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 100))]
    pub idp_shrink_percent: Option<u8>,
    /// Count personal secondary addresses (Okta `secondEmail`, Entra `otherMails`) as
    /// identities. Default false: such an address may be anyone's private mailbox.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub match_personal_addresses: Option<bool>,
    /// Which setup-audit-trail rows are data exports (docs/rules.md). Each list replaces its
    /// default when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub export_matchers: Option<ExportMatchersSpec>,
    /// The Health Check (`SecurityHealthCheckRisks`) `Setting` labels read when the Metadata
    /// API is refused. Salesforce's wording is UNCONFIRMED; set the org's own wording here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_check_labels: Option<HealthCheckLabelsSpec>,
}

#[derive(JsonSchema, Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HealthCheckLabelsSpec {
    /// Default `Lock sessions to the IP address from which they originated`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 255))]
    pub lock_sessions_to_ip: Option<String>,
    /// Default `Enforce login IP ranges on every request`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 255))]
    pub enforce_ip_ranges: Option<String>,
}

/// Salesforce does not publish the audit trail's export `Action` tokens, so they are
/// configurable; a row is an export when its Action is listed, or when its Section contains
/// a listed section and its Display a listed word.
#[derive(JsonSchema, Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExportMatchersSpec {
    /// Default `Data Management`, `Data Export`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 50))]
    pub sections: Option<Vec<String>>,
    /// Default `dataExport`, `queueDataExport`, `scheduledDataExport`, `weeklyExport`
    /// (UNCONFIRMED).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 50))]
    pub actions: Option<Vec<String>>,
    /// Default `export`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 50))]
    pub display_contains: Option<Vec<String>>,
}

#[derive(JsonSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SeverityOverride {
    pub rule: RuleName,
    pub severity: SeverityName,
}

#[derive(JsonSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DomainAlias {
    #[schemars(length(min = 1, max = 253))]
    pub domain: String,
    #[schemars(length(min = 1, max = 253))]
    pub same_as: String,
}

#[derive(JsonSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExclusionSpec {
    /// The rule this exclusion applies to; all rules when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<RuleName>,
    /// Usernames or emails, exact or with `*`/`?` globs.
    #[schemars(length(min = 1, max = 100))]
    pub users: Vec<String>,
    #[schemars(length(min = 1, max = 1024))]
    pub reason: String,
    /// Last day the exclusion applies (YYYY-MM-DD, UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"))]
    pub expires: Option<String>,
}

#[derive(JsonSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FindingsSpec {
    /// At most this many AccessFindings for this integration (most severe first); the
    /// `FindingsTruncated` condition says when more were found.
    #[serde(default = "default_max_findings")]
    #[schemars(range(min = 1, max = 20000))]
    pub max_findings: u32,
    /// How long findings about past events (data exports) are kept after the event.
    #[serde(default = "default_event_retention")]
    pub event_retention: Interval,
}

impl Default for FindingsSpec {
    fn default() -> Self {
        FindingsSpec {
            max_findings: default_max_findings(),
            event_retention: default_event_retention(),
        }
    }
}

fn default_max_findings() -> u32 {
    1000
}

fn default_event_retention() -> Interval {
    Interval::parse("720h").expect("a valid default")
}

#[derive(JsonSchema, Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SalesforceIntegrationStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    #[serde(default)]
    pub conditions: Vec<Condition>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_sync_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_successful_sync_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_handled_reconcile_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_sync_time: Option<String>,
    /// The newest setup-audit-trail row read; the next sync reads after it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit_watermark: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org: Option<OrgStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<StatusSummary>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inventory: Option<StatusInventory>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_usage: Option<StatusApiUsage>,
    /// Rules not evaluated in the last sync, and why (their earlier findings are kept).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skipped_rules: Vec<SkippedRuleStatus>,
    /// Salesforce permissions the integration user lacks, with the reads they cut short and
    /// the rules that are therefore not evaluated (see docs/salesforce-permissions.md).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing_permissions: Vec<MissingPermissionStatus>,
}

#[derive(JsonSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MissingPermissionStatus {
    /// The user permission's API name without `Permissions`, e.g. `CustomizeApplication`.
    pub permission: String,
    /// The collectors that could not be read completely without it.
    pub collectors: Vec<String>,
    /// The rules those collectors feed, not evaluated until it is granted.
    pub rules: Vec<String>,
}

#[derive(JsonSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrgStatus {
    pub id: String,
    pub instance_url: String,
    pub sandbox: bool,
    pub api_version: String,
}

#[derive(JsonSchema, Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusSummary {
    pub critical: u32,
    pub high: u32,
    pub medium: u32,
    pub low: u32,
    pub total: u32,
    /// Findings suppressed by an exclusion.
    #[serde(default)]
    pub excluded: u32,
    /// Findings not written because of `findings.maxFindings`.
    #[serde(default)]
    pub truncated: u32,
}

#[derive(JsonSchema, Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusInventory {
    pub users: u32,
    pub active_users: u32,
    pub admins: u32,
    pub connected_app_grants: u32,
    pub audit_events: u32,
}

#[derive(JsonSchema, Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusApiUsage {
    pub calls_last_sync: u64,
    pub used: u64,
    pub limit: u64,
}

#[derive(JsonSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SkippedRuleStatus {
    pub rule: String,
    pub reason: String,
}
