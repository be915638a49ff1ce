//! The columns of `SecurityEvent` and `WindowsEvent` rows, filled from event records.

use std::collections::HashMap;

use polars::prelude::*;
use quarry_analysis::{BundledSchema, ColumnSchema, ScalarType, windows_security_event};
use serde_json::{Map, Value as Json};

use super::{EventRecord, SECURITY_EVENT_TABLE, WINDOWS_EVENT_TABLE, parse_int, text};

/// The columns of one table of the bundled Sentinel schema, with their positions by name.
pub(super) struct Layout {
    pub(super) table: &'static str,
    columns: &'static [ColumnSchema],
    positions: HashMap<&'static str, usize>,
}

impl Layout {
    /// Returns the layout of `table`, or `None` when the bundled schema lacks it.
    pub(super) fn new(table: &'static str) -> Option<Layout> {
        let columns = BundledSchema::Sentinel
            .get()
            .table(table)?
            .columns
            .as_slice();
        let positions = columns
            .iter()
            .enumerate()
            .map(|(position, column)| (column.name.as_str(), position))
            .collect();
        Some(Layout {
            table,
            columns,
            positions,
        })
    }

    fn position(&self, column: &str) -> Option<usize> {
        self.positions.get(column).copied()
    }
}

/// One table row: text values by column position, and the `EventData` bag.
#[derive(Debug, Default)]
pub(super) struct Row {
    cells: Vec<(usize, String)>,
    bag: Map<String, Json>,
    time_generated: i64,
}

impl Row {
    fn get(&self, position: usize) -> Option<&str> {
        self.cells
            .iter()
            .find(|(cell, _)| *cell == position)
            .map(|(_, value)| value.as_str())
    }

    /// Sets a column, replacing an earlier value. Names that the table lacks are skipped.
    fn set(&mut self, layout: &Layout, column: &str, value: String) {
        let Some(position) = layout.position(column) else {
            return;
        };
        match self.cells.iter_mut().find(|(cell, _)| *cell == position) {
            Some(cell) => cell.1 = value,
            None => self.cells.push((position, value)),
        }
    }

    fn text(&self, layout: &Layout, column: &str) -> Option<&str> {
        self.get(layout.position(column)?)
    }
}

/// Builds the row of `record` in the table of `layout`.
pub(super) fn row(record: EventRecord, layout: &Layout) -> Row {
    let mut row = system_row(&record, layout);
    if layout.table == SECURITY_EVENT_TABLE {
        security_columns(record, layout, &mut row);
    } else {
        row.set(layout, "Provider", record.provider);
        let level = record.level.map(|v| v.to_string()).unwrap_or_default();
        row.set(layout, "EventLevel", level);
        row.bag = record.data;
    }
    row
}

