//! Reads the YAML a user would `kubectl apply`: files or directories of multi-document YAML
//! holding `SalesforceIntegration`, `IdentityProvider` and `Secret` objects. Every error is
//! one line that names the file (and line) and the field at fault, and never a secret value.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use idgap_net::SecretString;
use serde_yaml::Value;

use crate::resources::{IdentityProvider, SalesforceIntegration};

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
    #[error(
        "{origin}: field `kind`: `{kind}` is not supported; expected SalesforceIntegration, IdentityProvider or Secret"
    )]
    UnknownKind { origin: Origin, kind: String },
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

impl Manifests {
    /// Reads every path: a file, or a directory whose `.yaml`/`.yml` files are read in name
    /// order (subdirectories included).
    pub fn load(paths: &[PathBuf]) -> Result<Manifests, ManifestError> {
        let mut m = Manifests::default();
        for path in paths {
            for file in expand(path)? {
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
        for (line, doc) in split_documents(text) {
            let origin = Origin {
                file: file.to_path_buf(),
                line,
            };
            self.add_document(origin, &doc)?;
        }
        Ok(())
    }

    fn add_document(&mut self, origin: Origin, doc: &str) -> Result<(), ManifestError> {
        let value: Value = serde_yaml::from_str(doc).map_err(|e| yaml_error(&origin, &e))?;
        if value.is_null() {
            return Ok(());
        }
        let Value::Mapping(map) = &value else {
            return Err(field(
                &origin,
                "kind",
                "is missing: the document is not a mapping",
            ));
        };
        let kind = match map.get("kind") {
            Some(Value::String(k)) => k.clone(),
            Some(_) => return Err(field(&origin, "kind", "must be a string")),
            None => return Err(field(&origin, "kind", "is missing")),
        };
        if kind == "List" {
            let items = match map.get("items") {
                Some(Value::Sequence(items)) => items.clone(),
                _ => return Err(field(&origin, "items", "must be a list of objects")),
            };
            for item in items {
                let text = serde_yaml::to_string(&item).map_err(|e| yaml_error(&origin, &e))?;
                self.add_document(origin.clone(), &text)?;
            }
            return Ok(());
        }
        let api_version = match map.get("apiVersion") {
            Some(Value::String(v)) => v.clone(),
            _ => return Err(field(&origin, "apiVersion", "is missing")),
        };
        let expected_api = match kind.as_str() {
            "SalesforceIntegration" | "IdentityProvider" => "idgap.io/v1alpha1",
            "Secret" => "v1",
            _ => return Err(ManifestError::UnknownKind { origin, kind }),
        };
        if api_version != expected_api {
            return Err(field(
                &origin,
                "apiVersion",
                &format!("is `{api_version}`; {kind} is `{expected_api}`"),
            ));
        }
        let (name, namespace) = metadata(&origin, map)?;
        match kind.as_str() {
            "SalesforceIntegration" => {
                let object: SalesforceIntegration =
                    typed(&origin, "SalesforceIntegration", &namespace, &name, doc)?;
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
                self.integrations.push(Located {
                    object,
                    namespace,
                    name,
                    origin,
                });
            }
            "IdentityProvider" => {
                let object: IdentityProvider =
                    typed(&origin, "IdentityProvider", &namespace, &name, doc)?;
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
            _ => {
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
            }
        }
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

fn expand(path: &Path) -> Result<Vec<PathBuf>, ManifestError> {
    let meta = std::fs::metadata(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => ManifestError::NotFound {
            path: path.display().to_string(),
        },
        other => ManifestError::Unreadable {
            path: path.display().to_string(),
            detail: other.to_string(),
        },
    })?;
    if !meta.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files = Vec::new();
    collect_yaml(path, &mut files)?;
    if files.is_empty() {
        return Err(ManifestError::EmptyDirectory {
            path: path.display().to_string(),
        });
    }
    Ok(files)
}

fn collect_yaml(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), ManifestError> {
    let unreadable = |e: std::io::Error| ManifestError::Unreadable {
        path: dir.display().to_string(),
        detail: e.kind().to_string(),
    };
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(unreadable)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            collect_yaml(&p, out)?;
        } else if matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml")) {
            out.push(p);
        }
    }
    Ok(())
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

fn metadata(origin: &Origin, map: &serde_yaml::Mapping) -> Result<(String, String), ManifestError> {
    let Some(Value::Mapping(meta)) = map.get("metadata") else {
        return Err(field(origin, "metadata.name", "is missing"));
    };
    let name = match meta.get("name") {
        Some(Value::String(n)) if !n.trim().is_empty() => n.clone(),
        _ => return Err(field(origin, "metadata.name", "is missing")),
    };
    let namespace = match meta.get("namespace") {
        None | Some(Value::Null) => "default".to_string(),
        Some(Value::String(ns)) if !ns.trim().is_empty() => ns.clone(),
        _ => {
            return Err(field(
                origin,
                "metadata.namespace",
                "must be a non-empty string",
            ));
        }
    };
    Ok((name, namespace))
}

fn typed<T: serde::de::DeserializeOwned>(
    origin: &Origin,
    kind: &'static str,
    namespace: &str,
    name: &str,
    doc: &str,
) -> Result<T, ManifestError> {
    serde_yaml::from_str(doc).map_err(|e| {
        let (line, detail) = located(origin, &e);
        ManifestError::Invalid {
            origin: Origin {
                file: origin.file.clone(),
                line,
            },
            object: format!("{kind} {namespace}/{name}"),
            detail,
        }
    })
}

fn secret_values(
    origin: &Origin,
    map: &serde_yaml::Mapping,
) -> Result<SecretValues, ManifestError> {
    use base64::Engine;
    let mut values = BTreeMap::new();
    for (section, encoded) in [("data", true), ("stringData", false)] {
        let entries = match map.get(section) {
            None | Some(Value::Null) => continue,
            Some(Value::Mapping(m)) => m,
            Some(_) => return Err(field(origin, section, "must be a mapping of key: value")),
        };
        for (k, v) in entries {
            let Value::String(key) = k else {
                return Err(field(origin, section, "has a key that is not a string"));
            };
            let at = format!("{section}.{key}");
            let raw = match v {
                Value::String(s) => s.clone(),
                Value::Null => String::new(),
                _ => return Err(field(origin, &at, "must be a string (quote it)")),
            };
            let value = if encoded {
                let compact: String = raw.split_whitespace().collect();
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(compact.as_bytes())
                    .map_err(|_| {
                        field(
                            origin,
                            &at,
                            "is not valid base64 (use stringData for plain text)",
                        )
                    })?;
                String::from_utf8(bytes)
                    .map_err(|_| field(origin, &at, "does not decode to UTF-8 text"))?
            } else {
                raw
            };
            // stringData wins over data for the same key, as in the API server.
            // Registered for redaction when resolve reads it as a credential, not before: a
            // Secret also holds client ids and usernames.
            values.insert(key.clone(), SecretString::unregistered(value));
        }
    }
    Ok(SecretValues { values })
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
    fn unknown_kind_names_file_line_and_field() {
        let yaml = "apiVersion: v1\nkind: Secret\nmetadata: {name: a}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\n";
        let err = Manifests::default()
            .add_text(Path::new("m.yaml"), yaml)
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "m.yaml:5: field `kind`: `Deployment` is not supported; expected SalesforceIntegration, IdentityProvider or Secret"
        );
    }
}
