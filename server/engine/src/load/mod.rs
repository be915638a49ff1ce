//! Loading tables from a folder of CSV, TSV, JSON-lines and Parquet files.
//!
//! Each file's stem is a table name. After polars reads a file, the loader applies the
//! conventions the evaluator relies on:
//! - datetime columns stored as text (ISO-8601 or `2019-01-15 05:24:24.010`) become
//!   `Datetime(ns)` in UTC;
//! - string nulls become empty strings, because KQL strings have no null;
//! - the unnamed first column that pandas writes for its row index is dropped.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use polars::prelude::*;

use crate::EngineError;

mod repair;

/// The file formats the loader reads, chosen by file extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    Csv,
    Tsv,
    JsonLines,
    Parquet,
}

impl FileFormat {
    /// Returns the format for a file extension, or `None` for files the loader skips.
    pub fn from_extension(extension: &str) -> Option<FileFormat> {
        match extension.to_ascii_lowercase().as_str() {
            "csv" => Some(FileFormat::Csv),
            "tsv" | "tab" => Some(FileFormat::Tsv),
            "jsonl" | "ndjson" | "json" => Some(FileFormat::JsonLines),
            "parquet" => Some(FileFormat::Parquet),
            _ => None,
        }
    }
}

/// A table file found in a data folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableFile {
    pub name: String,
    pub path: PathBuf,
    pub format: FileFormat,
    pub modified: Option<SystemTime>,
}

/// Lists the table files in `folder`, keyed by table name.
///
/// Two files with the same stem (say `a.csv` and `a.parquet`) are an error, because the
/// table name would be ambiguous.
pub fn list_tables(folder: &Path) -> Result<BTreeMap<String, TableFile>, EngineError> {
    let entries = fs::read_dir(folder).map_err(|error| {
        EngineError::new(format!(
            "cannot read the data folder `{}`: {error}; set the data folder to an existing \
             directory of CSV, TSV, JSON-lines or Parquet files, or use the demo dataset",
            folder.display()
        ))
    })?;

    let mut tables = BTreeMap::new();
    for entry in entries {
        let entry = entry.map_err(|error| {
            EngineError::new(format!(
                "cannot list the data folder `{}`: {error}",
                folder.display()
            ))
        })?;
        let path = entry.path();
        if !path.is_file() {
            continue;
        }
        let Some(format) = path
            .extension()
            .and_then(|e| e.to_str())
            .and_then(FileFormat::from_extension)
        else {
            continue;
        };
        let Some(name) = path.file_stem().and_then(|s| s.to_str()).map(str::to_owned) else {
            continue;
        };
        let modified = entry.metadata().and_then(|m| m.modified()).ok();
        let file = TableFile {
            name: name.clone(),
            path,
            format,
            modified,
        };
        if let Some(previous) = tables.insert(name.clone(), file) {
            return Err(EngineError::new(format!(
                "two files in `{}` define the table `{name}`: `{}` and `{}`; rename or remove one",
                folder.display(),
                previous.path.display(),
                tables[&name].path.display()
            )));
        }
    }
    Ok(tables)
}

/// Reads one table file into a data frame and normalises its columns.
pub fn load_table(file: &TableFile) -> Result<DataFrame, EngineError> {
    let frame = read_file(file).map_err(|error| {
        EngineError::new(format!(
            "cannot read `{}` as {}: {error}; check that the file is valid {} or remove it from \
             the data folder",
            file.path.display(),
            format_name(file.format),
            format_name(file.format),
        ))
    })?;
    normalize(frame).map_err(|error| {
        EngineError::new(format!(
            "cannot prepare the columns of `{}`: {error}",
            file.path.display()
        ))
    })
}

fn format_name(format: FileFormat) -> &'static str {
    match format {
        FileFormat::Csv => "CSV",
        FileFormat::Tsv => "TSV",
        FileFormat::JsonLines => "JSON lines",
        FileFormat::Parquet => "Parquet",
    }
}

fn read_file(file: &TableFile) -> PolarsResult<DataFrame> {
    match file.format {
        FileFormat::Csv | FileFormat::Tsv => {
            let separator = if file.format == FileFormat::Tsv {
                b'\t'
            } else {
                b','
            };
            let strict = csv_options(separator)
                .try_into_reader_with_file_path(Some(file.path.clone()))?
                .finish();
            match strict {
                Ok(frame) => Ok(frame),
                Err(error) => {
                    // A stray quote inside a quoted field makes polars reject the file, while
                    // pandas accepts it; retry once with the quoting repaired.
                    let text = fs::read_to_string(&file.path)?;
                    let repaired = repair::requote(&text, char::from(separator));
                    csv_options(separator)
                        .into_reader_with_file_handle(std::io::Cursor::new(repaired.into_bytes()))
                        .finish()
                        .map_err(|_| error)
                }
            }
        }
        FileFormat::JsonLines => {
            let handle = fs::File::open(&file.path)?;
            JsonReader::new(handle)
                .with_json_format(JsonFormat::JsonLines)
                .infer_schema_len(std::num::NonZeroUsize::new(10_000))
                .finish()
        }
        FileFormat::Parquet => {
            let handle = fs::File::open(&file.path)?;
            ParquetReader::new(handle).finish()
        }
    }
}

