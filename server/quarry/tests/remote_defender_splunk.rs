//! Defender XDR (Microsoft Graph `runHuntingQuery`) and Splunk (`search/jobs/export`) through
//! `quarry run --connection` and `quarry lsp`, against fake services on 127.0.0.1: rows and
//! types, permission and credential errors, throttling with `Retry-After`, warnings beside
//! rows, timeouts, editor and keyring secrets, and a Splunk template rendered in SPL by
//! `quarry.pivot`.

#[path = "../../providers/tests/common/mod.rs"]
mod common;
mod lsp_client;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{FakeServer, Reply};
use lsp_client::LspClient;
use serde_json::{Value, json};

const TOKEN: &str = "defender-splunk-secret-4e8b";

fn workspace_with(name: &str, config: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("quarry-mde-splunk-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("quarry.toml"), config).unwrap();
    dir
}

fn defender_config(server: &FakeServer) -> String {
    format!(
        "[connections.mde]\nkind = \"defender\"\napi = \"graph\"\nendpoint = \"{}\"\n\
         auth = {{ method = \"token\", token = {{ env = \"REMOTE_TOKEN\" }} }}\n",
        server.url()
    )
}

fn splunk_config(server: &FakeServer, auth: &str) -> String {
    format!(
        "[connections.splunk]\nkind = \"splunk\"\nurl = \"{}\"\nauth = {auth}\n",
        server.url()
    )
}

fn quarry_command(dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_quarry"));
    command
        .args(args)
        .current_dir(dir)
        .env("HOME", dir)
        .env("REMOTE_TOKEN", TOKEN)
        .env("QUARRY_LOG", "trace")
        .env_remove("MSTICPYCONFIG")
        .env_remove("XDG_CONFIG_HOME")
        .env_remove("HTTPS_PROXY")
        .env_remove("HTTP_PROXY")
        .env_remove("https_proxy")
        .env_remove("http_proxy");
    command
}

/// Runs `quarry ARGS` on a blocking thread so the fake server keeps serving meanwhile.
async fn quarry(dir: &Path, args: &[&str]) -> Output {
    let mut command = quarry_command(dir, args);
    tokio::task::spawn_blocking(move || command.output().expect("run quarry"))
        .await
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn assert_no_secret(output: &Output, secret: &str) {
    for stream in [&output.stdout, &output.stderr] {
        assert!(!text(stream).contains(secret), "the secret leaked");
    }
}

fn graph_reply() -> Value {
    json!({
        "schema": [
            {"name": "Timestamp", "type": "DateTime"},
            {"name": "DeviceName", "type": "String"},
            {"name": "ProcessId", "type": "Int64"},
            {"name": "AdditionalFields", "type": "Object"}
        ],
        "results": [
            {"Timestamp": "2024-03-01T10:00:00.1234567Z", "DeviceName": "ws-17", "ProcessId": 4242,
             "AdditionalFields": "{\"Command\":\"Invoke-WebRequest\"}"},
            {"Timestamp": "2024-03-01T10:05:00Z", "DeviceName": "ws-18"}
        ]
    })
}

fn export_body(lines: &[Value]) -> Vec<u8> {
    lines
        .iter()
        .map(|line| format!("{line}\n"))
        .collect::<String>()
        .into_bytes()
}

#[tokio::test(flavor = "multi_thread")]
async fn defender_rows_and_timespan() {
    let reply = graph_reply();
    let server = FakeServer::start(move |_, _| Reply::json(200, &reply)).await;
    let dir = workspace_with("mde-rows", &defender_config(&server));
    let output = quarry(
        &dir,
        &[
            "run",
            "DeviceProcessEvents | take 2",
            "--connection",
            "mde",
            "--timespan",
            "7d",
            "--format",
            "json",
        ],
    )
    .await;
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let result: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        result["columns"],
        json!([
            {"name": "Timestamp", "type": "datetime"},
            {"name": "DeviceName", "type": "string"},
            {"name": "ProcessId", "type": "long"},
            {"name": "AdditionalFields", "type": "dynamic"}
        ])
    );
    assert_eq!(result["rows"][0][2], 4242);
    assert_eq!(
        result["rows"][0][3],
        json!({"Command": "Invoke-WebRequest"})
    );
    assert_eq!(result["rows"][1][2], Value::Null);

    let sent = &server.requests()[0];
    assert_eq!(sent.path(), "/v1.0/security/runHuntingQuery");
    assert_eq!(
        sent.json(),
        json!({"Query": "DeviceProcessEvents | take 2", "Timespan": "PT604800S"})
    );
    assert_no_secret(&output, TOKEN);
}

#[tokio::test(flavor = "multi_thread")]
async fn defender_forbidden_names_permission() {
    let server = FakeServer::start(|_, _| {
        Reply::json(
            403,
            &json!({"error": {"code": "Forbidden", "message": "Missing application roles. API required roles: ThreatHunting.Read.All."}}),
        )
    })
    .await;
    let dir = workspace_with("mde-403", &defender_config(&server));
    let output = quarry(&dir, &["run", "T", "--connection", "mde"]).await;
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("ThreatHunting.Read.All"), "{stderr}");
    assert_no_secret(&output, TOKEN);
}

