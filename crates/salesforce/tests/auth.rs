//! Every way to sign in, rotation, the code exchange, and every bad input — each with a
//! clear error that never contains the secret.

mod common;

use common::*;
use idgap_net::{Attempt, Method, NetError, SecretString};
use idgap_salesforce::connect::{Pkce, authorize_url, exchange_code};
use idgap_salesforce::{LoginHost, SalesforceAuth, SyncError, sync};
use idgap_sim::faults::{Fault, FaultRule};
use idgap_sim::salesforce::SimOptions;
use jiff::Timestamp;

fn assert_no_secret(err: &SyncError, secrets: &[&str]) {
    let text = format!("{err} {err:?}");
    for s in secrets {
        assert!(!text.contains(s), "error leaks a secret: {text}");
    }
}

#[tokio::test]
async fn each_server_side_method_syncs() {
    let now = Timestamp::now();
    let (org, _) = scenario(now);
    let sim = start(org, SimOptions::default()).await;
    let creds = sim.credentials();
    for auth in [refresh_auth(&creds), jwt_auth(&creds), cc_auth(&creds)] {
        sim.reset_request_counts();
        let out = sync(&http(), &config(&sim, auth.clone(), now))
            .await
            .unwrap();
        assert_eq!(out.snapshot.users.len(), 7, "{auth:?}");
        assert_eq!(sim.requests().token, 1, "{auth:?}");
        assert!(out.rotated_refresh_token.is_none());
    }
}

#[tokio::test]
async fn jwt_assertion_is_minted_again_when_the_session_expires() {
    let now = Timestamp::now();
    let (org, _) = scenario(now);
    let sim = start(org, SimOptions::default()).await;
    sim.faults()
        .push(FaultRule::new("FROM+User", Fault::ExpireToken));
    let out = sync(&http(), &config(&sim, jwt_auth(&sim.credentials()), now))
        .await
        .unwrap();
    assert_eq!(out.snapshot.users.len(), 7);
    assert_eq!(sim.requests().token, 2);
}

#[tokio::test]
async fn refresh_token_rotation_returns_the_new_token_and_the_old_one_dies() {
    let now = Timestamp::now();
    let (org, _) = scenario(now);
    let sim = start(org, SimOptions::default().rotate_refresh_tokens()).await;
    let creds = sim.credentials();
    let out = sync(&http(), &refresh_config(&sim, now)).await.unwrap();
    let rotated = out
        .rotated_refresh_token
        .expect("rotation returns a new token");
    assert_ne!(rotated.expose(), creds.refresh_token);

    let err = sync(&http(), &refresh_config(&sim, now)).await.unwrap_err();
    assert_eq!(err.reason(), "AuthenticationFailed");
    assert!(
        err.to_string().contains("idgap connect salesforce"),
        "{err}"
    );
    assert_no_secret(&err, &[&creds.refresh_token, &creds.client_secret]);

    let with_new = SalesforceAuth::RefreshToken {
        client_id: creds.client_id.clone(),
        client_secret: Some(SecretString::new(creds.client_secret.clone())),
        refresh_token: rotated.clone(),
    };
    let again = sync(&http(), &config(&sim, with_new, now)).await.unwrap();
    let next = again.rotated_refresh_token.expect("rotates every time");
    assert_ne!(next.expose(), rotated.expose());
}

#[tokio::test]
async fn a_sync_that_fails_after_rotation_still_hands_over_the_new_token() {
    let now = Timestamp::now();
    let (org, _) = scenario(now);
    let sim = start(org, SimOptions::default().rotate_refresh_tokens()).await;
    let creds = sim.credentials();
    // Sign-in succeeds (and rotates the token); then every User page fails.
    sim.faults().push(
        FaultRule::new(
            "FROM+User",
            Fault::Status {
                status: 503,
                retry_after: None,
                body: None,
                headers: Vec::new(),
            },
        )
        .times(u32::MAX),
    );
    let cfg = refresh_config(&sim, now);
    let err = sync(&http(), &cfg).await.unwrap_err();
    assert_ne!(err.reason(), "AuthenticationFailed", "{err}");
    let rotated = cfg
        .rotation
        .take()
        .expect("the rotated token is handed over even though the sync failed");
    assert_ne!(rotated.expose(), creds.refresh_token);
    assert!(cfg.rotation.take().is_none(), "take empties the slot");

    sim.faults().clear();
    let auth = SalesforceAuth::RefreshToken {
        client_id: creds.client_id,
        client_secret: Some(SecretString::new(creds.client_secret)),
        refresh_token: rotated,
    };
    sync(&http(), &config(&sim, auth, now))
        .await
        .expect("the handed-over token signs in");
}

