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
    let mut body = CappedBody::new(resp.content_length(), limit)?;
    loop {
        match resp.chunk().await {
            Ok(Some(chunk)) => body.push(&chunk)?,
            Ok(None) => return Ok(body.finish()),
            Err(e) => return Err(BodyError::Transport(crate::describe(&e))),
        }
    }
}

/// The limit itself, apart from the transport, so it can be checked (and fuzzed) over any
/// sequence of chunks: a declared length over the limit is refused before anything is kept,
/// and a chunk that would take the body past it is refused before it is copied.
pub(crate) struct CappedBody {
    declared: Option<u64>,
    limit: usize,
    body: Vec<u8>,
}

impl CappedBody {
    pub(crate) fn new(declared: Option<u64>, limit: usize) -> Result<Self, BodyError> {
        if declared.is_some_and(|n| n > limit as u64) {
            return Err(BodyError::TooLarge { declared });
        }
        Ok(CappedBody {
            declared,
            limit,
            body: Vec::with_capacity(declared.map_or(0, |n| n as usize)),
        })
    }

    pub(crate) fn push(&mut self, chunk: &[u8]) -> Result<(), BodyError> {
        if self.body.len() + chunk.len() > self.limit {
            return Err(BodyError::TooLarge {
                declared: self.declared,
            });
        }
        self.body.extend_from_slice(chunk);
        Ok(())
    }

    pub(crate) fn finish(self) -> Vec<u8> {
        self.body
    }
}

/// Entry point for the coverage-guided fuzz targets in `fuzz/`: the limit over a sequence of
/// chunks, as [`read_capped`] applies it. `Err` carries the declared length it reported.
pub fn capped_chunks<'a>(
    declared: Option<u64>,
    limit: usize,
    chunks: impl IntoIterator<Item = &'a [u8]>,
) -> Result<Vec<u8>, Option<u64>> {
    let refused = |e: BodyError| match e {
        BodyError::TooLarge { declared } => declared,
        BodyError::Transport(_) => unreachable!("no transport here"),
    };
    let mut body = CappedBody::new(declared, limit).map_err(refused)?;
    for chunk in chunks {
        body.push(chunk).map_err(refused)?;
    }
    Ok(body.finish())
}
