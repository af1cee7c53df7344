//! Permission-set assignments that grant nothing: revoked by a user access policy
//! (`IsRevoked`), or a session-activated set not active now (`IsActive = false`).

mod common;

use common::*;
use idgap_model::Permission;
use idgap_salesforce::sync;
use idgap_sim::salesforce::SimOptions;
use jiff::Timestamp;

fn holders(snap: &idgap_model::OrgSnapshot, p: Permission) -> Vec<String> {
    let mut ids: Vec<String> = snap
        .permissions
        .iter()
        .filter(|g| g.permission == p)
        .map(|g| g.user_id.clone())
        .collect();
    ids.dedup();
    ids
}

/// Regression: every assignment counted, so a revoked or inactive one was reported as a
/// live ModifyAllData grant.
#[tokio::test]
async fn revoked_or_inactive_assignments_grant_nothing() {
    let now = Timestamp::now();
    let (mut org, s) = scenario(now);
    for a in org.assignments.iter_mut() {
        if a.user == s.steward {
            a.revoked = true;
        }
        if a.user == s.ops {
            a.active = false;
        }
    }
    let (steward, ops, admin) = (
        org.user_id(s.steward),
        org.user_id(s.ops),
        org.user_id(s.admin),
    );
    let sim = start(org, SimOptions::default()).await;
    let snap = sync(&http(), &refresh_config(&sim, now))
        .await
        .unwrap()
        .snapshot;
    let mad = holders(&snap, Permission::ModifyAllData);
    assert!(mad.contains(&admin), "{mad:?}");
    assert!(!mad.contains(&steward), "{mad:?}");
    assert!(!mad.contains(&ops), "{mad:?}");
}

/// An org without user access policies has no `IsRevoked` field: the read still works.
#[tokio::test]
async fn without_is_revoked_the_assignments_are_still_read() {
    let now = Timestamp::now();
    let (org, s) = scenario(now);
    let steward = org.user_id(s.steward);
    let opts = SimOptions::default().hide_field("PermissionSetAssignment", "IsRevoked");
    let sim = start(org, opts).await;
    let snap = sync(&http(), &refresh_config(&sim, now))
        .await
        .unwrap()
        .snapshot;
    assert!(holders(&snap, Permission::ModifyAllData).contains(&steward));
}
