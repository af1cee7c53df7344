//! Benchmark (not a test): a full sync of a large simulated org.
//!
//! `cargo run --release -p idgap-salesforce --example bench_sync`
//!
//! Prints wall time, peak RSS (VmHWM; the simulator runs in the same process, so the
//! figure includes the simulated org), API calls used, and the minimum number of calls the
//! page sizes require.

use std::time::{Duration, Instant};

use idgap_net::{HostPolicy, Http, RetryPolicy, SecretString};
use idgap_salesforce::{LoginHost, SalesforceAuth, SalesforceConfig, sync};
use idgap_sim::salesforce::{GenerateSpec, OrgData, SalesforceSim, SimOptions};
use jiff::SignedDuration;

fn status_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

#[tokio::main]
async fn main() {
    let spec = GenerateSpec {
        users: 100_000,
        oauth_grants: 20_000,
        audit_events: 10_000,
        ..Default::default()
    };
    let t = Instant::now();
    let org = OrgData::generate(42, &spec);
    let generate = t.elapsed();
    let min_calls = org.minimum_sync_calls(2000, 500);
    let opts = SimOptions::default().api_usage(0, 5_000_000);
    let sim = SalesforceSim::start(org, opts).await.expect("simulator");
    let creds = sim.credentials();
    let rss_before = status_kb("VmRSS:");

    let policy = HostPolicy::vendors_only()
        .allow(["127.0.0.1"])
        .expect("pattern");
    let http = Http::new(policy, RetryPolicy::default(), Duration::from_secs(120));
    let auth = SalesforceAuth::RefreshToken {
        client_id: creds.client_id,
        client_secret: Some(SecretString::new(creds.client_secret)),
        refresh_token: SecretString::new(creds.refresh_token),
    };
    let config = SalesforceConfig::new(
        LoginHost::MyDomain(sim.base_url()),
        auth,
        spec.anchor - SignedDuration::from_hours(24 * 200),
    );
    let t = Instant::now();
    let outcome = sync(&http, &config).await.expect("sync succeeds");
    let wall = t.elapsed();
    let snap = outcome.snapshot;
    let req = sim.requests();

    println!(
        "org: {} users, {} OAuth grants, {} audit events (generated in {generate:.2?})",
        spec.users, spec.oauth_grants, spec.audit_events
    );
    println!(
        "snapshot: {} users, {} permission grants, {} OAuth grants, {} audit events, {} export jobs, gaps: {}",
        snap.users.len(),
        snap.permissions.len(),
        snap.oauth_grants.len(),
        snap.audit_events.len(),
        snap.export_jobs.len(),
        snap.gaps.len()
    );
    println!("sync wall time: {wall:.2?}");
    println!(
        "RSS before sync: {} MiB; peak RSS (VmHWM, simulator included): {} MiB",
        rss_before / 1024,
        status_kb("VmHWM:") / 1024
    );
    println!(
        "API calls used: {} (server saw {} REST query pages, {} Tooling, {} Metadata; {} token requests)",
        snap.api_usage.calls_this_sync, req.query, req.tooling, req.metadata, req.token
    );
    println!(
        "minimum calls for these page sizes (2,000 rows; OauthToken 500 rows, 2,500 per query): {min_calls}"
    );
    println!("pages by object: {:?}", req.pages_by_object);
}
