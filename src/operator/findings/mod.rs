//! The AccessFinding lifecycle: build the desired objects (pure), decide what to create,
//! update and delete (pure), then apply with server-side apply and prune.

mod apply;
mod build;
mod prune;

pub use apply::{ApplyError, FindingCache, WriteCounts, apply_plan, load_existing};
pub use build::{Built, DesiredFinding, Owner, build, spec_hash};
pub use prune::{Existing, Plan, PruneRules, plan};
