//! Sends arbitrary response bodies to the query back ends' clients and checks the results they
//! decode. A small HTTP server on 127.0.0.1 responds to every request with the fuzzer's body, so
//! each client's private whole-response decoder runs as it does against the real service.

#![no_main]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, LazyLock, Mutex};
use std::thread;
use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use quarry_providers::auth::{Credential, StaticToken};
use quarry_providers::defender::{Defender, DefenderApi, DefenderConfig};
use quarry_providers::http::{HttpOptions, RetryPolicy};
use quarry_providers::kusto::{DataExplorer, DataExplorerConfig};
use quarry_providers::log_analytics::{LogAnalytics, LogAnalyticsConfig};
use quarry_providers::splunk::{Splunk, SplunkConfig};
use quarry_providers::{Provider, QueryRequest, RunOptions, Secret};
use url::Url;

/// The status and body the local server sends next.
type Reply = Arc<Mutex<(u16, Vec<u8>)>>;

/// Statuses the fuzzer chooses from: success, and the errors whose bodies the clients read.
const STATUSES: [u16; 4] = [200, 200, 400, 403];

struct Fixture {
    runtime: tokio::runtime::Runtime,
    reply: Reply,
    providers: Vec<Box<dyn Provider>>,
}

static FIXTURE: LazyLock<Fixture> = LazyLock::new(|| {
    let reply: Reply = Arc::new(Mutex::new((200, Vec::new())));
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a local port");
    let base = Url::parse(&format!("http://{}", listener.local_addr().unwrap())).unwrap();
    let served = Arc::clone(&reply);
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            // A client that gave up mid-request is not a finding, so the next request continues.
            let _ = answer(stream, &served);
        }
    });

    // No retries, so one input makes one request.
    let http = HttpOptions {
        retry: RetryPolicy {
            max_retries: 0,
            initial_backoff: Duration::from_millis(1),
            max_backoff: Duration::from_millis(1),
            max_retry_after: Duration::from_millis(1),
        },
        use_env_proxy: false,
        ..HttpOptions::default()
    };
    let token = || {
        Credential::Bearer(Arc::new(StaticToken::new(
            Secret::new("fuzz-token"),
            "the fuzz target",
        )))
    };
    let mut log_analytics = LogAnalyticsConfig::new("00000000-0000-0000-0000-000000000000");
    log_analytics.endpoint = base.clone();
    let mut defender = DefenderConfig::new(DefenderApi::Graph);
    defender.endpoint = base.clone();
    let mut defender_legacy = DefenderConfig::new(DefenderApi::AdvancedHunting);
    defender_legacy.endpoint = base.clone();
    let providers: Vec<Box<dyn Provider>> = vec![
        Box::new(LogAnalytics::new(log_analytics, token(), &http).unwrap()),
        Box::new(
            DataExplorer::new(
                DataExplorerConfig {
                    cluster: base.clone(),
                    database: "Samples".to_owned(),
                    scope: None,
                },
                token(),
                &http,
            )
            .unwrap(),
        ),
        Box::new(Defender::new(defender, token(), &http).unwrap()),
        Box::new(Defender::new(defender_legacy, token(), &http).unwrap()),
        Box::new(
            Splunk::new(
                SplunkConfig { base_url: base },
                Credential::SplunkToken(Secret::new("fuzz-token")),
                &http,
            )
            .unwrap(),
        ),
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
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let fixture = &*FIXTURE;
    let provider = &fixture.providers[usize::from(selector) % fixture.providers.len()];
    let status = STATUSES[usize::from(selector >> 4) % STATUSES.len()];
    *fixture.reply.lock().unwrap() = (status, body.to_vec());

    let row_limit = (selector & 0x80 != 0).then_some(3);
    let request = QueryRequest {
        query: "T | take 10".to_owned(),
        time_range: None,
        options: RunOptions {
            timeout: Duration::from_secs(5),
            row_limit,
            ..RunOptions::default()
        },
    };
    // Most bodies end in an error, which is fine. Panics, hangs and broken results are failures.
    let Ok(result) = fixture.runtime.block_on(provider.run(&request)) else {
        return;
    };
    for table in &result.tables {
        assert!(
            table.rows.len() <= table.total_rows,
            "table `{}` keeps {} rows of {}",
            table.name,
            table.rows.len(),
            table.total_rows
        );
        if let Some(limit) = row_limit {
            assert!(table.rows.len() <= limit, "row limit {limit} not applied");
        }
        for row in &table.rows {
            assert_eq!(
                row.len(),
                table.columns.len(),
                "a row of `{}` does not match its columns",
                table.name
            );
        }
    }
});
