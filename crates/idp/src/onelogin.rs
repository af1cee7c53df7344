//! OneLogin: API v2 `GET /api/2/users` with an OAuth client-credentials token
//! (`reference/idp-apis.md` §5).
//!
//! The token comes from `/auth/oauth2/v2/token` (Basic auth + `{"grant_type":"client_credentials"}`)
//! and is sent as `Authorization: bearer …`. Pages follow the `After-Cursor` response header
//! (absent on the last page). OneLogin's `X-RateLimit-Reset` is the number of SECONDS
//! REMAINING until the window resets, not an epoch: a 429 waits that long (or `Retry-After`).

use std::collections::HashSet;
use std::time::{Duration, Instant};

use idgap_model::{AccountStatus, IdpAccount};
use idgap_net::{
    Attempt, Http, HttpResponse, Method, NetError, SecretString, StatusCode, parse_retry_after,
    redacted_target,
};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::IdpError;
use crate::paging::token_lifetime;

const PROVIDER: &str = "OneLogin";
const TOKEN_PATH: &str = "/auth/oauth2/v2/token";
const USERS_PATH: &str = "/api/2/users";
pub const DEFAULT_PAGE_SIZE: u32 = 50;
/// The largest `limit` idgap sends; the documented page size is 50 and the real cap is
/// UNCONFIRMED (the SDK says 100, another v2 list 1000), so this only guards typos.
const MAX_PAGE_SIZE: u32 = 1000;
const RENEW_MARGIN: Duration = Duration::from_secs(60);

#[derive(Debug, Clone)]
pub struct OneLoginConfig {
    /// `acme` for `https://acme.onelogin.com`.
    pub subdomain: String,
    pub client_id: String,
    pub client_secret: SecretString,
    /// Overrides `https://{subdomain}.onelogin.com` (a simulator, a proxy).
    pub base_url: Option<String>,
    /// `limit` per page (default 50).
    pub page_size: u32,
}

impl OneLoginConfig {
    pub fn new(subdomain: &str, client_id: &str, client_secret: SecretString) -> Self {
        OneLoginConfig {
            subdomain: subdomain.to_string(),
            client_id: client_id.to_string(),
            client_secret,
            base_url: None,
            page_size: DEFAULT_PAGE_SIZE,
        }
    }

    fn base_url(&self) -> String {
        match &self.base_url {
            Some(b) => b.trim_end_matches('/').to_string(),
            None => format!("https://{}.onelogin.com", self.subdomain),
        }
    }

    fn validate(&self) -> Result<(), IdpError> {
        let sub_ok = !self.subdomain.is_empty()
            && self
                .subdomain
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if self.base_url.is_none() && !sub_ok {
            return Err(config_error(
                "subdomain must be the account's OneLogin subdomain (letters, digits and '-', e.g. `acme` for acme.onelogin.com)",
            ));
        }
        if !(1..=MAX_PAGE_SIZE).contains(&self.page_size) {
            return Err(config_error(
                "pageSize must be between 1 and 1000 (OneLogin documents 50 per page)",
            ));
        }
        if self.client_id.trim().is_empty() || self.client_secret.is_empty() {
            return Err(config_error("clientId and clientSecret are both required"));
        }
        Ok(())
    }
}

fn config_error(detail: &str) -> IdpError {
    IdpError::Config {
        provider: PROVIDER,
        detail: detail.to_string(),
    }
}

pub(crate) async fn list_accounts(
    http: &Http,
    config: &OneLoginConfig,
) -> Result<Vec<IdpAccount>, IdpError> {
    config.validate()?;
    let mut session = Session {
        http,
        config,
        token: None,
    };
    let users_url = format!("{}{USERS_PATH}", config.base_url());
    let target = session.target(&users_url);
    let changed = |detail: String| IdpError::Protocol {
        provider: PROVIDER,
        target: target.clone(),
        detail: format!("{detail}; the directory changed during the read, run the sync again"),
    };
    let mut accounts = Vec::new();
    let mut seen = HashSet::new();
    let mut first_total: Option<u64> = None;
    let mut cursor: Option<String> = None;
    loop {
        let page = session.fetch_page(&users_url, cursor.as_deref()).await?;
        if let (Some(first), Some(now)) = (first_total, page.total_count)
            && first != now
        {
            return Err(changed(format!(
                "Total-Count went from {first} to {now} between pages"
            )));
        }
        first_total = first_total.or(page.total_count);
        for user in page.users {
            if !seen.insert(user.id) {
                return Err(changed(format!("user {} appeared on two pages", user.id)));
            }
            accounts.push(user.into_account());
        }
        match page.after_cursor {
            Some(next) if Some(&next) != cursor.as_ref() => {
                if let Some(wait) = page.window_spent_for {
                    pace(http, &target, wait).await?;
                }
                cursor = Some(next);
            }
            Some(_) => return Err(changed("After-Cursor did not advance".into())),
            None => break,
        }
    }
    if let Some(total) = first_total
        && total != accounts.len() as u64
    {
        return Err(changed(format!(
            "read {} users but Total-Count says {total}",
            accounts.len()
        )));
    }
    Ok(accounts)
}

