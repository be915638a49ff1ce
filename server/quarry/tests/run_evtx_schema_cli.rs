//! `quarry run` on Windows event log files and with `--schema FILE`, tested by spawning the
//! binary on files that the tests write.

#[path = "../../engine/tests/support/evtx_writer.rs"]
mod evtx_writer;

use std::path::PathBuf;
use std::process::{Command, Output};

use evtx_writer::{Record, System, event, write_evtx};
use serde_json::{Value, json};

/// A temporary folder, removed when dropped.
struct Folder(PathBuf);

impl Folder {
    fn new(name: &str) -> Folder {
        let path = std::env::temp_dir().join(format!(
            "quarry-evtx-schema-test-{}-{name}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        Folder(path)
    }

    fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, contents).unwrap();
        path
    }

    fn arg(&self) -> String {
        self.0.display().to_string()
    }
}

impl Drop for Folder {
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

fn json_rows(output: &Output) -> Value {
    assert!(output.status.success(), "stderr: {}", stderr(output));
    let value: Value = serde_json::from_str(&stdout(output)).unwrap();
    value["rows"].clone()
}

fn failed_logon(record_id: u64, user: &str) -> Record {
    let system = System {
        provider: "Microsoft-Windows-Security-Auditing".to_owned(),
        event_id: 4625,
        level: 0,
        task: 12544,
        channel: "Security".to_owned(),
        computer: "DC01.contoso.local".to_owned(),
        system_time: format!("2024-03-10T09:00:{record_id:02}.0000000Z"),
        process_id: 640,
        thread_id: 700,
    };
    let data = [
        ("TargetUserName", user),
        ("TargetDomainName", "CONTOSO"),
        ("LogonType", "3"),
        ("IpAddress", "203.0.113.9"),
    ];
    Record {
        record_id,
        written_unix_nanos: 1_710_061_200 * 1_000_000_000,
        event: event(&system, record_id, &data),
    }
}

fn security_log() -> Vec<u8> {
    write_evtx(&[
        failed_logon(1, "admin"),
        failed_logon(2, "admin"),
        failed_logon(3, "svc_backup"),
    ])
}

const LOGONS: &str = "User,Code\nalice,007\nbob,123\n";

#[test]
fn run_on_evtx_folder() {
    let folder = Folder::new("evtx");
    folder.write("Security.evtx", security_log());
    let output = quarry(&[
        "run",
        "SecurityEvent | where EventID == 4625 | summarize count() by TargetUserName \
         | order by TargetUserName asc",
        "--data",
        &folder.arg(),
        "--format",
        "json",
    ]);
    assert_eq!(json_rows(&output), json!([["admin", 2], ["svc_backup", 1]]));
}

#[test]
fn run_on_damaged_evtx_file() {
    let folder = Folder::new("evtx-damaged");
    let mut bytes = security_log();
    // The first record's BinXML starts 24 bytes into the record area after the chunk header.
    bytes[4096 + 512 + 24 + 4] = 0xff;
    folder.write("Security.evtx", bytes);
    let output = quarry(&["run", "SecurityEvent | count", "--data", &folder.arg()]);
    assert_eq!(output.status.code(), Some(1), "stdout: {}", stdout(&output));
    let message = stderr(&output);
    assert!(message.contains("Security.evtx"), "{message}");
    assert!(message.contains("record number 1"), "{message}");
    assert!(message.contains("export the log again"), "{message}");
}

#[test]
fn schema_forces_string_column() {
    let folder = Folder::new("schema-string");
    folder.write("Logons.csv", LOGONS);
    let inferred = quarry(&[
        "run",
        "Logons | project Code",
        "--data",
        &folder.arg(),
        "--format",
        "json",
    ]);
    assert_eq!(json_rows(&inferred), json!([[7], [123]]));

    let types = Folder::new("schema-string-file");
    let schema = types.write("types.json", r#"{"Logons": {"Code": "string"}}"#);
    let forced = quarry(&[
        "run",
        "Logons | project Code, t = gettype(Code)",
        "--data",
        &folder.arg(),
        "--schema",
        &schema.display().to_string(),
        "--format",
        "json",
    ]);
    assert_eq!(
        json_rows(&forced),
        json!([["007", "string"], ["123", "string"]])
    );
}

#[test]
fn schema_replaces_folder_schema_file() {
    let folder = Folder::new("schema-replaces");
    folder.write("Logons.csv", LOGONS);
    folder.write("quarry-schema.json", r#"{"Logons": {"Code": "string"}}"#);
    let types = Folder::new("schema-replaces-file");
    let schema = types.write("types.json", r#"{"Logons": {"Code": "real"}}"#);
    let output = quarry(&[
        "run",
        "Logons | project t = gettype(Code) | take 1",
        "--data",
        &folder.arg(),
        "--schema",
        &schema.display().to_string(),
        "--format",
        "json",
    ]);
    assert_eq!(json_rows(&output), json!([["real"]]));
}

#[test]
fn schema_with_unknown_type() {
    let folder = Folder::new("schema-bad-type");
    folder.write("Logons.csv", LOGONS);
    let schema = folder.write("types.json", r#"{"Logons": {"Code": "text"}}"#);
    let output = quarry(&[
        "run",
        "Logons",
        "--data",
        &folder.arg(),
        "--schema",
        &schema.display().to_string(),
    ]);
    assert_eq!(output.status.code(), Some(1), "stdout: {}", stdout(&output));
    let message = stderr(&output);
    assert!(message.contains(&schema.display().to_string()), "{message}");
    assert!(message.contains("`Logons.Code`"), "{message}");
    assert!(
        message.contains("use string, int, long, real, bool or datetime"),
        "{message}"
    );
}

#[test]
fn schema_type_that_values_do_not_fit() {
    let folder = Folder::new("schema-bad-value");
    folder.write("Logons.csv", LOGONS);
    let schema = folder.write("types.json", r#"{"Logons": {"User": "long"}}"#);
    let output = quarry(&[
        "run",
        "Logons",
        "--data",
        &folder.arg(),
        "--schema",
        &schema.display().to_string(),
    ]);
    assert_eq!(output.status.code(), Some(1), "stdout: {}", stdout(&output));
    let message = stderr(&output);
    assert!(message.contains("column `User`"), "{message}");
    assert!(
        message.contains("line 2 has the value `alice`"),
        "{message}"
    );
    assert!(message.contains(&schema.display().to_string()), "{message}");
    assert!(message.contains("change the type"), "{message}");
}

#[test]
fn schema_with_unknown_table() {
    let folder = Folder::new("schema-bad-table");
    folder.write("Logons.csv", LOGONS);
    let schema = folder.write("types.json", r#"{"Logon": {"Code": "string"}}"#);
    let output = quarry(&[
        "run",
        "Logons",
        "--data",
        &folder.arg(),
        "--schema",
        &schema.display().to_string(),
    ]);
    assert_eq!(output.status.code(), Some(1), "stdout: {}", stdout(&output));
    let message = stderr(&output);
    assert!(message.contains("the table `Logon`"), "{message}");
    assert!(message.contains("its tables are Logons"), "{message}");
    assert!(message.contains(&schema.display().to_string()), "{message}");
}

#[test]
fn schema_file_missing() {
    let folder = Folder::new("schema-missing");
    folder.write("Logons.csv", LOGONS);
    let missing = folder.0.join("nope.json");
    let output = quarry(&[
        "run",
        "Logons",
        "--data",
        &folder.arg(),
        "--schema",
        &missing.display().to_string(),
    ]);
    assert_eq!(output.status.code(), Some(1), "stdout: {}", stdout(&output));
    let message = stderr(&output);
    assert!(message.contains("cannot read the schema file"), "{message}");
    assert!(message.contains("nope.json"), "{message}");
}

#[test]
fn schema_on_demo_dataset_is_an_error() {
    let folder = Folder::new("schema-demo");
    let schema = folder.write("types.json", r#"{"SigninLogs": {"ResultType": "string"}}"#);
    let output = quarry(&[
        "run",
        "SigninLogs | take 1",
        "--schema",
        &schema.display().to_string(),
    ]);
    assert!(!output.status.success());
    let message = stderr(&output);
    assert!(message.contains("--data DIR"), "{message}");
}

#[test]
fn help_describes_schema_option() {
    let output = quarry(&["run", "--help"]);
    let help = stdout(&output);
    assert!(help.contains("--schema <FILE>"), "{help}");
    assert!(help.contains("quarry-schema.json"), "{help}");
}

#[test]
fn schema_applies_to_evtx_tables() {
    let folder = Folder::new("schema-evtx");
    folder.write("Security.evtx", security_log());
    let types = Folder::new("schema-evtx-file");
    let schema = types.write("types.json", r#"{"SecurityEvent": {"EventID": "long"}}"#);
    let output = quarry(&[
        "run",
        "SecurityEvent | summarize n = count() by EventID | extend t = gettype(EventID)",
        "--data",
        &folder.arg(),
        "--schema",
        &schema.display().to_string(),
        "--format",
        "json",
    ]);
    assert_eq!(json_rows(&output), json!([[4625, 3, "long"]]));
}
