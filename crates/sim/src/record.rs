//! A log of the requests a simulator served, so a benchmark can replay exactly the same calls
//! without idgap's client in between (the "floor": fetching alone, no parsing).

use std::sync::{Arc, Mutex};

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedRequest {
    pub method: String,
    /// Path and query, as sent.
    pub path_and_query: String,
    /// Headers worth replaying (content type, SOAPAction, query options); never credentials.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

#[derive(Debug, Clone, Default)]
pub struct RequestLog {
    entries: Arc<Mutex<Vec<RecordedRequest>>>,
}

impl RequestLog {
    pub fn entries(&self) -> Vec<RecordedRequest> {
        self.entries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub fn clear(&self) {
        self.entries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }
}

const REPLAYED_HEADERS: [&str; 3] = ["content-type", "soapaction", "sforce-query-options"];

/// Axum middleware recording every request into the [`RequestLog`] given as state.
pub async fn layer(State(log): State<RequestLog>, req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let headers = parts
        .headers
        .iter()
        .filter(|(k, _)| REPLAYED_HEADERS.contains(&k.as_str()))
        .filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string())))
        .collect();
    log.entries
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push(RecordedRequest {
            method: parts.method.to_string(),
            path_and_query: parts
                .uri
                .path_and_query()
                .map_or_else(|| parts.uri.path().to_string(), |p| p.to_string()),
            headers,
            body: bytes.to_vec(),
        });
    next.run(Request::from_parts(parts, axum::body::Body::from(bytes)))
        .await
}
