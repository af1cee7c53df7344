//! Pure pieces of the SalesforceIntegration status: summary, inventory, org, API usage.

use std::collections::{BTreeMap, BTreeSet};

use idgap_model::{OrgSnapshot, RuleId, Severity};

use super::findings::Existing;
use crate::resources::{
    MissingPermissionStatus, OrgStatus, StatusApiUsage, StatusInventory, StatusSummary,
};

/// Detection results in the shape the operator needs.
#[derive(Debug, Clone, Default)]
pub struct DetectionView {
    pub excluded: usize,
    pub evaluated: BTreeSet<RuleId>,
    /// (rule, reason) of rules not evaluated.
    pub skipped: Vec<(String, String)>,
}

/// Counts by severity of the integration's AccessFindings as they stand after the apply:
/// those this sync wrote or confirmed, and those it kept because their rule was skipped (an
/// IdP outage must not make `status.summary` look resolved while the findings still exist).
pub fn summary(
    findings: &BTreeMap<String, Existing>,
    excluded: usize,
    truncated: usize,
) -> StatusSummary {
    let mut s = StatusSummary::default();
    for e in findings.values() {
        match e.severity {
            Some(Severity::Critical) => s.critical += 1,
            Some(Severity::High) => s.high += 1,
            Some(Severity::Medium) => s.medium += 1,
            Some(Severity::Low) => s.low += 1,
            None => {}
        }
    }
    s.total = findings.len() as u32;
    s.excluded = excluded as u32;
    s.truncated = truncated as u32;
    s
}

/// (rule, severity) → count of the integration's AccessFindings, for the findings gauge.
pub fn counts_by_rule(findings: &BTreeMap<String, Existing>) -> Vec<(String, String, i64)> {
    let mut m: BTreeMap<(String, String), i64> = BTreeMap::new();
    for e in findings.values() {
        let rule = e.rule.map_or("unknown", RuleId::as_str);
        let severity = e.severity.map_or("unknown", Severity::as_str);
        *m.entry((rule.to_string(), severity.to_string()))
            .or_default() += 1;
    }
    m.into_iter().map(|((r, s), n)| (r, s, n)).collect()
}

/// Admins are counted with the rules' own definition ([`idgap_detect::Admins`]), so the
/// inventory and the admin findings never disagree.
pub fn inventory(org: &OrgSnapshot, policy: &idgap_detect::Policy) -> StatusInventory {
    StatusInventory {
        users: org.users.len() as u32,
        active_users: org.users.iter().filter(|u| u.is_active).count() as u32,
        admins: idgap_detect::Admins::new(org, policy).count_active(org) as u32,
        connected_app_grants: org.oauth_grants.len() as u32,
        audit_events: org.audit_events.len() as u32,
    }
}

/// The permissions the integration user lacks, one entry per permission, with the
/// collectors it cut short and the rules those feed (sorted, so the status is stable).
pub fn missing_permissions(org: &OrgSnapshot) -> Vec<MissingPermissionStatus> {
    let mut by_permission: BTreeMap<&str, (BTreeSet<&str>, BTreeSet<RuleId>)> = BTreeMap::new();
    for gap in &org.gaps {
        let Some(permission) = gap.missing_permission.as_deref() else {
            continue;
        };
        let entry = by_permission.entry(permission).or_default();
        entry.0.insert(gap.collector.as_str());
        entry
            .1
            .extend(idgap_detect::rules_fed_by(&gap.collector).iter().copied());
    }
    by_permission
        .into_iter()
        .map(
            |(permission, (collectors, rules))| MissingPermissionStatus {
                permission: permission.to_string(),
                collectors: collectors.into_iter().map(str::to_string).collect(),
                rules: rules.into_iter().map(|r| r.as_str().to_string()).collect(),
            },
        )
        .collect()
}

/// One line per missing permission: what it is and what it disables.
pub fn describe_missing(missing: &[MissingPermissionStatus]) -> String {
    missing
        .iter()
        .map(describe_one)
        .collect::<Vec<_>>()
        .join("; ")
}

/// [`describe_missing`] of a snapshot, one entry per permission (for `idgap scan`).
pub fn describe_each(org: &OrgSnapshot) -> Vec<String> {
    missing_permissions(org).iter().map(describe_one).collect()
}

fn describe_one(m: &MissingPermissionStatus) -> String {
    let rules = if m.rules.is_empty() {
        "no rule skipped".to_string()
    } else {
        format!("rules skipped: {}", m.rules.join(", "))
    };
    format!(
        "{} (needed by {}; {rules})",
        m.permission,
        m.collectors.join(", ")
    )
}

pub fn org(org: &OrgSnapshot) -> OrgStatus {
    OrgStatus {
        id: org.org.id.clone(),
        instance_url: org.org.instance_url.clone(),
        sandbox: org.org.sandbox,
        api_version: org.org.api_version.clone(),
    }
}

pub fn api_usage(org: &OrgSnapshot) -> StatusApiUsage {
    StatusApiUsage {
        calls_last_sync: org.api_usage.calls_this_sync,
        used: org.api_usage.used,
        limit: org.api_usage.limit,
    }
}

