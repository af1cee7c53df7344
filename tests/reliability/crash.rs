//! The operator dies in the middle of applying a few hundred AccessFindings; a fresh
//! instance (empty caches) converges to exactly the set an uninterrupted operator writes.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use idgap::operator::Operator;
use idgap::operator::metrics::Metrics;
use idgap_sim::idp::Directory;
use idgap_sim::salesforce::{GenerateSpec, OrgData, SimOptions};
use kube::api::ListParams;

use crate::env::{Env, IDP, operator_config};
use crate::support::{Cluster, eventually};

const NAME: &str = "big";
const DOMAIN: &str = "acme.example";

fn org() -> OrgData {
    OrgData::generate(
        9,
        &GenerateSpec {
            users: 900,
            oauth_grants: 20,
            audit_events: 20,
            domain: DOMAIN.to_string(),
            anchor: "2026-06-01T00:00:00Z".parse().unwrap(),
            sandbox: false,
        },
    )
}

/// Two thirds of the org's users: the rest are not in the IdP.
fn directory() -> Directory {
    Directory::generate(9, 600, DOMAIN)
}

async fn world(prefix: &str, with_operator: bool) -> Env {
    let env = Env::start_with(
        prefix,
        org(),
        directory(),
        SimOptions::default(),
        with_operator,
    )
    .await;
    env.create_secrets().await;
    env.create_identity_provider(IDP, &env.jc.base_url()).await;
    env.create_integration(NAME, env.integration_spec(&env.sf.base_url()))
        .await;
    env
}

/// (name, rule, subject) of every finding; asserts no (rule, subject) appears twice.
async fn finding_set(env: &Env) -> BTreeSet<(String, String, String)> {
    let findings = env.findings().await;
    let set: BTreeSet<(String, String, String)> = findings
        .iter()
        .map(|f| {
            (
                f.metadata.name.clone().unwrap_or_default(),
                f.spec.rule.clone(),
                f.spec.subject.display.clone(),
            )
        })
        .collect();
    let keys: BTreeSet<(String, String)> =
        set.iter().map(|(_, r, s)| (r.clone(), s.clone())).collect();
    assert_eq!(keys.len(), findings.len(), "no finding is duplicated");
    set
}

/// An operator on its own runtime, so it can be killed without running any shutdown code.
struct Crashable {
    runtime: tokio::runtime::Runtime,
    operator: Operator,
}

async fn start_crashable(ns: String) -> Crashable {
    tokio::task::spawn_blocking(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a runtime for the doomed operator");
        let operator = runtime.block_on(async {
            let client = Cluster::shared().await.client().await;
            idgap::operator::start(
                client,
                operator_config(&ns, "doomed"),
                Arc::new(Metrics::new()),
                Arc::new(AtomicBool::new(false)),
            )
            .await
            .expect("start the doomed operator")
        });
        Crashable { runtime, operator }
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fresh_operator_converges_after_a_crash_mid_apply() {
    // The reference: the same org and directory, synced without interruption.
    let control = world("rel-control", true).await;
    control.wait_ready_reason(NAME, "Succeeded").await;
    let expected = finding_set(&control).await;
    assert!(
        expected.len() > 200,
        "a few hundred findings: {}",
        expected.len()
    );

    let env = world("rel-crash", false).await;
    let doomed = start_crashable(env.ns.clone()).await;
    let probe = env.findings_api();
    eventually("the first AccessFindings", Duration::from_secs(60), || {
        let probe = probe.clone();
        async move {
            let page = probe
                .list_metadata(&ListParams::default().limit(1))
                .await
                .ok()?;
            (!page.items.is_empty()).then_some(())
        }
    })
    .await;
    // Killed: every task of the operator dropped where it stands, no graceful shutdown.
    let Crashable { runtime, operator } = doomed;
    runtime.shutdown_background();
    drop(operator);
    let partial = finding_set(&env).await;
    assert!(
        !partial.is_empty() && partial.len() < expected.len(),
        "the crash came in the middle of applying: {} of {}",
        partial.len(),
        expected.len()
    );
    // What the crashed operator managed to write is already right.
    assert!(partial.is_subset(&expected));
    eprintln!(
        "crash: {} of {} findings written before the crash",
        partial.len(),
        expected.len()
    );

    // A fresh instance with empty caches.
    let mut env = env;
    env.operator = Some(env.start_operator("fresh").await);
    env.wait_ready_reason(NAME, "Succeeded").await;
    let converged = finding_set(&env).await;
    assert_eq!(
        converged, expected,
        "exactly the uninterrupted operator's findings"
    );
    control.finish().await;
    env.finish().await;
}
