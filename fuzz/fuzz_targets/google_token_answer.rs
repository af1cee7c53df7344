//! Google token endpoint answers at any status (`google::token_answer`), input as a response.
#![no_main]
use idgap_idp::fuzzing::{Answer, google::token_answer};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let resp = idgap_fuzz::response(data);
    let status = resp.status.as_u16();
    for last in [false, true] {
        match token_answer(resp.clone(), last) {
            Answer::Done(non_empty) => assert!(status == 200 && non_empty),
            Answer::Retry { .. } => assert!(status != 200 || !last),
            Answer::Fail(e) => drop(e.to_string()),
            Answer::TokenRejected => unreachable!(),
        }
    }
});
