//! A misbehaving HTTP/1.1 server on 127.0.0.1 for fault-injection tests, and helpers that
//! produce network failures without any server: a refused port, an unresolvable host name and a
//! listener whose accept queue is full.
//!
//! The server runs on plain threads, so tests on any async runtime can use it. It counts
//! connections and the HTTP requests it read, so tests can assert how often a client retried.
//! Stalled connections are held until the server is dropped.
//!
//! quarry-enrichment's fault tests include this file by path.

#![allow(dead_code)]

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

/// What the server does with one request.
#[derive(Clone, Debug)]
pub enum Fault {
    /// A complete response.
    Reply {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    /// Read the request, then send nothing and keep the connection open.
    StallBeforeHeaders,
    /// Send the status line, headers announcing `announced` body bytes and `sent`, then stall.
    StallInBody {
        status: u16,
        announced: usize,
        sent: Vec<u8>,
    },
    /// Announce `body` in full but close the connection after `cut` bytes.
    Truncated {
        status: u16,
        body: Vec<u8>,
        cut: usize,
    },
    /// Send spaces, which are valid JSON whitespace, until the client stops reading. With
    /// `announced`, `Content-Length` claims 1 TiB; without it the body runs to the end of the
    /// connection.
    Endless { status: u16, announced: bool },
}

impl Fault {
    pub fn json(status: u16, body: &str) -> Fault {
        Fault::Reply {
            status,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: body.as_bytes().to_vec(),
        }
    }

    pub fn text(status: u16, content_type: &str, body: &str) -> Fault {
        Fault::Reply {
            status,
            headers: vec![("Content-Type".into(), content_type.into())],
            body: body.as_bytes().to_vec(),
        }
    }

    /// Adds a header to a [`Fault::Reply`] and returns other faults unchanged.
    pub fn with_header(mut self, name: &str, value: &str) -> Fault {
        if let Fault::Reply { headers, .. } = &mut self {
            headers.push((name.into(), value.into()));
        }
        self
    }
}

type Plan = dyn Fn(usize) -> Fault + Send + Sync;

/// A running fault server. Dropping it releases every stalled connection.
pub struct FaultServer {
    pub addr: SocketAddr,
    requests: Arc<AtomicUsize>,
    connections: Arc<AtomicUsize>,
    tls_handshakes: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
}

impl FaultServer {
    /// Starts a server whose `plan` picks the fault for each request from its 0-based index.
    pub fn start(plan: impl Fn(usize) -> Fault + Send + Sync + 'static) -> FaultServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        listener
            .set_nonblocking(true)
            .expect("non-blocking listener");
        let addr = listener.local_addr().expect("local address");
        let server = FaultServer {
            addr,
            requests: Arc::default(),
            connections: Arc::default(),
            tls_handshakes: Arc::default(),
            stop: Arc::default(),
        };

        let plan: Arc<Plan> = Arc::new(plan);
        let (requests, connections, tls, stop) = (
            server.requests.clone(),
            server.connections.clone(),
            server.tls_handshakes.clone(),
            server.stop.clone(),
        );
        thread::spawn(move || {
            while !stop.load(Ordering::SeqCst) {
                let stream = match listener.accept() {
                    Ok((stream, _)) => stream,
                    Err(error) if error.kind() == ErrorKind::WouldBlock => {
                        thread::sleep(Duration::from_millis(5));
                        continue;
                    }
                    Err(_) => return,
                };
                connections.fetch_add(1, Ordering::SeqCst);
                let (plan, requests, tls, stop) =
                    (plan.clone(), requests.clone(), tls.clone(), stop.clone());
                thread::spawn(move || {
                    let _ = serve(stream, plan.as_ref(), &requests, &tls, &stop);
                });
            }
        });
        server
    }

    /// Returns `http://127.0.0.1:PORT` with no trailing slash.
    pub fn http_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Returns `https://127.0.0.1:PORT`, where a TLS client meets a plain-TCP server.
    pub fn https_url(&self) -> String {
        format!("https://{}", self.addr)
    }

    /// HTTP requests read, counting retries.
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }

    /// TCP connections accepted.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    /// Connections that opened with a TLS handshake record rather than an HTTP request.
    pub fn tls_handshakes(&self) -> usize {
        self.tls_handshakes.load(Ordering::SeqCst)
    }
}

impl Drop for FaultServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