struct AccessToken {
    value: SecretString,
    renew_at: Instant,
}

struct Session<'a> {
    http: &'a Http,
    config: &'a OneLoginConfig,
    token: Option<AccessToken>,
}

struct UsersPage {
    users: Vec<OneLoginUser>,
    after_cursor: Option<String>,
    total_count: Option<u64>,
    /// Set when this answer used the last call of the rate-limit window
    /// (`X-RateLimit-Remaining: 0`): how long until `X-RateLimit-Reset` frees the next one.
    window_spent_for: Option<Duration>,
}

enum PageAnswer {
    Page(UsersPage),
    TokenRejected,
}

impl Session<'_> {
    fn target(&self, url: &str) -> String {
        self.http
            .check(url)
            .map(|u| redacted_target(&u))
            .unwrap_or_else(|_| url.split('?').next().unwrap_or(url).to_string())
    }

    async fn access_token(&mut self) -> Result<SecretString, IdpError> {
        if let Some(t) = &self.token
            && Instant::now() < t.renew_at
        {
            return Ok(t.value.clone());
        }
        let fresh = self.fetch_token().await?;
        let value = fresh.value.clone();
        self.token = Some(fresh);
        Ok(value)
    }

    async fn fetch_token(&self) -> Result<AccessToken, IdpError> {
        let url = format!("{}{TOKEN_PATH}", self.config.base_url());
        let target = self.target(&url);
        let max_attempts = self.http.retry_policy().max_attempts;
        let mut answers = 0u32;
        let config = self.config;
        self.http
            .request(
                "OneLogin token",
                Method::POST,
                &url,
                |rb| {
                    // The header carries base64(`id:secret`), which no other form matches.
                    idgap_net::redact::register_basic(
                        &config.client_id,
                        config.client_secret.expose(),
                    );
                    rb.basic_auth(&config.client_id, Some(config.client_secret.expose()))
                        .json(&json!({"grant_type": "client_credentials"}))
                },
                |resp| {
                    answers += 1;
                    token_answer(resp, &target, answers >= max_attempts)
                },
            )
            .await
    }

    async fn fetch_page(
        &mut self,
        users_url: &str,
        cursor: Option<&str>,
    ) -> Result<UsersPage, IdpError> {
        let mut url = url::Url::parse(users_url)
            .map_err(|_| config_error("the OneLogin base URL is not a valid URL"))?;
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("limit", &self.config.page_size.to_string());
            if let Some(c) = cursor {
                q.append_pair("cursor", c);
            }
        }
        let mut renewed = false;
        loop {
            let token = self.access_token().await?;
            match self.request_page(url.as_str(), &token).await? {
                PageAnswer::Page(page) => return Ok(page),
                PageAnswer::TokenRejected if !renewed => {
                    self.token = None;
                    renewed = true;
                }
                PageAnswer::TokenRejected => {
                    return Err(IdpError::Auth {
                        provider: PROVIDER,
                        detail: "the users API refused a freshly issued access token (401)".into(),
                        hint: "check that the API credential has the Read Users (or Manage Users / Read All / Manage All) scope and that its creator still exists".into(),
                    });
                }
            }
        }
    }

    async fn request_page(&self, url: &str, token: &SecretString) -> Result<PageAnswer, IdpError> {
        let target = self.target(url);
        let max_attempts = self.http.retry_policy().max_attempts;
        let mut answers = 0u32;
        self.http
            .request(
                "OneLogin list users",
                Method::GET,
                url,
                |rb| rb.header("authorization", format!("bearer {}", token.expose())),
                |resp| {
                    answers += 1;
                    page_answer(resp, &target, answers >= max_attempts)
                },
            )
            .await
    }
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default)]
    expires_in: Option<u64>,
}

