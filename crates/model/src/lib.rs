//! The data that flows through idgap: what was read (an [`OrgSnapshot`] and one
//! [`DirectorySnapshot`] per identity provider) and what was concluded ([`Finding`]).
//!
//! Plain data only: no I/O, no clocks, no knowledge of HTTP or Kubernetes.

mod directory;
mod finding;
mod identity;
mod org;

pub use directory::{AccountStatus, DirectorySnapshot, IdpAccount, ProviderKind};
pub use finding::{Category, Evidence, Finding, RuleId, Severity, Subject, SubjectKind};
pub use identity::normalize_identifier;
pub use org::{
    ApiUsage, AuditEvent, CollectorGap, ExportJob, GrantSource, GrantSourceKind, OAuthGrant,
    OrgInfo, OrgSnapshot, Permission, PermissionGrant, SessionSettings, SessionSettingsSource,
    SfProfile, SfUser, SkippedRecords, collector,
};

/// Instants are UTC timestamps throughout.
pub use jiff::Timestamp;
