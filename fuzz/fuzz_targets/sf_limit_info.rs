//! The `Sforce-Limit-Info` header (`wire::parse_limit_info`).
#![no_main]
use idgap_salesforce::wire::parse_limit_info;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some(text) = idgap_fuzz::text(data) else {
        return;
    };
    if parse_limit_info(text).is_some() {
        assert!(text.to_ascii_lowercase().contains("api-usage"), "{text:?}");
    }
});
