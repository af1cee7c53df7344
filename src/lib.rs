//! idgap: finds identity gaps and access-hygiene problems in Salesforce orgs.
//!
//! The data flows one way: `resources` (what users declare) → `resolve` (credentials, no
//! network) → `pipeline` (sync Salesforce and the directories, then detect) → sinks: the
//! `operator` writes Kubernetes objects, the `cli` prints through `output`.

pub mod cli;
pub mod demo;
pub mod log_writer;
pub mod operator;
pub mod output;
pub mod pipeline;
pub mod redact_value;
pub mod resolve;
pub mod resources;
