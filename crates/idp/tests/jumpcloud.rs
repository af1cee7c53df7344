//! JumpCloud sync against the simulated v1 `systemusers` API, over real HTTP.

use std::collections::HashMap;
use std::time::Duration;

use idgap_idp::{IdpConfig, IdpError, JumpCloudConfig, sync};
use idgap_model::{AccountStatus, DirectorySnapshot};
use idgap_net::{HostPolicy, Http, NetError, RetryPolicy, SecretString};
use idgap_sim::faults::{Fault, FaultRule};
use idgap_sim::idp::jumpcloud::{JumpCloudSim, JumpCloudSimOptions, status_fault, user_id};
use idgap_sim::idp::{Directory, Person, PersonState};

const API_KEY: &str = "jcapi-TESTONLY-5b1f0c2d9e8a7f6b";
const ORG_ID: &str = "5f0000000000000000000001";
const USERS: &str = "/api/systemusers";

fn http() -> Http {
    let policy = HostPolicy::vendors_only().allow(["127.0.0.1"]).unwrap();
    Http::new(policy, RetryPolicy::quick(), Duration::from_secs(10))
}

async fn start(
    directory: Directory,
    options: JumpCloudSimOptions,
) -> (JumpCloudSim, JumpCloudConfig) {
    let sim = JumpCloudSim::start(directory, options).await.unwrap();
    let mut config = JumpCloudConfig::new(SecretString::new(API_KEY));
    config.base_url = Some(sim.base_url());
    (sim, config)
}

