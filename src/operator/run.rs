//! Wiring: controllers per watched scope, the metrics server, signals, leader election.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::Context as _;
use futures::channel::{mpsc, oneshot};
use futures::{FutureExt, StreamExt};
use k8s_openapi::api::core::v1::Secret;
use kube::api::{ListParams, PartialObjectMeta};
use kube::runtime::controller::{self, Controller};
use kube::runtime::reflector::{ObjectRef, Store};
use kube::runtime::watcher;
use kube::{Api, Client, Resource, ResourceExt};
use tokio::task::JoinHandle;

use super::args::{LogFormat, RunArgs};
use super::context::{Context, Scope};
use super::leader::LeaderLease;
use super::metrics::Metrics;
use super::server::{self, ServerState};
use super::watch_backoff::WatchBackoff;
use super::{identity_provider, integration};
use crate::resolve::{identity_provider_secret_refs, integration_secret_refs};
use crate::resources::{AccessFinding, IdentityProvider, SalesforceIntegration};

/// Everything `start` needs besides a client.
#[derive(Debug, Clone)]
pub struct OperatorConfig {
    pub allow_hosts: Vec<String>,
    pub watch_namespaces: Vec<String>,
    pub max_concurrent_reconciles: u16,
    pub request_timeout: Duration,
    pub retry: idgap_net::RetryPolicy,
    /// Names this replica in events and the lease.
    pub instance: Option<String>,
}

impl From<&RunArgs> for OperatorConfig {
    fn from(a: &RunArgs) -> Self {
        OperatorConfig {
            allow_hosts: a.allow_hosts.clone(),
            watch_namespaces: a.watch_namespaces.clone(),
            max_concurrent_reconciles: a.max_concurrent_reconciles,
            request_timeout: a.request_timeout,
            retry: idgap_net::RetryPolicy::default(),
            instance: instance_name(),
        }
    }
}

fn instance_name() -> Option<String> {
    std::env::var("POD_NAME")
        .or_else(|_| std::env::var("HOSTNAME"))
        .ok()
}

/// The running controllers.
pub struct Operator {
    pub metrics: Arc<Metrics>,
    pub ready: Arc<AtomicBool>,
    stop: Vec<oneshot::Sender<()>>,
    tasks: Vec<JoinHandle<()>>,
}

impl Operator {
    /// Stops taking new work, lets in-flight reconciles (and their applies) finish.
    pub async fn shutdown(mut self) {
        self.ready.store(false, Ordering::Relaxed);
        for s in self.stop.drain(..) {
            let _ = s.send(());
        }
        for t in self.tasks.drain(..) {
            let _ = t.await;
        }
    }
}

/// Fails with an actionable message when the CRDs are not installed or not readable.
pub async fn check_crds(client: &Client, namespaces: &[String]) -> anyhow::Result<()> {
    let scopes: Vec<Option<&str>> = if namespaces.is_empty() {
        vec![None]
    } else {
        namespaces.iter().map(|n| Some(n.as_str())).collect()
    };
    let lp = ListParams::default().limit(1);
    for ns in scopes {
        let hint = "Install them with `idgap crd | kubectl apply --server-side -f -` (or the Helm chart with crds.install=true) and check the operator's RBAC";
        macro_rules! probe {
            ($k:ty) => {{
                let api: Api<$k> = match ns {
                    Some(n) => Api::namespaced(client.clone(), n),
                    None => Api::all(client.clone()),
                };
                api.list_metadata(&lp).await.with_context(|| {
                    format!(
                        "the {} CRD ({}) is not installed or not readable{}. {hint}",
                        <$k>::kind(&()),
                        <$k>::plural(&()),
                        ns.map(|n| format!(" in namespace `{n}`"))
                            .unwrap_or_default()
                    )
                })?;
            }};
        }
        probe!(SalesforceIntegration);
        probe!(IdentityProvider);
        probe!(AccessFinding);
    }
    Ok(())
}

fn stop_signal(
    stops: &mut Vec<oneshot::Sender<()>>,
) -> impl Future<Output = ()> + Send + Sync + 'static {
    let (tx, rx) = oneshot::channel::<()>();
    stops.push(tx);
    rx.map(|_| ())
}

fn api<K>(client: &Client, ns: Option<&str>) -> Api<K>
where
    K: Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>,
{
    match ns {
        Some(n) => Api::namespaced(client.clone(), n),
        None => Api::all(client.clone()),
    }
}