/// Both error shapes OneLogin uses: v2 `{message, statusCode, name}` and the v1-style
/// `{"status": {error, code, type, message}}`.
fn error_message(body: &[u8]) -> Option<String> {
    let v: Value = serde_json::from_slice(body).ok()?;
    if let Some(m) = v.get("message").and_then(Value::as_str)
        && (v.get("statusCode").is_some() || v.get("name").is_some())
    {
        return Some(m.to_string());
    }
    let status = v.get("status")?;
    let message = status.get("message").and_then(Value::as_str)?;
    let kind = status.get("type").and_then(Value::as_str).unwrap_or("");
    Some(if kind.is_empty() {
        message.to_string()
    } else {
        format!("{kind}: {message}")
    })
}

/// `X-RateLimit-Reset` (seconds remaining) when `X-RateLimit-Remaining` is 0.
fn window_spent_for(resp: &HttpResponse) -> Option<Duration> {
    let number = |name: &str| resp.header(name).and_then(|v| v.trim().parse::<u64>().ok());
    match (number("x-ratelimit-remaining"), number("x-ratelimit-reset")) {
        (Some(0), Some(reset)) if reset > 0 => Some(Duration::from_secs(reset)),
        _ => None,
    }
}

/// Waits out a spent rate-limit window before the next page instead of running into a 429;
/// a wait beyond what the retry policy allows fails clearly rather than stalling the sync.
async fn pace(http: &Http, target: &str, wait: Duration) -> Result<(), IdpError> {
    let max = http.retry_policy().max_wait;
    if wait > max {
        return Err(IdpError::Net(NetError::WaitTooLong {
            what: "OneLogin list users".into(),
            target: target.to_string(),
            wait,
            max,
        }));
    }
    tracing::debug!(
        ?wait,
        "OneLogin rate-limit window spent; waiting for it to reset"
    );
    tokio::time::sleep(wait).await;
    Ok(())
}

/// The wait a 429 asks for: `Retry-After`, else `X-RateLimit-Reset` read as seconds remaining.
fn throttle_wait(resp: &HttpResponse) -> Option<Duration> {
    parse_retry_after(&resp.headers).or_else(|| {
        resp.header("x-ratelimit-reset")
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs)
    })
}

fn token_answer(resp: HttpResponse, target: &str, last: bool) -> Attempt<AccessToken, IdpError> {
    let status = resp.status;
    if status == StatusCode::OK {
        return match serde_json::from_slice::<TokenResponse>(&resp.body) {
            Ok(t) if !t.access_token.is_empty() => {
                let lifetime = token_lifetime(t.expires_in, 36_000);
                Attempt::Done(AccessToken {
                    value: SecretString::new(t.access_token),
                    renew_at: Instant::now() + lifetime.saturating_sub(RENEW_MARGIN),
                })
            }
            Ok(_) => Attempt::Fail(protocol(
                target,
                "the token response has an empty access_token".into(),
            )),
            Err(e) => crate::paging::unreadable(
                PROVIDER,
                "OneLogin",
                &resp,
                target,
                "token response",
                e,
                last,
            ),
        };
    }
    if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
        return Attempt::Retry {
            after: throttle_wait(&resp),
            reason: format!("token endpoint answered {status}"),
        };
    }
    let Some(message) = error_message(&resp.body) else {
        return Attempt::Fail(protocol(
            target,
            format!(
                "HTTP {status} that is not a OneLogin error: {}",
                resp.body_excerpt()
            ),
        ));
    };
    let detail = format!("token endpoint answered {}: {message}", status.as_u16());
    Attempt::Fail(match status {
        StatusCode::UNAUTHORIZED | StatusCode::BAD_REQUEST => IdpError::Auth {
            provider: PROVIDER,
            detail,
            hint: "check the API credential's client ID and secret (Administration → Developers → API Credentials)".into(),
        },
        StatusCode::FORBIDDEN => IdpError::Permission {
            provider: PROVIDER,
            detail,
            hint: "the API credential needs the Read Users (or Manage Users / Read All / Manage All) scope".into(),
        },
        _ => protocol(target, detail),
    })
}

