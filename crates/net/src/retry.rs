use std::time::Duration;

use reqwest::header::HeaderMap;

/// Bounded retries with full-jitter exponential backoff.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
    /// The longest server-requested wait idgap accepts; beyond it the call fails clearly.
    pub max_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 5,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(20),
            max_wait: Duration::from_secs(120),
        }
    }
}

impl RetryPolicy {
    /// Fast retries for tests and the demo.
    pub fn quick() -> Self {
        RetryPolicy {
            max_attempts: 5,
            base_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(50),
            max_wait: Duration::from_secs(10),
        }
    }

    /// The wait before attempt `attempt + 1`: uniform in `[0, min(max, base·2^(attempt-1))]`.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let exp = self
            .base_delay
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(16));
        let cap = exp.min(self.max_delay);
        let millis = cap.as_millis() as u64;
        if millis == 0 {
            return cap;
        }
        Duration::from_millis(rand::random_range(millis / 2..=millis))
    }
}

/// Reads `Retry-After` (RFC 9110 §10.2.3): delta-seconds, or an HTTP date, which is the
/// wait from now until then (zero when it has passed). An unparsable value counts as absent.
/// A wait beyond what a `Duration` holds is `Duration::MAX`, so it is refused as too long,
/// not a panic.
pub fn parse_retry_after(headers: &HeaderMap) -> Option<Duration> {
    retry_after_at(headers, jiff::Timestamp::now())
}

/// [`parse_retry_after`] with `now` given, so a date's wait can be tested exactly.
pub fn retry_after_at(headers: &HeaderMap, now: jiff::Timestamp) -> Option<Duration> {
    let v = headers.get("retry-after")?.to_str().ok()?.trim();
    if let Ok(seconds) = v.parse::<f64>() {
        return (seconds.is_finite() && seconds >= 0.0)
            .then(|| Duration::try_from_secs_f64(seconds).unwrap_or(Duration::MAX));
    }
    let until = http_date(v)?;
    // Both ends lie within jiff's range (years -9999..=9999), so the span fits a Duration.
    Some(Duration::try_from(until.duration_since(now)).unwrap_or(Duration::ZERO))
}

/// An HTTP date: the IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`) that senders must use,
/// and the obsolete RFC 850 and asctime forms recipients must still accept.
fn http_date(v: &str) -> Option<jiff::Timestamp> {
    if let Ok(t) = jiff::fmt::rfc2822::DateTimeParser::new().parse_timestamp(v) {
        return Some(t);
    }
    let utc = |format: &str| {
        jiff::civil::DateTime::strptime(format, v)
            .ok()?
            .to_zoned(jiff::tz::TimeZone::UTC)
            .ok()
            .map(|z| z.timestamp())
    };
    // RFC 850 names a two-digit year; RFC 9110 says to read one that looks more than 50
    // years ahead as the past century, which `%y` (69-99 → 19xx, 00-68 → 20xx) approximates.
    utc("%A, %d-%b-%y %H:%M:%S GMT").or_else(|| utc("%a %b %e %H:%M:%S %Y"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_stays_capped() {
        let p = RetryPolicy {
            max_attempts: 10,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(800),
            max_wait: Duration::from_secs(1),
        };
        for attempt in 1..10 {
            let d = p.backoff(attempt);
            let ceiling =
                Duration::from_millis(100 * (1 << (attempt - 1))).min(Duration::from_millis(800));
            assert!(d <= ceiling, "attempt {attempt}: {d:?} > {ceiling:?}");
            assert!(
                d >= ceiling / 2,
                "attempt {attempt}: {d:?} < half of {ceiling:?}"
            );
        }
    }

    #[test]
    fn retry_after_seconds() {
        let mut h = HeaderMap::new();
        h.insert("retry-after", "3".parse().unwrap());
        assert_eq!(parse_retry_after(&h), Some(Duration::from_secs(3)));
        h.insert("retry-after", "soon".parse().unwrap());
        assert_eq!(parse_retry_after(&h), None);
        h.insert("retry-after", "-3".parse().unwrap());
        assert_eq!(parse_retry_after(&h), None);
    }

    /// Regression: an HTTP date was read as absent, so the client retried at once.
    #[test]
    fn retry_after_http_date_is_the_wait_until_then() {
        let now: jiff::Timestamp = "2015-10-21T07:27:30Z".parse().unwrap();
        let mut h = HeaderMap::new();
        for date in [
            "Wed, 21 Oct 2015 07:28:00 GMT",
            "Wednesday, 21-Oct-15 07:28:00 GMT",
            "Wed Oct 21 07:28:00 2015",
        ] {
            h.insert("retry-after", date.parse().unwrap());
            assert_eq!(
                retry_after_at(&h, now),
                Some(Duration::from_secs(30)),
                "{date}"
            );
        }
        h.insert(
            "retry-after",
            "Tue, 20 Oct 2015 07:28:00 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after_at(&h, now), Some(Duration::ZERO));
        h.insert(
            "retry-after",
            "Fri, 01 Jan 9999 00:00:00 GMT".parse().unwrap(),
        );
        assert!(retry_after_at(&h, now).is_some_and(|d| d.as_secs() > 250_000_000_000));
        h.insert(
            "retry-after",
            "Wed, 32 Oct 2015 07:28:00 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after_at(&h, now), None);
    }

    /// Regression (found by the `net_retry_after` fuzz target): a delta-seconds value beyond
    /// `u64::MAX` seconds panicked in `Duration::from_secs_f64`.
    #[test]
    fn retry_after_beyond_duration_range_saturates() {
        let mut h = HeaderMap::new();
        for huge in [
            "07777777777777777777777777.25",
            "1e30",
            "18446744073709551616",
        ] {
            h.insert("retry-after", huge.parse().unwrap());
            assert_eq!(parse_retry_after(&h), Some(Duration::MAX), "{huge}");
        }
        h.insert("retry-after", "18446744073709551615".parse().unwrap());
        assert!(parse_retry_after(&h).is_some_and(|d| d.as_secs() >= u64::MAX / 2));
        h.insert("retry-after", "0.25".parse().unwrap());
        assert_eq!(parse_retry_after(&h), Some(Duration::from_millis(250)));
    }
}
