//! Reads the YAML a user would `kubectl apply`: files or directories of multi-document YAML
//! holding `SalesforceIntegration`, `IdentityProvider` and `Secret` objects, refused where
//! the API server would refuse them (`schema`, `cel`, `fields`) and with other kinds skipped.
//! Every error is one line that names the file and the field's line, and never a secret value.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use idgap_net::SecretString;
use serde_yaml::Value;

use crate::resources::{IdentityProvider, SalesforceIntegration};

mod cel;
mod fields;
mod lines;
mod schema;
mod walk;

use fields::{SECRET_FIELDS, metadata, secret_values, unknown_field};
use lines::Lines;

/// Where an object came from.
#[derive(Debug, Clone)]
pub struct Origin {
    pub file: PathBuf,
    /// 1-based line of the document's first line.
    pub line: usize,
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.file.display(), self.line)
    }
}

#[derive(Debug, Clone)]
pub struct Located<T> {
    pub object: T,
    pub namespace: String,
    pub name: String,
    pub origin: Origin,
}

/// A Secret's values, decoded. Kept as [`SecretString`] so they cannot be printed.
#[derive(Debug, Clone, Default)]
pub struct SecretValues {
    pub values: BTreeMap<String, SecretString>,
}

/// Every object read from the given paths.
#[derive(Debug, Default)]
pub struct Manifests {
    pub integrations: Vec<Located<SalesforceIntegration>>,
    pub identity_providers: Vec<Located<IdentityProvider>>,
    /// Keyed by (namespace, name).
    pub secrets: BTreeMap<(String, String), Located<SecretValues>>,
    /// Refuse documents that are not idgap's or Secrets instead of skipping them.
    pub strict: bool,
    /// One line per document skipped (another kind, or not a Kubernetes object at all).
    pub notes: Vec<String>,
    /// Valid but probably not meant, e.g. an exclusion that matches every user.
    pub warnings: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error(
        "{path}: no such file or directory; pass an existing manifest file or directory with -f"
    )]
    NotFound { path: String },
    #[error("{path}: cannot be read: {detail}")]
    Unreadable { path: String, detail: String },
    #[error("{path}: no .yaml or .yml files in this directory")]
    EmptyDirectory { path: String },
    #[error("{origin}: invalid YAML at line {line}: {detail}")]
    Yaml {
        origin: Origin,
        line: usize,
        detail: String,
    },
    #[error("{origin}: field `{field}` {problem}")]
    Field {
        origin: Origin,
        field: String,
        problem: String,
    },
    #[error("{origin}: field `kind`: `{kind}` is not supported; expected {expected}")]
    UnknownKind {
        origin: Origin,
        kind: String,
        expected: String,
    },
    /// `object` is e.g. `SalesforceIntegration security/acme-prod`.
    #[error("{origin}: {object}: {detail}")]
    Invalid {
        origin: Origin,
        object: String,
        detail: String,
    },
    #[error("{origin}: {object} is declared twice (first at {first})")]
    Duplicate {
        origin: Origin,
        object: String,
        first: Box<Origin>,
    },
}

/// The standard input, as `-f -` names it.
const STDIN: &str = "-";

/// One YAML document being read: where it is, and where its fields are.
struct Doc<'a> {
    file: &'a Path,
    /// The document's first line in the file.
    first_line: usize,
    lines: Lines,
}

impl Doc<'_> {
    /// The file line of `path` (or of its nearest ancestor), else the document's first line.
    fn origin(&self, path: &str) -> Origin {
        Origin {
            file: self.file.to_path_buf(),
            line: self
                .lines
                .line(path)
                .map_or(self.first_line, |l| self.first_line + l - 1),
        }
    }
}

fn join_path(prefix: &str, path: &str) -> String {
    match (prefix.is_empty(), path.is_empty()) {
        (true, _) => path.to_string(),
        (false, true) => prefix.to_string(),
        (false, false) => format!("{prefix}.{path}"),
    }
}

