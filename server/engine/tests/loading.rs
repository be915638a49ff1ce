//! Loading tables from data folders: formats, datetime detection, caching and errors.

mod common;

use std::fs::File;

use common::*;
use polars::prelude::{DataFrame, IntoColumn as _, NamedFrom as _, ParquetWriter, Series};
use quarry_engine::{DataSource, RunOptions, Session, run_query};
use serde_json::json;

#[test]
fn csv_datetime_formats_are_detected() {
    let csv = "\
Iso,Space,Zulu,NotTime
2024-03-10T09:05:00,2019-01-15 05:24:24.010,2024-03-10T09:05:00.5Z,2024-03-10 or so
2024-03-10T10:00:00,2019-01-15 05:24:25.000,2024-03-10T10:00:00Z,later
";
    let output = run_ok(&[("t.csv", csv)], "t | take 1");
    assert_eq!(
        column_types(&output),
        ["datetime", "datetime", "datetime", "string"]
    );
    assert_eq!(
        output.rows[0],
        vec![
            json!("2024-03-10T09:05:00.0000000Z"),
            json!("2019-01-15T05:24:24.0100000Z"),
            json!("2024-03-10T09:05:00.5000000Z"),
            json!("2024-03-10 or so"),
        ]
    );
}

#[test]
fn datetime_offsets_convert_to_utc() {
    let csv = "When\n2024-03-10T09:05:00+02:00\n2024-03-10T09:05:00.5-01:00\n";
    let output = run_ok(&[("t.csv", csv)], "t");
    assert_eq!(column_types(&output), ["datetime"]);
    assert_eq!(
        strings(&output, "When"),
        [
            "2024-03-10T07:05:00.0000000Z",
            "2024-03-10T10:05:00.5000000Z"
        ]
    );
}

#[test]
fn datetime_column_with_empty_cells() {
    let csv = "When,N\n2024-03-10 09:05:00,1\n,2\n";
    let output = run_ok(&[("t.csv", csv)], "t | where isnull(When) | project N");
    assert_eq!(output.rows, vec![vec![json!(2)]]);
}

#[test]
fn pandas_index_column_is_dropped() {
    let csv = ",Name,Count\n0,a,1\n1,b,2\n";
    let output = run_ok(&[("t.csv", csv)], "t");
    assert_eq!(column_names(&output), ["Name", "Count"]);
}

#[test]
fn unnamed_non_index_column_is_named() {
    let csv = ",Name\nx,a\ny,b\n";
    let output = run_ok(&[("t.csv", csv)], "t");
    assert_eq!(column_names(&output), ["Column1", "Name"]);
    assert_eq!(strings(&output, "Column1"), ["x", "y"]);
}

#[test]
fn tsv_and_json_lines_load() {
    let tsv = "Host\tPort\nweb\t443\ndb\t5432\n";
    let jsonl = "{\"Host\":\"web\",\"Seen\":\"2024-03-10T09:05:00Z\",\"Ok\":true}\n{\"Host\":\"db\",\"Seen\":\"2024-03-10T10:05:00Z\",\"Ok\":false}\n";
    let output = run_ok(
        &[("ports.tsv", tsv), ("seen.jsonl", jsonl)],
        "ports | where Port > 1000",
    );
    assert_eq!(strings(&output, "Host"), ["db"]);
    let output = run_ok(
        &[("ports.tsv", tsv), ("seen.jsonl", jsonl)],
        "seen | where Ok | project Seen",
    );
    assert_eq!(column_types(&output), ["datetime"]);
    assert_eq!(strings(&output, "Seen"), ["2024-03-10T09:05:00.0000000Z"]);
}

#[test]
fn parquet_loads() {
    let folder = TempFolder::new();
    let mut frame = DataFrame::new(
        2,
        vec![
            Series::new("Host".into(), ["a", "b"]).into_column(),
            Series::new("Bytes".into(), [10i64, 20]).into_column(),
        ],
    )
    .unwrap();
    let file = File::create(folder.path.join("flows.parquet")).unwrap();
    ParquetWriter::new(file).finish(&mut frame).unwrap();
    let output = session(&folder.path)
        .run("flows | summarize sum(Bytes)", &RunOptions::default())
        .unwrap();
    assert_eq!(output.rows, vec![vec![json!(30)]]);
}

