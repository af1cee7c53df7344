//! Simulated Okta org: the org authorization server's token endpoint (client credentials
//! with `private_key_jwt`, optional DPoP with the nonce challenge) and `GET /api/v1/users`.
//!
//! Wire behaviour follows `reference/idp-apis.md` §1: API tokens as `SSWS`, OAuth tokens as
//! `Bearer` or `DPoP` (with a proof whose `ath` matches); `limit` capped at `page_cap`
//! (200); `Link` paging emitted as two header lines (`self` and, while more remain, `next`
//! with an opaque `after`); DEPROVISIONED users left out unless `filter` or `search` is
//! given; `X-Rate-Limit-*` and `X-Okta-Request-Id` on every response; Okta error bodies.
//! The client assertion's claims are checked, its signature is not.

use std::collections::{HashMap, HashSet};
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
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use sha2::Digest;

use crate::faults::{self, Fault, Faults};
use crate::idp::{Directory, Person, PersonState};
use crate::server::{Running, serve};

pub const OKTA_USERS_READ: &str = "okta.users.read";
const CLIENT_ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
const USERS_PATH: &str = "/api/v1/users";
const TOKEN_PATH: &str = "/oauth2/v1/token";

#[derive(Debug, Clone)]
pub struct OktaSimOptions {
    /// The API token accepted as `SSWS`; `None` refuses every SSWS call.
    pub api_token: Option<String>,
    /// The service app's client ID (`iss`/`sub` of the assertion).
    pub client_id: String,
    /// The `kid` the assertion header must carry, when set.
    pub key_id: Option<String>,
    /// "Require DPoP header in token requests" on the service app.
    pub dpop_required: bool,
    /// Scopes granted to the service app.
    pub granted_scopes: Vec<String>,
    /// Whether the caller's admin role may read users (403 E0000006 otherwise).
    pub may_read_users: bool,
    /// Served `limit` is `min(requested, page_cap)`; 200 is Okta's maximum.
    pub page_cap: usize,
    pub token_lifetime: Duration,
    /// `X-Rate-Limit-Limit` per minute window.
    pub rate_limit: u64,
    /// Also demand a server nonce in resource-call proofs (401 `use_dpop_nonce`). Okta
    /// documents it as not currently required; a client must still cope if it becomes so.
    pub resource_nonce_required: bool,
}

impl OktaSimOptions {
    /// An org that accepts `api_token` as SSWS and `client_id` as a service app with DPoP on.
    pub fn new(api_token: &str, client_id: &str) -> Self {
        OktaSimOptions {
            api_token: Some(api_token.to_string()),
            client_id: client_id.to_string(),
            key_id: None,
            dpop_required: true,
            granted_scopes: vec![OKTA_USERS_READ.to_string()],
            may_read_users: true,
            page_cap: 200,
            token_lifetime: Duration::from_secs(3600),
            rate_limit: 1_000_000,
            resource_nonce_required: false,
        }
    }
}

/// Requests served, by endpoint (faulted ones included).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OktaRequestCounts {
    pub token: u64,
    pub users: u64,
    /// `users` calls that carried `filter` or `search`.
    pub users_filtered: u64,
}

struct IssuedToken {
    /// The DPoP key the token is bound to (its public JWK), if any.
    dpop_jwk: Option<Value>,
    expires_at: Instant,
}

struct Shared {
    options: Mutex<OktaSimOptions>,
    directory: Mutex<Arc<Directory>>,
    tokens: Mutex<HashMap<String, IssuedToken>>,
    nonces: Mutex<HashSet<String>>,
    /// Resource-server nonces, separate from the token endpoint's.
    resource_nonces: Mutex<HashSet<String>>,
    used_jtis: Mutex<HashSet<String>>,
    faults: Faults,
    base_url: Mutex<String>,
    started: Instant,
    window: Mutex<(u64, u64)>,
    token_requests: AtomicU64,
    user_requests: AtomicU64,
    filtered_requests: AtomicU64,
    counter: AtomicU64,
}

pub struct OktaSim {
    shared: Arc<Shared>,
    running: Running,
}

