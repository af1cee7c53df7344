//! Google Workspace: the Admin SDK Directory API, read with a service account and
//! domain-wide delegation (`reference/idp-apis.md` §3).
//!
//! The service account signs a JWT assertion (RS256) whose `sub` is a Workspace admin and
//! trades it at the token endpoint for an access token; the user list is paged with
//! `nextPageToken` → `pageToken`. Google answers quota trouble with 403
//! `userRateLimitExceeded`/`quotaExceeded` or 429 `rateLimitExceeded` and documents no
//! `Retry-After`, so those back off exponentially (a `Retry-After` is honoured if sent).

use std::collections::HashSet;
use std::time::{Duration, Instant};

use idgap_model::{AccountStatus, IdpAccount};
use idgap_net::{
    Attempt, Http, HttpResponse, Method, SecretString, StatusCode, parse_retry_after,
    redacted_target,
};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::paging::token_lifetime;
use crate::{IdpError, jwt};

const PROVIDER: &str = "Google Workspace";
pub const DEFAULT_TOKEN_URL: &str = "https://oauth2.googleapis.com/token";
pub const DEFAULT_API_BASE_URL: &str = "https://admin.googleapis.com";
/// Read-only access to users; the only scope idgap asks for.
pub const USER_READONLY_SCOPE: &str =
    "https://www.googleapis.com/auth/admin.directory.user.readonly";
const JWT_BEARER_GRANT: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
const USERS_PATH: &str = "/admin/directory/v1/users";
/// `kind` is asked for so that a JSON answer from something that is not the Directory API
/// can be told apart from an empty page.
const FIELDS: &str = "kind,nextPageToken,users(id,primaryEmail,aliases,nonEditableAliases,emails,suspended,archived,deletionTime)";
const MAX_PAGE_SIZE: u32 = 500;
/// Renew a token this long before Google says it expires.
const RENEW_MARGIN: Duration = Duration::from_secs(60);
const DELEGATION_HINT: &str = "the delegated subject must be a Workspace admin and the service account's client ID must be authorised for admin.directory.user.readonly in the Admin console (domain-wide delegation)";

#[derive(Debug, Clone)]
pub struct GoogleConfig {
    /// The service account (`client_email` in its JSON key); the assertion's `iss`.
    pub service_account_email: String,
    /// The service account's RSA private key, PEM (PKCS#8 as Google issues it, or PKCS#1).
    pub private_key_pem: SecretString,
    /// `private_key_id` from the JSON key; sent as the JWT `kid`.
    pub private_key_id: Option<String>,
    /// The Workspace admin to impersonate (the assertion's `sub`).
    pub subject: String,
    /// `customer` parameter; `my_customer` (the admin's own account) when unset.
    pub customer: Option<String>,
    /// Restricts the list to one domain of the account; without `customer` it replaces it.
    pub domain: Option<String>,
    /// Overrides the token endpoint (a simulator, a proxy).
    pub token_url: Option<String>,
    /// Overrides `https://admin.googleapis.com`.
    pub api_base_url: Option<String>,
    /// `maxResults` per page, 1–500.
    pub page_size: u32,
}

impl GoogleConfig {
    pub fn new(service_account_email: &str, private_key_pem: SecretString, subject: &str) -> Self {
        GoogleConfig {
            service_account_email: service_account_email.to_string(),
            private_key_pem,
            private_key_id: None,
            subject: subject.to_string(),
            customer: None,
            domain: None,
            token_url: None,
            api_base_url: None,
            page_size: MAX_PAGE_SIZE,
        }
    }

    /// Reads a service-account JSON key file (`client_email`, `private_key`,
    /// `private_key_id`, `token_uri`). Errors name the missing field, never a value.
    pub fn from_service_account_json(json: &SecretString, subject: &str) -> Result<Self, IdpError> {
        let key: Value = serde_json::from_str(json.expose()).map_err(|_| {
            config_error(
                "the service-account key is not JSON; paste the whole key file Google issued",
            )
        })?;
        let field = |name: &str| key.get(name).and_then(Value::as_str).map(str::to_string);
        if let Some(kind) = field("type")
            && kind != "service_account"
        {
            return Err(config_error(&format!(
                "the key file is of type `{kind}`, not `service_account`; create a key for a service account"
            )));
        }
        let email = field("client_email")
            .ok_or_else(|| config_error("the service-account key has no `client_email`"))?;
        let pem = field("private_key")
            .ok_or_else(|| config_error("the service-account key has no `private_key`"))?;
        let mut config = GoogleConfig::new(&email, SecretString::new(pem), subject);
        config.private_key_id = field("private_key_id");
        config.token_url = field("token_uri").filter(|u| u != DEFAULT_TOKEN_URL);
        Ok(config)
    }

