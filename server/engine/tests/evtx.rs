//! Windows event log files (`.evtx`) as the tables SecurityEvent and WindowsEvent.
//!
//! `support/evtx_writer.rs` writes the logs. The first test checks that writer against the
//! `evtx` crate, so the later tests read files that the crate accepts.

mod common;
#[path = "support/evtx_writer.rs"]
mod evtx_writer;

use std::path::Path;

use common::*;
use evtx_writer::{Element, Record, System, event, write_evtx};
use quarry_engine::{EngineError, QueryOutput, RunOptions};
use serde_json::{Value, json};

/// 2024-03-10T09:00:00Z in nanoseconds since the Unix epoch.
const BASE_NANOS: i64 = 1_710_061_200 * 1_000_000_000;

fn security_system(event_id: u32, task: u32, second: u32) -> System {
    System {
        provider: "Microsoft-Windows-Security-Auditing".to_owned(),
        event_id,
        level: 0,
        task,
        channel: "Security".to_owned(),
        computer: "WS01.contoso.local".to_owned(),
        system_time: format!("2024-03-10T09:00:{second:02}.1234567Z"),
        process_id: 788,
        thread_id: 812,
    }
}

fn record(record_id: u64, event: Element) -> Record {
    Record {
        record_id,
        written_unix_nanos: BASE_NANOS + record_id as i64 * 1_000_000_000,
        event,
    }
}

fn logon_success(record_id: u64) -> Record {
    let data = [
        ("SubjectUserSid", "S-1-5-18"),
        ("SubjectUserName", "WS01$"),
        ("SubjectDomainName", "CONTOSO"),
        ("SubjectLogonId", "0x3e7"),
        ("TargetUserSid", "S-1-5-21-1-2-3-1104"),
        ("TargetUserName", "alice"),
        ("TargetDomainName", "CONTOSO"),
        ("TargetLogonId", "0x8dcdc"),
        ("LogonType", "10"),
        ("LogonProcessName", "User32"),
        ("AuthenticationPackageName", "Negotiate"),
        ("WorkstationName", "WS01"),
        ("ProcessName", "C:\\Windows\\System32\\svchost.exe"),
        ("IpAddress", "10.0.0.7"),
        ("IpPort", "0"),
        ("ImpersonationLevel", "%%1833"),
        ("ElevatedToken", "%%1842"),
    ];
    record(
        record_id,
        event(&security_system(4624, 12544, 1), record_id, &data),
    )
}

fn logon_failure(record_id: u64, user: &str) -> Record {
    let data = [
        ("SubjectUserSid", "S-1-0-0"),
        ("SubjectUserName", "-"),
        ("SubjectDomainName", "-"),
        ("SubjectLogonId", "0x0"),
        ("TargetUserSid", "S-1-0-0"),
        ("TargetUserName", user),
        ("TargetDomainName", "CONTOSO"),
        ("Status", "0xc000006d"),
        ("FailureReason", "%%2313"),
        ("SubStatus", "0xc000006a"),
        ("LogonType", "3"),
        ("IpAddress", "203.0.113.9"),
        ("IpPort", "51515"),
    ];
    record(
        record_id,
        event(&security_system(4625, 12544, 2), record_id, &data),
    )
}

fn process_creation(record_id: u64) -> Record {
    let data = [
        ("SubjectUserSid", "S-1-5-21-1-2-3-1104"),
        ("SubjectUserName", "alice"),
        ("SubjectDomainName", "CONTOSO"),
        ("SubjectLogonId", "0x8dcdc"),
        ("NewProcessId", "0x1a2c"),
        ("NewProcessName", "C:\\Windows\\System32\\cmd.exe"),
        ("TokenElevationType", "%%1936"),
        ("ProcessId", "0x10f4"),
        ("CommandLine", "cmd.exe /c whoami /all"),
        ("TargetUserSid", "S-1-0-0"),
        ("TargetUserName", "-"),
        ("TargetDomainName", "-"),
        ("TargetLogonId", "0x0"),
        ("ParentProcessName", "C:\\Windows\\explorer.exe"),
        ("MandatoryLabel", "S-1-16-8192"),
    ];
    record(
        record_id,
        event(&security_system(4688, 13312, 3), record_id, &data),
    )
}

