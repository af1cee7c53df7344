//! Simulated Microsoft Entra ID: the v2.0 token endpoint (client credentials with a secret or
//! a certificate assertion) and Microsoft Graph `GET /v1.0/users`.
//!
//! Wire behaviour follows `reference/idp-apis.md` §2: `scope` must be
//! `https://graph.microsoft.com/.default`; errors carry AADSTS codes; `$top` defaults to 100
//! and may not exceed 999; `$select` projects the user (so `accountEnabled` only appears when
//! selected); paging is an absolute `@odata.nextLink` with an opaque `$skiptoken`; deleted
//! (deprovisioned) people are not in `/users`; Graph error bodies `{"error":{code,message}}`.
//! A certificate assertion's claims and `x5t` are checked, its signature is not.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Path, RawQuery, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};

use crate::faults::{self, Fault, Faults};
use crate::idp::{Directory, Person, PersonState};
use crate::server::{Running, serve};

pub const GRAPH_DEFAULT_SCOPE: &str = "https://graph.microsoft.com/.default";
const CLIENT_ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
const USERS_PATH: &str = "/v1.0/users";
/// What Graph returns for a user when the request has no `$select`.
const DEFAULT_PROPERTIES: &[&str] = &[
    "businessPhones",
    "displayName",
    "givenName",
    "id",
    "jobTitle",
    "mail",
    "mobilePhone",
    "officeLocation",
    "preferredLanguage",
    "surname",
    "userPrincipalName",
];

#[derive(Debug, Clone)]
pub struct EntraSimOptions {
    pub tenant_id: String,
    pub client_id: String,
    /// Accepted client secret; `None` refuses secrets.
    pub client_secret: Option<String>,
    /// SHA-1 thumbprint (40 hex digits) of the certificate registered on the app; `None`
    /// refuses certificate assertions.
    pub certificate_thumbprint: Option<String>,
    /// Whether the app has `User.Read.All` with admin consent (403 otherwise).
    pub user_read_all: bool,
    /// `$top` limit (999) and default (100).
    pub max_page: usize,
    pub default_page: usize,
    /// Serve at most this many users per page whatever `$top` asks for (Graph may return
    /// fewer than `$top`); lets a small directory page.
    pub served_page_cap: usize,
    pub token_lifetime: Duration,
    /// People (by [`Person::index`]) served with `"accountEnabled": null`, as Graph has done
    /// (microsoftgraph/microsoft-graph-docs-contrib#2410).
    pub null_account_enabled: Vec<u64>,
    /// People (by index) synced from on-premises AD, served with an `onPremisesImmutableId`
    /// ([`EntraSim::immutable_id`]); everyone else has `null`, as cloud-only users do.
    pub synced_from_ad: Vec<u64>,
}

