//! Turning identifiers from both sides into one comparable form: trimmed, lower-cased,
//! without the sandbox `.invalid` email suffix, and with aliased domains replaced by one
//! canonical domain.

use std::collections::BTreeMap;

use crate::hash::FastMap;

const INVALID_SUFFIX: &str = ".invalid";

/// Normalises identifiers into matching keys; built once per detection run.
#[derive(Debug, Default)]
pub(crate) struct Normalizer {
    /// Every aliased domain (lower-case) to the canonical domain of its class: the
    /// alphabetically smallest, so the choice does not depend on the order of the pairs.
    canonical_domain: FastMap<String, String>,
}

impl Normalizer {
    pub(crate) fn new(domain_aliases: &[(String, String)]) -> Self {
        let clean = |d: &str| d.trim().trim_start_matches('@').to_lowercase();
        // Union-find over the domains named in the pairs.
        let mut parent: BTreeMap<String, String> = BTreeMap::new();
        fn root(parent: &BTreeMap<String, String>, mut d: String) -> String {
            while let Some(p) = parent.get(&d) {
                if *p == d {
                    break;
                }
                d = p.clone();
            }
            d
        }
        for (a, b) in domain_aliases {
            let (a, b) = (clean(a), clean(b));
            if a.is_empty() || b.is_empty() {
                continue;
            }
            parent.entry(a.clone()).or_insert_with(|| a.clone());
            parent.entry(b.clone()).or_insert_with(|| b.clone());
            let (ra, rb) = (root(&parent, a), root(&parent, b));
            if ra != rb {
                // The smaller name becomes the root, so the root is the class minimum.
                let (small, large) = if ra < rb { (ra, rb) } else { (rb, ra) };
                parent.insert(large, small);
            }
        }
        let mut canonical_domain = FastMap::default();
        for d in parent.keys() {
            let r = root(&parent, d.clone());
            if r != *d {
                canonical_domain.insert(d.clone(), r);
            }
        }
        Normalizer { canonical_domain }
    }

    /// Writes the matching key for `raw` into `out` (a reused buffer); false when blank.
    pub(crate) fn key_into(&self, raw: &str, out: &mut String) -> bool {
        out.clear();
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return false;
        }
        if trimmed.is_ascii() {
            out.push_str(trimmed);
            out.make_ascii_lowercase();
        } else {
            out.push_str(&trimmed.to_lowercase());
        }
        if let Some(len) = without_invalid_suffix(out) {
            out.truncate(len);
        }
        if let Some(canonical) = self.canonical_for(out) {
            let at = out.rfind('@').map_or(0, |i| i + 1);
            out.truncate(at);
            out.push_str(canonical);
        }
        true
    }

    fn canonical_for(&self, key: &str) -> Option<&str> {
        if self.canonical_domain.is_empty() {
            return None;
        }
        let at = key.rfind('@')?;
        self.canonical_domain
            .get(&key[at + 1..])
            .map(String::as_str)
    }
}

/// The length of `key` without a trailing `.invalid` (Salesforce appends it to emails
/// when a sandbox is created), when there is one and something remains.
fn without_invalid_suffix(key: &str) -> Option<usize> {
    (key.len() > INVALID_SUFFIX.len() && key.ends_with(INVALID_SUFFIX))
        .then(|| key.len() - INVALID_SUFFIX.len())
}

/// The username forms tried besides the username itself, as prefix lengths of the
/// lower-cased, trimmed username (removing a suffix always leaves a prefix):
/// - each configured suffix the username ends with, when an `@` with a domain remains;
/// - in a sandbox org, the last domain label when the domain has at least three labels
///   and that label looks like a sandbox name (1–10 ASCII letters and digits, starting
///   with a letter), e.g. `ada@acme.com.uat` → `ada@acme.com`.
pub(crate) fn username_cuts(
    lower: &str,
    sandbox: bool,
    suffixes: &[String],
    cuts: &mut Vec<usize>,
) {
    cuts.clear();
    let Some(at) = lower.rfind('@') else { return };
    for suffix in suffixes {
        if lower.len() > suffix.len() && lower.ends_with(suffix.as_str()) {
            let cut = lower.len() - suffix.len();
            if cut > at + 1 && !cuts.contains(&cut) {
                cuts.push(cut);
            }
        }
    }
    if sandbox {
        let domain = &lower[at + 1..];
        if domain.split('.').count() >= 3
            && let Some(dot) = domain.rfind('.')
        {
            let label = &domain[dot + 1..];
            let looks_like_sandbox = (1..=10).contains(&label.len())
                && label.as_bytes()[0].is_ascii_alphabetic()
                && label.bytes().all(|b| b.is_ascii_alphanumeric());
            let cut = at + 1 + dot;
            if looks_like_sandbox && !cuts.contains(&cut) {
                cuts.push(cut);
            }
        }
    }
}

