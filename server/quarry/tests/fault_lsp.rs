//! Faults during `quarry.runQuery` on a remote connection, through `quarry lsp`. While a run
//! hangs on a stalled service, and after it fails, the server must keep responding to hover
//! requests. The run must end with a clear error within its timeout. No secret may appear
//! in an error or in the server's log.

#[path = "../../providers/tests/fault_server/mod.rs"]
mod fault_server;
mod lsp_client;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use fault_server::{Fault, FaultServer, refused_url};
use lsp_client::{LspClient, position};
use serde_json::json;

const URI: &str = "file:///hunt/faults.kql";
const TEXT: &str = "SecurityEvent\n| where EventID == 4625\n";
/// Bearer token of the token connections. No output may contain it.
const TOKEN: &str = "lsp-fault-token-0d6e2a";
/// Client secret of the client-credentials connection. No output may contain it.
const CLIENT_SECRET: &str = "lsp-fault-client-secret-77f1";
/// Slack on top of a configured timeout before a run counts as hung.
const HANG_MARGIN: Duration = Duration::from_secs(10);
/// Time a hover may take while a remote run is in flight before the server counts as blocked.
/// Hover on a short local document takes milliseconds, so this only catches a blocked server.
const HOVER_BOUND: Duration = Duration::from_secs(5);

/// The fake services, one per connection, kept alive for the test.
struct Services {
    stalled: FaultServer,
    endless: FaultServer,
    throttled: FaultServer,
    token_endpoint: FaultServer,
    dir: PathBuf,
}

