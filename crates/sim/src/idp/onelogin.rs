//! Simulated OneLogin (API v2): `POST /auth/oauth2/v2/token` (client credentials in any of
//! the three documented styles), `GET /api/2/users` (bare JSON array, `limit` capped at 50,
//! cursor paging with `After-Cursor`/`Before-Cursor`, `Total-Count`, `Total-Pages`,
//! `Current-Page`, `Page-Items`) and `GET /auth/rate_limit` (`reference/idp-apis.md` §5).
//!
//! Every resource response carries `X-RateLimit-Limit/-Remaining/-Reset`, where Reset is the
//! number of SECONDS REMAINING in the window (OneLogin's convention, not an epoch).
//! Deprovisioned people are absent; pending people have `status: 7` (password pending).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{RawQuery, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use crate::faults::{self, Fault, Faults};
use crate::idp::{Directory, Person, PersonState};
use crate::server::{Running, serve};

const TOKEN_PATH: &str = "/auth/oauth2/v2/token";
const USERS_PATH: &str = "/api/2/users";
const RATE_LIMIT_PATH: &str = "/auth/rate_limit";

#[derive(Debug, Clone)]
pub struct OneLoginSimOptions {
    pub client_id: String,
    pub client_secret: String,
    /// Served page size is `min(limit, page_cap)`; the list-users page says "up to 50".
    pub page_cap: usize,
    /// `expires_in` of issued tokens (OneLogin: 36000 s).
    pub token_lifetime: Duration,
    /// Calls allowed per rate-limit window (OneLogin: 5,000 per hour).
    pub rate_limit: u64,
    pub rate_window: Duration,
}

impl OneLoginSimOptions {
    pub fn new(client_id: &str, client_secret: &str) -> Self {
        OneLoginSimOptions {
            client_id: client_id.to_string(),
            client_secret: client_secret.to_string(),
            page_cap: 50,
            token_lifetime: Duration::from_secs(36_000),
            rate_limit: 5_000,
            rate_window: Duration::from_secs(3_600),
        }
    }
}

/// Requests served, by endpoint (counted before faults are applied).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OneLoginRequestCounts {
    pub token: u64,
    pub users: u64,
}

struct Shared {
    options: Mutex<OneLoginSimOptions>,
    directory: Mutex<Directory>,
    scheduled: Mutex<Option<(u64, Directory)>>,
    /// The one live token (the same credentials get the same token until it expires).
    token: Mutex<Option<(String, Instant)>>,
    window: Mutex<(Instant, u64)>,
    faults: Faults,
    token_requests: AtomicU64,
    user_requests: AtomicU64,
    issued: AtomicU64,
}

pub struct OneLoginSim {
    shared: Arc<Shared>,
    running: Running,
}

impl OneLoginSim {
    pub async fn start(
        directory: Directory,
        options: OneLoginSimOptions,
    ) -> std::io::Result<OneLoginSim> {
        let faults = Faults::default();
        let shared = Arc::new(Shared {
            options: Mutex::new(options),
            directory: Mutex::new(directory),
            scheduled: Mutex::new(None),
            token: Mutex::new(None),
            window: Mutex::new((Instant::now(), 0)),
            faults: faults.clone(),
            token_requests: AtomicU64::new(0),
            user_requests: AtomicU64::new(0),
            issued: AtomicU64::new(0),
        });
        let router = Router::new()
            .route(TOKEN_PATH, post(token))
            .route(USERS_PATH, get(list_users))
            .route(RATE_LIMIT_PATH, get(rate_limit))
            .with_state(shared.clone())
            .layer(axum::middleware::from_fn_with_state(faults, faults::layer))
            .layer(axum::middleware::from_fn_with_state(shared.clone(), count));
        let running = serve(router, 0).await?;
        Ok(OneLoginSim { shared, running })
    }

    /// `http://127.0.0.1:PORT`, standing in for `https://{subdomain}.onelogin.com`.
    pub fn base_url(&self) -> String {
        self.running.base_url()
    }

    pub fn faults(&self) -> &Faults {
        &self.shared.faults
    }

    /// Every request served so far, in arrival order.
    pub fn request_log(&self) -> &crate::record::RequestLog {
        self.running.request_log()
    }

    pub fn requests(&self) -> OneLoginRequestCounts {
        OneLoginRequestCounts {
            token: self.shared.token_requests.load(Ordering::Relaxed),
            users: self.shared.user_requests.load(Ordering::Relaxed),
        }
    }

