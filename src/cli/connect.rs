//! `idgap connect salesforce`: the "Connect via OAuth" step. Runs the authorization-code
//! flow with PKCE (S256) through a one-shot loopback listener, checks `state`, exchanges
//! the code, and prints (or applies) the Secret a `SalesforceIntegration` refers to.
//!
//! The token response is server text: its `instance_url` must be a plain https URL on a
//! Salesforce host (or an explicitly allowed test host) before it is used, and the Secret is
//! written by a YAML serializer, so no value can add lines or objects to the manifest.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use idgap_net::{HostPolicy, Http, RetryPolicy, SecretString};
use idgap_salesforce::LoginHost;
use idgap_salesforce::connect::{Pkce, TokenGrant, authorize_url, exchange_code};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the integration needs: API access, a refresh token, and the identity URL.
pub const SCOPES: &str = "api refresh_token offline_access id";

#[derive(Debug, clap::Args)]
pub struct SalesforceConnectArgs {
    /// The connected app's consumer key.
    #[arg(long, value_name = "ID")]
    pub client_id: String,
    /// A file holding the consumer secret (omit for apps that do not require one).
    #[arg(long, value_name = "FILE")]
    pub client_secret_file: Option<PathBuf>,
    /// Sign in at test.salesforce.com.
    #[arg(long, conflicts_with = "login_url")]
    pub sandbox: bool,
    /// A My Domain login URL, e.g. https://acme.my.salesforce.com.
    #[arg(long, value_name = "URL")]
    pub login_url: Option<String>,
    /// Namespace of the printed Secret.
    #[arg(long, default_value = "default")]
    pub namespace: String,
    /// Name of the printed Secret.
    #[arg(long, default_value = "salesforce-credentials")]
    pub secret_name: String,
    /// Create or update the Secret in the current kubeconfig's cluster (server-side apply)
    /// instead of printing it.
    #[arg(long)]
    pub apply: bool,
    /// Print the URL only; do not try to open a browser.
    #[arg(long)]
    pub no_browser: bool,
    /// Loopback port of the callback; the connected app's callback URL must be
    /// http://127.0.0.1:PORT/callback. 0 picks a free port.
    #[arg(long, default_value_t = 1717)]
    pub port: u16,
    /// Allow a login host that is not a Salesforce host (e.g. 127.0.0.1 for the simulator).
    #[arg(long = "allow-host", value_name = "HOST")]
    pub allow_hosts: Vec<String>,
    /// Give up waiting for the browser after this long in total, e.g. `5m` (a bare number
    /// is seconds).
    #[arg(long, default_value = "5m", value_parser = super::parse_timeout)]
    pub timeout: Duration,
}