fn csv_options(separator: u8) -> CsvReadOptions {
    CsvReadOptions::default()
        .with_has_header(true)
        .with_infer_schema_length(Some(10_000))
        .map_parse_options(|options| options.with_separator(separator))
}

/// Applies the loader's column conventions to a freshly read frame.
pub fn normalize(mut frame: DataFrame) -> PolarsResult<DataFrame> {
    frame = drop_pandas_index(frame)?;

    let schema = frame.schema().clone();
    let mut casts = Vec::new();
    for (name, dtype) in schema.iter() {
        match dtype {
            DataType::String => {
                let column = frame.column(name)?.as_materialized_series().clone();
                let datetimes = match detect_datetime_format(&column)? {
                    Some(format) => parse_datetimes(&column, format)?,
                    None => None,
                };
                match datetimes {
                    Some(parsed) => {
                        frame.with_column(parsed.into_column())?;
                    }
                    None => casts.push(col(name.clone()).fill_null(lit(""))),
                }
            }
            DataType::Datetime(unit, zone) if *unit != TimeUnit::Nanoseconds || zone.is_some() => {
                casts.push(col(name.clone()).cast(DataType::Datetime(TimeUnit::Nanoseconds, None)));
            }
            DataType::Duration(unit) if *unit != TimeUnit::Nanoseconds => {
                casts.push(col(name.clone()).cast(DataType::Duration(TimeUnit::Nanoseconds)));
            }
            DataType::Date => {
                casts.push(col(name.clone()).cast(DataType::Datetime(TimeUnit::Nanoseconds, None)));
            }
            _ => {}
        }
    }
    if casts.is_empty() {
        return Ok(frame);
    }
    frame.lazy().with_columns(casts).collect()
}

/// Drops the unnamed first column that pandas writes for its row index.
///
/// The column is dropped only when its header is empty and its values count up from 0 or 1;
/// another unnamed column gets the name `Column1`, `Column2` and so on by position.
fn drop_pandas_index(mut frame: DataFrame) -> PolarsResult<DataFrame> {
    let names: Vec<PlSmallStr> = frame.get_column_names_owned();
    for (position, name) in names.iter().enumerate() {
        if !name.is_empty() {
            continue;
        }
        if position == 0 && is_row_index(frame.column(name)?.as_materialized_series()) {
            frame = frame.drop(name)?;
        } else {
            frame.rename(name, format!("Column{}", position + 1).into())?;
        }
    }
    Ok(frame)
}

fn is_row_index(series: &Series) -> bool {
    let Ok(values) = series.cast(&DataType::Int64) else {
        return false;
    };
    let Ok(values) = values.i64() else {
        return false;
    };
    let mut expected = None;
    for value in values.iter() {
        let Some(value) = value else {
            return false;
        };
        let next = expected.unwrap_or(if value == 1 { 1 } else { 0 });
        if value != next {
            return false;
        }
        expected = Some(next + 1);
    }
    true
}

/// Text layouts of datetimes that the loader recognises, tried in order.
const DATETIME_FORMATS: &[&str] = &[
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%dT%H:%M:%S%.fZ",
    "%Y-%m-%d %H:%M:%S%.fZ",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%dT%H:%M:%S%.f%:z",
    "%Y-%m-%d %H:%M:%S%.f%:z",
];

/// Parses `value` with `format` into nanoseconds since the Unix epoch, UTC.
///
/// Formats with a UTC offset (`%:z`) are converted to UTC; the others are read as UTC.
fn parse_datetime(value: &str, format: &str) -> Option<i64> {
    if format.ends_with("%:z") {
        let datetime = chrono::DateTime::parse_from_str(value, format).ok()?;
        return datetime.timestamp_nanos_opt();
    }
    let datetime = chrono::NaiveDateTime::parse_from_str(value, format).ok()?;
    datetime.and_utc().timestamp_nanos_opt()
}

/// Values sampled from a text column to decide whether it contains datetimes.
const DATETIME_SAMPLE: usize = 200;

/// Returns the datetime format that every sampled non-empty value of `column` matches.
fn detect_datetime_format(column: &Series) -> PolarsResult<Option<&'static str>> {
    let values = column.str()?;
    let sample: Vec<&str> = values
        .iter()
        .flatten()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .take(DATETIME_SAMPLE)
        .collect();
    if sample.is_empty() {
        return Ok(None);
    }
    let format = DATETIME_FORMATS.iter().copied().find(|format| {
        sample
            .iter()
            .all(|value| parse_datetime(value, format).is_some())
    });
    Ok(format)
}

/// Parses a text column with `format`, or returns `None` when some non-empty value fails.
fn parse_datetimes(column: &Series, format: &str) -> PolarsResult<Option<Series>> {
    let values = column.str()?;
    let mut failed = false;
    let parsed: Int64Chunked = values
        .iter()
        .map(|value| {
            let value = value.map(str::trim).filter(|v| !v.is_empty())?;
            let nanos = parse_datetime(value, format);
            failed |= nanos.is_none();
            nanos
        })
        .collect();
    if failed {
        return Ok(None);
    }
    let series = parsed
        .with_name(column.name().clone())
        .into_series()
        .cast(&DataType::Datetime(TimeUnit::Nanoseconds, None))?;
    Ok(Some(series))
}
