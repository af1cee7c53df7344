//! The `idgap` command line: `demo`, `scan`, `connect`, `sim`, `crd` and `run` (the
//! operator). Exit codes: 0 clean (or findings below `--fail-on`), 1 findings at or above
//! `--fail-on`, 2 any error or an incomplete scan (an org not read, or a rule that was asked
//! for not evaluated, unless `--allow-partial`). Errors are printed as one line on stderr.

mod connect;
mod crd;
pub mod emit;
pub mod manifests;
mod progress;
mod scan;
mod sim;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use idgap_model::Severity;

use crate::output::Format;

pub use scan::{ScanError, build_report, finish};

#[derive(Debug, Parser)]
#[command(
    name = "idgap",
    version,
    about = "Finds identity gaps in Salesforce orgs: users and admins your identity provider does not know, people who left, risky privileges and data exports.",
    after_help = "Start with `idgap demo`: a simulated org and IdP, no credentials needed."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scan a built-in simulated org against simulated Okta and Entra ID, end to end over HTTP.
    Demo(DemoArgs),
    /// Scan the orgs declared in Kubernetes manifests, once, and print the findings.
    Scan(ScanArgs),
    /// Connect a Salesforce org with OAuth (authorization code + PKCE) and print its Secret.
    Connect(ConnectArgs),
    /// Run the Salesforce and IdP simulators as a standalone server until Ctrl-C.
    Sim(SimArgs),
    /// Print the CustomResourceDefinitions (YAML) to apply before installing the operator.
    Crd,
    /// Run the operator: watch SalesforceIntegrations and IdentityProviders, write findings.
    Run(crate::operator::RunArgs),
}

#[derive(Debug, Args)]
pub struct OutputArgs {
    /// Output format.
    #[arg(short, long, value_enum, default_value = "table")]
    pub output: Format,
    /// Exit with code 1 when a finding of this severity or worse exists.
    #[arg(long, value_name = "SEVERITY", value_parser = parse_severity)]
    pub fail_on: Option<Severity>,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    #[command(flatten)]
    pub out: OutputArgs,
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// A manifest file or a directory of them (SalesforceIntegration, IdentityProvider,
    /// Secret); repeatable; `-` reads standard input.
    #[arg(short = 'f', long = "filename", value_name = "PATH", required = true)]
    pub files: Vec<PathBuf>,
    /// Refuse documents of other kinds (a Namespace, a ConfigMap, a CI workflow) instead of
    /// skipping them with a note.
    #[arg(long)]
    pub strict: bool,
    /// Exit by `--fail-on` even when a rule could not be evaluated (an IdP not read, a
    /// Salesforce collector gap); the skipped rules are still reported. An org that could
    /// not be read at all still exits 2.
    #[arg(long)]
    pub allow_partial: bool,
    /// Allow calls to a host that is not a vendor API host (e.g. 127.0.0.1 for the
    /// simulator, a proxy); repeatable. Patterns: host, host:port, *.domain.
    #[arg(long = "allow-host", value_name = "HOST")]
    pub allow_hosts: Vec<String>,
    /// Only scan this SalesforceIntegration (namespace/name or name); repeatable.
    #[arg(long = "integration", value_name = "NAME")]
    pub only: Vec<String>,
    /// Timeout of each HTTP attempt, e.g. `60s`, `2m` (a bare number is seconds). A request
    /// is tried up to 5 times, so an unresponsive host costs up to about 5× this.
    #[arg(long, default_value = "60s", value_parser = parse_timeout)]
    pub timeout: std::time::Duration,
    #[command(flatten)]
    pub out: OutputArgs,
}

#[derive(Debug, Args)]
pub struct ConnectArgs {
    #[command(subcommand)]
    pub target: ConnectTarget,
}

#[derive(Debug, Subcommand)]
pub enum ConnectTarget {
    /// Salesforce: production, sandbox or a My Domain login URL.
    Salesforce(connect::SalesforceConnectArgs),
}

