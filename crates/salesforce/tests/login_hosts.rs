//! Sign-in hosts Salesforce accepts: client credentials only on My Domain, and the JWT
//! bearer audience (documented default, My Domain fallback, explicit override).

mod common;

use common::*;
use idgap_salesforce::{LoginHost, Refusal, SalesforceConfig, SyncError, sync};
use idgap_sim::faults::{Fault, FaultRule};
use idgap_sim::salesforce::SimOptions;
use jiff::Timestamp;

/// The simulator's login.salesforce.com and test.salesforce.com refuse client credentials
/// the way the real hosts do, and the error says what to set.
#[tokio::test]
async fn client_credentials_on_login_or_test_say_to_use_my_domain() {
    let now = Timestamp::now();
    let (org, _) = scenario(now);
    let sim = start(org, SimOptions::default()).await;
    for url in [sim.generic_login_url(), sim.generic_sandbox_login_url()] {
        let cfg = SalesforceConfig::new(
            LoginHost::MyDomain(url.clone()),
            cc_auth(&sim.credentials()),
            now,
        );
        let err = sync(&http(), &cfg).await.unwrap_err();
        assert!(
            matches!(&err, SyncError::Auth { refusal: Refusal::NotOnThisDomain, description, .. }
                if description == "request not supported on this domain"),
            "{url}: {err}"
        );
        let text = err.to_string();
        assert!(
            text.contains("loginUrl") && text.contains("my.salesforce.com"),
            "{text}"
        );
    }
    // The My Domain host itself accepts them.
    let out = sync(&http(), &config(&sim, cc_auth(&sim.credentials()), now))
        .await
        .unwrap();
    assert_eq!(out.snapshot.users.len(), 7);
}

/// Configured for login.salesforce.com or test.salesforce.com, client credentials fail
/// before any request, with the same advice.
#[tokio::test]
async fn client_credentials_without_my_domain_fail_before_signing_in() {
    let now = Timestamp::now();
    let (org, _) = scenario(now);
    let sim = start(org, SimOptions::default()).await;
    for login in [LoginHost::Production, LoginHost::Sandbox] {
        let cfg = SalesforceConfig::new(login.clone(), cc_auth(&sim.credentials()), now);
        let err = sync(&http(), &cfg).await.unwrap_err();
        assert!(
            matches!(err, SyncError::UnsupportedLoginHost { .. }),
            "{err}"
        );
        assert_eq!(err.reason(), "LoginHostNotSupported");
        assert!(err.to_string().contains("loginUrl"), "{err}");
    }
}

/// Regression: with a My Domain login URL the assertion's `aud` was the My Domain, which
/// Salesforce does not document (and the simulator, like many orgs, refuses).
#[tokio::test]
async fn jwt_on_my_domain_uses_the_documented_audience() {
    let now = Timestamp::now();
    let (org, _) = scenario(now);
    let sim = start(org, SimOptions::default()).await;
    let out = sync(&http(), &config(&sim, jwt_auth(&sim.credentials()), now))
        .await
        .unwrap();
    assert_eq!(out.snapshot.users.len(), 7);
    assert_eq!(sim.requests().token, 1);
}

/// An org that refuses the documented audience (modelled by a fault answering what
/// Salesforce answers) is signed in with its My Domain audience on the second try.
#[tokio::test]
async fn jwt_falls_back_to_the_my_domain_audience() {
    let now = Timestamp::now();
    let (org, _) = scenario(now);
    let opts = SimOptions {
        accept_my_domain_audience: true,
        ..SimOptions::default()
    };
    let sim = start(org, opts).await;
    sim.faults().push(FaultRule::new(
        "/services/oauth2/token",
        Fault::Status {
            status: 400,
            retry_after: None,
            body: Some(
                r#"{"error":"invalid_grant","error_description":"audience is invalid"}"#.into(),
            ),
            headers: vec![("content-type".into(), "application/json".into())],
        },
    ));
    let out = sync(&http(), &config(&sim, jwt_auth(&sim.credentials()), now))
        .await
        .unwrap();
    assert_eq!(out.snapshot.users.len(), 7);
    // The refused try was answered by the fault; the simulator served the second.
    assert_eq!(sim.requests().token, 1);
}

/// An explicit audience is the only one sent: one the org refuses fails (after one
/// request), one it accepts signs in.
#[tokio::test]
async fn an_explicit_jwt_audience_is_used_as_given() {
    let now = Timestamp::now();
    let (org, _) = scenario(now);
    let sim = start(org, SimOptions::default()).await;
    let mut cfg = config(&sim, jwt_auth(&sim.credentials()), now);
    cfg.jwt_audience = Some("https://acme.my.site.com".into());
    let err = sync(&http(), &cfg).await.unwrap_err();
    assert!(
        matches!(
            &err,
            SyncError::Auth {
                refusal: Refusal::Audience,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(sim.requests().token, 1);
    cfg.jwt_audience = Some("https://test.salesforce.com/".into());
    sync(&http(), &cfg).await.unwrap();
}
