//! One scenario's world: a fresh namespace, the Salesforce and JumpCloud simulators, and an
//! in-process operator scoped to the namespace with short timeouts and quick retries.
//! (Adapted from tests/operator/env.rs.) The linked IdentityProvider is the JumpCloud
//! simulator unless a scenario links another provider's with [`Env::link`].

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use idgap::operator::metrics::Metrics;
use idgap::operator::{Operator, OperatorConfig};
use idgap::resources::{AccessFinding, Condition, IdentityProvider, SalesforceIntegration};
use idgap_sim::idp::jumpcloud::{JumpCloudSim, JumpCloudSimOptions};
use idgap_sim::idp::{Directory, Person, PersonState};
use idgap_sim::salesforce::{OrgData, SalesforceSim, SimOptions};
use k8s_openapi::api::core::v1::Secret;
use kube::api::{ListParams, Patch, PatchParams, PostParams};
use kube::{Api, Client};
use serde_json::{Value, json};

use crate::capture;
use crate::support::{Cluster, eventually};

pub const WAIT: Duration = Duration::from_secs(60);
pub const SF_SECRET: &str = "sf-creds";
pub const JC_SECRET: &str = "jc-creds";
pub const IDP: &str = "jumpcloud";
/// Shorter than the simulators' injected delays, so a slow response is a timeout.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(1);

/// The IdentityProvider a scenario links instead of the JumpCloud one: its name, the
/// provider block of its spec, and the Secret holding its credentials.
#[derive(Debug, Clone)]
pub struct LinkedIdp {
    pub name: String,
    /// The provider block, e.g. `{"okta": {...}}`; `interval` is added.
    pub spec: Value,
    pub secret: String,
    pub data: Vec<(String, String)>,
    /// The values of `data` that are secrets (a client ID is not), for the leak checks.
    pub secret_values: Vec<String>,
}

pub struct Env {
    pub ns: String,
    pub client: Client,
    pub sf: SalesforceSim,
    pub jc: JumpCloudSim,
    pub jc_key: String,
    pub metrics: Arc<Metrics>,
    pub operator: Option<Operator>,
    /// `None`: the JumpCloud simulator is the linked IdentityProvider, named [`IDP`].
    pub linked: Option<LinkedIdp>,
}

/// integration@ (admin, in the IdP), alice (in the IdP), bob (not in the IdP), carol
/// (suspended in the IdP). Sessions are not locked to IP.
pub fn small_org() -> OrgData {
    let t: jiff::Timestamp = "2025-06-01T00:00:00Z".parse().unwrap();
    let mut org = OrgData::new();
    let admin = org.add_profile("System Administrator");
    let standard = org.add_profile("Standard User");
    org.add_user("integration@acme.com", admin, t);
    org.add_user("alice@acme.com", standard, t);
    org.add_user("bob@acme.com", standard, t);
    org.add_user("carol@acme.com", standard, t);
    org.set_security(false, false);
    org
}

pub fn small_directory() -> Directory {
    Directory::from_people(vec![
        Person::active(1, "integration@acme.com"),
        Person::active(2, "alice@acme.com"),
        Person::active(3, "carol@acme.com").with_state(PersonState::Suspended),
        Person::active(4, "dan@acme.com"),
        Person::active(5, "erin@acme.com"),
    ])
}

/// Pages of two records, so every query pages; refresh tokens rotating or not.
pub fn paging(rotate_refresh_tokens: bool) -> SimOptions {
    let opts = SimOptions {
        min_batch_size: 2,
        max_batch_size: 2,
        ..SimOptions::default()
    };
    if rotate_refresh_tokens {
        opts.rotate_refresh_tokens()
    } else {
        opts
    }
}

pub fn operator_config(ns: &str, instance: &str) -> OperatorConfig {
    OperatorConfig {
        allow_hosts: vec!["127.0.0.1".into()],
        watch_namespaces: vec![ns.to_string()],
        max_concurrent_reconciles: 4,
        request_timeout: REQUEST_TIMEOUT,
        retry: idgap_net::RetryPolicy::quick(),
        instance: Some(instance.to_string()),
    }
}

