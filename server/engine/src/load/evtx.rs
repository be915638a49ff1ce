//! Windows event log files (`.evtx`), read with the `evtx` crate into tables shaped like
//! Microsoft Sentinel's `SecurityEvent` and `WindowsEvent`.
//!
//! The `.evtx` files of a data source do not become tables of their own. Together they feed
//! two tables: records of the `Security` channel are rows of `SecurityEvent`, and records of
//! every other channel (System, Sysmon, PowerShell, ...) are rows of `WindowsEvent`. Both
//! tables have the columns of the bundled Sentinel schema, in its order, so that a query
//! written for Sentinel runs unchanged.
//!
//! In `SecurityEvent`, an `EventData` field whose name is a column of the schema
//! (`TargetUserName`, `LogonType`, `NewProcessName`, ...) fills that column, and the other
//! fields go into the dynamic `EventData` bag. In `WindowsEvent`, `EventData` contains every
//! field. A `UserData` section takes the place of `EventData` in events that have one.

use std::fs;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

use polars::prelude::*;
use serde_json::{Map, Value as Json};

use super::{FileFormat, TableFile};
use crate::EngineError;

mod columns;

/// The table of `Security` channel records.
pub const SECURITY_EVENT_TABLE: &str = "SecurityEvent";
/// The table of the records of every other channel.
pub const WINDOWS_EVENT_TABLE: &str = "WindowsEvent";

const SECURITY_CHANNEL: &str = "Security";
const EVTX_SIGNATURE: &[u8; 8] = b"ElfFile\0";

/// Replaces the `.evtx` tables in `files` (one per file or subfolder) with the two tables
/// that they feed, `SecurityEvent` and `WindowsEvent`, each listing every `.evtx` file.
pub(super) fn route_tables(files: Vec<TableFile>) -> Vec<TableFile> {
    let (logs, mut tables): (Vec<TableFile>, Vec<TableFile>) = files
        .into_iter()
        .partition(|file| file.format == FileFormat::Evtx);
    let Some(first) = logs.first() else {
        return tables;
    };
    let mut parts: Vec<_> = logs.iter().flat_map(|log| log.parts.clone()).collect();
    parts.sort();
    parts.dedup();
    let routed = TableFile {
        name: String::new(),
        path: first.path.clone(),
        format: FileFormat::Evtx,
        compression: first.compression,
        parts,
        modified: logs.iter().filter_map(|log| log.modified).max(),
        schema: None,
    };
    for name in [SECURITY_EVENT_TABLE, WINDOWS_EVENT_TABLE] {
        tables.push(TableFile {
            name: name.to_owned(),
            ..routed.clone()
        });
    }
    tables
}

/// Reads the records of `file.parts` that belong to the table `file.name` into a frame with
/// the Sentinel columns of that table.
pub(super) fn load_table(file: &TableFile) -> Result<DataFrame, EngineError> {
    let layout = columns::table_name(&file.name)
        .and_then(columns::Layout::new)
        .ok_or_else(|| {
            EngineError::new(format!(
                "`.evtx` files feed the tables {SECURITY_EVENT_TABLE} and \
                 {WINDOWS_EVENT_TABLE}, not `{}`",
                file.name
            ))
        })?;
    let security = layout.table == SECURITY_EVENT_TABLE;
    let mut rows = Vec::new();
    for part in &file.parts {
        read_records(part, &mut |record| {
            if record.is_security() == security {
                rows.push(columns::row(record, &layout));
            }
        })?;
    }
    columns::build_frame(&layout, &rows).map_err(|error| {
        EngineError::new(format!(
            "cannot build the table `{}` from `.evtx` files: {error}",
            file.name
        ))
    })
}

