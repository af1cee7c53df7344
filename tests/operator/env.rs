//! One test's world: a fresh namespace, the simulators, and an operator scoped to it.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use idgap::operator::metrics::Metrics;
use idgap::operator::{Operator, OperatorConfig};
use idgap::resources::{AccessFinding, IdentityProvider, SalesforceIntegration};
use idgap_sim::idp::jumpcloud::{JumpCloudSim, JumpCloudSimOptions};
use idgap_sim::idp::{Directory, Person, PersonState};
use idgap_sim::salesforce::{OrgData, SalesforceSim, SimOptions};
use k8s_openapi::api::core::v1::Secret;
use kube::api::{ListParams, Patch, PatchParams, PostParams};
use kube::{Api, Client};
use serde_json::{Value, json};

use crate::support::{Cluster, eventually};

pub const JC_KEY: &str = "jc-test-api-key-7f3a9c";
pub const WAIT: Duration = Duration::from_secs(60);
pub const SF_SECRET: &str = "sf-creds";
pub const JC_SECRET: &str = "jc-creds";
pub const IDP: &str = "jumpcloud";

pub struct Env {
    pub ns: String,
    pub client: Client,
    pub sf: SalesforceSim,
    pub jc: JumpCloudSim,
    pub metrics: Arc<Metrics>,
    pub operator: Option<Operator>,
}