/// True when this Secret event is a real change: not the first sighting of an existing
/// Secret, and not the operator's own write of a rotated refresh token (marked while in
/// flight, and its resourceVersion recorded before the mark is cleared).
fn secret_changed(ctx: &Context, kind: &str, s: &PartialObjectMeta<Secret>) -> bool {
    let (Some(ns), Some(rv)) = (s.namespace(), s.resource_version()) else {
        return false;
    };
    let key = (format!("{kind}/{ns}"), s.name_any());
    let mut versions = ctx.secret_versions.lock().expect("secret versions lock");
    // creationTimestamp has whole seconds: allow for the truncation.
    let started = ctx.started - jiff::SignedDuration::from_secs(1);
    let created_after_start = s.creation_timestamp().is_some_and(|t| t.0 >= started);
    let deleted = s.metadata.deletion_timestamp.is_some();
    let changed = match versions.insert(key, rv.clone()) {
        Some(old) => old != rv || deleted,
        None => created_after_start || deleted,
    };
    let own = ctx
        .own_secret_writes
        .lock()
        .expect("own secret writes lock")
        .contains(&(ns, s.name_any()));
    changed && !own
}

/// Starts one integration controller and one IdentityProvider controller per watched scope.
pub async fn start(
    client: Client,
    config: OperatorConfig,
    metrics: Arc<Metrics>,
    ready: Arc<AtomicBool>,
) -> anyhow::Result<Operator> {
    let policy = idgap_net::HostPolicy::vendors_only()
        .allow(config.allow_hosts.iter().map(String::as_str))
        .context("--allow-host")?;
    for warning in policy.broad_pattern_warnings() {
        tracing::warn!(%warning, "broad outbound allow-list");
    }
    let http = idgap_net::Http::new(policy, config.retry.clone(), config.request_timeout);
    check_crds(&client, &config.watch_namespaces).await?;
    let ctx = Arc::new(Context::new(
        client.clone(),
        metrics.clone(),
        http,
        config.instance.clone(),
    ));

    let scopes: Vec<Option<String>> = if config.watch_namespaces.is_empty() {
        vec![None]
    } else {
        config.watch_namespaces.iter().cloned().map(Some).collect()
    };
    let concurrency = controller::Config::default().concurrency(config.max_concurrent_reconciles);
    let mut stops = Vec::new();
    let mut tasks = Vec::new();
    for ns in scopes {
        let ns_ref = ns.as_deref();
        // SalesforceIntegrations.
        let (wake_tx, wake_rx) = mpsc::unbounded::<ObjectRef<SalesforceIntegration>>();
        let ctrl = Controller::new(
            api::<SalesforceIntegration>(&client, ns_ref),
            watcher::Config::default().any_semantic(),
        )
        .with_config(concurrency.clone())
        .trigger_backoff(WatchBackoff::default());
        let store = ctrl.store();
        ctx.scopes.lock().expect("scopes lock").push(Scope {
            namespace: ns.clone(),
            integrations: store.clone(),
            wake: wake_tx,
        });
        let (mctx, mstore) = (ctx.clone(), store.clone());
        let ctrl = ctrl
            .watches(
                api::<PartialObjectMeta<Secret>>(&client, ns_ref),
                watcher::Config::default().any_semantic(),
                move |s| secret_to_integrations(&mctx, &mstore, &s),
            )
            .reconcile_on(wake_rx)
            .graceful_shutdown_on(stop_signal(&mut stops));
        let c = ctx.clone();
        tasks.push(tokio::spawn(async move {
            ctrl.run(integration::reconcile, integration::error_policy, c)
                .for_each(|r| async move {
                    if let Err(e) = r {
                        tracing::debug!(error = %e, "integration controller event");
                    }
                })
                .await;
        }));

        // IdentityProviders.
        let ctrl = Controller::new(
            api::<IdentityProvider>(&client, ns_ref),
            watcher::Config::default().any_semantic(),
        )
        .with_config(concurrency.clone())
        .trigger_backoff(WatchBackoff::default());
        let (mctx, mstore) = (ctx.clone(), ctrl.store());
        let ctrl = ctrl
            .watches(
                api::<PartialObjectMeta<Secret>>(&client, ns_ref),
                watcher::Config::default().any_semantic(),
                move |s| secret_to_identity_providers(&mctx, &mstore, &s),
            )
            .graceful_shutdown_on(stop_signal(&mut stops));
        let c = ctx.clone();
        tasks.push(tokio::spawn(async move {
            ctrl.run(
                identity_provider::reconcile,
                identity_provider::error_policy,
                c,
            )
            .for_each(|r| async move {
                if let Err(e) = r {
                    tracing::debug!(error = %e, "identity provider controller event");
                }
            })
            .await;
        }));
    }
    ready.store(true, Ordering::Relaxed);
    tracing::info!(namespaces = ?config.watch_namespaces, "controllers started");
    Ok(Operator {
        metrics,
        ready,
        stop: stops,
        tasks,
    })
}

