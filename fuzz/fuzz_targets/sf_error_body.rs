//! Salesforce REST error bodies (`wire::parse_error_body`) and the HTML sniffing every
//! unreadable answer goes through (`wire::looks_like_html`).
#![no_main]
use idgap_salesforce::wire::{looks_like_html, parse_error_body};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = parse_error_body(data);
    let _ = looks_like_html(data);
});
