//! Simulated Google Workspace: the OAuth token endpoint for service-account JWT assertions
//! (domain-wide delegation) and the Admin SDK Directory API user list.
//!
//! Wire behaviour follows `reference/idp-apis.md` §3: `POST /token` takes
//! `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=…`; the assertion's `iss`,
//! `aud`, `scope`, `iat`/`exp` (≤ 1 h apart), `sub` and, given the public key, its RS256
//! signature are checked; an unknown subject or a scope the service account is not delegated
//! answers 401 `unauthorized_client`; a token for a subject who is not an admin is issued, and
//! the Directory API then answers 403 "Not Authorized to access this resource/api".
//! `GET /admin/directory/v1/users` pages with `maxResults` (1–500) and
//! `nextPageToken`/`pageToken`, hides deleted users unless `showDeleted=true` (which lists
//! only deleted ones), and honours the `fields` partial-response selector.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{RawQuery, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use crate::faults::{self, Fault, Faults};
use crate::idp::{Directory, Person, PersonState};
use crate::server::{Running, serve};

/// The read-only Directory scope idgap asks for.
pub const USER_READONLY_SCOPE: &str =
    "https://www.googleapis.com/auth/admin.directory.user.readonly";
/// The real token endpoint; accepted as `aud` besides the simulator's own `/token` URL.
pub const GOOGLE_TOKEN_URL: &str = "https://oauth2.googleapis.com/token";
const JWT_BEARER_GRANT: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
const USERS_PATH: &str = "/admin/directory/v1/users";

#[derive(Debug, Clone)]
pub struct GoogleSimOptions {
    /// The Workspace admin whose `sub` gets a token that may read users.
    pub admin_subject: String,
    /// The service account (`iss` of the assertion).
    pub service_account_email: String,
    /// Whether the service account's client ID is authorised for domain-wide delegation.
    pub delegated: bool,
    /// The scopes the Admin console authorises for the service account.
    pub delegated_scopes: Vec<String>,
    /// Served `maxResults` is `min(requested, page_cap)`; 500 is the documented maximum.
    pub page_cap: usize,
    /// `expires_in` of issued access tokens.
    pub token_lifetime: Duration,
    /// `customerId` rendered on users; `customer` may be this or `my_customer`.
    pub customer_id: String,
    /// Logins rendered `archived: true` instead of their state (Google's archived users).
    pub archived_logins: HashSet<String>,
    /// The service account key's public half (PEM, SPKI or PKCS#1). When set, assertions
    /// must carry a valid RS256 signature by its private key, as at Google.
    pub public_key_pem: Option<String>,
}

impl GoogleSimOptions {
    pub fn new(admin_subject: &str, service_account_email: &str) -> Self {
        GoogleSimOptions {
            admin_subject: admin_subject.to_string(),
            service_account_email: service_account_email.to_string(),
            delegated: true,
            delegated_scopes: vec![USER_READONLY_SCOPE.to_string()],
            page_cap: 500,
            token_lifetime: Duration::from_secs(3599),
            customer_id: "C01simul8".to_string(),
            archived_logins: HashSet::new(),
            public_key_pem: None,
        }
    }
}

/// Requests served, by endpoint (counted before faults are applied).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GoogleRequestCounts {
    pub token: u64,
    pub users: u64,
}

struct IssuedToken {
    admin: bool,
    expires_at: Instant,
}

struct Shared {
    options: Mutex<GoogleSimOptions>,
    directory: Mutex<Directory>,
    /// A directory that replaces the current one after this many user-list requests.
    scheduled: Mutex<Option<(u64, Directory)>>,
    tokens: Mutex<HashMap<String, IssuedToken>>,
    faults: Faults,
    base_url: Mutex<String>,
    token_requests: AtomicU64,
    user_requests: AtomicU64,
    issued: AtomicU64,
}

pub struct GoogleSim {
    shared: Arc<Shared>,
    running: Running,
}

