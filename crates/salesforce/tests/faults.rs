//! Every injected fault: throttling, server errors, cut-off and non-JSON bodies, slow
//! responses. Recovered within the retry budget, or a clear error — never a partial snapshot.

mod common;

use std::time::Duration;

use common::*;
use idgap_net::NetError;
use idgap_salesforce::{SyncError, sync};
use idgap_sim::faults::{Fault, FaultRule};
use idgap_sim::salesforce::{GenerateSpec, OrgData, SimOptions};
use jiff::Timestamp;

fn status(code: u16, retry_after: Option<u64>, body: Option<&str>) -> Fault {
    Fault::Status {
        status: code,
        retry_after,
        body: body.map(str::to_string),
        headers: Vec::new(),
    }
}

async fn users_org_sim() -> (idgap_sim::salesforce::SalesforceSim, usize) {
    let org = OrgData::generate(
        3,
        &GenerateSpec {
            users: 1000,
            oauth_grants: 10,
            audit_events: 5,
            ..Default::default()
        },
    );
    let n = org.users.len();
    (start(org, SimOptions::default()).await, n)
}

fn small_batches(sim: &idgap_sim::salesforce::SalesforceSim) -> idgap_salesforce::SalesforceConfig {
    let mut cfg = refresh_config(sim, Timestamp::now());
    cfg.batch_size = 200;
    cfg
}

#[tokio::test]
async fn throttling_and_server_errors_are_retried() {
    let (sim, n) = users_org_sim().await;
    sim.faults()
        .push(FaultRule::new("/query/", status(429, Some(1), None)).times(2));
    sim.faults().push(
        FaultRule::new(
            "FROM+Profile",
            status(503, None, Some("Service Unavailable")),
        )
        .times(3),
    );
    sim.faults().push(FaultRule::new(
        "/services/oauth2/token",
        status(500, None, None),
    ));
    let snap = sync(&http(), &small_batches(&sim)).await.unwrap().snapshot;
    assert_eq!(snap.users.len(), n);
    assert_eq!(sim.requests().pages_by_object["User"], 5);
}

#[tokio::test]
async fn concurrency_limit_is_transient_but_the_daily_limit_is_not() {
    let (sim, n) = users_org_sim().await;
    let concurrent = r#"[{"message":"ConcurrentPerOrgLongTxn Limit exceeded.","errorCode":"REQUEST_LIMIT_EXCEEDED"}]"#;
    sim.faults()
        .push(FaultRule::new("FROM+User", status(403, None, Some(concurrent))).times(2));
    let snap = sync(&http(), &small_batches(&sim)).await.unwrap().snapshot;
    assert_eq!(snap.users.len(), n);

    let daily =
        r#"[{"message":"TotalRequests Limit exceeded.","errorCode":"REQUEST_LIMIT_EXCEEDED"}]"#;
    sim.faults()
        .push(FaultRule::new("FROM+User", status(403, None, Some(daily))));
    let err = sync(&http(), &small_batches(&sim)).await.unwrap_err();
    assert_eq!(err.reason(), "ApiLimitExceeded", "{err}");
}

#[tokio::test]
async fn cut_off_and_non_json_pages_are_fetched_again() {
    let (sim, n) = users_org_sim().await;
    sim.faults().push(
        FaultRule::new("/query/", Fault::TruncateBody)
            .skip(1)
            .times(2),
    );
    sim.faults()
        .push(FaultRule::new("FROM+User", Fault::NotJson));
    sim.faults()
        .push(FaultRule::new("/Soap/m/", Fault::TruncateBody));
    let snap = sync(&http(), &small_batches(&sim)).await.unwrap().snapshot;
    assert_eq!(snap.users.len(), n);
    let mut ids: Vec<&str> = snap.users.iter().map(|u| u.id.as_str()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), n, "no page counted twice");
    assert!(snap.session_settings.is_some());
}

