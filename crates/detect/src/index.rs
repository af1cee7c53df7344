//! The identity index: every normalised identifier of every trusted directory, built once,
//! and the matcher that finds a Salesforce user's accounts in it.
//!
//! A million-account index is far bigger than the CPU caches, so each random access waits
//! for memory. Inserts and lookups therefore run in batches: hash every key of the batch,
//! read every target slot (independent loads that overlap), then do the real work on
//! slots that are now in cache.

use idgap_model::{DirectorySnapshot, IdpAccount, SfUser};

use crate::hash::FastHasher;
use crate::normalize::{Normalizer, username_cuts};

/// An account in the union of directories: (directory position, account position).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct AccountRef {
    pub dir: u32,
    pub account: u32,
}

const EMPTY: u32 = u32::MAX;

/// How many keys are hashed and their slots read before any is inserted or looked up.
const BATCH: usize = 64;

/// One open-addressing slot: the key's hash tag, where its bytes sit in the arena, and the
/// first posting; 16 bytes.
#[derive(Debug, Clone, Copy)]
struct Slot {
    tag: u32,
    key_len: u32,
    key_off: u32,
    head: u32,
}

const VACANT: Slot = Slot {
    tag: 0,
    key_len: 0,
    key_off: 0,
    head: EMPTY,
};

/// One account under one key; the postings of a key form a linked list through `next`.
#[derive(Debug, Clone, Copy)]
struct Posting {
    account: AccountRef,
    next: u32,
    disabled: bool,
}

/// Normalised identifier → accounts of the union of trusted directories. Keys are copied
/// back to back into one arena and compared byte for byte, so a hash collision can never
/// make two different identifiers match.
pub(crate) struct IdentityIndex<'a> {
    dirs: Vec<&'a DirectorySnapshot>,
    slots: Vec<Slot>,
    mask: usize,
    arena: String,
    postings: Vec<Posting>,
}

/// The index would not fit its 32-bit offsets (over 4 GiB of identifiers).
#[derive(Debug)]
pub(crate) struct IndexTooLarge;

impl<'a> IdentityIndex<'a> {
    /// `personal`: also index each account's personal addresses (policy
    /// `matchPersonalAddresses`).
    pub(crate) fn build(
        dirs: Vec<&'a DirectorySnapshot>,
        norm: &Normalizer,
        personal: bool,
    ) -> Result<Self, IndexTooLarge> {
        let total: usize = dirs
            .iter()
            .flat_map(|d| d.accounts.iter())
            .map(|a| {
                let personal = if personal {
                    a.personal_addresses.len()
                } else {
                    0
                };
                a.identifiers.len().max(1) + 1 + a.other_ids.len() + personal
            })
            .sum();
        // Load factor at most one half: short linear probes.
        let capacity = (total * 2).max(16).next_power_of_two();
        let mut index = IdentityIndex {
            dirs,
            slots: vec![VACANT; capacity],
            mask: capacity - 1,
            arena: String::with_capacity(total * 24),
            postings: Vec::with_capacity(total),
        };
        let mut buf = String::new();
        let mut batch: Batch<(AccountRef, bool)> = Batch::default();
        for d in 0..index.dirs.len() {
            let dir = index.dirs[d];
            for (a, account) in dir.accounts.iter().enumerate() {
                let this = AccountRef {
                    dir: d as u32,
                    account: a as u32,
                };
                let disabled = account.status.is_disabled();
                // The login is normally among the identifiers already.
                let login_listed = account
                    .identifiers
                    .iter()
                    .any(|i| i.trim().eq_ignore_ascii_case(account.login.trim()));
                let login = (!login_listed).then_some(account.login.as_str());
                let personal = if personal {
                    account.personal_addresses.as_slice()
                } else {
                    &[]
                };
                for raw in login
                    .into_iter()
                    .chain(account.identifiers.iter().map(String::as_str))
                    .chain(personal.iter().map(String::as_str))
                {
                    if norm.key_into(raw, &mut buf) {
                        batch.push(&buf, (this, disabled));
                    }
                }
                for raw in std::iter::once(account.id.as_str())
                    .chain(account.other_ids.iter().map(String::as_str))
                {
                    if id_key_into(raw, &mut buf) {
                        batch.push(&buf, (this, disabled));
                    }
                }
                if batch.items.len() >= BATCH {
                    index.insert_batch(&mut batch)?;
                }
            }
        }
        index.insert_batch(&mut batch)?;
        Ok(index)
    }

