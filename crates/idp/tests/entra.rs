//! The Entra ID (Microsoft Graph) client against the Entra simulator, over real HTTP.

mod common;

use common::{assert_unique_ids, count, http, impostor, pem_body_lines, rsa_private_key_pem};
use idgap_idp::{EntraAuth, EntraConfig, IdpConfig, IdpError};
use idgap_model::{AccountStatus, DirectorySnapshot};
use idgap_net::SecretString;
use idgap_sim::faults::{Fault, FaultRule};
use idgap_sim::idp::entra::{EntraSim, EntraSimOptions};
use idgap_sim::idp::{Directory, Person, PersonState};

const TENANT: &str = "contoso.onmicrosoft.com";
const CLIENT_ID: &str = "11111111-2222-3333-4444-555555555555";
const SECRET: &str = "s3cr~simulated-client-secret-value";
const THUMBPRINT: &str = "9A0B1C2D3E4F5061728394A5B6C7D8E9F0A1B2C3";

fn secret_config(sim: &EntraSim) -> EntraConfig {
    let mut c = EntraConfig::new(
        TENANT,
        EntraAuth::ClientSecret {
            client_id: CLIENT_ID.into(),
            client_secret: SecretString::new(SECRET),
        },
    );
    c.login_base_url = Some(sim.base_url());
    c.graph_base_url = Some(sim.base_url());
    c.page_size = 200;
    c
}

fn cert_config(sim: &EntraSim, thumbprint: &str) -> EntraConfig {
    let mut c = secret_config(sim);
    c.auth = EntraAuth::Certificate {
        client_id: CLIENT_ID.into(),
        private_key_pem: rsa_private_key_pem(),
        certificate_thumbprint: thumbprint.into(),
    };
    c
}

fn options() -> EntraSimOptions {
    let mut o = EntraSimOptions::new(TENANT, CLIENT_ID, SECRET);
    o.certificate_thumbprint = Some(THUMBPRINT.into());
    o
}

async fn sync(config: EntraConfig) -> Result<DirectorySnapshot, IdpError> {
    idgap_idp::sync(&http(), "entra", &IdpConfig::EntraId(config)).await
}

fn listed(dir: &Directory) -> Vec<&Person> {
    dir.people
        .iter()
        .filter(|p| EntraSim::is_listed(p))
        .collect()
}

#[tokio::test]
async fn client_secret_lists_every_page_with_graph_statuses() {
    let dir = Directory::generate(21, 1050, "contoso.example");
    let sim = EntraSim::start(dir.clone(), options()).await.unwrap();
    let snap = sync(secret_config(&sim)).await.unwrap();
    let listed = listed(&dir);
    assert_eq!(snap.accounts.len(), listed.len());
    assert_unique_ids(&snap.accounts);
    let n = |s: PersonState| listed.iter().filter(|p| p.state == s).count();
    assert_eq!(
        count(&snap.accounts, AccountStatus::Suspended),
        n(PersonState::Suspended)
    );
    assert_eq!(
        count(&snap.accounts, AccountStatus::Pending),
        n(PersonState::Pending)
    );
    // Graph has no lock state: locked people are enabled accounts.
    assert_eq!(
        count(&snap.accounts, AccountStatus::Active),
        n(PersonState::Active) + n(PersonState::Locked)
    );
    assert_eq!(count(&snap.accounts, AccountStatus::Deprovisioned), 0);
    for p in &listed {
        let a = snap
            .accounts
            .iter()
            .find(|a| a.id == EntraSim::user_id(p))
            .expect("person missing");
        let want = match p.state {
            PersonState::Suspended => "accountEnabled=false",
            PersonState::Pending => "externalUserState=PendingAcceptance",
            _ => "accountEnabled=true",
        };
        assert_eq!(a.raw_status, want);
    }
    let pages = listed.len().div_ceil(200) as u64;
    assert_eq!(sim.requests().users, pages);
    assert_eq!(sim.requests().token, 1);
    assert_eq!(snap.requests, pages + 1);
}

