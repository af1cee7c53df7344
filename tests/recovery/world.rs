//! One scenario's world: a namespace on a control plane, the Salesforce and JumpCloud
//! simulators (in process, on 127.0.0.1), the credential Secrets, a JumpCloud
//! IdentityProvider and a SalesforceIntegration; and what the findings must be.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use idgap::resources::{AccessFinding, IdentityProvider, SalesforceIntegration};
use idgap_sim::faults::{Fault, FaultRule};
use idgap_sim::idp::jumpcloud::{JumpCloudSim, JumpCloudSimOptions};
use idgap_sim::idp::{Directory, Person, PersonState};
use idgap_sim::salesforce::{OrgData, ProfileRef, SalesforceSim, SimOptions};
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::api::events::v1::Event;
use kube::api::{ListParams, Patch, PatchParams, PostParams};
use kube::{Api, Client};
use serde_json::json;

use crate::support::{Cluster, eventually};

pub const INTEGRATION: &str = "acme";
pub const IDP: &str = "jumpcloud";
const SF_SECRET: &str = "sf-creds";
const JC_SECRET: &str = "jc-creds";
/// Long enough for an operator to recover from an outage or take over a Lease.
pub const WAIT: Duration = Duration::from_secs(120);
/// How long each slowed Salesforce API call takes.
pub const SLOW_CALL: Duration = Duration::from_millis(1500);

pub struct World {
    pub ns: String,
    pub client: Client,
    pub sf: SalesforceSim,
    pub jc: JumpCloudSim,
    standard_profile: ProfileRef,
}

/// (rule, subject) of one AccessFinding.
pub type Key = (String, String);

/// A stored AccessFinding, as compared across an outage.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Stored {
    pub name: String,
    pub uid: String,
    pub rule: String,
    pub subject: String,
}

fn created() -> jiff::Timestamp {
    "2025-06-01T00:00:00Z".parse().unwrap()
}

impl World {
    /// integration@ (admin) and alice are in the IdP, bob is not, carol is suspended there;
    /// sessions are not locked to IP. Every query pages in twos, so a sync makes many calls.
    pub async fn start(cluster: &Cluster, prefix: &str) -> World {
        World::start_with(cluster, prefix, false).await
    }

    /// [`World::start`]; with `rotate_refresh_tokens`, every sign-in returns a new refresh
    /// token and invalidates the old one.
    pub async fn start_with(cluster: &Cluster, prefix: &str, rotate_refresh_tokens: bool) -> World {
        let ns = cluster.fresh_namespace(prefix).await;
        let client = cluster.client().await;
        let mut org = OrgData::new();
        let admin = org.add_profile("System Administrator");
        let standard_profile = org.add_profile("Standard User");
        org.add_user("integration@acme.com", admin, created());
        org.add_user("alice@acme.com", standard_profile, created());
        org.add_user("bob@acme.com", standard_profile, created());
        org.add_user("carol@acme.com", standard_profile, created());
        org.set_security(false, false);
        let opts = SimOptions {
            min_batch_size: 2,
            max_batch_size: 2,
            ..SimOptions::default()
        };
        let opts = if rotate_refresh_tokens {
            opts.rotate_refresh_tokens()
        } else {
            opts
        };
        let sf = SalesforceSim::start(org, opts)
            .await
            .expect("start the Salesforce simulator");
        let jc_key = format!("jc-key-{}", rand::random::<u64>());
        let directory = Directory::from_people(vec![
            Person::active(1, "integration@acme.com"),
            Person::active(2, "alice@acme.com"),
            Person::active(3, "carol@acme.com").with_state(PersonState::Suspended),
            Person::active(4, "dan@acme.com"),
        ]);
        let jc = JumpCloudSim::start(directory, JumpCloudSimOptions::new(&jc_key))
            .await
            .expect("start the JumpCloud simulator");
        let world = World {
            ns,
            client,
            sf,
            jc,
            standard_profile,
        };
        world.create_inputs(&jc_key).await;
        world
    }

