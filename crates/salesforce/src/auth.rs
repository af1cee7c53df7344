//! Signing in: the token endpoint for every grant, response verification, JWT assertions,
//! and the session shared by all concurrent queries of one sync.

use std::sync::Arc;
use std::sync::Mutex as StdMutex;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use idgap_net::{Attempt, Http, Method, NetError, SecretString, StatusCode, parse_retry_after};
use jiff::Timestamp;
use rsa::RsaPrivateKey;
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs1v15::SigningKey;
use rsa::pkcs8::DecodePrivateKey;
use rsa::signature::{SignatureEncoding, Signer};
use serde::Deserialize;
use sha2::Sha256;
use tokio::sync::Mutex;

use crate::error::{Refusal, SyncError};
use crate::wire::looks_like_html;
use crate::{LoginHost, SalesforceAuth, SalesforceConfig};

pub(crate) const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// The token endpoint's success body. `expires_in` is never sent: sessions end when
/// Salesforce says so (401 `INVALID_SESSION_ID`).
#[derive(Debug, Deserialize)]
pub(crate) struct TokenResponse {
    pub access_token: String,
    #[serde(default)]
    pub refresh_token: Option<String>,
    pub instance_url: String,
    pub id: String,
    #[serde(default)]
    pub issued_at: Option<String>,
    #[serde(default)]
    pub signature: Option<String>,
}

impl TokenResponse {
    /// `(org id, user id)` from the identity URL `…/id/<org>/<user>`.
    pub fn ids(&self) -> Option<(String, String)> {
        let mut parts = self.id.trim_end_matches('/').rsplit('/');
        let user = parts.next()?.to_string();
        let org = parts.next()?.to_string();
        (parts.next() == Some("id") && !org.is_empty() && !user.is_empty()).then_some((org, user))
    }

    pub fn issued_at(&self) -> Option<Timestamp> {
        let ms: i64 = self.issued_at.as_deref()?.parse().ok()?;
        Timestamp::from_millisecond(ms).ok()
    }
}

/// Salesforce accepts client credentials only on the org's My Domain host.
pub(crate) const CLIENT_CREDENTIALS_NEED_MY_DOMAIN: &str = "Salesforce accepts the client-credentials flow only on the org's My Domain host, not on login.salesforce.com or test.salesforce.com: set loginUrl to https://<your-domain>.my.salesforce.com (Setup → My Domain shows it).";

fn auth_action(method: &'static str, error: &str, description: &str) -> String {
    let refusal = Refusal::of(error, description);
    match error {
        "invalid_client_id" => "Check the client id (the connected app's consumer key) and the login URL.".into(),
        "invalid_client" | "invalid_client_credentials" => {
            "Check the client secret (the connected app's consumer secret).".into()
        }
        "invalid_grant" if refusal == Refusal::NotOnThisDomain => {
            CLIENT_CREDENTIALS_NEED_MY_DOMAIN.into()
        }
        "invalid_grant" if refusal == Refusal::AuthenticationFailure => {
            "Check the client id and secret, that the app has a run-as user for the client-credentials flow, and use your My Domain login URL.".into()
        }
        "invalid_grant" => match method {
            "refresh-token" => "The stored refresh token is expired or revoked; re-authorize with `idgap connect salesforce` and update the Secret.".into(),
            "JWT bearer" => "Check the username, that the certificate uploaded to the connected app matches the private key, that the user is pre-authorized for the app, the machine clock, and the JWT audience (jwtBearer.audience; see docs/operations.md).".into(),
            "authorization-code" => "The authorization code expired or was already used; run `idgap connect salesforce` again.".into(),
            _ => "Check the connected app's credentials.".into(),
        },
        "invalid_request" if method == "authorization-code" => {
            "The PKCE verifier did not match; run `idgap connect salesforce` again.".into()
        }
        _ => "Check the connected app's settings and the credentials, then try again.".into(),
    }
}

#[derive(Debug, Deserialize)]
struct OAuthErrorBody {
    error: String,
    #[serde(default)]
    error_description: String,
}

