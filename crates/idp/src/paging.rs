//! Small pieces every provider's pager shares: identifier sets, cursor-URL safety checks and
//! reading a JSON page that may be cut off or not JSON at all.

use std::collections::BTreeSet;
use std::time::Duration;

use idgap_model::normalize_identifier;
use idgap_net::{Attempt, HttpResponse, redacted_target};
use serde::de::DeserializeOwned;

use crate::IdpError;

/// Normalises, drops empties, dedupes and sorts email-like identifiers.
pub(crate) fn identifiers<S: AsRef<str>>(values: impl IntoIterator<Item = S>) -> Vec<String> {
    values
        .into_iter()
        .map(|v| normalize_identifier(v.as_ref()))
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
        (a, b) => {
            // Scheme, host and port of both: a link differing only in its port (a proxy or
            // port-forward that rewrites nothing) must not read as "another host".
            let shown = |o: Option<url::Origin>| match o {
                Some(o) if o.is_tuple() => o.ascii_serialization(),
                _ => "an unparsable URL".to_string(),
            };
            Err(IdpError::Protocol {
                provider,
                target: url::Url::parse(start)
                    .map(|u| redacted_target(&u))
                    .unwrap_or_default(),
                detail: format!(
                    "the next-page link points to {}, not {} where paging started; refusing to send the credential there",
                    shown(b),
                    shown(a)
                ),
            })
        }
    }
}

/// A body that did not parse, for clients that parse it themselves: a cut-off or non-JSON
/// answer is retried (a proxy hiccup) and reported as a protocol error when it persists or on
/// the `last` attempt; JSON of the wrong shape fails at once, suggesting that `host_label` is
/// not what answered.
pub(crate) fn unreadable<T>(
    provider: &'static str,
    host_label: &str,
    resp: &HttpResponse,
    target: &str,
    what: &str,
    e: serde_json::Error,
    last: bool,
) -> Attempt<T, IdpError> {
    let detail = format!(
        "the {what} could not be read ({e}); body starts: {}",
        resp.body_excerpt()
    );
    if e.is_data() || last {
        let hint = if e.is_data() {
            format!("; is this host really {host_label}?")
        } else {
            String::new()
        };
        Attempt::Fail(IdpError::Protocol {
            provider,
            target: target.to_string(),
            detail: format!("{detail}{hint}"),
        })
    } else {
        Attempt::Retry {
            after: None,
            reason: detail,
        }
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
        assert!(
            err.to_string()
                .contains("points to https://b.okta.com, not https://a.okta.com where"),
            "{err}"
        );
        let err = same_origin(
            "Okta",
            "http://127.0.0.1:7001/api/v1/users",
            "http://127.0.0.1:41234/api/v1/users?after=1",
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .contains("points to http://127.0.0.1:41234, not http://127.0.0.1:7001 where"),
            "{err}"
        );
    }
}

/// Fuzz-style properties for the shared page reader, and the JSON mutation helpers every
/// provider's robustness tests use: hostile input must give an error, never a panic, and a
/// body that is accepted must be read whole.
#[cfg(test)]
pub(crate) mod robustness {
    use super::*;
    pub(crate) use idgap_mutate::{Count, apply, config, lossy_json, mutation, prefixes};
    use idgap_net::StatusCode;
    use proptest::prelude::*;
    use serde_json::{Value, json};

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

/// Entry points for the coverage-guided fuzz targets in `fuzz/`: the shared parsers the
/// robustness properties above call, and the shape every provider's fuzz entry returns.
#[doc(hidden)]
pub mod fuzzing {
    use super::*;

    /// What an answer function made of one response.
    #[derive(Debug)]
    pub enum Answer<T> {
        Done(T),
        TokenRejected,
        Retry { after: Option<Duration> },
        Fail(IdpError),
    }

    impl<T> Answer<T> {
        pub(crate) fn from_attempt<U>(
            attempt: Attempt<U, IdpError>,
            done: impl FnOnce(U) -> Self,
        ) -> Self {
            match attempt {
                Attempt::Done(value) => done(value),
                Attempt::Retry { after, .. } => Answer::Retry { after },
                Attempt::Fail(e) => Answer::Fail(e),
            }
        }
    }

    /// A `200` body read by the shared JSON reader (as Okta and Entra ID read theirs).
    pub fn parse_json(
        resp: &HttpResponse,
        attempt: u32,
        max_attempts: u32,
    ) -> Answer<serde_json::Value> {
        match super::parse_json::<serde_json::Value, ()>(
            "Fuzz",
            "https://idp.example/users",
            resp,
            attempt,
            max_attempts,
            "hint",
        ) {
            Ok(v) => Answer::Done(v),
            Err(a) => Answer::from_attempt(a, |()| unreachable!("parse_json never answers Done")),
        }
    }

    /// The next-page origin check and the error-message target of a server-given URL.
    pub fn next_url(start: &str, next: &str) -> (Result<(), IdpError>, String) {
        (same_origin("Fuzz", start, next), target_of(next))
    }

    pub fn identifiers(values: &[&str]) -> Vec<String> {
        super::identifiers(values)
    }
}
