//! Microsoft Graph error bodies and the retry decision (`entra::graph_error_text`,
//! `entra::retry_or_fail`), input as a response.
#![no_main]
use idgap_idp::fuzzing::{Answer, entra::error_response};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let resp = idgap_fuzz::response(data);
    if let (_, Answer::Fail(e)) = error_response(&resp) {
        let _ = e.to_string();
    }
});
