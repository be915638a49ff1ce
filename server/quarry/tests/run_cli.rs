//! `quarry run`, tested by spawning the binary on files it writes and on the demo dataset.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

const EVENTS: &str = "\
TimeGenerated,Computer,Account,EventID,CommandLine
2024-03-10 09:05:00,WKS-1,CONTOSO\\alice,4624,\"cmd.exe /c \"\"echo, hi\"\"\"
2024-03-10 09:40:00,WKS-1,CONTOSO\\bob,4625,
2024-03-10 10:15:00,WKS-2,CONTOSO\\alice,4625,powershell.exe
";

/// A data folder with `Events.csv`, removed when dropped.
struct DataFolder(PathBuf);

impl DataFolder {
    fn new(name: &str) -> DataFolder {
        let path =
            std::env::temp_dir().join(format!("quarry-run-test-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        std::fs::write(path.join("Events.csv"), EVENTS).unwrap();
        DataFolder(path)
    }
}

impl Drop for DataFolder {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn quarry(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_quarry"))
        .args(args)
        .output()
        .expect("the quarry binary runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

fn data_arg(folder: &Path) -> String {
    folder.display().to_string()
}

#[test]
fn run_table_output() {
    let folder = DataFolder::new("table");
    let output = quarry(&[
        "run",
        "Events | summarize n = count() by Account | order by n desc",
        "--data",
        &data_arg(&folder.0),
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        stdout(&output),
        "Account        n\n-------------  -\nCONTOSO\\alice  2\nCONTOSO\\bob    1\n(2 rows)\n"
    );
}

#[test]
fn run_csv_output_is_exact() {
    let folder = DataFolder::new("csv");
    let output = quarry(&[
        "run",
        "Events | project Computer, CommandLine, EventID",
        "--data",
        &data_arg(&folder.0),
        "--format",
        "csv",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        stdout(&output),
        "Computer,CommandLine,EventID\nWKS-1,\"cmd.exe /c \"\"echo, hi\"\"\",4624\nWKS-1,,4625\nWKS-2,powershell.exe,4625\n"
    );
}

#[test]
fn run_json_output_to_file() {
    let folder = DataFolder::new("json");
    let out = folder.0.join("result.json");
    let output = quarry(&[
        "run",
        "Events | take 1 | project TimeGenerated, EventID",
        "--data",
        &data_arg(&folder.0),
        "--format",
        "json",
        "--out",
        &out.display().to_string(),
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        stdout(&output),
        "",
        "--out sends nothing to standard output"
    );
    let json: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(
        json,
        serde_json::json!({
            "columns": [{"name": "TimeGenerated", "type": "datetime"}, {"name": "EventID", "type": "long"}],
            "rows": [["2024-03-10T09:05:00.0000000Z", 4624]],
            "rowCount": 1,
            "truncated": false
        })
    );
}

#[test]
fn run_query_from_file() {
    let folder = DataFolder::new("file");
    let query_file = folder.0.join("hunt.kql");
    std::fs::write(
        &query_file,
        "// failed logons\nlet id = 4625;\nEvents\n| where EventID == id\n| count\n",
    )
    .unwrap();
    let output = quarry(&[
        "run",
        "-f",
        &query_file.display().to_string(),
        "--data",
        &data_arg(&folder.0),
        "--format",
        "csv",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(stdout(&output), "Count\n2\n");
}

#[test]
fn run_error_points_at_query() {
    let folder = DataFolder::new("error");
    let output = quarry(&[
        "run",
        "Events | where computer == 'x'",
        "--data",
        &data_arg(&folder.0),
    ]);
    assert_eq!(output.status.code(), Some(1));
    let message = stderr(&output);
    assert!(
        message.starts_with("error: unknown column or name `computer`; did you mean `Computer`?"),
        "{message}"
    );
    assert!(message.contains(" --> query:1:16\n"), "{message}");
    assert!(
        message.ends_with("1 | Events | where computer == 'x'\n  |                ^^^^^^^^\n"),
        "{message}"
    );
}

#[test]
fn run_missing_folder_exits_with_error() {
    let output = quarry(&["run", "T | take 1", "--data", "/nonexistent/quarry-data"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("/nonexistent/quarry-data"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn run_max_rows_truncates() {
    let folder = DataFolder::new("max");
    let output = quarry(&[
        "run",
        "Events",
        "--data",
        &data_arg(&folder.0),
        "--max-rows",
        "1",
        "--format",
        "csv",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(stdout(&output).lines().count(), 2);
    assert!(
        stderr(&output).contains("showing 1 of 3 rows"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn run_timing_goes_to_stderr() {
    let folder = DataFolder::new("timing");
    let output = quarry(&[
        "run",
        "Events | count",
        "--data",
        &data_arg(&folder.0),
        "--timing",
        "--format",
        "csv",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    // The result on stdout is unchanged; the time is on stderr, in seconds.
    assert_eq!(stdout(&output), "Count\n3\n");
    let line = stderr(&output)
        .lines()
        .find(|line| line.starts_with("timing: "))
        .map(str::to_owned)
        .unwrap_or_else(|| panic!("no timing line in {:?}", stderr(&output)));
    let seconds: f64 = line
        .strip_suffix(" s")
        .and_then(|rest| rest.rsplit(' ').next())
        .and_then(|number| number.parse().ok())
        .unwrap_or_else(|| panic!("no seconds in {line:?}"));
    assert!((0.0..60.0).contains(&seconds), "{line}");

    let without = quarry(&["run", "Events | count", "--data", &data_arg(&folder.0)]);
    assert!(
        !stderr(&without).contains("timing:"),
        "{}",
        stderr(&without)
    );
}

#[test]
fn run_defaults_to_demo_dataset() {
    let output = quarry(&[
        "run",
        "SigninLogs | where ResultType == '50126' | summarize n = dcount(UserPrincipalName) by IPAddress | top 1 by n",
        "--format",
        "csv",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(text.starts_with("IPAddress,n\n203.0.113.77,"), "{text}");
    let explicit = quarry(&["run", "SigninLogs | count", "--data", "demo"]);
    assert!(explicit.status.success(), "{}", stderr(&explicit));
}
