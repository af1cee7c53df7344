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
