//! Loading tables from data folders: CSV, TSV, JSON (arrays or lines), JSON-lines and Parquet
//! files, optionally gzip-compressed (`.csv.gz`, `.jsonl.gz`, `.json.gz`, ...).
//!
//! A data source is a folder or a glob pattern (see [`list_tables`]). Each file's name without
//! its extensions is a table name, and a subfolder of files is one table named after the
//! subfolder. After polars reads a file, the loader applies the conventions the evaluator
//! relies on:
//! - datetime columns stored as text (see [`datetime`] for the layouts) become `Datetime(ns)`
//!   in UTC;
//! - JSON objects, and arrays of objects, become dynamic values (see [`dynamic`]);
//! - string nulls become empty strings, because KQL strings have no null;
//! - the unnamed first column that pandas writes for its row index is dropped.
//!
//! Windows event log files (`.evtx`) feed the tables `SecurityEvent` and `WindowsEvent` by
//! channel instead (see [`evtx`]).
//!
//! A `quarry-schema.json` file in the folder sets column types explicitly (see [`schema`]).
//! [`scan::scan_table`] reads large files lazily, so that polars pushes filters and column
//! selections down into the file reader.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use polars::prelude::*;

use crate::EngineError;
use crate::eval::types::KqlType;

mod csv_errors;
mod datetime;
mod dynamic;
mod evtx;
mod glob;
mod repair;
pub mod scan;
pub mod schema;
#[cfg(test)]
mod tests;

pub use schema::{ColumnType, SCHEMA_FILE, TableSchema};

/// The file formats the loader reads, chosen by file extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    Csv,
    Tsv,
    /// `.json`: a JSON array of objects, or one object a line; the loader looks at the first
    /// character to tell them apart.
    Json,
    JsonLines,
    Parquet,
    /// `.evtx`: a Windows event log, read into `SecurityEvent` and `WindowsEvent`.
    Evtx,
}

impl FileFormat {
    /// Returns the format for a file extension, or `None` for files the loader skips.
    pub fn from_extension(extension: &str) -> Option<FileFormat> {
        match extension.to_ascii_lowercase().as_str() {
            "csv" => Some(FileFormat::Csv),
            "tsv" | "tab" => Some(FileFormat::Tsv),
            "json" => Some(FileFormat::Json),
            "jsonl" | "ndjson" => Some(FileFormat::JsonLines),
            "parquet" => Some(FileFormat::Parquet),
            "evtx" => Some(FileFormat::Evtx),
            _ => None,
        }
    }

    /// Returns the table name, format and compression of a file name such as
    /// `SecurityEvent.csv.gz`, or `None` for files the loader skips.
    pub fn from_file_name(file_name: &str) -> Option<(String, FileFormat, Compression)> {
        let (rest, compression) = match file_name.rsplit_once('.') {
            Some((stem, extension)) if extension.eq_ignore_ascii_case("gz") => {
                (stem, Compression::Gzip)
            }
            _ => (file_name, Compression::None),
        };
        let (stem, extension) = rest.rsplit_once('.')?;
        let format = FileFormat::from_extension(extension)?;
        // Parquet compresses its pages itself; gzip-wrapped Parquet and EVTX files are not
        // formats that tools write.
        let binary = matches!(format, FileFormat::Parquet | FileFormat::Evtx);
        if stem.is_empty() || (binary && compression == Compression::Gzip) {
            return None;
        }
        Some((stem.to_owned(), format, compression))
    }
}

/// The compression of a whole table file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
}

/// A table found in a data source: one file, or the files of a subfolder or glob pattern
/// that share a table name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableFile {
    pub name: String,
    /// The file, or the subfolder for a table made of several files.
    pub path: PathBuf,
    pub format: FileFormat,
    pub compression: Compression,
    /// Every file of the table, in name order; `[path]` for a single file.
    pub parts: Vec<PathBuf>,
    /// The latest modification time of the parts.
    pub modified: Option<SystemTime>,
    /// Column types from the folder's schema file, if it names this table.
    pub schema: Option<TableSchema>,
}

/// Lists the tables of a data source, keyed by table name.
///
/// `source` is a folder or a glob pattern such as `exports/*.csv.gz` or `logs/**/*.json`
/// (`*` and `?` match within one path component, `**` matches any number of folders).
/// In a folder, each supported file is a table, and each subfolder whose files share one
/// format is a table named after the subfolder. Files matched by a pattern that share a table
/// name form one table. Two formats for one table name (say `a.csv` and `a.parquet`) are an
/// error, because the table would be ambiguous.
pub fn list_tables(source: &Path) -> Result<BTreeMap<String, TableFile>, EngineError> {
    list_tables_with_schema(source, None)
}

