//! Refresh tokens Salesforce rotated that could not be written back to their Secret yet.
//!
//! Salesforce retires the old refresh token the moment it issues a new one, so a new token
//! that is dropped (the API server was down, or the operator may not patch the Secret) locks
//! the integration out until someone re-authorizes. The operator keeps such a token in memory,
//! signs in with it instead of the Secret's retired value, and stores it at the next chance.
//! Only a digest of the value it replaces is kept, to notice a person putting a new token in
//! the Secret (theirs then wins).

use std::collections::HashMap;
use std::sync::Mutex;

use idgap_net::SecretString;
use sha2::{Digest, Sha256};

/// (namespace, Secret name, key).
pub type TokenSlot = (String, String, String);

struct Unstored {
    token: SecretString,
    /// SHA-256 of the Secret's value when the token could not be stored.
    replaces: [u8; 32],
}

#[derive(Default)]
pub struct UnstoredTokens {
    inner: Mutex<HashMap<TokenSlot, Unstored>>,
}

impl UnstoredTokens {
    /// Remembers `token` for `slot`, whose Secret still holds `secret_value`.
    pub fn remember(&self, slot: TokenSlot, token: SecretString, secret_value: &str) {
        let unstored = Unstored {
            token,
            replaces: digest(secret_value),
        };
        self.lock().insert(slot, unstored);
    }

    /// The token to sign in with for `slot`: the unstored one while the Secret still holds
    /// the value it replaced. When the Secret has changed since, the unstored token is
    /// forgotten and `None` returned.
    pub fn current(&self, slot: &TokenSlot, secret_value: &str) -> Option<SecretString> {
        let mut inner = self.lock();
        let unstored = inner.get(slot)?;
        if unstored.replaces != digest(secret_value) {
            inner.remove(slot);
            return None;
        }
        Some(unstored.token.clone())
    }

    pub fn forget(&self, slot: &TokenSlot) {
        self.lock().remove(slot);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<TokenSlot, Unstored>> {
        self.inner.lock().expect("unstored tokens lock")
    }
}

fn digest(value: &str) -> [u8; 32] {
    Sha256::digest(value.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slot() -> TokenSlot {
        ("ns".into(), "sf".into(), "refreshToken".into())
    }

    #[test]
    fn an_unstored_token_replaces_the_secret_value_it_was_issued_for() {
        let tokens = UnstoredTokens::default();
        assert!(tokens.current(&slot(), "old").is_none());
        tokens.remember(slot(), SecretString::from("new"), "old");
        assert_eq!(tokens.current(&slot(), "old").unwrap().expose(), "new");
        // Still there: only storing it (forget) or a changed Secret ends it.
        assert_eq!(tokens.current(&slot(), "old").unwrap().expose(), "new");
        let other = ("ns".into(), "sf".into(), "other".into());
        assert!(tokens.current(&other, "old").is_none());
        tokens.forget(&slot());
        assert!(tokens.current(&slot(), "old").is_none());
    }

    #[test]
    fn a_secret_changed_by_someone_else_wins() {
        let tokens = UnstoredTokens::default();
        tokens.remember(slot(), SecretString::from("new"), "old");
        assert!(tokens.current(&slot(), "re-authorized").is_none());
        // Forgotten for good, even if the old value came back.
        assert!(tokens.current(&slot(), "old").is_none());
    }
}
