//! Fault injection shared by every simulator.
//!
//! A test pushes [`FaultRule`]s; each request whose path contains the rule's `path_contains`
//! consumes one. Generic faults (status bursts, slow or cut-off bodies) are applied by the
//! [`layer`] middleware; protocol faults (an access token expiring mid-paging, a revoked
//! refresh token) are taken by the simulator itself with [`Faults::take_protocol`].

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// Answer with this status, an optional `Retry-After` (seconds) and body, without
    /// touching the simulator's state. The body defaults to the protocol's throttling body
    /// when the simulator supplies one through [`Faults::with_status_body`].
    Status {
        status: u16,
        retry_after: Option<u64>,
        body: Option<String>,
        headers: Vec<(String, String)>,
    },
    /// Serve the real response, but cut its body in half (a valid HTTP response whose JSON
    /// is incomplete).
    TruncateBody,
    /// Serve `200` with a body that is not JSON (an HTML error page from a proxy).
    NotJson,
    /// Serve the real response after this delay.
    Delay(Duration),
    /// Protocol fault: the access token in use expires now.
    ExpireToken,
    /// Protocol fault: the refresh token (or client credential) is revoked.
    RevokeCredential,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FaultRule {
    pub path_contains: String,
    /// Let this many matching requests through first.
    pub skip: u32,
    /// Apply to this many matching requests after the skipped ones.
    pub times: u32,
    pub fault: Fault,
}

impl FaultRule {
    pub fn new(path_contains: impl Into<String>, fault: Fault) -> Self {
        FaultRule {
            path_contains: path_contains.into(),
            skip: 0,
            times: 1,
            fault,
        }
    }

    /// Delays every answer by `delay`, for as long as the simulator runs: the added latency
    /// of benchmarks and `idgap sim --latency-ms`.
    pub fn latency(delay: Duration) -> Self {
        FaultRule::new("/", Fault::Delay(delay)).times(u32::MAX)
    }

    pub fn skip(mut self, n: u32) -> Self {
        self.skip = n;
        self
    }

    pub fn times(mut self, n: u32) -> Self {
        self.times = n;
        self
    }
}

#[derive(Debug, Clone, Default)]
pub struct Faults {
    rules: Arc<Mutex<Vec<FaultRule>>>,
}

impl Faults {
    pub fn push(&self, rule: FaultRule) {
        self.rules.lock().unwrap().push(rule);
    }

    pub fn clear(&self) {
        self.rules.lock().unwrap().clear();
    }

    /// Consumes and returns the first fault that applies to `path`, if any.
    fn take(&self, path: &str, want: impl Fn(&Fault) -> bool) -> Option<Fault> {
        let mut rules = self.rules.lock().unwrap();
        let idx = rules
            .iter()
            .position(|r| path.contains(&r.path_contains) && want(&r.fault))?;
        let rule = &mut rules[idx];
        if rule.skip > 0 {
            rule.skip -= 1;
            return None;
        }
        let fault = rule.fault.clone();
        rule.times -= 1;
        if rule.times == 0 {
            rules.remove(idx);
        }
        Some(fault)
    }

    /// Takes a protocol fault (`ExpireToken`, `RevokeCredential`) for `path`.
    pub fn take_protocol(&self, path: &str) -> Option<Fault> {
        self.take(path, |f| {
            matches!(f, Fault::ExpireToken | Fault::RevokeCredential)
        })
    }

    fn take_generic(&self, path: &str) -> Option<Fault> {
        self.take(path, |f| {
            !matches!(f, Fault::ExpireToken | Fault::RevokeCredential)
        })
    }
}

/// Axum middleware applying the generic faults. Install with
/// `router.layer(axum::middleware::from_fn_with_state(faults.clone(), faults::layer))`.
pub async fn layer(State(faults): State<Faults>, req: Request, next: Next) -> Response {
    let path = match req.uri().query() {
        Some(q) => format!("{}?{}", req.uri().path(), q),
        None => req.uri().path().to_string(),
    };
    match faults.take_generic(&path) {
        None => next.run(req).await,
        Some(Fault::Status {
            status,
            retry_after,
            body,
            headers,
        }) => {
            let mut resp = (
                StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE),
                body.unwrap_or_default(),
            )
                .into_response();
            resp.headers_mut()
                .insert("content-type", HeaderValue::from_static("application/json"));
            if let Some(s) = retry_after {
                resp.headers_mut()
                    .insert("retry-after", HeaderValue::from(s));
            }
            for (k, v) in headers {
                if let (Ok(k), Ok(v)) = (
                    axum::http::HeaderName::from_bytes(k.as_bytes()),
                    HeaderValue::from_str(&v),
                ) {
                    resp.headers_mut().insert(k, v);
                }
            }
            resp
        }
        Some(Fault::Delay(d)) => {
            tokio::time::sleep(d).await;
            next.run(req).await
        }
        Some(Fault::TruncateBody) => {
            let resp = next.run(req).await;
            let (mut parts, body) = resp.into_parts();
            let bytes = axum::body::to_bytes(body, usize::MAX)
                .await
                .unwrap_or_default();
            let cut = bytes.slice(..bytes.len() / 2);
            parts.headers.remove("content-length");
            Response::from_parts(parts, Body::from(cut))
        }
        Some(Fault::NotJson) => {
            let mut resp = (
                StatusCode::OK,
                "<html><body><h1>Service temporarily unavailable</h1></body></html>",
            )
                .into_response();
            resp.headers_mut()
                .insert("content-type", HeaderValue::from_static("text/html"));
            resp
        }
        Some(Fault::ExpireToken | Fault::RevokeCredential) => {
            unreachable!("protocol faults are not generic")
        }
    }
}
