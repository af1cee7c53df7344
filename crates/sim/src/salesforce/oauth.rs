//! The OAuth 2.0 endpoints: token (four grants), authorize (code + PKCE), revoke.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use rsa::pkcs1v15::{Signature, VerifyingKey};
use rsa::signature::Verifier;
use serde_json::json;
use sha2::{Digest, Sha256};

use super::UserRef;
use super::state::{AuthCode, Kind, Shared, json_response, random_token, test_key};

const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

fn oauth_error(error: &str, description: &str) -> Response {
    json_response(
        StatusCode::BAD_REQUEST,
        &json!({ "error": error, "error_description": description }),
        None,
    )
}

fn bad_client() -> Response {
    oauth_error("invalid_client_id", "client identifier invalid")
}

fn expired_grant() -> Response {
    oauth_error("invalid_grant", "expired access/refresh token")
}

/// base64(HMAC-SHA256(client_secret, id + issued_at)).
pub(crate) fn signature(secret: &str, id: &str, issued_at: &str) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(id.as_bytes());
    mac.update(issued_at.as_bytes());
    STANDARD.encode(mac.finalize().into_bytes())
}

/// The success body every grant shares; `refresh_token` only when one is issued.
fn grant(shared: &Shared, user: usize, scope: &str, refresh: Option<String>) -> Response {
    let (org_id, user_id) = {
        let org = shared.org.lock();
        (org.org_id(), org.user_id(UserRef(user)))
    };
    let access = shared.auth().issue_access(&org_id, user);
    let base = shared.base();
    let id = format!("{base}/id/{org_id}/{user_id}");
    let issued_at = jiff::Timestamp::now().as_millisecond().to_string();
    let mut body = json!({
        "access_token": access,
        "signature": signature(&shared.opts.client_secret, &id, &issued_at),
        "scope": scope,
        "instance_url": shared.opts.instance_url.as_deref().unwrap_or(&base),
        "id": id,
        "token_type": "Bearer",
        "issued_at": issued_at,
    });
    if let Some(r) = refresh {
        body["refresh_token"] = json!(r);
    }
    json_response(StatusCode::OK, &body, None)
}

/// Client credentials from the body or an HTTP Basic header.
fn client_auth(
    form: &HashMap<String, String>,
    headers: &HeaderMap,
) -> (Option<String>, Option<String>) {
    if let Some(basic) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| STANDARD.decode(b.trim()).ok())
        .and_then(|b| String::from_utf8(b).ok())
        && let Some((id, secret)) = basic.split_once(':')
    {
        return (Some(id.to_string()), Some(secret.to_string()));
    }
    (
        form.get("client_id").cloned(),
        form.get("client_secret").cloned(),
    )
}

/// Which host a token request reached. The simulator serves all three on one port: its base
/// URL is the org's My Domain, `/login` and `/test` stand in for login.salesforce.com and
/// test.salesforce.com.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LoginHost {
    MyDomain,
    Login,
    Test,
}

pub(crate) async fn token(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    token_at(LoginHost::MyDomain, &shared, &headers, &body)
}

pub(crate) async fn token_on_login(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    token_at(LoginHost::Login, &shared, &headers, &body)
}

pub(crate) async fn token_on_test(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    token_at(LoginHost::Test, &shared, &headers, &body)
}