impl GoogleSim {
    pub async fn start(
        directory: Directory,
        options: GoogleSimOptions,
    ) -> std::io::Result<GoogleSim> {
        let faults = Faults::default();
        let shared = Arc::new(Shared {
            options: Mutex::new(options),
            directory: Mutex::new(directory),
            scheduled: Mutex::new(None),
            tokens: Mutex::new(HashMap::new()),
            faults: faults.clone(),
            base_url: Mutex::new(String::new()),
            token_requests: AtomicU64::new(0),
            user_requests: AtomicU64::new(0),
            issued: AtomicU64::new(0),
        });
        let router = Router::new()
            .route("/token", post(token))
            .route(USERS_PATH, get(list_users))
            .with_state(shared.clone())
            .layer(axum::middleware::from_fn_with_state(faults, faults::layer))
            .layer(axum::middleware::from_fn_with_state(shared.clone(), count));
        let running = serve(router, 0).await?;
        *shared.base_url.lock().unwrap() = running.base_url();
        Ok(GoogleSim { shared, running })
    }

    /// `http://127.0.0.1:PORT`; the Directory API lives under it and the token endpoint at
    /// [`GoogleSim::token_url`].
    pub fn base_url(&self) -> String {
        self.running.base_url()
    }

    pub fn token_url(&self) -> String {
        format!("{}/token", self.running.base_url())
    }

    pub fn faults(&self) -> &Faults {
        &self.shared.faults
    }

    /// Every request served so far, in arrival order.
    pub fn request_log(&self) -> &crate::record::RequestLog {
        self.running.request_log()
    }

    pub fn requests(&self) -> GoogleRequestCounts {
        GoogleRequestCounts {
            token: self.shared.token_requests.load(Ordering::Relaxed),
            users: self.shared.user_requests.load(Ordering::Relaxed),
        }
    }

    /// Access tokens issued so far.
    pub fn tokens_issued(&self) -> u64 {
        self.shared.issued.load(Ordering::Relaxed)
    }

    pub fn set_directory(&self, directory: Directory) {
        *self.shared.directory.lock().unwrap() = directory;
    }

    /// Replaces the directory once `after_requests` more user-list requests have been served
    /// (a directory that changes while a client is paging through it).
    pub fn change_directory_after(&self, after_requests: u64, directory: Directory) {
        let at = self.shared.user_requests.load(Ordering::Relaxed) + after_requests;
        *self.shared.scheduled.lock().unwrap() = Some((at, directory));
    }

    pub fn update_options(&self, update: impl FnOnce(&mut GoogleSimOptions)) {
        update(&mut self.shared.options.lock().unwrap());
    }
}

/// The public half (SPKI PEM) of a PKCS#8 private-key PEM, for
/// [`GoogleSimOptions::public_key_pem`] when a test holds only the private key.
pub fn public_key_pem_of(private_key_pem: &str) -> Option<String> {
    use rsa::pkcs8::{DecodePrivateKey, EncodePublicKey, LineEnding};
    rsa::RsaPrivateKey::from_pkcs8_pem(private_key_pem)
        .ok()?
        .to_public_key()
        .to_public_key_pem(LineEnding::LF)
        .ok()
}

/// A 403 `userRateLimitExceeded` / `quotaExceeded` or 429 `rateLimitExceeded` answer in
/// Google's error shape, to push as a [`crate::faults::FaultRule`].
pub fn quota_fault(reason: &str) -> Fault {
    let (status, message) = match reason {
        "rateLimitExceeded" => (429, "Rate Limit Exceeded"),
        "quotaExceeded" => (403, "Quota Exceeded"),
        _ => (403, "User Rate Limit Exceeded"),
    };
    Fault::Status {
        status,
        retry_after: None,
        body: Some(error_body(status, message, reason).to_string()),
        headers: Vec::new(),
    }
}

async fn count(State(shared): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    if req.uri().path() == "/token" {
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

/// Google's API error envelope.
fn error_body(code: u16, message: &str, reason: &str) -> Value {
    json!({"error": {"code": code, "message": message,
        "errors": [{"message": message, "domain": "global", "reason": reason}]}})
}

fn api_error(code: u16, message: &str, reason: &str) -> Response {
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_REQUEST);
    (status, Json(error_body(code, message, reason))).into_response()
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        Json(json!({"error": error, "error_description": description})),
    )
        .into_response()
}

const UNAUTHORIZED_CLIENT: &str = "Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes requested.";
const SHORT_LIVED: &str = "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.";
const BAD_SIGNATURE: &str = "Invalid JWT Signature.";

