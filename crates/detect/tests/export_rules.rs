//! bulk-data-export and data-export-by-non-admin.

mod support;

use idgap_detect::Policy;
use idgap_model::{AuditEvent, RuleId, Severity, SfUser, SubjectKind};
use support::*;

fn people() -> Vec<SfUser> {
    vec![
        admin("005A", "root@acme.com", "root@acme.com"),
        user("005U", "ann@acme.com", "ann@acme.com"),
    ]
}

fn run_events(events: Vec<AuditEvent>, policy: &Policy) -> idgap_detect::Detection {
    let mut o = with_users(people());
    o.audit_events = events;
    run(
        &o,
        &[okta(vec![active("root@acme.com"), active("ann@acme.com")])],
        policy,
    )
}

#[test]
fn audit_export_table() {
    let inside = "2026-11-29T10:00:00Z";
    // (case, event, bulk keys, non-admin keys)
    let cases: Vec<(&str, AuditEvent, Vec<&str>, Vec<&str>)> = vec![
        (
            "section Data Export by an admin",
            audit(
                "0Ya1",
                "requestedExport",
                "Data Export",
                "Requested an export",
                inside,
                Some("005A"),
            ),
            vec!["bulk-data-export:event:0Ya1"],
            vec![],
        ),
        (
            "section Data Export by a non-admin",
            audit(
                "0Ya2",
                "requestedExport",
                "Data Export",
                "Requested an export",
                inside,
                Some("005U"),
            ),
            vec!["bulk-data-export:event:0Ya2"],
            vec!["data-export-by-non-admin:event:0Ya2"],
        ),
        (
            "configured action token, any case, any section",
            audit(
                "0Ya3",
                "WEEKLYEXPORT",
                "Something Else",
                "",
                inside,
                Some("005U"),
            ),
            vec!["bulk-data-export:event:0Ya3"],
            vec!["data-export-by-non-admin:event:0Ya3"],
        ),
        // Regression: export requests are filed under Data Management, which matched nothing.
        (
            "Data Management section, display says export",
            audit(
                "0Ya4",
                "x",
                "Data Management",
                "Requested an EXPORT of organization data",
                inside,
                Some("005U"),
            ),
            vec!["bulk-data-export:event:0Ya4"],
            vec!["data-export-by-non-admin:event:0Ya4"],
        ),
        (
            "Data Management section without an export word is another data tool",
            audit(
                "0Yb2",
                "massDelete",
                "Data Management",
                "Mass deleted 200 leads",
                inside,
                Some("005U"),
            ),
            vec![],
            vec![],
        ),
        (
            "a section merely named like export is not a configured section",
            audit(
                "0Yb3",
                "x",
                "Export Wizard",
                "Started an EXPORT of accounts",
                inside,
                Some("005A"),
            ),
            vec![],
            vec![],
        ),
        (
            "display says export but section is unrelated",
            audit(
                "0Ya5",
                "changedemail",
                "Manage Users",
                "Changed email for export@acme.com",
                inside,
                Some("005A"),
            ),
            vec![],
            vec![],
        ),
        (
            "export before the window",
            audit(
                "0Ya6",
                "dataExport",
                "Data Export",
                "",
                "2026-11-20T00:00:00Z",
                Some("005U"),
            ),
            vec![],
            vec![],
        ),
        (
            "export after now",
            audit(
                "0Ya7",
                "dataExport",
                "Data Export",
                "",
                "2026-12-01T00:00:00Z",
                Some("005U"),
            ),
            vec![],
            vec![],
        ),
        (
            "export exactly at the window start",
            audit(
                "0Ya8",
                "dataExport",
                "Data Export",
                "",
                "2026-11-23T12:00:00Z",
                Some("005U"),
            ),
            vec!["bulk-data-export:event:0Ya8"],
            vec!["data-export-by-non-admin:event:0Ya8"],
        ),
        (
            "actor not in the snapshot: bulk only",
            audit(
                "0Ya9",
                "dataExport",
                "Data Export",
                "",
                inside,
                Some("005GHOST"),
            ),
            vec!["bulk-data-export:event:0Ya9"],
            vec![],
        ),
        (
            "no actor recorded: bulk only",
            audit("0Yb1", "dataExport", "Data Export", "", inside, None),
            vec!["bulk-data-export:event:0Yb1"],
            vec![],
        ),
    ];
    for (name, event, bulk, non_admin) in cases {
        let d = run_events(vec![event], &Policy::default());
        assert_eq!(keys(&d, RuleId::BulkDataExport), bulk, "{name}: bulk");
        assert_eq!(
            keys(&d, RuleId::DataExportByNonAdmin),
            non_admin,
            "{name}: non-admin"
        );
        assert!(d.evaluated.contains(&RuleId::BulkDataExport), "{name}");
        assert!(
            d.evaluated.contains(&RuleId::DataExportByNonAdmin),
            "{name}"
        );
    }
}

