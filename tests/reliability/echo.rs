//! The operator in front of a server that echoes every request (`tests/support/echo.rs`):
//! the Salesforce token endpoint and the JumpCloud users endpoint both answer with the
//! credentials they were sent. Status conditions, Events, findings and every log line must
//! carry none of them, in any encoding — and the echo must visibly have reached them,
//! redacted, or the test proves nothing.

use crate::capture;
use crate::env::{Env, condition, idp_condition, small_directory, small_org};
use crate::support::echo::{EchoServer, Mode, forms};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_echoed_by_a_server_reach_no_status_event_or_log() {
    let env = Env::start("rel-echo", small_org(), small_directory()).await;
    let creds = env.sf.credentials();
    for secret in [&creds.client_secret, &creds.refresh_token, &env.jc_key] {
        for form in forms(secret) {
            capture::register_secret(&form);
        }
    }
    // Salesforce refuses with the request as `error_description`; JumpCloud answers 401 with
    // the request as a page.
    let sf_echo = EchoServer::start(Mode::Refuse).await;
    let jc_echo = EchoServer::start(Mode::IssueThenRefuse).await;
    env.create_secrets().await;
    env.create_identity_provider(crate::env::IDP, &jc_echo.url)
        .await;
    env.create_integration("echoed", env.integration_spec(&sf_echo.url))
        .await;

    let obj = env
        .wait_ready_reason("echoed", "AuthenticationFailed")
        .await;
    let ready = condition(&obj, "Ready").unwrap();
    for secret in [&creds.client_secret, &creds.refresh_token] {
        assert!(
            !ready.message.contains(secret.as_str()),
            "a credential in the Ready condition"
        );
    }
    assert!(ready.message.contains("<redacted>"), "{}", ready.message);
    let notes = env.wait_warning("AuthenticationFailed", 0).await;
    assert!(
        notes.iter().any(|n| n.contains("<redacted>")),
        "the echo reached an Event, redacted: {notes:?}"
    );

    let idp = env.sync_idp_now("echo").await;
    let ready = idp_condition(&idp, "Ready").unwrap();
    assert_eq!(ready.status, "False", "{ready:?}");
    assert!(ready.message.contains("<redacted>"), "{}", ready.message);
    env.finish().await;
}
