//! Helpers shared by the identity-provider client tests (each test binary uses a subset).
#![allow(dead_code)]

use std::collections::HashSet;
use std::sync::OnceLock;
use std::time::Duration;

use idgap_model::{AccountStatus, IdpAccount};
use idgap_net::{HostPolicy, Http, RetryPolicy, SecretString};

/// An `Http` that may call the loopback simulators, with quick retries.
pub fn http() -> Http {
    let policy = HostPolicy::vendors_only().allow(["127.0.0.1"]).unwrap();
    Http::new(policy, RetryPolicy::quick(), Duration::from_secs(10))
}

/// One RSA private key (PKCS#8 PEM) per test binary: generating it is the slow part.
pub fn rsa_private_key_pem() -> SecretString {
    static KEY: OnceLock<String> = OnceLock::new();
    let pem = KEY.get_or_init(|| {
        use rsa::pkcs8::{EncodePrivateKey, LineEnding};
        let key = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).unwrap();
        key.to_pkcs8_pem(LineEnding::LF).unwrap().to_string()
    });
    SecretString::new(pem.clone())
}

/// Lines of the PEM body, to check that no part of the key leaks into a message.
pub fn pem_body_lines(pem: &SecretString) -> Vec<String> {
    pem.expose()
        .lines()
        .filter(|l| !l.starts_with("-----") && l.len() > 16)
        .map(str::to_string)
        .collect()
}

/// Asserts ids are unique and returns how many accounts have each status.
pub fn assert_unique_ids(accounts: &[IdpAccount]) {
    let ids: HashSet<&str> = accounts.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(ids.len(), accounts.len(), "duplicate account ids");
}

pub fn count(accounts: &[IdpAccount], status: AccountStatus) -> usize {
    accounts.iter().filter(|a| a.status == status).count()
}

/// A loopback server that is not an identity provider: `body` with `content_type` for every path.
pub async fn impostor(
    body: &'static str,
    content_type: &'static str,
) -> (String, tokio::task::JoinHandle<()>) {
    use axum::response::IntoResponse;
    let app = axum::Router::new()
        .fallback(move || async move { ([("content-type", content_type)], body).into_response() });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}"), task)
}
