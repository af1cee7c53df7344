//! The CEL rules (`x-kubernetes-validations`) of idgap's CRDs, evaluated locally so `idgap
//! scan` refuses what `kubectl apply` refuses. Not a CEL interpreter: the CRDs use five
//! shapes of rule, each recognised from the rule's text in the generated CRD and evaluated
//! here. A new rule of another shape makes `every_crd_rule_has_a_local_evaluator` fail.

use serde_json::Value;

/// One recognised rule.
#[derive(Debug, Clone)]
pub enum Rule {
    /// `[has(self.a), has(self.b), …].filter(x, x).size() == 1`, and its two-field form
    /// `has(self.a) != has(self.b)`: exactly one of the fields is set.
    ExactlyOne(Vec<Vec<String>>),
    /// `!(has(self.a) && has(self.b))`.
    NotBoth(Vec<String>, Vec<String>),
    /// `self.all(r, self.exists_one(o, o.F == r.F))`: no two list items share field `F`.
    UniqueBy(String),
    /// `!has(self.a) || (has(self.b) && !self.b.matches('re'))`: when `a` is set, `b` must be
    /// set and not match `re` (CEL's `matches` is an RE2 search, as `regex` is).
    NeedsNotMatching {
        when: Vec<String>,
        field: Vec<String>,
        pattern: regex::Regex,
    },
}

impl PartialEq for Rule {
    fn eq(&self, other: &Rule) -> bool {
        format!("{self:?}") == format!("{other:?}")
    }
}

impl Eq for Rule {}

impl Rule {
    /// The evaluator for `rule`, if it has one of the known shapes.
    pub fn parse(rule: &str) -> Option<Rule> {
        let rule = rule.trim();
        if let Some(list) = rule
            .strip_prefix('[')
            .and_then(|r| r.strip_suffix("].filter(x, x).size() == 1"))
        {
            let fields: Option<Vec<_>> = list.split(',').map(has).collect();
            return fields.map(Rule::ExactlyOne);
        }
        if let Some((a, b)) = rule.split_once(" != ") {
            return Some(Rule::ExactlyOne(vec![has(a)?, has(b)?]));
        }
        if let Some(r) = needs_not_matching(rule) {
            return Some(r);
        }
        if let Some(inner) = rule.strip_prefix("!(").and_then(|r| r.strip_suffix(')')) {
            let (a, b) = inner.split_once(" && ")?;
            return Some(Rule::NotBoth(has(a)?, has(b)?));
        }
        unique_by(rule).map(Rule::UniqueBy)
    }

    /// Whether `value` (the object or list the rule is attached to) satisfies the rule.
    pub fn holds(&self, value: &Value) -> bool {
        match self {
            Rule::ExactlyOne(fields) => fields.iter().filter(|f| is_set(value, f)).count() == 1,
            Rule::NotBoth(a, b) => !(is_set(value, a) && is_set(value, b)),
            Rule::NeedsNotMatching {
                when,
                field,
                pattern,
            } => {
                !is_set(value, when)
                    || lookup(value, field)
                        .and_then(Value::as_str)
                        .is_some_and(|v| !pattern.is_match(v))
            }
            Rule::UniqueBy(field) => {
                let Some(items) = value.as_array() else {
                    return true;
                };
                items.iter().all(|r| {
                    items
                        .iter()
                        .filter(|o| o.get(field) == r.get(field))
                        .count()
                        == 1
                })
            }
        }
    }
}

