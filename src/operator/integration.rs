//! The SalesforceIntegration reconciler.

use std::sync::Arc;
use std::time::{Duration, Instant};

use idgap_model::Timestamp;
use k8s_openapi::api::core::v1::Secret;
use kube::runtime::controller::Action;
use kube::runtime::events::EventType;
use kube::{Api, ResourceExt};

use super::REQUESTED_AT_ANNOTATION;
use super::conditions::{self as cond, Desired, Status};
use super::context::Context;
use super::findings::{self, Owner, PruneRules};
use super::schedule::{self, Decision, Facts};
use super::secrets::{self, DereferenceError};
use super::status::{self as st, DetectionView};
use super::unstored_tokens::TokenSlot;
use crate::pipeline::{self, DirectoryState, ScanResult};
use crate::resolve::SecretSource;
use crate::resolve::{self, IntegrationPlan, ResolveError};
use crate::resources::{
    IdentityProvider, SalesforceIntegration, SalesforceIntegrationStatus, SkippedRuleStatus,
};
use idgap_net::SecretString;

pub const KIND: &str = "SalesforceIntegration";
/// How soon an integration waiting for a directory's first snapshot looks again.
const WAITING_REQUEUE: Duration = Duration::from_secs(5);

/// Errors that end a reconcile early; the controller retries them with backoff.
#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    #[error(
        "could not write the status of {0}: {1}. Check the operator's RBAC for salesforceintegrations/status"
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

/// Why a linked IdentityProvider cannot be used yet.
#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    #[error(
        "spec.identityProviderRefs: IdentityProvider `{0}` does not exist in this namespace; create it or fix the reference"
    )]
    NotFound(String),
    #[error("waiting for the first sync of IdentityProvider {0}")]
    Waiting(String),
    #[error("could not read IdentityProvider `{0}`: {1}")]
    Read(String, #[source] kube::Error),
}

