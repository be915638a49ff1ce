//! `quarry/analyzeSequences` through `quarry lsp`: the Exchange demo sessions scored as
//! MSTICPy scores them, rarest first, and errors that name the bad value.

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

/// Returns demo_exchange_data.csv as a `quarry.runQuery` result of string columns.
fn exchange_table() -> Value {
    let file = std::fs::File::open(fixture("demo_exchange_data.csv")).unwrap();
    let table = FullTable::read_csv(file).unwrap();
    let columns: Vec<Value> = table
        .header
        .iter()
        .map(|name| json!({"name": name, "type": "string"}))
        .collect();
    json!({"columns": columns, "rows": table.rows})
}

/// Returns the rarest-window likelihoods of one model in the MSTICPy reference, ascending,
/// with sessions shorter than the window (null) last.
fn reference_likelihoods(section: &str) -> Vec<Option<f64>> {
    let text = std::fs::read_to_string(fixture("sequences_reference.json")).unwrap();
    let reference: Value = serde_json::from_str(&text).unwrap();
    let mut values: Vec<Option<f64>> = reference[section]["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|session| session["rarest_window3_likelihood"].as_f64())
        .collect();
    values.sort_by(|a, b| {
        a.unwrap_or(f64::INFINITY)
            .total_cmp(&b.unwrap_or(f64::INFINITY))
    });
    values
}

fn request(client: &mut LspClient, extra: Value) -> Result<Value, Value> {
    let mut params = exchange_table();
    params["userColumns"] = json!(["UserId", "ClientIP"]);
    params["eventColumn"] = json!("Operation");
    for (key, value) in extra.as_object().unwrap() {
        params[key] = value.clone();
    }
    client.request("quarry/analyzeSequences", params)
}

#[test]
fn sequences_match_msticpy_reference() {
    let mut client = LspClient::start(json!({}));
    let commands = request(&mut client, json!({})).unwrap();
    let values = request(
        &mut client,
        json!({"paramsColumn": "Parameters", "paramsMode": "values"}),
    )
    .unwrap();
    client.shutdown();

    for (result, section) in [(&commands, "commands"), (&values, "values")] {
        let sessions = result["sessions"].as_array().unwrap();
        let actual: Vec<Option<f64>> = sessions
            .iter()
            .map(|session| session["rarest_window_likelihood"].as_f64())
            .collect();
        let expected = reference_likelihoods(section);
        assert_eq!(actual.len(), expected.len(), "{section}");
        for (position, (a, e)) in actual.iter().zip(&expected).enumerate() {
            match (a, e) {
                (Some(a), Some(e)) => {
                    assert!(
                        (a - e).abs() <= 1e-9 * e.abs(),
                        "{section} row {position}: {a} vs {e}"
                    )
                }
                _ => assert_eq!(a, e, "{section} row {position}"),
            }
        }
    }

    assert_eq!(commands["window"], 3);
    assert_eq!(commands["userColumns"], json!(["UserId", "ClientIP"]));
    let rarest = &commands["sessions"][0];
    let start = rarest["rarest_window_start"].as_u64().unwrap() as usize;
    let window = rarest["rarest_window"].as_array().unwrap();
    let session_commands = rarest["commands"].as_array().unwrap();
    assert!(!window.is_empty(), "{rarest}");
    assert!(window.len() <= 3, "{rarest}");
    assert_eq!(
        &session_commands[start..start + window.len().min(session_commands.len() - start)],
        &window[..window.len().min(session_commands.len() - start)],
        "the rarest window is part of the session's commands"
    );
    assert_eq!(values["modellableParams"].as_array().unwrap().len(), 21);
}

#[test]
fn sequences_invalid_params_named() {
    let mut client = LspClient::start(json!({}));
    let cases = [
        (json!({"eventColumn": "Command"}), "Command"),
        (json!({"userColumns": []}), "userColumns"),
        (json!({"window": 0}), "window"),
        (json!({"maxGapMinutes": -1}), "-1"),
        (json!({"paramsColumn": "Parameters"}), "paramsMode"),
        (json!({"timeColumn": "Operation"}), "Operation"),
    ];
    for (extra, needle) in cases {
        let error = request(&mut client, extra.clone()).unwrap_err();
        assert_eq!(error["code"], -32602, "{extra}: {error}");
        let message = error["message"].as_str().unwrap();
        assert!(message.contains(needle), "{extra}: {message}");
    }
    client.shutdown();
}