/// `has(self.a.b)` → `["a", "b"]`.
fn has(text: &str) -> Option<Vec<String>> {
    let path = text.trim().strip_prefix("has(self.")?.strip_suffix(')')?;
    let fields: Vec<String> = path.split('.').map(str::to_string).collect();
    fields
        .iter()
        .all(|f| !f.is_empty() && f.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        .then_some(fields)
}

/// `self.all(r, self.exists_one(o, o.F == r.F))` → `F`, with any two variable names.
fn unique_by(rule: &str) -> Option<String> {
    let rest = rule.strip_prefix("self.all(")?.strip_suffix("))")?;
    let (r, rest) = rest.split_once(", self.exists_one(")?;
    let (o, cmp) = rest.split_once(", ")?;
    let (left, right) = cmp.split_once(" == ")?;
    let field = left.strip_prefix(o)?.strip_prefix('.')?;
    (right.strip_prefix(r)?.strip_prefix('.')? == field && !field.contains(['.', '(']))
        .then(|| field.to_string())
}

/// `!has(self.a) || (has(self.b) && !self.b.matches('re'))`.
fn needs_not_matching(rule: &str) -> Option<Rule> {
    let (when, rest) = rule.strip_prefix('!')?.split_once(" || (")?;
    let (field, rest) = rest.split_once(" && !self.")?;
    let field = has(field)?;
    let (path, pattern) = rest.split_once(".matches('")?;
    let pattern = pattern.strip_suffix("'))")?;
    if !path.split('.').eq(field.iter().map(String::as_str)) || pattern.contains('\'') {
        return None;
    }
    Some(Rule::NeedsNotMatching {
        when: has(when)?,
        field,
        pattern: regex::Regex::new(pattern).ok()?,
    })
}

/// `has()` on a field: present and not null. The API server's CEL treats a nullable field
/// set to null as absent too (kubernetes/kubernetes#106051), as serde does.
fn is_set(value: &Value, path: &[String]) -> bool {
    lookup(value, path).is_some()
}

/// The value at `path`, when every step is present and not null.
fn lookup<'v>(value: &'v Value, path: &[String]) -> Option<&'v Value> {
    let mut v = value;
    for field in path {
        match v.get(field) {
            Some(next) if !next.is_null() => v = next,
            _ => return None,
        }
    }
    Some(v)
}

#[cfg(test)]
mod tests {
    use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::{
        JSONSchemaProps, JSONSchemaPropsOrArray, JSONSchemaPropsOrBool,
    };
    use serde_json::json;

    use super::*;

    fn rules_of(schema: &JSONSchemaProps, out: &mut Vec<String>) {
        for v in schema.x_kubernetes_validations.iter().flatten() {
            out.push(v.rule.clone());
        }
        for p in schema.properties.iter().flat_map(|p| p.values()) {
            rules_of(p, out);
        }
        if let Some(JSONSchemaPropsOrArray::Schema(items)) = &schema.items {
            rules_of(items, out);
        }
        if let Some(JSONSchemaPropsOrBool::Schema(extra)) = &schema.additional_properties {
            rules_of(extra, out);
        }
    }

    #[test]
    fn every_crd_rule_has_a_local_evaluator() {
        let mut rules = Vec::new();
        for crd in crate::resources::crds() {
            for version in &crd.spec.versions {
                if let Some(schema) = version
                    .schema
                    .as_ref()
                    .and_then(|s| s.open_api_v3_schema.as_ref())
                {
                    rules_of(schema, &mut rules);
                }
            }
        }
        assert_eq!(rules.len(), 7, "the CRDs' rules: {rules:?}");
        for rule in rules {
            assert!(
                Rule::parse(&rule).is_some(),
                "no local evaluator for `{rule}`"
            );
        }
    }

    #[test]
    fn shapes_evaluate_like_cel() {
        let one = Rule::parse("[has(self.a), has(self.b), has(self.c)].filter(x, x).size() == 1")
            .unwrap();
        assert!(one.holds(&json!({"a": 1})));
        assert!(!one.holds(&json!({"a": 1, "c": {}})));
        assert!(!one.holds(&json!({})));
        assert!(!one.holds(&json!({"a": null})));
        let two = Rule::parse("has(self.a) != has(self.b)").unwrap();
        assert!(two.holds(&json!({"b": 1})) && !two.holds(&json!({"a": 1, "b": 2})));
        let not_both = Rule::parse("!(has(self.spec.a) && has(self.spec.b))").unwrap();
        assert!(not_both.holds(&json!({"spec": {"a": 1}})));
        assert!(!not_both.holds(&json!({"spec": {"a": 1, "b": 2}})));
        let unique = Rule::parse("self.all(r, self.exists_one(o, o.name == r.name))").unwrap();
        assert_eq!(unique, Rule::UniqueBy("name".into()));
        assert!(unique.holds(&json!([{"name": "a"}, {"name": "b"}])));
        assert!(!unique.holds(&json!([{"name": "a"}, {"name": "b"}, {"name": "a"}])));
        let needs = Rule::parse(
            "!has(self.spec.a) || (has(self.spec.b) && !self.spec.b.matches('^https?://(x|y)[.]com/?$'))",
        )
        .unwrap();
        assert!(needs.holds(&json!({"spec": {}})));
        assert!(needs.holds(&json!({"spec": {"a": {}, "b": "https://acme.my.com"}})));
        assert!(!needs.holds(&json!({"spec": {"a": {}}})));
        assert!(!needs.holds(&json!({"spec": {"a": {}, "b": "https://x.com"}})));
        assert_eq!(Rule::parse("self.size() > 2"), None);
    }
}
