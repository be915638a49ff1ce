//! End-to-end tests of `textDocument/signatureHelp` in `quarry lsp`, spoken over JSON-RPC on
//! stdio.

mod lsp_client;

use lsp_client::{LspClient, position};
use serde_json::{Value, json};

const URI: &str = "file:///hunt/signature_help.kql";

fn open(text: &str) -> LspClient {
    let mut client = LspClient::start(Value::Null);
    client.did_open(URI, text);
    client
}

fn signature_help(client: &mut LspClient, line: u32, character: u32, context: Value) -> Value {
    let mut params = json!({
        "textDocument": { "uri": URI },
        "position": position(line, character),
    });
    if !context.is_null() {
        params["context"] = context;
    }
    client.request_ok("textDocument/signatureHelp", params)
}

/// Returns the text a parameter's label offsets select in its signature label.
fn parameter_text(signature: &Value, index: usize) -> String {
    let label: Vec<u16> = signature["label"]
        .as_str()
        .expect("label is a string")
        .encode_utf16()
        .collect();
    let offsets = &signature["parameters"][index]["label"];
    let start = offsets[0].as_u64().expect("start offset") as usize;
    let end = offsets[1].as_u64().expect("end offset") as usize;
    String::from_utf16(&label[start..end]).expect("offsets on character boundaries")
}

#[test]
fn capability_has_trigger_characters() {
    let mut client = LspClient::spawn();
    let result = client.initialize(Value::Null);
    assert_eq!(
        result["capabilities"]["signatureHelpProvider"]["triggerCharacters"],
        json!(["(", ","])
    );
}

#[test]
fn scalar_function_second_parameter() {
    // The emoji before the call is two UTF-16 code units, so the position checks the encoding.
    let text = "SecurityEvent\n| extend Note = '😀', Part = substring(Account, 2";
    let mut client = open(text);
    let character = text.lines().nth(1).unwrap().encode_utf16().count() as u32;

    let help = signature_help(&mut client, 1, character, Value::Null);

    assert_eq!(help["activeSignature"], 0);
    assert_eq!(help["activeParameter"], 1);
    let signature = &help["signatures"][0];
    assert_eq!(
        signature["label"],
        "substring(string: scalar, start: integer, [length: integer]): string"
    );
    assert_eq!(parameter_text(signature, 1), "start: integer");
    assert_eq!(signature["documentation"]["kind"], "markdown");
    assert!(
        signature["documentation"]["value"]
            .as_str()
            .is_some_and(|text| !text.is_empty()),
        "{signature}"
    );
}

#[test]
fn overload_chosen_by_argument_count() {
    let text = "SecurityEvent\n| summarize Events = count(EventID == 4625)";
    let mut client = open(text);

    let help = signature_help(&mut client, 1, 36, Value::Null);

    assert_eq!(help["signatures"].as_array().map(Vec::len), Some(2));
    assert_eq!(help["activeSignature"], 1);
    assert_eq!(
        help["signatures"][1]["label"],
        "count(predicate: bool): long"
    );
    assert_eq!(help["activeParameter"], 0);
}

#[test]
fn plugin_parameter_has_note() {
    let text = "SigninLogs\n| evaluate bag_unpack(DeviceDetail, ";
    let mut client = open(text);

    let help = signature_help(&mut client, 1, 36, Value::Null);

    let signature = &help["signatures"][0];
    assert!(
        signature["label"]
            .as_str()
            .is_some_and(|label| label.starts_with("bag_unpack(")),
        "{help}"
    );
    assert_eq!(help["activeParameter"], 1);
    assert_eq!(parameter_text(signature, 1), "column_prefix: string");
    let note = &signature["parameters"][1]["documentation"];
    assert_eq!(note["kind"], "markdown");
    assert!(
        note["value"]
            .as_str()
            .is_some_and(|text| text.contains("new column")),
        "{note}"
    );
}

#[test]
fn client_overload_choice_is_kept() {
    let text = "SecurityEvent\n| summarize count() by bin(TimeGenerated, ";
    let mut client = open(text);
    let first = signature_help(&mut client, 1, 42, Value::Null);
    // `TimeGenerated` is a datetime column, so the first overload taking a datetime is chosen.
    assert_eq!(first["activeSignature"], 2);
    assert_eq!(
        first["signatures"][2]["label"],
        "bin(value: datetime, roundTo: datetime): datetime"
    );

    // The user switched to the fourth overload; a retrigger after typing keeps it.
    let mut previous = first.clone();
    previous["activeSignature"] = json!(3);
    let context = json!({
        "triggerKind": 3,
        "isRetrigger": true,
        "activeSignatureHelp": previous,
    });
    let help = signature_help(&mut client, 1, 42, context);

    assert_eq!(help["activeSignature"], 3);
    assert_eq!(
        help["signatures"][3]["label"],
        "bin(value: datetime, roundTo: timespan): datetime"
    );
}

#[test]
fn no_help_outside_call() {
    let text = "SecurityEvent\n| where EventID == 4625";
    let mut client = open(text);

    let help = signature_help(&mut client, 1, 10, Value::Null);

    assert_eq!(help, Value::Null);
}