pub async fn run(args: SalesforceConnectArgs) -> anyhow::Result<()> {
    let login = match (&args.login_url, args.sandbox) {
        (Some(url), _) => LoginHost::MyDomain(url.trim_end_matches('/').to_string()),
        (None, true) => LoginHost::Sandbox,
        (None, false) => LoginHost::Production,
    };
    let policy = HostPolicy::vendors_only()
        .allow(&args.allow_hosts)
        .context("--allow-host")?;
    for w in policy.broad_pattern_warnings() {
        super::emit::error_line(&format!("warning: {w}"));
    }
    let http = Http::new(policy, RetryPolicy::default(), Duration::from_secs(30));
    // Refuse a login host the allow-list forbids before asking anyone to sign in.
    http.check(&login.url()).context("login URL")?;
    let client_secret = match &args.client_secret_file {
        Some(path) => {
            let text = std::fs::read_to_string(path).with_context(|| {
                format!("--client-secret-file {}: cannot be read", path.display())
            })?;
            let secret = SecretString::new(text.trim());
            if secret.is_empty() {
                bail!("--client-secret-file {}: the file is empty", path.display());
            }
            Some(secret)
        }
        None => None,
    };

    let listener = TcpListener::bind(("127.0.0.1", args.port))
        .await
        .with_context(|| format!("cannot listen on 127.0.0.1:{} for the OAuth callback; pick another --port (and update the connected app's callback URL)", args.port))?;
    let port = listener.local_addr()?.port();
    let redirect_uri = format!("http://127.0.0.1:{port}/callback");
    let pkce = Pkce::generate();
    let state = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 24]>());
    let url = authorize_url(
        &login,
        &args.client_id,
        &redirect_uri,
        SCOPES,
        &state,
        &pkce.challenge,
    );

    eprintln!("Open this URL in a browser and approve access for idgap:\n\n  {url}\n");
    eprintln!("Waiting for Salesforce to redirect to {redirect_uri} …");
    if !args.no_browser {
        open_browser(&url);
    }

    let code = tokio::time::timeout(args.timeout, wait_for_code(&listener, &state))
        .await
        .map_err(|_| {
            anyhow::anyhow!(
                "no callback within {}s; run the command again and approve the app in the browser",
                args.timeout.as_secs()
            )
        })??;
    drop(listener);

    let grant = exchange_code(
        &http,
        &login,
        &args.client_id,
        client_secret.as_ref(),
        &code,
        &redirect_uri,
        &pkce.verifier,
    )
    .await
    .context("exchanging the authorization code")?;
    let grant = TokenGrant {
        instance_url: checked_instance_url(&http, &grant.instance_url)?,
        ..grant
    };
    let Some(refresh_token) = grant.refresh_token.clone() else {
        bail!(
            "Salesforce returned no refresh token: add the `refresh_token, offline_access` scope to the connected app and approve again"
        );
    };

    let secret = secret_object(&args, client_secret.as_ref(), &refresh_token, &grant);
    if args.apply {
        apply_secret(&args, &secret).await?;
        eprintln!(
            "Secret {}/{} applied (instance {}).",
            args.namespace, args.secret_name, grant.instance_url
        );
    } else {
        eprintln!(
            "Connected to {}. The Secret below holds a refresh token: store it like a password (e.g. pipe it to `kubectl apply -f -`).",
            grant.instance_url
        );
        super::emit::stdout_verbatim(&secret_manifest(&secret, &grant.instance_url)?)?;
    }
    eprintln!(
        "\n{}",
        integration_hint(&args, client_secret.is_some(), &login)
    );
    Ok(())
}

/// Accepts connections until one brings `/callback` with our `state`; answers each with a
/// small page so the browser tab says what happened.
async fn wait_for_code(listener: &TcpListener, state: &str) -> anyhow::Result<String> {
    loop {
        let (mut stream, _) = listener.accept().await?;
        let Some(target) = read_request_target(&mut stream).await else {
            continue;
        };
        let Ok(url) = url::Url::parse(&format!("http://127.0.0.1{target}")) else {
            respond(&mut stream, 400, "Bad request.").await;
            continue;
        };
        if url.path() != "/callback" {
            respond(&mut stream, 404, "Not found: idgap waits on /callback.").await;
            continue;
        }
        let param = |name: &str| {
            url.query_pairs()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.into_owned())
        };
        if param("state").as_deref() != Some(state) {
            respond(
                &mut stream,
                400,
                "The state parameter does not match this sign-in; start again with idgap connect.",
            )
            .await;
            bail!(
                "the callback's `state` does not match the one idgap sent; the redirect did not come from this sign-in, so it was refused. Run the command again"
            );
        }
        if let Some(error) = param("error") {
            let description = param("error_description").unwrap_or_default();
            respond(
                &mut stream,
                200,
                "Access was not granted. You can close this tab.",
            )
            .await;
            if error == "access_denied" || error == "access-denied" {
                bail!("access was denied in the browser ({error}); approve the app to connect");
            }
            bail!("Salesforce returned `{error}` to the callback: {description}");
        }
        let Some(code) = param("code") else {
            respond(&mut stream, 400, "The callback carries no code.").await;
            bail!("the callback carried neither `code` nor `error`");
        };
        respond(
            &mut stream,
            200,
            "idgap is connected. You can close this tab and return to the terminal.",
        )
        .await;
        return Ok(code);
    }
}

/// The request target of an HTTP/1.x request line, e.g. `/callback?code=…`.
async fn read_request_target(stream: &mut TcpStream) -> Option<String> {
    let mut buf = Vec::with_capacity(2048);
    let mut chunk = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") && buf.len() < 16 * 1024 {
        let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut chunk))
            .await
            .ok()?
            .ok()?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let head = String::from_utf8_lossy(&buf);
    let mut parts = head.lines().next()?.split_whitespace();
    let method = parts.next()?;
    let target = parts.next()?;
    (method == "GET").then(|| target.to_string())
}

