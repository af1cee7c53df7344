//! OneLogin sync against the simulated API v2, over real HTTP.

use std::collections::HashMap;
use std::time::Duration;

use idgap_idp::{IdpConfig, IdpError, OneLoginConfig, sync};
use idgap_model::{AccountStatus, DirectorySnapshot};
use idgap_net::{HostPolicy, Http, RetryPolicy, SecretString};
use idgap_sim::faults::{Fault, FaultRule};
use idgap_sim::idp::onelogin::{
    OneLoginSim, OneLoginSimOptions, rate_limited_fault, server_error_fault, user_id,
};
use idgap_sim::idp::{Directory, Person, PersonState};

const CLIENT_ID: &str = "0123456789abcdef0123456789abcdef01234567";
const CLIENT_SECRET: &str = "TESTONLY-secret-9f8e7d6c5b4a39281706f5e4d3c2b1a0";
const USERS: &str = "/api/2/users";
const TOKEN: &str = "/auth/oauth2/v2/token";

fn http() -> Http {
    let policy = HostPolicy::vendors_only().allow(["127.0.0.1"]).unwrap();
    Http::new(policy, RetryPolicy::quick(), Duration::from_secs(10))
}

async fn start(directory: Directory) -> (OneLoginSim, OneLoginConfig) {
    let sim = OneLoginSim::start(directory, OneLoginSimOptions::new(CLIENT_ID, CLIENT_SECRET))
        .await
        .unwrap();
    let mut config = OneLoginConfig::new("acme", CLIENT_ID, SecretString::new(CLIENT_SECRET));
    config.base_url = Some(sim.base_url());
    (sim, config)
}

async fn run(config: &OneLoginConfig) -> Result<DirectorySnapshot, IdpError> {
    sync(&http(), "onelogin", &IdpConfig::OneLogin(config.clone())).await
}

fn listed(directory: &Directory) -> Vec<&Person> {
    directory
        .people
        .iter()
        .filter(|p| p.state != PersonState::Deprovisioned)
        .collect()
}

fn expected_status(p: &Person) -> AccountStatus {
    match p.state {
        PersonState::Active | PersonState::Deprovisioned => AccountStatus::Active,
        PersonState::Suspended => AccountStatus::Suspended,
        PersonState::Pending => AccountStatus::Pending,
        PersonState::Locked => AccountStatus::Locked,
    }
}

#[tokio::test]
async fn lists_every_user_across_cursor_pages() {
    let directory = Directory::generate(31, 1_234, "example.com");
    let people = listed(&directory);
    let (sim, config) = start(directory.clone()).await;

    let snapshot = run(&config).await.unwrap();

    assert_eq!(snapshot.accounts.len(), people.len());
    let by_id: HashMap<&str, _> = snapshot
        .accounts
        .iter()
        .map(|a| (a.id.as_str(), a))
        .collect();
    assert_eq!(by_id.len(), people.len(), "duplicate ids");
    for p in &people {
        let account = by_id[user_id(p).to_string().as_str()];
        assert_eq!(account.status, expected_status(p), "{}", p.login);
        let mut want: Vec<String> = std::iter::once(&p.primary_email)
            .chain(p.aliases.first())
            .map(|s| s.to_lowercase())
            .collect();
        want.sort();
        want.dedup();
        assert_eq!(account.identifiers, want, "{}", p.login);
    }
    let pages = people.len().div_ceil(50) as u64;
    assert_eq!(sim.requests().users, pages);
    assert_eq!(sim.requests().token, 1);
    assert_eq!(snapshot.requests, pages + 1);
}

