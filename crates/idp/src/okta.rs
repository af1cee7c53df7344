//! Okta: `GET /api/v1/users` with `Link` paging, in two passes because the plain list
//! leaves out DEPROVISIONED users.
//!
//! Auth is an API token (`SSWS`) or an OAuth service app: client credentials with a
//! `private_key_jwt` assertion, optionally bound to an ephemeral key with DPoP (on by default
//! for new Okta service apps). The OAuth token is renewed when it runs out or on a 401.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use idgap_model::{AccountStatus, IdpAccount};
use idgap_net::{Attempt, Http, HttpResponse, Method, SecretString, StatusCode, parse_retry_after};
use serde::Deserialize;
use serde_json::json;

use crate::IdpError;
use crate::jwt::{self, DpopKey};
use crate::paging::{identifiers, parse_json, same_origin, target_of, token_lifetime};

const PROVIDER: &str = "Okta";
/// The one scope a read-only sync needs.
pub const OKTA_SCOPE: &str = "okta.users.read";
/// Okta's maximum (and default) page size for `/api/v1/users`.
pub const OKTA_MAX_PAGE: u32 = 200;
const NOT_OKTA: &str = "check that the domain is your Okta org (e.g. acme.okta.com)";
/// Renew the OAuth token this long before Okta says it expires.
const TOKEN_MARGIN: Duration = Duration::from_secs(30);

#[derive(Debug, Clone)]
pub struct OktaConfig {
    /// The org's host, e.g. `acme.okta.com`.
    pub domain: String,
    /// Endpoint override (a simulator, a proxy); still subject to the host allow-list.
    pub base_url: Option<String>,
    pub auth: OktaAuth,
    /// Users per page, at most 200.
    pub page_size: u32,
}

#[derive(Debug, Clone)]
pub enum OktaAuth {
    /// `Authorization: SSWS {token}`.
    ApiToken(SecretString),
    /// An API Services app with the `okta.users.read` scope and a read-only admin role.
    ServiceApp {
        client_id: String,
        /// RSA private key (PEM) whose public JWK is registered on the app.
        private_key_pem: SecretString,
        /// The `kid` of that JWK, when the app has several keys.
        key_id: Option<String>,
        /// Bind tokens with DPoP ("Require DPoP" on the app; Okta's default for new apps).
        dpop: bool,
    },
}

impl OktaConfig {
    pub fn new(domain: impl Into<String>, auth: OktaAuth) -> Self {
        OktaConfig {
            domain: domain.into(),
            base_url: None,
            auth,
            page_size: OKTA_MAX_PAGE,
        }
    }

    /// `https://{domain}` unless overridden; no trailing slash.
    pub fn base(&self) -> String {
        match &self.base_url {
            Some(b) => b.trim_end_matches('/').to_string(),
            None => {
                let host = self
                    .domain
                    .trim()
                    .trim_start_matches("https://")
                    .trim_end_matches('/');
                format!("https://{host}")
            }
        }
    }

    /// `https://{domain}/oauth2/v1/token`, the org authorization server (not `/oauth2/default`).
    pub fn token_url(&self) -> String {
        format!("{}/oauth2/v1/token", self.base())
    }
}

/// Okta `status` → normalised status (table in `docs/identity-providers.md`). A status
/// this table does not know (a transitional `ACTIVATING`, or one Okta adds later) counts as
/// pending: never as switched off, so it cannot raise a stale-account finding by itself.
pub fn map_status(raw: &str) -> AccountStatus {
    match raw {
        "ACTIVE" | "PASSWORD_EXPIRED" | "RECOVERY" => AccountStatus::Active,
        "LOCKED_OUT" => AccountStatus::Locked,
        "SUSPENDED" => AccountStatus::Suspended,
        "DEPROVISIONED" => AccountStatus::Deprovisioned,
        _ => AccountStatus::Pending,
    }
}

fn is_known_status(raw: &str) -> bool {
    matches!(
        raw,
        "ACTIVE"
            | "PASSWORD_EXPIRED"
            | "RECOVERY"
            | "LOCKED_OUT"
            | "SUSPENDED"
            | "DEPROVISIONED"
            | "STAGED"
            | "PROVISIONED"
    )
}

