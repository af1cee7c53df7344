//! HTTP plumbing shared by the Salesforce and identity-provider clients.
//!
//! Every request goes through [`Http::request`]: the host is checked against the
//! [`HostPolicy`] first, redirects are never followed (so a redirect cannot leave the
//! allow-list), each attempt has a timeout, and the caller's handler decides per response
//! whether it is done, should retry, or failed. Retries back off with full jitter and honour
//! the server's own wait hints. Every body is read with a size limit ([`DEFAULT_BODY_LIMIT`]
//! unless the source sets its own).

mod body;
mod hosts;
pub mod redact;
mod retry;
mod secret;

pub use body::DEFAULT_BODY_LIMIT;
pub use hosts::{HostPolicy, HostPolicyError, InstanceUrlError};
pub use retry::{RetryPolicy, parse_retry_after};
pub use secret::SecretString;

/// Entry points for the coverage-guided fuzz targets in `fuzz/` (not an API).
#[doc(hidden)]
pub mod fuzzing {
    pub use crate::body::capped_chunks;
    pub use crate::retry::retry_after_at;
}

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

pub use reqwest::{Client, Method, RequestBuilder, StatusCode, header::HeaderMap};

/// A fully read HTTP response, never larger than the handle's body limit.
#[derive(Debug, Clone)]
pub struct HttpResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl HttpResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// All values of a header that may be repeated (e.g. Okta's `Link`).
    pub fn header_all(&self, name: &str) -> Vec<&str> {
        self.headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect()
    }

    /// A short, printable excerpt of the body for error messages (never a whole page). The
    /// whole body is redacted before it is cut, so a secret straddling the cut leaves no prefix.
    pub fn body_excerpt(&self) -> String {
        let text = redact::server_text(&String::from_utf8_lossy(&self.body));
        let mut excerpt: String = text.chars().take(200).collect();
        if text.chars().count() > 200 {
            excerpt.push('…');
        }
        excerpt
    }
}

/// What a handler decides about one response.
pub enum Attempt<T, E> {
    Done(T),
    /// Transient: try again after the given wait (or the policy's backoff when `None`).
    Retry {
        after: Option<Duration>,
        reason: String,
    },
    Fail(E),
}

#[derive(Debug, thiserror::Error)]
pub enum NetError {
    #[error(transparent)]
    HostNotAllowed(#[from] HostPolicyError),
    #[error("{what}: could not reach {target}: {detail}. Check the host name and network egress.")]
    Transport {
        what: String,
        target: String,
        detail: String,
    },
    #[error("{what}: gave up after {attempts} attempts against {target}; last problem: {reason}")]
    RetriesExhausted {
        what: String,
        target: String,
        attempts: u32,
        reason: String,
    },
    #[error(
        "{what}: {target} asked to wait {wait:?}, longer than the {max:?} idgap is allowed to wait; try again later"
    )]
    WaitTooLong {
        what: String,
        target: String,
        wait: Duration,
        max: Duration,
    },
    /// The body passed the source's limit. Not retried: a source that sent too much once will
    /// again, and reading it is what the limit prevents.
    #[error(
        "{what}: {target} sent a response larger than the {limit} bytes idgap reads from this source{}; nothing from this sync was kept. A real page is far smaller: check that the URL points at the vendor's API",
        declared.map(|n| format!(" (Content-Length {n})")).unwrap_or_default()
    )]
    BodyTooLarge {
        what: String,
        target: String,
        limit: usize,
        declared: Option<u64>,
    },
}

/// A handle for one sync: shares the connection pool, counts this sync's requests.
#[derive(Clone)]
pub struct Http {
    client: Client,
    policy: Arc<HostPolicy>,
    retry: RetryPolicy,
    timeout: Duration,
    body_limit: usize,
    requests: Arc<AtomicU64>,
}