#[test]
fn export_tokens_are_configurable() {
    let ev = audit(
        "0Ya1",
        "dataExport",
        "Setup",
        "",
        "2026-11-29T10:00:00Z",
        Some("005A"),
    );
    let only_custom = Policy {
        export_actions: vec!["orgExportRequested".into()],
        export_sections: vec!["Bulk Extract".into()],
        ..Policy::default()
    };
    assert!(
        keys(
            &run_events(vec![ev.clone()], &only_custom),
            RuleId::BulkDataExport
        )
        .is_empty()
    );
    let custom = audit(
        "0Yc1",
        "orgExportRequested",
        "Setup",
        "",
        "2026-11-29T10:00:00Z",
        Some("005A"),
    );
    assert_eq!(
        keys(
            &run_events(vec![custom], &only_custom),
            RuleId::BulkDataExport
        ),
        ["bulk-data-export:event:0Yc1"]
    );
    let section = audit(
        "0Yc2",
        "x",
        "Bulk Extract Jobs",
        "Export requested",
        "2026-11-29T10:00:00Z",
        Some("005A"),
    );
    assert_eq!(
        keys(
            &run_events(vec![section], &only_custom),
            RuleId::BulkDataExport
        ),
        ["bulk-data-export:event:0Yc2"]
    );
}

#[test]
fn export_by_a_delegated_admin_names_the_delegate() {
    // root (an admin) used Login As to act as ann (not an admin) and requested an export:
    // Salesforce records ann as CreatedBy and root as DelegateUser.
    let mut ev = audit(
        "0Yd1",
        "dataExport",
        "Data Export",
        "Export requested",
        "2026-11-29T10:00:00Z",
        Some("005U"),
    );
    ev.delegate_user = Some("root@acme.com".into());
    let d = run_events(vec![ev], &Policy::default());
    let f = of(&d, RuleId::DataExportByNonAdmin)[0];
    assert_eq!(f.severity, Severity::Critical);
    assert_eq!(f.subject.kind, Some(SubjectKind::AuditEvent));
    assert_eq!(f.subject.username.as_deref(), Some("ann@acme.com"));
    assert_eq!(f.evidence["actorUsername"], "ann@acme.com");
    assert_eq!(f.evidence["actorIsAdmin"], "false");
    assert_eq!(f.evidence["delegateUser"], "root@acme.com");
    assert!(
        f.evidence["note"].contains("Login As"),
        "{}",
        f.evidence["note"]
    );
    assert_eq!(f.occurred_at, Some(ts("2026-11-29T10:00:00Z")));
    let bulk = of(&d, RuleId::BulkDataExport)[0];
    assert_eq!(bulk.evidence["delegateUser"], "root@acme.com");

    // The other way round: an admin's own account acting, a delegate noted.
    let mut ev = audit(
        "0Yd2",
        "dataExport",
        "Data Export",
        "",
        "2026-11-29T10:00:00Z",
        Some("005A"),
    );
    ev.delegate_user = Some("helpdesk@acme.com".into());
    let d = run_events(vec![ev], &Policy::default());
    assert!(of(&d, RuleId::DataExportByNonAdmin).is_empty());
    assert_eq!(
        of(&d, RuleId::BulkDataExport)[0].evidence["delegateUser"],
        "helpdesk@acme.com"
    );
}

#[test]
fn export_evidence_and_unknown_actor() {
    let ev = audit(
        "0Ye1",
        "dataExport",
        "Data Export",
        "Requested",
        "2026-11-29T10:00:00Z",
        Some("005GHOST"),
    );
    let d = run_events(vec![ev], &Policy::default());
    let f = of(&d, RuleId::BulkDataExport)[0];
    assert_eq!(f.severity, Severity::High);
    assert_eq!(f.evidence["action"], "dataExport");
    assert_eq!(f.evidence["section"], "Data Export");
    assert_eq!(f.evidence["display"], "Requested");
    assert_eq!(f.evidence["time"], "2026-11-29T10:00:00Z");
    assert_eq!(f.evidence["matchedOn"], "action");
    assert_eq!(f.evidence["actorId"], "005GHOST");
    assert_eq!(f.evidence["actorUsername"], "005GHOST@row.example");
    assert_eq!(
        f.subject.username, None,
        "an actor outside the snapshot is not a subject user"
    );
    assert_eq!(f.subject.salesforce_id.as_deref(), Some("0Ye1"));
}

