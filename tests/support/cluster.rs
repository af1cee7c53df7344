//! A test control plane from real parts: etcd 3.6 (data on /dev/shm, no fsync), kube-apiserver
//! (RBAC, a static admin token in `system:masters`, TLS from a throwaway CA) and
//! kube-controller-manager (garbage collection, namespace deletion, service-account tokens,
//! aggregated roles). Built by `scripts/testbin.sh`; started once per test binary.

use std::fmt;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use k8s_openapi::api::authentication::v1::{TokenRequest, TokenRequestSpec};
use k8s_openapi::api::core::v1::{Namespace, ServiceAccount};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, DynamicObject, Patch, PatchParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::core::GroupVersionKind;
use kube::discovery::{self, Scope};
use kube::{Client, Config};
use serde::Deserialize as _;
use tokio::sync::OnceCell;

use super::process;

/// Field manager used by the harness's server-side applies.
pub const FIELD_MANAGER: &str = "idgap-tests";

/// A running control plane. Obtain it with [`Cluster::shared`]; it lives until the test binary
/// exits. Clients are tied to the tokio runtime that made them, so make one per test with
/// [`Cluster::client`] instead of storing one.
pub struct Cluster {
    dir: PathBuf,
    bin_dir: PathBuf,
    server_url: String,
    ca_pem: String,
    admin_token: String,
    kubeconfig_path: PathBuf,
    started_in: Duration,
    /// Prepended to the names its processes are registered under (empty for the shared one).
    process_prefix: String,
    /// kube-apiserver's command line, to start it again the same way.
    apiserver_args: Vec<String>,
}

static SHARED: OnceCell<Result<Cluster, String>> = OnceCell::const_new();
static NAMESPACE_COUNTER: AtomicU32 = AtomicU32::new(0);