/// Lower-cased, trimmed, non-empty configured suffixes, with a leading dot added when
/// missing (`uat` and `.uat` mean the same).
pub(crate) fn clean_suffixes(raw: &[String]) -> Vec<String> {
    let mut out: Vec<String> = raw
        .iter()
        .map(|s| s.trim().to_lowercase())
        .filter(|s| !s.is_empty() && s != ".")
        .map(|s| {
            if s.starts_with('.') {
                s
            } else {
                format!(".{s}")
            }
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(pairs: &[(&str, &str)]) -> Normalizer {
        Normalizer::new(
            &pairs
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect::<Vec<_>>(),
        )
    }

    fn key(n: &Normalizer, raw: &str) -> Option<String> {
        let mut out = String::new();
        n.key_into(raw, &mut out).then_some(out)
    }

    #[test]
    fn key_trims_lowercases_and_strips_invalid() {
        let n = norm(&[]);
        assert_eq!(
            key(&n, "  Ada@Acme.COM.invalid ").as_deref(),
            Some("ada@acme.com")
        );
        assert_eq!(key(&n, "ada@acme.com").as_deref(), Some("ada@acme.com"));
        assert_eq!(key(&n, "ÅSA@ACME.COM").as_deref(), Some("åsa@acme.com"));
        assert_eq!(key(&n, "   "), None);
        assert_eq!(key(&n, ".invalid").as_deref(), Some(".invalid"));
    }

    #[test]
    fn aliases_form_classes_with_the_smallest_domain_as_canonical() {
        let n = norm(&[("acme.io", "acme.com"), ("ACME.co.uk", "@acme.io")]);
        for raw in [
            "ada@acme.io",
            "ada@acme.com",
            "Ada@Acme.Co.Uk",
            "ada@acme.io.invalid",
        ] {
            assert_eq!(key(&n, raw).as_deref(), Some("ada@acme.co.uk"), "{raw}");
        }
        assert_eq!(key(&n, "ada@other.com").as_deref(), Some("ada@other.com"));
        assert_eq!(
            key(&n, "acme.io").as_deref(),
            Some("acme.io"),
            "no @, no domain"
        );
    }

    #[test]
    fn username_cuts_cover_configured_and_sandbox_suffixes() {
        let mut cuts = Vec::new();
        let u = "ada@acme.com.uat";
        username_cuts(u, true, &[], &mut cuts);
        assert_eq!(
            cuts.iter().map(|c| &u[..*c]).collect::<Vec<_>>(),
            ["ada@acme.com"]
        );
        username_cuts(u, false, &[], &mut cuts);
        assert!(cuts.is_empty());
        username_cuts(u, false, &clean_suffixes(&["UAT".into()]), &mut cuts);
        assert_eq!(
            cuts.iter().map(|c| &u[..*c]).collect::<Vec<_>>(),
            ["ada@acme.com"]
        );
        // Two labels only: nothing to strip; a long or numeric-first label is not a sandbox name.
        username_cuts("ada@acme.com", true, &[], &mut cuts);
        assert!(cuts.is_empty());
        username_cuts("ada@acme.com.fullcopy2025x", true, &[], &mut cuts);
        assert!(cuts.is_empty());
        username_cuts("ada@acme.com.1dev", true, &[], &mut cuts);
        assert!(cuts.is_empty());
        // A suffix that would leave no domain is not applied.
        username_cuts(
            "ada@.uat",
            false,
            &clean_suffixes(&[".uat".into()]),
            &mut cuts,
        );
        assert!(cuts.is_empty());
    }
}