#[tokio::test]
async fn proxy_addresses_and_other_mails_are_normalised_and_guest_upns_left_out() {
    let bob = Person::active(1, "Bob@Contoso.example").with_alias("Bob.Sales@Contoso.example");
    let mut guest = Person::active(2, "ann_fabrikam.example#EXT#@contoso.onmicrosoft.com");
    guest.primary_email = "Ann@Fabrikam.example".into();
    let sim = EntraSim::start(Directory::from_people(vec![bob, guest]), options())
        .await
        .unwrap();
    let snap = sync(secret_config(&sim)).await.unwrap();
    let bob = snap
        .accounts
        .iter()
        .find(|a| a.login == "Bob@Contoso.example")
        .unwrap();
    // UPN, mail, otherMails and the SMTP proxy addresses; the SIP: address is not email.
    assert_eq!(
        bob.identifiers,
        vec!["bob.sales@contoso.example", "bob@contoso.example"]
    );
    let ann = snap
        .accounts
        .iter()
        .find(|a| a.login.contains("#EXT#"))
        .unwrap();
    assert_eq!(ann.identifiers, vec!["ann@fabrikam.example"]);
    assert_eq!(ann.status, AccountStatus::Active);
}

#[tokio::test]
async fn certificate_credentials_work_with_a_thumbprint() {
    let sim = EntraSim::start(Directory::generate(2, 120, "contoso.example"), options())
        .await
        .unwrap();
    let snap = sync(cert_config(
        &sim,
        "9a:0b:1c:2d:3e:4f:50:61:72:83:94:a5:b6:c7:d8:e9:f0:a1:b2:c3",
    ))
    .await
    .unwrap();
    assert_eq!(
        snap.accounts.len(),
        listed(&Directory::generate(2, 120, "contoso.example")).len()
    );
}

#[tokio::test]
async fn an_unregistered_certificate_is_an_auth_error_without_key_material() {
    let sim = EntraSim::start(Directory::generate(2, 10, "contoso.example"), options())
        .await
        .unwrap();
    let config = cert_config(&sim, "0000000000000000000000000000000000000000");
    let err = sync(config.clone()).await.unwrap_err();
    assert!(matches!(err, IdpError::Auth { .. }), "{err:?}");
    let text = format!("{err} {err:?} {config:?}");
    assert!(
        text.contains("AADSTS700027") && text.contains("certificate"),
        "{text}"
    );
    for line in pem_body_lines(&rsa_private_key_pem()) {
        assert!(!text.contains(&line), "key material in: {text}");
    }
}

#[tokio::test]
async fn a_wrong_secret_is_an_auth_error_that_does_not_echo_it() {
    let sim = EntraSim::start(Directory::generate(2, 10, "contoso.example"), options())
        .await
        .unwrap();
    let wrong = "wrong~secret-that-must-not-leak";
    let mut config = secret_config(&sim);
    config.auth = EntraAuth::ClientSecret {
        client_id: CLIENT_ID.into(),
        client_secret: SecretString::new(wrong),
    };
    let err = sync(config.clone()).await.unwrap_err();
    assert!(matches!(err, IdpError::Auth { .. }), "{err:?}");
    let text = format!("{err} {err:?} {config:?}");
    assert!(
        text.contains("AADSTS7000215") && text.contains("secret's Value"),
        "{text}"
    );
    assert!(!text.contains(wrong), "{text}");
}

#[tokio::test]
async fn an_unknown_tenant_or_app_says_which() {
    let sim = EntraSim::start(Directory::generate(2, 10, "contoso.example"), options())
        .await
        .unwrap();
    let mut config = secret_config(&sim);
    config.tenant_id = "fabrikam.onmicrosoft.com".into();
    let err = sync(config).await.unwrap_err();
    assert!(
        err.to_string().contains("AADSTS90002") && err.to_string().contains("tenant"),
        "{err}"
    );

    let mut config = secret_config(&sim);
    config.auth = EntraAuth::ClientSecret {
        client_id: "99999999-0000-0000-0000-000000000000".into(),
        client_secret: SecretString::new(SECRET),
    };
    let err = sync(config).await.unwrap_err();
    assert!(matches!(err, IdpError::Auth { .. }), "{err:?}");
    assert!(err.to_string().contains("AADSTS700016"), "{err}");
}

