//! Tests of `quarry fmt`, run as a child process on files in a temporary directory.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

const UNFORMATTED: &str =
    "SigninLogs|where ResultType!=0|summarize Failures=count() by UserPrincipalName\n";
const FORMATTED: &str =
    "SigninLogs\n| where ResultType != 0\n| summarize Failures = count() by UserPrincipalName\n";

fn quarry() -> Command {
    Command::new(env!("CARGO_BIN_EXE_quarry"))
}

/// Writes `content` to a file in a fresh temporary directory and returns its path.
fn write_file(test_name: &str, content: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("quarry-fmt-{test_name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("hunt.kql");
    std::fs::write(&path, content).unwrap();
    path
}

fn stderr_of(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

#[test]
fn fmt_rewrites_file_in_place() {
    let path = write_file("rewrite", UNFORMATTED);

    let output = quarry().arg("fmt").arg(&path).output().unwrap();

    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), FORMATTED);
}

#[test]
fn fmt_check_reports_unformatted_file() {
    let path = write_file("check-unformatted", UNFORMATTED);

    let output = quarry()
        .args(["fmt", "--check"])
        .arg(&path)
        .output()
        .unwrap();

    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr_of(&output).contains("hunt.kql: not formatted"),
        "{}",
        stderr_of(&output)
    );
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        UNFORMATTED,
        "--check wrote the file"
    );
}

#[test]
fn fmt_check_accepts_formatted_file() {
    let path = write_file("check-formatted", FORMATTED);

    let output = quarry()
        .args(["fmt", "--check"])
        .arg(&path)
        .output()
        .unwrap();

    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    assert_eq!(stderr_of(&output), "");
}

#[test]
fn fmt_keeps_block_with_errors() {
    let broken = "SecurityEvent |  where\n| take 10\n";
    let path = write_file("errors", &format!("{UNFORMATTED}\n\n\n{broken}"));

    let output = quarry().arg("fmt").arg(&path).output().unwrap();

    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        format!("{FORMATTED}\n{broken}")
    );
    assert!(
        stderr_of(&output).contains("hunt.kql:5: query block left unformatted"),
        "{}",
        stderr_of(&output)
    );
}

#[test]
fn fmt_stdin_writes_stdout() {
    let mut child = quarry()
        .args(["fmt", "--line-width", "30", "--indent-width", "2", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"T | project Account, Computer, EventID, Activity")
        .unwrap();
    let output = child.wait_with_output().unwrap();

    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    assert_eq!(
        String::from_utf8(output.stdout).unwrap(),
        "T\n| project Account, Computer,\n  EventID, Activity\n"
    );
}

#[test]
fn fmt_missing_file_fails() {
    let output = quarry()
        .args(["fmt", "/nonexistent/hunt.kql"])
        .output()
        .unwrap();

    assert_eq!(output.status.code(), Some(2));
    assert!(stderr_of(&output).contains("failed to read `/nonexistent/hunt.kql`"));
}