impl Cluster {
    /// The control plane of this test binary, started on first use, with idgap's CRDs
    /// installed before kube-controller-manager starts (its garbage collector then watches
    /// them from the start; it rediscovers new resource types only every 30 s). Panics with
    /// instructions when the binaries are missing or the control plane does not come up.
    pub async fn shared() -> &'static Cluster {
        Self::shared_with(true).await
    }

    /// Like [`Cluster::shared`] but without idgap's CRDs, for tests that install them another
    /// way (the Helm chart). The first call in a test binary decides which kind it gets.
    pub async fn shared_without_crds() -> &'static Cluster {
        Self::shared_with(false).await
    }

    async fn shared_with(preinstall_crds: bool) -> &'static Cluster {
        let result = SHARED
            .get_or_init(|| async {
                let started = Instant::now();
                let mut last_error = String::new();
                // A free port can be taken by someone else between probing and binding:
                // retry the whole start a couple of times.
                for attempt in 1..=3 {
                    match start(started, preinstall_crds, "").await {
                        Ok(cluster) => {
                            eprintln!(
                                "test control plane ready in {:.1?} at {} ({})",
                                cluster.started_in,
                                cluster.server_url,
                                cluster.dir.display()
                            );
                            return Ok(cluster);
                        }
                        Err(e) => {
                            process::kill_all();
                            last_error = format!("attempt {attempt}: {e}");
                            if e.starts_with(MISSING_BINARIES) {
                                break;
                            }
                        }
                    }
                }
                Err(last_error)
            })
            .await;
        match result {
            Ok(cluster) => cluster,
            Err(e) => panic!("the test control plane did not start: {e}"),
        }
    }

    /// The directory holding the control plane's binaries (also `helm`).
    pub fn bin_dir(&self) -> &Path {
        &self.bin_dir
    }

    /// A kubeconfig with the admin token (`system:masters`) and the server's CA.
    pub fn kubeconfig_path(&self) -> &Path {
        &self.kubeconfig_path
    }

    /// `https://127.0.0.1:<port>`.
    pub fn server_url(&self) -> &str {
        &self.server_url
    }

    /// The CA that signed the API server's serving certificate, PEM.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// How long the control plane took to become ready (etcd + apiserver + KCM).
    pub fn started_in(&self) -> Duration {
        self.started_in
    }

    /// The static admin token (`system:masters`), for raw HTTP requests.
    pub fn admin_token(&self) -> &str {
        &self.admin_token
    }

    /// A scratch directory that lives as long as the control plane.
    pub fn scratch_dir(&self) -> &Path {
        &self.dir
    }

    /// A kubeconfig (YAML) for this server authenticating with `token`.
    pub fn kubeconfig_yaml(&self, token: &str) -> String {
        kubeconfig_yaml(&self.server_url, &self.ca_pem, token)
    }

    /// An admin client (`system:masters`). Make one per test: it belongs to the current runtime.
    pub async fn client(&self) -> Client {
        self.client_with_token(&self.admin_token).await
    }

    /// A client authenticating with `token` (e.g. from [`Cluster::token_for_service_account`]).
    pub async fn client_with_token(&self, token: &str) -> Client {
        let kubeconfig = Kubeconfig::from_yaml(&self.kubeconfig_yaml(token))
            .expect("the harness writes a valid kubeconfig");
        let config = Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
            .await
            .expect("the harness's kubeconfig loads");
        Client::try_from(config).expect("a kube client from the harness's kubeconfig")
    }

    /// Creates a namespace named `<prefix>-<n>` (unique within this control plane) and returns
    /// its name.
    pub async fn fresh_namespace(&self, prefix: &str) -> String {
        let n = NAMESPACE_COUNTER.fetch_add(1, Ordering::SeqCst);
        let prefix: String = prefix.chars().take(50).collect();
        let name = format!("{prefix}-{n}");
        let namespaces: Api<Namespace> = Api::all(self.client().await);
        let ns: Namespace = serde_json::from_value(serde_json::json!({
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": { "name": name, "labels": { "idgap.io/test": "true" } }
        }))
        .expect("a Namespace");
        namespaces
            .create(&PostParams::default(), &ns)
            .await
            .unwrap_or_else(|e| panic!("create namespace {name}: {e}"));
        name
    }

    /// A bound token for ServiceAccount `ns/name` (TokenRequest API, valid for one hour).
    /// Creates the ServiceAccount first when it does not exist.
    pub async fn token_for_service_account(&self, ns: &str, name: &str) -> String {
        let accounts: Api<ServiceAccount> = Api::namespaced(self.client().await, ns);
        if accounts
            .get_opt(name)
            .await
            .unwrap_or_else(|e| panic!("get serviceaccount {ns}/{name}: {e}"))
            .is_none()
        {
            let sa: ServiceAccount = serde_json::from_value(serde_json::json!({
                "metadata": { "name": name }
            }))
            .expect("a ServiceAccount");
            accounts
                .create(&PostParams::default(), &sa)
                .await
                .unwrap_or_else(|e| panic!("create serviceaccount {ns}/{name}: {e}"));
        }
        let request = TokenRequest {
            spec: Some(TokenRequestSpec {
                expiration_seconds: Some(3600),
                ..Default::default()
            }),
            ..Default::default()
        };
        let response = accounts
            .create_token_request(name, &PostParams::default(), &request)
            .await
            .unwrap_or_else(|e| panic!("TokenRequest for {ns}/{name}: {e}"));
        response
            .status
            .and_then(|s| s.token)
            .unwrap_or_else(|| panic!("TokenRequest for {ns}/{name} returned no token"))
    }

    /// Server-side applies every document of `yaml` (strict field validation, like kubectl),
    /// defaulting namespaced objects to `ns`. Returns the applied objects, or the first
    /// rejection.
    pub async fn apply_yaml(&self, ns: &str, yaml: &str) -> Result<Vec<DynamicObject>, ApplyError> {
        apply_documents(self, ns, yaml, Write::Apply { dry_run: false }).await
    }

    /// Like [`Cluster::apply_yaml`], as a server-side dry run: validated and admitted, not
    /// stored.
    pub async fn dry_run_yaml(
        &self,
        ns: &str,
        yaml: &str,
    ) -> Result<Vec<DynamicObject>, ApplyError> {
        apply_documents(self, ns, yaml, Write::Apply { dry_run: true }).await
    }

    /// Creates every document of `yaml` the way `kubectl create` does (POST with
    /// `fieldValidation=Strict`): the API server's validation errors come back as 422/400 with
    /// field paths. Fails if an object already exists.
    pub async fn create_yaml(
        &self,
        ns: &str,
        yaml: &str,
    ) -> Result<Vec<DynamicObject>, ApplyError> {
        apply_documents(self, ns, yaml, Write::Create { dry_run: false }).await
    }

    /// [`Cluster::create_yaml`] as a server-side dry run (validated and admitted, not stored).
    pub async fn dry_run_create_yaml(
        &self,
        ns: &str,
        yaml: &str,
    ) -> Result<Vec<DynamicObject>, ApplyError> {
        apply_documents(self, ns, yaml, Write::Create { dry_run: true }).await
    }

    /// Applies idgap's CRDs (generated from the Rust types) and waits until each is
    /// Established. Idempotent.
    pub async fn install_crds(&self) {
        self.try_install_crds()
            .await
            .unwrap_or_else(|e| panic!("{e}"))
    }

    async fn try_install_crds(&self) -> Result<(), String> {
        let crds: Api<CustomResourceDefinition> = Api::all(self.client().await);
        let params = PatchParams::apply(FIELD_MANAGER).force();
        for crd in idgap::resources::crds() {
            let name = crd.metadata.name.clone().unwrap_or_default();
            crds.patch(&name, &params, &Patch::Apply(&crd))
                .await
                .map_err(|e| format!("apply CRD {name}: {e}"))?;
        }
        let deadline = Instant::now() + Duration::from_secs(30);
        for crd in idgap::resources::crds() {
            let name = crd.metadata.name.clone().unwrap_or_default();
            loop {
                let established = crds.get_opt(&name).await.ok().flatten().is_some_and(|crd| {
                    crd.status
                        .and_then(|s| s.conditions)
                        .unwrap_or_default()
                        .iter()
                        .any(|c| c.type_ == "Established" && c.status == "True")
                });
                if established {
                    break;
                }
                if Instant::now() > deadline {
                    return Err(format!("CRD {name} not Established after 30 s"));
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        Ok(())
    }

    /// A `helm` command for this cluster (`KUBECONFIG` and helm's cache/config dirs set).
    pub fn helm(&self) -> Command {
        let mut command = Command::new(self.bin_dir.join("helm"));
        let home = self.dir.join("helm-home");
        command
            .env("KUBECONFIG", &self.kubeconfig_path)
            .env("HELM_CACHE_HOME", home.join("cache"))
            .env("HELM_CONFIG_HOME", home.join("config"))
            .env("HELM_DATA_HOME", home.join("data"));
        command
    }
}

static DEDICATED_COUNTER: AtomicU32 = AtomicU32::new(0);

/// A control plane owned by one test, which may stop and start its kube-apiserver (same
/// port, etcd, certificates and tokens). Its processes are killed and its directory removed
/// when the handle is dropped (also while a failing test unwinds). Use it through `Deref` like
/// the shared [`Cluster`].
pub struct DedicatedCluster {
    cluster: Cluster,
}

impl Cluster {
    /// Starts a private control plane (idgap's CRDs installed) for a test that disrupts it.
    /// `label` names its processes and directory in logs. Panics when it does not come up.
    pub async fn dedicated(label: &str) -> DedicatedCluster {
        let n = DEDICATED_COUNTER.fetch_add(1, Ordering::SeqCst);
        let prefix = format!("dedicated-{n}-{label}/");
        let started = Instant::now();
        let mut last_error = String::new();
        for attempt in 1..=3 {
            match start(started, true, &prefix).await {
                Ok(cluster) => {
                    eprintln!(
                        "dedicated control plane {prefix} ready in {:.1?} at {} ({})",
                        cluster.started_in,
                        cluster.server_url,
                        cluster.dir.display()
                    );
                    return DedicatedCluster { cluster };
                }
                Err(e) => {
                    process::kill_prefixed(&prefix);
                    last_error = format!("attempt {attempt}: {e}");
                    if e.starts_with(MISSING_BINARIES) {
                        break;
                    }
                }
            }
        }
        panic!("the dedicated control plane did not start: {last_error}");
    }
}

impl std::ops::Deref for DedicatedCluster {
    type Target = Cluster;

    fn deref(&self) -> &Cluster {
        &self.cluster
    }
}

impl DedicatedCluster {
    fn apiserver_name(&self) -> String {
        format!("{}kube-apiserver", self.cluster.process_prefix)
    }

    /// Kills kube-apiserver with SIGKILL (no graceful shutdown; open connections are reset).
    /// Returns its PID. etcd keeps running, so nothing stored is lost.
    pub fn kill_apiserver(&self) -> u32 {
        process::kill(&self.apiserver_name())
            .unwrap_or_else(|| panic!("no {} process to kill", self.apiserver_name()))
    }

    /// True while the newest kube-apiserver process of this control plane runs.
    pub fn apiserver_running(&self) -> bool {
        process::exited(&self.apiserver_name()).is_none()
    }

    /// Starts kube-apiserver again with its original command line (same port, etcd,
    /// certificates and token file) and waits until `/readyz` answers 200. Returns how long
    /// that took. Panics, quoting its log, when it does not come back within 60 s.
    pub async fn start_apiserver(&self) -> Duration {
        let started = Instant::now();
        let c = &self.cluster;
        spawn_logged(
            &c.dir,
            &c.process_prefix,
            "kube-apiserver",
            &c.bin_dir.join("kube-apiserver"),
            &c.apiserver_args,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        wait_apiserver_ready(&c.dir, &c.process_prefix, &c.server_url, &c.ca_pem)
            .await
            .unwrap_or_else(|e| panic!("kube-apiserver did not come back: {e}"));
        started.elapsed()
    }
}

impl Drop for DedicatedCluster {
    fn drop(&mut self) {
        process::kill_prefixed(&self.cluster.process_prefix);
        let _ = std::fs::remove_dir_all(&self.cluster.dir);
    }
}

/// Waits until CRD `name` has condition Established=True; panics after `timeout`.
pub async fn wait_established(crds: &Api<CustomResourceDefinition>, name: &str, timeout: Duration) {
    super::eventually(
        &format!("CRD {name} to be Established"),
        timeout,
        || async {
            let crd = crds.get_opt(name).await.ok()??;
            let established = crd
                .status?
                .conditions?
                .iter()
                .any(|c| c.type_ == "Established" && c.status == "True");
            established.then_some(())
        },
    )
    .await
}

/// Why [`Cluster::apply_yaml`] failed.
#[derive(Debug)]
pub enum ApplyError {
    /// The YAML is not a Kubernetes object (no apiVersion/kind/name).
    Parse(String),
    /// Discovery does not know the kind.
    UnknownKind(String),
    /// The API server refused the object; `message` is its Status message.
    Rejected {
        object: String,
        code: u16,
        reason: String,
        message: String,
    },
    /// Transport or other client failure.
    Client(String),
}

impl ApplyError {
    /// The API server's message, or the error text for other failures.
    pub fn message(&self) -> String {
        match self {
            ApplyError::Rejected { message, .. } => message.clone(),
            other => other.to_string(),
        }
    }
}

impl fmt::Display for ApplyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApplyError::Parse(e) => write!(f, "not a Kubernetes object: {e}"),
            ApplyError::UnknownKind(e) => write!(f, "unknown kind: {e}"),
            ApplyError::Rejected {
                object,
                code,
                reason,
                message,
            } => {
                write!(f, "{object} rejected ({code} {reason}): {message}")
            }
            ApplyError::Client(e) => write!(f, "client error: {e}"),
        }
    }
}

