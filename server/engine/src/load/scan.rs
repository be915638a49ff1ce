//! Lazy scans of table files, so that polars reads only the columns and row groups a query
//! needs instead of loading the whole file.
//!
//! CSV and TSV files are scanned with `LazyCsvReader` and Parquet files with `scan_parquet`;
//! the loader's conventions (see the module documentation of `load`) become lazy expressions,
//! decided from the first rows of the file. Projection and predicate pushdown then reach the
//! reader: a query that uses two columns of a wide Parquet file reads only those two.

use polars::prelude::*;

use super::{Compression, DATETIME_SAMPLE, FileFormat, TableFile, parts_differ, schema_difference};
use crate::EngineError;

/// Returns a lazy frame over `file`, or `None` when the file needs the eager loader: gzip
/// files, JSON files, explicit schemas, and datetime text with UTC offsets, mixed layouts
/// or the US layout.
///
/// `Session` scans tables of 64 MiB or more through this function and loads smaller ones
/// whole, so that they stay cached between runs.
pub fn scan_table(file: &TableFile) -> Result<Option<LazyFrame>, EngineError> {
    if file.compression != Compression::None || file.schema.is_some() {
        return Ok(None);
    }
    let failed = |error: PolarsError| {
        EngineError::new(format!(
            "cannot scan `{}`: {error}; check that the file is valid or remove it from the data \
             folder",
            file.path.display()
        ))
    };
    match file.format {
        FileFormat::Parquet => {
            let mut parts = Vec::with_capacity(file.parts.len());
            for part in &file.parts {
                let arrow_schema = std::fs::File::open(part)
                    .map_err(PolarsError::from)
                    .and_then(|opened| ParquetReader::new(opened).schema())
                    .map_err(failed)?;
                super::check_parquet_types(&arrow_schema, part)?;
                let path = PlRefPath::try_from_path(part).map_err(failed)?;
                let part_schema = LazyFrame::scan_parquet(path.clone(), ScanArgsParquet::default())
                    .and_then(|mut frame| frame.collect_schema())
                    .map_err(failed)?;
                parts.push((parquet_footer(part), path, part_schema));
            }
            // `concat` needs every part to have the same columns; its own error names neither
            // the parts nor the column. Datetime columns of any unit are read as nanoseconds.
            let as_read = |schema: &Schema| -> Schema {
                schema
                    .iter()
                    .map(|(name, dtype)| match dtype {
                        DataType::Datetime(..) => Field::new(
                            name.clone(),
                            DataType::Datetime(TimeUnit::Nanoseconds, None),
                        ),
                        _ => Field::new(name.clone(), dtype.clone()),
                    })
                    .collect()
            };
            let first_schema = parts.first().map(|(_, _, schema)| as_read(schema));
            for (index, (_, _, part_schema)) in parts.iter().enumerate().skip(1) {
                let first_schema = first_schema.as_ref().expect("a first part");
                if let Some(difference) = schema_difference(first_schema, &as_read(part_schema)) {
                    return Err(parts_differ(
                        file,
                        &file.parts[0],
                        &file.parts[index],
                        &difference,
                    ));
                }
            }
            let convertible = parquet_times_within_nanoseconds(&parts);
            let mut frames = Vec::with_capacity(parts.len());
            for (_, path, part_schema) in &parts {
                frames.push(
                    scan_parquet_in_nanoseconds(path.clone(), part_schema, &convertible)
                        .map_err(failed)?,
                );
            }
            let frame = if frames.len() == 1 {
                frames.pop().expect("one frame")
            } else {
                concat(frames, UnionArgs::default()).map_err(failed)?
            };
            let schema = frame.clone().collect_schema().map_err(failed)?;
            let footers: Vec<_> = parts.iter().map(|(footer, _, _)| footer.clone()).collect();
            let without_nulls = parquet_columns_without_nulls(&footers, &schema);
            Ok(Some(frame.with_columns(conventions(
                &schema,
                &[],
                &without_nulls,
            ))))
        }
        FileFormat::Csv | FileFormat::Tsv if file.parts.len() == 1 => {
            let separator = if file.format == FileFormat::Tsv {
                b'\t'
            } else {
                b','
            };
            let part = &file.parts[0];
            let sample = CsvReadOptions::default()
                .with_has_header(true)
                .with_n_rows(Some(DATETIME_SAMPLE))
                .with_infer_schema_length(Some(DATETIME_SAMPLE))
                .map_parse_options(|options| options.with_separator(separator))
                .try_into_reader_with_file_path(Some(part.clone()))
                .and_then(|reader| reader.finish())
                .map_err(failed)?;
            let mut datetimes = Vec::new();
            for column in sample.columns() {
                if column.dtype() != &DataType::String {
                    continue;
                }
                let series = column.as_materialized_series();
                if let Some(layout) = super::detect_datetime_layout(series).map_err(failed)? {
                    match layout.lazy_format() {
                        Some(format) => datetimes.push((column.name().to_string(), format)),
                        // Offsets, mixed and US layouts are parsed by the eager loader.
                        None => return Ok(None),
                    }
                }
            }
            if sample.get_column_names().iter().any(|name| name.is_empty()) {
                // The pandas index check needs the whole column; leave it to the eager loader.
                return Ok(None);
            }
            let path = PlRefPath::try_from_path(part).map_err(failed)?;
            let frame = LazyCsvReader::new(path)
                .with_has_header(true)
                .with_separator(separator)
                .with_infer_schema_length(Some(10_000))
                .finish()
                .map_err(failed)?;
            let schema = frame.clone().collect_schema().map_err(failed)?;
            Ok(Some(frame.with_columns(conventions(
                &schema,
                &datetimes,
                &[],
            ))))
        }
        _ => Ok(None),
    }
}