    async fn create_inputs(&self, jc_key: &str) {
        let creds = self.sf.credentials();
        let secrets: Api<Secret> = Api::namespaced(self.client.clone(), &self.ns);
        for (name, data) in [
            (
                SF_SECRET,
                json!({
                    "client_id": creds.client_id,
                    "client_secret": creds.client_secret,
                    "refresh_token": creds.refresh_token,
                }),
            ),
            (JC_SECRET, json!({ "api_key": jc_key })),
        ] {
            let secret: Secret = serde_json::from_value(json!({
                "metadata": { "name": name },
                "stringData": data,
            }))
            .unwrap();
            secrets
                .create(&PostParams::default(), &secret)
                .await
                .unwrap_or_else(|e| panic!("create Secret {name}: {e}"));
        }
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
        Api::<IdentityProvider>::namespaced(self.client.clone(), &self.ns)
            .create(&PostParams::default(), &idp)
            .await
            .unwrap();
        let integration: SalesforceIntegration = serde_json::from_value(json!({
            "apiVersion": "idgap.io/v1alpha1", "kind": "SalesforceIntegration",
            "metadata": { "name": INTEGRATION },
            "spec": {
                "interval": "1h",
                "loginUrl": self.sf.base_url(),
                "auth": { "refreshToken": {
                    "clientId": { "name": SF_SECRET, "key": "client_id" },
                    "clientSecret": { "name": SF_SECRET, "key": "client_secret" },
                    "refreshToken": { "name": SF_SECRET, "key": "refresh_token" },
                }},
                "identityProviderRefs": [ { "name": IDP } ],
            }
        }))
        .unwrap();
        self.integrations()
            .create(&PostParams::default(), &integration)
            .await
            .unwrap();
    }

    /// The findings of the org as created: bob is not in the IdP, carol is suspended there
    /// but active in Salesforce, and sessions are not locked to IP.
    pub fn expected_initially(&self) -> BTreeSet<Key> {
        let org_id = self.sf.org().lock().org_id();
        [
            ("session-ip-not-enforced", org_id.as_str()),
            ("stale-active-user", "carol@acme.com"),
            ("user-not-in-idp", "bob@acme.com"),
        ]
        .into_iter()
        .map(|(r, s)| (r.to_string(), s.to_string()))
        .collect()
    }

    /// `username` joins the org without an IdP account: the next complete sync adds one
    /// finding.
    pub fn add_user_missing_from_idp(&self, username: &str) -> Key {
        let profile = self.standard_profile;
        self.sf
            .org()
            .update(|org| org.add_user(username, profile, created()));
        ("user-not-in-idp".to_string(), username.to_string())
    }

    /// `username` joins the org without an IdP account, Salesforce turns slow, a sync is
    /// requested with `token`, and this returns once that sync is reading Salesforce (so a
    /// disruption now lands in its middle). Returns the finding the sync should add.
    pub async fn start_slow_sync(&self, username: &str, token: &str) -> Key {
        let added = self.add_user_missing_from_idp(username);
        self.slow_salesforce();
        let calls_before = self.salesforce_calls();
        self.request_sync(token).await;
        eventually(
            "the requested sync to be reading Salesforce",
            WAIT,
            || async { (self.salesforce_calls() >= calls_before + 2).then_some(()) },
        )
        .await;
        added
    }

    /// The findings after a complete sync: the initial ones and `added`.
    pub fn expected_with(&self, added: Key) -> BTreeSet<Key> {
        let mut expected = self.expected_initially();
        expected.insert(added);
        expected
    }

    /// Every Salesforce REST/SOAP call (not the token endpoint) takes [`SLOW_CALL`] until
    /// [`World::fast_salesforce`].
    pub fn slow_salesforce(&self) {
        self.sf
            .faults()
            .push(FaultRule::new("/services/data", Fault::Delay(SLOW_CALL)).times(u32::MAX));
    }

    pub fn fast_salesforce(&self) {
        self.sf.faults().clear();
    }

    /// Salesforce API calls served so far (every kind).
    pub fn salesforce_calls(&self) -> u64 {
        let r = self.sf.requests();
        r.token + r.query + r.tooling + r.metadata + r.other
    }

    pub fn integrations(&self) -> Api<SalesforceIntegration> {
        Api::namespaced(self.client.clone(), &self.ns)
    }

    pub fn findings_api(&self) -> Api<AccessFinding> {
        Api::namespaced(self.client.clone(), &self.ns)
    }

    /// Sets the requestedAt annotation: the operator syncs once more.
    pub async fn request_sync(&self, token: &str) {
        let mut annotations = serde_json::Map::new();
        annotations.insert(
            idgap::operator::REQUESTED_AT_ANNOTATION.into(),
            token.into(),
        );
        self.integrations()
            .patch(
                INTEGRATION,
                &PatchParams::default(),
                &Patch::Merge(&json!({ "metadata": { "annotations": annotations } })),
            )
            .await
            .unwrap_or_else(|e| panic!("request a sync ({token}): {e}"));
    }

