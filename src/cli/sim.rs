//! `idgap sim`: the simulators as a standalone server, with the manifests that point at
//! them, so the operator can be tried without a real org. Runs until Ctrl-C or SIGTERM, then
//! says how many requests each simulator served (what a person debugging a sync wants to know).

use std::time::Duration;

use idgap_sim::faults::FaultRule;
use jiff::Timestamp;

use super::SimArgs;
use crate::demo::sims::{GeneratedSize, Sims};

pub use crate::demo::sims::Scenario;

/// The last line of the printed manifests, so a script reading stdout knows they are complete
/// while the simulators keep running.
pub const END_MARKER: &str = "# end of idgap sim manifests";

pub async fn run(args: SimArgs) -> anyhow::Result<()> {
    let now = Timestamp::now();
    let mut sims = match args.scenario {
        Scenario::Story => Sims::start_story(now).await?.0,
        Scenario::Generated => {
            let size = GeneratedSize {
                users: args.users,
                idp_accounts: args.idp_accounts.unwrap_or(args.users),
                seed: args.seed,
            };
            Sims::start_generated(&size, now).await?
        }
    };
    if args.latency_ms > 0 {
        let latency = FaultRule::latency(Duration::from_millis(args.latency_ms));
        sims.salesforce.faults().push(latency.clone());
        sims.okta.faults().push(latency.clone());
        sims.entra.faults().push(latency);
    }
    if args.port != 0 {
        sims.forward_from(args.port).await.map_err(|e| {
            anyhow::anyhow!(
                "--port {}: cannot listen on 127.0.0.1:{}..{}: {e}",
                args.port,
                args.port,
                args.port.saturating_add(2)
            )
        })?;
    }
    let creds = sims.salesforce.credentials();
    let (sf_url, okta_url, entra_url) = sims.urls();
    eprintln!("Simulated Salesforce org: {sf_url}");
    eprintln!("  client_id:     {}", creds.client_id);
    eprintln!("  refresh token and client secret: in the Secret below (TEST-ONLY values)");
    eprintln!("Simulated Okta:           {okta_url}");
    eprintln!("Simulated Entra ID:       {entra_url}");
    eprintln!("The operator must be started with --allow-host 127.0.0.1 to call them.");
    eprintln!("Manifests on stdout; press Ctrl-C to stop.\n");
    super::emit::stdout_verbatim(&format!(
        "{}{END_MARKER}\n",
        sims.manifests(&args.namespace, now)
    ))?;
    stopped().await?;
    eprintln!("Stopping the simulators. Requests served:");
    eprintln!(
        "  Salesforce: {}",
        sims.salesforce.request_log().entries().len()
    );
    eprintln!("  Okta:       {}", sims.okta.request_log().entries().len());
    eprintln!("  Entra ID:   {}", sims.entra.request_log().entries().len());
    Ok(())
}

/// Waits for Ctrl-C, or SIGTERM (how `kill`, a container runtime or a test harness stops us).
async fn stopped() -> std::io::Result<()> {
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            r = tokio::signal::ctrl_c() => r,
            _ = term.recv() => Ok(()),
        }
    }
    #[cfg(not(unix))]
    tokio::signal::ctrl_c().await
}
