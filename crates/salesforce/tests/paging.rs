//! Paging across many pages, session expiry mid-paging, the API budget and limits.

mod common;

use std::collections::HashSet;

use common::*;
use idgap_salesforce::{SyncError, sync};
use idgap_sim::faults::{Fault, FaultRule};
use idgap_sim::salesforce::{GenerateSpec, OrgData, SimOptions};
use jiff::Timestamp;

fn big_org(users: usize) -> OrgData {
    OrgData::generate(
        11,
        &GenerateSpec {
            users,
            oauth_grants: 40,
            audit_events: 10,
            ..Default::default()
        },
    )
}

fn assert_every_user_once(snap: &idgap_model::OrgSnapshot, org: &OrgData) {
    let ids: HashSet<&str> = snap.users.iter().map(|u| u.id.as_str()).collect();
    assert_eq!(ids.len(), snap.users.len(), "duplicate users");
    assert_eq!(snap.users.len(), org.users.len());
    for i in 0..org.users.len() {
        assert!(
            ids.contains(org.user_id(idgap_sim::salesforce::UserRef(i)).as_str()),
            "user {i} missing"
        );
    }
}

#[tokio::test]
async fn five_thousand_users_in_pages_of_two_hundred() {
    let org = big_org(5000);
    let truth = org.clone();
    let sim = start(org, SimOptions::default()).await;
    let mut cfg = refresh_config(&sim, Timestamp::now());
    cfg.batch_size = 200;
    let snap = sync(&http(), &cfg).await.unwrap().snapshot;
    assert_every_user_once(&snap, &truth);
    assert_eq!(sim.requests().pages_by_object["User"], 25);
}

#[tokio::test]
async fn batch_size_below_the_minimum_is_clamped_by_the_server() {
    let org = big_org(1000);
    let sim = start(org, SimOptions::default()).await;
    let mut cfg = refresh_config(&sim, Timestamp::now());
    cfg.batch_size = 50;
    let snap = sync(&http(), &cfg).await.unwrap().snapshot;
    assert_eq!(snap.users.len(), 1000);
    assert_eq!(
        sim.requests().pages_by_object["User"],
        5,
        "200 a page, not 50"
    );
}

#[tokio::test]
async fn session_expiry_mid_paging_resumes_at_the_same_page() {
    let org = big_org(5000);
    let truth = org.clone();
    let sim = start(org, SimOptions::default()).await;
    // Expire the session on the 10th User page (a nextRecordsUrl request).
    sim.faults()
        .push(FaultRule::new("/query/", Fault::ExpireToken).skip(9));
    let mut cfg = refresh_config(&sim, Timestamp::now());
    cfg.batch_size = 200;
    let snap = sync(&http(), &cfg).await.unwrap().snapshot;
    assert_every_user_once(&snap, &truth);
    let req = sim.requests();
    assert_eq!(req.token, 2, "exactly one extra token request");
    assert_eq!(req.pages_by_object["User"], 25, "no page served twice");
}

#[tokio::test]
async fn api_budget_stops_the_sync_early() {
    let now = Timestamp::now();
    let (org, _) = scenario(now);
    let sim = start(org, SimOptions::default().api_usage(799, 1000)).await;
    let err = sync(&http(), &refresh_config(&sim, now)).await.unwrap_err();
    match &err {
        SyncError::ApiBudget {
            used, limit, share, ..
        } => {
            assert!(*used >= 800 && *used <= 802, "{used}");
            assert_eq!(*limit, 1000);
            assert_eq!(*share, 0.8);
        }
        other => panic!("expected ApiBudget, got {other}"),
    }
    assert_eq!(err.reason(), "ApiBudgetExhausted");
    assert!(err.to_string().contains("80%"), "{err}");
    // Stopped after the first round of queries, not at the end.
    assert!(sim.api_usage().0 <= 802, "{:?}", sim.api_usage());
}

#[tokio::test]
async fn a_higher_share_lets_the_same_sync_finish() {
    let now = Timestamp::now();
    let (org, _) = scenario(now);
    let sim = start(org, SimOptions::default().api_usage(799, 1000)).await;
    let mut cfg = refresh_config(&sim, now);
    cfg.max_api_usage_share = 0.95;
    let snap = sync(&http(), &cfg).await.unwrap().snapshot;
    assert_eq!(snap.api_usage.limit, 1000);
    assert!(snap.api_usage.used > 799);
}

#[tokio::test]
async fn daily_limit_exhausted_stops_with_request_limit_exceeded() {
    let now = Timestamp::now();
    let (org, _) = scenario(now);
    let sim = start(org, SimOptions::default().api_usage(5000, 5000)).await;
    let mut cfg = refresh_config(&sim, now);
    cfg.max_api_usage_share = 1.0;
    let err = sync(&http(), &cfg).await.unwrap_err();
    assert!(
        matches!(
            err,
            SyncError::RequestLimitExceeded {
                used: 5000,
                limit: 5000
            }
        ),
        "{err}"
    );
    assert_eq!(err.reason(), "ApiLimitExceeded");
    // At most the two first-round queries reached the server; neither was retried.
    let queries = sim.requests().query;
    assert!((1..=2).contains(&queries), "{queries} queries");
}
