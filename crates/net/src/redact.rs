//! The one redaction step every text passes before it leaves idgap.
//!
//! A server may echo the request it got — a TLS-inspecting proxy's error page, a WAF, a
//! gateway, a hostile allowed host — so any server text can carry the credential we just sent.
//! Two defences, both here:
//!
//! - **Known values.** Constructing a [`SecretString`](crate::SecretString) registers its
//!   value in a process-wide registry, together with the forms it takes on the wire: URL- and
//!   form-encoded, base64 and base64url (padded or not), JSON-escaped. [`redact`] replaces any
//!   of them with [`PLACEHOLDER`]. Values shorter than [`MIN_SECRET_LEN`] are not registered:
//!   they would redact common words, and a credential that short is not worth protecting this
//!   way. The registry keeps the [`MAX_REMEMBERED`] most recently registered values, so an
//!   operator that refreshes access tokens for months stays bounded; values loaded from Secrets
//!   are registered again on every sync and so stay.
//! - **Credential-looking fields.** [`server_text`] also blanks the values of fields named like
//!   credentials (`Authorization`, `password`, `token`, `secret`, `assertion`, `api_key`,
//!   `cookie`, …) as JSON keys, form/query pairs, XML elements and header lines, and
//!   `Bearer`/`SSWS`/`DPoP`/`Basic` credentials, so even a value idgap never saw (another
//!   tenant's token in the same error page) is not repeated.
//!
//! Sinks call these: the log writer, the operator's status writer and event publisher, the
//! findings builder, and the CLI's stdout/stderr writer. `docs/operations.md` lists them.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use regex::Regex;

/// What a redacted value is replaced with.
pub const PLACEHOLDER: &str = "<redacted>";

/// Values shorter than this (in bytes, after trimming) are not registered. Every real
/// credential idgap handles (Salesforce secrets and tokens, Okta SSWS tokens, Entra secrets,
/// API keys) is far longer; shorter ones would match ordinary words in messages.
pub const MIN_SECRET_LEN: usize = 8;

/// Values longer than this are not registered: no credential idgap handles comes near it
/// (a 4096-bit PEM key is about 3.3 KB), and a server must not make every redaction scan a
/// megabyte "token" it issued. Field scrubbing still blanks such a token after `Bearer`.
pub const MAX_SECRET_LEN: usize = 16 * 1024;

/// How many distinct values the registry keeps; the least recently registered go first.
pub const MAX_REMEMBERED: usize = 1024;

#[derive(Default)]
struct Registry {
    /// Value → the tick it was last registered at.
    values: HashMap<String, u64>,
    tick: u64,
    /// Values registered since `settled` was built; matched by `recent`.
    pending: Vec<String>,
    /// Two tiers, so a registration rebuilds only a small matcher: `settled` covers the values
    /// as of its build (an evicted value may linger there until the next build, which only
    /// redacts more), `recent` the few registered since. `None` means "rebuild".
    settled: Option<Arc<AhoCorasick>>,
    recent: Option<Arc<AhoCorasick>>,
}

/// How many values may wait in the recent tier before both tiers are rebuilt as one.
const RECENT_TIER: usize = 32;

static REGISTRY: LazyLock<Mutex<Registry>> = LazyLock::new(Default::default);

impl Registry {
    fn register(&mut self, value: &str) {
        let value = value.trim();
        if value.len() < MIN_SECRET_LEN || value.len() > MAX_SECRET_LEN {
            return;
        }
        self.tick += 1;
        let tick = self.tick;
        if let Some(seen) = self.values.get_mut(value) {
            *seen = tick;
            return;
        }
        if self.values.len() >= MAX_REMEMBERED
            && let Some(oldest) = self
                .values
                .iter()
                .min_by_key(|(_, t)| **t)
                .map(|(v, _)| v.clone())
        {
            self.values.remove(&oldest);
        }
        self.values.insert(value.to_string(), tick);
        self.pending.push(value.to_string());
        if self.pending.len() > RECENT_TIER {
            self.pending.clear();
            self.settled = None;
        }
        self.recent = None;
    }

    /// The matchers over every registered form (settled tier first), rebuilt only after the
    /// set changed.
    fn matchers(&mut self) -> Vec<Arc<AhoCorasick>> {
        if self.settled.is_none() {
            self.pending.clear();
            self.settled = build_matcher(self.values.keys());
        }
        if self.recent.is_none() {
            self.recent = build_matcher(self.pending.iter());
        }
        self.settled.iter().chain(&self.recent).cloned().collect()
    }
}