    fn token_url(&self) -> &str {
        self.token_url.as_deref().unwrap_or(DEFAULT_TOKEN_URL)
    }

    fn users_url(&self) -> String {
        let base = self.api_base_url.as_deref().unwrap_or(DEFAULT_API_BASE_URL);
        format!("{}{USERS_PATH}", base.trim_end_matches('/'))
    }

    fn validate(&self) -> Result<(), IdpError> {
        if !(1..=MAX_PAGE_SIZE).contains(&self.page_size) {
            return Err(config_error(&format!(
                "pageSize {} is out of range; the Directory API accepts 1 to {MAX_PAGE_SIZE}",
                self.page_size
            )));
        }
        if !self.service_account_email.contains('@') {
            return Err(config_error(
                "the service account email is missing or not an email address",
            ));
        }
        if !self.subject.contains('@') {
            return Err(config_error(
                "the delegated subject must be the email address of a Workspace admin",
            ));
        }
        jwt::check_rsa_key(&self.private_key_pem).map_err(|e| e.with_provider(PROVIDER))
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
    config: &GoogleConfig,
) -> Result<Vec<IdpAccount>, IdpError> {
    config.validate()?;
    let mut session = Session {
        http,
        config,
        token: None,
    };
    let mut accounts = Vec::new();
    let mut seen = HashSet::new();
    let mut page_token: Option<String> = None;
    loop {
        let page = session.fetch_page(page_token.as_deref()).await?;
        for user in page.users {
            if !seen.insert(user.id.clone()) {
                return Err(IdpError::Protocol {
                    provider: PROVIDER,
                    target: config.users_url(),
                    detail: format!(
                        "user {} was listed twice while paging; the directory changed during the read, try the sync again",
                        user.id
                    ),
                });
            }
            accounts.push(user.into_account());
        }
        match page.next_page_token.filter(|t| !t.is_empty()) {
            Some(next) => page_token = Some(next),
            None => break,
        }
    }
    Ok(accounts)
}

struct AccessToken {
    value: SecretString,
    renew_at: Instant,
}

struct Session<'a> {
    http: &'a Http,
    config: &'a GoogleConfig,
    token: Option<AccessToken>,
}

/// What one list request produced, before the session decides about token renewal.
enum PageAnswer {
    Page(UsersPage),
    TokenRejected,
}