#[tokio::test]
async fn token_expiry_with_rotation_keeps_the_newest_token() {
    let now = Timestamp::now();
    let (org, _) = scenario(now);
    let sim = start(org, SimOptions::default().rotate_refresh_tokens()).await;
    sim.faults()
        .push(FaultRule::new("FROM+User", Fault::ExpireToken));
    let out = sync(&http(), &refresh_config(&sim, now)).await.unwrap();
    assert_eq!(sim.requests().token, 2);
    let newest = out.rotated_refresh_token.unwrap();
    // The token from the first sign-in was rotated away by the second; only the newest works.
    let creds = sim.credentials();
    let auth = SalesforceAuth::RefreshToken {
        client_id: creds.client_id,
        client_secret: None,
        refresh_token: newest,
    };
    sync(&http(), &config(&sim, auth, now)).await.unwrap();
}

#[tokio::test]
async fn code_exchange_with_pkce() {
    let now = Timestamp::now();
    let (org, _) = scenario(now);
    let sim = start(org, SimOptions::default()).await;
    let creds = sim.credentials();
    let login = LoginHost::MyDomain(sim.base_url());
    let redirect = "http://localhost:1717/callback";
    let pkce = Pkce::generate();
    let http = http();

    let location = follow_authorize(
        &http,
        &authorize_url(
            &login,
            &creds.client_id,
            redirect,
            "api refresh_token id",
            "st-1",
            &pkce.challenge,
        ),
    )
    .await;
    assert!(location.starts_with(redirect), "{location}");
    let params: std::collections::HashMap<String, String> = url::Url::parse(&location)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect();
    assert_eq!(params["state"], "st-1");

    // A wrong verifier is refused with invalid_request, and the code is spent.
    let wrong = Pkce::generate();
    let err = exchange_code(
        &http,
        &login,
        &creds.client_id,
        None,
        &params["code"],
        redirect,
        &wrong.verifier,
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&err, SyncError::Auth { error, .. } if error == "invalid_request"),
        "{err}"
    );
    assert_no_secret(&err, &[wrong.verifier.expose()]);

    let location = follow_authorize(
        &http,
        &authorize_url(
            &login,
            &creds.client_id,
            redirect,
            "api refresh_token id",
            "st-2",
            &pkce.challenge,
        ),
    )
    .await;
    let params: std::collections::HashMap<String, String> = url::Url::parse(&location)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect();
    let secret = SecretString::new(creds.client_secret.clone());
    let grant = exchange_code(
        &http,
        &login,
        &creds.client_id,
        Some(&secret),
        &params["code"],
        redirect,
        &pkce.verifier,
    )
    .await
    .unwrap();
    assert_eq!(grant.instance_url, sim.base_url());
    assert!(grant.id_url.contains("/id/00D"));
    assert!(grant.issued_at.is_some());
    let refresh = grant.refresh_token.expect("refresh_token scope granted");

    // The code was used once; reuse is refused.
    let err = exchange_code(
        &http,
        &login,
        &creds.client_id,
        Some(&secret),
        &params["code"],
        redirect,
        &pkce.verifier,
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&err, SyncError::Auth { error, .. } if error == "invalid_grant"),
        "{err}"
    );

    // The refresh token from `connect` drives a sync.
    let auth = SalesforceAuth::RefreshToken {
        client_id: creds.client_id.clone(),
        client_secret: Some(secret),
        refresh_token: refresh,
    };
    assert_eq!(
        sync(&http, &config(&sim, auth, now))
            .await
            .unwrap()
            .snapshot
            .users
            .len(),
        7
    );
}

