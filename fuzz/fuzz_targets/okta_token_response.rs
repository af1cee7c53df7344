//! Okta token endpoint bodies: token (DPoP-bound, lifetime) and OAuth error (`okta::token_error`).
#![no_main]
use idgap_idp::fuzzing::okta::token_response;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (_, errors) = token_response(data);
    for e in errors.into_iter().flatten() {
        let _ = e.to_string();
    }
});