fn token_at(host: LoginHost, shared: &Arc<Shared>, headers: &HeaderMap, body: &Bytes) -> Response {
    let shared = shared.clone();
    shared.count(Kind::Token);
    shared.apply_protocol_faults("/services/oauth2/token");
    let form: HashMap<String, String> = url::form_urlencoded::parse(body).into_owned().collect();
    let (client_id, client_secret) = client_auth(&form, headers);
    let grant_type = form.get("grant_type").map(String::as_str).unwrap_or("");
    if grant_type == JWT_BEARER {
        return jwt_bearer(
            &shared,
            form.get("assertion").map(String::as_str).unwrap_or(""),
        );
    }
    if client_id.as_deref() != Some(shared.opts.client_id.as_str()) {
        return bad_client();
    }
    let secret_ok = client_secret.as_deref() == Some(shared.opts.client_secret.as_str());
    match grant_type {
        "refresh_token" => {
            if client_secret.is_some() && !secret_ok {
                return oauth_error("invalid_client", "invalid client credentials");
            }
            let presented = form.get("refresh_token").cloned().unwrap_or_default();
            // Locks are taken one at a time (org, then auth) so they never nest.
            let Some((user, true)) = shared.auth().refresh.get(&presented).copied() else {
                return expired_grant();
            };
            if shared
                .org
                .lock()
                .users
                .get(user)
                .is_some_and(|u| !u.is_active)
            {
                return oauth_error("invalid_grant", "inactive user");
            }
            let next = if shared.opts.rotate_refresh_tokens {
                let mut auth = shared.auth();
                auth.refresh.insert(presented, (user, false));
                Some(auth.issue_refresh(user))
            } else {
                None
            };
            grant(&shared, user, "refresh_token api id", next)
        }
        // Client credentials work only on the My Domain host (pozil/pub-sub-api-node-client#58,
        // a Salesforce maintainer's answer).
        "client_credentials" if host != LoginHost::MyDomain => {
            oauth_error("invalid_grant", "request not supported on this domain")
        }
        "client_credentials" => {
            if !secret_ok || shared.auth().client_credentials_revoked {
                return oauth_error("invalid_grant", "authentication failure");
            }
            let user = shared.integration_user();
            grant(&shared, user, "api", None)
        }
        "authorization_code" => {
            if client_secret.is_some() && !secret_ok {
                return oauth_error("invalid_client", "invalid client credentials");
            }
            let code = form.get("code").cloned().unwrap_or_default();
            let Some(issued) = shared.auth().codes.remove(&code) else {
                return oauth_error("invalid_grant", "invalid authorization code");
            };
            if issued.client_id != shared.opts.client_id {
                return bad_client();
            }
            if form.get("redirect_uri") != Some(&issued.redirect_uri) {
                return oauth_error("invalid_grant", "redirect_uri mismatch");
            }
            if let Some(challenge) = &issued.challenge {
                let Some(verifier) = form.get("code_verifier") else {
                    return oauth_error("invalid_grant", "invalid code verifier");
                };
                let computed = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
                if &computed != challenge {
                    return oauth_error("invalid_request", "invalid code verifier");
                }
            }
            let refresh = shared.auth().issue_refresh(issued.user);
            grant(&shared, issued.user, "refresh_token api id", Some(refresh))
        }
        _ => oauth_error("unsupported_grant_type", "grant type not supported"),
    }
}

#[derive(serde::Deserialize)]
struct Claims {
    iss: String,
    #[serde(alias = "prn")]
    sub: String,
    aud: String,
    exp: i64,
}