/// One event record: the fields of its `System` section and its event data.
#[derive(Debug, Default)]
struct EventRecord {
    provider: String,
    event_id: Option<i32>,
    version: Option<i32>,
    level: Option<i32>,
    task: Option<i32>,
    opcode: String,
    keywords: String,
    /// Nanoseconds since the Unix epoch, from `TimeCreated`, or the record header's time.
    time_created: i64,
    record_id: u64,
    correlation: String,
    process_id: Option<i32>,
    thread_id: Option<i32>,
    channel: String,
    computer: String,
    user_id: String,
    /// The fields of `EventData` (or `UserData`) in file order.
    data: Map<String, Json>,
}

impl EventRecord {
    fn is_security(&self) -> bool {
        self.channel.eq_ignore_ascii_case(SECURITY_CHANNEL)
    }
}

/// Reads every record of one `.evtx` file and hands each to `visit`, so that only one
/// parsed record is in memory at a time.
fn read_records(path: &Path, visit: &mut dyn FnMut(EventRecord)) -> Result<(), EngineError> {
    let bytes = fs::read(path).map_err(|error| {
        EngineError::new(format!(
            "cannot read `{}`: {error}; check that the file exists and is readable",
            path.display()
        ))
    })?;
    if !bytes.starts_with(EVTX_SIGNATURE) {
        return Err(EngineError::new(format!(
            "`{}` is not a Windows event log file: it does not start with the EVTX signature \
             `ElfFile`; remove it from the data folder or give it another extension",
            path.display()
        )));
    }
    // The parser reads hostile input. A panic inside it must become an error about this file
    // and not end the language server.
    catch_unwind(AssertUnwindSafe(|| parse_records(path, bytes, visit))).unwrap_or_else(|_| {
        Err(EngineError::new(format!(
            "cannot read `{}`: the EVTX parser failed on damaged data; export the log again or \
             remove the file from the data folder",
            path.display()
        )))
    })
}

fn parse_records(
    path: &Path,
    bytes: Vec<u8>,
    visit: &mut dyn FnMut(EventRecord),
) -> Result<(), EngineError> {
    let damaged = |error: &dyn std::error::Error| {
        EngineError::new(format!(
            "cannot read `{}` as a Windows event log: {}; the file is damaged, so export the \
             log again (for example `wevtutil epl Security Security.evtx`) or remove the file \
             from the data folder",
            path.display(),
            error_chain(error)
        ))
    };
    let size = bytes.len();
    if size < 4096 {
        return Err(EngineError::new(format!(
            "`{}` is truncated: a Windows event log starts with a 4096-byte header, but the \
             file has only {size} bytes; copy or export the log again",
            path.display()
        )));
    }
    let mut parser = evtx::EvtxParser::from_buffer(bytes).map_err(|error| damaged(&error))?;
    check_size(path, size, usize::from(parser.header().chunk_count))?;
    let settings = evtx::ParserSettings::new().num_threads(1).indent(false);
    parser = parser.with_configuration(settings);
    for record in parser.records_json_value() {
        let record = record.map_err(|error| damaged(&error))?;
        let header_time = i64::try_from(record.timestamp.as_nanosecond()).unwrap_or(0);
        let event =
            event_record(&record.data, record.event_record_id, header_time).ok_or_else(|| {
                EngineError::new(format!(
                    "cannot read record {} of `{}`: it has no `Event/System` element; export \
                     the log again or remove the file from the data folder",
                    record.event_record_id,
                    path.display()
                ))
            })?;
        visit(event);
    }
    Ok(())
}

/// Reports a file that ends inside a chunk or before the chunks its header counts. The parser
/// reads only whole chunks, so it would skip the records of a truncated copy without an error.
fn check_size(path: &Path, size: usize, header_chunks: usize) -> Result<(), EngineError> {
    const HEADER_SIZE: usize = 4096;
    const CHUNK_SIZE: usize = 65536;
    let body = size.saturating_sub(HEADER_SIZE);
    let whole_chunks = body / CHUNK_SIZE;
    if body.is_multiple_of(CHUNK_SIZE) && whole_chunks >= header_chunks {
        return Ok(());
    }
    Err(EngineError::new(format!(
        "`{}` is truncated: its header counts {header_chunks} chunks of 64 KiB after the \
         4096-byte header, but the file has {size} bytes, which is {whole_chunks} whole chunks \
         and {} bytes more; copy or export the log again",
        path.display(),
        body % CHUNK_SIZE
    )))
}