async fn respond(stream: &mut TcpStream, status: u16, text: &str) {
    let reason = match status {
        200 => "OK",
        404 => "Not Found",
        _ => "Bad Request",
    };
    let body = format!(
        "<!doctype html><meta charset=utf-8><title>idgap</title><p style=\"font-family:sans-serif\">{text}</p>\n"
    );
    let response = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\nCache-Control: no-store\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}

fn open_browser(url: &str) {
    let opener = if cfg!(target_os = "macos") {
        "open"
    } else {
        "xdg-open"
    };
    let spawned = std::process::Command::new(opener)
        .arg(url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
    if spawned.is_err() {
        eprintln!("(could not start `{opener}`; open the URL yourself)");
    }
}

/// Refuses an `instance_url` that is not exactly `https://<Salesforce host>[:port]` (or an
/// allowed test host): it is written into the Secret and called by every later sync. A value
/// with a path, query, credentials, whitespace or control characters is refused as a whole;
/// the error shows it escaped and shortened.
fn checked_instance_url(http: &Http, raw: &str) -> anyhow::Result<String> {
    let shown: String = raw.chars().take(120).collect();
    let refuse = |why: String| {
        anyhow::anyhow!(
            "the token response's instance_url {shown:?} was refused: {why}. Nothing was written; check that --login-url points at Salesforce"
        )
    };
    http.policy()
        .check_instance_url(raw)
        .map_err(|e| refuse(e.to_string()))
}

/// The Secret `idgap connect` prints or applies, as the API object.
fn secret_object(
    args: &SalesforceConnectArgs,
    client_secret: Option<&SecretString>,
    refresh_token: &SecretString,
    grant: &TokenGrant,
) -> serde_json::Value {
    let mut data = serde_json::Map::new();
    data.insert("client_id".into(), args.client_id.clone().into());
    if let Some(s) = client_secret {
        data.insert("client_secret".into(), s.expose().into());
    }
    data.insert("refresh_token".into(), refresh_token.expose().into());
    serde_json::json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": args.secret_name,
            "namespace": args.namespace,
            "annotations": {
                "idgap.io/instance-url": grant.instance_url,
                "idgap.io/connected-at": jiff::Timestamp::now().to_string(),
            },
        },
        "type": "Opaque",
        "stringData": data,
    })
}

/// `secret` as YAML, under a comment naming the (already checked) instance.
fn secret_manifest(secret: &serde_json::Value, instance_url: &str) -> anyhow::Result<String> {
    let yaml = serde_yaml::to_string(secret).context("writing the Secret as YAML")?;
    Ok(format!(
        "# Salesforce credentials from `idgap connect salesforce`.\n# instance_url: {instance_url}\n{yaml}"
    ))
}

async fn apply_secret(
    args: &SalesforceConnectArgs,
    body: &serde_json::Value,
) -> anyhow::Result<()> {
    use k8s_openapi::api::core::v1::Secret;
    use kube::api::{Api, Patch, PatchParams};
    let client = kube::Client::try_default().await.map_err(|e| {
        anyhow::anyhow!(
            "--apply: no usable kubeconfig ({e}); drop --apply to print the Secret instead"
        )
    })?;
    let api: Api<Secret> = Api::namespaced(client, &args.namespace);
    api.patch(
        &args.secret_name,
        &PatchParams::apply("idgap-connect").force(),
        &Patch::Apply(body),
    )
    .await
    .map_err(|e| {
        anyhow::anyhow!(
            "--apply: could not apply Secret {}/{}: {}",
            args.namespace,
            args.secret_name,
            super::manifests::one_line(&e.to_string())
        )
    })?;
    Ok(())
}

fn integration_hint(args: &SalesforceConnectArgs, has_secret: bool, login: &LoginHost) -> String {
    let location = match login {
        LoginHost::Production => "  environment: production".to_string(),
        LoginHost::Sandbox => "  environment: sandbox".to_string(),
        LoginHost::MyDomain(url) => format!("  loginUrl: {url}"),
    };
    let secret_line = if has_secret {
        format!(
            "\n      clientSecret: {{ name: {}, key: client_secret }}",
            args.secret_name
        )
    } else {
        String::new()
    };
    format!(
        "Refer to it from your SalesforceIntegration (namespace {ns}):\n\nspec:\n{location}\n  auth:\n    refreshToken:\n      clientId: {{ name: {name}, key: client_id }}{secret_line}\n      refreshToken: {{ name: {name}, key: refresh_token }}",
        ns = args.namespace,
        name = args.secret_name,
    )
}
