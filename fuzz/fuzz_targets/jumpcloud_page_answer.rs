//! JumpCloud `/systemusers` answers at any status, with and without `orgId`
//! (`jumpcloud::page_answer`), input as a response.
#![no_main]
use idgap_idp::fuzzing::{Answer, jumpcloud::page_answer};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let resp = idgap_fuzz::response(data);
    let status = resp.status.as_u16();
    for (has_org_id, last) in [(false, false), (true, true)] {
        match page_answer(resp.clone(), has_org_id, last) {
            Answer::Done((_, accounts)) => {
                assert_eq!(status, 200);
                assert!(
                    accounts
                        .iter()
                        .all(|a| a.identifiers.iter().all(|i| !i.is_empty()))
                );
            }
            Answer::Retry { .. } => assert!(status != 200 || !last),
            Answer::Fail(e) => drop(e.to_string()),
            Answer::TokenRejected => unreachable!(),
        }
    }
});
