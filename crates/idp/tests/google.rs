//! Google Workspace sync against the simulated Directory API, over real HTTP.

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;
use std::time::Duration;

use idgap_idp::{GoogleConfig, IdpConfig, IdpError, sync};
use idgap_model::{AccountStatus, DirectorySnapshot};
use idgap_net::{HostPolicy, Http, NetError, RetryPolicy, SecretString};
use idgap_sim::faults::{Fault, FaultRule};
use idgap_sim::idp::google::{GoogleSim, GoogleSimOptions, quota_fault};
use idgap_sim::idp::{Directory, Person, PersonState};
use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};

const ADMIN: &str = "admin@example.com";
const SERVICE_ACCOUNT: &str = "idgap-sync@idgap-test.iam.gserviceaccount.com";
const USERS: &str = "/admin/directory/v1/users";

/// A TEST-ONLY RSA key pair (private PEM, public PEM), generated once per test run.
fn test_key() -> &'static (String, String) {
    static KEY: OnceLock<(String, String)> = OnceLock::new();
    KEY.get_or_init(generate_key)
}

/// Another TEST-ONLY key: right format, but not the service account's.
fn other_key() -> &'static (String, String) {
    static KEY: OnceLock<(String, String)> = OnceLock::new();
    KEY.get_or_init(generate_key)
}

fn generate_key() -> (String, String) {
    let key =
        rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).expect("RSA key generation");
    let private = key.to_pkcs8_pem(LineEnding::LF).unwrap().to_string();
    let public = key
        .to_public_key()
        .to_public_key_pem(LineEnding::LF)
        .unwrap();
    (private, public)
}

fn test_key_pem() -> SecretString {
    SecretString::new(test_key().0.clone())
}

fn sim_options() -> GoogleSimOptions {
    let mut options = GoogleSimOptions::new(ADMIN, SERVICE_ACCOUNT);
    options.public_key_pem = Some(test_key().1.clone());
    options
}

fn http() -> Http {
    let policy = HostPolicy::vendors_only().allow(["127.0.0.1"]).unwrap();
    Http::new(policy, RetryPolicy::quick(), Duration::from_secs(10))
}

fn directory_with_admin(mut directory: Directory) -> Directory {
    let next = directory.people.len() as u64;
    directory.people.push(Person::active(next, ADMIN));
    directory
}

async fn start(directory: Directory, options: GoogleSimOptions) -> (GoogleSim, GoogleConfig) {
    let sim = GoogleSim::start(directory, options).await.unwrap();
    let mut config = GoogleConfig::new(SERVICE_ACCOUNT, test_key_pem(), ADMIN);
    config.token_url = Some(sim.token_url());
    config.api_base_url = Some(sim.base_url());
    (sim, config)
}

async fn run(config: &GoogleConfig) -> Result<DirectorySnapshot, IdpError> {
    sync(
        &http(),
        "google",
        &IdpConfig::GoogleWorkspace(config.clone()),
    )
    .await
}

fn google_id(p: &Person) -> String {
    format!("1{:020}", p.index)
}

/// What the client should report for a person the simulator renders.
fn expected_status(p: &Person) -> AccountStatus {
    match p.state {
        PersonState::Suspended => AccountStatus::Suspended,
        _ => AccountStatus::Active,
    }
}

