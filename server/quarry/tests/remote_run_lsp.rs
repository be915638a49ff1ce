//! `quarry.runQuery` with a `connection`, and `quarry/listConnections`, against a fake Log
//! Analytics API on 127.0.0.1.
//!
//! The tests drive `quarry lsp` with their own small JSON-RPC client, because they need a
//! client that announces work-done progress, sets a workspace folder and can cancel a request
//! while it runs.

#[path = "../../providers/tests/common/mod.rs"]
mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{FakeServer, Reply};
use serde_json::{Value, json};

const TOKEN: &str = "remote-lsp-secret-91c2";
const URI: &str = "file:///hunt/remote.kql";

/// `quarry lsp` with a client that answers the server's requests with `null`.
struct Lsp {
    child: Child,
    stdin: Arc<Mutex<ChildStdin>>,
    incoming: Receiver<Value>,
    notifications: Vec<Value>,
    next_id: i64,
    stderr: Arc<Mutex<String>>,
}

impl Lsp {
    fn start(workspace: &Path) -> Lsp {
        let mut child = Command::new(env!("CARGO_BIN_EXE_quarry"))
            .arg("lsp")
            .env("QUARRY_LOG", "trace")
            .env("HOME", workspace)
            .env("REMOTE_TOKEN", TOKEN)
            .env_remove("MSTICPYCONFIG")
            .env_remove("XDG_CONFIG_HOME")
            .env_remove("HTTPS_PROXY")
            .env_remove("HTTP_PROXY")
            .env_remove("https_proxy")
            .env_remove("http_proxy")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start quarry lsp");
        let stdin = Arc::new(Mutex::new(child.stdin.take().unwrap()));
        let stdout = child.stdout.take().unwrap();
        let mut stderr_pipe = child.stderr.take().unwrap();
        let stderr = Arc::new(Mutex::new(String::new()));
        let log = stderr.clone();
        std::thread::spawn(move || {
            let mut buffer = [0u8; 4096];
            while let Ok(read) = stderr_pipe.read(&mut buffer) {
                if read == 0 {
                    break;
                }
                log.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buffer[..read]));
            }
        });
        let (sender, incoming) = channel();
        let replies = stdin.clone();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            loop {
                let mut length = 0usize;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let line = line.trim_end();
                    if line.is_empty() {
                        break;
                    }
                    if let Some(value) = line.strip_prefix("Content-Length: ") {
                        length = value.parse().unwrap();
                    }
                }
                let mut body = vec![0u8; length];
                if reader.read_exact(&mut body).is_err() {
                    return;
                }
                let message: Value = serde_json::from_slice(&body).unwrap();
                if message.get("method").is_some() && message.get("id").is_some() {
                    write_message(
                        &replies,
                        &json!({"jsonrpc": "2.0", "id": message["id"], "result": null}),
                    );
                }
                if sender.send(message).is_err() {
                    return;
                }
            }
        });
        let mut lsp = Lsp {
            child,
            stdin,
            incoming,
            notifications: Vec::new(),
            next_id: 1,
            stderr,
        };
        let root = url::Url::from_directory_path(workspace)
            .unwrap()
            .to_string();
        let result = lsp.request(
            "initialize",
            json!({
                "processId": null,
                "rootUri": root,
                "capabilities": {"window": {"workDoneProgress": true}},
            }),
        );
        assert!(result.is_ok(), "{result:?}");
        lsp.notify("initialized", json!({}));
        lsp
    }

    fn notify(&mut self, method: &str, params: Value) {
        write_message(
            &self.stdin,
            &json!({"jsonrpc": "2.0", "method": method, "params": params}),
        );
    }

    /// Sends a request and returns its id without waiting.
    fn send_request(&mut self, method: &str, params: Value) -> i64 {
        let id = self.next_id;
        self.next_id += 1;
        write_message(
            &self.stdin,
            &json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}),
        );
        id
    }

    fn response(&mut self, id: i64) -> Result<Value, Value> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let message = self
                .incoming
                .recv_timeout(left)
                .unwrap_or_else(|_| panic!("no response to request {id}\n{}", self.stderr()));
            if message.get("method").is_none() && message["id"] == json!(id) {
                return match message.get("error") {
                    Some(error) => Err(error.clone()),
                    None => Ok(message["result"].clone()),
                };
            }
            self.notifications.push(message);
        }
    }

    fn request(&mut self, method: &str, params: Value) -> Result<Value, Value> {
        let id = self.send_request(method, params);
        self.response(id)
    }

    /// Waits for a `$/progress` notification of kind `kind` and returns its value.
    fn progress(&mut self, kind: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(index) = self.notifications.iter().position(|message| {
                message["method"] == "$/progress" && message["params"]["value"]["kind"] == kind
            }) {
                return self.notifications.remove(index)["params"].clone();
            }
            let left = deadline.saturating_duration_since(Instant::now());
            let message = self
                .incoming
                .recv_timeout(left)
                .unwrap_or_else(|_| panic!("no `{kind}` progress\n{}", self.stderr()));
            self.notifications.push(message);
        }
    }

    fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }
}

