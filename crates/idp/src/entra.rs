//! Microsoft Entra ID through Microsoft Graph: `GET /v1.0/users` with an explicit `$select`
//! (without it Graph leaves out `accountEnabled`), following `@odata.nextLink` whole.
//!
//! Auth is the client-credentials grant with a client secret or a certificate (an RS256
//! client assertion whose `x5t` header names the certificate). Graph has no refresh token in
//! this flow; the token is fetched again when it runs out or on a 401.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use idgap_model::{AccountStatus, IdpAccount};
use idgap_net::{Attempt, Http, HttpResponse, Method, SecretString, StatusCode, parse_retry_after};
use serde::Deserialize;
use serde_json::json;

use crate::IdpError;
use crate::jwt;
use crate::paging::{identifiers, parse_json, same_origin, target_of, token_lifetime};

const PROVIDER: &str = "Entra ID";
pub const GRAPH_SCOPE: &str = "https://graph.microsoft.com/.default";
/// Graph's largest `$top` for `/users` (without `signInActivity`).
pub const ENTRA_MAX_PAGE: u32 = 999;
pub const DEFAULT_LOGIN_BASE: &str = "https://login.microsoftonline.com";
pub const DEFAULT_GRAPH_BASE: &str = "https://graph.microsoft.com";
const SELECT: &str = "id,userPrincipalName,mail,otherMails,proxyAddresses,accountEnabled,userType,externalUserState,onPremisesImmutableId";
const NOT_GRAPH: &str = "check the tenant ID and the login/Graph endpoints (the defaults are login.microsoftonline.com and graph.microsoft.com)";
const TOKEN_MARGIN: Duration = Duration::from_secs(60);

#[derive(Debug, Clone)]
pub struct EntraConfig {
    /// Tenant GUID or a verified domain (e.g. `contoso.onmicrosoft.com`).
    pub tenant_id: String,
    /// Login endpoint override (national cloud, simulator); default `https://login.microsoftonline.com`.
    pub login_base_url: Option<String>,
    /// Graph endpoint override; default `https://graph.microsoft.com`.
    pub graph_base_url: Option<String>,
    pub auth: EntraAuth,
    /// `$top`, at most 999.
    pub page_size: u32,
}

#[derive(Debug, Clone)]
pub enum EntraAuth {
    ClientSecret {
        client_id: String,
        client_secret: SecretString,
    },
    Certificate {
        client_id: String,
        /// RSA private key (PEM) of the certificate uploaded to the app registration.
        private_key_pem: SecretString,
        /// The certificate's SHA-1 thumbprint as the portal shows it (40 hex digits), or
        /// the PEM certificate itself; either way it becomes the assertion's `x5t`.
        certificate_thumbprint: String,
    },
}

impl EntraConfig {
    pub fn new(tenant_id: impl Into<String>, auth: EntraAuth) -> Self {
        EntraConfig {
            tenant_id: tenant_id.into(),
            login_base_url: None,
            graph_base_url: None,
            auth,
            page_size: ENTRA_MAX_PAGE,
        }
    }

    pub fn token_url(&self) -> String {
        let base = self.login_base_url.as_deref().unwrap_or(DEFAULT_LOGIN_BASE);
        format!(
            "{}/{}/oauth2/v2.0/token",
            base.trim_end_matches('/'),
            self.tenant_id.trim()
        )
    }

    pub fn users_url(&self) -> String {
        let base = self.graph_base_url.as_deref().unwrap_or(DEFAULT_GRAPH_BASE);
        format!(
            "{}/v1.0/users?$select={SELECT}&$top={}",
            base.trim_end_matches('/'),
            self.page_size
        )
    }

    fn client_id(&self) -> &str {
        match &self.auth {
            EntraAuth::ClientSecret { client_id, .. }
            | EntraAuth::Certificate { client_id, .. } => client_id,
        }
    }
}

