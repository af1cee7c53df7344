//! Structured mutations of valid JSON responses, for the robustness properties of every parser
//! of external data (`idgap-salesforce`, `idgap-idp`): a hostile body must give an error,
//! never a panic, and a body that is accepted must be read whole. Test-only.

use proptest::prelude::*;
use proptest::sample::Index;
use serde_json::{Value, json};

#[derive(Debug, Clone)]
enum Step {
    Key(String),
    At(usize),
}

/// Every node of `v` as a path from the root (the root is the empty path).
fn paths(v: &Value) -> Vec<Vec<Step>> {
    fn walk(v: &Value, at: &mut Vec<Step>, out: &mut Vec<Vec<Step>>) {
        out.push(at.clone());
        match v {
            Value::Object(m) => {
                for (k, c) in m {
                    at.push(Step::Key(k.clone()));
                    walk(c, at, out);
                    at.pop();
                }
            }
            Value::Array(a) => {
                for (i, c) in a.iter().enumerate() {
                    at.push(Step::At(i));
                    walk(c, at, out);
                    at.pop();
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(v, &mut Vec::new(), &mut out);
    out
}

fn node<'a>(v: &'a mut Value, path: &[Step]) -> &'a mut Value {
    path.iter().fold(v, |v, s| match s {
        Step::Key(k) => &mut v[k.as_str()],
        Step::At(i) => &mut v[*i],
    })
}

fn nested(depth: usize) -> Value {
    (0..depth).fold(Value::Null, |v, _| Value::Array(vec![v]))
}

/// A hostile stand-in for a node: wrong types, extreme numbers, odd strings, deep nesting.
fn replacement(kind: u8, old: &Value) -> Value {
    match kind % 16 {
        0 => Value::Null,
        1 => json!(true),
        2 => json!(u64::MAX),
        3 => json!(i64::MIN),
        4 => json!(1e300),
        5 => json!(-0.5),
        6 => json!(""),
        7 => json!("\u{0}\u{202e}é😀\u{fffd}\n<html>"),
        8 => Value::String("x".repeat(70_000)),
        9 => json!([old]),
        10 => json!({ "k": old }),
        11 => nested(300),
        12 => nested(100),
        13 => json!({}),
        14 => json!([]),
        _ => json!("2023-07-23T16:18:23.000+0000"),
    }
}

/// One structured change to a valid response.
#[derive(Debug, Clone)]
pub enum Mutation {
    /// Replace a node with a hostile value.
    Replace(Index, u8),
    /// Drop a field (or array element).
    Remove(Index),
    /// Add an unknown field to an object (or repeat an array element).
    Extra(Index),
    /// Cut the serialized body short.
    Truncate(Index),
    /// Overwrite one byte (often making the body non-UTF-8 or non-JSON).
    Byte(Index, u8),
    /// Insert raw bytes anywhere.
    Splice(Index, Vec<u8>),
}

pub fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        3 => (any::<Index>(), any::<u8>()).prop_map(|(i, k)| Mutation::Replace(i, k)),
        1 => any::<Index>().prop_map(Mutation::Remove),
        1 => any::<Index>().prop_map(Mutation::Extra),
        1 => any::<Index>().prop_map(Mutation::Truncate),
        1 => (any::<Index>(), any::<u8>()).prop_map(|(i, b)| Mutation::Byte(i, b)),
        1 => (any::<Index>(), prop::collection::vec(any::<u8>(), 1..16))
            .prop_map(|(i, b)| Mutation::Splice(i, b)),
    ]
}

/// `valid` with `m` applied, serialized.
pub fn apply(valid: &Value, m: &Mutation) -> Vec<u8> {
    let bytes = serde_json::to_vec(valid).expect("a Value serializes");
    let all = paths(valid);
    let mut v = valid.clone();
    match m {
        Mutation::Replace(i, kind) => {
            let n = node(&mut v, i.get::<Vec<Step>>(&all));
            *n = replacement(*kind, n);
        }
        Mutation::Remove(i) => {
            let path = i.get::<Vec<Step>>(&all);
            if let Some((last, parent)) = path.split_last() {
                match (node(&mut v, parent), last) {
                    (Value::Object(o), Step::Key(k)) => drop(o.remove(k)),
                    (Value::Array(a), Step::At(n)) => drop(a.remove(*n)),
                    _ => {}
                }
            } else {
                v = Value::Null;
            }
        }
        Mutation::Extra(i) => match node(&mut v, i.get::<Vec<Step>>(&all)) {
            Value::Object(o) => drop(o.insert("unexpectedExtra".into(), json!([1, {}]))),
            Value::Array(a) if !a.is_empty() => a.push(a[0].clone()),
            _ => {}
        },
        Mutation::Truncate(i) => return bytes[..i.index(bytes.len())].to_vec(),
        Mutation::Byte(i, b) => {
            let mut bytes = bytes;
            let at = i.index(bytes.len());
            bytes[at] = *b;
            return bytes;
        }
        Mutation::Splice(i, extra) => {
            let mut bytes = bytes;
            let at = i.index(bytes.len() + 1);
            bytes.splice(at..at, extra.iter().copied());
            return bytes;
        }
    }
    serde_json::to_vec(&v).expect("a Value serializes")
}

/// Every strict prefix of `valid`'s serialization.
pub fn prefixes(valid: &Value) -> Vec<Vec<u8>> {
    let bytes = serde_json::to_vec(valid).expect("a Value serializes");
    (0..bytes.len()).map(|n| bytes[..n].to_vec()).collect()
}

/// Test case counts stay modest so `cargo test` is quick; `PROPTEST_CASES` raises them.
pub fn config() -> ProptestConfig {
    ProptestConfig {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|c| c.parse().ok())
            .unwrap_or(256),
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// `body` as a JSON tree. Lossy, because `serde_json` does not check UTF-8 inside the
/// strings of fields a typed parse skips, so such a body is accepted there (harmlessly:
/// the skipped text is never used) while a strict `Value` parse would refuse it.
pub fn lossy_json(body: &[u8]) -> Option<Value> {
    serde_json::from_str(&String::from_utf8_lossy(body)).ok()
}

/// The element count of a JSON array, `None` for any other value. Nested values are
/// skipped the way typed parses skip unknown fields: without `Value`'s depth limit.
#[derive(Debug, PartialEq)]
pub struct Count(pub Option<usize>);

impl<'de> serde::Deserialize<'de> for Count {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::{IgnoredAny, MapAccess, SeqAccess, Visitor};
        struct Counter;
        impl<'de> Visitor<'de> for Counter {
            type Value = Count;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Count, A::Error> {
                let mut n = 0;
                while seq.next_element::<IgnoredAny>()?.is_some() {
                    n += 1;
                }
                Ok(Count(Some(n)))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Count, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Count(None))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Count, E> {
                Ok(Count(None))
            }
            fn visit_i64<E>(self, _: i64) -> Result<Count, E> {
                Ok(Count(None))
            }
            fn visit_u64<E>(self, _: u64) -> Result<Count, E> {
                Ok(Count(None))
            }
            fn visit_f64<E>(self, _: f64) -> Result<Count, E> {
                Ok(Count(None))
            }
            fn visit_str<E>(self, _: &str) -> Result<Count, E> {
                Ok(Count(None))
            }
            fn visit_unit<E>(self) -> Result<Count, E> {
                Ok(Count(None))
            }
        }
        d.deserialize_any(Counter)
    }
}