impl Session<'_> {
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
        let config = self.config;
        let now = jwt::now_epoch_seconds();
        let claims = json!({
            "iss": config.service_account_email,
            "scope": USER_READONLY_SCOPE,
            "aud": config.token_url(),
            "sub": config.subject,
            "iat": now,
            "exp": now + 3600,
        });
        let assertion = jwt::sign_rs256(
            &claims,
            &config.private_key_pem,
            config.private_key_id.as_deref(),
        )
        .map_err(|e| e.with_provider(PROVIDER))?;
        let assertion = SecretString::new(assertion);
        let url = config.token_url();
        let target = self.target(url);
        let max_attempts = self.http.retry_policy().max_attempts;
        let mut answers = 0u32;
        self.http
            .request(
                "Google Workspace token",
                Method::POST,
                url,
                |rb| {
                    rb.form(&[
                        ("grant_type", JWT_BEARER_GRANT),
                        ("assertion", assertion.expose()),
                    ])
                },
                |resp| {
                    answers += 1;
                    token_answer(resp, &target, answers >= max_attempts)
                },
            )
            .await
    }

    async fn fetch_page(&mut self, page_token: Option<&str>) -> Result<UsersPage, IdpError> {
        let url = self.page_url(page_token)?;
        let mut renewed = false;
        loop {
            let token = self.access_token().await?;
            match self.request_page(&url, &token).await? {
                PageAnswer::Page(page) => return Ok(page),
                PageAnswer::TokenRejected if !renewed => {
                    // Expired or revoked mid-paging: get a new token and ask for the same page.
                    self.token = None;
                    renewed = true;
                }
                PageAnswer::TokenRejected => {
                    return Err(IdpError::Auth {
                        provider: PROVIDER,
                        detail: "the Directory API refused a freshly issued access token (401)"
                            .into(),
                        hint: format!("check the service account and its key; {DELEGATION_HINT}"),
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
                "Google Workspace list users",
                Method::GET,
                url,
                |rb| rb.bearer_auth(token.expose()),
                |resp| {
                    answers += 1;
                    page_answer(resp, &target, answers >= max_attempts)
                },
            )
            .await
    }

    fn page_url(&self, page_token: Option<&str>) -> Result<String, IdpError> {
        let config = self.config;
        let base = config.users_url();
        let mut url = url::Url::parse(&base)
            .map_err(|_| config_error(&format!("`{base}` is not a valid URL")))?;
        {
            let mut q = url.query_pairs_mut();
            match (&config.customer, &config.domain) {
                (Some(customer), _) => {
                    q.append_pair("customer", customer);
                }
                (None, None) => {
                    q.append_pair("customer", "my_customer");
                }
                (None, Some(_)) => {}
            }
            if let Some(domain) = &config.domain {
                q.append_pair("domain", domain);
            }
            q.append_pair("maxResults", &config.page_size.to_string());
            q.append_pair("projection", "basic");
            q.append_pair("fields", FIELDS);
            if let Some(t) = page_token {
                q.append_pair("pageToken", t);
            }
        }
        Ok(url.to_string())
    }

    fn target(&self, url: &str) -> String {
        self.http
            .check(url)
            .map(|u| redacted_target(&u))
            .unwrap_or_else(|_| url.split('?').next().unwrap_or(url).to_string())
    }
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default)]
    expires_in: Option<u64>,
}

#[derive(Deserialize)]
struct OAuthError {
    error: String,
    #[serde(default)]
    error_description: Option<String>,
}

fn token_answer(resp: HttpResponse, target: &str, last: bool) -> Attempt<AccessToken, IdpError> {
    let status = resp.status;
    if status == StatusCode::OK {
        return match serde_json::from_slice::<TokenResponse>(&resp.body) {
            Ok(t) if !t.access_token.is_empty() => {
                let lifetime = token_lifetime(t.expires_in, 3600);
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
                "the Google API",
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
            after: parse_retry_after(&resp.headers),
            reason: format!("token endpoint answered {status}"),
        };
    }
    let Ok(err) = serde_json::from_slice::<OAuthError>(&resp.body) else {
        return Attempt::Fail(protocol(
            target,
            format!(
                "HTTP {status} that is not an OAuth error: {}",
                resp.body_excerpt()
            ),
        ));
    };
    let description = err.error_description.unwrap_or_default();
    let detail = format!(
        "token endpoint answered {} {}: {description}",
        status.as_u16(),
        err.error
    );
    Attempt::Fail(match err.error.as_str() {
        "unauthorized_client" | "access_denied" => IdpError::Permission {
            provider: PROVIDER,
            detail,
            hint: format!("{DELEGATION_HINT}; authorisation can take a while to propagate"),
        },
        "invalid_grant" => IdpError::Auth {
            provider: PROVIDER,
            detail,
            hint: "check that the service account email and private key belong together and the key has not been deleted, that the subject is an existing Workspace user, and that this machine's clock is correct".into(),
        },
        _ => IdpError::Auth {
            provider: PROVIDER,
            detail,
            hint: "check the service account's key file and the token endpoint".into(),
        },
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UsersPage {
    kind: String,
    #[serde(default)]
    users: Vec<GoogleUser>,
    #[serde(default)]
    next_page_token: Option<String>,
}

#[derive(Deserialize)]
struct ApiErrorEnvelope {
    error: ApiError,
}

#[derive(Deserialize)]
struct ApiError {
    #[serde(default)]
    message: String,
    #[serde(default)]
    errors: Vec<ApiErrorItem>,
}

#[derive(Deserialize)]
struct ApiErrorItem {
    #[serde(default)]
    reason: String,
}

const QUOTA_REASONS: [&str; 3] = [
    "userRateLimitExceeded",
    "quotaExceeded",
    "rateLimitExceeded",
];

fn page_answer(resp: HttpResponse, target: &str, last: bool) -> Attempt<PageAnswer, IdpError> {
    let status = resp.status;
    if status == StatusCode::OK {
        return match serde_json::from_slice::<UsersPage>(&resp.body) {
            Ok(page) if page.kind == "admin#directory#users" => {
                Attempt::Done(PageAnswer::Page(page))
            }
            Ok(page) => Attempt::Fail(protocol(
                target,
                format!(
                    "expected a Directory API user list (kind admin#directory#users), got kind `{}`",
                    page.kind
                ),
            )),
            Err(e) => crate::paging::unreadable(
                PROVIDER,
                "the Google API",
                &resp,
                target,
                "user list",
                e,
                last,
            ),
        };
    }
    if status == StatusCode::UNAUTHORIZED {
        return Attempt::Done(PageAnswer::TokenRejected);
    }
    if status.is_server_error() {
        return Attempt::Retry {
            after: parse_retry_after(&resp.headers),
            reason: format!("Directory API answered {status}"),
        };
    }
    let error = serde_json::from_slice::<ApiErrorEnvelope>(&resp.body)
        .ok()
        .map(|e| e.error);
    let reason = error
        .as_ref()
        .and_then(|e| e.errors.first())
        .map(|e| e.reason.clone())
        .unwrap_or_default();
    if status == StatusCode::TOO_MANY_REQUESTS || QUOTA_REASONS.contains(&reason.as_str()) {
        return Attempt::Retry {
            after: parse_retry_after(&resp.headers),
            reason: format!("Directory API quota: {status} {reason}"),
        };
    }
    let Some(error) = error else {
        return Attempt::Fail(protocol(
            target,
            format!(
                "HTTP {status} that is not a Google API error: {}",
                resp.body_excerpt()
            ),
        ));
    };
    let detail = format!(
        "Directory API answered {} {reason}: {}",
        status.as_u16(),
        error.message
    );
    Attempt::Fail(match status {
        StatusCode::FORBIDDEN => IdpError::Permission {
            provider: PROVIDER,
            detail,
            hint: DELEGATION_HINT.into(),
        },
        StatusCode::BAD_REQUEST | StatusCode::NOT_FOUND => IdpError::Config {
            provider: PROVIDER,
            detail: format!("{detail}; check the customer id and domain settings"),
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
#[serde(rename_all = "camelCase")]
struct GoogleUser {
    id: String,
    primary_email: String,
    #[serde(default)]
    aliases: Vec<String>,
    #[serde(default)]
    non_editable_aliases: Vec<String>,
    /// Typed `any` in the discovery document; entries follow `UserEmail`.
    #[serde(default)]
    emails: Value,
    #[serde(default)]
    suspended: bool,
    #[serde(default)]
    archived: bool,
    #[serde(default)]
    deletion_time: Option<String>,
}

impl GoogleUser {
    fn into_account(self) -> IdpAccount {
        let status = google_status(self.suspended, self.archived, self.deletion_time.is_some());
        let mut raw_status = format!("suspended={},archived={}", self.suspended, self.archived);
        if self.deletion_time.is_some() {
            raw_status.push_str(",deleted");
        }
        let email_addresses = self
            .emails
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| e.get("address").and_then(Value::as_str).map(str::to_string));
        let identifiers = crate::paging::identifiers(
            std::iter::once(self.primary_email.clone())
                .chain(self.aliases)
                .chain(self.non_editable_aliases)
                .chain(email_addresses),
        );
        IdpAccount {
            id: self.id,
            login: self.primary_email.trim().to_string(),
            identifiers,
            other_ids: Vec::new(),
            personal_addresses: Vec::new(),
            status,
            raw_status,
        }
    }
}

/// `suspended` wins; `archived` counts as suspended too (policy choice: an archived user
/// cannot sign in, so a live Salesforce login for them is stale); a deleted user (only
/// visible with `showDeleted`) is deprovisioned.
fn google_status(suspended: bool, archived: bool, deleted: bool) -> AccountStatus {
    if deleted {
        AccountStatus::Deprovisioned
    } else if suspended || archived {
        AccountStatus::Suspended
    } else {
        AccountStatus::Active
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_mapping_table() {
        // (suspended, archived, deleted) -> status; one row per line of the docs table.
        let rows = [
            ((false, false, false), AccountStatus::Active),
            ((true, false, false), AccountStatus::Suspended),
            ((false, true, false), AccountStatus::Suspended),
            ((true, true, false), AccountStatus::Suspended),
            ((false, false, true), AccountStatus::Deprovisioned),
        ];
        for ((s, a, d), want) in rows {
            assert_eq!(
                google_status(s, a, d),
                want,
                "suspended={s} archived={a} deleted={d}"
            );
        }
    }

    #[test]
    fn identifiers_come_from_every_address_field_but_not_the_recovery_email() {
        let user: GoogleUser = serde_json::from_value(json!({
            "id": "1", "primaryEmail": " Bob@Example.com ",
            "aliases": ["Robert@example.com"], "nonEditableAliases": ["bob@example.test-google-a.com"],
            "emails": [{"address": "bob@example.com", "primary": true}, {"address": "B.Lee@Other.example"}],
            "recoveryEmail": "bob.personal@gmail.example", "suspended": true, "archived": false
        }))
        .unwrap();
        let account = user.into_account();
        assert_eq!(
            account.identifiers,
            [
                "b.lee@other.example",
                "bob@example.com",
                "bob@example.test-google-a.com",
                "robert@example.com"
            ]
        );
        assert_eq!(account.login, "Bob@Example.com");
        assert_eq!(account.status, AccountStatus::Suspended);
        assert_eq!(account.raw_status, "suspended=true,archived=false");
    }

    #[test]
    fn key_file_fields_are_read_and_errors_do_not_quote_values() {
        let json = SecretString::new(
            r#"{"type":"service_account","client_email":"sync@proj.iam.gserviceaccount.com","private_key":"-----BEGIN PRIVATE KEY-----\nSECRETKEYMATERIAL\n-----END PRIVATE KEY-----\n","private_key_id":"kid1","token_uri":"https://oauth2.googleapis.com/token"}"#,
        );
        let config = GoogleConfig::from_service_account_json(&json, "admin@example.com").unwrap();
        assert_eq!(
            config.service_account_email,
            "sync@proj.iam.gserviceaccount.com"
        );
        assert_eq!(config.private_key_id.as_deref(), Some("kid1"));
        assert_eq!(config.token_url, None);
        assert!(!format!("{config:?}").contains("SECRETKEYMATERIAL"));
        let err = config.validate().unwrap_err();
        assert!(
            matches!(
                err,
                IdpError::Config {
                    provider: PROVIDER,
                    ..
                }
            ),
            "{err}"
        );
        assert!(!err.to_string().contains("SECRETKEYMATERIAL"));

        let missing =
            SecretString::new(r#"{"type":"service_account","private_key":"SECRETKEYMATERIAL"}"#);
        let err =
            GoogleConfig::from_service_account_json(&missing, "admin@example.com").unwrap_err();
        assert!(err.to_string().contains("client_email"), "{err}");
        assert!(!err.to_string().contains("SECRETKEYMATERIAL"));
        let not_json = SecretString::new("SECRETKEYMATERIAL");
        let err =
            GoogleConfig::from_service_account_json(&not_json, "admin@example.com").unwrap_err();
        assert!(!err.to_string().contains("SECRETKEYMATERIAL"));
    }

    #[test]
    fn page_size_is_bounded() {
        let mut config = GoogleConfig::new(
            "sa@p.iam.gserviceaccount.com",
            SecretString::new("x"),
            "admin@example.com",
        );
        config.page_size = 501;
        assert!(
            config
                .validate()
                .unwrap_err()
                .to_string()
                .contains("1 to 500")
        );
    }
}

/// Fuzz-style properties for the Directory API and token endpoint answers. Never a panic;
/// an accepted page holds every user of the body, and a cut body is never a page.
#[cfg(test)]
mod robustness {
    use super::*;
    use crate::paging::robustness::{apply, array_len, config, mutation, prefixes, response};
    use proptest::prelude::*;

    fn page() -> Value {
        json!({
            "kind": "admin#directory#users",
            "etag": "\"x\"",
            "nextPageToken": "Q0FF",
            "users": [
                {"kind": "admin#directory#user", "id": "1", "primaryEmail": "ada@acme.com", "aliases": ["a@acme.com"],
                 "nonEditableAliases": ["ada@acme.test-google-a.com"], "suspended": false, "archived": false,
                 "emails": [{"address": "ada@acme.com", "primary": true}, {"address": "ada@home.example", "type": "home"}]},
                {"id": "2", "primaryEmail": "bob@acme.com", "suspended": true, "deletionTime": "2024-01-01T00:00:00.000Z"}
            ]
        })
    }

    fn statuses() -> impl Strategy<Value = u16> {
        prop::sample::select(vec![200u16, 200, 200, 400, 401, 403, 404, 429, 500, 503])
    }

    proptest! {
        #![proptest_config(config())]

        #[test]
        fn user_pages_are_whole_or_refused(m in mutation(), status in statuses(), last in any::<bool>()) {
            let body = apply(&page(), &m);
            match page_answer(response(status, body.clone(), &[]), "t", last) {
                Attempt::Done(PageAnswer::Page(page)) => {
                    prop_assert_eq!(status, 200);
                    prop_assert_eq!(page.kind.as_str(), "admin#directory#users");
                    let listed = array_len(&body, "users", 1).unwrap_or(0);
                    prop_assert_eq!(page.users.len(), listed);
                    for user in page.users {
                        let account = user.into_account();
                        prop_assert!(account.identifiers.iter().all(|i| !i.is_empty()));
                    }
                }
                Attempt::Done(PageAnswer::TokenRejected) => prop_assert_eq!(status, 401),
                Attempt::Retry { .. } => prop_assert!(status != 200 || !last),
                Attempt::Fail(_) => {}
            }
        }

        #[test]
        fn error_bodies_never_panic(m in mutation(), status in statuses()) {
            let error = json!({"error": {"code": 403, "message": "Not Authorized to access this resource/api",
                "errors": [{"message": "Not Authorized", "domain": "global", "reason": "forbidden"}]}});
            let _ = page_answer(response(status, apply(&error, &m), &[("retry-after", "3")]), "t", false);
        }

        #[test]
        fn token_answers_never_panic(m in mutation(), status in statuses(), last in any::<bool>()) {
            let token = json!({"access_token": "ya29.x", "expires_in": 3599, "token_type": "Bearer"});
            let body = apply(&token, &m);
            if let Attempt::Done(t) = token_answer(response(status, body, &[]), "t", last) {
                prop_assert_eq!(status, 200);
                prop_assert!(!t.value.expose().is_empty());
            }
            let error = json!({"error": "unauthorized_client", "error_description": "Client is unauthorized"});
            let _ = token_answer(response(status, apply(&error, &m), &[]), "t", last);
        }

        #[test]
        fn any_bytes_never_panic(body in prop::collection::vec(any::<u8>(), 0..512), status in statuses()) {
            let _ = page_answer(response(status, body.clone(), &[]), "t", true);
            let _ = token_answer(response(status, body, &[]), "t", true);
        }
    }

    #[test]
    fn a_cut_page_is_never_a_page() {
        for prefix in prefixes(&page()) {
            let answer = page_answer(response(200, prefix, &[]), "t", false);
            assert!(matches!(answer, Attempt::Retry { .. } | Attempt::Fail(_)));
        }
    }

    /// Regression: `expires_in: u64::MAX` overflowed `Instant` and panicked.
    #[test]
    fn an_absurd_token_lifetime_is_accepted_and_capped() {
        let body = br#"{"access_token":"ya29.x","expires_in":18446744073709551615}"#.to_vec();
        let Attempt::Done(t) = token_answer(response(200, body, &[]), "t", true) else {
            panic!("a token with a huge lifetime is still a token")
        };
        assert!(t.renew_at <= Instant::now() + crate::paging::MAX_TOKEN_LIFETIME);
    }
}

/// Entry points for the coverage-guided fuzz targets in `fuzz/`: the answer functions the
/// robustness properties above call. No behaviour of its own.
#[doc(hidden)]
pub mod fuzzing {
    use super::*;
    use crate::paging::fuzzing::Answer;

    /// A Directory API list answer: the page's accounts and next page token.
    pub fn page_answer(
        resp: HttpResponse,
        last: bool,
    ) -> Answer<(Vec<IdpAccount>, Option<String>)> {
        let attempt = super::page_answer(
            resp,
            "https://admin.googleapis.com/admin/directory/v1/users",
            last,
        );
        Answer::from_attempt(attempt, |answer| match answer {
            PageAnswer::Page(page) => Answer::Done((
                page.users
                    .into_iter()
                    .map(GoogleUser::into_account)
                    .collect(),
                page.next_page_token,
            )),
            PageAnswer::TokenRejected => Answer::TokenRejected,
        })
    }

    /// A token endpoint answer: whether the accepted token is non-empty.
    pub fn token_answer(resp: HttpResponse, last: bool) -> Answer<bool> {
        let attempt = super::token_answer(resp, "https://oauth2.googleapis.com/token", last);
        Answer::from_attempt(attempt, |t| Answer::Done(!t.value.expose().is_empty()))
    }
}
