//! The Kubernetes operator: one reconciler per kind, findings applied by server-side apply,
//! status with kstatus-compatible conditions, events, metrics and optional leader election.
//!
//! Reconcile is a pipeline, each step with its own error enum:
//! dereference (Secrets, linked directories) → resolve (pure, `crate::resolve`) →
//! sync + detect (`crate::pipeline`) → build desired AccessFindings (pure) → apply (SSA +
//! prune) → update status.

mod args;
pub mod conditions;
mod context;
pub mod directory;
pub mod findings;
mod identity_provider;
mod integration;
pub mod leader;
pub mod metrics;
mod run;
pub mod schedule;
mod secrets;
pub mod server;
pub(crate) mod status;
mod status_patch;
mod unstored_tokens;
mod watch_backoff;

pub use args::{LogFormat, RunArgs};
pub use run::{Operator, OperatorConfig, check_crds, run, start};

/// The one server-side-apply field manager for everything the operator writes.
pub const FIELD_MANAGER: &str = "idgap";
/// Forces a sync when its value changes; echoed in `status.lastHandledReconcileAt`.
pub const REQUESTED_AT_ANNOTATION: &str = "reconcile.idgap.io/requestedAt";
pub const INTEGRATION_LABEL: &str = "idgap.io/integration";
pub const RULE_LABEL: &str = "idgap.io/rule";
pub const SEVERITY_LABEL: &str = "idgap.io/severity";
pub const SPEC_HASH_ANNOTATION: &str = "idgap.io/spec-hash";
