//! `--output csv`: a header row, then one row per finding, quoted per RFC 4180 (CRLF line
//! ends; a field with a comma, quote, CR or LF is quoted and its quotes doubled). A cell a
//! spreadsheet would run as a formula is prefixed with `'` (see [`inert`]). The evidence
//! column is a JSON object (`{"app":"Workbench"}`), so it parses back exactly.

use super::report::Report;

pub const HEADER: [&str; 16] = [
    "integration",
    "severity",
    "rule",
    "category",
    "title",
    "subject_type",
    "salesforce_id",
    "username",
    "email",
    "profile",
    "app",
    "occurred_at",
    "evidence",
    "remediation",
    "key",
    "namespace",
];

pub fn render(report: &Report) -> String {
    let mut out = String::new();
    push_row(&mut out, HEADER.iter().map(|s| s.to_string()));
    for (i, f) in report.findings() {
        let s = &f.subject;
        // A JSON object, so values holding `;` or `=` read back unchanged.
        let evidence = if f.evidence.is_empty() {
            String::new()
        } else {
            serde_json::to_string(&f.evidence).expect("string maps serialize")
        };
        let opt = |v: &Option<String>| v.clone().unwrap_or_default();
        push_row(
            &mut out,
            [
                i.name.clone(),
                f.severity.as_str().to_string(),
                f.rule.as_str().to_string(),
                f.category.as_str().to_string(),
                f.title.clone(),
                s.kind.map(|k| format!("{k:?}")).unwrap_or_default(),
                opt(&s.salesforce_id),
                opt(&s.username),
                opt(&s.email),
                opt(&s.profile),
                opt(&s.app),
                f.occurred_at.map(|t| t.to_string()).unwrap_or_default(),
                evidence,
                f.remediation.clone(),
                f.key.clone(),
                i.namespace.clone(),
            ],
        );
    }
    out
}

fn push_row(out: &mut String, fields: impl IntoIterator<Item = String>) {
    let mut first = true;
    for field in fields {
        if !first {
            out.push(',');
        }
        first = false;
        out.push_str(&quote(&field));
    }
    out.push_str("\r\n");
}

/// Quotes a field when RFC 4180 requires it, after [`inert`] has disarmed it.
fn quote(field: &str) -> String {
    let field = inert(field);
    if field.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.into_owned()
    }
}

/// A spreadsheet runs a cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return as
/// a formula, and org data (an app or profile name) can start with any of them. Such a cell is
/// prefixed with a single quote, the OWASP rule for CSV injection: spreadsheets show the text
/// as typed, and a program reading the file strips one leading `'` before those characters.
fn inert(field: &str) -> std::borrow::Cow<'_, str> {
    if field.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{field}").into()
    } else {
        field.into()
    }
}

#[cfg(test)]
mod tests {
    use super::quote;

    #[test]
    fn quotes_only_when_needed() {
        assert_eq!(quote("plain"), "plain");
        assert_eq!(quote("a,b"), "\"a,b\"");
        assert_eq!(quote("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(quote("two\nlines"), "\"two\nlines\"");
    }

    #[test]
    fn formula_cells_are_disarmed() {
        for (raw, cell) in [
            (
                "=HYPERLINK(\"http://x\")",
                "\"'=HYPERLINK(\"\"http://x\"\")\"",
            ),
            ("+1", "'+1"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("\rx", "\"'\rx\""),
            ("a=b", "a=b"),
        ] {
            assert_eq!(quote(raw), cell, "{raw:?}");
        }
    }
}
