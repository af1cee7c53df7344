//! Okta error bodies and the DPoP resource nonce (`okta::okta_error_text`, `okta::resource_nonce`),
//! input as a response.
#![no_main]
use idgap_idp::fuzzing::okta::error_response;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let resp = idgap_fuzz::response(data);
    let _ = error_response(&resp);
});
