//! The shared `200` JSON page reader of Okta and Entra ID (`paging::parse_json`), input as a response.
#![no_main]
use idgap_idp::fuzzing::{Answer, parse_json};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let resp = idgap_fuzz::response(data);
    for attempt in [1, 3] {
        match parse_json(&resp, attempt, 3) {
            Answer::Retry { .. } => assert!(attempt < 3, "retried on the last attempt"),
            Answer::Fail(e) => drop(e.to_string()),
            Answer::Done(_) => {}
            Answer::TokenRejected => unreachable!(),
        }
    }
});
