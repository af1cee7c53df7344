//! A hostile (or merely careless) server that echoes every request it gets — headers,
//! `Authorization` included, the query string and the body — in its error answers: what a
//! TLS-inspecting proxy's error page, a WAF or a hostile allowed host does. Tests put it in
//! front of a client and grep everything idgap wrote for the credentials it sent.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// The access token [`Mode::IssueThenRefuse`] issues.
pub const ACCESS_TOKEN: &str = "Cnry.access+token/issued=Q8";

/// How the echo server answers.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Every request: 400 with an OAuth error whose `error_description` is the request.
    Refuse,
    /// Token requests get a token (the canary [`ACCESS_TOKEN`]); every other request 401 with
    /// the request as a plain-text page.
    IssueThenRefuse,
}

pub struct EchoServer {
    pub url: String,
    /// Requests answered so far.
    pub requests: Arc<AtomicUsize>,
}

impl EchoServer {
    pub async fn start(mode: Mode) -> EchoServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(AtomicUsize::new(0));
        let count = requests.clone();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                count.fetch_add(1, Ordering::Relaxed);
                tokio::spawn(async move {
                    let Some((head, body)) = read_request(&mut socket).await else {
                        return;
                    };
                    let answer = answer(mode, &head, &body);
                    let _ = socket.write_all(answer.as_bytes()).await;
                    let _ = socket.shutdown().await;
                });
            }
        });
        EchoServer { url, requests }
    }
}

async fn read_request(socket: &mut tokio::net::TcpStream) -> Option<(String, String)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        let n = socket.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let length = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse::<usize>().ok())?
        })
        .unwrap_or(0);
    while buf.len() < head_end + length {
        let n = socket.read(&mut chunk).await.ok()?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let body = String::from_utf8_lossy(&buf[head_end..]).to_string();
    Some((head, body))
}

/// The request as an echoing server prints it: the credential-carrying parts first, on one
/// line (clients quote the first line or the first 200 characters), then the whole request.
fn echo_of(head: &str, body: &str) -> String {
    let request_line = head.lines().next().unwrap_or("");
    let mut first = vec![format!("body: {body}"), format!("request: {request_line}")];
    for line in head.lines().skip(1) {
        let name = line.split(':').next().unwrap_or("").to_ascii_lowercase();
        if ["authorization", "x-api-key", "dpop"].contains(&name.as_str()) {
            first.insert(0, format!("header {line}"));
        }
    }
    format!("{}\n{head}{body}", first.join(" | "))
}

fn answer(mode: Mode, head: &str, body: &str) -> String {
    let path = head.split_whitespace().nth(1).unwrap_or("");
    let echo = echo_of(head, body);
    let (status, content_type, text) = if mode == Mode::IssueThenRefuse && path.contains("token") {
        (
            "200 OK",
            "application/json",
            serde_json::json!({"access_token": ACCESS_TOKEN, "token_type": "Bearer", "expires_in": 3599})
                .to_string(),
        )
    } else if mode == Mode::Refuse {
        (
            "400 Bad Request",
            "application/json",
            serde_json::json!({
                "error": "invalid_client",
                "error_description": echo,
                "errorSummary": echo,
                "message": echo,
            })
            .to_string(),
        )
    } else {
        ("401 Unauthorized", "text/plain", echo)
    };
    format!(
        "HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{text}",
        text.len()
    )
}

/// `value` in every form a server could print it in.
pub fn forms(value: &str) -> Vec<String> {
    let form: String = url::form_urlencoded::byte_serialize(value.as_bytes()).collect();
    vec![
        value.to_string(),
        form.clone(),
        form.replace('+', "%20"),
        STANDARD.encode(value),
        URL_SAFE_NO_PAD.encode(value),
    ]
}
