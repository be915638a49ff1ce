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

use std::collections::HashMap;
use std::fs;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

use polars::prelude::*;
use quarry_analysis::{BundledSchema, ColumnSchema, ScalarType, windows_security_event};
use serde_json::{Map, Value as Json};

use super::{FileFormat, TableFile};
use crate::EngineError;

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
    let security = match file.name.as_str() {
        SECURITY_EVENT_TABLE => true,
        WINDOWS_EVENT_TABLE => false,
        other => {
            return Err(EngineError::new(format!(
                "`.evtx` files feed the tables {SECURITY_EVENT_TABLE} and \
                 {WINDOWS_EVENT_TABLE}, not `{other}`"
            )));
        }
    };
    let column_types: HashMap<&str, ScalarType> = schema_columns(&file.name)
        .iter()
        .map(|column| (column.name.as_str(), column.ty))
        .collect();
    let mut rows = Vec::new();
    for part in &file.parts {
        for record in read_records(part)? {
            if record.is_security() == security {
                rows.push(if security {
                    security_row(record, &column_types)
                } else {
                    windows_row(record)
                });
            }
        }
    }
    build_frame(&file.name, &rows).map_err(|error| {
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

/// Reads every record of one `.evtx` file.
fn read_records(path: &Path) -> Result<Vec<EventRecord>, EngineError> {
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
    catch_unwind(AssertUnwindSafe(|| parse_records(path, bytes))).unwrap_or_else(|_| {
        Err(EngineError::new(format!(
            "cannot read `{}`: the EVTX parser failed on damaged data; export the log again or \
             remove the file from the data folder",
            path.display()
        )))
    })
}

fn parse_records(path: &Path, bytes: Vec<u8>) -> Result<Vec<EventRecord>, EngineError> {
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
    let mut parser = evtx::EvtxParser::from_buffer(bytes).map_err(|error| damaged(&error))?;
    check_size(path, size, usize::from(parser.header().chunk_count))?;
    let settings = evtx::ParserSettings::new().num_threads(1).indent(false);
    parser = parser.with_configuration(settings);
    let mut records = Vec::new();
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
        records.push(event);
    }
    Ok(records)
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
        "`{}` is truncated: its header counts {header_chunks} chunks of 64 KiB after the          4096-byte header, but the file has {size} bytes, which is {whole_chunks} whole chunks          and {} bytes more; copy or export the log again",
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

/// One table row: text values by column name, and the `EventData` bag.
#[derive(Debug, Default)]
struct Row {
    values: HashMap<&'static str, String>,
    /// `EventData` fields that fill columns in `SecurityEvent`.
    fields: HashMap<String, String>,
    bag: Map<String, Json>,
    time_generated: i64,
}

impl Row {
    fn value(&self, column: &str) -> Option<&str> {
        self.values
            .get(column)
            .or_else(|| self.fields.get(column))
            .map(String::as_str)
    }
}

/// Sets the columns that both tables take from the `System` section.
fn system_row(record: &EventRecord, table: &'static str) -> Row {
    let mut values = HashMap::new();
    let mut set = |column: &'static str, value: String| {
        values.insert(column, value);
    };
    let number = |value: Option<i32>| value.map(|v| v.to_string()).unwrap_or_default();
    set("Type", table.to_owned());
    set("Channel", record.channel.clone());
    set("Computer", record.computer.clone());
    set("EventID", number(record.event_id));
    set("Version", number(record.version));
    set("Task", number(record.task));
    set("Opcode", record.opcode.clone());
    set("Keywords", record.keywords.clone());
    set("EventRecordId", record.record_id.to_string());
    set("Correlation", record.correlation.clone());
    set("SystemProcessId", number(record.process_id));
    set("SystemThreadId", number(record.thread_id));
    set("SystemUserId", record.user_id.clone());
    set("EventLevelName", level_name(record.level).to_owned());
    Row {
        values,
        time_generated: record.time_created,
        ..Row::default()
    }
}

/// Names an event level as Event Viewer does; it shows level 0 (`LogAlways`), which the
/// Security channel uses, as Information.
fn level_name(level: Option<i32>) -> &'static str {
    match level {
        Some(1) => "Critical",
        Some(2) => "Error",
        Some(3) => "Warning",
        Some(0 | 4) => "Information",
        Some(5) => "Verbose",
        _ => "",
    }
}

fn windows_row(record: EventRecord) -> Row {
    let mut row = system_row(&record, WINDOWS_EVENT_TABLE);
    row.values.insert("Provider", record.provider);
    let level = record.level.map(|v| v.to_string()).unwrap_or_default();
    row.values.insert("EventLevel", level);
    row.bag = record.data;
    row
}

/// Builds a `SecurityEvent` row; `column_types` are the table's columns and their types.
fn security_row(record: EventRecord, column_types: &HashMap<&str, ScalarType>) -> Row {
    let mut row = system_row(&record, SECURITY_EVENT_TABLE);
    let level = record.level.map(|v| v.to_string()).unwrap_or_default();
    row.values.insert("Level", level);
    row.values
        .insert("EventSourceName", record.provider.clone());
    if let Some(id) = record.event_id
        && let Some(event) = u32::try_from(id).ok().and_then(windows_security_event)
    {
        let title = event.title.trim().trim_end_matches('.');
        row.values.insert("Activity", format!("{id} - {title}."));
    }

    for (name, value) in record.data {
        let fits = match column_types.get(name.as_str()) {
            // Columns that the `System` section fills are not overwritten by a field that
            // happens to share their name.
            Some(_) if row.values.contains_key(name.as_str()) => false,
            Some(ScalarType::Int) => parse_int(&text(&value)).is_some(),
            Some(_) => !value.is_object() && !value.is_array(),
            None => false,
        };
        if fits {
            row.fields.insert(name, text(&value));
        } else {
            row.bag.insert(name, value);
        }
    }
    derive_account_columns(&mut row);
    row
}

