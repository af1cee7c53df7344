//! The full snapshot against a hand-written org: every field, grant sources, gaps.

mod common;

use common::*;
use idgap_model::{GrantSourceKind, Permission, SessionSettingsSource};
use idgap_salesforce::{SyncError, sync};
use idgap_sim::salesforce::{OrgData, SimOptions};
use jiff::{SignedDuration, Timestamp};

#[tokio::test]
async fn full_snapshot_of_a_known_org() {
    let now = Timestamp::now();
    let (org, s) = scenario(now);
    let expected = org.clone();
    let sim = start(org, SimOptions::default()).await;
    let out = sync(&http(), &refresh_config(&sim, days_ago(now, 7)))
        .await
        .unwrap();
    let snap = out.snapshot;
    assert!(out.rotated_refresh_token.is_none());

    assert_eq!(snap.org.id, expected.org_id());
    assert_eq!(snap.org.instance_url, sim.base_url());
    assert!(!snap.org.sandbox);
    assert_eq!(snap.org.api_version, "v62.0");

    assert_eq!(snap.users.len(), 7);
    let admin = snap.user(&expected.user_id(s.admin)).unwrap();
    assert_eq!(admin.username, "admin@acme.com");
    assert_eq!(admin.profile.as_deref(), Some("System Administrator"));
    assert_eq!(
        admin.profile_id,
        Some(expected.profile_id(expected.users[s.admin.0].profile))
    );
    assert_eq!(admin.role.as_deref(), Some("CEO"));
    assert_eq!(admin.federation_id.as_deref(), Some("ADMIN@acme.com"));
    assert_eq!(
        admin.last_login.map(|t| t.as_millisecond()),
        Some(days_ago(now, 1).as_millisecond())
    );
    assert_eq!(
        admin.created.map(|t| t.as_millisecond()),
        Some(days_ago(now, 800).as_millisecond())
    );
    assert!(admin.is_active && !admin.is_frozen);
    let steward = snap.user(&expected.user_id(s.steward)).unwrap();
    assert_eq!(steward.role, None);
    assert_eq!(steward.last_login, None);
    assert!(snap.user(&expected.user_id(s.frozen)).unwrap().is_frozen);
    assert_eq!(snap.users.iter().filter(|u| u.is_frozen).count(), 1);
    assert_eq!(
        snap.user(&expected.user_id(s.portal)).unwrap().user_type,
        "CspLitePortal"
    );
    assert!(!snap.user(&expected.user_id(s.inactive)).unwrap().is_active);
    assert_eq!(
        snap.user(&expected.user_id(s.integration))
            .unwrap()
            .user_type,
        "Standard"
    );

    // Exactly one row per (user, permission, source), with the right source.
    let grants: Vec<(String, Permission, GrantSourceKind, String)> = snap
        .permissions
        .iter()
        .map(|g| {
            let user = snap.user(&g.user_id).unwrap().username.clone();
            (user, g.permission, g.source.kind, g.source.name.clone())
        })
        .collect();
    let want = vec![
        (
            "admin@acme.com",
            Permission::ModifyAllData,
            GrantSourceKind::Profile,
            "System Administrator",
        ),
        (
            "admin@acme.com",
            Permission::ViewAllData,
            GrantSourceKind::Profile,
            "System Administrator",
        ),
        (
            "ops@acme.com",
            Permission::ModifyAllData,
            GrantSourceKind::PermissionSetGroup,
            "Ops Admins",
        ),
        (
            "ops@acme.com",
            Permission::ViewAllData,
            GrantSourceKind::PermissionSetGroup,
            "Ops Admins",
        ),
        (
            "steward@acme.com",
            Permission::ModifyAllData,
            GrantSourceKind::PermissionSet,
            "Data Steward",
        ),
    ];
    let mut got = grants.clone();
    got.sort();
    let mut want: Vec<_> = want
        .into_iter()
        .map(|(u, p, k, n)| (u.to_string(), p, k, n.to_string()))
        .collect();
    want.sort();
    assert_eq!(got, want);

    assert_eq!(snap.oauth_grants.len(), 3);
    let cli = snap
        .oauth_grants
        .iter()
        .find(|g| g.app_name == "Salesforce CLI")
        .unwrap();
    assert_eq!(cli.user_id, expected.user_id(s.admin));
    assert_eq!(cli.use_count, 42);
    assert_eq!(
        cli.last_used.map(|t| t.as_millisecond()),
        Some(days_ago(now, 2).as_millisecond())
    );
    let dl = snap
        .oauth_grants
        .iter()
        .find(|g| g.app_name == "Dataloader Partner")
        .unwrap();
    assert_eq!(dl.last_used, None);

    let ss = snap.session_settings.as_ref().unwrap();
    assert_eq!(ss.source, SessionSettingsSource::MetadataApi);
    assert!(!ss.lock_sessions_to_ip);
    assert!(ss.enforce_ip_ranges_every_request);
    assert_eq!(
        ss.profiles_with_login_ip_ranges,
        vec!["System Administrator".to_string()]
    );

    assert_eq!(snap.audit_events.len(), 4);
    assert!(
        snap.audit_events
            .windows(2)
            .all(|w| w[0].created <= w[1].created)
    );
    let login_as = snap.audit_events.last().unwrap();
    assert_eq!(login_as.action, "suOrgAdminLogin");
    assert_eq!(login_as.delegate_user.as_deref(), Some("admin@acme.com"));
    assert_eq!(
        login_as.created_by_username.as_deref(),
        Some("ops@acme.com")
    );
    assert_eq!(login_as.created_by_id, Some(expected.user_id(s.ops)));
    assert_eq!(login_as.section.as_deref(), Some("Manage Users"));
    assert_eq!(snap.audit_watermark, Some(login_as.created));
    assert_eq!(snap.audit_since, days_ago(now, 7));

    assert_eq!(snap.export_jobs.len(), 1, "the Apex job is not an export");
    let job = &snap.export_jobs[0];
    assert_eq!(
        (job.name.as_str(), job.job_type.as_str(), job.state.as_str()),
        ("Weekly Data Export", "1", "WAITING")
    );
    assert_eq!(job.created_by_username.as_deref(), Some("steward@acme.com"));
    assert_eq!(
        job.previous_fire.map(|t| t.as_millisecond()),
        Some(days_ago(now, 4).as_millisecond())
    );

    assert!(snap.gaps.is_empty(), "{:?}", snap.gaps);
    let (used, limit) = sim.api_usage();
    assert_eq!(snap.api_usage.limit, limit);
    assert!(snap.api_usage.used <= used && snap.api_usage.used > 0);
    let req = sim.requests();
    assert_eq!(req.token, 1);
    assert_eq!(
        snap.api_usage.calls_this_sync,
        req.query + req.tooling + req.metadata
    );
    assert_eq!(
        req.metadata, 3,
        "listMetadata(Profile) + SecuritySettings + one batch of profiles"
    );
}

