//! A small SOQL subset: `SELECT` fields (dotted parent relationships included) or
//! `COUNT()`, `FROM`, `WHERE` with `=`, `!=`, `<>`, `<`, `<=`, `>`, `>=`, `LIKE`, `IN`,
//! `NOT IN`, `AND`, `OR`, `NOT` and parentheses, `ORDER BY` (ASC/DESC, NULLS FIRST/LAST)
//! and `LIMIT`. Enough for what a sync client sends; anything else is `MALFORMED_QUERY`.

use std::cmp::Ordering;

use jiff::Timestamp;

use super::org::OrgData;
use super::schema::{Obj, Val, parent, scalar};

#[derive(Debug, Clone)]
pub(crate) struct FieldPath {
    pub rels: Vec<(&'static str, Obj)>,
    pub field: &'static str,
}

#[derive(Debug, Clone)]
pub(crate) enum Select {
    Count,
    Fields(Vec<FieldPath>),
}

#[derive(Debug, Clone)]
pub(crate) struct OrderKey {
    pub path: FieldPath,
    pub ascending: bool,
    pub nulls_first: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct Query {
    pub object: Obj,
    pub select: Select,
    pub filter: Option<Cond>,
    pub order: Vec<OrderKey>,
    pub limit: Option<usize>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Lit {
    Null,
    Bool(bool),
    Num(f64),
    Str(String),
    Time(Timestamp),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Like,
}

#[derive(Debug, Clone)]
pub(crate) enum Cond {
    Or(Vec<Cond>),
    And(Vec<Cond>),
    Not(Box<Cond>),
    Cmp(FieldPath, Op, Lit),
    In(FieldPath, Vec<Lit>, bool),
}

/// Why a query was refused, in Salesforce's error codes.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum QueryError {
    Malformed(String),
    InvalidType(String),
    InvalidField {
        field: String,
        object: String,
        column: usize,
    },
}

/// What the caller lets this session see (permissions, edition).
pub(crate) trait Visibility {
    fn object_visible(&self, obj: Obj) -> bool;
    fn field_visible(&self, obj: Obj, field: &str) -> bool;
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    Lit(String),
    Sym(&'static str),
}

fn tokenize(q: &str) -> Result<Vec<(Tok, usize)>, QueryError> {
    let bytes = q.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i] as char;
        let start = i;
        if c.is_whitespace() {
            i += 1;
        } else if c == '\'' {
            let mut s = String::new();
            i += 1;
            loop {
                match bytes.get(i).map(|b| *b as char) {
                    None => {
                        return Err(QueryError::Malformed("unterminated string literal".into()));
                    }
                    Some('\\') => {
                        if let Some(n) = bytes.get(i + 1) {
                            s.push(*n as char);
                        }
                        i += 2;
                    }
                    Some('\'') => {
                        i += 1;
                        break;
                    }
                    Some(_) => {
                        let ch = q[i..].chars().next().expect("in bounds");
                        s.push(ch);
                        i += ch.len_utf8();
                    }
                }
            }
            out.push((Tok::Str(s), start));
        } else if c.is_ascii_digit()
            || (c == '-' && bytes.get(i + 1).is_some_and(|b| b.is_ascii_digit()))
        {
            i += 1;
            while i < bytes.len()
                && (bytes[i].is_ascii_alphanumeric() || b":.+-".contains(&bytes[i]))
            {
                i += 1;
            }
            out.push((Tok::Lit(q[start..i].to_string()), start));
        } else if c.is_ascii_alphabetic() || c == '_' {
            while i < bytes.len()
                && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_' || bytes[i] == b'.')
            {
                i += 1;
            }
            out.push((Tok::Ident(q[start..i].to_string()), start));
        } else {
            let two = q.get(i..i + 2).unwrap_or("");
            let sym = match two {
                "!=" => Some("!="),
                "<>" => Some("<>"),
                "<=" => Some("<="),
                ">=" => Some(">="),
                _ => None,
            };
            if let Some(s) = sym {
                out.push((Tok::Sym(s), start));
                i += 2;
                continue;
            }
            let one = match c {
                '(' => "(",
                ')' => ")",
                ',' => ",",
                '=' => "=",
                '<' => "<",
                '>' => ">",
                _ => {
                    return Err(QueryError::Malformed(format!(
                        "unexpected character '{c}' at column {}",
                        i + 1
                    )));
                }
            };
            out.push((Tok::Sym(one), start));
            i += 1;
        }
    }
    Ok(out)
}

struct Parser<'a, V: Visibility> {
    toks: Vec<(Tok, usize)>,
    pos: usize,
    object: Obj,
    vis: &'a V,
}

