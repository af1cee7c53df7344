//! Okta `Link` headers (`okta::next_link`). Input: header values, one per line.
#![no_main]
use idgap_idp::fuzzing::okta::next_link;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some(text) = idgap_fuzz::text(data) else {
        return;
    };
    let values = idgap_fuzz::lines(text);
    if let Some(url) = next_link(&values) {
        let bracketed = format!("<{url}>");
        assert!(values.iter().any(|v| v.contains(&bracketed)), "{url:?}");
    }
});
