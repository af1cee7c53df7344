//! Lists a large simulated directory through a provider's real client and prints wall time,
//! peak memory and request counts.
//!
//! ```text
//! cargo run --release -p idgap-idp --example bench_directory -- okta [accounts] [page_size]
//! ```
//!
//! Providers: `okta` (API token), `okta-dpop` (service app with DPoP), `entra` (client secret),
//! `google` (service account), `jumpcloud` (API key), `onelogin` (client credentials).
//! The simulator runs in the same process, so peak RSS includes its copy of the directory;
//! the RSS before the sync (simulator loaded, nothing listed yet) is printed for comparison.
//! To add a provider, add an arm to `run` that starts its simulator and returns a `Run`.

use std::time::{Duration, Instant};

use idgap_idp::{
    EntraAuth, EntraConfig, GoogleConfig, IdpConfig, JumpCloudConfig, OktaAuth, OktaConfig,
    OneLoginConfig,
};
use idgap_net::{HostPolicy, Http, RetryPolicy, SecretString};
use idgap_sim::idp::entra::{EntraSim, EntraSimOptions};
use idgap_sim::idp::google::{GoogleSim, GoogleSimOptions};
use idgap_sim::idp::jumpcloud::{JumpCloudSim, JumpCloudSimOptions};
use idgap_sim::idp::okta::{OktaSim, OktaSimOptions};
use idgap_sim::idp::onelogin::{OneLoginSim, OneLoginSimOptions};
use idgap_sim::idp::{Directory, PersonState};

const SEED: u64 = 42;

/// A started simulator (kept alive while listing) and what the listing should cost.
struct Run {
    config: IdpConfig,
    /// Requests the page size allows at best (token requests included).
    minimum_requests: u64,
    _sim: Box<dyn std::any::Any>,
}

fn pages(n: usize, page: u32) -> u64 {
    n.div_ceil(page as usize).max(1) as u64
}

async fn run(provider: &str, directory: Directory, page: Option<u32>) -> Result<Run, String> {
    let count = |keep: &dyn Fn(PersonState) -> bool| {
        directory.people.iter().filter(|p| keep(p.state)).count()
    };
    match provider {
        "okta" | "okta-dpop" => {
            let page = page.unwrap_or(200);
            let deprovisioned = count(&|s| s == PersonState::Deprovisioned);
            let rest = directory.people.len() - deprovisioned;
            let dpop = provider == "okta-dpop";
            let mut opts = OktaSimOptions::new("bench-token", "0oabench");
            opts.dpop_required = dpop;
            let sim = OktaSim::start(directory, opts)
                .await
                .map_err(|e| e.to_string())?;
            let auth = if dpop {
                OktaAuth::ServiceApp {
                    client_id: "0oabench".into(),
                    private_key_pem: bench_rsa_key(),
                    key_id: None,
                    dpop: true,
                }
            } else {
                OktaAuth::ApiToken(SecretString::new("bench-token"))
            };
            let mut config = OktaConfig::new("bench.okta.com", auth);
            config.base_url = Some(sim.base_url());
            config.page_size = page;
            // Two passes (everyone but DEPROVISIONED, then DEPROVISIONED); DPoP adds the
            // nonce challenge and the token request.
            let token_requests = if dpop { 2 } else { 0 };
            Ok(Run {
                config: IdpConfig::Okta(config),
                minimum_requests: pages(rest, page) + pages(deprovisioned, page) + token_requests,
                _sim: Box::new(sim),
            })
        }
        "entra" => {
            let page = page.unwrap_or(999);
            let listed = count(&|s| s != PersonState::Deprovisioned);
            let sim = EntraSim::start(
                directory,
                EntraSimOptions::new("bench.onmicrosoft.com", "bench-app", "bench-secret"),
            )
            .await
            .map_err(|e| e.to_string())?;
            let mut config = EntraConfig::new(
                "bench.onmicrosoft.com",
                EntraAuth::ClientSecret {
                    client_id: "bench-app".into(),
                    client_secret: SecretString::new("bench-secret"),
                },
            );
            config.login_base_url = Some(sim.base_url());
            config.graph_base_url = Some(sim.base_url());
            config.page_size = page;
            Ok(Run {
                config: IdpConfig::EntraId(config),
                minimum_requests: pages(listed, page) + 1,
                _sim: Box::new(sim),
            })
        }
        "google" => {
            let page = page.unwrap_or(500);
            let listed = count(&|s| s != PersonState::Deprovisioned);
            let admin = "admin@bench.example";
            let service_account = "bench@bench.iam.gserviceaccount.com";
            let sim = GoogleSim::start(directory, GoogleSimOptions::new(admin, service_account))
                .await
                .map_err(|e| e.to_string())?;
            let mut config = GoogleConfig::new(service_account, bench_rsa_key(), admin);
            config.token_url = Some(sim.token_url());
            config.api_base_url = Some(sim.base_url());
            config.page_size = page;
            Ok(Run {
                config: IdpConfig::GoogleWorkspace(config),
                minimum_requests: pages(listed, page) + 1,
                _sim: Box::new(sim),
            })
        }
        "jumpcloud" => {
            let page = page.unwrap_or(100);
            let listed = count(&|s| s != PersonState::Deprovisioned);
            let sim = JumpCloudSim::start(directory, JumpCloudSimOptions::new("bench-key"))
                .await
                .map_err(|e| e.to_string())?;
            let mut config = JumpCloudConfig::new(SecretString::new("bench-key"));
            config.base_url = Some(sim.base_url());
            config.page_size = page;
            Ok(Run {
                config: IdpConfig::JumpCloud(config),
                minimum_requests: pages(listed, page),
                _sim: Box::new(sim),
            })
        }
        "onelogin" => {
            let page = page.unwrap_or(50);
            let listed = count(&|s| s != PersonState::Deprovisioned);
            let mut opts = OneLoginSimOptions::new("bench-id", "bench-secret");
            opts.page_cap = page as usize;
            // The simulator's 5,000-calls-per-hour budget would stop a 200,000-account read
            // at 50 per page; the benchmark measures the client, not the budget.
            opts.rate_limit = u64::MAX;
            let sim = OneLoginSim::start(directory, opts)
                .await
                .map_err(|e| e.to_string())?;
            let mut config =
                OneLoginConfig::new("bench", "bench-id", SecretString::new("bench-secret"));
            config.base_url = Some(sim.base_url());
            config.page_size = page;
            Ok(Run {
                config: IdpConfig::OneLogin(config),
                minimum_requests: pages(listed, page) + 1,
                _sim: Box::new(sim),
            })
        }
        other => Err(format!(
            "unknown provider `{other}`; expected one of: okta, okta-dpop, entra, google, jumpcloud, onelogin"
        )),
    }
}