/// Joins an error's message with the messages of its sources, which name the chunk, record
/// and offset that failed.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut parts = vec![error.to_string()];
    let mut source = error.source();
    while let Some(cause) = source {
        parts.push(cause.to_string());
        source = cause.source();
    }
    let parts: Vec<&str> = parts
        .iter()
        .map(|part| part.trim_end_matches('.'))
        .collect();
    parts.join(": ")
}

/// Reads the `System` and event data sections of a record as the `evtx` crate renders them
/// in JSON: elements are keys, attributes are under `#attributes`, and an element with both
/// attributes and text keeps the text under `#text`.
fn event_record(json: &Json, record_id: u64, header_time: i64) -> Option<EventRecord> {
    let event = json.get("Event")?;
    let system = event.get("System")?;
    let field = |name: &str| system.get(name).map(text).unwrap_or_default();
    let number = |name: &str| system.get(name).and_then(|value| parse_int(&text(value)));
    let attribute = |element: &str, name: &str| {
        system
            .get(element)
            .and_then(|value| value.get("#attributes"))
            .and_then(|attributes| attributes.get(name))
            .map(text)
            .unwrap_or_default()
    };
    let time_created =
        chrono::DateTime::parse_from_rfc3339(&attribute("TimeCreated", "SystemTime"))
            .ok()
            .and_then(|time| time.timestamp_nanos_opt())
            .unwrap_or(header_time);
    Some(EventRecord {
        provider: attribute("Provider", "Name"),
        event_id: number("EventID"),
        version: number("Version"),
        level: number("Level"),
        task: number("Task"),
        opcode: field("Opcode"),
        keywords: field("Keywords"),
        time_created,
        record_id,
        correlation: attribute("Correlation", "ActivityID"),
        process_id: parse_int(&attribute("Execution", "ProcessID")),
        thread_id: parse_int(&attribute("Execution", "ThreadID")),
        channel: field("Channel"),
        computer: field("Computer"),
        user_id: attribute("Security", "UserID"),
        data: event_data(event),
    })
}

/// Returns the fields of `EventData`, or of the one element inside `UserData`.
fn event_data(event: &Json) -> Map<String, Json> {
    let section = match (event.get("EventData"), event.get("UserData")) {
        (Some(data), _) if !data.is_null() => data,
        (_, Some(Json::Object(user_data))) if user_data.len() == 1 => {
            user_data.values().next().unwrap_or(&Json::Null)
        }
        (_, Some(user_data)) => user_data,
        _ => return Map::new(),
    };
    match section {
        Json::Object(fields) => fields
            .iter()
            .filter(|(name, _)| name.as_str() != "#attributes")
            .map(|(name, value)| (name.clone(), value.clone()))
            .collect(),
        Json::Null => Map::new(),
        // Events written without field names have only unnamed text.
        other => Map::from_iter([("Data".to_owned(), other.clone())]),
    }
}

/// Returns the text of a JSON value as the `evtx` crate renders an element: strings as they
/// are, numbers and booleans in decimal, `#text` for elements that also have attributes, and
/// null as empty text.
fn text(value: &Json) -> String {
    match value {
        Json::String(text) => text.clone(),
        Json::Null => String::new(),
        Json::Object(fields) => fields.get("#text").map(text).unwrap_or_default(),
        other => other.to_string(),
    }
}

/// Parses a decimal or `0x` hexadecimal integer, as event logs write them.
fn parse_int(text: &str) -> Option<i32> {
    let text = text.trim();
    match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) => u32::from_str_radix(hex, 16).ok().map(|value| value as i32),
        None => text.parse().ok(),
    }
}