fn is_kw(t: Option<&Tok>, kw: &str) -> bool {
    matches!(t, Some(Tok::Ident(s)) if s.eq_ignore_ascii_case(kw))
}

/// Parses `soql` against the schema, checking object and field visibility.
pub(crate) fn parse(soql: &str, vis: &impl Visibility) -> Result<Query, QueryError> {
    let toks = tokenize(soql)?;
    // Find FROM first: fields are resolved against the object.
    let from_at = toks
        .iter()
        .position(|(t, _)| is_kw(Some(t), "from"))
        .ok_or_else(|| QueryError::Malformed("unexpected token: missing FROM".into()))?;
    let object_name = match toks.get(from_at + 1) {
        Some((Tok::Ident(s), _)) => s.clone(),
        _ => return Err(QueryError::Malformed("unexpected token after FROM".into())),
    };
    let object = Obj::from_name(&object_name)
        .filter(|o| vis.object_visible(*o))
        .ok_or(QueryError::InvalidType(object_name))?;
    let mut p = Parser {
        toks,
        pos: 0,
        object,
        vis,
    };
    p.expect_kw("select")?;
    let select = p.select_list(from_at)?;
    p.pos = from_at + 2;
    let filter = if p.eat_kw("where") {
        Some(p.or_cond()?)
    } else {
        None
    };
    let mut order = Vec::new();
    if p.eat_kw("order") {
        p.expect_kw("by")?;
        loop {
            let path = p.field_path()?;
            let ascending = if p.eat_kw("desc") {
                false
            } else {
                p.eat_kw("asc");
                true
            };
            let mut nulls_first = ascending;
            if p.eat_kw("nulls") {
                nulls_first = if p.eat_kw("first") {
                    true
                } else {
                    p.expect_kw("last")?;
                    false
                };
            }
            order.push(OrderKey {
                path,
                ascending,
                nulls_first,
            });
            if !p.eat_sym(",") {
                break;
            }
        }
    }
    let limit = if p.eat_kw("limit") {
        match p.next() {
            Some(Tok::Lit(n)) => Some(
                n.parse()
                    .map_err(|_| QueryError::Malformed(format!("bad LIMIT {n}")))?,
            ),
            _ => return Err(QueryError::Malformed("LIMIT needs a number".into())),
        }
    } else {
        None
    };
    if let Some(t) = p.peek() {
        return Err(QueryError::Malformed(format!("unexpected token: {t:?}")));
    }
    Ok(Query {
        object,
        select,
        filter,
        order,
        limit,
    })
}

