//! End-to-end tests of the table schema per workspace folder in `quarry lsp`: schema files
//! from `schemaFiles` resolved against each folder, and the tables of the data folder.

mod lsp_client;

use std::path::{Path, PathBuf};

use lsp_client::LspClient;
use serde_json::{Value, json};

fn temp_folder(name: &str) -> PathBuf {
    let folder =
        std::env::temp_dir().join(format!("quarry-lsp-schema-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&folder);
    std::fs::create_dir_all(&folder).unwrap();
    folder
}

fn file_uri(path: &Path) -> String {
    format!("file://{}", path.display())
}

/// Starts the server with workspace folders and `initializationOptions`.
fn start(folders: &[&Path], options: Value) -> LspClient {
    let mut client = LspClient::spawn();
    let workspace_folders: Vec<Value> = folders
        .iter()
        .map(|folder| json!({ "uri": file_uri(folder), "name": folder.file_name().unwrap().to_str() }))
        .collect();
    let result = client.request_ok(
        "initialize",
        json!({
            "processId": std::process::id(),
            "rootUri": null,
            "workspaceFolders": workspace_folders,
            "capabilities": {},
            "initializationOptions": options,
        }),
    );
    assert_eq!(
        result["capabilities"]["workspace"]["workspaceFolders"]["supported"],
        true
    );
    client.notify("initialized", json!({}));
    client
}

/// Waits until the diagnostics of `uri` contain exactly the unknown tables `expected`,
/// skipping publications made before the schemas finished loading.
fn wait_for_unknown_tables(client: &mut LspClient, uri: &str, expected: &[&str]) -> Vec<Value> {
    let text_of = |diagnostic: &Value| {
        diagnostic["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    let params = client.wait_for_notification("textDocument/publishDiagnostics", |params| {
        if params["uri"] != uri {
            return false;
        }
        let unknown: Vec<String> = params["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|diagnostic| diagnostic["code"] == "KQL101")
            .map(text_of)
            .collect();
        unknown.len() == expected.len()
            && expected.iter().all(|table| {
                unknown
                    .iter()
                    .any(|message| message.contains(&format!("`{table}`")))
            })
    });
    params["diagnostics"].as_array().unwrap().clone()
}

fn write_schema(folder: &Path, table: &str) {
    std::fs::write(
        folder.join("schema.json"),
        format!(r#"{{"tables": {{"{table}": {{"Host": "string", "Bytes": "long"}}}}}}"#),
    )
    .unwrap();
}

#[test]
fn schema_files_per_folder() {
    let root = temp_folder("folders");
    let red = root.join("red");
    let blue = root.join("blue");
    std::fs::create_dir_all(&red).unwrap();
    std::fs::create_dir_all(&blue).unwrap();
    write_schema(&red, "RedProxy");
    write_schema(&blue, "BlueProxy");

    let mut client = start(&[&red, &blue], json!({ "schemaFiles": ["schema.json"] }));
    let text = "RedProxy | where Bytes > 10\n\nBlueProxy | take 1\n";
    let red_uri = file_uri(&red.join("hunt.kql"));
    let blue_uri = file_uri(&blue.join("hunt.kql"));
    client.did_open(&red_uri, text);
    client.did_open(&blue_uri, text);

    let red_diagnostics = wait_for_unknown_tables(&mut client, &red_uri, &["BlueProxy"]);
    assert_eq!(red_diagnostics.len(), 1, "{red_diagnostics:?}");
    let blue_diagnostics = wait_for_unknown_tables(&mut client, &blue_uri, &["RedProxy"]);
    assert_eq!(blue_diagnostics.len(), 1, "{blue_diagnostics:?}");

    // Hover on a column of the folder's own table shows its type.
    let hover = client.request_ok(
        "textDocument/hover",
        json!({
            "textDocument": { "uri": red_uri },
            "position": { "line": 0, "character": 19 },
        }),
    );
    let markdown = hover["contents"]["value"].as_str().unwrap_or_default();
    assert!(markdown.contains("long"), "{hover}");
}

#[test]
fn settings_change_reloads_schema() {
    let root = temp_folder("reload");
    write_schema(&root, "LateTable");
    let mut client = start(&[&root], Value::Null);
    let uri = file_uri(&root.join("hunt.kql"));
    client.did_open(&uri, "LateTable | take 1\n");
    wait_for_unknown_tables(&mut client, &uri, &["LateTable"]);

    client.notify(
        "workspace/didChangeConfiguration",
        json!({ "settings": { "quarry": { "schema": { "files": ["schema.json"] } } } }),
    );
    let diagnostics = wait_for_unknown_tables(&mut client, &uri, &[]);
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
}

#[test]
fn missing_schema_file_shows_warning() {
    let root = temp_folder("missing");
    let mut client = start(&[&root], json!({ "schemaFiles": ["nope.json"] }));
    let message = client.wait_for_notification("window/showMessage", |params| {
        params["message"]
            .as_str()
            .is_some_and(|text| text.contains("nope.json"))
    });
    assert_eq!(message["type"], 2, "warning");
    let uri = file_uri(&root.join("hunt.kql"));
    client.did_open(
        &uri,
        "SigninLogs | where TimeGenerated > ago(1d) | take 1\n",
    );
    wait_for_unknown_tables(&mut client, &uri, &[]);
}

#[test]
fn data_folder_tables_are_known() {
    let data = temp_folder("data");
    std::fs::write(data.join("WebProxy.csv"), "Host,Bytes\nexample.com,10\n").unwrap();
    let mut client = start(&[], json!({ "dataFolder": data }));
    let uri = "untitled:Untitled-1";
    client.did_open(uri, "WebProxy | where Bytes > 5\n\nNoSuchTable | take 1\n");
    let diagnostics = wait_for_unknown_tables(&mut client, uri, &["NoSuchTable"]);
    assert_eq!(diagnostics.len(), 1, "{diagnostics:?}");
}

/// A client that supports `workspace/configuration` and returns a different
/// `quarry.schema.files` for each folder, as VS Code does with folder settings. It speaks the
/// wire protocol directly because the shared test client replies `null` to every server request.
mod configuring_client {
    use std::collections::HashMap;
    use std::io::{BufRead, BufReader, Read, Write};
    use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use serde_json::{Value, json};

    /// How long a test may run before the server is killed, which makes a blocked read fail.
    const TIMEOUT: Duration = Duration::from_secs(30);

    pub struct Client {
        child: Arc<Mutex<Child>>,
        stdin: ChildStdin,
        stdout: BufReader<ChildStdout>,
        /// `quarry.schema.files` for each folder URI.
        pub files: HashMap<String, Value>,
        pub configuration_requests: usize,
    }

    impl Client {
        pub fn spawn(files: HashMap<String, Value>) -> Client {
            let mut child = Command::new(env!("CARGO_BIN_EXE_quarry"))
                .arg("lsp")
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .expect("failed to start `quarry lsp`");
            let stdin = child.stdin.take().unwrap();
            let stdout = BufReader::new(child.stdout.take().unwrap());
            let child = Arc::new(Mutex::new(child));
            let watched = Arc::clone(&child);
            std::thread::spawn(move || {
                std::thread::sleep(TIMEOUT);
                let mut child = watched.lock().unwrap();
                if let Ok(None) = child.try_wait() {
                    let _ = child.kill();
                }
            });
            Client {
                child,
                stdin,
                stdout,
                files,
                configuration_requests: 0,
            }
        }

        pub fn send(&mut self, message: &Value) {
            let body = message.to_string();
            write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).unwrap();
            self.stdin.flush().unwrap();
        }

        fn read(&mut self) -> Value {
            let mut length = 0;
            loop {
                let mut line = String::new();
                assert!(
                    self.stdout.read_line(&mut line).unwrap() > 0,
                    "server closed stdout"
                );
                let line = line.trim_end();
                if line.is_empty() {
                    break;
                }
                if let Some(value) = line.strip_prefix("Content-Length: ") {
                    length = value.parse().unwrap();
                }
            }
            let mut body = vec![0; length];
            self.stdout.read_exact(&mut body).unwrap();
            serde_json::from_slice(&body).unwrap()
        }

        /// Reads messages and replies to server requests until a message satisfies `accept`.
        pub fn wait(&mut self, accept: impl Fn(&Value) -> bool) -> Value {
            loop {
                let message = self.read();
                if message["method"] == "workspace/configuration" {
                    self.configuration_requests += 1;
                    let items = message["params"]["items"].as_array().unwrap().clone();
                    let result: Vec<Value> = items
                        .iter()
                        .map(|item| {
                            assert_eq!(item["section"], "quarry.schema.files");
                            let scope = item["scopeUri"].as_str().unwrap_or_default();
                            self.files.get(scope).cloned().unwrap_or(Value::Null)
                        })
                        .collect();
                    self.send(&json!({ "jsonrpc": "2.0", "id": message["id"], "result": result }));
                    continue;
                }
                if message.get("method").is_some() && message.get("id").is_some() {
                    self.send(&json!({ "jsonrpc": "2.0", "id": message["id"], "result": null }));
                    continue;
                }
                if accept(&message) {
                    return message;
                }
            }
        }
    }

    impl Drop for Client {
        fn drop(&mut self) {
            let mut child = self.child.lock().unwrap();
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

#[test]
fn folder_settings_from_configuration_requests() {
    let root = temp_folder("pull");
    let first = root.join("first");
    let second = root.join("second");
    std::fs::create_dir_all(&first).unwrap();
    std::fs::create_dir_all(&second).unwrap();
    write_schema(&first, "FirstTable");
    std::fs::write(
        second.join("other.json"),
        r#"{"tables": [{"name": "SecondTable", "columns": [{"name": "Host", "type": "string"}]}]}"#,
    )
    .unwrap();

    let files = std::collections::HashMap::from([
        (file_uri(&first), json!(["schema.json"])),
        (file_uri(&second), json!(["other.json"])),
    ]);
    let mut client = configuring_client::Client::spawn(files);
    client.send(&json!({
        "jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {
            "processId": null,
            "rootUri": null,
            "capabilities": { "workspace": { "configuration": true } },
            "workspaceFolders": [
                { "uri": file_uri(&first), "name": "first" },
                { "uri": file_uri(&second), "name": "second" },
            ],
        },
    }));
    client.wait(|message| message["id"] == 1);
    client.send(&json!({ "jsonrpc": "2.0", "method": "initialized", "params": {} }));

    let text = "FirstTable | take 1\n\nSecondTable | take 1\n";
    let second_uri = file_uri(&second.join("hunt.kql"));
    client.send(&json!({
        "jsonrpc": "2.0", "method": "textDocument/didOpen",
        "params": { "textDocument": { "uri": second_uri, "languageId": "kql", "version": 1, "text": text } },
    }));
    let unknown_in = |message: &Value| -> Option<Vec<String>> {
        if message["method"] != "textDocument/publishDiagnostics"
            || message["params"]["uri"] != second_uri
        {
            return None;
        }
        Some(
            message["params"]["diagnostics"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|diagnostic| diagnostic["code"] == "KQL101")
                .map(|diagnostic| diagnostic["message"].as_str().unwrap().to_owned())
                .collect(),
        )
    };
    // Publications from before the schemas loaded report both tables; wait for the reload.
    let published =
        client.wait(|message| unknown_in(message).is_some_and(|unknown| unknown.len() == 1));
    let unknown = unknown_in(&published).unwrap();
    assert!(unknown[0].contains("`FirstTable`"), "{unknown:?}");
    assert_eq!(client.configuration_requests, 1);
}