#[tokio::test]
async fn audit_watermark_reads_only_newer_rows() {
    let now = Timestamp::now();
    let (org, s) = scenario(now);
    let sim = start(org, SimOptions::default()).await;
    let first = sync(&http(), &refresh_config(&sim, days_ago(now, 7)))
        .await
        .unwrap()
        .snapshot;
    assert_eq!(first.audit_events.len(), 4);
    let watermark = first.audit_watermark.unwrap();

    sim.org().update(|o| {
        o.add_audit(
            "createduser",
            "Manage Users",
            "Created user",
            now - SignedDuration::from_mins(30),
            Some(s.admin),
        );
        o.add_audit(
            "deactivateduser",
            "Manage Users",
            "Deactivated",
            now - SignedDuration::from_mins(10),
            Some(s.admin),
        );
    });
    let second = sync(&http(), &refresh_config(&sim, watermark))
        .await
        .unwrap()
        .snapshot;
    let actions: Vec<&str> = second
        .audit_events
        .iter()
        .map(|e| e.action.as_str())
        .collect();
    assert_eq!(actions, vec!["createduser", "deactivateduser"]);
    assert_eq!(second.audit_watermark, Some(second.audit_events[1].created));

    let third = sync(
        &http(),
        &refresh_config(&sim, second.audit_watermark.unwrap()),
    )
    .await
    .unwrap()
    .snapshot;
    assert!(third.audit_events.is_empty());
    assert_eq!(third.audit_watermark, None);
}

#[tokio::test]
async fn metadata_refused_falls_back_to_health_check() {
    let now = Timestamp::now();
    let (org, _) = scenario(now);
    let sim = start(org, SimOptions::default().deny_metadata_api()).await;
    let snap = sync(&http(), &refresh_config(&sim, now))
        .await
        .unwrap()
        .snapshot;
    let ss = snap.session_settings.expect("Health Check answered");
    assert_eq!(ss.source, SessionSettingsSource::HealthCheck);
    assert!(!ss.lock_sessions_to_ip);
    assert!(ss.enforce_ip_ranges_every_request);
    // The profile API names come only from the Metadata API.
    let collectors: Vec<&str> = snap.gaps.iter().map(|g| g.collector.as_str()).collect();
    assert_eq!(collectors, ["profileNames"]);
    assert!(snap.profiles.iter().all(|p| p.api_name.is_none()));
    assert_eq!(
        sim.requests()
            .pages_by_object
            .get("SecurityHealthCheckRisks"),
        Some(&1)
    );
}