#[test]
fn table_names_list_supported_files_only() {
    let folder = TempFolder::new();
    folder.write("a.csv", "x\n1\n");
    folder.write("b.jsonl", "{\"x\":1}\n");
    folder.write("notes.txt", "not a table");
    let names = session(&folder.path).table_names().unwrap();
    assert_eq!(names, ["a", "b"]);
}

#[test]
fn table_columns_have_kql_types() {
    let folder = TempFolder::new();
    folder.write("t.csv", "When,Name,N,Ok\n2024-03-10 09:05:00,a,1,true\n");
    let session = session(&folder.path);
    let columns = session.table_columns("t").unwrap().unwrap();
    let described: Vec<(&str, &str)> = columns
        .iter()
        .map(|c| (c.name.as_str(), c.ty.as_str()))
        .collect();
    assert_eq!(
        described,
        [
            ("When", "datetime"),
            ("Name", "string"),
            ("N", "long"),
            ("Ok", "bool")
        ]
    );
    assert!(session.table_columns("missing").unwrap().is_none());
}

#[test]
fn same_stem_twice_is_an_error() {
    let folder = TempFolder::new();
    folder.write("a.csv", "x\n1\n");
    folder.write("a.tsv", "x\n1\n");
    let error = session(&folder.path)
        .run("a", &RunOptions::default())
        .unwrap_err();
    assert!(
        error.message.contains("define the table `a`"),
        "{}",
        error.message
    );
}

#[test]
fn session_reloads_changed_files() {
    let folder = TempFolder::new();
    let path = folder.write("t.csv", "x\n1\n");
    let session = session(&folder.path);
    assert_eq!(
        session
            .run("t | count", &RunOptions::default())
            .unwrap()
            .rows,
        vec![vec![json!(1)]]
    );
    std::fs::write(&path, "x\n1\n2\n").unwrap();
    // Give the file a clearly different modification time, whatever the file system's precision.
    let later = std::time::SystemTime::now() + std::time::Duration::from_secs(5);
    File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_modified(later)
        .unwrap();
    assert_eq!(
        session
            .run("t | count", &RunOptions::default())
            .unwrap()
            .rows,
        vec![vec![json!(2)]]
    );
}

#[test]
fn missing_folder_names_path_and_fix() {
    let missing = std::env::temp_dir().join("quarry-no-such-folder");
    let error = run_query(
        &DataSource::Folder(missing.clone()),
        "t",
        &RunOptions::default(),
    )
    .unwrap_err();
    assert!(
        error.message.contains(&missing.display().to_string()),
        "{}",
        error.message
    );
    assert!(
        error.message.contains("set the data folder"),
        "{}",
        error.message
    );
}

#[test]
fn bad_file_names_file_and_fix() {
    let folder = TempFolder::new();
    folder.write("broken.jsonl", "{\"x\": 1}\nthis is not json\n");
    let error = session(&folder.path)
        .run("broken", &RunOptions::default())
        .unwrap_err();
    assert!(error.message.contains("broken.jsonl"), "{}", error.message);
    assert!(
        error
            .message
            .contains("check that the file is valid JSON lines"),
        "{}",
        error.message
    );
}

#[test]
fn demo_dataset_answers_without_folder() {
    let output = Session::new(DataSource::Demo)
        .run("SecurityEvent | count", &RunOptions::default())
        .unwrap();
    let count = output.rows[0][0].as_i64().unwrap();
    assert!(count > 2_000, "{count}");
}

#[test]
fn decimal_parquet_column_is_a_clear_error() {
    // `tests/fixtures/parquet/decimal.parquet` was written by DuckDB: `Id` BIGINT and `Amount`
    // DECIMAL(10,1). The engine does not read decimals, so it must return an error rather than
    // stop.
    let folder = TempFolder::new();
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/parquet/decimal.parquet");
    std::fs::copy(&fixture, folder.path.join("ledger.parquet")).unwrap();
    folder.write("other.csv", "A\n1\n");

    let session = session(&folder.path);
    let options = RunOptions {
        max_rows: 10,
        time_range: None,
    };
    let error = session
        .run("ledger | take 1", &options)
        .expect_err("decimals are not read");
    assert!(
        error
            .message
            .contains("column `Amount` holds decimal numbers"),
        "{}",
        error.message
    );
    assert!(
        error.message.contains("CAST(Amount AS DOUBLE)"),
        "{}",
        error.message
    );
    // The other tables of the folder still run.
    let other = session.run("other | count", &options).unwrap();
    assert_eq!(other.rows, [vec![json!(1)]]);
}
