//! Properties over generated orgs: order independence, unique keys, no invented users,
//! and Kubernetes-safe finding names.

mod support;

use std::collections::HashSet;

use idgap_detect::{Detection, DirectoryInput, Exclusion, Policy, detect, finding_name};
use idgap_model::{
    AccountStatus, DirectorySnapshot, Finding, GrantSource, GrantSourceKind, OrgSnapshot,
    Permission, PermissionGrant, ProviderKind, RuleId, SubjectKind,
};
use proptest::prelude::*;
use support::*;

const LOCALS: [&str; 6] = ["ann", "bob", "cy", "dee", "eve", "fay"];
const DOMAINS: [&str; 3] = ["acme.com", "acme.io", "corp.com"];
const PROFILES: [&str; 3] = ["System Administrator", "Standard User", "Chatter Free User"];
const TYPES: [&str; 3] = ["Standard", "Standard", "PowerPartner"];
const STATUSES: [AccountStatus; 4] = [
    AccountStatus::Active,
    AccountStatus::Suspended,
    AccountStatus::Deprovisioned,
    AccountStatus::Locked,
];

fn address(local: usize, domain: usize) -> String {
    format!(
        "{}@{}",
        LOCALS[local % LOCALS.len()],
        DOMAINS[domain % DOMAINS.len()]
    )
}

/// Everything a generated case needs, as plain numbers turned into snapshots below.
#[derive(Debug, Clone)]
struct Spec {
    sandbox: bool,
    users: Vec<(usize, usize, usize, usize, usize, bool, bool)>,
    dirs: Vec<Vec<(usize, usize, usize)>>,
    grants: Vec<(usize, usize)>,
    events: Vec<(usize, Option<usize>, usize)>,
    perms: Vec<(usize, bool, usize)>,
    jobs: Vec<(usize, Option<usize>)>,
    seed: u64,
}

fn spec() -> impl Strategy<Value = Spec> {
    (
        any::<bool>(),
        prop::collection::vec(
            (
                0..6usize,
                0..3usize,
                0..6usize,
                0..3usize,
                0..3usize,
                any::<bool>(),
                any::<bool>(),
            ),
            0..12,
        ),
        prop::collection::vec(
            prop::collection::vec((0..6usize, 0..3usize, 0..4usize), 0..8),
            1..4,
        ),
        prop::collection::vec((0..16usize, 0..3usize), 0..8),
        prop::collection::vec((0..4usize, prop::option::of(0..16usize), 0..10usize), 0..6),
        prop::collection::vec((0..16usize, any::<bool>(), 0..3usize), 0..8),
        prop::collection::vec((0..16usize, prop::option::of(0..10usize)), 0..3),
        any::<u64>(),
    )
        .prop_map(
            |(sandbox, users, dirs, grants, events, perms, jobs, seed)| Spec {
                sandbox,
                users,
                dirs,
                grants,
                events,
                perms,
                jobs,
                seed,
            },
        )
}