impl Env {
    /// Every query pages (batches of two), so a fault can land between pages; refresh
    /// tokens rotate on every sign-in.
    pub async fn start(prefix: &str, org: OrgData, directory: Directory) -> Env {
        Env::start_with(prefix, org, directory, paging(true), true).await
    }

    pub async fn start_with(
        prefix: &str,
        org: OrgData,
        directory: Directory,
        opts: SimOptions,
        with_operator: bool,
    ) -> Env {
        capture::install();
        let cluster = Cluster::shared().await;
        cluster.install_crds().await;
        let ns = cluster.fresh_namespace(prefix).await;
        let client = cluster.client().await;
        let sf = SalesforceSim::start(org, opts)
            .await
            .expect("start the Salesforce simulator");
        let jc_key = format!("jc-key-{prefix}-{}", rand::random::<u64>());
        let jc = JumpCloudSim::start(directory, JumpCloudSimOptions::new(&jc_key))
            .await
            .expect("start the JumpCloud simulator");
        let creds = sf.credentials();
        capture::register_secret(&creds.client_secret);
        capture::register_secret(&creds.refresh_token);
        capture::register_secret(&creds.private_key_pem);
        capture::register_secret(&jc_key);
        let metrics = Arc::new(Metrics::new());
        let mut env = Env {
            ns,
            client,
            sf,
            jc,
            jc_key,
            metrics,
            operator: None,
            linked: None,
        };
        if with_operator {
            env.operator = Some(env.start_operator(prefix).await);
        }
        env
    }

    pub async fn start_operator(&self, instance: &str) -> Operator {
        idgap::operator::start(
            self.client.clone(),
            operator_config(&self.ns, instance),
            self.metrics.clone(),
            Arc::new(AtomicBool::new(false)),
        )
        .await
        .expect("start the operator")
    }

    /// Links `idp` instead of the JumpCloud simulator (before [`Env::create_secrets`] and
    /// [`Env::integration_spec`]); its secret values join the leak checks.
    pub fn link(&mut self, idp: LinkedIdp) {
        for v in &idp.secret_values {
            capture::register_secret(v);
        }
        self.linked = Some(idp);
    }

    /// The name of the linked IdentityProvider.
    pub fn idp_name(&self) -> &str {
        self.linked.as_ref().map_or(IDP, |l| l.name.as_str())
    }

    /// Stops the operator, then checks that no secret leaked anywhere.
    pub async fn finish(mut self) {
        if let Some(op) = self.operator.take() {
            op.shutdown().await;
        }
        self.register_stored_refresh_token().await;
        capture::assert_no_secret_leaked(&self.client, &self.ns).await;
    }

    /// Rotated refresh tokens are secrets too: remembers the one stored now.
    pub async fn register_stored_refresh_token(&self) {
        if let Ok(s) = self.secrets().get(SF_SECRET).await
            && let Some(v) = s.data.and_then(|d| d.get("refresh_token").cloned())
        {
            capture::register_secret(&String::from_utf8_lossy(&v.0));
        }
    }

    pub fn secrets(&self) -> Api<Secret> {
        Api::namespaced(self.client.clone(), &self.ns)
    }

    pub fn integrations(&self) -> Api<SalesforceIntegration> {
        Api::namespaced(self.client.clone(), &self.ns)
    }

    pub fn identity_providers(&self) -> Api<IdentityProvider> {
        Api::namespaced(self.client.clone(), &self.ns)
    }

    pub fn findings_api(&self) -> Api<AccessFinding> {
        Api::namespaced(self.client.clone(), &self.ns)
    }

    pub async fn put_secret(&self, name: &str, data: &[(&str, &str)]) {
        let string_data: BTreeMap<String, String> = data
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let secret: Secret = serde_json::from_value(json!({
            "apiVersion": "v1", "kind": "Secret",
            "metadata": { "name": name },
            "stringData": string_data,
        }))
        .unwrap();
        self.secrets()
            .patch(
                name,
                &PatchParams::apply("idgap-tests").force(),
                &Patch::Apply(&secret),
            )
            .await
            .unwrap_or_else(|e| panic!("apply Secret {name}: {e}"));
    }

