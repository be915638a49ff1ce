//! A scriptable HTTP/1.1 server on 127.0.0.1 that plays a remote service in tests.
//!
//! It is written on raw TCP rather than a server framework so that tests can also send what a
//! framework would refuse to: a body shorter than its `Content-Length`, or nothing at all for a
//! long time. It records every request so tests can assert paths, headers and bodies.

#![allow(dead_code)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use quarry_providers::auth::{Credential, StaticToken};
use quarry_providers::http::{HttpOptions, RetryPolicy};
use quarry_providers::secret::Secret;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use url::Url;

/// The bearer token the tests hand to the clients.
pub const TEST_TOKEN: &str = "test-token-7c1f0e";

/// A request as the fake server received it.
#[derive(Clone, Debug)]
pub struct RecordedRequest {
    pub method: String,
    /// The path with its query string.
    pub target: String,
    /// Header names in lower case.
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
    pub received_at: std::time::Instant,
}

impl RecordedRequest {
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or_default()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("request body is JSON")
    }

    /// Decodes an `application/x-www-form-urlencoded` body.
    pub fn form(&self) -> HashMap<String, String> {
        url::form_urlencoded::parse(&self.body)
            .into_owned()
            .collect()
    }
}

/// What the fake server sends back.
#[derive(Clone, Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Wait before sending anything.
    pub delay: Duration,
    /// Send only this many body bytes, then close, while `Content-Length` announces them all.
    pub cut_body_at: Option<usize>,
}

impl Reply {
    pub fn json(status: u16, body: &serde_json::Value) -> Reply {
        Reply::raw(
            status,
            "application/json; charset=utf-8",
            body.to_string().into_bytes(),
        )
    }

    pub fn raw(status: u16, content_type: &str, body: Vec<u8>) -> Reply {
        Reply {
            status,
            headers: vec![("Content-Type".to_string(), content_type.to_string())],
            body,
            delay: Duration::ZERO,
            cut_body_at: None,
        }
    }

    pub fn with_header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    pub fn delayed(mut self, delay: Duration) -> Reply {
        self.delay = delay;
        self
    }

    pub fn cut_at(mut self, bytes: usize) -> Reply {
        self.cut_body_at = Some(bytes);
        self
    }
}

type Handler = dyn Fn(&RecordedRequest, usize) -> Reply + Send + Sync;

/// A running fake server. It stops when the test's runtime ends.
pub struct FakeServer {
    pub addr: SocketAddr,
    requests: Arc<Mutex<Vec<RecordedRequest>>>,
    /// Connections the client closed while the server was still delaying its reply.
    abandoned: Arc<AtomicUsize>,
}

impl FakeServer {
    /// Starts a server on an ephemeral port. `handler` gets each request and its 0-based index.
    pub async fn start(
        handler: impl Fn(&RecordedRequest, usize) -> Reply + Send + Sync + 'static,
    ) -> FakeServer {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1");
        let addr = listener.local_addr().expect("local address");
        let requests = Arc::new(Mutex::new(Vec::new()));
        let abandoned = Arc::new(AtomicUsize::new(0));
        let handler: Arc<Handler> = Arc::new(handler);

        let (log, dropped) = (requests.clone(), abandoned.clone());
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let (handler, log, dropped) = (handler.clone(), log.clone(), dropped.clone());
                tokio::spawn(async move {
                    let _ = serve_connection(stream, handler, log, dropped).await;
                });
            }
        });
        FakeServer {
            addr,
            requests,
            abandoned,
        }
    }

    pub fn url(&self) -> Url {
        Url::parse(&format!("http://{}", self.addr)).expect("valid URL")
    }

    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.requests.lock().expect("lock").clone()
    }

    pub fn abandoned_connections(&self) -> usize {
        self.abandoned.load(Ordering::SeqCst)
    }
}

async fn serve_connection(
    mut stream: TcpStream,
    handler: Arc<Handler>,
    log: Arc<Mutex<Vec<RecordedRequest>>>,
    abandoned: Arc<AtomicUsize>,
) -> std::io::Result<()> {
    let Some(request) = read_request(&mut stream).await? else {
        return Ok(());
    };
    let index = {
        let mut log = log.lock().expect("lock");
        log.push(request.clone());
        log.len() - 1
    };
    let reply = handler(&request, index);

    if !reply.delay.is_zero() {
        // Wait, but notice when the client hangs up first: that is how cancellation shows.
        let mut probe = [0u8; 1];
        tokio::select! {
            _ = tokio::time::sleep(reply.delay) => {}
            read = stream.read(&mut probe) => {
                if matches!(read, Ok(0) | Err(_)) {
                    abandoned.fetch_add(1, Ordering::SeqCst);
                    return Ok(());
                }
            }
        }
    }

    let mut head = format!("HTTP/1.1 {} {}\r\n", reply.status, reason(reply.status));
    head.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n",
        reply.body.len()
    ));
    for (name, value) in &reply.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await?;
    let sent = reply
        .cut_body_at
        .unwrap_or(reply.body.len())
        .min(reply.body.len());
    stream.write_all(&reply.body[..sent]).await?;
    stream.shutdown().await
}

async fn read_request(stream: &mut TcpStream) -> std::io::Result<Option<RecordedRequest>> {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 8192];
    let header_end = loop {
        if let Some(position) = buffer.windows(4).position(|window| window == b"\r\n\r\n") {
            break position;
        }
        let read = stream.read(&mut chunk).await?;
        if read == 0 {
            return Ok(None);
        }
        buffer.extend_from_slice(&chunk[..read]);
    };

    let head = String::from_utf8_lossy(&buffer[..header_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next().unwrap_or_default().split(' ');
    let method = request_line.next().unwrap_or_default().to_string();
    let target = request_line.next().unwrap_or_default().to_string();
    let mut headers = HashMap::new();
    for line in lines {
        if let Some((name, value)) = line.split_once(':') {
            headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_string());
        }
    }

    let length: usize = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = buffer[header_end + 4..].to_vec();
    while body.len() < length {
        let read = stream.read(&mut chunk).await?;
        if read == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..read]);
    }
    Ok(Some(RecordedRequest {
        method,
        target,
        headers,
        body,
        received_at: std::time::Instant::now(),
    }))
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

/// HTTP options for tests: no proxy, and retries fast enough to keep tests short.
pub fn test_http_options() -> HttpOptions {
    HttpOptions {
        retry: RetryPolicy {
            max_retries: 2,
            initial_backoff: Duration::from_millis(20),
            max_backoff: Duration::from_millis(100),
            max_retry_after: Duration::from_secs(5),
        },
        use_env_proxy: false,
        ..HttpOptions::default()
    }
}

pub fn test_credential() -> Credential {
    Credential::Bearer(Arc::new(StaticToken::new(
        Secret::new(TEST_TOKEN),
        "the test",
    )))
}

/// Asserts that an error's message does not leak the test token.
pub fn assert_no_token(message: &str) {
    assert!(
        !message.contains(TEST_TOKEN),
        "the token leaked into: {message}"
    );
}