fn sysmon_process(record_id: u64) -> Record {
    let system = System {
        provider: "Microsoft-Windows-Sysmon".to_owned(),
        event_id: 1,
        level: 4,
        task: 1,
        channel: "Microsoft-Windows-Sysmon/Operational".to_owned(),
        computer: "WS01.contoso.local".to_owned(),
        system_time: "2024-03-10T09:00:04.0000000Z".to_owned(),
        process_id: 2212,
        thread_id: 3004,
    };
    let data = [
        ("RuleName", ""),
        ("UtcTime", "2024-03-10 09:00:04.000"),
        ("ProcessGuid", "{5770385f-c22a-43e0-bf4c-06f5698ffbd9}"),
        ("ProcessId", "6700"),
        ("Image", "C:\\Windows\\System32\\whoami.exe"),
        ("CommandLine", "whoami /all"),
        ("User", "CONTOSO\\alice"),
        ("Hashes", "SHA256=3A1B"),
        ("ParentImage", "C:\\Windows\\System32\\cmd.exe"),
    ];
    record(record_id, event(&system, record_id, &data))
}

/// Builds the Security log of the tests: one successful logon, three failed ones for two
/// users and one process creation.
fn security_log() -> Vec<Record> {
    vec![
        logon_success(101),
        logon_failure(102, "admin"),
        logon_failure(103, "admin"),
        logon_failure(104, "backup"),
        process_creation(105),
    ]
}

fn run(folder: &Path, query: &str) -> Result<QueryOutput, EngineError> {
    session(folder).run(
        query,
        &RunOptions {
            max_rows: usize::MAX,
            time_range: None,
        },
    )
}

fn run_ok(folder: &Path, query: &str) -> QueryOutput {
    run(folder, query).unwrap_or_else(|error| panic!("query failed: {error}\n{query}"))
}

fn folder_with_logs() -> TempFolder {
    let folder = TempFolder::new();
    std::fs::write(
        folder.path.join("Security.evtx"),
        write_evtx(&security_log()),
    )
    .unwrap();
    std::fs::write(
        folder
            .path
            .join("Microsoft-Windows-Sysmon%4Operational.evtx"),
        write_evtx(&[sysmon_process(7)]),
    )
    .unwrap();
    folder
}

#[test]
fn writer_output_parses_with_evtx_crate() {
    let bytes = write_evtx(&security_log());
    let mut parser = evtx::EvtxParser::from_buffer(bytes)
        .unwrap()
        .with_configuration(evtx::ParserSettings::new().validate_checksums(true));
    assert!(parser.header().validate_checksum(), "file header CRC32");
    assert_eq!(parser.header().chunk_count, 1);

    let records: Vec<_> = parser
        .records_json_value()
        .map(|record| record.expect("every record parses"))
        .collect();
    assert_eq!(records.len(), 5);
    let ids: Vec<u64> = records.iter().map(|r| r.event_record_id).collect();
    assert_eq!(ids, [101, 102, 103, 104, 105]);
    assert_eq!(
        records[0].timestamp.to_string(),
        "2024-03-10T09:01:41Z",
        "record header FILETIME"
    );

    let first = &records[0].data["Event"];
    let system = &first["System"];
    assert_eq!(
        first["#attributes"]["xmlns"],
        "http://schemas.microsoft.com/win/2004/08/events/event"
    );
    assert_eq!(
        system["Provider"]["#attributes"]["Name"],
        "Microsoft-Windows-Security-Auditing"
    );
    assert_eq!(system["EventID"], "4624");
    assert_eq!(system["Version"], "2");
    assert_eq!(system["Level"], "0");
    assert_eq!(system["Task"], "12544");
    assert_eq!(system["Opcode"], "0");
    assert_eq!(system["Keywords"], "0x8020000000000000");
    assert_eq!(
        system["TimeCreated"]["#attributes"]["SystemTime"],
        "2024-03-10T09:00:01.1234567Z"
    );
    assert_eq!(system["EventRecordID"], "101");
    assert_eq!(system["Execution"]["#attributes"]["ProcessID"], "788");
    assert_eq!(system["Execution"]["#attributes"]["ThreadID"], "812");
    assert_eq!(system["Channel"], "Security");
    assert_eq!(system["Computer"], "WS01.contoso.local");

    let data = &first["EventData"];
    assert_eq!(data["TargetUserName"], "alice");
    assert_eq!(data["LogonType"], "10");
    assert_eq!(data["ProcessName"], "C:\\Windows\\System32\\svchost.exe");
    assert_eq!(data.as_object().unwrap().len(), 17, "{data}");

    let failure = &records[3].data["Event"];
    assert_eq!(failure["System"]["EventID"], "4625");
    assert_eq!(failure["EventData"]["TargetUserName"], "backup");
}