impl OktaSim {
    pub async fn start(directory: Directory, options: OktaSimOptions) -> std::io::Result<OktaSim> {
        let faults = Faults::default();
        let shared = Arc::new(Shared {
            options: Mutex::new(options),
            directory: Mutex::new(Arc::new(sorted(directory))),
            tokens: Mutex::new(HashMap::new()),
            nonces: Mutex::new(HashSet::new()),
            resource_nonces: Mutex::new(HashSet::new()),
            used_jtis: Mutex::new(HashSet::new()),
            faults: faults.clone(),
            base_url: Mutex::new(String::new()),
            started: Instant::now(),
            window: Mutex::new((0, 0)),
            token_requests: AtomicU64::new(0),
            user_requests: AtomicU64::new(0),
            filtered_requests: AtomicU64::new(0),
            counter: AtomicU64::new(0),
        });
        let router = Router::new()
            .route(TOKEN_PATH, post(token))
            .route(USERS_PATH, get(users))
            .with_state(shared.clone())
            .layer(axum::middleware::from_fn_with_state(faults, faults::layer))
            .layer(axum::middleware::from_fn_with_state(
                shared.clone(),
                okta_headers,
            ));
        let running = serve(router, 0).await?;
        *shared.base_url.lock().unwrap() = running.base_url();
        Ok(OktaSim { shared, running })
    }

    /// `http://127.0.0.1:PORT` — use as `OktaConfig::base_url`.
    pub fn base_url(&self) -> String {
        self.running.base_url()
    }

    /// Links in answers (next pages) use `base_url` instead of the listening address, as
    /// the vendor's links use its public host: for a simulator reached through a forwarder.
    pub fn advertise(&self, base_url: &str) {
        *self.shared.base_url.lock().unwrap() = base_url.to_string();
    }

    pub fn faults(&self) -> &Faults {
        &self.shared.faults
    }

    /// Every request served so far, in arrival order.
    pub fn request_log(&self) -> &crate::record::RequestLog {
        self.running.request_log()
    }

    pub fn requests(&self) -> OktaRequestCounts {
        OktaRequestCounts {
            token: self.shared.token_requests.load(Ordering::Relaxed),
            users: self.shared.user_requests.load(Ordering::Relaxed),
            users_filtered: self.shared.filtered_requests.load(Ordering::Relaxed),
        }
    }

    /// Replaces the directory (between syncs: people leave, get suspended, come back).
    pub fn set_directory(&self, directory: Directory) {
        *self.shared.directory.lock().unwrap() = Arc::new(sorted(directory));
    }

    pub fn update_options(&self, change: impl FnOnce(&mut OktaSimOptions)) {
        change(&mut self.shared.options.lock().unwrap());
    }

    /// Okta's id for a simulated person (20 characters, `00u` prefix).
    pub fn user_id(person: &Person) -> String {
        format!("00u{:017}", person.index)
    }

    /// The status Okta reports for a simulated person.
    pub fn status_of(person: &Person) -> &'static str {
        match person.state {
            PersonState::Active => "ACTIVE",
            PersonState::Suspended => "SUSPENDED",
            PersonState::Deprovisioned => "DEPROVISIONED",
            PersonState::Locked => "LOCKED_OUT",
            // Both "never activated" states occur; alternate so clients see each.
            PersonState::Pending if person.index.is_multiple_of(2) => "STAGED",
            PersonState::Pending => "PROVISIONED",
        }
    }

    /// A `429` with Okta's E0000047 body and `X-Rate-Limit-Reset` `reset_in` seconds from now.
    pub fn rate_limited(reset_in: Duration) -> Fault {
        let reset = jiff::Timestamp::now().as_second() + reset_in.as_secs() as i64;
        Fault::Status {
            status: 429,
            retry_after: None,
            body: Some(
                okta_error_body(
                    "E0000047",
                    "API call exceeded rate limit due to too many requests.",
                )
                .to_string(),
            ),
            headers: vec![
                ("x-rate-limit-limit".into(), "600".into()),
                ("x-rate-limit-remaining".into(), "0".into()),
                ("x-rate-limit-reset".into(), reset.to_string()),
            ],
        }
    }
}

fn sorted(mut directory: Directory) -> Directory {
    directory.people.sort_by_key(|p| p.index);
    directory
}

fn okta_error_body(code: &str, summary: &str) -> Value {
    json!({
        "errorCode": code,
        "errorSummary": summary,
        "errorLink": code,
        "errorId": format!("oae{}", &hex::encode(rand::random::<[u8; 8]>())),
        "errorCauses": [],
    })
}

fn okta_error(status: StatusCode, code: &str, summary: &str) -> Response {
    (status, Json(okta_error_body(code, summary))).into_response()
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        Json(json!({"error": error, "error_description": description})),
    )
        .into_response()
}

