//! Safety guards: which rules cannot be trusted in this run, and why. A guarded rule is not
//! evaluated, so the caller keeps its earlier findings instead of pruning them.

use idgap_model::{DirectorySnapshot, OrgSnapshot};

use crate::DirectoryInput;

/// Reasons the linked directories cannot be trusted (empty when all are fine), sorted so
/// the message does not depend on the order of the directories.
pub(crate) fn directory_problems(
    directories: &[DirectoryInput<'_>],
    shrink_threshold: f64,
) -> Vec<String> {
    if directories.is_empty() {
        return vec![
            "no identity provider is linked, so every user would look missing".to_string(),
        ];
    }
    let mut problems: Vec<String> = directories
        .iter()
        .filter_map(|d| {
            let label = format!("identity provider `{}` ({})", d.name, d.provider.label());
            match d.result {
                Err(why) => Some(format!("{label} sync failed: {why}")),
                Ok(snap) => snapshot_problem(snap, d.last_good_accounts, shrink_threshold)
                    .map(|p| format!("{label} {p}")),
            }
        })
        .collect();
    problems.sort();
    problems.dedup();
    problems
}

fn snapshot_problem(
    snap: &DirectorySnapshot,
    last_good: Option<usize>,
    threshold: f64,
) -> Option<String> {
    let now = snap.accounts.len();
    if now == 0 {
        return Some("returned no accounts".to_string());
    }
    let before = last_good.filter(|n| *n > 0)?;
    if now >= before {
        return None;
    }
    let lost = (before - now) as f64 / before as f64;
    // NaN or a negative threshold would disable the guard; treat them as 0.5.
    let threshold = if threshold.is_finite() && threshold >= 0.0 {
        threshold
    } else {
        0.5
    };
    (lost > threshold).then(|| {
        format!(
            "returned {now} accounts, {:.0}% fewer than the last good sync ({before}); more than the {:.0}% allowed",
            lost * 100.0,
            threshold * 100.0
        )
    })
}

/// The reason a Salesforce collector was not read completely, if it was not.
pub(crate) fn collector_gap(org: &OrgSnapshot, collector: &str) -> Option<String> {
    if org.has(collector) {
        return None;
    }
    let reasons: Vec<&str> = org
        .gaps
        .iter()
        .filter(|g| g.collector == collector)
        .map(|g| g.reason.as_str())
        .collect();
    Some(format!(
        "Salesforce collector `{collector}` was not read completely: {}",
        reasons.join("; ")
    ))
}
