//! Salesforce token endpoint OAuth error bodies and the advice built from them (`auth::auth_action`).
#![no_main]
use idgap_salesforce::fuzzing::oauth_error;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some((_, advice)) = oauth_error(data) {
        assert!(advice.iter().all(|a| !a.is_empty()));
    }
});