pub(crate) async fn list_accounts(
    http: &Http,
    config: &EntraConfig,
) -> Result<Vec<IdpAccount>, IdpError> {
    validate(config)?;
    let mut client = GraphClient {
        http,
        config,
        token: None,
    };
    let first = config.users_url();
    let mut seen = HashSet::new();
    let mut visited = HashSet::new();
    let mut accounts = Vec::new();
    let mut next = Some(first.clone());
    while let Some(url) = next.take() {
        if !visited.insert(url.clone()) {
            return Err(IdpError::Protocol {
                provider: PROVIDER,
                target: target_of(&url),
                detail: "@odata.nextLink repeats a page already read; stopping to avoid a loop"
                    .into(),
            });
        }
        let page = client.get_page(&url).await?;
        for user in page.value {
            if seen.insert(user.id.clone()) {
                accounts.push(user.into_account(&target_of(&url))?);
            }
        }
        if let Some(n) = &page.next_link {
            same_origin(PROVIDER, &first, n)?;
        }
        next = page.next_link;
    }
    Ok(accounts)
}

fn validate(config: &EntraConfig) -> Result<(), IdpError> {
    let bad = |detail: &str| {
        Err(IdpError::Config {
            provider: PROVIDER,
            detail: detail.into(),
        })
    };
    if config.page_size == 0 || config.page_size > ENTRA_MAX_PAGE {
        return bad("page size must be within 1..=999, Graph's limit for /users");
    }
    if config.tenant_id.trim().is_empty() || config.tenant_id.contains('/') {
        return bad(
            "the tenant ID must be the tenant GUID or a verified domain such as contoso.onmicrosoft.com",
        );
    }
    if config.client_id().trim().is_empty() {
        return bad("the client ID (application ID of the app registration) is empty");
    }
    match &config.auth {
        EntraAuth::ClientSecret { client_secret, .. } if client_secret.is_empty() => {
            bad("the client secret is empty")
        }
        EntraAuth::Certificate {
            private_key_pem,
            certificate_thumbprint,
            ..
        } => {
            jwt::check_rsa_key(private_key_pem).map_err(|e| e.with_provider(PROVIDER))?;
            jwt::x5t_from_certificate(certificate_thumbprint)
                .map_err(|e| e.with_provider(PROVIDER))?;
            Ok(())
        }
        _ => Ok(()),
    }
}

/// `accountEnabled` and guest invitation state → normalised status (table in
/// `docs/identity-providers.md`). Returns the status and the raw value kept as evidence.
/// `None` is Graph's `"accountEnabled": null` (reported in
/// microsoftgraph/microsoft-graph-docs-contrib#2410): the state is unknown, not disabled.
pub fn map_status(
    account_enabled: Option<bool>,
    user_type: Option<&str>,
    external_state: Option<&str>,
) -> (AccountStatus, String) {
    match account_enabled {
        None => return (AccountStatus::Unknown, "accountEnabled=null".into()),
        Some(false) => return (AccountStatus::Suspended, "accountEnabled=false".into()),
        Some(true) => {}
    }
    let guest = user_type.is_some_and(|t| t.eq_ignore_ascii_case("guest"));
    if guest && external_state == Some("PendingAcceptance") {
        return (
            AccountStatus::Pending,
            "externalUserState=PendingAcceptance".into(),
        );
    }
    (AccountStatus::Active, "accountEnabled=true".into())
}

