//! The REST and Tooling query client: paging, session renewal, limits, retries.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use idgap_net::{Attempt, Http, HttpResponse, Method, NetError, StatusCode, parse_retry_after};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::auth::{Authenticator, Session};
use crate::error::SyncError;
use crate::wire::{looks_like_html, parse_error_body, parse_limit_info};

/// One page of a query result.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Page<T> {
    pub total_size: u64,
    pub done: bool,
    #[serde(default)]
    pub next_records_url: Option<String>,
    pub records: Vec<T>,
}

/// Every record of a query, and the server's total.
#[derive(Debug)]
pub(crate) struct QueryResult<T> {
    pub total_size: u64,
    pub records: Vec<T>,
}

/// API-call accounting for one sync: calls made and the org's usage as last reported.
#[derive(Debug, Default)]
pub(crate) struct Budget {
    pub calls: AtomicU64,
    pub used: AtomicU64,
    pub limit: AtomicU64,
}

impl Budget {
    fn record(&self, resp: &HttpResponse) {
        if let Some((used, limit)) = resp.header("sforce-limit-info").and_then(parse_limit_info) {
            self.calls.fetch_add(1, Ordering::Relaxed);
            // Concurrent responses arrive out of order; the highest figure is the latest.
            self.used.fetch_max(used, Ordering::Relaxed);
            self.limit.store(limit, Ordering::Relaxed);
        }
    }

    fn exhausted(&self, share: f64) -> Option<SyncError> {
        let used = self.used.load(Ordering::Relaxed);
        let limit = self.limit.load(Ordering::Relaxed);
        (limit > 0 && used as f64 >= share * limit as f64)
            .then(|| SyncError::api_budget(used, limit, share))
    }

    pub fn snapshot(&self) -> (u64, u64, u64) {
        (
            self.calls.load(Ordering::Relaxed),
            self.used.load(Ordering::Relaxed),
            self.limit.load(Ordering::Relaxed),
        )
    }
}

/// How one attempt ended, before session renewal is considered.
pub(crate) enum CallError {
    SessionInvalid,
    Sync(SyncError),
}

impl From<NetError> for CallError {
    fn from(e: NetError) -> Self {
        CallError::Sync(SyncError::Net(e))
    }
}

impl From<SyncError> for CallError {
    fn from(e: SyncError) -> Self {
        CallError::Sync(e)
    }
}

pub(crate) struct Rest {
    pub http: Http,
    pub auth: Arc<Authenticator>,
    pub version: String,
    pub batch_size: u32,
    pub share: f64,
    pub budget: Budget,
    /// The body ceiling for Metadata API answers, which can be far larger than a query page.
    pub metadata_body_limit: usize,
}

/// What is being read, for errors and logs.
#[derive(Clone, Copy)]
pub(crate) struct Target<'a> {
    pub object: &'a str,
    pub tooling: bool,
}

impl Rest {
    pub fn check_budget(&self) -> Result<(), SyncError> {
        self.budget.exhausted(self.share).map_or(Ok(()), Err)
    }

    /// Runs `call` with the current session; on `INVALID_SESSION_ID` signs in again once
    /// and repeats the same request (so paging resumes at the same `nextRecordsUrl`).
    pub async fn with_session<T, F, Fut>(&self, what: &str, mut call: F) -> Result<T, SyncError>
    where
        F: FnMut(Arc<Session>) -> Fut,
        Fut: std::future::Future<Output = Result<T, CallError>>,
    {
        let mut session = self.auth.session().await?;
        let mut renewed = false;
        loop {
            self.check_budget()?;
            match call(session.clone()).await {
                Ok(v) => return Ok(v),
                Err(CallError::Sync(e)) => return Err(e),
                Err(CallError::SessionInvalid) if !renewed => {
                    tracing::debug!(what, "session ended; signing in again");
                    session = self.auth.renew(session.generation).await?;
                    renewed = true;
                }
                Err(CallError::SessionInvalid) => {
                    return Err(SyncError::Auth {
                        method: "session",
                        error: "INVALID_SESSION_ID".into(),
                        description: "a freshly issued session was refused".into(),
                        refusal: crate::error::Refusal::Other,
                        action: format!(
                            "{what}: the integration user may be blocked from the API, locked to another IP range, or the instance URL is wrong; check the user's profile and the org's session settings."
                        ),
                    });
                }
            }
        }
    }

    fn query_path(&self, soql: &str, tooling: bool) -> String {
        let q: String = url::form_urlencoded::byte_serialize(soql.as_bytes()).collect();
        let tooling = if tooling { "tooling/" } else { "" };
        format!("/services/data/{}/{tooling}query?q={q}", self.version)
    }

