//! What `idgap scan` reads: typos refused with the line and a hint, the CRD's own rules
//! applied, other kinds skipped with a note, symlink loops, `.YAML`, standard input, and
//! the flags that take a name or a duration.

use crate::common::{Fixture, fixture, idgap};

/// Writes `integration.yaml` with `from` replaced by `to`, and scans.
async fn scan_with(f: &Fixture, from: &str, to: &str) -> crate::common::Output {
    let integration = f.fill(&fixture("integration.yaml"), "");
    assert!(integration.contains(from), "{from}");
    f.write("integration.yaml", &integration.replacen(from, to, 1));
    f.scan(&["-o", "json"]).await
}

fn assert_refused(out: &crate::common::Output, parts: &[&str], f: &Fixture) {
    crate::errors::assert_one_line_error(out, parts, &f.secret_values());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typos_in_field_names_are_refused_with_the_line_and_the_nearest_field() {
    let f = Fixture::start().await;
    let path = f.path("integration.yaml");
    // The three: each silently changed what the scan meant.
    let out = scan_with(
        &f,
        "  rules:\n",
        "  rules:\n    adminProfile: [\"Custom Admin\"]\n",
    )
    .await;
    assert_refused(
        &out,
        &[
            &format!("{path}:17: SalesforceIntegration security/acme-prod"),
            "unknown field \"spec.rules.adminProfile\"; did you mean `adminProfiles`?",
        ],
        &f,
    );
    let out = scan_with(&f, "identityProviderRefs:", "identityProvidersRefs:").await;
    assert_refused(
        &out,
        &[
            &format!("{path}:13:"),
            "did you mean `identityProviderRefs`?",
        ],
        &f,
    );
    let out = scan_with(&f, "  loginUrl:", "  enviroment: sandbox\n  loginUrl:").await;
    assert_refused(
        &out,
        &[
            &format!("{path}:7:"),
            "unknown field \"spec.enviroment\"; did you mean `environment`?",
        ],
        &f,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_crd_rules_apply_as_kubectl_apply_would() {
    let f = Fixture::start().await;
    let path = f.path("integration.yaml");
    // A CEL rule: environment and loginUrl together.
    let out = scan_with(&f, "  loginUrl:", "  environment: sandbox\n  loginUrl:").await;
    assert_refused(
        &out,
        &[
            &format!("{path}:8:"),
            "spec.loginUrl",
            "set either environment or loginUrl, not both",
        ],
        &f,
    );
    // An enum and a pattern, both reported, each at its line.
    let out = scan_with(
        &f,
        "  exclusions:\n    - rule: user-not-in-idp\n",
        "  exclusions:\n    - rule: user-not-in-ipd\n",
    )
    .await;
    assert_refused(
        &out,
        &[
            &format!("{path}:21:"),
            "spec.exclusions[0].rule: Unsupported value: \"user-not-in-ipd\"",
        ],
        &f,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_kinds_are_skipped_with_a_note_unless_strict() {
    let f = Fixture::start().await;
    let ns = f.write(
        "namespace.yaml",
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: security\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n",
    );
    let ci = f.write(
        "ci.yml",
        "name: ci\non: [push]\njobs:\n  test: {runs-on: ubuntu-latest}\n",
    );
    let out = f.scan(&["-o", "json"]).await;
    assert_eq!(out.code, 0, "stderr: {}", out.stderr);
    let notes: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(
        notes,
        [
            format!(
                "note: {ci}:1: skipped a document: it has no `kind`, so it is not a Kubernetes object"
            ),
            format!(
                "note: {ns}:1: skipped a Namespace: idgap reads SalesforceIntegration, IdentityProvider and Secret"
            ),
            format!(
                "note: {ns}:6: skipped a ConfigMap: idgap reads SalesforceIntegration, IdentityProvider and Secret"
            ),
        ]
    );
    let strict = f.scan(&["-o", "json", "--strict"]).await;
    assert_refused(
        &strict,
        &[&format!("{ci}:1:"), "field `kind` is missing", "--strict"],
        &f,
    );
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_symlink_loop_ends_and_upper_case_extensions_are_read() {
    let f = Fixture::start().await;
    // The Secrets move to a subdirectory as SECRETS.YAML, next to a link back to the root.
    let secrets = std::fs::read_to_string(f.path("secrets.yaml")).unwrap();
    std::fs::remove_file(f.path("secrets.yaml")).unwrap();
    std::fs::create_dir(f.path("sub")).unwrap();
    std::fs::write(f.path("sub/SECRETS.YAML"), secrets).unwrap();
    std::os::unix::fs::symlink(f.dir(), f.path("sub/loop")).unwrap();
    let out = f.scan(&["-o", "json"]).await;
    assert_eq!(out.code, 0, "stderr: {}", out.stderr);
    let doc: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(doc["summary"]["total"], 13);
    assert!(
        out.stderr
            .contains("sub/loop: skipped: the same directory as"),
        "{}",
        out.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dash_reads_standard_input() {
    let f = Fixture::start().await;
    let mut all = String::new();
    for name in [
        "secrets.yaml",
        "identity-providers.yaml",
        "integration.yaml",
    ] {
        all.push_str(&std::fs::read_to_string(f.path(name)).unwrap());
        all.push_str("\n---\n");
    }
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_idgap"))
        .args(["scan", "--allow-host", "127.0.0.1", "-f", "-", "-o", "json"])
        .env_remove("RUST_LOG")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    tokio::io::AsyncWriteExt::write_all(&mut stdin, all.as_bytes())
        .await
        .unwrap();
    drop(stdin);
    let out = child.wait_with_output().await.unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "stderr: {stderr}");
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["summary"]["total"], 13);
    assert_eq!(doc["integrations"][0]["manifest"], "<stdin>");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_integration_named_twice_is_scanned_once() {
    let f = Fixture::start().await;
    let out = f
        .scan(&[
            "-o",
            "json",
            "--integration",
            "acme-prod",
            "--integration",
            "security/acme-prod",
        ])
        .await;
    assert_eq!(out.code, 0, "stderr: {}", out.stderr);
    let doc: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(doc["summary"]["total"], 13);
    assert_eq!(doc["integrations"].as_array().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exclusion_of_every_user_is_warned_about() {
    let f = Fixture::start().await;
    let out = scan_with(&f, "users: [\"integration@acme.com\"]", "users: [\"*\"]").await;
    assert_eq!(out.code, 0, "stderr: {}", out.stderr);
    assert!(
        out.stderr.contains("spec.exclusions[0].users `*` matches every user, so rule user-not-in-idp reports nothing"),
        "{}",
        out.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeouts_take_a_unit_or_bare_seconds() {
    let f = Fixture::start().await;
    for timeout in ["30s", "1m", "45"] {
        let out = f.scan(&["-o", "json", "--timeout", timeout]).await;
        assert_eq!(out.code, 0, "--timeout {timeout}: {}", out.stderr);
    }
    let out = idgap(&["scan", "-f", &f.dir(), "--timeout", "0s"]).await;
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("is zero"), "{}", out.stderr);
}
