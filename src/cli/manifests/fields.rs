//! The parts of a manifest the API server checks without a CRD schema: `metadata` (known
//! fields, RFC 1123 name and namespace) and a `v1` Secret's fields and values.

use std::collections::BTreeMap;

use idgap_net::SecretString;
use serde_yaml::Value;

use super::{Doc, ManifestError, Origin, SecretValues, field, join_path, schema};

/// The fields of `ObjectMeta`: the API server refuses any other under `metadata`.
const OBJECT_META: [&str; 15] = [
    "name",
    "generateName",
    "namespace",
    "selfLink",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "labels",
    "annotations",
    "ownerReferences",
    "finalizers",
    "managedFields",
];

/// The top-level fields of a `v1` Secret.
pub(super) const SECRET_FIELDS: [&str; 7] = [
    "apiVersion",
    "kind",
    "metadata",
    "data",
    "stringData",
    "type",
    "immutable",
];

/// `field` unknown among `known`: the API server's words, and the nearest known field.
pub(super) fn unknown_field(
    doc: &Doc<'_>,
    at: &str,
    path: &str,
    field: &str,
    known: &[&str],
) -> ManifestError {
    let full = join_path(path, field);
    let hint = schema::nearest(field, known)
        .map(|k| format!("; did you mean `{k}`?"))
        .unwrap_or_default();
    ManifestError::Field {
        origin: doc.origin(&join_path(at, &full)),
        field: full.clone(),
        problem: format!("is unknown (unknown field \"{full}\"){hint}"),
    }
}

/// Name and namespace, checked as the API server checks them (a lowercase RFC 1123
/// subdomain and label); a missing namespace means `default`.
pub(super) fn metadata(
    doc: &Doc<'_>,
    at: &str,
    map: &serde_yaml::Mapping,
) -> Result<(String, String), ManifestError> {
    let origin = |path: &str| doc.origin(&join_path(at, path));
    let Some(Value::Mapping(meta)) = map.get("metadata") else {
        return Err(field(&origin("metadata"), "metadata.name", "is missing"));
    };
    for key in meta.keys() {
        match key {
            Value::String(k) if OBJECT_META.contains(&k.as_str()) => {}
            Value::String(k) => return Err(unknown_field(doc, at, "metadata", k, &OBJECT_META)),
            _ => {
                return Err(field(
                    &origin("metadata"),
                    "metadata",
                    "has a key that is not a string",
                ));
            }
        }
    }
    let name = match meta.get("name") {
        Some(Value::String(n)) if !n.trim().is_empty() => n.clone(),
        _ => {
            return Err(field(
                &origin("metadata.name"),
                "metadata.name",
                "is missing",
            ));
        }
    };
    if !is_dns_name(&name, 253, true) {
        return Err(field(
            &origin("metadata.name"),
            "metadata.name",
            &format!(
                "is `{name}`: a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character"
            ),
        ));
    }
    let namespace = match meta.get("namespace") {
        None | Some(Value::Null) => "default".to_string(),
        Some(Value::String(ns)) if is_dns_name(ns, 63, false) => ns.clone(),
        _ => {
            return Err(field(
                &origin("metadata.namespace"),
                "metadata.namespace",
                "must be a lowercase RFC 1123 label (lower case alphanumeric characters or '-', starting and ending with an alphanumeric character, at most 63)",
            ));
        }
    };
    Ok((name, namespace))
}

/// A lowercase RFC 1123 subdomain (`dots`) or label.
fn is_dns_name(s: &str, max: usize, dots: bool) -> bool {
    let alnum = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
    !s.is_empty()
        && s.len() <= max
        && s.starts_with(alnum)
        && s.ends_with(alnum)
        && s.chars()
            .all(|c| alnum(c) || c == '-' || (dots && c == '.'))
}

pub(super) fn secret_values(
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