impl Http {
    pub fn new(policy: HostPolicy, retry: RetryPolicy, timeout: Duration) -> Self {
        let client = Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("idgap/", env!("CARGO_PKG_VERSION")))
            .pool_max_idle_per_host(16)
            .build()
            .expect("a TLS backend is compiled in");
        Http {
            client,
            policy: Arc::new(policy),
            retry,
            timeout,
            body_limit: DEFAULT_BODY_LIMIT,
            requests: Arc::new(AtomicU64::new(0)),
        }
    }

    /// The same connection pool and settings, with a fresh request counter.
    pub fn fresh_counter(&self) -> Self {
        Http {
            requests: Arc::new(AtomicU64::new(0)),
            ..self.clone()
        }
    }

    pub fn with_timeout(&self, timeout: Duration) -> Self {
        Http {
            timeout,
            ..self.clone()
        }
    }

    pub fn with_retry(&self, retry: RetryPolicy) -> Self {
        Http {
            retry,
            ..self.clone()
        }
    }

    /// The same handle with another ceiling for each response body, for a source whose real
    /// answers can be larger than [`DEFAULT_BODY_LIMIT`].
    pub fn with_body_limit(&self, body_limit: usize) -> Self {
        Http {
            body_limit,
            ..self.clone()
        }
    }

    pub fn body_limit(&self) -> usize {
        self.body_limit
    }

    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    pub fn policy(&self) -> &HostPolicy {
        &self.policy
    }

    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.retry
    }

    /// Checks `url` against the allow-list without sending anything.
    pub fn check(&self, url: &str) -> Result<url::Url, NetError> {
        Ok(self.policy.check(url)?)
    }

    /// Sends the request built by `build` to `url` and hands each response to `handle`.
    ///
    /// `what` names the call for errors and logs (e.g. "Salesforce query User"). Transport
    /// failures and `Attempt::Retry` are retried up to the policy's attempt count.
    pub async fn request<T, E>(
        &self,
        what: &str,
        method: Method,
        url: &str,
        build: impl Fn(RequestBuilder) -> RequestBuilder,
        mut handle: impl FnMut(HttpResponse) -> Attempt<T, E>,
    ) -> Result<T, E>
    where
        E: From<NetError>,
    {
        let parsed = self.check(url).map_err(E::from)?;
        let target = redacted_target(&parsed);
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let req =
                build(self.client.request(method.clone(), parsed.clone())).timeout(self.timeout);
            self.requests.fetch_add(1, Ordering::Relaxed);
            let outcome = match req.send().await {
                Ok(resp) => {
                    let status = resp.status();
                    let headers = resp.headers().clone();
                    match body::read_capped(resp, self.body_limit).await {
                        Ok(body) => Ok(HttpResponse {
                            status,
                            headers,
                            body,
                        }),
                        Err(body::BodyError::TooLarge { declared }) => {
                            return Err(E::from(NetError::BodyTooLarge {
                                what: what.to_string(),
                                target,
                                limit: self.body_limit,
                                declared,
                            }));
                        }
                        Err(body::BodyError::Transport(detail)) => Err(detail),
                    }
                }
                Err(e) => Err(describe(&e)),
            };
            let (after, reason) = match outcome {
                Ok(resp) => match handle(resp) {
                    Attempt::Done(v) => return Ok(v),
                    Attempt::Fail(e) => return Err(e),
                    Attempt::Retry { after, reason } => (after, reason),
                },
                Err(detail) => {
                    if attempt >= self.retry.max_attempts {
                        return Err(E::from(NetError::Transport {
                            what: what.to_string(),
                            target,
                            detail,
                        }));
                    }
                    (None, detail)
                }
            };
            if attempt >= self.retry.max_attempts {
                return Err(E::from(NetError::RetriesExhausted {
                    what: what.to_string(),
                    target,
                    attempts: attempt,
                    reason,
                }));
            }
            let wait = match after {
                Some(w) if w > self.retry.max_wait => {
                    return Err(E::from(NetError::WaitTooLong {
                        what: what.to_string(),
                        target,
                        wait: w,
                        max: self.retry.max_wait,
                    }));
                }
                Some(w) => w,
                None => self.retry.backoff(attempt),
            };
            tracing::debug!(what, target = %target, attempt, ?wait, %reason, "retrying");
            tokio::time::sleep(wait).await;
        }
    }
}

/// scheme://host[:port]/path — never the query string, which may carry cursors or filters.
pub fn redacted_target(url: &url::Url) -> String {
    let mut s = format!("{}://{}", url.scheme(), url.host_str().unwrap_or(""));
    if let Some(port) = url.port() {
        s.push_str(&format!(":{port}"));
    }
    s.push_str(url.path());
    s
}

fn describe(e: &reqwest::Error) -> String {
    // reqwest's Display includes the full URL; build our own text without it.
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else if e.is_body() || e.is_decode() {
        "response body was cut off"
    } else if e.is_request() {
        "request failed"
    } else {
        "transport error"
    };
    let mut source = std::error::Error::source(e);
    let mut detail = String::new();
    while let Some(s) = source {
        detail = s.to_string();
        source = s.source();
    }
    if detail.is_empty() {
        kind.to_string()
    } else {
        format!("{kind} ({detail})")
    }
}
