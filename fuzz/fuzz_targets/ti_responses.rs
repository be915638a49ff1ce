//! Sends arbitrary response bodies to the remote threat-intelligence providers and checks the
//! results they make of them. A small HTTP server on 127.0.0.1 responds to every lookup with the
//! fuzzer's body, so each provider's private decoder runs as it does against the real service.

#![no_main]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, LazyLock, Mutex};
use std::thread;

use libfuzzer_sys::fuzz_target;
use quarry_enrichment::ti::providers::{AbuseIpDb, GreyNoise, Otx, VirusTotal, XForce};
use quarry_enrichment::ti::{HttpOverrides, Observable, Provider};
use quarry_enrichment::{IocType, Secret};
use url::Url;

/// The status and body the local server sends next.
type Reply = Arc<Mutex<(u16, Vec<u8>)>>;

/// Statuses the fuzzer chooses from: success, and "not found", whose body some providers read.
const STATUSES: [u16; 2] = [200, 404];

/// One indicator of each type the providers look up.
const OBSERVABLES: [(&str, IocType); 5] = [
    ("198.51.100.7", IocType::Ipv4),
    ("2001:db8::7", IocType::Ipv6),
    ("malware.example.com", IocType::Dns),
    ("http://malware.example.com/a.ps1", IocType::Url),
    (
        "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f",
        IocType::Sha256,
    ),
];

struct Fixture {
    runtime: tokio::runtime::Runtime,
    reply: Reply,
    providers: Vec<Box<dyn Provider>>,
}

static FIXTURE: LazyLock<Fixture> = LazyLock::new(|| {
    let reply: Reply = Arc::new(Mutex::new((200, Vec::new())));
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a local port");
    let base = Url::parse(&format!("http://{}/", listener.local_addr().unwrap())).unwrap();
    let served = Arc::clone(&reply);
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            // A client that gave up mid-request is not a finding, so the next request continues.
            let _ = answer(stream, &served);
        }
    });

    // No retries and no rate limiting, so one input makes one request without waiting.
    let overrides = HttpOverrides {
        base_url: Some(base),
        timeout_seconds: Some(5.0),
        requests_per_minute: Some(u32::MAX),
        burst: Some(u32::MAX),
        max_retries: Some(0),
        max_retry_wait_seconds: Some(0.0),
    };
    let key = || Secret::new("fuzz-key");
    let providers: Vec<Box<dyn Provider>> = vec![
        Box::new(AbuseIpDb::provider(key(), &overrides)),
        Box::new(GreyNoise::provider(Some(key()), &overrides)),
        Box::new(Otx::provider(key(), &overrides)),
        Box::new(VirusTotal::provider(key(), &overrides)),
        Box::new(XForce::provider(key(), key(), &overrides)),
    ];

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("start a tokio runtime");
    Fixture {
        runtime,
        reply,
        providers,
    }
});

/// Reads one HTTP/1.1 request and writes the current reply, then closes the connection.
fn answer(stream: TcpStream, reply: &Reply) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut content_length = 0;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            content_length = value.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0; content_length];
    reader.read_exact(&mut body)?;

    let (status, body) = reply.lock().unwrap().clone();
    let mut stream = stream;
    write!(
        stream,
        "HTTP/1.1 {status} Fuzz\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    stream.write_all(&body)?;
    stream.flush()
}

fuzz_target!(|data: &[u8]| {
    let [provider_selector, observable_selector, body @ ..] = data else {
        return;
    };
    let fixture = &*FIXTURE;
    let provider = &fixture.providers[usize::from(*provider_selector) % fixture.providers.len()];
    let (value, ioc_type) = OBSERVABLES[usize::from(*observable_selector) % OBSERVABLES.len()];
    if !provider.supports(ioc_type) {
        return;
    }
    let status = STATUSES[usize::from(provider_selector >> 4) % STATUSES.len()];
    *fixture.reply.lock().unwrap() = (status, body.to_vec());

    let observable = Observable::new(value, ioc_type);
    let result = fixture.runtime.block_on(provider.lookup(&observable));
    assert_eq!(
        result.provider,
        provider.name(),
        "result names another provider"
    );
    assert_eq!(result.ioc, value, "result is for another indicator");
    assert_eq!(
        result.ioc_type, ioc_type,
        "result has another indicator type"
    );
});
