//! Checks an object against its CRD's `openAPIV3Schema` — the one generated from
//! `src/resources`, read at run time, so the check cannot drift from what the API server
//! enforces: types, unknown fields, required fields, enums, patterns, lengths, bounds,
//! item counts and the CEL rules. Messages follow the API server's wording, so a problem
//! reads the same from `kubectl apply` and from `idgap scan`.

use std::collections::HashMap;
use std::sync::OnceLock;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::{
    JSONSchemaProps, JSONSchemaPropsOrArray, JSONSchemaPropsOrBool,
};
use serde_json::Value;

use super::cel;

/// One reason the API server would refuse the object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Where, e.g. `spec.exclusions[0].users`; `""` for the object itself.
    pub path: String,
    /// The API server's kind of message, path included.
    pub message: String,
}

/// The schema of `kind` in group `idgap.io`, or `None` for a kind idgap does not define.
pub fn schema_of(kind: &str) -> Option<&'static JSONSchemaProps> {
    static SCHEMAS: OnceLock<HashMap<String, JSONSchemaProps>> = OnceLock::new();
    SCHEMAS
        .get_or_init(|| {
            crate::resources::crds()
                .into_iter()
                .filter_map(|crd| {
                    let version = crd.spec.versions.into_iter().find(|v| v.storage)?;
                    let schema = version.schema?.open_api_v3_schema?;
                    Some((crd.spec.names.kind, schema))
                })
                .collect()
        })
        .get(kind)
}

/// The kinds [`schema_of`] knows.
pub fn kinds() -> Vec<String> {
    crate::resources::crds()
        .into_iter()
        .map(|crd| crd.spec.names.kind)
        .collect()
}

/// Checks `object` (a whole manifest) and drops the nulls the API server would prune
/// (a null in a field that is not nullable), so the typed read sees what the server stores.
pub fn check(object: &mut Value, schema: &JSONSchemaProps) -> Vec<Problem> {
    let mut problems = Vec::new();
    node(object, schema, "", true, &mut problems);
    problems
}

fn node(
    value: &mut Value,
    schema: &JSONSchemaProps,
    path: &str,
    root: bool,
    out: &mut Vec<Problem>,
) {
    let shown = if path.is_empty() { "<root>" } else { path };
    if value.is_null() && schema.nullable == Some(true) {
        return;
    }
    if let Some(expected) = schema.type_.as_deref()
        && schema.x_kubernetes_int_or_string != Some(true)
        && !type_matches(value, expected)
    {
        out.push(problem(
            path,
            format!(
                "{shown}: Invalid value: \"{}\": {shown} in body must be of type {expected}: \"{}\"",
                type_name(value),
                type_name(value)
            ),
        ));
        return;
    }
    if let Some(allowed) = &schema.enum_
        && !allowed.iter().any(|a| a.0 == *value)
    {
        let list: Vec<String> = allowed.iter().map(|a| a.0.to_string()).collect();
        out.push(problem(
            path,
            format!(
                "{shown}: Unsupported value: {value}: supported values: {}",
                list.join(", ")
            ),
        ));
    }
    match value {
        Value::String(s) => string(s, schema, path, shown, out),
        Value::Number(n) => {
            let n = n.as_f64().unwrap_or(f64::NAN);
            if let Some(min) = schema.minimum
                && n < min
            {
                out.push(problem(
                    path,
                    format!("{shown} in body should be greater than or equal to {min}"),
                ));
            }
            if let Some(max) = schema.maximum
                && n > max
            {
                out.push(problem(
                    path,
                    format!("{shown} in body should be less than or equal to {max}"),
                ));
            }
        }
        Value::Array(items) => {
            if let Some(min) = schema.min_items
                && (items.len() as i64) < min
            {
                out.push(problem(
                    path,
                    format!("{shown} in body should have at least {min} items"),
                ));
            }
            if let Some(max) = schema.max_items
                && items.len() as i64 > max
            {
                out.push(problem(
                    path,
                    format!(
                        "{shown}: Too many: {}: must have at most {max} items",
                        items.len()
                    ),
                ));
            }
            if let Some(JSONSchemaPropsOrArray::Schema(item_schema)) = &schema.items {
                for (i, item) in items.iter_mut().enumerate() {
                    node(item, item_schema, &format!("{path}[{i}]"), false, out);
                }
            }
        }
        Value::Object(_) => object(value, schema, path, root, out),
        Value::Bool(_) | Value::Null => {}
    }
    for v in schema.x_kubernetes_validations.iter().flatten() {
        let holds = cel::Rule::parse(&v.rule).map(|rule| rule.holds(value));
        if holds == Some(true) {
            continue;
        }
        let at = match v.field_path.as_deref() {
            Some(field) if path.is_empty() => field.trim_start_matches('.').to_string(),
            Some(field) => format!("{path}{field}"),
            None => path.to_string(),
        };
        let message = match holds {
            Some(_) => v
                .message
                .clone()
                .unwrap_or_else(|| format!("failed rule: {}", v.rule)),
            // Unreachable while `every_crd_rule_has_a_local_evaluator` passes; refuse rather
            // than accept what the API server may refuse.
            None => format!(
                "rule `{}` cannot be checked by this version of idgap",
                v.rule
            ),
        };
        let shown = if at.is_empty() { "<root>" } else { at.as_str() };
        out.push(problem(
            &at,
            format!(
                "{shown}: Invalid value: \"{}\": {message}",
                type_name(value)
            ),
        ));
    }
}