fn jwt_bearer(shared: &Shared, assertion: &str) -> Response {
    let parts: Vec<&str> = assertion.split('.').collect();
    let invalid = || oauth_error("invalid_grant", "invalid assertion");
    if parts.len() != 3 {
        return invalid();
    }
    let header: serde_json::Value = match URL_SAFE_NO_PAD
        .decode(parts[0])
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
    {
        Some(h) => h,
        None => return invalid(),
    };
    if header["alg"] != "RS256" {
        return oauth_error(
            "invalid_grant",
            "invalid assertion: only RS256 is supported",
        );
    }
    let Ok(sig_bytes) = URL_SAFE_NO_PAD.decode(parts[2]) else {
        return invalid();
    };
    let Ok(sig) = Signature::try_from(sig_bytes.as_slice()) else {
        return invalid();
    };
    let key = VerifyingKey::<Sha256>::new(test_key().0.to_public_key());
    let signed = format!("{}.{}", parts[0], parts[1]);
    if key.verify(signed.as_bytes(), &sig).is_err() {
        return oauth_error("invalid_grant", "invalid assertion signature");
    }
    let claims: Claims = match URL_SAFE_NO_PAD
        .decode(parts[1])
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
    {
        Some(c) => c,
        None => return invalid(),
    };
    if claims.iss != shared.opts.client_id {
        return oauth_error("invalid_client_id", "client identifier invalid");
    }
    // The documented audiences; the My Domain only when this org is set to accept it, as
    // some real orgs do.
    let mut audiences = vec![
        "https://login.salesforce.com".to_string(),
        "https://test.salesforce.com".to_string(),
    ];
    if shared.opts.accept_my_domain_audience {
        audiences.push(shared.base());
    }
    if !audiences
        .iter()
        .any(|a| a.trim_end_matches('/') == claims.aud.trim_end_matches('/'))
    {
        return oauth_error("invalid_grant", "audience is invalid");
    }
    if claims.exp < jiff::Timestamp::now().as_second() {
        return oauth_error("invalid_grant", "expired authorization code");
    }
    let user = {
        let org = shared.org.lock();
        match org.user_by_username(&claims.sub) {
            Some(u) if org.users[u.0].is_active => u.0,
            Some(_) => return oauth_error("invalid_grant", "inactive user"),
            None => return oauth_error("invalid_grant", "user hasn't approved this consumer"),
        }
    };
    grant(shared, user, "api", None)
}

/// `GET /services/oauth2/authorize`: the simulated user approves at once (or denies, when
/// [`super::SimOptions::deny_authorization`] is set) and is redirected back.
pub(crate) async fn authorize(
    State(shared): State<Arc<Shared>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    shared.count(Kind::Authorize);
    let Some(redirect) = q.get("redirect_uri").cloned() else {
        return (StatusCode::BAD_REQUEST, "error=redirect_uri_missing").into_response();
    };
    if q.get("client_id") != Some(&shared.opts.client_id) {
        return (
            StatusCode::BAD_REQUEST,
            "error=invalid_client_id&error_description=client%20identifier%20invalid",
        )
            .into_response();
    }
    let mut target = url::Url::parse(&redirect).map_or_else(
        |_| format!("{redirect}?"),
        |mut u| {
            u.set_query(None);
            format!("{u}?")
        },
    );
    let state = q.get("state").cloned();
    let mut params = url::form_urlencoded::Serializer::new(String::new());
    if q.get("response_type").map(String::as_str) != Some("code") {
        params.append_pair("error", "unsupported_response_type");
    } else if shared.opts.deny_authorization {
        params.append_pair("error", "access_denied");
        params.append_pair("error_description", "end-user denied authorization");
    } else {
        let code = random_token("aPrx");
        let user = shared.integration_user();
        shared.auth().codes.insert(
            code.clone(),
            AuthCode {
                client_id: shared.opts.client_id.clone(),
                redirect_uri: redirect.clone(),
                challenge: q.get("code_challenge").cloned(),
                user,
            },
        );
        params.append_pair("code", &code);
    }
    if let Some(s) = state {
        params.append_pair("state", &s);
    }
    target.push_str(&params.finish());
    (StatusCode::FOUND, [(header::LOCATION, target)]).into_response()
}

/// `POST /services/oauth2/revoke` with `token=`: a refresh token also ends its sessions.
pub(crate) async fn revoke(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    shared.count(Kind::Token);
    let form: HashMap<String, String> = url::form_urlencoded::parse(&body).into_owned().collect();
    let token = form.get("token").cloned().unwrap_or_default();
    let mut auth = shared.auth();
    if let Some((user, valid)) = auth.refresh.get_mut(&token) {
        *valid = false;
        let user = *user;
        for t in auth.access.values_mut().filter(|t| t.user == user) {
            t.expired = true;
        }
        return StatusCode::OK.into_response();
    }
    if auth.access.remove(&token).is_some() {
        return StatusCode::OK.into_response();
    }
    oauth_error("invalid_token", "invalid token")
}