fn page_answer(resp: HttpResponse, target: &str, last: bool) -> Attempt<PageAnswer, IdpError> {
    let status = resp.status;
    if status == StatusCode::OK {
        return match serde_json::from_slice::<Vec<OneLoginUser>>(&resp.body) {
            Ok(users) => Attempt::Done(PageAnswer::Page(UsersPage {
                users,
                after_cursor: resp
                    .header("after-cursor")
                    .map(str::trim)
                    .filter(|c| !c.is_empty())
                    .map(str::to_string),
                total_count: resp
                    .header("total-count")
                    .and_then(|v| v.trim().parse().ok()),
                window_spent_for: window_spent_for(&resp),
            })),
            Err(e) => {
                crate::paging::unreadable(PROVIDER, "OneLogin", &resp, target, "user list", e, last)
            }
        };
    }
    if status == StatusCode::UNAUTHORIZED {
        return Attempt::Done(PageAnswer::TokenRejected);
    }
    if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
        return Attempt::Retry {
            after: throttle_wait(&resp),
            reason: format!("OneLogin answered {status}"),
        };
    }
    let Some(message) = error_message(&resp.body) else {
        return Attempt::Fail(protocol(
            target,
            format!(
                "HTTP {status} that is not a OneLogin error: {}",
                resp.body_excerpt()
            ),
        ));
    };
    let detail = format!("users API answered {}: {message}", status.as_u16());
    Attempt::Fail(match status {
        StatusCode::FORBIDDEN => IdpError::Permission {
            provider: PROVIDER,
            detail,
            hint: "the API credential needs the Read Users (or Manage Users / Read All / Manage All) scope".into(),
        },
        _ => protocol(target, detail),
    })
}

fn protocol(target: &str, detail: String) -> IdpError {
    IdpError::Protocol {
        provider: PROVIDER,
        target: target.to_string(),
        detail,
    }
}

#[derive(Deserialize)]
struct OneLoginUser {
    id: u64,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    userprincipalname: Option<String>,
    #[serde(default)]
    status: Option<i64>,
    #[serde(default)]
    state: Option<i64>,
}

impl OneLoginUser {
    fn into_account(self) -> IdpAccount {
        let status = onelogin_status(self.status, self.state);
        let show = |v: Option<i64>| v.map_or_else(|| "null".to_string(), |n| n.to_string());
        let raw_status = format!("status={},state={}", show(self.status), show(self.state));
        let login = self
            .email
            .clone()
            .or_else(|| self.username.clone())
            .unwrap_or_default()
            .trim()
            .to_string();
        let username = self.username.filter(|u| u.contains('@'));
        let identifiers = crate::paging::identifiers(
            [self.email, username, self.userprincipalname]
                .into_iter()
                .flatten(),
        );
        IdpAccount {
            id: self.id.to_string(),
            login,
            identifiers,
            other_ids: Vec::new(),
            personal_addresses: Vec::new(),
            status,
            raw_status,
        }
    }
}

