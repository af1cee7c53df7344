use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// Everything idgap reads from one Salesforce org in one sync. No CRM records, ever.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrgSnapshot {
    pub org: OrgInfo,
    pub users: Vec<SfUser>,
    /// Every profile with its label and, when the Metadata API answered, its API name.
    #[serde(default)]
    pub profiles: Vec<SfProfile>,
    /// Effective ModifyAllData / ViewAllData grants, one row per (user, permission, source).
    pub permissions: Vec<PermissionGrant>,
    pub oauth_grants: Vec<OAuthGrant>,
    /// `None` when neither the Metadata API nor Health Check could be read (see `gaps`).
    pub session_settings: Option<SessionSettings>,
    /// Setup audit trail rows created after `audit_since`.
    pub audit_events: Vec<AuditEvent>,
    /// The lower bound of the audit window read in this sync.
    pub audit_since: Timestamp,
    /// The newest audit row seen; the next sync reads after it.
    pub audit_watermark: Option<Timestamp>,
    /// Scheduled Data Export jobs (`CronTrigger` whose job is the weekly export).
    pub export_jobs: Vec<ExportJob>,
    pub api_usage: ApiUsage,
    /// Parts of the org that could not be read (missing permission, edition). A rule that
    /// needs one of these is not evaluated, so its earlier findings are kept.
    pub gaps: Vec<CollectorGap>,
    /// Rows left out because a field idgap needs was null (the field reference documents
    /// it as nillable, e.g. `OauthToken.UserId`); the rest of the object was read.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skipped_records: Vec<SkippedRecords>,
    /// When the sync started.
    pub read_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrgInfo {
    /// The 18-character organization id (`00D…`).
    pub id: String,
    pub instance_url: String,
    pub sandbox: bool,
    /// The REST API version in use, e.g. `v62.0`.
    pub api_version: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SfUser {
    pub id: String,
    pub username: String,
    pub email: String,
    pub federation_id: Option<String>,
    pub profile_id: Option<String>,
    pub profile: Option<String>,
    pub role: Option<String>,
    /// `Standard` for internal users; portal, guest and automated users have other values.
    pub user_type: String,
    pub is_active: bool,
    pub is_frozen: bool,
    pub last_login: Option<Timestamp>,
    pub created: Option<Timestamp>,
}

/// A profile. Salesforce translates the label (`Profile.Name`) of standard profiles into
/// the reading user's language ("Systemadministrator", "システム管理者"); the Metadata API
/// name (`Admin`, `Standard`, …) is the same in every language, so rules compare that.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SfProfile {
    pub id: String,
    /// `Profile.Name` as the integration user reads it (possibly translated).
    pub label: String,
    /// The Metadata API `fullName` from `listMetadata(Profile)`; `None` when the Metadata
    /// API could not be read (see `gaps`, collector `profileNames`).
    pub api_name: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Permission {
    ModifyAllData,
    ViewAllData,
}

impl Permission {
    pub fn as_str(self) -> &'static str {
        match self {
            Permission::ModifyAllData => "ModifyAllData",
            Permission::ViewAllData => "ViewAllData",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PermissionGrant {
    pub user_id: String,
    pub permission: Permission,
    pub source: GrantSource,
}

/// Where a permission comes from; this is what a reviewer needs to remove it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GrantSource {
    pub kind: GrantSourceKind,
    /// Profile name, permission set name, or permission set group name.
    pub name: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum GrantSourceKind {
    Profile,
    PermissionSet,
    PermissionSetGroup,
}

impl GrantSourceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            GrantSourceKind::Profile => "profile",
            GrantSourceKind::PermissionSet => "permission set",
            GrantSourceKind::PermissionSetGroup => "permission set group",
        }
    }
}

/// One row of `OauthToken`: a user's approval of a connected app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OAuthGrant {
    pub app_name: String,
    pub user_id: String,
    pub created: Option<Timestamp>,
    pub last_used: Option<Timestamp>,
    pub use_count: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum SessionSettingsSource {
    /// Metadata API `readMetadata` of `SecuritySettings` (and profiles' login IP ranges).
    MetadataApi,
    /// Tooling API `SecurityHealthCheckRisks`, used when the Metadata API is not permitted.
    HealthCheck,
}

/// The org's session IP posture.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionSettings {
    pub source: SessionSettingsSource,
    /// Sessions are locked to the IP address from which they originated.
    pub lock_sessions_to_ip: bool,
    /// Login IP ranges are enforced on every request, not only at login.
    pub enforce_ip_ranges_every_request: bool,
    /// Profiles that have login IP ranges.
    pub profiles_with_login_ip_ranges: Vec<String>,
    /// The raw values read, as short strings, for evidence.
    pub raw: Vec<(String, String)>,
}

/// One `SetupAuditTrail` row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditEvent {
    pub id: String,
    pub action: String,
    pub section: Option<String>,
    pub display: String,
    pub created: Timestamp,
    pub created_by_id: Option<String>,
    pub created_by_username: Option<String>,
    /// The user who acted through "Login As", when someone did.
    pub delegate_user: Option<String>,
}

/// A scheduled Data Export (`CronTrigger` joined with `CronJobDetail`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExportJob {
    pub id: String,
    pub name: String,
    pub job_type: String,
    pub state: String,
    pub next_fire: Option<Timestamp>,
    pub previous_fire: Option<Timestamp>,
    pub created: Option<Timestamp>,
    pub created_by_id: Option<String>,
    pub created_by_username: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiUsage {
    /// Requests this sync made that count against the daily allocation.
    pub calls_this_sync: u64,
    /// The org's daily usage after the sync, from `Sforce-Limit-Info`.
    pub used: u64,
    pub limit: u64,
}

/// How many rows of one object were left out for a null field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SkippedRecords {
    pub object: String,
    pub field: String,
    pub count: u64,
}

/// A part of the org this sync could not read, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CollectorGap {
    /// One of the [`collector`] names.
    pub collector: String,
    pub reason: String,
    /// The Salesforce user permission whose absence made the read incomplete (API name
    /// without the `Permissions` prefix, e.g. `CustomizeApplication`), when that is known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub missing_permission: Option<String>,
}

/// The names of the Salesforce collectors, as they appear in [`CollectorGap::collector`].
pub mod collector {
    pub const USERS: &str = "users";
    /// `UserLogin.IsFrozen`; without it users are read but their frozen state is unknown.
    pub const FROZEN_STATE: &str = "frozenState";
    /// Profile API names from the Metadata API `listMetadata(Profile)`.
    pub const PROFILE_NAMES: &str = "profileNames";
    pub const PERMISSIONS: &str = "permissions";
    pub const OAUTH_GRANTS: &str = "oauthGrants";
    pub const SESSION_SETTINGS: &str = "sessionSettings";
    pub const AUDIT_TRAIL: &str = "auditTrail";
    pub const EXPORT_JOBS: &str = "exportJobs";
}

impl OrgSnapshot {
    /// True when `collector` was read completely.
    pub fn has(&self, collector: &str) -> bool {
        !self.gaps.iter().any(|g| g.collector == collector)
    }

    pub fn user(&self, id: &str) -> Option<&SfUser> {
        self.users.iter().find(|u| u.id == id)
    }
}
