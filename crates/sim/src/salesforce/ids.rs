//! Salesforce-shaped record ids: 15 significant characters plus the 3-character
//! case-safety suffix Salesforce appends to make the 18-character API form.

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const SUFFIX: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";

/// The 18-character id of record number `n` of the object with key prefix `prefix`
/// (three characters, e.g. `005` for User). `pod` stands in for the two instance characters.
pub fn make(prefix: &str, pod: &str, n: u64) -> String {
    debug_assert_eq!(prefix.len(), 3);
    debug_assert_eq!(pod.len(), 2);
    let mut body = [b'0'; 10];
    let mut v = n;
    for slot in body.iter_mut().rev() {
        *slot = BASE62[(v % 62) as usize];
        v /= 62;
    }
    let mut id = String::with_capacity(18);
    id.push_str(prefix);
    id.push_str(pod);
    id.push_str(std::str::from_utf8(&body).expect("ascii"));
    id.push_str(&case_suffix(&id));
    id
}

/// Salesforce's checksum: for each 5-character chunk, a bit per upper-case letter.
pub fn case_suffix(id15: &str) -> String {
    id15.as_bytes()
        .chunks(5)
        .map(|chunk| {
            let bits = chunk
                .iter()
                .enumerate()
                .filter(|(_, c)| c.is_ascii_uppercase())
                .fold(0usize, |acc, (i, _)| acc | (1 << i));
            SUFFIX[bits] as char
        })
        .collect()
}

/// The record number encoded by [`make`], when `id` has the given prefix.
pub fn parse(prefix: &str, id: &str) -> Option<u64> {
    if id.len() != 18 || !id.starts_with(prefix) {
        return None;
    }
    id[5..15].bytes().try_fold(0u64, |acc, c| {
        let d = BASE62.iter().position(|b| *b == c)? as u64;
        acc.checked_mul(62)?.checked_add(d)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_checksum() {
        // A documented example: 15-char 001A000000yWIfL → 18-char 001A000000yWIfLIAW.
        assert_eq!(case_suffix("001A000000yWIfL"), "IAW");
    }

    #[test]
    fn round_trip() {
        for n in [0, 1, 61, 62, 99_999, 1 << 40] {
            let id = make("005", "Hp", n);
            assert_eq!(id.len(), 18);
            assert_eq!(parse("005", &id), Some(n));
        }
    }
}
