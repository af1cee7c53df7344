//! Small pieces every provider's pager shares: identifier sets, cursor-URL safety checks and
//! reading a JSON page that may be cut off or not JSON at all.

use std::collections::BTreeSet;
use std::time::Duration;

use idgap_model::normalize_identifier;
use idgap_net::{Attempt, HttpResponse, redacted_target};
use serde::de::DeserializeOwned;

use crate::IdpError;

/// Normalises, drops empties, dedupes and sorts email-like identifiers.
pub(crate) fn identifiers<'a>(values: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    values
        .into_iter()
        .map(normalize_identifier)
        .filter(|v| !v.is_empty())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// A next-page URL handed back by the server is followed only on the origin idgap started
/// from: the request carries the credential, which must not travel to another host.
pub(crate) fn same_origin(provider: &'static str, start: &str, next: &str) -> Result<(), IdpError> {
    let origin = |u: &str| url::Url::parse(u).ok().map(|u| u.origin());
    match (origin(start), origin(next)) {
        (Some(a), Some(b)) if a == b => Ok(()),
        _ => Err(IdpError::Protocol {
            provider,
            target: url::Url::parse(start)
                .map(|u| redacted_target(&u))
                .unwrap_or_default(),
            detail: format!(
                "the next-page link points to another host ({}); refusing to send the credential there",
                url::Url::parse(next)
                    .ok()
                    .and_then(|u| u.host_str().map(str::to_string))
                    .unwrap_or_else(|| "an unparsable URL".into())
            ),
        }),
    }
}

/// Reads a `200` JSON body. A body that does not parse (cut off, an HTML page from a proxy)
/// is retried while attempts remain, then reported as a protocol error; a body that parses
/// but has the wrong shape is reported at once, since asking again will not change it.
pub(crate) fn parse_json<T: DeserializeOwned, R>(
    provider: &'static str,
    target: &str,
    resp: &HttpResponse,
    attempt: u32,
    max_attempts: u32,
    not_provider_hint: &str,
) -> Result<T, Attempt<R, IdpError>> {
    match serde_json::from_slice::<T>(&resp.body) {
        Ok(value) => Ok(value),
        Err(e) if e.classify() == serde_json::error::Category::Data => {
            Err(Attempt::Fail(IdpError::Protocol {
                provider,
                target: target.to_string(),
                detail: format!(
                    "the JSON is not what {provider} sends ({e}); {not_provider_hint}. Body starts: {}",
                    resp.body_excerpt()
                ),
            }))
        }
        Err(e) => {
            let what = if looks_like_html(resp) {
                "an HTML page instead of JSON".to_string()
            } else {
                format!("a body that is not complete JSON ({e})")
            };
            if attempt < max_attempts {
                Err(Attempt::Retry {
                    after: None,
                    reason: format!("{target} answered {what}"),
                })
            } else {
                Err(Attempt::Fail(IdpError::Protocol {
                    provider,
                    target: target.to_string(),
                    detail: format!(
                        "answered {what} {attempt} times; {not_provider_hint}. Body starts: {}",
                        resp.body_excerpt()
                    ),
                }))
            }
        }
    }
}

fn looks_like_html(resp: &HttpResponse) -> bool {
    resp.header("content-type")
        .is_some_and(|c| c.contains("html"))
        || resp.body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'<')
}

/// The longest access-token lifetime idgap takes from a token response. A larger
/// `expires_in` (up to `u64::MAX` from a hostile or broken server) would overflow `Instant`
/// arithmetic; a token that dies earlier than believed is renewed on its 401 anyway.
pub(crate) const MAX_TOKEN_LIFETIME: Duration = Duration::from_secs(24 * 3600);

/// `expires_in` (or `default_secs` when absent) as a lifetime, at most [`MAX_TOKEN_LIFETIME`].
pub(crate) fn token_lifetime(expires_in: Option<u64>, default_secs: u64) -> Duration {
    Duration::from_secs(expires_in.unwrap_or(default_secs)).min(MAX_TOKEN_LIFETIME)
}