pub(crate) async fn list_accounts(
    http: &Http,
    config: &OktaConfig,
) -> Result<Vec<IdpAccount>, IdpError> {
    if config.page_size == 0 || config.page_size > OKTA_MAX_PAGE {
        return Err(IdpError::Config {
            provider: PROVIDER,
            detail: format!(
                "page size {} is outside 1..=200, Okta's limit",
                config.page_size
            ),
        });
    }
    if config.base_url.is_none() && config.domain.trim().is_empty() {
        return Err(IdpError::Config {
            provider: PROVIDER,
            detail: "the Okta domain is empty; set it to your org's host, e.g. acme.okta.com"
                .into(),
        });
    }
    let mut client = OktaClient::new(http, config)?;
    let base = config.base();
    let limit = config.page_size;
    let passes = [
        format!("{base}/api/v1/users?limit={limit}"),
        // The plain list omits DEPROVISIONED users; `filter` returns them (and is not
        // eventually consistent, unlike `search`).
        format!("{base}/api/v1/users?limit={limit}&filter=status%20eq%20%22DEPROVISIONED%22"),
    ];
    let mut seen = HashSet::new();
    let mut unknown = HashSet::new();
    let mut accounts = Vec::new();
    for first in passes {
        let mut visited = HashSet::new();
        let mut next = Some(first.clone());
        while let Some(url) = next.take() {
            if !visited.insert(url.clone()) {
                return Err(IdpError::Protocol {
                    provider: PROVIDER,
                    target: target_of(&url),
                    detail:
                        "the next-page link repeats a page already read; stopping to avoid a loop"
                            .into(),
                });
            }
            let page = client.get_page(&url).await?;
            for user in page.users {
                if !is_known_status(&user.status) && unknown.insert(user.status.clone()) {
                    tracing::warn!(
                        status = %user.status,
                        "unknown Okta user status; treating such accounts as pending"
                    );
                }
                if seen.insert(user.id.clone()) {
                    accounts.push(user.into_account());
                }
            }
            if let Some(n) = &page.next {
                same_origin(PROVIDER, &first, n)?;
            }
            next = page.next;
        }
    }
    Ok(accounts)
}

#[derive(Debug, Deserialize)]
struct OktaUser {
    id: String,
    status: String,
    #[serde(default)]
    profile: OktaProfile,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct OktaProfile {
    login: Option<String>,
    email: Option<String>,
    second_email: Option<String>,
}

impl OktaUser {
    fn into_account(self) -> IdpAccount {
        let p = &self.profile;
        let ids = identifiers(
            [&p.login, &p.email]
                .into_iter()
                .filter_map(|v| v.as_deref()),
        );
        IdpAccount {
            login: p.login.clone().unwrap_or_default(),
            identifiers: ids,
            other_ids: Vec::new(),
            // Okta documents `secondEmail` as the user's secondary email (often private).
            personal_addresses: identifiers(p.second_email.as_deref()),
            status: map_status(&self.status),
            raw_status: self.status,
            id: self.id,
        }
    }
}

struct Page {
    users: Vec<OktaUser>,
    next: Option<String>,
}

/// What one resource call came back with, beyond a page.
enum Reply<T> {
    Ok(T),
    Unauthorized(String),
    /// 401 asking for a DPoP nonce on resource calls.
    UseNonce(String),
}

struct AccessToken {
    value: SecretString,
    expires_at: Instant,
    /// `token_type: DPoP`: bound to our key, so calls need `Authorization: DPoP` and a proof.
    dpop_bound: bool,
}

struct ServiceApp {
    client_id: String,
    private_key_pem: SecretString,
    key_id: Option<String>,
    dpop: Option<DpopKey>,
    token_nonce: Option<String>,
    /// The resource server's nonce, when it asks for one (separate from the token endpoint's).
    resource_nonce: Option<String>,
    token: Option<AccessToken>,
}

struct OktaClient<'a> {
    http: &'a Http,
    config: &'a OktaConfig,
    app: Option<ServiceApp>,
}

impl<'a> OktaClient<'a> {
    fn new(http: &'a Http, config: &'a OktaConfig) -> Result<Self, IdpError> {
        let app = match &config.auth {
            OktaAuth::ApiToken(token) => {
                if token.is_empty() {
                    return Err(IdpError::Config {
                        provider: PROVIDER,
                        detail: "the API token is empty".into(),
                    });
                }
                None
            }
            OktaAuth::ServiceApp {
                client_id,
                private_key_pem,
                key_id,
                dpop,
            } => {
                jwt::check_rsa_key(private_key_pem).map_err(|e| e.with_provider(PROVIDER))?;
                Some(ServiceApp {
                    client_id: client_id.clone(),
                    private_key_pem: private_key_pem.clone(),
                    key_id: key_id.clone(),
                    dpop: dpop.then(DpopKey::generate),
                    token_nonce: None,
                    resource_nonce: None,
                    token: None,
                })
            }
        };
        Ok(OktaClient { http, config, app })
    }