/// Lists the tables of a data source like [`list_tables`]. With `schema_file`, the column
/// types come from that file instead of the folder's `quarry-schema.json`, and every table
/// that the file names must exist.
pub fn list_tables_with_schema(
    source: &Path,
    schema_file: Option<&Path>,
) -> Result<BTreeMap<String, TableFile>, EngineError> {
    let Some(path) = schema_file else {
        return find_tables(source, None);
    };
    let explicit = schema::read_explicit_schema(path)?;
    let tables = find_tables(source, Some(&explicit))?;
    schema::check_table_names(path, &explicit, &tables)?;
    Ok(tables)
}

/// Lists the tables of `source` with the column types of `explicit`, or of the folder's schema
/// file when `explicit` is `None`.
fn find_tables(
    source: &Path,
    explicit: Option<&BTreeMap<String, TableSchema>>,
) -> Result<BTreeMap<String, TableFile>, EngineError> {
    let read_schema = |folder: &Path| match explicit {
        Some(schema) => Ok(schema.clone()),
        None => schema::read_schema_file(folder),
    };
    let text = source.to_string_lossy();
    if glob::is_pattern(&text) {
        let (root, pattern) = glob::split_pattern(&text);
        let files = glob::matching_files(&root, &pattern).map_err(|error| {
            EngineError::new(format!(
                "cannot read the folder `{}` of the pattern `{text}`: {error}; check that the \
                 folder exists",
                root.display()
            ))
        })?;
        if files.is_empty() {
            return Err(EngineError::new(format!(
                "no CSV, TSV, JSON, JSON-lines or Parquet file matches `{text}`; check the \
                 pattern, and quote it so that the shell does not expand it"
            )));
        }
        let schema = read_schema(&root)?;
        return group_tables(evtx::route_tables(files), &schema, &text);
    }

    let entries = fs::read_dir(source).map_err(|error| {
        EngineError::new(format!(
            "cannot read the data folder `{}`: {error}; set the data folder to an existing \
             directory of CSV, TSV, JSON-lines or Parquet files, or use the demo dataset",
            source.display()
        ))
    })?;
    let schema = read_schema(source)?;
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|error| {
            EngineError::new(format!(
                "cannot list the data folder `{}`: {error}",
                source.display()
            ))
        })?;
        let path = entry.path();
        if path.is_dir() {
            if let Some(table) = folder_table(&path, &schema)? {
                files.push(table);
            }
        } else if let Some(file) = table_file(path) {
            files.push(file);
        }
    }
    let display = source.display().to_string();
    let mut tables = BTreeMap::new();
    for file in evtx::route_tables(files) {
        insert_table(&mut tables, file, &display)?;
    }
    for table in tables.values_mut() {
        table.schema = schema.get(&table.name).cloned();
    }
    Ok(tables)
}

/// Describes one file as a table, or returns `None` for files the loader skips.
fn table_file(path: PathBuf) -> Option<TableFile> {
    if !path.is_file() {
        return None;
    }
    let file_name = path.file_name()?.to_str()?;
    if file_name == SCHEMA_FILE {
        return None;
    }
    let (name, format, compression) = FileFormat::from_file_name(file_name)?;
    let modified = fs::metadata(&path).and_then(|m| m.modified()).ok();
    Some(TableFile {
        name,
        parts: vec![path.clone()],
        path,
        format,
        compression,
        modified,
        schema: None,
    })
}

/// Describes a subfolder of table files as one table, or returns `None` when it contains none.
fn folder_table(
    folder: &Path,
    schema: &BTreeMap<String, TableSchema>,
) -> Result<Option<TableFile>, EngineError> {
    let Some(name) = folder.file_name().and_then(|n| n.to_str()) else {
        return Ok(None);
    };
    let Ok(entries) = fs::read_dir(folder) else {
        return Ok(None);
    };
    let mut parts: Vec<TableFile> = entries
        .filter_map(|entry| entry.ok())
        .filter_map(|entry| table_file(entry.path()))
        .collect();
    if parts.is_empty() {
        return Ok(None);
    }
    parts.sort_by(|a, b| a.path.cmp(&b.path));
    let first = &parts[0];
    if let Some(other) = parts
        .iter()
        .find(|part| part.format != first.format || part.compression != first.compression)
    {
        return Err(EngineError::new(format!(
            "the folder `{}` mixes files of two formats (`{}` and `{}`), so it cannot be one \
             table; keep one format in it",
            folder.display(),
            first.path.display(),
            other.path.display()
        )));
    }
    let modified = parts.iter().filter_map(|part| part.modified).max();
    Ok(Some(TableFile {
        name: name.to_owned(),
        path: folder.to_owned(),
        format: first.format,
        compression: first.compression,
        parts: parts.into_iter().flat_map(|part| part.parts).collect(),
        modified,
        schema: schema.get(name).cloned(),
    }))
}

