//! Microsoft Graph `/users` pages and each user's account (`GraphUser::into_account`), input as a response.
#![no_main]
use idgap_idp::fuzzing::{Answer, entra::user_page};
use idgap_model::AccountStatus;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let resp = idgap_fuzz::response(data);
    for attempt in [1, 3] {
        match user_page(&resp, attempt) {
            Answer::Done((accounts, _next)) => {
                for account in accounts {
                    match account {
                        Ok(a) => {
                            assert!(a.identifiers.iter().all(|i| !i.is_empty()));
                            // `onPremisesImmutableId`: kept trimmed, never as an empty id.
                            assert!(a.other_ids.iter().all(|i| !i.is_empty() && i.trim() == i));
                            // `otherMails`: personal addresses, never also a work identifier.
                            assert!(
                                a.personal_addresses
                                    .iter()
                                    .all(|p| !p.is_empty() && !a.identifiers.contains(p))
                            );
                            // `accountEnabled: null` is an unknown state, never "disabled".
                            if a.raw_status == "accountEnabled=null" {
                                assert_eq!(a.status, AccountStatus::Unknown);
                            }
                        }
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
