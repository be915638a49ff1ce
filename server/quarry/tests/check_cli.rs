//! Tests of `quarry check`, run as a child process.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

fn quarry() -> Command {
    Command::new(env!("CARGO_BIN_EXE_quarry"))
}

/// Writes `files` into a fresh temporary directory and returns their paths.
fn write_files(test_name: &str, files: &[(&str, &str)]) -> Vec<PathBuf> {
    let dir = std::env::temp_dir().join(format!("quarry-check-{test_name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    files
        .iter()
        .map(|(name, content)| {
            let path = dir.join(name);
            std::fs::write(&path, content).unwrap();
            path
        })
        .collect()
}

fn run_with_stdin(command: &mut Command, stdin: &str) -> Output {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("quarry starts");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn stdout_of(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

#[test]
fn clean_file_exits_zero() {
    let paths = write_files(
        "clean",
        &[(
            "clean.kql",
            "SecurityEvent\n| where EventID == 4624\n| take 10\n",
        )],
    );
    let output = quarry().arg("check").args(&paths).output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(stdout_of(&output), "");
}

#[test]
fn error_shows_line_and_caret() {
    let text = "let x = 1;\nT\n| where \n| take 10\n\nU | summarize count() by\n";
    let paths = write_files("caret", &[("broken.kql", text)]);
    let output = quarry().arg("check").args(&paths).output().unwrap();
    assert_eq!(output.status.code(), Some(1));

    let name = paths[0].display().to_string();
    let expected = format!(
        "{name}:3:8: error[KQL001]: expected an expression after `where`\n\
         3 | | where \n  \
         |        ^\n\
         {name}:6:23: error[KQL001]: expected an expression after `by`\n\
         6 | U | summarize count() by\n  \
         |                       ^^\n"
    );
    assert_eq!(stdout_of(&output), expected);
    assert!(String::from_utf8_lossy(&output.stderr).contains("2 syntax errors found"));
}

#[test]
fn columns_count_characters() {
    let text = "print s = 'é😀' | wher x\n";
    let paths = write_files("columns", &[("wide.kql", text)]);
    let output = quarry().arg("check").args(&paths).output().unwrap();
    let first_line = stdout_of(&output).lines().next().unwrap().to_string();
    assert!(
        first_line
            .ends_with(":1:18: error[KQL002]: expected a tabular operator after `|`, found `wher`"),
        "{first_line}"
    );
}

#[test]
fn several_files_report_each() {
    let paths = write_files(
        "several",
        &[("good.kql", "T | take 1\n"), ("bad.kql", "T | take\n")],
    );
    let output = quarry().arg("check").args(&paths).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stdout = stdout_of(&output);
    assert!(!stdout.contains("good.kql"), "{stdout}");
    assert!(stdout.contains("bad.kql:1:"), "{stdout}");
}

#[test]
fn missing_file_is_an_error() {
    let output = quarry()
        .args(["check", "/nonexistent/query.kql"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("failed to read `/nonexistent/query.kql`"),
        "{stderr}"
    );
}

#[test]
fn jsonl_json_reports_utf16_offsets() {
    let input = concat!(
        r#"{"id": "a", "query": "T | take 1"}"#,
        "\n",
        r#"{"id": 7, "query": "print s = '😀' | wher x"}"#,
        "\n",
    );
    let output = run_with_stdin(
        quarry().args(["check", "--jsonl", "-", "--format", "json"]),
        input,
    );
    assert_eq!(output.status.code(), Some(1));

    let lines: Vec<serde_json::Value> = stdout_of(&output)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0], serde_json::json!({"id": "a", "errors": []}));
    // The emoji is 4 bytes in UTF-8 but 2 UTF-16 code units, so `wher` starts at 17.
    assert_eq!(
        lines[1],
        serde_json::json!({"id": 7, "errors": [{
            "start": 17,
            "end": 21,
            "code": "KQL002",
            "message": "expected a tabular operator after `|`, found `wher`",
        }]})
    );
}

#[test]
fn jsonl_from_file_clean_exits_zero() {
    let paths = write_files(
        "jsonl-file",
        &[(
            "queries.jsonl",
            "{\"id\":\"q1\",\"query\":\"T | count\"}\n\n{\"id\":\"q2\",\"query\":\"print 1\"}\n",
        )],
    );
    let output = quarry()
        .args(["check", "--format", "json", "--jsonl"])
        .arg(&paths[0])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(
        stdout_of(&output),
        "{\"id\":\"q1\",\"errors\":[]}\n{\"id\":\"q2\",\"errors\":[]}\n"
    );
}

#[test]
fn jsonl_invalid_line_names_it() {
    let output = run_with_stdin(
        quarry().args(["check", "--jsonl", "-", "--format", "json"]),
        "{\"id\":\"q1\",\"query\":\"T\"}\nnot json\n",
    );
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("invalid record on line 2 of `-`"),
        "{stderr}"
    );
}

#[test]
fn file_json_format_lists_errors() {
    let paths = write_files("file-json", &[("q.kql", "T | where\n")]);
    let output = quarry()
        .args(["check", "--format", "json"])
        .arg(&paths[0])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let record: serde_json::Value = serde_json::from_str(stdout_of(&output).trim()).unwrap();
    assert_eq!(record["file"], paths[0].display().to_string());
    assert_eq!(record["errors"][0]["code"], "KQL001");
    assert_eq!(record["errors"][0]["start"], 9);
}

/// A call of a bundled demo template with a misspelt parameter: valid KQL syntax, but
/// `quarry run` rejects it and the editor marks it `TPL003`.
const MISSPELT_TEMPLATE_CALL: &str =
    "DemoHunt.successful_logons_from_ip(ipaddr=\"1.2.3.4\")\n| take 3\n";

#[test]
fn template_call_error_reported() {
    let paths = write_files("template-call", &[("call.kql", MISSPELT_TEMPLATE_CALL)]);
    let output = quarry()
        .arg("check")
        .args(&paths)
        .env_remove("QUARRY_TEMPLATE_PATH")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));

    let name = paths[0].display().to_string();
    let stdout = stdout_of(&output);
    let first_line = stdout.lines().next().unwrap_or_default();
    assert_eq!(
        first_line,
        format!(
            "{name}:1:36: error[TPL003]: `DemoHunt.successful_logons_from_ip` has no parameter \
             `ipaddr`; its parameters are: start, end, add_query_items, ip_address"
        )
    );
    assert!(
        stdout.contains("|                                    ^^^^^^\n"),
        "{stdout}"
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("1 template-call error found"), "{stderr}");
}

