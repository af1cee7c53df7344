//! Microsoft Graph `/users` pages and each user's account (`GraphUser::into_account`), input as a response.
#![no_main]
use idgap_idp::fuzzing::{Answer, entra::user_page};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let resp = idgap_fuzz::response(data);
    for attempt in [1, 3] {
        match user_page(&resp, attempt) {
            Answer::Done((accounts, _next)) => {
                for account in accounts {
                    match account {
                        Ok(a) => assert!(a.identifiers.iter().all(|i| !i.is_empty())),
                        Err(e) => drop(e.to_string()),
                    }
                }
            }
            Answer::Retry { .. } => assert!(attempt < 3, "retried on the last attempt"),
            Answer::Fail(e) => drop(e.to_string()),
            Answer::TokenRejected => unreachable!(),
        }
    }
});
