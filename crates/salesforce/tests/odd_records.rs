//! One odd record never fails a whole read: rows whose nillable field is null are left out
//! and counted.

mod common;

use common::*;
use idgap_model::SkippedRecords;
use idgap_salesforce::sync;
use idgap_sim::salesforce::{OauthToken, SimOptions};
use jiff::Timestamp;

/// Regression: one `OauthToken` row with `"UserId": null` (nillable in the field reference)
/// failed the sync.
#[tokio::test]
async fn an_oauth_token_without_a_user_is_skipped_and_counted() {
    let now = Timestamp::now();
    let (mut org, _) = scenario(now);
    let before = org.oauth_tokens.len();
    org.oauth_tokens.push(OauthToken {
        app_name: "Orphaned App".into(),
        user: None,
        created: days_ago(now, 2),
        last_used: None,
        use_count: 3,
    });
    let sim = start(org, SimOptions::default()).await;
    let out = sync(&http(), &refresh_config(&sim, now)).await.unwrap();
    let snap = out.snapshot;
    assert_eq!(snap.oauth_grants.len(), before);
    assert!(snap.has("oauthGrants"));
    assert_eq!(
        snap.skipped_records,
        vec![SkippedRecords {
            object: "OauthToken".into(),
            field: "UserId".into(),
            count: 1
        }]
    );
}

/// The same for a frozen `UserLogin` row with `"UserId": null`: the other users' frozen
/// state is still read.
#[tokio::test]
async fn a_frozen_login_without_a_user_is_skipped_and_counted() {
    let now = Timestamp::now();
    let (mut org, s) = scenario(now);
    org.frozen_logins_without_user = 2;
    let frozen_id = org.user_id(s.frozen);
    let sim = start(org, SimOptions::default()).await;
    let snap = sync(&http(), &refresh_config(&sim, now))
        .await
        .unwrap()
        .snapshot;
    let frozen: Vec<&str> = snap
        .users
        .iter()
        .filter(|u| u.is_frozen)
        .map(|u| u.id.as_str())
        .collect();
    assert_eq!(frozen, [frozen_id.as_str()]);
    assert_eq!(
        snap.skipped_records,
        vec![SkippedRecords {
            object: "UserLogin".into(),
            field: "UserId".into(),
            count: 2
        }]
    );
}
