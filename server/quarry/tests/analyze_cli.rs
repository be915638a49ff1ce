//! `quarry analyze`, tested by spawning the binary on the MSTICPy sample data in
//! tests/fixtures/analytics and on small files it writes.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/analytics")
        .join(name);
    path.to_string_lossy().into_owned()
}

fn quarry(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_quarry"))
        .args(args)
        .output()
        .expect("the quarry binary runs")
}

fn stdout_of(output: &Output) -> String {
    assert!(
        output.status.success(),
        "quarry failed with {:?}: {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn stderr_of(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A temporary CSV file, removed when dropped.
struct TempCsv(PathBuf);

impl TempCsv {
    fn new(name: &str, text: &str) -> TempCsv {
        let path =
            std::env::temp_dir().join(format!("quarry-analyze-{}-{name}.csv", std::process::id()));
        std::fs::write(&path, text).unwrap();
        TempCsv(path)
    }

    fn path(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for TempCsv {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Runs `quarry analyze timeseries` on TimeSeriesDemo.csv with `seasonal` as the seasonal
/// smoother length, `threshold` as the score threshold and period 24.
fn timeseries_with(seasonal: &str, threshold: &str, extra: &[&str]) -> Output {
    let input = fixture("TimeSeriesDemo.csv");
    let mut args = vec![
        "analyze",
        "timeseries",
        "--input",
        &input,
        "--time-column",
        "TimeGenerated",
        "--value-column",
        "TotalBytesSent",
        "--period",
        "24",
        "--seasonal",
        seasonal,
        "--score-threshold",
        threshold,
    ];
    args.extend_from_slice(extra);
    quarry(&args)
}

fn timeseries_demo(extra: &[&str]) -> Output {
    timeseries_with("7", "3", extra)
}

#[test]
fn timeseries_csv_has_msticpy_columns() {
    let text = stdout_of(&timeseries_demo(&[]));
    let mut lines = text.lines();
    assert_eq!(
        lines.next().unwrap(),
        "TimeGenerated,TotalBytesSent,residual,trend,seasonal,weights,baseline,score,anomalies"
    );
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 840);
    assert!(
        rows[0].starts_with(
            "2019-05-01T06:00:00Z,873713587,-11615960,791813560,93515986,1,885329547,"
        )
    );
    let anomalous: Vec<&str> = rows
        .iter()
        .filter(|row| row.ends_with(",1"))
        .copied()
        .collect();
    assert_eq!(anomalous.len(), 3);
    assert!(anomalous[0].starts_with("2019-05-13T17:00:00Z,"));
}

#[test]
fn timeseries_json_has_periods_and_filter() {
    let json: Value =
        serde_json::from_str(&stdout_of(&timeseries_demo(&["--format", "json"]))).unwrap();
    assert_eq!(json["rows"].as_array().unwrap().len(), 840);
    assert_eq!(json["rows"][0]["TotalBytesSent"], 873713587.0);
    let periods = json["anomaly_periods"].as_array().unwrap();
    assert_eq!(periods.len(), 3);
    assert_eq!(periods[0]["start"], "2019-05-13T16:00:00Z");
    assert_eq!(periods[0]["end"], "2019-05-13T18:00:00Z");
    assert!(
        json["kql_filter"]
            .as_str()
            .unwrap()
            .starts_with("| where TimeGenerated between (")
    );
}

#[test]
fn timeseries_kql_format_prints_filter_only() {
    let text = stdout_of(&timeseries_demo(&["--format", "kql"]));
    assert_eq!(
        text,
        "| where TimeGenerated between (datetime(2019-05-13T16:00:00Z) .. datetime(2019-05-13T18:00:00Z)) \
         or TimeGenerated between (datetime(2019-05-17T20:00:00Z) .. datetime(2019-05-17T22:00:00Z)) \
         or TimeGenerated between (datetime(2019-05-26T04:00:00Z) .. datetime(2019-05-26T06:00:00Z))\n"
    );
}

#[test]
fn timeseries_options_change_results() {
    let truncated: Value =
        serde_json::from_str(&stdout_of(&timeseries_demo(&["--format", "json"]))).unwrap();
    let fractional: Value = serde_json::from_str(&stdout_of(&timeseries_demo(&[
        "--format",
        "json",
        "--keep-fractions",
    ])))
    .unwrap();
    let trend = fractional["rows"][0]["trend"].as_f64().unwrap();
    assert_ne!(trend.fract(), 0.0);
    assert_eq!(
        truncated["rows"][0]["trend"].as_f64().unwrap(),
        trend.trunc()
    );

    let robust: Value = serde_json::from_str(&stdout_of(&timeseries_demo(&[
        "--format", "json", "--robust",
    ])))
    .unwrap();
    let weights: Vec<f64> = robust["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["weights"].as_f64().unwrap())
        .collect();
    // Robust weights lie in [0, 1] and MSTICPy's integer truncation leaves 0 or 1.
    assert!(weights.iter().all(|&weight| weight == 0.0 || weight == 1.0));
    assert!(weights.contains(&0.0));

    let dips = stdout_of(&timeseries_with(
        "7",
        "2",
        &["--format", "kql", "--include-dips"],
    ));
    let spikes = stdout_of(&timeseries_with("7", "2", &["--format", "kql"]));
    // At threshold 2 the demo has 19 spikes and 14 dips, some in hours without a spike.
    assert!(dips.matches(" between ").count() > spikes.matches(" between ").count());
}

#[test]
fn timeseries_rejects_invalid_input() {
    let output = timeseries_with("8", "3", &[]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr_of(&output).contains("seasonal smoother length must be an odd integer >= 3, got 8")
    );

    let input = fixture("TimeSeriesDemo.csv");
    let args = [
        "analyze",
        "timeseries",
        "--input",
        &input,
        "--value-column",
        "Missing",
    ];
    let output = quarry(&args);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr_of(&output).contains("column `Missing` not found"),
        "{}",
        stderr_of(&output)
    );

    let bad = TempCsv::new(
        "bad-number",
        "TimeGenerated,Count\n2024-01-01T00:00:00Z,12\n2024-01-01T01:00:00Z,lots\n",
    );
    let args = [
        "analyze",
        "timeseries",
        "--input",
        bad.path(),
        "--value-column",
        "Count",
    ];
    let output = quarry(&args);
    assert!(
        stderr_of(&output).contains("row 2, column `Count`: invalid number `lots`"),
        "{}",
        stderr_of(&output)
    );
}

fn sequences_demo(extra: &[&str]) -> Output {
    let input = fixture("demo_exchange_data.csv");
    let mut args = vec![
        "analyze",
        "sequences",
        "--input",
        &input,
        "--user-columns",
        "UserId,ClientIP",
        "--time-column",
        "TimeGenerated",
        "--event-column",
        "Operation",
        "--window",
        "3",
        "--max-session-minutes",
        "20",
        "--max-gap-minutes",
        "2",
    ];
    args.extend_from_slice(extra);
    quarry(&args)
}

/// Rarest-window likelihoods from the MSTICPy reference, ascending, with `None` (sessions
/// shorter than the window) last, which is the order Quarry prints sessions in.
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

fn assert_same_likelihoods(actual: &[Option<f64>], expected: &[Option<f64>]) {
    assert_eq!(actual.len(), expected.len());
    assert!(expected.iter().filter(|e| e.is_none()).count() > 0);
    for (position, (a, e)) in actual.iter().zip(expected).enumerate() {
        match (a, e) {
            (Some(a), Some(e)) => assert!(
                (a - e).abs() <= 1e-9 * e.abs(),
                "row {position}: {a} vs {e}"
            ),
            _ => assert_eq!(a, e, "row {position}"),
        }
    }
}

fn json_likelihoods(json: &Value) -> Vec<Option<f64>> {
    json["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|session| session["rarest_window_likelihood"].as_f64())
        .collect()
}

#[test]
fn sequences_csv_sorted_rarest_first() {
    let text = stdout_of(&sequences_demo(&[]));
    let mut lines = text.lines();
    assert_eq!(
        lines.next().unwrap(),
        "session,UserId,ClientIP,start,end,duration_seconds,number_events,likelihood,\
         geomean_likelihood,rarest_window_likelihood,rarest_window_start,rarest_window"
    );
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 400);

    let mut reader = csv_cells(&text);
    let header = reader.remove(0);
    let column = header
        .iter()
        .position(|name| name == "rarest_window_likelihood")
        .unwrap();
    let likelihoods: Vec<Option<f64>> = reader.iter().map(|row| row[column].parse().ok()).collect();
    assert_same_likelihoods(&likelihoods, &reference_likelihoods("commands"));
}

#[test]
fn sequences_json_models_param_values() {
    let output = sequences_demo(&[
        "--params-column",
        "Parameters",
        "--params-mode",
        "values",
        "--format",
        "json",
    ]);
    let json: Value = serde_json::from_str(&stdout_of(&output)).unwrap();
    assert_eq!(json["modellable_params"].as_array().unwrap().len(), 21);
    assert_same_likelihoods(&json_likelihoods(&json), &reference_likelihoods("values"));
    let sessions = json["sessions"].as_array().unwrap();
    let first = &sessions[0];
    let window = first["rarest_window"].as_array().unwrap();
    assert!(!window.is_empty());
    assert!(window.len() <= 3);
}

#[test]
fn sequences_param_names_match_reference() {
    let output = sequences_demo(&[
        "--params-column",
        "Parameters",
        "--params-mode",
        "names",
        "--format",
        "json",
    ]);
    let json: Value = serde_json::from_str(&stdout_of(&output)).unwrap();
    assert_same_likelihoods(&json_likelihoods(&json), &reference_likelihoods("names"));
}

#[test]
fn sequences_short_sessions_have_no_window() {
    let csv = TempCsv::new(
        "short",
        "TimeGenerated,User,Command\n\
         2024-01-01T00:00:00Z,alice,ls\n\
         2024-01-01T00:00:30Z,alice,cat\n\
         2024-01-01T00:00:00Z,bob,ls\n",
    );
    let args = [
        "analyze",
        "sequences",
        "--input",
        csv.path(),
        "--user-columns",
        "User",
        "--event-column",
        "Command",
        "--window",
        "3",
        "--format",
        "json",
    ];
    let json: Value = serde_json::from_str(&stdout_of(&quarry(&args))).unwrap();
    let sessions = json["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 2);
    // alice's session has two commands plus the end token, so one window of three.
    assert_eq!(sessions[0]["user"][0], "alice");
    assert!(sessions[0]["rarest_window_likelihood"].as_f64().is_some());
    // bob's session has one command plus the end token, shorter than the window.
    assert_eq!(sessions[1]["user"][0], "bob");
    assert!(sessions[1]["rarest_window_likelihood"].is_null());
}

#[test]
fn sequences_reject_invalid_parameters() {
    let csv = TempCsv::new(
        "bad-params",
        "TimeGenerated,User,Command,Params\n2024-01-01T00:00:00Z,alice,ls,{not json\n",
    );
    let args = [
        "analyze",
        "sequences",
        "--input",
        csv.path(),
        "--user-columns",
        "User",
        "--event-column",
        "Command",
        "--params-column",
        "Params",
        "--params-mode",
        "names",
    ];
    let output = quarry(&args);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr_of(&output).contains("row 1, column `Params`: invalid parameter JSON"),
        "{}",
        stderr_of(&output)
    );
}

#[test]
fn proctree_json_matches_reference_summary() {
    let input = fixture("processes_on_host.csv");
    let args = ["analyze", "proctree", "--input", &input, "--format", "json"];
    let json: Value = serde_json::from_str(&stdout_of(&quarry(&args))).unwrap();
    let summary = &json["summary"];
    assert_eq!(summary["processes"], 369);
    assert_eq!(summary["roots"], 6);
    assert_eq!(summary["leaves"], 279);
    assert_eq!(summary["branches"], 84);
    assert_eq!(summary["max_depth"], 5);
    let first = &json["processes"][0];
    assert_eq!(first["is_root"], true);
    assert_eq!(first["inferred"], true);
}

#[test]
fn proctree_csv_escapes_command_lines() {
    let input = fixture("processes_on_host.csv");
    let text = stdout_of(&quarry(&["analyze", "proctree", "--input", &input]));
    let rows = csv_cells(&text);
    assert_eq!(rows[0][0], "path");
    assert_eq!(rows.len(), 370);
    assert!(rows.iter().all(|row| row.len() == 14));
    let quoted = rows.iter().filter(|row| row[13].contains('"')).count();
    assert!(quoted > 0);
}

#[test]
fn proctree_rejects_unknown_schema() {
    let input = fixture("processes_on_host.csv");
    let output = quarry(&["analyze", "proctree", "--input", &input, "--schema", "nope"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr_of(&output).contains("unknown schema `nope`; expected one of windows-4688"));

    let input = fixture("TimeSeriesDemo.csv");
    let output = quarry(&["analyze", "proctree", "--input", &input]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr_of(&output).contains("no process schema matches the columns"),
        "{}",
        stderr_of(&output)
    );
}

/// Splits CSV text into cells, honouring quoted fields.
fn csv_cells(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut cell = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                cell.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => row.push(std::mem::take(&mut cell)),
            ('\n', false) => {
                row.push(std::mem::take(&mut cell));
                rows.push(std::mem::take(&mut row));
            }
            _ => cell.push(c),
        }
    }
    rows
}