/// One sync's failure, by pipeline step.
#[derive(Debug, thiserror::Error)]
pub enum SyncStepError {
    #[error(transparent)]
    Dereference(#[from] DereferenceError),
    #[error(transparent)]
    Resolve(#[from] ResolveError),
    #[error(
        "spec.loginUrl: {0}. The operator only calls the vendors' hosts and those given with --allow-host; ask the operator's administrator to allow it"
    )]
    HostNotAllowed(String),
    #[error(transparent)]
    Directory(#[from] DirectoryError),
    #[error(transparent)]
    Salesforce(#[from] idgap_salesforce::SyncError),
    #[error(transparent)]
    Apply(#[from] findings::ApplyError),
}

impl SyncStepError {
    pub fn reason(&self) -> &'static str {
        match self {
            SyncStepError::Dereference(e) => e.reason(),
            SyncStepError::Resolve(e) => e.reason(),
            SyncStepError::HostNotAllowed(_) => "HostNotAllowed",
            SyncStepError::Directory(DirectoryError::NotFound(_)) => "IdentityProviderNotFound",
            SyncStepError::Directory(DirectoryError::Waiting(_)) => "WaitingForIdentityProvider",
            SyncStepError::Directory(DirectoryError::Read(..)) => "IdentityProviderReadFailed",
            SyncStepError::Salesforce(e) => e.reason(),
            SyncStepError::Apply(e) => e.reason(),
        }
    }

    /// Needs a person to change something: Stalled, no retry before a change.
    pub fn stalled(&self) -> bool {
        match self {
            SyncStepError::Resolve(_) | SyncStepError::HostNotAllowed(_) => true,
            SyncStepError::Directory(DirectoryError::NotFound(_)) => true,
            SyncStepError::Salesforce(_) => {
                matches!(
                    self.reason(),
                    "HostNotAllowed" | "InvalidPrivateKey" | "NotSalesforce"
                )
            }
            _ => false,
        }
    }

    fn credentials(&self) -> Option<bool> {
        match self {
            SyncStepError::Resolve(
                ResolveError::SecretNotFound { .. }
                | ResolveError::KeyNotFound { .. }
                | ResolveError::EmptyValue { .. },
            ) => Some(false),
            SyncStepError::Salesforce(_) => {
                matches!(self.reason(), "AuthenticationFailed" | "InvalidPrivateKey")
                    .then_some(false)
            }
            _ => None,
        }
    }
}

/// What a finished sync produced, for status and events.
struct SyncReport {
    scan: ScanResult,
    view: DetectionView,
    directories: Vec<DirectoryState>,
    summary: crate::resources::StatusSummary,
    counts: findings::WriteCounts,
    counts_by_rule: Vec<(String, String, i64)>,
    plan: IntegrationPlan,
    /// Why a refresh token Salesforce rotated to could not be stored, if it could not.
    rotation_not_stored: Option<String>,
}

fn view_of(d: &idgap_detect::Detection) -> DetectionView {
    DetectionView {
        excluded: d.excluded.len(),
        evaluated: d.evaluated.iter().copied().collect(),
        skipped: d
            .skipped
            .iter()
            .map(|s| (s.rule.as_str().to_string(), s.reason.clone()))
            .collect(),
    }
}

pub async fn reconcile(
    obj: Arc<SalesforceIntegration>,
    ctx: Arc<Context>,
) -> Result<Action, ReconcileError> {
    let name = obj.name_any();
    let (Some(namespace), Some(uid)) = (obj.namespace(), obj.uid()) else {
        return Err(ReconcileError::NotStored(name));
    };
    if obj.metadata.deletion_timestamp.is_some() {
        // Findings go with the integration through garbage collection (ownerReferences).
        ctx.findings.forget(&uid).await;
        ctx.metrics.set_findings(&namespace, &name, &[]);
        return Ok(Action::await_change());
    }
    let api: Api<SalesforceIntegration> = Api::namespaced(ctx.client.clone(), &namespace);
    let previous = obj.status.clone().unwrap_or_default();
    let now = Timestamp::now();
    let generation = obj.metadata.generation;

    if obj.spec.suspend {
        let mut status = previous.clone();
        status.conditions = cond::merge(
            &previous.conditions,
            &[Desired::new(
                cond::READY,
                Status::False,
                "Suspended",
                "Syncing is suspended (spec.suspend: true); existing findings are kept",
            )],
            &[
                cond::CREDENTIALS_VALID,
                cond::SALESFORCE_SYNCED,
                cond::IDENTITY_PROVIDERS_SYNCED,
                cond::FINDINGS_TRUNCATED,
            ],
            generation,
            now,
        );
        status.observed_generation = generation;
        status.next_sync_time = None;
        write_status(&api, &namespace, &name, &previous, status, &ctx).await?;
        return Ok(Action::await_change());
    }

    let interval = resolve_interval(&obj);
    let pending_key = (KIND, namespace.clone(), name.clone());
    let requested_at = obj.annotations().get(REQUESTED_AT_ANNOTATION).cloned();
    let mut facts = Facts {
        generation,
        observed_generation: previous.observed_generation,
        requested_at: requested_at.clone(),
        last_handled_reconcile_at: previous.last_handled_reconcile_at.clone(),
        last_sync_time: previous
            .last_sync_time
            .as_deref()
            .and_then(|t| t.parse().ok()),
        next_sync_time: previous
            .next_sync_time
            .as_deref()
            .and_then(|t| t.parse().ok()),
        dependency_changed: ctx.take_pending(&pending_key),
        state_missing: false,
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
        "syncing Salesforce org"
    );

    // Reconciling=True while the sync runs (kstatus "abnormal-true").
    let mut progressing = previous.clone();
    progressing.conditions = cond::merge(
        &previous.conditions,
        &[
            Desired::new(
                cond::RECONCILING,
                Status::True,
                "Progressing",
                format!("Syncing ({})", trigger.as_str()),
            ),
            cond::ready_while_progressing(&previous.conditions),
        ],
        &[
            cond::STALLED,
            cond::CREDENTIALS_VALID,
            cond::SALESFORCE_SYNCED,
            cond::IDENTITY_PROVIDERS_SYNCED,
            cond::FINDINGS_TRUNCATED,
        ],
        generation,
        now,
    );
    for c in progressing.conditions.iter_mut() {
        if let Some(p) = previous.conditions.iter().find(|p| p.type_ == c.type_) {
            c.observed_generation = p.observed_generation;
        }
    }
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
    let result = sync(&obj, &namespace, &uid, &ctx, now).await;
    ctx.metrics
        .observe_sync(KIND, &namespace, &name, started.elapsed().as_secs_f64());

    let mut status = progressing.clone();
    status.last_sync_time = Some(now.to_string());
    if requested_at.is_some() {
        status.last_handled_reconcile_at = requested_at;
    }
    status.observed_generation = generation;
    let action = match result {
        Ok(report) => {
            ctx.success(&uid);
            let next = schedule::add(
                now,
                schedule::jittered(report.plan.interval, 5, &format!("{uid}/{now}")),
            );
            apply_success(&mut status, &previous, &report, generation, now, next);
            ctx.metrics
                .set_findings(&namespace, &name, &report.counts_by_rule);
            let note = format!(
                "{}; AccessFindings created {}, updated {}, deleted {}, unchanged {}, kept {}",
                st::describe(&report.summary),
                report.counts.created,
                report.counts.updated,
                report.counts.deleted,
                report.counts.unchanged,
                report.counts.kept,
            );
            // The recorder folds repeats of one reason into a series (keeping the first
            // note), so a sync that changed findings gets its own reason.
            let c = &report.counts;
            let reason = if c.created + c.updated + c.deleted > 0 {
                "FindingsChanged"
            } else {
                "Synced"
            };
            ctx.event(obj.as_ref(), EventType::Normal, reason, "Sync", note)
                .await;
            Action::requeue(now.duration_until(next).try_into().unwrap_or(interval))
        }
        Err(e) => {
            let reason = e.reason();
            ctx.metrics.reconcile_error(KIND, reason);
            let message = e.to_string();
            tracing::warn!(namespace, name, reason, error = %message, "sync failed");
            let wait = if matches!(e, SyncStepError::Directory(DirectoryError::Waiting(_))) {
                WAITING_REQUEUE
            } else if e.stalled() {
                interval
            } else {
                let n = ctx.failure(&uid);
                schedule::backoff(n, interval, &format!("{uid}/{n}"))
            };
            apply_failure(
                &mut status,
                &previous,
                &e,
                generation,
                now,
                schedule::add(now, wait),
            );
            if !matches!(e, SyncStepError::Directory(DirectoryError::Waiting(_))) {
                ctx.event(obj.as_ref(), EventType::Warning, reason, "Sync", message)
                    .await;
            }
            Action::requeue(wait)
        }
    };
    if let Some(next) = status
        .next_sync_time
        .as_deref()
        .and_then(|t| t.parse().ok())
    {
        ctx.set_handled(
            &uid,
            schedule::Handled {
                observed_generation: generation,
                last_handled_reconcile_at: status.last_handled_reconcile_at.clone(),
                last_sync_time: now,
                next_sync_time: next,
            },
        );
    }
    write_status(&api, &namespace, &name, &progressing, status, &ctx).await?;
    Ok(action)
}

fn resolve_interval(obj: &SalesforceIntegration) -> Duration {
    obj.spec
        .interval
        .duration()
        .max(crate::resources::Interval::MINIMUM)
}

/// dereference → resolve → directories → sync + detect → build → apply.
async fn sync(
    obj: &SalesforceIntegration,
    namespace: &str,
    uid: &str,
    ctx: &Context,
    now: Timestamp,
) -> Result<SyncReport, SyncStepError> {
    let name = obj.name_any();
    // Dereference.
    let secret_api: Api<Secret> = Api::namespaced(ctx.client.clone(), namespace);
    let refs = resolve::integration_secret_refs(&obj.spec);
    let mut secret_values = secrets::read_referenced(&secret_api, namespace, &refs).await?;
    let refresh = refresh_token_in_use(obj, namespace, &mut secret_values, &secret_api, ctx).await;
    // Validate / resolve (pure).
    let plan = resolve::resolve_integration(obj, &secret_values, now)?;
    if let Some(url) = &obj.spec.login_url
        && let Err(e) = ctx.http.check(url)
    {
        return Err(SyncStepError::HostNotAllowed(e.to_string()));
    }
    let directories = linked_directories(ctx, namespace, &plan).await?;
    // Sync + detect.
    let http = ctx.http.fresh_counter();
    let scanned = pipeline::scan(&http, &plan, &directories, now).await;
    ctx.metrics.api_requests("salesforce", http.requests());
    // Store a rotated refresh token even when the sync then failed: the old one is dead.
    // Until it is stored, the new token lives only in memory (the old one is dead).
    let mut rotation_not_stored = None;
    if let Some(token) = plan.salesforce.rotation.take() {
        let stored = rotate_refresh_token(obj, &secret_api, token.expose(), ctx).await;
        if let Some((slot, in_secret)) = refresh {
            match stored {
                Ok(()) => ctx.unstored_tokens.forget(&slot),
                Err(_) => ctx
                    .unstored_tokens
                    .remember(slot, token, in_secret.expose()),
            }
        }
        rotation_not_stored = stored.err();
    }
    let scan = scanned?;
    let view = view_of(&scan.detection);
    // Build (pure).
    let owner = Owner {
        name: name.clone(),
        namespace: namespace.to_string(),
        uid: uid.to_string(),
    };
    let built = findings::build(
        &owner,
        &scan.detection.findings,
        plan.max_findings as usize,
        |f| idgap_detect::finding_name(&name, f),
    );
    // Apply + prune.
    let af_api = Api::namespaced(ctx.client.clone(), namespace);
    let known = ctx.findings.entry(&af_api, uid, &name).await?;
    let mut known = known.lock().await;
    let rules = PruneRules {
        complete: true,
        evaluated: view.evaluated.clone(),
        event_retention: plan.event_retention,
        now,
    };
    let diff = findings::plan(&known, &built.desired, &rules);
    let counts = findings::apply_plan(&af_api, &diff, &mut known, &ctx.metrics).await?;
    let summary = st::summary(&known, view.excluded, built.truncated);
    let counts_by_rule = st::counts_by_rule(&known);
    drop(known);
    Ok(SyncReport {
        counts_by_rule,
        scan,
        view,
        directories,
        summary,
        counts,
        plan,
        rotation_not_stored,
    })
}

async fn linked_directories(
    ctx: &Context,
    namespace: &str,
    plan: &IntegrationPlan,
) -> Result<Vec<DirectoryState>, DirectoryError> {
    let mut out = Vec::new();
    let mut waiting = Vec::new();
    let idp_api: Api<IdentityProvider> = Api::namespaced(ctx.client.clone(), namespace);
    for idp in &plan.identity_providers {
        match ctx.directories.state(&(namespace.to_string(), idp.clone())) {
            Some(state) => out.push(state),
            None => {
                let exists = idp_api
                    .get_opt(idp)
                    .await
                    .map_err(|e| DirectoryError::Read(idp.clone(), e))?;
                if exists.is_none() {
                    return Err(DirectoryError::NotFound(idp.clone()));
                }
                waiting.push(format!("`{idp}`"));
            }
        }
    }
    if !waiting.is_empty() {
        return Err(DirectoryError::Waiting(waiting.join(", ")));
    }
    Ok(out)
}

/// Where the integration's refresh token lives and the value its Secret holds now. When a
/// rotated token could not be stored earlier, it replaces that (retired) value in `values`
/// and another attempt is made to store it.
async fn refresh_token_in_use(
    obj: &SalesforceIntegration,
    namespace: &str,
    values: &mut resolve::SecretMap,
    api: &Api<Secret>,
    ctx: &Context,
) -> Option<(TokenSlot, SecretString)> {
    let r = obj.spec.auth.refresh_token.as_ref()?.refresh_token.clone();
    let mut in_secret = values.lookup(&r.name, &r.key).ok().flatten()?;
    let slot = (namespace.to_string(), r.name.clone(), r.key.clone());
    if let Some(unstored) = ctx.unstored_tokens.current(&slot, in_secret.expose()) {
        if rotate_refresh_token(obj, api, unstored.expose(), ctx)
            .await
            .is_ok()
        {
            ctx.unstored_tokens.forget(&slot);
            in_secret = unstored.clone();
        }
        values.insert(&r.name, &r.key, unstored);
    }
    Some((slot, in_secret))
}

async fn rotate_refresh_token(
    obj: &SalesforceIntegration,
    api: &Api<Secret>,
    value: &str,
    ctx: &Context,
) -> Result<(), String> {
    let Some(r) = obj
        .spec
        .auth
        .refresh_token
        .as_ref()
        .map(|a| a.refresh_token.clone())
    else {
        return Ok(());
    };
    let namespace = obj.namespace().unwrap_or_default();
    let marker = (namespace.clone(), r.name.clone());
    ctx.own_secret_writes
        .lock()
        .expect("own secret writes lock")
        .insert(marker.clone());
    let written = secrets::write_rotated(api, &r, value).await;
    if let Ok(Some(rv)) = &written {
        let mut versions = ctx.secret_versions.lock().expect("secret versions lock");
        for kind in [KIND, super::identity_provider::KIND] {
            versions.insert((format!("{kind}/{namespace}"), r.name.clone()), rv.clone());
        }
    }
    ctx.own_secret_writes
        .lock()
        .expect("own secret writes lock")
        .remove(&marker);
    match written {
        Ok(_) => {
            let note = format!(
                "Salesforce issued a new refresh token; stored it in Secret `{}` key `{}`",
                r.name, r.key
            );
            ctx.event(
                obj,
                EventType::Normal,
                "RefreshTokenRotated",
                "RotateCredential",
                note,
            )
            .await;
            Ok(())
        }
        Err(e) => {
            let note = format!(
                "Salesforce issued a new refresh token but it could not be stored in Secret `{}` key `{}`: {e}. Grant the operator `patch` on this Secret, or the next sync may fail to authenticate",
                r.name, r.key
            );
            ctx.event(
                obj,
                EventType::Warning,
                "RefreshTokenNotStored",
                "RotateCredential",
                note.clone(),
            )
            .await;
            Err(note)
        }
    }
}

fn apply_success(
    status: &mut SalesforceIntegrationStatus,
    previous: &SalesforceIntegrationStatus,
    report: &SyncReport,
    generation: Option<i64>,
    now: Timestamp,
    next: Timestamp,
) {
    let org = &report.scan.sync.snapshot;
    let inventory = st::inventory(org, &report.plan.policy);
    let failed_dirs: Vec<String> = report
        .directories
        .iter()
        .filter_map(|d| d.result.as_ref().err().map(|e| format!("{}: {e}", d.name)))
        .collect();
    let idp_condition = if report.directories.is_empty() {
        Desired::new(
            cond::IDENTITY_PROVIDERS_SYNCED,
            Status::False,
            "NoIdentityProviders",
            "spec.identityProviderRefs is empty; the IdP rules are not evaluated",
        )
    } else if failed_dirs.is_empty() {
        let accounts: usize = report
            .directories
            .iter()
            .filter_map(|d| d.result.as_ref().ok().map(|s| s.accounts.len()))
            .sum();
        Desired::new(
            cond::IDENTITY_PROVIDERS_SYNCED,
            Status::True,
            "Synced",
            format!(
                "{} directories, {accounts} accounts",
                report.directories.len()
            ),
        )
    } else {
        Desired::new(
            cond::IDENTITY_PROVIDERS_SYNCED,
            Status::False,
            "IdentityProviderFailed",
            format!(
                "{}; the IdP rules were not evaluated and their earlier findings are kept",
                failed_dirs.join("; ")
            ),
        )
    };
    let truncated = report.summary.truncated > 0;
    let missing = st::missing_permissions(org);
    let permissions_condition = if missing.is_empty() {
        Desired::new(
            cond::PERMISSIONS_COMPLETE,
            Status::True,
            "AllPermissionsHeld",
            "The integration user can read every part of the org idgap reads",
        )
    } else {
        Desired::new(
            cond::PERMISSIONS_COMPLETE,
            Status::False,
            "MissingPermissions",
            format!(
                "The integration user lacks {}; grant them (docs/salesforce-permissions.md) to evaluate those rules, whose earlier findings are kept",
                st::describe_missing(&missing)
            ),
        )
    };
    let desired = [
        Desired::new(
            cond::READY,
            Status::True,
            "Succeeded",
            st::describe(&report.summary),
        ),
        match &report.rotation_not_stored {
            // This sync worked, but the next sign-in will use a token Salesforce has retired.
            Some(why) => Desired::new(
                cond::CREDENTIALS_VALID,
                Status::False,
                "RefreshTokenNotStored",
                why.clone(),
            ),
            None => Desired::new(
                cond::CREDENTIALS_VALID,
                Status::True,
                "Authenticated",
                "Salesforce accepted the credentials",
            ),
        },
        Desired::new(
            cond::SALESFORCE_SYNCED,
            Status::True,
            "Synced",
            format!(
                "{} users, {} connected-app grants, {} audit events read with {} API calls",
                inventory.users,
                inventory.connected_app_grants,
                inventory.audit_events,
                org.api_usage.calls_this_sync
            ),
        ),
        idp_condition,
        permissions_condition,
        if truncated {
            Desired::new(
                cond::FINDINGS_TRUNCATED,
                Status::True,
                "MaxFindingsReached",
                format!(
                    "{} findings were not written; raise spec.findings.maxFindings ({}) or fix the most severe first",
                    report.summary.truncated, report.plan.max_findings
                ),
            )
        } else {
            Desired::new(
                cond::FINDINGS_TRUNCATED,
                Status::False,
                "WithinLimit",
                "All findings were written",
            )
        },
    ];
    status.conditions = cond::merge(&previous.conditions, &desired, &[], generation, now);
    status.last_successful_sync_time = Some(now.to_string());
    status.next_sync_time = Some(next.to_string());
    if let Some(w) = org.audit_watermark {
        status.audit_watermark = Some(w.to_string());
    }
    status.org = Some(st::org(org));
    status.summary = Some(report.summary.clone());
    status.inventory = Some(inventory);
    status.api_usage = Some(st::api_usage(org));
    status.missing_permissions = missing;
    status.skipped_rules = report
        .view
        .skipped
        .iter()
        .map(|(rule, reason)| SkippedRuleStatus {
            rule: rule.clone(),
            reason: reason.clone(),
        })
        .collect();
}

fn apply_failure(
    status: &mut SalesforceIntegrationStatus,
    previous: &SalesforceIntegrationStatus,
    e: &SyncStepError,
    generation: Option<i64>,
    now: Timestamp,
    next: Timestamp,
) {
    let reason = e.reason();
    let message = e.to_string();
    let waiting = matches!(e, SyncStepError::Directory(DirectoryError::Waiting(_)));
    let mut desired = vec![Desired::new(
        cond::READY,
        Status::False,
        reason,
        message.clone(),
    )];
    if e.stalled() {
        desired.push(Desired::new(
            cond::STALLED,
            Status::True,
            reason,
            message.clone(),
        ));
    }
    if waiting {
        desired.push(Desired::new(
            cond::RECONCILING,
            Status::True,
            reason,
            message.clone(),
        ));
        desired.push(Desired::new(
            cond::IDENTITY_PROVIDERS_SYNCED,
            Status::False,
            reason,
            message.clone(),
        ));
    }
    if matches!(e, SyncStepError::Directory(DirectoryError::NotFound(_))) {
        desired.push(Desired::new(
            cond::IDENTITY_PROVIDERS_SYNCED,
            Status::False,
            reason,
            message.clone(),
        ));
    }
    if let Some(valid) = e.credentials() {
        desired.push(Desired::new(
            cond::CREDENTIALS_VALID,
            Status::from_bool(valid),
            reason,
            message.clone(),
        ));
    }
    if matches!(e, SyncStepError::Salesforce(_)) {
        desired.push(Desired::new(
            cond::SALESFORCE_SYNCED,
            Status::False,
            reason,
            message.clone(),
        ));
    }
    let keep: Vec<&str> = [
        cond::CREDENTIALS_VALID,
        cond::SALESFORCE_SYNCED,
        cond::IDENTITY_PROVIDERS_SYNCED,
        cond::PERMISSIONS_COMPLETE,
        cond::FINDINGS_TRUNCATED,
    ]
    .into_iter()
    .filter(|k| !desired.iter().any(|d| d.type_ == *k))
    .collect();
    status.conditions = cond::merge(&previous.conditions, &desired, &keep, generation, now);
    status.next_sync_time = Some(next.to_string());
}

/// Server-side applies the whole status; skipped when nothing changed, so a reconcile that
/// only re-checks writes nothing (and does not trigger itself again).
async fn write_status(
    api: &Api<SalesforceIntegration>,
    namespace: &str,
    name: &str,
    previous: &SalesforceIntegrationStatus,
    status: SalesforceIntegrationStatus,
    ctx: &Context,
) -> Result<(), ReconcileError> {
    ctx.metrics
        .set_conditions(KIND, namespace, name, &status.conditions);
    super::status_patch::apply_if_changed(api, KIND, name, previous, &status)
        .await
        .map_err(|e| ReconcileError::Status(name.to_string(), e))
}

pub fn error_policy(
    obj: Arc<SalesforceIntegration>,
    err: &ReconcileError,
    ctx: Arc<Context>,
) -> Action {
    ctx.metrics.reconcile_error(KIND, err.reason());
    tracing::warn!(name = %obj.name_any(), error = %err, "reconcile failed");
    let uid = obj.uid().unwrap_or_default();
    let n = ctx.failure(&format!("reconcile/{uid}"));
    Action::requeue(schedule::backoff(n, Duration::from_secs(300), &uid))
}
