use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use idgap_model::{RuleId, Severity, Timestamp};

use super::build::DesiredFinding;

/// An AccessFinding that exists in the cluster, as far as pruning needs to know it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Existing {
    /// From the `idgap.io/rule` label; `None` for a rule this version does not know.
    pub rule: Option<RuleId>,
    /// From the `idgap.io/severity` label (policy may override a rule's default).
    pub severity: Option<Severity>,
    pub occurred_at: Option<Timestamp>,
    /// From the `idgap.io/spec-hash` annotation.
    pub hash: String,
}

/// What the last sync allows the pruning to conclude.
#[derive(Debug, Clone)]
pub struct PruneRules {
    /// The Salesforce sync and detection finished; false → nothing is deleted.
    pub complete: bool,
    /// Rules that were evaluated: only their findings may be deleted.
    pub evaluated: BTreeSet<RuleId>,
    pub event_retention: Duration,
    pub now: Timestamp,
}

#[derive(Debug, Default)]
pub struct Plan<'a> {
    pub create: Vec<&'a DesiredFinding>,
    pub update: Vec<&'a DesiredFinding>,
    pub delete: Vec<String>,
    pub unchanged: usize,
    /// Existing findings that are no longer produced but are kept (rule skipped, event
    /// retention, incomplete sync).
    pub kept: usize,
}

pub fn plan<'a>(
    existing: &BTreeMap<String, Existing>,
    desired: &'a [DesiredFinding],
    rules: &PruneRules,
) -> Plan<'a> {
    let mut out = Plan::default();
    for d in desired {
        match existing.get(&d.name) {
            None => out.create.push(d),
            Some(e) if e.hash != d.hash => out.update.push(d),
            Some(_) => out.unchanged += 1,
        }
    }
    let wanted: BTreeSet<&str> = desired.iter().map(|d| d.name.as_str()).collect();
    for (name, e) in existing {
        if wanted.contains(name.as_str()) {
            continue;
        }
        if may_delete(e, rules) {
            out.delete.push(name.clone());
        } else {
            out.kept += 1;
        }
    }
    out
}

fn may_delete(e: &Existing, rules: &PruneRules) -> bool {
    if !rules.complete {
        return false;
    }
    let Some(rule) = e.rule else { return false };
    if !rules.evaluated.contains(&rule) {
        return false;
    }
    if rule.is_event_rule()
        && let Some(at) = e.occurred_at
    {
        let retention = jiff::SignedDuration::try_from(rules.event_retention)
            .unwrap_or(jiff::SignedDuration::MAX);
        let expires = at.checked_add(retention).unwrap_or(Timestamp::MAX);
        if rules.now < expires {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::operator::findings::{Owner, build};

    fn t(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn desired() -> Vec<DesiredFinding> {
        let findings: Vec<idgap_model::Finding> = serde_yaml::from_str(
            r#"
- key: k1
  rule: admin-not-in-idp
  severity: critical
  category: identity-gap
  title: t
  subject: { type: User, username: eve@acme.com }
  evidence: {}
  remediation: r
- key: k2
  rule: admin-modify-all-data
  severity: high
  category: privilege
  title: t
  subject: { type: User, username: eve@acme.com }
  evidence: {}
  remediation: r
"#,
        )
        .unwrap();
        let owner = Owner {
            name: "i".into(),
            namespace: "n".into(),
            uid: "u".into(),
        };
        build(&owner, &findings, 100, |f| format!("i-{}", f.key)).desired
    }

    fn existing(rule: RuleId, hash: &str, occurred_at: Option<&str>) -> Existing {
        Existing {
            rule: Some(rule),
            severity: None,
            occurred_at: occurred_at.map(t),
            hash: hash.into(),
        }
    }

    fn rules(complete: bool, evaluated: &[RuleId]) -> PruneRules {
        PruneRules {
            complete,
            evaluated: evaluated.iter().copied().collect(),
            event_retention: Duration::from_secs(30 * 86400),
            now: t("2026-02-01T00:00:00Z"),
        }
    }

    #[test]
    fn creates_updates_and_skips_unchanged() {
        let d = desired();
        let mut ex = BTreeMap::new();
        ex.insert(
            "i-k1".to_string(),
            existing(RuleId::AdminNotInIdp, &d[0].hash, None),
        );
        ex.insert(
            "i-k2".to_string(),
            existing(RuleId::AdminModifyAllData, "stale", None),
        );
        let p = plan(&ex, &d, &rules(true, &RuleId::ALL));
        assert_eq!(p.unchanged, 1);
        assert_eq!(p.update.len(), 1);
        assert_eq!(p.update[0].name, "i-k2");
        assert!(p.create.is_empty());
        assert!(p.delete.is_empty());

        let p = plan(&BTreeMap::new(), &d, &rules(true, &RuleId::ALL));
        assert_eq!(p.create.len(), 2);
    }

    #[test]
    fn deletes_only_findings_of_evaluated_rules() {
        let d = desired();
        let mut ex = BTreeMap::new();
        ex.insert(
            "gone-user".to_string(),
            existing(RuleId::UserNotInIdp, "h", None),
        );
        ex.insert(
            "gone-stale".to_string(),
            existing(RuleId::StaleActiveUser, "h", None),
        );
        ex.insert(
            "gone-session".to_string(),
            existing(RuleId::SessionIpNotEnforced, "h", None),
        );
        // The IdP rules were skipped (directory guard): their findings stay.
        let evaluated = [
            RuleId::AdminModifyAllData,
            RuleId::AdminViewAllData,
            RuleId::SessionIpNotEnforced,
        ];
        let p = plan(&ex, &d, &rules(true, &evaluated));
        assert_eq!(p.delete, ["gone-session"]);
        assert_eq!(p.kept, 2);
    }

    #[test]
    fn failed_or_partial_sync_deletes_nothing() {
        let mut ex = BTreeMap::new();
        ex.insert("a".to_string(), existing(RuleId::UserNotInIdp, "h", None));
        ex.insert(
            "b".to_string(),
            existing(RuleId::SessionIpNotEnforced, "h", None),
        );
        let p = plan(&ex, &[], &rules(false, &RuleId::ALL));
        assert!(p.delete.is_empty());
        assert_eq!(p.kept, 2);
    }

    #[test]
    fn event_findings_stay_until_retention_ends() {
        let mut ex = BTreeMap::new();
        // now = 2026-02-01; retention 30 days.
        ex.insert(
            "recent".to_string(),
            existing(RuleId::BulkDataExport, "h", Some("2026-01-15T00:00:00Z")),
        );
        ex.insert(
            "old".to_string(),
            existing(
                RuleId::DataExportByNonAdmin,
                "h",
                Some("2025-12-01T00:00:00Z"),
            ),
        );
        ex.insert(
            "no-time".to_string(),
            existing(RuleId::BulkDataExport, "h", None),
        );
        let p = plan(&ex, &[], &rules(true, &RuleId::ALL));
        let mut deleted = p.delete.clone();
        deleted.sort();
        assert_eq!(deleted, ["no-time", "old"]);
        assert_eq!(p.kept, 1);
    }

    #[test]
    fn unknown_rules_are_never_deleted() {
        let mut ex = BTreeMap::new();
        ex.insert(
            "future".to_string(),
            Existing {
                rule: None,
                severity: None,
                occurred_at: None,
                hash: "h".into(),
            },
        );
        let p = plan(&ex, &[], &rules(true, &RuleId::ALL));
        assert!(p.delete.is_empty());
    }
}
