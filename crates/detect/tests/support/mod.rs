//! Small builders for snapshots, so each test states only what matters to it.
#![allow(dead_code)]

use idgap_detect::{Detection, DirectoryInput, Policy, detect};
use idgap_model::{
    AccountStatus, ApiUsage, AuditEvent, CollectorGap, DirectorySnapshot, ExportJob, Finding,
    GrantSource, GrantSourceKind, IdpAccount, OAuthGrant, OrgInfo, OrgSnapshot, Permission,
    PermissionGrant, ProviderKind, RuleId, SessionSettings, SessionSettingsSource, SfUser,
    Timestamp,
};

pub fn ts(s: &str) -> Timestamp {
    s.parse().expect("valid timestamp")
}

/// The fixed "now" of every test.
pub fn now() -> Timestamp {
    ts("2026-11-30T12:00:00Z")
}

/// Seven days before `now`.
pub fn window_start() -> Timestamp {
    ts("2026-11-23T12:00:00Z")
}

/// An org with nothing in it, every collector read, and sessions locked to IP.
pub fn org() -> OrgSnapshot {
    OrgSnapshot {
        org: OrgInfo {
            id: "00D000000000001AAA".into(),
            instance_url: "https://acme.my.salesforce.com".into(),
            sandbox: false,
            api_version: "v62.0".into(),
        },
        users: vec![],
        profiles: vec![],
        permissions: vec![],
        oauth_grants: vec![],
        session_settings: Some(SessionSettings {
            source: SessionSettingsSource::MetadataApi,
            lock_sessions_to_ip: true,
            enforce_ip_ranges_every_request: false,
            profiles_with_login_ip_ranges: vec![],
            raw: vec![],
        }),
        audit_events: vec![],
        audit_since: window_start(),
        audit_watermark: None,
        export_jobs: vec![],
        api_usage: ApiUsage::default(),
        gaps: vec![],
        skipped_records: vec![],
        read_at: now(),
    }
}

pub fn with_users(users: Vec<SfUser>) -> OrgSnapshot {
    OrgSnapshot { users, ..org() }
}

pub fn gap(org: &mut OrgSnapshot, collector: &str) {
    org.gaps.push(CollectorGap {
        collector: collector.into(),
        reason: format!("INSUFFICIENT_ACCESS reading {collector}"),
        missing_permission: None,
    });
}

/// An active internal user with the "Standard User" profile.
pub fn user(id: &str, username: &str, email: &str) -> SfUser {
    SfUser {
        id: id.into(),
        username: username.into(),
        email: email.into(),
        federation_id: None,
        profile_id: Some("00e000000000002".into()),
        profile: Some("Standard User".into()),
        role: None,
        user_type: "Standard".into(),
        is_active: true,
        is_frozen: false,
        last_login: Some(ts("2026-11-29T08:00:00Z")),
        created: Some(ts("2025-01-01T00:00:00Z")),
    }
}

/// An active System Administrator.
pub fn admin(id: &str, username: &str, email: &str) -> SfUser {
    SfUser {
        profile: Some("System Administrator".into()),
        ..user(id, username, email)
    }
}

pub fn with_profile(mut u: SfUser, profile: &str) -> SfUser {
    u.profile = Some(profile.into());
    u
}

pub fn with_type(mut u: SfUser, user_type: &str) -> SfUser {
    u.user_type = user_type.into();
    u
}

pub fn inactive(mut u: SfUser) -> SfUser {
    u.is_active = false;
    u
}

pub fn with_fed(mut u: SfUser, fed: &str) -> SfUser {
    u.federation_id = Some(fed.into());
    u
}

pub fn account(login: &str, status: AccountStatus) -> IdpAccount {
    let raw = match status {
        AccountStatus::Active => "ACTIVE",
        AccountStatus::Suspended => "SUSPENDED",
        AccountStatus::Deprovisioned => "DEPROVISIONED",
        AccountStatus::Locked => "LOCKED_OUT",
        AccountStatus::Pending => "STAGED",
        AccountStatus::Unknown => "accountEnabled=null",
    };
    IdpAccount {
        id: format!("id-{login}"),
        login: login.into(),
        identifiers: vec![login.to_lowercase()],
        other_ids: Vec::new(),
        personal_addresses: Vec::new(),
        status,
        raw_status: raw.into(),
    }
}