fn string(s: &str, schema: &JSONSchemaProps, path: &str, shown: &str, out: &mut Vec<Problem>) {
    let chars = s.chars().count() as i64;
    if let Some(min) = schema.min_length
        && chars < min
    {
        out.push(problem(
            path,
            format!("{shown} in body should be at least {min} chars long"),
        ));
    }
    if let Some(max) = schema.max_length
        && chars > max
    {
        out.push(problem(
            path,
            format!("{shown}: Too long: may not be more than {max} bytes"),
        ));
    }
    if let Some(pattern) = &schema.pattern
        && !regex_for(pattern).is_some_and(|r| r.is_match(s))
    {
        let hint = if pattern == crate::resources::DURATION_PATTERN {
            " (a duration such as 30m, 1h or 1h30m)"
        } else {
            ""
        };
        out.push(problem(
            path,
            format!("{shown} in body should match '{pattern}'{hint}"),
        ));
    }
}

fn object(
    value: &mut Value,
    schema: &JSONSchemaProps,
    path: &str,
    root: bool,
    out: &mut Vec<Problem>,
) {
    let Value::Object(map) = value else { return };
    let properties = schema.properties.as_ref();
    let keys: Vec<String> = map.keys().cloned().collect();
    for key in keys {
        let child_path = if path.is_empty() {
            key.clone()
        } else {
            format!("{path}.{key}")
        };
        // The API server reads these itself, whatever the schema says.
        if root && matches!(key.as_str(), "apiVersion" | "kind" | "metadata") {
            continue;
        }
        let child_schema =
            properties
                .and_then(|p| p.get(&key))
                .or(match &schema.additional_properties {
                    Some(JSONSchemaPropsOrBool::Schema(s)) => Some(s.as_ref()),
                    _ => None,
                });
        match child_schema {
            // The status is the operator's to write; `kubectl apply` leaves it alone.
            Some(_) if root && key == "status" => {}
            Some(s) => {
                if map[&key].is_null() && s.nullable != Some(true) {
                    map.remove(&key);
                    continue;
                }
                let child = map.get_mut(&key).expect("key present");
                node(child, s, &child_path, false, out);
            }
            None if schema.x_kubernetes_preserve_unknown_fields == Some(true)
                || matches!(
                    schema.additional_properties,
                    Some(JSONSchemaPropsOrBool::Bool(true))
                ) => {}
            None => {
                let known: Vec<&str> = properties
                    .map(|p| p.keys().map(String::as_str).collect())
                    .unwrap_or_default();
                let hint = nearest(&key, &known)
                    .map(|k| format!("; did you mean `{k}`?"))
                    .unwrap_or_default();
                out.push(problem(
                    &child_path,
                    format!("unknown field \"{child_path}\"{hint}"),
                ));
            }
        }
    }
    for required in schema.required.iter().flatten() {
        if !map.contains_key(required) {
            let at = if path.is_empty() {
                required.clone()
            } else {
                format!("{path}.{required}")
            };
            out.push(problem(&at, format!("{at}: Required value")));
        }
    }
}

