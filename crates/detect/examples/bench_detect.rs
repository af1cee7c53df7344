//! Detection speed and memory on a large generated org: 1,000,000 Salesforce users against
//! 1,000,000 IdP accounts in two directories, with a domain alias in play.
//!
//! Run: `cargo run --release -p idgap-detect --example bench_detect`
//! Prints the detection time (generation excluded), peak RSS and the finding counts.

use std::time::Instant;

use idgap_detect::{DirectoryInput, Policy, detect};
use idgap_model::{
    AccountStatus, ApiUsage, AuditEvent, DirectorySnapshot, GrantSource, GrantSourceKind,
    IdpAccount, OAuthGrant, OrgInfo, OrgSnapshot, Permission, PermissionGrant, ProviderKind,
    RuleId, SessionSettings, SessionSettingsSource, SfUser, Timestamp,
};

const USERS: usize = 1_000_000;
const ACCOUNTS: usize = 1_000_000;

fn main() {
    let now: Timestamp = "2026-11-30T12:00:00Z".parse().expect("timestamp");
    let start: Timestamp = "2026-11-23T12:00:00Z".parse().expect("timestamp");
    let org = generate_org(now);
    let (okta, entra) = generate_directories(now);
    let policy = Policy {
        domain_aliases: vec![("acme.io".into(), "acme.com".into())],
        ..Policy::default()
    };
    let inputs = [
        DirectoryInput {
            name: &okta.name,
            provider: okta.provider,
            result: Ok(&okta),
            last_good_accounts: Some(okta.accounts.len()),
        },
        DirectoryInput {
            name: &entra.name,
            provider: entra.provider,
            result: Ok(&entra),
            last_good_accounts: Some(entra.accounts.len()),
        },
    ];
    let rss_before = status_kib("VmRSS");

    let cpu_before = cpu_seconds();
    let started = Instant::now();
    let detection = detect(&org, &inputs, &policy, now, start);
    let elapsed = started.elapsed();
    let cpu = cpu_seconds() - cpu_before;

    println!(
        "users: {}  accounts: {} (okta {}, entra {})",
        org.users.len(),
        okta.accounts.len() + entra.accounts.len(),
        okta.accounts.len(),
        entra.accounts.len()
    );
    println!(
        "detection time: {:.3} s wall, {:.2} s CPU (one thread)",
        elapsed.as_secs_f64(),
        cpu
    );
    println!(
        "RSS before detection: {} MiB; peak RSS (VmHWM): {} MiB",
        rss_before / 1024,
        status_kib("VmHWM") / 1024
    );
    println!(
        "findings: {} (excluded {}, evaluated rules {}, skipped {})",
        detection.findings.len(),
        detection.excluded.len(),
        detection.evaluated.len(),
        detection.skipped.len()
    );
    for rule in RuleId::ALL {
        let n = detection.findings.iter().filter(|f| f.rule == rule).count();
        println!("  {:<28} {n}", rule.as_str());
    }
}

