//! The one path from configuration to findings, shared by `idgap scan`, `idgap demo` and the
//! operator: sync the directories, sync the org, detect. Nothing here writes anywhere.

use std::sync::Arc;

use idgap_detect::{Detection, DirectoryInput};
use idgap_idp::IdpError;
use idgap_model::{DirectorySnapshot, ProviderKind};
use idgap_net::Http;
use idgap_salesforce::{SyncError, SyncOutcome};
use jiff::Timestamp;

use crate::resolve::{IdentityProviderPlan, IntegrationPlan};

/// What the integration knows about one linked directory at detection time.
#[derive(Debug, Clone)]
pub struct DirectoryState {
    pub name: String,
    pub provider: ProviderKind,
    /// The latest snapshot, or why the latest sync failed.
    pub result: Result<Arc<DirectorySnapshot>, String>,
    /// The account count of the last good snapshot before this one, for the shrink guard.
    pub last_good_accounts: Option<usize>,
}

/// Reads every account of one directory.
pub async fn sync_directory(
    http: &Http,
    plan: &IdentityProviderPlan,
) -> Result<DirectorySnapshot, IdpError> {
    idgap_idp::sync(http, &plan.name, &plan.config).await
}

/// Reads the org. Independent of the directories, so callers may run both at once.
pub async fn sync_org(http: &Http, plan: &IntegrationPlan) -> Result<SyncOutcome, SyncError> {
    idgap_salesforce::sync(http, &plan.salesforce).await
}

#[derive(Debug)]
pub struct ScanResult {
    pub sync: SyncOutcome,
    pub detection: Detection,
}

/// Syncs the org and runs the rules against it and the given directories.
///
/// A failed org sync is an error (the caller keeps its previous findings); failed or
/// suspicious directories are passed to detection, whose guards skip the IdP rules.
pub async fn scan(
    http: &Http,
    plan: &IntegrationPlan,
    directories: &[DirectoryState],
    now: Timestamp,
) -> Result<ScanResult, SyncError> {
    let sync = sync_org(http, plan).await?;
    let detection = detect(plan, &sync, directories, now);
    Ok(ScanResult { sync, detection })
}

/// The pure half of [`scan`].
pub fn detect(
    plan: &IntegrationPlan,
    sync: &SyncOutcome,
    directories: &[DirectoryState],
    now: Timestamp,
) -> Detection {
    let inputs: Vec<DirectoryInput<'_>> = directories
        .iter()
        .map(|d| DirectoryInput {
            name: &d.name,
            provider: d.provider,
            result: match &d.result {
                Ok(s) => Ok(s.as_ref()),
                Err(e) => Err(e.as_str()),
            },
            last_good_accounts: d.last_good_accounts,
        })
        .collect();
    idgap_detect::detect(
        &sync.snapshot,
        &inputs,
        &plan.policy,
        now,
        plan.audit_window_start,
    )
}