/// A `proxyAddresses` entry as an email address: `SMTP:`/`smtp:` (and a following space)
/// stripped; other address types (`SIP:`, `X500:`, …) are not email and give `None`.
pub fn smtp_address(proxy: &str) -> Option<&str> {
    let (kind, rest) = proxy.split_once(':')?;
    kind.eq_ignore_ascii_case("smtp").then(|| rest.trim())
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct GraphUser {
    id: String,
    user_principal_name: Option<String>,
    mail: Option<String>,
    #[serde(default)]
    other_mails: Vec<String>,
    #[serde(default)]
    proxy_addresses: Vec<String>,
    /// Outer `None`: absent although `$select`ed (a wrong answer); inner `None`: `null`.
    #[serde(default, deserialize_with = "present")]
    account_enabled: Option<Option<bool>>,
    user_type: Option<String>,
    external_user_state: Option<String>,
    #[serde(default)]
    on_premises_immutable_id: Option<String>,
}

/// Tells a property that is `null` (`Some(None)`) from one that is absent (`None`, by
/// `#[serde(default)]`).
fn present<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

impl GraphUser {
    fn into_account(self, target: &str) -> Result<IdpAccount, IdpError> {
        let Some(enabled) = self.account_enabled else {
            return Err(IdpError::Protocol {
                provider: PROVIDER,
                target: target.to_string(),
                detail: format!(
                    "user {} has no accountEnabled property although it was $selected; idgap cannot tell whether the account is disabled",
                    self.id
                ),
            });
        };
        let (status, raw_status) = map_status(
            enabled,
            self.user_type.as_deref(),
            self.external_user_state.as_deref(),
        );
        let upn = self.user_principal_name.clone().unwrap_or_default();
        // A guest's UPN (`a_ext.com#EXT#@tenant.onmicrosoft.com`) is not an address anyone mails.
        let upn_is_address = !upn.to_ascii_uppercase().contains("#EXT#");
        let ids = identifiers(
            upn_is_address
                .then_some(upn.as_str())
                .into_iter()
                .chain(self.mail.as_deref())
                .chain(self.proxy_addresses.iter().filter_map(|p| smtp_address(p))),
        );
        // Graph documents `otherMails` as "additional email addresses for the user", which
        // users and admins fill with private ones too.
        let personal = identifiers(self.other_mails.iter().map(String::as_str))
            .into_iter()
            .filter(|a| !ids.contains(a))
            .collect();
        let other_ids = self
            .on_premises_immutable_id
            .map(|i| i.trim().to_string())
            .filter(|i| !i.is_empty())
            .into_iter()
            .collect();
        Ok(IdpAccount {
            id: self.id,
            login: upn,
            identifiers: ids,
            other_ids,
            personal_addresses: personal,
            status,
            raw_status,
        })
    }
}

#[derive(Deserialize)]
struct GraphPage {
    value: Vec<GraphUser>,
    #[serde(rename = "@odata.nextLink")]
    next_link: Option<String>,
}

enum Reply<T> {
    Ok(T),
    Unauthorized(String),
}

struct AccessToken {
    value: SecretString,
    expires_at: Instant,
}

struct GraphClient<'a> {
    http: &'a Http,
    config: &'a EntraConfig,
    token: Option<AccessToken>,
}

impl GraphClient<'_> {
    async fn get_page(&mut self, url: &str) -> Result<GraphPage, IdpError> {
        let mut renewed = false;
        loop {
            if self
                .token
                .as_ref()
                .is_none_or(|t| Instant::now() + TOKEN_MARGIN >= t.expires_at)
            {
                self.token = Some(request_token(self.http, self.config).await?);
            }
            let token = self
                .token
                .as_ref()
                .map(|t| t.value.clone())
                .unwrap_or_default();
            match fetch_page(self.http, url, &token).await? {
                Reply::Ok(page) => return Ok(page),
                Reply::Unauthorized(detail) if !renewed => {
                    tracing::debug!(%detail, "Graph refused the access token; fetching a new one");
                    self.token = None;
                    renewed = true;
                }
                Reply::Unauthorized(detail) => {
                    return Err(IdpError::Auth {
                        provider: PROVIDER,
                        detail,
                        hint: "Graph refused a freshly issued token: check that the app registration is in this tenant and enabled".into(),
                    });
                }
            }
        }
    }
}

async fn fetch_page(
    http: &Http,
    url: &str,
    token: &SecretString,
) -> Result<Reply<GraphPage>, IdpError> {
    let max_attempts = http.retry_policy().max_attempts;
    let target = target_of(url);
    let mut attempt = 0;
    http.request(
        "Graph list users",
        Method::GET,
        url,
        |rb| {
            rb.header("authorization", format!("Bearer {}", token.expose()))
                .header("accept", "application/json")
        },
        |resp| {
            attempt += 1;
            match resp.status {
                StatusCode::OK => {
                    match parse_json::<GraphPage, _>(PROVIDER, &target, &resp, attempt, max_attempts, NOT_GRAPH) {
                        Ok(page) => Attempt::Done(Reply::Ok(page)),
                        Err(a) => a,
                    }
                }
                StatusCode::UNAUTHORIZED => Attempt::Done(Reply::Unauthorized(graph_error_text(&resp))),
                StatusCode::FORBIDDEN => {
                    let text = graph_error_text(&resp);
                    Attempt::Fail(IdpError::Permission {
                        provider: PROVIDER,
                        detail: text,
                        hint: "Grant the app registration the Microsoft Graph application permission User.Read.All and have an admin grant consent (API permissions → Grant admin consent)".into(),
                    })
                }
                status => retry_or_fail(&resp, status, &target),
            }
        },
    )
    .await
}

