//! End-to-end tests of the editor features of `quarry lsp`, spoken over JSON-RPC on stdio.

mod lsp_client;

use lsp_client::{LspClient, position, position_of};
use serde_json::{Value, json};

const URI: &str = "file:///hunt/failed_logons.kql";

fn text_document() -> Value {
    json!({ "uri": URI })
}

fn open(text: &str) -> LspClient {
    let mut client = LspClient::start(Value::Null);
    client.did_open(URI, text);
    client
}

#[test]
fn diagnostics_on_open_have_error_range() {
    // The emoji is two UTF-16 code units, so the error column checks the position encoding.
    let text = "// 😀 hunt\nSecurityEvent\n| where EventID == ) 4625\n";
    let mut client = open(text);

    let diagnostics = client.wait_for_diagnostics(URI, 1);

    assert_eq!(diagnostics.len(), 1, "{diagnostics:?}");
    let diagnostic = &diagnostics[0];
    assert_eq!(diagnostic["range"]["start"], position(2, 19));
    assert_eq!(diagnostic["range"]["end"], position(2, 20));
    assert_eq!(diagnostic["severity"], 1);
    assert_eq!(diagnostic["code"], "KQL002");
    assert_eq!(diagnostic["source"], "quarry");
    assert!(
        diagnostic["message"].as_str().unwrap().contains(')'),
        "{diagnostic}"
    );
}

#[test]
fn diagnostics_cleared_by_incremental_change() {
    let text = "SecurityEvent\n| where\n| take 10\n";
    let mut client = open(text);
    let diagnostics = client.wait_for_diagnostics(URI, 1);
    assert_eq!(diagnostics.len(), 1, "{diagnostics:?}");
    assert_eq!(diagnostics[0]["range"]["start"], position(1, 7));

    // Two edits in one notification, applied in order: type the predicate, then fix a typo in it.
    client.notify(
        "textDocument/didChange",
        json!({
            "textDocument": { "uri": URI, "version": 2 },
            "contentChanges": [
                { "range": { "start": position(1, 7), "end": position(1, 7) }, "text": " EventID == 46250" },
                { "range": { "start": position(1, 22), "end": position(1, 24) }, "text": "5" },
            ]
        }),
    );
    // Only the warning about the missing time filter (severity 2) remains.
    let diagnostics = client.wait_for_diagnostics(URI, 2);
    let errors: Vec<&Value> = diagnostics
        .iter()
        .filter(|diagnostic| diagnostic["severity"] != 2)
        .collect();
    assert_eq!(errors, Vec::<&Value>::new());

    // The server's text now reads `where EventID == 4625`: hover on `where` still lines up.
    let hover = client.request_ok(
        "textDocument/hover",
        json!({ "textDocument": text_document(), "position": position(1, 3) }),
    );
    assert_eq!(hover["range"]["start"], position(1, 2));
    assert_eq!(hover["range"]["end"], position(1, 7));
}

#[test]
fn diagnostics_debounce_keeps_last_version() {
    let mut client = open("T\n| take 1\n");
    client.wait_for_diagnostics(URI, 1);

    // Ten quick keystrokes that end with a syntax error.
    for (version, character) in (2..=11).zip(8..) {
        client.notify(
            "textDocument/didChange",
            json!({
                "textDocument": { "uri": URI, "version": version },
                "contentChanges": [{
                    "range": { "start": position(1, character), "end": position(1, character) },
                    "text": if version == 11 { "(" } else { "0" },
                }]
            }),
        );
    }
    let diagnostics = client.wait_for_diagnostics(URI, 11);
    assert_eq!(diagnostics.len(), 1, "{diagnostics:?}");

    let earlier: Vec<Value> = client
        .drain_notifications()
        .into_iter()
        .filter(|message| message["method"] == "textDocument/publishDiagnostics")
        .collect();
    assert!(
        earlier.len() < 10,
        "debounce published {} times",
        earlier.len()
    );
}

#[test]
fn hover_on_where_shows_operator_doc() {
    let text = "SecurityEvent\n| where EventID == 4625\n";
    let mut client = open(text);

    let hover = client.request_ok(
        "textDocument/hover",
        json!({ "textDocument": text_document(), "position": position_of(text, "here") }),
    );

    assert_eq!(hover["contents"]["kind"], "markdown");
    let markdown = hover["contents"]["value"].as_str().unwrap();
    assert!(markdown.contains("T | where"), "{markdown}");
    assert_eq!(hover["range"]["start"], position(1, 2));
    assert_eq!(hover["range"]["end"], position(1, 7));
}

#[test]
fn hover_on_function_and_on_column() {
    let text = "SecurityEvent\n| where isnotempty(Account)\n";
    let mut client = open(text);

    let hover = client.request_ok(
        "textDocument/hover",
        json!({ "textDocument": text_document(), "position": position_of(text, "notempty") }),
    );
    let markdown = hover["contents"]["value"].as_str().unwrap();
    assert!(markdown.contains("isnotempty("), "{markdown}");

    let hover = client.request_ok(
        "textDocument/hover",
        json!({ "textDocument": text_document(), "position": position_of(text, "ccount") }),
    );
    let markdown = hover["contents"]["value"].as_str().unwrap();
    assert!(markdown.contains("Account: string"), "{markdown}");
    assert!(markdown.contains("table `SecurityEvent`"), "{markdown}");
    assert_eq!(hover["range"]["start"], position(1, 19));
    assert_eq!(hover["range"]["end"], position(1, 26));
}