/// "3 findings (1 critical, 2 high)".
pub fn describe(s: &StatusSummary) -> String {
    let mut parts = Vec::new();
    for (n, label) in [
        (s.critical, "critical"),
        (s.high, "high"),
        (s.medium, "medium"),
        (s.low, "low"),
    ] {
        if n > 0 {
            parts.push(format!("{n} {label}"));
        }
    }
    let mut text = format!("{} finding{}", s.total, if s.total == 1 { "" } else { "s" });
    if !parts.is_empty() {
        text.push_str(&format!(" ({})", parts.join(", ")));
    }
    if s.truncated > 0 {
        text.push_str(&format!(
            "; {} more not written (findings.maxFindings)",
            s.truncated
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use idgap_model::{ApiUsage, OrgInfo, SfUser};

    fn user(id: &str, active: bool, profile: &str) -> SfUser {
        SfUser {
            id: id.into(),
            username: format!("{id}@acme.com"),
            email: format!("{id}@acme.com"),
            federation_id: None,
            profile_id: None,
            profile: Some(profile.into()),
            role: None,
            user_type: "Standard".into(),
            is_active: active,
            is_frozen: false,
            last_login: None,
            created: None,
        }
    }

    #[test]
    /// The labels are matched as the rules match them: trimmed, case-insensitive (the old
    /// inventory compared exactly and counted 0 admins for `system administrator`).
    fn inventory_counts_active_admins_by_profile() {
        let t: jiff::Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let org = OrgSnapshot {
            org: OrgInfo {
                id: "00D".into(),
                instance_url: "https://x".into(),
                sandbox: false,
                api_version: "v62.0".into(),
            },
            users: vec![
                user("a", true, "System Administrator"),
                user("b", false, "System Administrator"),
                user("c", true, "Custom Admin"),
                user("d", true, "Standard User"),
            ],
            profiles: vec![],
            permissions: vec![],
            oauth_grants: vec![],
            session_settings: None,
            audit_events: vec![],
            audit_since: t,
            audit_watermark: None,
            export_jobs: vec![],
            api_usage: ApiUsage {
                calls_this_sync: 7,
                used: 100,
                limit: 1000,
            },
            gaps: vec![],
            skipped_records: vec![],
            read_at: t,
        };
        let policy = idgap_detect::Policy {
            admin_profiles: vec!["system administrator ".into(), "Custom Admin".into()],
            ..Default::default()
        };
        let inv = inventory(&org, &policy);
        assert_eq!(inv.users, 4);
        assert_eq!(inv.active_users, 3);
        assert_eq!(inv.admins, 2);
        assert_eq!(api_usage(&org).calls_last_sync, 7);

        // The inventory and admin-not-in-idp agree: with no IdP account for anyone, every
        // active admin the inventory counts is an admin-not-in-idp finding.
        let dir = idgap_model::DirectorySnapshot {
            provider: idgap_model::ProviderKind::Okta,
            name: "okta".into(),
            accounts: vec![idgap_model::IdpAccount {
                id: "00u1".into(),
                login: "nobody@acme.com".into(),
                identifiers: vec!["nobody@acme.com".into()],
                status: idgap_model::AccountStatus::Active,
                raw_status: "ACTIVE".into(),
                other_ids: Vec::new(),
                personal_addresses: Vec::new(),
            }],
            read_at: t,
            requests: 1,
        };
        let inputs = [idgap_detect::DirectoryInput {
            name: "okta",
            provider: idgap_model::ProviderKind::Okta,
            result: Ok(&dir),
            last_good_accounts: None,
        }];
        let d = idgap_detect::detect(&org, &inputs, &policy, t, t);
        let admin_findings = d
            .findings
            .iter()
            .filter(|f| f.rule == RuleId::AdminNotInIdp)
            .count();
        assert_eq!(admin_findings as u32, inv.admins);
    }

    #[test]
    fn describes_summaries() {
        let s = StatusSummary {
            critical: 1,
            high: 2,
            total: 3,
            truncated: 4,
            ..StatusSummary::default()
        };
        assert_eq!(
            describe(&s),
            "3 findings (1 critical, 2 high); 4 more not written (findings.maxFindings)"
        );
        assert_eq!(describe(&StatusSummary::default()), "0 findings");
    }

    fn existing(rule: Option<RuleId>, severity: Option<Severity>) -> Existing {
        Existing {
            rule,
            severity,
            occurred_at: None,
            hash: "h".into(),
        }
    }

    #[test]
    fn summary_and_gauge_count_every_finding_that_exists() {
        let mut findings = BTreeMap::new();
        // Written this sync, kept for a skipped rule, and one from a newer version.
        findings.insert(
            "a".to_string(),
            existing(Some(RuleId::AdminNotInIdp), Some(Severity::Critical)),
        );
        findings.insert(
            "b".to_string(),
            existing(Some(RuleId::UserNotInIdp), Some(Severity::High)),
        );
        findings.insert(
            "c".to_string(),
            existing(Some(RuleId::UserNotInIdp), Some(Severity::High)),
        );
        findings.insert("d".to_string(), existing(None, None));
        let s = summary(&findings, 4, 1);
        assert_eq!(
            (
                s.critical,
                s.high,
                s.medium,
                s.low,
                s.total,
                s.excluded,
                s.truncated
            ),
            (1, 2, 0, 0, 4, 4, 1)
        );
        assert_eq!(
            counts_by_rule(&findings),
            vec![
                ("admin-not-in-idp".into(), "critical".into(), 1),
                ("unknown".into(), "unknown".into(), 1),
                ("user-not-in-idp".into(), "high".into(), 2),
            ]
        );
    }
}
