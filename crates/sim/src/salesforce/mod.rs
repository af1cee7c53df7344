//! A simulated Salesforce org, faithful on the wire.
//!
//! [`SalesforceSim::start`] serves an [`OrgData`] on a loopback port with the endpoints a
//! read-only sync uses, in Salesforce's own shapes (see `reference/salesforce-api.md`):
//!
//! * `POST /services/oauth2/token` — on the base URL (the org's My Domain) and under
//!   `/login` and `/test` (login.salesforce.com and test.salesforce.com, which refuse
//!   client credentials with "request not supported on this domain"); JWT `aud` must be a
//!   documented audience unless [`SimOptions::accept_my_domain_audience`]. Grants:
//!   `authorization_code` (with the PKCE rules),
//!   `refresh_token` (optional rotation), JWT bearer (RS256 verified against the key in
//!   [`SimCredentials::private_key_pem`]) and `client_credentials`; the exact success body
//!   (ms `issued_at`, HMAC `signature`, `id` URL, no `expires_in`) and error bodies.
//! * `GET /services/oauth2/authorize` (302 back with `code`/`state`, or `access_denied`),
//!   `POST /services/oauth2/revoke`, `GET /id/{org}/{user}`.
//! * `GET /services/data/`, `GET /services/data/vXX.X/limits`,
//!   `GET /services/data/vXX.X/query` and `/tooling/query` with a SOQL subset and real
//!   `nextRecordsUrl` paging, `Sforce-Query-Options: batchSize`, `Sforce-Limit-Info`,
//!   the daily limit, `INVALID_SESSION_ID`, `INVALID_TYPE`, `INVALID_FIELD`,
//!   `MALFORMED_QUERY`, and the OauthToken 500/2,500 row cap.
//! * `POST /services/Soap/m/{version}` — Metadata API `readMetadata` of `SecuritySettings`
//!   and `Profile` and `listMetadata` of `Profile`, or a SOAP fault when the Metadata API is
//!   not permitted.
//! * What the reading user may see ([`UserPermissions`], `OrgData::integration_permissions`):
//!   `OauthToken` rows of other users only with Customize Application, `UserLogin` only with
//!   Manage Users, the Metadata API only with Modify Metadata or Modify All Data, and
//!   `UserPermissionAccess` answering for the reader. Standard profile names are translated
//!   into `OrgData::language` ([`Language`]); `listMetadata` keeps the API names.
//!
//! Faults from [`crate::faults`] apply to every path; `ExpireToken` on a data path expires
//! the access tokens issued so far, `RevokeCredential` revokes the refresh tokens (and the
//! client-credentials grant).

mod access;
mod cost;
mod generate;
pub mod ids;
mod metadata;
mod oauth;
mod org;
mod rest;
mod schema;
mod soql;
mod state;

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;
use axum::routing::{get, post};

pub use access::{Language, UserPermissions};
pub use generate::GenerateSpec;
pub use org::{
    Assignment, AssignmentTarget, AuditEntry, CronJob, GroupRef, HEALTH_CHECK_ENFORCE_IP_RANGES,
    HEALTH_CHECK_LOCK_SESSIONS, HealthCheckRisk, IpRange, OauthToken, OrgData, PermissionSet,
    PermissionSetGroup, PermissionSetRef, Profile, ProfileRef, Role, RoleRef, SecuritySettings,
    User, UserRef, prefix,
};
pub use schema::format_datetime;

use crate::faults::{self, Faults};
use crate::server::{Running, serve};
use state::Shared;

/// The Metadata API field the simulator writes for "enforce login IP ranges on every
/// request". The real name is UNCONFIRMED; the client keeps its own constant.
pub const ENFORCE_IP_RANGES_FIELD: &str = "enforceIpRangesEveryRequest";

/// OauthToken's row cap: pages of `page` rows and at most `total` rows per query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OauthTokenCap {
    pub page: usize,
    pub total: usize,
}