fn expected_identifiers(p: &Person) -> Vec<String> {
    let (local, domain) = p.primary_email.split_once('@').unwrap();
    let stem = domain.split('.').next().unwrap();
    let mut ids: Vec<String> = std::iter::once(p.primary_email.clone())
        .chain(p.aliases.iter().cloned())
        .chain([format!("{local}@{stem}.test-google-a.com")])
        .map(|s| s.trim().to_lowercase())
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

#[tokio::test]
async fn lists_every_user_across_pages_without_gaps_or_duplicates() {
    let directory = directory_with_admin(Directory::generate(7, 1_234, "example.com"));
    let visible: Vec<&Person> = directory
        .people
        .iter()
        .filter(|p| p.state != PersonState::Deprovisioned)
        .collect();
    let (sim, mut config) = start(directory.clone(), sim_options()).await;
    config.page_size = 100;

    let snapshot = run(&config).await.unwrap();

    assert_eq!(snapshot.accounts.len(), visible.len());
    let by_id: HashMap<&str, _> = snapshot
        .accounts
        .iter()
        .map(|a| (a.id.as_str(), a))
        .collect();
    assert_eq!(by_id.len(), visible.len(), "duplicate ids");
    for p in &visible {
        let account = by_id[google_id(p).as_str()];
        assert_eq!(account.status, expected_status(p), "{}", p.login);
        assert_eq!(account.identifiers, expected_identifiers(p), "{}", p.login);
        assert_eq!(account.login, p.primary_email);
    }
    let pages = visible.len().div_ceil(100) as u64;
    assert_eq!(sim.requests().users, pages);
    assert_eq!(sim.requests().token, 1);
    assert_eq!(snapshot.requests, pages + 1);
    assert!(
        snapshot
            .accounts
            .iter()
            .all(|a| a.status != AccountStatus::Deprovisioned)
    );
}

#[tokio::test]
async fn suspended_archived_and_aliases_are_reported_normalised() {
    let directory = Directory::from_people(vec![
        Person::active(0, ADMIN),
        Person::active(1, "Ada.Lovelace@Example.com").with_alias(" ADA@Example.com "),
        Person::active(2, "bob@example.com").with_state(PersonState::Suspended),
        Person::active(3, "carol@example.com"),
        Person::active(4, "dan@example.com").with_state(PersonState::Deprovisioned),
        Person::active(5, "erin@example.com").with_state(PersonState::Pending),
    ]);
    let mut options = sim_options();
    options.archived_logins.insert("carol@example.com".into());
    let (_sim, config) = start(directory, options).await;

    let snapshot = run(&config).await.unwrap();

    let by_login: HashMap<&str, _> = snapshot
        .accounts
        .iter()
        .map(|a| (a.login.as_str(), a))
        .collect();
    assert_eq!(
        by_login.len(),
        5,
        "the deleted user is hidden: {by_login:?}"
    );
    assert!(!by_login.contains_key("dan@example.com"));
    let ada = by_login["Ada.Lovelace@Example.com"];
    assert_eq!(
        ada.identifiers,
        [
            "ada.lovelace@example.com",
            "ada.lovelace@example.test-google-a.com",
            "ada@example.com"
        ]
    );
    assert_eq!(ada.status, AccountStatus::Active);
    assert_eq!(by_login["bob@example.com"].status, AccountStatus::Suspended);
    assert_eq!(
        by_login["bob@example.com"].raw_status,
        "suspended=true,archived=false"
    );
    assert_eq!(
        by_login["carol@example.com"].status,
        AccountStatus::Suspended
    );
    assert_eq!(
        by_login["carol@example.com"].raw_status,
        "suspended=false,archived=true"
    );
    assert_eq!(by_login["erin@example.com"].status, AccountStatus::Active);
    assert!(
        snapshot.accounts.iter().all(|a| a
            .identifiers
            .iter()
            .all(|i| !i.contains("recovery.example"))),
        "the recovery email is never an identifier"
    );
}

#[tokio::test]
async fn quota_errors_back_off_and_the_sync_completes() {
    let directory = directory_with_admin(Directory::generate(11, 300, "example.com"));
    let visible = directory
        .people
        .iter()
        .filter(|p| p.state != PersonState::Deprovisioned)
        .count();
    let (sim, mut config) = start(directory, sim_options()).await;
    config.page_size = 100;
    sim.faults()
        .push(FaultRule::new(USERS, quota_fault("userRateLimitExceeded")).skip(1));
    // After the first page: a 403 userRateLimitExceeded, a 403 quotaExceeded and a 429.
    sim.faults()
        .push(FaultRule::new(USERS, quota_fault("quotaExceeded")));
    sim.faults()
        .push(FaultRule::new(USERS, quota_fault("rateLimitExceeded")));

    let snapshot = run(&config).await.unwrap();

    assert_eq!(snapshot.accounts.len(), visible);
    assert_eq!(sim.requests().users, visible.div_ceil(100) as u64 + 3);
}

#[tokio::test]
async fn endless_quota_errors_give_up_with_a_clear_error() {
    let directory = directory_with_admin(Directory::generate(11, 20, "example.com"));
    let (sim, config) = start(directory, sim_options()).await;
    sim.faults()
        .push(FaultRule::new(USERS, quota_fault("rateLimitExceeded")).times(50));

    let err = run(&config).await.unwrap_err();

    assert!(
        matches!(
            err,
            IdpError::Net(NetError::RetriesExhausted { attempts: 5, .. })
        ),
        "{err}"
    );
    assert!(err.to_string().contains("rateLimitExceeded"), "{err}");
}

#[tokio::test]
async fn an_access_token_expiring_mid_paging_is_renewed() {
    let directory = directory_with_admin(Directory::generate(3, 450, "example.com"));
    let visible = directory
        .people
        .iter()
        .filter(|p| p.state != PersonState::Deprovisioned)
        .count();
    let (sim, mut config) = start(directory, sim_options()).await;
    config.page_size = 100;
    sim.faults()
        .push(FaultRule::new(USERS, Fault::ExpireToken).skip(2));

    let snapshot = run(&config).await.unwrap();

    assert_eq!(snapshot.accounts.len(), visible);
    let ids: HashSet<_> = snapshot.accounts.iter().map(|a| &a.id).collect();
    assert_eq!(ids.len(), visible);
    assert_eq!(sim.tokens_issued(), 2);
    assert_eq!(sim.requests().token, 2);
}

#[tokio::test]
async fn cut_off_and_non_json_pages_are_fetched_again() {
    let directory = directory_with_admin(Directory::generate(5, 250, "example.com"));
    let visible = directory
        .people
        .iter()
        .filter(|p| p.state != PersonState::Deprovisioned)
        .count();
    let (sim, mut config) = start(directory, sim_options()).await;
    config.page_size = 100;
    sim.faults()
        .push(FaultRule::new(USERS, Fault::TruncateBody).skip(1));
    sim.faults()
        .push(FaultRule::new(USERS, Fault::NotJson).skip(1));

    let snapshot = run(&config).await.unwrap();

    assert_eq!(snapshot.accounts.len(), visible);
    assert_eq!(sim.requests().users, visible.div_ceil(100) as u64 + 2);
}

#[tokio::test]
async fn a_page_that_never_parses_is_a_protocol_error() {
    let directory = directory_with_admin(Directory::generate(5, 20, "example.com"));
    let (sim, config) = start(directory, sim_options()).await;
    sim.faults()
        .push(FaultRule::new(USERS, Fault::NotJson).times(20));

    let err = run(&config).await.unwrap_err();

    assert!(matches!(err, IdpError::Protocol { .. }), "{err}");
    assert!(
        err.to_string().contains("Service temporarily unavailable"),
        "{err}"
    );
}

#[tokio::test]
async fn a_service_account_without_domain_wide_delegation_is_a_permission_error() {
    let mut options = sim_options();
    options.delegated = false;
    let (sim, config) = start(
        directory_with_admin(Directory::generate(1, 5, "example.com")),
        options,
    )
    .await;

    let err = run(&config).await.unwrap_err();

    assert!(matches!(err, IdpError::Permission { .. }), "{err}");
    let text = err.to_string();
    assert!(text.contains("unauthorized_client"), "{text}");
    assert!(text.contains("domain-wide delegation"), "{text}");
    assert!(text.contains("admin.directory.user.readonly"), "{text}");
    assert_eq!(sim.requests().users, 0);
}

#[tokio::test]
async fn a_subject_who_is_not_an_admin_gets_the_403_with_the_delegation_hint() {
    let directory = directory_with_admin(Directory::from_people(vec![Person::active(
        0,
        "eve@example.com",
    )]));
    let (sim, mut config) = start(directory, sim_options()).await;
    config.subject = "eve@example.com".into();

    let err = run(&config).await.unwrap_err();

    assert!(matches!(err, IdpError::Permission { .. }), "{err}");
    let text = err.to_string();
    assert!(
        text.contains("Not Authorized to access this resource/api"),
        "{text}"
    );
    assert!(text.contains("must be a Workspace admin"), "{text}");
    assert_eq!(sim.requests().users, 1, "a permission error is not retried");
}

#[tokio::test]
async fn an_unknown_subject_is_refused_at_the_token_endpoint() {
    let (_sim, mut config) = start(
        directory_with_admin(Directory::generate(1, 5, "example.com")),
        sim_options(),
    )
    .await;
    config.subject = "nobody@elsewhere.example".into();

    let err = run(&config).await.unwrap_err();

    assert!(matches!(err, IdpError::Permission { .. }), "{err}");
    assert!(err.to_string().contains("unauthorized_client"), "{err}");
}

#[tokio::test]
async fn wrong_service_account_credentials_fail_auth_without_leaking_the_key() {
    let (sim, mut config) = start(
        directory_with_admin(Directory::generate(1, 5, "example.com")),
        sim_options(),
    )
    .await;
    config.service_account_email = "someone-else@other.iam.gserviceaccount.com".into();

    let err = run(&config).await.unwrap_err();

    assert!(matches!(err, IdpError::Auth { .. }), "{err}");
    let text = format!("{err} {err:?}");
    assert!(text.contains("invalid_grant"), "{text}");
    let key = test_key_pem();
    let body: String = key
        .expose()
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    for chunk in body.as_bytes().chunks(16) {
        assert!(
            !text.contains(std::str::from_utf8(chunk).unwrap()),
            "key material in: {text}"
        );
    }
    assert!(!text.contains("eyJ"), "a JWT (the assertion) in: {text}");
    assert_eq!(sim.requests().users, 0);
}

#[tokio::test]
async fn an_assertion_signed_with_another_key_is_refused() {
    let (sim, mut config) = start(
        directory_with_admin(Directory::generate(1, 5, "example.com")),
        sim_options(),
    )
    .await;
    config.private_key_pem = SecretString::new(other_key().0.clone());

    let err = run(&config).await.unwrap_err();

    assert!(matches!(err, IdpError::Auth { .. }), "{err}");
    let text = err.to_string();
    assert!(
        text.contains("invalid_grant: Invalid JWT Signature."),
        "{text}"
    );
    assert!(text.contains("key has not been deleted"), "{text}");
    assert!(
        !text.contains(other_key().0.lines().nth(1).unwrap()),
        "{text}"
    );
    assert_eq!(sim.requests().users, 0);
}

#[tokio::test]
async fn a_revoked_key_is_an_auth_error() {
    let (sim, config) = start(
        directory_with_admin(Directory::generate(1, 5, "example.com")),
        sim_options(),
    )
    .await;
    sim.faults()
        .push(FaultRule::new("/token", Fault::RevokeCredential));

    let err = run(&config).await.unwrap_err();

    assert!(matches!(err, IdpError::Auth { .. }), "{err}");
    assert!(err.to_string().contains("Invalid JWT Signature"), "{err}");
}

#[tokio::test]
async fn a_host_that_is_not_google_is_a_protocol_error() {
    use axum::routing::any;
    let (sim, mut config) = start(
        directory_with_admin(Directory::generate(1, 5, "example.com")),
        sim_options(),
    )
    .await;
    let json_app = axum::Router::new().fallback(any(|| async {
        axum::Json(serde_json::json!({"hello": "world"}))
    }));
    let html_app = axum::Router::new().fallback(any(|| async {
        axum::response::Html("<html><body>Welcome to nginx!</body></html>")
    }));
    let json_host = idgap_sim::server::serve(json_app, 0).await.unwrap();
    let html_host = idgap_sim::server::serve(html_app, 0).await.unwrap();

    config.api_base_url = Some(json_host.base_url());
    let err = run(&config).await.unwrap_err();
    assert!(matches!(err, IdpError::Protocol { .. }), "{err}");
    assert!(err.to_string().contains("really the Google API"), "{err}");

    config.api_base_url = Some(html_host.base_url());
    let err = run(&config).await.unwrap_err();
    assert!(matches!(err, IdpError::Protocol { .. }), "{err}");
    assert!(err.to_string().contains("Welcome to nginx"), "{err}");

    config.api_base_url = Some(sim.base_url());
    config.token_url = Some(format!("{}/token", html_host.base_url()));
    let err = run(&config).await.unwrap_err();
    assert!(matches!(err, IdpError::Protocol { .. }), "{err}");
}

#[tokio::test]
async fn the_assertion_asks_only_for_the_delegated_readonly_scope() {
    // The simulator checks iss, aud, scope, iat/exp (at most an hour apart) and sub, so a
    // sync that succeeds proves the claims. Once the Admin console authorises a different
    // scope instead, the same assertion is refused.
    let (sim, config) = start(
        directory_with_admin(Directory::generate(1, 5, "example.com")),
        sim_options(),
    )
    .await;
    run(&config).await.unwrap();
    sim.update_options(|o| {
        o.delegated_scopes = vec!["https://www.googleapis.com/auth/admin.directory.user".into()]
    });
    let err = run(&config).await.unwrap_err();
    assert!(matches!(err, IdpError::Permission { .. }), "{err}");
}

#[tokio::test]
async fn the_service_account_json_key_file_works_end_to_end() {
    let directory = directory_with_admin(Directory::generate(2, 40, "example.com"));
    let visible = directory
        .people
        .iter()
        .filter(|p| p.state != PersonState::Deprovisioned)
        .count();
    let sim = GoogleSim::start(directory, sim_options()).await.unwrap();
    let key_file = serde_json::json!({
        "type": "service_account",
        "project_id": "idgap-test",
        "private_key_id": "0123456789abcdef",
        "private_key": test_key_pem().expose(),
        "client_email": SERVICE_ACCOUNT,
        "client_id": "104857600000000000042",
        "token_uri": sim.token_url(),
    });
    let mut config =
        GoogleConfig::from_service_account_json(&SecretString::new(key_file.to_string()), ADMIN)
            .unwrap();
    config.api_base_url = Some(sim.base_url());

    let snapshot = run(&config).await.unwrap();

    assert_eq!(snapshot.accounts.len(), visible);
}

#[tokio::test]
async fn an_empty_directory_is_refused_not_reported_as_everyone_gone() {
    // The admin exists (the token is issued), but the listed domain has nobody in it.
    let (sim, mut config) = start(directory_with_admin(Directory::default()), sim_options()).await;
    config.domain = Some("empty.example".into());

    let err = run(&config).await.unwrap_err();

    assert!(
        matches!(
            err,
            IdpError::Empty {
                provider: "Google Workspace"
            }
        ),
        "{err}"
    );
    assert_eq!(sim.requests().users, 1);
}

/// Posts a hand-made assertion to the simulator's token endpoint.
async fn token_answer(sim: &GoogleSim, claims: serde_json::Value) -> (u16, serde_json::Value) {
    let assertion = idgap_idp::jwt::sign_rs256(&claims, &test_key_pem(), None).unwrap();
    let resp = idgap_net::Client::new()
        .post(sim.token_url())
        .form(&[
            ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
            ("assertion", assertion.as_str()),
        ])
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap())
}