impl<V: Visibility> Parser<'_, V> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|(t, _)| t)
    }
    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).map(|(t, _)| t.clone());
        self.pos += 1;
        t
    }
    fn eat_kw(&mut self, kw: &str) -> bool {
        if is_kw(self.peek(), kw) {
            self.pos += 1;
            true
        } else {
            false
        }
    }
    fn expect_kw(&mut self, kw: &str) -> Result<(), QueryError> {
        if self.eat_kw(kw) {
            Ok(())
        } else {
            Err(QueryError::Malformed(format!(
                "expected {}",
                kw.to_uppercase()
            )))
        }
    }
    fn eat_sym(&mut self, s: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Sym(x)) if *x == s) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn select_list(&mut self, end: usize) -> Result<Select, QueryError> {
        if is_kw(self.peek(), "count")
            && self.toks.get(self.pos + 1).map(|t| &t.0) == Some(&Tok::Sym("("))
        {
            self.pos += 2;
            if !self.eat_sym(")") || self.pos != end {
                return Err(QueryError::Malformed(
                    "only COUNT() is supported as an aggregate".into(),
                ));
            }
            return Ok(Select::Count);
        }
        let mut fields = Vec::new();
        while self.pos < end {
            fields.push(self.field_path()?);
            if self.pos < end && !self.eat_sym(",") {
                return Err(QueryError::Malformed("expected ',' between fields".into()));
            }
        }
        if fields.is_empty() {
            return Err(QueryError::Malformed(
                "SELECT needs at least one field".into(),
            ));
        }
        Ok(Select::Fields(fields))
    }

    fn field_path(&mut self) -> Result<FieldPath, QueryError> {
        let (name, column) = match self.toks.get(self.pos) {
            Some((Tok::Ident(s), at)) => (s.clone(), at + 1),
            other => {
                return Err(QueryError::Malformed(format!(
                    "expected a field, found {other:?}"
                )));
            }
        };
        self.pos += 1;
        let invalid = || QueryError::InvalidField {
            field: name.clone(),
            object: self.object.name().to_string(),
            column,
        };
        let parts: Vec<&str> = name.split('.').collect();
        let mut obj = self.object;
        let mut rels = Vec::new();
        for rel in &parts[..parts.len() - 1] {
            let (canonical, target) = obj.relationship(rel).ok_or_else(invalid)?;
            if !self.vis.object_visible(target) {
                return Err(invalid());
            }
            rels.push((canonical, target));
            obj = target;
        }
        let field = obj
            .field(parts[parts.len() - 1])
            .filter(|f| self.vis.field_visible(obj, f))
            .ok_or_else(invalid)?;
        Ok(FieldPath { rels, field })
    }

    fn or_cond(&mut self) -> Result<Cond, QueryError> {
        let mut parts = vec![self.and_cond()?];
        while self.eat_kw("or") {
            parts.push(self.and_cond()?);
        }
        Ok(if parts.len() == 1 {
            parts.pop().expect("one")
        } else {
            Cond::Or(parts)
        })
    }

    fn and_cond(&mut self) -> Result<Cond, QueryError> {
        let mut parts = vec![self.factor()?];
        while self.eat_kw("and") {
            parts.push(self.factor()?);
        }
        Ok(if parts.len() == 1 {
            parts.pop().expect("one")
        } else {
            Cond::And(parts)
        })
    }

    fn factor(&mut self) -> Result<Cond, QueryError> {
        if self.eat_sym("(") {
            let c = self.or_cond()?;
            if !self.eat_sym(")") {
                return Err(QueryError::Malformed("expected ')'".into()));
            }
            return Ok(c);
        }
        if self.eat_kw("not") {
            return Ok(Cond::Not(Box::new(self.factor()?)));
        }
        let path = self.field_path()?;
        let negated_in = self.eat_kw("not");
        if self.eat_kw("in") {
            if !self.eat_sym("(") {
                return Err(QueryError::Malformed("expected '(' after IN".into()));
            }
            let mut list = Vec::new();
            loop {
                list.push(self.literal()?);
                if self.eat_sym(")") {
                    break;
                }
                if !self.eat_sym(",") {
                    return Err(QueryError::Malformed("expected ',' in IN list".into()));
                }
            }
            return Ok(Cond::In(path, list, negated_in));
        }
        if negated_in {
            return Err(QueryError::Malformed("expected IN after NOT".into()));
        }
        let op = match self.next() {
            Some(Tok::Sym("=")) => Op::Eq,
            Some(Tok::Sym("!=")) | Some(Tok::Sym("<>")) => Op::Ne,
            Some(Tok::Sym("<")) => Op::Lt,
            Some(Tok::Sym("<=")) => Op::Le,
            Some(Tok::Sym(">")) => Op::Gt,
            Some(Tok::Sym(">=")) => Op::Ge,
            Some(Tok::Ident(s)) if s.eq_ignore_ascii_case("like") => Op::Like,
            other => {
                return Err(QueryError::Malformed(format!(
                    "expected an operator, found {other:?}"
                )));
            }
        };
        Ok(Cond::Cmp(path, op, self.literal()?))
    }

    fn literal(&mut self) -> Result<Lit, QueryError> {
        match self.next() {
            Some(Tok::Str(s)) => Ok(Lit::Str(s)),
            Some(Tok::Ident(s)) if s.eq_ignore_ascii_case("null") => Ok(Lit::Null),
            Some(Tok::Ident(s)) if s.eq_ignore_ascii_case("true") => Ok(Lit::Bool(true)),
            Some(Tok::Ident(s)) if s.eq_ignore_ascii_case("false") => Ok(Lit::Bool(false)),
            Some(Tok::Lit(s)) => parse_literal(&s),
            other => Err(QueryError::Malformed(format!(
                "expected a value, found {other:?}"
            ))),
        }
    }
}