impl Drop for Services {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Starts the fake services and writes a `quarry.toml` with one connection for each into a
/// fresh configuration folder.
fn services(name: &str) -> Services {
    let stalled = FaultServer::start(|_| Fault::StallBeforeHeaders);
    let endless = FaultServer::start(|_| Fault::Endless {
        status: 200,
        announced: false,
    });
    let throttled = FaultServer::start(|_| {
        Fault::json(
            429,
            r#"{"error": {"code": "TooMany", "message": "slow down"}}"#,
        )
        .with_header("Retry-After", "0")
    });
    let token_endpoint = FaultServer::start(|_| {
        Fault::json(
            500,
            r#"{"error": "temporarily_unavailable", "error_description": "try later"}"#,
        )
    });

    let dir = std::env::temp_dir().join(format!("quarry-fault-lsp-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("quarry")).unwrap();
    let token = r#"auth = { method = "token", token = { env = "FAULT_TOKEN" } }"#;
    let config = format!(
        r#"
[connections.stalled]
kind = "log-analytics"
workspace-id = "ws-1"
endpoint = "{stalled}"
{token}

[connections.refused]
kind = "log-analytics"
workspace-id = "ws-2"
endpoint = "{refused}"
{token}

[connections.endless]
kind = "log-analytics"
workspace-id = "ws-3"
endpoint = "{endless}"
{token}

[connections.throttled]
kind = "log-analytics"
workspace-id = "ws-4"
endpoint = "{throttled}"
{token}

[connections.signin]
kind = "log-analytics"
workspace-id = "ws-5"
endpoint = "{refused}"
[connections.signin.auth]
method = "client-secret"
tenant-id = "contoso.onmicrosoft.com"
client-id = "11111111-2222-3333-4444-555555555555"
client-secret = {{ env = "FAULT_CLIENT_SECRET" }}
authority = "{authority}"
"#,
        stalled = stalled.http_url(),
        refused = refused_url(),
        endless = endless.http_url(),
        throttled = throttled.http_url(),
        authority = token_endpoint.http_url(),
    );
    std::fs::write(dir.join("quarry").join("quarry.toml"), config).unwrap();
    Services {
        stalled,
        endless,
        throttled,
        token_endpoint,
        dir,
    }
}

fn start_server(services: &Services) -> LspClient {
    let dir = services.dir.to_str().unwrap();
    let mut client = LspClient::start_with_env(
        json!({}),
        &[
            ("XDG_CONFIG_HOME", dir),
            ("HOME", dir),
            ("QUARRY_CACHE_DIR", dir),
            ("MSTICPYCONFIG", ""),
            ("FAULT_TOKEN", TOKEN),
            ("FAULT_CLIENT_SECRET", CLIENT_SECRET),
            ("HTTPS_PROXY", ""),
            ("HTTP_PROXY", ""),
            ("https_proxy", ""),
            ("http_proxy", ""),
        ],
    );
    client.did_open(URI, TEXT);
    client
}

/// Sends a hover on `where` and checks that it returns within [`HOVER_BOUND`].
fn assert_hover_responsive(client: &mut LspClient, during: &str) {
    let started = Instant::now();
    let hover = client.request_ok(
        "textDocument/hover",
        json!({"textDocument": {"uri": URI}, "position": position(1, 3)}),
    );
    let elapsed = started.elapsed();
    assert!(hover["contents"].is_object(), "{during}: hover {hover}");
    assert!(
        elapsed < HOVER_BOUND,
        "{during}: hover took {elapsed:?}\n{}",
        client.stderr()
    );
}

/// Starts a run on `connection` with `timeout_seconds`, checks hover while it runs, and returns
/// the run's error message and how long the run took.
fn failing_run(
    client: &mut LspClient,
    connection: &str,
    timeout_seconds: u64,
) -> (String, Duration) {
    let started = Instant::now();
    let id = client.send_request(
        "workspace/executeCommand",
        json!({"command": "quarry.runQuery", "arguments": [{
            "query": "SecurityEvent | take 5",
            "connection": connection,
            "timeoutSeconds": timeout_seconds,
        }]}),
    );
    assert_hover_responsive(client, &format!("during the run on {connection}"));

    let limit = Duration::from_secs(timeout_seconds) + HANG_MARGIN;
    let error = client
        .response(id, limit)
        .expect_err("the run against a fault fails");
    let elapsed = started.elapsed();
    assert_eq!(error["code"], -32803, "{connection}: {error}");
    let message = error["message"].as_str().unwrap_or_default().to_owned();
    for secret in [TOKEN, CLIENT_SECRET] {
        assert!(
            !error.to_string().contains(secret),
            "{connection}: secret in {error}"
        );
    }
    assert_hover_responsive(client, &format!("after the run on {connection}"));
    (message, elapsed)
}

#[test]
fn faults_leave_server_responsive() {
    let services = services("responsive");
    let mut client = start_server(&services);

    let (message, elapsed) = failing_run(&mut client, "stalled", 2);
    assert!(
        message.contains("timed out after 2 s"),
        "stalled: {message}"
    );
    assert!(
        elapsed < Duration::from_secs(2) + HANG_MARGIN,
        "{elapsed:?}"
    );
    assert_eq!(services.stalled.requests(), 1);

    let (message, _) = failing_run(&mut client, "refused", 30);
    assert!(message.contains("could not reach"), "refused: {message}");
    assert!(
        message.to_lowercase().contains("connection refused"),
        "refused: {message}"
    );

    let (message, _) = failing_run(&mut client, "endless", 60);
    assert!(
        message.contains("larger than 256 MiB"),
        "endless: {message}"
    );
    assert_eq!(services.endless.requests(), 1);

    let (message, _) = failing_run(&mut client, "throttled", 30);
    assert!(message.contains("HTTP 429"), "throttled: {message}");
    let throttled_requests = services.throttled.requests();
    assert!(
        (2..=4).contains(&throttled_requests),
        "throttled: {throttled_requests} requests"
    );

    let (message, _) = failing_run(&mut client, "signin", 30);
    assert!(message.contains("token endpoint"), "signin: {message}");
    assert!(
        (1..=4).contains(&services.token_endpoint.requests()),
        "signin: {} requests",
        services.token_endpoint.requests()
    );

    // The server still handles a local run and then shuts down cleanly.
    let local = client.request(
        "workspace/executeCommand",
        json!({"command": "quarry.runQuery", "arguments": [{"query": "print x = 1"}]}),
    );
    assert!(local.is_ok(), "{local:?}");
    let log = client.stderr();
    for secret in [TOKEN, CLIENT_SECRET] {
        assert!(!log.contains(secret), "secret in the server log:\n{log}");
    }
    // Progress, window/logMessage, window/showMessage and every other notification.
    let connections = client.request_ok("quarry/listConnections", serde_json::Value::Null);
    for message in client.drain_notifications().iter().chain([&connections]) {
        let text = message.to_string();
        for secret in [TOKEN, CLIENT_SECRET] {
            assert!(!text.contains(secret), "secret in a message: {text}");
        }
    }
    assert!(!log.contains("panicked"), "{log}");
    let status = client.shutdown();
    assert!(status.success(), "{status:?}");
}

#[test]
fn shutdown_during_stalled_run() {
    // A run that hangs on the service must not keep the server from exiting.
    let services = services("shutdown");
    let mut client = start_server(&services);
    let _run = client.send_request(
        "workspace/executeCommand",
        json!({"command": "quarry.runQuery", "arguments": [{
            "query": "T", "connection": "stalled", "timeoutSeconds": 120,
        }]}),
    );
    assert_hover_responsive(&mut client, "during a stalled run");
    let started = Instant::now();
    let status = client.shutdown();
    assert!(status.success(), "{status:?}");
    assert!(started.elapsed() < Duration::from_secs(20));
}
