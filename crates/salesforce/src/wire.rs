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