impl Drop for Lsp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn write_message(stdin: &Mutex<ChildStdin>, message: &Value) {
    let body = message.to_string();
    let mut stdin = stdin.lock().unwrap();
    let _ = write!(stdin, "Content-Length: {}\r\n\r\n{body}", body.len());
    let _ = stdin.flush();
}

fn workspace_with(name: &str, server: &FakeServer) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("quarry-remote-lsp-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let config = format!(
        "[connections.sentinel]\nkind = \"log-analytics\"\nworkspace-id = \"ws-9\"\nendpoint = \"{}\"\n\
         auth = {{ method = \"token\", token = {{ env = \"REMOTE_TOKEN\" }} }}\n\n\
         [connections.nokey]\nkind = \"log-analytics\"\nworkspace-id = \"ws-2\"\n\
         auth = {{ method = \"token\", token = {{ env = \"REMOTE_TOKEN_UNSET\" }} }}\n",
        server.url()
    );
    std::fs::write(dir.join("quarry.toml"), config).unwrap();
    dir
}

fn run_query(lsp: &mut Lsp, argument: Value) -> i64 {
    lsp.send_request(
        "workspace/executeCommand",
        json!({"command": "quarry.runQuery", "arguments": [argument]}),
    )
}

fn table_reply() -> Value {
    json!({"tables": [{
        "name": "PrimaryResult",
        "columns": [
            {"name": "TimeGenerated", "type": "datetime"},
            {"name": "Duration", "type": "timespan"},
            {"name": "Extra", "type": "dynamic"}
        ],
        "rows": [
            ["2024-03-01T10:00:00Z", "00:05:00", "{\"a\":1}"],
            ["2024-03-01T11:00:00Z", "01:00:00", "[]"]
        ]
    }],
    "render": {"visualization": "timechart", "title": "Logons", "yColumns": "Duration"}})
}

/// Runs the blocking client on a blocking thread so the fake server keeps serving meanwhile.
async fn blocking<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(work).await.unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn remote_run_reports_progress() {
    let reply = table_reply();
    let server = FakeServer::start(move |_, _| Reply::json(200, &reply)).await;
    let dir = workspace_with("ok", &server);
    let (result, begin, end, stderr) = blocking(move || {
        let mut lsp = Lsp::start(&dir);
        let id = run_query(
            &mut lsp,
            json!({
                "query": "SigninLogs | take 2",
                "connection": "sentinel",
                "timeRange": {"start": "2024-03-01T00:00:00Z", "end": "2024-03-02T00:00:00Z"}
            }),
        );
        let result = lsp.response(id);
        let begin = lsp.progress("begin");
        let end = lsp.progress("end");
        std::fs::remove_dir_all(&dir).ok();
        (result, begin, end, lsp.stderr())
    })
    .await;
    let result = result.expect("remote run succeeds");
    assert_eq!(result["source"], "connection:sentinel");
    assert_eq!(result["rowCount"], 2);
    assert_eq!(
        result["columns"][1],
        json!({"name": "Duration", "type": "timespan"})
    );
    assert_eq!(
        result["rows"][0],
        json!(["2024-03-01T10:00:00Z", "00:05:00", {"a": 1}])
    );
    assert_eq!(result["warnings"], json!([]));
    assert_eq!(
        result["render"],
        json!({"kind": "timechart", "properties": {"title": "Logons", "ycolumns": ["Duration"]}}),
        "{result}"
    );
    assert_eq!(begin["value"]["title"], "Running query on sentinel");
    assert_eq!(begin["token"], end["token"]);
    assert_eq!(end["value"]["message"], "2 rows");

    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(
        requests[0].json()["timespan"],
        "2024-03-01T00:00:00Z/2024-03-02T00:00:00Z"
    );
    assert!(!stderr.contains(TOKEN), "the token leaked into the log");
}

