//! Benchmark (not a test): a full scan end to end over loopback HTTP, against its floor.
//!
//! `cargo run --release --example bench_scan [-- USERS GRANTS AUDIT IDP_ACCOUNTS]`
//! (defaults: 100,000 users, 20,000 OAuth grants, 10,000 audit events, 100,000 Okta accounts).
//!
//! The simulators run in a child process, so the peak RSS printed is idgap's alone. The scan
//! is what `idgap scan` does: the directory and the org are read concurrently, then the rules
//! run. The floor is the same requests fetched one after another with the same HTTP stack and
//! no parsing (the child replays what the simulators served during the scan, following
//! `nextRecordsUrl` and `Link` by plain substring search).
//!
//! `IDGAP_BENCH_LATENCY_MS=N` makes both simulators wait N ms before every answer, for the
//! scan and the floor alike: a stand-in for the round trip to a real API. Without it, on a
//! small machine the simulators' own CPU time is most of the floor.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use idgap::pipeline::{DirectoryState, detect, sync_directory, sync_org};
use idgap::resolve::{IdentityProviderPlan, IntegrationPlan};
use idgap_detect::Policy;
use idgap_idp::{IdpConfig, OktaAuth, OktaConfig};
use idgap_model::ProviderKind;
use idgap_net::{HostPolicy, Http, RetryPolicy, SecretString};
use idgap_salesforce::{LoginHost, SalesforceAuth, SalesforceConfig};
use idgap_sim::faults::FaultRule;
use idgap_sim::idp::Directory;
use idgap_sim::idp::okta::{OktaSim, OktaSimOptions};
use idgap_sim::salesforce::{GenerateSpec, OrgData, SalesforceSim, SimOptions};
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

const DOMAIN: &str = "acme.example";
const OKTA_TOKEN: &str = "00bench-okta-token";

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("serve") {
        serve(&args[2..]);
    } else {
        measure(&args[1..]);
    }
}

/// Milliseconds each simulator waits before answering (`IDGAP_BENCH_LATENCY_MS`, default 0).
fn latency_ms() -> u64 {
    std::env::var("IDGAP_BENCH_LATENCY_MS")
        .ok()
        .map(|v| {
            v.parse()
                .expect("IDGAP_BENCH_LATENCY_MS is a number of milliseconds")
        })
        .unwrap_or(0)
}

fn sizes(args: &[String]) -> [usize; 4] {
    let mut s = [100_000, 20_000, 10_000, 100_000];
    for (i, a) in args.iter().take(4).enumerate() {
        s[i] = a.parse().expect("sizes are numbers");
    }
    s
}

