//! Each bad input: exit 2, one line on stderr naming the file and the field, no secret.

use crate::common::{Fixture, Output, assert_no_secret, fixture, idgap};

pub fn assert_one_line_error(out: &Output, must_contain: &[&str], secrets: &[String]) {
    assert_eq!(
        out.code, 2,
        "stdout: {}\nstderr: {}",
        out.stdout, out.stderr
    );
    assert!(out.stdout.is_empty(), "nothing on stdout: {}", out.stdout);
    let err = out.stderr.trim_end();
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(err.starts_with("error: "), "{err}");
    for part in must_contain {
        assert!(err.contains(part), "`{part}` missing from: {err}");
    }
    assert_no_secret(err, secrets);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_file() {
    let f = Fixture::start().await;
    let missing = f.path("nope/absent.yaml");
    let out = idgap(&["scan", "-f", &f.path("secrets.yaml"), "-f", &missing]).await;
    assert_one_line_error(&out, &[&missing, "no such file"], &f.secret_values());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_yaml_names_file_and_line() {
    let f = Fixture::start().await;
    let bad = "apiVersion: v1\nkind: Secret\nmetadata: {name: broken\n  namespace: security\nstringData:\n  token: \"x\"\n";
    let path = f.write("zz-broken.yaml", &format!("# leading comment\n---\n{bad}"));
    let out = f.scan(&[]).await;
    assert_one_line_error(
        &out,
        &[&format!("{path}:"), "invalid YAML"],
        &f.secret_values(),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_kind_names_the_kind_field() {
    let f = Fixture::start().await;
    let path = f.write(
        "deploy.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n",
    );
    // Other kinds are skipped with a note (tests/cli/input.rs); --strict refuses them.
    let out = f.scan(&["--strict"]).await;
    assert_one_line_error(
        &out,
        &[&format!("{path}:1"), "field `kind`", "Deployment"],
        &f.secret_values(),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn absent_secret_names_the_reference_field() {
    let f = Fixture::start().await;
    let secrets = f.fill(&fixture("secrets.yaml"), "");
    // Drop the first document (Secret sf-acme).
    let rest = secrets.split_once("\n---\n").unwrap().1;
    f.write("secrets.yaml", rest);
    let out = f.scan(&[]).await;
    assert_one_line_error(
        &out,
        &[
            &f.path("integration.yaml"),
            "SalesforceIntegration security/acme-prod",
            "spec.auth.refreshToken.clientId",
            "Secret `sf-acme` not found",
        ],
        &f.secret_values(),
    );
    assert_eq!(
        out.stderr
            .matches("spec.auth.refreshToken.clientId")
            .count(),
        1,
        "said once: {}",
        out.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_key_names_the_reference_field_and_never_the_value() {
    let f = Fixture::start().await;
    let creds = f.salesforce.credentials();
    let secrets = f.fill(&fixture("secrets.yaml"), "").replace(
        &format!("  refresh_token: \"{}\"\n", creds.refresh_token),
        "",
    );
    assert!(!secrets.contains(&creds.refresh_token));
    f.write("secrets.yaml", &secrets);
    let out = f.scan(&[]).await;
    assert_one_line_error(
        &out,
        &[
            &f.path("integration.yaml"),
            "spec.auth.refreshToken.refreshToken",
            "no key `refresh_token`",
        ],
        &f.secret_values(),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_identity_provider_names_the_ref() {
    let f = Fixture::start().await;
    let idps = f.fill(&fixture("identity-providers.yaml"), "");
    f.write(
        "identity-providers.yaml",
        idps.split("\n---\n").next().unwrap(),
    );
    let out = f.scan(&[]).await;
    assert_one_line_error(
        &out,
        &[
            &f.path("integration.yaml"),
            "spec.identityProviderRefs[1].name",
            "`entra`",
        ],
        &f.secret_values(),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_base64_in_data_names_the_key_not_the_value() {
    let f = Fixture::start().await;
    let path = f.write(
        "extra.yaml",
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: extra\n  namespace: security\ndata:\n  api_key: \"%%not-base64-Secr3tValue%%\"\n",
    );
    let out = f.scan(&[]).await;
    let mut secrets = f.secret_values();
    secrets.push("Secr3tValue".to_string());
    assert_one_line_error(
        &out,
        &[&format!("{path}:1"), "`data.api_key`", "base64"],
        &secrets,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_refresh_token_fails_without_printing_credentials() {
    let f = Fixture::start().await;
    let creds = f.salesforce.credentials();
    let secrets = f
        .fill(&fixture("secrets.yaml"), "")
        .replace(&creds.refresh_token, "5Aep861wrongRefreshTokenValue");
    f.write("secrets.yaml", &secrets);
    let out = f.scan(&[]).await;
    let mut values = f.secret_values();
    values.push("5Aep861wrongRefreshTokenValue".to_string());
    // A failed org is reported in the output (see tests/cli/partial.rs), and once on stderr.
    assert_eq!(out.code, 2, "stderr: {}", out.stderr);
    assert!(
        out.stdout
            .contains("acme-prod (namespace security)\n  NOT SCANNED"),
        "{}",
        out.stdout
    );
    let err = out.stderr.trim_end();
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(
        err.contains("SalesforceIntegration security/acme-prod"),
        "{err}"
    );
    assert_no_secret(&out.stdout, &values);
    assert_no_secret(err, &values);
}
