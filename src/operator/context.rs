//! What every reconcile shares: the client, one event recorder, metrics, the HTTP plumbing,
//! the directory index, the findings cache and the triggers between controllers.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use futures::channel::mpsc::UnboundedSender;
use jiff::Timestamp;
use kube::Client;
use kube::Resource;
use kube::runtime::events::{Event, EventType, Recorder, Reporter};
use kube::runtime::reflector::{ObjectRef, Store};

use super::directory::DirectoryIndex;
use super::findings::FindingCache;
use super::metrics::Metrics;
use super::unstored_tokens::UnstoredTokens;
use crate::resources::SalesforceIntegration;

/// (kind, namespace, name).
pub type PendingKey = (&'static str, String, String);

/// One watched scope (a namespace, or the whole cluster): its integration store and the
/// channel that wakes its integration controller.
#[derive(Clone)]
pub struct Scope {
    pub namespace: Option<String>,
    pub integrations: Store<SalesforceIntegration>,
    pub wake: UnboundedSender<ObjectRef<SalesforceIntegration>>,
}

pub struct Context {
    pub client: Client,
    pub recorder: Recorder,
    pub metrics: Arc<Metrics>,
    pub http: idgap_net::Http,
    pub directories: DirectoryIndex,
    pub findings: FindingCache,
    /// Consecutive failed syncs per object uid, for the backoff.
    pub failures: Mutex<HashMap<String, u32>>,
    /// Objects whose dependencies (a Secret, a directory) changed: the next reconcile syncs.
    pub pending: Mutex<HashSet<PendingKey>>,
    /// Last seen resourceVersion of each referenced Secret ((namespace, name) → rv).
    pub secret_versions: Mutex<HashMap<(String, String), String>>,
    /// The last sync outcome per object uid (see [`super::schedule::Handled`]).
    pub handled: Mutex<HashMap<String, super::schedule::Handled>>,
    /// Secrets (namespace, name) the operator is writing right now (refresh-token rotation).
    pub own_secret_writes: Mutex<HashSet<(String, String)>>,
    /// Rotated refresh tokens not yet stored in their Secret.
    pub unstored_tokens: UnstoredTokens,
    pub scopes: Mutex<Vec<Scope>>,
    pub started: Timestamp,
}

impl Context {
    pub fn new(
        client: Client,
        metrics: Arc<Metrics>,
        http: idgap_net::Http,
        instance: Option<String>,
    ) -> Self {
        let recorder = Recorder::new(
            client.clone(),
            Reporter {
                controller: "idgap".into(),
                instance,
            },
        );
        Context {
            client,
            recorder,
            metrics,
            http,
            directories: DirectoryIndex::default(),
            findings: FindingCache::default(),
            failures: Mutex::new(HashMap::new()),
            pending: Mutex::new(HashSet::new()),
            secret_versions: Mutex::new(HashMap::new()),
            handled: Mutex::new(HashMap::new()),
            own_secret_writes: Mutex::new(HashSet::new()),
            unstored_tokens: UnstoredTokens::default(),
            scopes: Mutex::new(Vec::new()),
            started: Timestamp::now(),
        }
    }

    pub fn handled(&self, uid: &str) -> Option<super::schedule::Handled> {
        self.handled.lock().expect("handled lock").get(uid).cloned()
    }

    pub fn set_handled(&self, uid: &str, h: super::schedule::Handled) {
        self.handled
            .lock()
            .expect("handled lock")
            .insert(uid.to_string(), h);
    }

    pub fn mark_pending(&self, key: PendingKey) {
        self.pending.lock().expect("pending lock").insert(key);
    }

    pub fn take_pending(&self, key: &PendingKey) -> bool {
        self.pending.lock().expect("pending lock").remove(key)
    }

    pub fn failure(&self, uid: &str) -> u32 {
        let mut f = self.failures.lock().expect("failures lock");
        let n = f.entry(uid.to_string()).or_insert(0);
        *n += 1;
        *n
    }

    pub fn success(&self, uid: &str) {
        self.failures.lock().expect("failures lock").remove(uid);
    }

    /// Publishes an event; failures are logged, never fatal.
    pub async fn event<K: Resource<DynamicType = ()>>(
        &self,
        obj: &K,
        type_: EventType,
        reason: &str,
        action: &str,
        note: String,
    ) {
        // Redacted before the cut, so a secret straddling it leaves no prefix.
        let mut note = idgap_net::redact::server_text(&note);
        if note.len() > 1000 {
            let mut cut = 1000;
            while !note.is_char_boundary(cut) {
                cut -= 1;
            }
            note.truncate(cut);
        }
        let ev = Event {
            type_,
            reason: reason.to_string(),
            note: Some(note),
            action: action.to_string(),
            secondary: None,
        };
        if let Err(e) = self.recorder.publish(&ev, &obj.object_ref(&())).await {
            tracing::warn!(error = %e, reason, "could not publish event");
        }
    }

    /// Integrations in `namespace` that link the IdentityProvider `name`, and whether each is
    /// blocked on a directory (waiting for one, or one was missing).
    pub fn integrations_linking(
        &self,
        namespace: &str,
        name: &str,
    ) -> Vec<(Scope, ObjectRef<SalesforceIntegration>, bool)> {
        let scopes = self.scopes.lock().expect("scopes lock").clone();
        let mut out = Vec::new();
        for scope in scopes {
            if scope.namespace.as_deref().is_some_and(|ns| ns != namespace) {
                continue;
            }
            for i in scope.integrations.state() {
                if i.metadata.namespace.as_deref() == Some(namespace)
                    && i.spec.identity_provider_refs.iter().any(|r| r.name == name)
                {
                    let blocked = i.status.as_ref().is_some_and(|s| {
                        s.conditions.iter().any(|c| {
                            c.type_ == super::conditions::IDENTITY_PROVIDERS_SYNCED
                                && matches!(
                                    c.reason.as_str(),
                                    "WaitingForIdentityProvider" | "IdentityProviderNotFound"
                                )
                        })
                    });
                    out.push((scope.clone(), ObjectRef::from_obj(i.as_ref()), blocked));
                }
            }
        }
        out
    }
}
