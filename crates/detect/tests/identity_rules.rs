//! admin-not-in-idp, user-not-in-idp and stale-active-user: who matches whom.

mod support;

use idgap_detect::Policy;
use idgap_model::{AccountStatus, DirectorySnapshot, RuleId, Severity, SfUser};
use support::*;

struct Case {
    name: &'static str,
    sandbox: bool,
    users: Vec<SfUser>,
    dirs: Vec<DirectorySnapshot>,
    policy: Policy,
    admin_not_in_idp: &'static [&'static str],
    user_not_in_idp: &'static [&'static str],
    stale: &'static [&'static str],
}

fn case(name: &'static str, users: Vec<SfUser>, dirs: Vec<DirectorySnapshot>) -> Case {
    Case {
        name,
        sandbox: false,
        users,
        dirs,
        policy: Policy::default(),
        admin_not_in_idp: &[],
        user_not_in_idp: &[],
        stale: &[],
    }
}

fn aliases(pairs: &[(&str, &str)]) -> Policy {
    Policy {
        domain_aliases: pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect(),
        ..Policy::default()
    }
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            admin_not_in_idp: &["admin-not-in-idp:005A"],
            user_not_in_idp: &["user-not-in-idp:005U"],
            ..case(
                "admin and user missing from the only IdP",
                vec![
                    admin("005A", "root@acme.com", "root@acme.com"),
                    user("005U", "ann@acme.com", "ann@acme.com"),
                ],
                vec![okta(vec![active("someone@acme.com")])],
            )
        },
        case(
            "matched by email, case and whitespace ignored",
            vec![admin("005A", "sfadmin@acme.com", " Root@ACME.com ")],
            vec![okta(vec![active("root@acme.com")])],
        ),
        case(
            "matched by username",
            vec![user("005U", "Ann@Acme.com", "ann.private@gmail.com")],
            vec![okta(vec![active("ann@acme.com")])],
        ),
        case(
            "matched by federation id against a secondary identifier",
            vec![with_fed(
                user("005U", "ann@sf.acme.com", "ann@sf.acme.com"),
                "E-1234",
            )],
            vec![entra(vec![with_identifiers(
                active("ann.lee@acme.com"),
                &["e-1234"],
            )])],
        ),
        // Regression: a Federation ID holding the IdP's own id for the person matched nothing.
        case(
            "federation id that is the Entra object id (a GUID in another case)",
            vec![with_fed(
                user("005U", "ann@sf.acme.com", "ann@sf.acme.com"),
                "{0A1B2C3D-0000-4000-8000-00000000ABCD}",
            )],
            vec![entra(vec![with_id(
                active("ann.lee@acme.com"),
                "{0a1b2c3d-0000-4000-8000-00000000abcd}",
            )])],
        ),
        case(
            "federation id that is Entra's onPremisesImmutableId",
            vec![with_fed(
                user("005U", "ann@sf.acme.com", "ann@sf.acme.com"),
                "WkRPaW3QKEyzvqLzOzzJjw==",
            )],
            vec![entra(vec![with_other_ids(
                active("ann.lee@acme.com"),
                &["WkRPaW3QKEyzvqLzOzzJjw=="],
            )])],
        ),
        Case {
            user_not_in_idp: &["user-not-in-idp:005U"],
            ..case(
                "an immutable id is compared exactly (base64 is case-sensitive)",
                vec![with_fed(
                    user("005U", "ann@sf.acme.com", "ann@sf.acme.com"),
                    "wkrpaw3qkeyzvqlzozzjjw==",
                )],
                vec![entra(vec![with_other_ids(
                    active("ann.lee@acme.com"),
                    &["WkRPaW3QKEyzvqLzOzzJjw=="],
                )])],
            )
        },
        Case {
            user_not_in_idp: &["user-not-in-idp:005U"],
            ..case(
                "an account id never matches an email or username",
                vec![user("005U", "00u1abc", "00u1abc")],
                vec![okta(vec![with_id(active("ann@acme.com"), "00u1abc")])],
            )
        },
        Case {
            user_not_in_idp: &["user-not-in-idp:005U"],
            ..case(
                "a personal secondary address is not an identity by default",
                vec![user("005U", "ann@sf.acme.com", "ann.home@gmail.com")],
                vec![okta(vec![with_personal(
                    active("ann.lee@acme.com"),
                    &["Ann.Home@gmail.com"],
                )])],
            )
        },
        Case {
            policy: Policy {
                match_personal_addresses: true,
                ..Policy::default()
            },
            ..case(
                "personal secondary addresses match when the policy says so",
                vec![user("005U", "ann@sf.acme.com", "ann.home@gmail.com")],
                vec![okta(vec![with_personal(
                    active("ann.lee@acme.com"),
                    &["Ann.Home@gmail.com"],
                )])],
            )
        },
        case(
            "an account in an unknown state is neither missing nor stale",
            vec![user("005U", "ann@acme.com", "ann@acme.com")],
            vec![entra(vec![account("ann@acme.com", AccountStatus::Unknown)])],
        ),
        Case {
            policy: aliases(&[("acme.io", "acme.com")]),
            ..case(
                "admin matched only through a domain alias",
                vec![admin("005A", "root@acme.io", "root@acme.io")],
                vec![okta(vec![active("root@acme.com")])],
            )
        },
        Case {
            policy: aliases(&[("acme.com", "acme.io")]),
            ..case(
                "alias pairs work in both directions",
                vec![admin("005A", "root@acme.com", "root@acme.com")],
                vec![okta(vec![active("root@acme.io")])],
            )
        },
        Case {
            admin_not_in_idp: &["admin-not-in-idp:005A"],
            ..case(
                "without the alias the same admin is missing",
                vec![admin("005A", "root@acme.io", "root@acme.io")],
                vec![okta(vec![active("root@acme.com")])],
            )
        },
        case(
            "user matched in a second IdP",
            vec![user("005U", "ann@acme.com", "ann@acme.com")],
            vec![
                okta(vec![active("bob@acme.com")]),
                entra(vec![active("ann@acme.com")]),
            ],
        ),
        Case {
            stale: &["stale-active-user:005U"],
            ..case(
                "suspended in the only IdP it matches",
                vec![user("005U", "ann@acme.com", "ann@acme.com")],
                vec![okta(vec![account(
                    "ann@acme.com",
                    AccountStatus::Suspended,
                )])],
            )
        },
        Case {
            stale: &["stale-active-user:005A"],
            ..case(
                "an admin deprovisioned in Okta and suspended in Entra is stale",
                vec![admin("005A", "root@acme.com", "root@acme.com")],
                vec![
                    okta(vec![account("root@acme.com", AccountStatus::Deprovisioned)]),
                    entra(vec![account("root@acme.com", AccountStatus::Suspended)]),
                ],
            )
        },
        case(
            "suspended in Okta but active in Entra is not stale",
            vec![user("005U", "ann@acme.com", "ann@acme.com")],
            vec![
                okta(vec![account("ann@acme.com", AccountStatus::Suspended)]),
                entra(vec![active("ann@acme.com")]),
            ],
        ),
        case(
            "locked or pending accounts are not disabled",
            vec![
                user("005U", "ann@acme.com", "ann@acme.com"),
                user("005V", "bob@acme.com", "bob@acme.com"),
            ],
            vec![okta(vec![
                account("ann@acme.com", AccountStatus::Locked),
                account("bob@acme.com", AccountStatus::Pending),
            ])],
        ),
        case(
            "email matches a suspended account, username an active one: not stale",
            vec![user("005U", "ann@acme.com", "ann.old@acme.com")],
            vec![okta(vec![
                account("ann.old@acme.com", AccountStatus::Suspended),
                active("ann@acme.com"),
            ])],
        ),
        Case {
            sandbox: true,
            ..case(
                "sandbox user: .invalid email and sandbox username suffix",
                vec![
                    user("005U", "ann@acme.com.uat", "ann@acme.com.invalid"),
                    admin(
                        "005A",
                        "root@acme.com.uat",
                        "root-private@gmail.com.invalid",
                    ),
                ],
                vec![okta(vec![active("ann@acme.com"), active("root@acme.com")])],
            )
        },
        Case {
            admin_not_in_idp: &["admin-not-in-idp:005A"],
            ..case(
                "outside a sandbox the username suffix is kept",
                vec![admin("005A", "root@acme.com.uat", "root-private@gmail.com")],
                vec![okta(vec![active("root@acme.com")])],
            )
        },
        Case {
            policy: Policy {
                sandbox_username_suffixes: vec!["UAT".into()],
                ..Policy::default()
            },
            ..case(
                "a configured username suffix is stripped in any org",
                vec![admin("005A", "root@acme.com.uat", "root-private@gmail.com")],
                vec![okta(vec![active("root@acme.com")])],
            )
        },
        case(
            "inactive users are ignored",
            vec![inactive(admin("005A", "root@acme.com", "root@acme.com"))],
            vec![okta(vec![active("someone@acme.com")])],
        ),
        case(
            "portal, guest and Chatter users are not in the IdP rules",
            vec![
                with_type(
                    user("005P", "partner@corp.com", "partner@corp.com"),
                    "PowerPartner",
                ),
                with_type(
                    user("005C", "cust@corp.com", "cust@corp.com"),
                    "CspLitePortal",
                ),
                with_type(
                    user("005G", "site@acme.force.com", "site@acme.com"),
                    "Guest",
                ),
                with_type(user("005X", "chat@acme.com", "chat@acme.com"), "CsnOnly"),
            ],
            vec![okta(vec![account(
                "partner@corp.com",
                AccountStatus::Suspended,
            )])],
        ),
        Case {
            policy: Policy {
                idp_user_types: vec!["Standard".into(), "CSPLitePortal".into()],
                ..Policy::default()
            },
            user_not_in_idp: &["user-not-in-idp:005C"],
            ..case(
                "user types compare case-insensitively when a portal type is covered",
                vec![with_type(
                    user("005C", "cust@corp.com", "cust@corp.com"),
                    "CspLitePortal",
                )],
                vec![okta(vec![active("someone@acme.com")])],
            )
        },
        case(
            "integration and automation profiles are left out",
            vec![
                with_profile(
                    user("005I", "insights@00d.ext", "noreply@acme.com"),
                    "Analytics Cloud Integration User",
                ),
                with_profile(
                    user("005J", "autoproc@00d.ext", "noreply@acme.com"),
                    "automated process",
                ),
            ],
            vec![okta(vec![active("someone@acme.com")])],
        ),
        Case {
            policy: Policy {
                admin_profiles: vec!["system administrator".into(), "Acme Admin".into()],
                ..Policy::default()
            },
            admin_not_in_idp: &["admin-not-in-idp:005A", "admin-not-in-idp:005B"],
            ..case(
                "admin profiles are configurable and case-insensitive",
                vec![
                    admin("005A", "root@acme.com", "root@acme.com"),
                    with_profile(user("005B", "ops@acme.com", "ops@acme.com"), "Acme Admin"),
                ],
                vec![okta(vec![active("someone@acme.com")])],
            )
        },
    ]
}