#[tokio::test]
async fn both_session_sources_refused_is_a_gap_not_clean() {
    let now = Timestamp::now();
    let (org, _) = scenario(now);
    let opts = SimOptions::default()
        .deny_metadata_api()
        .hide_object("SecurityHealthCheckRisks");
    let sim = start(org, opts).await;
    let snap = sync(&http(), &refresh_config(&sim, now))
        .await
        .unwrap()
        .snapshot;
    assert_eq!(snap.session_settings, None);
    let collectors: Vec<&str> = snap.gaps.iter().map(|g| g.collector.as_str()).collect();
    assert_eq!(collectors, ["profileNames", "sessionSettings"]);
    let gap = &snap.gaps[1];
    assert!(gap.reason.contains("INSUFFICIENT_ACCESS"), "{}", gap.reason);
    assert!(gap.reason.contains("INVALID_TYPE"), "{}", gap.reason);
    assert!(!snap.has("sessionSettings"));
}

#[tokio::test]
async fn health_check_without_the_expected_labels_is_a_gap() {
    let now = Timestamp::now();
    let (mut org, _) = scenario(now);
    org.health_check_risks.clear();
    let sim = start(org, SimOptions::default().deny_metadata_api()).await;
    let snap = sync(&http(), &refresh_config(&sim, now))
        .await
        .unwrap()
        .snapshot;
    assert_eq!(snap.session_settings, None);
    let gap = snap
        .gaps
        .iter()
        .find(|g| g.collector == "sessionSettings")
        .expect("a session settings gap");
    assert!(
        gap.reason.contains("no Health Check row is labelled"),
        "{}",
        gap.reason
    );
}

#[tokio::test]
async fn optional_collectors_without_permission_become_gaps() {
    let now = Timestamp::now();
    let (org, _) = scenario(now);
    let opts = SimOptions::default()
        .hide_object("OauthToken")
        .hide_object("SetupAuditTrail")
        .hide_field("CronTrigger", "PreviousFireTime");
    let sim = start(org, opts).await;
    let snap = sync(&http(), &refresh_config(&sim, days_ago(now, 7)))
        .await
        .unwrap()
        .snapshot;
    let mut gaps: Vec<&str> = snap.gaps.iter().map(|g| g.collector.as_str()).collect();
    gaps.sort();
    assert_eq!(gaps, vec!["auditTrail", "exportJobs", "oauthGrants"]);
    let oauth = snap
        .gaps
        .iter()
        .find(|g| g.collector == "oauthGrants")
        .unwrap();
    assert!(
        oauth.reason.contains("INVALID_TYPE") && oauth.reason.contains("OauthToken"),
        "{}",
        oauth.reason
    );
    let export = snap
        .gaps
        .iter()
        .find(|g| g.collector == "exportJobs")
        .unwrap();
    assert!(
        export.reason.contains("INVALID_FIELD") && export.reason.contains("PreviousFireTime"),
        "{}",
        export.reason
    );
    assert!(
        snap.oauth_grants.is_empty() && snap.audit_events.is_empty() && snap.export_jobs.is_empty()
    );
    assert_eq!(snap.users.len(), 7, "required parts are still complete");
    assert!(snap.session_settings.is_some());
}

#[tokio::test]
async fn required_collectors_failing_fail_the_sync() {
    let now = Timestamp::now();
    for opts in [
        SimOptions::default().hide_object("User"),
        SimOptions::default().hide_object("PermissionSetAssignment"),
        SimOptions::default().hide_field("User", "FederationIdentifier"),
    ] {
        let (org, _) = scenario(now);
        let sim = start(org, opts).await;
        let err = sync(&http(), &refresh_config(&sim, now)).await.unwrap_err();
        assert!(matches!(err, SyncError::Query { .. }), "{err}");
        assert_eq!(err.reason(), "QueryFailed");
    }
}

