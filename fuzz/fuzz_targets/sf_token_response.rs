//! Salesforce token endpoint success bodies: the identity URL, issue time and HMAC
//! signature (`auth::TokenResponse`, `ids`, `issued_at`, `verify_signature`).
#![no_main]
use idgap_salesforce::fuzzing::token_response;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(t) = token_response(data, "fuzz-client-secret") {
        if let Some((org, user)) = t.ids {
            assert!(!org.is_empty() && !user.is_empty());
        }
    }
});