#[test]
fn scheduled_export_jobs() {
    let mut o = with_users(people());
    o.export_jobs = vec![
        export_job("08e1", Some("2026-11-29T02:00:00Z"), Some("005U")),
        export_job("08e2", Some("2026-11-01T02:00:00Z"), Some("005A")),
        export_job("08e3", None, Some("005A")),
        export_job("08e4", Some("2026-11-28T02:00:00Z"), Some("005A")),
    ];
    let d = run(
        &o,
        &[okta(vec![active("root@acme.com"), active("ann@acme.com")])],
        &Policy::default(),
    );
    assert_eq!(
        keys(&d, RuleId::BulkDataExport),
        [
            "bulk-data-export:job:08e1:2026-11-29T02:00:00Z",
            "bulk-data-export:job:08e4:2026-11-28T02:00:00Z"
        ]
    );
    assert_eq!(
        keys(&d, RuleId::DataExportByNonAdmin),
        ["data-export-by-non-admin:job:08e1:2026-11-29T02:00:00Z"]
    );
    let f = of(&d, RuleId::BulkDataExport)[0];
    assert_eq!(f.evidence["jobName"], "Weekly Export");
    assert_eq!(f.evidence["actorUsername"], "ann@acme.com");
    assert_eq!(f.occurred_at, Some(ts("2026-11-29T02:00:00Z")));
}

#[test]
fn audit_gap_leaves_jobs_and_marks_the_rules_partial() {
    let mut o = with_users(people());
    o.audit_events = vec![audit(
        "0Ya1",
        "dataExport",
        "Data Export",
        "",
        "2026-11-29T10:00:00Z",
        Some("005U"),
    )];
    o.export_jobs = vec![export_job(
        "08e1",
        Some("2026-11-29T02:00:00Z"),
        Some("005U"),
    )];
    gap(&mut o, "auditTrail");
    let d = run(
        &o,
        &[okta(vec![active("root@acme.com"), active("ann@acme.com")])],
        &Policy::default(),
    );
    assert_eq!(
        keys(&d, RuleId::BulkDataExport),
        ["bulk-data-export:job:08e1:2026-11-29T02:00:00Z"]
    );
    for rule in [RuleId::BulkDataExport, RuleId::DataExportByNonAdmin] {
        assert!(!d.evaluated.contains(&rule), "{rule} must not be pruned");
        let reason = skipped_reason(&d, rule).expect("listed as partial");
        assert!(
            reason.starts_with("partially evaluated") && reason.contains("`auditTrail`"),
            "{reason}"
        );
    }

    gap(&mut o, "exportJobs");
    let d = run(
        &o,
        &[okta(vec![active("root@acme.com"), active("ann@acme.com")])],
        &Policy::default(),
    );
    assert!(of(&d, RuleId::BulkDataExport).is_empty());
    assert!(of(&d, RuleId::DataExportByNonAdmin).is_empty());
    let reason = skipped_reason(&d, RuleId::BulkDataExport).unwrap();
    assert!(
        reason.contains("`auditTrail`") && reason.contains("`exportJobs`"),
        "{reason}"
    );
}

#[test]
fn users_gap_keeps_bulk_export_but_not_the_non_admin_rule() {
    let mut o = with_users(people());
    o.audit_events = vec![audit(
        "0Ya1",
        "dataExport",
        "Data Export",
        "",
        "2026-11-29T10:00:00Z",
        Some("005U"),
    )];
    gap(&mut o, "users");
    let d = run(
        &o,
        &[okta(vec![active("root@acme.com")])],
        &Policy::default(),
    );
    assert_eq!(
        keys(&d, RuleId::BulkDataExport),
        ["bulk-data-export:event:0Ya1"]
    );
    assert!(of(&d, RuleId::DataExportByNonAdmin).is_empty());
    assert!(
        skipped_reason(&d, RuleId::DataExportByNonAdmin)
            .unwrap()
            .contains("`users`")
    );
    for rule in idgap_detect::IDP_RULES {
        assert!(
            skipped_reason(&d, rule).unwrap().contains("`users`"),
            "{rule}"
        );
    }
}