#[test]
fn writer_spreads_records_over_chunks() {
    let records: Vec<Record> = (1..=400).map(|id| logon_failure(id, "spray")).collect();
    let bytes = write_evtx(&records);
    let mut parser = evtx::EvtxParser::from_buffer(bytes)
        .unwrap()
        .with_configuration(evtx::ParserSettings::new().validate_checksums(true));
    assert!(
        parser.header().chunk_count >= 2,
        "{}",
        parser.header().chunk_count
    );
    let parsed: Vec<u64> = parser
        .records_json_value()
        .map(|record| record.expect("every record parses").event_record_id)
        .collect();
    assert_eq!(parsed, (1..=400).collect::<Vec<u64>>());
}

#[test]
fn failed_logons_by_user() {
    let folder = folder_with_logs();
    let output = run_ok(
        &folder.path,
        "SecurityEvent | where EventID == 4625 | summarize count() by TargetUserName \
         | order by TargetUserName asc",
    );
    assert_eq!(
        output.rows,
        vec![
            vec![json!("admin"), json!(2)],
            vec![json!("backup"), json!(1)],
        ]
    );
}

#[test]
fn security_event_system_columns() {
    let folder = folder_with_logs();
    let output = run_ok(
        &folder.path,
        "SecurityEvent | where EventID == 4624 | project TimeGenerated, Computer, EventID, \
         Channel, Level, Task, EventSourceName, EventRecordId, SystemProcessId, Activity, Type",
    );
    assert_eq!(
        column_types(&output),
        [
            "datetime", "string", "int", "string", "string", "int", "string", "string", "int",
            "string", "string"
        ]
    );
    assert_eq!(
        output.rows,
        vec![vec![
            json!("2024-03-10T09:00:01.1234567Z"),
            json!("WS01.contoso.local"),
            json!(4624),
            json!("Security"),
            json!("0"),
            json!(12544),
            json!("Microsoft-Windows-Security-Auditing"),
            json!("101"),
            json!(788),
            json!("4624 - An account was successfully logged on."),
            json!("SecurityEvent"),
        ]]
    );
}

#[test]
fn security_event_account_columns() {
    let folder = folder_with_logs();
    let output = run_ok(
        &folder.path,
        "SecurityEvent | where EventID in (4624, 4688) | order by EventID asc \
         | project Account, AccountType, SubjectAccount, TargetAccount, TargetUserName, \
         LogonType, LogonTypeName, IpAddress, Process, CommandLine, ParentProcessName",
    );
    assert_eq!(column_types(&output)[5], "int");
    assert_eq!(
        output.rows[0],
        vec![
            json!("CONTOSO\\alice"),
            json!("User"),
            json!("CONTOSO\\WS01$"),
            json!("CONTOSO\\alice"),
            json!("alice"),
            json!(10),
            json!("10 - RemoteInteractive"),
            json!("10.0.0.7"),
            json!("svchost.exe"),
            json!(""),
            json!(""),
        ]
    );
    // Event 4688 has the target `-`, so the account is the subject.
    assert_eq!(
        output.rows[1],
        vec![
            json!("CONTOSO\\alice"),
            json!("User"),
            json!("CONTOSO\\alice"),
            json!(""),
            json!("-"),
            Value::Null,
            json!(""),
            json!(""),
            json!("cmd.exe"),
            json!("cmd.exe /c whoami /all"),
            json!("C:\\Windows\\explorer.exe"),
        ]
    );
}

#[test]
fn security_event_data_bag() {
    let folder = folder_with_logs();
    let output = run_ok(
        &folder.path,
        "SecurityEvent | where EventID == 4624 \
         | project EventData, Impersonation = tostring(EventData.ImpersonationLevel), t = gettype(EventData)",
    );
    assert_eq!(
        output.rows,
        vec![vec![
            json!({"ImpersonationLevel": "%%1833"}),
            json!("%%1833"),
            json!("dictionary"),
        ]]
    );
}

#[test]
fn security_event_has_sentinel_columns() {
    let folder = folder_with_logs();
    let output = run_ok(&folder.path, "SecurityEvent | getschema | count");
    let expected = quarry_analysis::BundledSchema::Sentinel
        .get()
        .table("SecurityEvent")
        .unwrap()
        .columns
        .len();
    assert_eq!(output.rows, vec![vec![json!(expected)]]);
}

