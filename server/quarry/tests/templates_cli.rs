//! End-to-end tests of `quarry templates` on MSTICPy's template library (tests/fixtures).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/msticpy-queries")
}

fn quarry(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_quarry"))
        .args(args)
        .env_remove("QUARRY_TEMPLATE_PATH")
        .output()
        .expect("quarry runs")
}

fn with_fixtures(args: &[&str]) -> Output {
    let path = fixtures();
    let mut all = vec!["templates", "--path", path.to_str().unwrap()];
    all.extend_from_slice(args);
    quarry(&all)
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("UTF-8 output")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Creates a scratch folder unique to this test process and test name.
fn scratch_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("quarry-templates-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch folder");
    dir
}

#[test]
fn list_json_names_every_family_entry() {
    let output = with_fixtures(&["list", "--format", "json"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let items: serde_json::Value = serde_json::from_str(&stdout(&output)).expect("JSON list");
    let items = items.as_array().expect("array");
    let names: Vec<&str> = items
        .iter()
        .map(|item| item["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"WindowsSecurity.list_host_logons"));
    assert!(names.contains(&"SplunkGeneral.get_events_parameterized"));
    assert!(names.len() >= 250, "{} entries", names.len());
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted, "entries are sorted by name");
}

#[test]
fn list_search_filters_case_insensitively() {
    let output = with_fixtures(&["list", "--search", "LOGON"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(text.contains("WindowsSecurity.list_host_logons"), "{text}");
    assert!(!text.contains("Alerts.list_alerts "), "{text}");
}

#[test]
fn show_lists_parameters_and_query() {
    let output = with_fixtures(&[
        "show",
        "WindowsSecurity.list_host_logons",
        "--format",
        "json",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let info: serde_json::Value = serde_json::from_str(&stdout(&output)).expect("JSON");
    let params = info["parameters"].as_array().unwrap();
    let host = params
        .iter()
        .find(|p| p["name"] == "host_name")
        .expect("host_name");
    assert_eq!(host["type"], "str");
    assert_eq!(host["required"], true);
    let table = params.iter().find(|p| p["name"] == "table").expect("table");
    assert_eq!(table["default"], "SecurityEvent");
    assert_eq!(table["required"], false);
    assert!(info["query"].as_str().unwrap().contains("{host_name}"));
    assert!(info["line"].as_u64().unwrap() > 1);
}

#[test]
fn render_fills_parameters_like_msticpy() {
    let output = with_fixtures(&[
        "render",
        "LinuxSyslog.list_logons_for_host",
        "--param",
        "host_name=web01",
        "--param",
        "start=2024-03-01T00:00:00Z",
        "--param",
        "end=-1d@d",
        "--now",
        "2024-03-15T10:20:30Z",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(
        text.contains("datetime(2024-03-01T00:00:00+00:00)"),
        "{text}"
    );
    assert!(text.contains("datetime(2024-03-14T00:00:00Z)"), "{text}");
    assert!(text.contains("web01"), "{text}");
}

#[test]
fn render_escapes_hostile_value() {
    let output = with_fixtures(&[
        "render",
        "WindowsSecurity.list_host_logons",
        "--param",
        "host_name=WS1\" | take 0 //",
        "--param",
        "start=-3d@d",
        "--param",
        "end=0d@d",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(
        text.contains(r#"Computer has "WS1\" | take 0 //""#),
        "{text}"
    );
    let parse = quarry_syntax_errors(&text);
    assert_eq!(parse, 0, "{text}");
}

fn quarry_syntax_errors(query: &str) -> usize {
    let dir = scratch_dir("syntax");
    let file = dir.join("rendered.kql");
    std::fs::write(&file, query).unwrap();
    let output = quarry(&["check", "--format", "json", file.to_str().unwrap()]);
    let line: serde_json::Value =
        serde_json::from_str(stdout(&output).lines().next().unwrap()).unwrap();
    line["errors"].as_array().unwrap().len()
}

#[test]
fn render_msticpy_compatible_inserts_raw_value() {
    let output = with_fixtures(&[
        "render",
        "WindowsSecurity.list_host_logons",
        "--param",
        "host_name=WS1\" | take 0 //",
        "--param",
        "start=-3d@d",
        "--param",
        "end=0d@d",
        "--msticpy-compatible",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout(&output).contains(r#"Computer has "WS1" | take 0 //""#));
}

#[test]
fn render_reports_missing_and_unknown_parameters() {
    let missing = with_fixtures(&[
        "render",
        "WindowsSecurity.list_host_logons",
        "--param",
        "start=-1",
    ]);
    assert_eq!(missing.status.code(), Some(2));
    let message = stderr(&missing);
    assert!(message.contains("missing required parameters"), "{message}");
    assert!(message.contains("host_name"), "{message}");
    assert!(message.contains("end"), "{message}");

    let unknown = with_fixtures(&[
        "render",
        "WindowsSecurity.list_host_logons",
        "--param",
        "hostname=x",
    ]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(
        stderr(&unknown).contains("unknown parameter `hostname`"),
        "{}",
        stderr(&unknown)
    );
}

#[test]
fn render_splunk_quotes_field_value() {
    let output = with_fixtures(&[
        "render",
        "SplunkGeneral.get_events_parameterized",
        "--param",
        "index=main | delete",
        "--param",
        "start=2024-03-01",
        "--param",
        "end=2024-03-02",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(
        text.contains(r#"search index="main | delete" source=*"#),
        "{text}"
    );
    assert!(text.contains(r#"earliest="2024-03-01 00:00:00""#), "{text}");
}

#[test]
fn validate_accepts_msticpy_library() {
    let path = fixtures();
    let output = quarry(&["templates", "validate", path.to_str().unwrap()]);
    assert!(
        output.status.success(),
        "{}{}",
        stdout(&output),
        stderr(&output)
    );
    assert!(
        stderr(&output).contains("50 files, 308 templates: 0 errors"),
        "{}",
        stderr(&output)
    );
}

const BROKEN: &str = "metadata:
  version: 1
  description: Broken templates
  data_environments: [MSSentinel]
  data_families: [Broken]
sources:
  q1:
    description: Uses an undeclared parameter
    args:
      query: 'SecurityEvent | where Computer == \"{host}\" | take {n}'
    parameters:
      n:
        description: Row count
        type: integer
";

fn write_broken(dir: &Path) -> PathBuf {
    let file = dir.join("broken.yaml");
    std::fs::write(&file, BROKEN).unwrap();
    file
}

#[test]
fn validate_reports_positions_and_fails() {
    let dir = scratch_dir("validate");
    let file = write_broken(&dir);
    let output = quarry(&[
        "templates",
        "validate",
        "--format",
        "json",
        file.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let problems: Vec<serde_json::Value> = stdout(&output)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let host = problems
        .iter()
        .find(|p| p["message"].as_str().unwrap().contains("{host}"))
        .expect("undeclared parameter reported");
    assert_eq!(host["line"], 10);
    assert_eq!(host["column"], 50);
    let type_problem = problems
        .iter()
        .find(|p| p["message"].as_str().unwrap().contains("\"integer\""))
        .expect("invalid type reported");
    assert_eq!(type_problem["line"], 14);
    assert_eq!(type_problem["column"], 15);
}

#[test]
fn broken_file_is_skipped_from_env_path() {
    let dir = scratch_dir("env");
    write_broken(&dir);
    std::fs::write(
        dir.join("good.yml"),
        "metadata:
  version: 1
  description: Local hunting queries
  data_environments: [MSSentinel]
  data_families: [Local]
sources:
  recent_logons:
    description: Logons in the last day
    args:
      query: 'SecurityEvent | where EventID == 4624 | take {count}'
    parameters:
      count:
        description: Maximum rows
        type: int
        default: 10
",
    )
    .unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_quarry"))
        .args(["templates", "render", "Local.recent_logons"])
        .env("QUARRY_TEMPLATE_PATH", &dir)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        stdout(&output),
        "SecurityEvent | where EventID == 4624 | take 10\n"
    );
    assert!(stderr(&output).contains("skipping"), "{}", stderr(&output));
}

#[test]
fn list_without_path_shows_bundled_library() {
    let output = quarry(&["templates", "list", "--format", "json"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let items: serde_json::Value = serde_json::from_str(&stdout(&output)).expect("JSON list");
    let names: Vec<&str> = items
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["name"].as_str().unwrap())
        .collect();
    assert!(names.len() >= 80, "{} bundled templates", names.len());
    assert!(
        names.contains(&"DemoHunt.failed_logon_sources"),
        "{names:?}"
    );
    assert!(names.contains(&"MDE.list_device_processes"), "{names:?}");
    assert!(
        names.contains(&"SplunkHunting.list_windows_logons_for_host"),
        "{names:?}"
    );
}

#[test]
fn validate_accepts_bundled_library() {
    let queries = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../queries");
    let output = quarry(&["templates", "validate", queries.to_str().unwrap()]);
    assert!(
        output.status.success(),
        "{}{}",
        stdout(&output),
        stderr(&output)
    );
    assert!(
        stderr(&output).contains(": 0 errors, 0 warnings"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn run_expands_template_call() {
    let output = quarry(&[
        "run",
        "DemoHunt.successful_logons_from_ip(ip = \"203.0.113.77\")\n| project TargetUserName, Computer",
        "--format",
        "csv",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(text.starts_with("TargetUserName,Computer\n"), "{text}");
    assert!(text.contains("jordan.lee"), "{text}");
}

#[test]
fn run_reports_bad_template_call() {
    let output = quarry(&[
        "run",
        "SecurityEvent | take 1\n| join (DemoHunt.signins_from_ip(colour=\"red\")) on $left.IpAddress == $right.IPAddress",
    ]);
    assert!(!output.status.success());
    let message = stderr(&output);
    assert!(message.contains("query:2:34:"), "{message}");
    assert!(message.contains("has no parameter `colour`"), "{message}");
}
