//! One definition of "admin" (docs/rules.md): the profile whose API name is `Admin`, the
//! profiles `adminProfiles` names by API name or label, and anyone holding Modify All Data.

mod support;

use idgap_detect::{Admins, Policy};
use idgap_model::{GrantSourceKind, Permission, RuleId, SfProfile, SfUser};
use support::*;

fn profile(id: &str, label: &str, api: Option<&str>) -> SfProfile {
    SfProfile {
        id: id.into(),
        label: label.into(),
        api_name: api.map(str::to_string),
    }
}

fn with_profile(u: SfUser, id: &str, label: &str) -> SfUser {
    SfUser {
        profile_id: Some(id.into()),
        profile: Some(label.into()),
        ..u
    }
}

/// A German org: the System Administrator profile reads "Systemadministrator".
fn german_org() -> idgap_model::OrgSnapshot {
    let mut o = with_users(vec![
        with_profile(
            user("005A", "root@acme.com", "root@acme.com"),
            "00eA",
            "Systemadministrator",
        ),
        with_profile(
            user("005C", "clone@acme.com", "clone@acme.com"),
            "00eC",
            "Acme Admin",
        ),
        with_profile(
            user("005F", "chatter@acme.com", "chatter@acme.com"),
            "00eF",
            "Chatter Free-Benutzer",
        ),
        with_profile(
            user("005U", "ann@acme.com", "ann@acme.com"),
            "00eS",
            "Standardbenutzer",
        ),
    ]);
    o.profiles = vec![
        profile("00eA", "Systemadministrator", Some("Admin")),
        profile("00eC", "Acme Admin", Some("Acme_Admin")),
        profile("00eF", "Chatter Free-Benutzer", Some("Chatter Free User")),
        profile("00eS", "Standardbenutzer", Some("Standard")),
    ];
    o
}

#[test]
fn the_admin_profile_is_found_by_its_api_name_in_any_language() {
    let o = german_org();
    let admins = Admins::new(&o, &Policy::default());
    let names: Vec<&str> = o
        .users
        .iter()
        .filter(|u| admins.is_admin(u))
        .map(|u| u.username.as_str())
        .collect();
    assert_eq!(names, ["root@acme.com"]);
    // No directory has root@: the critical rule fires, as it would in English.
    let d = run(
        &o,
        &[okta(vec![active("ann@acme.com")])],
        &Policy::default(),
    );
    assert_eq!(keys(&d, RuleId::AdminNotInIdp), ["admin-not-in-idp:005A"]);
}

#[test]
fn admin_profiles_match_api_names_and_labels_trimmed_and_case_insensitively() {
    let o = german_org();
    for listed in [" acme_admin", "ACME ADMIN "] {
        let policy = Policy {
            admin_profiles: vec![listed.into()],
            ..Policy::default()
        };
        let admins = Admins::new(&o, &policy);
        assert_eq!(admins.count_active(&o), 2, "{listed:?}");
    }
}

#[test]
fn modify_all_data_from_anywhere_makes_an_admin_even_without_api_names() {
    let mut o = german_org();
    for p in &mut o.profiles {
        p.api_name = None;
    }
    o.permissions = vec![
        grant(
            "005A",
            Permission::ModifyAllData,
            GrantSourceKind::Profile,
            "Systemadministrator",
        ),
        grant(
            "005U",
            Permission::ViewAllData,
            GrantSourceKind::PermissionSet,
            "Auditor",
        ),
    ];
    let admins = Admins::new(&o, &Policy::default());
    assert!(admins.is_admin(&o.users[0]));
    assert!(
        !admins.is_admin(&o.users[3]),
        "View All Data alone is not admin"
    );
}

#[test]
fn default_excluded_profiles_match_the_api_name_of_a_translated_profile() {
    let o = german_org();
    let dirs = [okta(vec![
        active("root@acme.com"),
        active("clone@acme.com"),
        active("ann@acme.com"),
    ])];
    let d = run(&o, &dirs, &Policy::default());
    assert!(
        keys(&d, RuleId::UserNotInIdp).is_empty(),
        "{:?}",
        d.findings
    );
}

#[test]
fn evidence_says_the_frozen_state_is_unknown_when_user_login_was_not_read() {
    let mut o = german_org();
    gap(&mut o, "frozenState");
    let d = run(
        &o,
        &[okta(vec![active("ann@acme.com")])],
        &Policy::default(),
    );
    let f = &of(&d, RuleId::AdminNotInIdp)[0];
    assert_eq!(
        f.evidence.get("frozen").map(String::as_str),
        Some("unknown (UserLogin was not readable)")
    );
    assert!(
        d.evaluated.contains(&RuleId::AdminNotInIdp),
        "frozen state feeds no rule"
    );
}
