//! End-to-end tests of `quarry lsp` fixes from the newcomer review: the server keeps serving
//! after a malformed message, and holds back diagnostics that need the schema until the
//! schemas load.

mod lsp_client;

use std::time::{Duration, Instant};

use lsp_client::{LspClient, TIMEOUT};
use serde_json::{Value, json};

/// Reads messages until one without a method arrives (a response), skipping notifications.
fn next_response(client: &mut LspClient) -> Value {
    loop {
        let message = client
            .next_message(TIMEOUT)
            .unwrap_or_else(|| panic!("no response\n{}", client.stderr()));
        if message.get("method").is_none() {
            return message;
        }
    }
}

#[test]
fn malformed_body_then_initialize() {
    let mut client = LspClient::spawn();

    client.send_raw(b"Content-Length: 5\r\n\r\n{bad}");
    let error = next_response(&mut client);
    assert_eq!(error["error"]["code"], -32700, "{error}");
    assert_eq!(error["id"], Value::Null, "{error}");

    let result = client.initialize(Value::Null);
    assert_eq!(result["serverInfo"]["name"], "quarry");
    assert!(client.is_running());
    let status = client.shutdown();
    assert!(status.success(), "exit status {status:?}");
}

#[test]
fn bad_header_and_non_message_json() {
    let mut client = LspClient::spawn();

    client.send_raw(b"Content-Length: lots\r\n\r\n");
    let header_error = next_response(&mut client);
    assert_eq!(header_error["error"]["code"], -32700, "{header_error}");
    assert!(
        header_error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("`lots`"),
        "{header_error}"
    );

    let body = br#"{"id": 41, "hello": "world"}"#;
    client.send_raw(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes());
    client.send_raw(body);
    let invalid = next_response(&mut client);
    assert_eq!(invalid["error"]["code"], -32600, "{invalid}");
    assert_eq!(invalid["id"], 41, "{invalid}");

    let result = client.initialize(Value::Null);
    assert_eq!(result["serverInfo"]["name"], "quarry");
    let status = client.shutdown();
    assert!(status.success(), "exit status {status:?}");
}

#[test]
fn frame_split_across_writes() {
    let mut client = LspClient::spawn();
    let body = json!({
        "jsonrpc": "2.0", "id": 900, "method": "initialize",
        "params": { "processId": null, "rootUri": null, "capabilities": {} }
    })
    .to_string();
    let frame = format!("Content-Length: {}\r\n\r\n{}", body.len(), body);
    let (first, second) = frame.split_at(10);
    client.send_raw(first.as_bytes());
    std::thread::sleep(Duration::from_millis(50));
    client.send_raw(second.as_bytes());

    let reply = next_response(&mut client);
    assert_eq!(reply["id"], 900, "{reply}");
    assert_eq!(reply["result"]["serverInfo"]["name"], "quarry", "{reply}");
}

/// Returns the text under each unknown-table (KQL101) diagnostic of one publication.
fn unknown_tables(params: &Value, text: &str) -> Vec<String> {
    let lines: Vec<&str> = text.lines().collect();
    params["diagnostics"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|diagnostic| diagnostic["code"] == "KQL101")
        .map(|diagnostic| {
            let line = diagnostic["range"]["start"]["line"].as_u64().unwrap() as usize;
            let start = diagnostic["range"]["start"]["character"].as_u64().unwrap() as usize;
            let end = diagnostic["range"]["end"]["character"].as_u64().unwrap() as usize;
            lines[line][start..end].to_owned()
        })
        .collect()
}

#[test]
fn data_folder_tables_never_flagged_while_loading() {
    let data = std::env::temp_dir().join(format!("quarry-newcomer-lsp-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    std::fs::create_dir_all(&data).unwrap();
    // Enough rows that loading takes a noticeable time after `initialized`.
    let mut rows = String::from("TimeGenerated,Host,Account,LogonType\n");
    for i in 0..20_000 {
        rows.push_str(&format!(
            "2024-01-01T00:{:02}:{:02}Z,host-{},user{},{}\n",
            (i / 60) % 60,
            i % 60,
            i % 17,
            i % 23,
            i % 10
        ));
    }
    std::fs::write(data.join("host_logons.csv"), rows).unwrap();

    let mut client = LspClient::spawn();
    client.initialize(json!({ "dataFolder": data }));
    let uri = "untitled:Untitled-1";
    let text = "host_logons | take 1\n\nNoSuchTable | take 1\n";
    client.did_open(uri, text);

    // Every publication until the unknown table shows up must leave `host_logons` alone.
    let deadline = Instant::now() + TIMEOUT;
    loop {
        let message = client
            .next_message(deadline.saturating_duration_since(Instant::now()))
            .unwrap_or_else(|| panic!("`NoSuchTable` was never flagged\n{}", client.stderr()));
        if message["method"] != "textDocument/publishDiagnostics" || message["params"]["uri"] != uri
        {
            continue;
        }
        let flagged = unknown_tables(&message["params"], text);
        assert!(
            !flagged.iter().any(|table| table == "host_logons"),
            "published before the data folder loaded: {message}"
        );
        if flagged.iter().any(|table| table == "NoSuchTable") {
            break;
        }
    }
    let _ = std::fs::remove_dir_all(&data);
}

#[test]
fn syntax_errors_published_before_schemas_load() {
    let data = std::env::temp_dir().join(format!("quarry-newcomer-syntax-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(data.join("host_logons.csv"), "Host,Account\nh1,u1\n").unwrap();

    let mut client = LspClient::spawn();
    client.initialize(json!({ "dataFolder": data }));
    let uri = "untitled:Untitled-2";
    client.did_open(uri, "SecurityEvent | where\n");

    let diagnostics = client.wait_for_diagnostics(uri, 1);
    assert!(
        diagnostics
            .iter()
            .any(|diagnostic| diagnostic["code"] == "KQL001"),
        "{diagnostics:?}"
    );
    let _ = std::fs::remove_dir_all(&data);
}
