//! `idgap demo`: the built-in story org and its directories served by the simulators on
//! loopback, then the real path — manifests → resolve → sync over HTTP → detect → print.
//! Nothing is mocked between the manifests and the findings.

pub mod sims;
pub mod story;

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use idgap_net::{HostPolicy, Http, RetryPolicy};
use jiff::Timestamp;

use crate::cli::manifests::Manifests;
use crate::cli::{DemoArgs, build_report, finish};
use crate::output::{self, Format, Report};

pub use sims::{Scenario, Sims};

pub async fn run(args: DemoArgs) -> anyhow::Result<ExitCode> {
    let now = Timestamp::now();
    let (sims, story) = Sims::start_story(now).await?;
    eprintln!(
        "idgap demo: simulated Salesforce org at {}, Okta at {} and Entra ID at {} (loopback only).",
        sims.salesforce.base_url(),
        sims.okta.base_url(),
        sims.entra.base_url(),
    );
    let mut manifests = Manifests::default();
    manifests.add_text(Path::new("demo.yaml"), &sims.manifests("demo", now))?;
    let http = Http::new(
        HostPolicy::vendors_only().allow(["127.0.0.1"])?,
        RetryPolicy::quick(),
        Duration::from_secs(30),
    );
    let mut outcome = build_report(&manifests, &[], &http, now).await?;
    // The manifests live in memory: no file to point SARIF at.
    for i in &mut outcome.report.integrations {
        i.manifest = None;
        i.manifest_line = None;
    }
    let report = &outcome.report;
    let not_flagged = not_flagged(report, &story);
    let rendered = match args.out.output {
        Format::Table => {
            with_not_flagged_section(output::render(report, Format::Table), &not_flagged)
        }
        Format::Json => {
            let mut doc: serde_json::Value =
                serde_json::from_str(&output::render(report, Format::Json))?;
            doc["notFlagged"] = not_flagged
                .iter()
                .map(|n| serde_json::json!({"user": n.user, "why": n.why, "flagged": n.flagged}))
                .collect::<Vec<_>>()
                .into();
            format!("{}\n", serde_json::to_string_pretty(&doc)?)
        }
        other => output::render(report, other),
    };
    crate::cli::emit::stdout(&rendered)?;
    for w in &outcome.warnings {
        crate::cli::emit::error_line(&format!("warning: {w}"));
    }
    if let Some(wrong) = not_flagged.iter().find(|n| n.flagged) {
        anyhow::bail!(
            "demo story broken: {} was flagged but should not be",
            wrong.user
        );
    }
    // The demo evaluates all nine rules; if it ever could not, it says so like a scan.
    Ok(finish(report, args.out.fail_on, false))
}

/// One "correctly not flagged" line, checked against the actual findings.
pub struct NotFlaggedLine {
    pub user: String,
    pub why: String,
    /// True when a finding names this user after all (the story would be wrong).
    pub flagged: bool,
}

fn not_flagged(report: &Report, story: &story::Story) -> Vec<NotFlaggedLine> {
    let mut lines = Vec::new();
    for i in &report.integrations {
        for e in &i.excluded {
            lines.push(NotFlaggedLine {
                user: e.finding.subject.label(),
                why: format!(
                    "{} is excluded: \"{}\"{}",
                    e.finding.rule.as_str(),
                    e.reason,
                    e.expires
                        .as_ref()
                        .map(|d| format!(" (until {d})"))
                        .unwrap_or_default()
                ),
                flagged: false,
            });
        }
    }
    for n in &story.not_flagged {
        let flagged = report.findings().any(|(_, f)| {
            f.subject
                .username
                .as_deref()
                .is_some_and(|u| u.eq_ignore_ascii_case(&n.username))
        });
        lines.push(NotFlaggedLine {
            user: n.username.clone(),
            why: n.why.clone(),
            flagged,
        });
    }
    lines
}

/// Puts "Not flagged" before the table's closing summary line.
fn with_not_flagged_section(table: String, lines: &[NotFlaggedLine]) -> String {
    let trimmed = table.trim_end_matches('\n');
    let (body, summary) = trimmed.rsplit_once('\n').unwrap_or(("", trimmed));
    let mut out = String::from(body);
    out.push_str(&format!("\nNot flagged ({}), correctly:\n", lines.len()));
    let width = lines
        .iter()
        .map(|l| l.user.chars().count())
        .max()
        .unwrap_or(0);
    for l in lines {
        let mark = if l.flagged {
            "  UNEXPECTEDLY FLAGGED"
        } else {
            ""
        };
        out.push_str(&format!("  {:width$}  {}{mark}\n", l.user, l.why));
    }
    out.push('\n');
    out.push_str(summary);
    out.push('\n');
    out
}