#[test]
fn sysmon_records_are_windows_events() {
    let folder = folder_with_logs();
    let output = run_ok(
        &folder.path,
        "WindowsEvent | where Provider == 'Microsoft-Windows-Sysmon' and EventID == 1 \
         | project Channel, Computer, EventLevel, EventLevelName, TimeGenerated, \
         Image = tostring(EventData.Image), Parent = tostring(EventData.ParentImage), \
         Rule = tostring(EventData.RuleName), Type",
    );
    assert_eq!(
        output.rows,
        vec![vec![
            json!("Microsoft-Windows-Sysmon/Operational"),
            json!("WS01.contoso.local"),
            json!(4),
            json!("Information"),
            json!("2024-03-10T09:00:04.0000000Z"),
            json!("C:\\Windows\\System32\\whoami.exe"),
            json!("C:\\Windows\\System32\\cmd.exe"),
            json!(""),
            json!("WindowsEvent"),
        ]]
    );

    let security = run_ok(&folder.path, "SecurityEvent | summarize count() by Channel");
    assert_eq!(security.rows, vec![vec![json!("Security"), json!(5)]]);
    let windows = run_ok(&folder.path, "WindowsEvent | count");
    assert_eq!(windows.rows, vec![vec![json!(1)]]);
}

#[test]
fn user_data_fields_fill_columns() {
    // Event 1102 (the audit log was cleared) keeps its fields in `UserData`, not `EventData`.
    let mut cleared = event(&security_system(1102, 104, 5), 201, &[]);
    cleared.children.pop();
    let user_data = Element::new("UserData").child(
        Element::new("LogFileCleared")
            .attribute(
                "xmlns",
                "http://manifests.microsoft.com/win/2004/08/windows/eventlog",
            )
            .child(Element::new("SubjectUserSid").text("S-1-5-21-1-2-3-500"))
            .child(Element::new("SubjectUserName").text("admin"))
            .child(Element::new("SubjectDomainName").text("CONTOSO"))
            .child(Element::new("SubjectLogonId").text("0x1f2a3")),
    );
    cleared.children.push(evtx_writer::Node::Element(user_data));
    let folder = TempFolder::new();
    std::fs::write(
        folder.path.join("Security.evtx"),
        write_evtx(&[record(201, cleared)]),
    )
    .unwrap();

    let output = run_ok(
        &folder.path,
        "SecurityEvent | project EventID, SubjectUserName, SubjectLogonId, Account, EventData",
    );
    assert_eq!(
        output.rows,
        vec![vec![
            json!(1102),
            json!("admin"),
            json!("0x1f2a3"),
            json!("CONTOSO\\admin"),
            json!({}),
        ]]
    );
}

#[test]
fn both_tables_in_one_session() {
    let folder = folder_with_logs();
    let session = session(&folder.path);
    let options = RunOptions {
        max_rows: usize::MAX,
        time_range: None,
    };
    for _ in 0..2 {
        let security = session.run("SecurityEvent | count", &options).unwrap();
        assert_eq!(security.rows, vec![vec![json!(5)]]);
        let windows = session.run("WindowsEvent | count", &options).unwrap();
        assert_eq!(windows.rows, vec![vec![json!(1)]]);
    }
}

#[test]
fn evtx_files_from_pattern_and_subfolders() {
    let folder = TempFolder::new();
    for host in ["hostA", "hostB"] {
        let logs = folder.path.join(host);
        std::fs::create_dir_all(&logs).unwrap();
        std::fs::write(logs.join("Security.evtx"), write_evtx(&security_log())).unwrap();
    }
    let output = run_ok(&folder.path, "SecurityEvent | count");
    assert_eq!(output.rows, vec![vec![json!(10)]]);

    let pattern = folder.path.join("*/Security.evtx");
    let tables = quarry_engine::load::list_tables(&pattern).unwrap();
    let names: Vec<&str> = tables.keys().map(String::as_str).collect();
    assert_eq!(names, ["SecurityEvent", "WindowsEvent"]);
    assert_eq!(tables["SecurityEvent"].parts.len(), 2);
}

#[test]
fn corrupted_record_names_file_and_record() {
    let folder = TempFolder::new();
    let mut bytes = write_evtx(&security_log());
    // The second record starts right after the first; break its BinXML fragment header.
    let chunk = 4096;
    let first_size = u32::from_le_bytes(bytes[chunk + 516..chunk + 520].try_into().unwrap());
    let second = chunk + 512 + first_size as usize;
    assert_eq!(&bytes[second..second + 4], &[0x2a, 0x2a, 0, 0]);
    bytes[second + 24 + 4] = 0xff;
    let path = folder.path.join("Security.evtx");
    std::fs::write(&path, bytes).unwrap();

    let error = run(&folder.path, "SecurityEvent | count").unwrap_err();
    let message = error.message;
    assert!(message.contains("Security.evtx"), "{message}");
    assert!(message.contains("102"), "{message}");
    assert!(message.contains("export the log again"), "{message}");
}

