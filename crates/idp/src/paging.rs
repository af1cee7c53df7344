//! Small pieces every provider's pager shares: identifier sets, cursor-URL safety checks and
//! reading a JSON page that may be cut off or not JSON at all.

use std::collections::BTreeSet;

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
