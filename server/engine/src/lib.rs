//! Quarry's local KQL engine: runs queries on polars over files or the demo dataset.
//!
//! Public API (a contract for the `quarry` binary and its LSP server):
//! - [`DataSource`]: where tables come from.
//! - [`run_query`]: parses and runs one query block, returning a [`QueryOutput`] or an [`EngineError`].
//! - [`Session`]: the same for many queries, caching loaded tables between runs.
//!
//! A query goes through three steps: `lower` turns the tree-sitter syntax tree into the
//! engine's own tree (`ast`), `eval` builds a polars lazy plan from it, and `output` converts
//! the collected frame into JSON-friendly rows. `load` reads data folders and `demo` generates
//! the built-in dataset.

pub mod ast;
pub mod demo;
pub mod eval;
pub mod load;
pub mod lower;
pub mod output;

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use polars::prelude::DataFrame;

use eval::TableProvider;

/// The source of the engine's tables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DataSource {
    /// The built-in, deterministic demo dataset.
    Demo,
    /// A folder of CSV, TSV, JSON-lines and Parquet files; each file stem is a table name.
    Folder(PathBuf),
}

/// A column of a query result.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ColumnInfo {
    pub name: String,
    /// The KQL type name: `string`, `long`, `int`, `real`, `bool`, `datetime`, `timespan`, `dynamic`.
    #[serde(rename = "type")]
    pub ty: String,
}

/// The result of a query, already converted to JSON-friendly values.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QueryOutput {
    pub columns: Vec<ColumnInfo>,
    /// Rows as JSON values; datetimes are ISO-8601 strings in UTC.
    pub rows: Vec<Vec<serde_json::Value>>,
    /// Total rows in the result before `max_rows` truncation.
    pub row_count: usize,
    pub truncated: bool,
    /// The chart named by a trailing `render` operator, if the query ends with one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub render: Option<RenderHint>,
}

/// A chart hint from `render KIND with (...)`: Kusto runs the query without it and returns the
/// hint next to the rows, for the client to draw.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RenderHint {
    /// The chart kind in lower case, such as `timechart` or `barchart`.
    pub kind: String,
    /// The `with (...)` properties by lower-case name: strings, numbers, booleans, and string
    /// arrays for `ycolumns`, `anomalycolumns` and `series`.
    pub properties: serde_json::Map<String, serde_json::Value>,
}

/// A query that could not run, with the byte range in the query text it concerns, if any.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct EngineError {
    pub message: String,
    pub range: Option<Range<usize>>,
}

impl EngineError {
    /// Creates an error that concerns no particular place in the query.
    pub fn new(message: impl Into<String>) -> EngineError {
        EngineError {
            message: message.into(),
            range: None,
        }
    }

    /// Creates an error about the query text in `range` (byte offsets).
    pub fn at(message: impl Into<String>, range: Range<usize>) -> EngineError {
        EngineError {
            message: message.into(),
            range: Some(range),
        }
    }
}

/// Options for [`run_query`].
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The maximum number of rows converted into [`QueryOutput::rows`].
    pub max_rows: usize,
    /// A time window applied to every table with a datetime `TimeGenerated` column before the
    /// query runs; `None` leaves the tables whole.
    pub time_range: Option<TimeWindow>,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            max_rows: 10_000,
            time_range: None,
        }
    }
}

/// A time window in nanoseconds since the Unix epoch, UTC: `start` inclusive, `end` exclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeWindow {
    pub start: i64,
    pub end: i64,
}

/// The column that [`RunOptions::time_range`] filters on, as in Microsoft Sentinel tables.
pub const TIME_COLUMN: &str = "TimeGenerated";

/// The source of `now()` and of the demo dataset's anchor day.
pub trait Clock: Send + Sync {
    /// Returns the current time in nanoseconds since the Unix epoch, UTC.
    fn now_nanos(&self) -> i64;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_nanos(&self) -> i64 {
        chrono::Utc::now().timestamp_nanos_opt().unwrap_or(i64::MAX)
    }
}

/// A clock that always returns the same instant, for tests and reproducible runs.
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub i64);

impl Clock for FixedClock {
    fn now_nanos(&self) -> i64 {
        self.0
    }
}

/// Parses and runs one KQL query block against `source`.
///
/// Each call loads its tables afresh; use a [`Session`] to keep them between runs.
pub fn run_query(
    source: &DataSource,
    query: &str,
    options: &RunOptions,
) -> Result<QueryOutput, EngineError> {
    Session::new(source.clone()).run(query, options)
}

/// A data source with a cache of loaded tables, shared by many query runs.
///
/// Folder tables are reloaded when their file's modification time changes. The demo dataset is
/// generated once per UTC day (see [`demo`]).
pub struct Session {
    source: DataSource,
    clock: Arc<dyn Clock>,
    /// Loaded folder tables by table name and path. The name is part of the key because the
    /// `.evtx` files of a folder feed two tables, which share a path.
    cache: Mutex<HashMap<(String, PathBuf), CachedTable>>,
    /// A schema file that replaces the data folder's `quarry-schema.json`.
    schema_file: Option<PathBuf>,
}

