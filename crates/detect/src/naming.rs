//! Kubernetes object names for findings.

use idgap_model::Finding;
use sha2::{Digest, Sha256};

const MAX_NAME: usize = 253;

/// `<integration>-<rule>-<first 8 hex of sha256(key)>`: deterministic, so the same finding
/// keeps the same `AccessFinding` object across syncs; a lower-case DNS-1123 subdomain of at
/// most 253 characters. Characters a name cannot hold become `-`, and the integration part
/// is shortened when the whole would be too long.
pub fn finding_name(integration: &str, finding: &Finding) -> String {
    let digest = Sha256::digest(finding.key.as_bytes());
    let tail = format!("{}-{}", finding.rule.as_str(), &hex::encode(digest)[..8]);
    let mut prefix = sanitize(integration);
    let room = MAX_NAME - tail.len() - 1;
    if prefix.len() > room {
        prefix.truncate(room);
        prefix = prefix.trim_end_matches(['-', '.']).to_string();
    }
    if prefix.is_empty() {
        tail
    } else {
        format!("{prefix}-{tail}")
    }
}

/// Lower-case ASCII letters, digits, `-`, and `.` only between two letters or digits.
fn sanitize(raw: &str) -> String {
    let chars: Vec<char> = raw.trim().chars().map(|c| c.to_ascii_lowercase()).collect();
    let alnum = |c: Option<&char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    let mut out = String::with_capacity(chars.len());
    for (i, c) in chars.iter().enumerate() {
        let keep = match c {
            'a'..='z' | '0'..='9' | '-' => *c,
            '.' if alnum(i.checked_sub(1).and_then(|j| chars.get(j)))
                && alnum(chars.get(i + 1)) =>
            {
                '.'
            }
            _ => '-',
        };
        out.push(keep);
    }
    out.trim_matches(['-', '.']).to_string()
}
