//! A SalesforceIntegration and an IdentityProvider pointing at a host outside the
//! allow-list: no connection is ever made there, and both say HostNotAllowed.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::net::TcpListener;

use serde_json::json;

use crate::env::{Env, SF_SECRET, condition, idp_condition, small_directory, small_org};
use crate::support::eventually;

/// Counts the TCP connections made to a listener on 127.0.0.2 (loopback, not allowed: the
/// operator only allows 127.0.0.1 here).
async fn counting_listener() -> (String, Arc<AtomicU64>) {
    let listener = TcpListener::bind("127.0.0.2:0")
        .await
        .expect("bind 127.0.0.2");
    let url = format!("http://{}", listener.local_addr().unwrap());
    let count = Arc::new(AtomicU64::new(0));
    let c = count.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            c.fetch_add(1, Ordering::SeqCst);
            drop(stream);
        }
    });
    (url, count)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hosts_outside_the_allow_list_are_never_contacted() {
    let (url, connections) = counting_listener().await;
    // The listener works: a direct connection is counted.
    let probe = tokio::net::TcpStream::connect(url.trim_start_matches("http://"))
        .await
        .unwrap();
    drop(probe);
    eventually("the probe connection counted", crate::env::WAIT, || async {
        (connections.load(Ordering::SeqCst) == 1).then_some(())
    })
    .await;
    connections.store(0, Ordering::SeqCst);

    let env = Env::start("rel-hosts", small_org(), small_directory()).await;
    env.create_secrets().await;
    env.create_identity_provider(crate::env::IDP, &url).await;
    env.create_integration("elsewhere", env.integration_spec(&url))
        .await;

    let obj = env.wait_ready_reason("elsewhere", "HostNotAllowed").await;
    let ready = condition(&obj, "Ready").unwrap();
    assert_eq!(ready.status, "False");
    assert!(ready.message.contains("127.0.0.2"), "{}", ready.message);
    assert!(ready.message.contains("--allow-host"), "{}", ready.message);
    let stalled = condition(&obj, "Stalled").unwrap();
    assert_eq!(
        (stalled.status.as_str(), stalled.reason.as_str()),
        ("True", "HostNotAllowed")
    );
    let notes = env.wait_warning("HostNotAllowed", 0).await;
    assert!(notes.iter().any(|n| n.contains("127.0.0.2")), "{notes:?}");

    let idp = env.sync_idp_now("elsewhere").await;
    let ready = idp_condition(&idp, "Ready").unwrap();
    assert_eq!(
        (ready.status.as_str(), ready.reason.as_str()),
        ("False", "HostNotAllowed")
    );
    assert!(ready.message.contains("127.0.0.2"), "{}", ready.message);
    assert_eq!(idp_condition(&idp, "Stalled").unwrap().status, "True");

    // Asked again, still nothing goes out.
    env.sync_now("elsewhere", "again").await;
    assert_eq!(
        connections.load(Ordering::SeqCst),
        0,
        "no connection to a host not allowed"
    );
    assert_eq!(env.sf.request_log().entries().len(), 0);
    assert!(env.findings().await.is_empty());

    // The allowed simulator, signed in with a JWT bearer assertion: the private key is in
    // use (and must not leak, which `finish` checks).
    let creds = env.sf.credentials();
    env.create_integration(
        "jwt",
        json!({
            "interval": "1h",
            "loginUrl": env.sf.base_url(),
            "auth": { "jwtBearer": {
                "clientId": { "name": SF_SECRET, "key": "client_id" },
                "username": creds.jwt_username,
                "privateKey": { "name": SF_SECRET, "key": "private_key" },
            }},
            "identityProviderRefs": [],
        }),
    )
    .await;
    env.wait_ready_reason("jwt", "Succeeded").await;
    assert_eq!(connections.load(Ordering::SeqCst), 0);
    env.finish().await;
}
