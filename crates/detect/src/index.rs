//! The identity index: every normalised identifier of every trusted directory, built once,
//! and the per-user probe that finds a Salesforce user's accounts in it.

use std::borrow::Cow;

use idgap_model::{DirectorySnapshot, IdpAccount, SfUser};

use crate::hash::FastMap;
use crate::normalize::{Normalizer, username_cuts};

/// An account in the union of directories: (directory position, account position).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct AccountRef {
    pub dir: u32,
    pub account: u32,
}

const END: u32 = u32::MAX;

/// Identifier → accounts, as a head pointer into a shared linked list of postings so that
/// the common case (one account per identifier) costs one map entry and one posting.
pub(crate) struct IdentityIndex<'a> {
    dirs: Vec<&'a DirectorySnapshot>,
    heads: FastMap<Cow<'a, str>, u32>,
    postings: Vec<(AccountRef, u32)>,
}

impl<'a> IdentityIndex<'a> {
    pub(crate) fn build(dirs: Vec<&'a DirectorySnapshot>, norm: &Normalizer) -> Self {
        let total: usize = dirs
            .iter()
            .flat_map(|d| d.accounts.iter())
            .map(|a| a.identifiers.len() + 1)
            .sum();
        let mut heads: FastMap<Cow<'a, str>, u32> = FastMap::default();
        heads.reserve(total);
        let mut postings: Vec<(AccountRef, u32)> = Vec::with_capacity(total);
        for (d, dir) in dirs.iter().enumerate() {
            for (a, account) in dir.accounts.iter().enumerate() {
                let this = AccountRef {
                    dir: d as u32,
                    account: a as u32,
                };
                let raws = std::iter::once(account.login.as_str())
                    .chain(account.identifiers.iter().map(String::as_str));
                for raw in raws {
                    let Some(key) = norm.key(raw) else { continue };
                    let next = postings.len() as u32;
                    match heads.entry(key) {
                        std::collections::hash_map::Entry::Occupied(mut e) => {
                            // Accounts are added in order, so a repeat of this account's
                            // identifier can only be at the head.
                            if postings[*e.get() as usize].0 != this {
                                postings.push((this, *e.get()));
                                *e.get_mut() = next;
                            }
                        }
                        std::collections::hash_map::Entry::Vacant(e) => {
                            postings.push((this, END));
                            e.insert(next);
                        }
                    }
                }
            }
        }
        IdentityIndex {
            dirs,
            heads,
            postings,
        }
    }

    pub(crate) fn directory(&self, r: AccountRef) -> &'a DirectorySnapshot {
        self.dirs[r.dir as usize]
    }

    pub(crate) fn account(&self, r: AccountRef) -> &'a IdpAccount {
        &self.dirs[r.dir as usize].accounts[r.account as usize]
    }

    fn for_each(&self, key: &str, mut f: impl FnMut(AccountRef)) {
        let Some(&head) = self.heads.get(key) else {
            return;
        };
        let mut at = head;
        while at != END {
            let (r, next) = self.postings[at as usize];
            f(r);
            at = next;
        }
    }
}

/// Which Salesforce field found an account; the first field that matched is reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MatchField {
    FederationId,
    Email,
    Username,
}

impl MatchField {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            MatchField::FederationId => "federationId",
            MatchField::Email => "email",
            MatchField::Username => "username",
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Hit {
    pub account: AccountRef,
    pub via: MatchField,
}

/// Probes the index for one user at a time with reused buffers (no allocation per user).
pub(crate) struct Matcher<'i, 'a> {
    index: &'i IdentityIndex<'a>,
    norm: &'i Normalizer,
    sandbox: bool,
    suffixes: &'i [String],
    lower: String,
    key: String,
    cuts: Vec<usize>,
    hits: Vec<Hit>,
}

impl<'i, 'a> Matcher<'i, 'a> {
    pub(crate) fn new(
        index: &'i IdentityIndex<'a>,
        norm: &'i Normalizer,
        sandbox: bool,
        suffixes: &'i [String],
    ) -> Self {
        Matcher {
            index,
            norm,
            sandbox,
            suffixes,
            lower: String::new(),
            key: String::new(),
            cuts: Vec::new(),
            hits: Vec::new(),
        }
    }

    /// Every account the user matches through FederationIdentifier, Email or Username
    /// (as is, and without sandbox suffixes), each account once.
    pub(crate) fn match_user(&mut self, user: &SfUser) -> &[Hit] {
        self.hits.clear();
        let probe = |raw: &str, via: MatchField, key: &mut String, hits: &mut Vec<Hit>| {
            if self.norm.key_into(raw, key) {
                self.index.for_each(key, |account| {
                    if !hits.iter().any(|h| h.account == account) {
                        hits.push(Hit { account, via });
                    }
                });
            }
        };
        if let Some(fed) = &user.federation_id {
            probe(fed, MatchField::FederationId, &mut self.key, &mut self.hits);
        }
        probe(
            &user.email,
            MatchField::Email,
            &mut self.key,
            &mut self.hits,
        );
        self.lower.clear();
        let trimmed = user.username.trim();
        if trimmed.is_ascii() {
            self.lower.push_str(trimmed);
            self.lower.make_ascii_lowercase();
        } else {
            self.lower.push_str(&trimmed.to_lowercase());
        }
        probe(
            &self.lower,
            MatchField::Username,
            &mut self.key,
            &mut self.hits,
        );
        username_cuts(&self.lower, self.sandbox, self.suffixes, &mut self.cuts);
        for &cut in &self.cuts {
            probe(
                &self.lower[..cut],
                MatchField::Username,
                &mut self.key,
                &mut self.hits,
            );
        }
        &self.hits
    }
}