/// The query-less target of a URL, for error messages.
pub(crate) fn target_of(url: &str) -> String {
    url::Url::parse(url)
        .map(|u| redacted_target(&u))
        .unwrap_or_else(|_| "<invalid URL>".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_normalised_deduped_sorted() {
        assert_eq!(
            identifiers([" B@x.com", "a@x.com", "", "b@X.com"]),
            vec!["a@x.com".to_string(), "b@x.com".to_string()]
        );
    }

    #[test]
    fn next_links_must_stay_on_origin() {
        assert!(
            same_origin(
                "Okta",
                "https://a.okta.com/api/v1/users",
                "https://a.okta.com/api/v1/users?after=1"
            )
            .is_ok()
        );
        let err = same_origin(
            "Okta",
            "https://a.okta.com/api/v1/users",
            "https://b.okta.com/x",
        )
        .unwrap_err();
        assert!(err.to_string().contains("b.okta.com"), "{err}");
    }
}

/// Fuzz-style properties for the shared page reader, and the JSON mutation helpers every
/// provider's robustness tests use: hostile input must give an error, never a panic, and a
/// body that is accepted must be read whole.
#[cfg(test)]
pub(crate) mod robustness {
    use super::*;
    use idgap_net::StatusCode;
    use proptest::prelude::*;
    use proptest::sample::Index;
    use serde_json::{Value, json};

    #[derive(Debug, Clone)]
    enum Step {
        Key(String),
        At(usize),
    }

    /// Every node of `v` as a path from the root (the root is the empty path).
    fn paths(v: &Value) -> Vec<Vec<Step>> {
        fn walk(v: &Value, at: &mut Vec<Step>, out: &mut Vec<Vec<Step>>) {
            out.push(at.clone());
            match v {
                Value::Object(m) => {
                    for (k, c) in m {
                        at.push(Step::Key(k.clone()));
                        walk(c, at, out);
                        at.pop();
                    }
                }
                Value::Array(a) => {
                    for (i, c) in a.iter().enumerate() {
                        at.push(Step::At(i));
                        walk(c, at, out);
                        at.pop();
                    }
                }
                _ => {}
            }
        }
        let mut out = Vec::new();
        walk(v, &mut Vec::new(), &mut out);
        out
    }

    fn node<'a>(v: &'a mut Value, path: &[Step]) -> &'a mut Value {
        path.iter().fold(v, |v, s| match s {
            Step::Key(k) => &mut v[k.as_str()],
            Step::At(i) => &mut v[*i],
        })
    }

    fn nested(depth: usize) -> Value {
        (0..depth).fold(Value::Null, |v, _| Value::Array(vec![v]))
    }

    /// A hostile stand-in for a node: wrong types, extreme numbers, odd strings, deep nesting.
    fn replacement(kind: u8, old: &Value) -> Value {
        match kind % 16 {
            0 => Value::Null,
            1 => json!(true),
            2 => json!(u64::MAX),
            3 => json!(i64::MIN),
            4 => json!(1e300),
            5 => json!(-0.5),
            6 => json!(""),
            7 => json!("\u{0}\u{202e}é😀\u{fffd}\n<html>"),
            8 => Value::String("x".repeat(70_000)),
            9 => json!([old]),
            10 => json!({ "k": old }),
            11 => nested(300),
            12 => nested(100),
            13 => json!({}),
            14 => json!([]),
            _ => json!("2023-07-23T16:18:23.000+0000"),
        }
    }

    /// One structured change to a valid response.
    #[derive(Debug, Clone)]
    pub(crate) enum Mutation {
        /// Replace a node with a hostile value.
        Replace(Index, u8),
        /// Drop a field (or array element).
        Remove(Index),
        /// Add an unknown field to an object (or repeat an array element).
        Extra(Index),
        /// Cut the serialized body short.
        Truncate(Index),
        /// Overwrite one byte (often making the body non-UTF-8 or non-JSON).
        Byte(Index, u8),
        /// Insert raw bytes anywhere.
        Splice(Index, Vec<u8>),
    }

    pub(crate) fn mutation() -> impl Strategy<Value = Mutation> {
        prop_oneof![
            3 => (any::<Index>(), any::<u8>()).prop_map(|(i, k)| Mutation::Replace(i, k)),
            1 => any::<Index>().prop_map(Mutation::Remove),
            1 => any::<Index>().prop_map(Mutation::Extra),
            1 => any::<Index>().prop_map(Mutation::Truncate),
            1 => (any::<Index>(), any::<u8>()).prop_map(|(i, b)| Mutation::Byte(i, b)),
            1 => (any::<Index>(), prop::collection::vec(any::<u8>(), 1..16))
                .prop_map(|(i, b)| Mutation::Splice(i, b)),
        ]
    }

    /// `valid` with `m` applied, serialized.
    pub(crate) fn apply(valid: &Value, m: &Mutation) -> Vec<u8> {
        let bytes = serde_json::to_vec(valid).expect("a Value serializes");
        let all = paths(valid);
        let mut v = valid.clone();
        match m {
            Mutation::Replace(i, kind) => {
                let n = node(&mut v, i.get::<Vec<Step>>(&all));
                *n = replacement(*kind, n);
            }
            Mutation::Remove(i) => {
                let path = i.get::<Vec<Step>>(&all);
                if let Some((last, parent)) = path.split_last() {
                    match (node(&mut v, parent), last) {
                        (Value::Object(o), Step::Key(k)) => drop(o.remove(k)),
                        (Value::Array(a), Step::At(n)) => drop(a.remove(*n)),
                        _ => {}
                    }
                } else {
                    v = Value::Null;
                }
            }
            Mutation::Extra(i) => match node(&mut v, i.get::<Vec<Step>>(&all)) {
                Value::Object(o) => drop(o.insert("unexpectedExtra".into(), json!([1, {}]))),
                Value::Array(a) if !a.is_empty() => a.push(a[0].clone()),
                _ => {}
            },
            Mutation::Truncate(i) => return bytes[..i.index(bytes.len())].to_vec(),
            Mutation::Byte(i, b) => {
                let mut bytes = bytes;
                let at = i.index(bytes.len());
                bytes[at] = *b;
                return bytes;
            }
            Mutation::Splice(i, extra) => {
                let mut bytes = bytes;
                let at = i.index(bytes.len() + 1);
                bytes.splice(at..at, extra.iter().copied());
                return bytes;
            }
        }
        serde_json::to_vec(&v).expect("a Value serializes")
    }

    /// Every strict prefix of `valid`'s serialization.
    pub(crate) fn prefixes(valid: &Value) -> Vec<Vec<u8>> {
        let bytes = serde_json::to_vec(valid).expect("a Value serializes");
        (0..bytes.len()).map(|n| bytes[..n].to_vec()).collect()
    }

    /// Test case counts stay modest so `cargo test` is quick; `PROPTEST_CASES` raises them.
    pub(crate) fn config() -> ProptestConfig {
        ProptestConfig {
            cases: std::env::var("PROPTEST_CASES")
                .ok()
                .and_then(|c| c.parse().ok())
                .unwrap_or(256),
            failure_persistence: None,
            ..ProptestConfig::default()
        }
    }

    /// A response with `status`, `body` and whichever `headers` are valid header values.
    pub(crate) fn response(
        status: u16,
        body: Vec<u8>,
        headers: &[(&'static str, &str)],
    ) -> HttpResponse {
        let mut map = idgap_net::HeaderMap::new();
        for (name, value) in headers {
            if let Ok(value) = value.parse() {
                map.append(*name, value);
            }
        }
        HttpResponse {
            status: StatusCode::from_u16(status).expect("a valid status code"),
            headers: map,
            body,
        }
    }

    /// `body` as a JSON tree. Lossy, because `serde_json` does not check UTF-8 inside the
    /// strings of fields a typed parse skips, so such a body is accepted there (harmlessly:
    /// the skipped text is never used) while a strict `Value` parse would refuse it.
    pub(crate) fn lossy_json(body: &[u8]) -> Option<Value> {
        serde_json::from_str(&String::from_utf8_lossy(body)).ok()
    }

    /// The length of the array that is `body` (`field` empty) or its top-level `field`. serde
    /// reads a struct from an object or from its positional form, an array, where the field
    /// is at `position`.
    pub(crate) fn array_len(body: &[u8], field: &str, position: usize) -> Option<usize> {
        let text = String::from_utf8_lossy(body);
        if field.is_empty() {
            return serde_json::from_str::<Count>(&text).ok()?.0;
        }
        if let Ok(mut fields) =
            serde_json::from_str::<std::collections::HashMap<String, Count>>(&text)
        {
            return fields.remove(field)?.0;
        }
        let positional: Vec<Count> = serde_json::from_str(&text).ok()?;
        positional.into_iter().nth(position)?.0
    }

    /// The element count of a JSON array, `None` for any other value. Nested values are
    /// skipped the way typed parses skip unknown fields: without `Value`'s depth limit.
    #[derive(Debug, PartialEq)]
    pub(crate) struct Count(pub Option<usize>);

    impl<'de> serde::Deserialize<'de> for Count {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            use serde::de::{IgnoredAny, MapAccess, SeqAccess, Visitor};
            struct Counter;
            impl<'de> Visitor<'de> for Counter {
                type Value = Count;
                fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                    f.write_str("any JSON value")
                }
                fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Count, A::Error> {
                    let mut n = 0;
                    while seq.next_element::<IgnoredAny>()?.is_some() {
                        n += 1;
                    }
                    Ok(Count(Some(n)))
                }
                fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Count, A::Error> {
                    while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                    Ok(Count(None))
                }
                fn visit_bool<E>(self, _: bool) -> Result<Count, E> {
                    Ok(Count(None))
                }
                fn visit_i64<E>(self, _: i64) -> Result<Count, E> {
                    Ok(Count(None))
                }
                fn visit_u64<E>(self, _: u64) -> Result<Count, E> {
                    Ok(Count(None))
                }
                fn visit_f64<E>(self, _: f64) -> Result<Count, E> {
                    Ok(Count(None))
                }
                fn visit_str<E>(self, _: &str) -> Result<Count, E> {
                    Ok(Count(None))
                }
                fn visit_unit<E>(self) -> Result<Count, E> {
                    Ok(Count(None))
                }
            }
            d.deserialize_any(Counter)
        }
    }

    #[derive(Debug, serde::Deserialize)]
    struct Listing {
        value: Vec<Value>,
    }

    proptest! {
        #![proptest_config(config())]

        #[test]
        fn parse_json_never_panics_and_is_whole_or_refused(
            m in mutation(), attempt in 1u32..4, html in any::<bool>(),
        ) {
            let valid = json!({"value": [{"id": "1", "mail": "a@b.c"}, {"id": "2"}]});
            let body = apply(&valid, &m);
            let headers: &[(&'static str, &str)] = if html { &[("content-type", "text/html")] } else { &[] };
            let resp = response(200, body.clone(), headers);
            match parse_json::<Listing, ()>("Test", "https://x/users", &resp, attempt, 3, "hint") {
                Ok(listing) => prop_assert_eq!(Some(listing.value.len()), array_len(&body, "value", 0)),
                Err(Attempt::Done(())) => prop_assert!(false, "an unreadable body is never a result"),
                Err(Attempt::Retry { .. }) => prop_assert!(attempt < 3),
                Err(Attempt::Fail(e)) => prop_assert!(matches!(e, IdpError::Protocol { .. }), "{}", e),
            }
        }

        #[test]
        fn any_bytes_never_panic(body in prop::collection::vec(any::<u8>(), 0..512)) {
            let resp = response(200, body, &[]);
            let _ = parse_json::<Listing, ()>("Test", "https://x/users", &resp, 3, 3, "hint");
            let _ = parse_json::<Value, ()>("Test", "https://x/users", &resp, 1, 3, "hint");
        }

        #[test]
        fn next_links_of_any_text_never_panic(start in any::<String>(), next in any::<String>()) {
            let _ = same_origin("Test", &start, &next);
            let _ = target_of(&next);
        }

        #[test]
        fn a_foreign_next_link_is_always_refused(host in "[a-z]{1,10}\\.[a-z]{2,5}", path in "[a-zA-Z0-9/?=&]{0,30}") {
            let start = "https://tenant.example.com/users";
            let next = format!("https://{host}/{path}");
            if host != "tenant.example.com" {
                prop_assert!(same_origin("Test", start, &next).is_err());
            }
            let next = format!("https://tenant.example.com/{path}");
            prop_assert!(same_origin("Test", start, &next).is_ok());
        }

        #[test]
        fn identifiers_of_any_text_are_normalised(values in prop::collection::vec(any::<String>(), 0..8)) {
            let ids = identifiers(values.iter().map(String::as_str));
            prop_assert!(ids.windows(2).all(|w| w[0] < w[1]), "sorted and unique: {ids:?}");
            prop_assert!(ids.iter().all(|i| !i.is_empty()));
        }
    }

    #[test]
    fn token_lifetimes_are_capped_so_instants_cannot_overflow() {
        assert_eq!(token_lifetime(None, 3600), Duration::from_secs(3600));
        assert_eq!(token_lifetime(Some(0), 3600), Duration::ZERO);
        assert_eq!(token_lifetime(Some(u64::MAX), 3600), MAX_TOKEN_LIFETIME);
        // Before the cap this addition panicked: "overflow when adding duration to instant".
        let _ = std::time::Instant::now() + token_lifetime(Some(u64::MAX), 0);
    }

    #[test]
    fn a_cut_body_is_never_read() {
        let valid = json!({"value": [{"id": "1"}]});
        for prefix in prefixes(&valid) {
            let resp = response(200, prefix, &[]);
            assert!(parse_json::<Listing, ()>("Test", "https://x", &resp, 1, 3, "h").is_err());
        }
    }
}
