//! Explicit column types from a `quarry-schema.json` file in the data folder, or from a file
//! given with `quarry run --schema FILE` instead.
//!
//! The file maps table names to column types, with KQL type names:
//!
//! ```json
//! { "SecurityEvent": { "EventID": "int", "TimeGenerated": "datetime", "IpPort": "string" } }
//! ```
//!
//! Columns that the file names skip type inference: CSV and TSV files read them as text, and
//! the loader converts every value, reporting the first one that does not fit. Columns that it
//! does not name keep the inferred types.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use polars::prelude::*;

use crate::EngineError;

/// The name of the schema file in a data folder.
pub const SCHEMA_FILE: &str = "quarry-schema.json";

/// A column type that the schema file can set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    String,
    Int,
    Long,
    Real,
    Bool,
    Datetime,
}

impl ColumnType {
    /// Parses a KQL type name, as written in the schema file.
    pub fn parse(name: &str) -> Option<ColumnType> {
        match name.trim().to_ascii_lowercase().as_str() {
            "string" | "dynamic" | "guid" => Some(ColumnType::String),
            "int" => Some(ColumnType::Int),
            "long" => Some(ColumnType::Long),
            "real" | "double" => Some(ColumnType::Real),
            "bool" | "boolean" => Some(ColumnType::Bool),
            "datetime" | "date" => Some(ColumnType::Datetime),
            _ => None,
        }
    }

    fn polars(self) -> DataType {
        match self {
            ColumnType::String => DataType::String,
            ColumnType::Int => DataType::Int32,
            ColumnType::Long => DataType::Int64,
            ColumnType::Real => DataType::Float64,
            ColumnType::Bool => DataType::Boolean,
            ColumnType::Datetime => DataType::Datetime(TimeUnit::Nanoseconds, None),
        }
    }

    fn name(self) -> &'static str {
        match self {
            ColumnType::String => "string",
            ColumnType::Int => "int",
            ColumnType::Long => "long",
            ColumnType::Real => "real",
            ColumnType::Bool => "bool",
            ColumnType::Datetime => "datetime",
        }
    }
}

/// The column types that the schema file sets for one table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TableSchema {
    pub columns: BTreeMap<String, ColumnType>,
    /// The schema file that sets these types, named in errors.
    pub file: PathBuf,
}

impl TableSchema {
    /// Names the schema file in messages: its path, or `quarry-schema.json` for types that no
    /// file set.
    fn file_name(&self) -> String {
        if self.file.as_os_str().is_empty() {
            SCHEMA_FILE.to_owned()
        } else {
            format!("`{}`", self.file.display())
        }
    }

    /// Returns a polars schema that reads every listed column as text.
    pub fn text_overrides(&self) -> Schema {
        self.columns
            .keys()
            .map(|name| Field::new(name.as_str().into(), DataType::String))
            .collect()
    }
}

/// Reads the schema file of `folder`; a folder without one has no explicit types.
pub fn read_schema_file(folder: &Path) -> Result<BTreeMap<String, TableSchema>, EngineError> {
    let path = folder.join(SCHEMA_FILE);
    let text = match fs::read_to_string(&path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
        Err(error) => {
            return Err(EngineError::new(format!(
                "cannot read `{}`: {error}",
                path.display()
            )));
        }
    };
    parse_schema_at(&text, &path)
}

/// Reads a schema file given by path, such as the one `quarry run --schema` names. Unlike a
/// folder's schema file, it must exist.
pub fn read_explicit_schema(path: &Path) -> Result<BTreeMap<String, TableSchema>, EngineError> {
    let text = fs::read_to_string(path).map_err(|error| {
        EngineError::new(format!(
            "cannot read the schema file `{}`: {error}; check the path",
            path.display()
        ))
    })?;
    parse_schema_at(&text, path)
}

fn parse_schema_at(text: &str, path: &Path) -> Result<BTreeMap<String, TableSchema>, EngineError> {
    let mut schemas = parse_schema(text).map_err(|problem| {
        EngineError::new(format!(
            "invalid schema file `{}`: {problem}",
            path.display()
        ))
    })?;
    for schema in schemas.values_mut() {
        schema.file = path.to_owned();
    }
    Ok(schemas)
}

/// Parses the schema file's JSON text.
pub fn parse_schema(text: &str) -> Result<BTreeMap<String, TableSchema>, String> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|error| format!("{error}; write a JSON object"))?;
    let serde_json::Value::Object(tables) = value else {
        return Err("the top level must be an object of table names".to_owned());
    };
    let mut schemas = BTreeMap::new();
    for (table, columns) in tables {
        let serde_json::Value::Object(columns) = columns else {
            return Err(format!(
                "the value of `{table}` must be an object of column names and types, such as \
                 {{\"TimeGenerated\": \"datetime\"}}"
            ));
        };
        let mut schema = TableSchema::default();
        for (column, ty) in columns {
            let parsed = ty.as_str().and_then(ColumnType::parse).ok_or_else(|| {
                format!(
                    "the type {ty} of `{table}.{column}` is not supported; use string, int, \
                     long, real, bool or datetime"
                )
            })?;
            schema.columns.insert(column, parsed);
        }
        schemas.insert(table, schema);
    }
    Ok(schemas)
}

/// Reports a table in the schema file `path` that the data source lacks, because otherwise
/// its types would be ignored silently.
pub fn check_table_names(
    path: &Path,
    schemas: &BTreeMap<String, TableSchema>,
    tables: &BTreeMap<String, super::TableFile>,
) -> Result<(), EngineError> {
    let Some(missing) = schemas.keys().find(|name| !tables.contains_key(*name)) else {
        return Ok(());
    };
    let names: Vec<&str> = tables.keys().map(String::as_str).collect();
    Err(EngineError::new(format!(
        "the schema file `{}` sets column types for the table `{missing}`, but the data source \
         has no such table; its tables are {}; fix the table name in the schema file",
        path.display(),
        if names.is_empty() {
            "none".to_owned()
        } else {
            names.join(", ")
        }
    )))
}