impl EntraSimOptions {
    pub fn new(tenant_id: &str, client_id: &str, client_secret: &str) -> Self {
        EntraSimOptions {
            tenant_id: tenant_id.to_string(),
            client_id: client_id.to_string(),
            client_secret: Some(client_secret.to_string()),
            certificate_thumbprint: None,
            user_read_all: true,
            max_page: 999,
            default_page: 100,
            served_page_cap: usize::MAX,
            token_lifetime: Duration::from_secs(3599),
            null_account_enabled: Vec::new(),
            synced_from_ad: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EntraRequestCounts {
    pub token: u64,
    pub users: u64,
}

struct Shared {
    options: Mutex<EntraSimOptions>,
    directory: Mutex<Arc<Directory>>,
    tokens: Mutex<HashMap<String, Instant>>,
    faults: Faults,
    base_url: Mutex<String>,
    token_requests: AtomicU64,
    user_requests: AtomicU64,
    counter: AtomicU64,
}

pub struct EntraSim {
    shared: Arc<Shared>,
    running: Running,
}

impl EntraSim {
    pub async fn start(
        directory: Directory,
        options: EntraSimOptions,
    ) -> std::io::Result<EntraSim> {
        let faults = Faults::default();
        let shared = Arc::new(Shared {
            options: Mutex::new(options),
            directory: Mutex::new(Arc::new(sorted(directory))),
            tokens: Mutex::new(HashMap::new()),
            faults: faults.clone(),
            base_url: Mutex::new(String::new()),
            token_requests: AtomicU64::new(0),
            user_requests: AtomicU64::new(0),
            counter: AtomicU64::new(0),
        });
        let router = Router::new()
            .route("/{tenant}/oauth2/v2.0/token", post(token))
            .route(USERS_PATH, get(users))
            .with_state(shared.clone())
            .layer(axum::middleware::from_fn_with_state(faults, faults::layer))
            .layer(axum::middleware::from_fn_with_state(
                shared.clone(),
                graph_headers,
            ));
        let running = serve(router, 0).await?;
        *shared.base_url.lock().unwrap() = running.base_url();
        Ok(EntraSim { shared, running })
    }

    /// `http://127.0.0.1:PORT` — use as both the login and the Graph base URL.
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

    pub fn requests(&self) -> EntraRequestCounts {
        EntraRequestCounts {
            token: self.shared.token_requests.load(Ordering::Relaxed),
            users: self.shared.user_requests.load(Ordering::Relaxed),
        }
    }

    pub fn set_directory(&self, directory: Directory) {
        *self.shared.directory.lock().unwrap() = Arc::new(sorted(directory));
    }

    pub fn update_options(&self, change: impl FnOnce(&mut EntraSimOptions)) {
        change(&mut self.shared.options.lock().unwrap());
    }

    /// Graph's object id for a simulated person.
    pub fn user_id(person: &Person) -> String {
        format!("00000000-0000-4000-8000-{:012x}", person.index)
    }

    /// The `onPremisesImmutableId` of a person synced from AD: by default Entra Connect
    /// writes the base64 of the AD `objectGUID`, here 16 bytes derived from the index.
    pub fn immutable_id(person: &Person) -> String {
        let mut guid = [0x5au8; 16];
        guid[8..].copy_from_slice(&person.index.to_be_bytes());
        base64::engine::general_purpose::STANDARD.encode(guid)
    }

    /// Whether Graph lists this person: deleted (deprovisioned) users sit in the recycle
    /// bin, not in `/users`.
    pub fn is_listed(person: &Person) -> bool {
        person.state != PersonState::Deprovisioned
    }

    /// A guest: an invited external user (`#EXT#` in the login) or one still pending.
    pub fn is_guest(person: &Person) -> bool {
        person.login.to_ascii_uppercase().contains("#EXT#") || person.state == PersonState::Pending
    }

    /// A `429` with `Retry-After: retry_after` seconds and a Graph error body.
    pub fn throttled(retry_after: u64) -> Fault {
        Fault::Status {
            status: 429,
            retry_after: Some(retry_after),
            body: Some(
                graph_error_body(
                    "TooManyRequests",
                    "Too many requests. Please retry after the time indicated in the Retry-After header.",
                )
                .to_string(),
            ),
            headers: vec![("x-ms-throttle-information".into(), "ResourceUnitLimitExceeded".into())],
        }
    }
}

fn sorted(mut directory: Directory) -> Directory {
    directory.people.sort_by_key(|p| p.index);
    directory
}

fn graph_error_body(code: &str, message: &str) -> Value {
    json!({
        "error": {
            "code": code,
            "message": message,
            "innerError": {
                "date": jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%S").to_string(),
                "request-id": uuid_like(),
                "client-request-id": uuid_like(),
            }
        }
    })
}

fn graph_error(status: StatusCode, code: &str, message: &str) -> Response {
    (status, Json(graph_error_body(code, message))).into_response()
}

fn uuid_like() -> String {
    let b: [u8; 16] = rand::random();
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// An AADSTS token error, shaped like the v2.0 endpoint's.
fn aad_error(status: StatusCode, error: &str, code: u32, description: &str) -> Response {
    let trace = uuid_like();
    let correlation = uuid_like();
    let now = jiff::Timestamp::now()
        .strftime("%Y-%m-%d %H:%M:%SZ")
        .to_string();
    (
        status,
        Json(json!({
            "error": error,
            "error_description": format!("AADSTS{code}: {description} Trace ID: {trace} Correlation ID: {correlation} Timestamp: {now}"),
            "error_codes": [code],
            "timestamp": now,
            "trace_id": trace,
            "correlation_id": correlation,
        })),
    )
        .into_response()
}

async fn graph_headers(State(s): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    if path == USERS_PATH {
        s.user_requests.fetch_add(1, Ordering::Relaxed);
    } else if path.ends_with("/oauth2/v2.0/token") {
        s.token_requests.fetch_add(1, Ordering::Relaxed);
    }
    let mut resp = next.run(req).await;
    let id = format!("sim-{:08}", s.counter.fetch_add(1, Ordering::Relaxed));
    let h = resp.headers_mut();
    for (name, value) in [
        ("request-id", id.as_str()),
        ("client-request-id", id.as_str()),
    ] {
        if !h.contains_key(name) {
            h.insert(name, HeaderValue::from_str(value).expect("ascii"));
        }
    }
    if path == USERS_PATH {
        h.insert("x-ms-resource-unit", HeaderValue::from_static("1"));
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

fn x5t_of(thumbprint_hex: &str) -> Option<String> {
    hex::decode(thumbprint_hex.replace(':', ""))
        .ok()
        .map(|b| URL_SAFE_NO_PAD.encode(b))
}

async fn token(State(s): State<Arc<Shared>>, Path(tenant): Path<String>, body: String) -> Response {
    let form: HashMap<String, String> = url::form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect();
    let opts = s.options.lock().unwrap().clone();
    let base = s.base_url.lock().unwrap().clone();
    if tenant != opts.tenant_id {
        return aad_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            90002,
            &format!(
                "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud."
            ),
        );
    }
    if let Some(Fault::RevokeCredential) = s.faults.take_protocol("/oauth2/v2.0/token") {
        return aad_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            7000222,
            "The provided client secret keys for app are expired.",
        );
    }
    if form.get("grant_type").map(String::as_str) != Some("client_credentials") {
        return aad_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            70003,
            "The app requested an unsupported grant type.",
        );
    }
    let client_id = form.get("client_id").cloned().unwrap_or_default();
    if form.get("scope").map(String::as_str) != Some(GRAPH_DEFAULT_SCOPE) {
        return aad_error(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            70011,
            "The provided request must include a 'scope' input parameter. The provided value for the input parameter 'scope' is not valid.",
        );
    }
    if client_id != opts.client_id {
        return aad_error(
            StatusCode::BAD_REQUEST,
            "unauthorized_client",
            700016,
            &format!(
                "Application with identifier '{client_id}' was not found in the directory '{tenant}'."
            ),
        );
    }
    if let Some(secret) = form.get("client_secret") {
        if opts.client_secret.as_deref() != Some(secret.as_str()) {
            return aad_error(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                7000215,
                "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app.",
            );
        }
    } else if form.get("client_assertion_type").map(String::as_str) == Some(CLIENT_ASSERTION_TYPE) {
        let token_url = format!("{base}/{tenant}/oauth2/v2.0/token");
        if let Err(why) = check_assertion(&opts, form.get("client_assertion"), &token_url) {
            return aad_error(StatusCode::UNAUTHORIZED, "invalid_client", 700027, why);
        }
    } else {
        return aad_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            7000218,
            "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
        );
    }
    let access_token = format!(
        "eyJ0eXAiOiJKV1Qi.sim.{}",
        hex::encode(rand::random::<[u8; 24]>())
    );
    s.tokens
        .lock()
        .unwrap()
        .insert(access_token.clone(), Instant::now() + opts.token_lifetime);
    let lifetime = opts.token_lifetime.as_secs();
    Json(json!({
        "token_type": "Bearer",
        "expires_in": lifetime,
        "ext_expires_in": lifetime,
        "access_token": access_token,
    }))
    .into_response()
}

fn check_assertion(
    opts: &EntraSimOptions,
    assertion: Option<&String>,
    token_url: &str,
) -> Result<(), &'static str> {
    let Some((header, claims)) = assertion.and_then(|a| decode_jwt(a)) else {
        return Err("Client assertion failed signature validation.");
    };
    let expected = opts.certificate_thumbprint.as_deref().and_then(x5t_of);
    if expected.is_none() || header["x5t"].as_str() != expected.as_deref() {
        return Err(
            "Client assertion failed signature validation. The certificate (x5t) is not registered for the application.",
        );
    }
    if header["alg"] != "RS256" {
        return Err("Client assertion contains an unsupported algorithm.");
    }
    if claims["aud"].as_str() != Some(token_url) {
        return Err("Client assertion audience claim does not match Realm issuer.");
    }
    if claims["iss"].as_str() != Some(opts.client_id.as_str()) || claims["sub"] != claims["iss"] {
        return Err("Client assertion issuer and subject must be the application ID.");
    }
    let now = jiff::Timestamp::now().as_second();
    match claims["exp"].as_i64() {
        Some(exp) if exp > now => Ok(()),
        _ => Err("Client assertion is not within its valid time range."),
    }
}

async fn users(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let opts = s.options.lock().unwrap().clone();
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|a| a.strip_prefix("Bearer "))
        .unwrap_or("")
        .to_string();
    if let Some(Fault::ExpireToken | Fault::RevokeCredential) = s.faults.take_protocol(USERS_PATH) {
        s.tokens.lock().unwrap().remove(&token);
    }
    let valid = s
        .tokens
        .lock()
        .unwrap()
        .get(&token)
        .is_some_and(|exp| *exp > Instant::now());
    if !valid {
        let mut resp = graph_error(
            StatusCode::UNAUTHORIZED,
            "InvalidAuthenticationToken",
            "Access token has expired or is not yet valid.",
        );
        resp.headers_mut().insert(
            "www-authenticate",
            HeaderValue::from_static(r#"Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000""#),
        );
        return resp;
    }
    if !opts.user_read_all {
        return graph_error(
            StatusCode::FORBIDDEN,
            "Authorization_RequestDenied",
            "Insufficient privileges to complete the operation.",
        );
    }
    let query = query.unwrap_or_default();
    let params: HashMap<String, String> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let top = match params.get("$top").map(|t| t.parse::<usize>()) {
        None => opts.default_page,
        Some(Ok(t)) if (1..=opts.max_page).contains(&t) => t,
        Some(_) => {
            return graph_error(
                StatusCode::BAD_REQUEST,
                "Request_UnsupportedQuery",
                &format!(
                    "Invalid page size specified: '{}'. Must be between 1 and {} inclusive.",
                    params["$top"], opts.max_page
                ),
            );
        }
    }
    .min(opts.served_page_cap.max(1));
    let select: Vec<String> = match params.get("$select") {
        Some(s) => s
            .split(',')
            .map(|p| p.trim().to_string())
            .filter(|p| !p.is_empty())
            .collect(),
        None => DEFAULT_PROPERTIES.iter().map(|p| p.to_string()).collect(),
    };
    let after = match params.get("$skiptoken") {
        None => None,
        Some(t) => match decode_skiptoken(t) {
            Some(i) => Some(i),
            None => {
                return graph_error(
                    StatusCode::BAD_REQUEST,
                    "Directory_InvalidSkipToken",
                    "The specified page token value has expired or is not valid.",
                );
            }
        },
    };
    let directory = s.directory.lock().unwrap().clone();
    let start = after.map_or(0, |a| directory.people.partition_point(|p| p.index <= a));
    let page: Vec<&Person> = directory.people[start..]
        .iter()
        .filter(|p| EntraSim::is_listed(p))
        .take(top + 1)
        .collect();
    let base = s.base_url.lock().unwrap().clone();
    let mut body = Map::new();
    let context = match params.get("$select") {
        Some(sel) => format!("{base}/v1.0/$metadata#users({sel})"),
        None => format!("{base}/v1.0/$metadata#users"),
    };
    body.insert("@odata.context".into(), Value::String(context));
    if page.len() > top {
        let mut next = format!("{base}{USERS_PATH}?");
        if let Some(sel) = params.get("$select") {
            next.push_str(&format!("$select={sel}&"));
        }
        next.push_str(&format!(
            "$top={top}&$skiptoken={}",
            encode_skiptoken(page[top - 1].index)
        ));
        body.insert("@odata.nextLink".into(), Value::String(next));
    }
    let value: Vec<Value> = page
        .iter()
        .take(top)
        .map(|p| project(render(p, &opts), &select))
        .collect();
    body.insert("value".into(), Value::Array(value));
    Json(Value::Object(body)).into_response()
}

/// Opaque to clients, like Graph's: base64url of a marker and the last index served.
fn encode_skiptoken(index: u64) -> String {
    format!(
        "RFNwdAIAAQ{}",
        URL_SAFE_NO_PAD.encode(format!("sim:{index}"))
    )
}

fn decode_skiptoken(token: &str) -> Option<u64> {
    let raw = URL_SAFE_NO_PAD
        .decode(token.strip_prefix("RFNwdAIAAQ")?)
        .ok()?;
    String::from_utf8(raw)
        .ok()?
        .strip_prefix("sim:")?
        .parse()
        .ok()
}

fn render(p: &Person, opts: &EntraSimOptions) -> Value {
    let tenant = &opts.tenant_id;
    let guest = EntraSim::is_guest(p);
    let upn = if guest && !p.login.to_ascii_uppercase().contains("#EXT#") {
        format!("{}#EXT#@{tenant}", p.primary_email.replace('@', "_"))
    } else {
        p.login.clone()
    };
    let mut proxy = vec![format!("SMTP:{}", p.primary_email)];
    proxy.extend(p.aliases.iter().map(|a| format!("smtp:{a}")));
    proxy.push(format!("SIP:{}", p.primary_email));
    json!({
        "id": EntraSim::user_id(p),
        "businessPhones": [],
        "displayName": format!("{} {}", p.given_name, p.family_name),
        "givenName": p.given_name,
        "surname": p.family_name,
        "jobTitle": null,
        "mobilePhone": null,
        "officeLocation": null,
        "preferredLanguage": "en-US",
        "userPrincipalName": upn,
        "mail": p.primary_email,
        "otherMails": p.aliases,
        "proxyAddresses": if guest { vec![] } else { proxy },
        "accountEnabled": if opts.null_account_enabled.contains(&p.index) {
            Value::Null
        } else {
            json!(p.state != PersonState::Suspended)
        },
        "onPremisesImmutableId": opts
            .synced_from_ad
            .contains(&p.index)
            .then(|| EntraSim::immutable_id(p)),
        "userType": if guest { "Guest" } else { "Member" },
        "externalUserState": match (guest, p.state) {
            (false, _) => Value::Null,
            (true, PersonState::Pending) => json!("PendingAcceptance"),
            (true, _) => json!("Accepted"),
        },
    })
}

/// Keeps only the selected properties (unknown names are left out, as Graph returns nothing
/// for properties a user does not have).
fn project(user: Value, select: &[String]) -> Value {
    let Value::Object(mut all) = user else {
        return user;
    };
    let mut out = Map::new();
    for key in select {
        if let Some(v) = all.remove(key) {
            out.insert(key.clone(), v);
        }
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skiptokens_round_trip_and_reject_garbage() {
        assert_eq!(decode_skiptoken(&encode_skiptoken(1234)), Some(1234));
        assert_eq!(decode_skiptoken("RFNwdAIAAQ!!"), None);
        assert_eq!(decode_skiptoken("1234"), None);
    }

    #[test]
    fn select_projects_like_graph() {
        let p = Person::active(1, "a@contoso.example").with_state(PersonState::Suspended);
        let all = render(
            &p,
            &EntraSimOptions::new("contoso.onmicrosoft.com", "c", "s"),
        );
        let picked = project(all.clone(), &["id".into(), "accountEnabled".into()]);
        assert_eq!(
            picked,
            json!({"id": EntraSim::user_id(&p), "accountEnabled": false})
        );
        let default: Vec<String> = DEFAULT_PROPERTIES.iter().map(|s| s.to_string()).collect();
        assert!(project(all, &default).get("accountEnabled").is_none());
    }
}