#[tokio::test]
async fn statuses_are_mapped_from_the_numeric_codes() {
    let directory = Directory::from_people(vec![
        Person::active(0, "Ada@Example.com").with_alias("ADA@corp.example.com"),
        Person::active(1, "bob@example.com").with_state(PersonState::Suspended),
        Person::active(2, "carol@example.com").with_state(PersonState::Pending),
        Person::active(3, "dan@example.com").with_state(PersonState::Locked),
        Person::active(4, "erin@example.com").with_state(PersonState::Deprovisioned),
    ]);
    let (_sim, config) = start(directory).await;

    let snapshot = run(&config).await.unwrap();

    let by_login: HashMap<&str, _> = snapshot
        .accounts
        .iter()
        .map(|a| (a.login.as_str(), a))
        .collect();
    assert_eq!(by_login.len(), 4, "deleted users are gone: {by_login:?}");
    assert_eq!(
        by_login["Ada@Example.com"].identifiers,
        ["ada@corp.example.com", "ada@example.com"]
    );
    assert_eq!(by_login["Ada@Example.com"].raw_status, "status=1,state=1");
    assert_eq!(by_login["bob@example.com"].status, AccountStatus::Suspended);
    assert_eq!(by_login["bob@example.com"].raw_status, "status=2,state=1");
    assert_eq!(by_login["carol@example.com"].status, AccountStatus::Pending);
    assert_eq!(by_login["carol@example.com"].raw_status, "status=7,state=1");
    assert_eq!(by_login["dan@example.com"].status, AccountStatus::Locked);
}

#[tokio::test]
async fn a_429_waits_the_seconds_remaining_in_x_ratelimit_reset() {
    // The window is spent for the next second: the first page gets a 429 with
    // X-RateLimit-Reset: 1 (seconds remaining) and no Retry-After. Retrying sooner meets 429
    // again until the attempts run out; reading Reset as an epoch would be a decades-long wait.
    let directory = Directory::generate(2, 120, "example.com");
    let people = listed(&directory).len();
    let (sim, config) = start(directory).await;
    sim.update_options(|o| o.rate_window = Duration::from_secs(1));
    sim.exhaust_rate_window();

    let snapshot = run(&config).await.unwrap();

    assert_eq!(snapshot.accounts.len(), people);
    assert_eq!(sim.requests().users, people.div_ceil(50) as u64 + 1);
}

#[tokio::test]
async fn a_spent_window_is_waited_out_before_the_next_page() {
    // Two calls per 2 s window: the second page says X-RateLimit-Remaining: 0, so the client
    // waits X-RateLimit-Reset seconds before asking for the third instead of drawing a 429.
    let directory = Directory::generate(2, 120, "example.com");
    let people = listed(&directory).len();
    assert_eq!(people.div_ceil(50), 3);
    let (sim, config) = start(directory).await;
    sim.update_options(|o| {
        o.rate_limit = 2;
        o.rate_window = Duration::from_secs(2);
    });

    let snapshot = run(&config).await.unwrap();

    assert_eq!(snapshot.accounts.len(), people);
    assert_eq!(sim.requests().users, 3, "three pages and no 429");
}

#[tokio::test]
async fn retry_after_is_honoured_and_server_errors_are_retried() {
    let directory = Directory::generate(2, 120, "example.com");
    let people = listed(&directory).len();
    let (sim, config) = start(directory).await;
    sim.faults().push(FaultRule::new(
        USERS,
        Fault::Status {
            status: 429,
            retry_after: Some(1),
            body: None,
            headers: Vec::new(),
        },
    ));
    sim.faults()
        .push(FaultRule::new(USERS, server_error_fault(500)).skip(1));

    let snapshot = run(&config).await.unwrap();

    assert_eq!(snapshot.accounts.len(), people);
    assert_eq!(sim.requests().users, people.div_ceil(50) as u64 + 2);
}

#[tokio::test]
async fn a_reset_far_in_the_future_fails_clearly_instead_of_hanging() {
    let (sim, config) = start(Directory::generate(2, 20, "example.com")).await;
    sim.faults()
        .push(FaultRule::new(USERS, rate_limited_fault(2_400)));

    let err = run(&config).await.unwrap_err();

    assert!(
        matches!(err, IdpError::Net(idgap_net::NetError::WaitTooLong { .. })),
        "{err}"
    );
    assert!(err.to_string().contains("2400s"), "{err}");
}

#[tokio::test]
async fn an_access_token_expiring_mid_paging_is_renewed() {
    let directory = Directory::generate(6, 300, "example.com");
    let people = listed(&directory).len();
    let (sim, config) = start(directory).await;
    sim.faults()
        .push(FaultRule::new(USERS, Fault::ExpireToken).skip(3));

    let snapshot = run(&config).await.unwrap();

    assert_eq!(snapshot.accounts.len(), people);
    assert_eq!(sim.tokens_issued(), 2);
    assert_eq!(sim.requests().token, 2);
    assert_eq!(sim.requests().users, people.div_ceil(50) as u64 + 1);
}