    /// Waits until the integration is settled with Ready=True (reason Succeeded) after
    /// handling `token` (or, without one, after its first sync).
    pub async fn wait_synced(&self, token: Option<&str>) -> SalesforceIntegration {
        self.wait_synced_within(token, WAIT).await
    }

    /// [`World::wait_synced`] with its own timeout.
    pub async fn wait_synced_within(
        &self,
        token: Option<&str>,
        timeout: Duration,
    ) -> SalesforceIntegration {
        let api = self.integrations();
        let what = format!(
            "{INTEGRATION} Ready=True Succeeded after handling {}",
            token.unwrap_or("its first sync")
        );
        eventually(&what, timeout, || {
            let api = api.clone();
            async move {
                let o = api.get(INTEGRATION).await.ok()?;
                let s = o.status.clone()?;
                let handled =
                    token.is_none_or(|t| s.last_handled_reconcile_at.as_deref() == Some(t));
                let ready = condition(&o, "Ready")
                    .is_some_and(|c| c.status == "True" && c.reason == "Succeeded");
                (handled && settled(&o) && ready).then_some(o)
            }
        })
        .await
    }

    /// Every AccessFinding, sorted by name; asserts no (rule, subject) appears twice.
    pub async fn stored(&self) -> Vec<Stored> {
        let items = self
            .findings_api()
            .list(&ListParams::default())
            .await
            .expect("list AccessFindings")
            .items;
        let mut stored: Vec<Stored> = items
            .into_iter()
            .map(|f| Stored {
                name: f.metadata.name.unwrap_or_default(),
                uid: f.metadata.uid.unwrap_or_default(),
                rule: f.spec.rule,
                subject: f.spec.subject.display,
            })
            .collect();
        stored.sort();
        let keys: BTreeSet<Key> = stored.iter().map(Stored::key).collect();
        assert_eq!(
            keys.len(),
            stored.len(),
            "a finding is duplicated: {stored:#?}"
        );
        stored
    }

    /// The Lease's holder and transitions.
    pub async fn lease(&self) -> Option<(String, i32)> {
        let leases: Api<Lease> = Api::namespaced(self.client.clone(), &self.ns);
        let spec = leases
            .get_opt(idgap::operator::leader::LEASE_NAME)
            .await
            .ok()??
            .spec?;
        Some((spec.holder_identity?, spec.lease_transitions.unwrap_or(0)))
    }

    /// (reason, reportingInstance) of every Event about the integration, oldest first.
    pub async fn integration_events(&self) -> Vec<(String, String)> {
        let api: Api<Event> = Api::namespaced(self.client.clone(), &self.ns);
        let mut events = api.list(&ListParams::default()).await.unwrap().items;
        events.retain(|e| {
            e.regarding
                .as_ref()
                .is_some_and(|r| r.kind.as_deref() == Some("SalesforceIntegration"))
        });
        events.sort_by_key(|e| e.event_time.as_ref().map(|t| t.0));
        events
            .into_iter()
            .map(|e| {
                (
                    e.reason.unwrap_or_default(),
                    e.reporting_instance.unwrap_or_default(),
                )
            })
            .collect()
    }
}

impl Stored {
    pub fn key(&self) -> Key {
        (self.rule.clone(), self.subject.clone())
    }
}

/// The (rule, subject) set of `stored`.
pub fn keys(stored: &[Stored]) -> BTreeSet<Key> {
    stored.iter().map(Stored::key).collect()
}

/// name → uid of `stored`.
pub fn uids(stored: &[Stored]) -> BTreeMap<String, String> {
    stored
        .iter()
        .map(|s| (s.name.clone(), s.uid.clone()))
        .collect()
}

/// Every finding of `before` is still in `after` under the same name and uid (not lost, not
/// recreated).
pub fn assert_kept(before: &[Stored], after: &[Stored], what: &str) {
    let after_uids = uids(after);
    for (name, uid) in uids(before) {
        assert_eq!(after_uids.get(&name), Some(&uid), "finding {name} {what}");
    }
}

pub use crate::support::{condition, settled};

/// `status.lastSuccessfulSyncTime`.
pub fn last_success(o: &SalesforceIntegration) -> jiff::Timestamp {
    o.status
        .as_ref()
        .and_then(|s| s.last_successful_sync_time.as_deref())
        .and_then(|t| t.parse().ok())
        .unwrap_or_else(|| panic!("{INTEGRATION} has no lastSuccessfulSyncTime: {o:?}"))
}