fn vm_kb(field: &str) -> u64 {
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

/// The parent: runs the scan and prints the figures.
fn measure(args: &[String]) {
    let [users, grants, audit, accounts] = sizes(args);
    let mut child = Command::new(std::env::current_exe().expect("own path"))
        .arg("serve")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the simulators");
    let mut to_child = child.stdin.take().unwrap();
    let mut from_child = BufReader::new(child.stdout.take().unwrap());
    let mut ask = |cmd: &str| -> Value {
        if !cmd.is_empty() {
            writeln!(to_child, "{cmd}").unwrap();
        }
        let mut line = String::new();
        from_child.read_line(&mut line).unwrap();
        serde_json::from_str(&line).expect("child speaks JSON")
    };
    let sims = ask("");
    let s = |k: &str| sims[k].as_str().unwrap().to_string();

    let rt = tokio::runtime::Runtime::new().unwrap();
    let rss_before = vm_kb("VmRSS:");
    let started = Instant::now();
    let (findings, snapshot_users, idp_accounts, phases) = rt.block_on(async {
        let http = Http::new(
            HostPolicy::vendors_only().allow(["127.0.0.1"]).unwrap(),
            RetryPolicy::default(),
            Duration::from_secs(120),
        );
        let anchor: Timestamp = s("anchor").parse().unwrap();
        let since = anchor - SignedDuration::from_hours(24 * 200);
        let plan = IntegrationPlan {
            name: "bench".into(),
            namespace: "bench".into(),
            salesforce: SalesforceConfig::new(
                LoginHost::MyDomain(s("salesforce")),
                SalesforceAuth::RefreshToken {
                    client_id: s("clientId"),
                    client_secret: Some(SecretString::new(s("clientSecret"))),
                    refresh_token: SecretString::new(s("refreshToken")),
                },
                since,
            ),
            policy: Policy::default(),
            identity_providers: vec!["okta".into()],
            interval: Duration::from_secs(3600),
            event_retention: Duration::from_secs(30 * 86400),
            max_findings: 1000,
            audit_window_start: since,
        };
        let idp = IdentityProviderPlan {
            name: "okta".into(),
            config: IdpConfig::Okta(OktaConfig {
                domain: "acme.okta.com".into(),
                base_url: Some(s("okta")),
                auth: OktaAuth::ApiToken(SecretString::new(OKTA_TOKEN)),
                page_size: 200,
            }),
            interval: Duration::from_secs(1800),
        };
        let ((directory, directory_took), (org, org_took)) = tokio::join!(
            async {
                let started = Instant::now();
                (sync_directory(&http, &idp).await, started.elapsed())
            },
            async {
                let started = Instant::now();
                let org = sync_org(&http, &plan).await;
                (org, started.elapsed())
            }
        );
        let directory = directory.expect("directory sync");
        let org = org.expect("org sync");
        let idp_accounts = directory.accounts.len();
        let states = [DirectoryState {
            name: "okta".into(),
            provider: ProviderKind::Okta,
            result: Ok(Arc::new(directory)),
            last_good_accounts: None,
        }];
        let detect_started = Instant::now();
        let detection = detect(&plan, &org, &states, Timestamp::now());
        let phases = Phases {
            directory: directory_took,
            org: org_took,
            detect: detect_started.elapsed(),
        };
        (
            detection.findings.len(),
            org.snapshot.users.len(),
            idp_accounts,
            phases,
        )
    });
    let scan = started.elapsed();
    let peak = vm_kb("VmHWM:");
    let counts = ask("counts");
    let floor = ask("floor");
    writeln!(to_child, "quit").ok();
    let _ = child.wait();

    let n = |v: &Value, k: &str| v[k].as_u64().unwrap_or(0);
    println!(
        "end-to-end scan: {users} Salesforce users, {grants} OAuth grants, {audit} audit events; Okta directory of {accounts} accounts; {} ms added latency per request",
        latency_ms()
    );
    println!("read {snapshot_users} users and {idp_accounts} IdP accounts; {findings} findings");
    println!("| measure | idgap scan | floor (sequential fetch, no parsing) |");
    println!("|---|---|---|");
    println!(
        "| wall time | {:.2} s | {:.2} s |",
        scan.as_secs_f64(),
        n(&floor, "millis") as f64 / 1000.0
    );
    println!(
        "| Salesforce requests (data + token) | {} + {} (minimum {} + 1) | {} |",
        n(&counts, "salesforceData"),
        n(&counts, "salesforceToken"),
        n(&sims, "minSalesforceCalls"),
        n(&floor, "salesforceRequests")
    );
    println!(
        "| Okta requests | {} (minimum {}) | {} |",
        n(&counts, "okta"),
        n(&sims, "minOktaCalls"),
        n(&floor, "oktaRequests")
    );
    println!(
        "| peak RSS (idgap process) | {} MiB (before the scan: {} MiB) | — |",
        peak / 1024,
        rss_before / 1024
    );
    let floor_sf = n(&floor, "salesforceMillis") as f64 / 1000.0;
    println!(
        "| of which: Okta directory | {:.2} s (concurrently) | {:.2} s |",
        phases.directory.as_secs_f64(),
        n(&floor, "millis") as f64 / 1000.0 - floor_sf
    );
    println!(
        "| of which: Salesforce org | {:.2} s (concurrently) | {floor_sf:.2} s |",
        phases.org.as_secs_f64()
    );
    println!(
        "| of which: detection | {:.2} s | — |",
        phases.detect.as_secs_f64()
    );
}

/// How long each part of the scan took.
struct Phases {
    directory: Duration,
    org: Duration,
    detect: Duration,
}

/// The child: serves the simulators, reports their counters, and replays the floor.
fn serve(args: &[String]) {
    let [users, grants, audit, accounts] = sizes(args);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let spec = GenerateSpec {
            users,
            oauth_grants: grants,
            audit_events: audit,
            domain: DOMAIN.into(),
            ..Default::default()
        };
        let org = OrgData::generate(7, &spec);
        let min_sf = org.minimum_sync_calls(2000, 500);
        let sf = SalesforceSim::start(org, SimOptions::default().api_usage(0, 50_000_000))
            .await
            .unwrap();
        let directory = Directory::generate(7, accounts, DOMAIN);
        let deprovisioned = directory
            .people
            .iter()
            .filter(|p| p.state == idgap_sim::idp::PersonState::Deprovisioned)
            .count();
        let min_okta = (accounts - deprovisioned).div_ceil(200).max(1)
            + deprovisioned.div_ceil(200).max(1);
        let okta = OktaSim::start(directory, OktaSimOptions::new(OKTA_TOKEN, "0oabench"))
            .await
            .unwrap();
        let latency = latency_ms();
        if latency > 0 {
            let wait = FaultRule::latency(Duration::from_millis(latency));
            sf.faults().push(wait.clone());
            okta.faults().push(wait);
        }
        let creds = sf.credentials();
        println!(
            "{}",
            json!({
                "salesforce": sf.base_url(), "okta": okta.base_url(), "anchor": spec.anchor.to_string(),
                "clientId": creds.client_id, "clientSecret": creds.client_secret,
                "refreshToken": creds.refresh_token,
                "minSalesforceCalls": min_sf, "minOktaCalls": min_okta,
            })
        );
        let stdin = std::io::stdin();
        let mut lines = stdin.lock().lines();
        while let Some(Ok(cmd)) = lines.next() {
            let reply = match cmd.trim() {
                "counts" => {
                    let r = sf.requests();
                    json!({
                        "salesforceData": r.query + r.tooling + r.metadata + r.other,
                        "salesforceToken": r.token,
                        "okta": okta.requests().users + okta.requests().token,
                    })
                }
                "floor" => floor(&sf, &okta).await,
                _ => break,
            };
            println!("{reply}");
        }
    });
}

