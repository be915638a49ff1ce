//! End-to-end tests of the `quarry.runQuery` command on the demo dataset and on a data folder.

mod lsp_client;

use std::path::PathBuf;

use lsp_client::{LspClient, position};
use serde_json::{Value, json};

const URI: &str = "file:///hunt/run.kql";

fn run_query(client: &mut LspClient, argument: Value) -> Result<Value, Value> {
    client.request(
        "workspace/executeCommand",
        json!({ "command": "quarry.runQuery", "arguments": [argument] }),
    )
}

/// Creates an empty folder under the system temp folder, unique to this process and `name`.
fn temp_folder(name: &str) -> PathBuf {
    let folder = std::env::temp_dir().join(format!("quarry-lsp-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&folder);
    std::fs::create_dir_all(&folder).unwrap();
    folder
}

#[test]
fn run_query_text_on_demo_data() {
    let mut client = LspClient::start(Value::Null);

    let result = run_query(&mut client, json!({ "query": "SecurityEvent | take 3" })).unwrap();

    assert_eq!(result["query"], "SecurityEvent | take 3");
    assert_eq!(result["source"], "demo");
    assert_eq!(result["rowCount"], 3);
    assert_eq!(result["truncated"], false);
    assert_eq!(result["rows"].as_array().unwrap().len(), 3);
    let columns = result["columns"].as_array().unwrap();
    assert!(
        columns
            .iter()
            .any(|column| column["name"] == "EventID" && column["type"] == "int"),
        "{columns:?}"
    );
    assert!(result["elapsedMs"].as_f64().unwrap() >= 0.0);
}

#[test]
fn run_query_cursor_runs_its_block() {
    let mut client = LspClient::start(Value::Null);
    let text = "SecurityEvent\n| take 2\n\nSecurityEvent\n| where EventID == 4625\n| count\n";
    client.did_open(URI, text);

    let result = run_query(
        &mut client,
        json!({ "uri": URI, "position": position(4, 3) }),
    )
    .unwrap();

    assert_eq!(
        result["query"],
        "SecurityEvent\n| where EventID == 4625\n| count"
    );
    assert_eq!(
        result["columns"],
        json!([{ "name": "Count", "type": "long" }])
    );
    let count = result["rows"][0][0].as_i64().unwrap();
    assert!(count > 0, "the demo data plants failed logons: {result}");
}

#[test]
fn run_query_selection_and_max_rows() {
    let mut client = LspClient::start(json!({ "maxRows": 2 }));
    let text = "SecurityEvent | take 5 | project EventID\n";
    client.did_open(URI, text);

    let range = json!({ "start": position(0, 0), "end": position(0, 22) });
    let result = run_query(&mut client, json!({ "uri": URI, "range": range })).unwrap();

    assert_eq!(result["query"], "SecurityEvent | take 5");
    assert_eq!(result["rowCount"], 5);
    assert_eq!(result["rows"].as_array().unwrap().len(), 2);
    assert_eq!(result["truncated"], true);

    let result = run_query(
        &mut client,
        json!({ "uri": URI, "range": range, "maxRows": 10 }),
    )
    .unwrap();
    assert_eq!(result["rows"].as_array().unwrap().len(), 5);
    assert_eq!(result["truncated"], false);
}

#[test]
fn run_query_data_folder() {
    let folder = temp_folder("folder");
    std::fs::write(
        folder.join("Logons.csv"),
        "Account,Failures\nalice,3\nbob,1\ncarol,7\n",
    )
    .unwrap();
    let mut client = LspClient::start(json!({ "dataFolder": folder }));

    let result = run_query(
        &mut client,
        json!({ "query": "Logons | where Failures > 2 | order by Failures desc | project Account" }),
    )
    .unwrap();

    assert_eq!(result["source"], format!("folder:{}", folder.display()));
    assert_eq!(result["rows"], json!([["carol"], ["alice"]]));

    // A folder in the arguments overrides the initialization option for one run.
    let other = temp_folder("override");
    std::fs::write(other.join("Logons.csv"), "Account,Failures\ndave,9\n").unwrap();
    let result = run_query(
        &mut client,
        json!({ "query": "Logons | count", "dataFolder": other }),
    )
    .unwrap();
    assert_eq!(result["rows"], json!([[1]]));

    // `didChangeConfiguration` switches the folder for later runs.
    client.notify(
        "workspace/didChangeConfiguration",
        json!({ "settings": { "quarry": { "data": { "folder": other } } } }),
    );
    let result = run_query(&mut client, json!({ "query": "Logons | count" })).unwrap();
    assert_eq!(result["source"], format!("folder:{}", other.display()));

    let _ = std::fs::remove_dir_all(folder);
    let _ = std::fs::remove_dir_all(other);
}

#[test]
fn run_query_unknown_table_fails_with_range() {
    let mut client = LspClient::start(Value::Null);
    let text = "SecurityEvent\n| take 1\n\nNoSuchTable\n| take 1\n";
    client.did_open(URI, text);

    let error = run_query(
        &mut client,
        json!({ "uri": URI, "position": position(4, 2) }),
    )
    .unwrap_err();

    assert_eq!(error["code"], -32803, "RequestFailed: {error}");
    let message = error["message"].as_str().unwrap();
    assert!(message.contains("NoSuchTable"), "{message}");
    // The range is in document coordinates: the table name on line 3.
    assert_eq!(error["data"]["range"]["start"], position(3, 0), "{error}");
    assert_eq!(error["data"]["range"]["end"], position(3, 11), "{error}");
}

#[test]
fn run_query_unsupported_operator_fails() {
    let mut client = LspClient::start(Value::Null);

    let error = run_query(
        &mut client,
        json!({ "query": "SecurityEvent | fork (take 1)" }),
    )
    .unwrap_err();

    assert_eq!(error["code"], -32803, "{error}");
    assert!(
        error["message"].as_str().unwrap().contains("fork"),
        "{error}"
    );
}

#[test]
fn run_query_invalid_arguments() {
    let mut client = LspClient::start(Value::Null);

    let error = run_query(&mut client, json!({ "position": position(0, 0) })).unwrap_err();
    assert_eq!(error["code"], -32602, "{error}");

    let error = run_query(
        &mut client,
        json!({ "uri": "file:///closed.kql", "position": position(0, 0) }),
    )
    .unwrap_err();
    assert_eq!(error["code"], -32803, "{error}");
    assert!(
        error["message"].as_str().unwrap().contains("not open"),
        "{error}"
    );

    client.did_open(URI, "T\n\n\n");
    let error = run_query(
        &mut client,
        json!({ "uri": URI, "position": position(2, 0) }),
    )
    .unwrap_err();
    assert_eq!(error["code"], -32803, "{error}");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("no query at line 3"),
        "{error}"
    );
}

#[test]
fn run_query_keeps_server_responsive() {
    let mut client = LspClient::start(Value::Null);
    client.did_open(URI, "SecurityEvent\n| where EventID == 4625\n");

    // Several runs in a row, each followed by a hover that must still return.
    for _ in 0..3 {
        run_query(
            &mut client,
            json!({ "query": "SecurityEvent | summarize n = count() by Account" }),
        )
        .unwrap();
        let hover = client.request_ok(
            "textDocument/hover",
            json!({ "textDocument": { "uri": URI }, "position": position(1, 3) }),
        );
        assert!(hover.is_object(), "{hover}");
    }
}
