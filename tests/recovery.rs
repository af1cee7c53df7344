//! Crash recovery with real processes (issue 9, part 2): the operator runs as the `idgap run`
//! binary against a dedicated control plane whose kube-apiserver is killed and started again
//! in the middle of a sync, and two `idgap run` processes with leader election fail over when
//! the leader is killed with SIGKILL in the middle of a sync, or loses the Lease during a long
//! API server outage.
//!
//! Each test starts its own control plane; they run one at a time (two control planes and
//! several operators at once are too much for a small machine).

#[path = "support/mod.rs"]
mod support;

#[path = "recovery/apiserver_restart.rs"]
mod apiserver_restart;
#[path = "recovery/failover.rs"]
mod failover;
#[path = "recovery/lease_loss.rs"]
mod lease_loss;
#[path = "recovery/operator_process.rs"]
mod operator_process;
#[path = "recovery/world.rs"]
mod world;

/// Held by each test for its whole run.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
