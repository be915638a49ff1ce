//! `quarry run --format parquet`: a demo-dataset result written as Parquet and read back as a
//! table by `quarry run --data`, with its values and column types kept.

use std::process::{Command, Output};

use serde_json::Value;

fn quarry(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_quarry"))
        .args(args)
        .output()
        .expect("the quarry binary runs")
}

fn json_output(output: &Output) -> Value {
    assert!(
        output.status.success(),
        "quarry failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("JSON output")
}

const COLUMNS: &str = "TimeGenerated, Account, EventID, Span = 90m, Failed = EventID == 4625";

#[test]
fn parquet_round_trip_keeps_types() {
    let folder = std::env::temp_dir().join(format!("quarry-parquet-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&folder);
    std::fs::create_dir_all(&folder).unwrap();
    let file = folder.join("Export.parquet");
    let query = format!("SecurityEvent | order by TimeGenerated asc | take 5 | project {COLUMNS}");

    let written = quarry(&[
        "run",
        &query,
        "--format",
        "parquet",
        "--output",
        file.to_str().unwrap(),
    ]);
    assert!(
        written.status.success(),
        "{}",
        String::from_utf8_lossy(&written.stderr)
    );
    assert!(written.stdout.is_empty(), "Parquet goes to the file only");

    let original = json_output(&quarry(&["run", &query, "--format", "json"]));
    let read_back = json_output(&quarry(&[
        "run",
        "Export",
        "--data",
        folder.to_str().unwrap(),
        "--format",
        "json",
    ]));

    let types = |result: &Value| -> Vec<(String, String)> {
        result["columns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|column| {
                (
                    column["name"].as_str().unwrap().to_owned(),
                    column["type"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };
    let read_types = types(&read_back);
    assert_eq!(
        read_types[0],
        ("TimeGenerated".to_owned(), "datetime".to_owned())
    );
    assert_eq!(read_types[1], ("Account".to_owned(), "string".to_owned()));
    assert_eq!(read_types[2], ("EventID".to_owned(), "long".to_owned()));
    assert_eq!(read_types[3], ("Span".to_owned(), "timespan".to_owned()));
    assert_eq!(read_types[4], ("Failed".to_owned(), "bool".to_owned()));
    assert_eq!(read_types.len(), 5);

    let original_rows = original["rows"].as_array().unwrap();
    let read_rows = read_back["rows"].as_array().unwrap();
    assert_eq!(read_rows.len(), 5);
    for (before, after) in original_rows.iter().zip(read_rows) {
        assert_eq!(before, after);
    }
    let _ = std::fs::remove_dir_all(&folder);
}

#[test]
fn parquet_needs_output_file() {
    let output = quarry(&["run", "SecurityEvent | take 1", "--format", "parquet"]);
    assert_eq!(output.status.code(), Some(2));
    let message = String::from_utf8_lossy(&output.stderr);
    assert!(message.contains("--out FILE"), "{message}");
}
