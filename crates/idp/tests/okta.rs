//! The Okta client against the Okta simulator, over real HTTP.

mod common;

use std::time::Duration;

use common::{assert_unique_ids, count, http, impostor, pem_body_lines, rsa_private_key_pem};
use idgap_idp::{IdpConfig, IdpError, OktaAuth, OktaConfig};
use idgap_model::{AccountStatus, DirectorySnapshot};
use idgap_net::{HostPolicy, Http, NetError, RetryPolicy, SecretString};
use idgap_sim::faults::{Fault, FaultRule};
use idgap_sim::idp::okta::{OktaSim, OktaSimOptions};
use idgap_sim::idp::{Directory, Person, PersonState};

const TOKEN: &str = "00Abc-simulated-api-token-value";
const CLIENT_ID: &str = "0oa1simulatedclient";

fn ssws(sim: &OktaSim) -> OktaConfig {
    let mut c = OktaConfig::new(
        "acme.okta.com",
        OktaAuth::ApiToken(SecretString::new(TOKEN)),
    );
    c.base_url = Some(sim.base_url());
    c
}

fn service_app(sim: &OktaSim, dpop: bool) -> OktaConfig {
    let mut c = OktaConfig::new(
        "acme.okta.com",
        OktaAuth::ServiceApp {
            client_id: CLIENT_ID.into(),
            private_key_pem: rsa_private_key_pem(),
            key_id: Some("key-1".into()),
            dpop,
        },
    );
    c.base_url = Some(sim.base_url());
    c
}

fn options() -> OktaSimOptions {
    let mut o = OktaSimOptions::new(TOKEN, CLIENT_ID);
    o.key_id = Some("key-1".into());
    o
}

async fn sync(config: OktaConfig) -> Result<DirectorySnapshot, IdpError> {
    idgap_idp::sync(&http(), "okta", &IdpConfig::Okta(config)).await
}

fn pages(n: usize, size: usize) -> u64 {
    n.div_ceil(size).max(1) as u64
}

/// What the simulator's directory should come back as: counts per normalised status.
fn expected(dir: &Directory) -> (usize, usize, usize, usize, usize) {
    let c = |s: PersonState| dir.people.iter().filter(|p| p.state == s).count();
    (
        c(PersonState::Active),
        c(PersonState::Suspended),
        c(PersonState::Deprovisioned),
        c(PersonState::Locked),
        c(PersonState::Pending),
    )
}

#[tokio::test]
async fn api_token_lists_every_page_and_the_deprovisioned_pass() {
    let dir = Directory::generate(7, 1050, "acme.example");
    let (active, suspended, deprovisioned, locked, pending) = expected(&dir);
    assert!(deprovisioned > 0 && suspended > 0 && pending > 0);
    let sim = OktaSim::start(dir.clone(), options()).await.unwrap();
    let snap = sync(ssws(&sim)).await.unwrap();

    assert_eq!(snap.accounts.len(), 1050);
    assert_unique_ids(&snap.accounts);
    assert_eq!(count(&snap.accounts, AccountStatus::Active), active);
    assert_eq!(count(&snap.accounts, AccountStatus::Suspended), suspended);
    assert_eq!(
        count(&snap.accounts, AccountStatus::Deprovisioned),
        deprovisioned
    );
    assert_eq!(count(&snap.accounts, AccountStatus::Locked), locked);
    assert_eq!(count(&snap.accounts, AccountStatus::Pending), pending);
    // Every person is there under Okta's id, with Okta's raw status.
    for p in &dir.people {
        let id = OktaSim::user_id(p);
        let a = snap
            .accounts
            .iter()
            .find(|a| a.id == id)
            .expect("person missing");
        assert_eq!(a.raw_status, OktaSim::status_of(p));
        assert_eq!(a.login, p.login);
    }
    let plain = pages(1050 - deprovisioned, 200);
    let filtered = pages(deprovisioned, 200);
    let counts = sim.requests();
    assert_eq!(counts.users, plain + filtered);
    assert_eq!(counts.users_filtered, filtered);
    assert_eq!(counts.token, 0);
    assert_eq!(snap.requests, plain + filtered);
}