/// Counts requests and adds `X-Rate-Limit-*` and `X-Okta-Request-Id` unless a fault already set them.
async fn okta_headers(State(s): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    match req.uri().path() {
        TOKEN_PATH => s.token_requests.fetch_add(1, Ordering::Relaxed),
        USERS_PATH => {
            let q = req.uri().query().unwrap_or("");
            if q.contains("filter=") || q.contains("search=") {
                s.filtered_requests.fetch_add(1, Ordering::Relaxed);
            }
            s.user_requests.fetch_add(1, Ordering::Relaxed)
        }
        _ => 0,
    };
    let limit = s.options.lock().unwrap().rate_limit;
    let (remaining, reset) = {
        let minute = s.started.elapsed().as_secs() / 60;
        let mut w = s.window.lock().unwrap();
        if w.0 != minute {
            *w = (minute, 0);
        }
        w.1 += 1;
        let reset_in = 60 - s.started.elapsed().as_secs() % 60;
        (
            limit.saturating_sub(w.1),
            jiff::Timestamp::now().as_second() + reset_in as i64,
        )
    };
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    for (name, value) in [
        ("x-rate-limit-limit", limit.to_string()),
        ("x-rate-limit-remaining", remaining.to_string()),
        ("x-rate-limit-reset", reset.to_string()),
        (
            "x-okta-request-id",
            format!("sim{}", s.counter.fetch_add(1, Ordering::Relaxed)),
        ),
    ] {
        if !h.contains_key(name) {
            h.insert(name, HeaderValue::from_str(&value).expect("ascii"));
        }
    }
    resp
}

fn decode_jwt(jwt: &str) -> Option<(Value, Value)> {
    let mut parts = jwt.split('.');
    let h = URL_SAFE_NO_PAD.decode(parts.next()?).ok()?;
    let c = URL_SAFE_NO_PAD.decode(parts.next()?).ok()?;
    parts.next()?;
    Some((
        serde_json::from_slice(&h).ok()?,
        serde_json::from_slice(&c).ok()?,
    ))
}

fn now_secs() -> i64 {
    jiff::Timestamp::now().as_second()
}

async fn token(State(s): State<Arc<Shared>>, headers: HeaderMap, body: String) -> Response {
    let form: HashMap<String, String> = url::form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect();
    let opts = s.options.lock().unwrap().clone();
    let base = s.base_url.lock().unwrap().clone();
    let token_url = format!("{base}{TOKEN_PATH}");
    if let Some(Fault::RevokeCredential) = s.faults.take_protocol(TOKEN_PATH) {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "The client_assertion signature is invalid.",
        );
    }
    if form.get("grant_type").map(String::as_str) != Some("client_credentials") {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "The authorization grant type is not supported by the authorization server.",
        );
    }
    if form.get("client_assertion_type").map(String::as_str) != Some(CLIENT_ASSERTION_TYPE) {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Client authentication failed. Either the client or the client credentials are invalid.",
        );
    }
    let Some((header, claims)) = form.get("client_assertion").and_then(|a| decode_jwt(a)) else {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "The client_assertion token is invalid.",
        );
    };
    if let Err(why) = check_assertion(&s, &opts, &token_url, &header, &claims) {
        return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", why);
    }
    let requested: Vec<&str> = form
        .get("scope")
        .map(|s| s.split(' ').collect())
        .unwrap_or_default();
    let refused: Vec<&str> = requested
        .iter()
        .copied()
        .filter(|r| !opts.granted_scopes.iter().any(|g| g == r))
        .collect();
    if requested.is_empty() || !refused.is_empty() {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            &format!(
                "The following scopes are not allowed: {}",
                refused.join(" ")
            ),
        );
    }
    let proof = headers.get("dpop").and_then(|v| v.to_str().ok());
    let dpop_jwk = match (proof, opts.dpop_required) {
        (None, true) => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_dpop_proof",
                "The DPoP proof JWT header is missing.",
            );
        }
        (None, false) => None,
        (Some(proof), _) => match check_token_proof(&s, proof, &token_url) {
            Ok(jwk) => Some(jwk),
            Err(resp) => return resp,
        },
    };
    let access_token = hex::encode(rand::random::<[u8; 24]>());
    let token_type = if dpop_jwk.is_some() { "DPoP" } else { "Bearer" };
    s.tokens.lock().unwrap().insert(
        access_token.clone(),
        IssuedToken {
            dpop_jwk,
            expires_at: Instant::now() + opts.token_lifetime,
        },
    );
    Json(json!({
        "token_type": token_type,
        "expires_in": opts.token_lifetime.as_secs(),
        "access_token": access_token,
        "scope": requested.join(" "),
    }))
    .into_response()
}

