//! Okta `/api/v1/users` pages and each user's identifiers and status (`OktaUser::into_account`).
#![no_main]
use idgap_idp::fuzzing::okta::user_page;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for account in user_page(data).unwrap_or_default() {
        assert!(account.identifiers.iter().all(|i| !i.is_empty()));
    }
});
