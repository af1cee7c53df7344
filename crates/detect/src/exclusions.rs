//! Exclusions: accepted risks from the integration's spec. A matching finding is moved to
//! `Detection::excluded` with the exclusion's reason, so it is counted rather than lost.

use idgap_model::{Finding, RuleId, Timestamp};
use jiff::tz::TimeZone;

use crate::ExcludedFinding;
use crate::policy::Exclusion;

struct Compiled<'p> {
    index: usize,
    rule: Option<RuleId>,
    /// Lower-cased, trimmed patterns.
    patterns: Vec<String>,
    reason: &'p str,
}

/// Exclusions in force at `now`: one whose `expires` day (UTC) has passed no longer applies.
/// An exclusion naming neither a rule nor users would hide everything and is ignored.
fn compile(exclusions: &[Exclusion], now: Timestamp) -> Vec<Compiled<'_>> {
    let today = now.to_zoned(TimeZone::UTC).date();
    exclusions
        .iter()
        .enumerate()
        .filter(|(_, x)| x.expires.is_none_or(|last_day| today <= last_day))
        .filter(|(_, x)| x.rule.is_some() || !x.users.is_empty())
        .map(|(index, x)| Compiled {
            index,
            rule: x.rule,
            patterns: x
                .users
                .iter()
                .map(|p| p.trim().to_lowercase())
                .filter(|p| !p.is_empty())
                .collect(),
            reason: &x.reason,
        })
        .filter(|c| c.rule.is_some() || !c.patterns.is_empty())
        .collect()
}

impl Compiled<'_> {
    fn matches(&self, f: &Finding) -> bool {
        if self.rule.is_some_and(|r| r != f.rule) {
            return false;
        }
        if self.patterns.is_empty() {
            return true;
        }
        let names = [f.subject.username.as_deref(), f.subject.email.as_deref()];
        names.into_iter().flatten().any(|name| {
            let name = name.trim().to_lowercase();
            self.patterns.iter().any(|p| glob_match(p, &name))
        })
    }
}

/// Splits findings into kept and excluded (the first matching exclusion wins).
pub(crate) fn apply(
    findings: Vec<Finding>,
    exclusions: &[Exclusion],
    now: Timestamp,
) -> (Vec<Finding>, Vec<ExcludedFinding>) {
    let compiled = compile(exclusions, now);
    if compiled.is_empty() {
        return (findings, Vec::new());
    }
    let mut kept = Vec::with_capacity(findings.len());
    let mut excluded = Vec::new();
    for f in findings {
        match compiled.iter().find(|c| c.matches(&f)) {
            Some(c) => excluded.push(ExcludedFinding {
                finding: f,
                reason: c.reason.to_string(),
                exclusion: c.index,
            }),
            None => kept.push(f),
        }
    }
    (kept, excluded)
}

/// `*` matches any run of characters (also none), `?` exactly one; everything else itself.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    // Where the last `*` was, and which text position it currently absorbs up to.
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::glob_match;

    #[test]
    fn glob_cases() {
        let cases = [
            ("integration@acme.com", "integration@acme.com", true),
            ("integration@acme.com", "integration@acme.co", false),
            ("*@acme.com", "ada@acme.com", true),
            ("*@acme.com", "ada@acme.com.uat", false),
            ("svc-*@acme.com", "svc-etl@acme.com", true),
            ("svc-*@acme.com", "etl@acme.com", false),
            ("ad?@acme.com", "ada@acme.com", true),
            ("ad?@acme.com", "ad@acme.com", false),
            ("*", "", true),
            ("", "", true),
            ("", "a", false),
            ("a*b*c", "axxbyyc", true),
            ("a*b*c", "axxbyy", false),
            ("**x", "x", true),
        ];
        for (p, t, want) in cases {
            assert_eq!(glob_match(p, t), want, "{p} vs {t}");
        }
    }
}
