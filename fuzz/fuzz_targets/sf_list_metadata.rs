//! Metadata API `listMetadataResponse` (its `result` items, `soap::parse_items`) and the
//! profile id → `fullName` map the sync builds from it (`collect::api_names`).
#![no_main]
use idgap_salesforce::fuzzing::list_metadata_profiles;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some(Ok((items, names))) = list_metadata_profiles(data) else {
        return;
    };
    // Every item read was opened by a `result` element in the body; every name came from one.
    let opened = data.windows(6).filter(|w| w == b"result").count();
    assert!(items <= opened, "{items} items from {opened} tags");
    assert!(
        names.len() <= items,
        "{} names from {items} items",
        names.len()
    );
    for (id, name) in &names {
        // Keyed by the 15-character id (shorter ids, or ids cut mid-character, whole).
        assert!(
            !id.is_empty() && (id.len() <= 15 || !id.is_char_boundary(15)),
            "key {id:?}"
        );
        assert!(!id.starts_with(char::is_whitespace), "untrimmed id {id:?}");
        assert!(
            !name.is_empty() && name.trim() == name,
            "untrimmed name {name:?}"
        );
    }
});