#[tokio::test]
async fn deprovisioned_users_come_only_from_the_filter_pass() {
    let dir = Directory::from_people(vec![
        Person::active(1, "ann@acme.example"),
        Person::active(2, "bob@acme.example").with_state(PersonState::Deprovisioned),
        Person::active(3, "cat@acme.example").with_state(PersonState::Suspended),
    ]);
    let sim = OktaSim::start(dir, options()).await.unwrap();
    let mut config = ssws(&sim);
    config.page_size = 1;
    let snap = sync(config).await.unwrap();
    let bob = snap
        .accounts
        .iter()
        .find(|a| a.login == "bob@acme.example")
        .unwrap();
    assert_eq!(bob.status, AccountStatus::Deprovisioned);
    assert_eq!(bob.raw_status, "DEPROVISIONED");
    let cat = snap
        .accounts
        .iter()
        .find(|a| a.login == "cat@acme.example")
        .unwrap();
    assert_eq!(
        (cat.status, cat.raw_status.as_str()),
        (AccountStatus::Suspended, "SUSPENDED")
    );
    // Two plain pages (ann, cat) and one filtered page (bob).
    assert_eq!(sim.requests().users, 3);
    assert_eq!(sim.requests().users_filtered, 1);
}

#[tokio::test]
async fn identifiers_are_login_and_email_and_second_email_is_a_personal_address() {
    let mut ada = Person::active(1, "Ada.Lovelace@Acme.example").with_alias(" ADA@Home.Example ");
    ada.primary_email = "ada@ACME.example".into();
    let sim = OktaSim::start(Directory::from_people(vec![ada]), options())
        .await
        .unwrap();
    let snap = sync(ssws(&sim)).await.unwrap();
    assert_eq!(
        snap.accounts[0].identifiers,
        vec!["ada.lovelace@acme.example", "ada@acme.example"]
    );
    assert_eq!(
        snap.accounts[0].personal_addresses,
        vec!["ada@home.example"]
    );
}

#[tokio::test]
async fn service_app_with_dpop_answers_the_nonce_challenge() {
    let dir = Directory::generate(3, 450, "acme.example");
    let sim = OktaSim::start(dir, options()).await.unwrap();
    let snap = sync(service_app(&sim, true)).await.unwrap();
    assert_eq!(snap.accounts.len(), 450);
    // One proof without a nonce (400 use_dpop_nonce), one with it.
    assert_eq!(sim.requests().token, 2);
}

#[tokio::test]
async fn service_app_without_dpop_uses_a_bearer_token() {
    let mut opts = options();
    opts.dpop_required = false;
    let sim = OktaSim::start(Directory::generate(3, 30, "acme.example"), opts)
        .await
        .unwrap();
    let snap = sync(service_app(&sim, false)).await.unwrap();
    assert_eq!(snap.accounts.len(), 30);
    assert_eq!(sim.requests().token, 1);
}

#[tokio::test]
async fn an_app_that_requires_dpop_tells_a_client_without_it_what_to_change() {
    let sim = OktaSim::start(Directory::generate(3, 5, "acme.example"), options())
        .await
        .unwrap();
    let err = sync(service_app(&sim, false)).await.unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, IdpError::Auth { .. }), "{err:?}");
    assert!(text.contains("invalid_dpop_proof"), "{text}");
    assert!(text.contains("dpop: true"), "{text}");
}

#[tokio::test]
async fn an_expired_token_is_renewed_mid_paging() {
    let dir = Directory::generate(11, 1000, "acme.example");
    let sim = OktaSim::start(dir, options()).await.unwrap();
    sim.faults()
        .push(FaultRule::new("/api/v1/users", Fault::ExpireToken).skip(2));
    let snap = sync(service_app(&sim, true)).await.unwrap();
    assert_eq!(snap.accounts.len(), 1000);
    assert_unique_ids(&snap.accounts);
    // Nonce challenge + token, then one renewal that reuses the nonce.
    assert_eq!(sim.requests().token, 3);
}

