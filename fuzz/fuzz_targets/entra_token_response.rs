//! Entra ID token endpoint bodies: token lifetime and OAuth/AADSTS errors (`entra::token_error`),
//! input as a response.
#![no_main]
use idgap_idp::fuzzing::entra::token_response;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let resp = idgap_fuzz::response(data);
    let (_, errors) = token_response(&resp);
    for e in errors {
        let _ = e.to_string();
    }
});
