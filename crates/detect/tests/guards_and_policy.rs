//! Safety guards, disabled rules, severity overrides, exclusions, ordering, finding names.

mod support;

use idgap_detect::{DirectoryInput, Exclusion, IDP_RULES, Policy, detect, finding_name};
use idgap_model::{AccountStatus, GrantSourceKind, Permission, ProviderKind, RuleId, Severity};
use support::*;

/// An org where every IdP rule would fire if it ran, plus one privilege finding.
fn busy_org() -> idgap_model::OrgSnapshot {
    let mut o = with_users(vec![
        admin("005A", "root@acme.com", "root@acme.com"),
        user("005U", "ann@acme.com", "ann@acme.com"),
        user("005S", "sam@acme.com", "sam@acme.com"),
    ]);
    o.oauth_grants = vec![oauth("Slack", "005U", 1)];
    o.permissions = vec![grant(
        "005A",
        Permission::ModifyAllData,
        GrantSourceKind::Profile,
        "System Administrator",
    )];
    o
}

fn healthy_okta() -> idgap_model::DirectorySnapshot {
    let mut accounts: Vec<_> = (0..10).map(|i| active(&format!("p{i}@acme.com"))).collect();
    accounts.push(account("sam@acme.com", AccountStatus::Suspended));
    okta(accounts)
}

#[test]
fn healthy_directories_let_every_idp_rule_fire() {
    let o = busy_org();
    let d = run(&o, &[healthy_okta()], &Policy::default());
    for rule in IDP_RULES {
        assert_eq!(of(&d, rule).len(), 1, "{rule}");
        assert!(d.evaluated.contains(&rule));
    }
    assert!(d.skipped.is_empty(), "{:?}", d.skipped);
}

#[test]
fn untrusted_directory_skips_every_idp_rule() {
    let o = busy_org();
    let good = healthy_okta();
    let empty = entra(vec![]);
    let shrunk = entra(vec![active("x@acme.com"), active("y@acme.com")]);
    // (case, second directory input, expected reason fragment)
    let cases: Vec<(&str, DirectoryInput<'_>, &str)> = vec![
        (
            "sync failed",
            DirectoryInput {
                name: "entra",
                provider: ProviderKind::EntraId,
                result: Err("token request failed: invalid_client"),
                last_good_accounts: Some(900),
            },
            "identity provider `entra` (Entra ID) sync failed: token request failed: invalid_client",
        ),
        (
            "empty",
            DirectoryInput {
                result: Ok(&empty),
                ..input(&empty)
            },
            "identity provider `entra` (Entra ID) returned no accounts",
        ),
        (
            "shrank by more than half",
            DirectoryInput {
                last_good_accounts: Some(5),
                ..input(&shrunk)
            },
            "identity provider `entra` (Entra ID) returned 2 accounts, 60% fewer than the last good sync (5)",
        ),
    ];
    for (name, second, reason) in cases {
        let d = detect(
            &o,
            &[input(&good), second],
            &Policy::default(),
            now(),
            window_start(),
        );
        for rule in IDP_RULES {
            assert!(of(&d, rule).is_empty(), "{name}: {rule} produced findings");
            assert!(!d.evaluated.contains(&rule), "{name}: {rule}");
            let got = skipped_reason(&d, rule).unwrap_or_default();
            assert!(got.contains(reason), "{name}: {rule}: {got}");
        }
        // Rules that do not read the IdP still run.
        assert_eq!(
            keys(&d, RuleId::AdminModifyAllData),
            ["admin-modify-all-data:005A"],
            "{name}"
        );
        assert!(d.evaluated.contains(&RuleId::AdminModifyAllData), "{name}");
    }
}