#[tokio::test(flavor = "multi_thread")]
async fn defender_unauthorized_and_timeout() {
    let rejecting = FakeServer::start(|_, _| {
        Reply::json(
            401,
            &json!({"error": {"code": "InvalidAuthenticationToken", "message": "Access token has expired or is not yet valid."}}),
        )
    })
    .await;
    let dir = workspace_with("mde-401", &defender_config(&rejecting));
    let output = quarry(&dir, &["run", "T", "--connection", "mde"]).await;
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("HTTP 401"), "{stderr}");
    assert!(stderr.contains("Access token has expired"), "{stderr}");
    assert_no_secret(&output, TOKEN);

    let reply = graph_reply();
    let slow =
        FakeServer::start(move |_, _| Reply::json(200, &reply).delayed(Duration::from_secs(30)))
            .await;
    let dir = workspace_with("mde-slow", &defender_config(&slow));
    let started = Instant::now();
    let output = quarry(&dir, &["run", "T", "--connection", "mde", "--timeout", "1"]).await;
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("timed out after 1 s"), "{stderr}");
    assert!(started.elapsed() < Duration::from_secs(15));
}

#[tokio::test(flavor = "multi_thread")]
async fn defender_throttled_waits_retry_after() {
    let reply = graph_reply();
    let server = FakeServer::start(move |_, index| {
        if index == 0 {
            Reply::json(
                429,
                &json!({"error": {"code": "TooManyRequests", "message": "Rate limit"}}),
            )
            .with_header("Retry-After", "1")
        } else {
            Reply::json(200, &reply)
        }
    })
    .await;
    let dir = workspace_with("mde-429", &defender_config(&server));
    let output = quarry(
        &dir,
        &["run", "T", "--connection", "mde", "--format", "csv"],
    )
    .await;
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    let waited = requests[1].received_at - requests[0].received_at;
    assert!(
        waited >= Duration::from_millis(900),
        "retried after {waited:?}"
    );
    assert_eq!(text(&output.stdout).lines().count(), 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn splunk_basic_auth_and_warning() {
    let password = "splunk-basic-pass-61f0";
    let body = export_body(&[
        json!({"preview": false, "messages": [{"type": "WARN", "text": "Search filter truncated."}]}),
        json!({"preview": false, "offset": 0, "lastrow": true, "result": {"_time": "2024-03-01T10:00:00.000+00:00", "host": "web-1", "status": "404"}}),
    ]);
    let server =
        FakeServer::start(move |_, _| Reply::raw(200, "application/json", body.clone())).await;
    let auth =
        "{ method = \"basic\", username = \"hunter\", password = { env = \"SPLUNK_PASSWORD\" } }";
    let dir = workspace_with("splunk-basic", &splunk_config(&server, auth));

    let mut command = quarry_command(
        &dir,
        &[
            "run",
            "index=web status>=400",
            "--connection",
            "splunk",
            "--start",
            "-1d",
            "--format",
            "csv",
        ],
    );
    command.env("SPLUNK_PASSWORD", password);
    let output = tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap();
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("warning: Search filter truncated."),
        "{stderr}"
    );
    assert_eq!(
        text(&output.stdout),
        "_time,host,status\n2024-03-01T10:00:00Z,web-1,404\n"
    );

    let sent = &server.requests()[0];
    use base64::Engine as _;
    let expected = base64::engine::general_purpose::STANDARD.encode(format!("hunter:{password}"));
    assert_eq!(
        sent.header("authorization"),
        Some(format!("Basic {expected}").as_str())
    );
    let form = sent.form();
    assert_eq!(form["search"], "search index=web status>=400");
    assert!(form.contains_key("earliest_time"), "{form:?}");
    assert_no_secret(&output, password);
}

#[test]
fn config_secret_set_and_delete() {
    let entry = format!("quarry-test-cli-{}", std::process::id());
    let secret = "cli-keyring-secret-2b9e";
    let dir = workspace_with("secret-cli", "");
    let run_with_stdin = |args: &[&str], input: &str| {
        let mut command = quarry_command(&dir, args);
        command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command.spawn().unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    };

    let stored = run_with_stdin(&["config", "secret", "set", &entry], &format!("{secret}\n"));
    assert!(stored.status.success(), "{}", text(&stored.stderr));
    assert!(text(&stored.stderr).contains(&format!("stored keyring entry {entry}")));
    assert_no_secret(&stored, secret);

    let empty = run_with_stdin(&["config", "secret", "set", &entry], "\n");
    assert_eq!(empty.status.code(), Some(2));
    assert!(
        text(&empty.stderr).contains("is empty"),
        "{}",
        text(&empty.stderr)
    );

    let deleted = run_with_stdin(&["config", "secret", "delete", &entry], "");
    assert!(deleted.status.success(), "{}", text(&deleted.stderr));
}

#[tokio::test(flavor = "multi_thread")]
async fn splunk_unauthorized_and_timeout() {
    let rejecting = FakeServer::start(|_, _| {
        Reply::json(
            401,
            &json!({"messages": [{"type": "WARN", "text": "call not properly authenticated"}]}),
        )
    })
    .await;
    let token_auth = "{ method = \"token\", token = { env = \"REMOTE_TOKEN\" } }";
    let dir = workspace_with("splunk-401", &splunk_config(&rejecting, token_auth));
    let output = quarry(&dir, &["run", "index=web", "--connection", "splunk"]).await;
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("call not properly authenticated"),
        "{stderr}"
    );
    assert_no_secret(&output, TOKEN);

    let slow = FakeServer::start(|_, _| {
        Reply::raw(200, "application/json", Vec::new()).delayed(Duration::from_secs(30))
    })
    .await;
    let dir = workspace_with("splunk-slow", &splunk_config(&slow, token_auth));
    let started = Instant::now();
    let output = quarry(
        &dir,
        &[
            "run",
            "index=web",
            "--connection",
            "splunk",
            "--timeout",
            "1",
        ],
    )
    .await;
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("timed out after 1 s"), "{stderr}");
    assert!(started.elapsed() < Duration::from_secs(15));
}