    async fn get_page(&mut self, url: &str) -> Result<Page, IdpError> {
        let mut renewed = false;
        let mut nonce_rounds = 0;
        loop {
            self.ensure_token().await?;
            match self.fetch_page(url).await? {
                Reply::Ok(page) => return Ok(page),
                Reply::Unauthorized(detail) => {
                    let Some(app) = self.app.as_mut().filter(|_| !renewed) else {
                        return Err(self.unauthorized(detail));
                    };
                    tracing::debug!("Okta refused the access token; renewing it once");
                    app.token = None;
                    renewed = true;
                }
                Reply::UseNonce(nonce) => {
                    nonce_rounds += 1;
                    match self.app.as_mut() {
                        Some(app) if nonce_rounds <= 2 => app.resource_nonce = Some(nonce),
                        _ => {
                            return Err(
                                self.unauthorized("Okta kept asking for a new DPoP nonce".into())
                            );
                        }
                    }
                }
            }
        }
    }

    fn unauthorized(&self, detail: String) -> IdpError {
        let hint = match &self.config.auth {
            OktaAuth::ApiToken(_) => {
                "The API token is wrong, expired or revoked (or its admin was deactivated): create a new one under Security → API → Tokens and update the Secret"
            }
            OktaAuth::ServiceApp { .. } => {
                "Okta refused a freshly issued access token: check that the service app is active and that DPoP is set the same way in idgap and on the app"
            }
        };
        IdpError::Auth {
            provider: PROVIDER,
            detail,
            hint: hint.into(),
        }
    }

    async fn fetch_page(&self, url: &str) -> Result<Reply<Page>, IdpError> {
        let max_attempts = self.http.retry_policy().max_attempts;
        let target = target_of(url);
        let mut attempt = 0;
        let authorization = self.authorization();
        let service_app = self.app.is_some();
        self.http
            .request(
                "Okta list users",
                Method::GET,
                url,
                |rb| {
                    let rb = rb.header("accept", "application/json");
                    let rb = match &authorization {
                        Some((value, _)) => rb.header("authorization", value.expose()),
                        None => rb,
                    };
                    match (&authorization, self.app.as_ref().and_then(|a| a.dpop.as_ref())) {
                        (Some((_, Some(token))), Some(key)) => rb.header(
                            "dpop",
                            key.proof("GET", url, self.app.as_ref().and_then(|a| a.resource_nonce.as_deref()), Some(token)),
                        ),
                        _ => rb,
                    }
                },
                |resp| {
                    attempt += 1;
                    match resp.status {
                        StatusCode::OK => {
                            let users = match parse_json::<Vec<OktaUser>, _>(
                                PROVIDER,
                                &target,
                                &resp,
                                attempt,
                                max_attempts,
                                NOT_OKTA,
                            ) {
                                Ok(u) => u,
                                Err(a) => return a,
                            };
                            let next = next_link(&resp.header_all("link"));
                            Attempt::Done(Reply::Ok(Page { users, next }))
                        }
                        StatusCode::UNAUTHORIZED => {
                            if let Some(nonce) = resource_nonce(&resp) {
                                return Attempt::Done(Reply::UseNonce(nonce));
                            }
                            Attempt::Done(Reply::Unauthorized(okta_error_text(&resp)))
                        }
                        StatusCode::FORBIDDEN => Attempt::Fail(IdpError::Permission {
                            provider: PROVIDER,
                            detail: okta_error_text(&resp),
                            hint: if service_app {
                                "The service app needs the okta.users.read scope (Okta API Scopes tab) and a read-only admin role (Admin roles tab)"
                            } else {
                                "The API token acts as the admin who created it; that admin needs a role that can read users (e.g. Read-only Administrator)"
                            }
                            .into(),
                        }),
                        status => retry_or_fail(&resp, status, &target),
                    }
                },
            )
            .await
    }

