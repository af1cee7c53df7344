//! connected-app-unknown-user, admin-modify-all-data / admin-view-all-data and
//! session-ip-not-enforced.

mod support;

use idgap_detect::Policy;
use idgap_model::{
    GrantSourceKind, Permission, RuleId, SessionSettingsSource, Severity, SubjectKind,
};
use support::*;

#[test]
fn connected_app_grants_table() {
    // (case, grants as (app, user id, use count), expected keys)
    let users = vec![
        user("005K", "known@acme.com", "known@acme.com"),
        user("005M", "missing@acme.com", "missing@acme.com"),
        inactive(user("005I", "gone@acme.com", "gone@acme.com")),
        with_type(
            user("005P", "partner@corp.com", "partner@corp.com"),
            "PowerPartner",
        ),
        with_profile(
            user("005Z", "insights@00d.ext", "x@acme.com"),
            "Analytics Cloud Integration User",
        ),
    ];
    type Case = (
        &'static str,
        Vec<(&'static str, &'static str, u64)>,
        Vec<&'static str>,
    );
    let cases: Vec<Case> = vec![
        (
            "grant by a user in the IdP",
            vec![("Slack", "005K", 3)],
            vec![],
        ),
        (
            "grant by a user missing from the IdP",
            vec![("Slack", "005M", 3)],
            vec!["connected-app-unknown-user:005M:Slack"],
        ),
        (
            "one finding per app and user",
            vec![
                ("Slack", "005M", 1),
                ("Slack", "005M", 2),
                ("Dataloader", "005M", 1),
            ],
            vec![
                "connected-app-unknown-user:005M:Dataloader",
                "connected-app-unknown-user:005M:Slack",
            ],
        ),
        (
            "grant by a user not in the snapshot",
            vec![("Workbench", "005GHOST", 9)],
            vec!["connected-app-unknown-user:005GHOST:Workbench"],
        ),
        (
            "grant by an inactive user",
            vec![("Slack", "005I", 1)],
            vec![],
        ),
        (
            "grant by a portal user",
            vec![("Portal App", "005P", 1)],
            vec![],
        ),
        (
            "grant by an integration profile",
            vec![("Tableau", "005Z", 1)],
            vec![],
        ),
    ];
    let dirs = [okta(vec![active("known@acme.com")])];
    for (name, grants, want) in cases {
        let mut o = with_users(users.clone());
        o.oauth_grants = grants.iter().map(|(app, u, n)| oauth(app, u, *n)).collect();
        let d = run(&o, &dirs, &Policy::default());
        assert_eq!(keys(&d, RuleId::ConnectedAppUnknownUser), want, "{name}");
        assert!(
            d.evaluated.contains(&RuleId::ConnectedAppUnknownUser),
            "{name}"
        );
    }
}

#[test]
fn grant_evidence_folds_the_user_and_app_rows() {
    let mut o = with_users(vec![user("005M", "missing@acme.com", "missing@acme.com")]);
    let mut early = oauth("Slack", "005M", 2);
    early.created = Some(ts("2026-01-01T00:00:00Z"));
    early.last_used = Some(ts("2026-02-01T00:00:00Z"));
    o.oauth_grants = vec![oauth("Slack", "005M", 5), early];
    let d = run(&o, &[okta(vec![active("a@acme.com")])], &Policy::default());
    let f = of(&d, RuleId::ConnectedAppUnknownUser)[0];
    assert_eq!(f.severity, Severity::Medium);
    assert_eq!(f.subject.kind, Some(SubjectKind::OAuthGrant));
    assert_eq!(f.subject.app.as_deref(), Some("Slack"));
    assert_eq!(f.subject.username.as_deref(), Some("missing@acme.com"));
    assert_eq!(f.evidence["app"], "Slack");
    assert_eq!(f.evidence["grants"], "2");
    assert_eq!(f.evidence["useCount"], "7");
    assert_eq!(f.evidence["created"], "2026-01-01T00:00:00Z");
    assert_eq!(f.evidence["lastUsed"], "2026-11-28T00:00:00Z");
    assert!(f.remediation.contains("OAuth Connected Apps Usage"));
}

#[test]
fn grant_by_unknown_user_names_only_the_id() {
    let mut o = org();
    o.oauth_grants = vec![oauth("Workbench", "005GHOST", 1)];
    let d = run(&o, &[okta(vec![active("a@acme.com")])], &Policy::default());
    let f = of(&d, RuleId::ConnectedAppUnknownUser)[0];
    assert_eq!(f.subject.salesforce_id.as_deref(), Some("005GHOST"));
    assert_eq!(f.subject.username, None);
    assert_eq!(f.subject.email, None);
    assert_eq!(f.evidence["user"], "user not found in org snapshot");
    assert!(!f.evidence.contains_key("username"));
}

