//! The shared in-memory index of directory snapshots: one IdentityProvider is read once per
//! interval however many integrations link it.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::{Arc, RwLock};

use idgap_model::{DirectorySnapshot, ProviderKind};

use crate::pipeline::DirectoryState;

/// (namespace, name) of an IdentityProvider.
pub type DirectoryKey = (String, String);

#[derive(Debug, Clone)]
pub struct DirectoryEntry {
    pub provider: ProviderKind,
    /// The latest good snapshot; kept when a later sync fails.
    pub snapshot: Option<Arc<DirectorySnapshot>>,
    /// Accounts in the good snapshot before the current one (for the shrink guard).
    pub last_good_accounts: Option<usize>,
    /// Why the latest sync failed; `None` when it succeeded.
    pub last_error: Option<String>,
    content_hash: u64,
}

/// What changed when a sync result was recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// The first result (good or bad) for this directory.
    First,
    /// A new snapshot whose accounts differ from the previous one.
    Changed,
    /// The same accounts as before, or a failure after an earlier result.
    Unchanged,
}

#[derive(Debug, Default)]
pub struct DirectoryIndex {
    entries: RwLock<HashMap<DirectoryKey, DirectoryEntry>>,
}

fn accounts_hash(s: &DirectorySnapshot) -> u64 {
    let mut h = DefaultHasher::new();
    serde_json::to_vec(&s.accounts)
        .expect("accounts serialise")
        .hash(&mut h);
    h.finish()
}

impl DirectoryIndex {
    pub fn record_success(&self, key: DirectoryKey, snapshot: DirectorySnapshot) -> Change {
        let hash = accounts_hash(&snapshot);
        let mut entries = self.entries.write().expect("directory index lock");
        let provider = snapshot.provider;
        match entries.get_mut(&key) {
            Some(e) => {
                let change = match &e.snapshot {
                    None => Change::First,
                    Some(_) if e.content_hash != hash => Change::Changed,
                    Some(_) if e.last_error.is_some() => Change::Changed,
                    Some(_) => Change::Unchanged,
                };
                e.last_good_accounts = e.snapshot.as_ref().map(|s| s.accounts.len());
                e.snapshot = Some(Arc::new(snapshot));
                e.last_error = None;
                e.content_hash = hash;
                e.provider = provider;
                change
            }
            None => {
                entries.insert(
                    key,
                    DirectoryEntry {
                        provider,
                        snapshot: Some(Arc::new(snapshot)),
                        last_good_accounts: None,
                        last_error: None,
                        content_hash: hash,
                    },
                );
                Change::First
            }
        }
    }

    pub fn record_failure(
        &self,
        key: DirectoryKey,
        provider: ProviderKind,
        error: String,
    ) -> Change {
        let mut entries = self.entries.write().expect("directory index lock");
        match entries.get_mut(&key) {
            Some(e) => {
                e.last_error = Some(error);
                Change::Unchanged
            }
            None => {
                entries.insert(
                    key,
                    DirectoryEntry {
                        provider,
                        snapshot: None,
                        last_good_accounts: None,
                        last_error: Some(error),
                        content_hash: 0,
                    },
                );
                Change::First
            }
        }
    }

    pub fn get(&self, key: &DirectoryKey) -> Option<DirectoryEntry> {
        self.entries
            .read()
            .expect("directory index lock")
            .get(key)
            .cloned()
    }

    pub fn remove(&self, key: &DirectoryKey) {
        self.entries
            .write()
            .expect("directory index lock")
            .remove(key);
    }

    /// What detection gets for one linked directory; `None` while it has no result yet.
    pub fn state(&self, key: &DirectoryKey) -> Option<DirectoryState> {
        let e = self.get(key)?;
        let result = match (&e.last_error, &e.snapshot) {
            (Some(err), _) => Err(err.clone()),
            (None, Some(s)) => Ok(s.clone()),
            (None, None) => return None,
        };
        Some(DirectoryState {
            name: key.1.clone(),
            provider: e.provider,
            result,
            last_good_accounts: e.last_good_accounts,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use idgap_model::{AccountStatus, IdpAccount};

    fn snap(n: usize) -> DirectorySnapshot {
        DirectorySnapshot {
            provider: ProviderKind::Okta,
            name: "okta".into(),
            accounts: (0..n)
                .map(|i| IdpAccount {
                    id: format!("{i}"),
                    login: format!("u{i}@acme.com"),
                    identifiers: vec![format!("u{i}@acme.com")],
                    other_ids: Vec::new(),
                    personal_addresses: Vec::new(),
                    status: AccountStatus::Active,
                    raw_status: "ACTIVE".into(),
                })
                .collect(),
            read_at: "2026-01-01T00:00:00Z".parse().unwrap(),
            requests: 1,
        }
    }

    #[test]
    fn keeps_the_last_snapshot_on_failure_and_reports_the_error() {
        let idx = DirectoryIndex::default();
        let key = ("ns".to_string(), "okta".to_string());
        assert!(idx.state(&key).is_none());
        assert_eq!(idx.record_success(key.clone(), snap(3)), Change::First);
        assert_eq!(idx.record_success(key.clone(), snap(3)), Change::Unchanged);
        let st = idx.state(&key).unwrap();
        assert_eq!(st.result.unwrap().accounts.len(), 3);
        assert_eq!(st.last_good_accounts, Some(3));

        assert_eq!(
            idx.record_failure(key.clone(), ProviderKind::Okta, "boom".into()),
            Change::Unchanged
        );
        let st = idx.state(&key).unwrap();
        assert_eq!(st.result.unwrap_err(), "boom");
        assert_eq!(idx.get(&key).unwrap().snapshot.unwrap().accounts.len(), 3);

        assert_eq!(idx.record_success(key.clone(), snap(2)), Change::Changed);
        let st = idx.state(&key).unwrap();
        assert_eq!(st.last_good_accounts, Some(3));
        assert_eq!(st.result.unwrap().accounts.len(), 2);
    }

    #[test]
    fn a_first_failure_is_a_result_too() {
        let idx = DirectoryIndex::default();
        let key = ("ns".to_string(), "okta".to_string());
        assert_eq!(
            idx.record_failure(key.clone(), ProviderKind::Okta, "bad token".into()),
            Change::First
        );
        assert_eq!(idx.state(&key).unwrap().result.unwrap_err(), "bad token");
        assert_eq!(idx.record_success(key.clone(), snap(1)), Change::First);
    }
}
