//! `--output sarif`: SARIF 2.1.0. Salesforce users, apps and orgs are not files, so each
//! result names them as logical locations and points physically at the manifest that
//! declared the integration; `partialFingerprints` carries the finding's stable key so a
//! dashboard tracks the same problem across runs.

use idgap_model::{Finding, Severity, SubjectKind};
use serde_json::{Value, json};

use super::report::{IntegrationReport, Report};
use super::rules;

pub const SCHEMA_URI: &str = "https://json.schemastore.org/sarif-2.1.0.json";
/// The `partialFingerprints` key; bump the version if the key's derivation ever changes.
/// v2: the finding key under the integration's `namespace/name` (v1 was the key alone, which
/// collides between two integrations of orgs that share record ids, e.g. a sandbox copy).
pub const FINGERPRINT_NAME: &str = "idgapFindingKey/v2";

pub fn render(report: &Report) -> String {
    let mut out = serde_json::to_string_pretty(&document(report)).expect("JSON values serialize");
    out.push('\n');
    out
}

pub fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low => "note",
    }
}

/// GitHub code scanning's `security-severity` scale (0.0–10.0).
fn security_severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
    }
}

fn document(report: &Report) -> Value {
    let rules: Vec<Value> = rules::all()
        .map(|r| {
            json!({
                "id": r.id.as_str(),
                "name": r.title.replace(' ', ""),
                "shortDescription": { "text": r.title },
                "fullDescription": { "text": r.fires_when },
                "help": {
                    "text": r.remediation,
                    "markdown": format!("**Fires when:** {}\n\n**Remediation:** {}\n\nSee docs/rules.md#{}.", r.fires_when, r.remediation, r.id.as_str()),
                },
                "defaultConfiguration": { "level": level(r.severity) },
                "properties": {
                    "security-severity": security_severity(r.severity),
                    "tags": ["security", r.category.as_str()],
                    "precision": "high",
                },
            })
        })
        .collect();
    let results: Vec<Value> = report.findings().map(|(i, f)| result(i, f)).collect();
    let notifications: Vec<Value> = NOTIFICATIONS
        .iter()
        .map(|(id, text)| json!({ "id": id, "shortDescription": { "text": text } }))
        .collect();
    json!({
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "idgap",
                    "semanticVersion": env!("CARGO_PKG_VERSION"),
                    "rules": rules,
                    "notifications": notifications,
                }
            },
            "invocations": [invocation(report)],
            "columnKind": "unicodeCodePoints",
            "results": results,
        }]
    })
}

/// `tool.driver.notifications`: what a `toolExecutionNotifications` entry can be about.
const NOTIFICATIONS: [(&str, &str); 2] = [
    (
        SOURCE_NOT_READ,
        "A Salesforce org or an identity provider could not be read; its rules were not evaluated.",
    ),
    (
        RULE_NOT_EVALUATED,
        "A rule was not evaluated (or only partly) for an integration; its absent results are unknown, not fixed.",
    ),
];
const SOURCE_NOT_READ: &str = "source-not-read";
const RULE_NOT_EVALUATED: &str = "rule-not-evaluated";

/// The one invocation of this run. `executionSuccessful` is false when any source failed or
/// any rule asked for was not evaluated, so a dashboard does not read the results that
/// were never looked for as fixed; each such gap is a notification (a rule turned off in
/// `spec.rules.disabled` is a `note`, the rest are `error`s).
fn invocation(report: &Report) -> Value {
    let descriptor = |id: &str| {
        let index = NOTIFICATIONS
            .iter()
            .position(|(n, _)| *n == id)
            .expect("a listed notification");
        json!({ "id": id, "index": index })
    };
    let manifest_location = |manifest: &Option<std::path::PathBuf>, line: Option<usize>| {
        manifest.as_ref().map(|path| {
            let mut physical = json!({ "artifactLocation": { "uri": artifact_uri(path) } });
            if let Some(line) = line {
                physical["region"] = json!({ "startLine": line });
            }
            json!({ "physicalLocation": physical })
        })
    };
    let mut notes = Vec::new();
    for f in report.failed_sources() {
        let mut n = json!({
            "level": "error",
            "message": { "text": format!("{} could not be read: {}", f.source, f.error) },
            "descriptor": descriptor(SOURCE_NOT_READ),
            "properties": { "source": f.source },
        });
        if let Some(l) = manifest_location(&f.manifest, f.manifest_line) {
            n["locations"] = json!([l]);
        }
        notes.push(n);
    }
    for i in &report.integrations {
        for s in &i.skipped {
            let mut n = json!({
                "level": if s.disabled { "note" } else { "error" },
                "message": { "text": format!(
                    "Rule {} was not evaluated for integration {}/{}: {}",
                    s.rule, i.namespace, i.name, s.reason
                ) },
                "descriptor": descriptor(RULE_NOT_EVALUATED),
                "properties": {
                    "integration": format!("{}/{}", i.namespace, i.name),
                    "disabled": s.disabled,
                },
            });
            if let Some(index) = idgap_model::RuleId::ALL
                .iter()
                .position(|r| r.as_str() == s.rule)
            {
                n["associatedRule"] = json!({ "id": s.rule, "index": index });
            }
            if let Some(l) = manifest_location(&i.manifest, i.manifest_line) {
                n["locations"] = json!([l]);
            }
            notes.push(n);
        }
    }
    json!({
        "executionSuccessful": report.complete(),
        "toolExecutionNotifications": notes,
    })
}

