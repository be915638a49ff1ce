//! End-to-end tests of the contextual completion words of `quarry lsp`: join kinds, chart types
//! and properties, `by`, and string operators, with their item kinds and replace ranges.

mod lsp_client;

use lsp_client::{LspClient, position};
use serde_json::{Value, json};

const URI: &str = "file:///hunt/completion.kql";

/// `CompletionItemKind` values from the LSP specification.
const KIND_KEYWORD: u64 = 14;
const KIND_ENUM_MEMBER: u64 = 20;
const KIND_SNIPPET: u64 = 15;
/// `InsertTextFormat.Snippet` from the LSP specification.
const FORMAT_SNIPPET: u64 = 2;

/// Opens `text`, with `$0` marking the cursor, and returns the completion items there.
fn complete(text_with_cursor: &str) -> Vec<Value> {
    let offset = text_with_cursor
        .find("$0")
        .expect("the text has a $0 cursor");
    let text = text_with_cursor.replace("$0", "");
    let line = text[..offset].matches('\n').count() as u32;
    let character = (offset - text[..offset].rfind('\n').map_or(0, |index| index + 1)) as u32;

    let mut client = LspClient::start(Value::Null);
    client.did_open(URI, &text);
    let result = client.request_ok(
        "textDocument/completion",
        json!({ "textDocument": { "uri": URI }, "position": position(line, character) }),
    );
    result
        .as_array()
        .expect("completion returns an array")
        .clone()
}

fn labels(items: &[Value]) -> Vec<&str> {
    items
        .iter()
        .map(|item| item["label"].as_str().unwrap())
        .collect()
}

#[test]
fn join_kind_values() {
    let items = complete("SecurityEvent\n| join kind=le$0 (SigninLogs) on Account\n");

    let labels = labels(&items);
    assert!(labels.contains(&"leftanti"), "{labels:?}");
    assert!(!labels.contains(&"Account"), "{labels:?}");
    let leftanti = items
        .iter()
        .find(|item| item["label"] == "leftanti")
        .unwrap();
    assert_eq!(leftanti["kind"], KIND_ENUM_MEMBER);
    assert_eq!(leftanti["textEdit"]["range"]["start"], position(1, 12));
    assert_eq!(leftanti["textEdit"]["range"]["end"], position(1, 14));
    assert!(!leftanti["detail"].as_str().unwrap().is_empty());
}

#[test]
fn render_chart_types_and_with() {
    let charts = complete("SecurityEvent\n| summarize count() by Computer\n| render $0");
    let chart_labels = labels(&charts);
    assert!(chart_labels.contains(&"timechart"), "{chart_labels:?}");
    assert!(chart_labels.contains(&"columnchart"), "{chart_labels:?}");

    let with = complete("SecurityEvent\n| render piechart $0");
    assert_eq!(labels(&with), ["with"]);
    assert_eq!(with[0]["kind"], KIND_KEYWORD);

    let properties = complete("SecurityEvent\n| render timechart with ($0");
    assert!(labels(&properties).contains(&"ycolumns"));
}

#[test]
fn summarize_offers_by() {
    let items = complete("SecurityEvent\n| summarize count() $0");

    let by = items.iter().find(|item| item["label"] == "by");
    assert!(by.is_some(), "{:?}", labels(&items));
    assert_eq!(by.unwrap()["kind"], KIND_KEYWORD);
    assert!(
        labels(&items).contains(&"dcount"),
        "aggregates stay in the list"
    );
}

#[test]
fn string_operators_after_string_column() {
    let items = complete("SecurityEvent\n| where Account $0");

    let labels = labels(&items);
    for operator in ["has", "contains", "startswith", "=~", "in~", "has_any"] {
        assert!(labels.contains(&operator), "missing {operator}: {labels:?}");
    }
    assert!(!labels.contains(&"tolower"), "{labels:?}");
}

/// Starts a server for a client that declares snippet support, opens `text` and returns the
/// completion items at `position`.
fn complete_with_snippets(text: &str, line: u32, character: u32) -> Vec<Value> {
    let mut client = LspClient::spawn();
    client.request_ok(
        "initialize",
        json!({
            "processId": std::process::id(),
            "rootUri": null,
            "capabilities": {
                "textDocument": { "completion": { "completionItem": { "snippetSupport": true } } }
            },
        }),
    );
    client.notify("initialized", json!({}));
    client.did_open(URI, text);
    let result = client.request_ok(
        "textDocument/completion",
        json!({ "textDocument": { "uri": URI }, "position": position(line, character) }),
    );
    result
        .as_array()
        .expect("completion returns an array")
        .clone()
}

#[test]
fn operator_snippets_need_client_support() {
    let text = "SecurityEvent\n| ";

    let with_support = complete_with_snippets(text, 1, 2);
    let summarize = with_support
        .iter()
        .find(|item| item["label"] == "summarize … by …")
        .expect("the summarize snippet is offered");
    assert_eq!(summarize["kind"], KIND_SNIPPET);
    assert_eq!(summarize["insertTextFormat"], FORMAT_SNIPPET);
    assert_eq!(
        summarize["textEdit"]["newText"],
        "summarize ${1:count()} by ${2:column}"
    );
    assert_eq!(summarize["textEdit"]["range"]["start"], position(1, 2));

    let without_support = complete("SecurityEvent\n| $0");
    assert!(
        without_support
            .iter()
            .all(|item| item["kind"] != KIND_SNIPPET),
        "{:?}",
        labels(&without_support)
    );
    assert!(labels(&without_support).contains(&"summarize"));
}