fn retry_or_fail<T>(resp: &HttpResponse, status: StatusCode, target: &str) -> Attempt<T, IdpError> {
    if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
        return Attempt::Retry {
            after: parse_retry_after(&resp.headers),
            reason: format!("HTTP {status}: {}", graph_error_text(resp)),
        };
    }
    Attempt::Fail(IdpError::Protocol {
        provider: PROVIDER,
        target: target.to_string(),
        detail: format!("HTTP {status}: {}; {NOT_GRAPH}", graph_error_text(resp)),
    })
}

#[derive(Deserialize)]
struct GraphErrorBody {
    error: GraphErrorInner,
}

#[derive(Deserialize)]
struct GraphErrorInner {
    code: String,
    #[serde(default)]
    message: String,
}

fn graph_error_text(resp: &HttpResponse) -> String {
    match serde_json::from_slice::<GraphErrorBody>(&resp.body) {
        Ok(e) => format!("{}: {}", e.error.code, e.error.message),
        Err(_) => format!("HTTP {} ({})", resp.status, resp.body_excerpt()),
    }
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
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

async fn request_token(http: &Http, config: &EntraConfig) -> Result<AccessToken, IdpError> {
    let token_url = config.token_url();
    let target = target_of(&token_url);
    let max_attempts = http.retry_policy().max_attempts;
    let assertion = || -> Result<Option<String>, IdpError> {
        let EntraAuth::Certificate {
            client_id,
            private_key_pem,
            certificate_thumbprint,
        } = &config.auth
        else {
            return Ok(None);
        };
        let now = jwt::now_epoch_seconds();
        let claims = json!({
            "aud": token_url,
            "iss": client_id,
            "sub": client_id,
            "jti": jwt::new_jti(),
            "nbf": now,
            "iat": now,
            "exp": now + 600,
        });
        let mut header = serde_json::Map::new();
        header.insert(
            "x5t".into(),
            jwt::x5t_from_certificate(certificate_thumbprint)?.into(),
        );
        jwt::sign_rs256_with_header(header, &claims, private_key_pem).map(Some)
    };
    assertion().map_err(|e| e.with_provider(PROVIDER))?;
    let mut attempt = 0;
    http.request(
        "Entra token",
        Method::POST,
        &token_url,
        |rb| {
            let mut form = url::form_urlencoded::Serializer::new(String::new());
            form.append_pair("grant_type", "client_credentials")
                .append_pair("client_id", config.client_id())
                .append_pair("scope", GRAPH_SCOPE);
            match &config.auth {
                EntraAuth::ClientSecret { client_secret, .. } => {
                    form.append_pair("client_secret", client_secret.expose());
                }
                EntraAuth::Certificate { .. } => {
                    form.append_pair("client_assertion_type", jwt::CLIENT_ASSERTION_TYPE)
                        .append_pair("client_assertion", &assertion().ok().flatten().unwrap_or_default());
                }
            }
            rb.header("content-type", "application/x-www-form-urlencoded")
                .header("accept", "application/json")
                .body(form.finish())
        },
        |resp| {
            attempt += 1;
            match resp.status {
                StatusCode::OK => {
                    match parse_json::<TokenResponse, _>(PROVIDER, &target, &resp, attempt, max_attempts, NOT_GRAPH) {
                        Ok(t) => Attempt::Done(AccessToken {
                            value: SecretString::new(t.access_token),
                            expires_at: Instant::now() + token_lifetime(t.expires_in, 3599),
                        }),
                        Err(a) => a,
                    }
                }
                status if status.is_client_error() && status != StatusCode::TOO_MANY_REQUESTS => {
                    let err: OAuthError = serde_json::from_slice(&resp.body).unwrap_or_default();
                    if err.error.is_empty() {
                        return Attempt::Fail(IdpError::Protocol {
                            provider: PROVIDER,
                            target: target.clone(),
                            detail: format!(
                                "the token endpoint answered {status} without an OAuth error body; {NOT_GRAPH}. Body starts: {}",
                                resp.body_excerpt()
                            ),
                        });
                    }
                    Attempt::Fail(token_error(&err, &config.auth))
                }
                status => retry_or_fail(&resp, status, &target),
            }
        },
    )
    .await
}

/// Maps the token endpoint's `error` and AADSTS code to a specific, actionable error.
fn token_error(err: &OAuthError, auth: &EntraAuth) -> IdpError {
    let aadsts = err
        .error_description
        .split(|c: char| !c.is_ascii_alphanumeric())
        .find(|w| w.starts_with("AADSTS"))
        .unwrap_or("");
    let detail = format!(
        "token endpoint said `{}`: {}",
        err.error,
        first_line(&err.error_description)
    );
    let auth_err = |hint: &str| IdpError::Auth {
        provider: PROVIDER,
        detail: detail.clone(),
        hint: hint.into(),
    };
    match aadsts {
        "AADSTS7000215" => auth_err(
            "The client secret is wrong: copy the secret's Value (not its ID) from Certificates & secrets into the Secret",
        ),
        "AADSTS7000222" => {
            auth_err("The client secret has expired: create a new one under Certificates & secrets")
        }
        "AADSTS700016" => auth_err(
            "No app with this client ID exists in the tenant: check the application (client) ID and the tenant ID",
        ),
        "AADSTS90002" | "AADSTS900023" => auth_err(
            "The tenant was not found: use the tenant GUID or a verified domain of the tenant",
        ),
        "AADSTS700027" | "AADSTS700024" => auth_err(
            "The certificate assertion was refused: upload this certificate to the app registration and check the thumbprint and this machine's clock",
        ),
        "AADSTS70011" => IdpError::Config {
            provider: PROVIDER,
            detail: format!("{detail}; idgap asks for {GRAPH_SCOPE}"),
        },
        _ => match (err.error.as_str(), auth) {
            ("invalid_client", EntraAuth::ClientSecret { .. }) => {
                auth_err("Check the client ID and client secret of the app registration")
            }
            ("invalid_client", EntraAuth::Certificate { .. }) => auth_err(
                "Check the client ID, the certificate uploaded to the app registration and its thumbprint",
            ),
            ("unauthorized_client", _) => auth_err(
                "Check the application (client) ID and that the app is enabled in this tenant",
            ),
            _ => auth_err("Check the tenant ID, client ID and credential of the app registration"),
        },
    }
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_entra_status_row_maps_as_documented() {
        let rows = [
            (
                (Some(true), Some("Member"), None),
                AccountStatus::Active,
                "accountEnabled=true",
            ),
            (
                (Some(false), Some("Member"), None),
                AccountStatus::Suspended,
                "accountEnabled=false",
            ),
            (
                (Some(true), Some("Guest"), Some("PendingAcceptance")),
                AccountStatus::Pending,
                "externalUserState=PendingAcceptance",
            ),
            (
                (Some(true), Some("Guest"), Some("Accepted")),
                AccountStatus::Active,
                "accountEnabled=true",
            ),
            (
                (Some(false), Some("Guest"), Some("PendingAcceptance")),
                AccountStatus::Suspended,
                "accountEnabled=false",
            ),
            (
                (Some(true), None, None),
                AccountStatus::Active,
                "accountEnabled=true",
            ),
            (
                (None, Some("Member"), None),
                AccountStatus::Unknown,
                "accountEnabled=null",
            ),
        ];
        for ((enabled, ty, ext), status, raw) in rows {
            assert_eq!(
                map_status(enabled, ty, ext),
                (status, raw.to_string()),
                "{enabled:?} {ty:?} {ext:?}"
            );
        }
    }

    #[test]
    fn proxy_addresses_keep_only_smtp() {
        assert_eq!(
            smtp_address("SMTP:Bob@Contoso.com"),
            Some("Bob@Contoso.com")
        );
        assert_eq!(
            smtp_address("smtp: bob@sales.contoso.com"),
            Some("bob@sales.contoso.com")
        );
        assert_eq!(smtp_address("SIP:bob@contoso.com"), None);
        assert_eq!(smtp_address("X500:/o=Contoso/cn=bob"), None);
        assert_eq!(smtp_address("bob@contoso.com"), None);
    }

    #[test]
    fn guest_upn_is_not_an_identifier() {
        let user: GraphUser = serde_json::from_value(json!({
            "id": "g1",
            "userPrincipalName": "ann_fabrikam.com#EXT#@contoso.onmicrosoft.com",
            "mail": "Ann@Fabrikam.com",
            "otherMails": ["ann@fabrikam.com", "ann.home@example.org"],
            "proxyAddresses": ["SMTP:ann@fabrikam.com", "SIP:ann@fabrikam.com"],
            "accountEnabled": true,
            "userType": "Guest",
            "externalUserState": "PendingAcceptance"
        }))
        .unwrap();
        let account = user.into_account("t").unwrap();
        assert_eq!(account.identifiers, vec!["ann@fabrikam.com"]);
        assert_eq!(account.personal_addresses, vec!["ann.home@example.org"]);
        assert_eq!(account.status, AccountStatus::Pending);
    }

    /// Regression: one user with `"accountEnabled": null` failed the whole directory.
    #[test]
    fn a_null_account_enabled_is_an_unknown_state() {
        let user: GraphUser = serde_json::from_value(json!({
            "id": "u1", "userPrincipalName": "a@b.c", "accountEnabled": null,
            "onPremisesImmutableId": "WkRPaW3QKEyzvqLzOzzJjw=="
        }))
        .unwrap();
        let account = user.into_account("t").unwrap();
        assert_eq!(account.status, AccountStatus::Unknown);
        assert!(!account.status.is_disabled());
        assert_eq!(account.other_ids, vec!["WkRPaW3QKEyzvqLzOzzJjw=="]);
    }

    #[test]
    fn a_user_without_account_enabled_is_a_protocol_error() {
        let user: GraphUser =
            serde_json::from_value(json!({"id": "u1", "userPrincipalName": "a@b.c"})).unwrap();
        assert!(matches!(
            user.into_account("t"),
            Err(IdpError::Protocol { .. })
        ));
    }
}

/// Fuzz-style properties for Graph's answers: user pages, users, error and token bodies.
/// Never a panic; an accepted page holds every user, and a user without an `accountEnabled`
/// property is an error rather than a guess (a `null` one is an unknown state).
#[cfg(test)]
mod robustness {
    use super::*;
    use crate::paging::robustness::{apply, array_len, config, mutation, prefixes, response};
    use proptest::prelude::*;
    use serde_json::{Value, json};

    fn page() -> Value {
        json!({
            "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users",
            "@odata.nextLink": "https://graph.microsoft.com/v1.0/users?$skiptoken=X",
            "value": [
                {"id": "1", "userPrincipalName": "ada@acme.com", "mail": "ada@acme.com", "otherMails": ["a@home.example"],
                 "proxyAddresses": ["SMTP:ada@acme.com", "sip:ada@acme.com"], "accountEnabled": true,
                 "userType": "Member", "externalUserState": null},
                {"id": "2", "userPrincipalName": "g_ext.com#EXT#@acme.onmicrosoft.com", "mail": null,
                 "accountEnabled": true, "userType": "Guest", "externalUserState": "PendingAcceptance"}
            ]
        })
    }

    proptest! {
        #![proptest_config(config())]

        #[test]
        fn user_pages_are_whole_or_refused(m in mutation()) {
            let body = apply(&page(), &m);
            let resp = response(200, body.clone(), &[]);
            if let Ok(page) = crate::paging::parse_json::<GraphPage, ()>(PROVIDER, "t", &resp, 1, 3, NOT_GRAPH) {
                prop_assert_eq!(Some(page.value.len()), array_len(&body, "value", 0));
                for user in page.value {
                    let had_flag = user.account_enabled.is_some();
                    match user.into_account("t") {
                        Ok(account) => prop_assert!(account.identifiers.iter().all(|i| !i.is_empty())),
                        Err(e) => prop_assert!(!had_flag, "{}", e),
                    }
                }
            }
        }

        #[test]
        fn proxy_addresses_of_any_text_never_panic(p in any::<String>()) {
            if let Some(address) = smtp_address(&p) {
                prop_assert!(p.len() > address.len());
            }
        }

        #[test]
        fn error_and_token_bodies_never_panic(m in mutation(), status in prop::sample::select(vec![400u16, 401, 403, 404, 429, 503])) {
            let error = apply(&json!({"error": {"code": "Authorization_RequestDenied", "message": "Insufficient privileges.", "innerError": {}}}), &m);
            let resp = response(status, error, &[("retry-after", "5")]);
            let _ = graph_error_text(&resp);
            let _ = retry_or_fail::<()>(&resp, resp.status, "t");
            let token = apply(&json!({"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": "eyJ"}), &m);
            let resp = response(200, token, &[]);
            if let Ok(t) = crate::paging::parse_json::<TokenResponse, ()>(PROVIDER, "t", &resp, 1, 3, NOT_GRAPH) {
                let _ = Instant::now() + token_lifetime(t.expires_in, 3599);
            }
            let oauth = apply(&json!({"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret.\r\nTrace ID: x", "error_codes": [7000215]}), &m);
            let err: OAuthError = serde_json::from_slice(&oauth).unwrap_or_default();
            let _ = first_line(&err.error_description);
            let auth = EntraAuth::ClientSecret { client_id: "app".into(), client_secret: SecretString::new("s") };
            let _ = token_error(&err, &auth);
        }
    }

    #[test]
    fn a_cut_user_page_is_never_read() {
        for prefix in prefixes(&page()) {
            let resp = response(200, prefix, &[]);
            assert!(
                crate::paging::parse_json::<GraphPage, ()>(PROVIDER, "t", &resp, 1, 3, NOT_GRAPH)
                    .is_err()
            );
        }
    }
}

/// Entry points for the coverage-guided fuzz targets in `fuzz/`: the parsers the robustness
/// properties above call. No behaviour of its own.
#[doc(hidden)]
pub mod fuzzing {
    use super::*;
    use crate::paging::fuzzing::Answer;

    /// Each user of a page as an account (or the error for that user), and the next link.
    pub type UserPage = (Vec<Result<IdpAccount, IdpError>>, Option<String>);

    /// A `200` Graph user page, read as the client reads it.
    pub fn user_page(resp: &HttpResponse, attempt: u32) -> Answer<UserPage> {
        let target = "https://graph.microsoft.com/v1.0/users";
        match parse_json::<GraphPage, ()>(PROVIDER, target, resp, attempt, 3, NOT_GRAPH) {
            Ok(page) => Answer::Done((
                page.value
                    .into_iter()
                    .map(|u| u.into_account(target))
                    .collect(),
                page.next_link,
            )),
            Err(a) => Answer::from_attempt(a, |()| unreachable!("parse_json never answers Done")),
        }
    }

    /// The error text of a non-`200` answer and what the client decides about it.
    pub fn error_response(resp: &HttpResponse) -> (String, Answer<()>) {
        let attempt =
            retry_or_fail::<()>(resp, resp.status, "https://graph.microsoft.com/v1.0/users");
        (
            graph_error_text(resp),
            Answer::from_attempt(attempt, |()| Answer::Done(())),
        )
    }

    /// A `200` token body (its lifetime), and the body read as an OAuth error for both
    /// credential kinds (an unreadable body is an empty error, as the client reads it).
    pub fn token_response(resp: &HttpResponse) -> (Answer<Duration>, [IdpError; 2]) {
        let token = match parse_json::<TokenResponse, ()>(PROVIDER, "t", resp, 3, 3, NOT_GRAPH) {
            Ok(t) => {
                let lifetime = token_lifetime(t.expires_in, 3599);
                let _ = Instant::now() + lifetime;
                Answer::Done(lifetime)
            }
            Err(a) => Answer::from_attempt(a, |()| unreachable!("parse_json never answers Done")),
        };
        let err: OAuthError = serde_json::from_slice(&resp.body).unwrap_or_default();
        let secret = EntraAuth::ClientSecret {
            client_id: "app".into(),
            client_secret: SecretString::new("fuzz-secret"),
        };
        let certificate = EntraAuth::Certificate {
            client_id: "app".into(),
            private_key_pem: SecretString::new("fuzz-key"),
            certificate_thumbprint: "00".into(),
        };
        (
            token,
            [token_error(&err, &secret), token_error(&err, &certificate)],
        )
    }

    pub fn smtp_address(proxy: &str) -> Option<&str> {
        super::smtp_address(proxy)
    }
}
