//! Tests of `quarry iocs`, run as a child process.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

fn quarry() -> Command {
    Command::new(env!("CARGO_BIN_EXE_quarry"))
}

fn stdout_of(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

#[test]
fn iocs_text_human_output() {
    let output = quarry()
        .args([
            "iocs",
            "beacon to 185.220.101.4 via hxxp://evil[.]example[.]com/a",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let stdout = stdout_of(&output);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{stdout}");
    assert_eq!(lines[0], "1:11  ipv4          185.220.101.4  (public)");
    assert_eq!(
        lines[1],
        "1:29  url           http://evil.example.com/a  (defanged: hxxp://evil[.]example[.]com/a)"
    );
    assert_eq!(
        lines[2],
        "1:36  dns           evil.example.com  (defanged: evil[.]example[.]com)"
    );
}

#[test]
fn iocs_file_json_output() {
    let dir = std::env::temp_dir().join(format!("quarry-iocs-json-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("report.txt");
    std::fs::write(
        &path,
        "Host contacted 10.1.2.3\nDropped C:\\Users\\Public\\x.exe (md5 d41d8cd98f00b204e9800998ecf8427e)\n",
    )
    .unwrap();

    let output = quarry()
        .args(["iocs", "--format", "json", "-f"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let items: Value = serde_json::from_str(&stdout_of(&output)).unwrap();
    let items = items.as_array().unwrap();
    assert_eq!(items.len(), 3, "{items:?}");

    assert_eq!(items[0]["type"], "ipv4");
    assert_eq!(items[0]["value"], "10.1.2.3");
    assert_eq!(items[0]["ip_type"], "private");
    assert_eq!(items[0]["line"], 1);
    assert_eq!(items[0]["column"], 16);
    assert_eq!(items[0]["start"], 15);
    assert_eq!(items[0]["end"], 23);

    assert_eq!(items[1]["type"], "windows_path");
    assert_eq!(items[1]["value"], "C:\\Users\\Public\\x.exe");
    assert_eq!(items[1]["line"], 2);

    assert_eq!(items[2]["type"], "md5_hash");
    assert_eq!(items[2]["defanged"], false);
    assert!(items[2].get("ip_type").is_none());
}

#[test]
fn iocs_stdin_with_type_filter() {
    let mut child = quarry()
        .args(["iocs", "-f", "-", "--type", "dns", "--format", "json"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"a.example.org 8.8.8.8 b.example.net")
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let items: Value = serde_json::from_str(&stdout_of(&output)).unwrap();
    let values: Vec<&str> = items
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["value"].as_str().unwrap())
        .collect();
    assert_eq!(values, ["a.example.org", "b.example.net"]);
}

#[test]
fn iocs_none_found_exits_one() {
    let output = quarry()
        .args(["iocs", "nothing to see here"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(stdout_of(&output).is_empty());
}

#[test]
fn iocs_without_input_fails() {
    let output = quarry().args(["iocs"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("no input"), "{stderr}");
}

#[test]
fn iocs_unknown_type_rejected() {
    let output = quarry()
        .args(["iocs", "--type", "bogus", "8.8.8.8"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains("unknown indicator type `bogus`"),
        "{stderr}"
    );
}

#[test]
fn iocs_finds_punycode_domain() {
    let output = quarry()
        .args(["iocs", "--format", "json", "beacon to xn--80ak6aa92e.com"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let parsed: Value = serde_json::from_slice(&output.stdout).unwrap();
    let values: Vec<&str> = parsed
        .as_array()
        .expect("the JSON output is an array")
        .iter()
        .filter_map(|item| item["value"].as_str())
        .collect();
    assert_eq!(values, ["xn--80ak6aa92e.com"], "{parsed}");
}
