//! Each way a sync can fail gives the right condition, and existing findings stay.

use serde_json::json;

use super::env::{Env, JC_KEY, JC_SECRET, SF_SECRET, condition};

const NAME: &str = "acme-fail";

fn expected_keys(env: &Env) -> Vec<(String, String)> {
    let mut v = vec![
        (
            "session-ip-not-enforced".to_string(),
            env.sf.org().lock().org_id(),
        ),
        (
            "stale-active-user".to_string(),
            "carol@acme.com".to_string(),
        ),
        ("user-not-in-idp".to_string(), "bob@acme.com".to_string()),
    ];
    v.sort();
    v
}

/// Ready=False with `reason`; Stalled=True with the same reason exactly when `stalled`.
async fn expect_failure(env: &Env, reason: &str, stalled: bool) -> String {
    let obj = env.wait_ready_reason(NAME, reason).await;
    let ready = condition(&obj, "Ready").unwrap();
    assert_eq!(ready.status, "False", "{ready:?}");
    match condition(&obj, "Stalled") {
        Some(s) if stalled => assert_eq!((s.status.as_str(), s.reason.as_str()), ("True", reason)),
        None if !stalled => {}
        other => panic!("{reason}: Stalled should be {stalled}, got {other:?}"),
    }
    assert_eq!(
        env.finding_keys().await,
        expected_keys(env),
        "{reason}: findings are kept"
    );
    ready.message
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_set_conditions_and_keep_findings() {
    let env = Env::start("op-fail").await;
    env.create_secrets().await;
    env.create_identity_provider().await;
    env.create_integration(NAME, env.integration_spec()).await;
    env.wait_ready_reason(NAME, "Succeeded").await;
    assert_eq!(env.finding_keys().await, expected_keys(&env));
    let writes = env.writes();

    // A bad credential: the Secret change alone triggers the sync.
    let bogus = "5Aep861-bogus-refresh-token-do-not-leak";
    let creds = env.sf.credentials();
    env.put_secret(
        SF_SECRET,
        &[
            ("client_id", &creds.client_id),
            ("client_secret", &creds.client_secret),
            ("refresh_token", bogus),
        ],
    )
    .await;
    let message = expect_failure(&env, "AuthenticationFailed", false).await;
    assert!(!message.contains(bogus), "{message}");
    let obj = env.integrations().get(NAME).await.unwrap();
    assert_eq!(condition(&obj, "CredentialsValid").unwrap().status, "False");
    let warnings = env.event_notes("AuthenticationFailed").await;
    assert!(!warnings.is_empty());
    assert!(warnings.iter().all(|n| !n.contains(bogus)));

    // A fresh token fixes it (again through the Secret watch).
    let fresh = env.sf.issue_refresh_token();
    env.put_secret(
        SF_SECRET,
        &[
            ("client_id", &creds.client_id),
            ("client_secret", &creds.client_secret),
            ("refresh_token", &fresh),
        ],
    )
    .await;
    env.wait_ready_reason(NAME, "Succeeded").await;

    // A missing key: Stalled.
    env.merge_patch_integration(
        NAME,
        json!({ "spec": { "auth": { "refreshToken": { "refreshToken": { "name": SF_SECRET, "key": "nope" } } } } }),
    )
    .await;
    let message = expect_failure(&env, "SecretKeyNotFound", true).await;
    assert!(
        message.contains("spec.auth.refreshToken.refreshToken"),
        "{message}"
    );

    // A missing Secret: Stalled; creating it un-stalls without touching the integration.
    env.merge_patch_integration(
        NAME,
        json!({ "spec": { "auth": { "refreshToken": { "refreshToken": { "name": "later", "key": "refresh_token" } } } } }),
    )
    .await;
    let message = expect_failure(&env, "SecretNotFound", true).await;
    assert!(message.contains("later"), "{message}");
    let current = env.secret_value(SF_SECRET, "refresh_token").await;
    env.put_secret("later", &[("refresh_token", &current)])
        .await;
    env.wait_ready_reason(NAME, "Succeeded").await;

    // An unreachable endpoint: Ready=False, not Stalled (it may come back).
    env.merge_patch_integration(
        NAME,
        json!({ "spec": { "loginUrl": "http://127.0.0.1:9" } }),
    )
    .await;
    expect_failure(&env, "Unreachable", false).await;

    // A host outside the allow-list: Stalled, and no request leaves.
    let requests = env.sf.requests();
    let port = env.sf.base_url().rsplit(':').next().unwrap().to_string();
    env.merge_patch_integration(
        NAME,
        json!({ "spec": { "loginUrl": format!("http://localhost:{port}") } }),
    )
    .await;
    let message = expect_failure(&env, "HostNotAllowed", true).await;
    assert!(message.contains("localhost"), "{message}");
    assert_eq!(env.sf.requests(), requests);
    // A stalled integration waits for a change; its own status writes do not re-run it.
    let syncs = env.metrics.syncs("SalesforceIntegration");
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    assert_eq!(env.metrics.syncs("SalesforceIntegration"), syncs);

    // No failure wrote or deleted a finding.
    let (c, u, d) = env.writes();
    assert_eq!((u, d), (writes.1, writes.2));
    assert_eq!(c, writes.0);

    // A reference to another namespace's Secret is refused.
    env.merge_patch_integration(
        NAME,
        json!({ "spec": { "loginUrl": env.sf.base_url(), "auth": { "refreshToken": { "refreshToken": { "name": "later", "key": "refresh_token", "namespace": "kube-system" } } } } }),
    )
    .await;
    let message = expect_failure(&env, "CrossNamespaceReference", true).await;
    assert!(message.contains("kube-system"), "{message}");
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waits_for_a_missing_identity_provider() {
    let env = Env::start("op-wait").await;
    env.create_secrets().await;
    env.create_integration(NAME, env.integration_spec()).await;
    // No IdentityProvider object: a bad reference, Stalled.
    let obj = env
        .wait_ready_reason(NAME, "IdentityProviderNotFound")
        .await;
    assert!(condition(&obj, "Stalled").is_some());
    // Creating it: the integration waits for its first snapshot, then syncs.
    env.create_identity_provider().await;
    env.wait_ready_reason(NAME, "Succeeded").await;
    assert_eq!(env.finding_keys().await, expected_keys(&env));
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn directory_credential_change_is_picked_up_and_findings_stay() {
    let env = Env::start("op-idpkey").await;
    env.create_secrets().await;
    env.create_identity_provider().await;
    env.create_integration(NAME, env.integration_spec()).await;
    env.wait_ready_reason(NAME, "Succeeded").await;

    // JumpCloud rejects the new key: the Secret change alone re-reads the directory.
    let wrong = "jc-wrong-key-must-not-leak";
    env.put_secret(JC_SECRET, &[("api_key", wrong)]).await;
    let idp = env.wait_idp_reason("AuthenticationFailed").await;
    let status = idp.status.unwrap();
    let ready = status
        .conditions
        .iter()
        .find(|c| c.type_ == "Ready")
        .unwrap();
    assert_eq!(ready.status, "False");
    assert!(!ready.message.contains(wrong), "{}", ready.message);
    assert!(!status.conditions.iter().any(|c| c.type_ == "Stalled"));

    // The integration's next sync skips the IdP rules and keeps their findings.
    let token = env
        .request_sync("integration", NAME, "after-idp-failure")
        .await;
    let obj = env.wait_handled(NAME, &token).await;
    assert_eq!(
        condition(&obj, "IdentityProvidersSynced").unwrap().status,
        "False"
    );
    assert_eq!(env.finding_keys().await, expected_keys(&env));

    // The right key again.
    env.put_secret(JC_SECRET, &[("api_key", JC_KEY)]).await;
    env.wait_idp_reason("Succeeded").await;
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_token_that_cannot_be_stored_is_reported() {
    let env = Env::start("op-rotfail").await;
    env.create_secrets().await;
    // An immutable Secret refuses the write-back of the token Salesforce rotates to.
    env.secrets()
        .patch(
            SF_SECRET,
            &kube::api::PatchParams::default(),
            &kube::api::Patch::Merge(json!({ "immutable": true })),
        )
        .await
        .unwrap();
    env.create_identity_provider().await;
    env.create_integration(NAME, env.integration_spec()).await;

    let obj = env.wait_ready_reason(NAME, "Succeeded").await;
    let credentials = condition(&obj, "CredentialsValid").unwrap();
    assert_eq!(
        (credentials.status.as_str(), credentials.reason.as_str()),
        ("False", "RefreshTokenNotStored"),
        "{credentials:?}"
    );
    assert!(
        credentials.message.contains(SF_SECRET),
        "{}",
        credentials.message
    );
    let notes = env.event_notes("RefreshTokenNotStored").await;
    assert_eq!(notes.len(), 1, "{notes:?}");
    let creds = env.sf.credentials();
    for text in notes.iter().chain([&credentials.message]) {
        assert!(!text.contains(&creds.refresh_token), "{text}");
        assert!(!text.contains(&creds.client_secret), "{text}");
    }

    // The Secret still holds the token Salesforce retired; the next sync signs in with the
    // one kept in memory (and rotates again), and keeps saying it is not stored.
    let token = env
        .request_sync("integration", NAME, "after-rotation")
        .await;
    let again = env.wait_handled(NAME, &token).await;
    let ready = condition(&again, "Ready").unwrap();
    assert_eq!(ready.reason, "Succeeded", "{ready:?}");
    let credentials = condition(&again, "CredentialsValid").unwrap();
    assert_eq!(
        (credentials.status.as_str(), credentials.reason.as_str()),
        ("False", "RefreshTokenNotStored")
    );
    env.stop().await;
}
