//! JSON Web Tokens signed by idgap: client assertions (Okta `private_key_jwt`, Entra
//! certificate credentials, Google service accounts) and DPoP proofs (RFC 9449).
//!
//! Only signing lives here; idgap never has to verify a provider's tokens. Keys come in as
//! PEM inside a [`SecretString`] and are parsed per call, so no key material outlives the
//! signature. Errors never quote the key.
//!
//! Errors are [`IdpError::Config`] labelled "JWT signing"; relabel them for your provider
//! with [`IdpError::with_provider`].

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use idgap_net::SecretString;
use p256::ecdsa::signature::Signer as _;
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs8::DecodePrivateKey;
use rsa::signature::SignatureEncoding as _;
use serde_json::{Map, Value, json};
use sha1::Digest as _;

use crate::IdpError;

const LABEL: &str = "JWT signing";

/// The `client_assertion_type` value every provider uses for JWT client authentication.
pub const CLIENT_ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// Signs `claims` with RS256. The JOSE header is `{"alg":"RS256","typ":"JWT"}` plus `kid`
/// when given. The key may be PKCS#8 (`BEGIN PRIVATE KEY`) or PKCS#1 (`BEGIN RSA PRIVATE KEY`).
pub fn sign_rs256(
    claims: &Value,
    private_key_pem: &SecretString,
    kid: Option<&str>,
) -> Result<String, IdpError> {
    let mut header = Map::new();
    if let Some(kid) = kid {
        header.insert("kid".into(), Value::String(kid.to_string()));
    }
    sign_rs256_with_header(header, claims, private_key_pem)
}

/// Like [`sign_rs256`], with extra JOSE header fields (e.g. Entra's `x5t`). `alg` and `typ`
/// are set here unless `extra_header` already has a `typ`. The signed assertion is a bearer
/// credential until it expires, so it is registered for redaction (`idgap_net::redact`).
pub fn sign_rs256_with_header(
    extra_header: Map<String, Value>,
    claims: &Value,
    private_key_pem: &SecretString,
) -> Result<String, IdpError> {
    let key = parse_rsa_key(private_key_pem)?;
    let mut header = extra_header;
    header.insert("alg".into(), Value::String("RS256".into()));
    header
        .entry("typ")
        .or_insert_with(|| Value::String("JWT".into()));
    let signing_input = signing_input(&Value::Object(header), claims)?;
    let signer = rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(key);
    let signature = signer
        .try_sign(signing_input.as_bytes())
        .map_err(|_| config("the RSA key could not produce a signature"))?;
    let signed = format!(
        "{signing_input}.{}",
        URL_SAFE_NO_PAD.encode(signature.to_bytes())
    );
    idgap_net::redact::register(&signed);
    Ok(signed)
}

/// Checks that `private_key_pem` is an RSA private key idgap can sign with, without signing.
pub fn check_rsa_key(private_key_pem: &SecretString) -> Result<(), IdpError> {
    parse_rsa_key(private_key_pem).map(|_| ())
}

fn parse_rsa_key(pem: &SecretString) -> Result<rsa::RsaPrivateKey, IdpError> {
    // Google's JSON key files carry the PEM with literal "\n" sequences; accept both.
    let text = pem.expose().trim().replace("\\n", "\n");
    if text.contains("BEGIN RSA PRIVATE KEY") {
        rsa::RsaPrivateKey::from_pkcs1_pem(&text).map_err(|_| {
            config("the private key is not a readable PKCS#1 RSA key (BEGIN RSA PRIVATE KEY)")
        })
    } else if text.contains("BEGIN PRIVATE KEY") {
        rsa::RsaPrivateKey::from_pkcs8_pem(&text).map_err(|_| {
            config("the private key is not a readable PKCS#8 RSA key (BEGIN PRIVATE KEY); an encrypted or EC key is not supported")
        })
    } else {
        Err(config(
            "the private key is not PEM: expected `-----BEGIN PRIVATE KEY-----` (PKCS#8) or `-----BEGIN RSA PRIVATE KEY-----` (PKCS#1)",
        ))
    }
}

fn signing_input(header: &Value, claims: &Value) -> Result<String, IdpError> {
    let h = serde_json::to_vec(header).map_err(|_| config("JWT header is not serialisable"))?;
    let c = serde_json::to_vec(claims).map_err(|_| config("JWT claims are not serialisable"))?;
    Ok(format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(h),
        URL_SAFE_NO_PAD.encode(c)
    ))
}

