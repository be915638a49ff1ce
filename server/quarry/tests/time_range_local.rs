//! Time ranges on local runs: `timeRange` of `quarry.runQuery` and `quarry run --start/--end`,
//! on a data folder with a `TimeGenerated` column.

mod lsp_client;

use std::path::PathBuf;
use std::process::Command;

use lsp_client::LspClient;
use serde_json::{Value, json};

const EVENTS: &str = "\
TimeGenerated,Account
2024-03-10 09:00:00,alice
2024-03-10 10:00:00,bob
2024-03-10 11:00:00,carol
";

fn data_folder(name: &str) -> PathBuf {
    let folder =
        std::env::temp_dir().join(format!("quarry-time-range-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&folder);
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(folder.join("Events.csv"), EVENTS).unwrap();
    folder
}

fn run_query(client: &mut LspClient, argument: Value) -> Result<Value, Value> {
    client.request(
        "workspace/executeCommand",
        json!({ "command": "quarry.runQuery", "arguments": [argument] }),
    )
}

#[test]
fn run_query_applies_time_range() {
    let folder = data_folder("lsp");
    let mut client = LspClient::start(json!({ "dataFolder": folder }));

    let result = run_query(
        &mut client,
        json!({
            "query": "Events | project Account",
            "timeRange": {"start": "2024-03-10T10:00:00Z", "end": "2024-03-10T11:00:00Z"},
        }),
    )
    .unwrap();
    assert_eq!(result["rows"], json!([["bob"]]));

    // A relative start counts back from now, so every row of 2024 is older than it.
    let result = run_query(
        &mut client,
        json!({ "query": "Events | count", "timeRange": {"start": "-7d"} }),
    )
    .unwrap();
    assert_eq!(result["rows"], json!([[0]]));

    let error = run_query(
        &mut client,
        json!({ "query": "Events | count", "timeRange": {"start": "yesterday"} }),
    )
    .unwrap_err();
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("`yesterday` is not a time"),
        "{error}"
    );
    let _ = std::fs::remove_dir_all(folder);
}

#[test]
fn quarry_run_start_end() {
    let folder = data_folder("cli");
    let output = Command::new(env!("CARGO_BIN_EXE_quarry"))
        .args(["run", "--data"])
        .arg(&folder)
        .args([
            "--format",
            "csv",
            "--start",
            "2024-03-10T09:30:00Z",
            "--end",
            "2024-03-10T11:00:01Z",
            "Events | project Account",
        ])
        .output()
        .expect("the quarry binary runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "Account\nbob\ncarol\n"
    );
    let _ = std::fs::remove_dir_all(folder);
}