async fn follow_authorize(http: &idgap_net::Http, url: &str) -> String {
    http.request::<String, NetError>(
        "authorize",
        Method::GET,
        url,
        |rb| rb,
        |resp| {
            assert_eq!(resp.status.as_u16(), 302);
            Attempt::Done(resp.header("location").unwrap().to_string())
        },
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn denied_authorization_redirects_with_access_denied() {
    let (org, _) = scenario(Timestamp::now());
    let sim = start(org, SimOptions::default().deny_authorization()).await;
    let creds = sim.credentials();
    let url = authorize_url(
        &LoginHost::MyDomain(sim.base_url()),
        &creds.client_id,
        "http://localhost:1717/cb",
        "api",
        "s",
        "c",
    );
    let location = follow_authorize(&http(), &url).await;
    assert!(
        location.contains("error=access_denied") && location.contains("state=s"),
        "{location}"
    );
}

#[tokio::test]
async fn wrong_client_id_or_secret() {
    let now = Timestamp::now();
    let (org, _) = scenario(now);
    let sim = start(org, SimOptions::default()).await;
    let creds = sim.credentials();

    let mut auth = refresh_auth(&creds);
    if let SalesforceAuth::RefreshToken { client_id, .. } = &mut auth {
        *client_id = "3MVG9-not-the-app".into();
    }
    let err = sync(&http(), &config(&sim, auth, now)).await.unwrap_err();
    assert!(
        matches!(&err, SyncError::Auth { error, .. } if error == "invalid_client_id"),
        "{err}"
    );
    assert!(err.to_string().contains("client id"), "{err}");
    assert_no_secret(&err, &[&creds.refresh_token, &creds.client_secret]);

    let wrong = "WRONG-secret-value-123";
    let auth = SalesforceAuth::ClientCredentials {
        client_id: creds.client_id.clone(),
        client_secret: SecretString::new(wrong),
    };
    let err = sync(&http(), &config(&sim, auth, now)).await.unwrap_err();
    assert_eq!(err.reason(), "AuthenticationFailed");
    assert!(err.to_string().contains("authentication failure"), "{err}");
    assert_no_secret(&err, &[wrong, &creds.client_secret]);

    let auth = SalesforceAuth::RefreshToken {
        client_id: creds.client_id.clone(),
        client_secret: Some(SecretString::new(wrong)),
        refresh_token: SecretString::new(creds.refresh_token.clone()),
    };
    let err = sync(&http(), &config(&sim, auth, now)).await.unwrap_err();
    assert!(
        matches!(&err, SyncError::Auth { error, .. } if error == "invalid_client"),
        "{err}"
    );
    assert!(err.to_string().contains("client secret"), "{err}");
    assert_no_secret(&err, &[wrong, &creds.refresh_token]);
    // Refused credentials are not retried.
    assert_eq!(sim.requests().token, 3);
}

#[tokio::test]
async fn revoked_refresh_token_says_re_authorize() {
    let now = Timestamp::now();
    let (org, _) = scenario(now);
    let sim = start(org, SimOptions::default()).await;
    let creds = sim.credentials();
    sim.faults().push(FaultRule::new(
        "/services/oauth2/token",
        Fault::RevokeCredential,
    ));
    let err = sync(&http(), &refresh_config(&sim, now)).await.unwrap_err();
    assert!(
        matches!(&err, SyncError::Auth { error, description, .. } if error == "invalid_grant" && description == "expired access/refresh token"),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("re-authorize with `idgap connect salesforce`"),
        "{err}"
    );
    assert!(err.needs_reauthorization());
    assert_no_secret(&err, &[&creds.refresh_token, &creds.client_secret]);
    assert_eq!(sim.requests().token, 1, "invalid_grant is not retried");
}

#[tokio::test]
async fn credential_revoked_mid_sync_fails_with_auth_not_a_partial_snapshot() {
    let now = Timestamp::now();
    let (org, _) = scenario(now);
    let sim = start(org, SimOptions::default()).await;
    sim.faults()
        .push(FaultRule::new("FROM+User", Fault::RevokeCredential));
    let err = sync(&http(), &refresh_config(&sim, now)).await.unwrap_err();
    assert_eq!(err.reason(), "AuthenticationFailed", "{err}");
    assert_eq!(sim.requests().token, 2);
}

#[tokio::test]
async fn malformed_private_key() {
    let now = Timestamp::now();
    let (org, _) = scenario(now);
    let sim = start(org, SimOptions::default()).await;
    let creds = sim.credentials();
    let garbage = "-----BEGIN PRIVATE KEY-----\nTUFMRk9STUVEIEtFWSBNQVRFUklBTA==\n-----END PRIVATE KEY-----\n";
    for pem in [
        garbage,
        "just-a-string-not-pem",
        &creds.private_key_pem[..creds.private_key_pem.len() / 2],
    ] {
        let auth = SalesforceAuth::JwtBearer {
            client_id: creds.client_id.clone(),
            username: creds.jwt_username.clone(),
            private_key_pem: SecretString::new(pem),
        };
        let err = sync(&http(), &config(&sim, auth, now)).await.unwrap_err();
        assert!(matches!(err, SyncError::InvalidKey { .. }), "{err}");
        assert_eq!(err.reason(), "InvalidPrivateKey");
        assert_no_secret(
            &err,
            &[
                "TUFMRk9STUVE",
                "just-a-string",
                &creds.private_key_pem[40..80],
            ],
        );
    }
    assert_eq!(
        sim.requests().token,
        0,
        "nothing is sent with an unusable key"
    );
}

#[tokio::test]
async fn jwt_for_an_unknown_user_is_refused() {
    let now = Timestamp::now();
    let (org, _) = scenario(now);
    let sim = start(org, SimOptions::default()).await;
    let creds = sim.credentials();
    let auth = SalesforceAuth::JwtBearer {
        client_id: creds.client_id.clone(),
        username: "nobody@acme.com".into(),
        private_key_pem: SecretString::new(creds.private_key_pem.clone()),
    };
    let err = sync(&http(), &config(&sim, auth, now)).await.unwrap_err();
    assert!(
        matches!(&err, SyncError::Auth { error, method, .. } if error == "invalid_grant" && *method == "JWT bearer"),
        "{err}"
    );
    assert!(err.to_string().contains("pre-authorized"), "{err}");
}

#[tokio::test]
async fn unreachable_and_not_allowed_hosts() {
    let now = Timestamp::now();
    let (org, _) = scenario(now);
    let sim = start(org, SimOptions::default()).await;
    let creds = sim.credentials();

    // Nothing listens on port 1.
    let cfg = idgap_salesforce::SalesforceConfig::new(
        LoginHost::MyDomain("http://127.0.0.1:1".into()),
        cc_auth(&creds),
        now,
    );
    let err = sync(&http(), &cfg).await.unwrap_err();
    assert_eq!(err.reason(), "Unreachable", "{err}");
    assert!(err.to_string().contains("127.0.0.1:1"), "{err}");
    assert_no_secret(&err, &[&creds.client_secret]);

    let cfg = idgap_salesforce::SalesforceConfig::new(
        LoginHost::MyDomain("http://10.1.2.3:8080".into()),
        cc_auth(&creds),
        now,
    );
    let err = sync(&http(), &cfg).await.unwrap_err();
    assert_eq!(err.reason(), "HostNotAllowed", "{err}");
    assert!(err.to_string().contains("--allow-host"), "{err}");
}

async fn html_server(status: u16) -> (std::net::SocketAddr, tokio::task::JoinHandle<()>) {
    let app = axum::Router::new().fallback(move || async move {
        (
            axum::http::StatusCode::from_u16(status).unwrap(),
            [("content-type", "text/html")],
            "<!DOCTYPE html><html><body><h1>Welcome to nginx!</h1></body></html>",
        )
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    (addr, task)
}

#[tokio::test]
async fn a_non_salesforce_server_is_named_as_such() {
    let now = Timestamp::now();
    for status in [200, 404] {
        let (addr, task) = html_server(status).await;
        let auth = SalesforceAuth::ClientCredentials {
            client_id: "cid".into(),
            client_secret: SecretString::new("the-secret-value"),
        };
        let cfg = idgap_salesforce::SalesforceConfig::new(
            LoginHost::MyDomain(format!("http://{addr}")),
            auth,
            now,
        );
        let err = sync(&http(), &cfg).await.unwrap_err();
        assert_eq!(err.reason(), "NotSalesforce", "{err}");
        assert!(err.to_string().contains("HTML"), "{err}");
        assert_no_secret(&err, &["the-secret-value"]);
        task.abort();
    }
}

/// A token endpoint answering with `token` to a client-credentials sign-in.
async fn sync_against_token_response(token: serde_json::Value) -> SyncError {
    let app = axum::Router::new().route(
        "/services/oauth2/token",
        axum::routing::post(move || async move { axum::Json(token) }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let auth = SalesforceAuth::ClientCredentials {
        client_id: "cid".into(),
        client_secret: SecretString::new("real-secret-abc"),
    };
    let cfg = idgap_salesforce::SalesforceConfig::new(
        LoginHost::MyDomain(format!("http://{addr}")),
        auth,
        Timestamp::now(),
    );
    let err = sync(&http(), &cfg).await.unwrap_err();
    assert!(
        !format!("{cfg:?}").contains("real-secret-abc"),
        "config Debug leaks the secret"
    );
    task.abort();
    err
}

#[tokio::test]
async fn a_token_response_with_a_bad_signature_is_refused() {
    let err = sync_against_token_response(serde_json::json!({
        "access_token": "00Dxx!AQforged",
        "signature": "bm90IHRoZSByaWdodCBzaWduYXR1cmU=",
        "instance_url": "http://127.0.0.1:1",
        "id": "https://login.salesforce.com/id/00Dxx0000001gEF/005xx000001Sv6e",
        "token_type": "Bearer",
        "issued_at": "1708058728442"
    }))
    .await;
    assert!(
        matches!(&err, SyncError::Auth { error, .. } if error == "invalid_signature"),
        "{err}"
    );
    assert_no_secret(&err, &["real-secret-abc", "00Dxx!AQforged"]);
}

/// The flow sent a client secret, so the answer must carry a signature: one without it is
/// refused (fail closed), not accepted unchecked.
#[tokio::test]
async fn a_token_response_without_a_signature_is_refused() {
    let err = sync_against_token_response(serde_json::json!({
        "access_token": "00Dxx!AQforged",
        "instance_url": "http://127.0.0.1:1",
        "id": "https://login.salesforce.com/id/00Dxx0000001gEF/005xx000001Sv6e",
        "token_type": "Bearer",
        "issued_at": "1708058728442"
    }))
    .await;
    assert!(
        matches!(&err, SyncError::Auth { error, .. } if error == "invalid_signature"),
        "{err}"
    );
}
