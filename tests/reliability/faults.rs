//! The fault matrix, driven through the operator: each fault gives the right condition and
//! Warning Event, keeps the AccessFindings of the last good sync byte for byte (same names
//! and resourceVersions), and the next sync after the fault clears recovers fully. Faults the
//! client's retries absorb end Ready=True with no finding written.

use idgap_sim::faults::{Fault, FaultRule};
use idgap_sim::idp::{Directory, jumpcloud};
use idgap_sim::salesforce::RequestCounts;
use std::time::Duration;

use crate::env::{
    Env, IDP, SF_SECRET, condition, idp_condition, paging, small_directory, small_org,
};

const NAME: &str = "acme";

fn status_burst(status: u16, retry_after: Option<u64>) -> Fault {
    Fault::Status {
        status,
        retry_after,
        body: None,
        headers: Vec::new(),
    }
}

fn served(c: &RequestCounts) -> u64 {
    c.token + c.authorize + c.query + c.tooling + c.metadata + c.other
}

/// An integration synced once, and its findings as they stand.
async fn synced_env(prefix: &str, rotate: bool) -> (Env, Vec<(String, String)>) {
    let env = Env::start_with(prefix, small_org(), small_directory(), paging(rotate), true).await;
    env.create_secrets().await;
    env.create_identity_provider(IDP, &env.jc.base_url()).await;
    env.create_integration(NAME, env.integration_spec(&env.sf.base_url()))
        .await;
    env.wait_ready_reason(NAME, "Succeeded").await;
    let findings = env.finding_versions().await;
    let mut keys = env.finding_keys().await;
    keys.sort();
    let org_id = env.sf.org().lock().org_id();
    assert_eq!(
        keys,
        vec![
            ("session-ip-not-enforced".to_string(), org_id),
            (
                "stale-active-user".to_string(),
                "carol@acme.com".to_string()
            ),
            ("user-not-in-idp".to_string(), "bob@acme.com".to_string()),
        ]
    );
    (env, findings)
}

/// Requests a sync with `token` and checks it succeeded without touching a finding.
async fn expect_clean_sync(env: &Env, token: &str, findings: &[(String, String)]) {
    let writes = env.writes();
    let obj = env.sync_now(NAME, token).await;
    let ready = condition(&obj, "Ready").unwrap();
    assert_eq!(
        (ready.status.as_str(), ready.reason.as_str()),
        ("True", "Succeeded"),
        "{token}: {ready:?}"
    );
    assert!(condition(&obj, "Stalled").is_none(), "{token}");
    assert_eq!(env.finding_versions().await, findings, "{token}: findings");
    assert_eq!(env.writes(), writes, "{token}: no finding written");
    env.register_stored_refresh_token().await;
}

