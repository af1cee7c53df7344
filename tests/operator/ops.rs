//! Operations: leader election on a real Lease, the metrics/health server, the CRD check.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures::FutureExt;
use idgap::operator::leader::LeaderLease;
use idgap::operator::metrics::Metrics;
use idgap::operator::server::{ServerState, serve};
use k8s_openapi::api::coordination::v1::Lease;
use kube::Api;

use crate::support::{Cluster, eventually};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_one_replica_holds_the_lease() {
    let cluster = Cluster::shared().await;
    let ns = cluster.fresh_namespace("op-lease").await;
    let client = cluster.client().await;
    let a = LeaderLease::new(client.clone(), &ns, "replica-a".into())
        .with_duration(Duration::from_secs(2));
    let b = LeaderLease::new(client.clone(), &ns, "replica-b".into())
        .with_duration(Duration::from_secs(2));
    assert!(
        a.try_acquire_or_renew().await.unwrap(),
        "a takes the free lease"
    );
    assert!(
        !b.try_acquire_or_renew().await.unwrap(),
        "b must not take a held lease"
    );
    assert!(a.try_acquire_or_renew().await.unwrap(), "a renews");
    assert!(!b.try_acquire_or_renew().await.unwrap());

    // a stops renewing: b takes over once the lease expired.
    eventually(
        "b to take the expired lease",
        Duration::from_secs(20),
        || async { b.try_acquire_or_renew().await.unwrap().then_some(()) },
    )
    .await;
    assert!(!a.try_acquire_or_renew().await.unwrap(), "a lost it");
    let lease = Api::<Lease>::namespaced(client, &ns)
        .get(idgap::operator::leader::LEASE_NAME)
        .await
        .unwrap();
    let spec = lease.spec.unwrap();
    assert_eq!(spec.holder_identity.as_deref(), Some("replica-b"));
    assert_eq!(spec.lease_transitions, Some(1));
    assert_eq!(spec.lease_duration_seconds, Some(2));
}

#[tokio::test]
async fn serves_metrics_health_and_readiness() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let metrics = Arc::new(Metrics::new());
    metrics.finding_write("create");
    metrics.api_requests("salesforce", 7);
    let ready = Arc::new(AtomicBool::new(false));
    let (stop, stopped) = futures::channel::oneshot::channel::<()>();
    let server = tokio::spawn(serve(
        addr,
        ServerState {
            metrics: metrics.clone(),
            ready: ready.clone(),
        },
        stopped.map(|_| ()),
    ));
    let http = reqwest::Client::new();
    let base = format!("http://{addr}");
    let get = |path: &'static str| {
        let http = http.clone();
        let url = format!("{base}{path}");
        async move { http.get(url).send().await.ok() }
    };
    let health = eventually("the server to listen", Duration::from_secs(10), || {
        get("/healthz")
    })
    .await;
    assert_eq!(health.status(), 200);
    assert_eq!(get("/readyz").await.unwrap().status(), 503);
    ready.store(true, Ordering::Relaxed);
    assert_eq!(get("/readyz").await.unwrap().status(), 200);
    let body = get("/metrics").await.unwrap().text().await.unwrap();
    assert!(
        body.contains("idgap_finding_writes_total{op=\"create\"} 1"),
        "{body}"
    );
    assert!(
        body.contains("idgap_api_requests_total{provider=\"salesforce\"} 7"),
        "{body}"
    );
    let _ = stop.send(());
    server.await.unwrap().unwrap();
}

#[tokio::test]
async fn startup_check_explains_missing_access_to_the_crds() {
    let cluster = Cluster::shared().await;
    cluster.install_crds().await;
    let ns = cluster.fresh_namespace("op-crd").await;
    // A service account without RBAC cannot read the CRDs: the same message as when they are
    // not installed.
    let token = cluster.token_for_service_account(&ns, "nobody").await;
    let client = cluster.client_with_token(&token).await;
    let err = idgap::operator::check_crds(&client, std::slice::from_ref(&ns))
        .await
        .unwrap_err();
    let text = format!("{err:#}");
    assert!(text.contains("SalesforceIntegration CRD"), "{text}");
    assert!(text.contains("idgap crd"), "{text}");
    // With access it passes.
    idgap::operator::check_crds(&cluster.client().await, &[ns])
        .await
        .unwrap();
}
