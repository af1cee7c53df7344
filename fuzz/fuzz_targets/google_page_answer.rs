//! Google Directory API user list answers at any status (`google::page_answer`), input as a response.
#![no_main]
use idgap_idp::fuzzing::{Answer, google::page_answer};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let resp = idgap_fuzz::response(data);
    let status = resp.status.as_u16();
    for last in [false, true] {
        match page_answer(resp.clone(), last) {
            Answer::Done((accounts, _)) => {
                assert_eq!(status, 200);
                assert!(
                    accounts
                        .iter()
                        .all(|a| a.identifiers.iter().all(|i| !i.is_empty()))
                );
            }
            Answer::TokenRejected => assert_eq!(status, 401),
            Answer::Retry { .. } => assert!(status != 200 || !last),
            Answer::Fail(e) => drop(e.to_string()),
        }
    }
});