fn check_assertion(
    s: &Shared,
    opts: &OktaSimOptions,
    token_url: &str,
    header: &Value,
    claims: &Value,
) -> Result<(), &'static str> {
    if header["alg"] != "RS256" {
        return Err("The client_assertion token has an unsupported signing algorithm.");
    }
    if let Some(kid) = &opts.key_id
        && header["kid"].as_str() != Some(kid)
    {
        return Err(
            "The client_assertion token was signed with a key that is not registered for the client.",
        );
    }
    if claims["iss"].as_str() != Some(opts.client_id.as_str()) || claims["sub"] != claims["iss"] {
        return Err(
            "Client authentication failed. Either the client or the client credentials are invalid.",
        );
    }
    if claims["aud"].as_str() != Some(token_url) {
        return Err(
            "The audience claim for client_assertion must be the endpoint invoked for the request.",
        );
    }
    let now = now_secs();
    match claims["exp"].as_i64() {
        Some(exp) if exp > now && exp <= now + 3600 + 5 => {}
        _ => {
            return Err(
                "The client_assertion token is expired or its expiration is more than an hour away.",
            );
        }
    }
    let Some(jti) = claims["jti"].as_str() else {
        return Err("The client_assertion token must have a jti claim.");
    };
    if !s.used_jtis.lock().unwrap().insert(jti.to_string()) {
        return Err("The client_assertion token has already been used.");
    }
    Ok(())
}

/// Checks a token-endpoint DPoP proof; returns its public JWK, or the 400 to send.
// The error is the HTTP answer itself; its size does not matter in a simulator.
#[allow(clippy::result_large_err)]
fn check_token_proof(s: &Shared, proof: &str, token_url: &str) -> Result<Value, Response> {
    let bad = |d: &str| oauth_error(StatusCode::BAD_REQUEST, "invalid_dpop_proof", d);
    let Some((header, claims)) = decode_jwt(proof) else {
        return Err(bad("The DPoP proof JWT is malformed."));
    };
    if header["typ"] != "dpop+jwt" {
        return Err(bad("The DPoP proof JWT 'typ' header is invalid."));
    }
    if !header["jwk"].is_object() {
        return Err(bad("The DPoP proof JWT header is missing the 'jwk'."));
    }
    if claims["htm"] != "POST" {
        return Err(bad("'htm' claim in the DPoP proof JWT is invalid."));
    }
    if claims["htu"].as_str() != Some(token_url) {
        return Err(bad("'htu' claim in the DPoP proof JWT is invalid."));
    }
    if !claims["iat"].is_i64() || claims["jti"].as_str().is_none() {
        return Err(bad("The DPoP proof JWT is missing 'iat' or 'jti'."));
    }
    let nonce_ok = claims["nonce"]
        .as_str()
        .is_some_and(|n| s.nonces.lock().unwrap().contains(n));
    if !nonce_ok {
        let nonce = hex::encode(rand::random::<[u8; 12]>());
        s.nonces.lock().unwrap().insert(nonce.clone());
        let mut resp = oauth_error(
            StatusCode::BAD_REQUEST,
            "use_dpop_nonce",
            "Authorization server requires nonce in DPoP proof.",
        );
        resp.headers_mut()
            .insert("dpop-nonce", HeaderValue::from_str(&nonce).expect("hex"));
        return Err(resp);
    }
    Ok(header["jwk"].clone())
}

fn invalid_token() -> Response {
    okta_error(
        StatusCode::UNAUTHORIZED,
        "E0000011",
        "Invalid token provided",
    )
}