/// integration@ (admin, in the IdP), alice (in the IdP), bob (not in the IdP), carol
/// (suspended in the IdP). Sessions are not locked to IP.
pub fn org() -> OrgData {
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

pub fn directory() -> Directory {
    Directory::from_people(vec![
        Person::active(1, "integration@acme.com"),
        Person::active(2, "alice@acme.com"),
        Person::active(3, "carol@acme.com").with_state(PersonState::Suspended),
        Person::active(4, "dan@acme.com"),
        Person::active(5, "erin@acme.com"),
    ])
}

impl Env {
    pub async fn start(prefix: &str) -> Env {
        let cluster = Cluster::shared().await;
        cluster.install_crds().await;
        let ns = cluster.fresh_namespace(prefix).await;
        let client = cluster.client().await;
        let sf = SalesforceSim::start(org(), SimOptions::default().rotate_refresh_tokens())
            .await
            .expect("start the Salesforce simulator");
        let jc = JumpCloudSim::start(directory(), JumpCloudSimOptions::new(JC_KEY))
            .await
            .expect("start the JumpCloud simulator");
        let metrics = Arc::new(Metrics::new());
        let operator = idgap::operator::start(
            client.clone(),
            OperatorConfig {
                allow_hosts: vec!["127.0.0.1".into()],
                watch_namespaces: vec![ns.clone()],
                max_concurrent_reconciles: 4,
                request_timeout: Duration::from_secs(5),
                retry: idgap_net::RetryPolicy::quick(),
                instance: Some(format!("test-{prefix}")),
            },
            metrics.clone(),
            Arc::new(AtomicBool::new(false)),
        )
        .await
        .expect("start the operator");
        Env {
            ns,
            client,
            sf,
            jc,
            metrics,
            operator: Some(operator),
        }
    }

    pub async fn stop(mut self) {
        if let Some(op) = self.operator.take() {
            op.shutdown().await;
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

    pub async fn secret_value(&self, name: &str, key: &str) -> String {
        let s = self.secrets().get(name).await.unwrap();
        String::from_utf8(s.data.unwrap()[key].0.clone()).unwrap()
    }

    /// The Salesforce and JumpCloud credential Secrets.
    pub async fn create_secrets(&self) {
        let creds = self.sf.credentials();
        self.put_secret(
            SF_SECRET,
            &[
                ("client_id", &creds.client_id),
                ("client_secret", &creds.client_secret),
                ("refresh_token", &creds.refresh_token),
            ],
        )
        .await;
        self.put_secret(JC_SECRET, &[("api_key", JC_KEY)]).await;
    }

    pub async fn create_identity_provider(&self) {
        let idp: IdentityProvider = serde_json::from_value(json!({
            "apiVersion": "idgap.io/v1alpha1", "kind": "IdentityProvider",
            "metadata": { "name": IDP },
            "spec": {
                "interval": "30m",
                "jumpCloud": {
                    "apiKey": { "name": JC_SECRET, "key": "api_key" },
                    "baseUrl": self.jc.base_url(),
                }
            }
        }))
        .unwrap();
        self.identity_providers()
            .create(&PostParams::default(), &idp)
            .await
            .unwrap();
    }

    pub fn integration_spec(&self) -> Value {
        json!({
            "interval": "1h",
            "loginUrl": self.sf.base_url(),
            "auth": { "refreshToken": {
                "clientId": { "name": SF_SECRET, "key": "client_id" },
                "clientSecret": { "name": SF_SECRET, "key": "client_secret" },
                "refreshToken": { "name": SF_SECRET, "key": "refresh_token" },
            }},
            "identityProviderRefs": [ { "name": IDP } ],
        })
    }

    pub async fn create_integration(&self, name: &str, spec: Value) -> SalesforceIntegration {
        let obj: SalesforceIntegration = serde_json::from_value(json!({
            "apiVersion": "idgap.io/v1alpha1", "kind": "SalesforceIntegration",
            "metadata": { "name": name },
            "spec": spec,
        }))
        .unwrap();
        self.integrations()
            .create(&PostParams::default(), &obj)
            .await
            .unwrap()
    }

    pub async fn merge_patch_integration(&self, name: &str, patch: Value) -> SalesforceIntegration {
        self.integrations()
            .patch(name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
            .unwrap()
    }

    /// Sets the requestedAt annotation to a fresh token and returns it.
    pub async fn request_sync(&self, kind: &str, name: &str, token: &str) -> String {
        let mut annotations = serde_json::Map::new();
        annotations.insert(
            idgap::operator::REQUESTED_AT_ANNOTATION.into(),
            token.into(),
        );
        let patch = json!({ "metadata": { "annotations": annotations } });
        match kind {
            "idp" => {
                self.identity_providers()
                    .patch(name, &PatchParams::default(), &Patch::Merge(&patch))
                    .await
                    .unwrap();
            }
            _ => {
                self.integrations()
                    .patch(name, &PatchParams::default(), &Patch::Merge(&patch))
                    .await
                    .unwrap();
            }
        }
        token.to_string()
    }

    /// Waits until `check` holds for the integration.
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

    /// Waits until the integration finished a reconcile for its current generation with the
    /// given Ready reason.
    pub async fn wait_ready_reason(&self, name: &str, reason: &str) -> SalesforceIntegration {
        self.wait_integration(name, &format!("{name} Ready reason {reason}"), |o| {
            settled(o) && condition(o, "Ready").is_some_and(|c| c.reason == reason)
        })
        .await
    }

    /// Waits until the sync requested with `token` is done.
    pub async fn wait_handled(&self, name: &str, token: &str) -> SalesforceIntegration {
        self.wait_integration(name, &format!("{name} to handle {token}"), |o| {
            let s = o.status.clone().unwrap_or_default();
            s.last_handled_reconcile_at.as_deref() == Some(token) && settled(o)
        })
        .await
    }

    /// Waits until the IdentityProvider's Ready condition has `reason` for its generation.
    pub async fn wait_idp_reason(&self, reason: &str) -> IdentityProvider {
        let api = self.identity_providers();
        eventually(&format!("{IDP} Ready reason {reason}"), WAIT, || {
            let api = api.clone();
            async move {
                let idp = api.get(IDP).await.ok()?;
                let s = idp.status.clone()?;
                let done = s.observed_generation == idp.metadata.generation
                    && !s.conditions.iter().any(|c| c.type_ == "Reconciling")
                    && s.conditions
                        .iter()
                        .any(|c| c.type_ == "Ready" && c.reason == reason);
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

    /// `kubectl get <plural>` as the server renders it (a meta.k8s.io Table).
    pub async fn table(&self, plural: &str) -> Value {
        let req = http::Request::get(format!(
            "/apis/idgap.io/v1alpha1/namespaces/{}/{plural}",
            self.ns
        ))
        .header("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io")
        .body(Vec::new())
        .unwrap();
        self.client.request::<Value>(req).await.unwrap()
    }

    /// Event notes of `reason` in the namespace (events.k8s.io/v1).
    pub async fn event_notes(&self, reason: &str) -> Vec<String> {
        let api: Api<k8s_openapi::api::events::v1::Event> =
            Api::namespaced(self.client.clone(), &self.ns);
        api.list(&ListParams::default())
            .await
            .unwrap()
            .items
            .into_iter()
            .filter(|e| e.reason.as_deref() == Some(reason))
            .map(|e| e.note.unwrap_or_default())
            .collect()
    }
}

pub use crate::support::{condition, settled};

pub fn expect_findings(actual: &[(String, String)], expected: &[(&str, &str)]) {
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    assert_eq!(actual, expected.as_slice());
}