/// Scans one Parquet file, whose schema is `file_schema`, with its datetime columns named in
/// `convertible` read as nanoseconds without a time zone, the engine's datetime type. The
/// Parquet reader converts microsecond and millisecond timestamps itself, so a filter on such a
/// column is pushed into the scan. A cast after the scan would stop the filter there. Other
/// datetime columns are cast after this file's scan, and date columns by [`conventions`].
fn scan_parquet_in_nanoseconds(
    path: PlRefPath,
    file_schema: &Schema,
    convertible: &[String],
) -> PolarsResult<LazyFrame> {
    let nanoseconds = DataType::Datetime(TimeUnit::Nanoseconds, None);
    let converts = |name: &PlSmallStr, dtype: &DataType| {
        matches!(dtype, DataType::Datetime(..))
            && *dtype != nanoseconds
            && convertible.iter().any(|known| known == name.as_str())
    };

    // The other datetime columns are cast here rather than after the parts are joined, because
    // `concat` needs every part to have the same types.
    let casts: Vec<Expr> = file_schema
        .iter()
        .filter(|(name, dtype)| {
            matches!(dtype, DataType::Datetime(..))
                && **dtype != nanoseconds
                && !converts(name, dtype)
        })
        .map(|(name, _)| col(name.clone()).cast(nanoseconds.clone()))
        .collect();
    let cast_rest = |frame: LazyFrame| {
        if casts.is_empty() {
            frame
        } else {
            frame.with_columns(casts.clone())
        }
    };

    if !file_schema
        .iter()
        .any(|(name, dtype)| converts(name, dtype))
    {
        return LazyFrame::scan_parquet(path, ScanArgsParquet::default()).map(cast_rest);
    }

    let schema: Schema = file_schema
        .iter()
        .map(|(name, dtype)| {
            let dtype = if converts(name, dtype) {
                nanoseconds.clone()
            } else {
                dtype.clone()
            };
            Field::new(name.clone(), dtype)
        })
        .collect();

    let schema = Arc::new(schema);
    let args = ScanArgsParquet {
        schema: Some(schema.clone()),
        ..ScanArgsParquet::default()
    };
    let mut frame = LazyFrame::scan_parquet(path, args)?;

    if let DslPlan::Scan {
        unified_scan_args, ..
    } = &mut frame.logical_plan
    {
        unified_scan_args.schema = Some(schema);
        let policy = &mut unified_scan_args.cast_columns_policy;
        policy.datetime_microseconds_upcast = true;
        policy.datetime_milliseconds_upcast = true;
        policy.datetime_convert_timezone = true;
    }
    Ok(cast_rest(frame))
}

/// The footer of a Parquet file: its schema, row groups and column statistics.
type ParquetFooter = Arc<polars::io::parquet::read::FileMetadata>;

/// Reads the footer of the Parquet file at `path`, or returns `None` when it cannot be read.
/// Both statistics checks below treat a missing footer as "no statistics".
fn parquet_footer(path: &std::path::Path) -> Option<ParquetFooter> {
    let file = std::fs::File::open(path).ok()?;
    ParquetReader::new(file).get_metadata().ok().cloned()
}