fn config(detail: &str) -> IdpError {
    IdpError::Config {
        provider: LABEL,
        detail: detail.to_string(),
    }
}

/// Seconds since the Unix epoch, for `iat`/`exp`.
pub fn now_epoch_seconds() -> i64 {
    jiff::Timestamp::now().as_second()
}

/// A fresh random `jti` (128 bits, hex).
pub fn new_jti() -> String {
    let bytes: [u8; 16] = rand::random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// base64url(SHA-256(value)) without padding: DPoP's `ath`.
pub fn sha256_b64url(value: &str) -> String {
    URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(value.as_bytes()))
}

/// The `x5t` header value for a certificate: base64url of the SHA-1 digest of its DER.
///
/// Accepts either a PEM certificate (`-----BEGIN CERTIFICATE-----`) or the thumbprint as
/// 40 hex digits (what the Entra portal shows), with or without `:` separators.
pub fn x5t_from_certificate(cert_or_thumbprint: &str) -> Result<String, IdpError> {
    let text = cert_or_thumbprint.trim();
    if text.contains("BEGIN CERTIFICATE") {
        let body: String = text
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .flat_map(|l| l.trim().chars())
            .collect();
        let der = STANDARD
            .decode(body)
            .map_err(|_| config("the certificate PEM body is not base64"))?;
        return Ok(URL_SAFE_NO_PAD.encode(sha1::Sha1::digest(&der)));
    }
    let hex_digits: String = text.chars().filter(|c| *c != ':' && *c != ' ').collect();
    if hex_digits.len() != 40 || !hex_digits.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(config(
            "certificate thumbprint must be a PEM certificate or 40 hex digits (the SHA-1 thumbprint the Entra portal shows)",
        ));
    }
    let bytes: Vec<u8> = (0..20)
        .map(|i| u8::from_str_radix(&hex_digits[2 * i..2 * i + 2], 16).expect("checked hex"))
        .collect();
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// An ephemeral P-256 key for DPoP proofs. One per sync: the access token is bound to it, so
/// it must live as long as the token.
pub struct DpopKey {
    signing: p256::ecdsa::SigningKey,
    jwk: Value,
}

impl std::fmt::Debug for DpopKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DpopKey")
            .field("jwk", &self.jwk)
            .finish_non_exhaustive()
    }
}

impl DpopKey {
    pub fn generate() -> Self {
        let signing = loop {
            let bytes: [u8; 32] = rand::random();
            if let Ok(key) = p256::ecdsa::SigningKey::from_bytes(&bytes.into()) {
                break key;
            }
        };
        let point = signing.verifying_key().to_encoded_point(false);
        let coord =
            |c: Option<&p256::FieldBytes>| URL_SAFE_NO_PAD.encode(c.expect("uncompressed point"));
        let jwk = json!({
            "kty": "EC",
            "crv": "P-256",
            "x": coord(point.x()),
            "y": coord(point.y()),
        });
        DpopKey { signing, jwk }
    }

    /// The public key as a JWK (what goes into every proof's header).
    pub fn public_jwk(&self) -> &Value {
        &self.jwk
    }

    /// A DPoP proof for one request. `htu` is the URL without query or fragment (stripped
    /// here); `access_token` adds `ath` for resource calls; `nonce` echoes the server's
    /// `DPoP-Nonce`.
    pub fn proof(
        &self,
        htm: &str,
        url: &str,
        nonce: Option<&str>,
        access_token: Option<&SecretString>,
    ) -> String {
        let htu = url.split(['?', '#']).next().unwrap_or(url);
        let mut claims = json!({
            "htm": htm,
            "htu": htu,
            "iat": now_epoch_seconds(),
            "jti": new_jti(),
        });
        if let Some(nonce) = nonce {
            claims["nonce"] = Value::String(nonce.to_string());
        }
        if let Some(token) = access_token {
            claims["ath"] = Value::String(sha256_b64url(token.expose()));
        }
        let header = json!({ "typ": "dpop+jwt", "alg": "ES256", "jwk": self.jwk });
        let input = signing_input(&header, &claims).expect("plain JSON values serialise");
        let signature: p256::ecdsa::Signature = self.signing.sign(input.as_bytes());
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.to_bytes()))
    }
}