fn build(spec: &Spec) -> (OrgSnapshot, Vec<DirectorySnapshot>) {
    let mut o = org();
    o.org.sandbox = spec.sandbox;
    o.users = spec
        .users
        .iter()
        .enumerate()
        .map(|(i, &(ul, ud, el, ed, p, active, suffixed))| {
            let mut username = address(ul, ud);
            let mut email = address(el, ed);
            if suffixed {
                username.push_str(".uat");
                email.push_str(".invalid");
            }
            let mut u = with_profile(user(&format!("005{i}"), &username, &email), PROFILES[p]);
            u.user_type = TYPES[(i + p) % TYPES.len()].into();
            u.is_active = active;
            u
        })
        .collect();
    let providers = [
        ProviderKind::Okta,
        ProviderKind::EntraId,
        ProviderKind::GoogleWorkspace,
    ];
    let dirs = spec
        .dirs
        .iter()
        .enumerate()
        .map(|(d, accounts)| {
            let accounts = accounts
                .iter()
                .map(|&(l, dom, s)| account(&address(l, dom), STATUSES[s]))
                .collect();
            directory(&format!("idp{d}"), providers[d], accounts)
        })
        .collect();
    o.oauth_grants = spec
        .grants
        .iter()
        .map(|&(u, app)| {
            oauth(
                ["Slack", "Workbench", "Dataloader"][app],
                &format!("005{u}"),
                1,
            )
        })
        .collect();
    o.audit_events = spec
        .events
        .iter()
        .enumerate()
        .map(|(i, &(kind, actor, day))| {
            let (action, section) = [
                ("dataExport", "Data Export"),
                ("x", "Export Wizard"),
                ("changedemail", "Manage Users"),
                ("weeklyexport", "Setup"),
            ][kind];
            let at = format!("2026-11-{:02}T10:00:00Z", 20 + day);
            let actor = actor.map(|a| format!("005{a}"));
            let mut ev = audit(
                &format!("0Ya{i}"),
                action,
                section,
                "export requested",
                &at,
                actor.as_deref(),
            );
            if i % 2 == 1 {
                ev.delegate_user = Some("root@acme.com".into());
            }
            ev
        })
        .collect();
    o.permissions = spec
        .perms
        .iter()
        .map(|&(u, mad, kind)| PermissionGrant {
            user_id: format!("005{u}"),
            permission: if mad {
                Permission::ModifyAllData
            } else {
                Permission::ViewAllData
            },
            source: GrantSource {
                kind: [
                    GrantSourceKind::Profile,
                    GrantSourceKind::PermissionSet,
                    GrantSourceKind::PermissionSetGroup,
                ][kind],
                name: format!("source{kind}"),
            },
        })
        .collect();
    o.export_jobs = spec
        .jobs
        .iter()
        .enumerate()
        .map(|(i, &(u, day))| {
            let at = day.map(|d| format!("2026-11-{:02}T02:00:00Z", 20 + d));
            export_job(&format!("08e{i}"), at.as_deref(), Some(&format!("005{u}")))
        })
        .collect();
    if let Some(s) = o.session_settings.as_mut() {
        s.lock_sessions_to_ip = spec.seed.is_multiple_of(2);
    }
    (o, dirs)
}

fn policy() -> Policy {
    Policy {
        domain_aliases: vec![("acme.io".into(), "acme.com".into())],
        exclusions: vec![Exclusion {
            rule: None,
            users: vec!["b*@corp.com".into()],
            reason: "test".into(),
            expires: None,
        }],
        ..Policy::default()
    }
}

/// A deterministic Fisher–Yates shuffle driven by a 64-bit LCG.
fn shuffle<T>(items: &mut [T], state: &mut u64) {
    for i in (1..items.len()).rev() {
        *state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let j = (*state >> 33) as usize % (i + 1);
        items.swap(i, j);
    }
}

fn run_all(o: &OrgSnapshot, dirs: &[DirectorySnapshot]) -> Detection {
    let inputs: Vec<DirectoryInput<'_>> = dirs.iter().map(input).collect();
    detect(o, &inputs, &policy(), now(), window_start())
}