/// Converts the columns that `schema` names to their types. `part` names the file in errors.
pub fn apply(
    mut frame: DataFrame,
    schema: &TableSchema,
    part: &Path,
) -> Result<DataFrame, EngineError> {
    for (name, ty) in &schema.columns {
        let Ok(column) = frame.column(name) else {
            let columns: Vec<String> = frame
                .get_column_names()
                .iter()
                .map(|c| c.to_string())
                .collect();
            return Err(EngineError::new(format!(
                "{} sets the type of `{name}`, but `{}` has no such column; its columns are \
                 {}; fix the name in {}",
                schema.file_name(),
                part.display(),
                columns.join(", "),
                schema.file_name()
            )));
        };
        let series = column.as_materialized_series().clone();
        let locate = |row: usize, value: &str| value_location(part, name, row, value);
        let converted = convert(&series, *ty, &locate).map_err(|problem| {
            EngineError::new(format!(
                "cannot read column `{name}` of `{}` as {}: {problem}; fix the value or change \
                 the type in {}",
                part.display(),
                ty.name(),
                schema.file_name()
            ))
        })?;
        frame
            .with_column(converted.into_column())
            .map_err(|error| {
                EngineError::new(format!("cannot replace column `{name}`: {error}"))
            })?;
    }
    Ok(frame)
}

/// Names the place of `value`, the first value of `column` that does not convert, at data row
/// `row` (from 0) of `part`. CSV and TSV values get the line their record starts on, because
/// quoted fields may span lines. Other formats, and a record that cannot be found again, get
/// the record number.
fn value_location(part: &Path, column: &str, row: usize, value: &str) -> String {
    let record = format!("record {}", row + 1);
    let file_name = part
        .file_name()
        .and_then(|name| name.to_str())
        .unwrap_or("");
    let (separator, compression) = match super::FileFormat::from_file_name(file_name) {
        Some((_, super::FileFormat::Csv, compression)) => (b',', compression),
        Some((_, super::FileFormat::Tsv, compression)) => (b'\t', compression),
        _ => return record,
    };
    let Ok(bytes) = super::read_bytes(part, compression) else {
        return record;
    };
    let text = String::from_utf8_lossy(&bytes);
    match super::csv_errors::value_record_line(&text, separator, column, row, value) {
        Some(line) => format!("line {line}"),
        None => record,
    }
}

fn convert(
    series: &Series,
    ty: ColumnType,
    locate: &dyn Fn(usize, &str) -> String,
) -> Result<Series, String> {
    let name = series.name().clone();
    if series.dtype() != &DataType::String {
        let target = ty.polars();
        let cast = series
            .strict_cast(&target)
            .map_err(|error| error.to_string())?;
        return Ok(match ty {
            ColumnType::String => cast
                .str()
                .map_err(|error| error.to_string())?
                .apply(|value| Some(value.unwrap_or("").into()))
                .into_series(),
            _ => cast,
        });
    }
    let values = series.str().map_err(|error| error.to_string())?;
    let bad = |row: usize, value: &str| format!("{} has the value `{value}`", locate(row, value));
    let series = match ty {
        ColumnType::String => values
            .apply(|value| Some(value.unwrap_or("").into()))
            .into_series(),
        ColumnType::Int => {
            let parsed: Result<Int32Chunked, String> =
                parse_each(values, |v| v.parse::<i32>().ok(), bad);
            parsed?.into_series()
        }
        ColumnType::Long => {
            let parsed: Result<Int64Chunked, String> =
                parse_each(values, |v| v.parse::<i64>().ok(), bad);
            parsed?.into_series()
        }
        ColumnType::Real => {
            let parsed: Result<Float64Chunked, String> =
                parse_each(values, |v| v.parse::<f64>().ok(), bad);
            parsed?.into_series()
        }
        ColumnType::Bool => {
            let parsed: Result<BooleanChunked, String> = parse_each(
                values,
                |v| match v.to_ascii_lowercase().as_str() {
                    "true" | "1" => Some(true),
                    "false" | "0" => Some(false),
                    _ => None,
                },
                bad,
            );
            parsed?.into_series()
        }
        ColumnType::Datetime => {
            let parsed: Result<Int64Chunked, String> = parse_each(values, parse_any_datetime, bad);
            parsed?
                .into_series()
                .cast(&ty.polars())
                .map_err(|error| error.to_string())?
        }
    };
    Ok(series.with_name(name))
}

/// Parses every non-empty value; empty cells become nulls.
fn parse_each<T, C>(
    values: &StringChunked,
    parse: impl Fn(&str) -> Option<T>,
    bad: impl Fn(usize, &str) -> String,
) -> Result<C, String>
where
    C: FromIterator<Option<T>>,
{
    values
        .iter()
        .enumerate()
        .map(|(row, value)| {
            let Some(value) = value.map(str::trim).filter(|v| !v.is_empty()) else {
                return Ok(None);
            };
            parse(value).map(Some).ok_or_else(|| bad(row, value))
        })
        .collect()
}

/// Parses a datetime in any layout the loader detects or `todatetime()` reads.
fn parse_any_datetime(value: &str) -> Option<i64> {
    super::datetime::parse_loader_datetime(value)
        .or_else(|| crate::eval::functions::parse_datetime(value))
}
