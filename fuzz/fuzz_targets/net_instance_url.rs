//! A token response's `instance_url` (`HostPolicy::check_instance_url`, used by `idgap
//! connect`, which writes the value into a Secret manifest).
#![no_main]
use idgap_net::HostPolicy;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some(raw) = idgap_fuzz::text(data) else {
        return;
    };
    let vendors = HostPolicy::vendors_only();
    let test_host = HostPolicy::vendors_only()
        .allow(["127.0.0.1:4000", "sim.test"])
        .expect("valid patterns");
    for (policy, explicit) in [(&vendors, false), (&test_host, true)] {
        let Ok(origin) = policy.check_instance_url(raw) else {
            continue;
        };
        // What is written into the manifest is the value as sent (less a trailing slash),
        // printable ASCII only, and nothing but a scheme, a host and a port.
        assert_eq!(origin, raw.trim_end_matches('/'), "rewritten");
        assert!(origin.bytes().all(|b| b.is_ascii_graphic()), "{origin:?}");
        let (scheme, authority) = origin.split_once("://").expect("a scheme");
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) if !p.contains(']') => (h, Some(p)),
            _ => (authority, None),
        };
        assert!(
            port.is_none_or(|p| p.parse::<u16>().is_ok()),
            "port in {origin:?}"
        );
        assert!(
            !host.is_empty()
                && host
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-.[]:".contains(&b)),
            "host in {origin:?}"
        );
        let salesforce = host.ends_with(".salesforce.com") || host.ends_with(".force.com");
        if !explicit {
            assert!(scheme == "https" && salesforce, "{origin:?}");
        } else {
            let allowed = host == "127.0.0.1" && port == Some("4000") || host == "sim.test";
            assert!(allowed || scheme == "https" && salesforce, "{origin:?}");
        }
    }
});
