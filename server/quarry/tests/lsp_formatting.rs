//! End-to-end tests of `textDocument/formatting` and `textDocument/rangeFormatting`.

mod lsp_client;

use lsp_client::{LspClient, position};
use serde_json::{Value, json};

const URI: &str = "file:///hunt/format.kql";

fn open(text: &str) -> LspClient {
    let mut client = LspClient::start(Value::Null);
    client.did_open(URI, text);
    client
}

fn options(tab_size: u32) -> Value {
    json!({ "tabSize": tab_size, "insertSpaces": true })
}

#[test]
fn capabilities_announce_formatting() {
    let mut client = LspClient::spawn();

    let result = client.initialize(Value::Null);

    assert_eq!(result["capabilities"]["documentFormattingProvider"], true);
    assert_eq!(
        result["capabilities"]["documentRangeFormattingProvider"],
        true
    );
}

#[test]
fn formatting_replaces_whole_document() {
    let text = "let x = 1;T|where a==x|take 10\n\n\n\nU | count";
    let mut client = open(text);

    let edits = client.request_ok(
        "textDocument/formatting",
        json!({ "textDocument": { "uri": URI }, "options": options(4) }),
    );

    let edits = edits.as_array().expect("an array of edits");
    assert_eq!(edits.len(), 1, "{edits:?}");
    assert_eq!(edits[0]["range"]["start"], position(0, 0));
    assert_eq!(edits[0]["range"]["end"], position(4, 9));
    assert_eq!(
        edits[0]["newText"],
        "let x = 1;\nT\n| where a == x\n| take 10\n\nU\n| count\n"
    );
}

#[test]
fn formatting_formatted_document_returns_no_edit() {
    let mut client = open("T\n| take 10\n");

    let edits = client.request_ok(
        "textDocument/formatting",
        json!({ "textDocument": { "uri": URI }, "options": options(4) }),
    );

    assert_eq!(edits, json!([]));
}

#[test]
fn formatting_reports_block_with_errors() {
    let mut client = open("T | where\n\nU|take 1\n");

    let edits = client.request_ok(
        "textDocument/formatting",
        json!({ "textDocument": { "uri": URI }, "options": options(4) }),
    );

    assert_eq!(edits[0]["newText"], "T | where\n\nU\n| take 1\n");
    let message = client.wait_for_notification("window/showMessage", |_| true);
    let text = message["message"].as_str().unwrap();
    assert!(text.contains("1 query block unchanged"), "{text}");
    assert!(text.contains("line 1"), "{text}");
}

#[test]
fn range_formatting_touches_only_its_block() {
    let text = "A|take 1\n\nB|take 2\n\nC|take 3\n";
    let mut client = open(text);

    // The range covers part of the second block only.
    let edits = client.request_ok(
        "textDocument/rangeFormatting",
        json!({
            "textDocument": { "uri": URI },
            "range": { "start": position(2, 1), "end": position(2, 3) },
            "options": options(4),
        }),
    );

    assert_eq!(
        edits,
        json!([{
            "range": { "start": position(2, 0), "end": position(2, 8) },
            "newText": "B\n| take 2",
        }])
    );
}

#[test]
fn formatting_uses_tab_size_and_line_width() {
    let text = "let T = E | project Account, Computer, EventID;\nT";
    let mut client = open(text);

    let edits = client.request_ok(
        "textDocument/formatting",
        json!({
            "textDocument": { "uri": URI },
            "options": { "tabSize": 2, "insertSpaces": true, "quarry.lineWidth": 30 },
        }),
    );

    assert_eq!(
        edits[0]["newText"],
        "let T = E\n  | project Account, Computer,\n    EventID;\nT\n"
    );
}
