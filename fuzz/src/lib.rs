//! Input decoding shared by the fuzz targets.
//!
//! Targets whose parser reads a whole HTTP response take their input in a readable,
//! HTTP-like form, so seeds can be written (and crashes read) by hand:
//!
//! ```text
//! 429
//! retry-after: 5
//! x-rate-limit-reset: 1700000000
//!
//! {"errorCode":"E0000047", ...}
//! ```
//!
//! The first line is the status (anything that is not a status from 100 to 999 means 200),
//! then `name: value` header lines up to the first empty line, then the body, byte for
//! byte. Header lines that are not a valid header name and value are skipped, as an HTTP
//! client would never hand them over.

use idgap_net::{HeaderMap, HttpResponse, StatusCode};

/// Decodes `data` as described in the crate docs.
pub fn response(data: &[u8]) -> HttpResponse {
    let (head, body) = match find(data, b"\n\n") {
        Some(at) => (&data[..at], &data[at + 2..]),
        None => (data, &[][..]),
    };
    let mut lines = head.split(|b| *b == b'\n').map(trim_cr);
    let status = lines
        .next()
        .and_then(|l| std::str::from_utf8(l).ok())
        .and_then(|l| l.trim().parse::<u16>().ok())
        .and_then(|n| StatusCode::from_u16(n).ok())
        .unwrap_or(StatusCode::OK);
    let mut headers = HeaderMap::new();
    for line in lines {
        let Some(colon) = line.iter().position(|b| *b == b':') else {
            continue;
        };
        let name = http::HeaderName::from_bytes(line[..colon].trim_ascii());
        let value = http::HeaderValue::from_bytes(line[colon + 1..].trim_ascii());
        if let (Ok(name), Ok(value)) = (name, value) {
            headers.append(name, value);
        }
    }
    HttpResponse {
        status,
        headers,
        body: body.to_vec(),
    }
}

/// `data` as text when it is UTF-8 (parsers of header values and URLs take `&str`).
pub fn text(data: &[u8]) -> Option<&str> {
    std::str::from_utf8(data).ok()
}

/// `data` split into lines (e.g. repeated header values).
pub fn lines(data: &str) -> Vec<&str> {
    data.split('\n').collect()
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn trim_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_status_headers_and_body() {
        let r = response(b"429\nretry-after: 5\nbad header\nx-a:  b \n\n{\"a\":\n\n1}");
        assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(r.header("retry-after"), Some("5"));
        assert_eq!(r.header("x-a"), Some("b"));
        assert_eq!(r.body, b"{\"a\":\n\n1}");
        let r = response(b"not a status");
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.body.is_empty());
    }
}