    /// The `Authorization` value, and the access token when DPoP proofs need its `ath`.
    fn authorization(&self) -> Option<(SecretString, Option<SecretString>)> {
        match (&self.config.auth, &self.app) {
            (OktaAuth::ApiToken(token), _) => {
                Some((SecretString::new(format!("SSWS {}", token.expose())), None))
            }
            (_, Some(app)) => app.token.as_ref().map(|t| {
                if t.dpop_bound && app.dpop.is_some() {
                    let value = SecretString::new(format!("DPoP {}", t.value.expose()));
                    (value, Some(t.value.clone()))
                } else {
                    (
                        SecretString::new(format!("Bearer {}", t.value.expose())),
                        None,
                    )
                }
            }),
            _ => None,
        }
    }

    /// Gets a new OAuth token when there is none or it is about to expire.
    async fn ensure_token(&mut self) -> Result<(), IdpError> {
        let token_url = self.config.token_url();
        let Some(app) = self.app.as_mut() else {
            return Ok(());
        };
        if app
            .token
            .as_ref()
            .is_some_and(|t| Instant::now() + TOKEN_MARGIN < t.expires_at)
        {
            return Ok(());
        }
        app.token = None;
        let mut nonce_rounds = 0;
        loop {
            match request_token(self.http, app, &token_url).await? {
                Reply::Ok(token) => {
                    app.token = Some(token);
                    return Ok(());
                }
                Reply::UseNonce(nonce) if nonce_rounds < 2 => {
                    nonce_rounds += 1;
                    app.token_nonce = Some(nonce);
                }
                Reply::UseNonce(_) | Reply::Unauthorized(_) => {
                    return Err(IdpError::Auth {
                        provider: PROVIDER,
                        detail: "the token endpoint kept asking for a new DPoP nonce".into(),
                        hint: "Check the clock of this machine and any proxy that might strip the DPoP header".into(),
                    });
                }
            }
        }
    }
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default)]
    token_type: String,
    #[serde(default)]
    expires_in: Option<u64>,
}

#[derive(Deserialize, Default)]
struct OAuthError {
    #[serde(default)]
    error: String,
    #[serde(default)]
    error_description: String,
}

async fn request_token(
    http: &Http,
    app: &ServiceApp,
    token_url: &str,
) -> Result<Reply<AccessToken>, IdpError> {
    let max_attempts = http.retry_policy().max_attempts;
    let target = target_of(token_url);
    let assertion = |app: &ServiceApp| {
        let now = jwt::now_epoch_seconds();
        let claims = json!({
            "iss": app.client_id,
            "sub": app.client_id,
            "aud": token_url,
            "iat": now,
            "exp": now + 300,
            "jti": jwt::new_jti(),
        });
        jwt::sign_rs256(&claims, &app.private_key_pem, app.key_id.as_deref())
    };
    // Sign once up front so a key problem surfaces as a clear error, not as a refused call.
    assertion(app).map_err(|e| e.with_provider(PROVIDER))?;
    let dpop_on = app.dpop.is_some();
    let mut attempt = 0;
    http.request(
        "Okta token",
        Method::POST,
        token_url,
        |rb| {
            // A fresh assertion per attempt: Okta may refuse a replayed `jti`.
            let signed = assertion(app).unwrap_or_default();
            let body = url::form_urlencoded::Serializer::new(String::new())
                .append_pair("grant_type", "client_credentials")
                .append_pair("scope", OKTA_SCOPE)
                .append_pair("client_assertion_type", jwt::CLIENT_ASSERTION_TYPE)
                .append_pair("client_assertion", &signed)
                .finish();
            let rb = rb
                .header("content-type", "application/x-www-form-urlencoded")
                .header("accept", "application/json")
                .body(body);
            match &app.dpop {
                Some(key) => rb.header("dpop", key.proof("POST", token_url, app.token_nonce.as_deref(), None)),
                None => rb,
            }
        },
        |resp| {
            attempt += 1;
            match resp.status {
                StatusCode::OK => {
                    match parse_json::<TokenResponse, _>(PROVIDER, &target, &resp, attempt, max_attempts, NOT_OKTA) {
                        Ok(t) => Attempt::Done(Reply::Ok(AccessToken {
                            value: SecretString::new(t.access_token),
                            expires_at: Instant::now() + token_lifetime(t.expires_in, 3600),
                            dpop_bound: t.token_type.eq_ignore_ascii_case("DPoP"),
                        })),
                        Err(a) => a,
                    }
                }
                StatusCode::BAD_REQUEST | StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                    let err: OAuthError = serde_json::from_slice(&resp.body).unwrap_or_default();
                    if err.error == "use_dpop_nonce"
                            && let Some(nonce) = resp.header("dpop-nonce")
                        {
                            return Attempt::Done(Reply::UseNonce(nonce.to_string()));
                    }
                    if err.error.is_empty() {
                        return Attempt::Fail(IdpError::Protocol {
                            provider: PROVIDER,
                            target: target.clone(),
                            detail: format!(
                                "the token endpoint answered {} without an OAuth error body; {NOT_OKTA}. Body starts: {}",
                                resp.status,
                                resp.body_excerpt()
                            ),
                        });
                    }
                    Attempt::Fail(token_error(&err, dpop_on))
                }
                status => retry_or_fail(&resp, status, &target),
            }
        },
    )
    .await
}

