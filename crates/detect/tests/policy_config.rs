//! The policy as the CLI reads it from a file, and edge cases of applying it.

mod support;

use idgap_detect::{DEFAULT_EXCLUDED_PROFILES, Exclusion, Policy};
use idgap_model::{RuleId, Severity};
use support::*;

#[test]
fn policy_reads_camel_case_with_defaults_for_missing_fields() {
    let json = r#"{
        "adminProfiles": ["Acme Admin"],
        "disabledRules": ["session-ip-not-enforced"],
        "severityOverrides": [["user-not-in-idp", "low"]],
        "domainAliases": [["acme.io", "acme.com"]],
        "exclusions": [{"rule": "user-not-in-idp", "users": ["svc-*@acme.com"], "reason": "RevOps", "expires": "2027-06-30"}]
    }"#;
    let p: Policy = serde_json::from_str(json).expect("valid policy");
    assert_eq!(p.admin_profiles, ["Acme Admin"]);
    assert_eq!(p.disabled_rules, [RuleId::SessionIpNotEnforced]);
    assert_eq!(
        p.severity_overrides,
        [(RuleId::UserNotInIdp, Severity::Low)]
    );
    assert_eq!(p.exclusions[0].expires.unwrap().to_string(), "2027-06-30");
    // Fields not given keep their defaults.
    assert_eq!(p.idp_user_types, ["Standard"]);
    assert_eq!(p.excluded_profiles, DEFAULT_EXCLUDED_PROFILES);
    assert_eq!(p.idp_shrink_threshold, 0.5);
    assert_eq!(p.export_sections, ["Data Management", "Data Export"]);
}

#[test]
fn export_findings_are_excluded_by_the_actor() {
    let mut o = with_users(vec![user(
        "005B",
        "backup-svc@acme.com",
        "backup-svc@acme.com",
    )]);
    o.audit_events = vec![audit(
        "0Ya1",
        "dataExport",
        "Data Export",
        "",
        "2026-11-29T10:00:00Z",
        Some("005B"),
    )];
    let policy = Policy {
        exclusions: vec![Exclusion {
            rule: Some(RuleId::BulkDataExport),
            users: vec!["backup-*".into()],
            reason: "Nightly backup service".into(),
            expires: None,
        }],
        ..Policy::default()
    };
    let d = run(&o, &[okta(vec![active("backup-svc@acme.com")])], &policy);
    assert_eq!(d.excluded.len(), 1);
    assert_eq!(d.excluded[0].finding.key, "bulk-data-export:event:0Ya1");
    assert_eq!(d.excluded[0].reason, "Nightly backup service");
    // The non-admin rule is a different rule: not excluded.
    assert_eq!(
        keys(&d, RuleId::DataExportByNonAdmin),
        ["data-export-by-non-admin:event:0Ya1"]
    );
}

#[test]
fn a_user_pattern_never_excludes_the_org_finding() {
    let mut o = org();
    o.session_settings.as_mut().unwrap().lock_sessions_to_ip = false;
    let policy = Policy {
        exclusions: vec![Exclusion {
            rule: None,
            users: vec!["*".into()],
            reason: "everything".into(),
            expires: None,
        }],
        ..Policy::default()
    };
    let d = run(&o, &[okta(vec![active("a@acme.com")])], &policy);
    assert_eq!(keys(&d, RuleId::SessionIpNotEnforced).len(), 1);
    assert!(d.excluded.is_empty());
}

#[test]
fn a_repeated_audit_row_gives_one_finding() {
    let mut o = with_users(vec![admin("005A", "root@acme.com", "root@acme.com")]);
    let ev = audit(
        "0Ya1",
        "dataExport",
        "Data Export",
        "",
        "2026-11-29T10:00:00Z",
        Some("005A"),
    );
    o.audit_events = vec![ev.clone(), ev];
    let d = run(
        &o,
        &[okta(vec![active("root@acme.com")])],
        &Policy::default(),
    );
    assert_eq!(
        keys(&d, RuleId::BulkDataExport),
        ["bulk-data-export:event:0Ya1"]
    );
}

#[test]
fn an_invalid_shrink_threshold_falls_back_to_half() {
    let o = with_users(vec![user("005U", "ann@acme.com", "ann@acme.com")]);
    let dir = okta(vec![active("x@acme.com")]);
    let inputs = [idgap_detect::DirectoryInput {
        last_good_accounts: Some(10),
        ..input(&dir)
    }];
    for threshold in [f64::NAN, -1.0] {
        let policy = Policy {
            idp_shrink_threshold: threshold,
            ..Policy::default()
        };
        let d = idgap_detect::detect(&o, &inputs, &policy, now(), window_start());
        let reason = skipped_reason(&d, RuleId::UserNotInIdp).expect("guarded");
        assert!(
            reason.contains("90% fewer") && reason.contains("50% allowed"),
            "{reason}"
        );
    }
}