#[tokio::test]
async fn oauth_token_cap_is_partitioned_so_every_row_is_read() {
    let now = Timestamp::now();
    let mut org = OrgData::new();
    let p = org.add_profile("Standard User");
    let users: Vec<_> = (0..300)
        .map(|i| org.add_user(&format!("u{i}@acme.com"), p, days_ago(now, 400)))
        .collect();
    let base = days_ago(now, 300);
    // 6,000 grants; groups of seven share a second (three share a millisecond) so
    // windows start mid-second and rows tie on CreatedDate.
    for i in 0..6000u64 {
        let created = base
            + SignedDuration::from_secs((i / 7) as i64)
            + SignedDuration::from_millis((i % 3) as i64);
        let user = users[(i * 7919 % 300) as usize];
        org.add_oauth_token(
            ["Slack", "Workbench"][(i % 2) as usize],
            user,
            created,
            None,
            i,
        );
    }
    let mut expected: Vec<(String, String, i64, u64)> = org
        .oauth_tokens
        .iter()
        .map(|t| {
            (
                org.user_id(t.user.expect("every generated token has a user")),
                t.app_name.clone(),
                t.created.as_millisecond(),
                t.use_count,
            )
        })
        .collect();
    expected.sort();
    let sim = start(org, SimOptions::default()).await;
    let snap = sync(&http(), &refresh_config(&sim, now))
        .await
        .unwrap()
        .snapshot;
    let mut got: Vec<(String, String, i64, u64)> = snap
        .oauth_grants
        .iter()
        .map(|g| {
            (
                g.user_id.clone(),
                g.app_name.clone(),
                g.created.unwrap().as_millisecond(),
                g.use_count,
            )
        })
        .collect();
    got.sort();
    assert_eq!(got.len(), 6000);
    assert_eq!(got, expected);
    assert!(snap.gaps.is_empty());
    // 6,000 rows at 500 a page need at least 12 pages, plus the COUNT().
    let pages = sim.requests().pages_by_object["OauthToken"];
    assert!((13..=20).contains(&pages), "{pages} OauthToken pages");
}

/// A last window that is exactly full and brings the count to `COUNT()` ends the read: no
/// query just to prove nothing is left.
#[tokio::test]
async fn oauth_token_windows_stop_when_the_count_is_reached() {
    let now = Timestamp::now();
    let mut org = OrgData::new();
    let p = org.add_profile("Standard User");
    let user = org.add_user("u@acme.com", p, days_ago(now, 400));
    let base = days_ago(now, 300);
    // One grant a second: the second window starts at the first window's last second, reads
    // that row again and 2,499 new ones — exactly the 2,500-row cap, and the last of 4,999.
    for i in 0..4999u64 {
        let created = base + SignedDuration::from_secs(i as i64);
        org.add_oauth_token("Slack", user, created, None, i);
    }
    let sim = start(org, SimOptions::default()).await;
    let snap = sync(&http(), &refresh_config(&sim, now))
        .await
        .unwrap()
        .snapshot;
    assert_eq!(snap.oauth_grants.len(), 4999);
    let mut uses: Vec<u64> = snap.oauth_grants.iter().map(|g| g.use_count).collect();
    uses.sort_unstable();
    assert_eq!(uses, (0..4999).collect::<Vec<_>>());
    // COUNT(), then two windows of five 500-row pages each.
    assert_eq!(sim.requests().pages_by_object["OauthToken"], 11);
}

#[tokio::test]
async fn sandbox_flag_and_generated_org_truth() {
    let spec = idgap_sim::salesforce::GenerateSpec {
        users: 400,
        oauth_grants: 120,
        audit_events: 60,
        sandbox: true,
        ..Default::default()
    };
    let org = OrgData::generate(7, &spec);
    let truth = org.clone();
    let sim = start(org, SimOptions::default()).await;
    let snap = sync(
        &http(),
        &refresh_config(&sim, spec.anchor - SignedDuration::from_hours(24 * 200)),
    )
    .await
    .unwrap()
    .snapshot;
    assert!(snap.org.sandbox);
    assert_eq!(snap.users.len(), 400);
    assert_eq!(snap.oauth_grants.len(), 120);
    assert_eq!(snap.audit_events.len(), 60);
    for (i, u) in truth.users.iter().enumerate() {
        let id = truth.user_id(idgap_sim::salesforce::UserRef(i));
        let got = snap.user(&id).unwrap();
        assert_eq!(got.is_frozen, u.frozen, "{}", u.username);
        let (mad, vad) = truth.effective_permissions(idgap_sim::salesforce::UserRef(i));
        let has = |p: Permission| {
            snap.permissions
                .iter()
                .any(|g| g.user_id == id && g.permission == p)
        };
        assert_eq!(
            (has(Permission::ModifyAllData), has(Permission::ViewAllData)),
            (mad, vad),
            "{}",
            u.username
        );
    }
}

#[tokio::test]
async fn grants_are_the_same_whether_or_not_profiles_show_up_as_assignments() {
    // Whether every user has an assignment row for the profile-owned permission set is
    // UNCONFIRMED; the profile grant must come out once either way.
    let now = Timestamp::now();
    let mut results = Vec::new();
    for profile_rows in [true, false] {
        let (mut org, _) = scenario(now);
        org.profile_owned_assignments = profile_rows;
        let sim = start(org, SimOptions::default()).await;
        let snap = sync(&http(), &refresh_config(&sim, now))
            .await
            .unwrap()
            .snapshot;
        results.push(snap.permissions);
    }
    assert_eq!(results[0], results[1]);
    assert_eq!(results[0].len(), 5);
}
