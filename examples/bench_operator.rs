//! Benchmark (not a test): the operator against a real API server (the integration tests'
//! control plane: etcd + kube-apiserver + kube-controller-manager from `scripts/testbin.sh`).
//!
//! `cargo run --release --example bench_operator`
//!
//! Three measurements, all through the operator's real reconcile path (Secret → Salesforce and
//! JumpCloud simulators → detection → build → server-side apply):
//! 1. first apply of 10,000 AccessFindings for one integration (a generated org whose users
//!    are almost all missing from the IdP directory, capped by `findings.maxFindings`);
//! 2. a re-sync of that integration with nothing changed (AccessFinding writes counted by the
//!    operator's `idgap_finding_writes_total` and by the API server's own request metrics);
//! 3. peak RSS with 100 integrations × 100 findings; measured first, so the high-water mark
//!    is not raised by (1).
//!
//! The simulators run in a child process, so the RSS figure is this process alone: the
//! operator, its kube client and this driver (the control plane runs as separate processes).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use idgap::operator::metrics::Metrics;
use idgap::operator::{Operator, OperatorConfig, REQUESTED_AT_ANNOTATION};
use idgap::resources::{AccessFinding, IdentityProvider, SalesforceIntegration};
use idgap_sim::idp::jumpcloud::{JumpCloudSim, JumpCloudSimOptions};
use idgap_sim::idp::{Directory, Person};
use idgap_sim::salesforce::{GenerateSpec, OrgData, SalesforceSim, SimOptions};
use k8s_openapi::api::core::v1::Secret;
use kube::api::{ListParams, Patch, PatchParams, PostParams};
use kube::{Api, Client};
use serde_json::{Value, json};

#[path = "../tests/support/mod.rs"]
mod support;

use support::Cluster;

const DOMAIN: &str = "acme.example";
const JC_KEY: &str = "jc-bench-api-key-5e21";
const IDP: &str = "jumpcloud";
/// Part 1: findings applied for one integration (its org yields more; the cap makes it exact).
const BIG_FINDINGS: usize = 10_000;
/// Users of part 1's org: ~88% are active, in IdP scope and missing from the directory.
const BIG_USERS: usize = 12_500;
/// Part 3: integrations, and findings per integration.
const SMALL_INTEGRATIONS: usize = 100;
const SMALL_FINDINGS: usize = 100;
const SMALL_USERS: usize = 160;
const WAIT: Duration = Duration::from_secs(600);
/// The operator's write concurrency, read from its source so the table cannot drift from it.
const APPLY_SOURCE: &str = include_str!("../src/operator/findings/apply.rs");

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("serve") {
        serve();
    } else {
        measure();
    }
}

fn vm_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn apply_concurrency() -> String {
    APPLY_SOURCE
        .lines()
        .find_map(|l| l.trim().strip_prefix("const APPLY_CONCURRENCY: usize = "))
        .map(|v| v.trim_end_matches(';').to_string())
        .unwrap_or_else(|| "unknown".into())
}

/// The child: one JumpCloud directory that holds nobody from the orgs, one large org and
/// `SMALL_INTEGRATIONS` small ones. Prints their addresses and credentials, then serves until
/// stdin closes.
fn serve() {
    let rt = tokio::runtime::Runtime::new().expect("a tokio runtime");
    rt.block_on(async {
        let directory =
            Directory::from_people(vec![Person::active(1, "someone@elsewhere.example")]);
        let jc = JumpCloudSim::start(directory, JumpCloudSimOptions::new(JC_KEY))
            .await
            .expect("start the JumpCloud simulator");
        let org = |seed: u64, users: usize| {
            OrgData::generate(
                seed,
                &GenerateSpec {
                    users,
                    oauth_grants: users / 10,
                    audit_events: 0,
                    domain: DOMAIN.into(),
                    ..Default::default()
                },
            )
        };
        let options = || SimOptions::default().api_usage(0, 50_000_000);
        let mut sims = Vec::new();
        sims.push(
            SalesforceSim::start(org(1, BIG_USERS), options())
                .await
                .expect("start the large Salesforce simulator"),
        );
        for i in 0..SMALL_INTEGRATIONS {
            sims.push(
                SalesforceSim::start(org(100 + i as u64, SMALL_USERS), options())
                    .await
                    .expect("start a small Salesforce simulator"),
            );
        }
        let orgs: Vec<Value> = sims
            .iter()
            .map(|sim| {
                let c = sim.credentials();
                json!({
                    "url": sim.base_url(), "clientId": c.client_id,
                    "clientSecret": c.client_secret, "refreshToken": c.refresh_token,
                })
            })
            .collect();
        println!("{}", json!({ "jumpcloud": jc.base_url(), "orgs": orgs }));
        let stdin = std::io::stdin();
        let mut lines = stdin.lock().lines();
        while let Some(Ok(_)) = lines.next() {}
        drop(sims);
    });
}