/// Checks `Authorization` (and the DPoP proof) of a resource call.
#[allow(clippy::result_large_err)]
fn authorize(s: &Shared, headers: &HeaderMap, opts: &OktaSimOptions) -> Result<(), Response> {
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let (scheme, value) = auth.split_once(' ').unwrap_or((auth, ""));
    if scheme == "SSWS" {
        return match &opts.api_token {
            Some(t) if t == value => Ok(()),
            _ => Err(invalid_token()),
        };
    }
    let mut tokens = s.tokens.lock().unwrap();
    let Some(issued) = tokens.get(value) else {
        return Err(invalid_token());
    };
    if issued.expires_at <= Instant::now() {
        tokens.remove(value);
        return Err(invalid_token());
    }
    match (scheme, &issued.dpop_jwk) {
        ("Bearer", None) => Ok(()),
        ("DPoP", Some(jwk)) => {
            let base = s.base_url.lock().unwrap().clone();
            let proof = headers.get("dpop").and_then(|v| v.to_str().ok());
            let problem = match proof.and_then(decode_jwt) {
                None => Some("The DPoP proof JWT header is missing."),
                Some((h, _)) if h["typ"] != "dpop+jwt" || &h["jwk"] != jwk => {
                    Some("The DPoP proof JWT was not signed with the key the token is bound to.")
                }
                Some((_, c)) if c["htm"] != "GET" => {
                    Some("'htm' claim in the DPoP proof JWT is invalid.")
                }
                Some((_, c)) if c["htu"].as_str() != Some(&format!("{base}{USERS_PATH}")) => {
                    Some("'htu' claim in the DPoP proof JWT is invalid.")
                }
                Some((_, c))
                    if c["ath"].as_str()
                        != Some(&URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(value))) =>
                {
                    Some("'ath' claim in the DPoP proof JWT is invalid.")
                }
                Some((_, c)) if opts.resource_nonce_required => {
                    let known = c["nonce"]
                        .as_str()
                        .is_some_and(|n| s.resource_nonces.lock().unwrap().contains(n));
                    if !known {
                        return Err(resource_nonce_challenge(s));
                    }
                    None
                }
                Some(_) => None,
            };
            match problem {
                None => Ok(()),
                Some(d) => {
                    let mut resp = invalid_token();
                    let challenge = format!(
                        r#"DPoP algs="RS256 ES256", error="invalid_dpop_proof", error_description="{d}""#
                    );
                    resp.headers_mut().insert(
                        "www-authenticate",
                        HeaderValue::from_str(&challenge).expect("ascii"),
                    );
                    Err(resp)
                }
            }
        }
        // A DPoP-bound token presented as Bearer, or the other way round.
        _ => Err(invalid_token()),
    }
}

/// 401 with `WWW-Authenticate: DPoP error="use_dpop_nonce"` and a fresh `DPoP-Nonce`.
fn resource_nonce_challenge(s: &Shared) -> Response {
    let nonce = hex::encode(rand::random::<[u8; 12]>());
    s.resource_nonces.lock().unwrap().insert(nonce.clone());
    let mut resp = invalid_token();
    resp.headers_mut().insert(
        "www-authenticate",
        HeaderValue::from_static(
            r#"DPoP algs="RS256 ES256", error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof""#,
        ),
    );
    resp.headers_mut()
        .insert("dpop-nonce", HeaderValue::from_str(&nonce).expect("hex"));
    resp
}

async fn users(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let opts = s.options.lock().unwrap().clone();
    if let Some(Fault::ExpireToken | Fault::RevokeCredential) = s.faults.take_protocol(USERS_PATH) {
        if let Some(token) = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|a| a.split_once(' '))
            .map(|(_, t)| t.to_string())
        {
            s.tokens.lock().unwrap().remove(&token);
        }
        return invalid_token();
    }
    if let Err(resp) = authorize(&s, &headers, &opts) {
        return resp;
    }
    if !opts.may_read_users {
        return okta_error(
            StatusCode::FORBIDDEN,
            "E0000006",
            "You do not have permission to perform the requested action",
        );
    }
    let query = query.unwrap_or_default();
    let params: HashMap<String, String> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let limit = match params.get("limit").map(|l| l.parse::<usize>()) {
        None => opts.page_cap,
        Some(Ok(l)) if l >= 1 => l.min(opts.page_cap),
        Some(_) => {
            return okta_error(
                StatusCode::BAD_REQUEST,
                "E0000001",
                "Api validation failed: limit",
            );
        }
    };
    // `filter` and `search` both include DEPROVISIONED users; a `status eq "X"` expression
    // narrows to that status, anything else this simulator does not evaluate is refused.
    let expression = params.get("filter").or_else(|| params.get("search"));
    let wanted: Option<Option<&'static str>> = match expression {
        None => None,
        Some(e) => match parse_status_eq(e) {
            Some(status) => Some(Some(status)),
            None => {
                return okta_error(
                    StatusCode::BAD_REQUEST,
                    "E0000031",
                    "Invalid search criteria.",
                );
            }
        },
    };
    let after = match params.get("after") {
        None => None,
        Some(a) => match a.strip_prefix("00u").and_then(|n| n.parse::<u64>().ok()) {
            Some(i) => Some(i),
            None => {
                return okta_error(
                    StatusCode::BAD_REQUEST,
                    "E0000001",
                    "Api validation failed: after",
                );
            }
        },
    };
    let directory = s.directory.lock().unwrap().clone();
    let start = after.map_or(0, |a| directory.people.partition_point(|p| p.index <= a));
    let matches = |p: &&Person| match wanted {
        None => p.state != PersonState::Deprovisioned,
        Some(Some(status)) => OktaSim::status_of(p) == status,
        Some(None) => true,
    };
    let page: Vec<&Person> = directory.people[start..]
        .iter()
        .filter(matches)
        .take(limit + 1)
        .collect();
    let more = page.len() > limit;
    let base = s.base_url.lock().unwrap().clone();
    let body: Vec<Value> = page.iter().take(limit).map(|p| render(p, &base)).collect();
    let mut resp = Json(body).into_response();
    let self_link = if query.is_empty() {
        format!("<{base}{USERS_PATH}>; rel=\"self\"")
    } else {
        format!("<{base}{USERS_PATH}?{query}>; rel=\"self\"")
    };
    resp.headers_mut()
        .append("link", HeaderValue::from_str(&self_link).expect("ascii"));
    if more {
        let last = page[limit - 1];
        let mut next = url::form_urlencoded::Serializer::new(String::new());
        next.append_pair("after", &OktaSim::user_id(last))
            .append_pair("limit", &limit.to_string());
        if let Some(f) = params.get("filter") {
            next.append_pair("filter", f);
        }
        if let Some(f) = params.get("search") {
            next.append_pair("search", f);
        }
        let link = format!("<{base}{USERS_PATH}?{}>; rel=\"next\"", next.finish());
        resp.headers_mut()
            .append("link", HeaderValue::from_str(&link).expect("ascii"));
    }
    resp
}