#[tokio::test]
async fn a_rate_limit_waits_until_the_reset_epoch_then_continues() {
    let dir = Directory::generate(5, 600, "acme.example");
    let sim = OktaSim::start(dir.clone(), options()).await.unwrap();
    let deprovisioned = dir
        .people
        .iter()
        .filter(|p| p.state == PersonState::Deprovisioned)
        .count();
    sim.faults().push(
        FaultRule::new(
            "/api/v1/users",
            OktaSim::rate_limited(Duration::from_secs(2)),
        )
        .skip(1),
    );
    let started = std::time::Instant::now();
    let snap = sync(ssws(&sim)).await.unwrap();
    assert_eq!(snap.accounts.len(), 600);
    assert_eq!(
        sim.requests().users,
        pages(600 - deprovisioned, 200) + pages(deprovisioned, 200) + 1
    );
    // The client waited for the reset instead of hammering: quick retries alone take < 50 ms.
    assert!(
        started.elapsed() >= Duration::from_millis(500),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_rate_limit_beyond_the_allowed_wait_fails_clearly() {
    let sim = OktaSim::start(Directory::generate(5, 10, "acme.example"), options())
        .await
        .unwrap();
    sim.faults().push(FaultRule::new(
        "/api/v1/users",
        OktaSim::rate_limited(Duration::from_secs(60)),
    ));
    let err = sync(ssws(&sim)).await.unwrap_err();
    assert!(
        matches!(err, IdpError::Net(NetError::WaitTooLong { .. })),
        "{err:?}"
    );
}

#[tokio::test]
async fn cut_off_and_html_bodies_are_retried() {
    let sim = OktaSim::start(Directory::generate(9, 500, "acme.example"), options())
        .await
        .unwrap();
    sim.faults()
        .push(FaultRule::new("/api/v1/users", Fault::TruncateBody).skip(1));
    sim.faults()
        .push(FaultRule::new("/api/v1/users", Fault::NotJson).skip(2));
    let snap = sync(ssws(&sim)).await.unwrap();
    assert_eq!(snap.accounts.len(), 500);
    assert_unique_ids(&snap.accounts);
}

#[tokio::test]
async fn a_page_that_stays_broken_is_a_protocol_error() {
    let sim = OktaSim::start(Directory::generate(9, 50, "acme.example"), options())
        .await
        .unwrap();
    sim.faults()
        .push(FaultRule::new("/api/v1/users", Fault::TruncateBody).times(10));
    let err = sync(ssws(&sim)).await.unwrap_err();
    assert!(matches!(err, IdpError::Protocol { .. }), "{err:?}");
    assert!(err.to_string().contains("not complete JSON"), "{err}");
}

#[tokio::test]
async fn a_wrong_api_token_is_an_auth_error_that_does_not_echo_it() {
    let sim = OktaSim::start(Directory::generate(1, 5, "acme.example"), options())
        .await
        .unwrap();
    let mut config = ssws(&sim);
    let wrong = "00WRONG-token-that-must-not-leak";
    config.auth = OktaAuth::ApiToken(SecretString::new(wrong));
    let err = sync(config.clone()).await.unwrap_err();
    let text = format!("{err} {err:?} {config:?}");
    assert!(matches!(err, IdpError::Auth { .. }), "{err:?}");
    assert!(text.contains("E0000011"), "{text}");
    assert!(text.contains("Security → API → Tokens"), "{text}");
    assert!(!text.contains(wrong), "{text}");
}

#[tokio::test]
async fn a_service_app_failure_never_shows_the_private_key() {
    let sim = OktaSim::start(Directory::generate(1, 5, "acme.example"), options())
        .await
        .unwrap();
    let mut config = service_app(&sim, true);
    if let OktaAuth::ServiceApp { client_id, .. } = &mut config.auth {
        *client_id = "0oaUNKNOWN".into();
    }
    let err = sync(config.clone()).await.unwrap_err();
    assert!(matches!(err, IdpError::Auth { .. }), "{err:?}");
    let text = format!("{err} {err:?} {config:?}");
    assert!(text.contains("invalid_client"), "{text}");
    for line in pem_body_lines(&rsa_private_key_pem()) {
        assert!(!text.contains(&line), "key material in: {text}");
    }
}

#[tokio::test]
async fn a_missing_scope_or_role_is_a_permission_error() {
    let mut opts = options();
    opts.granted_scopes.clear();
    let sim = OktaSim::start(Directory::generate(1, 5, "acme.example"), opts)
        .await
        .unwrap();
    let err = sync(service_app(&sim, true)).await.unwrap_err();
    assert!(matches!(err, IdpError::Permission { .. }), "{err:?}");
    assert!(err.to_string().contains("okta.users.read"), "{err}");

    sim.update_options(|o| {
        o.granted_scopes = vec!["okta.users.read".into()];
        o.may_read_users = false;
    });
    let err = sync(service_app(&sim, true)).await.unwrap_err();
    assert!(matches!(err, IdpError::Permission { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains("E0000006") && text.contains("read-only admin role"),
        "{text}"
    );
}

#[tokio::test]
async fn an_empty_directory_is_refused() {
    let sim = OktaSim::start(Directory::default(), options())
        .await
        .unwrap();
    let err = sync(ssws(&sim)).await.unwrap_err();
    assert!(
        matches!(err, IdpError::Empty { provider: "Okta" }),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_host_that_is_not_okta_is_a_protocol_error() {
    let (base, _server) =
        impostor("<html><body>Welcome to nginx!</body></html>", "text/html").await;
    let mut config = OktaConfig::new(
        "acme.okta.com",
        OktaAuth::ApiToken(SecretString::new(TOKEN)),
    );
    config.base_url = Some(base);
    let err = sync(config.clone()).await.unwrap_err();
    assert!(matches!(err, IdpError::Protocol { .. }), "{err:?}");
    assert!(err.to_string().contains("HTML"), "{err}");

    let (base, _server) = impostor(r#"{"status":"ok"}"#, "application/json").await;
    config.base_url = Some(base);
    let err = sync(config).await.unwrap_err();
    assert!(matches!(err, IdpError::Protocol { .. }), "{err:?}");
    assert!(err.to_string().contains("not what Okta sends"), "{err}");
}

#[tokio::test]
async fn a_simulator_address_needs_the_allow_list() {
    let sim = OktaSim::start(Directory::generate(1, 5, "acme.example"), options())
        .await
        .unwrap();
    let strict = Http::new(
        HostPolicy::vendors_only(),
        RetryPolicy::quick(),
        Duration::from_secs(5),
    );
    let err = idgap_idp::sync(&strict, "okta", &IdpConfig::Okta(ssws(&sim)))
        .await
        .unwrap_err();
    assert!(
        matches!(err, IdpError::Net(NetError::HostNotAllowed(_))),
        "{err:?}"
    );
    assert_eq!(sim.requests().users, 0);
}

#[tokio::test]
async fn a_changed_directory_shows_in_the_next_sync() {
    let sim = OktaSim::start(
        Directory::from_people(vec![
            Person::active(1, "ann@acme.example"),
            Person::active(2, "bob@acme.example"),
        ]),
        options(),
    )
    .await
    .unwrap();
    let first = sync(ssws(&sim)).await.unwrap();
    assert_eq!(count(&first.accounts, AccountStatus::Active), 2);
    sim.set_directory(Directory::from_people(vec![
        Person::active(1, "ann@acme.example"),
        Person::active(2, "bob@acme.example").with_state(PersonState::Suspended),
    ]));
    let second = sync(ssws(&sim)).await.unwrap();
    let bob = second
        .accounts
        .iter()
        .find(|a| a.login == "bob@acme.example")
        .unwrap();
    assert_eq!(bob.status, AccountStatus::Suspended);
}

#[tokio::test]
async fn a_page_size_above_okta_s_limit_is_a_config_error() {
    let sim = OktaSim::start(Directory::generate(1, 5, "acme.example"), options())
        .await
        .unwrap();
    let mut config = ssws(&sim);
    config.page_size = 500;
    let err = sync(config).await.unwrap_err();
    assert!(matches!(err, IdpError::Config { .. }), "{err:?}");
    assert_eq!(sim.requests().users, 0);
}

#[tokio::test]
async fn a_token_about_to_expire_is_renewed_before_the_next_page() {
    let mut opts = options();
    opts.dpop_required = false;
    // Okta says 30 s; idgap renews 30 s early, so every page needs a new token.
    opts.token_lifetime = Duration::from_secs(30);
    let sim = OktaSim::start(
        Directory::from_people(
            (0..5)
                .map(|i| Person::active(i, &format!("u{i}@acme.example")))
                .collect(),
        ),
        opts,
    )
    .await
    .unwrap();
    let mut config = service_app(&sim, false);
    config.page_size = 2;
    let snap = sync(config).await.unwrap();
    assert_eq!(snap.accounts.len(), 5);
    // Three plain pages and one (empty) deprovisioned page, each with a fresh token.
    assert_eq!(sim.requests().users, 4);
    assert_eq!(sim.requests().token, 4);
}

#[tokio::test]
async fn a_resource_nonce_challenge_is_answered_too() {
    let mut opts = options();
    opts.resource_nonce_required = true;
    let sim = OktaSim::start(Directory::generate(3, 450, "acme.example"), opts)
        .await
        .unwrap();
    // A renewal mid-paging must not mix the token endpoint's nonce with the resource one.
    sim.faults()
        .push(FaultRule::new("/api/v1/users", Fault::ExpireToken).skip(2));
    let snap = sync(service_app(&sim, true)).await.unwrap();
    assert_eq!(snap.accounts.len(), 450);
    // The first resource call is challenged once (401 use_dpop_nonce) and one is refused
    // as expired; the resource nonce then rides along on every later proof.
    let deprovisioned = Directory::generate(3, 450, "acme.example")
        .people
        .iter()
        .filter(|p| p.state == PersonState::Deprovisioned)
        .count();
    assert_eq!(
        sim.requests().users,
        pages(450 - deprovisioned, 200) + pages(deprovisioned, 200) + 2
    );
    // Nonce challenge + token, then one renewal with the token endpoint's nonce.
    assert_eq!(sim.requests().token, 3);
}