/// POSTs `form` to `{login}/services/oauth2/token` and verifies the answer.
pub(crate) async fn request_token(
    http: &Http,
    login_url: &str,
    method: &'static str,
    form: &[(&str, &str)],
    client_secret: Option<&SecretString>,
) -> Result<TokenResponse, SyncError> {
    let url = format!("{}/services/oauth2/token", login_url.trim_end_matches('/'));
    let body: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form.iter())
        .finish();
    let target = url.clone();
    let mut unreadable: Option<String> = None;
    let what = format!("Salesforce token request ({method})");
    let result = http
        .request(
            &what,
            Method::POST,
            &url,
            |rb| {
                rb.header("content-type", "application/x-www-form-urlencoded")
                    .header("accept", "application/json")
                    .body(body.clone())
            },
            |resp| {
                let status = resp.status;
                if status == StatusCode::OK {
                    return match serde_json::from_slice::<TokenResponse>(&resp.body) {
                        Ok(t) => Attempt::Done(t),
                        Err(e) => {
                            let detail = if looks_like_html(&resp.body) {
                                "answered HTTP 200 with an HTML page".to_string()
                            } else {
                                format!("answered HTTP 200 with a body that is not a token response ({})", e.classify_name())
                            };
                            unreadable = Some(detail.clone());
                            Attempt::Retry { after: None, reason: detail }
                        }
                    };
                }
                if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
                    unreadable = None;
                    return Attempt::Retry {
                        after: parse_retry_after(&resp.headers),
                        reason: format!("HTTP {}", status.as_u16()),
                    };
                }
                match serde_json::from_slice::<OAuthErrorBody>(&resp.body) {
                    Ok(e) => Attempt::Fail(SyncError::Auth {
                        method,
                        action: auth_action(method, &e.error, &e.error_description),
                        refusal: Refusal::of(&e.error, &e.error_description),
                        error: e.error,
                        description: e.error_description,
                    }),
                    Err(_) => Attempt::Fail(SyncError::NotSalesforce {
                        target: target.clone(),
                        detail: format!(
                            "the token endpoint answered HTTP {} {}",
                            status.as_u16(),
                            if looks_like_html(&resp.body) { "with an HTML page" } else { "without an OAuth body" }
                        ),
                    }),
                }
            },
        )
        .await;
    let token = match result {
        Err(SyncError::Net(NetError::RetriesExhausted { .. })) if unreadable.is_some() => {
            return Err(SyncError::NotSalesforce {
                target: url,
                detail: unreadable.unwrap_or_default(),
            });
        }
        other => other?,
    };
    // Every flow that sends a client secret is answered with a `signature` keyed with it; a
    // response without one is refused like a wrong one (fail closed), not taken unchecked.
    if let Some(secret) = client_secret {
        let sig = token.signature.as_deref().unwrap_or("");
        verify_signature(secret, &token.id, token.issued_at.as_deref().unwrap_or(""), sig).map_err(|()| {
            SyncError::Auth {
                method,
                error: "invalid_signature".into(),
                description: "the token response signature did not verify".into(),
                action: "Check the client secret; if it is right, something between idgap and Salesforce altered the response.".into(),
                refusal: Refusal::Other,
            }
        })?;
    }
    if token.ids().is_none() {
        return Err(SyncError::Protocol {
            what: format!("Salesforce token request ({method})"),
            detail: "the identity URL in the token response has no /id/<org>/<user> path".into(),
        });
    }
    Ok(token)
}

trait ClassifyName {
    fn classify_name(&self) -> &'static str;
}

impl ClassifyName for serde_json::Error {
    fn classify_name(&self) -> &'static str {
        match self.classify() {
            serde_json::error::Category::Eof => "cut off",
            serde_json::error::Category::Syntax => "not JSON",
            serde_json::error::Category::Data => "unexpected fields",
            serde_json::error::Category::Io => "unreadable",
        }
    }
}

/// Checks `signature` = base64(HMAC-SHA256(client_secret, id + issued_at)).
pub(crate) fn verify_signature(
    secret: &SecretString,
    id: &str,
    issued_at: &str,
    signature: &str,
) -> Result<(), ()> {
    let expected = STANDARD.decode(signature.trim()).map_err(|_| ())?;
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.expose().as_bytes()).map_err(|_| ())?;
    mac.update(id.as_bytes());
    mac.update(issued_at.as_bytes());
    mac.verify_slice(&expected).map_err(|_| ())
}

