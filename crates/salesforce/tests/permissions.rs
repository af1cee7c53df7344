//! The integration user's permissions bound what Salesforce shows it, sometimes without an
//! error. Every read a missing permission would cut short is a gap naming the permission,
//! so no rule is evaluated on part of the org.

mod common;

use common::*;
use idgap_model::{CollectorGap, SessionSettingsSource};
use idgap_salesforce::sync;
use idgap_sim::salesforce::{OrgData, SalesforceSim, SimOptions, UserPermissions};
use jiff::Timestamp;

/// The scenario org read by an integration user holding `perms`.
async fn read_with(
    perms: UserPermissions,
    opts: SimOptions,
) -> (idgap_model::OrgSnapshot, SalesforceSim, OrgData, Scenario) {
    let now = Timestamp::now();
    let (mut org, s) = scenario(now);
    // Salesforce would answer a read of OauthToken without Customize Application with this
    // one row and no error.
    org.add_oauth_token("Own App", s.integration, now, None, 1);
    org.integration_permissions = perms;
    let sim = start(org.clone(), opts).await;
    let snap = sync(&http(), &refresh_config(&sim, days_ago(now, 7)))
        .await
        .expect("missing permissions never fail the sync")
        .snapshot;
    (snap, sim, org, s)
}

fn gap<'a>(gaps: &'a [CollectorGap], collector: &str) -> Option<&'a CollectorGap> {
    gaps.iter().find(|g| g.collector == collector)
}

#[tokio::test]
async fn without_customize_application_oauth_tokens_are_a_gap_not_the_readers_own_rows() {
    let (snap, ..) = read_with(
        UserPermissions {
            customize_application: false,
            ..UserPermissions::READ_ONLY_INTEGRATION
        },
        SimOptions::default(),
    )
    .await;
    let g = gap(&snap.gaps, "oauthGrants").expect("an oauthGrants gap");
    assert_eq!(
        g.missing_permission.as_deref(),
        Some("CustomizeApplication")
    );
    assert!(g.reason.contains("Customize Application"), "{}", g.reason);
    assert!(snap.oauth_grants.is_empty(), "a partial answer is not kept");
    assert_eq!(snap.gaps.len(), 1, "{:?}", snap.gaps);
}

#[tokio::test]
async fn without_manage_users_the_sync_succeeds_and_the_frozen_state_is_unknown() {
    let (snap, sim, org, s) = read_with(
        UserPermissions {
            manage_users: false,
            ..UserPermissions::READ_ONLY_INTEGRATION
        },
        SimOptions::default(),
    )
    .await;
    let g = gap(&snap.gaps, "frozenState").expect("a frozenState gap");
    assert_eq!(g.missing_permission.as_deref(), Some("ManageUsers"));
    assert_eq!(snap.users.len(), 7);
    assert!(!snap.user(&org.user_id(s.frozen)).unwrap().is_frozen);
    assert_eq!(sim.requests().pages_by_object.get("UserLogin"), None);
}

#[tokio::test]
async fn when_the_permissions_cannot_be_read_user_login_refusals_are_still_gaps() {
    let (snap, ..) = read_with(
        UserPermissions {
            manage_users: false,
            ..UserPermissions::READ_ONLY_INTEGRATION
        },
        SimOptions::default().hide_object("UserPermissionAccess"),
    )
    .await;
    let frozen = gap(&snap.gaps, "frozenState").expect("a frozenState gap");
    assert!(frozen.reason.contains("INVALID_TYPE"), "{}", frozen.reason);
    assert_eq!(frozen.missing_permission.as_deref(), Some("ManageUsers"));
    // OauthToken would not say it was cut short, so unknown permissions are a gap.
    let oauth = gap(&snap.gaps, "oauthGrants").expect("an oauthGrants gap");
    assert!(
        oauth.reason.contains("could not be read"),
        "{}",
        oauth.reason
    );
}

#[tokio::test]
async fn without_modify_metadata_profile_names_are_a_gap_and_health_check_answers() {
    let (snap, sim, ..) = read_with(
        UserPermissions {
            modify_metadata: false,
            ..UserPermissions::READ_ONLY_INTEGRATION
        },
        SimOptions::default(),
    )
    .await;
    let g = gap(&snap.gaps, "profileNames").expect("a profileNames gap");
    assert_eq!(g.missing_permission.as_deref(), Some("ModifyMetadata"));
    assert_eq!(sim.requests().metadata, 0, "no call that would be refused");
    assert_eq!(
        snap.session_settings.unwrap().source,
        SessionSettingsSource::HealthCheck
    );
    assert!(snap.profiles.iter().all(|p| p.api_name.is_none()));
}

#[tokio::test]
async fn the_documented_read_only_permission_set_reads_everything() {
    let (snap, ..) = read_with(
        UserPermissions::READ_ONLY_INTEGRATION,
        SimOptions::default(),
    )
    .await;
    assert!(snap.gaps.is_empty(), "{:?}", snap.gaps);
    assert_eq!(snap.oauth_grants.len(), 4);
    let names: Vec<(&str, Option<&str>)> = snap
        .profiles
        .iter()
        .map(|p| (p.label.as_str(), p.api_name.as_deref()))
        .collect();
    assert_eq!(
        names,
        [
            ("System Administrator", Some("Admin")),
            ("Standard User", Some("Standard")),
            ("Customer Community User", Some("Customer Community User")),
        ]
    );
}
