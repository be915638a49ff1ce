//! Quarry's local KQL engine: runs queries on polars over files or the demo dataset.
//!
//! Public API (stable contract for the `quarry` binary; bodies land with the engine slice):
//! - [`DataSource`]: where tables come from.
//! - [`run_query`]: parses and runs one query block, returning a [`QueryOutput`] or an [`EngineError`].

use std::ops::Range;
use std::path::PathBuf;

/// Where the engine finds its tables.
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
    /// The KQL type name: `string`, `long`, `real`, `bool`, `datetime`, `timespan`, `dynamic`.
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
}

/// A query that could not run, with the byte range in the query text it concerns, if any.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct EngineError {
    pub message: String,
    pub range: Option<Range<usize>>,
}

/// Options for [`run_query`].
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The maximum number of rows converted into [`QueryOutput::rows`].
    pub max_rows: usize,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions { max_rows: 10_000 }
    }
}

/// Parses and runs one KQL query block against `source`.
pub fn run_query(
    source: &DataSource,
    query: &str,
    options: &RunOptions,
) -> Result<QueryOutput, EngineError> {
    let _ = (source, query, options);
    Err(EngineError { message: "the local engine is not built yet".to_owned(), range: None })
}