/// Reads an RSA private key from PKCS#8 or PKCS#1 PEM.
pub(crate) fn parse_private_key(pem: &SecretString) -> Result<RsaPrivateKey, SyncError> {
    let text = pem.expose().trim();
    if !text.starts_with("-----BEGIN") {
        return Err(SyncError::InvalidKey {
            detail: "the value is not PEM (no -----BEGIN line)".into(),
        });
    }
    RsaPrivateKey::from_pkcs8_pem(text)
        .or_else(|_| RsaPrivateKey::from_pkcs1_pem(text))
        .map_err(|_| SyncError::InvalidKey {
            detail: "the PEM block is not a readable, unencrypted RSA private key".into(),
        })
}

/// A signed RS256 assertion: iss = client id, sub = username, aud = login host, exp = now+3m.
pub(crate) fn jwt_assertion(
    key: &RsaPrivateKey,
    client_id: &str,
    username: &str,
    audience: &str,
) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256"}"#);
    let claims = serde_json::json!({
        "iss": client_id,
        "sub": username,
        "aud": audience.trim_end_matches('/'),
        "exp": Timestamp::now().as_second() + 180,
    });
    let claims = URL_SAFE_NO_PAD.encode(claims.to_string());
    let signing_input = format!("{header}.{claims}");
    let signer = SigningKey::<Sha256>::new(key.clone());
    let sig = signer.sign(signing_input.as_bytes());
    format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(sig.to_bytes()))
}

/// A signed-in session. `generation` tells concurrent callers whether someone already
/// renewed it.
#[derive(Debug)]
pub(crate) struct Session {
    pub access_token: SecretString,
    pub instance_url: String,
    pub org_id: String,
    /// The signed-in user's id, from the identity URL: whose permissions bound what it sees.
    pub user_id: String,
    pub generation: u64,
}

/// Signs in once per sync and again when Salesforce ends the session, however many
/// queries notice it at the same time.
pub(crate) struct Authenticator {
    http: Http,
    login_url: String,
    /// JWT bearer `aud` values, tried in order (see [`jwt_audiences`]).
    audiences: Vec<String>,
    auth: SalesforceAuth,
    key: Option<RsaPrivateKey>,
    refresh_token: StdMutex<Option<SecretString>>,
    rotated: StdMutex<bool>,
    current: Mutex<Option<Arc<Session>>>,
    token_requests: StdMutex<u64>,
}

impl Authenticator {
    pub fn new(http: &Http, config: &SalesforceConfig) -> Result<Self, SyncError> {
        let key = match &config.auth {
            SalesforceAuth::JwtBearer {
                private_key_pem, ..
            } => Some(parse_private_key(private_key_pem)?),
            _ => None,
        };
        let refresh_token = match &config.auth {
            SalesforceAuth::RefreshToken { refresh_token, .. } => Some(refresh_token.clone()),
            _ => None,
        };
        if matches!(config.auth, SalesforceAuth::ClientCredentials { .. })
            && !matches!(config.login, LoginHost::MyDomain(_))
        {
            return Err(SyncError::UnsupportedLoginHost {
                detail: format!(
                    "client credentials cannot sign in at {}. {CLIENT_CREDENTIALS_NEED_MY_DOMAIN}",
                    config.login.url()
                ),
            });
        }
        Ok(Authenticator {
            http: http.clone(),
            login_url: config.login.url(),
            audiences: jwt_audiences(&config.login, config.jwt_audience.as_deref()),
            auth: config.auth.clone(),
            key,
            refresh_token: StdMutex::new(refresh_token),
            rotated: StdMutex::new(false),
            current: Mutex::new(None),
            token_requests: StdMutex::new(0),
        })
    }

    /// The current session, signing in first if there is none.
    pub async fn session(&self) -> Result<Arc<Session>, SyncError> {
        let mut current = self.current.lock().await;
        if let Some(s) = current.as_ref() {
            return Ok(s.clone());
        }
        let s = Arc::new(self.sign_in(0).await?);
        *current = Some(s.clone());
        Ok(s)
    }

    /// Signs in again unless another caller already replaced session `stale`.
    pub async fn renew(&self, stale: u64) -> Result<Arc<Session>, SyncError> {
        let mut current = self.current.lock().await;
        if let Some(s) = current.as_ref()
            && s.generation != stale
        {
            return Ok(s.clone());
        }
        let s = Arc::new(self.sign_in(stale + 1).await?);
        *current = Some(s.clone());
        Ok(s)
    }