/// `status`: 0 unactivated, 1 active, 2 suspended, 3 locked, 4 password expired, 5 awaiting
/// password reset, 7 password pending, 8 security questions required. `state`: 0 unapproved,
/// 1 approved, 2 rejected, 3 unlicensed. Rejected and unlicensed users cannot use the account,
/// so they count as suspended (policy choice); password states are still active accounts.
fn onelogin_status(status: Option<i64>, state: Option<i64>) -> AccountStatus {
    match (status, state) {
        (Some(2), _) | (_, Some(2 | 3)) => AccountStatus::Suspended,
        (Some(3), _) => AccountStatus::Locked,
        (Some(0 | 7), _) | (_, Some(0)) => AccountStatus::Pending,
        _ => AccountStatus::Active,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_mapping_table() {
        use AccountStatus::*;
        let rows = [
            ((Some(1), Some(1)), Active),
            ((Some(2), Some(1)), Suspended),
            ((Some(3), Some(1)), Locked),
            ((Some(0), Some(1)), Pending),
            ((Some(7), Some(1)), Pending),
            ((Some(4), Some(1)), Active),
            ((Some(5), Some(1)), Active),
            ((Some(8), Some(1)), Active),
            ((Some(1), Some(2)), Suspended),
            ((Some(1), Some(3)), Suspended),
            ((Some(3), Some(3)), Suspended),
            ((Some(1), Some(0)), Pending),
            ((Some(1), None), Active),
            ((None, None), Active),
        ];
        for ((status, state), want) in rows {
            assert_eq!(
                onelogin_status(status, state),
                want,
                "status={status:?} state={state:?}"
            );
        }
    }

    #[test]
    fn identifiers_and_raw_status() {
        let user: OneLoginUser = serde_json::from_value(json!({
            "id": 56781966, "username": "mike.t", "email": "Mike@Example.com", "status": 2, "state": 1,
            "userprincipalname": "MIKE@corp.example.com"
        }))
        .unwrap();
        let account = user.into_account();
        assert_eq!(
            account.identifiers,
            ["mike@corp.example.com", "mike@example.com"]
        );
        assert_eq!(account.raw_status, "status=2,state=1");
        assert_eq!(account.status, AccountStatus::Suspended);
        assert_eq!(account.id, "56781966");
    }

    #[test]
    fn both_error_shapes_are_read() {
        assert_eq!(
            error_message(
                br#"{"message":"Unauthorized","statusCode":401,"name":"UnauthorizedError"}"#
            )
            .as_deref(),
            Some("Unauthorized")
        );
        assert_eq!(
            error_message(br#"{"status":{"error":true,"code":401,"type":"Unauthorized","message":"Authentication Failure"}}"#)
                .as_deref(),
            Some("Unauthorized: Authentication Failure")
        );
        assert_eq!(error_message(b"<html>"), None);
        assert_eq!(error_message(br#"{"hello":"world"}"#), None);
    }

    #[test]
    fn subdomain_cannot_smuggle_a_host() {
        let config = OneLoginConfig::new("evil.example/x?", "id", SecretString::new("s"));
        assert!(matches!(config.validate(), Err(IdpError::Config { .. })));
    }
}

/// Fuzz-style properties for OneLogin's answers, including its paging and rate-limit
/// headers. Never a panic; an accepted page holds every user of the body.
#[cfg(test)]
mod robustness {
    use super::*;
    use crate::paging::robustness::{apply, array_len, config, mutation, prefixes, response};
    use proptest::prelude::*;

    fn users() -> Value {
        json!([
            {"id": 101, "username": "ada", "email": "ada@acme.com", "userprincipalname": "ada@acme.com",
             "status": 1, "state": 1, "firstname": "Ada"},
            {"id": 102, "username": "bob@acme.com", "email": null, "status": 2, "state": null}
        ])
    }

    fn statuses() -> impl Strategy<Value = u16> {
        prop::sample::select(vec![200u16, 200, 200, 400, 401, 403, 404, 429, 500])
    }

    fn header_text() -> impl Strategy<Value = String> {
        prop_oneof![
            any::<String>(),
            any::<u64>().prop_map(|n| n.to_string()),
            any::<i64>().prop_map(|n| n.to_string()),
            Just("0".to_string()),
            Just("18446744073709551616".to_string()),
        ]
    }

    proptest! {
        #![proptest_config(config())]

        #[test]
        fn user_pages_are_whole_or_refused(
            m in mutation(), status in statuses(), last in any::<bool>(),
            cursor in header_text(), total in header_text(), remaining in header_text(), reset in header_text(),
        ) {
            let body = apply(&users(), &m);
            let headers = [
                ("after-cursor", cursor.as_str()),
                ("total-count", total.as_str()),
                ("x-ratelimit-remaining", remaining.as_str()),
                ("x-ratelimit-reset", reset.as_str()),
            ];
            match page_answer(response(status, body.clone(), &headers), "t", last) {
                Attempt::Done(PageAnswer::Page(page)) => {
                    prop_assert_eq!(status, 200);
                    prop_assert_eq!(Some(page.users.len()), array_len(&body, "", 0));
                    prop_assert!(page.after_cursor.iter().all(|c| !c.is_empty()));
                    for user in page.users {
                        prop_assert!(user.into_account().identifiers.iter().all(|i| !i.is_empty()));
                    }
                }
                Attempt::Done(PageAnswer::TokenRejected) => prop_assert_eq!(status, 401),
                Attempt::Retry { .. } => prop_assert!(status != 200 || !last),
                Attempt::Fail(_) => {}
            }
        }

        #[test]
        fn error_and_token_bodies_never_panic(m in mutation(), status in statuses(), last in any::<bool>(), reset in header_text()) {
            let v2 = json!({"statusCode": 401, "name": "Unauthorized", "message": "Authentication Failure"});
            let v1 = json!({"status": {"error": true, "code": 401, "type": "Unauthorized", "message": "Authentication Failure"}});
            for error in [v2, v1] {
                let body = apply(&error, &m);
                let _ = error_message(&body);
                let resp = response(status, body, &[("x-ratelimit-reset", reset.as_str())]);
                let _ = throttle_wait(&resp);
                let _ = page_answer(resp, "t", last);
            }
            let token = json!({"access_token": "xx", "created_at": "2024-01-01T00:00:00Z", "expires_in": 36000,
                "refresh_token": "yy", "token_type": "bearer", "account_id": 1});
            if let Attempt::Done(t) = token_answer(response(status, apply(&token, &m), &[]), "t", last) {
                prop_assert_eq!(status, 200);
                prop_assert!(!t.value.expose().is_empty());
            }
        }

        #[test]
        fn any_bytes_never_panic(body in prop::collection::vec(any::<u8>(), 0..512), status in statuses()) {
            let _ = error_message(&body);
            let _ = page_answer(response(status, body.clone(), &[]), "t", true);
            let _ = token_answer(response(status, body, &[]), "t", true);
        }
    }

    #[test]
    fn a_cut_page_is_never_a_page() {
        for prefix in prefixes(&users()) {
            let answer = page_answer(response(200, prefix, &[]), "t", false);
            assert!(matches!(answer, Attempt::Retry { .. } | Attempt::Fail(_)));
        }
    }

    /// Regression: `expires_in: u64::MAX` overflowed `Instant` and panicked.
    #[test]
    fn an_absurd_token_lifetime_is_accepted_and_capped() {
        let body = br#"{"access_token":"xx","expires_in":18446744073709551615}"#.to_vec();
        let Attempt::Done(t) = token_answer(response(200, body, &[]), "t", true) else {
            panic!("a token with a huge lifetime is still a token")
        };
        assert!(t.renew_at <= Instant::now() + crate::paging::MAX_TOKEN_LIFETIME);
    }
}

/// Entry points for the coverage-guided fuzz targets in `fuzz/`: the answer functions and
/// header readers the robustness properties above call. No behaviour of its own.
#[doc(hidden)]
pub mod fuzzing {
    use super::*;
    use crate::paging::fuzzing::Answer;

    /// What one page answer carried besides its users.
    #[derive(Debug)]
    pub struct PageFacts {
        pub accounts: Vec<IdpAccount>,
        pub after_cursor: Option<String>,
        pub total_count: Option<u64>,
        pub window_spent_for: Option<Duration>,
    }

    pub fn page_answer(resp: HttpResponse, last: bool) -> Answer<PageFacts> {
        let attempt = super::page_answer(resp, "https://acme.onelogin.com/api/2/users", last);
        Answer::from_attempt(attempt, |answer| match answer {
            PageAnswer::Page(page) => Answer::Done(PageFacts {
                accounts: page
                    .users
                    .into_iter()
                    .map(OneLoginUser::into_account)
                    .collect(),
                after_cursor: page.after_cursor,
                total_count: page.total_count,
                window_spent_for: page.window_spent_for,
            }),
            PageAnswer::TokenRejected => Answer::TokenRejected,
        })
    }

    /// A token endpoint answer (whether the token is non-empty), the body's error message in
    /// either shape, and a `429`'s wait.
    pub fn token_answer(
        resp: HttpResponse,
        last: bool,
    ) -> (Option<String>, Option<Duration>, Answer<bool>) {
        let message = error_message(&resp.body);
        let wait = throttle_wait(&resp);
        let attempt =
            super::token_answer(resp, "https://acme.onelogin.com/auth/oauth2/v2/token", last);
        (
            message,
            wait,
            Answer::from_attempt(attempt, |t| Answer::Done(!t.value.expose().is_empty())),
        )
    }
}
