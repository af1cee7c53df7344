//! The reliability and security suite (issue 9): the operator, in process, against a real
//! kube-apiserver and the simulators, under injected faults, a crash in the middle of
//! applying findings, and hosts outside the allow-list; every log line, Event, status and
//! AccessFinding is checked for the secret values in use.

#[path = "support/mod.rs"]
mod support;

#[path = "reliability/capture.rs"]
mod capture;
#[path = "reliability/crash.rs"]
mod crash;
#[path = "reliability/echo.rs"]
mod echo;
#[path = "reliability/env.rs"]
mod env;
#[path = "reliability/faults.rs"]
mod faults;
#[path = "reliability/hosts.rs"]
mod hosts;
#[path = "reliability/idp_faults.rs"]
mod idp_faults;