/// Returns the datetime columns that the Parquet reader may convert to nanoseconds: those whose
/// statistics, in every row group of every part, show values that fit in i64 nanoseconds
/// (about the years 1677 to 2262). The reader fails the whole scan on a value outside that
/// range, such as 9999-12-31 in milliseconds, where the cast after the scan gives a null as the
/// eager loader does. Each part is given as (footer, scan path, schema).
fn parquet_times_within_nanoseconds(
    parts: &[(Option<ParquetFooter>, PlRefPath, SchemaRef)],
) -> Vec<String> {
    let Some((_, _, first_schema)) = parts.first() else {
        return Vec::new();
    };
    let mut candidates: Vec<String> = first_schema
        .iter()
        .filter(|(_, dtype)| matches!(dtype, DataType::Datetime(..)))
        .map(|(name, _)| name.to_string())
        .collect();
    for (footer, _, schema) in parts {
        if candidates.is_empty() {
            break;
        }
        let Some(metadata) = footer else {
            return Vec::new();
        };
        candidates.retain(|name| {
            let Some(DataType::Datetime(unit, _)) = schema.get(name) else {
                return false;
            };
            let nanoseconds_per_tick: i64 = match unit {
                TimeUnit::Nanoseconds => 1,
                TimeUnit::Microseconds => 1_000,
                TimeUnit::Milliseconds => 1_000_000,
            };
            let fits = |tick: i64| tick.checked_mul(nanoseconds_per_tick).is_some();
            metadata.row_groups.iter().all(|group| {
                let Some(mut chunks) = group.columns_under_root_iter(name) else {
                    return false;
                };
                chunks.all(|chunk| {
                    let Some(Ok(statistics)) = chunk.statistics(&metadata.footer_buf) else {
                        return false;
                    };
                    let Some(ticks) = statistics.as_int64() else {
                        return false;
                    };
                    match (ticks.min_value, ticks.max_value) {
                        (Some(min), Some(max)) => fits(min) && fits(max),
                        // A chunk that contains only nulls has no min or max.
                        (None, None) => ticks.null_count == Some(group.num_rows() as i64),
                        _ => false,
                    }
                })
            })
        });
    }
    candidates
}

/// Returns the string columns of `schema` that the Parquet statistics of every row group of
/// every file in `parts` show to hold no null. Such a column needs no `fill_null`, and without
/// it a filter on the column reaches the Parquet reader, which tests it once per distinct
/// value of a dictionary-encoded page. A file without statistics keeps the `fill_null`.
fn parquet_columns_without_nulls(
    footers: &[Option<ParquetFooter>],
    schema: &Schema,
) -> Vec<String> {
    let mut candidates: Vec<String> = schema
        .iter()
        .filter(|(_, dtype)| **dtype == DataType::String)
        .map(|(name, _)| name.to_string())
        .collect();
    for footer in footers {
        let Some(metadata) = footer else {
            return Vec::new();
        };
        candidates.retain(|name| {
            metadata.row_groups.iter().all(|group| {
                let Some(mut chunks) = group.columns_under_root_iter(name) else {
                    return false;
                };
                chunks.all(|chunk| {
                    matches!(
                        chunk.statistics(&metadata.footer_buf),
                        Some(Ok(statistics)) if statistics.null_count() == Some(0)
                    )
                })
            })
        });
    }
    candidates
}

/// Returns the loader's conventions as expressions: datetime text parsed in UTC, string nulls
/// as empty strings (except in the columns `without_nulls`), datetimes in nanoseconds without
/// a time zone, and timespans in nanoseconds.
fn conventions(
    schema: &Schema,
    datetimes: &[(String, &str)],
    without_nulls: &[String],
) -> Vec<Expr> {
    let mut expressions = Vec::new();
    for (name, dtype) in schema.iter() {
        let column = col(name.clone());
        if let Some((_, format)) = datetimes.iter().find(|(n, _)| n == name.as_str()) {
            let options = StrptimeOptions {
                format: Some((*format).into()),
                strict: true,
                exact: true,
                cache: true,
            };
            expressions.push(column.str().to_datetime(
                Some(TimeUnit::Nanoseconds),
                None,
                options,
                lit("raise"),
            ));
            continue;
        }
        match dtype {
            DataType::String if without_nulls.iter().any(|n| n == name.as_str()) => {}
            DataType::String => expressions.push(column.fill_null(lit(""))),
            DataType::Datetime(unit, zone) if *unit != TimeUnit::Nanoseconds || zone.is_some() => {
                expressions.push(column.cast(DataType::Datetime(TimeUnit::Nanoseconds, None)));
            }
            DataType::Date => {
                expressions.push(column.cast(DataType::Datetime(TimeUnit::Nanoseconds, None)));
            }
            DataType::Duration(unit) if *unit != TimeUnit::Nanoseconds => {
                expressions.push(column.cast(DataType::Duration(TimeUnit::Nanoseconds)));
            }
            _ => {}
        }
    }
    expressions
}