#[tokio::test]
async fn wrong_client_credentials_fail_auth_without_leaking_the_secret() {
    let (sim, mut config) = start(Directory::generate(6, 30, "example.com")).await;
    let wrong = "WRONG-secret-that-must-never-print-0001";
    config.client_secret = SecretString::new(wrong);

    let err = run(&config).await.unwrap_err();

    assert!(matches!(err, IdpError::Auth { .. }), "{err}");
    let text = format!("{err} {err:?} {config:?}");
    assert!(text.contains("Authentication Failure"), "{text}");
    assert!(!text.contains(wrong), "{text}");
    assert!(!text.contains(CLIENT_SECRET), "{text}");
    assert_eq!(sim.requests().users, 0);
}

#[tokio::test]
async fn a_revoked_credential_is_an_auth_error() {
    let (sim, config) = start(Directory::generate(6, 30, "example.com")).await;
    sim.faults()
        .push(FaultRule::new(TOKEN, Fault::RevokeCredential));

    let err = run(&config).await.unwrap_err();

    assert!(matches!(err, IdpError::Auth { .. }), "{err}");
}

#[tokio::test]
async fn a_directory_that_changes_during_the_read_is_an_error() {
    let directory = Directory::generate(10, 300, "example.com");
    let (sim, config) = start(directory.clone()).await;
    let mut bigger = directory.clone();
    bigger
        .people
        .push(Person::active(10_000, "newcomer@example.com"));
    sim.change_directory_after(2, bigger);

    let err = run(&config).await.unwrap_err();

    assert!(matches!(err, IdpError::Protocol { .. }), "{err}");
    assert!(err.to_string().contains("Total-Count went from"), "{err}");
}

#[tokio::test]
async fn cut_off_and_non_json_pages_are_fetched_again() {
    let directory = Directory::generate(12, 150, "example.com");
    let people = listed(&directory).len();
    let (sim, config) = start(directory).await;
    sim.faults()
        .push(FaultRule::new(USERS, Fault::TruncateBody).skip(1));
    sim.faults()
        .push(FaultRule::new(USERS, Fault::NotJson).skip(1));

    let snapshot = run(&config).await.unwrap();

    assert_eq!(snapshot.accounts.len(), people);
    assert_eq!(sim.requests().users, people.div_ceil(50) as u64 + 2);
}

#[tokio::test]
async fn a_host_that_is_not_onelogin_is_a_protocol_error() {
    use axum::routing::{any, post};
    // Tokens are handed out, but the "users" endpoint answers JSON that is not a user list.
    let app = axum::Router::new()
        .route(
            TOKEN,
            post(|| async {
                axum::Json(serde_json::json!({"access_token": "t", "expires_in": 36000}))
            }),
        )
        .fallback(any(|| async {
            axum::Json(serde_json::json!({"hello": "world"}))
        }));
    let host = idgap_sim::server::serve(app, 0).await.unwrap();
    let html = idgap_sim::server::serve(
        axum::Router::new().fallback(any(|| async {
            axum::response::Html("<html>Sign in</html>")
        })),
        0,
    )
    .await
    .unwrap();
    let mut config = OneLoginConfig::new("acme", CLIENT_ID, SecretString::new(CLIENT_SECRET));

    config.base_url = Some(host.base_url());
    let err = run(&config).await.unwrap_err();
    assert!(matches!(err, IdpError::Protocol { .. }), "{err}");
    assert!(err.to_string().contains("really OneLogin"), "{err}");

    config.base_url = Some(html.base_url());
    let err = run(&config).await.unwrap_err();
    assert!(matches!(err, IdpError::Protocol { .. }), "{err}");
    assert!(err.to_string().contains("Sign in"), "{err}");
}

#[tokio::test]
async fn an_empty_directory_is_refused_not_reported_as_everyone_gone() {
    let (sim, config) = start(Directory::default()).await;

    let err = run(&config).await.unwrap_err();

    assert!(
        matches!(
            err,
            IdpError::Empty {
                provider: "OneLogin"
            }
        ),
        "{err}"
    );
    assert_eq!(sim.requests().users, 1);
}