impl Manifests {
    /// Reads every path: `-` (standard input), a file, or a directory whose `.yaml`/`.yml`
    /// files (any case) are read in name order, subdirectories included.
    pub fn load(paths: &[PathBuf], strict: bool) -> Result<Manifests, ManifestError> {
        let mut m = Manifests {
            strict,
            ..Manifests::default()
        };
        for path in paths {
            if path.as_os_str() == STDIN {
                let mut text = String::new();
                std::io::Read::read_to_string(&mut std::io::stdin(), &mut text).map_err(|e| {
                    ManifestError::Unreadable {
                        path: "standard input".to_string(),
                        detail: e.kind().to_string(),
                    }
                })?;
                m.add_text(Path::new("<stdin>"), &text)?;
                continue;
            }
            for file in walk::expand(path, &mut m.notes)? {
                let text =
                    std::fs::read_to_string(&file).map_err(|e| ManifestError::Unreadable {
                        path: file.display().to_string(),
                        detail: e.kind().to_string(),
                    })?;
                m.add_text(&file, &text)?;
            }
        }
        Ok(m)
    }

    /// Parses one file's text; `file` is only used to say where things came from.
    pub fn add_text(&mut self, file: &Path, text: &str) -> Result<(), ManifestError> {
        for (line, text) in split_documents(text) {
            let doc = Doc {
                file,
                first_line: line,
                lines: Lines::of(&text),
            };
            let origin = doc.origin("");
            let value: Value = serde_yaml::from_str(&text).map_err(|e| yaml_error(&origin, &e))?;
            self.add_value(&doc, "", value)?;
        }
        Ok(())
    }

    /// Adds one object (or each item of a `List`); `at` is its path in the document.
    fn add_value(&mut self, doc: &Doc<'_>, at: &str, value: Value) -> Result<(), ManifestError> {
        let origin = doc.origin(at);
        if value.is_null() {
            return Ok(());
        }
        let Value::Mapping(map) = &value else {
            return self.skip(origin, None, "it is not a mapping");
        };
        let text = |key: &str| match map.get(key) {
            Some(Value::String(s)) => Some(s.clone()),
            _ => None,
        };
        let (kind, api_version) = (text("kind"), text("apiVersion"));
        let Some(kind) = kind else {
            if map.contains_key("kind") {
                return Err(field(&origin, "kind", "must be a string"));
            }
            return self.skip(
                origin,
                None,
                "it has no `kind`, so it is not a Kubernetes object",
            );
        };
        if kind == "List" {
            let items = match map.get("items") {
                Some(Value::Sequence(items)) => items.clone(),
                _ => return Err(field(&origin, "items", "must be a list of objects")),
            };
            for (i, item) in items.into_iter().enumerate() {
                self.add_value(doc, &format!("{}[{i}]", join_path(at, "items")), item)?;
            }
            return Ok(());
        }
        let idgap_kinds = schema::kinds();
        let group_is_idgap = api_version
            .as_deref()
            .is_some_and(|v| v.split('/').next() == Some(crate::resources::GROUP));
        let expected_api = if idgap_kinds.contains(&kind) {
            format!("{}/{}", crate::resources::GROUP, crate::resources::VERSION)
        } else if kind == "Secret" {
            "v1".to_string()
        } else if group_is_idgap {
            let known: Vec<&str> = idgap_kinds.iter().map(String::as_str).collect();
            let hint = schema::nearest(&kind, &known)
                .map(|k| format!(" (did you mean `{k}`?)"))
                .unwrap_or_default();
            return Err(ManifestError::UnknownKind {
                origin,
                kind,
                expected: format!("{}{hint}", idgap_kinds.join(", ")),
            });
        } else {
            return self.skip(
                origin,
                Some(&kind),
                "idgap reads SalesforceIntegration, IdentityProvider and Secret",
            );
        };
        let Some(api_version) = api_version else {
            return Err(field(&origin, "apiVersion", "is missing"));
        };
        if api_version != expected_api {
            return Err(field(
                &origin,
                "apiVersion",
                &format!("is `{api_version}`; {kind} is `{expected_api}`"),
            ));
        }
        let (name, namespace) = metadata(doc, at, map)?;
        if kind == "Secret" {
            for key in map.keys() {
                if let Value::String(k) = key
                    && !SECRET_FIELDS.contains(&k.as_str())
                {
                    return Err(unknown_field(doc, at, "", k, &SECRET_FIELDS));
                }
            }
            let object = secret_values(&origin, map)?;
            let key = (namespace.clone(), name.clone());
            if let Some(first) = self.secrets.get(&key) {
                return Err(duplicate(origin, "Secret", namespace, name, &first.origin));
            }
            self.secrets.insert(
                key,
                Located {
                    object,
                    namespace,
                    name,
                    origin,
                },
            );
            return Ok(());
        }
        let object_name = format!("{kind} {namespace}/{name}");
        let json = checked(doc, at, &kind, &object_name, &value)?;
        let typed_error = |e: serde_json::Error| ManifestError::Invalid {
            origin: origin.clone(),
            object: object_name.clone(),
            detail: one_line(&e.to_string()),
        };
        match kind.as_str() {
            "SalesforceIntegration" => {
                let object: SalesforceIntegration =
                    serde_json::from_value(json).map_err(typed_error)?;
                if let Some(first) = self
                    .integrations
                    .iter()
                    .find(|o| o.name == name && o.namespace == namespace)
                {
                    return Err(duplicate(
                        origin,
                        "SalesforceIntegration",
                        namespace,
                        name,
                        &first.origin,
                    ));
                }
                self.warnings
                    .extend(broad_exclusions(&origin, &object_name, &object));
                self.integrations.push(Located {
                    object,
                    namespace,
                    name,
                    origin,
                });
            }
            "IdentityProvider" => {
                let object: IdentityProvider = serde_json::from_value(json).map_err(typed_error)?;
                if let Some(first) = self
                    .identity_providers
                    .iter()
                    .find(|o| o.name == name && o.namespace == namespace)
                {
                    return Err(duplicate(
                        origin,
                        "IdentityProvider",
                        namespace,
                        name,
                        &first.origin,
                    ));
                }
                self.identity_providers.push(Located {
                    object,
                    namespace,
                    name,
                    origin,
                });
            }
            // AccessFindings are what the operator writes; valid ones are not input to a scan.
            _ => self.notes.push(format!(
                "{origin}: skipped {object_name}: findings are results, not input to a scan"
            )),
        }
        Ok(())
    }

