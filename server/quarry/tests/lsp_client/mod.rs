//! A small JSON-RPC client that drives `quarry lsp` over its stdio for end-to-end tests.
//!
//! It frames messages with `Content-Length` headers, numbers requests, replies to requests the
//! server sends to the client with a `null` result, and keeps notifications and responses to
//! other requests until a test waits for them.

#![allow(dead_code)]

use std::collections::{HashMap, VecDeque};
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// How long a test waits for one response or notification before it fails.
pub const TIMEOUT: Duration = Duration::from_secs(20);

pub struct LspClient {
    child: Child,
    stdin: ChildStdin,
    incoming: Receiver<Value>,
    /// Notifications received while waiting for something else, oldest first.
    notifications: VecDeque<Value>,
    /// Responses received while waiting for something else, by request id.
    responses: HashMap<i64, Value>,
    next_id: i64,
    stderr: Arc<Mutex<String>>,
}

impl LspClient {
    /// Starts `quarry lsp` with extra environment variables.
    pub fn spawn_with_env(env: &[(&str, &str)]) -> LspClient {
        LspClient::spawn_with_args_and_env(&[], env)
    }

    /// Starts `quarry lsp` with extra command-line arguments and environment variables.
    pub fn spawn_with_args_and_env(args: &[&str], env: &[(&str, &str)]) -> LspClient {
        let mut command = Command::new(env!("CARGO_BIN_EXE_quarry"));
        command
            .arg("lsp")
            .args(args)
            .env("QUARRY_LOG", "trace")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (name, value) in env {
            command.env(name, value);
        }
        let mut child = command.spawn().expect("failed to start `quarry lsp`");

        let stdin = child.stdin.take().expect("child stdin is piped");
        let stdout = child.stdout.take().expect("child stdout is piped");
        let stderr_pipe = child.stderr.take().expect("child stderr is piped");

        let (sender, incoming) = channel();
        thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            while let Some(message) = read_message(&mut reader) {
                if sender.send(message).is_err() {
                    break;
                }
            }
        });

        let stderr = Arc::new(Mutex::new(String::new()));
        let stderr_sink = Arc::clone(&stderr);
        thread::spawn(move || {
            let reader = BufReader::new(stderr_pipe);
            for line in reader.lines().map_while(Result::ok) {
                let mut sink = stderr_sink.lock().unwrap();
                sink.push_str(&line);
                sink.push('\n');
            }
        });

        LspClient {
            child,
            stdin,
            incoming,
            notifications: VecDeque::new(),
            responses: HashMap::new(),
            next_id: 1,
            stderr,
        }
    }

    pub fn spawn() -> LspClient {
        LspClient::spawn_with_env(&[])
    }

    /// Starts the server and completes the `initialize` handshake.
    pub fn start(initialization_options: Value) -> LspClient {
        LspClient::start_with_env(initialization_options, &[])
    }

    pub fn start_with_env(initialization_options: Value, env: &[(&str, &str)]) -> LspClient {
        let mut client = LspClient::spawn_with_env(env);
        let result = client.initialize(initialization_options);
        assert!(
            result["capabilities"].is_object(),
            "initialize result: {result}"
        );
        client
    }

    /// Sends `initialize` and `initialized` and returns the `initialize` result.
    pub fn initialize(&mut self, initialization_options: Value) -> Value {
        let params = json!({
            "processId": std::process::id(),
            "rootUri": null,
            "capabilities": {
                "general": { "positionEncodings": ["utf-16"] },
                "textDocument": {
                    "hover": { "contentFormat": ["markdown", "plaintext"] },
                    "documentSymbol": { "hierarchicalDocumentSymbolSupport": true },
                    "publishDiagnostics": { "versionSupport": true }
                }
            },
            "initializationOptions": initialization_options,
        });
        let result = self.request_ok("initialize", params);
        self.notify("initialized", json!({}));
        result
    }

    /// Returns the server's stderr so far, for failure messages.
    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    pub fn notify(&mut self, method: &str, params: Value) {
        self.send(&json!({ "jsonrpc": "2.0", "method": method, "params": params }));
    }

    /// Sends a request and returns its `result`, or its `error` object as `Err`.
    pub fn request(&mut self, method: &str, params: Value) -> Result<Value, Value> {
        let id = self.send_request(method, params);
        self.response(id, TIMEOUT)
    }

    /// Sends a request without waiting and returns its id, for [`LspClient::response`].
    pub fn send_request(&mut self, method: &str, params: Value) -> i64 {
        let id = self.next_id;
        self.next_id += 1;
        self.send(&json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }));
        id
    }

    /// Waits up to `timeout` for the response to request `id` and returns its `result`, or its
    /// `error` object as `Err`. Panics when no response arrives in time.
    pub fn response(&mut self, id: i64, timeout: Duration) -> Result<Value, Value> {
        let deadline = Instant::now() + timeout;
        loop {
            let message = match self.responses.remove(&id) {
                Some(message) => message,
                None => self.receive_before(deadline).unwrap_or_else(|| {
                    panic!(
                        "timed out waiting for the response to request {id}\n{}",
                        self.stderr()
                    )
                }),
            };
            if message.get("method").is_none() && message["id"] == json!(id) {
                return match message.get("error") {
                    Some(error) => Err(error.clone()),
                    None => Ok(message["result"].clone()),
                };
            }
            self.queue(message);
        }
    }

    /// Sends a request that must succeed and returns its `result`.
    pub fn request_ok(&mut self, method: &str, params: Value) -> Value {
        match self.request(method, params) {
            Ok(result) => result,
            Err(error) => panic!("`{method}` failed: {error}\n{}", self.stderr()),
        }
    }

    /// Waits for a notification with `method` whose params satisfy `accept`, skipping others.
    pub fn wait_for_notification(
        &mut self,
        method: &str,
        accept: impl Fn(&Value) -> bool,
    ) -> Value {
        if let Some(index) = self
            .notifications
            .iter()
            .position(|message| message["method"] == method && accept(&message["params"]))
        {
            let message = self.notifications.remove(index).unwrap();
            return message["params"].clone();
        }

        let deadline = Instant::now() + TIMEOUT;
        loop {
            let message = self.receive_before(deadline).unwrap_or_else(|| {
                panic!(
                    "timed out waiting for a `{method}` notification\n{}",
                    self.stderr()
                )
            });
            if message["method"] == method && accept(&message["params"]) {
                return message["params"].clone();
            }
            self.queue(message);
        }
    }

    /// Waits for `textDocument/publishDiagnostics` for `uri` with document version `version`.
    pub fn wait_for_diagnostics(&mut self, uri: &str, version: i64) -> Vec<Value> {
        let params = self.wait_for_notification("textDocument/publishDiagnostics", |params| {
            params["uri"] == uri && params["version"] == json!(version)
        });
        params["diagnostics"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// Notifications received so far that no wait consumed.
    pub fn drain_notifications(&mut self) -> Vec<Value> {
        while let Ok(message) = self.incoming.try_recv() {
            self.queue(message);
        }
        self.notifications.drain(..).collect()
    }

    pub fn did_open(&mut self, uri: &str, text: &str) {
        self.notify(
            "textDocument/didOpen",
            json!({
                "textDocument": { "uri": uri, "languageId": "kql", "version": 1, "text": text }
            }),
        );
    }

    /// Sends `shutdown` and `exit` and returns the exit status of the server.
    pub fn shutdown(mut self) -> ExitStatus {
        let result = self.request_ok("shutdown", Value::Null);
        assert_eq!(result, Value::Null);
        self.notify("exit", Value::Null);

        let deadline = Instant::now() + TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait().expect("failed to poll the server") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "server did not exit\n{}",
                self.stderr()
            );
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// Checks that the process is still running.
    pub fn is_running(&mut self) -> bool {
        self.child
            .try_wait()
            .expect("failed to poll the server")
            .is_none()
    }

    /// Writes bytes to the server's stdin as they are, for tests of malformed input.
    pub fn send_raw(&mut self, bytes: &[u8]) {
        self.stdin
            .write_all(bytes)
            .and_then(|()| self.stdin.flush())
            .unwrap_or_else(|error| panic!("failed to write to the server: {error}"));
    }

    /// Returns the next message from the server that is not a request to the client, whatever
    /// it is, or `None` after `timeout`.
    pub fn next_message(&mut self, timeout: Duration) -> Option<Value> {
        self.receive_before(Instant::now() + timeout)
    }

    fn send(&mut self, message: &Value) {
        let body = message.to_string();
        write!(self.stdin, "Content-Length: {}\r\n\r\n{}", body.len(), body)
            .and_then(|()| self.stdin.flush())
            .unwrap_or_else(|error| panic!("failed to write to the server: {error}"));
    }

    fn receive_before(&mut self, deadline: Instant) -> Option<Value> {
        loop {
            let timeout = deadline.saturating_duration_since(Instant::now());
            match self.incoming.recv_timeout(timeout) {
                Ok(message) => {
                    if message.get("method").is_some() && message.get("id").is_some() {
                        self.answer_server_request(&message);
                        continue;
                    }
                    return Some(message);
                }
                Err(RecvTimeoutError::Timeout) => return None,
                Err(RecvTimeoutError::Disconnected) => {
                    panic!("the server closed its stdout\n{}", self.stderr())
                }
            }
        }
    }

    /// Replies to a request from the server (such as `client/registerCapability`) with `null`.
    fn answer_server_request(&mut self, request: &Value) {
        self.send(&json!({ "jsonrpc": "2.0", "id": request["id"], "result": null }));
    }

    fn queue(&mut self, message: Value) {
        if message.get("method").is_some() {
            self.notifications.push_back(message);
        } else if let Some(id) = message["id"].as_i64() {
            self.responses.insert(id, message);
        }
    }
}

impl Drop for LspClient {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Reads one `Content-Length` framed message, or `None` at end of stream.
fn read_message(reader: &mut impl BufRead) -> Option<Value> {
    let mut content_length = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some(value) = line.strip_prefix("Content-Length:") {
            content_length = value.trim().parse::<usize>().ok();
        }
    }

    let mut body = vec![0; content_length?];
    reader.read_exact(&mut body).ok()?;
    serde_json::from_slice(&body).ok()
}

/// Returns an LSP position object.
pub fn position(line: u32, character: u32) -> Value {
    json!({ "line": line, "character": character })
}

/// Returns the LSP position of the first occurrence of `needle` in `text`, in UTF-16 units.
pub fn position_of(text: &str, needle: &str) -> Value {
    let offset = text
        .find(needle)
        .unwrap_or_else(|| panic!("`{needle}` not found in the text"));
    let before = &text[..offset];
    let line = before.matches('\n').count();
    let line_start = before.rfind('\n').map_or(0, |index| index + 1);
    let character: usize = before[line_start..].chars().map(char::len_utf16).sum();
    position(line as u32, character as u32)
}