/// The parent: control plane, operator, measurements.
fn measure() {
    let mut child = Command::new(std::env::current_exe().expect("own path"))
        .arg("serve")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the simulators");
    let to_child = child.stdin.take().expect("child stdin");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("child stdout"))
        .read_line(&mut line)
        .expect("the simulators' addresses");
    let sims: Value = serde_json::from_str(&line).expect("child speaks JSON");

    let rt = tokio::runtime::Runtime::new().expect("a tokio runtime");
    let report = rt.block_on(run(&sims));
    drop(to_child);
    let _ = child.wait();

    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!();
    println!("## idgap operator against a real kube-apiserver");
    println!();
    println!("| measure | goal | result |");
    println!("|---|---|---|");
    for row in report {
        println!("| {} | {} | {} |", row.0, row.1, row.2);
    }
    println!();
    println!(
        "Path: the operator's reconcile loop (started in-process with `idgap::operator::start`), \
         Salesforce + JumpCloud simulators in a child process, findings capped exactly by \
         `spec.findings.maxFindings`. Load average at the end: {}",
        load.trim()
    );
}

struct Bench {
    cluster: &'static Cluster,
    client: Client,
    ns: String,
    metrics: Arc<Metrics>,
    operator: Operator,
}

async fn start_operator(prefix: &str) -> Bench {
    let cluster = Cluster::shared().await;
    cluster.install_crds().await;
    let ns = cluster.fresh_namespace(prefix).await;
    let client = cluster.client().await;
    let metrics = Arc::new(Metrics::new());
    let operator = idgap::operator::start(
        client.clone(),
        OperatorConfig {
            allow_hosts: vec!["127.0.0.1".into()],
            watch_namespaces: vec![ns.clone()],
            max_concurrent_reconciles: 4,
            request_timeout: Duration::from_secs(30),
            retry: idgap_net::RetryPolicy::default(),
            instance: Some(format!("bench-{prefix}")),
        },
        metrics.clone(),
        Arc::new(AtomicBool::new(false)),
    )
    .await
    .expect("start the operator");
    Bench {
        cluster,
        client,
        ns,
        metrics,
        operator,
    }
}

impl Bench {
    async fn apply<K>(&self, object: Value)
    where
        K: kube::Resource<Scope = kube::core::NamespaceResourceScope>
            + Clone
            + std::fmt::Debug
            + serde::Serialize
            + serde::de::DeserializeOwned,
        K::DynamicType: Default,
    {
        let api: Api<K> = Api::namespaced(self.client.clone(), &self.ns);
        let obj: K = serde_json::from_value(object).expect("a valid object");
        api.create(&PostParams::default(), &obj)
            .await
            .unwrap_or_else(|e| panic!("create {}: {e}", K::kind(&K::DynamicType::default())));
    }

    async fn secret(&self, name: &str, data: BTreeMap<&str, String>) {
        self.apply::<Secret>(json!({
            "apiVersion": "v1", "kind": "Secret",
            "metadata": { "name": name }, "stringData": data,
        }))
        .await;
    }

    /// The JumpCloud IdentityProvider, waited for until its first sync succeeded.
    async fn identity_provider(&self, url: &str) {
        self.secret(
            "jc-creds",
            BTreeMap::from([("api_key", JC_KEY.to_string())]),
        )
        .await;
        self.apply::<IdentityProvider>(json!({
            "apiVersion": "idgap.io/v1alpha1", "kind": "IdentityProvider",
            "metadata": { "name": IDP },
            "spec": { "interval": "30m", "jumpCloud": {
                "apiKey": { "name": "jc-creds", "key": "api_key" }, "baseUrl": url,
            }}
        }))
        .await;
        let api: Api<IdentityProvider> = Api::namespaced(self.client.clone(), &self.ns);
        support::eventually("the IdentityProvider's first sync", WAIT, || {
            let api = api.clone();
            async move {
                let idp = api.get(IDP).await.ok()?;
                let ready = idp
                    .status?
                    .conditions
                    .iter()
                    .any(|c| c.type_ == "Ready" && c.status == "True");
                ready.then_some(())
            }
        })
        .await;
    }

