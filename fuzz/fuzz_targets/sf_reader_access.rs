//! `UserPermissionAccess` (`access::ReaderAccess`): the reader's permissions as the sync reads
//! them from a query page, and what every permission-dependent read decides from them.
#![no_main]
use idgap_salesforce::fuzzing::reader_access;
use libfuzzer_sys::fuzz_target;

const FIELDS: [&str; 4] = [
    "PermissionsCustomizeApplication",
    "PermissionsManageUsers",
    "PermissionsModifyMetadata",
    "PermissionsModifyAllData",
];

fuzz_target!(|data: &[u8]| {
    let Some(decisions) = reader_access(data) else {
        return;
    };
    // An independent reading of the first row: an absent field is "not held".
    let first = serde_json::from_slice::<serde_json::Value>(data)
        .ok()
        .and_then(|v| v.get("records")?.get(0).cloned());
    for d in decisions {
        let gap_names_first = d
            .gap
            .as_ref()
            .is_none_or(|g| g.missing_permission.as_deref() == d.needs.first().copied());
        assert!(gap_names_first, "{d:?}");
        match d.held {
            // Known permissions: a read is gapped exactly when it is not tried.
            Some(held) => {
                assert_eq!(d.gap.is_none(), d.may_try, "{d:?}");
                let holds_one = d.needs.iter().any(|n| {
                    let at = FIELDS.iter().position(|f| f.ends_with(n)).expect("known");
                    held[at]
                });
                assert_eq!(d.may_try, holds_one, "{d:?}");
                if let Some(serde_json::Value::Object(row)) = &first {
                    for (field, read) in FIELDS.iter().zip(held) {
                        let stated = row.get(*field).and_then(|v| v.as_bool()).unwrap_or(false);
                        assert_eq!(read, stated, "{field} read as {read}");
                    }
                }
            }
            // No row: every dependent read is gapped, and the loud ones are still tried.
            None => assert!(d.gap.is_some() && d.may_try, "{d:?}"),
        }
    }
});
