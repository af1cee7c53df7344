//! Server-given next-page URLs: the same-origin check and error target (`paging::same_origin`,
//! `paging::target_of`). Input: the start URL, a newline, the next URL.
#![no_main]
use idgap_idp::fuzzing::next_url;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some(text) = idgap_fuzz::text(data) else {
        return;
    };
    let (start, next) = text
        .split_once('\n')
        .unwrap_or(("https://acme.okta.com/api/v1/users", text));
    let (same, _) = next_url(start, next);
    if let Err(e) = same {
        let _ = e.to_string();
    }
});