#[test]
fn identity_rule_table() {
    for c in cases() {
        let mut o = with_users(c.users);
        o.org.sandbox = c.sandbox;
        let d = run(&o, &c.dirs, &c.policy);
        assert_eq!(
            keys(&d, RuleId::AdminNotInIdp),
            c.admin_not_in_idp,
            "{}: admin-not-in-idp",
            c.name
        );
        assert_eq!(
            keys(&d, RuleId::UserNotInIdp),
            c.user_not_in_idp,
            "{}: user-not-in-idp",
            c.name
        );
        assert_eq!(
            keys(&d, RuleId::StaleActiveUser),
            c.stale,
            "{}: stale-active-user",
            c.name
        );
        for rule in [
            RuleId::AdminNotInIdp,
            RuleId::UserNotInIdp,
            RuleId::StaleActiveUser,
        ] {
            assert!(d.evaluated.contains(&rule), "{}: {rule} evaluated", c.name);
        }
    }
}

#[test]
fn admin_not_in_idp_finding_carries_subject_evidence_and_remediation() {
    let o = with_users(vec![with_fed(
        admin("005A", "root@acme.com", "root@acme.com"),
        "F-1",
    )]);
    let d = run(
        &o,
        &[okta(vec![active("a@acme.com"), active("b@acme.com")])],
        &Policy::default(),
    );
    let f = of(&d, RuleId::AdminNotInIdp)[0];
    assert_eq!(f.severity, Severity::Critical);
    assert_eq!(f.title, "Salesforce admin not in IdP");
    assert_eq!(f.subject.salesforce_id.as_deref(), Some("005A"));
    assert_eq!(f.subject.username.as_deref(), Some("root@acme.com"));
    assert_eq!(f.subject.profile.as_deref(), Some("System Administrator"));
    assert_eq!(f.evidence["profile"], "System Administrator");
    assert_eq!(f.evidence["federationId"], "F-1");
    assert_eq!(f.evidence["identityProviders"], "okta (okta, 2 accounts)");
    assert!(f.remediation.contains("Setup → Users"), "{}", f.remediation);
    assert_eq!(f.occurred_at, None);
}

#[test]
fn stale_evidence_lists_every_matched_account_with_status() {
    let o = with_users(vec![user("005U", "ann@acme.com", "ann.lee@acme.com")]);
    let dirs = [
        okta(vec![account("ann@acme.com", AccountStatus::Suspended)]),
        entra(vec![account(
            "ann.lee@acme.com",
            AccountStatus::Deprovisioned,
        )]),
    ];
    let d = run(&o, &dirs, &Policy::default());
    let f = of(&d, RuleId::StaleActiveUser)[0];
    assert_eq!(f.severity, Severity::High);
    assert_eq!(f.evidence["matchedAccounts"], "2");
    assert_eq!(
        f.evidence["matchedAccount1"],
        "entra/entraId: ann.lee@acme.com (deprovisioned DEPROVISIONED) via email"
    );
    assert_eq!(
        f.evidence["matchedAccount2"],
        "okta/okta: ann@acme.com (suspended SUSPENDED) via username"
    );
    assert!(
        f.remediation
            .starts_with("Deactivate the user in Setup → Users")
    );
}