    /// Every page of `soql`, in order. A page is accepted whole or not at all.
    pub async fn query<T: DeserializeOwned>(
        &self,
        target: Target<'_>,
        soql: &str,
    ) -> Result<QueryResult<T>, SyncError> {
        let mut path = self.query_path(soql, target.tooling);
        let mut records = Vec::new();
        loop {
            let page: Page<T> = self.get_page(target, &path).await?;
            records.extend(page.records);
            match (page.done, page.next_records_url) {
                (false, Some(next)) => {
                    if !next.starts_with("/services/data/") {
                        return Err(SyncError::Protocol {
                            what: format!("Salesforce {} query", target.object),
                            detail: "nextRecordsUrl is not a /services/data/ path".into(),
                        });
                    }
                    path = next;
                }
                (false, None) => {
                    return Err(SyncError::Protocol {
                        what: format!("Salesforce {} query", target.object),
                        detail: "a page said done=false without a nextRecordsUrl".into(),
                    });
                }
                (true, _) => {
                    return Ok(QueryResult {
                        total_size: page.total_size,
                        records,
                    });
                }
            }
        }
    }

    async fn get_page<T: DeserializeOwned>(
        &self,
        target: Target<'_>,
        path: &str,
    ) -> Result<Page<T>, SyncError> {
        let what = format!(
            "Salesforce {}query {}",
            if target.tooling { "Tooling " } else { "" },
            target.object
        );
        self.with_session(&what, |session| {
            let url = format!("{}{}", session.instance_url, path);
            let what = what.clone();
            async move {
                self.get_json::<Page<T>>(&what, target.object, &url, &session)
                    .await
            }
        })
        .await
    }

    /// One GET with bounded retries; `object` names the error's subject.
    async fn get_json<T: DeserializeOwned>(
        &self,
        what: &str,
        object: &str,
        url: &str,
        session: &Session,
    ) -> Result<T, CallError> {
        let mut unreadable: Option<String> = None;
        let batch = format!("batchSize={}", self.batch_size);
        let result = self
            .http
            .request(
                what,
                Method::GET,
                url,
                |rb| {
                    rb.bearer_auth(session.access_token.expose())
                        .header("accept", "application/json")
                        .header("sforce-query-options", batch.as_str())
                },
                |resp| {
                    self.budget.record(&resp);
                    let outcome = self.classify::<T>(object, url, resp);
                    if let Attempt::Retry { reason, .. } = &outcome {
                        unreadable = reason.starts_with("unreadable").then(|| reason.clone());
                    }
                    outcome
                },
            )
            .await;
        match result {
            Err(CallError::Sync(SyncError::Net(NetError::RetriesExhausted {
                attempts, ..
            }))) if unreadable.is_some() => Err(CallError::Sync(SyncError::Protocol {
                what: what.to_string(),
                detail: format!(
                    "{} (after {attempts} attempts)",
                    unreadable.unwrap_or_default()
                ),
            })),
            Ok(v) => {
                self.check_budget()?;
                Ok(v)
            }
            Err(e) => Err(e),
        }
    }

    fn classify<T: DeserializeOwned>(
        &self,
        object: &str,
        url: &str,
        resp: HttpResponse,
    ) -> Attempt<T, CallError> {
        let status = resp.status;
        if status == StatusCode::OK {
            return match serde_json::from_slice::<T>(&resp.body) {
                Ok(v) => Attempt::Done(v),
                Err(e) if e.is_data() => Attempt::Fail(CallError::Sync(SyncError::Protocol {
                    what: format!("Salesforce {object} query"),
                    detail: format!("a page did not have the expected shape: {e}"),
                })),
                Err(_) => Attempt::Retry {
                    after: None,
                    reason: if looks_like_html(&resp.body) {
                        "unreadable response: HTTP 200 with an HTML page instead of JSON".into()
                    } else {
                        "unreadable response: the JSON body was cut off or invalid".into()
                    },
                },
            };
        }
        let error = parse_error_body(&resp.body);
        let code = error.as_ref().map(|(c, _)| c.as_str()).unwrap_or("");
        if status == StatusCode::UNAUTHORIZED || code == "INVALID_SESSION_ID" {
            return Attempt::Fail(CallError::SessionInvalid);
        }
        if code == "REQUEST_LIMIT_EXCEEDED" {
            let message = error.as_ref().map(|(_, m)| m.as_str()).unwrap_or("");
            if message.contains("TotalRequests Limit exceeded") {
                let (_, used, limit) = self.budget.snapshot();
                return Attempt::Fail(CallError::Sync(SyncError::RequestLimitExceeded {
                    used,
                    limit,
                }));
            }
            // The concurrent long-running request limit: transient.
            return Attempt::Retry {
                after: parse_retry_after(&resp.headers),
                reason: format!(
                    "HTTP {} REQUEST_LIMIT_EXCEEDED ({message})",
                    status.as_u16()
                ),
            };
        }
        if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
            return Attempt::Retry {
                after: parse_retry_after(&resp.headers),
                reason: format!("HTTP {}", status.as_u16()),
            };
        }
        match error {
            Some((code, message)) => Attempt::Fail(CallError::Sync(SyncError::Query {
                object: object.to_string(),
                code,
                message: message.lines().last().unwrap_or("").trim().to_string(),
            })),
            None => Attempt::Fail(CallError::Sync(SyncError::NotSalesforce {
                target: idgap_net::redacted_target(&url::Url::parse(url).expect("checked by Http")),
                detail: format!(
                    "HTTP {} {}",
                    status.as_u16(),
                    if looks_like_html(&resp.body) {
                        "with an HTML page"
                    } else {
                        "without a Salesforce error body"
                    }
                ),
            })),
        }
    }
}