/// Fills the columns that both tables take from the `System` section.
fn system_row(record: &EventRecord, layout: &Layout) -> Row {
    let number = |value: Option<i32>| value.map(|v| v.to_string()).unwrap_or_default();
    let mut row = Row {
        time_generated: record.time_created,
        ..Row::default()
    };
    let values = [
        ("Type", layout.table.to_owned()),
        ("Channel", record.channel.clone()),
        ("Computer", record.computer.clone()),
        ("EventID", number(record.event_id)),
        ("Version", number(record.version)),
        ("Task", number(record.task)),
        ("Opcode", record.opcode.clone()),
        ("Keywords", record.keywords.clone()),
        ("EventRecordId", record.record_id.to_string()),
        ("Correlation", record.correlation.clone()),
        ("SystemProcessId", number(record.process_id)),
        ("SystemThreadId", number(record.thread_id)),
        ("SystemUserId", record.user_id.clone()),
        ("EventLevelName", level_name(record.level).to_owned()),
    ];
    for (column, value) in values {
        if !value.is_empty() {
            row.set(layout, column, value);
        }
    }
    row
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

/// Fills the `SecurityEvent` columns: the level, the provider, the activity, the
/// `EventData` fields that have a column of their own, and the derived account columns.
fn security_columns(record: EventRecord, layout: &Layout, row: &mut Row) {
    let level = record.level.map(|v| v.to_string()).unwrap_or_default();
    row.set(layout, "Level", level);
    row.set(layout, "EventSourceName", record.provider);
    if let Some(id) = record.event_id
        && let Some(event) = u32::try_from(id).ok().and_then(windows_security_event)
    {
        let title = event.title.trim().trim_end_matches('.');
        row.set(layout, "Activity", format!("{id} - {title}."));
    }

    for (name, value) in record.data {
        let column = layout
            .position(&name)
            .map(|position| (position, layout.columns[position].ty));
        let fits = match column {
            // Columns that the `System` section fills are not overwritten by a field that
            // happens to share their name.
            Some((position, _)) if row.get(position).is_some() => false,
            Some((_, ScalarType::Int)) => parse_int(&text(&value)).is_some(),
            Some(_) => !value.is_object() && !value.is_array(),
            None => false,
        };
        match column {
            Some((position, _)) if fits => row.cells.push((position, text(&value))),
            _ => {
                row.bag.insert(name, value);
            }
        }
    }
    derive_account_columns(layout, row);
}

/// Fills the columns that Sentinel derives from several fields: the `DOMAIN\user` accounts,
/// the account type, the logon type's name and the process file name.
fn derive_account_columns(layout: &Layout, row: &mut Row) {
    let account = |domain: &str, user: &str| -> String {
        let user = row.text(layout, user).unwrap_or("");
        let domain = row.text(layout, domain).unwrap_or("");
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
        row.set(layout, "AccountType", kind.to_owned());
        row.set(layout, "Account", main.clone());
    }
    if !subject.is_empty() {
        row.set(layout, "SubjectAccount", subject);
    }
    if !target.is_empty() {
        row.set(layout, "TargetAccount", target);
    }

    let logon_type = row.text(layout, "LogonType").and_then(parse_int);
    if let Some(logon_type) = logon_type
        && let Some(name) = logon_type_name(logon_type)
    {
        row.set(layout, "LogonTypeName", format!("{logon_type} - {name}"));
    }

    let image = ["NewProcessName", "ProcessName"]
        .iter()
        .filter_map(|field| row.text(layout, field))
        .find(|path| !path.is_empty() && *path != "-");
    if let Some(path) = image {
        let file_name = path.rsplit(['\\', '/']).next().unwrap_or(path).to_owned();
        row.set(layout, "Process", file_name);
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

/// Builds the frame of `rows` with every column of `layout`, in its order.
pub(super) fn build_frame(layout: &Layout, rows: &[Row]) -> PolarsResult<DataFrame> {
    // One pass over the rows sorts the cells into columns, instead of a lookup in every row
    // for each of the table's columns, most of which an event log never fills.
    let height = rows.len();
    let mut filled: Vec<Option<Vec<Option<&str>>>> = vec![None; layout.columns.len()];
    for (index, row) in rows.iter().enumerate() {
        for (position, value) in &row.cells {
            filled[*position].get_or_insert_with(|| vec![None; height])[index] =
                Some(value.as_str());
        }
    }

    let mut columns = Vec::with_capacity(layout.columns.len());
    for (ColumnSchema { name, ty }, cells) in layout.columns.iter().zip(filled) {
        let name = PlSmallStr::from(name.as_str());
        let series = match (name.as_str(), ty) {
            ("TimeGenerated", _) => rows
                .iter()
                .map(|row| Some(row.time_generated))
                .collect::<Int64Chunked>()
                .into_series()
                .cast(&DataType::Datetime(TimeUnit::Nanoseconds, None))?,
            ("EventData", _) => rows
                .iter()
                .map(|row| serde_json::to_vec(&row.bag).ok())
                .collect::<BinaryChunked>()
                .into_series(),
            _ => typed_column(ty, cells, height)?,
        };
        columns.push(series.with_name(name).into_column());
    }
    DataFrame::new(height, columns)
}

/// Converts the text cells of one column (`None` when no row fills it) to the column's type.
fn typed_column(
    ty: &ScalarType,
    cells: Option<Vec<Option<&str>>>,
    height: usize,
) -> PolarsResult<Series> {
    let cells = cells.unwrap_or_else(|| vec![None; height]);
    let values = cells.into_iter();
    Ok(match ty {
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
    })
}

/// Returns the table that `name` is, when it is one that `.evtx` files feed.
pub(super) fn table_name(name: &str) -> Option<&'static str> {
    [SECURITY_EVENT_TABLE, WINDOWS_EVENT_TABLE]
        .into_iter()
        .find(|table| *table == name)
}