/// Decodes a JWT's header and claims without checking the signature (tests, simulators).
pub fn decode_unverified(jwt: &str) -> Option<(Value, Value)> {
    let mut parts = jwt.split('.');
    let h = URL_SAFE_NO_PAD.decode(parts.next()?).ok()?;
    let c = URL_SAFE_NO_PAD.decode(parts.next()?).ok()?;
    parts.next()?;
    Some((
        serde_json::from_slice(&h).ok()?,
        serde_json::from_slice(&c).ok()?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsa::pkcs8::{EncodePrivateKey, LineEnding};
    use rsa::signature::Verifier as _;

    fn rsa_pem() -> (SecretString, rsa::RsaPublicKey) {
        let key = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).unwrap();
        let pem = key.to_pkcs8_pem(LineEnding::LF).unwrap().to_string();
        (SecretString::new(pem), key.to_public_key())
    }

    #[test]
    fn rs256_signature_verifies_and_carries_kid() {
        let (pem, public) = rsa_pem();
        let jwt = sign_rs256(&json!({"iss": "app"}), &pem, Some("k1")).unwrap();
        let (header, claims) = decode_unverified(&jwt).unwrap();
        assert_eq!(header, json!({"alg": "RS256", "typ": "JWT", "kid": "k1"}));
        assert_eq!(claims, json!({"iss": "app"}));
        let (input, sig) = jwt.rsplit_once('.').unwrap();
        let sig =
            rsa::pkcs1v15::Signature::try_from(URL_SAFE_NO_PAD.decode(sig).unwrap().as_slice())
                .unwrap();
        let verifier = rsa::pkcs1v15::VerifyingKey::<sha2::Sha256>::new(public);
        assert!(verifier.verify(input.as_bytes(), &sig).is_ok());
    }

    #[test]
    fn a_bad_key_is_a_config_error_that_does_not_quote_it() {
        let pem = SecretString::new(
            "-----BEGIN PRIVATE KEY-----\nTOPSECRETMATERIAL\n-----END PRIVATE KEY-----",
        );
        let err = sign_rs256(&json!({}), &pem, None).unwrap_err();
        assert!(matches!(err, IdpError::Config { .. }));
        assert!(!err.to_string().contains("TOPSECRETMATERIAL"));
        let err = sign_rs256(&json!({}), &SecretString::new("hunter2"), None).unwrap_err();
        assert!(err.to_string().contains("not PEM"));
        assert!(!err.to_string().contains("hunter2"));
    }

    #[test]
    fn dpop_proof_has_the_rfc9449_shape_and_verifies() {
        let key = DpopKey::generate();
        let token = SecretString::new("tok");
        let proof = key.proof(
            "GET",
            "https://acme.okta.com/api/v1/users?limit=2",
            Some("n1"),
            Some(&token),
        );
        let (header, claims) = decode_unverified(&proof).unwrap();
        assert_eq!(header["typ"], "dpop+jwt");
        assert_eq!(header["alg"], "ES256");
        assert_eq!(header["jwk"]["crv"], "P-256");
        assert_eq!(claims["htu"], "https://acme.okta.com/api/v1/users");
        assert_eq!(claims["htm"], "GET");
        assert_eq!(claims["nonce"], "n1");
        assert_eq!(claims["ath"], sha256_b64url("tok"));
        let (input, sig) = proof.rsplit_once('.').unwrap();
        let sig =
            p256::ecdsa::Signature::from_slice(&URL_SAFE_NO_PAD.decode(sig).unwrap()).unwrap();
        assert!(
            key.signing
                .verifying_key()
                .verify(input.as_bytes(), &sig)
                .is_ok()
        );
    }

    #[test]
    fn x5t_from_hex_thumbprint_and_from_pem() {
        let hex = "0123456789abcdef0123456789ABCDEF01234567";
        let expected = URL_SAFE_NO_PAD.encode([
            0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab,
            0xcd, 0xef, 0x01, 0x23, 0x45, 0x67,
        ]);
        assert_eq!(x5t_from_certificate(hex).unwrap(), expected);
        let der = b"not really DER but any bytes";
        let pem = format!(
            "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
            STANDARD.encode(der)
        );
        assert_eq!(
            x5t_from_certificate(&pem).unwrap(),
            URL_SAFE_NO_PAD.encode(sha1::Sha1::digest(der))
        );
        assert!(x5t_from_certificate("abc").is_err());
    }
}