#[tokio::test]
async fn missing_user_read_all_is_a_permission_error_with_the_fix() {
    let mut opts = options();
    opts.user_read_all = false;
    let sim = EntraSim::start(Directory::generate(2, 10, "contoso.example"), opts)
        .await
        .unwrap();
    let err = sync(secret_config(&sim)).await.unwrap_err();
    assert!(matches!(err, IdpError::Permission { .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("Authorization_RequestDenied"), "{text}");
    assert!(
        text.contains("User.Read.All") && text.contains("admin consent"),
        "{text}"
    );
}

#[tokio::test]
async fn throttling_honours_retry_after_then_continues() {
    let dir = Directory::generate(4, 600, "contoso.example");
    let sim = EntraSim::start(dir.clone(), options()).await.unwrap();
    sim.faults()
        .push(FaultRule::new("/v1.0/users", EntraSim::throttled(1)).skip(1));
    sim.faults().push(FaultRule::new(
        "/v1.0/users",
        Fault::Status {
            status: 503,
            retry_after: Some(1),
            body: None,
            headers: vec![],
        },
    ));
    let started = std::time::Instant::now();
    let snap = sync(secret_config(&sim)).await.unwrap();
    assert_eq!(snap.accounts.len(), listed(&dir).len());
    assert_eq!(
        sim.requests().users,
        listed(&dir).len().div_ceil(200) as u64 + 2
    );
    // Two one-second Retry-After waits, not the quick policy's millisecond backoff.
    assert!(
        started.elapsed() >= std::time::Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn an_expired_token_is_fetched_again_mid_paging() {
    let dir = Directory::generate(6, 1000, "contoso.example");
    let sim = EntraSim::start(dir.clone(), options()).await.unwrap();
    sim.faults()
        .push(FaultRule::new("/v1.0/users", Fault::ExpireToken).skip(2));
    let snap = sync(secret_config(&sim)).await.unwrap();
    assert_eq!(snap.accounts.len(), listed(&dir).len());
    assert_unique_ids(&snap.accounts);
    assert_eq!(sim.requests().token, 2);
}

#[tokio::test]
async fn cut_off_pages_are_retried_and_persistent_garbage_reported() {
    let dir = Directory::generate(8, 500, "contoso.example");
    let sim = EntraSim::start(dir.clone(), options()).await.unwrap();
    sim.faults()
        .push(FaultRule::new("/v1.0/users", Fault::TruncateBody).skip(1));
    let snap = sync(secret_config(&sim)).await.unwrap();
    assert_eq!(snap.accounts.len(), listed(&dir).len());

    sim.faults()
        .push(FaultRule::new("/v1.0/users", Fault::NotJson).times(10));
    let err = sync(secret_config(&sim)).await.unwrap_err();
    assert!(matches!(err, IdpError::Protocol { .. }), "{err:?}");
    assert!(err.to_string().contains("HTML"), "{err}");
}

#[tokio::test]
async fn an_empty_tenant_is_refused() {
    let sim = EntraSim::start(Directory::default(), options())
        .await
        .unwrap();
    let err = sync(secret_config(&sim)).await.unwrap_err();
    assert!(
        matches!(
            err,
            IdpError::Empty {
                provider: "Entra ID"
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_host_that_is_not_graph_is_a_protocol_error() {
    let sim = EntraSim::start(Directory::generate(2, 10, "contoso.example"), options())
        .await
        .unwrap();
    let (base, _server) = impostor(r#"{"value":"not a user list"}"#, "application/json").await;
    let mut config = secret_config(&sim);
    config.graph_base_url = Some(base);
    let err = sync(config).await.unwrap_err();
    assert!(matches!(err, IdpError::Protocol { .. }), "{err:?}");
    assert!(err.to_string().contains("not what Entra ID sends"), "{err}");
}

#[tokio::test]
async fn without_select_graph_hides_account_enabled_and_the_client_would_notice() {
    // The simulator projects like Graph: no $select, no accountEnabled.
    let sim = EntraSim::start(Directory::generate(2, 3, "contoso.example"), options())
        .await
        .unwrap();
    let token: serde_json::Value = token_from_sim(&sim).await;
    let body = get_json(
        &format!("{}/v1.0/users", sim.base_url()),
        token["access_token"].as_str().unwrap(),
    )
    .await;
    assert!(body["value"][0].get("accountEnabled").is_none(), "{body}");
    assert!(
        body["value"][0].get("userPrincipalName").is_some(),
        "{body}"
    );
}

/// A token straight from the simulator, through the same `Http` plumbing.
async fn token_from_sim(sim: &EntraSim) -> serde_json::Value {
    let url = format!("{}/{TENANT}/oauth2/v2.0/token", sim.base_url());
    let body = format!(
        "grant_type=client_credentials&client_id={CLIENT_ID}&client_secret={}&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default",
        SECRET.replace('~', "%7E")
    );
    http()
        .request::<_, IdpError>(
            "test token",
            idgap_net::Method::POST,
            &url,
            |rb| {
                rb.header("content-type", "application/x-www-form-urlencoded")
                    .body(body.clone())
            },
            |resp| idgap_net::Attempt::Done(serde_json::from_slice(&resp.body).unwrap()),
        )
        .await
        .unwrap()
}

async fn get_json(url: &str, token: &str) -> serde_json::Value {
    http()
        .request::<_, IdpError>(
            "test get",
            idgap_net::Method::GET,
            url,
            |rb| rb.header("authorization", format!("Bearer {token}")),
            |resp| idgap_net::Attempt::Done(serde_json::from_slice(&resp.body).unwrap()),
        )
        .await
        .unwrap()
}

#[tokio::test]
async fn a_token_about_to_expire_is_renewed_before_the_next_page() {
    let mut opts = options();
    // Graph says 60 s; idgap renews 60 s early, so every page needs a new token.
    opts.token_lifetime = std::time::Duration::from_secs(60);
    let sim = EntraSim::start(Directory::generate(3, 50, "contoso.example"), opts)
        .await
        .unwrap();
    let mut config = secret_config(&sim);
    config.page_size = 20;
    let snap = sync(config).await.unwrap();
    let pages = listed(&Directory::generate(3, 50, "contoso.example"))
        .len()
        .div_ceil(20) as u64;
    assert_eq!(
        snap.accounts.len(),
        listed(&Directory::generate(3, 50, "contoso.example")).len()
    );
    assert_eq!(sim.requests().users, pages);
    assert_eq!(sim.requests().token, pages);
}

/// Regression: one user with `"accountEnabled": null` failed the whole directory, so every
/// IdP rule was skipped. Now that user is read with an unknown state and the rest as usual.
#[tokio::test]
async fn a_null_account_enabled_is_read_as_unknown_not_a_failed_directory() {
    let dir = Directory::from_people(vec![
        Person::active(1, "ada@contoso.example"),
        Person::active(2, "bob@contoso.example").with_state(PersonState::Suspended),
        Person::active(3, "cy@contoso.example"),
    ]);
    let mut o = options();
    o.null_account_enabled = vec![2];
    o.synced_from_ad = vec![3];
    let sim = EntraSim::start(dir.clone(), o).await.unwrap();
    let snap = sync(secret_config(&sim)).await.unwrap();
    assert_eq!(snap.accounts.len(), 3);
    let by_login = |l: &str| snap.accounts.iter().find(|a| a.login == l).unwrap();
    let bob = by_login("bob@contoso.example");
    assert_eq!(bob.status, AccountStatus::Unknown);
    assert_eq!(bob.raw_status, "accountEnabled=null");
    assert_eq!(count(&snap.accounts, AccountStatus::Active), 2);
    assert_eq!(
        by_login("cy@contoso.example").other_ids,
        vec![EntraSim::immutable_id(&dir.people[2])]
    );
    assert!(by_login("ada@contoso.example").other_ids.is_empty());
}