#[test]
fn completion_after_pipe_lists_operators() {
    let text = "SecurityEvent\n| ";
    let mut client = open(text);

    let result = client.request_ok(
        "textDocument/completion",
        json!({ "textDocument": text_document(), "position": position(1, 2) }),
    );

    let items = result.as_array().expect("completion returns an array");
    let labels: Vec<&str> = items
        .iter()
        .map(|item| item["label"].as_str().unwrap())
        .collect();
    for operator in [
        "where",
        "summarize",
        "project",
        "mv-expand",
        "take",
        "order",
    ] {
        assert!(labels.contains(&operator), "missing {operator}: {labels:?}");
    }
    assert!(
        !labels.contains(&"tolower"),
        "function offered after `|`: {labels:?}"
    );
    let where_item = items.iter().find(|item| item["label"] == "where").unwrap();
    assert_eq!(where_item["kind"], 14, "keyword kind");
    let detail = where_item["detail"].as_str().unwrap();
    assert!(
        !detail.is_empty() && !detail.contains('\n'),
        "detail: {detail:?}"
    );
    assert_eq!(where_item["textEdit"]["range"]["start"], position(1, 2));
}

#[test]
fn completion_in_expression_lists_functions() {
    let text = "SecurityEvent\n| where tolo";
    let mut client = open(text);

    let result = client.request_ok(
        "textDocument/completion",
        json!({ "textDocument": text_document(), "position": position(1, 12) }),
    );

    let items = result.as_array().unwrap();
    let tolower = items
        .iter()
        .find(|item| item["label"] == "tolower")
        .expect("tolower offered");
    assert_eq!(tolower["kind"], 3, "function kind");
    assert_eq!(tolower["textEdit"]["range"]["start"], position(1, 8));
    assert_eq!(tolower["textEdit"]["range"]["end"], position(1, 12));
    assert!(!items.iter().any(|item| item["label"] == "where"));
}

#[test]
fn document_symbols_blocks_and_lets() {
    let text =
        "let threshold = 5;\nSecurityEvent\n| where EventID == 4625\n\nSigninLogs\n| take 10\n";
    let mut client = open(text);

    let symbols = client.request_ok(
        "textDocument/documentSymbol",
        json!({ "textDocument": text_document() }),
    );

    let symbols = symbols.as_array().unwrap();
    assert_eq!(symbols.len(), 2, "{symbols:?}");
    assert_eq!(symbols[0]["name"], "let threshold = 5;");
    assert_eq!(symbols[0]["range"]["start"], position(0, 0));
    assert_eq!(symbols[0]["range"]["end"], position(2, 23));
    assert_eq!(symbols[0]["children"][0]["name"], "threshold");
    assert_eq!(symbols[0]["children"][0]["kind"], 13, "variable kind");
    assert_eq!(
        symbols[0]["children"][0]["selectionRange"]["start"],
        position(0, 4)
    );
    assert_eq!(symbols[1]["name"], "SigninLogs");
    assert_eq!(symbols[1]["range"]["start"], position(4, 0));
}

#[test]
fn folding_ranges_blocks_brackets_comments() {
    let text = "// Failed logons\n// per account\nSecurityEvent\n| where EventID in (\n    4625,\n    4771)\n\nT | take 1\n";
    let mut client = open(text);

    let folds = client.request_ok(
        "textDocument/foldingRange",
        json!({ "textDocument": text_document() }),
    );

    let folds: Vec<(u64, u64, &str)> = folds
        .as_array()
        .unwrap()
        .iter()
        .map(|fold| {
            (
                fold["startLine"].as_u64().unwrap(),
                fold["endLine"].as_u64().unwrap(),
                fold["kind"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        folds,
        vec![(0, 5, "region"), (0, 1, "comment"), (3, 5, "region")]
    );
}

#[test]
fn semantic_tokens_follow_legend() {
    let text = "SecurityEvent\n| where Account has 'admin' // note\n";
    let mut client = open(text);

    let tokens = client.request_ok(
        "textDocument/semanticTokens/full",
        json!({ "textDocument": text_document() }),
    );

    let data: Vec<u64> = tokens["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_u64().unwrap())
        .collect();
    // (deltaLine, deltaStart, length, type, modifiers): `where` keyword with defaultLibrary,
    // `has` operator, the string, the comment.
    assert_eq!(
        data,
        vec![1, 2, 5, 0, 2, 0, 14, 3, 1, 0, 0, 4, 7, 4, 0, 0, 8, 7, 6, 0]
    );
}

#[test]
fn requests_for_unopened_document_return_null() {
    let mut client = LspClient::start(Value::Null);
    let hover = client.request_ok(
        "textDocument/hover",
        json!({ "textDocument": { "uri": "file:///not/open.kql" }, "position": position(0, 0) }),
    );
    assert_eq!(hover, Value::Null);
}
