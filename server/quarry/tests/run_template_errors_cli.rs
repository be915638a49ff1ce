//! `quarry run` errors in queries with template calls: the place shown is in the text the user
//! wrote, not in the expanded query, and a note names the template the error comes from.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A temporary folder, removed when dropped.
struct Folder(PathBuf);

impl Folder {
    fn new(name: &str) -> Folder {
        let path = std::env::temp_dir().join(format!(
            "quarry-run-template-errors-{}-{name}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        Folder(path)
    }

    fn write(&self, name: &str, contents: &str) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, contents).unwrap();
        path
    }
}

impl Drop for Folder {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `quarry` on the demo dataset with only the bundled templates, or with the templates
/// of `template_folder` too.
fn quarry(args: &[&str], template_folder: Option<&Path>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_quarry"));
    command.args(args);
    match template_folder {
        Some(folder) => command.env("QUARRY_TEMPLATE_PATH", folder),
        None => command.env_remove("QUARRY_TEMPLATE_PATH"),
    };
    command.output().expect("the quarry binary runs")
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

/// A template file whose query names a column that the demo dataset's SecurityEvent lacks.
const BROKEN_TEMPLATE: &str = "\
metadata:
  version: 1
  description: Templates with a mistake in their own query
  data_environments: [LocalData]
  data_families: [Mine]
sources:
  broken_column:
    description: Logons of one account, projected to a column that does not exist
    args:
      query: 'SecurityEvent | where TargetUserName == \"{user}\" | project NoSuchColumn'
    parameters:
      user:
        description: Account name
        type: str
";

#[test]
fn argument_error_points_at_argument() {
    let folder = Folder::new("argument");
    let file = folder.write(
        "hunt.kql",
        "let x = 1;\nDemoHunt.successful_logons_from_ip(\n    ip_address=\"203.0.113.77\",\n    add_query_items=\"| summarize count() by Nope\")\n| take 3\n",
    );
    let name = file.display().to_string();
    let output = quarry(&["run", "-f", &name], None);
    assert_eq!(output.status.code(), Some(1));

    let expected = format!(
        "error: unknown column or name `Nope`\n --> {name}:4:45\n  |\n4 |     add_query_items=\"| summarize count() by Nope\")\n  |                                             ^^^^\nnote: the error is in the value of `add_query_items`, which template `DemoHunt.successful_logons_from_ip` inserts into its query\n"
    );
    assert_eq!(stderr(&output), expected);
}

#[test]
fn error_after_call_keeps_place() {
    let output = quarry(
        &[
            "run",
            "DemoHunt.successful_logons_from_ip() | where Bogus > 1",
        ],
        None,
    );
    assert_eq!(output.status.code(), Some(1));
    let message = stderr(&output);
    assert!(message.contains(" --> query:1:46\n"), "{message}");
    assert!(
        message.contains("1 | DemoHunt.successful_logons_from_ip() | where Bogus > 1\n"),
        "{message}"
    );
    assert!(message.ends_with("^^^^^\n"), "{message}");
    assert!(!message.contains("note:"), "{message}");
}

#[test]
fn template_text_error_names_template() {
    let folder = Folder::new("template-text");
    folder.write("mine.yaml", BROKEN_TEMPLATE);
    let output = quarry(
        &[
            "run",
            "let n = 1;\nMine.broken_column(user=\"alice\")\n| take n",
        ],
        Some(&folder.0),
    );
    assert_eq!(output.status.code(), Some(1));
    let message = stderr(&output);
    assert!(
        message.starts_with("error: unknown column or name `NoSuchColumn`\n"),
        "{message}"
    );
    assert!(message.contains(" --> query:2:1\n"), "{message}");
    assert!(
        message.contains("  | ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^\n"),
        "the caret should cover the whole call: {message}"
    );
    assert!(
        message.contains(
            "note: the error is in the query text of template `Mine.broken_column`, which this \
             call expands to; `quarry templates show Mine.broken_column` prints that text\n"
        ),
        "{message}"
    );
}

#[test]
fn chosen_block_error_keeps_file_line() {
    let folder = Folder::new("block");
    let file = folder.write(
        "hunts.kql",
        "SecurityEvent | take 1\n\nDemoHunt.successful_logons_from_ip(\n    add_query_items=\"| where Nope2 == 1\")\n",
    );
    let name = file.display().to_string();
    let output = quarry(&["run", "--block", "2", "-f", &name], None);
    assert_eq!(output.status.code(), Some(1));
    let message = stderr(&output);
    assert!(
        message.contains(&format!(" --> {name}:4:30\n")),
        "{message}"
    );
    assert!(message.contains("`add_query_items`"), "{message}");
}

#[test]
fn expansion_error_counts_characters() {
    let output = quarry(&["run", "print s=\"é\" | union (DemoHunt.nope())"], None);
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(
        message.contains("query:1:31: family `DemoHunt` has no template `nope`"),
        "{message}"
    );
}