/// Groups files by table name into tables of several parts.
fn group_tables(
    files: Vec<TableFile>,
    schema: &BTreeMap<String, TableSchema>,
    source: &str,
) -> Result<BTreeMap<String, TableFile>, EngineError> {
    let mut tables: BTreeMap<String, TableFile> = BTreeMap::new();
    for file in files {
        match tables.get_mut(&file.name) {
            Some(table) if table.format == file.format && table.compression == file.compression => {
                table.parts.extend(file.parts);
                table.parts.sort();
                table.modified = table.modified.max(file.modified);
            }
            _ => insert_table(&mut tables, file, source)?,
        }
    }
    for table in tables.values_mut() {
        table.schema = schema.get(&table.name).cloned();
    }
    Ok(tables)
}

fn insert_table(
    tables: &mut BTreeMap<String, TableFile>,
    file: TableFile,
    source: &str,
) -> Result<(), EngineError> {
    if let Some(previous) = tables.get(&file.name) {
        return Err(EngineError::new(format!(
            "two files in `{source}` define the table `{}`: `{}` and `{}`; rename or remove one",
            file.name,
            previous.path.display(),
            file.path.display()
        )));
    }
    tables.insert(file.name.clone(), file);
    Ok(())
}

/// Reads a table's files into one data frame, normalises its columns and applies the schema
/// file's column types.
pub fn load_table(file: &TableFile) -> Result<DataFrame, EngineError> {
    if file.format == FileFormat::Evtx {
        return load_evtx(file);
    }
    let mut combined: Option<(PathBuf, DataFrame)> = None;
    for part in &file.parts {
        let frame = load_part(file, part)?;
        combined = Some(match combined {
            None => (part.clone(), frame),
            Some((first, mut all)) => {
                if let Some(difference) = schema_difference(all.schema(), frame.schema()) {
                    return Err(parts_differ(file, &first, part, &difference));
                }
                all.vstack_mut_owned(frame).map_err(|error| {
                    EngineError::new(format!(
                        "cannot append `{}` to the table `{}`: {error}",
                        part.display(),
                        file.name
                    ))
                })?;
                (first, all)
            }
        });
    }
    let (_, frame) = combined
        .ok_or_else(|| EngineError::new(format!("the table `{}` has no files", file.name)))?;
    Ok(frame)
}

/// Describes the first column in which two parts of a table differ: one that only one of them
/// has, a different type, or a different place. Returns `None` for equal schemas.
pub(crate) fn schema_difference(first: &Schema, other: &Schema) -> Option<String> {
    for (name, dtype) in first.iter() {
        match other.get(name) {
            None => return Some(format!("the column `{name}` is only in the first")),
            Some(other_dtype) if other_dtype != dtype => {
                let kql = |dtype: &DataType| KqlType::from_polars(dtype).name();
                let (first_type, other_type) = if kql(dtype) == kql(other_dtype) {
                    (
                        format!("{} (stored as {dtype})", kql(dtype)),
                        format!("{} (stored as {other_dtype})", kql(other_dtype)),
                    )
                } else {
                    (kql(dtype).to_owned(), kql(other_dtype).to_owned())
                };
                return Some(format!(
                    "the column `{name}` is {first_type} in the first and {other_type} in the \
                     second"
                ));
            }
            Some(_) => {}
        }
    }
    if let Some(name) = other.iter_names().find(|name| !first.contains(name)) {
        return Some(format!("the column `{name}` is only in the second"));
    }
    let first_order: Vec<_> = first.iter_names().collect();
    let other_order: Vec<_> = other.iter_names().collect();
    if first_order != other_order {
        let (name, _) = first_order
            .iter()
            .zip(&other_order)
            .find(|(a, b)| a != b)
            .expect("same names in another order");
        return Some(format!(
            "the column `{name}` is at position {} in the first and {} in the second",
            first.index_of(name).map_or(0, |i| i + 1),
            other.index_of(name).map_or(0, |i| i + 1)
        ));
    }
    None
}