/// Fills the columns that Sentinel derives from several fields: the `DOMAIN\user` accounts,
/// the account type, the logon type's name and the process file name.
fn derive_account_columns(row: &mut Row) {
    let account = |domain: &str, user: &str| -> String {
        let user = row.fields.get(user).map(String::as_str).unwrap_or("");
        let domain = row.fields.get(domain).map(String::as_str).unwrap_or("");
        match (domain, user) {
            (_, "" | "-") => String::new(),
            ("" | "-", user) => user.to_owned(),
            (domain, user) => format!("{domain}\\{user}"),
        }
    };
    let subject = account("SubjectDomainName", "SubjectUserName");
    let target = account("TargetDomainName", "TargetUserName");
    let main = if target.is_empty() { &subject } else { &target };
    if !main.is_empty() {
        let kind = if main.ends_with('$') {
            "Machine"
        } else {
            "User"
        };
        row.values.insert("AccountType", kind.to_owned());
        row.values.insert("Account", main.clone());
    }
    if !subject.is_empty() {
        row.values.insert("SubjectAccount", subject);
    }
    if !target.is_empty() {
        row.values.insert("TargetAccount", target);
    }

    if let Some(logon_type) = row.fields.get("LogonType").and_then(|v| parse_int(v))
        && let Some(name) = logon_type_name(logon_type)
    {
        row.values
            .insert("LogonTypeName", format!("{logon_type} - {name}"));
    }

    let image = ["NewProcessName", "ProcessName"]
        .iter()
        .filter_map(|field| row.fields.get(*field))
        .find(|path| !path.is_empty() && path.as_str() != "-");
    if let Some(path) = image {
        let file_name = path.rsplit(['\\', '/']).next().unwrap_or(path);
        row.values.insert("Process", file_name.to_owned());
    }
}

/// Names a Windows logon type, as the `LogonType` field of events 4624 and 4625 gives it.
fn logon_type_name(logon_type: i32) -> Option<&'static str> {
    Some(match logon_type {
        0 => "System",
        2 => "Interactive",
        3 => "Network",
        4 => "Batch",
        5 => "Service",
        7 => "Unlock",
        8 => "NetworkCleartext",
        9 => "NewCredentials",
        10 => "RemoteInteractive",
        11 => "CachedInteractive",
        _ => return None,
    })
}

/// Returns the columns of a table of the bundled Sentinel schema, in declaration order.
fn schema_columns(table: &str) -> &'static [ColumnSchema] {
    BundledSchema::Sentinel
        .get()
        .table(table)
        .map(|schema| schema.columns.as_slice())
        .unwrap_or_default()
}

fn build_frame(table: &str, rows: &[Row]) -> PolarsResult<DataFrame> {
    let columns = schema_columns(table);
    if columns.is_empty() {
        polars_bail!(ComputeError: "the bundled Sentinel schema has no table `{table}`");
    }
    let mut frame_columns = Vec::with_capacity(columns.len());
    for ColumnSchema { name, ty } in columns {
        let name = PlSmallStr::from(name.as_str());
        let values = rows.iter().map(|row| row.value(&name));
        let series = match ty {
            _ if name == "TimeGenerated" => {
                let times: Int64Chunked = rows.iter().map(|row| Some(row.time_generated)).collect();
                times
                    .into_series()
                    .cast(&DataType::Datetime(TimeUnit::Nanoseconds, None))?
            }
            _ if name == "EventData" => {
                let bags: BinaryChunked = rows
                    .iter()
                    .map(|row| Some(Json::Object(row.bag.clone()).to_string().into_bytes()))
                    .collect();
                bags.into_series()
            }
            ScalarType::Int => values
                .map(|value| value.and_then(parse_int))
                .collect::<Int32Chunked>()
                .into_series(),
            ScalarType::Long => values
                .map(|value| value.and_then(|v| v.trim().parse::<i64>().ok()))
                .collect::<Int64Chunked>()
                .into_series(),
            ScalarType::Real => values
                .map(|value| value.and_then(|v| v.trim().parse::<f64>().ok()))
                .collect::<Float64Chunked>()
                .into_series(),
            ScalarType::Bool => values
                .map(|value| value.and_then(|v| v.trim().parse::<bool>().ok()))
                .collect::<BooleanChunked>()
                .into_series(),
            ScalarType::DateTime => values
                .map(|value| {
                    value
                        .and_then(|v| chrono::DateTime::parse_from_rfc3339(v).ok())
                        .and_then(|time| time.timestamp_nanos_opt())
                })
                .collect::<Int64Chunked>()
                .into_series()
                .cast(&DataType::Datetime(TimeUnit::Nanoseconds, None))?,
            // KQL strings are never null, so a missing value is empty text.
            _ => values
                .map(|value| Some(value.unwrap_or("")))
                .collect::<StringChunked>()
                .into_series(),
        };
        frame_columns.push(series.with_name(name).into_column());
    }
    DataFrame::new(rows.len(), frame_columns)
}