fn token_error(err: &OAuthError, dpop_on: bool) -> IdpError {
    let detail = format!(
        "token endpoint said `{}`: {}",
        err.error, err.error_description
    );
    let (permission, hint) = match err.error.as_str() {
        "invalid_client" => (
            false,
            "Check the client ID, and that the public key registered on the service app (and its key ID) matches this private key",
        ),
        "invalid_scope" => (
            true,
            "Grant the okta.users.read scope to the service app (Okta API Scopes tab) and give it a read-only admin role",
        ),
        "unauthorized_client" => (
            true,
            "Enable the Client Credentials grant on the service app and set client authentication to Public key / Private key",
        ),
        "invalid_dpop_proof" if !dpop_on => (
            false,
            "The app requires DPoP: set dpop: true in idgap's Okta settings, or turn off \"Require DPoP\" on the app",
        ),
        "invalid_dpop_proof" => (
            false,
            "Okta refused the DPoP proof: check this machine's clock and that no proxy rewrites the DPoP header",
        ),
        _ => (
            false,
            "Check the service app's client ID, key and grant settings",
        ),
    };
    if permission {
        IdpError::Permission {
            provider: PROVIDER,
            detail,
            hint: hint.into(),
        }
    } else {
        IdpError::Auth {
            provider: PROVIDER,
            detail,
            hint: hint.into(),
        }
    }
}

/// 429 and 5xx are retried (429 waits until `X-Rate-Limit-Reset`); anything else is a
/// protocol error that says what came back.
fn retry_or_fail<T>(resp: &HttpResponse, status: StatusCode, target: &str) -> Attempt<T, IdpError> {
    if status == StatusCode::TOO_MANY_REQUESTS {
        return Attempt::Retry {
            after: rate_limit_wait(resp).or_else(|| parse_retry_after(&resp.headers)),
            reason: format!("rate limited: {}", okta_error_text(resp)),
        };
    }
    if status.is_server_error() {
        return Attempt::Retry {
            after: parse_retry_after(&resp.headers),
            reason: format!("HTTP {status}"),
        };
    }
    Attempt::Fail(IdpError::Protocol {
        provider: PROVIDER,
        target: target.to_string(),
        detail: format!("HTTP {status}: {}; {NOT_OKTA}", okta_error_text(resp)),
    })
}