#[tokio::test]
async fn the_simulated_token_endpoint_enforces_google_s_assertion_rules() {
    let (sim, _config) = start(
        directory_with_admin(Directory::generate(1, 5, "example.com")),
        sim_options(),
    )
    .await;
    let now = jiff::Timestamp::now().as_second();
    let good = serde_json::json!({
        "iss": SERVICE_ACCOUNT,
        "scope": "https://www.googleapis.com/auth/admin.directory.user.readonly",
        "aud": sim.token_url(),
        "sub": ADMIN,
        "iat": now,
        "exp": now + 3600,
    });
    let (status, body) = token_answer(&sim, good.clone()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "Bearer");

    let mut too_long = good.clone();
    too_long["exp"] = serde_json::json!(now + 3601);
    let (status, body) = token_answer(&sim, too_long).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("short-lived")
    );

    let mut wrong_aud = good.clone();
    wrong_aud["aud"] = serde_json::json!("https://example.com/token");
    let (status, body) = token_answer(&sim, wrong_aud).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );

    let mut no_scope = good.clone();
    no_scope.as_object_mut().unwrap().remove("scope");
    let (status, body) = token_answer(&sim, no_scope).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_scope")),
        "{body}"
    );

    let mut wider_scope = good.clone();
    wider_scope["scope"] =
        serde_json::json!("https://www.googleapis.com/auth/admin.directory.user");
    let (status, body) = token_answer(&sim, wider_scope).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("unauthorized_client")),
        "{body}"
    );
    assert_eq!(
        body["error_description"],
        "Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes requested."
    );

    // Without `sub` the service account acts as itself: a token, then 403 from the API.
    let mut no_sub = good.clone();
    no_sub.as_object_mut().unwrap().remove("sub");
    let (status, body) = token_answer(&sim, no_sub).await;
    assert_eq!(status, 200, "{body}");
    let resp = idgap_net::Client::new()
        .get(format!(
            "{}/admin/directory/v1/users?customer=my_customer",
            sim.base_url()
        ))
        .bearer_auth(body["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 403);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(
        body["error"]["message"],
        "Not Authorized to access this resource/api"
    );
    assert_eq!(body["error"]["errors"][0]["reason"], "forbidden");
}

