//! `Retry-After` (`idgap_net::parse_retry_after`), read on every 429/5xx from every vendor.
#![no_main]
use idgap_net::{HeaderMap, parse_retry_after};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(value) = http::HeaderValue::from_bytes(data) else {
        return;
    };
    let mut headers = HeaderMap::new();
    headers.insert("retry-after", value);
    let _ = parse_retry_after(&headers);
});
