//! `--output table`: findings grouped by severity, then exclusions, skipped rules and a
//! one-line summary per integration. Plain text without colour so it pastes cleanly; every
//! value that comes from a manifest or a server goes through [`visible`], so none can move the
//! cursor, recolour the terminal or forge a line.

use std::fmt::Write;

use idgap_model::{Finding, Severity};

use super::escape::visible;
use super::report::{IntegrationReport, Report};

pub fn render(report: &Report) -> String {
    let mut out = String::new();
    if report.integrations.is_empty() && report.failed.is_empty() {
        out.push_str("No SalesforceIntegration in the manifests: nothing to scan.\n");
    }
    for (n, i) in report.integrations.iter().enumerate() {
        if n > 0 {
            out.push('\n');
        }
        integration(&mut out, i);
    }
    for f in &report.failed {
        if !out.is_empty() {
            out.push('\n');
        }
        heading(&mut out, &f.name, &f.namespace);
        let _ = writeln!(
            out,
            "  NOT SCANNED: the Salesforce org could not be read: {}",
            visible(&f.error)
        );
    }
    out
}

/// The first line of an integration's block, scanned or not.
fn heading(out: &mut String, name: &str, namespace: &str) {
    let _ = writeln!(out, "{} (namespace {})", visible(name), visible(namespace));
}

fn integration(out: &mut String, i: &IntegrationReport) {
    let env = if i.org.sandbox {
        "sandbox"
    } else {
        "production"
    };
    heading(out, &i.name, &i.namespace);
    let _ = writeln!(
        out,
        "  org {} · {} · {} · API {}",
        visible(&i.org.id),
        visible(&i.org.instance_url),
        env,
        visible(&i.org.api_version)
    );
    if !i.directories.is_empty() {
        let dirs: Vec<String> = i
            .directories
            .iter()
            .map(|d| match &d.accounts {
                Ok(n) => format!(
                    "{} ({}, {} accounts)",
                    visible(&d.name),
                    d.provider.label(),
                    thousands(*n as u64)
                ),
                // The guards name the failure in "Not evaluated": say it there, once.
                Err(_) if i.not_evaluated().next().is_some() => format!(
                    "{} ({}, NOT READ: see Not evaluated)",
                    visible(&d.name),
                    d.provider.label()
                ),
                Err(e) => format!(
                    "{} ({}, NOT READ: {})",
                    visible(&d.name),
                    d.provider.label(),
                    visible(&e.to_string())
                ),
            })
            .collect();
        let _ = writeln!(out, "  identity providers: {}", dirs.join(", "));
    }
    out.push('\n');

    if i.findings.is_empty() {
        out.push_str("No findings.\n\n");
    }
    for severity in Severity::ALL {
        let group: Vec<&Finding> = i
            .findings
            .iter()
            .filter(|f| f.severity == severity)
            .collect();
        if group.is_empty() {
            continue;
        }
        let _ = writeln!(
            out,
            "{} ({})",
            severity.as_str().to_uppercase(),
            group.len()
        );
        let rule_w = group
            .iter()
            .map(|f| f.rule.as_str().len())
            .max()
            .unwrap_or(0);
        let subj_w = group
            .iter()
            .map(|f| visible(&f.subject.label()).chars().count())
            .max()
            .unwrap_or(0)
            .min(56);
        for f in group {
            let _ = writeln!(
                out,
                "  {:rule_w$}  {:subj_w$}  {}",
                f.rule.as_str(),
                visible(&f.subject.label()),
                detail(f),
            );
        }
        out.push('\n');
    }

    if !i.excluded.is_empty() {
        let _ = writeln!(out, "Excluded ({})", i.excluded.len());
        for e in &i.excluded {
            let expires = e
                .expires
                .as_ref()
                .map(|d| format!(" (until {})", visible(d)))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "  {}  {}  — {}{}",
                e.finding.rule.as_str(),
                visible(&e.finding.subject.label()),
                visible(&e.reason),
                expires
            );
        }
        out.push('\n');
    }
    if !i.skipped.is_empty() {
        let _ = writeln!(out, "Not evaluated ({})", i.skipped.len());
        // Rules skipped for the same reason (the four IdP rules when a directory failed)
        // share one line, so the reason is said once.
        let mut groups: Vec<(&str, Vec<&str>)> = Vec::new();
        for s in &i.skipped {
            match groups.iter_mut().find(|(reason, _)| *reason == s.reason) {
                Some((_, rules)) => rules.push(&s.rule),
                None => groups.push((&s.reason, vec![&s.rule])),
            }
        }
        for (reason, rules) in groups {
            let _ = writeln!(
                out,
                "  {}  — {}",
                visible(&rules.join(", ")),
                visible(reason)
            );
        }
        out.push('\n');
    }
    for m in &i.missing_permissions {
        let _ = writeln!(out, "Missing Salesforce permission: {}", visible(m));
    }
    let _ = writeln!(out, "{}", summary_line(i));
}

/// The title, plus the one piece of evidence that says most, and the time for events.
fn detail(f: &Finding) -> String {
    let mut d = visible(&f.title).into_owned();
    if let Some(t) = f.occurred_at {
        let _ = write!(d, " at {}", t.strftime("%Y-%m-%d %H:%M UTC"));
    }
    for key in ["grantedBy", "matchedAccount1", "app", "display"] {
        if let Some(v) = f.evidence.get(key) {
            let _ = write!(d, " [{key}: {}]", visible(v));
            break;
        }
    }
    d
}

/// "9 rules evaluated · 14 findings (3 critical, 7 high, 4 medium) · 2 excluded · …"
pub fn summary_line(i: &IntegrationReport) -> String {
    let t = i.totals();
    let mut parts = vec![format!("{} rules evaluated", i.rules_evaluated.len())];
    let by_severity: Vec<String> = Severity::ALL
        .into_iter()
        .filter(|s| t.count(*s) > 0)
        .map(|s| format!("{} {}", t.count(s), s.as_str()))
        .collect();
    let mut findings = format!("{} finding{}", t.total(), plural(t.total()));
    if !by_severity.is_empty() {
        let _ = write!(findings, " ({})", by_severity.join(", "));
    }
    parts.push(findings);
    parts.push(format!("{} excluded", t.excluded));
    if !i.skipped.is_empty() {
        parts.push(format!("{} skipped", i.skipped.len()));
    }
    let accounts: usize = i
        .directories
        .iter()
        .filter_map(|d| d.accounts.as_ref().ok())
        .sum();
    parts.push(format!(
        "{} Salesforce users vs {} IdP accounts in {} director{}",
        thousands(i.inventory.users),
        thousands(accounts as u64),
        i.directories.len(),
        if i.directories.len() == 1 { "y" } else { "ies" }
    ));
    parts.push(format!(
        "{} Salesforce API call{}",
        thousands(i.api_usage.calls_this_sync),
        plural(i.api_usage.calls_this_sync as usize)
    ));
    parts.join(" · ")
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// 12000 → "12,000".
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (k, c) in s.chars().enumerate() {
        if k > 0 && (s.len() - k).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::thousands;

    #[test]
    fn groups_thousands() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(12000), "12,000");
        assert_eq!(thousands(1234567), "1,234,567");
    }
}