#[test]
fn template_call_error_in_json() {
    let paths = write_files("template-json", &[("call.kql", MISSPELT_TEMPLATE_CALL)]);
    let output = quarry()
        .args(["check", "--format", "json"])
        .arg(&paths[0])
        .env_remove("QUARRY_TEMPLATE_PATH")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let record: serde_json::Value = serde_json::from_str(stdout_of(&output).trim()).unwrap();
    let errors = record["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{record}");
    assert_eq!(errors[0]["code"], "TPL003");
    assert_eq!(errors[0]["start"], 35);
    assert_eq!(errors[0]["end"], 41);
}

#[test]
fn syntax_and_template_errors_counted() {
    let text = format!("{MISSPELT_TEMPLATE_CALL}| where\n");
    let paths = write_files("template-and-syntax", &[("both.kql", &text)]);
    let output = quarry()
        .arg("check")
        .args(&paths)
        .env_remove("QUARRY_TEMPLATE_PATH")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stdout = stdout_of(&output);
    let codes: Vec<&str> = stdout
        .lines()
        .filter_map(|line| line.split("error[").nth(1))
        .filter_map(|rest| rest.split(']').next())
        .collect();
    assert_eq!(codes, ["TPL003", "KQL001"], "{stdout}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("1 syntax error and 1 template-call error found"),
        "{stderr}"
    );
}

#[test]
fn syntax_only_skips_template_calls() {
    let paths = write_files("syntax-only", &[("call.kql", MISSPELT_TEMPLATE_CALL)]);
    let output = quarry()
        .args(["check", "--syntax-only"])
        .args(&paths)
        .env("QUARRY_TEMPLATE_PATH", "/nonexistent/quarry-templates")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert_eq!(stdout_of(&output), "");
}

#[test]
fn jsonl_reports_template_calls() {
    let query = serde_json::json!({"id": "q1", "query": MISSPELT_TEMPLATE_CALL}).to_string();
    let output = run_with_stdin(
        quarry()
            .args(["check", "--jsonl", "-", "--format", "json"])
            .env_remove("QUARRY_TEMPLATE_PATH"),
        &format!("{query}\n"),
    );
    assert_eq!(output.status.code(), Some(1));
    let record: serde_json::Value = serde_json::from_str(stdout_of(&output).trim()).unwrap();
    assert_eq!(record["id"], "q1");
    assert_eq!(record["errors"][0]["code"], "TPL003");
}

#[test]
fn missing_env_template_folder_names_the_variable() {
    let paths = write_files(
        "missing-env-folder",
        &[("call.kql", MISSPELT_TEMPLATE_CALL)],
    );
    let output = quarry()
        .arg("check")
        .args(&paths)
        .env("QUARRY_TEMPLATE_PATH", "/nonexistent/quarry-templates")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    let message = String::from_utf8_lossy(&output.stderr);
    assert!(
        message
            .contains("/nonexistent/quarry-templates named in QUARRY_TEMPLATE_PATH does not exist"),
        "{message}"
    );
    assert!(!message.contains("--path"), "{message}");
}