    /// Distinct access tokens issued so far.
    pub fn tokens_issued(&self) -> u64 {
        self.shared.issued.load(Ordering::Relaxed)
    }

    pub fn set_directory(&self, directory: Directory) {
        *self.shared.directory.lock().unwrap() = directory;
    }

    /// Replaces the directory once `after_requests` more list requests have been served.
    pub fn change_directory_after(&self, after_requests: u64, directory: Directory) {
        let at = self.shared.user_requests.load(Ordering::Relaxed) + after_requests;
        *self.shared.scheduled.lock().unwrap() = Some((at, directory));
    }

    pub fn update_options(&self, update: impl FnOnce(&mut OneLoginSimOptions)) {
        update(&mut self.shared.options.lock().unwrap());
    }

    /// Starts a fresh rate-limit window with every call already spent: the next resource
    /// call gets a 429 until `rate_window` has passed.
    pub fn exhaust_rate_window(&self) {
        let limit = self.shared.options.lock().unwrap().rate_limit;
        *self.shared.window.lock().unwrap() = (Instant::now(), limit);
    }
}

/// A 429 whose wait is given only as `X-RateLimit-Reset: {seconds_remaining}` (no
/// `Retry-After`), in the v2 error shape (the real 429 body is UNCONFIRMED).
pub fn rate_limited_fault(seconds_remaining: u64) -> Fault {
    Fault::Status {
        status: 429,
        retry_after: None,
        body: Some(v2_error_body(429, "Too Many Requests", "TooManyRequestsError").to_string()),
        headers: vec![
            ("X-RateLimit-Limit".into(), "5000".into()),
            ("X-RateLimit-Remaining".into(), "0".into()),
            ("X-RateLimit-Reset".into(), seconds_remaining.to_string()),
        ],
    }
}

/// A 5xx in the v2 error shape.
pub fn server_error_fault(status: u16) -> Fault {
    Fault::Status {
        status,
        retry_after: None,
        body: Some(
            v2_error_body(status, "Internal Server Error", "InternalServerError").to_string(),
        ),
        headers: Vec::new(),
    }
}

/// The numeric `id` the simulator gives a person.
pub fn user_id(person: &Person) -> u64 {
    56_780_000 + person.index
}

async fn count(State(shared): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    if req.uri().path() == TOKEN_PATH {
        shared.token_requests.fetch_add(1, Ordering::Relaxed);
    } else if req.uri().path() == USERS_PATH {
        let served = shared.user_requests.fetch_add(1, Ordering::Relaxed);
        let mut scheduled = shared.scheduled.lock().unwrap();
        if scheduled.as_ref().is_some_and(|(at, _)| served >= *at) {
            let (_, directory) = scheduled.take().unwrap();
            *shared.directory.lock().unwrap() = directory;
        }
    }
    next.run(req).await
}

fn v2_error_body(code: u16, message: &str, name: &str) -> Value {
    json!({"message": message, "statusCode": code, "name": name})
}

fn v2_error(code: u16, message: &str, name: &str) -> Response {
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_REQUEST);
    (status, Json(v2_error_body(code, message, name))).into_response()
}

/// The token endpoint's error envelope (v1 style, as on the Generate Tokens page).
fn status_error(code: u16, kind: &str, message: &str) -> Response {
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_REQUEST);
    let body = json!({"status": {"error": true, "code": code, "type": kind, "message": message}});
    (status, Json(body)).into_response()
}

/// Reads client credentials from any of the three documented request styles.
fn credentials(headers: &HeaderMap, body: &str) -> (Option<(String, String)>, Option<String>) {
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let is_json = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.starts_with("application/json"));
    let grant = if is_json {
        serde_json::from_str::<Value>(body).ok().and_then(|v| {
            v.get("grant_type")
                .and_then(Value::as_str)
                .map(str::to_string)
        })
    } else {
        url::form_urlencoded::parse(body.as_bytes())
            .find(|(k, _)| k == "grant_type")
            .map(|(_, v)| v.into_owned())
    };
    if let Some(encoded) = auth
        .strip_prefix("Basic ")
        .or_else(|| auth.strip_prefix("basic "))
    {
        let decoded = STANDARD
            .decode(encoded.trim())
            .ok()
            .and_then(|b| String::from_utf8(b).ok());
        let pair = decoded.and_then(|d| {
            d.split_once(':')
                .map(|(i, s)| (i.to_string(), s.to_string()))
        });
        return (pair, grant);
    }
    if auth.starts_with("client_id:") {
        let mut id = None;
        let mut secret = None;
        for part in auth.split(',') {
            let part = part.trim();
            if let Some(v) = part.strip_prefix("client_id:") {
                id = Some(v.trim().to_string());
            } else if let Some(v) = part.strip_prefix("client_secret:") {
                secret = Some(v.trim().to_string());
            }
        }
        return (id.zip(secret), grant);
    }
    let form: HashMap<String, String> = url::form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect();
    let pair = form
        .get("client_id")
        .cloned()
        .zip(form.get("client_secret").cloned());
    (pair, grant)
}

