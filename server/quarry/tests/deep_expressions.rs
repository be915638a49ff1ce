//! Long and deeply nested expressions through `quarry run`, `fmt`, `check` and `lsp`.
//!
//! Generated hunts join thousands of indicator tests with `or`, and the grammar nests such a
//! chain to the left, one level per operator. These tests run 20,000-term chains through every
//! command in the debug build that the test suite uses, where stack frames are largest, and
//! check that nesting beyond the engine's limit gives an error instead of a stack overflow.

mod lsp_client;

use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::Duration;

use lsp_client::{LspClient, position};
use serde_json::{Value, json};

const TERMS: usize = 20_000;

/// `DeviceNetworkEvents | where RemoteIP == "198.51.0.0" or ... | count` with `TERMS` tests.
fn or_chain_query() -> String {
    let tests: Vec<String> = (0..TERMS)
        .map(|i| format!("RemoteIP == \"198.51.{}.{}\"", i / 250, i % 250))
        .collect();
    format!(
        "DeviceNetworkEvents | where {} | count\n",
        tests.join(" or ")
    )
}

/// `print x = 1 + 1 + ...` with `TERMS` ones.
fn plus_chain_query() -> String {
    format!("print x = {}\n", vec!["1"; TERMS].join(" + "))
}

fn write_file(test_name: &str, content: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("quarry-deep-{test_name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("deep.kql");
    std::fs::write(&path, content).unwrap();
    path
}

fn quarry(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_quarry"))
        .args(args)
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn assert_success(output: &Output, what: &str) {
    assert!(
        output.status.success(),
        "{what} failed with {:?}\nstderr:\n{}",
        output.status,
        text(&output.stderr)
    );
}

#[test]
fn run_long_or_chain() {
    let path = write_file("run-or", &or_chain_query());
    let output = quarry(&["run", "-f", path.to_str().unwrap(), "--format", "csv"]);
    assert_success(&output, "quarry run on an or chain");
    // The demo dataset has no connection to 198.51.x.x.
    assert_eq!(text(&output.stdout).trim(), "Count\n0");
}

#[test]
fn run_long_plus_chain() {
    let path = write_file("run-plus", &plus_chain_query());
    let output = quarry(&["run", "-f", path.to_str().unwrap(), "--format", "csv"]);
    assert_success(&output, "quarry run on a + chain");
    assert_eq!(text(&output.stdout).trim(), format!("x\n{TERMS}"));
}

#[test]
fn run_chain_with_real_keeps_order() {
    // A real operand keeps the left-to-right grouping: 0.1 + 0.2 + 0.3 is not 0.1 + (0.2 + 0.3).
    let output = quarry(&[
        "run",
        "print x = 0.1 + 0.2 + 0.3 + 1, y = 2 * 3 * 4, z = 10 - 1 - 2 - 3",
        "--format",
        "csv",
    ]);
    assert_success(&output, "quarry run on short chains");
    let expected_x = 0.1_f64 + 0.2 + 0.3 + 1.0;
    let stdout = text(&output.stdout);
    let row = stdout.lines().nth(1).unwrap_or_default();
    let fields: Vec<&str> = row.split(',').collect();
    assert_eq!(fields.len(), 3, "output: {stdout}");
    assert_eq!(
        fields[0].parse::<f64>().unwrap(),
        expected_x,
        "output: {stdout}"
    );
    assert_eq!(fields[1], "24");
    assert_eq!(fields[2], "4");
}

#[test]
fn run_chain_type_error() {
    let output = quarry(&["run", "print x = true or false or 5"]);
    assert!(!output.status.success(), "a long operand of `or` must fail");
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("`or` cannot take a value of type long"),
        "stderr: {stderr}"
    );
}

#[test]
fn run_rejects_nesting_past_limit() {
    let query = format!("print x = {}1{}\n", "(".repeat(1_500), ")".repeat(1_500));
    let path = write_file("run-nested", &query);
    let output = quarry(&["run", "-f", path.to_str().unwrap()]);
    assert_eq!(
        output.status.code(),
        Some(1),
        "stderr: {}",
        text(&output.stderr)
    );
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("expression nested deeper than 1000 levels"),
        "stderr: {stderr}"
    );
    assert!(stderr.contains("`in (...)`"), "stderr: {stderr}");
}

#[test]
fn run_nesting_below_limit() {
    let query = format!("print x = {}1{}\n", "abs(".repeat(400), ")".repeat(400));
    let path = write_file("run-calls", &query);
    let output = quarry(&["run", "-f", path.to_str().unwrap(), "--format", "csv"]);
    assert_success(&output, "quarry run on 400 nested calls");
    assert_eq!(text(&output.stdout).trim(), "x\n1");
}

