/// Normalises an email-like identifier for matching: trimmed and lower-cased.
///
/// Provider-specific clean-up (Graph's `smtp:` prefix, Salesforce sandbox suffixes) happens
/// where the value is read; this is the one rule every identifier shares.
pub fn normalize_identifier(raw: &str) -> String {
    raw.trim().to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_and_lowercases() {
        assert_eq!(
            normalize_identifier("  Ada@Example.COM "),
            "ada@example.com"
        );
    }
}
