//! The IdentityProvider reconciler: reads one directory on its interval into the shared
//! index, and wakes the integrations that link it when the directory changes.

use std::sync::Arc;
use std::time::{Duration, Instant};

use idgap_model::{AccountStatus, DirectorySnapshot, ProviderKind, Timestamp};
use k8s_openapi::api::core::v1::Secret;
use kube::runtime::controller::Action;
use kube::runtime::events::EventType;
use kube::{Api, ResourceExt};

use super::REQUESTED_AT_ANNOTATION;
use super::conditions::{self as cond, Desired, Status};
use super::context::Context;
use super::directory::Change;
use super::schedule::{self, Decision, Facts};
use super::secrets::{self, DereferenceError};
use crate::resolve::{self, ResolveError};
use crate::resources::{IdentityProvider, IdentityProviderSpec, IdentityProviderStatus};

pub const KIND: &str = "IdentityProvider";

#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    #[error(
        "could not write the status of {0}: {1}. Check the operator's RBAC for identityproviders/status"
    )]
    Status(String, #[source] kube::Error),
    #[error("{0} has no namespace or uid; it is not a stored object")]
    NotStored(String),
}

impl ReconcileError {
    pub fn reason(&self) -> &'static str {
        match self {
            ReconcileError::Status(..) => "StatusWriteFailed",
            ReconcileError::NotStored(_) => "NotStored",
        }
    }
}