#[test]
fn shrink_within_the_threshold_is_trusted() {
    let o = busy_org();
    let dir = healthy_okta(); // 11 accounts
    let inputs = [DirectoryInput {
        last_good_accounts: Some(20),
        ..input(&dir)
    }];
    let d = detect(&o, &inputs, &Policy::default(), now(), window_start());
    assert!(d.evaluated.contains(&RuleId::UserNotInIdp));
    let strict = Policy {
        idp_shrink_threshold: 0.4,
        ..Policy::default()
    };
    let d = detect(&o, &inputs, &strict, now(), window_start());
    assert!(!d.evaluated.contains(&RuleId::UserNotInIdp));
    assert!(
        skipped_reason(&d, RuleId::UserNotInIdp)
            .unwrap()
            .contains("45% fewer")
    );
}

#[test]
fn no_linked_directory_skips_idp_rules() {
    let d = detect(&busy_org(), &[], &Policy::default(), now(), window_start());
    for rule in IDP_RULES {
        assert!(of(&d, rule).is_empty());
        assert!(
            skipped_reason(&d, rule)
                .unwrap()
                .contains("no identity provider is linked")
        );
    }
}

#[test]
fn disabled_rules_are_skipped_with_the_reason() {
    let policy = Policy {
        disabled_rules: vec![RuleId::UserNotInIdp, RuleId::AdminModifyAllData],
        ..Policy::default()
    };
    let d = run(&busy_org(), &[healthy_okta()], &policy);
    assert!(of(&d, RuleId::UserNotInIdp).is_empty());
    assert!(of(&d, RuleId::AdminModifyAllData).is_empty());
    assert_eq!(of(&d, RuleId::AdminNotInIdp).len(), 1);
    assert_eq!(
        d.skipped
            .iter()
            .map(|s| (s.rule, s.reason.as_str()))
            .collect::<Vec<_>>(),
        [
            (
                RuleId::UserNotInIdp,
                "disabled by policy (spec.rules.disabled)"
            ),
            (
                RuleId::AdminModifyAllData,
                "disabled by policy (spec.rules.disabled)"
            ),
        ]
    );
    assert_eq!(d.evaluated.len(), 7);
}

#[test]
fn findings_are_ordered_by_severity_rule_and_key_after_overrides() {
    let mut o = busy_org();
    o.users.push(user("005B", "bob@acme.com", "bob@acme.com"));
    let d = run(&o, &[healthy_okta()], &Policy::default());
    let order: Vec<(Severity, &str)> = d
        .findings
        .iter()
        .map(|f| (f.severity, f.key.as_str()))
        .collect();
    assert_eq!(
        order,
        [
            (Severity::Critical, "admin-not-in-idp:005A"),
            (Severity::High, "user-not-in-idp:005B"),
            (Severity::High, "user-not-in-idp:005U"),
            (Severity::High, "stale-active-user:005S"),
            (Severity::High, "admin-modify-all-data:005A"),
            (Severity::Medium, "connected-app-unknown-user:005U:Slack"),
        ]
    );
    let policy = Policy {
        severity_overrides: vec![
            (RuleId::ConnectedAppUnknownUser, Severity::High),
            (RuleId::ConnectedAppUnknownUser, Severity::Critical),
            (RuleId::AdminNotInIdp, Severity::Low),
        ],
        ..Policy::default()
    };
    let d = run(&o, &[healthy_okta()], &policy);
    assert_eq!(d.findings[0].key, "connected-app-unknown-user:005U:Slack");
    assert_eq!(d.findings[0].severity, Severity::Critical);
    let last = d.findings.last().unwrap();
    assert_eq!(
        (last.key.as_str(), last.severity),
        ("admin-not-in-idp:005A", Severity::Low)
    );
}

fn exclusion(rule: Option<RuleId>, users: &[&str], expires: Option<&str>) -> Exclusion {
    Exclusion {
        rule,
        users: users.iter().map(|s| s.to_string()).collect(),
        reason: "Integration user owned by RevOps".into(),
        expires: expires.map(|d| d.parse().unwrap()),
    }
}