#[tokio::test]
async fn the_simulated_directory_api_bounds_max_results() {
    let (sim, _config) = start(
        directory_with_admin(Directory::generate(1, 5, "example.com")),
        sim_options(),
    )
    .await;
    let now = jiff::Timestamp::now().as_second();
    let (_, token) = token_answer(
        &sim,
        serde_json::json!({
            "iss": SERVICE_ACCOUNT,
            "scope": "https://www.googleapis.com/auth/admin.directory.user.readonly",
            "aud": sim.token_url(), "sub": ADMIN, "iat": now, "exp": now + 600,
        }),
    )
    .await;
    let get = |query: &str| {
        idgap_net::Client::new()
            .get(format!(
                "{}/admin/directory/v1/users?{query}",
                sim.base_url()
            ))
            .bearer_auth(token["access_token"].as_str().unwrap().to_string())
            .send()
    };
    assert_eq!(
        get("customer=my_customer&maxResults=501")
            .await
            .unwrap()
            .status()
            .as_u16(),
        400
    );
    assert_eq!(
        get("maxResults=10").await.unwrap().status().as_u16(),
        400,
        "customer or domain is required"
    );
    let page: serde_json::Value = get("customer=my_customer&maxResults=2")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(page["users"].as_array().unwrap().len(), 2);
    assert!(page["nextPageToken"].is_string());
}