/// Time until `X-Rate-Limit-Reset` (epoch seconds), measured from the response's `Date`
/// when it has one (so a skewed local clock does not matter), else from now.
pub(crate) fn rate_limit_wait(resp: &HttpResponse) -> Option<Duration> {
    let reset: i64 = resp.header("x-rate-limit-reset")?.trim().parse().ok()?;
    let now = resp
        .header("date")
        .and_then(|d| {
            jiff::fmt::rfc2822::DateTimeParser::new()
                .parse_timestamp(d)
                .ok()
        })
        .unwrap_or_else(jiff::Timestamp::now);
    let millis = reset
        .saturating_mul(1000)
        .saturating_sub(now.as_millisecond());
    (millis > 0).then(|| Duration::from_millis(millis as u64))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OktaErrorBody {
    error_code: String,
    #[serde(default)]
    error_summary: String,
}

/// `E0000011: Invalid token provided`, or an excerpt when the body is not an Okta error.
fn okta_error_text(resp: &HttpResponse) -> String {
    match serde_json::from_slice::<OktaErrorBody>(&resp.body) {
        Ok(e) => format!("{}: {}", e.error_code, e.error_summary),
        Err(_) => format!("HTTP {} ({})", resp.status, resp.body_excerpt()),
    }
}

/// The nonce from a resource 401 `WWW-Authenticate: DPoP error="use_dpop_nonce"`.
fn resource_nonce(resp: &HttpResponse) -> Option<String> {
    let challenge = resp.header_all("www-authenticate").join(", ");
    if !challenge.contains("use_dpop_nonce") {
        return None;
    }
    resp.header("dpop-nonce").map(str::to_string)
}

/// The `rel="next"` URL among `Link` header values, whether they come as separate header
/// lines or comma-joined in one.
pub(crate) fn next_link(values: &[&str]) -> Option<String> {
    for value in values {
        let mut rest = *value;
        while let Some(open) = rest.find('<') {
            let Some(close) = rest[open..].find('>') else {
                break;
            };
            let url = &rest[open + 1..open + close];
            let after = &rest[open + close + 1..];
            let params_end = after.find('<').unwrap_or(after.len());
            let params = &after[..params_end];
            let is_next = params.split(';').any(|p| {
                let p = p.trim().trim_end_matches(',').trim();
                p.strip_prefix("rel=")
                    .map(|r| {
                        r.trim_matches('"')
                            .split_whitespace()
                            .any(|r| r.eq_ignore_ascii_case("next"))
                    })
                    .unwrap_or(false)
            });
            if is_next {
                return Some(url.to_string());
            }
            rest = &after[params_end..];
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_okta_status_maps_as_documented() {
        let table = [
            ("ACTIVE", AccountStatus::Active),
            ("PASSWORD_EXPIRED", AccountStatus::Active),
            ("RECOVERY", AccountStatus::Active),
            ("LOCKED_OUT", AccountStatus::Locked),
            ("SUSPENDED", AccountStatus::Suspended),
            ("DEPROVISIONED", AccountStatus::Deprovisioned),
            ("STAGED", AccountStatus::Pending),
            ("PROVISIONED", AccountStatus::Pending),
            ("ACTIVATING", AccountStatus::Pending),
            ("SOMETHING_NEW", AccountStatus::Pending),
        ];
        for (raw, want) in table {
            assert_eq!(map_status(raw), want, "{raw}");
        }
    }

    #[test]
    fn next_link_from_separate_lines_and_joined_values() {
        let lines = [
            r#"<https://a.okta.com/api/v1/users?limit=2>; rel="self""#,
            r#"<https://a.okta.com/api/v1/users?after=00u2&limit=2>; rel="next""#,
        ];
        assert_eq!(
            next_link(&lines).as_deref(),
            Some("https://a.okta.com/api/v1/users?after=00u2&limit=2")
        );
        let joined = [
            r#"<https://a.okta.com/api/v1/users?after=00ub&limit=2>; rel="next", <https://a.okta.com/api/v1/users?limit=2>; rel="self""#,
        ];
        assert_eq!(
            next_link(&joined).as_deref(),
            Some("https://a.okta.com/api/v1/users?after=00ub&limit=2")
        );
        assert_eq!(next_link(&[r#"<https://a.okta.com/x>; rel="self""#]), None);
        assert_eq!(next_link(&[]), None);
    }

    #[test]
    fn user_normalisation_collects_login_and_email_and_keeps_second_email_apart() {
        let user: OktaUser = serde_json::from_value(json!({
            "id": "00u1", "status": "SUSPENDED",
            "profile": {"login": "Ada@Acme.com", "email": "ada@acme.com", "secondEmail": " Ada.L@Home.example ", "firstName": "Ada"}
        }))
        .unwrap();
        let account = user.into_account();
        assert_eq!(account.identifiers, vec!["ada@acme.com"]);
        assert_eq!(account.personal_addresses, vec!["ada.l@home.example"]);
        assert_eq!(account.status, AccountStatus::Suspended);
        assert_eq!(account.raw_status, "SUSPENDED");
        assert_eq!(account.login, "Ada@Acme.com");
    }

    #[test]
    fn rate_limit_wait_is_measured_from_the_date_header() {
        let mut headers = idgap_net::HeaderMap::new();
        headers.insert("x-rate-limit-reset", "1609459202".parse().unwrap());
        headers.insert("date", "Fri, 01 Jan 2021 00:00:00 GMT".parse().unwrap());
        let resp = HttpResponse {
            status: StatusCode::TOO_MANY_REQUESTS,
            headers,
            body: Vec::new(),
        };
        assert_eq!(rate_limit_wait(&resp), Some(Duration::from_secs(2)));
    }
}

/// Fuzz-style properties for everything Okta sends: user pages, `Link` headers, rate-limit
/// headers, error and token bodies. Never a panic; an accepted page holds every user.
#[cfg(test)]
mod robustness {
    use super::*;
    use crate::paging::robustness::{apply, array_len, config, mutation, prefixes, response};
    use proptest::prelude::*;
    use serde_json::Value;

    fn users() -> Value {
        json!([
            {"id": "00u1", "status": "ACTIVE", "created": "2020-01-01T00:00:00.000Z",
             "profile": {"login": "ada@acme.com", "email": "ada@acme.com", "secondEmail": null, "firstName": "Ada"},
             "_links": {"self": {"href": "https://a.okta.com/api/v1/users/00u1"}}},
            {"id": "00u2", "status": "DEPROVISIONED", "profile": {"login": "bob@acme.com"}}
        ])
    }

    proptest! {
        #![proptest_config(config())]

        #[test]
        fn user_pages_are_whole_or_refused(m in mutation()) {
            let body = apply(&users(), &m);
            if let Ok(page) = serde_json::from_slice::<Vec<OktaUser>>(&body) {
                prop_assert_eq!(Some(page.len()), array_len(&body, "", 0));
                for user in page {
                    let raw = user.status.clone();
                    let account = user.into_account();
                    prop_assert_eq!(account.raw_status, raw);
                    prop_assert!(account.identifiers.iter().all(|i| !i.is_empty()));
                }
            }
        }

        #[test]
        fn link_headers_of_any_text_never_panic(values in prop::collection::vec(any::<String>(), 0..4)) {
            let refs: Vec<&str> = values.iter().map(String::as_str).collect();
            if let Some(url) = next_link(&refs) {
                let bracketed = format!("<{url}>");
                prop_assert!(values.iter().any(|v| v.contains(&bracketed)), "{}", url);
            }
        }

        #[test]
        fn link_headers_built_from_hostile_parts_find_only_a_real_next(
            parts in prop::collection::vec(
                ("[^<>]{0,12}", prop::sample::select(vec!["next", "self", "prev", "nextish", "\"next\"", "\"self next\"", ""]),
                 prop::sample::select(vec!["; rel=", ";rel=", "; REL=", ",", ";", "; rel= "])),
                0..5,
            ),
            joined in any::<bool>(),
        ) {
            let links: Vec<String> = parts.iter().map(|(url, rel, sep)| format!("<{url}>{sep}{rel}")).collect();
            let values: Vec<String> = if joined { vec![links.join(", ")] } else { links.clone() };
            let refs: Vec<&str> = values.iter().map(String::as_str).collect();
            let found = next_link(&refs);
            // What follows `rel=` in each link, as the header states it.
            let expected = parts
                .iter()
                .find(|(_, rel, sep)| {
                    let value = match *sep {
                        "; rel=" | ";rel=" => rel.to_string(),
                        "; rel= " => format!(" {rel}"),
                        _ => return false,
                    };
                    value.trim_matches('"').split_whitespace().any(|r| r.eq_ignore_ascii_case("next"))
                })
                .map(|(url, _, _)| url.clone());
            prop_assert_eq!(found, expected);
        }

        #[test]
        fn rate_limit_headers_of_any_text_never_panic(reset in any::<String>(), date in any::<String>()) {
            let resp = response(429, Vec::new(), &[("x-rate-limit-reset", &reset), ("date", &date)]);
            let _ = rate_limit_wait(&resp);
            let _ = retry_or_fail::<()>(&resp, StatusCode::TOO_MANY_REQUESTS, "https://a.okta.com");
        }

        #[test]
        fn rate_limit_waits_of_any_integer_never_overflow(reset in any::<i64>(), dated in any::<bool>()) {
            let reset = reset.to_string();
            let mut headers = vec![("x-rate-limit-reset", reset.as_str())];
            if dated {
                headers.push(("date", "Sat, 01 Jan -9999 00:00:00 GMT"));
                headers.push(("date", "Fri, 31 Dec 9999 23:59:59 GMT"));
            }
            let _ = rate_limit_wait(&response(429, Vec::new(), &headers));
        }

        #[test]
        fn error_and_token_bodies_never_panic(m in mutation(), status in prop::sample::select(vec![400u16, 401, 403, 404, 429, 500])) {
            let error = apply(&json!({"errorCode": "E0000011", "errorSummary": "Invalid token provided", "errorCauses": []}), &m);
            let resp = response(status, error, &[("www-authenticate", "DPoP error=\"use_dpop_nonce\"")]);
            let _ = okta_error_text(&resp);
            let _ = resource_nonce(&resp);
            let token = apply(&json!({"token_type": "DPoP", "expires_in": 3600, "access_token": "eyJ", "scope": "okta.users.read"}), &m);
            if let Ok(t) = serde_json::from_slice::<TokenResponse>(&token) {
                let _ = Instant::now() + token_lifetime(t.expires_in, 3600);
            }
            if let Ok(e) = serde_json::from_slice::<OAuthError>(&token) {
                let _ = token_error(&e, true);
            }
        }
    }

    #[test]
    fn a_cut_user_page_is_never_read() {
        for prefix in prefixes(&users()) {
            assert!(serde_json::from_slice::<Vec<OktaUser>>(&prefix).is_err());
        }
    }

    /// Regression: `reset * 1000 - now` overflowed (a debug-build panic) for a reset of
    /// `i64::MIN`, and for `i64::MAX` against a `Date` before 1970.
    #[test]
    fn rate_limit_extremes_saturate() {
        let min = i64::MIN.to_string();
        let resp = response(429, Vec::new(), &[("x-rate-limit-reset", &min)]);
        assert_eq!(rate_limit_wait(&resp), None);
        let max = i64::MAX.to_string();
        let resp = response(
            429,
            Vec::new(),
            &[
                ("x-rate-limit-reset", &max),
                ("date", "Fri, 01 Jan 1960 00:00:00 GMT"),
            ],
        );
        assert_eq!(
            rate_limit_wait(&resp),
            Some(Duration::from_millis(i64::MAX as u64))
        );
    }

    /// Regression: `expires_in: u64::MAX` overflowed `Instant` (a panic in every build).
    #[test]
    fn an_absurd_token_lifetime_is_capped() {
        let t: TokenResponse =
            serde_json::from_str(r#"{"access_token":"x","expires_in":18446744073709551615}"#)
                .unwrap();
        let lifetime = token_lifetime(t.expires_in, 3600);
        assert_eq!(lifetime, crate::paging::MAX_TOKEN_LIFETIME);
        let _ = Instant::now() + lifetime;
    }
}

/// Entry points for the coverage-guided fuzz targets in `fuzz/`: the parsers the robustness
/// properties above call. No behaviour of its own.
#[doc(hidden)]
pub mod fuzzing {
    use super::*;
    use crate::paging::fuzzing::Answer;

    pub fn user_page(body: &[u8]) -> Option<Vec<IdpAccount>> {
        let users = serde_json::from_slice::<Vec<OktaUser>>(body).ok()?;
        Some(users.into_iter().map(OktaUser::into_account).collect())
    }

    pub fn next_link(values: &[&str]) -> Option<String> {
        super::next_link(values)
    }

    /// The wait a `429` asks for, and what the client decides about the response.
    pub fn rate_limit(resp: &HttpResponse) -> (Option<Duration>, Answer<()>) {
        let attempt = retry_or_fail::<()>(resp, resp.status, "https://acme.okta.com/api/v1/users");
        (
            rate_limit_wait(resp),
            Answer::from_attempt(attempt, |()| Answer::Done(())),
        )
    }

    /// The error text of a non-`200` answer and a resource server's DPoP nonce.
    pub fn error_response(resp: &HttpResponse) -> (String, Option<String>) {
        (okta_error_text(resp), resource_nonce(resp))
    }

    /// A token endpoint body read as a token (DPoP-bound?, lifetime) and as an OAuth error.
    pub fn token_response(body: &[u8]) -> (Option<(bool, Duration)>, Option<[IdpError; 2]>) {
        let token = serde_json::from_slice::<TokenResponse>(body).ok().map(|t| {
            let lifetime = token_lifetime(t.expires_in, 3600);
            let _ = Instant::now() + lifetime;
            (t.token_type.eq_ignore_ascii_case("DPoP"), lifetime)
        });
        let error = serde_json::from_slice::<OAuthError>(body)
            .ok()
            .map(|e| [token_error(&e, false), token_error(&e, true)]);
        (token, error)
    }
}
