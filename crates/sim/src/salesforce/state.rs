//! The simulator's mutable state: issued tokens, open query cursors, API usage, counters.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use rsa::RsaPrivateKey;
use rsa::pkcs8::{EncodePrivateKey, LineEnding};

use super::org::{OrgData, UserRef};
use super::schema::Obj;
use super::soql::FieldPath;
use super::{OrgHandle, RequestCounts, SimCredentials, SimOptions};
use crate::faults::{Fault, Faults};

/// The TEST-ONLY RSA key pair, generated once per process (keygen is slow in debug builds).
pub(crate) fn test_key() -> &'static (RsaPrivateKey, String) {
    static KEY: OnceLock<(RsaPrivateKey, String)> = OnceLock::new();
    KEY.get_or_init(|| {
        let key = RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).expect("RSA key generation");
        let pem = key
            .to_pkcs8_pem(LineEnding::LF)
            .expect("PEM encoding")
            .to_string();
        (key, pem)
    })
}

#[derive(Debug)]
pub(crate) struct AccessToken {
    pub user: usize,
    pub expired: bool,
}

#[derive(Debug)]
pub(crate) struct AuthCode {
    pub client_id: String,
    pub redirect_uri: String,
    pub challenge: Option<String>,
    pub user: usize,
}

#[derive(Debug, Default)]
pub(crate) struct AuthState {
    pub access: HashMap<String, AccessToken>,
    /// Refresh token → (user, still valid).
    pub refresh: HashMap<String, (usize, bool)>,
    pub codes: HashMap<String, AuthCode>,
    pub client_credentials_revoked: bool,
    pub initial_refresh: String,
}

pub(crate) fn random_token(prefix: &str) -> String {
    let bytes: [u8; 24] = rand::random();
    let body = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    format!("{prefix}{body}")
}

impl AuthState {
    pub fn issue_access(&mut self, org_id: &str, user: usize) -> String {
        let token = random_token(&format!("{}!AQ", &org_id[..15]));
        self.access.insert(
            token.clone(),
            AccessToken {
                user,
                expired: false,
            },
        );
        token
    }

    pub fn issue_refresh(&mut self, user: usize) -> String {
        let token = random_token("5Aep861");
        self.refresh.insert(token.clone(), (user, true));
        token
    }

    pub fn expire_access_tokens(&mut self) {
        for t in self.access.values_mut() {
            t.expired = true;
        }
    }

    pub fn revoke_credentials(&mut self) {
        for v in self.refresh.values_mut() {
            v.1 = false;
        }
        self.client_credentials_revoked = true;
        self.expire_access_tokens();
    }
}

/// A query's result rows, kept for `nextRecordsUrl` paging.
#[derive(Debug)]
pub(crate) struct Cursor {
    pub object: Obj,
    pub fields: Vec<FieldPath>,
    pub rows: Vec<u32>,
    pub total_size: usize,
    pub batch: usize,
    pub tooling: bool,
    pub version: String,
}

const MAX_CURSORS: usize = 500;

pub(crate) struct Shared {
    pub org: OrgHandle,
    pub opts: SimOptions,
    pub base_url: OnceLock<String>,
    /// The URL clients are given instead of `base_url` (a forwarder in front of the simulator).
    pub advertised: Mutex<Option<String>>,
    auth: Mutex<AuthState>,
    cursors: Mutex<BTreeMap<u64, Arc<Cursor>>>,
    cursor_seq: AtomicU64,
    pub used: AtomicU64,
    pub limit: AtomicU64,
    pub counts: Mutex<RequestCounts>,
    pub faults: Faults,
}

/// Which counter a request adds to.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Kind {
    Token,
    Authorize,
    Query,
    Tooling,
    Metadata,
    Other,
}

impl Shared {
    pub fn new(org: OrgData, opts: SimOptions) -> Self {
        let integration = org.integration_user.map_or(0, |u| u.0);
        let mut auth = AuthState::default();
        auth.initial_refresh = auth.issue_refresh(integration);
        Shared {
            org: OrgHandle(Arc::new(Mutex::new(org))),
            used: AtomicU64::new(opts.api_usage_start),
            limit: AtomicU64::new(opts.api_limit),
            opts,
            base_url: OnceLock::new(),
            advertised: Mutex::new(None),
            auth: Mutex::new(auth),
            cursors: Mutex::new(BTreeMap::new()),
            cursor_seq: AtomicU64::new(0),
            counts: Mutex::new(RequestCounts::default()),
            faults: Faults::default(),
        }
    }

    /// The simulator's URL as clients know it: the advertised one, else where it listens.
    pub fn base(&self) -> String {
        let advertised = self.advertised.lock().unwrap_or_else(|p| p.into_inner());
        advertised
            .clone()
            .or_else(|| self.base_url.get().cloned())
            .unwrap_or_else(|| "http://127.0.0.1".to_string())
    }