#[tokio::test]
async fn a_page_that_stays_cut_off_is_a_protocol_error() {
    let (sim, _) = users_org_sim().await;
    sim.faults().push(
        FaultRule::new("/query/", Fault::TruncateBody)
            .skip(1)
            .times(50),
    );
    let err = sync(&http(), &small_batches(&sim)).await.unwrap_err();
    assert!(matches!(err, SyncError::Protocol { .. }), "{err}");
    assert_eq!(err.reason(), "ProtocolError");
    assert!(
        err.to_string().contains("cut off") && err.to_string().contains("5 attempts"),
        "{err}"
    );
}

#[tokio::test]
async fn html_instead_of_json_every_time_is_a_protocol_error() {
    let (sim, _) = users_org_sim().await;
    sim.faults()
        .push(FaultRule::new("FROM+Organization", Fault::NotJson).times(50));
    let err = sync(&http(), &small_batches(&sim)).await.unwrap_err();
    assert_eq!(err.reason(), "ProtocolError", "{err}");
    assert!(err.to_string().contains("HTML"), "{err}");
}

#[tokio::test]
async fn persistent_server_errors_exhaust_the_retries() {
    let (sim, _) = users_org_sim().await;
    sim.faults()
        .push(FaultRule::new("FROM+User", status(503, None, None)).times(50));
    let err = sync(&http(), &small_batches(&sim)).await.unwrap_err();
    assert!(
        matches!(
            err,
            SyncError::Net(NetError::RetriesExhausted { attempts: 5, .. })
        ),
        "{err}"
    );
    assert_eq!(err.reason(), "SalesforceUnavailable");
}

#[tokio::test]
async fn a_retry_after_longer_than_allowed_fails_clearly() {
    let (sim, _) = users_org_sim().await;
    sim.faults()
        .push(FaultRule::new("FROM+User", status(429, Some(3600), None)));
    let err = sync(&http(), &small_batches(&sim)).await.unwrap_err();
    assert_eq!(err.reason(), "RateLimited", "{err}");
    assert!(err.to_string().contains("try again later"), "{err}");
}

#[tokio::test]
async fn slow_responses_beyond_the_timeout() {
    let (sim, n) = users_org_sim().await;
    // One slow page is retried...
    sim.faults().push(FaultRule::new(
        "/query/",
        Fault::Delay(Duration::from_secs(3)),
    ));
    let snap = sync(
        &http_with_timeout(Duration::from_millis(1500)),
        &small_batches(&sim),
    )
    .await
    .unwrap()
    .snapshot;
    assert_eq!(snap.users.len(), n);
    // ...a page that is always slow is a clear timeout.
    sim.faults()
        .push(FaultRule::new("FROM+User", Fault::Delay(Duration::from_secs(3))).times(50));
    let err = sync(
        &http_with_timeout(Duration::from_millis(300)),
        &small_batches(&sim),
    )
    .await
    .unwrap_err();
    assert_eq!(err.reason(), "Unreachable", "{err}");
    assert!(err.to_string().contains("timed out"), "{err}");
}

/// A page over the body limit (here a small one, so the test stays light) fails the sync at
/// once with `ResponseTooLarge`, not after retries, and no snapshot is made.
#[tokio::test]
async fn an_oversized_page_fails_the_sync_without_retrying() {
    let (sim, _) = users_org_sim().await;
    let huge = format!("{{\"records\":[\"{}\"]}}", "x".repeat(300 * 1024));
    sim.faults()
        .push(FaultRule::new("CreatedDate+FROM+User", status(200, None, Some(&huge))).times(50));
    let http = http().with_body_limit(256 * 1024);
    let err = sync(&http, &small_batches(&sim)).await.unwrap_err();
    assert!(
        matches!(
            err,
            SyncError::Net(NetError::BodyTooLarge {
                limit: 262144,
                declared: Some(_),
                ..
            })
        ),
        "{err}"
    );
    assert_eq!(err.reason(), "ResponseTooLarge");
    assert!(
        err.to_string().starts_with("Salesforce query User: "),
        "{err}"
    );
    let user_queries = sim
        .request_log()
        .entries()
        .iter()
        .filter(|e| e.path_and_query.ends_with("FROM+User"))
        .count();
    assert_eq!(user_queries, 1, "not retried");
}
