//! The happy path end to end: findings appear, change with the org, are not rewritten when
//! unchanged, survive a directory outage, pause with suspend and go with the integration.

use std::collections::BTreeMap;
use std::time::Duration;

use idgap::resources::AccessFinding;
use idgap_sim::idp::Directory;
use kube::ResourceExt;
use kube::api::DeleteParams;
use serde_json::json;

use super::env::{Env, IDP, SF_SECRET, condition, expect_findings, settled};
use crate::support::eventually;

const NAME: &str = "acme-prod";

fn labels(f: &AccessFinding) -> BTreeMap<String, String> {
    f.metadata.labels.clone().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn integration_lifecycle_end_to_end() {
    let env = Env::start("op-life").await;
    env.create_secrets().await;
    env.create_identity_provider().await;
    let created = env.create_integration(NAME, env.integration_spec()).await;
    let first_token = env.sf.credentials().refresh_token;

    // First sync.
    let obj = env.wait_ready_reason(NAME, "Succeeded").await;
    expect_findings(
        &env.finding_keys().await,
        &[
            ("session-ip-not-enforced", &env.sf.org().lock().org_id()),
            ("stale-active-user", "carol@acme.com"),
            ("user-not-in-idp", "bob@acme.com"),
        ],
    );
    let status = obj.status.clone().unwrap();
    let summary = status.summary.clone().unwrap();
    assert_eq!(
        (
            summary.critical,
            summary.high,
            summary.medium,
            summary.low,
            summary.total
        ),
        (0, 2, 1, 0, 3)
    );
    assert_eq!(summary.truncated, 0);
    let inventory = status.inventory.clone().unwrap();
    assert_eq!(
        (inventory.users, inventory.active_users, inventory.admins),
        (4, 4, 1)
    );
    assert_eq!(
        status.org.as_ref().unwrap().id,
        env.sf.org().lock().org_id()
    );
    assert_eq!(status.observed_generation, created.metadata.generation);
    assert!(status.last_successful_sync_time.is_some());
    assert_eq!(status.last_sync_time, status.last_successful_sync_time);
    assert!(status.next_sync_time.is_some());
    assert!(status.api_usage.unwrap().calls_last_sync > 0);
    for (t, s) in [
        ("Ready", "True"),
        ("CredentialsValid", "True"),
        ("SalesforceSynced", "True"),
        ("IdentityProvidersSynced", "True"),
        ("FindingsTruncated", "False"),
    ] {
        let c = condition(&obj, t).unwrap_or_else(|| panic!("condition {t}"));
        assert_eq!(c.status, s, "{t}: {c:?}");
        assert_eq!(c.observed_generation, created.metadata.generation);
    }
    assert!(condition(&obj, "Stalled").is_none());

    // Labels, owner references, one write, spec hash.
    let uid = created.uid().unwrap();
    for f in env.findings().await {
        let l = labels(&f);
        assert_eq!(l["idgap.io/integration"], NAME);
        assert_eq!(l["idgap.io/rule"], f.spec.rule);
        assert_eq!(l["idgap.io/severity"], f.spec.severity);
        let owners = f.metadata.owner_references.clone().unwrap();
        assert_eq!(owners.len(), 1);
        assert_eq!(owners[0].uid, uid);
        assert_eq!(owners[0].kind, "SalesforceIntegration");
        assert_eq!(owners[0].controller, Some(true));
        assert_eq!(owners[0].block_owner_deletion, Some(false));
        // One server-side apply per new finding: a single field manager, no status write
        // (first seen is the creation timestamp).
        let managed = f.metadata.managed_fields.clone().unwrap_or_default();
        assert_eq!(managed.len(), 1, "{}: {managed:?}", f.name_any());
        assert_eq!(
            managed[0].manager.as_deref(),
            Some(idgap::operator::FIELD_MANAGER)
        );
        assert_eq!(managed[0].operation.as_deref(), Some("Apply"));
        assert_eq!(managed[0].subresource, None);
        assert!(f.metadata.creation_timestamp.is_some());
        assert_eq!(f.annotations()["idgap.io/spec-hash"].len(), 16);
        assert!(
            f.name_any()
                .starts_with(&format!("{NAME}-{}-", f.spec.rule)),
            "{}",
            f.name_any()
        );
    }
    assert_eq!(env.writes(), (3, 0, 0));

    // Printer columns, as `kubectl get accessfindings` shows them.
    let table = env.table("accessfindings").await;
    let columns: Vec<&str> = table["columnDefinitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    for col in ["Severity", "Rule", "Subject", "Integration", "Age"] {
        assert!(columns.contains(&col), "{col} in {columns:?}");
    }
    let rows: Vec<Vec<String>> = table["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r["cells"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c.as_str().unwrap_or_default().to_string())
                .collect()
        })
        .collect();
    assert!(
        rows.iter().any(|r| r[1..5]
            == [
                "high".to_string(),
                "user-not-in-idp".into(),
                "bob@acme.com".into(),
                NAME.into()
            ]),
        "{rows:?}"
    );

    // The simulator rotates refresh tokens: the operator stored the new one, and said so.
    let stored = env.secret_value(SF_SECRET, "refresh_token").await;
    assert_ne!(stored, first_token);
    let notes = env.event_notes("RefreshTokenRotated").await;
    assert!(!notes.is_empty());
    assert!(
        notes
            .iter()
            .all(|n| !n.contains(&stored) && !n.contains(&first_token))
    );

    // The org changes: bob leaves, dave becomes an admin outside the IdP.
    env.sf.org().update(|org| {
        let bob = org.user_by_username("bob@acme.com").unwrap();
        org.users[bob.0].is_active = false;
        let admin = idgap_sim::salesforce::ProfileRef(0);
        org.add_user(
            "dave@acme.com",
            admin,
            "2025-07-01T00:00:00Z".parse().unwrap(),
        );
    });
    let token = env.request_sync("integration", NAME, "sync-1").await;
    let obj = env.wait_handled(NAME, &token).await;
    expect_findings(
        &env.finding_keys().await,
        &[
            ("admin-not-in-idp", "dave@acme.com"),
            ("session-ip-not-enforced", &env.sf.org().lock().org_id()),
            ("stale-active-user", "carol@acme.com"),
        ],
    );
    assert_eq!(
        obj.status
            .as_ref()
            .unwrap()
            .last_handled_reconcile_at
            .as_deref(),
        Some("sync-1")
    );
    assert_eq!(
        obj.status
            .as_ref()
            .unwrap()
            .summary
            .as_ref()
            .unwrap()
            .critical,
        1
    );
    assert_eq!(
        obj.status
            .as_ref()
            .unwrap()
            .inventory
            .as_ref()
            .unwrap()
            .admins,
        2
    );
    assert_eq!(env.writes(), (4, 0, 1));
    let changed = env.event_notes("FindingsChanged").await;
    assert!(
        changed
            .iter()
            .any(|n| n.contains("created 3, updated 0, deleted 0")),
        "{changed:?}"
    );

    // An unchanged re-sync writes no AccessFinding.
    let versions = |fs: Vec<AccessFinding>| -> Vec<(String, String)> {
        fs.into_iter()
            .map(|f| (f.name_any(), f.resource_version().unwrap()))
            .collect()
    };
    let before = versions(env.findings().await);
    let syncs = env.metrics.syncs("SalesforceIntegration");
    let token = env.request_sync("integration", NAME, "sync-2").await;
    env.wait_handled(NAME, &token).await;
    assert_eq!(env.metrics.syncs("SalesforceIntegration"), syncs + 1);
    assert_eq!(env.writes(), (4, 0, 1));
    assert_eq!(versions(env.findings().await), before);
    let synced = env.event_notes("Synced").await;
    assert!(
        synced
            .iter()
            .any(|n| n.contains("created 0, updated 0, deleted 0, unchanged 3")),
        "{synced:?}"
    );

    // The directory suddenly returns no accounts: the IdP rules are skipped and their
    // findings stay.
    env.jc.set_directory(Directory::default());
    let idp_token = env.request_sync("idp", IDP, "idp-1").await;
    let idps = env.identity_providers();
    eventually(
        "the IdentityProvider to fail on the empty directory",
        super::env::WAIT,
        || {
            let idps = idps.clone();
            let idp_token = idp_token.clone();
            async move {
                let idp = idps.get(IDP).await.ok()?;
                let s = idp.status?;
                (s.last_handled_reconcile_at.as_deref() == Some(idp_token.as_str())
                    && s.conditions
                        .iter()
                        .any(|c| c.type_ == "Ready" && c.reason == "EmptyDirectory"))
                .then_some(())
            }
        },
    )
    .await;
    let token = env.request_sync("integration", NAME, "sync-3").await;
    let obj = env.wait_handled(NAME, &token).await;
    let idp_cond = condition(&obj, "IdentityProvidersSynced").unwrap();
    assert_eq!(
        (idp_cond.status.as_str(), idp_cond.reason.as_str()),
        ("False", "IdentityProviderFailed")
    );
    assert_eq!(condition(&obj, "Ready").unwrap().status, "True");
    let skipped: Vec<String> = obj
        .status
        .as_ref()
        .unwrap()
        .skipped_rules
        .iter()
        .map(|s| s.rule.clone())
        .collect();
    assert!(
        skipped.contains(&"admin-not-in-idp".to_string()),
        "{skipped:?}"
    );
    expect_findings(
        &env.finding_keys().await,
        &[
            ("admin-not-in-idp", "dave@acme.com"),
            ("session-ip-not-enforced", &env.sf.org().lock().org_id()),
            ("stale-active-user", "carol@acme.com"),
        ],
    );
    assert_eq!(env.writes(), (4, 0, 1));
    env.jc.set_directory(super::env::directory());

    // Suspend: no sync, not even on request.
    let obj = env
        .merge_patch_integration(NAME, json!({ "spec": { "suspend": true } }))
        .await;
    let generation = obj.metadata.generation;
    env.wait_integration(NAME, "Suspended", |o| {
        o.status.as_ref().unwrap().observed_generation == generation
            && condition(o, "Ready").is_some_and(|c| c.reason == "Suspended")
    })
    .await;
    let requests = env.sf.requests();
    let syncs = env.metrics.syncs("SalesforceIntegration");
    env.request_sync("integration", NAME, "sync-4").await;
    // Give the controller the annotation event; nothing may happen.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(env.sf.requests(), requests);
    assert_eq!(env.metrics.syncs("SalesforceIntegration"), syncs);
    let obj = env.integrations().get(NAME).await.unwrap();
    assert_ne!(
        obj.status.unwrap().last_handled_reconcile_at.as_deref(),
        Some("sync-4")
    );

    // Resume: the generation changed, so it syncs (and handles the pending request).
    env.merge_patch_integration(NAME, json!({ "spec": { "suspend": false } }))
        .await;
    let obj = env.wait_handled(NAME, "sync-4").await;
    assert!(settled(&obj));
    assert_eq!(condition(&obj, "Ready").unwrap().reason, "Succeeded");

    // Deleting the integration removes its findings (garbage collection).
    env.integrations()
        .delete(NAME, &DeleteParams::default())
        .await
        .unwrap();
    let api = env.findings_api();
    eventually(
        "garbage collection of the findings",
        Duration::from_secs(90),
        || {
            let api = api.clone();
            async move {
                let left = api.list(&Default::default()).await.ok()?.items.len();
                (left == 0).then_some(())
            }
        },
    )
    .await;
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn caps_findings_and_shares_one_directory_sync() {
    let env = Env::start("op-cap").await;
    env.create_secrets().await;
    env.create_identity_provider().await;
    let mut capped = env.integration_spec();
    capped["findings"] = json!({ "maxFindings": 2 });
    env.create_integration("capped", capped).await;
    env.create_integration("full", env.integration_spec()).await;

    let obj = env.wait_ready_reason("capped", "Succeeded").await;
    env.wait_ready_reason("full", "Succeeded").await;
    let truncated = condition(&obj, "FindingsTruncated").unwrap();
    assert_eq!(
        (truncated.status.as_str(), truncated.reason.as_str()),
        ("True", "MaxFindingsReached")
    );
    let summary = obj.status.unwrap().summary.unwrap();
    assert_eq!(
        (
            summary.total,
            summary.high,
            summary.medium,
            summary.truncated
        ),
        (2, 2, 0, 1)
    );
    let capped_rules: Vec<String> = env
        .findings()
        .await
        .into_iter()
        .filter(|f| f.spec.integration == "capped")
        .map(|f| f.spec.rule)
        .collect();
    assert_eq!(capped_rules.len(), 2);
    assert!(
        capped_rules.iter().all(|r| r != "session-ip-not-enforced"),
        "most severe first: {capped_rules:?}"
    );
    assert_eq!(env.findings().await.len(), 5);

    // Both integrations used one directory read.
    let idp = env
        .identity_providers()
        .get(IDP)
        .await
        .unwrap()
        .status
        .unwrap();
    assert_eq!(idp.requests_last_sync, Some(env.jc.requests().users));
    assert_eq!(
        (idp.accounts, idp.active_accounts, idp.suspended_accounts),
        (Some(5), Some(4), Some(1))
    );
    assert_eq!(idp.provider.as_deref(), Some("jumpCloud"));
    env.stop().await;
}
