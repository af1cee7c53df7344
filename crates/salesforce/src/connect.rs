//! `idgap connect salesforce`: the web-server (authorization-code) flow with PKCE.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use idgap_net::{Http, SecretString};
use jiff::Timestamp;
use sha2::{Digest, Sha256};

use crate::LoginHost;
use crate::auth::request_token;
use crate::error::SyncError;

/// A PKCE pair: keep the verifier, send the challenge.
#[derive(Debug, Clone)]
pub struct Pkce {
    pub verifier: SecretString,
    pub challenge: String,
}

impl Pkce {
    /// 32 random bytes as a base64url verifier (43 characters) and its S256 challenge.
    pub fn generate() -> Self {
        let bytes: [u8; 32] = rand::random();
        let verifier = URL_SAFE_NO_PAD.encode(bytes);
        let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
        Pkce {
            verifier: SecretString::new(verifier),
            challenge,
        }
    }
}

/// The URL to open in a browser to approve the app.
pub fn authorize_url(
    login: &LoginHost,
    client_id: &str,
    redirect_uri: &str,
    scopes: &str,
    state: &str,
    challenge: &str,
) -> String {
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("response_type", "code")
        .append_pair("client_id", client_id)
        .append_pair("redirect_uri", redirect_uri)
        .append_pair("scope", scopes)
        .append_pair("state", state)
        .append_pair("code_challenge", challenge)
        .append_pair("code_challenge_method", "S256")
        .finish();
    format!("{}/services/oauth2/authorize?{query}", login.url())
}

/// What the code exchange returns.
#[derive(Debug, Clone)]
pub struct TokenGrant {
    pub access_token: SecretString,
    /// Present when the app's scopes include `refresh_token` and the user granted it.
    pub refresh_token: Option<SecretString>,
    pub instance_url: String,
    pub id_url: String,
    pub issued_at: Option<Timestamp>,
}

/// Exchanges the callback's `code` (with the PKCE verifier) for tokens.
pub async fn exchange_code(
    http: &Http,
    login: &LoginHost,
    client_id: &str,
    client_secret: Option<&SecretString>,
    code: &str,
    redirect_uri: &str,
    verifier: &SecretString,
) -> Result<TokenGrant, SyncError> {
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("client_id", client_id),
        ("redirect_uri", redirect_uri),
        ("code_verifier", verifier.expose()),
    ];
    if let Some(secret) = client_secret {
        form.push(("client_secret", secret.expose()));
    }
    let token = request_token(
        http,
        &login.url(),
        "authorization-code",
        &form,
        client_secret,
    )
    .await?;
    Ok(TokenGrant {
        issued_at: token.issued_at(),
        access_token: SecretString::new(token.access_token),
        refresh_token: token.refresh_token.map(SecretString::new),
        instance_url: token.instance_url.trim_end_matches('/').to_string(),
        id_url: token.id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_challenge_is_s256_of_verifier() {
        let p = Pkce::generate();
        assert_eq!(p.verifier.expose().len(), 43);
        let expected = URL_SAFE_NO_PAD.encode(Sha256::digest(p.verifier.expose().as_bytes()));
        assert_eq!(p.challenge, expected);
        assert_ne!(Pkce::generate().challenge, p.challenge);
    }

    #[test]
    fn authorize_url_has_every_parameter() {
        let url = authorize_url(
            &LoginHost::Sandbox,
            "cid",
            "http://localhost:1717/callback",
            "api refresh_token id",
            "st",
            "ch",
        );
        assert!(url.starts_with("https://test.salesforce.com/services/oauth2/authorize?response_type=code&client_id=cid&redirect_uri=http%3A%2F%2Flocalhost%3A1717%2Fcallback&scope=api+refresh_token+id&state=st&code_challenge=ch&code_challenge_method=S256"), "{url}");
    }
}
