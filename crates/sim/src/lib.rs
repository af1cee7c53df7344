//! Simulators for Salesforce and the identity providers, faithful on the wire.
//!
//! Each simulator is an HTTP server on a loopback port. Clients are tested against them over
//! real HTTP; the clients never import this crate.

pub mod faults;
pub mod idp;
pub mod record;
pub mod salesforce;
pub mod server;