    fn insert_batch(&mut self, batch: &mut Batch<(AccountRef, bool)>) -> Result<(), IndexTooLarge> {
        let mut sink = 0u32;
        for item in &batch.items {
            sink ^= self.slots[self.slot_of(item.hash)].tag;
        }
        std::hint::black_box(sink);
        for item in &batch.items {
            let (account, disabled) = item.payload;
            self.insert(
                &batch.keys[item.start..item.end],
                item.hash,
                account,
                disabled,
            )?;
        }
        batch.clear();
        Ok(())
    }

    fn insert(
        &mut self,
        key: &str,
        hash: u64,
        account: AccountRef,
        disabled: bool,
    ) -> Result<(), IndexTooLarge> {
        let tag = tag_of(hash);
        let next = u32::try_from(self.postings.len()).map_err(|_| IndexTooLarge)?;
        let mut i = self.slot_of(hash);
        loop {
            let slot = self.slots[i];
            if slot.head == EMPTY {
                let key_off = u32::try_from(self.arena.len()).map_err(|_| IndexTooLarge)?;
                let key_len = u32::try_from(key.len()).map_err(|_| IndexTooLarge)?;
                u32::try_from(self.arena.len() + key.len()).map_err(|_| IndexTooLarge)?;
                self.arena.push_str(key);
                self.postings.push(Posting {
                    account,
                    next: EMPTY,
                    disabled,
                });
                self.slots[i] = Slot {
                    tag,
                    key_len,
                    key_off,
                    head: next,
                };
                return Ok(());
            }
            if self.slot_holds(slot, tag, key) {
                // Accounts are added in order: a repeat of this account's key is at the head.
                if self.postings[slot.head as usize].account != account {
                    self.postings.push(Posting {
                        account,
                        next: slot.head,
                        disabled,
                    });
                    self.slots[i].head = next;
                }
                return Ok(());
            }
            i = (i + 1) & self.mask;
        }
    }

    fn slot_of(&self, hash: u64) -> usize {
        hash as usize & self.mask
    }

    fn slot_holds(&self, slot: Slot, tag: u32, key: &str) -> bool {
        slot.tag == tag
            && slot.key_len as usize == key.len()
            && &self.arena[slot.key_off as usize..slot.key_off as usize + key.len()] == key
    }

    pub(crate) fn directory(&self, r: AccountRef) -> &'a DirectorySnapshot {
        self.dirs[r.dir as usize]
    }

    pub(crate) fn account(&self, r: AccountRef) -> &'a IdpAccount {
        &self.dirs[r.dir as usize].accounts[r.account as usize]
    }

    /// Reads what a lookup of `hash` will touch, so that a batch's loads overlap.
    fn warm(&self, hash: u64) -> u32 {
        let slot = self.slots[self.slot_of(hash)];
        if slot.head == EMPTY {
            return slot.tag;
        }
        let first_byte = self
            .arena
            .as_bytes()
            .get(slot.key_off as usize)
            .copied()
            .unwrap_or(0);
        u32::from(first_byte) ^ self.postings[slot.head as usize].next
    }

    /// Calls `f` with every account under `key` and whether it is disabled.
    fn for_each(&self, key: &str, hash: u64, mut f: impl FnMut(AccountRef, bool)) {
        let tag = tag_of(hash);
        let mut i = self.slot_of(hash);
        loop {
            let slot = self.slots[i];
            if slot.head == EMPTY {
                return;
            }
            if self.slot_holds(slot, tag, key) {
                let mut at = slot.head;
                while at != EMPTY {
                    let p = self.postings[at as usize];
                    f(p.account, p.disabled);
                    at = p.next;
                }
                return;
            }
            i = (i + 1) & self.mask;
        }
    }
}

/// Non-email identifiers (account ids, Entra `onPremisesImmutableId`) live in their own key
/// space, behind a byte no address contains, so an id never meets an email probe.
const ID_KEY_MARK: char = '\u{1}';

/// Writes the key of a non-email identifier: trimmed and compared exactly — base64 values
/// such as `onPremisesImmutableId` are case-sensitive — except GUIDs, which are hex and
/// written in either case. False when blank.
fn id_key_into(raw: &str, out: &mut String) -> bool {
    out.clear();
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return false;
    }
    out.push(ID_KEY_MARK);
    out.push_str(trimmed);
    if is_guid(trimmed) {
        out.make_ascii_lowercase();
    }
    true
}