#[test]
fn fmt_long_chains() {
    for (name, query) in [("or", or_chain_query()), ("plus", plus_chain_query())] {
        let path = write_file(&format!("fmt-{name}"), &query);
        let output = quarry(&["fmt", path.to_str().unwrap()]);
        assert_success(&output, &format!("quarry fmt on the {name} chain"));
        let formatted = std::fs::read_to_string(&path).unwrap();
        let squeezed = |s: &str| s.split_whitespace().collect::<String>();
        assert_eq!(squeezed(&formatted), squeezed(&query), "{name} chain");
    }
}

#[test]
fn fmt_mixed_operators_unchanged() {
    // The formatter lays out a chain of different operators in one loop, and the output must
    // keep the spacing that each operator gets on its own.
    let path = write_file("fmt-mixed", "print x=1+2-3*4/5 + 6 %7\n");
    let output = quarry(&["fmt", path.to_str().unwrap()]);
    assert_success(&output, "quarry fmt on mixed operators");
    let formatted = std::fs::read_to_string(&path).unwrap();
    assert_eq!(formatted, "print x = 1 + 2 - 3 * 4 / 5 + 6 % 7\n");
}

#[test]
fn check_long_chains() {
    for (name, query) in [("or", or_chain_query()), ("plus", plus_chain_query())] {
        let path = write_file(&format!("check-{name}"), &query);
        let output = quarry(&["check", path.to_str().unwrap()]);
        assert_success(&output, &format!("quarry check on the {name} chain"));
    }
}

#[test]
fn lsp_survives_long_chains() {
    for (name, query) in [("or", or_chain_query()), ("plus", plus_chain_query())] {
        let uri = format!("file:///hunt/deep-{name}.kql");
        let mut client = LspClient::start(Value::Null);
        client.did_open(&uri, &query);
        let id = client.send_request(
            "textDocument/hover",
            json!({ "textDocument": { "uri": uri }, "position": position(0, 2) }),
        );
        let hover = client
            .response(id, Duration::from_secs(120))
            .unwrap_or_else(|error| panic!("hover on the {name} chain failed: {error}"));
        assert!(
            hover["contents"]["value"].is_string(),
            "hover on the {name} chain: {hover}\nstderr:\n{}",
            client.stderr()
        );
        assert!(
            client.is_running(),
            "the server stopped on the {name} chain"
        );
        assert!(client.shutdown().success(), "{name} chain");
    }
}

/// Terms for the `has_any` and `search` lists. Each term costs a string test in polars, so the
/// lists are shorter than `TERMS` to keep the debug test fast. They are still far past the few
/// hundred levels that overflowed the stack before these lists became chains.
const LIST_TERMS: usize = 3_000;

#[test]
fn run_long_has_any_list() {
    let hosts: Vec<String> = (0..LIST_TERMS)
        .map(|i| format!("\"h{i}.example\""))
        .collect();
    let last = LIST_TERMS - 1;
    let query = format!(
        "print s = \"x h{last}.example y\" | where s has_any ({}) | count\n",
        hosts.join(", ")
    );
    let path = write_file("run-has-any", &query);
    let output = quarry(&["run", "-f", path.to_str().unwrap(), "--format", "csv"]);
    assert_success(&output, "quarry run on a long has_any list");
    assert_eq!(text(&output.stdout).trim(), "Count\n1");
}

#[test]
fn run_long_search_chain() {
    let terms: Vec<String> = (0..LIST_TERMS).map(|i| format!("\"t{i}\"")).collect();
    let last = LIST_TERMS - 1;
    let query = format!(
        "print s = \"t{last}\" | search {} | count\n",
        terms.join(" or ")
    );
    let path = write_file("run-search", &query);
    let output = quarry(&["run", "-f", path.to_str().unwrap(), "--format", "csv"]);
    assert_success(&output, "quarry run on a long search chain");
    assert_eq!(text(&output.stdout).trim(), "Count\n1");
}

#[test]
fn fmt_keeps_too_deep_block() {
    let query = format!("print x={}1{}\n", "(".repeat(100_000), ")".repeat(100_000));
    let path = write_file("fmt-deep", &query);
    let output = quarry(&["fmt", path.to_str().unwrap()]);
    assert_success(&output, "quarry fmt on 100,000 nested parentheses");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), query);
}

#[test]
fn fmt_formats_nested_parentheses() {
    let query = format!("print x={}1{}\n", "(".repeat(5_000), ")".repeat(5_000));
    let path = write_file("fmt-nested", &query);
    let output = quarry(&["fmt", path.to_str().unwrap()]);
    assert_success(&output, "quarry fmt on 5,000 nested parentheses");
    let formatted = std::fs::read_to_string(&path).unwrap();
    assert!(
        formatted.starts_with("print x = (("),
        "{}",
        &formatted[..20]
    );
}