#[test]
fn damaged_bytes_never_panic() {
    let folder = TempFolder::new();
    let clean = write_evtx(&security_log());
    let path = folder.path.join("Security.evtx");
    let records_end = 4096 + 512 + 5 * 1200;
    let mut errors = 0;
    // Flip single bytes across the chunk header and the records, one file per position.
    for position in (4096..records_end.min(clean.len())).step_by(23) {
        let mut bytes = clean.clone();
        bytes[position] ^= 0x5a;
        std::fs::write(&path, &bytes).unwrap();
        let tables = quarry_engine::load::list_tables(&folder.path).unwrap();
        for table in tables.values() {
            if let Err(error) = quarry_engine::load::load_table(table) {
                errors += 1;
                assert!(
                    !error.message.contains("parser failed on damaged data"),
                    "the parser panicked at byte {position}: {}",
                    error.message
                );
                assert!(error.message.contains("Security.evtx"), "{}", error.message);
            }
        }
    }
    assert!(errors > 0, "no damaged byte was reported");
}

#[test]
fn truncated_file_is_an_error() {
    let folder = TempFolder::new();
    let bytes = write_evtx(&security_log());
    std::fs::write(folder.path.join("Security.evtx"), &bytes[..4096 + 1000]).unwrap();
    let error = run(&folder.path, "SecurityEvent | count").unwrap_err();
    assert!(error.message.contains("Security.evtx"), "{}", error.message);
    assert!(error.message.contains("is truncated"), "{}", error.message);
    assert!(!error.message.contains("  "), "{}", error.message);
}

#[test]
fn file_shorter_than_header_is_truncated() {
    let folder = TempFolder::new();
    std::fs::write(folder.path.join("Security.evtx"), b"ElfFile\0").unwrap();
    let error = run(&folder.path, "SecurityEvent | count").unwrap_err();
    assert!(
        error
            .message
            .contains("starts with a 4096-byte header, but the file has only 8 bytes"),
        "{}",
        error.message
    );
}

#[test]
fn file_that_is_not_evtx() {
    let folder = TempFolder::new();
    folder.write("System.evtx", "EventID,Computer\n4624,WS01\n");
    let error = run(&folder.path, "WindowsEvent | count").unwrap_err();
    assert!(error.message.contains("System.evtx"), "{}", error.message);
    assert!(
        error.message.contains("is not a Windows event log file"),
        "{}",
        error.message
    );
}

/// `tests/fixtures/evtx` contains the logs of `folder_with_logs`, so that users without a
/// Windows machine can try `.evtx` loading. The files must equal the writer's current output,
/// and `QUARRY_UPDATE_FIXTURES=1` rewrites them.
#[test]
fn sample_log_fixtures_are_current() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/evtx");
    let expected = [
        ("Security.evtx", write_evtx(&security_log())),
        (
            "Microsoft-Windows-Sysmon%4Operational.evtx",
            write_evtx(&[sysmon_process(7)]),
        ),
    ];
    if std::env::var_os("QUARRY_UPDATE_FIXTURES").is_some() {
        std::fs::create_dir_all(&fixtures).unwrap();
        for (name, bytes) in &expected {
            std::fs::write(fixtures.join(name), bytes).unwrap();
        }
    }
    for (name, bytes) in &expected {
        let committed = std::fs::read(fixtures.join(name)).unwrap_or_else(|error| {
            panic!("cannot read tests/fixtures/evtx/{name} ({error}); run with QUARRY_UPDATE_FIXTURES=1")
        });
        assert!(
            committed == *bytes,
            "tests/fixtures/evtx/{name} differs from the writer's output; run with QUARRY_UPDATE_FIXTURES=1"
        );
    }
    let output = run_ok(
        &fixtures,
        "SecurityEvent | where EventID == 4625 | summarize count() by TargetUserName \
         | order by TargetUserName asc",
    );
    assert_eq!(
        output.rows,
        vec![
            vec![json!("admin"), json!(2)],
            vec![json!("backup"), json!(1)],
        ]
    );
}
