//! Simulated identity providers. Every simulator serves the same provider-neutral
//! [`Directory`] in its own wire format, so one seeded directory can stand behind any of the
//! five protocols.

pub mod entra;
pub mod google;
pub mod jumpcloud;
pub mod okta;
pub mod onelogin;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// A person's state in the directory, before each simulator renders it in its own terms
/// (Okta `status`, Graph `accountEnabled`, Google `suspended`/`archived`, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PersonState {
    Active,
    Suspended,
    Deprovisioned,
    Locked,
    Pending,
}

/// One account in a simulated directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    /// Stable per directory; each simulator derives its own id format from it.
    pub index: u64,
    pub login: String,
    pub primary_email: String,
    /// Secondary addresses: Okta `secondEmail`, Graph `otherMails`/`proxyAddresses`,
    /// Google `aliases`, JumpCloud `alternateEmail`.
    pub aliases: Vec<String>,
    pub given_name: String,
    pub family_name: String,
    pub state: PersonState,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Directory {
    pub people: Vec<Person>,
}

impl Directory {
    /// A hand-written directory.
    pub fn from_people(people: Vec<Person>) -> Self {
        Directory { people }
    }

    /// `n` people at `domain`, the same for the same seed. About 85% active, 8% suspended,
    /// 4% deprovisioned, 2% pending, 1% locked; one in five has an alias.
    pub fn generate(seed: u64, n: usize, domain: &str) -> Self {
        let mut rng = StdRng::seed_from_u64(seed);
        let people = (0..n as u64)
            .map(|i| {
                let login = format!("user{i:06}@{domain}");
                let roll: u32 = rng.random_range(0..100);
                let state = match roll {
                    0..=84 => PersonState::Active,
                    85..=92 => PersonState::Suspended,
                    93..=96 => PersonState::Deprovisioned,
                    97..=98 => PersonState::Pending,
                    _ => PersonState::Locked,
                };
                let aliases = if rng.random_range(0..5) == 0 {
                    vec![format!("u{i}.alias@{domain}")]
                } else {
                    Vec::new()
                };
                Person {
                    index: i,
                    primary_email: login.clone(),
                    login,
                    aliases,
                    given_name: format!("Given{i}"),
                    family_name: format!("Family{i}"),
                    state,
                }
            })
            .collect();
        Directory { people }
    }
}

impl Person {
    /// An active person whose login and primary email are `email`.
    pub fn active(index: u64, email: &str) -> Self {
        let local = email.split('@').next().unwrap_or(email);
        Person {
            index,
            login: email.to_string(),
            primary_email: email.to_string(),
            aliases: Vec::new(),
            given_name: local.to_string(),
            family_name: "Example".to_string(),
            state: PersonState::Active,
        }
    }

    pub fn with_state(mut self, state: PersonState) -> Self {
        self.state = state;
        self
    }

    pub fn with_alias(mut self, alias: &str) -> Self {
        self.aliases.push(alias.to_string());
        self
    }
}