    /// The refresh token Salesforce rotated to during this sync, if it did.
    pub fn rotated_refresh_token(&self) -> Option<SecretString> {
        let rotated = *self.rotated.lock().unwrap_or_else(|p| p.into_inner());
        rotated
            .then(|| {
                self.refresh_token
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .clone()
            })
            .flatten()
    }

    pub fn token_requests(&self) -> u64 {
        *self
            .token_requests
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }

    async fn sign_in(&self, generation: u64) -> Result<Session, SyncError> {
        *self
            .token_requests
            .lock()
            .unwrap_or_else(|p| p.into_inner()) += 1;
        let token = match &self.auth {
            SalesforceAuth::RefreshToken {
                client_id,
                client_secret,
                ..
            } => {
                let refresh = self
                    .refresh_token
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .clone()
                    .unwrap_or_default();
                let mut form = vec![
                    ("grant_type", "refresh_token"),
                    ("client_id", client_id.as_str()),
                    ("refresh_token", refresh.expose()),
                ];
                if let Some(secret) = client_secret {
                    form.push(("client_secret", secret.expose()));
                }
                let token = request_token(
                    &self.http,
                    &self.login_url,
                    "refresh-token",
                    &form,
                    client_secret.as_ref(),
                )
                .await?;
                if let Some(new) = token
                    .refresh_token
                    .as_deref()
                    .filter(|n| *n != refresh.expose())
                {
                    *self.refresh_token.lock().unwrap_or_else(|p| p.into_inner()) =
                        Some(SecretString::new(new));
                    *self.rotated.lock().unwrap_or_else(|p| p.into_inner()) = true;
                }
                token
            }
            SalesforceAuth::JwtBearer {
                client_id,
                username,
                ..
            } => {
                let key = self.key.as_ref().expect("parsed in Authenticator::new");
                let mut audiences = self.audiences.iter().peekable();
                let mut tried = Vec::new();
                loop {
                    let audience = audiences.next().expect("at least one audience");
                    tried.push(audience.as_str());
                    let assertion =
                        SecretString::new(jwt_assertion(key, client_id, username, audience));
                    let form = [
                        ("grant_type", JWT_BEARER),
                        ("assertion", assertion.expose()),
                    ];
                    match request_token(&self.http, &self.login_url, "JWT bearer", &form, None)
                        .await
                    {
                        Err(SyncError::Auth {
                            refusal: Refusal::Audience,
                            ..
                        }) if audiences.peek().is_some() => {
                            tracing::debug!(audience, "JWT audience refused; trying the next");
                            *self
                                .token_requests
                                .lock()
                                .unwrap_or_else(|p| p.into_inner()) += 1;
                        }
                        Err(SyncError::Auth {
                            method,
                            error,
                            description,
                            action,
                            refusal,
                        }) if tried.len() > 1 => {
                            break Err(SyncError::Auth {
                                action: format!(
                                    "Tried the JWT audiences {} in turn; set jwtBearer.audience if the org expects another. {action}",
                                    tried.join(" and ")
                                ),
                                method,
                                error,
                                description,
                                refusal,
                            })?;
                        }
                        other => break other?,
                    }
                }
            }
            SalesforceAuth::ClientCredentials {
                client_id,
                client_secret,
            } => {
                let form = [
                    ("grant_type", "client_credentials"),
                    ("client_id", client_id.as_str()),
                    ("client_secret", client_secret.expose()),
                ];
                request_token(
                    &self.http,
                    &self.login_url,
                    "client-credentials",
                    &form,
                    Some(client_secret),
                )
                .await?
            }
        };
        let (org_id, user_id) = token.ids().unwrap_or_default();
        Ok(Session {
            access_token: SecretString::new(token.access_token),
            instance_url: token.instance_url.trim_end_matches('/').to_string(),
            org_id,
            user_id,
            generation,
        })
    }
}

