//! Every log line of this test binary, and the secret values the scenarios handed out, so
//! each scenario can prove that none of them leaked into logs, Events, status or findings.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use k8s_openapi::api::events::v1::Event;
use kube::api::ListParams;
use kube::{Api, Client};
use tracing_subscriber::fmt::MakeWriter;

use idgap::resources::{AccessFinding, IdentityProvider, SalesforceIntegration};

/// The shared buffer every log line is written into.
#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .expect("log buffer lock")
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Buffer {
    type Writer = Buffer;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

static LOGS: OnceLock<Buffer> = OnceLock::new();
static SECRETS: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Installs the capturing subscriber (once per binary): every level from every crate, so a
/// secret in a debug line of a dependency is caught too.
pub fn install() {
    LOGS.get_or_init(|| {
        let buffer = Buffer::default();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::DEBUG)
            .with_ansi(false)
            // Through the redacting writer, exactly as `idgap run` logs.
            .with_writer(idgap::log_writer::Redacting(buffer.clone()))
            .finish();
        tracing::subscriber::set_global_default(subscriber)
            .expect("no other global subscriber in this binary");
        buffer
    });
}

/// Everything logged so far.
pub fn logs() -> String {
    let buffer = LOGS.get().expect("capture::install ran");
    String::from_utf8_lossy(&buffer.0.lock().expect("log buffer lock")).into_owned()
}

/// Remembers a secret value (or each line of a PEM body) for the leak checks.
pub fn register_secret(value: &str) {
    let mut secrets = SECRETS.lock().expect("secrets lock");
    if value.contains("-----BEGIN") {
        for line in value.lines() {
            let line = line.trim();
            if !line.is_empty() && !line.starts_with("-----") {
                secrets.push(line.to_string());
            }
        }
    } else if !value.is_empty() {
        secrets.push(value.to_string());
    }
}

pub fn secrets() -> Vec<String> {
    SECRETS.lock().expect("secrets lock").clone()
}

/// Panics naming the secret and where it was found, without printing the haystack.
fn assert_absent(haystack: &str, what: &str) {
    for s in secrets() {
        assert!(
            !haystack.contains(&s),
            "a secret value ({} chars, starting {:?}) appears in {what}",
            s.len(),
            s.chars().take(4).collect::<String>()
        );
    }
}

/// No registered secret in the captured logs, nor in the namespace's Events, the status of
/// its integrations and identity providers, or its AccessFindings.
pub async fn assert_no_secret_leaked(client: &Client, ns: &str) {
    assert!(!secrets().is_empty(), "the scenario registered its secrets");
    let logs = logs();
    assert!(
        logs.contains(ns),
        "the subscriber captured this scenario's operator logs"
    );
    assert_absent(&logs, "the log output");

    let lp = ListParams::default();
    let events: Api<Event> = Api::namespaced(client.clone(), ns);
    let events = events.list(&lp).await.expect("list Events").items;
    assert_absent(&serde_json::to_string(&events).unwrap(), "an Event");
    let integrations: Api<SalesforceIntegration> = Api::namespaced(client.clone(), ns);
    for i in integrations.list(&lp).await.expect("list integrations") {
        assert_absent(
            &serde_json::to_string(&i.status).unwrap(),
            "a SalesforceIntegration status",
        );
    }
    let idps: Api<IdentityProvider> = Api::namespaced(client.clone(), ns);
    for i in idps.list(&lp).await.expect("list identity providers") {
        assert_absent(
            &serde_json::to_string(&i.status).unwrap(),
            "an IdentityProvider status",
        );
    }
    let findings: Api<AccessFinding> = Api::namespaced(client.clone(), ns);
    let findings = findings.list(&lp).await.expect("list findings").items;
    assert_absent(
        &serde_json::to_string(&findings).unwrap(),
        "an AccessFinding",
    );
}