    /// The Salesforce and JumpCloud credential Secrets, and the linked provider's.
    pub async fn create_secrets(&self) {
        let creds = self.sf.credentials();
        self.put_secret(
            SF_SECRET,
            &[
                ("client_id", &creds.client_id),
                ("client_secret", &creds.client_secret),
                ("refresh_token", &creds.refresh_token),
                ("private_key", &creds.private_key_pem),
            ],
        )
        .await;
        self.put_secret(JC_SECRET, &[("api_key", &self.jc_key)])
            .await;
        if let Some(l) = &self.linked {
            let data: Vec<(&str, &str)> = l
                .data
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            self.put_secret(&l.secret, &data).await;
        }
    }

    /// Creates the IdentityProvider [`Env::link`] set up.
    pub async fn create_linked_identity_provider(&self) {
        let l = self.linked.as_ref().expect("Env::link ran");
        let mut spec = l.spec.clone();
        spec["interval"] = json!("30m");
        let idp: IdentityProvider = serde_json::from_value(json!({
            "apiVersion": "idgap.io/v1alpha1", "kind": "IdentityProvider",
            "metadata": { "name": l.name },
            "spec": spec,
        }))
        .unwrap();
        self.identity_providers()
            .create(&PostParams::default(), &idp)
            .await
            .unwrap();
    }

    pub async fn create_identity_provider(&self, name: &str, base_url: &str) {
        let idp: IdentityProvider = serde_json::from_value(json!({
            "apiVersion": "idgap.io/v1alpha1", "kind": "IdentityProvider",
            "metadata": { "name": name },
            "spec": {
                "interval": "30m",
                "jumpCloud": {
                    "apiKey": { "name": JC_SECRET, "key": "api_key" },
                    "baseUrl": base_url,
                }
            }
        }))
        .unwrap();
        self.identity_providers()
            .create(&PostParams::default(), &idp)
            .await
            .unwrap();
    }

    pub fn integration_spec(&self, login_url: &str) -> Value {
        json!({
            "interval": "1h",
            "loginUrl": login_url,
            "auth": { "refreshToken": {
                "clientId": { "name": SF_SECRET, "key": "client_id" },
                "clientSecret": { "name": SF_SECRET, "key": "client_secret" },
                "refreshToken": { "name": SF_SECRET, "key": "refresh_token" },
            }},
            "identityProviderRefs": [ { "name": self.idp_name() } ],
        })
    }

    pub async fn create_integration(&self, name: &str, spec: Value) {
        let obj: SalesforceIntegration = serde_json::from_value(json!({
            "apiVersion": "idgap.io/v1alpha1", "kind": "SalesforceIntegration",
            "metadata": { "name": name },
            "spec": spec,
        }))
        .unwrap();
        self.integrations()
            .create(&PostParams::default(), &obj)
            .await
            .unwrap();
    }

    /// Sets the requestedAt annotation to `token`.
    pub async fn request_sync(&self, kind: &str, name: &str, token: &str) {
        let mut annotations = serde_json::Map::new();
        annotations.insert(
            idgap::operator::REQUESTED_AT_ANNOTATION.into(),
            token.into(),
        );
        let patch = json!({ "metadata": { "annotations": annotations } });
        let pp = PatchParams::default();
        if kind == "idp" {
            self.identity_providers()
                .patch(name, &pp, &Patch::Merge(&patch))
                .await
                .unwrap();
        } else {
            self.integrations()
                .patch(name, &pp, &Patch::Merge(&patch))
                .await
                .unwrap();
        }
    }

    pub async fn wait_integration(
        &self,
        name: &str,
        what: &str,
        check: impl Fn(&SalesforceIntegration) -> bool,
    ) -> SalesforceIntegration {
        let api = self.integrations();
        eventually(what, WAIT, || {
            let api = api.clone();
            let check = &check;
            async move { api.get(name).await.ok().filter(|o| check(o)) }
        })
        .await
    }

    pub async fn wait_ready_reason(&self, name: &str, reason: &str) -> SalesforceIntegration {
        self.wait_integration(name, &format!("{name} Ready reason {reason}"), |o| {
            settled(o) && condition(o, "Ready").is_some_and(|c| c.reason == reason)
        })
        .await
    }

