use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// Every account of one identity provider, as read in one sync.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DirectorySnapshot {
    pub provider: ProviderKind,
    /// The `IdentityProvider` resource name (or the CLI's label for it).
    pub name: String,
    pub accounts: Vec<IdpAccount>,
    pub read_at: Timestamp,
    /// HTTP requests the sync made (token requests included).
    pub requests: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ProviderKind {
    Okta,
    EntraId,
    GoogleWorkspace,
    JumpCloud,
    OneLogin,
}

impl ProviderKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ProviderKind::Okta => "okta",
            ProviderKind::EntraId => "entraId",
            ProviderKind::GoogleWorkspace => "googleWorkspace",
            ProviderKind::JumpCloud => "jumpCloud",
            ProviderKind::OneLogin => "oneLogin",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ProviderKind::Okta => "Okta",
            ProviderKind::EntraId => "Entra ID",
            ProviderKind::GoogleWorkspace => "Google Workspace",
            ProviderKind::JumpCloud => "JumpCloud",
            ProviderKind::OneLogin => "OneLogin",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IdpAccount {
    /// The provider's own id for the account.
    pub id: String,
    pub login: String,
    /// Every email-like identifier the organisation issued (login, primary, aliases, proxy
    /// addresses), normalised with [`crate::normalize_identifier`], without duplicates.
    pub identifiers: Vec<String>,
    /// Identifiers that are not addresses, besides `id`, that a Salesforce Federation ID may
    /// hold: Entra's `onPremisesImmutableId`. Kept as the provider wrote them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub other_ids: Vec<String>,
    /// Secondary addresses the person may have given as a private contact (Okta
    /// `secondEmail`, Graph `otherMails`), normalised: identities only when the policy
    /// `matchPersonalAddresses` says so, since anyone's private address may be listed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub personal_addresses: Vec<String>,
    pub status: AccountStatus,
    /// The provider's own status value, for evidence (e.g. `SUSPENDED`, `accountEnabled=false`).
    pub raw_status: String,
}

/// A provider's account state mapped onto one small set; `docs/identity-providers.md` has
/// the mapping for each provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum AccountStatus {
    Active,
    Suspended,
    Deprovisioned,
    Locked,
    Pending,
    /// The provider did not say (Graph has served `"accountEnabled": null`): neither
    /// disabled nor a reason to flag anyone.
    Unknown,
}

impl AccountStatus {
    /// Suspended or deprovisioned: the directory has switched this person off. A user whose
    /// every matched account is disabled is stale; a lock or a pending activation is not that.
    pub fn is_disabled(self) -> bool {
        matches!(
            self,
            AccountStatus::Suspended | AccountStatus::Deprovisioned
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            AccountStatus::Active => "active",
            AccountStatus::Suspended => "suspended",
            AccountStatus::Deprovisioned => "deprovisioned",
            AccountStatus::Locked => "locked",
            AccountStatus::Pending => "pending",
            AccountStatus::Unknown => "unknown",
        }
    }
}
