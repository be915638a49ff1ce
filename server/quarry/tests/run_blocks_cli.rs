//! `quarry run -f` on files of several query blocks, and unknown-column errors on the demo
//! dataset.

use std::path::PathBuf;
use std::process::{Command, Output};

const TWO_BLOCKS: &str = "\
SecurityEvent
| summarize n = count()
| project kind = 'first'

SigninLogs
| take 1
| project bogus
";

/// A query file, removed when dropped.
struct QueryFile(PathBuf);

impl QueryFile {
    fn new(name: &str, text: &str) -> QueryFile {
        let path =
            std::env::temp_dir().join(format!("quarry-blocks-{}-{name}.kql", std::process::id()));
        std::fs::write(&path, text).unwrap();
        QueryFile(path)
    }

    fn path(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for QueryFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
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

#[test]
fn several_blocks_name_the_options() {
    let file = QueryFile::new("refuse", TWO_BLOCKS);
    let output = quarry(&["run", "-f", file.path()]);
    assert!(!output.status.success());
    let message = stderr(&output);
    assert!(message.contains("2 query blocks"), "{message}");
    assert!(message.contains("starting on lines 1, 5"), "{message}");
    assert!(message.contains("--block N"), "{message}");
    assert!(message.contains("--line LINE"), "{message}");
}

#[test]
fn block_option_runs_one_block() {
    let file = QueryFile::new("block", TWO_BLOCKS);
    let output = quarry(&["run", "-f", file.path(), "--block", "1", "--format", "csv"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(stdout(&output), "kind\nfirst\n");
}

#[test]
fn line_option_keeps_file_positions() {
    let file = QueryFile::new("line", TWO_BLOCKS);
    let output = quarry(&["run", "-f", file.path(), "--line", "6"]);
    assert!(!output.status.success());
    let message = stderr(&output);
    assert!(
        message.contains("unknown column or name `bogus`"),
        "{message}"
    );
    // The caret points at line 7 of the file, not line 3 of the block.
    assert!(
        message.contains(&format!("{}:7:11", file.path())),
        "{message}"
    );
}

#[test]
fn block_options_reject_bad_numbers() {
    let file = QueryFile::new("bad", TWO_BLOCKS);
    let output = quarry(&["run", "-f", file.path(), "--block", "3"]);
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("--block 3 is out of range"),
        "{}",
        stderr(&output)
    );

    let output = quarry(&["run", "-f", file.path(), "--line", "4"]);
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("--line 4 is not inside a query block"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn demo_unknown_column_lists_demo_columns() {
    let output = quarry(&["run", "SigninLogs | take 1 | project MfaDetail"]);
    assert!(!output.status.success());
    let message = stderr(&output);
    assert!(
        message.contains("unknown column or name `MfaDetail`"),
        "{message}"
    );
    assert!(
        message.contains("the demo dataset carries only these columns of `SigninLogs`"),
        "{message}"
    );
    assert!(
        message.contains("UserPrincipalName, UserDisplayName"),
        "{message}"
    );
}

#[test]
fn demo_typo_gets_no_demo_note() {
    let output = quarry(&["run", "SigninLogs | take 1 | project NoSuchColumn"]);
    assert!(!output.status.success());
    let message = stderr(&output);
    assert!(
        message.contains("unknown column or name `NoSuchColumn`"),
        "{message}"
    );
    assert!(!message.contains("demo dataset"), "{message}");
}