/// Resets the simulator's counters, runs one sync, returns (logged, served) requests.
async fn counted_sync(
    env: &Env,
    token: &str,
    findings: &[(String, String)],
) -> (u64, RequestCounts) {
    env.sf.request_log().clear();
    env.sf.reset_request_counts();
    expect_clean_sync(env, token, findings).await;
    (
        env.sf.request_log().entries().len() as u64,
        env.sf.requests(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transient_faults_are_absorbed_without_finding_churn() {
    let (env, findings) = synced_env("rel-transient", true).await;
    let (base_logged, base) = counted_sync(&env, "baseline", &findings).await;
    assert_eq!(base_logged, served(&base), "a clean sync has no fault");

    // Bursts with Retry-After: each faulted answer is logged but never served.
    for (token, status, n) in [("burst-429", 429, 3), ("burst-503", 503, 2)] {
        env.sf
            .faults()
            .push(FaultRule::new("/services/data", status_burst(status, Some(1))).times(n));
        let (logged, counts) = counted_sync(&env, token, &findings).await;
        assert_eq!(logged - served(&counts), u64::from(n), "{token}");
        assert_eq!(served(&counts), served(&base), "{token}");
    }

    // The access token expires between two pages: one more token call, the page again.
    env.sf
        .faults()
        .push(FaultRule::new("/query/", Fault::ExpireToken));
    let (_, counts) = counted_sync(&env, "expire-mid-paging", &findings).await;
    assert!(counts.token > base.token, "{counts:?} vs {base:?}");
    assert!(
        counts.query + counts.tooling > base.query + base.tooling,
        "{counts:?}"
    );

    // A truncated body once: the page is served twice.
    env.sf
        .faults()
        .push(FaultRule::new("/query/", Fault::TruncateBody));
    let (_, counts) = counted_sync(&env, "truncated-once", &findings).await;
    assert_eq!(
        counts.query + counts.tooling,
        base.query + base.tooling + 1,
        "truncated-once: the page was fetched again"
    );
    // A non-JSON page (a proxy's error page) and a response slower than the request
    // timeout, once each: the faulted attempt never reaches the simulator's handler.
    for (token, fault) in [
        ("not-json-once", Fault::NotJson),
        ("slow-once", Fault::Delay(Duration::from_secs(2))),
    ] {
        env.sf.faults().push(FaultRule::new("/query/", fault));
        let (logged, counts) = counted_sync(&env, token, &findings).await;
        assert_eq!(logged - served(&counts), 1, "{token}");
        assert_eq!(served(&counts), served(&base), "{token}");
    }
    env.finish().await;
}

/// A persistent fault: Ready=False with `reason`, a Warning Event, the findings untouched;
/// then the fault clears and the next sync succeeds with the same findings.
async fn expect_fault_then_recovery(
    env: &Env,
    case: &str,
    reason: &str,
    in_message: &str,
    findings: &[(String, String)],
    inject: impl FnOnce(&Env),
    clear: impl AsyncFnOnce(&Env),
) {
    let writes = env.writes();
    let (warnings, _) = env.warnings(reason).await;
    inject(env);
    let obj = env.sync_now(NAME, &format!("{case}-fault")).await;
    let ready = condition(&obj, "Ready").unwrap();
    assert_eq!(
        (ready.status.as_str(), ready.reason.as_str()),
        ("False", reason),
        "{case}: {ready:?}"
    );
    assert!(
        ready.message.contains(in_message),
        "{case}: {}",
        ready.message
    );
    let synced = condition(&obj, "SalesforceSynced").unwrap();
    assert_eq!(
        (synced.status.as_str(), synced.reason.as_str()),
        ("False", reason),
        "{case}"
    );
    assert!(
        condition(&obj, "Stalled").is_none(),
        "{case}: it may come back"
    );
    // Which concurrent query fails first varies, and a backoff retry may have rewritten
    // the status since; the Event keeps its first note: it names the same fault.
    let notes = env.wait_warning(reason, warnings).await;
    if warnings == 0 {
        assert_eq!(notes.len(), 1, "{case}: {notes:?}");
        assert!(notes[0].contains(in_message), "{case}: {notes:?}");
    }
    assert_eq!(
        env.finding_versions().await,
        findings,
        "{case}: findings kept"
    );
    assert_eq!(env.writes(), writes, "{case}: no finding written");

    env.sf.faults().clear();
    clear(env).await;
    expect_clean_sync(env, &format!("{case}-recovered"), findings).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn persistent_salesforce_faults_keep_findings_and_recover() {
    // With refresh-token rotation: a sync that fails after Salesforce rotated the token must
    // still store the new one, or recovery would need a person to re-authorize.
    let (env, findings) = synced_env("rel-persistent", true).await;
    let many = 10_000;
    let nothing = async |_: &Env| {};

    expect_fault_then_recovery(
        &env,
        "unavailable",
        "SalesforceUnavailable",
        "503",
        &findings,
        |e| {
            e.sf.faults()
                .push(FaultRule::new("/services/data", status_burst(503, Some(1))).times(many))
        },
        nothing,
    )
    .await;
    expect_fault_then_recovery(
        &env,
        "rate-limited",
        "RateLimited",
        "3600",
        &findings,
        |e| {
            e.sf.faults()
                .push(FaultRule::new("/services/data", status_burst(429, Some(3600))).times(many))
        },
        nothing,
    )
    .await;
    expect_fault_then_recovery(
        &env,
        "truncated",
        "ProtocolError",
        "cut off",
        &findings,
        |e| {
            e.sf.faults()
                .push(FaultRule::new("/query", Fault::TruncateBody).times(many))
        },
        nothing,
    )
    .await;
    expect_fault_then_recovery(
        &env,
        "not-json",
        "ProtocolError",
        "HTML page instead of JSON",
        &findings,
        |e| {
            e.sf.faults()
                .push(FaultRule::new("/query", Fault::NotJson).times(many))
        },
        nothing,
    )
    .await;
    expect_fault_then_recovery(
        &env,
        "slow",
        "Unreachable",
        "timed out",
        &findings,
        |e| {
            e.sf.faults()
                .push(FaultRule::new("/query", Fault::Delay(Duration::from_secs(2))).times(many))
        },
        nothing,
    )
    .await;
    let (_, limit) = env.sf.api_usage();
    expect_fault_then_recovery(
        &env,
        "api-limit",
        "ApiBudgetExhausted",
        "of its 100000 daily API calls",
        &findings,
        |e| e.sf.set_api_usage(limit - 10),
        async |e: &Env| e.sf.set_api_usage(0),
    )
    .await;
    // A revoked refresh token (and the cached session gone): AuthenticationFailed until a
    // new token is put into the Secret.
    expect_fault_then_recovery(
        &env,
        "revoked",
        "AuthenticationFailed",
        "invalid_grant",
        &findings,
        |e| {
            e.sf.revoke_refresh_tokens();
            e.sf.expire_access_tokens();
        },
        async |e: &Env| {
            let fresh = e.sf.issue_refresh_token();
            crate::capture::register_secret(&fresh);
            let creds = e.sf.credentials();
            e.put_secret(
                SF_SECRET,
                &[
                    ("client_id", &creds.client_id),
                    ("client_secret", &creds.client_secret),
                    ("refresh_token", &fresh),
                    ("private_key", &creds.private_key_pem),
                ],
            )
            .await;
        },
    )
    .await;
    env.finish().await;
}

/// The integration's next sync after the directory was read again: Ready=True, the IdP rules
/// skipped with `why`, the findings untouched.
async fn expect_idp_rules_skipped(
    env: &Env,
    token: &str,
    why: &str,
    findings: &[(String, String)],
) {
    let writes = env.writes();
    let obj = env.sync_now(NAME, token).await;
    let ready = condition(&obj, "Ready").unwrap();
    assert_eq!(
        (ready.status.as_str(), ready.reason.as_str()),
        ("True", "Succeeded"),
        "{token}"
    );
    let skipped: Vec<(String, String)> = obj
        .status
        .clone()
        .unwrap()
        .skipped_rules
        .into_iter()
        .map(|s| (s.rule, s.reason))
        .collect();
    for rule in ["user-not-in-idp", "stale-active-user"] {
        let reason = skipped
            .iter()
            .find(|(r, _)| r == rule)
            .map(|(_, reason)| reason.as_str())
            .unwrap_or_else(|| panic!("{token}: {rule} skipped, got {skipped:?}"));
        assert!(reason.contains(why), "{token}: {reason}");
    }
    assert_eq!(
        env.finding_versions().await,
        findings,
        "{token}: findings kept"
    );
    assert_eq!(env.writes(), writes, "{token}: no finding written");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shrinking_directory_keeps_findings_and_recovers() {
    let (env, findings) = synced_env("rel-idp", true).await;

    // A fifth of the accounts: the read succeeds, but the shrink guard distrusts it.
    let people = small_directory().people;
    env.jc
        .set_directory(Directory::from_people(people[..1].to_vec()));
    let idp = env.sync_idp_now("fifth").await;
    let ready = idp_condition(&idp, "Ready").unwrap();
    assert_eq!(
        (ready.status.as_str(), ready.reason.as_str()),
        ("True", "Succeeded")
    );
    expect_idp_rules_skipped(
        &env,
        "after-fifth",
        "returned 1 accounts, 80% fewer",
        &findings,
    )
    .await;

    env.jc.set_directory(small_directory());
    env.sync_idp_now("restored-1").await;
    expect_clean_sync(&env, "after-restore-1", &findings).await;

    // No accounts at all: the directory sync fails and the last good snapshot stays.
    env.jc.set_directory(Directory::from_people(Vec::new()));
    let idp = env.sync_idp_now("empty").await;
    let ready = idp_condition(&idp, "Ready").unwrap();
    assert_eq!(
        (ready.status.as_str(), ready.reason.as_str()),
        ("False", "EmptyDirectory")
    );
    assert_eq!(
        env.wait_warning("EmptyDirectory", 0).await,
        std::slice::from_ref(&ready.message)
    );
    let writes = env.writes();
    let obj = env.sync_now(NAME, "after-empty").await;
    let synced = condition(&obj, "IdentityProvidersSynced").unwrap();
    assert_eq!(
        (synced.status.as_str(), synced.reason.as_str()),
        ("False", "IdentityProviderFailed")
    );
    assert_eq!(env.finding_versions().await, findings, "findings kept");
    assert_eq!(env.writes(), writes);

    env.jc.set_directory(small_directory());
    let idp = env.sync_idp_now("restored-2").await;
    assert_eq!(idp_condition(&idp, "Ready").unwrap().status, "True");
    let obj = env.sync_now(NAME, "after-restore-2").await;
    assert_eq!(
        condition(&obj, "IdentityProvidersSynced").unwrap().status,
        "True"
    );
    expect_clean_sync(&env, "after-restore-2b", &findings).await;
    env.finish().await;
}

/// Reads the directory with `token`; returns the IdP's Ready condition and how many user
/// list requests reached the simulator (faulted ones included).
async fn idp_sync_counted(env: &Env, token: &str) -> (crate::env::ReadyView, u64) {
    let before = env.jc.requests().users;
    let idp = env.sync_idp_now(token).await;
    let ready = idp_condition(&idp, "Ready").unwrap();
    (
        (ready.status, ready.reason, ready.message),
        env.jc.requests().users - before,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn directory_faults_keep_findings_and_recover() {
    let (env, findings) = synced_env("rel-idpfault", false).await;
    let (ready, clean) = idp_sync_counted(&env, "idp-clean").await;
    assert_eq!((ready.0.as_str(), ready.1.as_str()), ("True", "Succeeded"));

    // A 503 burst: retried, read in full.
    env.jc
        .faults()
        .push(FaultRule::new("/api/systemusers", jumpcloud::status_fault(503)).times(2));
    let (ready, requests) = idp_sync_counted(&env, "idp-burst").await;
    assert_eq!((ready.0.as_str(), ready.1.as_str()), ("True", "Succeeded"));
    assert_eq!(requests, clean + 2, "two answers were 503");
    expect_clean_sync(&env, "after-idp-burst", &findings).await;

    // Persistent 503s, then answers slower than the timeout: the directory sync fails with
    // a Warning, the integration keeps the IdP rules' findings; then it recovers.
    for (case, fault, in_message) in [
        ("idp-503", jumpcloud::status_fault(503), "503"),
        (
            "idp-slow",
            Fault::Delay(Duration::from_secs(2)),
            "timed out",
        ),
    ] {
        let (warnings, _) = env.warnings("Unreachable").await;
        env.jc
            .faults()
            .push(FaultRule::new("/api/systemusers", fault).times(10_000));
        let (ready, _) = idp_sync_counted(&env, case).await;
        assert_eq!(
            (ready.0.as_str(), ready.1.as_str()),
            ("False", "Unreachable"),
            "{case}: {}",
            ready.2
        );
        assert!(ready.2.contains(in_message), "{case}: {}", ready.2);
        env.wait_warning("Unreachable", warnings).await;
        let writes = env.writes();
        let obj = env.sync_now(NAME, &format!("{case}-integration")).await;
        let synced = condition(&obj, "IdentityProvidersSynced").unwrap();
        assert_eq!(
            (synced.status.as_str(), synced.reason.as_str()),
            ("False", "IdentityProviderFailed"),
            "{case}"
        );
        assert_eq!(
            env.finding_versions().await,
            findings,
            "{case}: findings kept"
        );
        assert_eq!(env.writes(), writes, "{case}: no finding written");

        env.jc.faults().clear();
        let (ready, _) = idp_sync_counted(&env, &format!("{case}-cleared")).await;
        assert_eq!((ready.0.as_str(), ready.1.as_str()), ("True", "Succeeded"));
        let obj = env.sync_now(NAME, &format!("{case}-recovered")).await;
        assert_eq!(
            condition(&obj, "IdentityProvidersSynced").unwrap().status,
            "True"
        );
        expect_clean_sync(&env, &format!("{case}-recovered-again"), &findings).await;
    }
    env.finish().await;
}
