//! Renders scan results for people and tools: a table grouped by severity, JSON, SARIF 2.1.0
//! and CSV. The renderers take a [`Report`], which the CLI builds from the pipeline's results;
//! nothing here does I/O besides returning strings.

mod csv;
pub(crate) mod escape;
mod json;
mod report;
pub mod rules;
mod sarif;
pub mod table;

pub use report::{
    DirectorySummary, ExcludedFinding, FailedIntegration, FailedSource, IntegrationReport,
    Inventory, Report, SkippedRule, Totals,
};

/// The output formats of `idgap scan` and `idgap demo`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Findings grouped by severity, for a terminal.
    Table,
    /// One JSON document with findings, exclusions, skipped rules and inventory.
    Json,
    /// SARIF 2.1.0, for code-scanning dashboards.
    Sarif,
    /// One row per finding (RFC 4180).
    Csv,
}

/// Renders `report` in `format`. The table is plain text; the others are machine-readable.
/// The texts that quote servers (skipped-rule reasons, directory errors) are scrubbed of
/// credential-looking fields first; the CLI's writer redacts known secrets from the result.
pub fn render(report: &Report, format: Format) -> String {
    let report = &report.server_text_scrubbed();
    match format {
        Format::Table => table::render(report),
        Format::Json => json::render(report),
        Format::Sarif => sarif::render(report),
        Format::Csv => csv::render(report),
    }
}

#[cfg(test)]
mod tests {
    use idgap_model::{
        ApiUsage, Category, Evidence, Finding, OrgInfo, RuleId, Severity, Subject, SubjectKind,
    };

    use super::*;

    fn integration(name: &str, findings: Vec<Finding>, users: u64) -> IntegrationReport {
        IntegrationReport {
            name: name.to_string(),
            namespace: "security".to_string(),
            manifest: Some("manifests/acme prod.yaml".into()),
            manifest_line: Some(7),
            org: OrgInfo {
                id: format!("00D{name}"),
                instance_url: "https://acme.my.salesforce.com".to_string(),
                sandbox: false,
                api_version: "v62.0".to_string(),
            },
            findings,
            excluded: Vec::new(),
            skipped: Vec::new(),
            missing_permissions: vec![],
            rules_evaluated: RuleId::ALL.to_vec(),
            inventory: Inventory {
                users,
                active_users: users,
                admins: 1,
                connected_app_grants: 0,
                audit_events: 0,
            },
            api_usage: ApiUsage {
                calls_this_sync: 10,
                used: 100,
                limit: 1000,
            },
            directories: Vec::new(),
        }
    }

    fn low_finding() -> Finding {
        Finding {
            key: "user-not-in-idp:005A".to_string(),
            rule: RuleId::UserNotInIdp,
            severity: Severity::Low,
            category: Category::IdentityGap,
            title: "Title with \"quotes\", and a comma".to_string(),
            subject: Subject {
                kind: Some(SubjectKind::User),
                salesforce_id: Some("005A".to_string()),
                username: Some("ada@acme.com".to_string()),
                ..Subject::default()
            },
            evidence: Evidence::from([("profile".to_string(), "Standard User".to_string())]),
            remediation: "Deactivate.".to_string(),
            occurred_at: None,
        }
    }

    fn two_orgs() -> Report {
        Report {
            integrations: vec![
                integration("a", vec![low_finding()], 5),
                integration("b", Vec::new(), 7),
            ],
            failed: Vec::new(),
        }
    }

    #[test]
    fn json_sums_inventory_and_leaves_org_to_each_integration_when_there_are_several() {
        let doc: serde_json::Value =
            serde_json::from_str(&render(&two_orgs(), Format::Json)).unwrap();
        assert!(doc.get("org").is_none());
        assert_eq!(doc["inventory"]["users"], 12);
        assert_eq!(doc["apiUsage"]["callsThisRun"], 20);
        assert_eq!(doc["integrations"][1]["org"]["id"], "00Db");
        assert_eq!(doc["summary"]["low"], 1);
        assert_eq!(doc["findings"][0]["integration"], "a");
        assert_eq!(doc["findings"][0]["subject"]["type"], "User");
    }

    #[test]
    fn sarif_maps_low_to_note_and_keeps_relative_manifest_paths_relative() {
        let doc: serde_json::Value =
            serde_json::from_str(&render(&two_orgs(), Format::Sarif)).unwrap();
        let result = &doc["runs"][0]["results"][0];
        assert_eq!(result["level"], "note");
        assert_eq!(result["ruleIndex"], 1);
        let physical = &result["locations"][0]["physicalLocation"];
        assert_eq!(
            physical["artifactLocation"]["uri"],
            "manifests/acme%20prod.yaml"
        );
        assert_eq!(physical["region"]["startLine"], 7);
        assert_eq!(
            result["partialFingerprints"]["idgapFindingKey/v2"],
            "security/a/user-not-in-idp:005A"
        );
    }

    #[test]
    fn sarif_fingerprints_differ_between_integrations() {
        let same = Report {
            integrations: vec![
                integration("a", vec![low_finding()], 5),
                integration("b", vec![low_finding()], 5),
            ],
            failed: Vec::new(),
        };
        let doc: serde_json::Value = serde_json::from_str(&render(&same, Format::Sarif)).unwrap();
        let prints: Vec<&serde_json::Value> = doc["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| &r["partialFingerprints"])
            .collect();
        assert_eq!(prints.len(), 2);
        assert_ne!(prints[0], prints[1]);
    }

    #[test]
    fn csv_quotes_titles_with_quotes_and_commas() {
        let csv = render(&two_orgs(), Format::Csv);
        let lines: Vec<&str> = csv.split("\r\n").collect();
        assert_eq!(lines.len(), 3, "header, one row, trailing empty: {csv:?}");
        assert!(
            lines[1].contains(",\"Title with \"\"quotes\"\", and a comma\","),
            "{}",
            lines[1]
        );
    }

    #[test]
    fn table_says_when_an_integration_is_clean() {
        let table = render(&two_orgs(), Format::Table);
        assert!(table.contains("LOW (1)"));
        assert!(table.contains("No findings."));
        assert!(table.contains(
            "9 rules evaluated · 0 findings · 0 excluded · 7 Salesforce users vs 0 IdP accounts in 0 directories · 10 Salesforce API calls"
        ), "{table}");
    }

    #[test]
    fn worst_severity_drives_fail_on() {
        assert_eq!(two_orgs().worst(), Some(Severity::Low));
        assert_eq!(Report::default().worst(), None);
    }
}