fn all_findings(d: &Detection) -> impl Iterator<Item = &Finding> {
    d.findings
        .iter()
        .chain(d.excluded.iter().map(|x| &x.finding))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn output_does_not_depend_on_input_order(spec in spec()) {
        let (o, dirs) = build(&spec);
        let expected = run_all(&o, &dirs);
        let mut state = spec.seed | 1;
        let mut o2 = o.clone();
        shuffle(&mut o2.users, &mut state);
        shuffle(&mut o2.oauth_grants, &mut state);
        shuffle(&mut o2.audit_events, &mut state);
        shuffle(&mut o2.permissions, &mut state);
        shuffle(&mut o2.export_jobs, &mut state);
        let mut dirs2 = dirs.clone();
        for d in &mut dirs2 {
            shuffle(&mut d.accounts, &mut state);
        }
        shuffle(&mut dirs2, &mut state);
        prop_assert_eq!(run_all(&o2, &dirs2), expected);
    }

    #[test]
    fn finding_keys_are_unique(spec in spec()) {
        let (o, dirs) = build(&spec);
        let d = run_all(&o, &dirs);
        let mut seen = HashSet::new();
        for f in all_findings(&d) {
            prop_assert!(seen.insert(f.key.clone()), "duplicate key {}", f.key);
            prop_assert!(f.key.starts_with(&format!("{}:", f.rule)), "key {} of {}", f.key, f.rule);
        }
    }

    #[test]
    fn findings_never_mention_a_user_the_snapshot_lacks(spec in spec()) {
        let (o, dirs) = build(&spec);
        let d = run_all(&o, &dirs);
        let user_ids: HashSet<&str> = o.users.iter().map(|u| u.id.as_str()).collect();
        let grant_user_ids: HashSet<&str> = o.oauth_grants.iter().map(|g| g.user_id.as_str()).collect();
        let mut known_names: HashSet<&str> = o.users.iter().flat_map(|u| [u.username.as_str(), u.email.as_str()]).collect();
        known_names.extend(o.audit_events.iter().filter_map(|e| e.created_by_username.as_deref()));
        known_names.extend(o.export_jobs.iter().filter_map(|j| j.created_by_username.as_deref()));
        for f in all_findings(&d) {
            let s = &f.subject;
            if let Some(name) = &s.username {
                let is_user_kind = matches!(s.kind, Some(SubjectKind::User | SubjectKind::OAuthGrant));
                let found = o.users.iter().any(|u| {
                    &u.username == name
                        && s.email.as_ref() == Some(&u.email)
                        && (!is_user_kind || s.salesforce_id.as_deref() == Some(u.id.as_str()))
                });
                prop_assert!(found, "{}: subject {:?} is no user of the snapshot", f.key, s);
            } else {
                prop_assert!(s.email.is_none() && s.profile.is_none(), "{}: email or profile without a user", f.key);
            }
            match s.kind {
                Some(SubjectKind::User) => prop_assert!(user_ids.contains(s.salesforce_id.as_deref().unwrap_or(""))),
                Some(SubjectKind::OAuthGrant) => prop_assert!(grant_user_ids.contains(s.salesforce_id.as_deref().unwrap_or(""))),
                _ => {}
            }
            for key in ["username", "email", "actorUsername"] {
                if let Some(v) = f.evidence.get(key) {
                    prop_assert!(known_names.contains(v.as_str()), "{}: evidence {} = {}", f.key, key, v);
                }
            }
            if let Some(v) = f.evidence.get("actorId") {
                let from_rows = o.audit_events.iter().filter_map(|e| e.created_by_id.as_deref())
                    .chain(o.export_jobs.iter().filter_map(|j| j.created_by_id.as_deref()))
                    .any(|id| id == v);
                prop_assert!(from_rows || v == "(none)", "{}: actorId {}", f.key, v);
            }
        }
    }

    #[test]
    fn finding_names_are_dns_1123_subdomains(integration in ".{0,300}", key in ".{0,80}", rule in 0..9usize) {
        let f = Finding {
            key,
            rule: RuleId::ALL[rule],
            severity: idgap_model::Severity::High,
            category: idgap_model::Category::IdentityGap,
            title: String::new(),
            subject: Default::default(),
            evidence: Default::default(),
            remediation: String::new(),
            occurred_at: None,
        };
        let name = finding_name(&integration, &f);
        prop_assert!(name.len() <= 253, "{} chars", name.len());
        prop_assert!(is_dns1123_subdomain(&name), "{:?}", name);
        prop_assert!(name.contains(RuleId::ALL[rule].as_str()));
        prop_assert_eq!(name, finding_name(&integration, &f));
    }
}

fn is_dns1123_subdomain(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            let b = label.as_bytes();
            !b.is_empty()
                && b[0].is_ascii_alphanumeric()
                && b[b.len() - 1].is_ascii_alphanumeric()
                && b.iter()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        })
}

#[test]
fn generated_orgs_exercise_every_rule() {
    // Guards against a generator that never reaches the rules the properties are about.
    let spec = Spec {
        sandbox: true,
        users: vec![
            (0, 0, 0, 0, 0, true, true),
            (1, 2, 1, 2, 1, true, false),
            (2, 0, 2, 0, 1, true, false),
            (3, 2, 3, 2, 1, true, false),
        ],
        dirs: vec![vec![(0, 0, 0), (2, 0, 1)]],
        grants: vec![(1, 0), (9, 1)],
        events: vec![(0, Some(1), 5), (1, Some(9), 5)],
        perms: vec![(0, true, 2), (0, false, 1)],
        jobs: vec![(1, Some(6))],
        seed: 1,
    };
    let (o, dirs) = build(&spec);
    let d = run_all(&o, &dirs);
    let rules: HashSet<RuleId> = all_findings(&d).map(|f| f.rule).collect();
    for rule in RuleId::ALL {
        if rule != RuleId::AdminNotInIdp {
            assert!(
                rules.contains(&rule),
                "{rule} never fired: {:#?}",
                d.findings
            );
        }
    }
}