    /// A document that is not idgap's: a note, or an error with `--strict`.
    fn skip(&mut self, origin: Origin, kind: Option<&str>, why: &str) -> Result<(), ManifestError> {
        if self.strict {
            return Err(match kind {
                Some(kind) => ManifestError::UnknownKind {
                    origin,
                    kind: kind.to_string(),
                    expected: "SalesforceIntegration, IdentityProvider or Secret (--strict)"
                        .to_string(),
                },
                None => field(&origin, "kind", &format!("is missing: {why} (--strict)")),
            });
        }
        let what = kind.map_or_else(|| "a document".to_string(), |k| format!("a {k}"));
        self.notes.push(format!("{origin}: skipped {what}: {why}"));
        Ok(())
    }

    pub fn identity_provider(
        &self,
        namespace: &str,
        name: &str,
    ) -> Option<&Located<IdentityProvider>> {
        self.identity_providers
            .iter()
            .find(|o| o.namespace == namespace && o.name == name)
    }

    /// The Secrets of one namespace, by name.
    pub fn secrets_in(&self, namespace: &str) -> impl Iterator<Item = &Located<SecretValues>> {
        self.secrets
            .iter()
            .filter(move |((ns, _), _)| ns == namespace)
            .map(|(_, s)| s)
    }
}