async fn token(State(shared): State<Arc<Shared>>, body: String) -> Response {
    let form: HashMap<String, String> = url::form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect();
    if form.get("grant_type").map(String::as_str) != Some(JWT_BEARER_GRANT) {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "Invalid grant_type: ",
        );
    }
    if let Some(Fault::RevokeCredential) = shared.faults.take_protocol("/token") {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", BAD_SIGNATURE);
    }
    let Some(assertion) = form.get("assertion").and_then(|a| decode_assertion(a)) else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "Invalid JWT: the assertion is not a JWT",
        );
    };
    let options = shared.options.lock().unwrap().clone();
    if let Some(pem) = &options.public_key_pem
        && !signature_valid(pem, &assertion)
    {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", BAD_SIGNATURE);
    }
    let claims = assertion.claims;
    let str_claim = |name: &str| claims.get(name).and_then(Value::as_str).map(str::to_string);
    if str_claim("iss").as_deref() != Some(options.service_account_email.as_str()) {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", BAD_SIGNATURE);
    }
    let own_url = format!("{}/token", shared.base_url.lock().unwrap());
    match str_claim("aud") {
        Some(aud) if aud == own_url || aud == GOOGLE_TOKEN_URL => {}
        _ => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_grant",
                "Invalid JWT: Failed audience check.",
            );
        }
    }
    let now = jiff::Timestamp::now().as_second();
    let iat = claims.get("iat").and_then(Value::as_i64);
    let exp = claims.get("exp").and_then(Value::as_i64);
    match (iat, exp) {
        (Some(iat), Some(exp))
            if exp > iat && exp - iat <= 3600 && exp > now && iat <= now + 300 => {}
        _ => return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", SHORT_LIVED),
    }
    let Some(scope) = str_claim("scope").filter(|s| !s.trim().is_empty()) else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            "Invalid OAuth scope or ID token audience provided.",
        );
    };
    let admin = match str_claim("sub") {
        // Without impersonation the service account acts as itself: a token is issued, and
        // the Directory API refuses it (it is not a Workspace admin).
        None => false,
        Some(sub) => {
            let known = sub.eq_ignore_ascii_case(&options.admin_subject)
                || shared.directory.lock().unwrap().people.iter().any(|p| {
                    p.state != PersonState::Deprovisioned
                        && p.primary_email.eq_ignore_ascii_case(&sub)
                });
            let scopes_delegated = scope
                .split_whitespace()
                .all(|s| options.delegated_scopes.iter().any(|d| d == s));
            if !known || !options.delegated || !scopes_delegated {
                return oauth_error(
                    StatusCode::UNAUTHORIZED,
                    "unauthorized_client",
                    UNAUTHORIZED_CLIENT,
                );
            }
            sub.eq_ignore_ascii_case(&options.admin_subject)
        }
    };
    let n = shared.issued.fetch_add(1, Ordering::Relaxed);
    let access_token = format!("ya29.sim-{n}-{:016x}", rand::random::<u64>());
    shared.tokens.lock().unwrap().insert(
        access_token.clone(),
        IssuedToken {
            admin,
            expires_at: Instant::now() + options.token_lifetime,
        },
    );
    Json(json!({
        "access_token": access_token,
        "expires_in": options.token_lifetime.as_secs(),
        "token_type": "Bearer",
    }))
    .into_response()
}

/// A compact JWS split into what signature checking needs.
struct Assertion {
    signing_input: String,
    signature: Vec<u8>,
    claims: Value,
}

/// Decodes an RS256 JWT; `None` when it is not one.
fn decode_assertion(assertion: &str) -> Option<Assertion> {
    let (signing_input, signature) = assertion.rsplit_once('.')?;
    let (header, claims) = signing_input.split_once('.')?;
    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).ok()?).ok()?;
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(claims).ok()?).ok()?;
    let signature = URL_SAFE_NO_PAD.decode(signature).ok()?;
    if header.get("alg")?.as_str()? != "RS256" || signature.len() < 128 {
        return None;
    }
    Some(Assertion {
        signing_input: signing_input.to_string(),
        signature,
        claims,
    })
}