async fn run(config: &JumpCloudConfig) -> Result<DirectorySnapshot, IdpError> {
    sync(&http(), "jumpcloud", &IdpConfig::JumpCloud(config.clone())).await
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
async fn lists_every_user_across_offset_pages() {
    let directory = Directory::generate(21, 1_234, "example.com");
    let people = listed(&directory);
    let (sim, config) = start(directory.clone(), JumpCloudSimOptions::new(API_KEY)).await;

    let snapshot = run(&config).await.unwrap();

    assert_eq!(snapshot.accounts.len(), people.len());
    let by_id: HashMap<&str, _> = snapshot
        .accounts
        .iter()
        .map(|a| (a.id.as_str(), a))
        .collect();
    assert_eq!(by_id.len(), people.len(), "duplicate ids");
    for p in &people {
        let account = by_id[user_id(p).as_str()];
        assert_eq!(account.status, expected_status(p), "{}", p.login);
        let mut want: Vec<String> = std::iter::once(&p.primary_email)
            .chain(p.aliases.first())
            .map(|s| s.to_lowercase())
            .collect();
        want.sort();
        assert_eq!(account.identifiers, want, "{}", p.login);
    }
    for state in [
        PersonState::Suspended,
        PersonState::Pending,
        PersonState::Locked,
    ] {
        assert!(
            people.iter().any(|p| p.state == state),
            "the seed covers {state:?}"
        );
    }
    let pages = people.len().div_ceil(100) as u64;
    assert_eq!(sim.requests().users, pages);
    assert_eq!(sim.requests().unsorted, 0, "every page asks for sort=_id");
    assert_eq!(snapshot.requests, pages);
}

#[tokio::test]
async fn a_directory_that_is_a_multiple_of_the_page_size_ends_without_an_empty_page() {
    let people: Vec<Person> = (0..200)
        .map(|i| Person::active(i, &format!("p{i}@example.com")))
        .collect();
    let (sim, config) = start(
        Directory::from_people(people),
        JumpCloudSimOptions::new(API_KEY),
    )
    .await;

    let snapshot = run(&config).await.unwrap();

    assert_eq!(snapshot.accounts.len(), 200);
    assert_eq!(sim.requests().users, 2);
}

#[tokio::test]
async fn states_and_addresses_are_mapped_and_normalised() {
    let directory = Directory::from_people(vec![
        Person::active(0, "Ada@Example.com").with_alias("Ada.Alt@Example.com "),
        Person::active(1, "bob@example.com").with_state(PersonState::Suspended),
        Person::active(2, "carol@example.com").with_state(PersonState::Pending),
        Person::active(3, "dan@example.com").with_state(PersonState::Locked),
        Person::active(4, "erin@example.com").with_state(PersonState::Deprovisioned),
    ]);
    let (_sim, config) = start(directory, JumpCloudSimOptions::new(API_KEY)).await;

    let snapshot = run(&config).await.unwrap();

    let by_login: HashMap<&str, _> = snapshot
        .accounts
        .iter()
        .map(|a| (a.login.as_str(), a))
        .collect();
    assert_eq!(by_login.len(), 4, "deleted users are gone: {by_login:?}");
    assert_eq!(
        by_login["Ada@Example.com"].identifiers,
        ["ada.alt@example.com", "ada@example.com"]
    );
    assert_eq!(by_login["bob@example.com"].status, AccountStatus::Suspended);
    assert_eq!(
        by_login["bob@example.com"].raw_status,
        "state=SUSPENDED,suspended=true,account_locked=false"
    );
    assert_eq!(by_login["carol@example.com"].status, AccountStatus::Pending);
    assert_eq!(
        by_login["carol@example.com"].raw_status,
        "state=STAGED,suspended=false,account_locked=false"
    );
    assert_eq!(by_login["dan@example.com"].status, AccountStatus::Locked);
    assert!(
        snapshot.accounts.iter().all(|a| a
            .identifiers
            .iter()
            .all(|i| !i.contains("recovery.example"))),
        "the recovery email is never an identifier"
    );
}

#[tokio::test]
async fn throttling_and_unavailability_are_retried() {
    let directory = Directory::generate(4, 350, "example.com");
    let people = listed(&directory).len();
    let (sim, config) = start(directory, JumpCloudSimOptions::new(API_KEY)).await;
    sim.faults()
        .push(FaultRule::new(USERS, status_fault(429)).skip(1).times(2));
    sim.faults().push(FaultRule::new(USERS, status_fault(503)));

    let snapshot = run(&config).await.unwrap();

    assert_eq!(snapshot.accounts.len(), people);
    assert_eq!(sim.requests().users, people.div_ceil(100) as u64 + 3);
}

#[tokio::test]
async fn endless_throttling_gives_up_clearly() {
    let (sim, config) = start(
        Directory::generate(4, 30, "example.com"),
        JumpCloudSimOptions::new(API_KEY),
    )
    .await;
    sim.faults()
        .push(FaultRule::new(USERS, status_fault(429)).times(50));

    let err = run(&config).await.unwrap_err();

    assert!(
        matches!(
            err,
            IdpError::Net(NetError::RetriesExhausted { attempts: 5, .. })
        ),
        "{err}"
    );
    assert!(err.to_string().contains("429"), "{err}");
}

#[tokio::test]
async fn a_directory_that_shrinks_during_the_read_is_an_error_not_a_short_list() {
    let directory = Directory::generate(8, 500, "example.com");
    let (sim, config) = start(directory.clone(), JumpCloudSimOptions::new(API_KEY)).await;
    let mut smaller = directory.clone();
    smaller.people.drain(0..30);
    sim.change_directory_after(2, smaller);

    let err = run(&config).await.unwrap_err();

    assert!(matches!(err, IdpError::Protocol { .. }), "{err}");
    let text = err.to_string();
    assert!(text.contains("totalCount went from"), "{text}");
    assert!(text.contains("changed during the read"), "{text}");
}

#[tokio::test]
async fn a_multi_tenant_key_without_org_id_is_refused_with_a_hint() {
    let mut options = JumpCloudSimOptions::new(API_KEY);
    options.required_org_id = Some(ORG_ID.into());
    let (sim, mut config) = start(Directory::generate(9, 30, "example.com"), options).await;

    let err = run(&config).await.unwrap_err();
    assert!(matches!(err, IdpError::Auth { .. }), "{err}");
    let text = err.to_string();
    assert!(text.contains("x-org-id"), "{text}");
    assert!(text.contains("multi-tenant"), "{text}");
    assert_eq!(sim.requests().users, 1, "an auth failure is not retried");

    config.org_id = Some("5f00000000000000000000ff".into());
    let err = run(&config).await.unwrap_err();
    assert!(matches!(err, IdpError::Config { .. }), "{err}");
    assert!(err.to_string().contains("Organization not found"), "{err}");

    config.org_id = Some(ORG_ID.into());
    let snapshot = run(&config).await.unwrap();
    assert_eq!(
        snapshot.accounts.len(),
        listed(&Directory::generate(9, 30, "example.com")).len()
    );
}

#[tokio::test]
async fn a_wrong_api_key_is_an_auth_error_that_does_not_leak_the_key() {
    let (_sim, mut config) = start(
        Directory::generate(9, 30, "example.com"),
        JumpCloudSimOptions::new(API_KEY),
    )
    .await;
    let wrong = "jcapi-WRONG-KEY-0000-should-never-print";
    config.api_key = SecretString::new(wrong);

    let err = run(&config).await.unwrap_err();

    assert!(matches!(err, IdpError::Auth { .. }), "{err}");
    let text = format!("{err} {err:?} {config:?}");
    assert!(text.contains("401"), "{text}");
    assert!(!text.contains(wrong), "{text}");
    assert!(!text.contains(API_KEY), "{text}");
}

#[tokio::test]
async fn cut_off_and_non_json_pages_are_fetched_again() {
    let directory = Directory::generate(12, 250, "example.com");
    let people = listed(&directory).len();
    let (sim, config) = start(directory, JumpCloudSimOptions::new(API_KEY)).await;
    sim.faults()
        .push(FaultRule::new(USERS, Fault::TruncateBody));
    sim.faults()
        .push(FaultRule::new(USERS, Fault::NotJson).skip(1));

    let snapshot = run(&config).await.unwrap();

    assert_eq!(snapshot.accounts.len(), people);
    assert_eq!(sim.requests().users, people.div_ceil(100) as u64 + 2);
}

#[tokio::test]
async fn a_host_that_is_not_jumpcloud_is_a_protocol_error() {
    use axum::routing::any;
    let json_app = axum::Router::new().fallback(any(|| async {
        axum::Json(serde_json::json!({"hello": "world"}))
    }));
    let html_app = axum::Router::new().fallback(any(|| async {
        (
            axum::http::StatusCode::NOT_FOUND,
            axum::response::Html("<html><body>Not Found</body></html>"),
        )
    }));
    let json_host = idgap_sim::server::serve(json_app, 0).await.unwrap();
    let html_host = idgap_sim::server::serve(html_app, 0).await.unwrap();
    let mut config = JumpCloudConfig::new(SecretString::new(API_KEY));

    config.base_url = Some(json_host.base_url());
    let err = run(&config).await.unwrap_err();
    assert!(matches!(err, IdpError::Protocol { .. }), "{err}");
    assert!(err.to_string().contains("really JumpCloud"), "{err}");

    config.base_url = Some(html_host.base_url());
    let err = run(&config).await.unwrap_err();
    assert!(matches!(err, IdpError::Protocol { .. }), "{err}");
    assert!(err.to_string().contains("not a JumpCloud error"), "{err}");
}

#[tokio::test]
async fn the_client_never_asks_for_more_than_100_per_page() {
    let (_sim, mut config) = start(
        Directory::generate(9, 30, "example.com"),
        JumpCloudSimOptions::new(API_KEY),
    )
    .await;
    config.page_size = 250;

    let err = run(&config).await.unwrap_err();

    assert!(matches!(err, IdpError::Config { .. }), "{err}");
    assert!(err.to_string().contains("1 to 100"), "{err}");
}

#[tokio::test]
async fn an_empty_directory_is_refused_not_reported_as_everyone_gone() {
    let (sim, config) = start(Directory::default(), JumpCloudSimOptions::new(API_KEY)).await;

    let err = run(&config).await.unwrap_err();

    assert!(
        matches!(
            err,
            IdpError::Empty {
                provider: "JumpCloud"
            }
        ),
        "{err}"
    );
    assert_eq!(sim.requests().users, 1);
}

#[tokio::test]
async fn the_directory_can_be_replaced_between_syncs() {
    let (sim, config) = start(
        Directory::generate(14, 150, "example.com"),
        JumpCloudSimOptions::new(API_KEY),
    )
    .await;
    let before = run(&config).await.unwrap();
    assert_eq!(
        before.accounts.len(),
        listed(&Directory::generate(14, 150, "example.com")).len()
    );

    let mut after = Directory::generate(14, 150, "example.com");
    after.people.retain(|p| p.index % 3 != 0);
    let expected = listed(&after).len();
    sim.set_directory(after);
    let snapshot = run(&config).await.unwrap();

    assert_eq!(snapshot.accounts.len(), expected);
    assert!(expected < before.accounts.len());
}

#[tokio::test]
async fn the_simulated_api_defaults_to_10_and_refuses_more_than_100() {
    let (sim, _config) = start(
        Directory::generate(15, 150, "example.com"),
        JumpCloudSimOptions::new(API_KEY),
    )
    .await;
    let get = |query: &str| {
        idgap_net::Client::new()
            .get(format!("{}{USERS}{query}", sim.base_url()))
            .header("x-api-key", API_KEY)
            .send()
    };
    let page: serde_json::Value = get("").await.unwrap().json().await.unwrap();
    assert_eq!(page["results"].as_array().unwrap().len(), 10);
    assert_eq!(
        page["totalCount"].as_u64(),
        Some(listed(&Directory::generate(15, 150, "example.com")).len() as u64)
    );
    let resp = get("?limit=101").await.unwrap();
    assert_eq!(resp.status().as_u16(), 400);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["code"], 400);
    assert_eq!(body["status"], "Bad Request");
    let page: serde_json::Value = get("?limit=5&filter=state:$eq:SUSPENDED")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        page["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|u| u["state"] == "SUSPENDED")
    );
}
