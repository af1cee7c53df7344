//! The `idgap` binary, run as a user would: the demo, scans of manifests against the
//! simulators (in every output format), exit codes, input errors and `connect`.

#[path = "support/mod.rs"]
mod support;

#[path = "cli/common.rs"]
mod common;
#[path = "cli/connect.rs"]
mod connect;
#[path = "cli/demo.rs"]
mod demo;
#[path = "cli/echo.rs"]
mod echo;
#[path = "cli/errors.rs"]
mod errors;
#[path = "cli/hostile.rs"]
mod hostile;
#[path = "cli/input.rs"]
mod input;
#[path = "cli/partial.rs"]
mod partial;
#[path = "cli/permissions.rs"]
mod permissions;
#[path = "cli/scan.rs"]
mod scan;
#[path = "cli/sim.rs"]
mod sim;
#[path = "cli/stdout.rs"]
mod stdout;