/// RSASSA-PKCS1-v1_5 with SHA-256 over `header.claims`.
fn signature_valid(public_key_pem: &str, assertion: &Assertion) -> bool {
    use rsa::pkcs1::DecodeRsaPublicKey;
    use rsa::pkcs8::DecodePublicKey;
    use rsa::signature::Verifier;
    let key = rsa::RsaPublicKey::from_public_key_pem(public_key_pem)
        .or_else(|_| rsa::RsaPublicKey::from_pkcs1_pem(public_key_pem));
    let signature = rsa::pkcs1v15::Signature::try_from(assertion.signature.as_slice());
    let (Ok(key), Ok(signature)) = (key, signature) else {
        return false;
    };
    rsa::pkcs1v15::VerifyingKey::<sha2::Sha256>::new(key)
        .verify(assertion.signing_input.as_bytes(), &signature)
        .is_ok()
}

fn unauthenticated() -> Response {
    let message = "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.";
    let body = json!({"error": {"code": 401, "message": message,
        "errors": [{"message": "Invalid Credentials", "domain": "global", "reason": "authError",
                    "location": "Authorization", "locationType": "header"}],
        "status": "UNAUTHENTICATED"}});
    (StatusCode::UNAUTHORIZED, Json(body)).into_response()
}

async fn list_users(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_string);
    let Some(bearer) = bearer else {
        return unauthenticated();
    };
    if let Some(Fault::ExpireToken) = shared.faults.take_protocol(USERS_PATH) {
        shared.tokens.lock().unwrap().remove(&bearer);
        return unauthenticated();
    }
    let admin = {
        let tokens = shared.tokens.lock().unwrap();
        match tokens.get(&bearer) {
            Some(t) if t.expires_at > Instant::now() => t.admin,
            _ => return unauthenticated(),
        }
    };
    if !admin {
        return api_error(
            403,
            "Not Authorized to access this resource/api",
            "forbidden",
        );
    }
    let params: HashMap<String, String> =
        url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
            .into_owned()
            .collect();
    let options = shared.options.lock().unwrap().clone();
    let domain = params.get("domain").map(|d| d.to_ascii_lowercase());
    match (params.get("customer"), &domain) {
        (Some(c), _) if c == "my_customer" || *c == options.customer_id => {}
        (None, Some(_)) => {}
        _ => return api_error(400, "Bad Request", "badRequest"),
    }
    let max_results = match params.get("maxResults") {
        None => 100,
        Some(v) => match v.parse::<usize>() {
            Ok(n) if (1..=500).contains(&n) => n,
            _ => {
                let message =
                    format!("Invalid value '{v}'. Values must be within the range: [1, 500]");
                return api_error(400, &message, "invalid");
            }
        },
    };
    let page_size = max_results.min(options.page_cap.max(1));
    let offset = match params.get("pageToken") {
        None => 0,
        Some(t) => match decode_page_token(t) {
            Some(o) => o,
            None => return api_error(400, "Invalid Input: pageToken", "invalid"),
        },
    };
    let show_deleted = params.get("showDeleted").map(String::as_str) == Some("true");
    let directory = shared.directory.lock().unwrap();
    let visible: Vec<&Person> = directory
        .people
        .iter()
        .filter(|p| (p.state == PersonState::Deprovisioned) == show_deleted)
        .filter(|p| {
            domain.as_deref().is_none_or(|d| {
                p.primary_email
                    .to_ascii_lowercase()
                    .ends_with(&format!("@{d}"))
            })
        })
        .collect();
    let page: Vec<Value> = visible
        .iter()
        .skip(offset)
        .take(page_size)
        .map(|p| render_user(p, &options))
        .collect();
    let mut body = json!({"kind": "admin#directory#users", "etag": "\"sim-etag\""});
    // Like the real API, an empty result has no `users` member at all.
    if !page.is_empty() {
        body["users"] = Value::Array(page);
    }
    if offset + page_size < visible.len() {
        body["nextPageToken"] = json!(encode_page_token(offset + page_size));
    }
    if let Some(selector) = params.get("fields") {
        body = select_fields(&body, &parse_fields(selector));
    }
    Json(body).into_response()
}

fn encode_page_token(offset: usize) -> String {
    URL_SAFE_NO_PAD.encode(format!("sim-users-offset:{offset}"))
}

fn decode_page_token(token: &str) -> Option<usize> {
    let raw = String::from_utf8(URL_SAFE_NO_PAD.decode(token).ok()?).ok()?;
    raw.strip_prefix("sim-users-offset:")?.parse().ok()
}

