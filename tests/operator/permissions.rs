//! A permission taken from the integration user: the reads it cuts short become gaps, the
//! rules they feed are skipped with a reason naming the permission, their findings stay,
//! and the status says what to grant. Restoring it re-evaluates.

use idgap_sim::salesforce::UserPermissions;

use super::env::{Env, condition};

const NAME: &str = "acme-perms";
const RULE: &str = "connected-app-unknown-user";

async fn grant_findings(env: &Env) -> Vec<String> {
    env.finding_keys()
        .await
        .into_iter()
        .filter(|(rule, _)| rule == RULE)
        .map(|(_, subject)| subject)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_permission_skips_its_rules_keeps_their_findings_and_is_reported() {
    let env = Env::start("op-perms").await;
    let t: jiff::Timestamp = "2025-06-01T00:00:00Z".parse().unwrap();
    env.sf.org().update(|o| {
        let bob = o.user_by_username("bob@acme.com").unwrap();
        o.add_oauth_token("Dataloader Partner", bob, t, None, 3);
    });
    env.create_secrets().await;
    env.create_identity_provider().await;
    env.create_integration(NAME, env.integration_spec()).await;
    let obj = env.wait_ready_reason(NAME, "Succeeded").await;
    assert_eq!(grant_findings(&env).await.len(), 1);
    let permissions = condition(&obj, "PermissionsComplete").unwrap();
    assert_eq!(permissions.status, "True", "{permissions:?}");

    // Without Customize Application Salesforce would show only the integration user's own
    // tokens (none), with no error: evaluating the rule on that would prune bob's finding.
    env.sf
        .org()
        .update(|o| o.integration_permissions.customize_application = false);
    let token = env.request_sync("integration", NAME, "perms-1").await;
    let obj = env.wait_handled(NAME, &token).await;
    assert_eq!(grant_findings(&env).await.len(), 1, "the finding is kept");
    let status = obj.status.clone().unwrap();
    let skipped = status
        .skipped_rules
        .iter()
        .find(|s| s.rule == RULE)
        .expect("the rule is skipped");
    assert!(
        skipped.reason.contains("Customize Application"),
        "{}",
        skipped.reason
    );
    assert_eq!(status.missing_permissions.len(), 1);
    let missing = &status.missing_permissions[0];
    assert_eq!(missing.permission, "CustomizeApplication");
    assert_eq!(missing.collectors, ["oauthGrants"]);
    assert_eq!(missing.rules, [RULE]);
    let permissions = condition(&obj, "PermissionsComplete").unwrap();
    assert_eq!(
        (permissions.status.as_str(), permissions.reason.as_str()),
        ("False", "MissingPermissions")
    );
    assert!(
        permissions.message.contains("CustomizeApplication"),
        "{}",
        permissions.message
    );
    assert_eq!(condition(&obj, "Ready").unwrap().reason, "Succeeded");

    // Restored, with bob's grant revoked meanwhile: the rule is evaluated again and the
    // finding it no longer supports is pruned.
    env.sf.org().update(|o| {
        o.integration_permissions = UserPermissions::READ_ONLY_INTEGRATION;
        o.oauth_tokens.clear();
    });
    let token = env.request_sync("integration", NAME, "perms-2").await;
    let obj = env.wait_handled(NAME, &token).await;
    assert!(grant_findings(&env).await.is_empty());
    let status = obj.status.clone().unwrap();
    assert!(status.missing_permissions.is_empty());
    assert!(status.skipped_rules.iter().all(|s| s.rule != RULE));
    assert_eq!(
        condition(&obj, "PermissionsComplete").unwrap().status,
        "True"
    );
    env.stop().await;
}