fn bench_rsa_key() -> SecretString {
    use rsa::pkcs8::{EncodePrivateKey, LineEnding};
    let key =
        rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).expect("RSA key generation");
    SecretString::new(key.to_pkcs8_pem(LineEnding::LF).expect("PEM").to_string())
}

/// A line of /proc/self/status in kB (`VmHWM` = peak RSS, `VmRSS` = current).
fn proc_status_kb(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find(|l| l.starts_with(field))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let provider = args.first().map(String::as_str).unwrap_or("okta");
    let accounts: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(200_000);
    let page: Option<u32> = args.get(2).and_then(|a| a.parse().ok());

    let directory = Directory::generate(SEED, accounts, "bench.example");
    let run = match run(provider, directory, page).await {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let rss_before = proc_status_kb("VmRSS:").unwrap_or(0);
    let policy = HostPolicy::vendors_only()
        .allow(["127.0.0.1"])
        .expect("pattern");
    let http = Http::new(policy, RetryPolicy::default(), Duration::from_secs(60));
    let started = Instant::now();
    let snapshot = match idgap_idp::sync(&http, "bench", &run.config).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("sync failed: {e}");
            std::process::exit(1);
        }
    };
    let wall = started.elapsed();
    let peak = proc_status_kb("VmHWM:").unwrap_or(0);
    println!("provider:          {provider}");
    println!("directory size:    {accounts}");
    println!("accounts listed:   {}", snapshot.accounts.len());
    println!("wall time:         {:.3} s", wall.as_secs_f64());
    println!(
        "accounts/second:   {:.0}",
        snapshot.accounts.len() as f64 / wall.as_secs_f64()
    );
    println!("requests made:     {}", snapshot.requests);
    println!("minimum requests:  {}", run.minimum_requests);
    println!(
        "RSS before sync:   {:.1} MiB (simulator and directory loaded)",
        rss_before as f64 / 1024.0
    );
    println!(
        "peak RSS (VmHWM):  {:.1} MiB (simulator included)",
        peak as f64 / 1024.0
    );
}