fn parse_literal(s: &str) -> Result<Lit, QueryError> {
    if s.contains('T') {
        return parse_soql_datetime(s)
            .map(Lit::Time)
            .ok_or_else(|| QueryError::Malformed(format!("invalid datetime literal {s}")));
    }
    if s.len() == 10 && s.as_bytes()[4] == b'-' {
        let date: jiff::civil::Date = s
            .parse()
            .map_err(|_| QueryError::Malformed(format!("invalid date literal {s}")))?;
        let ts = date
            .to_zoned(jiff::tz::TimeZone::UTC)
            .map_err(|_| QueryError::Malformed(format!("invalid date literal {s}")))?
            .timestamp();
        return Ok(Lit::Time(ts));
    }
    s.parse::<f64>()
        .map(Lit::Num)
        .map_err(|_| QueryError::Malformed(format!("invalid literal {s}")))
}

/// SOQL datetime literals: `2024-01-02T03:04:05Z`, with optional fraction, or an offset
/// `+hh:mm`/`-hh:mm` (and the REST output form `+0000`).
pub(crate) fn parse_soql_datetime(s: &str) -> Option<Timestamp> {
    if let Ok(t) = s.parse::<Timestamp>() {
        return Some(t);
    }
    jiff::fmt::strtime::parse("%Y-%m-%dT%H:%M:%S%.f%z", s)
        .ok()?
        .to_timestamp()
        .ok()
}

/// The value at `path` on row `idx` of `obj`; an empty lookup on the way gives null.
pub(crate) fn value(org: &OrgData, obj: Obj, idx: usize, path: &FieldPath) -> Val {
    let (mut o, mut i) = (obj, idx);
    for (rel, target) in &path.rels {
        match parent(org, o, i, rel) {
            Some(p) => {
                o = *target;
                i = p;
            }
            None => return Val::Null,
        }
    }
    scalar(org, o, i, path.field)
}

fn compare(v: &Val, lit: &Lit) -> Option<Ordering> {
    match (v, lit) {
        (Val::Bool(a), Lit::Bool(b)) => Some(a.cmp(b)),
        (Val::Int(a), Lit::Num(b)) => (*a as f64).partial_cmp(b),
        (Val::Str(a), Lit::Str(b)) => Some(a.to_lowercase().cmp(&b.to_lowercase())),
        (Val::Str(a), Lit::Num(b)) => Some(a.cmp(&b.to_string())),
        (Val::Time(a), Lit::Time(b)) => Some(a.cmp(b)),
        (Val::Time(a), Lit::Str(b)) => parse_soql_datetime(b).map(|b| a.cmp(&b)),
        _ => None,
    }
}

fn like(value: &str, pattern: &str) -> bool {
    let v = value.to_lowercase();
    let parts: Vec<String> = pattern
        .to_lowercase()
        .split('%')
        .map(str::to_string)
        .collect();
    if parts.len() == 1 {
        return v == parts[0];
    }
    let mut rest = v.as_str();
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            match rest.strip_prefix(part.as_str()) {
                Some(r) => rest = r,
                None => return false,
            }
        } else if i == parts.len() - 1 {
            return rest.ends_with(part.as_str());
        } else {
            match rest.find(part.as_str()) {
                Some(at) => rest = &rest[at + part.len()..],
                None => return false,
            }
        }
    }
    true
}

fn equal(v: &Val, lit: &Lit) -> bool {
    match (v, lit) {
        (Val::Null, Lit::Null) => true,
        (Val::Null, _) | (_, Lit::Null) => false,
        _ => compare(v, lit) == Some(Ordering::Equal),
    }
}