    /// A Secret and a SalesforceIntegration `name` for the simulated org `org`.
    async fn integration(&self, name: &str, org: &Value, max_findings: usize) {
        let s = |k: &str| org[k].as_str().expect("simulator field").to_string();
        let secret = format!("{name}-sf");
        self.secret(
            &secret,
            BTreeMap::from([
                ("client_id", s("clientId")),
                ("client_secret", s("clientSecret")),
                ("refresh_token", s("refreshToken")),
            ]),
        )
        .await;
        self.apply::<SalesforceIntegration>(json!({
            "apiVersion": "idgap.io/v1alpha1", "kind": "SalesforceIntegration",
            "metadata": { "name": name },
            "spec": {
                "interval": "1h",
                "loginUrl": s("url"),
                "auth": { "refreshToken": {
                    "clientId": { "name": secret, "key": "client_id" },
                    "clientSecret": { "name": secret, "key": "client_secret" },
                    "refreshToken": { "name": secret, "key": "refresh_token" },
                }},
                "identityProviderRefs": [ { "name": IDP } ],
                "findings": { "maxFindings": max_findings },
            }
        }))
        .await;
    }

    fn integrations(&self) -> Api<SalesforceIntegration> {
        Api::namespaced(self.client.clone(), &self.ns)
    }

    /// Waits until every integration finished a sync of its generation (optionally the one
    /// requested with `token`); panics quoting Ready when one failed.
    async fn wait_synced(&self, token: Option<&str>) {
        let api = self.integrations();
        support::eventually("every integration to finish its sync", WAIT, || {
            let api = api.clone();
            async move {
                let list = api.list(&ListParams::default()).await.ok()?;
                for o in &list.items {
                    let s = o.status.clone().unwrap_or_default();
                    let done = s.observed_generation == o.metadata.generation
                        && s.last_sync_time.is_some()
                        && !s.conditions.iter().any(|c| c.type_ == "Reconciling")
                        && token.is_none_or(|t| s.last_handled_reconcile_at.as_deref() == Some(t));
                    if !done {
                        return None;
                    }
                    if let Some(ready) = s.conditions.iter().find(|c| c.type_ == "Ready")
                        && ready.status != "True"
                    {
                        panic!(
                            "{:?} did not sync: {} {}",
                            o.metadata.name, ready.reason, ready.message
                        );
                    }
                }
                Some(())
            }
        })
        .await
    }

    fn writes(&self) -> u64 {
        ["create", "update", "delete"]
            .iter()
            .map(|op| self.metrics.finding_writes(op))
            .sum()
    }

    fn reconcile_errors(&self) -> u64 {
        sum_metric(
            &self.metrics.encode(),
            "idgap_reconcile_errors_total",
            |_| true,
        )
    }

    /// The API server's own request counters for AccessFindings.
    async fn apiserver_counts(&self) -> ServerCounts {
        let http = reqwest::Client::builder()
            .add_root_certificate(
                reqwest::Certificate::from_pem(self.cluster.ca_pem().as_bytes())
                    .expect("the harness's CA"),
            )
            .build()
            .expect("an HTTP client");
        let text = http
            .get(format!("{}/metrics", self.cluster.server_url()))
            .bearer_auth(self.cluster.admin_token())
            .send()
            .await
            .and_then(|r| r.error_for_status())
            .expect("the API server's /metrics")
            .text()
            .await
            .expect("the API server's /metrics body");
        let findings = |l: &str| l.contains("resource=\"accessfindings\"");
        let all = sum_metric(&text, "apiserver_request_total", findings);
        let errors = sum_metric(&text, "apiserver_request_total", |l| {
            findings(l) && !l.contains("code=\"2")
        });
        let writes = sum_metric(&text, "apiserver_request_total", |l| {
            findings(l)
                && ["APPLY", "PATCH", "POST", "PUT", "DELETE"]
                    .iter()
                    .any(|v| l.contains(&format!("verb=\"{v}\"")))
        });
        let seconds = sum_metric_f64(&text, "apiserver_request_duration_seconds_sum", findings);
        ServerCounts {
            all,
            errors,
            writes,
            seconds,
        }
    }

    async fn finding_count(&self) -> usize {
        let api: Api<AccessFinding> = Api::namespaced(self.client.clone(), &self.ns);
        api.list_metadata(&ListParams::default())
            .await
            .expect("list AccessFindings")
            .items
            .len()
    }
}

/// kube-apiserver's `apiserver_request_total` and `apiserver_request_duration_seconds_sum`
/// for AccessFindings (cumulative since it started).
#[derive(Debug, Clone, Copy)]
struct ServerCounts {
    all: u64,
    errors: u64,
    writes: u64,
    seconds: f64,
}

/// Sums the samples of counter `name` whose line passes `keep`.
fn sum_metric(text: &str, name: &str, keep: impl Fn(&str) -> bool) -> u64 {
    sum_metric_f64(text, name, keep) as u64
}