/// Builds the error for two parts of `file` whose columns differ as `difference` describes.
pub(crate) fn parts_differ(
    file: &TableFile,
    first: &Path,
    second: &Path,
    difference: &str,
) -> EngineError {
    let fix = match file.format {
        FileFormat::Csv | FileFormat::Tsv => {
            format!("give the files the same header, or set the column types in {SCHEMA_FILE}")
        }
        _ => format!(
            "write the files with the same columns and types, set the column types in \
             {SCHEMA_FILE}, or move one file into a folder of its own"
        ),
    };
    EngineError::new(format!(
        "the files `{}` and `{}` of the table `{}` have different columns: {difference}; {fix}",
        first.display(),
        second.display(),
        file.name
    ))
}

fn load_part(file: &TableFile, part: &Path) -> Result<DataFrame, EngineError> {
    let frame = read_file(file, part)?;
    let frame = normalize(frame, file.schema.as_ref()).map_err(|error| {
        EngineError::new(format!(
            "cannot prepare the columns of `{}`: {error}",
            part.display()
        ))
    })?;
    match &file.schema {
        Some(schema) => schema::apply(frame, schema, part),
        None => Ok(frame),
    }
}

/// Reads the `.evtx` files of `file` at once; they share one fixed set of columns.
fn load_evtx(file: &TableFile) -> Result<DataFrame, EngineError> {
    let frame = evtx::load_table(file)?;
    match &file.schema {
        Some(schema) => schema::apply(frame, schema, &file.path),
        None => Ok(frame),
    }
}

fn format_name(format: FileFormat) -> &'static str {
    match format {
        FileFormat::Csv => "CSV",
        FileFormat::Tsv => "TSV",
        FileFormat::Json => "JSON",
        FileFormat::JsonLines => "JSON lines",
        FileFormat::Parquet => "Parquet",
        FileFormat::Evtx => "EVTX",
    }
}

/// Returns the bytes of a file, decompressed when it is gzip-compressed.
fn read_bytes(path: &Path, compression: Compression) -> std::io::Result<Vec<u8>> {
    let raw = fs::read(path)?;
    match compression {
        Compression::None => Ok(raw),
        Compression::Gzip => {
            let mut text = Vec::with_capacity(raw.len() * 4);
            std::io::Read::read_to_end(
                &mut flate2::read::MultiGzDecoder::new(&raw[..]),
                &mut text,
            )?;
            Ok(text)
        }
    }
}

/// Returns an error naming the first column of a Parquet file whose type the engine cannot
/// read: decimals, which this build of polars reads only by stopping the process.
pub(crate) fn check_parquet_types(schema: &ArrowSchema, part: &Path) -> Result<(), EngineError> {
    fn has_decimal(dtype: &ArrowDataType) -> bool {
        match dtype {
            ArrowDataType::Decimal(..)
            | ArrowDataType::Decimal32(..)
            | ArrowDataType::Decimal64(..)
            | ArrowDataType::Decimal256(..) => true,
            ArrowDataType::List(field)
            | ArrowDataType::LargeList(field)
            | ArrowDataType::FixedSizeList(field, _)
            | ArrowDataType::Map(field, _) => has_decimal(field.dtype()),
            ArrowDataType::Struct(fields) => fields.iter().any(|field| has_decimal(field.dtype())),
            ArrowDataType::Extension(extension) => has_decimal(&extension.inner),
            _ => false,
        }
    }
    match schema
        .iter_values()
        .find(|field| has_decimal(field.dtype()))
    {
        None => Ok(()),
        Some(field) => Err(EngineError::new(format!(
            "cannot read `{}`: its column `{}` holds decimal numbers, which the local engine \
             does not read yet; write that column as a double (in DuckDB, `CAST({} AS DOUBLE)`) \
             or remove the file from the data folder",
            part.display(),
            field.name,
            field.name,
        ))),
    }
}