/// Splits multi-document YAML on `---` lines, keeping each document's first line number.
fn split_documents(text: &str) -> Vec<(usize, String)> {
    let mut docs = Vec::new();
    let mut current = String::new();
    let mut start = 1;
    for (n, line) in text.lines().enumerate() {
        let trimmed = line.trim_end();
        if trimmed == "---" || trimmed.starts_with("--- ") || trimmed == "..." {
            docs.push((start, std::mem::take(&mut current)));
            start = n + 2;
            if let Some(rest) = trimmed.strip_prefix("--- ") {
                current.push_str(rest);
                current.push('\n');
                start = n + 1;
            }
            continue;
        }
        current.push_str(line);
        current.push('\n');
    }
    docs.push((start, current));
    docs.retain(|(_, d)| {
        d.lines()
            .any(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
    });
    docs
}

fn yaml_error(origin: &Origin, e: &serde_yaml::Error) -> ManifestError {
    let (line, detail) = located(origin, e);
    ManifestError::Yaml {
        origin: origin.clone(),
        line,
        detail,
    }
}

/// The absolute line of a parse error and its message without serde_yaml's own
/// "at line N column M" (which counts from the document, not the file).
fn located(origin: &Origin, e: &serde_yaml::Error) -> (usize, String) {
    let mut detail = e.to_string();
    let mut line = origin.line;
    if let Some(loc) = e.location() {
        line = origin.line + loc.line().saturating_sub(1);
        detail = detail.replace(
            &format!(" at line {} column {}", loc.line(), loc.column()),
            "",
        );
    }
    (line, one_line(&detail))
}

pub(crate) fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn field(origin: &Origin, field: &str, problem: &str) -> ManifestError {
    ManifestError::Field {
        origin: origin.clone(),
        field: field.to_string(),
        problem: problem.to_string(),
    }
}

fn duplicate(
    origin: Origin,
    kind: &'static str,
    namespace: String,
    name: String,
    first: &Origin,
) -> ManifestError {
    ManifestError::Duplicate {
        origin,
        object: format!("{kind} {namespace}/{name}"),
        first: Box::new(first.clone()),
    }
}

/// The object as JSON, checked against its CRD's schema (nulls the API server would prune
/// removed); every problem is reported, each at its own line.
fn checked(
    doc: &Doc<'_>,
    at: &str,
    kind: &str,
    object: &str,
    value: &Value,
) -> Result<serde_json::Value, ManifestError> {
    let origin = doc.origin(at);
    let mut json = serde_json::to_value(value).map_err(|e| ManifestError::Invalid {
        origin: origin.clone(),
        object: object.to_string(),
        detail: one_line(&e.to_string()),
    })?;
    let Some(schema) = schema::schema_of(kind) else {
        return Ok(json);
    };
    let problems = schema::check(&mut json, schema);
    let Some(first) = problems.first() else {
        return Ok(json);
    };
    let mut detail = first.message.clone();
    for p in &problems[1..] {
        let line = doc.origin(&join_path(at, &p.path)).line;
        detail.push_str(&format!("; line {line}: {}", p.message));
    }
    Err(ManifestError::Invalid {
        origin: doc.origin(&join_path(at, &first.path)),
        object: object.to_string(),
        detail: one_line(&detail),
    })
}

/// An exclusion whose pattern matches every user (`*`, `*@*`) silently turns its rule
/// off: valid, so not refused, but said.
fn broad_exclusions(origin: &Origin, object: &str, i: &SalesforceIntegration) -> Vec<String> {
    let mut out = Vec::new();
    for (n, e) in i.spec.exclusions.iter().enumerate() {
        for pattern in &e.users {
            let literal = pattern
                .chars()
                .filter(|c| !matches!(c, '*' | '?' | '@' | '.'));
            if pattern.contains('*') && literal.count() == 0 {
                let rule = e
                    .rule
                    .and_then(|r| serde_json::to_value(r).ok())
                    .and_then(|v| v.as_str().map(str::to_string))
                    .map_or("every rule".to_string(), |r| format!("rule {r}"));
                out.push(format!(
                    "{origin}: {object}: spec.exclusions[{n}].users `{pattern}` matches every user, so {rule} reports nothing; list the users, or use spec.rules.disabled to turn the rule off openly"
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_documents_with_line_numbers() {
        let docs = split_documents("# c\n---\na: 1\n---\n\n---\nb: 2\n");
        assert_eq!(
            docs,
            vec![(3, "a: 1\n".to_string()), (7, "b: 2\n".to_string())]
        );
    }

    #[test]
    fn secrets_decode_data_and_string_data_without_showing_values() {
        let mut m = Manifests::default();
        let yaml = "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata: {a: aGVsbG8=}\nstringData: {b: world}\n";
        m.add_text(Path::new("s.yaml"), yaml).unwrap();
        let s = &m.secrets[&("default".to_string(), "s".to_string())].object;
        assert_eq!(s.values["a"].expose(), "hello");
        assert_eq!(s.values["b"].expose(), "world");

        let bad = "apiVersion: v1\nkind: Secret\nmetadata: {name: t}\ndata: {k: 'not base64 sup3rsecret!'}\n";
        let err = Manifests::default()
            .add_text(Path::new("t.yaml"), bad)
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "t.yaml:1: field `data.k` is not valid base64 (use stringData for plain text)"
        );
        assert!(!err.contains("sup3rsecret"));
    }

    #[test]
    fn other_kinds_are_skipped_with_a_note_or_refused_when_strict() {
        let yaml = "apiVersion: v1\nkind: Secret\nmetadata: {name: a}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\n---\nname: ci\non: [push]\n";
        let mut m = Manifests::default();
        m.add_text(Path::new("m.yaml"), yaml).unwrap();
        assert_eq!(
            m.notes,
            [
                "m.yaml:5: skipped a Deployment: idgap reads SalesforceIntegration, IdentityProvider and Secret",
                "m.yaml:9: skipped a document: it has no `kind`, so it is not a Kubernetes object",
            ]
        );
        let mut strict = Manifests {
            strict: true,
            ..Manifests::default()
        };
        let err = strict
            .add_text(Path::new("m.yaml"), yaml)
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "m.yaml:5: field `kind`: `Deployment` is not supported; expected SalesforceIntegration, IdentityProvider or Secret (--strict)"
        );
    }

    #[test]
    fn errors_inside_a_list_name_the_item_line() {
        let yaml = "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Secret\n  metadata: {name: a}\n- apiVersion: idgap.io/v1alpha1\n  kind: IdentityProvider\n  metadata: {name: okta}\n  spec:\n    okta:\n      domain: acme.okta.com\n      apiTokn: {name: a, key: t}\n";
        let err = Manifests::default()
            .add_text(Path::new("l.yaml"), yaml)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("l.yaml:13: IdentityProvider default/okta: unknown field \"spec.okta.apiTokn\"; did you mean `apiToken`?"),
            "{err}"
        );
        // A Secret's error names its item, not the List's first line.
        let yaml = "kind: List\napiVersion: v1\nitems:\n- {apiVersion: v1, kind: Secret, metadata: {name: a}}\n- apiVersion: v1\n  kind: Secret\n  metadata: {name: b}\n  data: {k: '%%'}\n";
        let err = Manifests::default()
            .add_text(Path::new("l.yaml"), yaml)
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("l.yaml:5: field `data.k`"), "{err}");
    }

    #[test]
    fn metadata_and_secret_typos_are_refused_at_their_line() {
        let err = |yaml: &str| {
            Manifests::default()
                .add_text(Path::new("m.yaml"), yaml)
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            err("apiVersion: v1\nkind: Secret\nmetadata:\n  name: a\n  namepsace: security\n"),
            "m.yaml:5: field `metadata.namepsace` is unknown (unknown field \"metadata.namepsace\"); did you mean `namespace`?"
        );
        assert_eq!(
            err("apiVersion: v1\nkind: Secret\nmetadata: {name: a}\nstringdata: {k: v}\n"),
            "m.yaml:4: field `stringdata` is unknown (unknown field \"stringdata\"); did you mean `stringData`?"
        );
        assert!(
            err("apiVersion: v1\nkind: Secret\nmetadata: {name: Sf_Creds}\n").starts_with(
                "m.yaml:3: field `metadata.name` is `Sf_Creds`: a lowercase RFC 1123 subdomain"
            )
        );
    }

    proptest::proptest! {
        /// Whatever the bytes, reading them is an answer or an error, never a panic.
        #[test]
        fn any_text_is_read_or_refused_without_panicking(text in "(?s).{0,400}") {
            let _ = Lines::of(&text);
            let _ = Manifests::default().add_text(Path::new("p.yaml"), &text);
        }

        /// A valid object with one field renamed is refused, naming that field.
        #[test]
        fn a_renamed_field_is_refused(field in "[a-z][a-zA-Z]{0,12}") {
            let known = ["interval", "suspend", "environment", "loginUrl", "auth",
                "identityProviderRefs", "auditLookback", "apiVersion", "maxApiUsagePercent",
                "rules", "exclusions", "findings"];
            proptest::prop_assume!(!known.contains(&field.as_str()));
            let yaml = format!("apiVersion: idgap.io/v1alpha1\nkind: SalesforceIntegration\nmetadata: {{name: a}}\nspec:\n  auth: {{clientCredentials: {{clientId: {{name: s, key: i}}, clientSecret: {{name: s, key: k}}}}}}\n  {field}: x\n");
            let err = Manifests::default().add_text(Path::new("p.yaml"), &yaml).unwrap_err().to_string();
            let expected = format!("p.yaml:6: SalesforceIntegration default/a: unknown field \"spec.{field}\"");
            proptest::prop_assert!(err.starts_with(&expected), "{}", err);
        }
    }
}
