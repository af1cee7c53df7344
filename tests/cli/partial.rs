//! Incomplete scans say so in every format and exit 2: an org that could not be read does
//! not hide the others' results, and a rule that was asked for but not evaluated is not
//! mistaken for a rule that found nothing.

use crate::common::{Fixture, assert_no_secret, fixture, strings};

const WRONG_TOKEN: &str = "5Aep861wrongRefreshTokenForEu";

/// A second integration on the same org whose refresh token the simulator refuses.
fn failing_second_integration(f: &Fixture) {
    let integration = f
        .fill(&fixture("integration.yaml"), "")
        .replace("name: acme-prod", "name: acme-eu")
        .replace("name: sf-acme,", "name: sf-eu,");
    f.write("integration-eu.yaml", &integration);
    let creds = f.salesforce.credentials();
    f.write(
        "secrets-eu.yaml",
        &format!(
            "apiVersion: v1\nkind: Secret\nmetadata: {{name: sf-eu, namespace: security}}\nstringData:\n  client_id: \"{}\"\n  client_secret: \"{}\"\n  refresh_token: \"{WRONG_TOKEN}\"\n",
            creds.client_id, creds.client_secret
        ),
    );
}

fn secrets(f: &Fixture) -> Vec<String> {
    let mut s = f.secret_values();
    s.push(WRONG_TOKEN.to_string());
    s
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_failed_org_does_not_hide_the_others_in_any_format() {
    let f = Fixture::start().await;
    failing_second_integration(&f);

    let json = f.scan(&["-o", "json"]).await;
    assert_eq!(json.code, 2, "stderr: {}", json.stderr);
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(doc["complete"], false);
    assert_eq!(
        doc["summary"]["total"], 13,
        "acme-prod's findings are all there"
    );
    assert_eq!(doc["integrations"][0]["name"], "acme-prod");
    let failed = doc["failedIntegrations"].as_array().unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["name"], "acme-eu");
    assert!(!failed[0]["error"].as_str().unwrap().is_empty());
    assert!(
        json.stderr
            .contains("SalesforceIntegration security/acme-eu could not be read")
    );
    assert_eq!(json.stderr.trim_end().lines().count(), 1, "{}", json.stderr);

    let table = f.scan(&[]).await;
    assert_eq!(table.code, 2);
    assert!(table.stdout.contains("CRITICAL (2)"), "{}", table.stdout);
    assert!(
        table.stdout.contains(
            "acme-eu (namespace security)\n  NOT SCANNED: the Salesforce org could not be read:"
        ),
        "{}",
        table.stdout
    );

    let sarif = f.scan(&["-o", "sarif"]).await;
    assert_eq!(sarif.code, 2);
    let doc: serde_json::Value = serde_json::from_str(&sarif.stdout).unwrap();
    crate::common::assert_valid_sarif(&doc);
    assert_eq!(doc["runs"][0]["results"].as_array().unwrap().len(), 13);
    let invocation = &doc["runs"][0]["invocations"][0];
    assert_eq!(invocation["executionSuccessful"], false);
    let notes = invocation["toolExecutionNotifications"].as_array().unwrap();
    assert!(
        notes.iter().any(|n| n["level"] == "error"
            && n["descriptor"]["id"] == "source-not-read"
            && n["message"]["text"]
                .as_str()
                .unwrap()
                .starts_with("SalesforceIntegration security/acme-eu could not be read")),
        "{notes:?}"
    );

    // The CSV's rows are findings: the others' are there, the failure is the exit code and
    // the line on stderr.
    let csv = f.scan(&["-o", "csv"]).await;
    assert_eq!(csv.code, 2);
    assert_eq!(crate::common::parse_csv(&csv.stdout).len(), 14);
    assert!(csv.stderr.contains("security/acme-eu"), "{}", csv.stderr);

    for out in [&json, &table, &sarif, &csv] {
        assert_no_secret(&out.stdout, &secrets(&f));
        assert_no_secret(&out.stderr, &secrets(&f));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_identity_provider_linked_is_a_partial_scan_in_every_format() {
    let f = Fixture::start().await;
    let integration = f.fill(&fixture("integration.yaml"), "").replace(
        "  identityProviderRefs:\n    - name: okta\n    - name: entra\n",
        "",
    );
    assert!(!integration.contains("identityProviderRefs"));
    f.write("integration.yaml", &integration);
    let idp_rules = [
        "admin-not-in-idp",
        "user-not-in-idp",
        "stale-active-user",
        "connected-app-unknown-user",
    ];

    let sarif = f.scan(&["-o", "sarif"]).await;
    assert_eq!(sarif.code, 2, "stderr: {}", sarif.stderr);
    assert!(sarif.stderr.contains("--allow-partial"), "{}", sarif.stderr);
    let doc: serde_json::Value = serde_json::from_str(&sarif.stdout).unwrap();
    crate::common::assert_valid_sarif(&doc);
    let invocation = &doc["runs"][0]["invocations"][0];
    assert_eq!(invocation["executionSuccessful"], false);
    let notes = invocation["toolExecutionNotifications"].as_array().unwrap();
    for rule in idp_rules {
        let note = notes
            .iter()
            .find(|n| n["associatedRule"]["id"] == rule)
            .unwrap_or_else(|| panic!("no notification for {rule}: {notes:?}"));
        assert_eq!(note["level"], "error");
        assert_eq!(note["descriptor"]["id"], "rule-not-evaluated");
        let index = note["associatedRule"]["index"].as_u64().unwrap() as usize;
        assert_eq!(doc["runs"][0]["tool"]["driver"]["rules"][index]["id"], rule);
    }
    let descriptors = doc["runs"][0]["tool"]["driver"]["notifications"]
        .as_array()
        .unwrap();
    for n in notes {
        let i = n["descriptor"]["index"].as_u64().unwrap() as usize;
        assert_eq!(descriptors[i]["id"], n["descriptor"]["id"]);
    }

    let json = f.scan(&["-o", "json"]).await;
    assert_eq!(json.code, 2);
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(doc["complete"], false);
    assert_eq!(doc["integrations"][0]["complete"], false);
    let skipped: Vec<&str> = strings(&doc["skippedRules"], "rule");
    assert_eq!(skipped, idp_rules);

    let table = f.scan(&[]).await;
    assert_eq!(table.code, 2);
    assert!(
        table.stdout.contains(&format!(
            "Not evaluated (4)\n  {}  — no identity provider is linked",
            idp_rules.join(", ")
        )),
        "{}",
        table.stdout
    );

    // Accepting a partial scan: the exit code follows --fail-on again, the gaps stay reported.
    let accepted = f.scan(&["-o", "sarif", "--allow-partial"]).await;
    assert_eq!(accepted.code, 0, "stderr: {}", accepted.stderr);
    assert!(
        accepted.stderr.starts_with("warning: incomplete scan"),
        "{}",
        accepted.stderr
    );
    let doc: serde_json::Value = serde_json::from_str(&accepted.stdout).unwrap();
    assert_eq!(
        doc["runs"][0]["invocations"][0]["executionSuccessful"],
        false
    );
    let failing = f
        .scan(&["-o", "csv", "--allow-partial", "--fail-on", "high"])
        .await;
    assert_eq!(failing.code, 1, "stderr: {}", failing.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disabled_rule_was_not_asked_for_so_the_scan_stays_complete() {
    let f = Fixture::start().await;
    let integration = f.fill(
        &fixture("integration.yaml"),
        "    disabled: [session-ip-not-enforced]",
    );
    f.write("integration.yaml", &integration);
    let out = f.scan(&["-o", "sarif"]).await;
    assert_eq!(out.code, 0, "stderr: {}", out.stderr);
    let doc: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let invocation = &doc["runs"][0]["invocations"][0];
    assert_eq!(invocation["executionSuccessful"], true);
    let notes = invocation["toolExecutionNotifications"].as_array().unwrap();
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert_eq!(notes[0]["level"], "note");
    assert_eq!(notes[0]["associatedRule"]["id"], "session-ip-not-enforced");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_identity_provider_is_explained_once_in_the_table() {
    let f = Fixture::start().await;
    let wrong = f
        .fill(&fixture("secrets.yaml"), "")
        .replace(crate::common::OKTA_TOKEN, "00wrong-token");
    f.write("secrets.yaml", &wrong);
    let out = f.scan(&[]).await;
    assert_eq!(out.code, 2, "stderr: {}", out.stderr);
    assert_eq!(
        out.stdout.matches("sync failed").count(),
        1,
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("okta (Okta, NOT READ: see Not evaluated)"),
        "{}",
        out.stdout
    );
    assert_eq!(
        out.stderr.matches("could not be read").count(),
        1,
        "{}",
        out.stderr
    );
}
