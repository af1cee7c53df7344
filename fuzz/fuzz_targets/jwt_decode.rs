//! Unverified JWT header/claims decoding (`jwt::decode_unverified`).
#![no_main]
use idgap_idp::fuzzing::decode_unverified;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(text) = idgap_fuzz::text(data) {
        let _ = decode_unverified(text);
    }
});
