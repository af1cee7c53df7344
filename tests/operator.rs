//! The operator against a real kube-apiserver (+ kube-controller-manager for garbage
//! collection) and the Salesforce and JumpCloud simulators over HTTP. One test binary; each
//! test runs its own in-process operator scoped to its own namespace.

#[path = "support/mod.rs"]
mod support;

#[path = "operator/env.rs"]
mod env;
#[path = "operator/failures.rs"]
mod failures;
#[path = "operator/lifecycle.rs"]
mod lifecycle;
#[path = "operator/ops.rs"]
mod ops;
#[path = "operator/permissions.rs"]
mod permissions;