/// How [`apply_documents`] writes each object.
#[derive(Clone, Copy, PartialEq)]
enum Write {
    /// Server-side apply (force, strict field validation).
    Apply { dry_run: bool },
    /// POST with `fieldValidation=Strict`, as `kubectl create` / client-side `kubectl apply` do.
    Create { dry_run: bool },
}

async fn apply_documents(
    cluster: &Cluster,
    ns: &str,
    yaml: &str,
    write: Write,
) -> Result<Vec<DynamicObject>, ApplyError> {
    let client = cluster.client().await;
    let mut applied = Vec::new();
    for document in serde_yaml::Deserializer::from_str(yaml) {
        let value = serde_yaml::Value::deserialize(document)
            .map_err(|e| ApplyError::Parse(e.to_string()))?;
        if value.is_null() {
            continue;
        }
        let object: DynamicObject =
            serde_yaml::from_value(value).map_err(|e| ApplyError::Parse(e.to_string()))?;
        let types = object
            .types
            .clone()
            .ok_or_else(|| ApplyError::Parse("missing apiVersion/kind".into()))?;
        let name =
            object.metadata.name.clone().ok_or_else(|| {
                ApplyError::Parse(format!("{} without metadata.name", types.kind))
            })?;
        let gvk =
            GroupVersionKind::try_from(&types).map_err(|e| ApplyError::Parse(e.to_string()))?;
        let (resource, caps) = discovery::pinned_kind(&client, &gvk)
            .await
            .map_err(|e| ApplyError::UnknownKind(format!("{}: {e}", types.kind)))?;
        let object_ns = match caps.scope {
            Scope::Namespaced => Some(
                object
                    .metadata
                    .namespace
                    .clone()
                    .unwrap_or_else(|| ns.to_string()),
            ),
            Scope::Cluster => None,
        };
        let label = format!("{}/{name}", types.kind);
        let written = match write {
            Write::Apply { dry_run } => {
                let api: Api<DynamicObject> = match &object_ns {
                    Some(object_ns) => Api::namespaced_with(client.clone(), object_ns, &resource),
                    None => Api::all_with(client.clone(), &resource),
                };
                let mut params = PatchParams::apply(FIELD_MANAGER)
                    .force()
                    .validation_strict();
                if dry_run {
                    params = params.dry_run();
                }
                match api.patch(&name, &params, &Patch::Apply(&object)).await {
                    Ok(object) => object,
                    Err(kube::Error::Api(status)) => {
                        return Err(ApplyError::Rejected {
                            object: label,
                            code: status.code,
                            reason: status.reason.clone(),
                            message: status.message.clone(),
                        });
                    }
                    Err(e) => return Err(ApplyError::Client(e.to_string())),
                }
            }
            Write::Create { dry_run } => {
                create_raw(
                    cluster,
                    &resource,
                    object_ns.as_deref(),
                    &object,
                    dry_run,
                    label,
                )
                .await?
            }
        };
        applied.push(written);
    }
    Ok(applied)
}

