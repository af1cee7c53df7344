use std::collections::BTreeSet;

use crate::common::{
    ALL_RULES, Fixture, assert_no_secret, expected_findings, fixture, parse_csv, strings,
};

pub(crate) fn json_findings(doc: &serde_json::Value) -> BTreeSet<(String, String, String)> {
    doc["findings"]
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
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_output_has_the_expected_findings_exclusion_and_inventory() {
    let f = Fixture::start().await;
    let out = f.scan(&["--output", "json"]).await;
    assert_eq!(out.code, 0, "stderr: {}", out.stderr);
    let doc: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(json_findings(&doc), expected_findings());
    assert_eq!(
        doc["findings"].as_array().unwrap().len(),
        13,
        "no duplicates"
    );
    assert_eq!(
        doc["summary"],
        serde_json::json!({"critical": 2, "high": 8, "medium": 3, "low": 0, "total": 13, "excluded": 1})
    );
    let excluded = doc["excluded"].as_array().unwrap();
    assert_eq!(excluded.len(), 1);
    assert_eq!(excluded[0]["rule"], "user-not-in-idp");
    assert_eq!(excluded[0]["subject"]["username"], "integration@acme.com");
    assert_eq!(
        excluded[0]["exclusionReason"],
        "Integration user owned by RevOps"
    );
    assert_eq!(doc["skippedRules"].as_array().unwrap().len(), 0);
    assert_eq!(doc["complete"], true);
    assert_eq!(doc["failedIntegrations"], serde_json::json!([]));
    assert_eq!(doc["inventory"]["users"], 51);
    assert_eq!(doc["inventory"]["activeUsers"], 50);
    assert_eq!(doc["inventory"]["admins"], 2);
    assert_eq!(doc["inventory"]["connectedAppGrants"], 4);
    assert!(doc["org"]["id"].as_str().unwrap().starts_with("00D"));
    assert_eq!(doc["org"]["instanceUrl"], f.salesforce.base_url());
    assert!(doc["apiUsage"]["callsThisRun"].as_u64().unwrap() > 0);
    let first = &doc["findings"][0];
    for field in [
        "rule",
        "severity",
        "category",
        "title",
        "subject",
        "evidence",
        "remediation",
        "key",
    ] {
        assert!(!first[field].is_null(), "finding.{field} missing: {first}");
    }
    // Critical first, and the event findings carry their time.
    assert_eq!(first["severity"], "critical");
    let export = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "bulk-data-export")
        .unwrap();
    assert!(
        export["occurredAt"]
            .as_str()
            .unwrap()
            .parse::<jiff::Timestamp>()
            .is_ok()
    );
    let idps = &doc["integrations"][0]["identityProviders"];
    assert_eq!(idps[0]["name"], "okta");
    assert_eq!(idps[0]["accounts"], 59);
    assert_eq!(idps[1]["name"], "entra");
    assert_eq!(idps[1]["accounts"], 23);
    assert_no_secret(&out.stdout, &f.secret_values());
    assert_no_secret(&out.stderr, &f.secret_values());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn csv_output_is_rfc4180_with_one_row_per_finding() {
    let f = Fixture::start().await;
    let out = f.scan(&["-o", "csv"]).await;
    assert_eq!(out.code, 0, "stderr: {}", out.stderr);
    let rows = parse_csv(&out.stdout);
    let header = &rows[0];
    let col = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no column {name}"))
    };
    let (rule, username, app, evidence, severity) = (
        col("rule"),
        col("username"),
        col("app"),
        col("evidence"),
        col("severity"),
    );
    assert_eq!(rows.len(), 14, "header + 13 findings");
    assert!(
        rows.iter().all(|r| r.len() == header.len()),
        "every row has every column"
    );
    let got: BTreeSet<_> = rows[1..]
        .iter()
        .map(|r| (r[rule].clone(), r[username].clone(), r[app].clone()))
        .collect();
    assert_eq!(got, expected_findings());
    // The export display text has commas: it must survive quoting intact.
    let bob_export = rows[1..]
        .iter()
        .find(|r| r[rule] == "data-export-by-non-admin")
        .unwrap();
    assert!(
        bob_export[evidence].contains("Requested an export of Account, Contact, Opportunity"),
        "{}",
        bob_export[evidence]
    );
    assert_eq!(bob_export[severity], "critical");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sarif_output_validates_and_locates_each_result() {
    let f = Fixture::start().await;
    let out = f.scan(&["--output", "sarif"]).await;
    assert_eq!(out.code, 0, "stderr: {}", out.stderr);
    let doc: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();

    let validator = crate::common::sarif_validator();
    crate::common::assert_valid_sarif(&doc);
    // The schema must be able to fail: a level outside the enum is rejected.
    let mut broken = doc.clone();
    broken["runs"][0]["results"][0]["level"] = "critical".into();
    assert!(!validator.is_valid(&broken));

    assert_eq!(doc["version"], "2.1.0");
    let run = &doc["runs"][0];
    // A complete scan: every rule evaluated, nothing to notify.
    assert_eq!(run["invocations"][0]["executionSuccessful"], true);
    assert_eq!(
        run["invocations"][0]["toolExecutionNotifications"],
        serde_json::json!([])
    );
    let driver = &run["tool"]["driver"];
    assert_eq!(driver["name"], "idgap");
    let rule_ids: Vec<&str> = strings(&driver["rules"], "id");
    assert_eq!(rule_ids, ALL_RULES);
    for r in driver["rules"].as_array().unwrap() {
        assert!(
            r["properties"]["security-severity"]
                .as_str()
                .unwrap()
                .parse::<f64>()
                .is_ok()
        );
        assert!(!r["help"]["text"].as_str().unwrap().is_empty());
    }
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), 13);
    let mut fingerprints = BTreeSet::new();
    for r in results {
        let rule = r["ruleId"].as_str().unwrap();
        let index = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rule_ids[index], rule);
        let expected_level = match rule {
            "admin-not-in-idp" | "data-export-by-non-admin" => "error",
            "connected-app-unknown-user" | "session-ip-not-enforced" => "warning",
            _ => "error",
        };
        assert_eq!(r["level"], expected_level, "{rule}");
        let location = &r["locations"][0];
        let uri = location["physicalLocation"]["artifactLocation"]["uri"]
            .as_str()
            .unwrap();
        assert!(
            uri.starts_with("file://") && uri.ends_with("/integration.yaml"),
            "{uri}"
        );
        assert_eq!(location["physicalLocation"]["region"]["startLine"], 1);
        let kinds: Vec<&str> = strings(&location["logicalLocations"], "kind");
        assert_eq!(kinds[0], "organization");
        if rule == "connected-app-unknown-user" {
            assert_eq!(kinds, ["organization", "user", "connectedApp"]);
        }
        fingerprints.insert(
            r["partialFingerprints"]["idgapFindingKey/v2"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    assert_eq!(fingerprints.len(), 13, "fingerprints are unique");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn table_output_groups_by_severity_and_ends_with_the_summary() {
    let f = Fixture::start().await;
    let out = f.scan(&[]).await;
    assert_eq!(out.code, 0, "stderr: {}", out.stderr);
    let critical = out.stdout.find("CRITICAL (2)").expect("critical group");
    let high = out.stdout.find("HIGH (8)").expect("high group");
    let medium = out.stdout.find("MEDIUM (3)").expect("medium group");
    assert!(critical < high && high < medium);
    assert!(out.stdout.contains("acme-prod (namespace security)"));
    assert!(out.stdout.contains("Excluded (1)"));
    let summary = out.stdout.trim_end().lines().last().unwrap();
    assert!(
        summary.starts_with(
            "9 rules evaluated · 13 findings (2 critical, 8 high, 3 medium) · 1 excluded"
        ),
        "{summary}"
    );
    assert!(
        out.stderr.is_empty(),
        "no progress output when stderr is not a terminal: {}",
        out.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fail_on_sets_the_exit_code() {
    let f = Fixture::start().await;
    assert_eq!(
        f.scan(&["--fail-on", "critical", "-o", "json"]).await.code,
        1
    );
    assert_eq!(f.scan(&["--fail-on", "medium", "-o", "json"]).await.code, 1);

    // Every rule lowered to `low`: findings remain, but none reaches medium.
    let overrides: String = std::iter::once("    severityOverrides:".to_string())
        .chain(
            ALL_RULES
                .iter()
                .map(|r| format!("      - {{ rule: {r}, severity: low }}")),
        )
        .collect::<Vec<_>>()
        .join("\n");
    f.write(
        "integration.yaml",
        &f.fill(&fixture("integration.yaml"), &overrides),
    );
    let lowered = f.scan(&["--fail-on", "medium", "-o", "json"]).await;
    assert_eq!(lowered.code, 0, "stderr: {}", lowered.stderr);
    let doc: serde_json::Value = serde_json::from_str(&lowered.stdout).unwrap();
    assert_eq!(doc["summary"]["low"], 13);
    assert_eq!(f.scan(&["--fail-on", "low", "-o", "json"]).await.code, 1);
    assert_eq!(
        f.scan(&["-o", "json"]).await.code,
        0,
        "no --fail-on: findings alone never fail"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_can_be_given_one_by_one_and_the_simulator_host_must_be_allowed() {
    let f = Fixture::start().await;
    let (a, b, c) = (
        f.path("secrets.yaml"),
        f.path("identity-providers.yaml"),
        f.path("integration.yaml"),
    );
    let out = crate::common::idgap(&[
        "scan",
        "--allow-host",
        "127.0.0.1",
        "-f",
        &a,
        "-f",
        &b,
        "-f",
        &c,
        "-o",
        "json",
    ])
    .await;
    assert_eq!(out.code, 0, "stderr: {}", out.stderr);

    let refused = crate::common::idgap(&["scan", "-f", &a, "-f", &b, "-f", &c]).await;
    assert_eq!(refused.code, 2);
    assert_eq!(
        refused.stderr.trim().lines().count(),
        1,
        "{}",
        refused.stderr
    );
    assert!(
        refused.stderr.contains("127.0.0.1") && refused.stderr.contains("--allow-host"),
        "{}",
        refused.stderr
    );
    // The CLI is not the operator: its advice names the flag of the command that was run.
    assert!(!refused.stderr.contains("operator"), "{}", refused.stderr);
    assert_no_secret(&refused.stderr, &f.secret_values());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreadable_directory_is_reported_and_the_scan_exits_2() {
    let f = Fixture::start().await;
    let wrong = f
        .fill(&fixture("secrets.yaml"), "")
        .replace(crate::common::OKTA_TOKEN, "00wrong-token");
    f.write("secrets.yaml", &wrong);
    let out = f.scan(&["-o", "json"]).await;
    assert_eq!(out.code, 2, "stderr: {}", out.stderr);
    let doc: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let skipped: Vec<&str> = strings(&doc["skippedRules"], "rule");
    for rule in [
        "admin-not-in-idp",
        "user-not-in-idp",
        "stale-active-user",
        "connected-app-unknown-user",
    ] {
        assert!(
            skipped.contains(&rule),
            "{rule} should be skipped: {skipped:?}"
        );
        assert!(
            !json_findings(&doc).iter().any(|(r, _, _)| r == rule),
            "{rule} must not fire on a failed IdP"
        );
    }
    assert!(out.stderr.contains("security/okta"), "{}", out.stderr);
    assert!(!out.stderr.contains("00wrong-token"), "{}", out.stderr);
}
