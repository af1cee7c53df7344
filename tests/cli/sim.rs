//! `idgap sim` serves the story org until stopped; the manifests it prints scan as is.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

use crate::common::{expected_findings, idgap};

/// A port P with P+1 and P+2 free too (checked just before use).
fn three_free_ports() -> u16 {
    for _ in 0..50 {
        let first = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let p = first.local_addr().unwrap().port();
        if p > u16::MAX - 2 {
            continue;
        }
        let next = (
            std::net::TcpListener::bind(("127.0.0.1", p + 1)),
            std::net::TcpListener::bind(("127.0.0.1", p + 2)),
        );
        if let (Ok(_), Ok(_)) = next {
            return p;
        }
    }
    panic!("no three consecutive free ports");
}

/// Starts `idgap sim` with `args` and reads stdout up to the end marker: the manifests.
async fn start_sim(args: &[&str]) -> (tokio::process::Child, String) {
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_idgap"))
        .arg("sim")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut manifests = String::new();
    tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if line == "# end of idgap sim manifests" {
                return;
            }
            manifests.push_str(&line);
            manifests.push('\n');
        }
        panic!("sim exited early:\n{manifests}");
    })
    .await
    .expect("the manifests are printed");
    (child, manifests)
}

/// `idgap scan --allow-host 127.0.0.1 -f <manifests> -o json`.
async fn scan(manifests: &str) -> crate::common::Output {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sim.yaml");
    std::fs::write(&path, manifests).unwrap();
    idgap(&[
        "scan",
        "--allow-host",
        "127.0.0.1",
        "-f",
        path.to_str().unwrap(),
        "-o",
        "json",
    ])
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sim_prints_manifests_that_scan_to_the_story_findings() {
    let port = three_free_ports();
    let port_arg = port.to_string();
    let (mut child, manifests) = start_sim(&["--namespace", "security", "--port", &port_arg]).await;
    assert!(manifests.contains("namespace: \"security\""), "{manifests}");
    for p in [port, port + 1, port + 2] {
        assert!(
            manifests.contains(&format!("\"http://127.0.0.1:{p}\"")),
            "port {p} not used:\n{manifests}"
        );
    }

    let out = scan(&manifests).await;
    assert_eq!(out.code, 0, "stderr: {}", out.stderr);
    let doc: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let got: std::collections::BTreeSet<(String, String, String)> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let s = |v: &serde_json::Value| v.as_str().unwrap_or("").to_string();
            (
                s(&f["rule"]),
                s(&f["subject"]["username"]),
                s(&f["subject"]["app"]),
            )
        })
        .collect();
    assert_eq!(got, expected_findings());
    assert_eq!(
        child.try_wait().unwrap(),
        None,
        "the simulators keep running until stopped"
    );
    child.kill().await.unwrap();
}

/// A directory longer than one page, behind the fixed ports: the page links must name the
/// ports the manifests hand out, not the simulators' own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sim_on_fixed_ports_pages_through_the_advertised_ports() {
    let port = three_free_ports();
    let port_arg = port.to_string();
    let (mut child, manifests) = start_sim(&[
        "--scenario",
        "generated",
        "--users",
        "450",
        "--port",
        &port_arg,
    ])
    .await;
    let out = scan(&manifests).await;
    assert_eq!(out.code, 0, "stderr: {}", out.stderr);
    let doc: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let integration = &doc["integrations"][0];
    assert_eq!(
        integration["org"]["instanceUrl"],
        format!("http://127.0.0.1:{port}"),
        "the instance URL is the advertised one"
    );
    let okta = integration["identityProviders"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == "okta")
        .unwrap_or_else(|| panic!("{}", out.stdout));
    assert_eq!(okta["accounts"], 450, "three pages of 200: {okta}");
    child.kill().await.unwrap();
}

/// `GET /services/data/` (the unauthenticated version list) on 127.0.0.1:`port`, over a plain
/// socket; returns the status line.
async fn get_versions(port: u16) -> String {
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    stream
        .write_all(b"GET /services/data/ HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    answer.lines().next().unwrap_or("").to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sim_latency_delays_every_answer() {
    let port = three_free_ports();
    let (mut child, _) = start_sim(&["--port", &port.to_string(), "--latency-ms", "400"]).await;
    let started = std::time::Instant::now();
    let status = get_versions(port).await;
    let elapsed = started.elapsed();
    assert!(status.contains(" 200 "), "{status}");
    assert!(
        elapsed >= Duration::from_millis(400),
        "answered after {elapsed:?}"
    );
    child.kill().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sim_prints_the_requests_served_on_sigterm() {
    let port = three_free_ports();
    let (mut child, _) = start_sim(&["--port", &port.to_string()]).await;
    for _ in 0..2 {
        assert!(get_versions(port).await.contains(" 200 "));
    }
    let pid = child.id().unwrap().to_string();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(killed.success());
    let mut stderr = String::new();
    let mut pipe = child.stderr.take().unwrap();
    tokio::time::timeout(Duration::from_secs(30), pipe.read_to_string(&mut stderr))
        .await
        .expect("the sim exits on SIGTERM")
        .unwrap();
    assert!(child.wait().await.unwrap().success(), "{stderr}");
    for line in ["  Salesforce: 2", "  Okta:       0", "  Entra ID:   0"] {
        assert!(
            stderr.lines().any(|l| l == line),
            "{line:?} missing:\n{stderr}"
        );
    }
}