fn problem(path: &str, message: String) -> Problem {
    Problem {
        path: path.to_string(),
        message,
    }
}

fn type_matches(value: &Value, expected: &str) -> bool {
    match expected {
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "boolean" => value.is_boolean(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        _ => true,
    }
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Compiled once per pattern: the CRDs hold a few dozen.
fn regex_for(pattern: &str) -> Option<regex::Regex> {
    static CACHE: OnceLock<std::sync::Mutex<HashMap<String, Option<regex::Regex>>>> =
        OnceLock::new();
    let mut cache = CACHE
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    cache
        .entry(pattern.to_string())
        .or_insert_with(|| regex::Regex::new(pattern).ok())
        .clone()
}

/// The known field a typo most likely meant: the same letters in another case, or one
/// within a few edits (`adminProfile` → `adminProfiles`, `enviroment` → `environment`).
pub fn nearest<'a>(typed: &str, known: &[&'a str]) -> Option<&'a str> {
    let lower = typed.to_ascii_lowercase();
    known
        .iter()
        .map(|k| (edit_distance(&lower, &k.to_ascii_lowercase()), *k))
        .filter(|(d, k)| *d <= 3 && *d * 3 <= k.len().max(typed.len()))
        .min()
        .map(|(_, k)| k)
}

/// Levenshtein distance over chars.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = if ca == *cb {
                diagonal
            } else {
                1 + diagonal.min(above).min(row[j])
            };
            diagonal = above;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn problems(kind: &str, mut object: Value) -> Vec<String> {
        check(&mut object, schema_of(kind).unwrap())
            .into_iter()
            .map(|p| p.message)
            .collect()
    }

    #[test]
    fn typos_get_the_nearest_field() {
        assert_eq!(
            nearest("adminProfile", &["adminProfiles", "disabled"]),
            Some("adminProfiles")
        );
        assert_eq!(
            nearest("enviroment", &["environment", "loginUrl"]),
            Some("environment")
        );
        assert_eq!(
            nearest(
                "identityProvidersRefs",
                &["identityProviderRefs", "interval"]
            ),
            Some("identityProviderRefs")
        );
        assert_eq!(nearest("schedule", &["suspend", "rules", "auth"]), None);
    }

    #[test]
    fn the_generated_schema_refuses_typos_and_prunes_nulls() {
        let got = problems(
            "SalesforceIntegration",
            json!({"apiVersion": "idgap.io/v1alpha1", "kind": "SalesforceIntegration", "metadata": {"name": "a"},
                   "spec": {"interval": null, "environment": "sandbox",
                            "auth": {"refreshToken": {"clientId": {"name": "s", "key": "k"}, "refreshToken": {"name": "s", "key": "r"}}},
                            "rules": {"adminProfile": ["Sys Admin"]}}}),
        );
        assert_eq!(
            got,
            ["unknown field \"spec.rules.adminProfile\"; did you mean `adminProfiles`?"]
        );
        let mut sandbox = json!({"spec": {"enviroment": "sandbox"}});
        let p = check(&mut sandbox, schema_of("SalesforceIntegration").unwrap());
        assert_eq!(
            p[0].message,
            "unknown field \"spec.enviroment\"; did you mean `environment`?"
        );
        assert_eq!(p[1].message, "spec.auth: Required value");
    }
}