async fn token(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: String) -> Response {
    let options = shared.options.lock().unwrap().clone();
    let (pair, grant) = credentials(&headers, &body);
    let revoked = matches!(
        shared.faults.take_protocol(TOKEN_PATH),
        Some(Fault::RevokeCredential)
    );
    let valid =
        pair.is_some_and(|(id, secret)| id == options.client_id && secret == options.client_secret);
    if !valid || revoked {
        return status_error(401, "Unauthorized", "Authentication Failure");
    }
    if grant.as_deref() != Some("client_credentials") {
        return status_error(400, "bad request", "grant_type is incorrect/absent");
    }
    let mut live = shared.token.lock().unwrap();
    let now = Instant::now();
    let (access, expires_at) = match live.as_ref() {
        Some((t, exp)) if *exp > now => (t.clone(), *exp),
        _ => {
            let n = shared.issued.fetch_add(1, Ordering::Relaxed);
            let t = format!("ol{n}{:032x}", rand::random::<u128>());
            let exp = now + options.token_lifetime;
            *live = Some((t.clone(), exp));
            (t, exp)
        }
    };
    Json(json!({
        "access_token": access,
        "created_at": jiff::Timestamp::now().to_string(),
        "expires_in": expires_at.saturating_duration_since(now).as_secs(),
        "refresh_token": format!("{:032x}", rand::random::<u128>()),
        "token_type": "bearer",
        "account_id": 123456,
    }))
    .into_response()
}

/// Checks `Authorization: bearer <token>` (any case of the scheme).
fn authorised(shared: &Shared, headers: &HeaderMap) -> bool {
    let presented = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim().to_string());
    let live = shared.token.lock().unwrap();
    matches!((presented, live.as_ref()), (Some(p), Some((t, exp))) if p == *t && *exp > Instant::now())
}

/// Counts one call against the window; returns (limit, remaining, seconds until reset,
/// whether this call is over the limit).
fn spend(shared: &Shared) -> (u64, u64, u64, bool) {
    let options = shared.options.lock().unwrap().clone();
    let mut window = shared.window.lock().unwrap();
    let now = Instant::now();
    if now.duration_since(window.0) >= options.rate_window {
        *window = (now, 0);
    }
    window.1 += 1;
    // Whole seconds, rounded up: a client that waits this long finds the window reset.
    let reset = options
        .rate_window
        .saturating_sub(now.duration_since(window.0))
        .as_millis()
        .div_ceil(1000) as u64;
    let over = window.1 > options.rate_limit;
    (
        options.rate_limit,
        options.rate_limit.saturating_sub(window.1),
        reset,
        over,
    )
}

fn put_header(resp: &mut Response, name: &'static str, value: impl ToString) {
    if let Ok(v) = HeaderValue::from_str(&value.to_string()) {
        resp.headers_mut().insert(name, v);
    }
}

