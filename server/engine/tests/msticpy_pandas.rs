//! Results on MSTICPy's sample logs, checked against an independent computation in pandas.
//!
//! The test runs `python3` with pandas on the same CSV files and compares the numbers. It
//! needs pandas installed (`pip install pandas`) and fails with that hint when it is missing.

mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;

use quarry_engine::{DataSource, QueryOutput, RunOptions, Session};
use serde_json::Value;

fn fixture_folder() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/msticpy"
    ))
}

/// The pandas side: each entry computes the rows of one KQL query below, by name.
const PANDAS_SCRIPT: &str = r#"
import json, sys
import pandas as pd

folder = sys.argv[1]
procs = pd.read_csv(f"{folder}/processes_on_host.csv", index_col=0)
logons = pd.read_csv(f"{folder}/host_logons.csv", index_col=0)
tree = pd.read_csv(f"{folder}/process_tree.csv", index_col=0)

def rows(series):
    return [[str(k) if not isinstance(k, tuple) else [str(x) for x in k], int(v)] for k, v in series.items()]

results = {}

cmd = procs[procs["NewProcessName"].str.lower().str.endswith("cmd.exe")]
results["cmd_by_account"] = rows(cmd.groupby("Account").size())

results["parents_by_account"] = rows(procs.groupby("Account")["ParentProcessName"].nunique())

times = pd.to_datetime(procs["TimeGenerated"]).dt.floor("h").dt.strftime("%Y-%m-%dT%H:%M:%S.0000000Z")
results["per_hour"] = rows(procs.groupby(times).size())

term = r"(?i)(?:^|[^A-Za-z0-9])net(?:$|[^A-Za-z0-9])"
has_net = tree[tree["CommandLine"].fillna("").str.contains(term, regex=True)]
results["net_by_host"] = rows(has_net.groupby("Computer").size())

logon_types = logons[logons["LogonType"].isin([3, 4, 10])]
results["logons_by_user_type"] = rows(logon_types.groupby(["TargetUserName", "LogonType"]).size())

json.dump(results, sys.stdout)
"#;

/// The engine side: the same computations in KQL.
const QUERIES: &[(&str, &str)] = &[
    (
        "cmd_by_account",
        r#"processes_on_host | where NewProcessName endswith "cmd.exe" | summarize n = count() by Account | order by n desc"#,
    ),
    (
        "parents_by_account",
        "processes_on_host | summarize dcount(ParentProcessName) by Account",
    ),
    (
        "per_hour",
        "processes_on_host | summarize count() by bin(TimeGenerated, 1h)",
    ),
    (
        "net_by_host",
        "process_tree | where CommandLine has 'net' | summarize count() by Computer",
    ),
    (
        "logons_by_user_type",
        "host_logons | where LogonType in (3, 4, 10) | summarize n = count() by TargetUserName, LogonType",
    ),
];

fn run_pandas() -> BTreeMap<String, Vec<Value>> {
    let output = Command::new("python3")
        .arg("-c")
        .arg(PANDAS_SCRIPT)
        .arg(fixture_folder())
        .output()
        .unwrap_or_else(|error| {
            panic!("cannot run python3 ({error}); install Python 3 and run `pip install pandas`")
        });
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        if stderr.contains("No module named 'pandas'") {
            panic!("pandas is missing: run `pip install pandas` and rerun the tests");
        }
        panic!("the pandas reference script failed:\n{stderr}");
    }
    serde_json::from_slice(&output.stdout).expect("the pandas script prints a JSON object")
}

/// Turns engine rows into pandas' shape, `[key, count]` or `[[key1, key2], count]`, sorted.
fn engine_rows(output: &QueryOutput) -> Vec<Value> {
    let key_count = output.columns.len() - 1;
    let mut rows: Vec<Value> = output
        .rows
        .iter()
        .map(|row| {
            let keys: Vec<Value> = row[..key_count]
                .iter()
                .map(|v| match v {
                    Value::String(s) => Value::String(s.clone()),
                    other => Value::String(other.to_string()),
                })
                .collect();
            let key = if key_count == 1 {
                keys[0].clone()
            } else {
                Value::Array(keys)
            };
            Value::Array(vec![key, row[key_count].clone()])
        })
        .collect();
    rows.sort_by_key(|row| row.to_string());
    rows
}

#[test]
fn msticpy_results_match_pandas() {
    let expected = run_pandas();
    let session = Session::new(DataSource::Folder(fixture_folder()));
    for (name, query) in QUERIES {
        let output = session
            .run(query, &RunOptions::default())
            .unwrap_or_else(|error| panic!("{name}: the query failed: {error}\n{query}"));
        let mut want = expected[*name].clone();
        want.sort_by_key(|row| row.to_string());
        assert!(
            !want.is_empty(),
            "{name}: pandas found no rows, so the comparison would prove nothing"
        );
        assert_eq!(engine_rows(&output), want, "{name}: {query}");
    }
}

#[test]
fn cmd_query_orders_by_count() {
    let session = Session::new(DataSource::Folder(fixture_folder()));
    let output = session.run(QUERIES[0].1, &RunOptions::default()).unwrap();
    assert_eq!(common::column_names(&output), ["Account", "n"]);
    assert_eq!(
        output.rows,
        vec![
            vec![Value::from("MSTICAlertsWin1\\MSTICAdmin"), Value::from(26)],
            vec![Value::from("WORKGROUP\\MSTICAlertsWin1$"), Value::from(2)],
        ]
    );
}

#[test]
fn pandas_index_column_is_dropped_and_times_parsed() {
    let session = Session::new(DataSource::Folder(fixture_folder()));
    let output = session
        .run("processes_on_host | take 1", &RunOptions::default())
        .unwrap();
    assert_eq!(
        output.columns[0].name, "TenantId",
        "the unnamed pandas index is dropped"
    );
    let types: BTreeMap<&str, &str> = output
        .columns
        .iter()
        .map(|c| (c.name.as_str(), c.ty.as_str()))
        .collect();
    assert_eq!(types["TimeGenerated"], "datetime");
    assert_eq!(types["TimeCreatedUtc"], "datetime");
    assert_eq!(types["EventID"], "long");
    assert_eq!(
        output.rows[0][3],
        Value::from("2019-01-15T05:24:24.0100000Z")
    );
}