pub(crate) fn matches(org: &OrgData, obj: Obj, idx: usize, cond: &Cond) -> bool {
    match cond {
        Cond::Or(parts) => parts.iter().any(|c| matches(org, obj, idx, c)),
        Cond::And(parts) => parts.iter().all(|c| matches(org, obj, idx, c)),
        Cond::Not(c) => !matches(org, obj, idx, c),
        Cond::In(path, list, negated) => {
            let v = value(org, obj, idx, path);
            list.iter().any(|l| equal(&v, l)) != *negated
        }
        Cond::Cmp(path, op, lit) => {
            let v = value(org, obj, idx, path);
            match op {
                Op::Eq => equal(&v, lit),
                Op::Ne => !equal(&v, lit),
                Op::Like => matches!((&v, lit), (Val::Str(s), Lit::Str(p)) if like(s, p)),
                Op::Lt => compare(&v, lit) == Some(Ordering::Less),
                Op::Le => matches!(compare(&v, lit), Some(Ordering::Less | Ordering::Equal)),
                Op::Gt => compare(&v, lit) == Some(Ordering::Greater),
                Op::Ge => matches!(compare(&v, lit), Some(Ordering::Greater | Ordering::Equal)),
            }
        }
    }
}

fn order_vals(a: &Val, b: &Val, nulls_first: bool) -> Ordering {
    match (a, b) {
        (Val::Null, Val::Null) => Ordering::Equal,
        (Val::Null, _) => {
            if nulls_first {
                Ordering::Less
            } else {
                Ordering::Greater
            }
        }
        (_, Val::Null) => {
            if nulls_first {
                Ordering::Greater
            } else {
                Ordering::Less
            }
        }
        (Val::Bool(x), Val::Bool(y)) => x.cmp(y),
        (Val::Int(x), Val::Int(y)) => x.cmp(y),
        (Val::Str(x), Val::Str(y)) => x
            .to_lowercase()
            .cmp(&y.to_lowercase())
            .then_with(|| x.cmp(y)),
        (Val::Time(x), Val::Time(y)) => x.cmp(y),
        _ => Ordering::Equal,
    }
}

/// Runs the query: the matching row indexes in result order (after `ORDER BY` and `LIMIT`).
pub(crate) fn execute(org: &OrgData, q: &Query) -> Vec<u32> {
    let n = q.object.len(org);
    let mut rows: Vec<u32> = (0..n)
        .filter(|i| {
            q.filter
                .as_ref()
                .is_none_or(|c| matches(org, q.object, *i, c))
        })
        .map(|i| i as u32)
        .collect();
    if !q.order.is_empty() {
        let mut keyed: Vec<(Vec<Val>, u32)> = rows
            .iter()
            .map(|i| {
                let keys = q
                    .order
                    .iter()
                    .map(|k| value(org, q.object, *i as usize, &k.path))
                    .collect();
                (keys, *i)
            })
            .collect();
        keyed.sort_by(|(a, ia), (b, ib)| {
            for (k, (x, y)) in q.order.iter().zip(a.iter().zip(b.iter())) {
                let mut o = order_vals(x, y, k.nulls_first);
                if !k.ascending {
                    o = o.reverse();
                    // NULLS placement is absolute, not reversed.
                    if matches!(x, Val::Null) != matches!(y, Val::Null) {
                        o = o.reverse();
                    }
                }
                if o != Ordering::Equal {
                    return o;
                }
            }
            ia.cmp(ib)
        });
        rows = keyed.into_iter().map(|(_, i)| i).collect();
    }
    if let Some(limit) = q.limit {
        rows.truncate(limit);
    }
    rows
}