/// The JWT bearer `aud` values to try, in order. An explicit audience is the only one.
/// Otherwise the audience Salesforce documents comes first — `https://login.salesforce.com`,
/// or `https://test.salesforce.com` for a sandbox (including `*.sandbox.my.salesforce.com`
/// and the older `<org>--<sandbox>.my.salesforce.com`) — and, with a My Domain login URL,
/// that URL itself second, because some orgs accept only it (sfdx-core tries both).
pub(crate) fn jwt_audiences(login: &LoginHost, explicit: Option<&str>) -> Vec<String> {
    if let Some(a) = explicit.map(str::trim).filter(|a| !a.is_empty()) {
        return vec![a.trim_end_matches('/').to_string()];
    }
    const PRODUCTION: &str = "https://login.salesforce.com";
    const SANDBOX: &str = "https://test.salesforce.com";
    match login {
        LoginHost::Production => vec![PRODUCTION.into()],
        LoginHost::Sandbox => vec![SANDBOX.into()],
        LoginHost::MyDomain(_) => {
            let url = login.url();
            let host = url::Url::parse(&url)
                .ok()
                .and_then(|u| u.host_str().map(str::to_ascii_lowercase))
                .unwrap_or_default();
            let sandbox = host == "test.salesforce.com"
                || host.ends_with(".sandbox.my.salesforce.com")
                || (host.ends_with(".my.salesforce.com")
                    && host.split('.').next().is_some_and(|l| l.contains("--")));
            let documented = if sandbox { SANDBOX } else { PRODUCTION };
            let mut out = vec![documented.to_string()];
            if url != documented {
                out.push(url);
            }
            out
        }
    }
}

impl LoginHost {
    /// The login host URL, without a trailing slash.
    pub fn url(&self) -> String {
        match self {
            LoginHost::Production => "https://login.salesforce.com".to_string(),
            LoginHost::Sandbox => "https://test.salesforce.com".to_string(),
            LoginHost::MyDomain(url) => url.trim().trim_end_matches('/').to_string(),
        }
    }
}

/// Fuzz-style properties for the token endpoint's answers: never a panic, and a response
/// that is missing a required field is refused rather than filled with defaults.
#[cfg(test)]
mod robustness {
    use super::*;
    use crate::wire::robustness::{apply, config, lossy_json, mutation, prefixes};
    use proptest::prelude::*;
    use serde_json::{Value, json};

    fn token() -> Value {
        json!({
            "access_token": "00D!AQ0AQ",
            "refresh_token": "5Aep861",
            "signature": "CMJ4l+CCaPQiKjoOEwEig9H4wqhpuLSk4J2urAe+fVg=",
            "scope": "refresh_token api",
            "instance_url": "https://acme.my.salesforce.com",
            "id": "https://login.salesforce.com/id/00Dxx0000001gPL/005xx000001Sv6A",
            "token_type": "Bearer",
            "issued_at": "1278448101416"
        })
    }

    proptest! {
        #![proptest_config(config())]

        #[test]
        fn token_responses_are_whole_or_refused(m in mutation()) {
            let body = apply(&token(), &m);
            if let Ok(t) = serde_json::from_slice::<TokenResponse>(&body) {
                // (A body deeper than `Value` allows, in a skipped field, has no oracle here.)
                let Some(v) = lossy_json(&body) else { return Ok(()) };
                for required in ["access_token", "instance_url", "id"] {
                    prop_assert!(v[required].is_string(), "{required} accepted from {v}");
                }
                if let Some((org, user)) = t.ids() {
                    prop_assert!(!org.is_empty() && !user.is_empty());
                    prop_assert!(t.id.contains(&org) && t.id.contains(&user));
                }
                let _ = t.issued_at();
            }
        }

        #[test]
        fn identity_urls_and_issue_times_never_panic(id in any::<String>(), issued in any::<String>()) {
            let t = TokenResponse {
                access_token: String::new(),
                refresh_token: None,
                instance_url: String::new(),
                id,
                issued_at: Some(issued),
                signature: None,
            };
            if let Some((org, user)) = t.ids() {
                prop_assert!(!org.is_empty() && !user.is_empty());
            }
            let _ = t.issued_at();
        }

        #[test]
        fn issue_times_accept_any_in_range_integer(ms in any::<i64>()) {
            let t = TokenResponse {
                access_token: String::new(),
                refresh_token: None,
                instance_url: String::new(),
                id: String::new(),
                issued_at: Some(ms.to_string()),
                signature: None,
            };
            prop_assert_eq!(t.issued_at(), Timestamp::from_millisecond(ms).ok());
        }

        #[test]
        fn signatures_of_any_shape_never_verify_by_accident(
            secret in any::<String>(), id in any::<String>(), issued in any::<String>(), sig in any::<String>(),
        ) {
            let secret = SecretString::new(secret);
            // Random text is (overwhelmingly) not the HMAC; what matters is no panic.
            let _ = verify_signature(&secret, &id, &issued, &sig);
        }

        #[test]
        fn oauth_error_bodies_never_panic(m in mutation()) {
            let valid = json!({"error": "invalid_grant", "error_description": "expired access/refresh token"});
            if let Ok(e) = serde_json::from_slice::<OAuthErrorBody>(&apply(&valid, &m)) {
                let _ = auth_action("refresh-token", &e.error, &e.error_description);
            }
        }
    }