/// Fetches what the scan fetched, one request at a time, reading no more of each body than
/// the text after `"nextRecordsUrl":"` (and Okta's `Link` header).
async fn floor(sf: &SalesforceSim, okta: &OktaSim) -> Value {
    let log = sf.request_log().entries();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let base = sf.base_url();
    let creds = sf.credentials();
    let started = Instant::now();
    let mut sf_requests = 0u64;

    let token: Value = client
        .post(format!("{base}/services/oauth2/token"))
        .form(&[
            ("grant_type", "refresh_token"),
            ("client_id", creds.client_id.as_str()),
            ("client_secret", creds.client_secret.as_str()),
            ("refresh_token", creds.refresh_token.as_str()),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    sf_requests += 1;
    let bearer = format!("Bearer {}", token["access_token"].as_str().unwrap());
    let session = token["access_token"].as_str().unwrap().to_string();

    for entry in log.iter().filter(|e| {
        !e.path_and_query.starts_with("/services/oauth2/") && !e.path_and_query.contains("/query/")
    }) {
        let mut next = Some(entry.path_and_query.clone());
        let mut body = entry.body.clone();
        while let Some(path) = next.take() {
            let mut req = client.request(entry.method.parse().unwrap(), format!("{base}{path}"));
            for (k, v) in &entry.headers {
                req = req.header(k, v);
            }
            if entry.method == "POST" {
                // The SOAP body carries the scan's session id; swap in this one.
                let text = String::from_utf8_lossy(&body).to_string();
                let text = match (text.find("<sessionId>"), text.find("</sessionId>")) {
                    (Some(a), Some(b)) => {
                        format!("{}<sessionId>{session}{}", &text[..a], &text[b..])
                    }
                    _ => text,
                };
                req = req.body(text);
            } else {
                req = req.header("authorization", &bearer);
            }
            let bytes = req.send().await.unwrap().bytes().await.unwrap();
            sf_requests += 1;
            body.clear();
            next = after(&bytes, b"\"nextRecordsUrl\":\"").map(|rest| {
                let end = rest.iter().position(|b| *b == b'"').unwrap();
                String::from_utf8_lossy(&rest[..end]).to_string()
            });
        }
    }

    let salesforce_millis = started.elapsed().as_millis() as u64;
    let okta_base = okta.base_url();
    let mut okta_requests = 0u64;
    for first in [
        format!("{okta_base}/api/v1/users?limit=200"),
        format!("{okta_base}/api/v1/users?limit=200&filter=status%20eq%20%22DEPROVISIONED%22"),
    ] {
        let mut next = Some(first);
        while let Some(url) = next.take() {
            let resp = client
                .get(&url)
                .header("authorization", format!("SSWS {OKTA_TOKEN}"))
                .send()
                .await
                .unwrap();
            next = resp
                .headers()
                .get_all("link")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .find(|l| l.contains("rel=\"next\""))
                .and_then(|l| Some(l[l.find('<')? + 1..l.find('>')?].to_string()));
            let _ = resp.bytes().await.unwrap();
            okta_requests += 1;
        }
    }
    json!({
        "millis": started.elapsed().as_millis() as u64,
        "salesforceMillis": salesforce_millis,
        "salesforceRequests": sf_requests,
        "oktaRequests": okta_requests,
    })
}

fn after<'a>(haystack: &'a [u8], needle: &[u8]) -> Option<&'a [u8]> {
    haystack
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|i| &haystack[i + needle.len()..])
}
