//! Simulated JumpCloud: the v1 `GET /api/systemusers` list with `x-api-key` auth, the
//! multi-tenant `x-org-id` header, offset paging (`limit` default 10, at most 100, `skip`,
//! `sort`) and the `{totalCount, results}` envelope (`reference/idp-apis.md` §4).
//!
//! Deprovisioned people are absent (JumpCloud deletes users); pending people are `STAGED`;
//! locked people are `ACTIVATED` with `account_locked: true`. Error bodies use the spec's
//! `{code, message, status}` shape (the real wording is UNCONFIRMED).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::{RawQuery, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::faults::{self, Fault, Faults};
use crate::idp::{Directory, Person, PersonState};
use crate::server::{Running, serve};

const USERS_PATH: &str = "/api/systemusers";

#[derive(Debug, Clone)]
pub struct JumpCloudSimOptions {
    pub api_key: String,
    /// When set, the key behaves like a multi-tenant (MTP) administrator's: every request must
    /// carry `x-org-id` with this 24-hex-digit organisation id.
    pub required_org_id: Option<String>,
    /// The largest `limit` accepted; larger values answer 400 (the spec says "Limited to 100").
    pub max_limit: usize,
}

impl JumpCloudSimOptions {
    pub fn new(api_key: &str) -> Self {
        JumpCloudSimOptions {
            api_key: api_key.to_string(),
            required_org_id: None,
            max_limit: 100,
        }
    }
}

/// Requests served (counted before faults are applied).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JumpCloudRequestCounts {
    pub users: u64,
    /// List requests that did not ask for `sort=_id` (offset paging without a stable order).
    pub unsorted: u64,
}

struct Shared {
    options: Mutex<JumpCloudSimOptions>,
    directory: Mutex<Directory>,
    scheduled: Mutex<Option<(u64, Directory)>>,
    faults: Faults,
    user_requests: AtomicU64,
    unsorted: AtomicU64,
}

pub struct JumpCloudSim {
    shared: Arc<Shared>,
    running: Running,
}

impl JumpCloudSim {
    pub async fn start(
        directory: Directory,
        options: JumpCloudSimOptions,
    ) -> std::io::Result<JumpCloudSim> {
        let faults = Faults::default();
        let shared = Arc::new(Shared {
            options: Mutex::new(options),
            directory: Mutex::new(directory),
            scheduled: Mutex::new(None),
            faults: faults.clone(),
            user_requests: AtomicU64::new(0),
            unsorted: AtomicU64::new(0),
        });
        let router = Router::new()
            .route(USERS_PATH, get(list_users))
            .with_state(shared.clone())
            .layer(axum::middleware::from_fn_with_state(faults, faults::layer))
            .layer(axum::middleware::from_fn_with_state(shared.clone(), count));
        let running = serve(router, 0).await?;
        Ok(JumpCloudSim { shared, running })
    }

    /// `http://127.0.0.1:PORT` (the API lives under `/api`).
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

    pub fn requests(&self) -> JumpCloudRequestCounts {
        JumpCloudRequestCounts {
            users: self.shared.user_requests.load(Ordering::Relaxed),
            unsorted: self.shared.unsorted.load(Ordering::Relaxed),
        }
    }

    pub fn set_directory(&self, directory: Directory) {
        *self.shared.directory.lock().unwrap() = directory;
    }

    /// Replaces the directory once `after_requests` more list requests have been served.
    pub fn change_directory_after(&self, after_requests: u64, directory: Directory) {
        let at = self.shared.user_requests.load(Ordering::Relaxed) + after_requests;
        *self.shared.scheduled.lock().unwrap() = Some((at, directory));
    }

    pub fn update_options(&self, update: impl FnOnce(&mut JumpCloudSimOptions)) {
        update(&mut self.shared.options.lock().unwrap());
    }
}

/// A throttling (429) or unavailable (503) answer in JumpCloud's error shape.
pub fn status_fault(status: u16) -> Fault {
    Fault::Status {
        status,
        retry_after: None,
        body: Some(error_body(status).to_string()),
        headers: Vec::new(),
    }
}

/// The `_id` the simulator gives a person: 24 hex digits, like a MongoDB ObjectId.
pub fn user_id(person: &Person) -> String {
    format!("5f1e1c{:018x}", person.index)
}

async fn count(State(shared): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    if req.uri().path() == USERS_PATH {
        let served = shared.user_requests.fetch_add(1, Ordering::Relaxed);
        let mut scheduled = shared.scheduled.lock().unwrap();
        if scheduled.as_ref().is_some_and(|(at, _)| served >= *at) {
            let (_, directory) = scheduled.take().unwrap();
            *shared.directory.lock().unwrap() = directory;
        }
    }
    next.run(req).await
}

fn status_text(code: u16) -> &'static str {
    StatusCode::from_u16(code)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Error")
}