struct CachedTable {
    modified: Option<SystemTime>,
    frame: DataFrame,
}

impl Session {
    pub fn new(source: DataSource) -> Session {
        Session::with_clock(source, Arc::new(SystemClock))
    }

    pub fn with_clock(source: DataSource, clock: Arc<dyn Clock>) -> Session {
        Session {
            source,
            clock,
            cache: Mutex::new(HashMap::new()),
            schema_file: None,
        }
    }

    /// Takes column types from `path` instead of the data folder's `quarry-schema.json`
    /// (see [`load::list_tables_with_schema`]).
    pub fn with_schema_file(mut self, path: PathBuf) -> Session {
        self.schema_file = Some(path);
        self
    }

    pub fn source(&self) -> &DataSource {
        &self.source
    }

    /// Parses and runs one query block.
    pub fn run(&self, query: &str, options: &RunOptions) -> Result<QueryOutput, EngineError> {
        contain_panics(|| {
            let parsed = lower::lower_query(query)?;
            let frame = self.run_parsed(&parsed, options.time_range)?;
            let mut output = output::to_output(&frame, options.max_rows)?;
            output.render = parsed.render;
            Ok(output)
        })
    }

    /// Parses and runs one query block, returning the whole result frame.
    pub fn run_frame(&self, query: &str) -> Result<DataFrame, EngineError> {
        contain_panics(|| self.run_parsed(&lower::lower_query(query)?, None))
    }

    fn run_parsed(
        &self,
        parsed: &ast::Query,
        time_range: Option<TimeWindow>,
    ) -> Result<DataFrame, EngineError> {
        let now = self.clock.now_nanos();
        let tables = SessionTables {
            session: self,
            now,
            time_range,
        };
        let plan = eval::plan_query(parsed, &tables, now)?;
        eval::collect_plan(plan)
            .map_err(|error| EngineError::new(format!("the query failed while running: {error}")))
    }

    /// Returns the names of the tables in the data source, sorted.
    pub fn table_names(&self) -> Result<Vec<String>, EngineError> {
        SessionTables {
            session: self,
            now: self.clock.now_nanos(),
            time_range: None,
        }
        .table_names()
    }

    /// Returns the columns of `table` with their KQL types, or `None` when no table has that name.
    pub fn table_columns(&self, table: &str) -> Result<Option<Vec<ColumnInfo>>, EngineError> {
        let tables = SessionTables {
            session: self,
            now: self.clock.now_nanos(),
            time_range: None,
        };
        let Some(frame) = tables.table(table)? else {
            return Ok(None);
        };
        let columns = frame
            .schema()
            .iter()
            .map(|(name, dtype)| ColumnInfo {
                name: name.to_string(),
                ty: eval::types::KqlType::from_polars(dtype).name().to_owned(),
            })
            .collect();
        Ok(Some(columns))
    }

    fn folder_table(&self, file: &load::TableFile) -> Result<DataFrame, EngineError> {
        let mut cache = self
            .cache
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let key = (file.name.clone(), file.path.clone());
        if let Some(cached) = cache.get(&key)
            && cached.modified == file.modified
            && file.modified.is_some()
        {
            return Ok(cached.frame.clone());
        }
        let frame = load::load_table(file)?;
        cache.insert(
            key,
            CachedTable {
                modified: file.modified,
                frame: frame.clone(),
            },
        );
        Ok(frame)
    }
}

/// The tables of a session as seen by one query run.
struct SessionTables<'a> {
    session: &'a Session,
    now: i64,
    time_range: Option<TimeWindow>,
}

impl SessionTables<'_> {
    fn folder_files(&self) -> Result<Option<BTreeMap<String, load::TableFile>>, EngineError> {
        match &self.session.source {
            DataSource::Demo => Ok(None),
            DataSource::Folder(folder) => {
                load::list_tables_with_schema(folder, self.session.schema_file.as_deref()).map(Some)
            }
        }
    }
}

impl TableProvider for SessionTables<'_> {
    fn table(&self, name: &str) -> Result<Option<DataFrame>, EngineError> {
        let Some(frame) = self.whole_table(name)? else {
            return Ok(None);
        };
        match self.time_range {
            Some(window) => apply_time_window(frame, window).map(Some),
            None => Ok(Some(frame)),
        }
    }

    fn table_names(&self) -> Result<Vec<String>, EngineError> {
        match self.folder_files()? {
            None => Ok(demo::dataset_for(self.now).keys().cloned().collect()),
            Some(files) => Ok(files.keys().cloned().collect()),
        }
    }

    fn scan(&self, name: &str) -> Result<Option<polars::prelude::LazyFrame>, EngineError> {
        use polars::prelude::IntoLazy as _;
        if let Some(files) = self.folder_files()?
            && let Some(file) = files.get(name)
            && file_size(file) >= LAZY_SCAN_BYTES
            && let Some(frame) = load::scan::scan_table(file)?
        {
            return match self.time_range {
                Some(window) => apply_time_window_lazy(frame, window).map(Some),
                None => Ok(Some(frame)),
            };
        }
        Ok(self.table(name)?.map(|frame| frame.lazy()))
    }
}