#[derive(Debug, Args)]
pub struct SimArgs {
    /// Scenario: `story` (the demo org) or `generated` (a seeded org of --users users).
    #[arg(long, value_enum, default_value = "story")]
    pub scenario: sim::Scenario,
    /// Salesforce users in a generated org.
    #[arg(long, default_value_t = 1000)]
    pub users: usize,
    /// Accounts in each generated IdP directory (default: about the number of users).
    #[arg(long)]
    pub idp_accounts: Option<usize>,
    /// Seed for the generated org and directories.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Namespace written into the printed manifests.
    #[arg(long, default_value = "default")]
    pub namespace: String,
    /// Fixed loopback ports: Salesforce on PORT, Okta on PORT+1, Entra ID on PORT+2
    /// (forwarded to the simulators). 0 picks free ports.
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// Delay every simulator answer by this many milliseconds (a slow network, for
    /// benchmarking or watching a sync progress). 0 answers at once.
    #[arg(long, default_value_t = 0)]
    pub latency_ms: u64,
}

fn parse_severity(s: &str) -> Result<Severity, String> {
    s.parse()
}

/// A timeout flag: a duration with a unit (`30s`, `1m30s`, `500ms`) as everywhere else,
/// or a bare number of seconds as the flags first took. Zero is refused: it would fail
/// every request at once.
pub fn parse_timeout(s: &str) -> Result<std::time::Duration, String> {
    let t = s.trim();
    let d = if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
        std::time::Duration::from_secs(
            t.parse()
                .map_err(|_| format!("`{s}` is too large a number of seconds"))?,
        )
    } else {
        crate::resources::Interval::parse(t)?.duration()
    };
    if d.is_zero() {
        return Err(format!("`{s}` is zero; give a timeout such as 30s"));
    }
    Ok(d)
}

/// Runs the CLI and returns the process exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let Some(command) = cli.command else {
        eprintln!(
            "idgap: no command given. Try `idgap demo` to see every rule fire against a simulated org,\n\
             or `idgap scan -f manifests/` to scan your own. `idgap --help` lists all commands."
        );
        return ExitCode::from(2);
    };
    // The operator sets up its own (JSON) logging.
    if !matches!(command, Command::Run(_)) {
        init_tracing();
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    let result = runtime.block_on(dispatch(command));
    match result {
        Ok(code) => code,
        Err(e) => {
            emit::error_line(&format!(
                "error: {}",
                manifests::one_line(&format!("{e:#}"))
            ));
            ExitCode::from(2)
        }
    }
}

async fn dispatch(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Demo(args) => crate::demo::run(args).await,
        Command::Scan(args) => scan::run(args).await,
        Command::Connect(args) => match args.target {
            ConnectTarget::Salesforce(a) => connect::run(a).await.map(|()| ExitCode::SUCCESS),
        },
        Command::Sim(args) => sim::run(args).await.map(|()| ExitCode::SUCCESS),
        Command::Crd => {
            emit::stdout_verbatim(&crd::crds_yaml()?)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Run(args) => crate::operator::run(args).await.map(|()| ExitCode::SUCCESS),
    }
}

/// The exit code for a finished scan: 1 when `fail_on` is set and a finding reaches it.
pub fn exit_code(worst: Option<Severity>, fail_on: Option<Severity>) -> ExitCode {
    match (worst, fail_on) {
        (Some(w), Some(floor)) if w.at_least(floor) => ExitCode::from(1),
        _ => ExitCode::SUCCESS,
    }
}

/// Logs go to stderr, off unless `RUST_LOG` asks for them (e.g. `RUST_LOG=idgap=debug`),
/// so stdout stays parseable; coloured only when stderr is a terminal, so a log file holds
/// no escape sequences; every line is redacted ([`crate::log_writer`]).
fn init_tracing() {
    use std::io::IsTerminal;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("off"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(crate::log_writer::Redacting(std::io::stderr))
        .try_init();
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::parse_timeout;

    #[test]
    fn timeouts_take_units_or_bare_seconds() {
        assert_eq!(parse_timeout("60"), Ok(Duration::from_secs(60)));
        assert_eq!(parse_timeout("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_timeout("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_timeout("500ms"), Ok(Duration::from_millis(500)));
        for bad in ["", "0", "0s", "1d", "-5", "5 s", "99999999999999999999999"] {
            assert!(parse_timeout(bad).is_err(), "{bad}");
        }
    }
}