fn read_file(file: &TableFile, part: &Path) -> Result<DataFrame, EngineError> {
    let invalid = |error: &dyn std::fmt::Display| {
        EngineError::new(format!(
            "cannot read `{}` as {}: {error}; check that the file is valid {} or remove it \
             from the data folder",
            part.display(),
            format_name(file.format),
            format_name(file.format),
        ))
    };
    let bytes = read_bytes(part, file.compression).map_err(|error| invalid(&error))?;
    match file.format {
        FileFormat::Csv | FileFormat::Tsv => {
            let separator = if file.format == FileFormat::Tsv {
                b'\t'
            } else {
                b','
            };
            read_csv(bytes, separator, file.schema.as_ref()).map_err(|problem| {
                csv_errors::error(part, file.format == FileFormat::Tsv, &problem)
            })
        }
        FileFormat::Json | FileFormat::JsonLines => {
            let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
            let format = if first == Some(&b'[') {
                JsonFormat::Json
            } else {
                JsonFormat::JsonLines
            };
            let frame = JsonReader::new(std::io::Cursor::new(&bytes[..]))
                .with_json_format(format)
                .infer_schema_len(std::num::NonZeroUsize::new(10_000))
                .finish()
                .map_err(|error| invalid(&error))?;
            dynamic::nested_to_dynamic(frame, &bytes).map_err(|error| invalid(&error))
        }
        FileFormat::Parquet => {
            let mut reader = ParquetReader::new(std::io::Cursor::new(bytes));
            let schema = reader.schema().map_err(|error| invalid(&error))?;
            check_parquet_types(&schema, part)?;
            reader.finish().map_err(|error| invalid(&error))
        }
        FileFormat::Evtx => evtx::load_table(&TableFile {
            parts: vec![part.to_owned()],
            ..file.clone()
        }),
    }
}

/// Reads delimited text. On failure it retries twice: with the types inferred from the whole
/// file instead of its first rows, then with loose quoting repaired. When all three fail, it
/// returns the text and polars' first error for [`csv_errors::error`] to explain.
fn read_csv(
    bytes: Vec<u8>,
    separator: u8,
    schema: Option<&TableSchema>,
) -> Result<DataFrame, csv_errors::Failure> {
    let read = |bytes: Vec<u8>, infer: Option<usize>| {
        csv_options(separator, infer, schema)
            .into_reader_with_file_handle(std::io::Cursor::new(bytes))
            .finish()
    };
    let first_error = match read(bytes.clone(), Some(10_000)) {
        Ok(frame) => return Ok(frame),
        Err(error) => error,
    };
    if let Ok(frame) = read(bytes.clone(), None) {
        return Ok(frame);
    }
    // A stray quote inside a quoted field makes polars reject the file, while pandas accepts
    // it; retry once with the quoting repaired.
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let repaired = repair::requote(&text, char::from(separator));
    match read(repaired.into_bytes(), None) {
        Ok(frame) => Ok(frame),
        Err(_) => Err(csv_errors::Failure {
            text,
            separator,
            polars_error: first_error.to_string(),
        }),
    }
}

fn csv_options(
    separator: u8,
    infer: Option<usize>,
    schema: Option<&TableSchema>,
) -> CsvReadOptions {
    let options = CsvReadOptions::default()
        .with_has_header(true)
        .with_infer_schema_length(infer)
        .map_parse_options(|options| options.with_separator(separator));
    match schema {
        // Columns with an explicit type are read as text and converted by `schema::apply`,
        // which reports the first value that does not fit.
        Some(schema) => options.with_schema_overwrite(Some(Arc::new(schema.text_overrides()))),
        None => options,
    }
}

/// Applies the loader's column conventions to a freshly read frame. Columns that `explicit`
/// types are left for [`schema::apply`].
pub fn normalize(mut frame: DataFrame, explicit: Option<&TableSchema>) -> PolarsResult<DataFrame> {
    frame = drop_pandas_index(frame)?;

    let schema = frame.schema().clone();
    let mut casts = Vec::new();
    for (name, dtype) in schema.iter() {
        if explicit.is_some_and(|explicit| explicit.columns.contains_key(name.as_str())) {
            continue;
        }
        match dtype {
            DataType::String => {
                let column = frame.column(name)?.as_materialized_series().clone();
                let datetimes = match detect_datetime_layout(&column)? {
                    Some(layout) => datetime::parse_column(&column, layout)?,
                    None => None,
                };
                match datetimes {
                    Some(parsed) => {
                        frame.with_column(parsed.into_column())?;
                    }
                    // Filling copies the column, so columns without nulls are left alone.
                    None if column.null_count() > 0 => {
                        casts.push(col(name.clone()).fill_null(lit("")));
                    }
                    None => {}
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

pub(crate) use datetime::{DATETIME_SAMPLE, detect_datetime_layout};
