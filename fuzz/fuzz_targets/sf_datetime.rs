//! Salesforce REST / RFC 3339 datetimes (`wire::parse_datetime`), as every record's dates are read.
#![no_main]
use idgap_salesforce::wire::{parse_datetime, soql_datetime};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some(text) = idgap_fuzz::text(data) else {
        return;
    };
    if let Some(t) = parse_datetime(text) {
        // An accepted instant can be written back as a SOQL literal and read again (years
        // before 0 excepted: accepted, but no SOQL literal; see docs/fuzzing.md).
        let literal = soql_datetime(t);
        if !literal.starts_with('-') {
            assert!(parse_datetime(&literal).is_some(), "{literal}");
        }
    }
});