/// `8-4-4-4-12` hex digits, optionally in braces.
fn is_guid(s: &str) -> bool {
    const LENGTHS: [usize; 5] = [8, 4, 4, 4, 12];
    let s = s
        .strip_prefix('{')
        .and_then(|s| s.strip_suffix('}'))
        .unwrap_or(s);
    let mut groups = 0;
    for (i, g) in s.split('-').enumerate() {
        if LENGTHS.get(i) != Some(&g.len()) || !g.bytes().all(|b| b.is_ascii_hexdigit()) {
            return false;
        }
        groups = i + 1;
    }
    groups == LENGTHS.len()
}

fn tag_of(hash: u64) -> u32 {
    (hash >> 32) as u32
}

fn hash_key(key: &str) -> u64 {
    use std::hash::Hasher;
    let mut h = FastHasher::default();
    h.write(key.as_bytes());
    // Murmur3's finaliser: every output bit depends on every input bit, so neither the
    // slot index (low bits) nor the tag (high bits) inherits the multiply's weak bits.
    let mut x = h.finish();
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    x ^ (x >> 33)
}

/// Keys waiting to be inserted or looked up, with their hashes and a payload each.
struct Batch<P> {
    keys: String,
    items: Vec<BatchItem<P>>,
}

struct BatchItem<P> {
    hash: u64,
    start: usize,
    end: usize,
    payload: P,
}

impl<P> Default for Batch<P> {
    fn default() -> Self {
        Batch {
            keys: String::new(),
            items: Vec::with_capacity(BATCH * 2),
        }
    }
}

impl<P> Batch<P> {
    fn push(&mut self, key: &str, payload: P) {
        let start = self.keys.len();
        self.keys.push_str(key);
        self.items.push(BatchItem {
            hash: hash_key(key),
            start,
            end: self.keys.len(),
            payload,
        });
    }

