use std::path::PathBuf;

use idgap_model::{ApiUsage, Finding, OrgInfo, ProviderKind, RuleId, Severity};

/// Everything one CLI run found, over one or more integrations.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub integrations: Vec<IntegrationReport>,
    /// Integrations whose org could not be read: nothing was evaluated for them, and the
    /// others' results are still reported.
    pub failed: Vec<FailedIntegration>,
}

/// A `SalesforceIntegration` whose org sync failed.
#[derive(Debug, Clone)]
pub struct FailedIntegration {
    pub name: String,
    pub namespace: String,
    pub manifest: Option<PathBuf>,
    pub manifest_line: Option<usize>,
    /// Why the sync failed, one line.
    pub error: String,
}

/// A source that could not be read, as every format names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedSource {
    /// `SalesforceIntegration security/acme-prod` or `IdentityProvider security/okta`.
    pub source: String,
    pub error: String,
    /// The manifest that declared the integration concerned, when there is one.
    pub manifest: Option<PathBuf>,
    pub manifest_line: Option<usize>,
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
    /// Salesforce permissions the integration user lacks, each with what it disables.
    pub missing_permissions: Vec<String>,
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
    /// Turned off in `spec.rules.disabled`: not asked for, so its absence leaves the scan
    /// complete. Every other skipped rule makes the scan partial.
    pub disabled: bool,
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

impl IntegrationReport {
    /// The rules this integration asked for but could not evaluate completely.
    pub fn not_evaluated(&self) -> impl Iterator<Item = &SkippedRule> {
        self.skipped.iter().filter(|s| !s.disabled)
    }
}

impl Report {
    /// True when every integration was read and every rule asked for was evaluated: only
    /// then does the absence of a finding mean it is gone.
    pub fn complete(&self) -> bool {
        self.failed.is_empty()
            && self
                .integrations
                .iter()
                .all(|i| i.not_evaluated().next().is_none())
    }

    /// Every failed org, then every identity provider that could not be read (once, however
    /// many integrations link it).
    pub fn failed_sources(&self) -> Vec<FailedSource> {
        let mut out: Vec<FailedSource> = self
            .failed
            .iter()
            .map(|f| FailedSource {
                source: format!("SalesforceIntegration {}/{}", f.namespace, f.name),
                error: f.error.clone(),
                manifest: f.manifest.clone(),
                manifest_line: f.manifest_line,
            })
            .collect();
        for i in &self.integrations {
            for d in &i.directories {
                let Err(error) = &d.accounts else { continue };
                let source = format!("IdentityProvider {}/{}", i.namespace, d.name);
                if out.iter().all(|f| f.source != source) {
                    out.push(FailedSource {
                        source,
                        error: error.clone(),
                        manifest: i.manifest.clone(),
                        manifest_line: i.manifest_line,
                    });
                }
            }
        }
        out
    }

    /// The same report with every text that may quote a server (skipped-rule reasons,
    /// directory errors) passed through `idgap_net::redact::server_text`.
    pub fn server_text_scrubbed(&self) -> Report {
        let scrub = idgap_net::redact::server_text;
        let mut report = self.clone();
        for f in &mut report.failed {
            f.error = scrub(&f.error);
        }
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
