use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use futures::{StreamExt, stream};
use idgap_model::{RuleId, Severity, Timestamp};
use kube::Api;
use kube::api::{DeleteParams, ListParams, Patch, PatchParams};
use tokio::sync::Mutex;

use super::build::{DesiredFinding, label_value};
use super::prune::{Existing, Plan};
use crate::operator::metrics::Metrics;
use crate::operator::{
    FIELD_MANAGER, INTEGRATION_LABEL, RULE_LABEL, SEVERITY_LABEL, SPEC_HASH_ANNOTATION,
};
use crate::resources::AccessFinding;

/// How many AccessFinding writes run at once. Each write waits mostly on etcd's commit, and
/// etcd commits concurrent writes together, so more in flight means more writes per second:
/// a first apply of 10,000 findings took 102.6 s at 16 and 61.5 s at 64 (docs/benchmarks.md).
/// The API server's priority and fairness queues the excess rather than letting one
/// operator crowd out other clients.
const APPLY_CONCURRENCY: usize = 64;

#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error(
        "could not list the existing AccessFindings: {0}. Check that the operator may list accessfindings.idgap.io in this namespace"
    )]
    List(#[source] kube::Error),
    #[error(
        "{failed} of {attempted} AccessFinding writes failed (first: {first}). Check the operator's RBAC for accessfindings.idgap.io and the API server's health; the next sync retries"
    )]
    Writes {
        failed: usize,
        attempted: usize,
        first: String,
    },
}

impl ApplyError {
    pub fn reason(&self) -> &'static str {
        match self {
            ApplyError::List(_) => "FindingsListFailed",
            ApplyError::Writes { .. } => "FindingsApplyFailed",
        }
    }
}

/// The known AccessFindings of one integration, by name.
pub type KnownFindings = Arc<Mutex<BTreeMap<String, Existing>>>;

/// Per integration (keyed by its uid): the AccessFindings known to exist and their spec
/// hashes, so an unchanged sync writes nothing. Rebuilt from a LIST on first use.
#[derive(Default)]
pub struct FindingCache {
    inner: Mutex<HashMap<String, KnownFindings>>,
}

impl FindingCache {
    /// The entry for an integration, loading it from the API server when missing.
    pub async fn entry(
        &self,
        api: &Api<AccessFinding>,
        uid: &str,
        integration: &str,
    ) -> Result<KnownFindings, ApplyError> {
        if let Some(e) = self.inner.lock().await.get(uid) {
            return Ok(e.clone());
        }
        let loaded = load_existing(api, integration, uid).await?;
        let entry = Arc::new(Mutex::new(loaded));
        Ok(self
            .inner
            .lock()
            .await
            .entry(uid.to_string())
            .or_insert(entry)
            .clone())
    }

    pub async fn forget(&self, uid: &str) {
        self.inner.lock().await.remove(uid);
    }
}

/// Lists an integration's AccessFindings by label (only those owned by `uid`).
pub async fn load_existing(
    api: &Api<AccessFinding>,
    integration: &str,
    uid: &str,
) -> Result<BTreeMap<String, Existing>, ApplyError> {
    let lp =
        ListParams::default().labels(&format!("{INTEGRATION_LABEL}={}", label_value(integration)));
    let list = api.list(&lp).await.map_err(ApplyError::List)?;
    let mut out = BTreeMap::new();
    for af in list.items {
        let owned = af
            .metadata
            .owner_references
            .as_ref()
            .is_some_and(|o| o.iter().any(|r| r.uid == uid));
        if !owned {
            continue;
        }
        let Some(name) = af.metadata.name.clone() else {
            continue;
        };
        let labels = af.metadata.labels.clone().unwrap_or_default();
        let rule = labels
            .get(RULE_LABEL)
            .and_then(|r| r.parse::<RuleId>().ok());
        let severity = labels
            .get(SEVERITY_LABEL)
            .and_then(|s| s.parse::<Severity>().ok());
        let hash = af
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(SPEC_HASH_ANNOTATION).cloned())
            .unwrap_or_default();
        let occurred_at = af
            .spec
            .occurred_at
            .as_deref()
            .and_then(|s| s.parse::<Timestamp>().ok());
        out.insert(
            name,
            Existing {
                rule,
                severity,
                occurred_at,
                hash,
            },
        );
    }
    Ok(out)
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct WriteCounts {
    pub created: usize,
    pub updated: usize,
    pub deleted: usize,
    pub unchanged: usize,
    pub kept: usize,
}

/// Owned, so the write futures are `'static`-friendly inside the controller's task.
enum Op {
    Create(DesiredFinding),
    Update(DesiredFinding),
    Delete(String),
}

/// Writes the plan with bounded concurrency and updates `known` for every write that
/// succeeded, so a partial failure is retried next time and nothing is written twice.
pub async fn apply_plan(
    api: &Api<AccessFinding>,
    plan: &Plan<'_>,
    known: &mut BTreeMap<String, Existing>,
    metrics: &Metrics,
) -> Result<WriteCounts, ApplyError> {
    let ops: Vec<Op> = plan
        .create
        .iter()
        .map(|d| Op::Create((*d).clone()))
        .chain(plan.update.iter().map(|d| Op::Update((*d).clone())))
        .chain(plan.delete.iter().cloned().map(Op::Delete))
        .collect();
    let attempted = ops.len();
    let pp = PatchParams::apply(FIELD_MANAGER).force();
    let results: Vec<(Op, Result<(), kube::Error>)> = stream::iter(ops)
        .map(|op| {
            let pp = pp.clone();
            let api = api.clone();
            async move {
                let r = match &op {
                    Op::Create(d) | Op::Update(d) => api
                        .patch(&d.name, &pp, &Patch::Apply(&d.object))
                        .await
                        .map(|_| ()),
                    Op::Delete(name) => match api.delete(name, &DeleteParams::background()).await {
                        Ok(_) => Ok(()),
                        Err(kube::Error::Api(s)) if s.code == 404 => Ok(()),
                        Err(e) => Err(e),
                    },
                };
                (op, r)
            }
        })
        .buffer_unordered(APPLY_CONCURRENCY)
        .collect()
        .await;

    let mut counts = WriteCounts {
        unchanged: plan.unchanged,
        kept: plan.kept,
        ..WriteCounts::default()
    };
    let mut failed = 0;
    let mut first = None;
    for (op, r) in results {
        match (op, r) {
            (Op::Create(d), Ok(())) => {
                counts.created += 1;
                metrics.finding_write("create");
                known.insert(d.name.clone(), existing_of(&d));
            }
            (Op::Update(d), Ok(())) => {
                counts.updated += 1;
                metrics.finding_write("update");
                known.insert(d.name.clone(), existing_of(&d));
            }
            (Op::Delete(name), Ok(())) => {
                counts.deleted += 1;
                metrics.finding_write("delete");
                known.remove(&name);
            }
            (_, Err(e)) => {
                failed += 1;
                first.get_or_insert_with(|| e.to_string());
            }
        }
    }
    if failed > 0 {
        return Err(ApplyError::Writes {
            failed,
            attempted,
            first: first.unwrap_or_default(),
        });
    }
    Ok(counts)
}

fn existing_of(d: &DesiredFinding) -> Existing {
    Existing {
        rule: Some(d.rule),
        severity: Some(d.severity),
        occurred_at: d.occurred_at,
        hash: d.hash.clone(),
    }
}