#[test]
fn grants_gap_skips_only_the_connected_app_rule() {
    let mut o = with_users(vec![user("005M", "missing@acme.com", "missing@acme.com")]);
    o.oauth_grants = vec![oauth("Slack", "005M", 1)];
    gap(&mut o, "oauthGrants");
    let d = run(&o, &[okta(vec![active("a@acme.com")])], &Policy::default());
    assert!(of(&d, RuleId::ConnectedAppUnknownUser).is_empty());
    let reason = skipped_reason(&d, RuleId::ConnectedAppUnknownUser).expect("skipped");
    assert!(
        reason.contains("`oauthGrants`") && reason.contains("INSUFFICIENT_ACCESS"),
        "{reason}"
    );
    assert!(!d.evaluated.contains(&RuleId::ConnectedAppUnknownUser));
    assert_eq!(keys(&d, RuleId::UserNotInIdp), ["user-not-in-idp:005M"]);
}

#[test]
fn privilege_rules_table() {
    use GrantSourceKind::*;
    use Permission::*;
    let users = vec![
        admin("005A", "root@acme.com", "root@acme.com"),
        user("005U", "ann@acme.com", "ann@acme.com"),
        inactive(admin("005I", "old@acme.com", "old@acme.com")),
    ];
    let cases = vec![
        (
            "admin through the profile",
            vec![grant(
                "005A",
                ModifyAllData,
                Profile,
                "System Administrator",
            )],
            vec!["admin-modify-all-data:005A"],
            vec![],
        ),
        (
            "admin through a permission-set group",
            vec![grant(
                "005A",
                ModifyAllData,
                PermissionSetGroup,
                "Ops Superusers",
            )],
            vec!["admin-modify-all-data:005A"],
            vec![],
        ),
        (
            "view all data only",
            vec![grant("005A", ViewAllData, PermissionSet, "Auditor")],
            vec![],
            vec!["admin-view-all-data:005A"],
        ),
        (
            // Modify All Data makes an admin wherever it comes from (docs/rules.md, "Who
            // counts as an admin"): a permission set cannot hide one.
            "modify all data from a permission set makes an admin",
            vec![
                grant("005U", ModifyAllData, PermissionSet, "Data Fixer"),
                grant("005U", ViewAllData, PermissionSet, "Data Fixer"),
            ],
            vec!["admin-modify-all-data:005U"],
            vec!["admin-view-all-data:005U"],
        ),
        (
            "view all data alone does not make an admin",
            vec![grant("005U", ViewAllData, PermissionSet, "Auditor")],
            vec![],
            vec![],
        ),
        (
            "an inactive admin is ignored",
            vec![grant(
                "005I",
                ModifyAllData,
                Profile,
                "System Administrator",
            )],
            vec![],
            vec![],
        ),
        (
            "a grant for a user not in the snapshot is ignored",
            vec![grant("005GHOST", ModifyAllData, PermissionSet, "X")],
            vec![],
            vec![],
        ),
    ];
    for (name, grants, mad, vad) in cases {
        let mut o = with_users(users.clone());
        o.permissions = grants;
        let d = run(
            &o,
            &[okta(vec![active("root@acme.com"), active("ann@acme.com")])],
            &Policy::default(),
        );
        assert_eq!(keys(&d, RuleId::AdminModifyAllData), mad, "{name}");
        assert_eq!(keys(&d, RuleId::AdminViewAllData), vad, "{name}");
    }
}

#[test]
fn modify_all_data_evidence_names_every_source() {
    let mut o = with_users(vec![admin("005A", "root@acme.com", "root@acme.com")]);
    o.permissions = vec![
        grant(
            "005A",
            Permission::ModifyAllData,
            GrantSourceKind::PermissionSetGroup,
            "Ops Superusers",
        ),
        grant(
            "005A",
            Permission::ModifyAllData,
            GrantSourceKind::Profile,
            "System Administrator",
        ),
        grant(
            "005A",
            Permission::ModifyAllData,
            GrantSourceKind::PermissionSet,
            "Data Fixer",
        ),
        grant(
            "005A",
            Permission::ModifyAllData,
            GrantSourceKind::PermissionSet,
            "Data Fixer",
        ),
    ];
    let d = run(
        &o,
        &[okta(vec![active("root@acme.com")])],
        &Policy::default(),
    );
    let f = of(&d, RuleId::AdminModifyAllData)[0];
    assert_eq!(f.severity, Severity::High);
    assert_eq!(
        f.evidence["grantedBy"],
        "profile: System Administrator; permission set: Data Fixer; permission set group: Ops Superusers"
    );
    assert_eq!(f.evidence["permission"], "ModifyAllData");
    assert!(
        f.remediation
            .starts_with("Remove Modify All Data from profile: System Administrator"),
        "{}",
        f.remediation
    );
}

#[test]
fn permissions_gap_skips_privilege_rules() {
    let mut o = with_users(vec![admin("005A", "root@acme.com", "root@acme.com")]);
    o.permissions = vec![grant(
        "005A",
        Permission::ModifyAllData,
        GrantSourceKind::Profile,
        "System Administrator",
    )];
    gap(&mut o, "permissions");
    let d = run(
        &o,
        &[okta(vec![active("root@acme.com")])],
        &Policy::default(),
    );
    assert!(d.findings.is_empty(), "{:?}", d.findings);
    assert!(
        skipped_reason(&d, RuleId::AdminModifyAllData)
            .unwrap()
            .contains("`permissions`")
    );
    assert!(
        skipped_reason(&d, RuleId::AdminViewAllData)
            .unwrap()
            .contains("`permissions`")
    );
}