/// Appends one record as the REST API shapes it: `attributes`, then the selected fields,
/// parent relationships nested with their own `attributes`, empty lookups as `null`.
/// Written straight to JSON text: pages of 2,000 records stay cheap to serve.
pub(crate) fn write_record(
    out: &mut String,
    org: &OrgData,
    obj: Obj,
    idx: usize,
    fields: &[FieldPath],
    version: &str,
) {
    let paths: Vec<(&[(&'static str, Obj)], &'static str)> = fields
        .iter()
        .map(|f| (f.rels.as_slice(), f.field))
        .collect();
    write_level(out, org, obj, idx, &paths, version);
}

fn write_level(
    out: &mut String,
    org: &OrgData,
    obj: Obj,
    idx: usize,
    paths: &[(&[(&'static str, Obj)], &'static str)],
    version: &str,
) {
    out.push_str("{\"attributes\":{\"type\":\"");
    out.push_str(obj.name());
    out.push_str("\",\"url\":\"/services/data/");
    out.push_str(version);
    out.push_str("/sobjects/");
    out.push_str(obj.name());
    if let Some(id) = obj.id(org, idx) {
        out.push('/');
        out.push_str(&id);
    }
    out.push_str("\"}");
    let mut done_rels: Vec<&str> = Vec::new();
    for (rels, field) in paths {
        match rels.first() {
            None => {
                out.push(',');
                push_json_str(out, field);
                out.push(':');
                write_val(out, &scalar(org, obj, idx, field));
            }
            Some((rel, target)) => {
                if done_rels.contains(rel) {
                    continue;
                }
                done_rels.push(rel);
                out.push(',');
                push_json_str(out, rel);
                out.push(':');
                match parent(org, obj, idx, rel) {
                    Some(p) => {
                        let nested: Vec<(&[(&'static str, Obj)], &'static str)> = paths
                            .iter()
                            .filter(|(r, _)| r.first().is_some_and(|(n, _)| n == rel))
                            .map(|(r, f)| (&r[1..], *f))
                            .collect();
                        write_level(out, org, *target, p, &nested, version);
                    }
                    None => out.push_str("null"),
                }
            }
        }
    }
    out.push('}');
}

fn write_val(out: &mut String, v: &Val) {
    use std::fmt::Write;
    match v {
        Val::Null => out.push_str("null"),
        Val::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Val::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Val::Str(s) => push_json_str(out, s),
        Val::Time(t) => {
            out.push('"');
            out.push_str(&super::schema::format_datetime(*t));
            out.push('"');
        }
    }
}

/// Appends `s` as a JSON string literal.
pub(crate) fn push_json_str(out: &mut String, s: &str) {
    use std::fmt::Write;
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    struct All;
    impl Visibility for All {
        fn object_visible(&self, _: Obj) -> bool {
            true
        }
        fn field_visible(&self, _: Obj, _: &str) -> bool {
            true
        }
    }

    #[test]
    fn parses_relationships_where_order_limit() {
        let q = parse(
            "SELECT Id, Profile.Name FROM User WHERE (IsActive = true AND CreatedDate > 2024-01-01T00:00:00Z) OR Username IN ('a','b') ORDER BY CreatedDate DESC NULLS LAST LIMIT 5",
            &All,
        )
        .unwrap();
        assert_eq!(q.object, Obj::User);
        assert_eq!(q.limit, Some(5));
        assert!(
            matches!(q.select, Select::Fields(ref f) if f.len() == 2 && f[1].rels[0].0 == "Profile")
        );
    }

    #[test]
    fn unknown_field_and_object() {
        assert_eq!(
            parse("SELECT Id, Foo FROM User", &All).unwrap_err(),
            QueryError::InvalidField {
                field: "Foo".into(),
                object: "User".into(),
                column: 12
            }
        );
        assert_eq!(
            parse("SELECT Id FROM Missing__c", &All).unwrap_err(),
            QueryError::InvalidType("Missing__c".into())
        );
        assert!(matches!(
            parse("SELECT FROM User", &All),
            Err(QueryError::Malformed(_))
        ));
    }

    #[test]
    fn json_strings_are_escaped() {
        let mut out = String::new();
        push_json_str(&mut out, "a\"b\\c\nd\u{1}é");
        assert_eq!(
            serde_json::from_str::<String>(&out).unwrap(),
            "a\"b\\c\nd\u{1}é"
        );
    }

    #[test]
    fn like_patterns() {
        assert!(like("Weekly Export", "%export%"));
        assert!(like("abc", "a%"));
        assert!(!like("abc", "b%"));
    }
}