/// How the simulated org behaves (as opposed to what it holds).
#[derive(Debug, Clone)]
pub struct SimOptions {
    pub client_id: String,
    pub client_secret: String,
    /// Each refresh returns a new refresh token and invalidates the old one.
    pub rotate_refresh_tokens: bool,
    /// `/authorize` redirects back with `error=access_denied`.
    pub deny_authorization: bool,
    /// `Sforce-Query-Options: batchSize` is clamped to `[min_batch_size, max_batch_size]`
    /// (Salesforce: 200..2000; tests may lower the minimum to page tiny orgs).
    pub min_batch_size: usize,
    pub max_batch_size: usize,
    /// `None` disables the cap.
    pub oauth_token_cap: Option<OauthTokenCap>,
    /// Daily API allocation and the usage the org starts with.
    pub api_limit: u64,
    pub api_usage_start: u64,
    /// Objects that answer `INVALID_TYPE` (no permission, or not in this edition).
    pub hidden_objects: Vec<String>,
    /// `(object, field)` pairs that answer `INVALID_FIELD`.
    pub hidden_fields: Vec<(String, String)>,
    /// When false, Metadata API calls get an `INSUFFICIENT_ACCESS` SOAP fault.
    pub metadata_api: bool,
    /// The `instance_url` token responses carry instead of the simulator's own URL: a hostile
    /// or broken token endpoint, for the clients' checks of that value.
    pub instance_url: Option<String>,
    /// JWT bearer also accepts the My Domain URL as `aud`, which some real orgs do; the
    /// documented audiences (login.salesforce.com, test.salesforce.com) always work.
    pub accept_my_domain_audience: bool,
}

impl Default for SimOptions {
    fn default() -> Self {
        SimOptions {
            client_id: "3MVG9SIMULATEDCONSUMERKEY.idgap.test".to_string(),
            client_secret: "SIMSECRET0123456789ABCDEF".to_string(),
            rotate_refresh_tokens: false,
            deny_authorization: false,
            min_batch_size: 200,
            max_batch_size: 2000,
            oauth_token_cap: Some(OauthTokenCap {
                page: 500,
                total: 2500,
            }),
            api_limit: 100_000,
            api_usage_start: 0,
            hidden_objects: Vec::new(),
            hidden_fields: Vec::new(),
            metadata_api: true,
            instance_url: None,
            accept_my_domain_audience: false,
        }
    }
}

impl SimOptions {
    pub fn rotate_refresh_tokens(mut self) -> Self {
        self.rotate_refresh_tokens = true;
        self
    }

    pub fn min_batch_size(mut self, n: usize) -> Self {
        self.min_batch_size = n.max(1);
        self
    }

    pub fn api_usage(mut self, used: u64, limit: u64) -> Self {
        self.api_usage_start = used;
        self.api_limit = limit;
        self
    }

    pub fn oauth_token_cap(mut self, cap: Option<OauthTokenCap>) -> Self {
        self.oauth_token_cap = cap;
        self
    }

    /// The object answers `INVALID_TYPE` (an edition without it). Permission effects are
    /// modelled by [`OrgData::integration_permissions`] instead.
    pub fn hide_object(mut self, object: &str) -> Self {
        self.hidden_objects.push(object.to_string());
        self
    }

    pub fn hide_field(mut self, object: &str, field: &str) -> Self {
        self.hidden_fields
            .push((object.to_string(), field.to_string()));
        self
    }

    pub fn deny_metadata_api(mut self) -> Self {
        self.metadata_api = false;
        self
    }

    pub fn instance_url(mut self, url: &str) -> Self {
        self.instance_url = Some(url.to_string());
        self
    }

    pub fn deny_authorization(mut self) -> Self {
        self.deny_authorization = true;
        self
    }
}

/// What a client needs to authenticate against the simulator. TEST-ONLY values.
#[derive(Debug, Clone)]
pub struct SimCredentials {
    pub client_id: String,
    pub client_secret: String,
    /// A valid refresh token for the integration user, issued at start.
    pub refresh_token: String,
    /// The integration user's username, for the JWT `sub` claim.
    pub jwt_username: String,
    /// PKCS#8 PEM of an RSA key generated for this process; the simulator trusts its
    /// public half for JWT bearer assertions.
    pub private_key_pem: String,
}

/// Requests served, by kind (faults injected by the middleware are not counted).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestCounts {
    pub token: u64,
    pub authorize: u64,
    /// REST `query` calls, first pages and `nextRecordsUrl` pages alike.
    pub query: u64,
    /// Tooling `query` calls, first pages and more.
    pub tooling: u64,
    /// Metadata API SOAP calls.
    pub metadata: u64,
    /// Other REST calls (versions, limits, identity).
    pub other: u64,
    /// Pages served per sObject (REST and Tooling), e.g. `"User" → 25`.
    pub pages_by_object: BTreeMap<String, u64>,
}

/// A shared, lockable handle to the org a running simulator serves; change it between syncs.
#[derive(Debug, Clone)]
pub struct OrgHandle(Arc<Mutex<OrgData>>);

impl OrgHandle {
    pub fn lock(&self) -> MutexGuard<'_, OrgData> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn update<R>(&self, f: impl FnOnce(&mut OrgData) -> R) -> R {
        f(&mut self.lock())
    }
}