#[tokio::test(flavor = "multi_thread")]
async fn partial_error_becomes_warnings() {
    let mut reply = table_reply();
    reply["error"] = json!({"code": "PartialError", "message": "There were some errors when processing your query.",
        "details": [{"code": "EngineError", "message": "x", "innererror": {"code": "E1", "message": "record count limit"}}]});
    let server = FakeServer::start(move |_, _| Reply::json(200, &reply)).await;
    let dir = workspace_with("partial", &server);
    let result = blocking(move || {
        let mut lsp = Lsp::start(&dir);
        let id = run_query(&mut lsp, json!({"query": "T", "connection": "sentinel"}));
        let response = lsp.response(id);
        std::fs::remove_dir_all(&dir).ok();
        response
    })
    .await
    .expect("rows despite the partial error");
    assert_eq!(result["rowCount"], 2);
    let warnings = result["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0]
            .as_str()
            .unwrap()
            .starts_with("There were some errors"),
        "{warnings:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn syntax_error_range_mapped() {
    let reply = json!({"error": {"message": "The request had some invalid properties", "code": "BadArgumentError",
        "innererror": {"code": "SyntaxError", "message": "A recognition error occurred in the query.",
            "innererror": {"code": "SYN0002", "message": "Query could not be parsed at 'whre' on line [2,3]",
                "line": 2, "pos": 3, "token": "whre"}}}});
    let server = FakeServer::start(move |_, _| Reply::json(400, &reply)).await;
    let dir = workspace_with("syntax", &server);
    // The second block starts on line 3 of the document; the service counts from the block.
    let text = "Other\n| take 1\n\nT\n| whre x\n";
    let error = blocking(move || {
        let mut lsp = Lsp::start(&dir);
        lsp.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": URI, "languageId": "kql", "version": 1, "text": text}}),
        );
        let id = run_query(
            &mut lsp,
            json!({"uri": URI, "position": {"line": 4, "character": 1}, "connection": "sentinel"}),
        );
        let response = lsp.response(id);
        std::fs::remove_dir_all(&dir).ok();
        response
    })
    .await
    .expect_err("the service rejects the query");
    assert_eq!(error["code"], -32803);
    assert!(
        error["message"].as_str().unwrap().contains("'whre'"),
        "{error}"
    );
    assert_eq!(
        error["data"]["range"],
        json!({"start": {"line": 4, "character": 2}, "end": {"line": 4, "character": 6}})
    );
    assert_eq!(error["data"]["code"], "SYN0002");
    assert_eq!(server.requests()[0].json()["query"], "T\n| whre x");
}

