//! `idgap connect salesforce` against the simulator's authorize and token endpoints; the
//! test plays the browser.

use std::process::Stdio;
use std::time::Duration;

use idgap_sim::salesforce::{SalesforceSim, SimOptions};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::common::assert_no_secret;

struct Connect {
    child: Child,
    stderr_seen: String,
    /// Drains the rest of stderr so the child never blocks on a full pipe.
    stderr_rest: tokio::task::JoinHandle<String>,
    authorize_url: String,
}

/// Starts `idgap connect salesforce` and reads stderr until it prints the authorize URL.
async fn start_connect(
    sim: &SalesforceSim,
    secret_file: &std::path::Path,
    extra: &[&str],
) -> Connect {
    start_connect_with_env(sim, secret_file, extra, &[]).await
}

async fn start_connect_with_env(
    sim: &SalesforceSim,
    secret_file: &std::path::Path,
    extra: &[&str],
    env: &[(&str, &std::ffi::OsStr)],
) -> Connect {
    let creds = sim.credentials();
    let mut child = Command::new(env!("CARGO_BIN_EXE_idgap"))
        .args([
            "connect",
            "salesforce",
            "--login-url",
            &sim.base_url(),
            "--client-id",
            &creds.client_id,
            "--client-secret-file",
            secret_file.to_str().unwrap(),
            "--port",
            "0",
            "--no-browser",
            "--allow-host",
            "127.0.0.1",
            "--timeout",
            "60",
        ])
        .args(extra)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut seen = String::new();
    let authorize_url = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            seen.push_str(&line);
            seen.push('\n');
            if let Some(url) = line.trim().strip_prefix(sim.base_url().as_str()) {
                return format!("{}{url}", sim.base_url());
            }
        }
        panic!("connect exited before printing the URL:\n{seen}");
    })
    .await
    .expect("the authorize URL is printed");
    let stderr_rest = tokio::spawn(async move {
        let mut out = String::new();
        while let Ok(Some(line)) = lines.next_line().await {
            out.push_str(&line);
            out.push('\n');
        }
        out
    });
    Connect {
        child,
        stderr_seen: seen,
        stderr_rest,
        authorize_url,
    }
}

async fn finish(mut c: Connect) -> (i32, String, String) {
    let mut stdout = String::new();
    c.child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .await
        .unwrap();
    let status = tokio::time::timeout(Duration::from_secs(30), c.child.wait())
        .await
        .expect("connect exits")
        .unwrap();
    let mut stderr = c.stderr_seen;
    stderr.push_str(&c.stderr_rest.await.unwrap());
    (status.code().unwrap(), stdout, stderr)
}

fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_completes_the_pkce_flow_and_prints_a_working_secret() {
    let sim = SalesforceSim::start(
        idgap::demo::story::build(jiff::Timestamp::now()).org,
        SimOptions::default(),
    )
    .await
    .unwrap();
    let creds = sim.credentials();
    let dir = tempfile::tempdir().unwrap();
    let secret_file = dir.path().join("client-secret");
    std::fs::write(&secret_file, format!("{}\n", creds.client_secret)).unwrap();

    let c = start_connect(
        &sim,
        &secret_file,
        &["--namespace", "security", "--secret-name", "sf-acme"],
    )
    .await;
    let authorize = url::Url::parse(&c.authorize_url).unwrap();
    let params: std::collections::HashMap<_, _> = authorize.query_pairs().into_owned().collect();
    assert_eq!(params["response_type"], "code");
    assert_eq!(params["code_challenge_method"], "S256");
    assert_eq!(
        params["code_challenge"].len(),
        43,
        "base64url SHA-256, no padding"
    );
    assert!(
        params["redirect_uri"].starts_with("http://127.0.0.1:")
            && params["redirect_uri"].ends_with("/callback")
    );
    assert!(params["scope"].split(' ').any(|s| s == "refresh_token"));

    // The browser: the simulator approves and redirects to the loopback callback.
    let approved = browser().get(&c.authorize_url).send().await.unwrap();
    assert_eq!(approved.status(), 302);
    let callback = approved.headers()["location"].to_str().unwrap().to_string();
    assert!(callback.starts_with(&params["redirect_uri"]), "{callback}");
    let page = browser().get(&callback).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("connected"));

    let (code, stdout, stderr) = finish(c).await;
    assert_eq!(code, 0, "stderr: {stderr}");
    let secret: serde_yaml::Value = serde_yaml::from_str(&stdout).unwrap();
    assert_eq!(secret["kind"], "Secret");
    assert_eq!(secret["metadata"]["name"], "sf-acme");
    assert_eq!(secret["metadata"]["namespace"], "security");
    assert_eq!(
        secret["metadata"]["annotations"]["idgap.io/instance-url"],
        sim.base_url().as_str()
    );
    assert!(stdout.contains(&format!("# instance_url: {}", sim.base_url())));
    let data = &secret["stringData"];
    assert_eq!(data["client_id"], creds.client_id.as_str());
    assert_eq!(data["client_secret"], creds.client_secret.as_str());
    let refresh = data["refresh_token"].as_str().unwrap().to_string();
    assert!(!refresh.is_empty());
    assert_no_secret(&stderr, &[creds.client_secret.clone(), refresh.clone()]);

    // The printed refresh token works at the token endpoint.
    let token = reqwest::Client::new()
        .post(format!("{}/services/oauth2/token", sim.base_url()))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh.as_str()),
            ("client_id", creds.client_id.as_str()),
            ("client_secret", creds.client_secret.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(token.status(), 200, "{}", token.text().await.unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_callback_with_the_wrong_state_is_refused() {
    let sim = SalesforceSim::start(
        idgap::demo::story::build(jiff::Timestamp::now()).org,
        SimOptions::default(),
    )
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let secret_file = dir.path().join("client-secret");
    std::fs::write(&secret_file, sim.credentials().client_secret).unwrap();
    let c = start_connect(&sim, &secret_file, &[]).await;
    let authorize = url::Url::parse(&c.authorize_url).unwrap();
    let redirect = authorize
        .query_pairs()
        .find(|(k, _)| k == "redirect_uri")
        .unwrap()
        .1
        .into_owned();
    let forged = browser()
        .get(format!("{redirect}?code=stolen&state=not-the-one"))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 400);
    let (code, stdout, stderr) = finish(c).await;
    assert_eq!(code, 2, "{stderr}");
    assert!(stdout.is_empty());
    assert!(stderr.contains("`state` does not match"), "{stderr}");
    assert_eq!(
        sim.requests().token,
        0,
        "no code exchange after a forged callback"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_denied_authorization_exits_2() {
    let sim = SalesforceSim::start(
        idgap::demo::story::build(jiff::Timestamp::now()).org,
        SimOptions::default().deny_authorization(),
    )
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let secret_file = dir.path().join("client-secret");
    std::fs::write(&secret_file, sim.credentials().client_secret).unwrap();
    let c = start_connect(&sim, &secret_file, &[]).await;
    let denied = browser().get(&c.authorize_url).send().await.unwrap();
    assert_eq!(denied.status(), 302);
    let callback = denied.headers()["location"].to_str().unwrap().to_string();
    assert!(callback.contains("error=access_denied"), "{callback}");
    browser().get(&callback).send().await.unwrap();
    let (code, stdout, stderr) = finish(c).await;
    assert_eq!(code, 2, "{stderr}");
    assert!(stdout.is_empty());
    assert!(stderr.contains("access was denied"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_writes_the_secret_with_server_side_apply() {
    use k8s_openapi::api::core::v1::Secret;
    let cluster = crate::support::Cluster::shared().await;
    let ns = cluster.fresh_namespace("connect").await;
    let sim = SalesforceSim::start(
        idgap::demo::story::build(jiff::Timestamp::now()).org,
        SimOptions::default(),
    )
    .await
    .unwrap();
    let creds = sim.credentials();
    let dir = tempfile::tempdir().unwrap();
    let secret_file = dir.path().join("client-secret");
    std::fs::write(&secret_file, &creds.client_secret).unwrap();
    let c = start_connect_with_env(
        &sim,
        &secret_file,
        &["--apply", "--namespace", &ns, "--secret-name", "sf-acme"],
        &[("KUBECONFIG", cluster.kubeconfig_path().as_os_str())],
    )
    .await;
    let approved = browser().get(&c.authorize_url).send().await.unwrap();
    let callback = approved.headers()["location"].to_str().unwrap().to_string();
    browser().get(&callback).send().await.unwrap();
    let (code, stdout, stderr) = finish(c).await;
    assert_eq!(code, 0, "stderr: {stderr}");
    assert!(stdout.is_empty(), "--apply prints no Secret: {stdout}");
    assert!(
        stderr.contains(&format!("Secret {ns}/sf-acme applied")),
        "{stderr}"
    );

    let secrets: kube::Api<Secret> = kube::Api::namespaced(cluster.client().await, &ns);
    let secret = secrets.get("sf-acme").await.unwrap();
    let data = secret.data.unwrap();
    let text = |k: &str| String::from_utf8(data[k].0.clone()).unwrap();
    assert_eq!(text("client_id"), creds.client_id);
    assert_eq!(text("client_secret"), creds.client_secret);
    assert!(!text("refresh_token").is_empty());
    assert_no_secret(
        &stderr,
        &[creds.client_secret.clone(), text("refresh_token")],
    );
    let annotations = secret.metadata.annotations.unwrap();
    assert_eq!(annotations["idgap.io/instance-url"], sim.base_url());
    let managers: Vec<String> = secret
        .metadata
        .managed_fields
        .unwrap()
        .into_iter()
        .filter_map(|m| m.manager)
        .collect();
    assert!(
        managers.contains(&"idgap-connect".to_string()),
        "{managers:?}"
    );
}

/// Signs in against a simulator whose token endpoint answers with `instance_url`.
async fn connect_with_instance_url(instance_url: &str) -> (i32, String, String) {
    let sim = SalesforceSim::start(
        idgap::demo::story::build(jiff::Timestamp::now()).org,
        SimOptions::default().instance_url(instance_url),
    )
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let secret_file = dir.path().join("client-secret");
    std::fs::write(&secret_file, sim.credentials().client_secret).unwrap();
    let c = start_connect(&sim, &secret_file, &[]).await;
    let approved = browser().get(&c.authorize_url).send().await.unwrap();
    let callback = approved.headers()["location"].to_str().unwrap().to_string();
    browser().get(&callback).send().await.unwrap();
    finish(c).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_url_that_would_inject_yaml_is_refused() {
    let hostile = "https://acme.my.salesforce.com\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata:\n  name: pwned\nroleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin }\nsubjects: [{ kind: Group, name: system:authenticated, apiGroup: rbac.authorization.k8s.io }]";
    let (code, stdout, stderr) = connect_with_instance_url(hostile).await;
    assert_eq!(code, 2, "stdout: {stdout}\nstderr: {stderr}");
    assert!(stdout.is_empty(), "nothing is printed: {stdout}");
    assert!(
        stderr.contains("instance_url") && stderr.contains("was refused"),
        "{stderr}"
    );
    assert!(
        !stderr.lines().any(|l| l.starts_with("kind:")),
        "the server's lines are not echoed as lines: {stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_url_off_salesforce_is_refused() {
    for url in [
        "https://acme.okta.com",
        "https://evil.example",
        "https://acme.my.salesforce.com/services?x=1",
        "https://user:pw@acme.my.salesforce.com",
    ] {
        let (code, stdout, stderr) = connect_with_instance_url(url).await;
        assert_eq!(code, 2, "{url}: {stderr}");
        assert!(stdout.is_empty(), "{url}: {stdout}");
        assert!(stderr.contains("was refused"), "{url}: {stderr}");
    }
}