    fn clear(&mut self) {
        self.keys.clear();
        self.items.clear();
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
    pub disabled: bool,
}

/// How many users [`Matcher::match_batch`] should be given at a time.
pub(crate) const USERS_PER_BATCH: usize = 32;

/// Matches users against the index with reused buffers: no allocation per user.
pub(crate) struct Matcher<'i, 'a> {
    index: &'i IdentityIndex<'a>,
    norm: &'i Normalizer,
    sandbox: bool,
    suffixes: &'i [String],
    lower: String,
    key: String,
    email_key: String,
    cuts: Vec<usize>,
    /// Probe keys of the current batch; the payload is (user position, field).
    probes: Batch<(u32, MatchField)>,
    hits: Vec<Hit>,
    /// Per user of the batch, its range in `hits`.
    ranges: Vec<(usize, usize)>,
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
            email_key: String::new(),
            cuts: Vec::new(),
            probes: Batch::default(),
            hits: Vec::new(),
            ranges: Vec::new(),
        }
    }

    /// Every account one user matches.
    pub(crate) fn match_user(&mut self, user: &SfUser) -> &[Hit] {
        self.match_batch(&[user]);
        self.hits_of(0)
    }

    /// Matches each user through FederationIdentifier, Email and Username (as is, and
    /// without sandbox suffixes), each account once per user; read with [`Self::hits_of`].
    pub(crate) fn match_batch(&mut self, users: &[&SfUser]) {
        self.probes.clear();
        for (pos, user) in users.iter().enumerate() {
            self.collect_probes(pos as u32, user);
        }
        let index = self.index;
        let mut sink = 0u32;
        for p in &self.probes.items {
            sink ^= index.slots[index.slot_of(p.hash)].tag;
        }
        for p in &self.probes.items {
            sink ^= index.warm(p.hash);
        }
        std::hint::black_box(sink);
        self.hits.clear();
        self.ranges.clear();
        self.ranges.resize(users.len(), (0, 0));
        let mut current = u32::MAX;
        let mut start = 0;
        for p in &self.probes.items {
            let (pos, via) = p.payload;
            if pos != current {
                current = pos;
                start = self.hits.len();
            }
            let hits = &mut self.hits;
            index.for_each(
                &self.probes.keys[p.start..p.end],
                p.hash,
                |account, disabled| {
                    if !hits[start..].iter().any(|h| h.account == account) {
                        hits.push(Hit {
                            account,
                            via,
                            disabled,
                        });
                    }
                },
            );
            self.ranges[pos as usize] = (start, self.hits.len());
        }
    }

    /// The hits of the user at `pos` in the last batch.
    pub(crate) fn hits_of(&self, pos: usize) -> &[Hit] {
        let (start, end) = self.ranges[pos];
        &self.hits[start..end]
    }

    fn collect_probes(&mut self, pos: u32, user: &SfUser) {
        if let Some(fed) = &user.federation_id {
            if self.norm.key_into(fed, &mut self.key) {
                self.probes.push(&self.key, (pos, MatchField::FederationId));
            }
            // A Federation ID may also be an IdP's own id for the person (a GUID, Entra's
            // onPremisesImmutableId, an Okta user id).
            if id_key_into(fed, &mut self.key) {
                self.probes.push(&self.key, (pos, MatchField::FederationId));
            }
        }
        let has_email = self.norm.key_into(&user.email, &mut self.email_key);
        if has_email {
            self.probes.push(&self.email_key, (pos, MatchField::Email));
        }
        self.lower.clear();
        let trimmed = user.username.trim();
        if trimmed.is_ascii() {
            self.lower.push_str(trimmed);
            self.lower.make_ascii_lowercase();
        } else {
            self.lower.push_str(&trimmed.to_lowercase());
        }
        // Usernames often equal the email: the same key would find the same accounts.
        if self.norm.key_into(&self.lower, &mut self.key)
            && !(has_email && self.key == self.email_key)
        {
            self.probes.push(&self.key, (pos, MatchField::Username));
        }
        username_cuts(&self.lower, self.sandbox, self.suffixes, &mut self.cuts);
        for &cut in &self.cuts {
            if self.norm.key_into(&self.lower[..cut], &mut self.key) {
                self.probes.push(&self.key, (pos, MatchField::Username));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use idgap_model::{AccountStatus, ProviderKind, Timestamp};

    fn dir(logins: &[(&str, AccountStatus)]) -> DirectorySnapshot {
        DirectorySnapshot {
            provider: ProviderKind::Okta,
            name: "okta".into(),
            accounts: logins
                .iter()
                .map(|(l, s)| IdpAccount {
                    id: l.to_string(),
                    login: l.to_string(),
                    identifiers: vec![l.to_lowercase(), format!("alias.{l}")],
                    other_ids: Vec::new(),
                    personal_addresses: Vec::new(),
                    status: *s,
                    raw_status: String::new(),
                })
                .collect(),
            read_at: Timestamp::UNIX_EPOCH,
            requests: 0,
        }
    }

    #[test]
    fn batches_find_the_same_accounts_as_single_lookups() {
        let logins: Vec<(String, AccountStatus)> = (0..500)
            .map(|i| {
                (
                    format!("u{i}@acme.com"),
                    if i % 3 == 0 {
                        AccountStatus::Suspended
                    } else {
                        AccountStatus::Active
                    },
                )
            })
            .collect();
        let refs: Vec<(&str, AccountStatus)> =
            logins.iter().map(|(l, s)| (l.as_str(), *s)).collect();
        // The same people twice, in two directories.
        let (a, b) = (dir(&refs), dir(&refs));
        let norm = Normalizer::default();
        let index = IdentityIndex::build(vec![&a, &b], &norm, false).expect("fits");
        let users: Vec<SfUser> = (0..700)
            .map(|i| SfUser {
                id: format!("005{i}"),
                username: format!("U{i}@ACME.com"),
                email: format!("alias.u{}@acme.com", i + 1),
                federation_id: None,
                profile_id: None,
                profile: None,
                role: None,
                user_type: "Standard".into(),
                is_active: true,
                is_frozen: false,
                last_login: None,
                created: None,
            })
            .collect();
        let mut batched = Matcher::new(&index, &norm, false, &[]);
        let mut single = Matcher::new(&index, &norm, false, &[]);
        for chunk in users.chunks(USERS_PER_BATCH) {
            let refs: Vec<&SfUser> = chunk.iter().collect();
            batched.match_batch(&refs);
            for (pos, user) in chunk.iter().enumerate() {
                let got: Vec<(AccountRef, bool)> = batched
                    .hits_of(pos)
                    .iter()
                    .map(|h| (h.account, h.disabled))
                    .collect();
                let want: Vec<(AccountRef, bool)> = single
                    .match_user(user)
                    .iter()
                    .map(|h| (h.account, h.disabled))
                    .collect();
                assert_eq!(got, want, "{}", user.username);
                let i: usize = user.id[3..].parse().unwrap();
                let expected = usize::from(i < 500) * 2 + usize::from(i + 1 < 500) * 2;
                assert_eq!(got.len(), expected, "{}", user.username);
            }
        }
    }
}
