//! Reading a response body with a ceiling, so a hostile or broken endpoint (a multi-gigabyte
//! answer, an endless chunked stream) cannot exhaust the process's memory: the declared
//! `Content-Length` is checked before anything is read, and the stream is cut off as soon as
//! it passes the limit.

/// The default ceiling for one response body: 8 MiB.
///
/// The largest real pages idgap reads are about a quarter of that: 2,000 Salesforce `User`
/// rows with the eleven fields idgap selects (roughly 0.9 KB each with the `attributes` and
/// relationship objects), 2,000 `SetupAuditTrail` rows, 200 full Okta users, 500 Google
/// Workspace users. A source that needs more sets its own limit with
/// [`crate::Http::with_body_limit`] (the Salesforce Metadata API does, for `Profile` reads).
pub const DEFAULT_BODY_LIMIT: usize = 8 * 1024 * 1024;

/// Why a body was not read.
pub(crate) enum BodyError {
    /// Larger than the limit; `declared` is the `Content-Length`, when the server sent one.
    TooLarge { declared: Option<u64> },
    /// The transport failed mid-body (described without the URL).
    Transport(String),
}

/// Reads `resp`'s body, refusing more than `limit` bytes.
pub(crate) async fn read_capped(
    mut resp: reqwest::Response,
    limit: usize,
) -> Result<Vec<u8>, BodyError> {
    let declared = resp.content_length();
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(BodyError::TooLarge { declared });
    }
    let mut body = Vec::with_capacity(declared.map_or(0, |n| n as usize));
    loop {
        match resp.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > limit {
                    return Err(BodyError::TooLarge { declared });
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(body),
            Err(e) => return Err(BodyError::Transport(crate::describe(&e))),
        }
    }
}