    /// Requests a sync and waits until it is done.
    pub async fn sync_now(&self, name: &str, token: &str) -> SalesforceIntegration {
        self.request_sync("integration", name, token).await;
        self.wait_integration(name, &format!("{name} to handle {token}"), |o| {
            let s = o.status.clone().unwrap_or_default();
            s.last_handled_reconcile_at.as_deref() == Some(token) && settled(o)
        })
        .await
    }

    /// Requests a directory read and waits until the IdentityProvider handled it.
    pub async fn sync_idp_now(&self, token: &str) -> IdentityProvider {
        let name = self.idp_name();
        self.request_sync("idp", name, token).await;
        let api = self.identity_providers();
        eventually(&format!("{name} to handle {token}"), WAIT, || {
            let api = api.clone();
            async move {
                let idp = api.get(name).await.ok()?;
                let s = idp.status.clone()?;
                let done = s.last_handled_reconcile_at.as_deref() == Some(token)
                    && s.observed_generation == idp.metadata.generation
                    && !s.conditions.iter().any(|c| c.type_ == "Reconciling");
                done.then_some(idp)
            }
        })
        .await
    }

    pub async fn findings(&self) -> Vec<AccessFinding> {
        let mut items = self
            .findings_api()
            .list(&ListParams::default())
            .await
            .unwrap()
            .items;
        items.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
        items
    }

    /// (name, resourceVersion) of every AccessFinding: equal before and after a fault
    /// means nothing was rewritten, created or deleted.
    pub async fn finding_versions(&self) -> Vec<(String, String)> {
        self.findings()
            .await
            .into_iter()
            .map(|f| {
                (
                    f.metadata.name.unwrap_or_default(),
                    f.metadata.resource_version.unwrap_or_default(),
                )
            })
            .collect()
    }

    /// (rule, subject display) of every AccessFinding, sorted.
    pub async fn finding_keys(&self) -> Vec<(String, String)> {
        let mut keys: Vec<(String, String)> = self
            .findings()
            .await
            .into_iter()
            .map(|f| (f.spec.rule, f.spec.subject.display))
            .collect();
        keys.sort();
        keys
    }

    pub fn writes(&self) -> (u64, u64, u64) {
        (
            self.metrics.finding_writes("create"),
            self.metrics.finding_writes("update"),
            self.metrics.finding_writes("delete"),
        )
    }

    /// Every Event in the namespace (events.k8s.io/v1).
    pub async fn events(&self) -> Vec<k8s_openapi::api::events::v1::Event> {
        let api: Api<k8s_openapi::api::events::v1::Event> =
            Api::namespaced(self.client.clone(), &self.ns);
        api.list(&ListParams::default()).await.unwrap().items
    }

    /// How many times a Warning with `reason` was recorded (a repeat is folded into the
    /// first Event's series, keeping its note).
    pub async fn warnings(&self, reason: &str) -> (i32, Vec<String>) {
        let mut count = 0;
        let mut notes = Vec::new();
        for e in self.events().await {
            if e.type_.as_deref() == Some("Warning") && e.reason.as_deref() == Some(reason) {
                count += e.series.as_ref().map_or(1, |s| s.count.max(1));
                notes.push(e.note.unwrap_or_default());
            }
        }
        (count, notes)
    }

    /// Waits until more Warnings with `reason` were recorded than `before`; returns their
    /// notes.
    pub async fn wait_warning(&self, reason: &str, before: i32) -> Vec<String> {
        eventually(&format!("a new Warning Event {reason}"), WAIT, || async {
            let (count, notes) = self.warnings(reason).await;
            (count > before).then_some(notes)
        })
        .await
    }
}

/// (status, reason, message) of a Ready condition.
pub type ReadyView = (String, String, String);

pub use crate::support::{condition, settled};

pub fn idp_condition(o: &IdentityProvider, type_: &str) -> Option<Condition> {
    o.status
        .as_ref()?
        .conditions
        .iter()
        .find(|c| c.type_ == type_)
        .cloned()
}