fn serve(
    mut stream: TcpStream,
    plan: &Plan,
    requests: &AtomicUsize,
    tls: &AtomicUsize,
    stop: &AtomicBool,
) -> std::io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut head = Vec::new();
    let mut buffer = [0u8; 8192];
    loop {
        let read = stream.read(&mut buffer)?;
        if read == 0 {
            return Ok(());
        }
        head.extend_from_slice(&buffer[..read]);
        // 0x16 starts a TLS handshake record: a TLS client met this plain-TCP server.
        if head[0] == 0x16 {
            tls.fetch_add(1, Ordering::SeqCst);
            return Ok(());
        }
        if let Some(end) = head.windows(4).position(|window| window == b"\r\n\r\n") {
            read_rest_of_body(&mut stream, &head, end)?;
            break;
        }
    }
    let index = requests.fetch_add(1, Ordering::SeqCst);

    match plan(index) {
        Fault::Reply {
            status,
            headers,
            body,
        } => {
            write_head(&mut stream, status, Some(body.len()), &headers)?;
            stream.write_all(&body)?;
        }
        Fault::StallBeforeHeaders => hold(stop),
        Fault::StallInBody {
            status,
            announced,
            sent,
        } => {
            write_head(&mut stream, status, Some(announced), &json_type())?;
            stream.write_all(&sent)?;
            stream.flush()?;
            hold(stop);
        }
        Fault::Truncated { status, body, cut } => {
            write_head(&mut stream, status, Some(body.len()), &json_type())?;
            stream.write_all(&body[..cut.min(body.len())])?;
        }
        Fault::Endless { status, announced } => {
            let length = announced.then_some(1 << 40);
            write_head(&mut stream, status, length, &json_type())?;
            let chunk = vec![b' '; 64 * 1024];
            // A write fails once the client closes the connection.
            while !stop.load(Ordering::SeqCst) {
                stream.write_all(&chunk)?;
            }
        }
    }
    stream.flush()?;
    stream.shutdown(std::net::Shutdown::Both)
}

/// Reads the request body that `Content-Length` announces, so that the client's write finishes.
fn read_rest_of_body(stream: &mut TcpStream, head: &[u8], end: usize) -> std::io::Result<()> {
    let text = String::from_utf8_lossy(&head[..end]).to_ascii_lowercase();
    let length: usize = text
        .lines()
        .find_map(|line| line.strip_prefix("content-length:"))
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or(0);
    let mut have = head.len() - end - 4;
    let mut buffer = [0u8; 8192];
    while have < length {
        let read = stream.read(&mut buffer)?;
        if read == 0 {
            break;
        }
        have += read;
    }
    Ok(())
}

fn json_type() -> Vec<(String, String)> {
    vec![("Content-Type".into(), "application/json".into())]
}

fn write_head(
    stream: &mut TcpStream,
    status: u16,
    length: Option<usize>,
    headers: &[(String, String)],
) -> std::io::Result<()> {
    let mut head = format!("HTTP/1.1 {status} Fault\r\nConnection: close\r\n");
    if let Some(length) = length {
        head.push_str(&format!("Content-Length: {length}\r\n"));
    }
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())
}

/// Keeps the calling connection thread, and so its socket, alive until the server stops or a
/// minute passes.
fn hold(stop: &AtomicBool) {
    let started = Instant::now();
    while !stop.load(Ordering::SeqCst) && started.elapsed() < Duration::from_secs(60) {
        thread::sleep(Duration::from_millis(10));
    }
}

/// Returns an `http://127.0.0.1:PORT` URL where nothing listens, so connecting is refused.
pub fn refused_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
    let addr = listener.local_addr().expect("local address");
    drop(listener);
    format!("http://{addr}")
}

/// Returns a URL whose host name the local resolver rejects without sending a query: its
/// first label has 70 characters, more than the 63 that DNS allows, under the reserved
/// `.invalid` top-level domain. (glibc's resolver fails to build such a query, checked with
/// strace on Debian 12: no packet leaves the machine.)
pub fn unresolvable_url() -> String {
    format!("http://{}.invalid", "q".repeat(70))
}

/// A listener whose accept queue is full, so that a new connection attempt hangs in the TCP
/// handshake: the connect phase of a timeout. The held connections keep the queue full until
/// this value is dropped.
pub struct FullBacklog {
    pub addr: SocketAddr,
    _listener: TcpListener,
    _held: Vec<TcpStream>,
}

impl FullBacklog {
    pub fn new() -> FullBacklog {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let addr = listener.local_addr().expect("local address");
        let mut held = Vec::new();
        // The listener never accepts, so connections queue until the kernel's backlog (at most
        // a few thousand) is full and the next one times out.
        for _ in 0..10_000 {
            match TcpStream::connect_timeout(&addr, Duration::from_millis(200)) {
                Ok(stream) => held.push(stream),
                Err(error) if error.kind() != ErrorKind::TimedOut => {
                    panic!("filling the accept queue of {addr} failed: {error}")
                }
                Err(_) => {
                    return FullBacklog {
                        addr,
                        _listener: listener,
                        _held: held,
                    };
                }
            }
        }
        panic!("the accept queue of {addr} took 10,000 connections without filling");
    }

    pub fn http_url(&self) -> String {
        format!("http://{}", self.addr)
    }
}
