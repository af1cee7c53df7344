//! `Retry-After` (`idgap_net::parse_retry_after`), read on every 429/5xx from every vendor:
//! delta-seconds or an HTTP date (IMF-fixdate, RFC 850, asctime).
#![no_main]
use std::time::Duration;

use idgap_net::fuzzing::retry_after_at;
use idgap_net::{HeaderMap, parse_retry_after};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(value) = http::HeaderValue::from_bytes(data) else {
        return;
    };
    let mut headers = HeaderMap::new();
    headers.insert("retry-after", value);
    let _ = parse_retry_after(&headers);
    // Against a fixed "now", so the bound on a date's wait is exact.
    let now = jiff::Timestamp::from_second(1_700_000_000).expect("in range");
    let Some(wait) = retry_after_at(&headers, now) else {
        return;
    };
    let text = std::str::from_utf8(data).expect("read as text").trim();
    match text.parse::<f64>() {
        // Delta-seconds: the value itself, or `Duration::MAX` (refused as too long) beyond it.
        Ok(seconds) => {
            assert!(
                seconds.is_finite() && seconds >= 0.0,
                "{text:?} gave {wait:?}"
            );
            assert!(
                wait == Duration::MAX || Duration::try_from_secs_f64(seconds) == Ok(wait),
                "{text:?} gave {wait:?}"
            );
        }
        // A date: never further away than the latest instant a date can name.
        Err(_) => {
            let latest = Duration::try_from(jiff::Timestamp::MAX.duration_since(now)).unwrap();
            assert!(wait <= latest, "{text:?} gave {wait:?}");
        }
    }
});
