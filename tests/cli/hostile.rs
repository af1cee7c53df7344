//! Org-controlled text cannot act on the reader: names with terminal escapes and newlines are
//! shown escaped in the table, formula-leading cells are disarmed in CSV, CSV evidence reads
//! back exactly, and JSON and SARIF carry the values exactly. And an allow-list that would let
//! any host in is warned about.

use crate::common::{Fixture, parse_csv};

/// A connected-app name that sets the terminal title, clears the screen and forges a header.
const HOSTILE_APP: &str = "Workbench\u{1b}]0;owned\u{7}\u{1b}[2J\n\nCRITICAL (0)\n  nothing to see";
/// A profile name a spreadsheet would run as a formula.
const HOSTILE_PROFILE: &str = "=HYPERLINK(\"http://evil.example/\",\"Admin\")";

async fn hostile_fixture() -> Fixture {
    let f = Fixture::start().await;
    f.salesforce.org().update(|org| {
        for token in org
            .oauth_tokens
            .iter_mut()
            .filter(|t| t.app_name == "Workbench")
        {
            token.app_name = HOSTILE_APP.to_string();
        }
        let admin = org
            .profiles
            .iter_mut()
            .find(|p| p.name == "System Administrator")
            .expect("the story has a System Administrator profile");
        admin.name = HOSTILE_PROFILE.to_string();
    });
    f
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn table_shows_control_characters_escaped() {
    let f = hostile_fixture().await;
    let out = f.scan(&[]).await;
    assert_eq!(out.code, 0, "stderr: {}", out.stderr);
    assert!(
        !out.stdout.chars().any(|c| c.is_control() && c != '\n'),
        "a control character reached the terminal:\n{:?}",
        out.stdout
    );
    assert!(
        !out.stdout.lines().any(|l| l.trim() == "CRITICAL (0)"),
        "a forged header line:\n{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("Workbench\\x1b]0;owned\\x07\\x1b[2J\\n\\nCRITICAL (0)\\n  nothing to see"),
        "{}",
        out.stdout
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn csv_cells_cannot_be_formulas() {
    let f = hostile_fixture().await;
    let out = f.scan(&["-o", "csv"]).await;
    assert_eq!(out.code, 0, "stderr: {}", out.stderr);
    let rows = parse_csv(&out.stdout);
    let mut disarmed = 0;
    for cell in rows.iter().flatten() {
        assert!(
            !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
            "a formula cell: {cell:?}"
        );
        if cell == &format!("'{HOSTILE_PROFILE}") {
            disarmed += 1;
        }
    }
    assert!(
        disarmed > 0,
        "the profile column shows the name with a leading quote:\n{}",
        out.stdout
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_and_sarif_keep_the_values_exact() {
    let f = hostile_fixture().await;
    let json = f.scan(&["-o", "json"]).await;
    assert_eq!(json.code, 0, "stderr: {}", json.stderr);
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let findings = doc["findings"].as_array().unwrap();
    assert!(
        findings.iter().any(|f| f["subject"]["app"] == HOSTILE_APP),
        "{}",
        json.stdout
    );
    assert!(
        findings
            .iter()
            .any(|f| f["subject"]["profile"] == HOSTILE_PROFILE),
        "{}",
        json.stdout
    );

    let sarif = f.scan(&["-o", "sarif"]).await;
    assert_eq!(sarif.code, 0, "stderr: {}", sarif.stderr);
    let doc: serde_json::Value = serde_json::from_str(&sarif.stdout).unwrap();
    let names: Vec<&str> = doc["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r["locations"][0]["logicalLocations"].as_array().unwrap())
        .filter_map(|l| l["name"].as_str())
        .collect();
    assert!(names.contains(&HOSTILE_APP), "{names:?}");
}

/// The evidence column reads back to exactly the evidence the JSON output carries, whatever
/// the values hold (`;`, `=`, quotes, newlines).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn csv_evidence_parses_back_exactly() {
    let f = hostile_fixture().await;
    let csv = f.scan(&["-o", "csv"]).await;
    let json = f.scan(&["-o", "json"]).await;
    assert_eq!(csv.code, 0, "stderr: {}", csv.stderr);
    let rows = parse_csv(&csv.stdout);
    let col = rows[0].iter().position(|h| h == "evidence").unwrap();
    let from_csv: Vec<serde_json::Value> = rows[1..]
        .iter()
        .map(|r| serde_json::from_str(&r[col]).unwrap_or_else(|e| panic!("{:?}: {e}", r[col])))
        .collect();
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let from_json: Vec<serde_json::Value> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["evidence"].clone())
        .collect();
    assert_eq!(from_csv, from_json);
    assert!(
        from_json.iter().any(|e| e["profile"] == HOSTILE_PROFILE),
        "the hostile profile name is in the evidence: {from_json:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_allow_host_over_a_whole_top_level_domain_is_warned_about() {
    let f = Fixture::start().await;
    let out = f.scan(&["--allow-host", "*.com", "-o", "json"]).await;
    assert_eq!(out.code, 0, "stderr: {}", out.stderr);
    assert!(
        out.stderr
            .contains("warning: --allow-host *.com allows every host under .com;"),
        "{}",
        out.stderr
    );
    let narrow = f.scan(&["-o", "json"]).await;
    assert!(!narrow.stderr.contains("--allow-host"), "{}", narrow.stderr);
}