/// `status eq "DEPROVISIONED"` → the status (case-insensitive value, as Okta documents).
fn parse_status_eq(expression: &str) -> Option<&'static str> {
    let value = expression
        .trim()
        .strip_prefix("status eq ")?
        .trim()
        .trim_matches('"');
    [
        "ACTIVE",
        "DEPROVISIONED",
        "LOCKED_OUT",
        "PASSWORD_EXPIRED",
        "PROVISIONED",
        "RECOVERY",
        "STAGED",
        "SUSPENDED",
    ]
    .into_iter()
    .find(|s| s.eq_ignore_ascii_case(value))
}

fn render(p: &Person, base: &str) -> Value {
    let id = OktaSim::user_id(p);
    let status = OktaSim::status_of(p);
    let changed = (status != "ACTIVE").then_some("2025-10-01T09:30:00.000Z");
    json!({
        "id": id,
        "status": status,
        "created": "2024-01-15T08:00:00.000Z",
        "activated": if matches!(status, "STAGED" | "PROVISIONED") { Value::Null } else { json!("2024-01-15T08:05:00.000Z") },
        "statusChanged": changed,
        "lastLogin": if status == "ACTIVE" { json!("2025-11-20T07:45:12.000Z") } else { Value::Null },
        "lastUpdated": "2025-11-20T07:45:12.000Z",
        "passwordChanged": "2024-01-15T08:05:00.000Z",
        "type": { "id": "oty1simulated0000001" },
        "profile": {
            "firstName": p.given_name,
            "lastName": p.family_name,
            "mobilePhone": null,
            "secondEmail": p.aliases.first(),
            "login": p.login,
            "email": p.primary_email,
        },
        "credentials": { "password": {}, "provider": { "type": "OKTA", "name": "OKTA" } },
        "_links": { "self": { "href": format!("{base}{USERS_PATH}/{id}") } },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_filters_are_parsed_case_insensitively() {
        assert_eq!(
            parse_status_eq(r#"status eq "DEPROVISIONED""#),
            Some("DEPROVISIONED")
        );
        assert_eq!(
            parse_status_eq(r#"status eq "suspended""#),
            Some("SUSPENDED")
        );
        assert_eq!(parse_status_eq(r#"profile.login eq "a@b.c""#), None);
        assert_eq!(parse_status_eq(r#"status eq "GONE""#), None);
    }

    #[test]
    fn ids_are_twenty_characters_and_sort_like_indexes() {
        let p = Person::active(42, "a@b.c");
        assert_eq!(OktaSim::user_id(&p), "00u00000000000000042");
        assert_eq!(OktaSim::user_id(&p).len(), 20);
    }
}