/// One matcher over every form of `values`; `None` when there are none. Leftmost-longest:
/// when one secret contains another (a token inside `SSWS token`), the longer match goes.
fn build_matcher<'a>(values: impl Iterator<Item = &'a String>) -> Option<Arc<AhoCorasick>> {
    let mut patterns: Vec<String> = values.flat_map(|v| encoded_forms(v)).collect();
    if patterns.is_empty() {
        return None;
    }
    patterns.sort();
    patterns.dedup();
    // A contiguous NFA builds in time linear in the patterns; the DFA the builder may pick
    // for few patterns can take minutes on a long value.
    let built = AhoCorasick::builder()
        .kind(Some(AhoCorasickKind::ContiguousNFA))
        .match_kind(MatchKind::LeftmostLongest)
        .build(&patterns)
        .expect("literal patterns always build");
    Some(Arc::new(built))
}

fn registry() -> std::sync::MutexGuard<'static, Registry> {
    REGISTRY.lock().unwrap_or_else(|p| p.into_inner())
}

/// Remembers `value` (and its encoded forms) as a secret to redact everywhere.
pub fn register(value: &str) {
    registry().register(value);
}

/// Remembers HTTP Basic credentials: the secret, and the base64 of `user:secret` that goes
/// into the `Authorization` header (the secret's own base64 is not a substring of it).
pub fn register_basic(user: &str, secret: &str) {
    register(secret);
    register(&format!("{user}:{secret}"));
}

/// Every form of `value` that a server echoing a request could print.
fn encoded_forms(value: &str) -> Vec<String> {
    let bytes = value.as_bytes();
    let mut forms = vec![
        value.to_string(),
        percent_encode(value, false, true),
        percent_encode(value, false, false),
        percent_encode(value, true, true),
        percent_encode(value, true, false),
        STANDARD.encode(bytes),
        STANDARD_NO_PAD.encode(bytes),
        URL_SAFE.encode(bytes),
        URL_SAFE_NO_PAD.encode(bytes),
        json_escape(value, false),
        json_escape(value, true),
    ];
    // A value spanning lines (a PEM key, a JSON key file) may be echoed with CRLF endings.
    if value.contains('\n') {
        forms.push(value.replace("\r\n", "\n").replace('\n', "\r\n"));
    }
    forms.retain(|f| f.len() >= MIN_SECRET_LEN);
    forms.sort();
    forms.dedup();
    forms
}

/// RFC 3986 percent-encoding; `form` writes spaces as `+` (application/x-www-form-urlencoded).
fn percent_encode(value: &str, form: bool, upper: bool) -> String {
    let mut out = String::with_capacity(value.len() * 3);
    for b in value.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(b as char)
            }
            b' ' if form => out.push('+'),
            _ if upper => out.push_str(&format!("%{b:02X}")),
            _ => out.push_str(&format!("%{b:02x}")),
        }
    }
    out
}

/// The value as it appears inside a JSON string; `slash` also escapes `/` as `\/` (allowed
/// by JSON, and done by some servers).
fn json_escape(value: &str, slash: bool) -> String {
    let quoted = serde_json::to_string(value).unwrap_or_default();
    let inner = quoted
        .strip_prefix('"')
        .and_then(|q| q.strip_suffix('"'))
        .unwrap_or_default();
    if slash {
        inner.replace('/', "\\/")
    } else {
        inner.to_string()
    }
}

/// `text` with every registered secret (in any registered form) replaced by [`PLACEHOLDER`].
pub fn redact(text: &str) -> Cow<'_, str> {
    let matchers = registry().matchers();
    let mut out = Cow::Borrowed(text);
    for ac in matchers {
        if ac.is_match(out.as_ref()) {
            let replacements = vec![PLACEHOLDER; ac.patterns_len()];
            out = Cow::Owned(ac.replace_all(&out, &replacements));
        }
    }
    out
}

/// Field names whose values are credentials (matched case-insensitively inside the name, so
/// `access_token`, `client_secret`, `X-Api-Key` and `Proxy-Authorization` all count).
const FIELD_WORDS: &str =
    r"authorization|passw(?:or)?d|token|secret|assertion|api[_-]?key|cookie|credential|ssws";

struct Scrubbers {
    json: Regex,
    form: Regex,
    xml: Regex,
    header: Regex,
    scheme: Regex,
}