    pub fn auth(&self) -> MutexGuard<'_, AuthState> {
        self.auth.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn integration_user(&self) -> usize {
        self.org.lock().integration_user.map_or(0, |u: UserRef| u.0)
    }

    pub fn credentials(&self) -> SimCredentials {
        let jwt_username = {
            let org = self.org.lock();
            org.integration_user
                .map(|u| org.users[u.0].username.clone())
                .unwrap_or_else(|| "integration@sim.invalid".to_string())
        };
        SimCredentials {
            client_id: self.opts.client_id.clone(),
            client_secret: self.opts.client_secret.clone(),
            refresh_token: self.auth().initial_refresh.clone(),
            jwt_username,
            private_key_pem: test_key().1.clone(),
        }
    }

    pub fn count(&self, kind: Kind) {
        let mut c = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        match kind {
            Kind::Token => c.token += 1,
            Kind::Authorize => c.authorize += 1,
            Kind::Query => c.query += 1,
            Kind::Tooling => c.tooling += 1,
            Kind::Metadata => c.metadata += 1,
            Kind::Other => c.other += 1,
        }
    }

    pub fn count_page(&self, object: Obj) {
        let mut c = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        *c.pages_by_object
            .entry(object.name().to_string())
            .or_default() += 1;
    }

    /// Takes a protocol fault for `path`: `ExpireToken` ends every session issued so far,
    /// `RevokeCredential` revokes the refresh tokens and the client-credentials grant.
    pub fn apply_protocol_faults(&self, path: &str) {
        match self.faults.take_protocol(path) {
            Some(Fault::ExpireToken) => self.auth().expire_access_tokens(),
            Some(Fault::RevokeCredential) => self.auth().revoke_credentials(),
            _ => {}
        }
    }

    /// Applies protocol faults for `path`, then resolves the bearer token to a user.
    pub fn session_user(&self, path: &str, token: Option<&str>) -> Option<usize> {
        self.apply_protocol_faults(path);
        let token = token?;
        let auth = self.auth();
        auth.access
            .get(token)
            .filter(|t| !t.expired)
            .map(|t| t.user)
    }

    /// Counts one API call against the daily allocation; `Err` once it is used up.
    pub fn spend_call(&self) -> Result<(u64, u64), (u64, u64)> {
        let limit = self.limit.load(Ordering::SeqCst);
        let result = self
            .used
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |u| {
                (u < limit).then_some(u + 1)
            });
        match result {
            Ok(prev) => Ok((prev + 1, limit)),
            Err(now) => Err((now, limit)),
        }
    }

    pub fn store_cursor(&self, cursor: Cursor) -> (String, Arc<Cursor>) {
        let seq = self.cursor_seq.fetch_add(1, Ordering::SeqCst) + 1;
        let cursor = Arc::new(cursor);
        let mut map = self.cursors.lock().unwrap_or_else(|p| p.into_inner());
        map.insert(seq, cursor.clone());
        while map.len() > MAX_CURSORS {
            map.pop_first();
        }
        (format!("01gSIM{seq:09}"), cursor)
    }

    pub fn cursor(&self, locator: &str) -> Option<Arc<Cursor>> {
        let seq: u64 = locator.strip_prefix("01gSIM")?.parse().ok()?;
        self.cursors
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&seq)
            .cloned()
    }
}

/// The bearer token of a request, if any.
pub(crate) fn bearer(headers: &HeaderMap) -> Option<&str> {
    let v = headers.get("authorization")?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    (scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("oauth"))
        .then_some(token.trim())
}

/// A REST error: a JSON array of `{message, errorCode}`.
pub(crate) fn rest_error(
    status: StatusCode,
    code: &str,
    message: &str,
    limit: Option<(u64, u64)>,
) -> Response {
    let body = serde_json::json!([{ "message": message, "errorCode": code }]);
    json_response(status, &body, limit)
}

pub(crate) fn json_response(
    status: StatusCode,
    body: &serde_json::Value,
    limit: Option<(u64, u64)>,
) -> Response {
    json_text_response(status, body.to_string(), limit)
}

/// A JSON body already written as text.
pub(crate) fn json_text_response(
    status: StatusCode,
    body: String,
    limit: Option<(u64, u64)>,
) -> Response {
    let mut resp = (status, body).into_response();
    let h = resp.headers_mut();
    h.insert(
        "content-type",
        "application/json;charset=UTF-8".parse().expect("static"),
    );
    if let Some((used, max)) = limit {
        h.insert(
            "sforce-limit-info",
            format!("api-usage={used}/{max}").parse().expect("ascii"),
        );
    }
    resp
}
