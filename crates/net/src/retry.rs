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

/// Reads `Retry-After` as delta-seconds. (HTTP dates are accepted by the spec, but none of
/// the APIs idgap talks to send them; an unparsable value counts as absent.) A wait beyond
/// what a `Duration` holds is `Duration::MAX`, so it is refused as too long, not a panic.
pub fn parse_retry_after(headers: &HeaderMap) -> Option<Duration> {
    let v = headers.get("retry-after")?.to_str().ok()?.trim();
    v.parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(|s| Duration::try_from_secs_f64(s).unwrap_or(Duration::MAX))
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
        h.insert(
            "retry-after",
            "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap(),
        );
        assert_eq!(parse_retry_after(&h), None);
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
