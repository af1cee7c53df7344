//! The response body limit (`body::CappedBody`, which `Http::request` applies to every body):
//! a declared `Content-Length`, then the chunks as the transport hands them over.
//!
//! Input: byte 0 picks the limit (0 to 255 bytes), bytes 1..9 the declared length (absent
//! when byte 1 is even), the rest is the body, cut into chunks at each `\n`.
#![no_main]
use idgap_net::fuzzing::capped_chunks;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&limit, rest)) = data.split_first() else {
        return;
    };
    let limit = usize::from(limit);
    let (declared, body) = match rest.split_first_chunk::<8>() {
        Some((d, body)) if d[0] % 2 == 1 => (Some(u64::from_le_bytes(*d) >> 1), body),
        _ => (None, rest),
    };
    let chunks: Vec<&[u8]> = body.split_inclusive(|b| *b == b'\n').collect();
    let whole: Vec<u8> = chunks.concat();
    match capped_chunks(declared, limit, chunks.iter().copied()) {
        Ok(read) => {
            // Accepted only within the limit, and then every byte, in order.
            assert!(declared.is_none_or(|d| d <= limit as u64));
            assert!(read.len() <= limit);
            assert_eq!(read, whole);
        }
        Err(reported) => {
            assert_eq!(
                reported, declared,
                "the declared length is reported as sent"
            );
            assert!(declared.is_some_and(|d| d > limit as u64) || whole.len() > limit);
        }
    }
});
