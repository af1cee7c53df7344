use std::net::SocketAddr;

/// `idgap run`: the operator.
#[derive(clap::Args, Debug, Clone)]
pub struct RunArgs {
    /// Where `/metrics`, `/healthz` and `/readyz` are served.
    #[arg(long, default_value = "0.0.0.0:8080", env = "IDGAP_METRICS_ADDR")]
    pub metrics_addr: SocketAddr,
    #[arg(long, value_enum, default_value = "json", env = "IDGAP_LOG_FORMAT")]
    pub log_format: LogFormat,
    /// Extra outbound hosts besides the vendors' API hosts (e.g. a proxy or the simulator).
    /// Repeatable; `*.example.com` globs allowed.
    #[arg(long = "allow-host", value_name = "HOST")]
    pub allow_hosts: Vec<String>,
    /// Only watch these namespaces (repeatable); all namespaces when absent.
    #[arg(long = "watch-namespace", value_name = "NAMESPACE")]
    pub watch_namespaces: Vec<String>,
    /// Only the holder of a Lease reconciles; for running several replicas.
    #[arg(long, env = "IDGAP_LEADER_ELECTION")]
    pub leader_election: bool,
    /// Namespace of the Lease; defaults to the pod's namespace (POD_NAMESPACE) or `default`.
    #[arg(long, env = "POD_NAMESPACE")]
    pub leader_election_namespace: Option<String>,
    /// Reconciles running at the same time, per kind.
    #[arg(long, default_value_t = 4)]
    pub max_concurrent_reconciles: u16,
    /// Timeout of each outbound HTTP attempt, e.g. `30s` (a bare number is seconds); a
    /// request is tried up to 5 times.
    #[arg(long, default_value = "30s", value_parser = parse_timeout)]
    pub request_timeout: std::time::Duration,
}

#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Json,
    Text,
}

fn parse_timeout(s: &str) -> Result<std::time::Duration, String> {
    crate::cli::parse_timeout(s)
}

impl Default for RunArgs {
    fn default() -> Self {
        RunArgs {
            metrics_addr: "0.0.0.0:8080".parse().expect("valid address"),
            log_format: LogFormat::Json,
            allow_hosts: Vec::new(),
            watch_namespaces: Vec::new(),
            leader_election: false,
            leader_election_namespace: None,
            max_concurrent_reconciles: 4,
            request_timeout: std::time::Duration::from_secs(30),
        }
    }
}