pub fn active(login: &str) -> IdpAccount {
    account(login, AccountStatus::Active)
}

pub fn with_id(mut a: IdpAccount, id: &str) -> IdpAccount {
    a.id = id.into();
    a
}

pub fn with_other_ids(mut a: IdpAccount, ids: &[&str]) -> IdpAccount {
    a.other_ids.extend(ids.iter().map(|s| s.to_string()));
    a
}

pub fn with_personal(mut a: IdpAccount, addresses: &[&str]) -> IdpAccount {
    a.personal_addresses
        .extend(addresses.iter().map(|s| s.to_lowercase()));
    a
}

pub fn with_identifiers(mut a: IdpAccount, ids: &[&str]) -> IdpAccount {
    a.identifiers.extend(ids.iter().map(|s| s.to_lowercase()));
    a
}

pub fn directory(
    name: &str,
    provider: ProviderKind,
    accounts: Vec<IdpAccount>,
) -> DirectorySnapshot {
    DirectorySnapshot {
        provider,
        name: name.into(),
        accounts,
        read_at: now(),
        requests: 1,
    }
}

pub fn okta(accounts: Vec<IdpAccount>) -> DirectorySnapshot {
    directory("okta", ProviderKind::Okta, accounts)
}

pub fn entra(accounts: Vec<IdpAccount>) -> DirectorySnapshot {
    directory("entra", ProviderKind::EntraId, accounts)
}

pub fn input(d: &DirectorySnapshot) -> DirectoryInput<'_> {
    DirectoryInput {
        name: &d.name,
        provider: d.provider,
        result: Ok(d),
        last_good_accounts: None,
    }
}

/// Runs detection with every directory trusted.
pub fn run(org: &OrgSnapshot, dirs: &[DirectorySnapshot], policy: &Policy) -> Detection {
    let inputs: Vec<DirectoryInput<'_>> = dirs.iter().map(input).collect();
    detect(org, &inputs, policy, now(), window_start())
}

pub fn grant(
    user_id: &str,
    permission: Permission,
    kind: GrantSourceKind,
    name: &str,
) -> PermissionGrant {
    PermissionGrant {
        user_id: user_id.into(),
        permission,
        source: GrantSource {
            kind,
            name: name.into(),
        },
    }
}

pub fn oauth(app: &str, user_id: &str, use_count: u64) -> OAuthGrant {
    OAuthGrant {
        app_name: app.into(),
        user_id: user_id.into(),
        created: Some(ts("2026-10-01T00:00:00Z")),
        last_used: Some(ts("2026-11-28T00:00:00Z")),
        use_count,
    }
}

pub fn audit(
    id: &str,
    action: &str,
    section: &str,
    display: &str,
    at: &str,
    by: Option<&str>,
) -> AuditEvent {
    AuditEvent {
        id: id.into(),
        action: action.into(),
        section: Some(section.into()),
        display: display.into(),
        created: ts(at),
        created_by_id: by.map(Into::into),
        created_by_username: by.map(|b| format!("{b}@row.example")),
        delegate_user: None,
    }
}

pub fn export_job(id: &str, previous_fire: Option<&str>, by: Option<&str>) -> ExportJob {
    ExportJob {
        id: id.into(),
        name: "Weekly Export".into(),
        job_type: "1".into(),
        state: "WAITING".into(),
        next_fire: Some(ts("2026-12-06T02:00:00Z")),
        previous_fire: previous_fire.map(ts),
        created: Some(ts("2025-06-01T00:00:00Z")),
        created_by_id: by.map(Into::into),
        created_by_username: by.map(|b| format!("{b}@row.example")),
    }
}

/// The findings of one rule.
pub fn of(d: &Detection, rule: RuleId) -> Vec<&Finding> {
    d.findings.iter().filter(|f| f.rule == rule).collect()
}

pub fn keys(d: &Detection, rule: RuleId) -> Vec<String> {
    of(d, rule).into_iter().map(|f| f.key.clone()).collect()
}

pub fn skipped_reason(d: &Detection, rule: RuleId) -> Option<String> {
    d.skipped
        .iter()
        .find(|s| s.rule == rule)
        .map(|s| s.reason.clone())
}
