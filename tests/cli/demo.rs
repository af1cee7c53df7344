use crate::common::{ALL_RULES, idgap};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_fires_every_rule_and_explains_what_it_left_alone() {
    let out = idgap(&["demo"]).await;
    assert_eq!(out.code, 0, "stderr: {}", out.stderr);
    for rule in ALL_RULES {
        assert!(
            out.stdout.contains(rule),
            "rule {rule} missing:\n{}",
            out.stdout
        );
    }
    for header in [
        "CRITICAL (2)",
        "HIGH (8)",
        "MEDIUM (3)",
        "Excluded (1)",
        "Not flagged (6), correctly:",
    ] {
        assert!(
            out.stdout.contains(header),
            "{header} missing:\n{}",
            out.stdout
        );
    }
    let not_flagged = out
        .stdout
        .split("Not flagged")
        .nth(1)
        .expect("a Not flagged section");
    for (user, why) in [
        ("integration@acme.com", "Integration user owned by RevOps"),
        ("frank@acme.io", "domain alias acme.io ≡ acme.com"),
        ("grace@acme-crm.com", "grace@acme.com.invalid"),
        ("erin@acme.com", "suspended in Okta but active in Entra ID"),
        (
            "pat@partner.example",
            "portal users are not expected in the IdP",
        ),
    ] {
        let line = not_flagged
            .lines()
            .find(|l| l.trim_start().starts_with(user))
            .unwrap_or_else(|| panic!("{user} not in Not flagged:\n{not_flagged}"));
        assert!(line.contains(why), "{line}");
        assert!(!line.contains("UNEXPECTEDLY"), "{line}");
    }
    let summary = out.stdout.trim_end().lines().last().unwrap();
    assert!(
        summary.starts_with("9 rules evaluated · 13 findings (2 critical, 8 high, 3 medium) · 1 excluded · 51 Salesforce users vs 82 IdP accounts in 2 directories · "),
        "{summary}"
    );
    assert!(summary.ends_with("Salesforce API calls"), "{summary}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_json_carries_findings_and_the_not_flagged_list() {
    let out = idgap(&["demo", "--output", "json"]).await;
    assert_eq!(out.code, 0, "stderr: {}", out.stderr);
    let doc: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(doc["summary"]["total"], 13);
    assert_eq!(doc["summary"]["critical"], 2);
    assert_eq!(doc["notFlagged"].as_array().unwrap().len(), 6);
    assert!(
        doc["notFlagged"]
            .as_array()
            .unwrap()
            .iter()
            .all(|n| n["flagged"] == false)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_fail_on_critical_exits_1() {
    let out = idgap(&["demo", "--output", "csv", "--fail-on", "critical"]).await;
    assert_eq!(out.code, 1, "stderr: {}", out.stderr);
}

#[tokio::test]
async fn no_command_hints_at_the_demo() {
    let out = idgap(&[]).await;
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("idgap demo"), "{}", out.stderr);
    assert!(out.stdout.is_empty());
}

#[tokio::test]
async fn crd_prints_the_three_definitions() {
    let out = idgap(&["crd"]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let kinds: Vec<String> = serde_yaml::Deserializer::from_str(&out.stdout)
        .map(|d| {
            let v = serde_yaml::Value::deserialize(d).unwrap();
            v["spec"]["names"]["kind"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(
        kinds,
        ["SalesforceIntegration", "IdentityProvider", "AccessFinding"]
    );
}

use serde::Deserialize;

#[tokio::test]
async fn rust_log_writes_plain_text_when_stderr_is_not_a_terminal() {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_idgap"))
        .args(["demo", "-o", "json"])
        .env("RUST_LOG", "debug")
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("DEBUG"), "RUST_LOG=debug logs: {stderr}");
    assert!(
        !stderr.contains('\x1b'),
        "no colour codes in a pipe: {stderr:?}"
    );
}