static SCRUBBERS: LazyLock<Scrubbers> = LazyLock::new(|| {
    let name = format!(r"[A-Za-z0-9_.-]*(?:{FIELD_WORDS})[A-Za-z0-9_.-]*");
    // A header name has no dots, unlike the field paths idgap's own messages start with
    // (`spec.auth.refreshToken.refreshToken: …`).
    let header_name = format!(r"[A-Za-z0-9_-]*(?:{FIELD_WORDS})[A-Za-z0-9_-]*");
    let build = |p: String| Regex::new(&p).expect("scrubber patterns are valid");
    Scrubbers {
        // "client_secret": "x"   "authorization": ["Bearer x"]
        json: build(format!(r#"(?i)("{name}"\s*:\s*\[?\s*")(?:[^"\\]|\\.)*(")"#)),
        // client_secret=x&…   ?token=x
        form: build(format!(
            r#"(?i)((?:^|[?&\s;,({{'"])(?:{name})=)[^&\s"'<>,;)]+"#
        )),
        // <password>x</password>
        xml: build(format!(
            r"(?i)(<(?:[A-Za-z0-9_-]+:)?{name}(?:\s[^>]*)?>)[^<]+"
        )),
        // Authorization: Bearer x   (a header line, as an echo page prints it)
        header: build(format!(r"(?im)(^[ \t]*{header_name}[ \t]*:[ \t]*)[^\r\n]+")),
        // Bearer x   SSWS x   DPoP x   Basic x  (x: see `looks_like_credential`)
        scheme: build(r"(\b(?:[Bb]earer|SSWS|DPoP|[Bb]asic)\s+)([A-Za-z0-9._~+/-]+=*)".to_string()),
    }
});

/// Blanks the values of credential-looking fields (see the module docs).
pub fn scrub_fields(text: &str) -> Cow<'_, str> {
    let s = &*SCRUBBERS;
    let mut out = Cow::Borrowed(text);
    for (re, rep) in [
        (&s.json, format!("${{1}}{PLACEHOLDER}${{2}}")),
        (&s.form, format!("${{1}}{PLACEHOLDER}")),
        (&s.xml, format!("${{1}}{PLACEHOLDER}")),
        (&s.header, format!("${{1}}{PLACEHOLDER}")),
    ] {
        if re.is_match(&out) {
            out = Cow::Owned(re.replace_all(&out, rep.as_str()).into_owned());
        }
    }
    if s.scheme.is_match(&out) {
        let replaced = s.scheme.replace_all(&out, |c: &regex::Captures| {
            if looks_like_credential(&c[2]) {
                format!("{}{PLACEHOLDER}", &c[1])
            } else {
                c[0].to_string()
            }
        });
        out = Cow::Owned(replaced.into_owned());
    }
    out
}

/// After `Bearer`/`Basic`/…: a credential, not a word ("Basic Marketing User"). Every token
/// format idgap meets is at least 16 characters with a digit somewhere.
fn looks_like_credential(word: &str) -> bool {
    word.len() >= 16 && word.bytes().any(|b| b.is_ascii_digit())
}

/// Text that came from a server, made safe to repeat: registered secrets redacted, then
/// credential-looking fields blanked.
pub fn server_text(text: &str) -> String {
    scrub_fields(&redact(text)).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each test uses its own values: the registry is process-wide and tests run in parallel.
    fn assert_gone(text: &str, secret: &str) {
        assert!(!text.contains(secret), "{secret:?} survived in {text:?}");
    }

    #[test]
    fn every_encoding_of_a_registered_secret_is_redacted() {
        let secret = "s3cr3t+/value with space&=ü";
        register(secret);
        for form in encoded_forms(secret) {
            let text = format!("server said: [{form}] end");
            let out = redact(&text);
            assert_gone(&out, &form);
            assert!(out.contains(PLACEHOLDER), "{out}");
            assert!(out.starts_with("server said: [") && out.ends_with("] end"));
        }
        let forms = encoded_forms(secret);
        for expected in [
            "s3cr3t%2B%2Fvalue%20with%20space%26%3D%C3%BC",
            "s3cr3t%2B%2Fvalue+with+space%26%3D%C3%BC",
            "s3cr3t%2b%2fvalue%20with%20space%26%3d%c3%bc",
            &STANDARD.encode(secret),
            &URL_SAFE_NO_PAD.encode(secret),
        ] {
            assert!(forms.iter().any(|f| f == expected), "missing {expected}");
        }
    }

    #[test]
    fn basic_credentials_are_redacted_as_the_header_carries_them() {
        register_basic("client-id-123", "basic-secret-456");
        let header = format!(
            "Basic {}",
            STANDARD.encode("client-id-123:basic-secret-456")
        );
        let out = redact(&header);
        assert_eq!(out, format!("Basic {PLACEHOLDER}"));
    }

    #[test]
    fn overlapping_secrets_leave_no_fragment() {
        register("overlap-token-abcdef");
        register("SSWS overlap-token-abcdef");
        register("token-abcdef-and-more");
        let out = redact("a SSWS overlap-token-abcdef b overlap-token-abcdef-and-more c");
        assert_gone(&out, "abcdef");
        assert_gone(&out, "overlap");
        assert!(out.starts_with("a ") && out.contains(" b ") && out.ends_with(" c"));
    }

    #[test]
    fn huge_values_are_not_registered() {
        let huge = "h".repeat(MAX_SECRET_LEN + 1);
        let mut reg = Registry::default();
        reg.register(&huge);
        assert!(reg.values.is_empty());
    }

    #[test]
    fn short_values_are_not_registered() {
        register("short7x");
        register("   ");
        assert_eq!(redact("a short7x word"), "a short7x word");
        register("eight8xx");
        assert_eq!(redact("a eight8xx word"), format!("a {PLACEHOLDER} word"));
    }

    #[test]
    fn multi_line_values_are_redacted_with_either_line_ending() {
        let pem = "-----BEGIN KEY-----\nmultiline-key-body\n-----END KEY-----";
        register(pem);
        assert_gone(&redact(pem), "multiline-key-body");
        assert_gone(&redact(&pem.replace('\n', "\r\n")), "multiline-key-body");
        assert_gone(&redact(&pem.replace('\n', "\\n")), "multiline-key-body");
    }

    #[test]
    fn credential_fields_are_scrubbed_in_every_shape() {
        let body = concat!(
            "{\"client_secret\": \"js1\", \"headers\": {\"Authorization\": [\"Bearer js2\"]}, ",
            "\"error\": \"invalid_client\"}\n",
            "grant_type=refresh_token&refresh_token=fm1&client_id=abc&client_secret=fm2\n",
            "GET /users?limit=2&access_token=qs1 HTTP/1.1\n",
            "Authorization: SSWS hd1\n",
            "  x-api-key: hd2\n",
            "<soap:password>xm1</soap:password>\n",
            "seen: Bearer eyJhbGciOiJSUzI1NiJ9.sc1\n",
        );
        let out = scrub_fields(body);
        for gone in [
            "js1", "js2", "fm1", "fm2", "qs1", "hd1", "hd2", "xm1", "sc1",
        ] {
            assert_gone(&out, gone);
        }
        for kept in [
            "\"error\": \"invalid_client\"",
            "client_id=abc",
            "grant_type=refresh_token",
            "limit=2",
        ] {
            assert!(out.contains(kept), "{kept:?} lost from {out}");
        }
    }

    #[test]
    fn ordinary_messages_are_left_alone() {
        let text = "Salesforce refused the refresh-token sign-in: invalid_grant (expired access/refresh token). Basic auth is off for the Basic Marketing-Department-User profile";
        assert_eq!(scrub_fields(text), text);
        assert_eq!(redact(text), text);
        let field = "spec.auth.refreshToken.refreshToken: Secret `later` not found";
        assert_eq!(scrub_fields(field), field);
    }

    #[test]
    fn the_registry_stays_bounded_and_keeps_what_is_registered_again() {
        // A private registry: filling the shared one would evict other tests' values.
        let mut reg = Registry::default();
        reg.register("kept-value-registered-again");
        reg.register("dropped-value-never-again");
        for i in 0..MAX_REMEMBERED + 10 {
            reg.register(&format!("bounded-filler-{i:05}"));
            if i % 100 == 0 {
                reg.register("kept-value-registered-again");
            }
        }
        assert_eq!(reg.values.len(), MAX_REMEMBERED);
        assert!(reg.values.contains_key("kept-value-registered-again"));
        assert!(!reg.values.contains_key("dropped-value-never-again"));
        let matchers = reg.matchers();
        assert!(
            matchers
                .iter()
                .any(|ac| ac.is_match("kept-value-registered-again"))
        );
    }
}
