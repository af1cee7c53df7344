//! The operator dies in the middle of applying a few hundred AccessFindings; a fresh
//! instance (empty caches) converges to exactly the set an uninterrupted operator writes.
//! Then the same with two replicas behind the leader Lease: the standby takes over.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use idgap::operator::Operator;
use idgap::operator::leader::{LEASE_NAME, LeaderLease};
use idgap::operator::metrics::Metrics;
use idgap_sim::idp::Directory;
use idgap_sim::salesforce::{GenerateSpec, OrgData, SimOptions};
use k8s_openapi::api::coordination::v1::Lease;
use kube::Api;
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

/// Starts an operator on its own runtime; with `lease`, only after holding the leader lease
/// (renewed on that runtime, so it lapses when the runtime dies), as `idgap run` does.
async fn start_crashable(ns: String, lease: Option<&'static str>) -> Crashable {
    tokio::task::spawn_blocking(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a runtime for the doomed operator");
        let operator = runtime.block_on(async {
            let client = Cluster::shared().await.client().await;
            if let Some(identity) = lease {
                let lease = leader_lease(client.clone(), &ns, identity);
                lease
                    .acquire()
                    .await
                    .expect("the first replica takes the lease");
                tokio::spawn(async move { lease.hold().await });
            }
            idgap::operator::start(
                client,
                operator_config(&ns, lease.unwrap_or("doomed")),
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
async fn crash_and_failover_mid_apply_converge_to_exactly_the_right_findings() {
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
    let doomed = start_crashable(env.ns.clone(), None).await;
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
    env.finish().await;

    // Two replicas: the leader dies mid-apply, the standby takes the lease and completes.
    let env = world("rel-failover", false).await;
    let leader = start_crashable(env.ns.clone(), Some("replica-a")).await;
    let standby_leads = Arc::new(AtomicBool::new(false));
    let standby = {
        let (ns, client, metrics) = (env.ns.clone(), env.client.clone(), env.metrics.clone());
        let leads = standby_leads.clone();
        tokio::spawn(async move {
            let lease = leader_lease(client.clone(), &ns, "replica-b");
            lease.acquire().await.expect("the standby takes the lease");
            leads.store(true, Ordering::SeqCst);
            let renew = tokio::spawn(async move { lease.hold().await });
            let operator = idgap::operator::start(
                client,
                operator_config(&ns, "replica-b"),
                metrics,
                Arc::new(AtomicBool::new(false)),
            )
            .await
            .expect("start the standby's operator");
            (operator, renew)
        })
    };
    let partial = kill_after_first_findings(&env, leader).await;
    assert!(
        !standby_leads.load(Ordering::SeqCst),
        "the standby waited while the leader held the lease"
    );
    assert!(!partial.is_empty() && partial.len() < expected.len());
    assert!(partial.is_subset(&expected));
    let (operator, renew) = standby.await.unwrap();
    let mut env = env;
    env.operator = Some(operator);
    env.wait_ready_reason(NAME, "Succeeded").await;
    assert_eq!(
        finding_set(&env).await,
        expected,
        "the standby wrote exactly the uninterrupted operator's findings"
    );
    let leases: Api<Lease> = Api::namespaced(env.client.clone(), &env.ns);
    let spec = leases.get(LEASE_NAME).await.unwrap().spec.unwrap();
    assert_eq!(spec.holder_identity.as_deref(), Some("replica-b"));
    assert_eq!(spec.lease_transitions, Some(1));
    renew.abort();
    control.finish().await;
    env.finish().await;
}

fn leader_lease(client: kube::Client, ns: &str, identity: &str) -> LeaderLease {
    LeaderLease::new(client, ns, identity.to_string()).with_duration(Duration::from_secs(4))
}

/// Waits for the first AccessFindings, then kills the operator: every task dropped where it
/// stands, no graceful shutdown. Returns the findings written by then.
async fn kill_after_first_findings(
    env: &Env,
    doomed: Crashable,
) -> BTreeSet<(String, String, String)> {
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
    let Crashable { runtime, operator } = doomed;
    runtime.shutdown_background();
    drop(operator);
    finding_set(env).await
}
