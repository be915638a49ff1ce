//! End-to-end tests of `quarry.runQuery` with a trailing `render` operator.

mod lsp_client;

use lsp_client::LspClient;
use serde_json::{Value, json};

fn run_query(client: &mut LspClient, argument: Value) -> Result<Value, Value> {
    client.request(
        "workspace/executeCommand",
        json!({ "command": "quarry.runQuery", "arguments": [argument] }),
    )
}

#[test]
fn render_hint_returned_with_rows() {
    let mut client = LspClient::start(Value::Null);
    let query = "SecurityEvent | summarize Failures = countif(EventID == 4625) by bin(TimeGenerated, 1h)\n\
                 | render timechart with (title=\"Logons\", ycolumns=Failures)";

    let result = run_query(&mut client, json!({ "query": query })).unwrap();

    assert_eq!(
        result["render"],
        json!({"kind": "timechart", "properties": {"title": "Logons", "ycolumns": ["Failures"]}})
    );
    let columns: Vec<&str> = result["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|column| column["name"].as_str().unwrap())
        .collect();
    assert_eq!(columns, ["TimeGenerated", "Failures"]);
    assert!(result["rowCount"].as_u64().unwrap() > 0, "{result}");
}

#[test]
fn plain_query_has_no_render() {
    let mut client = LspClient::start(Value::Null);

    let result = run_query(&mut client, json!({ "query": "SecurityEvent | take 1" })).unwrap();

    assert_eq!(result["rowCount"], 1);
    assert!(result.get("render").is_none(), "{result}");
}
