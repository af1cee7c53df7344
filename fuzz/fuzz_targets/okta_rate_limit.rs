//! Okta `X-Rate-Limit-Reset` against `Date`, and the retry decision (`okta::rate_limit_wait`,
//! `okta::retry_or_fail`), input as a response.
#![no_main]
use idgap_idp::fuzzing::{Answer, okta::rate_limit};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let resp = idgap_fuzz::response(data);
    let (_, answer) = rate_limit(&resp);
    if let Answer::Fail(e) = answer {
        let _ = e.to_string();
    }
});
