//! A duration field of a spec (`interval`, `auditLookback`, `findings.eventRetention`),
//! parsed once when the resource is read so no caller parses the string again.

use std::borrow::Cow;
use std::fmt;
use std::time::Duration;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Flux's duration syntax: `30m`, `1h`, `1h30m`, `90s`, `500ms`.
pub const DURATION_PATTERN: &str = r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$";

/// Longer values are refused: they are typos, and `Duration` arithmetic must not overflow.
const LONGEST: f64 = 10.0 * 365.0 * 86400.0;

/// A duration as written in a spec. It keeps the text it was written as, so a resource
/// serializes back byte-identical, and the value it means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interval {
    text: String,
    /// `None` when the text is longer than ten years (see [`Interval::checked`]).
    value: Option<Duration>,
}

impl Interval {
    /// The shortest sync interval either kind accepts: each sync spends API calls.
    pub const MINIMUM: Duration = Duration::from_secs(60);

    /// Parses [`DURATION_PATTERN`] syntax, refusing values longer than ten years.
    pub fn parse(s: &str) -> Result<Interval, String> {
        let interval = Interval::read(s)?;
        interval.checked()?;
        Ok(interval)
    }

    /// Like [`Interval::parse`], but a value too long is kept (and refused later by
    /// [`Interval::checked`]): the API server's pattern admits it, and one resource that
    /// cannot be read would stop the operator's watch of every resource of its kind.
    fn read(s: &str) -> Result<Interval, String> {
        let value = match parse_duration(s) {
            Ok(d) => Some(d),
            Err(Length::TooLong) => None,
            Err(Length::NotADuration) => {
                return Err(format!(
                    "`{s}` is not a duration (expected e.g. 30m, 1h, 1h30m, 90s)"
                ));
            }
        };
        Ok(Interval {
            text: s.to_string(),
            value,
        })
    }

    /// The value; ten years when it is longer (which [`Interval::checked`] refuses).
    pub fn duration(&self) -> Duration {
        self.value.unwrap_or(Duration::from_secs_f64(LONGEST))
    }

    /// The value, or why it is too long to be meant.
    pub fn checked(&self) -> Result<Duration, String> {
        self.value
            .ok_or_else(|| format!("`{}` is longer than ten years", self.text))
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The value, or why it is below [`Interval::MINIMUM`]. Checked when a spec is
    /// resolved rather than when it is read, so the operator can report the problem on
    /// the resource's status instead of failing to read it (the CRD schema cannot express
    /// the minimum).
    pub fn at_least_minimum(&self) -> Result<Duration, String> {
        let value = self.checked()?;
        if value < Self::MINIMUM {
            return Err(format!("`{}` is shorter than the 1m minimum", self.text));
        }
        Ok(value)
    }
}

impl fmt::Display for Interval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl PartialEq<&str> for Interval {
    fn eq(&self, other: &&str) -> bool {
        self.text == *other
    }
}

impl Serialize for Interval {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for Interval {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Interval::read(&text).map_err(serde::de::Error::custom)
    }
}

impl JsonSchema for Interval {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> Cow<'static, str> {
        "Interval".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "string", "pattern": DURATION_PATTERN })
    }
}

/// Why a text is not a usable duration.
#[derive(Debug, PartialEq)]
enum Length {
    NotADuration,
    TooLong,
}

/// Parses a duration in [`DURATION_PATTERN`] syntax.
fn parse_duration(s: &str) -> Result<Duration, Length> {
    let bad = || Length::NotADuration;
    let mut total = 0f64;
    let mut rest = s.trim();
    if rest.is_empty() {
        return Err(bad());
    }
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(bad)?;
        if num_len == 0 {
            return Err(bad());
        }
        let value: f64 = rest[..num_len].parse().map_err(|_| bad())?;
        rest = &rest[num_len..];
        let (unit_secs, unit_len) = if rest.starts_with("ms") {
            (0.001, 2)
        } else if rest.starts_with('s') {
            (1.0, 1)
        } else if rest.starts_with('m') {
            (60.0, 1)
        } else if rest.starts_with('h') {
            (3600.0, 1)
        } else {
            return Err(bad());
        };
        total += value * unit_secs;
        rest = &rest[unit_len..];
    }
    if !total.is_finite() || total > LONGEST {
        return Err(Length::TooLong);
    }
    Ok(Duration::from_secs_f64(total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30m"), Ok(Duration::from_secs(1800)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        for bad in ["", "10", "1d", "h", "-1h", "1h 30m"] {
            assert_eq!(parse_duration(bad), Err(Length::NotADuration), "{bad}");
        }
        assert_eq!(parse_duration("99999999h"), Err(Length::TooLong));
        let err = Interval::parse("99999999h").unwrap_err();
        assert!(err.contains("longer than ten years"), "{err}");
    }

    #[test]
    fn an_interval_displays_as_written() {
        let i = Interval::parse("1h30m").unwrap();
        assert_eq!(i.duration(), Duration::from_secs(5400));
        assert_eq!(i.to_string(), "1h30m");
        assert_eq!(Interval::parse(&i.to_string()), Ok(i));
    }

    #[test]
    fn the_minimum_is_one_minute() {
        assert_eq!(
            Interval::parse("1m").unwrap().at_least_minimum(),
            Ok(Duration::from_secs(60))
        );
        let err = Interval::parse("59s")
            .unwrap()
            .at_least_minimum()
            .unwrap_err();
        assert!(
            err.contains("`59s` is shorter than the 1m minimum"),
            "{err}"
        );
    }

    #[test]
    fn serde_keeps_the_text_and_refuses_what_does_not_parse() {
        let i: Interval = serde_json::from_str(r#""90s""#).unwrap();
        assert_eq!(i.duration(), Duration::from_secs(90));
        assert_eq!(serde_json::to_string(&i).unwrap(), r#""90s""#);
        let err = serde_json::from_str::<Interval>(r#""1d""#).unwrap_err();
        assert!(err.to_string().contains("`1d` is not a duration"), "{err}");
        // The API server's pattern admits it; it is read, and refused when resolved.
        let long: Interval = serde_json::from_str(r#""99999999h""#).unwrap();
        assert!(
            long.at_least_minimum()
                .unwrap_err()
                .contains("longer than ten years")
        );
    }

    #[test]
    fn the_schema_is_a_string_with_the_pattern() {
        let schema = schemars::schema_for!(Interval);
        assert_eq!(schema.get("type"), Some(&serde_json::json!("string")));
        assert_eq!(
            schema.get("pattern"),
            Some(&serde_json::json!(DURATION_PATTERN))
        );
    }
}
