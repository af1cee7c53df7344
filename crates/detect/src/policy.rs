//! What an integration asks the rules to do: who counts as an admin, which users the IdP
//! rules cover, exclusions, and the knobs for facts the Salesforce docs leave open.

use idgap_model::{RuleId, Severity};
use serde::{Deserialize, Serialize};

/// The detection policy of one integration. Every name list is compared case-insensitively
/// after trimming. `Policy::default()` is what an integration with no `rules` section gets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Policy {
    /// Profiles whose users also count as admins, by API name or label; added to the
    /// built-in definition in [`crate::admin`].
    pub admin_profiles: Vec<String>,
    /// `UserType` values the IdP rules cover (`Standard` = internal users).
    pub idp_user_types: Vec<String>,
    /// Profiles left out of the IdP rules, by API name or label: integration and automation
    /// users that are not people and are never provisioned from a directory.
    pub excluded_profiles: Vec<String>,
    pub disabled_rules: Vec<RuleId>,
    /// Applied after a rule runs; when a rule is listed twice the last entry wins.
    pub severity_overrides: Vec<(RuleId, Severity)>,
    pub exclusions: Vec<Exclusion>,
    /// Pairs of equivalent email domains (`acme.io` ≡ `acme.com`); the relation is symmetric
    /// and transitive.
    pub domain_aliases: Vec<(String, String)>,
    /// Suffixes removed from Salesforce usernames before matching (e.g. `.uat`).
    pub sandbox_username_suffixes: Vec<String>,
    /// Whether personal secondary addresses (Okta `secondEmail`, Graph `otherMails`) count
    /// as identities. Off by default: such an address may be anyone's private mailbox, and
    /// matching on it would hide a Salesforce user the directory does not know.
    pub match_personal_addresses: bool,
    /// A directory that shrank by more than this share of its last good account count is
    /// not trusted (0.5 = lost more than half).
    pub idp_shrink_threshold: f64,
    /// Audit `Section` values under which export requests are filed (case-insensitive
    /// substring); a row there is an export when its `Display` has an export word.
    pub export_sections: Vec<String>,
    /// Audit `Action` tokens meaning a data export in any section (case-insensitive
    /// equality). Salesforce does not publish them: the defaults are UNCONFIRMED.
    pub export_actions: Vec<String>,
    /// Words in the audit `Display` text that mean an export, counted only in an
    /// `export_sections` section.
    pub export_display_contains: Vec<String>,
}

impl Default for Policy {
    fn default() -> Self {
        let strings = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        Policy {
            admin_profiles: strings(&["System Administrator"]),
            idp_user_types: strings(&["Standard"]),
            excluded_profiles: strings(&DEFAULT_EXCLUDED_PROFILES),
            disabled_rules: Vec::new(),
            severity_overrides: Vec::new(),
            exclusions: Vec::new(),
            domain_aliases: Vec::new(),
            sandbox_username_suffixes: Vec::new(),
            match_personal_addresses: false,
            idp_shrink_threshold: 0.5,
            export_sections: strings(&DEFAULT_EXPORT_SECTIONS),
            export_actions: strings(&DEFAULT_EXPORT_ACTIONS),
            export_display_contains: strings(&["export"]),
        }
    }
}

/// Salesforce's own integration and automation profiles. They are matched against API names
/// too, which do not change with the reader's language; that these API names equal the English
/// labels is UNCONFIRMED except for `Chatter Free User`.
pub const DEFAULT_EXCLUDED_PROFILES: [&str; 4] = [
    "Analytics Cloud Integration User",
    "Analytics Cloud Security User",
    "Chatter Free User",
    "Automated Process",
];

/// "Data Management" is where the audit trail files data-export requests (Salesforce's
/// "Monitor Setup Changes" help page); "Data Export" is an UNCONFIRMED older name, kept.
pub const DEFAULT_EXPORT_SECTIONS: [&str; 2] = ["Data Management", "Data Export"];

/// UNCONFIRMED audit `Action` tokens for data exports; configurable for that reason.
pub const DEFAULT_EXPORT_ACTIONS: [&str; 4] = [
    "dataExport",
    "queueDataExport",
    "scheduledDataExport",
    "weeklyExport",
];

/// An accepted risk, reviewed in Git: findings it matches are reported as excluded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Exclusion {
    /// `None`: every rule.
    #[serde(default)]
    pub rule: Option<RuleId>,
    /// Exact names or globs (`*`, `?`) matched case-insensitively against the subject's
    /// username and email. Empty: every finding of `rule` (ignored when `rule` is `None`).
    #[serde(default)]
    pub users: Vec<String>,
    pub reason: String,
    /// Last day (UTC) the exclusion applies; it lapses at the end of that day.
    #[serde(default)]
    pub expires: Option<jiff::civil::Date>,
}

impl Policy {
    pub(crate) fn is_disabled(&self, rule: RuleId) -> bool {
        self.disabled_rules.contains(&rule)
    }

    pub(crate) fn severity_for(&self, rule: RuleId, default: Severity) -> Severity {
        self.severity_overrides
            .iter()
            .rev()
            .find(|(r, _)| *r == rule)
            .map(|(_, s)| *s)
            .unwrap_or(default)
    }
}

/// A list of names compared case-insensitively after trimming.
#[derive(Debug)]
pub(crate) struct NameSet(Vec<String>);

impl NameSet {
    pub(crate) fn new(names: &[String]) -> Self {
        NameSet(names.iter().map(|n| n.trim().to_lowercase()).collect())
    }

    pub(crate) fn contains(&self, name: &str) -> bool {
        let name = name.trim();
        self.0.iter().any(|n| eq_ignore_case(n, name))
    }

    pub(crate) fn contains_opt(&self, name: Option<&str>) -> bool {
        name.is_some_and(|n| self.contains(n))
    }
}

/// `lower` must already be lower-case.
fn eq_ignore_case(lower: &str, other: &str) -> bool {
    if other.is_ascii() {
        lower.eq_ignore_ascii_case(other)
    } else {
        lower == other.to_lowercase()
    }
}