#[tokio::test]
async fn the_simulated_token_endpoint_accepts_all_three_documented_credential_styles() {
    let (sim, _config) = start(Directory::generate(6, 5, "example.com")).await;
    let url = format!("{}{TOKEN}", sim.base_url());
    let client = idgap_net::Client::new();
    let grant = serde_json::json!({"grant_type": "client_credentials"});
    let answers = [
        client
            .post(&url)
            .header(
                "authorization",
                format!("client_id:{CLIENT_ID}, client_secret:{CLIENT_SECRET}"),
            )
            .json(&grant)
            .send()
            .await
            .unwrap(),
        client
            .post(&url)
            .basic_auth(CLIENT_ID, Some(CLIENT_SECRET))
            .json(&grant)
            .send()
            .await
            .unwrap(),
        client
            .post(&url)
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", CLIENT_ID),
                ("client_secret", CLIENT_SECRET),
            ])
            .send()
            .await
            .unwrap(),
    ];
    let mut tokens = Vec::new();
    for resp in answers {
        assert_eq!(resp.status().as_u16(), 200);
        let body: serde_json::Value = resp.json().await.unwrap();
        assert_eq!(body["token_type"], "bearer");
        assert_eq!(body["expires_in"].as_u64().map(|s| s > 35_000), Some(true));
        tokens.push(body["access_token"].as_str().unwrap().to_string());
    }
    assert!(
        tokens.iter().all(|t| *t == tokens[0]),
        "same credentials, same token"
    );
    assert_eq!(sim.tokens_issued(), 1);
}

#[tokio::test]
async fn the_simulated_users_api_sends_onelogin_s_paging_headers() {
    let (sim, _config) = start(Directory::from_people(
        (0..120)
            .map(|i| Person::active(i, &format!("p{i}@example.com")))
            .collect(),
    ))
    .await;
    let client = idgap_net::Client::new();
    let token: serde_json::Value = client
        .post(format!("{}{TOKEN}", sim.base_url()))
        .basic_auth(CLIENT_ID, Some(CLIENT_SECRET))
        .json(&serde_json::json!({"grant_type": "client_credentials"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let bearer = format!("bearer {}", token["access_token"].as_str().unwrap());
    let get = |query: String| {
        client
            .get(format!("{}{USERS}?{query}", sim.base_url()))
            .header("authorization", bearer.clone())
            .send()
    };
    let header =
        |h: &idgap_net::HeaderMap, name: &str| h.get(name).map(|v| v.to_str().unwrap().to_string());

    // `limit` above the cap is served 50 at a time.
    let first = get("limit=100".into()).await.unwrap();
    let h = first.headers().clone();
    let users: Vec<serde_json::Value> = first.json().await.unwrap();
    assert_eq!(users.len(), 50);
    assert_eq!(header(&h, "total-count").as_deref(), Some("120"));
    assert_eq!(header(&h, "total-pages").as_deref(), Some("3"));
    assert_eq!(header(&h, "current-page").as_deref(), Some("1"));
    assert_eq!(header(&h, "page-items").as_deref(), Some("50"));
    assert_eq!(header(&h, "before-cursor"), None);
    assert!(header(&h, "x-ratelimit-remaining").is_some());

    let second = get(format!(
        "limit=50&cursor={}",
        header(&h, "after-cursor").unwrap()
    ))
    .await
    .unwrap();
    let h = second.headers().clone();
    assert_eq!(header(&h, "current-page").as_deref(), Some("2"));
    assert!(header(&h, "before-cursor").is_some());
    let third = get(format!(
        "limit=50&cursor={}",
        header(&h, "after-cursor").unwrap()
    ))
    .await
    .unwrap();
    let h = third.headers().clone();
    let users: Vec<serde_json::Value> = third.json().await.unwrap();
    assert_eq!(users.len(), 20);
    assert_eq!(
        header(&h, "after-cursor"),
        None,
        "no After-Cursor on the last page"
    );

    let unauthorised = client
        .get(format!("{}{USERS}", sim.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(unauthorised.status().as_u16(), 401);
    let body: serde_json::Value = unauthorised.json().await.unwrap();
    assert_eq!(
        body,
        serde_json::json!({"message": "Unauthorized", "statusCode": 401, "name": "UnauthorizedError"})
    );
}
