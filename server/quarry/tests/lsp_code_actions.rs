//! End-to-end tests of warnings and their quick fixes in `quarry lsp`: the published
//! diagnostics carry severity 2, and `textDocument/codeAction` returns the fix as a workspace
//! edit.

mod lsp_client;

use lsp_client::{LspClient, position, position_of};
use serde_json::{Value, json};

const URI: &str = "file:///hunt/fixes.kql";

fn open(text: &str) -> LspClient {
    let mut client = LspClient::start(Value::Null);
    client.did_open(URI, text);
    client
}

fn code_actions(
    client: &mut LspClient,
    start: Value,
    end: Value,
    diagnostics: Value,
) -> Vec<Value> {
    let result = client.request_ok(
        "textDocument/codeAction",
        json!({
            "textDocument": { "uri": URI },
            "range": { "start": start, "end": end },
            "context": { "diagnostics": diagnostics },
        }),
    );
    result.as_array().cloned().unwrap_or_default()
}

#[test]
fn join_warning_and_fixes() {
    let text = "SigninLogs\n| where TimeGenerated > ago(1d)\n| join (AuditLogs) on CorrelationId\n";
    let mut client = open(text);

    let diagnostics = client.wait_for_diagnostics(URI, 1);
    assert_eq!(diagnostics.len(), 1, "{diagnostics:?}");
    let warning = &diagnostics[0];
    assert_eq!(warning["code"], "KQL203");
    assert_eq!(warning["severity"], 2);
    assert_eq!(warning["range"]["start"], position(2, 2));
    assert_eq!(warning["range"]["end"], position(2, 6));

    let at = position(2, 3);
    let actions = code_actions(&mut client, at.clone(), at, json!([warning]));
    assert_eq!(actions.len(), 2, "{actions:?}");
    assert_eq!(actions[0]["title"], "Add `kind=innerunique`");
    assert_eq!(actions[0]["kind"], "quickfix");
    assert_eq!(actions[0]["isPreferred"], true);
    assert_eq!(actions[0]["diagnostics"][0]["code"], "KQL203");
    let edit = &actions[1]["edit"]["changes"][URI][0];
    assert_eq!(edit["newText"], " kind=inner");
    assert_eq!(edit["range"]["start"], position(2, 6));
    assert_eq!(edit["range"]["end"], position(2, 6));
}

#[test]
fn contains_fix_replaces_operator() {
    // The emoji before the operator makes UTF-16 and byte columns differ.
    let text = "SecurityEvent\n| where TimeGenerated > ago(1d)\n| where Activity == '😀' or CommandLine contains 'mimikatz'\n";
    let mut client = open(text);
    let diagnostics = client.wait_for_diagnostics(URI, 1);
    let warning = diagnostics
        .iter()
        .find(|diagnostic| diagnostic["code"] == "KQL201")
        .unwrap_or_else(|| panic!("no KQL201 in {diagnostics:?}"));
    let start = position_of(text, "contains");
    assert_eq!(warning["range"]["start"], start);

    let actions = code_actions(&mut client, start.clone(), start, json!([]));
    assert_eq!(actions.len(), 1, "{actions:?}");
    let edit = &actions[0]["edit"]["changes"][URI][0];
    assert_eq!(edit["newText"], "has");
    assert_eq!(edit["range"]["start"], position(2, 40));
    assert_eq!(edit["range"]["end"], position(2, 48));
    assert!(actions[0].get("diagnostics").is_none_or(Value::is_null));
}

#[test]
fn time_filter_fix_and_type_error() {
    let text = "SecurityEvent\n| where EventID > \"4624\"\n";
    let mut client = open(text);
    let diagnostics = client.wait_for_diagnostics(URI, 1);
    let codes: Vec<(&str, i64)> = diagnostics
        .iter()
        .map(|d| (d["code"].as_str().unwrap(), d["severity"].as_i64().unwrap()))
        .collect();
    assert_eq!(codes, [("KQL202", 2), ("KQL107", 1)]);

    let actions = code_actions(&mut client, position(0, 0), position(0, 13), json!([]));
    assert_eq!(actions.len(), 1, "{actions:?}");
    assert_eq!(actions[0]["title"], "Add `| where TimeGenerated > ago(1d)`");
    let edit = &actions[0]["edit"]["changes"][URI][0];
    assert_eq!(edit["range"]["start"], position(0, 13));
    assert_eq!(edit["newText"], " | where TimeGenerated > ago(1d)");
}

#[test]
fn only_other_kinds_returns_nothing() {
    let text = "SigninLogs\n| where TimeGenerated > ago(1d)\n| join (AuditLogs) on CorrelationId\n";
    let mut client = open(text);
    client.wait_for_diagnostics(URI, 1);
    let result = client.request_ok(
        "textDocument/codeAction",
        json!({
            "textDocument": { "uri": URI },
            "range": { "start": position(2, 3), "end": position(2, 3) },
            "context": { "diagnostics": [], "only": ["refactor"] },
        }),
    );
    assert_eq!(result, json!([]));
}