/// POSTs `object` like `kubectl create` (strict field validation), through plain HTTP because
/// kube's `PostParams` cannot ask for `fieldValidation`.
async fn create_raw(
    cluster: &Cluster,
    resource: &kube::core::ApiResource,
    ns: Option<&str>,
    object: &DynamicObject,
    dry_run: bool,
    label: String,
) -> Result<DynamicObject, ApplyError> {
    let base = if resource.group.is_empty() {
        format!("{}/api/{}", cluster.server_url, resource.version)
    } else {
        format!(
            "{}/apis/{}/{}",
            cluster.server_url, resource.group, resource.version
        )
    };
    let url = match ns {
        Some(ns) => format!("{base}/namespaces/{ns}/{}", resource.plural),
        None => format!("{base}/{}", resource.plural),
    };
    let mut query = vec![
        ("fieldValidation", "Strict"),
        ("fieldManager", FIELD_MANAGER),
    ];
    if dry_run {
        query.push(("dryRun", "All"));
    }
    let http = reqwest::Client::builder()
        .add_root_certificate(
            reqwest::Certificate::from_pem(cluster.ca_pem.as_bytes())
                .map_err(|e| ApplyError::Client(e.to_string()))?,
        )
        .build()
        .map_err(|e| ApplyError::Client(e.to_string()))?;
    let response = http
        .post(url)
        .query(&query)
        .bearer_auth(&cluster.admin_token)
        .json(object)
        .send()
        .await
        .map_err(|e| ApplyError::Client(e.to_string()))?;
    let code = response.status().as_u16();
    let body: serde_json::Value = response
        .json()
        .await
        .map_err(|e| ApplyError::Client(e.to_string()))?;
    if (200..300).contains(&code) {
        serde_json::from_value(body).map_err(|e| ApplyError::Client(e.to_string()))
    } else {
        Err(ApplyError::Rejected {
            object: label,
            code,
            reason: body["reason"].as_str().unwrap_or_default().to_string(),
            message: body["message"].as_str().unwrap_or_default().to_string(),
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Starting the control plane

const MISSING_BINARIES: &str = "missing control-plane binaries";
const CONTROLLERS: &str = "garbage-collector-controller,namespace-controller,serviceaccount-controller,\
serviceaccount-token-controller,clusterrole-aggregation-controller,\
root-ca-certificate-publisher-controller";

/// The directory holding etcd, kube-apiserver, kube-controller-manager and helm, for tests
/// that need a binary but no control plane (e.g. `helm template`). Panics with instructions
/// when they are missing.
pub fn testbin_dir() -> PathBuf {
    find_bin_dir().unwrap_or_else(|e| panic!("{e}"))
}

/// Where `scripts/testbin.sh` put the binaries: `$IDGAP_TESTBIN`, else its `--print-dir`.
fn find_bin_dir() -> Result<PathBuf, String> {
    let dir = match std::env::var_os("IDGAP_TESTBIN") {
        Some(dir) => PathBuf::from(dir),
        None => {
            let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/testbin.sh");
            let output = Command::new("bash")
                .arg(&script)
                .arg("--print-dir")
                .output()
                .map_err(|e| format!("{MISSING_BINARIES}: cannot run {}: {e}", script.display()))?;
            PathBuf::from(String::from_utf8_lossy(&output.stdout).trim())
        }
    };
    let missing: Vec<&str> = ["etcd", "kube-apiserver", "kube-controller-manager", "helm"]
        .into_iter()
        .filter(|b| !dir.join(b).is_file())
        .collect();
    if missing.is_empty() {
        Ok(dir)
    } else {
        Err(format!(
            "{MISSING_BINARIES}: {} not found in {}. Build them once with `scripts/testbin.sh` \
             (takes ~25 min cold; cached outside the repo), or point IDGAP_TESTBIN at a directory \
             holding them.",
            missing.join(", "),
            dir.display()
        ))
    }
}

fn free_port() -> Result<u16, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("no free port: {e}"))?;
    Ok(listener.local_addr().map_err(|e| e.to_string())?.port())
}

/// Scratch root: /dev/shm (tmpfs: etcd never waits on a disk) when present.
fn scratch_root() -> PathBuf {
    let shm = Path::new("/dev/shm");
    if shm.is_dir() {
        shm.to_path_buf()
    } else {
        std::env::temp_dir()
    }
}

const DIR_PREFIX: &str = "idgap-testcp-";

/// Removes scratch dirs of earlier test processes that were killed before their exit hook ran.
fn remove_stale_dirs(root: &Path) {
    let Ok(entries) = std::fs::read_dir(root) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        let Some(rest) = name.strip_prefix(DIR_PREFIX) else {
            continue;
        };
        let pid = rest.split('-').next().unwrap_or_default();
        if !pid.is_empty() && !Path::new("/proc").join(pid).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

fn run(program: &str, args: &[&str], dir: &Path) -> Result<(), String> {
    let output = Command::new(program)
        .args(args)
        .current_dir(dir)
        .output()
        .map_err(|e| {
            format!("cannot run {program} (install it, e.g. `apt-get install -y {program}`): {e}")
        })?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{program} {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

/// A throwaway CA, a serving certificate for 127.0.0.1 and an RSA service-account key pair.
fn make_keys(dir: &Path) -> Result<(), String> {
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
    ];
    let mut ca = vec!["req", "-x509"];
    ca.extend(ec);
    ca.extend([
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
        "-days",
        "7",
        "-subj",
        "/CN=idgap-test-ca",
    ]);
    run("openssl", &ca, dir)?;
    let mut csr = vec!["req"];
    csr.extend(ec);
    csr.extend([
        "-keyout",
        "serving.key",
        "-out",
        "serving.csr",
        "-subj",
        "/CN=kube-apiserver",
    ]);
    run("openssl", &csr, dir)?;
    std::fs::write(
        dir.join("serving.ext"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default.svc,IP:10.0.0.1\n\
         basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n",
    )
    .map_err(|e| e.to_string())?;
    run(
        "openssl",
        &[
            "x509",
            "-req",
            "-in",
            "serving.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "serving.crt",
            "-days",
            "7",
            "-extfile",
            "serving.ext",
        ],
        dir,
    )?;
    run(
        "openssl",
        &[
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-out",
            "sa.key",
        ],
        dir,
    )?;
    run(
        "openssl",
        &["pkey", "-in", "sa.key", "-pubout", "-out", "sa.pub"],
        dir,
    )?;
    Ok(())
}

fn random_token() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut out = String::new();
    for i in 0..4u64 {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(i);
        h.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default()
                .as_nanos(),
        );
        out.push_str(&format!("{:016x}", h.finish()));
    }
    out
}

fn kubeconfig_yaml(server: &str, ca_pem: &str, token: &str) -> String {
    use base64::Engine as _;
    let ca = base64::engine::general_purpose::STANDARD.encode(ca_pem);
    format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: idgap-test\n  cluster:\n    server: {server}\n    \
         certificate-authority-data: {ca}\nusers:\n- name: user\n  user:\n    token: {token}\n\
         contexts:\n- name: idgap-test\n  context:\n    cluster: idgap-test\n    user: user\n    \
         namespace: default\ncurrent-context: idgap-test\n"
    )
}

fn log_tail(dir: &Path, name: &str) -> String {
    let text = std::fs::read_to_string(dir.join(format!("{name}.log"))).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(25)..].join("\n")
}

fn spawn_logged(
    dir: &Path,
    prefix: &str,
    name: &str,
    program: &Path,
    args: &[String],
) -> Result<(), String> {
    // Appends: a process started again (a restarted kube-apiserver) keeps one log.
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join(format!("{name}.log")))
        .map_err(|e| e.to_string())?;
    let mut command = Command::new(program);
    command
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(log.try_clone().map_err(|e| e.to_string())?)
        .stderr(log);
    process::spawn_owned(&format!("{prefix}{name}"), command)
        .map_err(|e| format!("start {name}: {e}"))?;
    Ok(())
}

