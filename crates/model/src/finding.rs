use std::collections::BTreeMap;
use std::fmt;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// Ordered from most to least severe, so sorting puts critical first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Critical,
    High,
    Medium,
    Low,
}

impl Severity {
    pub const ALL: [Severity; 4] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::High => "high",
            Severity::Medium => "medium",
            Severity::Low => "low",
        }
    }

    /// True when `self` is as severe as `floor` or more.
    pub fn at_least(self, floor: Severity) -> bool {
        self <= floor
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Severity::ALL
            .into_iter()
            .find(|v| v.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| {
                format!("unknown severity `{s}` (expected critical, high, medium or low)")
            })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Category {
    IdentityGap,
    Privilege,
    Session,
    DataExport,
}

impl Category {
    pub fn as_str(self) -> &'static str {
        match self {
            Category::IdentityGap => "identity-gap",
            Category::Privilege => "privilege",
            Category::Session => "session",
            Category::DataExport => "data-export",
        }
    }
}

/// The rule catalogue's ids. `docs/rules.md` has one section per rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RuleId {
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

impl RuleId {
    pub const ALL: [RuleId; 9] = [
        RuleId::AdminNotInIdp,
        RuleId::UserNotInIdp,
        RuleId::StaleActiveUser,
        RuleId::ConnectedAppUnknownUser,
        RuleId::AdminModifyAllData,
        RuleId::AdminViewAllData,
        RuleId::SessionIpNotEnforced,
        RuleId::BulkDataExport,
        RuleId::DataExportByNonAdmin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RuleId::AdminNotInIdp => "admin-not-in-idp",
            RuleId::UserNotInIdp => "user-not-in-idp",
            RuleId::StaleActiveUser => "stale-active-user",
            RuleId::ConnectedAppUnknownUser => "connected-app-unknown-user",
            RuleId::AdminModifyAllData => "admin-modify-all-data",
            RuleId::AdminViewAllData => "admin-view-all-data",
            RuleId::SessionIpNotEnforced => "session-ip-not-enforced",
            RuleId::BulkDataExport => "bulk-data-export",
            RuleId::DataExportByNonAdmin => "data-export-by-non-admin",
        }
    }

    /// Data exports are events: their findings stay for the retention period after the
    /// event, even when a later sync's audit window no longer covers it.
    pub fn is_event_rule(self) -> bool {
        matches!(self, RuleId::BulkDataExport | RuleId::DataExportByNonAdmin)
    }
}

impl fmt::Display for RuleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for RuleId {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        RuleId::ALL
            .into_iter()
            .find(|r| r.as_str() == s.trim())
            .ok_or_else(|| format!("unknown rule `{s}`"))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum SubjectKind {
    User,
    OAuthGrant,
    Org,
    AuditEvent,
}

/// What a finding is about.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Subject {
    #[serde(rename = "type")]
    pub kind: Option<SubjectKind>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub salesforce_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// The connected app, for OAuth grant findings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app: Option<String>,
}

impl Subject {
    /// A short label for tables: the username, else the app, else the Salesforce id.
    pub fn label(&self) -> String {
        match (&self.username, &self.app, &self.salesforce_id) {
            (Some(u), Some(a), _) => format!("{u} → {a}"),
            (Some(u), None, _) => u.clone(),
            (None, Some(a), _) => a.clone(),
            (None, None, Some(id)) => id.clone(),
            (None, None, None) => "org".to_string(),
        }
    }
}

/// The values read that prove a finding, as short strings keyed by what they are.
pub type Evidence = BTreeMap<String, String>;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    /// Stable across syncs: the same problem keeps the same key (rule + subject identity).
    pub key: String,
    pub rule: RuleId,
    pub severity: Severity,
    pub category: Category,
    pub title: String,
    pub subject: Subject,
    pub evidence: Evidence,
    pub remediation: String,
    /// For event-based findings (data exports): when the event happened.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub occurred_at: Option<Timestamp>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_data_exports_are_event_rules() {
        let events: Vec<RuleId> = RuleId::ALL
            .into_iter()
            .filter(|r| r.is_event_rule())
            .collect();
        assert_eq!(
            events,
            [RuleId::BulkDataExport, RuleId::DataExportByNonAdmin]
        );
    }
}
