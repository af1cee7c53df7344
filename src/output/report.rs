use std::path::PathBuf;

use idgap_model::{ApiUsage, Finding, OrgInfo, ProviderKind, RuleId, Severity};

/// Everything one CLI run found, over one or more integrations.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub integrations: Vec<IntegrationReport>,
}

/// The results for one `SalesforceIntegration`.
#[derive(Debug, Clone)]
pub struct IntegrationReport {
    pub name: String,
    pub namespace: String,
    /// The manifest file that declared the integration (none for the demo's embedded one).
    pub manifest: Option<PathBuf>,
    /// 1-based line where the integration's YAML document starts in `manifest`.
    pub manifest_line: Option<usize>,
    pub org: OrgInfo,
    pub findings: Vec<Finding>,
    pub excluded: Vec<ExcludedFinding>,
    pub skipped: Vec<SkippedRule>,
    pub rules_evaluated: Vec<RuleId>,
    pub inventory: Inventory,
    pub api_usage: ApiUsage,
    pub directories: Vec<DirectorySummary>,
}

/// A finding an exclusion suppressed, with the exclusion's reason.
#[derive(Debug, Clone)]
pub struct ExcludedFinding {
    pub finding: Finding,
    pub reason: String,
    pub expires: Option<String>,
}

/// A rule that was not evaluated, and why (its earlier findings would be kept).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedRule {
    pub rule: String,
    pub reason: String,
}

/// What was read from the org, in counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Inventory {
    pub users: u64,
    pub active_users: u64,
    pub admins: u64,
    pub connected_app_grants: u64,
    pub audit_events: u64,
}

/// One linked identity provider as read for this scan.
#[derive(Debug, Clone)]
pub struct DirectorySummary {
    pub name: String,
    pub provider: ProviderKind,
    /// Accounts read, or the reason the directory could not be read.
    pub accounts: Result<usize, String>,
    pub requests: u64,
}

/// Finding counts per severity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    pub critical: usize,
    pub high: usize,
    pub medium: usize,
    pub low: usize,
    pub excluded: usize,
}

impl Totals {
    pub fn total(&self) -> usize {
        self.critical + self.high + self.medium + self.low
    }

    pub fn count(&self, severity: Severity) -> usize {
        match severity {
            Severity::Critical => self.critical,
            Severity::High => self.high,
            Severity::Medium => self.medium,
            Severity::Low => self.low,
        }
    }

    fn add(&mut self, finding: &Finding) {
        match finding.severity {
            Severity::Critical => self.critical += 1,
            Severity::High => self.high += 1,
            Severity::Medium => self.medium += 1,
            Severity::Low => self.low += 1,
        }
    }
}

impl IntegrationReport {
    pub fn totals(&self) -> Totals {
        let mut t = Totals {
            excluded: self.excluded.len(),
            ..Totals::default()
        };
        self.findings.iter().for_each(|f| t.add(f));
        t
    }
}

impl Report {
    /// The same report with every text that may quote a server (skipped-rule reasons,
    /// directory errors) passed through `idgap_net::redact::server_text`.
    pub fn server_text_scrubbed(&self) -> Report {
        let scrub = idgap_net::redact::server_text;
        let mut report = self.clone();
        for i in &mut report.integrations {
            for s in &mut i.skipped {
                s.reason = scrub(&s.reason);
            }
            for d in &mut i.directories {
                if let Err(e) = &mut d.accounts {
                    *e = scrub(e);
                }
            }
        }
        report
    }

    pub fn totals(&self) -> Totals {
        let mut t = Totals::default();
        for i in &self.integrations {
            i.findings.iter().for_each(|f| t.add(f));
            t.excluded += i.excluded.len();
        }
        t
    }

    /// The most severe finding's severity, if any finding exists.
    pub fn worst(&self) -> Option<Severity> {
        self.integrations
            .iter()
            .flat_map(|i| &i.findings)
            .map(|f| f.severity)
            .min()
    }

    /// Every finding with the integration it belongs to.
    pub fn findings(&self) -> impl Iterator<Item = (&IntegrationReport, &Finding)> {
        self.integrations
            .iter()
            .flat_map(|i| i.findings.iter().map(move |f| (i, f)))
    }
}