/// Fails when `name` has exited, quoting its log.
fn check_alive(dir: &Path, prefix: &str, name: &str) -> Result<(), String> {
    match process::exited(&format!("{prefix}{name}")) {
        Some(status) => Err(format!(
            "{name} exited ({status}); last log lines:\n{}",
            log_tail(dir, name)
        )),
        None => Ok(()),
    }
}

/// Polls kube-apiserver's `/readyz` until it answers 200 (60 s at most), failing early when
/// etcd or kube-apiserver exits.
async fn wait_apiserver_ready(
    dir: &Path,
    prefix: &str,
    server_url: &str,
    ca_pem: &str,
) -> Result<(), String> {
    let http = reqwest::Client::builder()
        .add_root_certificate(
            reqwest::Certificate::from_pem(ca_pem.as_bytes()).map_err(|e| e.to_string())?,
        )
        .timeout(Duration::from_secs(5))
        .build()
        .map_err(|e| e.to_string())?;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        check_alive(dir, prefix, "etcd")?;
        check_alive(dir, prefix, "kube-apiserver")?;
        if let Ok(response) = http.get(format!("{server_url}/readyz")).send().await
            && response.status().is_success()
        {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!(
                "kube-apiserver not ready after 60 s; last log lines:\n{}",
                log_tail(dir, "kube-apiserver")
            ));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Starts etcd, kube-apiserver and kube-controller-manager, registering the processes as
/// `<prefix><name>`.
async fn start(started: Instant, preinstall_crds: bool, prefix: &str) -> Result<Cluster, String> {
    let bin_dir = find_bin_dir()?;
    let root = scratch_root();
    remove_stale_dirs(&root);
    let dir = root.join(format!(
        "{DIR_PREFIX}{}-{}",
        std::process::id(),
        random_token().get(..8).unwrap_or("x")
    ));
    std::fs::create_dir_all(&dir).map_err(|e| format!("create {}: {e}", dir.display()))?;
    process::remove_at_exit(dir.clone());
    make_keys(&dir)?;
    let admin_token = random_token();
    std::fs::write(
        dir.join("tokens.csv"),
        format!("{admin_token},admin,admin,\"system:masters\"\n"),
    )
    .map_err(|e| e.to_string())?;

    // etcd
    let etcd_port = free_port()?;
    let peer_port = free_port()?;
    let etcd_url = format!("http://127.0.0.1:{etcd_port}");
    let etcd_args: Vec<String> = vec![
        format!("--data-dir={}", dir.join("etcd").display()),
        format!("--listen-client-urls={etcd_url}"),
        format!("--advertise-client-urls={etcd_url}"),
        format!("--listen-peer-urls=http://127.0.0.1:{peer_port}"),
        format!("--initial-advertise-peer-urls=http://127.0.0.1:{peer_port}"),
        format!("--initial-cluster=default=http://127.0.0.1:{peer_port}"),
        "--unsafe-no-fsync".into(),
        "--watch-progress-notify-interval=5s".into(),
        "--log-level=warn".into(),
    ];
    spawn_logged(&dir, prefix, "etcd", &bin_dir.join("etcd"), &etcd_args)?;

    // kube-apiserver (it retries etcd on its own while etcd comes up)
    let api_port = free_port()?;
    let server_url = format!("https://127.0.0.1:{api_port}");
    let d = |f: &str| dir.join(f).display().to_string();
    let api_args: Vec<String> = vec![
        format!("--etcd-servers={etcd_url}"),
        "--bind-address=127.0.0.1".into(),
        "--advertise-address=127.0.0.1".into(),
        format!("--secure-port={api_port}"),
        format!("--cert-dir={}", d("certs")),
        format!("--tls-cert-file={}", d("serving.crt")),
        format!("--tls-private-key-file={}", d("serving.key")),
        "--service-cluster-ip-range=10.0.0.0/24".into(),
        "--service-account-issuer=https://kubernetes.default.svc.cluster.local".into(),
        format!("--service-account-key-file={}", d("sa.pub")),
        format!("--service-account-signing-key-file={}", d("sa.key")),
        "--authorization-mode=RBAC".into(),
        format!("--token-auth-file={}", d("tokens.csv")),
        "--allow-privileged=true".into(),
        "--endpoint-reconciler-type=none".into(),
        "--profiling=false".into(),
    ];
    spawn_logged(
        &dir,
        prefix,
        "kube-apiserver",
        &bin_dir.join("kube-apiserver"),
        &api_args,
    )?;

    let ca_pem = std::fs::read_to_string(dir.join("ca.crt")).map_err(|e| e.to_string())?;
    wait_apiserver_ready(&dir, prefix, &server_url, &ca_pem).await?;

    let kubeconfig_path = dir.join("kubeconfig");
    std::fs::write(
        &kubeconfig_path,
        kubeconfig_yaml(&server_url, &ca_pem, &admin_token),
    )
    .map_err(|e| e.to_string())?;

    let cluster = Cluster {
        dir: dir.clone(),
        bin_dir,
        server_url,
        ca_pem,
        admin_token,
        kubeconfig_path,
        started_in: Duration::ZERO,
        process_prefix: prefix.to_string(),
        apiserver_args: api_args,
    };
    if preinstall_crds {
        cluster.try_install_crds().await?;
    }

    // kube-controller-manager
    let kcm_args: Vec<String> = vec![
        format!("--kubeconfig={}", cluster.kubeconfig_path.display()),
        format!("--controllers={CONTROLLERS}"),
        "--leader-elect=false".into(),
        "--secure-port=0".into(),
        format!("--root-ca-file={}", d("ca.crt")),
        format!("--service-account-private-key-file={}", d("sa.key")),
        "--use-service-account-credentials=false".into(),
        "--kube-api-qps=500".into(),
        "--kube-api-burst=1000".into(),
        "--concurrent-gc-syncs=5".into(),
    ];
    spawn_logged(
        &dir,
        prefix,
        "kube-controller-manager",
        &cluster.bin_dir.join("kube-controller-manager"),
        &kcm_args,
    )?;

    // Ready for tests: the `default` namespace exists and the controller manager has created
    // its `default` ServiceAccount (so KCM runs and can write).
    let accounts: Api<ServiceAccount> = Api::namespaced(cluster.client().await, "default");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        check_alive(&dir, prefix, "kube-controller-manager")?;
        if let Ok(Some(_)) = accounts.get_opt("default").await {
            break;
        }
        if Instant::now() > deadline {
            return Err(format!(
                "no `default` ServiceAccount 60 s after kube-controller-manager started; its last log lines:\n{}",
                log_tail(&dir, "kube-controller-manager")
            ));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Ok(Cluster {
        started_in: started.elapsed(),
        ..cluster
    })
}