/// Deterministic users: every 10th on the `acme.io` alias domain, every 7th with a
/// federation id, one in a thousand an admin, one in twenty a portal user.
fn generate_org(now: Timestamp) -> OrgSnapshot {
    let users: Vec<SfUser> = (0..USERS)
        .map(|i| {
            let domain = if i % 10 == 3 { "acme.io" } else { "acme.com" };
            let username = format!("user{i}@{domain}");
            SfUser {
                id: format!("005{i:015}"),
                email: if i % 4 == 0 {
                    format!("User{i}@{domain}")
                } else {
                    username.clone()
                },
                username,
                federation_id: (i % 7 == 0).then(|| format!("E{i:07}")),
                profile_id: None,
                profile: Some(
                    if i % 1000 == 1 {
                        "System Administrator"
                    } else {
                        "Standard User"
                    }
                    .to_string(),
                ),
                role: None,
                user_type: if i % 20 == 19 {
                    "PowerPartner"
                } else {
                    "Standard"
                }
                .to_string(),
                is_active: i % 13 != 0,
                is_frozen: false,
                last_login: Some(now),
                created: Some(now),
            }
        })
        .collect();
    let permissions = users
        .iter()
        .filter(|u| u.profile.as_deref() == Some("System Administrator"))
        .flat_map(|u| {
            [Permission::ModifyAllData, Permission::ViewAllData].map(|permission| PermissionGrant {
                user_id: u.id.clone(),
                permission,
                source: GrantSource {
                    kind: GrantSourceKind::Profile,
                    name: "System Administrator".into(),
                },
            })
        })
        .collect();
    let oauth_grants = (0..20_000)
        .map(|k| OAuthGrant {
            app_name: ["Slack", "Workbench", "Dataloader"][k % 3].into(),
            user_id: format!("005{:015}", (k * 48_271) % USERS),
            created: Some(now),
            last_used: Some(now),
            use_count: k as u64,
        })
        .collect();
    let audit_events = (0..5_000)
        .map(|k| AuditEvent {
            id: format!("0Ya{k:015}"),
            action: if k % 50 == 0 {
                "dataExport"
            } else {
                "changedemail"
            }
            .into(),
            section: Some(
                if k % 50 == 0 {
                    "Data Export"
                } else {
                    "Manage Users"
                }
                .into(),
            ),
            display: "event".into(),
            created: now,
            created_by_id: Some(format!("005{:015}", (k * 7_919) % USERS)),
            created_by_username: None,
            delegate_user: None,
        })
        .collect();
    OrgSnapshot {
        org: OrgInfo {
            id: "00D000000000001AAA".into(),
            instance_url: "https://acme.my.salesforce.com".into(),
            sandbox: false,
            api_version: "v62.0".into(),
        },
        users,
        profiles: vec![],
        permissions,
        oauth_grants,
        session_settings: Some(SessionSettings {
            source: SessionSettingsSource::MetadataApi,
            lock_sessions_to_ip: false,
            enforce_ip_ranges_every_request: false,
            profiles_with_login_ip_ranges: vec![],
            raw: vec![],
        }),
        audit_events,
        audit_since: now,
        audit_watermark: None,
        export_jobs: vec![],
        api_usage: ApiUsage::default(),
        gaps: vec![],
        skipped_records: vec![],
        read_at: now,
    }
}

/// Accounts for 95% of the users (always under `acme.com`, so users on `acme.io` match only
/// through the alias), plus unrelated people to reach 1,000,000; two identifiers each.
fn generate_directories(now: Timestamp) -> (DirectorySnapshot, DirectorySnapshot) {
    let mut okta = Vec::with_capacity(ACCOUNTS * 6 / 10);
    let mut entra = Vec::with_capacity(ACCOUNTS * 4 / 10);
    let people = (0..USERS)
        .filter(|i| i % 20 != 5)
        .chain(USERS..)
        .take(ACCOUNTS);
    for (n, i) in people.enumerate() {
        let login = format!("user{i}@acme.com");
        let status = if i % 50 == 0 {
            AccountStatus::Suspended
        } else {
            AccountStatus::Active
        };
        let account = IdpAccount {
            id: format!("00u{i}"),
            identifiers: vec![login.clone(), format!("first.last{i}@acme.com")],
            other_ids: Vec::new(),
            personal_addresses: Vec::new(),
            login,
            status,
            raw_status: if status == AccountStatus::Active {
                "ACTIVE"
            } else {
                "SUSPENDED"
            }
            .into(),
        };
        if n % 10 < 6 {
            okta.push(account);
        } else {
            entra.push(account);
        }
    }
    let dir = |name: &str, provider, accounts| DirectorySnapshot {
        provider,
        name: name.into(),
        accounts,
        read_at: now,
        requests: 0,
    };
    (
        dir("okta", ProviderKind::Okta, okta),
        dir("entra", ProviderKind::EntraId, entra),
    )
}

fn status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// User + system CPU time of this process, from /proc/self/stat (clock ticks of 1/100 s):
/// unlike wall time it is not inflated when other processes share the cores.
fn cpu_seconds() -> f64 {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            // Fields after the parenthesised command name; utime and stime are 14 and 15.
            let rest = s.rsplit_once(')')?.1;
            let fields: Vec<&str> = rest.split_whitespace().collect();
            let utime: f64 = fields.get(11)?.parse().ok()?;
            let stime: f64 = fields.get(12)?.parse().ok()?;
            Some((utime + stime) / 100.0)
        })
        .unwrap_or(0.0)
}