/// One directory sync's failure, by step.
#[derive(Debug, thiserror::Error)]
pub enum DirectorySyncError {
    #[error(transparent)]
    Dereference(#[from] DereferenceError),
    #[error(transparent)]
    Resolve(#[from] ResolveError),
    #[error(transparent)]
    Sync(#[from] idgap_idp::IdpError),
}

impl DirectorySyncError {
    pub fn reason(&self) -> &'static str {
        use idgap_idp::IdpError as E;
        match self {
            DirectorySyncError::Dereference(e) => e.reason(),
            DirectorySyncError::Resolve(e) => e.reason(),
            DirectorySyncError::Sync(E::Net(idgap_net::NetError::HostNotAllowed(_))) => {
                "HostNotAllowed"
            }
            DirectorySyncError::Sync(E::Net(idgap_net::NetError::BodyTooLarge { .. })) => {
                "ResponseTooLarge"
            }
            DirectorySyncError::Sync(E::Net(_)) => "Unreachable",
            DirectorySyncError::Sync(E::Auth { .. }) => "AuthenticationFailed",
            DirectorySyncError::Sync(E::Permission { .. }) => "PermissionDenied",
            DirectorySyncError::Sync(E::Protocol { .. }) => "UnexpectedResponse",
            DirectorySyncError::Sync(E::Config { .. }) => "InvalidConfiguration",
            DirectorySyncError::Sync(E::Empty { .. }) => "EmptyDirectory",
        }
    }

    pub fn stalled(&self) -> bool {
        matches!(
            self.reason(),
            "HostNotAllowed"
                | "InvalidConfiguration"
                | "SecretNotFound"
                | "SecretKeyNotFound"
                | "SecretKeyEmpty"
        ) || matches!(self, DirectorySyncError::Resolve(_))
    }
}

/// The provider a spec configures, for status and for a failed first sync.
pub fn provider_of(spec: &IdentityProviderSpec) -> ProviderKind {
    if spec.entra_id.is_some() {
        ProviderKind::EntraId
    } else if spec.google_workspace.is_some() {
        ProviderKind::GoogleWorkspace
    } else if spec.jump_cloud.is_some() {
        ProviderKind::JumpCloud
    } else if spec.one_login.is_some() {
        ProviderKind::OneLogin
    } else {
        ProviderKind::Okta
    }
}

pub async fn reconcile(
    obj: Arc<IdentityProvider>,
    ctx: Arc<Context>,
) -> Result<Action, ReconcileError> {
    let name = obj.name_any();
    let (Some(namespace), Some(uid)) = (obj.namespace(), obj.uid()) else {
        return Err(ReconcileError::NotStored(name));
    };
    let key = (namespace.clone(), name.clone());
    if obj.metadata.deletion_timestamp.is_some() {
        ctx.directories.remove(&key);
        return Ok(Action::await_change());
    }
    let api: Api<IdentityProvider> = Api::namespaced(ctx.client.clone(), &namespace);
    let previous = obj.status.clone().unwrap_or_default();
    let now = Timestamp::now();
    let generation = obj.metadata.generation;
    let provider = provider_of(&obj.spec);

    if obj.spec.suspend {
        let mut status = previous.clone();
        status.conditions = cond::merge(
            &previous.conditions,
            &[Desired::new(
                cond::READY,
                Status::False,
                "Suspended",
                "Syncing is suspended (spec.suspend: true); integrations keep using the last snapshot",
            )],
            &[],
            generation,
            now,
        );
        status.observed_generation = generation;
        write_status(&api, &namespace, &name, &previous, status, &ctx).await?;
        return Ok(Action::await_change());
    }

    let interval = obj
        .spec
        .interval
        .duration()
        .max(crate::resources::Interval::MINIMUM);
    let last_sync_time: Option<Timestamp> = previous
        .last_sync_time
        .as_deref()
        .and_then(|t| t.parse().ok());
    let failed_last = previous.last_sync_time != previous.last_successful_sync_time;
    let stalled = cond::is_true(&previous.conditions, cond::STALLED);
    let wait = if failed_last && !stalled {
        let n = ctx
            .failures
            .lock()
            .expect("failures lock")
            .get(&uid)
            .copied()
            .unwrap_or(1);
        schedule::backoff(n, interval, &format!("{uid}/{n}"))
    } else {
        schedule::jittered(
            interval,
            5,
            &format!("{uid}/{}", previous.last_sync_time.as_deref().unwrap_or("")),
        )
    };
    let requested_at = obj.annotations().get(REQUESTED_AT_ANNOTATION).cloned();
    let mut facts = Facts {
        generation,
        observed_generation: previous.observed_generation,
        requested_at: requested_at.clone(),
        last_handled_reconcile_at: previous.last_handled_reconcile_at.clone(),
        last_sync_time,
        next_sync_time: last_sync_time.map(|t| schedule::add(t, wait)),
        dependency_changed: ctx.take_pending(&(KIND, namespace.clone(), name.clone())),
        state_missing: ctx.directories.get(&key).is_none(),
    };
    facts.overlay(ctx.handled(&uid).as_ref());
    let trigger = match schedule::decide(&facts, interval, now) {
        Decision::Wait(d) => return Ok(Action::requeue(d)),
        Decision::Sync(t) => t,
    };
    tracing::info!(
        namespace,
        name,
        trigger = trigger.as_str(),
        "syncing directory"
    );

    let mut progressing = previous.clone();
    progressing.conditions = cond::merge(
        &previous.conditions,
        &[
            Desired::new(
                cond::RECONCILING,
                Status::True,
                "Progressing",
                format!("Reading the directory ({})", trigger.as_str()),
            ),
            cond::ready_while_progressing(&previous.conditions),
        ],
        &[cond::STALLED],
        generation,
        now,
    );
    write_status(
        &api,
        &namespace,
        &name,
        &previous,
        progressing.clone(),
        &ctx,
    )
    .await?;

    let started = Instant::now();
    let http = ctx.http.fresh_counter();
    let result = sync(&obj, &namespace, &http, &ctx).await;
    ctx.metrics
        .observe_sync(KIND, &namespace, &name, started.elapsed().as_secs_f64());
    let requests = match &result {
        Ok(s) => s.requests.max(http.requests()),
        Err(_) => http.requests(),
    };
    ctx.metrics.api_requests(provider.as_str(), requests);

    let mut status = progressing.clone();
    status.provider = Some(provider.as_str().to_string());
    status.last_sync_time = Some(now.to_string());
    status.requests_last_sync = Some(requests);
    status.observed_generation = generation;
    if requested_at.is_some() {
        status.last_handled_reconcile_at = requested_at;
    }
    let (change, next_in) = match result {
        Ok(snapshot) => {
            ctx.success(&uid);
            status.last_successful_sync_time = Some(now.to_string());
            count_accounts(&mut status, &snapshot);
            let message = format!(
                "{} accounts read with {requests} requests",
                snapshot.accounts.len()
            );
            status.conditions = cond::merge(
                &previous.conditions,
                &[Desired::new(
                    cond::READY,
                    Status::True,
                    "Succeeded",
                    message,
                )],
                &[],
                generation,
                now,
            );
            let change = ctx.directories.record_success(key.clone(), snapshot);
            let next = schedule::jittered(interval, 5, &format!("{uid}/{now}"));
            (change, next)
        }
        Err(e) => {
            let reason = e.reason();
            let message = e.to_string();
            ctx.metrics.reconcile_error(KIND, reason);
            tracing::warn!(namespace, name, reason, error = %message, "directory sync failed");
            let mut desired = vec![Desired::new(
                cond::READY,
                Status::False,
                reason,
                message.clone(),
            )];
            let wait = if e.stalled() {
                desired.push(Desired::new(
                    cond::STALLED,
                    Status::True,
                    reason,
                    message.clone(),
                ));
                interval
            } else {
                let n = ctx.failure(&uid);
                schedule::backoff(n, interval, &format!("{uid}/{n}"))
            };
            status.conditions = cond::merge(&previous.conditions, &desired, &[], generation, now);
            ctx.event(
                obj.as_ref(),
                EventType::Warning,
                reason,
                "SyncDirectory",
                message.clone(),
            )
            .await;
            let change = ctx
                .directories
                .record_failure(key.clone(), provider, message);
            (change, wait)
        }
    };
    wake_integrations(&ctx, &namespace, &name, change);
    ctx.set_handled(
        &uid,
        schedule::Handled {
            observed_generation: generation,
            last_handled_reconcile_at: status.last_handled_reconcile_at.clone(),
            last_sync_time: now,
            next_sync_time: schedule::add(now, next_in),
        },
    );
    let action = Action::requeue(next_in);
    write_status(&api, &namespace, &name, &progressing, status, &ctx).await?;
    Ok(action)
}

async fn sync(
    obj: &IdentityProvider,
    namespace: &str,
    http: &idgap_net::Http,
    ctx: &Context,
) -> Result<DirectorySnapshot, DirectorySyncError> {
    let secret_api: Api<Secret> = Api::namespaced(ctx.client.clone(), namespace);
    let refs = resolve::identity_provider_secret_refs(&obj.spec);
    let values = secrets::read_referenced(&secret_api, namespace, &refs).await?;
    let plan = resolve::resolve_identity_provider(obj, &values)?;
    Ok(crate::pipeline::sync_directory(http, &plan).await?)
}

fn count_accounts(status: &mut IdentityProviderStatus, s: &DirectorySnapshot) {
    let count =
        |f: fn(AccountStatus) -> bool| s.accounts.iter().filter(|a| f(a.status)).count() as u64;
    status.accounts = Some(s.accounts.len() as u64);
    status.active_accounts = Some(count(|st| st == AccountStatus::Active));
    status.suspended_accounts = Some(count(|st| st == AccountStatus::Suspended));
    status.deprovisioned_accounts = Some(count(|st| st == AccountStatus::Deprovisioned));
    status.unknown_state_accounts = Some(count(|st| st == AccountStatus::Unknown));
}

/// A changed directory makes its integrations sync again, and so does a first result for
/// integrations that were blocked on it (waiting, or the IdentityProvider did not exist). A
/// first result after a restart only wakes the others, which keep their own schedule.
fn wake_integrations(ctx: &Context, namespace: &str, name: &str, change: Change) {
    if change == Change::Unchanged {
        return;
    }
    for (scope, r, blocked) in ctx.integrations_linking(namespace, name) {
        if change == Change::Changed || blocked {
            ctx.mark_pending((
                super::integration::KIND,
                r.namespace.clone().unwrap_or_default(),
                r.name.clone(),
            ));
        }
        let _ = scope.wake.unbounded_send(r);
    }
}

async fn write_status(
    api: &Api<IdentityProvider>,
    namespace: &str,
    name: &str,
    previous: &IdentityProviderStatus,
    status: IdentityProviderStatus,
    ctx: &Context,
) -> Result<(), ReconcileError> {
    ctx.metrics
        .set_conditions(KIND, namespace, name, &status.conditions);
    super::status_patch::apply_if_changed(api, KIND, name, previous, &status)
        .await
        .map_err(|e| ReconcileError::Status(name.to_string(), e))
}

pub fn error_policy(obj: Arc<IdentityProvider>, err: &ReconcileError, ctx: Arc<Context>) -> Action {
    ctx.metrics.reconcile_error(KIND, err.reason());
    tracing::warn!(name = %obj.name_any(), error = %err, "reconcile failed");
    let uid = obj.uid().unwrap_or_default();
    let n = ctx.failure(&format!("reconcile/{uid}"));
    Action::requeue(schedule::backoff(n, Duration::from_secs(300), &uid))
}

#[cfg(test)]
mod tests {
    use idgap_model::IdpAccount;

    use super::*;

    /// An account whose state Graph did not say is counted on its own, not as active.
    #[test]
    fn status_counts_unknown_state_accounts_apart() {
        let account = |status| IdpAccount {
            id: "1".into(),
            login: "a@acme.com".into(),
            identifiers: vec![],
            other_ids: vec![],
            personal_addresses: vec![],
            status,
            raw_status: String::new(),
        };
        let snapshot = DirectorySnapshot {
            provider: ProviderKind::EntraId,
            name: "entra".into(),
            accounts: vec![
                account(AccountStatus::Active),
                account(AccountStatus::Unknown),
                account(AccountStatus::Suspended),
            ],
            read_at: Timestamp::UNIX_EPOCH,
            requests: 1,
        };
        let mut status = IdentityProviderStatus::default();
        count_accounts(&mut status, &snapshot);
        assert_eq!(status.accounts, Some(3));
        assert_eq!(status.active_accounts, Some(1));
        assert_eq!(status.unknown_state_accounts, Some(1));
        assert_eq!(status.suspended_accounts, Some(1));
    }
}
