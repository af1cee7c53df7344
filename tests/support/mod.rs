//! Shared harness for the integration tests: a real control plane (etcd, kube-apiserver,
//! kube-controller-manager) started once per test binary, plus helpers to talk to it.
//!
//! Use from a test file with `mod support;` and `support::Cluster::shared().await`.
#![allow(dead_code)]

pub mod cluster;
pub mod echo;
pub mod process;

#[allow(unused_imports)]
pub use cluster::{ApplyError, Cluster, DedicatedCluster, testbin_dir};

use std::future::Future;
use std::time::{Duration, Instant};

use idgap::resources::{Condition, SalesforceIntegration};

/// Polls `check` every 100 ms until it returns `Some`, or panics after `timeout` naming `what`.
/// For conditions the control plane reaches eventually (GC, Established, namespace deletion).
pub async fn eventually<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        if Instant::now() > deadline {
            panic!("timed out after {timeout:?} waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The integration's condition of `type_`, if it has one.
pub fn condition(o: &SalesforceIntegration, type_: &str) -> Option<Condition> {
    o.status
        .as_ref()?
        .conditions
        .iter()
        .find(|c| c.type_ == type_)
        .cloned()
}

/// Not syncing, and the current generation has been handled.
pub fn settled(o: &SalesforceIntegration) -> bool {
    let s = o.status.clone().unwrap_or_default();
    s.observed_generation == o.metadata.generation && condition(o, "Reconciling").is_none()
}