/// The table size in bytes from which tables are scanned lazily on each run instead of loaded
/// whole and cached. A scan reads only the columns and row groups a query needs, while smaller
/// files load quickly and then serve repeated runs from memory.
/// Runs `work` and turns a panic inside it, in the engine or in polars, into an error, so that
/// one query on unexpected data cannot end the editor's language server or the command.
fn contain_panics<T>(work: impl FnOnce() -> Result<T, EngineError>) -> Result<T, EngineError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(work)).unwrap_or_else(|panic| {
        let reason = panic
            .downcast_ref::<&str>()
            .map(|text| (*text).to_owned())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "no message".to_owned());
        Err(EngineError::new(format!(
            "the engine failed on this query ({reason}); this is a bug in Quarry: please report \
             it with the query and the column types of the data"
        )))
    })
}

const LAZY_SCAN_BYTES: u64 = 64 * 1024 * 1024;

fn file_size(file: &load::TableFile) -> u64 {
    file.parts
        .iter()
        .filter_map(|part| std::fs::metadata(part).ok())
        .map(|metadata| metadata.len())
        .sum()
}

/// Keeps the rows of `frame` whose `TimeGenerated` lies in `window`. A table without a datetime
/// `TimeGenerated` column is returned whole.
fn apply_time_window(frame: DataFrame, window: TimeWindow) -> Result<DataFrame, EngineError> {
    use polars::prelude::{DataType, IntoLazy as _};
    let Some(DataType::Datetime(unit, _)) = frame.schema().get(TIME_COLUMN).cloned() else {
        return Ok(frame);
    };
    frame
        .lazy()
        .filter(time_window_predicate(unit, window))
        .collect()
        .map_err(|error| EngineError::new(format!("could not apply the time range: {error}")))
}

/// Applies [`apply_time_window`]'s filter to a lazy scan, so that it reaches the file reader.
fn apply_time_window_lazy(
    mut frame: polars::prelude::LazyFrame,
    window: TimeWindow,
) -> Result<polars::prelude::LazyFrame, EngineError> {
    use polars::prelude::DataType;
    let schema = frame
        .collect_schema()
        .map_err(|error| EngineError::new(format!("could not apply the time range: {error}")))?;
    let Some(DataType::Datetime(unit, _)) = schema.get(TIME_COLUMN).cloned() else {
        return Ok(frame);
    };
    Ok(frame.filter(time_window_predicate(unit, window)))
}

/// Returns the predicate that keeps rows whose `TimeGenerated`, in `unit`, lies in `window`.
fn time_window_predicate(
    unit: polars::prelude::TimeUnit,
    window: TimeWindow,
) -> polars::prelude::Expr {
    use polars::prelude::{DataType, TimeUnit, col, lit};
    let scale = |nanos: i64| match unit {
        TimeUnit::Nanoseconds => nanos,
        TimeUnit::Microseconds => nanos.div_euclid(1_000),
        TimeUnit::Milliseconds => nanos.div_euclid(1_000_000),
    };
    // A start that falls between two ticks of a coarser unit rounds up so that it stays inclusive.
    let start = match unit {
        TimeUnit::Nanoseconds => window.start,
        TimeUnit::Microseconds => (window.start + 999).div_euclid(1_000),
        TimeUnit::Milliseconds => (window.start + 999_999).div_euclid(1_000_000),
    };
    let end = scale(window.end);
    let ticks = col(TIME_COLUMN).cast(DataType::Int64);
    ticks.clone().gt_eq(lit(start)).and(ticks.lt(lit(end)))
}

impl SessionTables<'_> {
    fn whole_table(&self, name: &str) -> Result<Option<DataFrame>, EngineError> {
        match self.folder_files()? {
            None => Ok(demo::dataset_for(self.now).get(name).cloned()),
            Some(files) => match files.get(name) {
                Some(file) => self.session.folder_table(file).map(Some),
                None => Ok(None),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panics_become_errors() {
        let failed: Result<(), EngineError> = contain_panics(|| panic!("index out of bounds"));
        let message = failed.expect_err("a panic is an error").message;
        assert!(message.contains("(index out of bounds)"), "{message}");
        assert!(message.contains("please report it"), "{message}");

        let formatted: Result<(), EngineError> = contain_panics(|| panic!("row {} of {}", 3, 2));
        assert!(formatted.unwrap_err().message.contains("(row 3 of 2)"));

        assert_eq!(contain_panics(|| Ok(7)).unwrap(), 7);
    }
}
