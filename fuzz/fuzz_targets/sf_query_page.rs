//! SOQL / Tooling query pages (`rest::Page<T>`) for every record type idgap queries.
#![no_main]
use idgap_salesforce::fuzzing::query_page;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let parsed = query_page(data);
    // Whatever record type accepts the page, the page fields read are the same.
    let mut accepted = parsed
        .iter()
        .filter_map(|(kind, facts)| Some((kind, facts.as_ref()?)));
    if let Some((first_kind, first)) = accepted.next() {
        for (kind, facts) in accepted {
            assert_eq!(
                facts, first,
                "{kind} and {first_kind} read different page fields"
            );
        }
    }
});