fn sum_metric_f64(text: &str, name: &str, keep: impl Fn(&str) -> bool) -> f64 {
    text.lines()
        .filter(|l| l.starts_with(&format!("{name}{{")) && keep(l))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

type Row = (String, String, String);

async fn run(sims: &Value) -> Vec<Row> {
    let jumpcloud = sims["jumpcloud"].as_str().expect("JumpCloud address");
    let orgs = sims["orgs"].as_array().expect("orgs");
    let mut rows: Vec<Row> = Vec::new();
    let cluster = Cluster::shared().await;
    eprintln!("control plane up in {:.1?}", cluster.started_in());

    // 3. Memory first: VmHWM is the process's lifetime peak.
    let rss_before = vm_kb("VmRSS:");
    let bench = start_operator("bench-mem").await;
    bench.identity_provider(jumpcloud).await;
    let started = Instant::now();
    for (i, org) in orgs[1..].iter().enumerate() {
        bench
            .integration(&format!("org-{i:03}"), org, SMALL_FINDINGS)
            .await;
    }
    bench.wait_synced(None).await;
    let took = started.elapsed();
    let peak = vm_kb("VmHWM:");
    let rss_after = vm_kb("VmRSS:");
    let count = bench.finding_count().await;
    let errors = bench.reconcile_errors();
    eprintln!(
        "memory scenario: {count} findings in {took:.1?}, peak {} MiB",
        peak / 1024
    );
    bench.operator.shutdown().await;
    rows.push((
        format!(
            "peak RSS, {SMALL_INTEGRATIONS} integrations × {SMALL_FINDINGS} findings ({count} AccessFindings stored, {errors} failed syncs, all synced in {:.1} s)",
            took.as_secs_f64()
        ),
        "< 150 MB".into(),
        format!(
            "{:.1} MB VmHWM ({:.1} MB RSS before the operator started, {:.1} MB after the syncs); \
             this process only: operator + kube client + the harness/driver, not the simulators \
             (child process) nor etcd/kube-apiserver",
            peak as f64 / 1024.0,
            rss_before as f64 / 1024.0,
            rss_after as f64 / 1024.0
        ),
    ));

    // 1. First apply of 10,000 findings for one integration.
    let bench = start_operator("bench-big").await;
    bench.identity_provider(jumpcloud).await;
    let server_before = bench.apiserver_counts().await;
    let writes_before = bench.writes();
    let started = Instant::now();
    bench.integration("big", &orgs[0], BIG_FINDINGS).await;
    bench.wait_synced(None).await;
    let took = started.elapsed();
    let server_after = bench.apiserver_counts().await;
    let created = bench.metrics.finding_writes("create");
    let count = bench.finding_count().await;
    let sync_errors = bench.reconcile_errors();
    rows.push((
        format!(
            "first apply of {BIG_FINDINGS} findings, one integration (created {count} AccessFindings; operator counted {} writes)",
            bench.writes() - writes_before
        ),
        "< 60 s".into(),
        format!(
            "{:.1} s wall (integration created → status settled; includes the sync of a {BIG_USERS}-user org and detection)",
            took.as_secs_f64()
        ),
    ));
    rows.push((
        "write concurrency".into(),
        "—".into(),
        format!(
            "{} concurrent writes (APPLY_CONCURRENCY); one server-side apply per created finding",
            apply_concurrency()
        ),
    ));
    rows.push((
        "API-server errors during the first apply".into(),
        "0".into(),
        format!(
            "{} non-2xx AccessFinding responses (kube-apiserver `apiserver_request_total`); {} failed syncs (idgap_reconcile_errors_total); {created} creates",
            server_after.errors - server_before.errors,
            sync_errors
        ),
    ));

    let requests = server_after.all - server_before.all;
    let busy = server_after.seconds - server_before.seconds;
    rows.push((
        "kube-apiserver work during the first apply".into(),
        "—".into(),
        format!(
            "{requests} AccessFinding requests ({:.0}/s over the wall time); mean server-side latency {:.0} ms",
            requests as f64 / took.as_secs_f64(),
            1000.0 * busy / requests.max(1) as f64
        ),
    ));

    // 2. Re-sync with nothing changed.
    let server_writes_before = bench.apiserver_counts().await.writes;
    let writes_before = bench.writes();
    let token = "bench-resync-1";
    let patch = json!({ "metadata": { "annotations": { REQUESTED_AT_ANNOTATION: token } } });
    let started = Instant::now();
    bench
        .integrations()
        .patch("big", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .expect("request a re-sync");
    bench.wait_synced(Some(token)).await;
    let took = started.elapsed();
    let server_writes_after = bench.apiserver_counts().await.writes;
    rows.push((
        format!("unchanged re-sync of the {BIG_FINDINGS} findings"),
        "0 writes".into(),
        format!(
            "{} AccessFinding writes (idgap_finding_writes_total); {} AccessFinding write requests seen by kube-apiserver; {:.1} s",
            bench.writes() - writes_before,
            server_writes_after - server_writes_before,
            took.as_secs_f64()
        ),
    ));
    bench.operator.shutdown().await;
    rows
}