async fn list_users(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    if let Some(Fault::ExpireToken) = shared.faults.take_protocol(USERS_PATH) {
        *shared.token.lock().unwrap() = None;
    }
    if !authorised(&shared, &headers) {
        return v2_error(401, "Unauthorized", "UnauthorizedError");
    }
    let (limit_total, remaining, reset, over) = spend(&shared);
    if over {
        let mut resp = v2_error(429, "Too Many Requests", "TooManyRequestsError");
        put_header(&mut resp, "X-RateLimit-Limit", limit_total);
        put_header(&mut resp, "X-RateLimit-Remaining", 0);
        put_header(&mut resp, "X-RateLimit-Reset", reset);
        return resp;
    }
    let params: HashMap<String, String> =
        url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
            .into_owned()
            .collect();
    let options = shared.options.lock().unwrap().clone();
    let limit = match params.get("limit").map(|l| l.parse::<usize>()) {
        None => options.page_cap,
        Some(Ok(n)) if n > 0 => n.min(options.page_cap),
        Some(_) => return v2_error(400, "limit must be a positive integer", "BadRequestError"),
    };
    let page = match (params.get("cursor"), params.get("page")) {
        (Some(c), _) => match decode_cursor(c) {
            Some((page, cursor_limit)) => {
                if cursor_limit != limit {
                    return v2_error(400, "cursor does not match limit", "BadRequestError");
                }
                page
            }
            None => return v2_error(400, "Invalid cursor", "BadRequestError"),
        },
        (None, Some(p)) => match p.parse::<usize>() {
            Ok(p) if p >= 1 => p,
            _ => return v2_error(400, "page must be a positive integer", "BadRequestError"),
        },
        (None, None) => 1,
    };
    let directory = shared.directory.lock().unwrap();
    let listed: Vec<&Person> = directory
        .people
        .iter()
        .filter(|p| p.state != PersonState::Deprovisioned)
        .collect();
    let total = listed.len();
    let total_pages = total.div_ceil(limit).max(1);
    let items: Vec<Value> = listed
        .iter()
        .skip((page - 1) * limit)
        .take(limit)
        .map(|p| render_user(p))
        .collect();
    let page_items = items.len();
    let mut resp = Json(Value::Array(items)).into_response();
    put_header(&mut resp, "Total-Count", total);
    put_header(&mut resp, "Total-Pages", total_pages);
    put_header(&mut resp, "Current-Page", page);
    put_header(&mut resp, "Page-Items", page_items);
    if page < total_pages {
        put_header(&mut resp, "After-Cursor", encode_cursor(page + 1, limit));
    }
    if page > 1 {
        put_header(&mut resp, "Before-Cursor", encode_cursor(page - 1, limit));
    }
    put_header(&mut resp, "X-RateLimit-Limit", limit_total);
    put_header(&mut resp, "X-RateLimit-Remaining", remaining);
    put_header(&mut resp, "X-RateLimit-Reset", reset);
    resp
}

async fn rate_limit(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    if !authorised(&shared, &headers) {
        return v2_error(401, "Unauthorized", "UnauthorizedError");
    }
    let (limit, remaining, reset, _) = spend(&shared);
    Json(json!({
        "status": {"error": false, "code": 200, "type": "success", "message": "Success"},
        "data": {"X-RateLimit-Limit": limit, "X-RateLimit-Remaining": remaining, "X-RateLimit-Reset": reset},
    }))
    .into_response()
}

/// OneLogin cursors look like URL-safe base64 of `limit=…&page=…`.
fn encode_cursor(page: usize, limit: usize) -> String {
    STANDARD.encode(format!("limit={limit}&page={page}"))
}

fn decode_cursor(cursor: &str) -> Option<(usize, usize)> {
    let raw = String::from_utf8(STANDARD.decode(cursor).ok()?).ok()?;
    let fields: HashMap<String, String> = url::form_urlencoded::parse(raw.as_bytes())
        .into_owned()
        .collect();
    let page = fields.get("page")?.parse().ok().filter(|p| *p >= 1)?;
    let limit = fields.get("limit")?.parse().ok()?;
    Some((page, limit))
}

fn render_user(p: &Person) -> Value {
    let status = match p.state {
        PersonState::Active | PersonState::Deprovisioned => 1,
        PersonState::Suspended => 2,
        PersonState::Locked => 3,
        PersonState::Pending => 7,
    };
    json!({
        "id": user_id(p),
        "username": p.login,
        "email": p.primary_email,
        "firstname": p.given_name,
        "lastname": p.family_name,
        "status": status,
        "state": 1,
        "userprincipalname": p.aliases.first(),
        "samaccountname": null,
        "external_id": null,
        "directory_id": null,
        "locked_until": if status == 3 { json!("2026-11-30T23:00:00.000Z") } else { Value::Null },
        "invalid_login_attempts": 0,
        "created_at": "2024-01-15T09:30:00.000Z",
        "updated_at": "2026-11-01T09:30:00.000Z",
        "activated_at": if status == 7 { Value::Null } else { json!("2024-01-16T09:30:00.000Z") },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip() {
        assert_eq!(decode_cursor(&encode_cursor(3, 50)), Some((3, 50)));
        assert_eq!(decode_cursor("%%%"), None);
    }
}