fn error_body(code: u16) -> Value {
    error_body_with(code, status_text(code))
}

fn error_body_with(code: u16, message: &str) -> Value {
    json!({"code": code, "message": message, "status": status_text(code)})
}

fn error(code: u16, message: &str) -> Response {
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_REQUEST);
    (status, Json(error_body_with(code, message))).into_response()
}

async fn list_users(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let options = shared.options.lock().unwrap().clone();
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    if header("x-api-key").as_deref() != Some(options.api_key.as_str())
        || matches!(
            shared.faults.take_protocol(USERS_PATH),
            Some(Fault::RevokeCredential)
        )
    {
        return error(401, "Unauthorized");
    }
    match (header("x-org-id"), &options.required_org_id) {
        (None, Some(_)) => {
            return error(
                401,
                "Multi-tenant administrators must provide the x-org-id header",
            );
        }
        (Some(org), _) if org.len() != 24 || !org.bytes().all(|b| b.is_ascii_hexdigit()) => {
            return error(400, "Malformed x-org-id header");
        }
        (Some(org), Some(required)) if !org.eq_ignore_ascii_case(required) => {
            return error(404, "Organization not found");
        }
        _ => {}
    }
    let pairs: Vec<(String, String)> =
        url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
            .into_owned()
            .collect();
    let param = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let limit = match param("limit").map(str::parse::<usize>) {
        None => 10,
        Some(Ok(n)) if n <= options.max_limit => n.max(1),
        Some(_) => {
            return error(
                400,
                &format!(
                    "limit must be an integer no greater than {}",
                    options.max_limit
                ),
            );
        }
    };
    let skip = match param("skip").map(str::parse::<usize>) {
        None => 0,
        Some(Ok(n)) => n,
        Some(Err(_)) => return error(400, "skip must be a non-negative integer"),
    };
    let directory = shared.directory.lock().unwrap();
    let mut people: Vec<&Person> = directory
        .people
        .iter()
        .filter(|p| p.state != PersonState::Deprovisioned)
        .collect();
    // `_id` is fixed-width hex of the index, so index order is `_id` order (the stable sort
    // is linear on an already ordered directory).
    match param("sort") {
        Some("_id") => people.sort_by_key(|p| p.index),
        Some("-_id") => people.sort_by_key(|p| std::cmp::Reverse(p.index)),
        _ => {
            // Without an explicit sort the natural order is not guaranteed stable; the
            // simulator keeps directory order but counts the request.
            shared.unsorted.fetch_add(1, Ordering::Relaxed);
        }
    }
    let filters: Vec<&str> = pairs
        .iter()
        .filter(|(k, _)| k == "filter")
        .map(|(_, v)| v.as_str())
        .collect();
    let (total, results): (usize, Vec<Value>) = if filters.is_empty() {
        let page = people
            .iter()
            .skip(skip)
            .take(limit)
            .map(|p| render_user(p))
            .collect();
        (people.len(), page)
    } else {
        let mut users: Vec<Value> = people.iter().map(|p| render_user(p)).collect();
        for filter in filters {
            let Some((field, value)) = filter.split_once(":$eq:") else {
                return error(400, &format!("Unsupported filter `{filter}`"));
            };
            users.retain(|u| match &u[field] {
                Value::String(s) => s == value,
                Value::Bool(b) => b.to_string() == value,
                _ => false,
            });
        }
        let total = users.len();
        (total, users.into_iter().skip(skip).take(limit).collect())
    };
    Json(json!({"totalCount": total, "results": results})).into_response()
}

fn render_user(p: &Person) -> Value {
    let local = p.login.split('@').next().unwrap_or(&p.login);
    let (state, activated, suspended, locked) = match p.state {
        PersonState::Active | PersonState::Deprovisioned => ("ACTIVATED", true, false, false),
        PersonState::Suspended => ("SUSPENDED", true, true, false),
        PersonState::Pending => ("STAGED", false, false, false),
        PersonState::Locked => ("ACTIVATED", true, false, true),
    };
    let mut user = json!({
        "_id": user_id(p),
        "username": local,
        "email": p.primary_email,
        "firstname": p.given_name,
        "lastname": p.family_name,
        "displayname": format!("{} {}", p.given_name, p.family_name),
        "activated": activated,
        "suspended": suspended,
        "state": state,
        "account_locked": locked,
        "password_expired": false,
        "externally_managed": false,
        "recoveryEmail": {"address": format!("{local}.personal@recovery.example"), "verified": true},
        "organization": "5f0000000000000000000001",
        "created": "2024-01-15T09:30:00.000Z",
    });
    if locked {
        user["account_locked_date"] = json!("2026-11-29T08:00:00.000Z");
    }
    if let Some(alias) = p.aliases.first() {
        user["alternateEmail"] = json!(alias);
    }
    user
}
