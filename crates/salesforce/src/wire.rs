//! Small parsers for Salesforce's wire formats: datetimes, `Sforce-Limit-Info`, error bodies.

use jiff::Timestamp;
use serde::{Deserialize, Deserializer};

/// Parses a REST datetime (`2023-07-23T16:18:23.000+0000`) or an RFC 3339 instant.
pub fn parse_datetime(s: &str) -> Option<Timestamp> {
    let s = s.trim();
    jiff::fmt::strtime::parse("%Y-%m-%dT%H:%M:%S%.f%z", s)
        .ok()
        .and_then(|t| t.to_timestamp().ok())
        .or_else(|| s.parse::<Timestamp>().ok())
}

/// A SOQL datetime literal (whole seconds, UTC): `2024-01-02T03:04:05Z`. Fractions are
/// dropped because SOQL documents only whole-second literals; callers compare with `>=`
/// and filter the rest locally.
pub fn soql_datetime(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// The start of `t`'s second.
pub fn floor_second(t: Timestamp) -> Timestamp {
    Timestamp::from_second(t.as_second()).unwrap_or(t)
}

/// `(used, limit)` from `Sforce-Limit-Info: api-usage=18/5000; api-bursts=1/750`.
pub fn parse_limit_info(value: &str) -> Option<(u64, u64)> {
    value.split([';', ',']).find_map(|item| {
        let (k, v) = item.trim().split_once('=')?;
        if !k.trim().eq_ignore_ascii_case("api-usage") {
            return None;
        }
        let (used, limit) = v.trim().split_once('/')?;
        Some((used.trim().parse().ok()?, limit.trim().parse().ok()?))
    })
}

#[derive(Debug, Deserialize)]
struct ApiError {
    #[serde(rename = "errorCode")]
    error_code: String,
    #[serde(default)]
    message: String,
}

/// The first `{errorCode, message}` of a REST error body (an array; a single object is
/// accepted too).
pub fn parse_error_body(body: &[u8]) -> Option<(String, String)> {
    let first = match serde_json::from_slice::<Vec<ApiError>>(body) {
        Ok(list) => list.into_iter().next()?,
        Err(_) => serde_json::from_slice::<ApiError>(body).ok()?,
    };
    Some((first.error_code, first.message.trim().to_string()))
}

/// True when `body` looks like an HTML page rather than an API answer.
pub fn looks_like_html(body: &[u8]) -> bool {
    let head: String = String::from_utf8_lossy(&body[..body.len().min(256)])
        .trim_start()
        .to_ascii_lowercase();
    head.starts_with("<!doctype html")
        || head.starts_with("<html")
        || head.starts_with("<head")
        || head.starts_with("<body")
}

/// Serde helper for optional Salesforce datetimes.
pub(crate) fn opt_datetime<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Timestamp>, D::Error> {
    let raw: Option<String> = Option::deserialize(d)?;
    match raw {
        None => Ok(None),
        Some(s) => parse_datetime(&s)
            .map(Some)
            .ok_or_else(|| serde::de::Error::custom(format!("not a Salesforce datetime: {s}"))),
    }
}

/// Serde helper for required Salesforce datetimes.
pub(crate) fn datetime<'de, D: Deserializer<'de>>(d: D) -> Result<Timestamp, D::Error> {
    let s = String::deserialize(d)?;
    parse_datetime(&s)
        .ok_or_else(|| serde::de::Error::custom(format!("not a Salesforce datetime: {s}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn salesforce_datetimes() {
        let t = parse_datetime("2023-07-23T16:18:23.000+0000").unwrap();
        assert_eq!(t.to_string(), "2023-07-23T16:18:23Z");
        let t = parse_datetime("2023-07-23T18:18:23.250+0200").unwrap();
        assert_eq!(
            t.as_millisecond(),
            parse_datetime("2023-07-23T16:18:23.25Z")
                .unwrap()
                .as_millisecond()
        );
        assert!(parse_datetime("2023-07-23").is_none());
        assert!(parse_datetime("yesterday").is_none());
        assert_eq!(soql_datetime(t), "2023-07-23T16:18:23Z");
        assert_eq!(floor_second(t).as_millisecond() % 1000, 0);
    }

    #[test]
    fn limit_info() {
        assert_eq!(parse_limit_info("api-usage=18/5000"), Some((18, 5000)));
        assert_eq!(
            parse_limit_info("api-usage=10018/100000; per-app-api-usage=17/250(appName=sample)"),
            Some((10018, 100000))
        );
        assert_eq!(
            parse_limit_info("api-bursts=1/750;api-usage=7/15000"),
            Some((7, 15000))
        );
        assert_eq!(parse_limit_info("per-app-api-usage=17/250"), None);
        assert_eq!(parse_limit_info("api-usage=abc/5"), None);
    }

    #[test]
    fn error_bodies() {
        let body =
            br#"[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]"#;
        assert_eq!(
            parse_error_body(body),
            Some((
                "INVALID_SESSION_ID".into(),
                "Session expired or invalid".into()
            ))
        );
        let with_fields = br#"[{"message":"\nSELECT Foo FROM User\n ^\nNo such column","errorCode":"INVALID_FIELD","fields":["Foo"]}]"#;
        assert_eq!(parse_error_body(with_fields).unwrap().0, "INVALID_FIELD");
        assert_eq!(
            parse_error_body(br#"{"errorCode":"NOT_FOUND","message":"x"}"#)
                .unwrap()
                .0,
            "NOT_FOUND"
        );
        assert_eq!(parse_error_body(b"<html>oops</html>"), None);
        assert_eq!(parse_error_body(b"[]"), None);
        assert!(looks_like_html(b"  <!DOCTYPE html><html>"));
        assert!(!looks_like_html(b"[{}]"));
    }
}

/// Fuzz-style properties for the wire parsers, and the JSON mutation helpers the other
/// modules' robustness tests share: hostile input must give `None`/`Err`, never a panic.
#[cfg(test)]
pub(crate) mod robustness {
    use super::*;
    pub(crate) use idgap_mutate::{Count, apply, config, lossy_json, mutation, prefixes};
    use proptest::prelude::*;
    use serde_json::{Value, json};

    fn error_body() -> Value {
        json!([{ "message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID", "fields": ["Id"] }])
    }

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Dated {
        #[serde(default, deserialize_with = "opt_datetime")]
        maybe: Option<Timestamp>,
        #[serde(deserialize_with = "datetime")]
        always: Timestamp,
    }

    proptest! {
        #![proptest_config(config())]

        #[test]
        fn datetime_never_panics_on_any_text(s in any::<String>()) {
            if let Some(t) = parse_datetime(&s) {
                let _ = soql_datetime(t);
                prop_assert!(floor_second(t) <= t);
            }
        }

        #[test]
        fn datetime_accepts_exactly_the_valid_component_ranges(
            y in 0i32..=12_000, mo in 0u8..=13, d in 0u8..=32, h in 0u8..=25, mi in 0u8..=61,
            s in 0u8..=61, ms in 0u16..=999, minus in any::<bool>(), oh in 0u8..=30, om in 0u8..=61,
        ) {
            let sign = if minus { '-' } else { '+' };
            let text = format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{ms:03}{sign}{oh:02}{om:02}");
            let parsed = parse_datetime(&text);
            let plainly_valid = (2..=9998).contains(&y) && (1..=12).contains(&mo) && (1..=28).contains(&d)
                && h < 24 && mi < 60 && s < 60 && oh < 18 && om < 60;
            if plainly_valid {
                let t = parsed.expect("a well-formed datetime parses");
                let local = jiff::civil::datetime(y as i16, mo as i8, d as i8, h as i8, mi as i8, s as i8, i32::from(ms) * 1_000_000);
                let offset = i32::from(oh) * 3600 + i32::from(om) * 60;
                let offset = jiff::tz::Offset::from_seconds(if minus { -offset } else { offset }).unwrap();
                prop_assert_eq!(t, local.to_zoned(offset.to_time_zone()).unwrap().timestamp());
            }
            let impossible = mo == 0 || mo > 12 || d == 0 || d > 31 || h > 23 || mi > 59;
            if impossible {
                prop_assert!(parsed.is_none(), "{text} parsed as {parsed:?}");
            }
        }

        #[test]
        fn datetime_fields_in_json_never_panic(m in mutation()) {
            let valid = json!({ "maybe": "2023-07-23T16:18:23.000+0000", "always": "2024-02-29T23:59:59Z" });
            let _ = serde_json::from_slice::<Dated>(&apply(&valid, &m));
        }

        #[test]
        fn limit_info_never_panics_on_any_text(s in any::<String>()) {
            if let Some((used, limit)) = parse_limit_info(&s) {
                prop_assert!(s.to_ascii_lowercase().contains("api-usage"));
                prop_assert!(s.contains(&used.to_string()) && s.contains(&limit.to_string()));
            }
        }

        #[test]
        fn limit_info_reads_any_figures_in_any_position(
            used in any::<u64>(), limit in any::<u64>(), before in any::<bool>(),
            noise in "[a-z-]{1,12}=[0-9]{1,25}/[0-9a-z()=]{1,25}",
        ) {
            let pair = format!("api-usage={used}/{limit}");
            let header = if before { format!("{noise}; {pair}") } else { format!("{pair};{noise}") };
            prop_assert_eq!(parse_limit_info(&header), Some((used, limit)));
        }

        #[test]
        fn limit_info_refuses_out_of_range_or_signed_figures(
            big in "[1-9][0-9]{20,40}", small in any::<u64>(), neg in any::<bool>(),
        ) {
            let header = if neg { format!("api-usage=-{small}/{small}") } else { format!("api-usage={big}/{small}") };
            prop_assert_eq!(parse_limit_info(&header), None);
        }

        #[test]
        fn error_body_never_panics_on_any_bytes(body in prop::collection::vec(any::<u8>(), 0..512)) {
            let _ = parse_error_body(&body);
            let _ = looks_like_html(&body);
        }

        #[test]
        fn error_body_is_read_whole_or_not_at_all(m in mutation()) {
            let body = apply(&error_body(), &m);
            if let Some((code, message)) = parse_error_body(&body) {
                // Whatever was accepted is really in the body: never a made-up default code.
                // (A body deeper than `Value` allows, in a skipped field, has no oracle here.)
                let Some(v) = lossy_json(&body) else { return Ok(()) };
                // The error is the list's first element or the body itself, and serde also reads
                // a struct from its positional form, `["CODE", "message"]`.
                let stated = |e: &Value| {
                    let (c, m) = match e {
                        Value::Array(fields) => (fields.first(), fields.get(1)),
                        object => (object.get("errorCode"), object.get("message")),
                    };
                    let m = m.and_then(Value::as_str).unwrap_or("").trim().to_string();
                    (c.and_then(Value::as_str).map(str::to_string), m)
                };
                let candidates = [v.as_array().and_then(|a| a.first()), Some(&v)];
                prop_assert!(
                    candidates.into_iter().flatten().map(stated).any(|s| s == (Some(code.clone()), message.clone())),
                    "{:?} from {}", (code, message), v
                );
            }
        }
    }

    #[test]
    fn a_cut_error_body_is_never_read() {
        for prefix in prefixes(&error_body()) {
            assert_eq!(parse_error_body(&prefix), None, "{prefix:?}");
        }
    }

    #[test]
    fn html_sniffing_survives_a_multibyte_character_across_the_cut() {
        let mut body = vec![b' '; 255];
        body.extend("é<html>".as_bytes());
        assert!(!looks_like_html(&body));
    }
}
