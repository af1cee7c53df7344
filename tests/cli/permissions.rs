//! `idgap scan` on the story org read in other languages, and by an integration user
//! missing a permission.

use idgap_sim::salesforce::{Language, SimOptions};

use super::common::{Fixture, expected_findings};
use super::scan::json_findings;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_story_read_in_german_french_or_japanese_has_the_same_findings() {
    for language in [Language::German, Language::French, Language::Japanese] {
        let f = Fixture::start_with_org(SimOptions::default(), |o| o.language = language).await;
        let out = f.scan(&["--output", "json"]).await;
        assert_eq!(out.code, 0, "{language:?}: {}", out.stderr);
        let doc: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
        assert_eq!(json_findings(&doc), expected_findings(), "{language:?}");
        assert_eq!(doc["inventory"]["admins"], 2, "{language:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_permission_is_printed_with_the_rule_it_skips() {
    let f = Fixture::start_with_org(SimOptions::default(), |o| {
        o.integration_permissions.customize_application = false
    })
    .await;
    // A rule that could not be evaluated makes the scan partial: exit 2 unless accepted.
    let out = f.scan(&[]).await;
    assert_eq!(out.code, 2, "stderr: {}", out.stderr);
    assert!(out.stderr.contains("--allow-partial"), "{}", out.stderr);
    let accepted = f.scan(&["--allow-partial"]).await;
    assert_eq!(accepted.code, 0, "stderr: {}", accepted.stderr);
    assert_eq!(accepted.stdout, out.stdout);
    assert!(
        out.stdout.contains(
            "Missing Salesforce permission: CustomizeApplication (needed by oauthGrants; rules skipped: connected-app-unknown-user)"
        ),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("Not evaluated (1)"), "{}", out.stdout);
}