const SPLUNK_TEMPLATES: &str = r#"
metadata:
  version: 1
  description: Splunk pivot tests
  data_environments: [Splunk]
  data_families: [SplunkPivot]
sources:
  web_hits_from_ip:
    description: Web requests from one client address
    args:
      query: 'search index=web clientip="{ip_address}" | stats count by status'
    parameters:
      ip_address:
        description: The client address
        type: str
"#;

#[tokio::test(flavor = "multi_thread")]
async fn lsp_defender_error_and_splunk_pivot() {
    let graph_error = json!({"error": {
        "code": "BadRequest",
        "message": "Query could not be parsed at 'tak' on line [2,3]"
    }});
    let defender = FakeServer::start(move |_, _| Reply::json(400, &graph_error)).await;
    // Written as text so that the field order is Splunk's (status, then count) whatever
    // serde_json features the workspace enables.
    let body = br#"{"preview": false, "offset": 0, "lastrow": true, "result": {"status": "200", "count": "3"}}"#
        .iter()
        .chain(b"\n")
        .copied()
        .collect::<Vec<u8>>();
    let splunk =
        FakeServer::start(move |_, _| Reply::raw(200, "application/json", body.clone())).await;
    let config = format!(
        "{}\n{}",
        defender_config(&defender),
        splunk_config(
            &splunk,
            "{ method = \"token\", token = { keyring = \"splunk-editor-token\" } }"
        )
    );
    let dir = workspace_with("lsp", &config);
    let templates = dir.join("templates");
    std::fs::create_dir_all(&templates).unwrap();
    std::fs::write(templates.join("splunk_pivots.yaml"), SPLUNK_TEMPLATES).unwrap();

    let editor_token = "splunk-editor-token-0a7d";
    let (defender_error, pivot, stderr) = tokio::task::spawn_blocking({
        let dir = dir.clone();
        move || {
            let mut client = LspClient::spawn_with_env(&[
                ("HOME", dir.to_str().unwrap()),
                ("REMOTE_TOKEN", TOKEN),
                ("QUARRY_TEMPLATE_PATH", templates.to_str().unwrap()),
            ]);
            let root = url::Url::from_directory_path(&dir).unwrap().to_string();
            client.request_ok(
                "initialize",
                json!({"processId": null, "rootUri": root, "capabilities": {}}),
            );
            client.notify("initialized", json!({}));
            client.request_ok(
                "quarry/setSecret",
                json!({"name": "splunk-editor-token", "value": editor_token}),
            );
            let uri = "file:///hunt/mde.kql";
            client.did_open(uri, "DeviceProcessEvents\n| tak 1\n");
            let defender_error = client
                .request(
                    "workspace/executeCommand",
                    json!({"command": "quarry.runQuery", "arguments": [{
                        "uri": uri, "position": {"line": 0, "character": 2}, "connection": "mde"
                    }]}),
                )
                .unwrap_err();
            let pivot = client.request_ok(
                "workspace/executeCommand",
                json!({"command": "quarry.pivot", "arguments": [{
                    "template": "SplunkPivot.web_hits_from_ip",
                    "value": "203.0.113.9\" OR 1=1",
                    "entity": "IpAddress",
                    "run": true,
                    "connection": "splunk",
                    "timeRange": {"start": "-1d"}
                }]}),
            );
            let stderr = client.stderr();
            client.shutdown();
            (defender_error, pivot, stderr)
        }
    })
    .await
    .unwrap();

    assert_eq!(defender_error["code"], -32803, "{defender_error}");
    assert_eq!(
        defender_error["data"]["range"],
        json!({"start": {"line": 1, "character": 2}, "end": {"line": 1, "character": 5}}),
        "{defender_error}"
    );

    assert_eq!(pivot["source"], "connection:splunk", "{pivot}");
    assert_eq!(
        pivot["columns"],
        json!([{"name": "status", "type": "string"}, {"name": "count", "type": "string"}]),
        "{pivot}"
    );
    assert_eq!(pivot["rows"], json!([["200", "3"]]), "{pivot}");
    assert_eq!(pivot["template"], "SplunkPivot.web_hits_from_ip");
    let sent = &splunk.requests()[0];
    assert_eq!(
        sent.form()["search"],
        r#"search index=web clientip="203.0.113.9\" OR 1=1" | stats count by status"#
    );
    assert_eq!(
        sent.header("authorization"),
        Some(format!("Bearer {editor_token}").as_str())
    );
    assert!(
        !stderr.contains(editor_token),
        "the editor's token reached the log"
    );
    assert!(!stderr.contains(TOKEN), "the token reached the log");
}