/// A running simulated org. Dropping it stops the server.
pub struct SalesforceSim {
    running: Running,
    shared: Arc<Shared>,
}

impl SalesforceSim {
    /// Serves `org` on `127.0.0.1` at a free port.
    pub async fn start(org: OrgData, opts: SimOptions) -> std::io::Result<SalesforceSim> {
        let shared = Arc::new(Shared::new(org, opts));
        let router = router(shared.clone());
        let running = serve(router, 0).await?;
        shared
            .base_url
            .set(running.base_url())
            .expect("base URL is set once");
        Ok(SalesforceSim { running, shared })
    }

    /// `http://127.0.0.1:PORT` — the org's My Domain: its login host and instance URL.
    pub fn base_url(&self) -> String {
        self.running.base_url()
    }

    /// Token responses (`instance_url`, `id`) name `base_url` instead of the listening address,
    /// as Salesforce names the org's public host: for a simulator reached through a forwarder.
    pub fn advertise(&self, base_url: &str) {
        *self
            .shared
            .advertised
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = Some(base_url.to_string());
    }

    /// Stands in for `https://login.salesforce.com`: only its token endpoint is served,
    /// which refuses client credentials as the real one does.
    pub fn generic_login_url(&self) -> String {
        format!("{}/login", self.running.base_url())
    }

    /// Stands in for `https://test.salesforce.com`, like [`Self::generic_login_url`].
    pub fn generic_sandbox_login_url(&self) -> String {
        format!("{}/test", self.running.base_url())
    }

    pub fn faults(&self) -> &Faults {
        &self.shared.faults
    }

    pub fn credentials(&self) -> SimCredentials {
        self.shared.credentials()
    }

    pub fn org(&self) -> OrgHandle {
        self.shared.org.clone()
    }

    pub fn options(&self) -> &SimOptions {
        &self.shared.opts
    }

    pub fn requests(&self) -> RequestCounts {
        self.shared
            .counts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Every request served so far, in arrival order (for replaying them in benchmarks).
    pub fn request_log(&self) -> &crate::record::RequestLog {
        self.running.request_log()
    }

    pub fn reset_request_counts(&self) {
        *self.shared.counts.lock().unwrap_or_else(|p| p.into_inner()) = RequestCounts::default();
    }

    /// `(used, limit)` of the daily API allocation.
    pub fn api_usage(&self) -> (u64, u64) {
        (
            self.shared.used.load(Ordering::SeqCst),
            self.shared.limit.load(Ordering::SeqCst),
        )
    }

    pub fn set_api_usage(&self, used: u64) {
        self.shared.used.store(used, Ordering::SeqCst);
    }

    /// Expires every access token issued so far (the session timeout passing).
    pub fn expire_access_tokens(&self) {
        self.shared.auth().expire_access_tokens();
    }

    /// Revokes every refresh token and the client-credentials grant.
    pub fn revoke_refresh_tokens(&self) {
        self.shared.auth().revoke_credentials();
    }

    /// Issues another refresh token for the integration user.
    pub fn issue_refresh_token(&self) -> String {
        let user = self.shared.integration_user();
        self.shared.auth().issue_refresh(user)
    }
}

fn router(shared: Arc<Shared>) -> Router {
    let faults = shared.faults.clone();
    Router::new()
        .route("/services/oauth2/token", post(oauth::token))
        .route("/login/services/oauth2/token", post(oauth::token_on_login))
        .route("/test/services/oauth2/token", post(oauth::token_on_test))
        .route("/services/oauth2/authorize", get(oauth::authorize))
        .route("/services/oauth2/revoke", post(oauth::revoke))
        .route("/id/{org}/{user}", get(rest::identity))
        .route("/services/data", get(rest::versions))
        .route("/services/data/", get(rest::versions))
        .route("/services/data/{ver}/limits", get(rest::limits))
        .route("/services/data/{ver}/query", get(rest::query))
        // Salesforce answers `query/?q=` like `query?q=` (simple-salesforce sends the slash).
        .route("/services/data/{ver}/query/", get(rest::query))
        .route(
            "/services/data/{ver}/query/{locator}",
            get(rest::query_more),
        )
        .route(
            "/services/data/{ver}/tooling/query",
            get(rest::tooling_query),
        )
        .route(
            "/services/data/{ver}/tooling/query/",
            get(rest::tooling_query),
        )
        .route(
            "/services/data/{ver}/tooling/query/{locator}",
            get(rest::tooling_query_more),
        )
        .route("/services/Soap/m/{ver}", post(metadata::soap))
        .with_state(shared.clone())
        .layer(axum::middleware::from_fn_with_state(faults, faults::layer))
}
