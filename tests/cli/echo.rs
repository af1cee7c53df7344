//! The echo server (`tests/support/echo.rs`) in front of every provider and every sign-in
//! method. Nothing idgap prints (stdout in every format,
//! stderr, `RUST_LOG=trace` logs) may contain a credential, in any encoding.

use std::sync::atomic::Ordering;

use crate::common::{Fixture, Output};
use crate::support::echo::{ACCESS_TOKEN, EchoServer, Mode, forms};

/// Canary values with characters that change under URL, form and base64 encoding.
const SF_CLIENT_SECRET: &str = "Cnry/sf+client=secret~Q1";
const SF_REFRESH_TOKEN: &str = "Cnry/sf+refresh=token!Q2";
const SF_CC_SECRET: &str = "Cnry/sf+cc=secret Q3";
const OKTA_TOKEN: &str = "00Cnry-okta+ssws/token=Q4";
const ENTRA_SECRET: &str = "Cnry~entra+client/secret=Q5";
const JUMPCLOUD_KEY: &str = "jca_Cnry+jumpcloud/key=Q6";
const ONELOGIN_ID: &str = "cnry-onelogin-client-id";
const ONELOGIN_SECRET: &str = "Cnry/onelogin+secret=Q7";
/// The base64url of `{"alg":"RS256` — the start of every assertion idgap signs.
const ASSERTION_PREFIX: &str = "eyJhbGciOiJSUzI1Ni";

/// Runs the scan in every format with `RUST_LOG=trace` and checks that none of `secrets` (in
/// any form) and no signed assertion appears, and that the echo did reach the output.
async fn assert_nothing_leaks(f: &Fixture, echo: &EchoServer, secrets: &[String]) {
    let needles: Vec<String> = secrets
        .iter()
        .flat_map(|s| forms(s))
        .chain([ASSERTION_PREFIX.to_string()])
        .collect();
    for format in ["table", "json", "sarif", "csv"] {
        let before = echo.requests.load(Ordering::Relaxed);
        let out: Output = crate::common::idgap_with_env(
            &[
                "scan",
                "--allow-host",
                "127.0.0.1",
                "-f",
                &f.dir(),
                "-o",
                format,
            ],
            &[("RUST_LOG", "trace")],
        )
        .await;
        assert!(
            echo.requests.load(Ordering::Relaxed) > before,
            "the scan never called the echo server"
        );
        let all = format!("{}\n{}", out.stdout, out.stderr);
        for needle in &needles {
            assert!(
                !all.contains(needle.as_str()),
                "-o {format}: {needle:?} was printed:\n{all}"
            );
        }
        assert!(
            all.contains("<redacted>"),
            "-o {format}: the echo never reached the output, so this proves nothing:\n{all}"
        );
        assert_eq!(out.code, 2, "-o {format}: a failed source exits 2:\n{all}");
    }
}

const INTEGRATION: &str = r#"apiVersion: idgap.io/v1alpha1
kind: SalesforceIntegration
metadata: { name: acme, namespace: security }
spec:
  loginUrl: "${LOGIN_URL}"
  auth:
${AUTH}
  identityProviderRefs:
    - name: echo
"#;

const REFRESH_TOKEN_AUTH: &str = "    refreshToken:
      clientId: { name: sf, key: client_id }
      clientSecret: { name: sf, key: client_secret }
      refreshToken: { name: sf, key: refresh_token }";

/// Writes the scan directory: the integration (signing in at `login_url` with `auth`), its
/// Secret, and the IdentityProvider `echo` with its Secret.
fn write_manifests(f: &Fixture, login_url: &str, auth: &str, sf_secret: &str, idp: &str) {
    let integration = INTEGRATION
        .replace("${LOGIN_URL}", login_url)
        .replace("${AUTH}", auth);
    let secret = format!(
        "apiVersion: v1\nkind: Secret\nmetadata: {{ name: sf, namespace: security }}\nstringData:\n{sf_secret}\n"
    );
    f.write("integration.yaml", &integration);
    f.write("secrets.yaml", &secret);
    f.write("identity-providers.yaml", idp);
}

/// The real (simulated) org's Secret, for the IdP cases.
fn sim_sf_secret(f: &Fixture) -> String {
    let c = f.salesforce.credentials();
    format!(
        "  client_id: {:?}\n  client_secret: {:?}\n  refresh_token: {:?}",
        c.client_id, c.client_secret, c.refresh_token
    )
}

fn idp(secret_data: &str, spec: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Secret\nmetadata: {{ name: idp, namespace: security }}\nstringData:\n{secret_data}\n---\napiVersion: idgap.io/v1alpha1\nkind: IdentityProvider\nmetadata: {{ name: echo, namespace: security }}\nspec:\n{spec}\n"
    )
}

/// A YAML block scalar of `text`, indented for a `stringData` key.
fn block(text: &str) -> String {
    text.lines().map(|l| format!("    {l}\n")).collect()
}

async fn salesforce_case(auth: &str, sf_secret: &str, secrets: &[&str]) {
    let f = Fixture::start().await;
    let echo = EchoServer::start(Mode::Refuse).await;
    let okta = idp(
        "  token: \"00unused-okta-token\"",
        &format!(
            "  okta:\n    domain: acme.okta.com\n    baseUrl: \"{}\"\n    apiToken: {{ name: idp, key: token }}",
            echo.url
        ),
    );
    write_manifests(&f, &echo.url, auth, sf_secret, &okta);
    let secrets: Vec<String> = secrets.iter().map(|s| s.to_string()).collect();
    assert_nothing_leaks(&f, &echo, &secrets).await;
}

