//! Metadata API SOAP responses: `readMetadataResponse` records and SOAP faults (`soap::parse_response`).
#![no_main]
use idgap_salesforce::fuzzing::{MetadataAnswer, metadata_response};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(MetadataAnswer::Records(records)) = metadata_response(data) {
        // Every record read was opened by a `records` element in the body.
        let opened = data.windows(7).filter(|w| w == b"records").count();
        assert!(
            records.len() <= opened,
            "{} records from {opened} tags",
            records.len()
        );
    }
});