#[test]
fn session_rule_table() {
    // (case, lock to IP, enforce ranges every request, profiles with ranges, a finding?)
    // "Sales" is an active user's profile, "Retired" only an inactive user's.
    let cases: [(&str, bool, bool, &[&str], bool); 7] = [
        ("sessions locked to IP", true, false, &[], false),
        (
            "ranges enforced, on an active user's profile",
            false,
            true,
            &["Sales"],
            false,
        ),
        // Regression: enforcing ranges that no profile has restricts nothing.
        (
            "ranges enforced but no profile has any",
            false,
            true,
            &[],
            true,
        ),
        (
            "ranges enforced, only on an unused profile",
            false,
            true,
            &["Retired"],
            true,
        ),
        ("both", true, true, &[], false),
        ("neither", false, false, &["Sales"], true),
        ("neither, no ranges", false, false, &[], true),
    ];
    for (name, lock, enforce, with_ranges, fires) in cases {
        let mut o = with_users(vec![
            with_profile(user("005U", "a@acme.com", "a@acme.com"), "Sales"),
            inactive(with_profile(
                user("005R", "r@acme.com", "r@acme.com"),
                "Retired",
            )),
        ]);
        let s = o.session_settings.as_mut().unwrap();
        s.lock_sessions_to_ip = lock;
        s.enforce_ip_ranges_every_request = enforce;
        s.profiles_with_login_ip_ranges = with_ranges.iter().map(|p| p.to_string()).collect();
        let d = run(&o, &[okta(vec![active("a@acme.com")])], &Policy::default());
        let want: Vec<String> = if fires {
            vec!["session-ip-not-enforced:00D000000000001AAA".into()]
        } else {
            vec![]
        };
        assert_eq!(keys(&d, RuleId::SessionIpNotEnforced), want, "{name}");
        assert!(
            d.evaluated.contains(&RuleId::SessionIpNotEnforced),
            "{name}"
        );
    }
}

#[test]
fn session_finding_says_where_the_settings_came_from() {
    let mut o = org();
    let s = o.session_settings.as_mut().unwrap();
    s.lock_sessions_to_ip = false;
    s.source = SessionSettingsSource::HealthCheck;
    s.profiles_with_login_ip_ranges = vec!["Sales".into(), "Admin Ops".into()];
    s.raw = vec![("Lock sessions to the IP address".into(), "Disabled".into())];
    let d = run(&o, &[okta(vec![active("a@acme.com")])], &Policy::default());
    let f = of(&d, RuleId::SessionIpNotEnforced)[0];
    assert_eq!(f.severity, Severity::Medium);
    assert_eq!(f.subject.kind, Some(SubjectKind::Org));
    assert_eq!(
        f.evidence["source"],
        "Health Check (SecurityHealthCheckRisks)"
    );
    assert_eq!(
        f.evidence["profilesWithLoginIpRanges"],
        "2 (Admin Ops, Sales); checked at login only"
    );
    assert_eq!(
        f.evidence["read.Lock sessions to the IP address"],
        "Disabled"
    );
}

/// Health Check does not list profiles' login IP ranges: when it says ranges are enforced,
/// whether that restricts anyone is unknown, so the rule is skipped rather than guessed.
#[test]
fn enforced_ranges_from_health_check_skip_the_rule() {
    let mut o = org();
    let s = o.session_settings.as_mut().unwrap();
    s.source = SessionSettingsSource::HealthCheck;
    s.lock_sessions_to_ip = false;
    s.enforce_ip_ranges_every_request = true;
    let d = run(&o, &[okta(vec![active("a@acme.com")])], &Policy::default());
    assert!(of(&d, RuleId::SessionIpNotEnforced).is_empty());
    assert!(
        skipped_reason(&d, RuleId::SessionIpNotEnforced)
            .unwrap()
            .contains("does not list which profiles have ranges")
    );
}

#[test]
fn session_rule_is_skipped_without_settings() {
    let mut o = org();
    o.session_settings = None;
    let d = run(&o, &[okta(vec![active("a@acme.com")])], &Policy::default());
    assert!(of(&d, RuleId::SessionIpNotEnforced).is_empty());
    assert!(
        skipped_reason(&d, RuleId::SessionIpNotEnforced)
            .unwrap()
            .contains("not read")
    );

    let mut o = org();
    o.session_settings.as_mut().unwrap().lock_sessions_to_ip = false;
    gap(&mut o, "sessionSettings");
    let d = run(&o, &[okta(vec![active("a@acme.com")])], &Policy::default());
    assert!(of(&d, RuleId::SessionIpNotEnforced).is_empty());
    assert!(
        skipped_reason(&d, RuleId::SessionIpNotEnforced)
            .unwrap()
            .contains("`sessionSettings`")
    );
}