fn render_user(p: &Person, options: &GoogleSimOptions) -> Value {
    let (local, domain) = p
        .primary_email
        .split_once('@')
        .unwrap_or((&p.primary_email, "example.com"));
    let stem = domain.split('.').next().unwrap_or(domain);
    let archived = options.archived_logins.contains(&p.login);
    let suspended = !archived && p.state == PersonState::Suspended;
    let mut emails = vec![json!({"address": p.primary_email, "primary": true})];
    emails.extend(p.aliases.iter().map(|a| json!({"address": a})));
    let mut user = json!({
        "kind": "admin#directory#user",
        "id": format!("1{:020}", p.index),
        "etag": format!("\"sim-{}\"", p.index),
        "primaryEmail": p.primary_email,
        "name": {"givenName": p.given_name, "familyName": p.family_name,
                 "fullName": format!("{} {}", p.given_name, p.family_name)},
        "isAdmin": p.primary_email.eq_ignore_ascii_case(&options.admin_subject),
        "isDelegatedAdmin": false,
        "suspended": suspended,
        "archived": archived,
        "nonEditableAliases": [format!("{local}@{stem}.test-google-a.com")],
        "emails": emails,
        "recoveryEmail": format!("{local}.personal@recovery.example"),
        "customerId": options.customer_id,
        "orgUnitPath": "/",
        "creationTime": "2024-01-15T09:30:00.000Z",
    });
    if !p.aliases.is_empty() {
        user["aliases"] = json!(p.aliases);
    }
    if suspended {
        user["suspensionReason"] = json!("ADMIN");
    }
    if p.state == PersonState::Deprovisioned {
        user["deletionTime"] = json!("2026-01-10T12:00:00.000Z");
    }
    user
}

/// One node of a `fields` selector: a name and, for `name(a,b)`, the sub-selection.
#[derive(Debug, PartialEq)]
struct FieldNode {
    name: String,
    children: Vec<FieldNode>,
}

/// Parses the partial-response syntax `a,b(c,d),e/f` (a `/` path selects one nested field).
fn parse_fields(selector: &str) -> Vec<FieldNode> {
    let mut items = Vec::new();
    let mut depth = 0usize;
    let mut start = 0usize;
    for (i, ch) in selector.char_indices() {
        match ch {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                items.push(&selector[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    items.push(&selector[start..]);
    items
        .into_iter()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|item| {
            if let Some((name, rest)) = item.split_once('(') {
                FieldNode {
                    name: name.trim().to_string(),
                    children: parse_fields(rest.strip_suffix(')').unwrap_or(rest)),
                }
            } else if let Some((name, rest)) = item.split_once('/') {
                FieldNode {
                    name: name.to_string(),
                    children: parse_fields(rest),
                }
            } else {
                FieldNode {
                    name: item.to_string(),
                    children: Vec::new(),
                }
            }
        })
        .collect()
}

fn select_fields(value: &Value, nodes: &[FieldNode]) -> Value {
    match value {
        Value::Array(items) => {
            Value::Array(items.iter().map(|v| select_fields(v, nodes)).collect())
        }
        Value::Object(map) => {
            let mut out = serde_json::Map::new();
            for node in nodes {
                if let Some(v) = map.get(&node.name) {
                    let picked = if node.children.is_empty() {
                        v.clone()
                    } else {
                        select_fields(v, &node.children)
                    };
                    out.insert(node.name.clone(), picked);
                }
            }
            Value::Object(out)
        }
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_selector_keeps_only_named_fields() {
        let body = json!({"kind": "k", "etag": "e", "nextPageToken": "t",
            "users": [{"id": "1", "primaryEmail": "a@x", "name": {"fullName": "A"}}]});
        let nodes = parse_fields("kind,nextPageToken,users(id,primaryEmail)");
        assert_eq!(
            select_fields(&body, &nodes),
            json!({"kind": "k", "nextPageToken": "t", "users": [{"id": "1", "primaryEmail": "a@x"}]})
        );
        let nodes = parse_fields("users/name/fullName");
        assert_eq!(
            select_fields(&body, &nodes),
            json!({"users": [{"name": {"fullName": "A"}}]})
        );
    }

    #[test]
    fn page_tokens_round_trip_and_reject_garbage() {
        assert_eq!(decode_page_token(&encode_page_token(1500)), Some(1500));
        assert_eq!(decode_page_token("not-a-token"), None);
    }
}