#[tokio::test(flavor = "multi_thread")]
async fn expanded_template_error_maps_back() {
    // The service reports the place of `whre` in the query it received, in which the template
    // call has been expanded into many lines.
    let server = FakeServer::start(|request, _| {
        let query = request.json()["query"].as_str().unwrap_or_default().to_owned();
        let offset = query.find("whre").unwrap_or_default();
        let line = query[..offset].matches('\n').count() + 1;
        let pos = offset - query[..offset].rfind('\n').map_or(0, |index| index + 1) + 1;
        Reply::json(
            400,
            &json!({"error": {"message": "The request had some invalid properties", "code": "BadArgumentError",
                "innererror": {"code": "SyntaxError", "message": "A recognition error occurred in the query.",
                    "innererror": {"code": "SYN0002", "message": "Query could not be parsed at 'whre'",
                        "line": line, "pos": pos, "token": "whre"}}}}),
        )
    })
    .await;

    let dir = workspace_with("template", &server);
    let text = "DemoHunt.failed_logon_sources(top_count=3)\n| whre x\n";
    let error = blocking(move || {
        let mut lsp = Lsp::start(&dir);
        lsp.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": URI, "languageId": "kql", "version": 1, "text": text}}),
        );
        let id = run_query(
            &mut lsp,
            json!({"uri": URI, "position": {"line": 1, "character": 3}, "connection": "sentinel"}),
        );
        let response = lsp.response(id);
        std::fs::remove_dir_all(&dir).ok();
        response
    })
    .await
    .expect_err("the service rejects the query");

    let sent = server.requests()[0].json()["query"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(sent.contains("| where EventID == 4625"), "{sent}");
    assert_eq!(
        error["data"]["range"],
        json!({"start": {"line": 1, "character": 2}, "end": {"line": 1, "character": 6}}),
        "{error}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn unauthorized_then_throttled_runs() {
    let reply = table_reply();
    let server = FakeServer::start(move |request, index| {
        if request.json()["query"] == "denied" {
            return Reply::json(
                401,
                &json!({"error": {"code": "InvalidTokenError", "message": "token is expired"}}),
            );
        }
        if index == 1 {
            return Reply::json(
                429,
                &json!({"error": {"code": "TooManyRequests", "message": "wait"}}),
            )
            .with_header("Retry-After", "1");
        }
        Reply::json(200, &reply)
    })
    .await;
    let dir = workspace_with("401", &server);
    let (denied, throttled, stderr) = blocking(move || {
        let mut lsp = Lsp::start(&dir);
        let id = run_query(
            &mut lsp,
            json!({"query": "denied", "connection": "sentinel"}),
        );
        let denied = lsp.response(id);
        let id = run_query(&mut lsp, json!({"query": "T", "connection": "sentinel"}));
        let throttled = lsp.response(id);
        std::fs::remove_dir_all(&dir).ok();
        (denied, throttled, lsp.stderr())
    })
    .await;
    let denied = denied.expect_err("401 fails the run");
    let message = denied["message"].as_str().unwrap();
    assert!(
        message.contains("rejected the credentials (HTTP 401)"),
        "{message}"
    );
    assert!(message.contains("token is expired"), "{message}");
    assert!(!message.contains(TOKEN));
    assert_eq!(throttled.expect("429 then success")["rowCount"], 2);
    assert_eq!(server.requests().len(), 3);
    assert!(!stderr.contains(TOKEN), "the token leaked into the log");
}

#[tokio::test(flavor = "multi_thread")]
async fn timeout_fails_the_run() {
    let reply = table_reply();
    let server =
        FakeServer::start(move |_, _| Reply::json(200, &reply).delayed(Duration::from_secs(30)))
            .await;
    let dir = workspace_with("timeout", &server);
    let error = blocking(move || {
        let mut lsp = Lsp::start(&dir);
        let id = run_query(
            &mut lsp,
            json!({"query": "T", "connection": "sentinel", "timeoutSeconds": 1}),
        );
        let response = lsp.response(id);
        std::fs::remove_dir_all(&dir).ok();
        response
    })
    .await
    .expect_err("the run times out");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("timed out after 1 s"),
        "{error}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn cancel_closes_connection() {
    let reply = table_reply();
    let server = Arc::new(
        FakeServer::start(move |_, _| Reply::json(200, &reply).delayed(Duration::from_secs(30)))
            .await,
    );
    let dir = workspace_with("cancel", &server);
    let observed = server.clone();
    let (error, end) = blocking(move || {
        let mut lsp = Lsp::start(&dir);
        let id = run_query(&mut lsp, json!({"query": "T", "connection": "sentinel"}));
        let deadline = Instant::now() + Duration::from_secs(10);
        while observed.requests().is_empty() {
            assert!(
                Instant::now() < deadline,
                "the query never reached the server"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        lsp.notify("$/cancelRequest", json!({"id": id}));
        let error = lsp.response(id);
        let end = lsp.progress("end");
        std::fs::remove_dir_all(&dir).ok();
        (error, end)
    })
    .await;
    let error = error.expect_err("the request is cancelled");
    assert_eq!(error["code"], -32800, "{error}");
    assert_eq!(end["value"]["message"], "cancelled");
    let deadline = Instant::now() + Duration::from_secs(10);
    while server.abandoned_connections() == 0 {
        assert!(
            Instant::now() < deadline,
            "the fake server never saw the connection close"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn list_connections_hides_secrets() {
    let server = FakeServer::start(|_, _| Reply::json(500, &json!({}))).await;
    let dir = workspace_with("list", &server);
    let (listed, unknown, missing) = blocking(move || {
        let mut lsp = Lsp::start(&dir);
        let listed = lsp.request("quarry/listConnections", Value::Null);
        let id = run_query(&mut lsp, json!({"query": "T", "connection": "prod"}));
        let unknown = lsp.response(id);
        let id = run_query(&mut lsp, json!({"query": "T", "connection": "nokey"}));
        let missing = lsp.response(id);
        std::fs::remove_dir_all(&dir).ok();
        (listed, unknown, missing)
    })
    .await;
    let listed = listed.expect("listConnections succeeds");
    let connections = listed["connections"].as_array().unwrap();
    let names: Vec<&str> = connections
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["nokey", "sentinel"]);
    assert_eq!(connections[1]["kind"], "log-analytics");
    assert_eq!(connections[1]["auth"], "token");
    assert_eq!(connections[1]["credentialsConfigured"], true);
    assert_eq!(connections[0]["credentialsConfigured"], false);
    assert!(!listed.to_string().contains(TOKEN), "{listed}");

    let unknown = unknown.expect_err("unknown connection");
    assert!(
        unknown["message"]
            .as_str()
            .unwrap()
            .contains("configured: nokey, sentinel"),
        "{unknown}"
    );
    let missing = missing.expect_err("the secret is not set");
    assert!(
        missing["message"]
            .as_str()
            .unwrap()
            .contains("REMOTE_TOKEN_UNSET"),
        "{missing}"
    );
    assert!(server.requests().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn large_result_leaves_server_responsive() {
    let rows: Vec<Value> = (0..100_000)
        .map(|i| {
            json!([
                format!("2024-03-01T00:00:{:02}Z", i % 60),
                format!("host-{i}"),
                i
            ])
        })
        .collect();
    let reply = json!({"tables": [{
        "name": "PrimaryResult",
        "columns": [
            {"name": "TimeGenerated", "type": "datetime"},
            {"name": "Computer", "type": "string"},
            {"name": "Index", "type": "long"}
        ],
        "rows": rows
    }]});
    let server =
        FakeServer::start(move |_, _| Reply::json(200, &reply).delayed(Duration::from_millis(500)))
            .await;
    let dir = workspace_with("large", &server);
    let (listed_first, result, elapsed) = blocking(move || {
        let mut lsp = Lsp::start(&dir);
        let started = Instant::now();
        let run_id = run_query(&mut lsp, json!({"query": "T", "connection": "sentinel"}));
        let list_id = lsp.send_request("quarry/listConnections", Value::Null);
        // The list request was sent second but must not wait for the run.
        let listed = lsp.response(list_id);
        let listed_first =
            listed.is_ok() && lsp.notifications.iter().all(|m| m["id"] != json!(run_id));
        let result = lsp.response(run_id);
        let elapsed = started.elapsed();
        std::fs::remove_dir_all(&dir).ok();
        (listed_first, result, elapsed)
    })
    .await;
    assert!(listed_first, "quarry/listConnections waited for the run");
    let result = result.expect("the large run succeeds");
    assert_eq!(result["rowCount"], 100_000);
    assert_eq!(result["truncated"], true);
    assert_eq!(result["rows"].as_array().unwrap().len(), 10_000);
    assert_eq!(result["rows"][9_999][1], "host-9999");
    eprintln!("100,000-row remote run took {elapsed:?} (debug build)");
    assert!(elapsed < Duration::from_secs(20), "{elapsed:?}");
}
