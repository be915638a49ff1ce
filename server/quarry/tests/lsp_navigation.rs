//! End-to-end tests of go to definition, references, document highlights and rename in
//! `quarry lsp`, spoken over JSON-RPC on stdio.

mod lsp_client;

use lsp_client::{LspClient, position, position_of};
use serde_json::{Value, json};

const URI: &str = "file:///hunt/navigation.kql";

/// Two uses of `threshold` and a lambda parameter; the emoji in the comment makes the UTF-16
/// columns differ from byte columns on line 1.
const TEXT: &str = "let threshold = 5;\n// 😀 let f = (n: long) { n * 2 };\nlet f = (n: long) { n * 2 };\nSigninLogs\n| where TimeGenerated > ago(1d)\n| summarize failures = count() by UserPrincipalName\n| where failures > threshold and f(failures) > threshold\n";

fn open(text: &str) -> LspClient {
    let mut client = LspClient::start(Value::Null);
    client.did_open(URI, text);
    client
}

fn at(position: Value) -> Value {
    json!({ "textDocument": { "uri": URI }, "position": position })
}

/// Returns the position of the start of the `nth` occurrence of `needle`, counting from 0.
fn nth_position(text: &str, needle: &str, nth: usize) -> Value {
    let start = text
        .match_indices(needle)
        .nth(nth)
        .unwrap_or_else(|| panic!("no occurrence {nth} of `{needle}`"))
        .0;
    let before = &text[..start];
    let line = before.matches('\n').count();
    let line_start = before.rfind('\n').map_or(0, |index| index + 1);
    let character: usize = before[line_start..].chars().map(char::len_utf16).sum();
    position(line as u32, character as u32)
}

fn ranges(locations: &Value) -> Vec<(Value, Value)> {
    locations
        .as_array()
        .unwrap()
        .iter()
        .map(|location| {
            (
                location["range"]["start"].clone(),
                location["range"]["end"].clone(),
            )
        })
        .collect()
}

#[test]
fn definition_of_let_use() {
    let mut client = open(TEXT);
    let result = client.request_ok(
        "textDocument/definition",
        at(nth_position(TEXT, "threshold", 1)),
    );
    assert_eq!(result["uri"], URI);
    assert_eq!(result["range"]["start"], position(0, 4));
    assert_eq!(result["range"]["end"], position(0, 13));
}

#[test]
fn definition_of_lambda_parameter() {
    let mut client = open(TEXT);
    // The `n` in the body of the lambda on line 2, after a commented-out copy on line 1.
    let result = client.request_ok("textDocument/definition", at(position(2, 20)));
    assert_eq!(result["range"]["start"], position(2, 9));
    assert_eq!(result["range"]["end"], position(2, 10));
}

#[test]
fn definition_none_for_table() {
    let mut client = open(TEXT);
    let result = client.request_ok(
        "textDocument/definition",
        at(position_of(TEXT, "SigninLogs")),
    );
    assert_eq!(result, Value::Null);
}

#[test]
fn references_with_and_without_declaration() {
    let mut client = open(TEXT);
    let mut params = at(nth_position(TEXT, "threshold", 2));
    params["context"] = json!({ "includeDeclaration": true });
    let all = client.request_ok("textDocument/references", params.clone());
    assert_eq!(
        ranges(&all),
        [
            (position(0, 4), position(0, 13)),
            (position(6, 19), position(6, 28)),
            (position(6, 47), position(6, 56)),
        ]
    );
    assert!(
        all.as_array()
            .unwrap()
            .iter()
            .all(|location| location["uri"] == URI)
    );

    params["context"] = json!({ "includeDeclaration": false });
    let uses = client.request_ok("textDocument/references", params);
    assert_eq!(ranges(&uses).len(), 2);
}

#[test]
fn highlights_mark_definition_as_write() {
    let mut client = open(TEXT);
    let highlights = client.request_ok(
        "textDocument/documentHighlight",
        at(nth_position(TEXT, "f(", 0)),
    );
    let highlights = highlights.as_array().unwrap();
    assert_eq!(highlights.len(), 2, "{highlights:?}");
    assert_eq!(highlights[0]["range"]["start"], position(2, 4));
    assert_eq!(highlights[0]["kind"], 3, "write");
    assert_eq!(highlights[1]["range"]["start"], position(6, 33));
    assert_eq!(highlights[1]["kind"], 2, "read");
}

#[test]
fn prepare_rename_and_rename_let() {
    let mut client = open(TEXT);
    let prepared = client.request_ok("textDocument/prepareRename", at(position(0, 6)));
    assert_eq!(prepared["range"]["start"], position(0, 4));
    assert_eq!(prepared["placeholder"], "threshold");

    let mut params = at(position(0, 6));
    params["newName"] = json!("min failures");
    let edit = client.request_ok("textDocument/rename", params);
    let edits = edit["changes"][URI].as_array().unwrap();
    assert_eq!(edits.len(), 3, "{edits:?}");
    assert!(
        edits
            .iter()
            .all(|edit| edit["newText"] == "['min failures']")
    );
}

#[test]
fn rename_errors_explain() {
    let mut client = open(TEXT);
    let column = client
        .request(
            "textDocument/prepareRename",
            at(position_of(TEXT, "UserPrincipalName")),
        )
        .unwrap_err();
    assert_eq!(column["code"], -32602);
    assert!(
        column["message"].as_str().unwrap().contains("is a column"),
        "{column}"
    );

    let mut params = at(position(0, 6));
    params["newName"] = json!("failures");
    let capture = client.request("textDocument/rename", params).unwrap_err();
    assert!(
        capture["message"]
            .as_str()
            .unwrap()
            .contains("would change the meaning"),
        "{capture}"
    );

    let mut params = at(position(0, 6));
    params["newName"] = json!("");
    let empty = client.request("textDocument/rename", params).unwrap_err();
    assert!(
        empty["message"].as_str().unwrap().contains("empty"),
        "{empty}"
    );
}

#[test]
fn capabilities_announce_navigation() {
    let mut client = LspClient::spawn();
    let result = client.initialize(Value::Null);
    let capabilities = &result["capabilities"];
    assert_eq!(capabilities["definitionProvider"], true);
    assert_eq!(capabilities["referencesProvider"], true);
    assert_eq!(capabilities["documentHighlightProvider"], true);
    assert_eq!(capabilities["renameProvider"]["prepareProvider"], true);
    assert_eq!(
        capabilities["codeActionProvider"]["codeActionKinds"][0],
        "quickfix"
    );
}