    #[test]
    fn jwt_audiences_are_the_documented_one_then_the_my_domain() {
        let my = |u: &str| LoginHost::MyDomain(u.into());
        let both = |a: &str, b: &str| vec![a.to_string(), b.to_string()];
        assert_eq!(
            jwt_audiences(&LoginHost::Production, None),
            ["https://login.salesforce.com"]
        );
        assert_eq!(
            jwt_audiences(&LoginHost::Sandbox, None),
            ["https://test.salesforce.com"]
        );
        assert_eq!(
            jwt_audiences(&my("https://acme.my.salesforce.com/"), None),
            both(
                "https://login.salesforce.com",
                "https://acme.my.salesforce.com"
            )
        );
        for sandbox in [
            "https://acme--uat.sandbox.my.salesforce.com",
            "https://acme--uat.my.salesforce.com",
        ] {
            assert_eq!(
                jwt_audiences(&my(sandbox), None),
                both("https://test.salesforce.com", sandbox),
                "{sandbox}"
            );
        }
        assert_eq!(
            jwt_audiences(
                &my("https://acme.my.salesforce.com"),
                Some(" https://acme.my.site.com/ ")
            ),
            ["https://acme.my.site.com"]
        );
    }

    #[test]
    fn a_cut_token_response_is_never_read() {
        for prefix in prefixes(&token()) {
            assert!(serde_json::from_slice::<TokenResponse>(&prefix).is_err());
        }
    }

    #[test]
    fn a_matching_signature_still_verifies() {
        let secret = SecretString::new("s3cret");
        let mut mac = Hmac::<Sha256>::new_from_slice(b"s3cret").unwrap();
        mac.update(b"https://x/id/o/u1278448101416");
        let sig = STANDARD.encode(mac.finalize().into_bytes());
        assert_eq!(
            verify_signature(&secret, "https://x/id/o/u", "1278448101416", &sig),
            Ok(())
        );
        assert_eq!(
            verify_signature(&secret, "https://x/id/o/u", "1278448101417", &sig),
            Err(())
        );
    }
}

/// Entry points for the coverage-guided fuzz targets in `fuzz/`: the token-endpoint parsers
/// the robustness properties above call. No behaviour of its own.
#[doc(hidden)]
pub mod fuzzing {
    use super::*;

    /// What an accepted token response yields: the identity URL's ids, the issue time, and
    /// whether its signature verified against `client_secret`.
    #[derive(Debug)]
    pub struct TokenFacts {
        pub ids: Option<(String, String)>,
        pub issued_at: Option<Timestamp>,
        pub signature_verified: Option<bool>,
    }

    pub fn token_response(body: &[u8], client_secret: &str) -> Option<TokenFacts> {
        let t = serde_json::from_slice::<TokenResponse>(body).ok()?;
        let secret = SecretString::new(client_secret.to_string());
        let signature_verified = t.signature.as_deref().map(|sig| {
            verify_signature(&secret, &t.id, t.issued_at.as_deref().unwrap_or(""), sig).is_ok()
        });
        Some(TokenFacts {
            ids: t.ids(),
            issued_at: t.issued_at(),
            signature_verified,
        })
    }

    /// An OAuth error body and the advice idgap gives for it under each sign-in method.
    pub fn oauth_error(body: &[u8]) -> Option<(String, Vec<String>)> {
        let e = serde_json::from_slice::<OAuthErrorBody>(body).ok()?;
        let advice = [
            "refresh-token",
            "JWT bearer",
            "client-credentials",
            "authorization-code",
        ]
        .into_iter()
        .map(|method| auth_action(method, &e.error, &e.error_description))
        .collect();
        Some((e.error, advice))
    }
}
