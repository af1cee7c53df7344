//! A hostile endpoint cannot make idgap buffer an unbounded body: a huge `Content-Length` is
//! refused before reading, an endless chunked stream is cut off at the limit, and the
//! process's peak resident memory stays far below what the server sent.
//!
//! One test in its own binary, so the peak-memory reading (`VmHWM`) sees nothing but it.

use std::time::Duration;

use idgap_net::{Attempt, DEFAULT_BODY_LIMIT, HostPolicy, Http, Method, NetError, RetryPolicy};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// What the server streams at most per connection: 32× the limit. Finite, so that a client
/// without a limit ends (and fails the memory assertion) instead of hanging.
const SENT: usize = 256 * 1024 * 1024;

#[derive(Clone, Copy)]
enum Shape {
    /// `Content-Length: 3 GB`, then bytes until the client hangs up.
    HugeContentLength,
    /// `Transfer-Encoding: chunked` with no end in sight.
    EndlessChunked,
}

async fn serve(shape: Shape) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut head = [0u8; 4096];
                let _ = stream.read(&mut head).await;
                let header = match shape {
                    Shape::HugeContentLength => {
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 3000000000\r\n\r\n"
                    }
                    Shape::EndlessChunked => {
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n"
                    }
                };
                if stream.write_all(header.as_bytes()).await.is_err() {
                    return;
                }
                let block = vec![b' '; 64 * 1024];
                let mut sent = 0;
                while sent < SENT {
                    let ok = match shape {
                        Shape::HugeContentLength => stream.write_all(&block).await.is_ok(),
                        Shape::EndlessChunked => {
                            let size = format!("{:x}\r\n", block.len());
                            stream.write_all(size.as_bytes()).await.is_ok()
                                && stream.write_all(&block).await.is_ok()
                                && stream.write_all(b"\r\n").await.is_ok()
                        }
                    };
                    if !ok {
                        return;
                    }
                    sent += block.len();
                }
                if matches!(shape, Shape::EndlessChunked) {
                    let _ = stream.write_all(b"0\r\n\r\n").await;
                }
            });
        }
    });
    format!("http://{addr}/services/data/v62.0/query")
}

/// Peak resident set size of this process so far, in bytes (Linux `VmHWM`).
fn peak_rss() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let kb: usize = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/self/status");
    kb * 1024
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_bodies_are_refused_with_bounded_memory() {
    let retry = RetryPolicy {
        max_attempts: 1,
        ..RetryPolicy::quick()
    };
    let http = Http::new(
        HostPolicy::vendors_only().allow(["127.0.0.1"]).unwrap(),
        retry,
        Duration::from_secs(120),
    );
    assert_eq!(http.body_limit(), DEFAULT_BODY_LIMIT);
    let before = peak_rss();
    let mut results = Vec::new();
    for shape in [Shape::HugeContentLength, Shape::EndlessChunked] {
        let url = serve(shape).await;
        let result = http
            .request::<usize, NetError>(
                "Salesforce query User",
                Method::GET,
                &url,
                |rb| rb,
                |resp| Attempt::Done(resp.body.len()),
            )
            .await;
        results.push((shape, result));
    }
    let grown = peak_rss().saturating_sub(before);
    assert!(
        grown < 6 * DEFAULT_BODY_LIMIT,
        "peak RSS grew by {} MiB reading bodies capped at {} MiB",
        grown >> 20,
        DEFAULT_BODY_LIMIT >> 20
    );
    for (shape, result) in results {
        let err = result.expect_err("an oversized body must not be accepted");
        let NetError::BodyTooLarge {
            limit, declared, ..
        } = &err
        else {
            panic!("expected BodyTooLarge, got {err:?}");
        };
        assert_eq!(*limit, DEFAULT_BODY_LIMIT);
        let text = err.to_string();
        assert!(
            text.starts_with("Salesforce query User: http://127.0.0.1:")
                && text.contains(&format!("larger than the {DEFAULT_BODY_LIMIT} bytes")),
            "{text}"
        );
        match shape {
            Shape::HugeContentLength => {
                assert_eq!(*declared, Some(3_000_000_000));
                assert!(text.contains("(Content-Length 3000000000)"), "{text}");
            }
            Shape::EndlessChunked => assert_eq!(*declared, None),
        }
    }
}