#[test]
fn exclusions_table() {
    let o = with_users(vec![
        user("005I", "integration@acme.com", "ops-team@acme.com"),
        user("005U", "ann@acme.com", "ann@acme.com"),
    ]);
    let dirs = [okta(vec![active("someone@acme.com")])];
    let integration = "user-not-in-idp:005I";
    let ann = "user-not-in-idp:005U";
    // (case, exclusion, excluded keys); `now` is 2026-11-30.
    let cases: Vec<(&str, Exclusion, Vec<&str>)> = vec![
        (
            "unexpired, exact username",
            exclusion(
                Some(RuleId::UserNotInIdp),
                &["integration@acme.com"],
                Some("2027-06-30"),
            ),
            vec![integration],
        ),
        (
            "expired yesterday",
            exclusion(
                Some(RuleId::UserNotInIdp),
                &["integration@acme.com"],
                Some("2026-11-29"),
            ),
            vec![],
        ),
        (
            "expires today: still applies until the end of the day",
            exclusion(
                Some(RuleId::UserNotInIdp),
                &["integration@acme.com"],
                Some("2026-11-30"),
            ),
            vec![integration],
        ),
        (
            "matches the email, case-insensitively",
            exclusion(Some(RuleId::UserNotInIdp), &["OPS-TEAM@ACME.COM"], None),
            vec![integration],
        ),
        (
            "glob",
            exclusion(Some(RuleId::UserNotInIdp), &["integ*@acme.co?"], None),
            vec![integration],
        ),
        (
            "all rules",
            exclusion(None, &["integration@acme.com"], None),
            vec![integration],
        ),
        (
            "another rule",
            exclusion(Some(RuleId::AdminNotInIdp), &["integration@acme.com"], None),
            vec![],
        ),
        (
            "a rule with no users covers the whole rule",
            exclusion(Some(RuleId::UserNotInIdp), &[], None),
            vec![integration, ann],
        ),
        (
            "no rule and no users is ignored",
            exclusion(None, &[], None),
            vec![],
        ),
    ];
    for (name, x, want) in cases {
        let policy = Policy {
            exclusions: vec![
                exclusion(Some(RuleId::StaleActiveUser), &["nobody"], None),
                x,
            ],
            ..Policy::default()
        };
        let d = run(&o, &dirs, &policy);
        let got: Vec<&str> = d.excluded.iter().map(|x| x.finding.key.as_str()).collect();
        assert_eq!(got, want, "{name}");
        for x in &d.excluded {
            assert_eq!(x.reason, "Integration user owned by RevOps", "{name}");
            assert_eq!(x.exclusion, 1, "{name}");
        }
        assert_eq!(
            d.findings.len() + d.excluded.len(),
            2,
            "{name}: nothing lost"
        );
        assert!(
            d.findings.iter().all(|f| !want.contains(&f.key.as_str())),
            "{name}"
        );
    }
}

#[test]
fn finding_names_are_deterministic_and_kubernetes_safe() {
    let o = with_users(vec![admin("005A", "root@acme.com", "root@acme.com")]);
    let d = run(&o, &[okta(vec![active("x@acme.com")])], &Policy::default());
    let f = &d.findings[0];
    let name = finding_name("acme-prod", f);
    assert!(name.starts_with("acme-prod-admin-not-in-idp-"), "{name}");
    assert_eq!(name.len(), "acme-prod-admin-not-in-idp-".len() + 8);
    assert_eq!(name, finding_name("acme-prod", f));
    // sha256("admin-not-in-idp:005A"), first 8 hex digits.
    assert_eq!(&name[name.len() - 8..], "f2972cde");

    assert_eq!(
        finding_name("Acme_Prod..EU", f),
        format!("acme-prod--eu-admin-not-in-idp-{}", &name[name.len() - 8..])
    );
    let long = finding_name(&"a".repeat(300), f);
    assert_eq!(long.len(), 253);
    assert!(long.ends_with(&name["acme-prod-".len()..]));
    assert_eq!(finding_name("", f), &name["acme-prod-".len()..]);
}