fn secret_to_integrations(
    ctx: &Context,
    store: &Store<SalesforceIntegration>,
    s: &PartialObjectMeta<Secret>,
) -> Vec<ObjectRef<SalesforceIntegration>> {
    let ns = s.namespace();
    let name = s.name_any();
    let refs: Vec<ObjectRef<SalesforceIntegration>> = store
        .state()
        .iter()
        .filter(|i| i.namespace() == ns)
        .filter(|i| {
            integration_secret_refs(&i.spec)
                .iter()
                .any(|(_, r)| r.name == name)
        })
        .map(|i| ObjectRef::from_obj(i.as_ref()))
        .collect();
    // Every Secret's version is recorded, referenced or not, so a later change is recognised.
    if secret_changed(ctx, integration::KIND, s) && !refs.is_empty() {
        for r in &refs {
            ctx.mark_pending((
                integration::KIND,
                r.namespace.clone().unwrap_or_default(),
                r.name.clone(),
            ));
        }
    }
    refs
}

fn secret_to_identity_providers(
    ctx: &Context,
    store: &Store<IdentityProvider>,
    s: &PartialObjectMeta<Secret>,
) -> Vec<ObjectRef<IdentityProvider>> {
    let ns = s.namespace();
    let name = s.name_any();
    let refs: Vec<ObjectRef<IdentityProvider>> = store
        .state()
        .iter()
        .filter(|i| i.namespace() == ns)
        .filter(|i| {
            identity_provider_secret_refs(&i.spec)
                .iter()
                .any(|(_, r)| r.name == name)
        })
        .map(|i| ObjectRef::from_obj(i.as_ref()))
        .collect();
    if secret_changed(ctx, identity_provider::KIND, s) && !refs.is_empty() {
        for r in &refs {
            ctx.mark_pending((
                identity_provider::KIND,
                r.namespace.clone().unwrap_or_default(),
                r.name.clone(),
            ));
        }
    }
    refs
}

fn init_logging(format: LogFormat) {
    use tracing_subscriber::EnvFilter;
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,kube=warn"));
    // Every line is redacted, at every level (crate::log_writer).
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(crate::log_writer::Redacting(std::io::stdout));
    let _ = match format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

async fn termination() {
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("installing a SIGTERM handler");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// `idgap run`.
pub async fn run(args: RunArgs) -> anyhow::Result<()> {
    init_logging(args.log_format);
    let client = Client::try_default()
        .await
        .context("no Kubernetes configuration found (in-cluster service account or KUBECONFIG)")?;
    let metrics = Arc::new(Metrics::new());
    let ready = Arc::new(AtomicBool::new(false));
    let (server_stop_tx, server_stop_rx) = oneshot::channel::<()>();
    let server = tokio::spawn(server::serve(
        args.metrics_addr,
        ServerState {
            metrics: metrics.clone(),
            ready: ready.clone(),
        },
        server_stop_rx.map(|_| ()),
    ));
    let config = OperatorConfig::from(&args);

    let lease = if args.leader_election {
        let ns = args
            .leader_election_namespace
            .clone()
            .unwrap_or_else(|| "default".into());
        let identity = config
            .instance
            .clone()
            .unwrap_or_else(|| format!("idgap-{}", rand::random::<u32>()));
        let lease = LeaderLease::new(client.clone(), &ns, identity.clone());
        tracing::info!(namespace = ns, identity, "waiting for the leader lease");
        tokio::select! {
            r = lease.acquire() => r?,
            _ = termination() => { let _ = server_stop_tx.send(()); return Ok(()); }
        }
        tracing::info!("acquired the leader lease");
        Some(lease)
    } else {
        None
    };

    let operator = start(client, config, metrics, ready).await?;
    let outcome = match &lease {
        Some(lease) => tokio::select! {
            e = lease.hold() => Err(anyhow::Error::new(e)),
            _ = termination() => Ok(()),
        },
        None => {
            termination().await;
            Ok(())
        }
    };
    tracing::info!("shutting down: finishing in-flight reconciles");
    operator.shutdown().await;
    let _ = server_stop_tx.send(());
    let _ = server.await;
    outcome
}
