//! `idgap run` as a child process of the test: its command line, its `/metrics` and its log.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::support::{eventually, process};

/// One running `idgap run`. Killed (SIGKILL) when dropped, so a failing test leaves nothing
/// behind.
pub struct OperatorProcess {
    /// The name it is registered under with the harness's process owner.
    registered: String,
    pub instance: String,
    pub pid: u32,
    log: PathBuf,
    metrics_url: String,
}

/// What differs between the operators a test starts.
pub struct Launch<'a> {
    /// `POD_NAME`: names the replica in Events and the Lease.
    pub instance: &'a str,
    pub kubeconfig: &'a Path,
    pub namespace: &'a str,
    /// Leader election with the Lease in `namespace`.
    pub leader_election: bool,
    /// Where the process's log (JSON lines) goes: `<log_dir>/<instance>.log`.
    pub log_dir: &'a Path,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}

impl OperatorProcess {
    /// Starts `idgap run` watching only `namespace`, allowed to call the simulators on
    /// 127.0.0.1, with `/metrics` on a free loopback port, and waits until `/healthz`
    /// answers (the process is up; with leader election it may still be waiting for the
    /// Lease).
    pub async fn start(launch: Launch<'_>) -> OperatorProcess {
        let port = free_port();
        let log = launch.log_dir.join(format!("{}.log", launch.instance));
        let file = std::fs::File::create(&log).expect("create the operator's log file");
        let mut command = Command::new(env!("CARGO_BIN_EXE_idgap"));
        command
            .arg("run")
            .arg(format!("--metrics-addr=127.0.0.1:{port}"))
            .arg("--log-format=json")
            .arg("--allow-host=127.0.0.1")
            .arg(format!("--watch-namespace={}", launch.namespace))
            .arg("--request-timeout=30s");
        if launch.leader_election {
            command
                .arg("--leader-election")
                .arg(format!("--leader-election-namespace={}", launch.namespace));
        }
        command
            .env("KUBECONFIG", launch.kubeconfig)
            .env("POD_NAME", launch.instance)
            .env(
                "RUST_LOG",
                std::env::var("IDGAP_RECOVERY_LOG").unwrap_or_else(|_| "info,kube=warn".into()),
            )
            .env_remove("KUBERNETES_SERVICE_HOST")
            .env_remove("IDGAP_LEADER_ELECTION")
            .env_remove("POD_NAMESPACE")
            .env_remove("IDGAP_METRICS_ADDR")
            .stdin(Stdio::null())
            .stdout(file.try_clone().expect("clone the log file handle"))
            .stderr(file);
        let registered = format!("idgap-run/{}/{}", launch.namespace, launch.instance);
        let pid = process::spawn_owned(&registered, command)
            .unwrap_or_else(|e| panic!("start `idgap run` ({}): {e}", launch.instance));
        let operator = OperatorProcess {
            registered,
            instance: launch.instance.to_string(),
            pid,
            log,
            metrics_url: format!("http://127.0.0.1:{port}"),
        };
        let http = reqwest::Client::new();
        eventually(
            &format!("`idgap run` ({}) to serve /healthz", operator.instance),
            Duration::from_secs(30),
            || async {
                assert!(
                    operator.alive(),
                    "`idgap run` ({}) exited; its log:\n{}",
                    operator.instance,
                    operator.log_text()
                );
                let response = http
                    .get(format!("{}/healthz", operator.metrics_url))
                    .send()
                    .await
                    .ok()?;
                response.status().is_success().then_some(())
            },
        )
        .await;
        operator
    }

    /// True while the process runs.
    pub fn alive(&self) -> bool {
        process::exited(&self.registered).is_none()
    }

    /// `kill -9`: the process dies where it stands, no shutdown code runs.
    pub fn kill_hard(&self) {
        process::kill(&self.registered);
    }

    /// SIGTERM: asks the process to shut down gracefully.
    pub fn terminate(&self) {
        assert!(
            process::terminate(&self.registered),
            "`idgap run` ({}) is not running",
            self.instance
        );
    }

    /// How the process exited (e.g. `exit status: 0`), once it has.
    pub fn exit_status(&self) -> Option<String> {
        process::exited(&self.registered)
    }

    /// Everything the process logged so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The log as JSON objects (lines that are not JSON are skipped).
    pub fn log_lines(&self) -> Vec<serde_json::Value> {
        self.log_text()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }

    /// `/readyz` status code (503 while a replica waits for the Lease).
    pub async fn readyz(&self) -> u16 {
        reqwest::get(format!("{}/readyz", self.metrics_url))
            .await
            .map(|r| r.status().as_u16())
            .unwrap_or(0)
    }

    /// The `/metrics` text.
    pub async fn metrics(&self) -> String {
        reqwest::get(format!("{}/metrics", self.metrics_url))
            .await
            .unwrap_or_else(|e| panic!("scrape {} /metrics: {e}", self.instance))
            .text()
            .await
            .unwrap_or_else(|e| panic!("read {} /metrics: {e}", self.instance))
    }

    /// The value of the sample `series` (name with labels exactly as exposed), 0 when the
    /// series has not been touched yet.
    pub async fn sample(&self, series: &str) -> f64 {
        sample(&self.metrics().await, series)
    }

    /// AccessFinding writes by `op` (`create`, `update`, `delete`).
    pub async fn finding_writes(&self, op: &str) -> f64 {
        self.sample(&format!("idgap_finding_writes_total{{op=\"{op}\"}}"))
            .await
    }

    /// Reconcile errors of SalesforceIntegrations with `reason`.
    pub async fn integration_errors(&self, reason: &str) -> f64 {
        self.sample(&format!(
            "idgap_reconcile_errors_total{{kind=\"SalesforceIntegration\",reason=\"{reason}\"}}"
        ))
        .await
    }
}

/// The value of `series` in an OpenMetrics text, 0 when absent.
pub fn sample(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|line| {
            let rest = line.strip_prefix(series)?.strip_prefix(' ')?;
            rest.split_whitespace().next()?.parse().ok()
        })
        .unwrap_or(0.0)
}

impl Drop for OperatorProcess {
    fn drop(&mut self) {
        process::kill(&self.registered);
    }
}

#[test]
fn samples_are_read_by_exact_series() {
    let text = "idgap_finding_writes_total{op=\"create\"} 4\n\
                idgap_finding_writes_total{op=\"created\"} 9\n\
                idgap_reconcile_errors_total{kind=\"SalesforceIntegration\",reason=\"X\"} 2\n";
    assert_eq!(
        sample(text, "idgap_finding_writes_total{op=\"create\"}"),
        4.0
    );
    assert_eq!(
        sample(text, "idgap_finding_writes_total{op=\"delete\"}"),
        0.0
    );
    assert_eq!(
        sample(
            text,
            "idgap_reconcile_errors_total{kind=\"SalesforceIntegration\",reason=\"X\"}"
        ),
        2.0
    );
}