fn rule_index(f: &Finding) -> usize {
    idgap_model::RuleId::ALL
        .iter()
        .position(|r| *r == f.rule)
        .expect("every rule id is in ALL")
}

fn result(i: &IntegrationReport, f: &Finding) -> Value {
    let s = &f.subject;
    let subject = s.label();
    let mut text = format!(
        "{}: {} (integration {}/{}).",
        f.title, subject, i.namespace, i.name
    );
    if !f.evidence.is_empty() {
        let evidence: Vec<String> = f.evidence.iter().map(|(k, v)| format!("{k}={v}")).collect();
        text.push_str(&format!(" Evidence: {}.", evidence.join("; ")));
    }
    let org_name = format!("{} ({})", i.name, i.org.id);
    let mut logical = vec![json!({
        "name": org_name,
        "fullyQualifiedName": format!("salesforce/{}", i.org.id),
        "kind": "organization",
    })];
    let subject_fqn = |leaf: &str| format!("salesforce/{}/{leaf}", i.org.id);
    match s.kind {
        Some(SubjectKind::User) | Some(SubjectKind::AuditEvent) | Some(SubjectKind::OAuthGrant) => {
            if let Some(u) = &s.username {
                logical.push(json!({
                    "name": u,
                    "fullyQualifiedName": subject_fqn(&format!("users/{}", s.salesforce_id.as_deref().unwrap_or(u))),
                    "kind": "user",
                }));
            }
            if let Some(app) = &s.app {
                logical.push(json!({
                    "name": app,
                    "fullyQualifiedName": subject_fqn(&format!("connectedApps/{app}")),
                    "kind": "connectedApp",
                }));
            }
        }
        Some(SubjectKind::Org) | None => {}
    }
    let mut location = json!({ "logicalLocations": logical });
    if let Some(path) = &i.manifest {
        let mut physical = json!({
            "artifactLocation": { "uri": artifact_uri(path) },
        });
        if let Some(line) = i.manifest_line {
            physical["region"] = json!({ "startLine": line });
        }
        location["physicalLocation"] = physical;
    }
    let mut properties = json!({
        "severity": f.severity.as_str(),
        "category": f.category.as_str(),
        "integration": format!("{}/{}", i.namespace, i.name),
        "evidence": f.evidence,
    });
    if let Some(t) = f.occurred_at {
        properties["occurredAt"] = t.to_string().into();
    }
    json!({
        "ruleId": f.rule.as_str(),
        "ruleIndex": rule_index(f),
        "level": level(f.severity),
        "message": { "text": text },
        "locations": [location],
        "partialFingerprints": { FINGERPRINT_NAME: fingerprint(i, f) },
        "properties": properties,
    })
}

/// Stable across runs and unique across integrations: the finding key under `namespace/name`.
fn fingerprint(i: &IntegrationReport, f: &Finding) -> String {
    format!("{}/{}/{}", i.namespace, i.name, f.key)
}

/// A relative path with forward slashes stays relative (SARIF resolves it against the
/// run's base); an absolute path becomes a `file://` URI. Either way each segment is
/// percent-encoded, so `%`, `#`, `?` and spaces in a file name stay part of the path.
fn artifact_uri(path: &std::path::Path) -> String {
    let segments = path
        .components()
        .filter(|c| !matches!(c, std::path::Component::RootDir))
        .map(|c| encode_segment(&c.as_os_str().to_string_lossy()))
        .collect::<Vec<_>>()
        .join("/");
    if path.is_absolute() {
        format!("file:///{segments}")
    } else {
        segments
    }
}

/// RFC 3986 `segment-nz-nc`: unreserved characters and sub-delims as they are, every other
/// byte of the UTF-8 text as `%XX` (`:` too, so a first segment never reads as a scheme).
fn encode_segment(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for b in segment.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=@".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::artifact_uri;
    use std::path::Path;

    #[test]
    fn artifact_uris_percent_encode_what_would_end_the_path() {
        assert_eq!(
            artifact_uri(Path::new("manifests/acme prod.yaml")),
            "manifests/acme%20prod.yaml"
        );
        assert_eq!(
            artifact_uri(Path::new("ops/100%#1?.yaml")),
            "ops/100%25%231%3F.yaml"
        );
        assert_eq!(artifact_uri(Path::new("c:x/é.yaml")), "c%3Ax/%C3%A9.yaml");
        assert_eq!(
            artifact_uri(Path::new("/srv/idgap/50% #2.yaml")),
            "file:///srv/idgap/50%25%20%232.yaml"
        );
    }
}