async fn idp_case(mode: Mode, secret_data: &str, spec: &str, secrets: &[&str]) {
    let f = Fixture::start().await;
    let echo = EchoServer::start(mode).await;
    let spec = spec.replace("${ECHO}", &echo.url);
    write_manifests(
        &f,
        &f.salesforce.base_url(),
        REFRESH_TOKEN_AUTH,
        &sim_sf_secret(&f),
        &idp(secret_data, &spec),
    );
    let mut secrets: Vec<String> = secrets.iter().map(|s| s.to_string()).collect();
    secrets.extend(f.secret_values().into_iter().take(2));
    assert_nothing_leaks(&f, &echo, &secrets).await;
}

#[tokio::test]
async fn salesforce_refresh_token_echo_leaks_nothing() {
    let data = format!(
        "  client_id: cnry-sf-client-id\n  client_secret: {SF_CLIENT_SECRET:?}\n  refresh_token: {SF_REFRESH_TOKEN:?}"
    );
    salesforce_case(
        REFRESH_TOKEN_AUTH,
        &data,
        &[SF_CLIENT_SECRET, SF_REFRESH_TOKEN],
    )
    .await;
}

#[tokio::test]
async fn salesforce_jwt_bearer_echo_leaks_no_assertion() {
    let f = Fixture::start().await;
    let pem = f.salesforce.credentials().private_key_pem;
    let auth = "    jwtBearer:
      clientId: { name: sf, key: client_id }
      username: integration@acme.com
      privateKey: { name: sf, key: key.pem }";
    let data = format!(
        "  client_id: cnry-sf-client-id\n  key.pem: |\n{}",
        block(&pem)
    );
    salesforce_case(auth, &data, &[]).await;
}

#[tokio::test]
async fn salesforce_client_credentials_echo_leaks_nothing() {
    let auth = "    clientCredentials:
      clientId: { name: sf, key: client_id }
      clientSecret: { name: sf, key: client_secret }";
    let data = format!("  client_id: cnry-sf-client-id\n  client_secret: {SF_CC_SECRET:?}");
    salesforce_case(auth, &data, &[SF_CC_SECRET]).await;
}

#[tokio::test]
async fn okta_ssws_echo_leaks_nothing() {
    idp_case(
        Mode::IssueThenRefuse,
        &format!("  token: {OKTA_TOKEN:?}"),
        "  okta:\n    domain: acme.okta.com\n    baseUrl: \"${ECHO}\"\n    apiToken: { name: idp, key: token }",
        &[OKTA_TOKEN],
    )
    .await;
}

#[tokio::test]
async fn okta_private_key_jwt_echo_leaks_no_assertion() {
    let f = Fixture::start().await;
    let pem = f.salesforce.credentials().private_key_pem;
    drop(f);
    idp_case(
        Mode::Refuse,
        &format!("  key.pem: |\n{}", block(&pem)),
        "  okta:\n    domain: acme.okta.com\n    baseUrl: \"${ECHO}\"\n    serviceApp:\n      clientId: 0oacnryclient\n      dpop: false\n      privateKey: { name: idp, key: key.pem }",
        &[],
    )
    .await;
}

const ENTRA_SPEC: &str = "  entraId:
    tenantId: 11111111-2222-4333-8444-555555555555
    clientId: aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee
    clientSecret: { name: idp, key: client_secret }
    loginBaseUrl: \"${ECHO}\"
    graphBaseUrl: \"${ECHO}\"";

#[tokio::test]
async fn entra_client_secret_echo_leaks_nothing() {
    idp_case(
        Mode::Refuse,
        &format!("  client_secret: {ENTRA_SECRET:?}"),
        ENTRA_SPEC,
        &[ENTRA_SECRET],
    )
    .await;
}

#[tokio::test]
async fn an_access_token_obtained_at_runtime_is_never_printed() {
    idp_case(
        Mode::IssueThenRefuse,
        &format!("  client_secret: {ENTRA_SECRET:?}"),
        ENTRA_SPEC,
        &[ENTRA_SECRET, ACCESS_TOKEN],
    )
    .await;
}

#[tokio::test]
async fn google_service_account_echo_leaks_no_assertion() {
    let f = Fixture::start().await;
    let pem = f.salesforce.credentials().private_key_pem;
    drop(f);
    let key = serde_json::json!({
        "type": "service_account",
        "client_email": "idgap@cnry.iam.gserviceaccount.com",
        "private_key": pem,
    })
    .to_string();
    idp_case(
        Mode::Refuse,
        &format!("  key.json: {key:?}"),
        "  googleWorkspace:\n    subject: admin@acme.com\n    customer: my_customer\n    tokenUrl: \"${ECHO}/token\"\n    apiBaseUrl: \"${ECHO}\"\n    serviceAccountKey: { name: idp, key: key.json }",
        &[],
    )
    .await;
}

#[tokio::test]
async fn jumpcloud_api_key_echo_leaks_nothing() {
    idp_case(
        Mode::IssueThenRefuse,
        &format!("  api-key: {JUMPCLOUD_KEY:?}"),
        "  jumpCloud:\n    baseUrl: \"${ECHO}\"\n    apiKey: { name: idp, key: api-key }",
        &[JUMPCLOUD_KEY],
    )
    .await;
}

#[tokio::test]
async fn onelogin_basic_credentials_echo_leaks_nothing() {
    let basic = format!("{ONELOGIN_ID}:{ONELOGIN_SECRET}");
    idp_case(
        Mode::Refuse,
        &format!("  client-id: {ONELOGIN_ID}\n  client-secret: {ONELOGIN_SECRET:?}"),
        "  oneLogin:\n    subdomain: acme\n    baseUrl: \"${ECHO}\"\n    clientId: { name: idp, key: client-id }\n    clientSecret: { name: idp, key: client-secret }",
        &[ONELOGIN_SECRET, &basic],
    )
    .await;
}
