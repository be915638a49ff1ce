//! Datetime text in loaded columns.
//!
//! The loader reads a sample of each text column and decides its layout once; then it parses
//! the whole column with that layout. A column becomes datetime only when every non-empty
//! value parses. The layouts, all read as UTC unless the value carries an offset:
//! - ISO 8601 dates with a time: `2024-05-01T10:00:00`, `2024-05-01 10:00`, with optional
//!   fractional seconds and an optional `Z` or `+hh:mm`/`-hh:mm` offset. One column may mix
//!   these forms.
//! - The US layout `M/d/yyyy H:mm`, `M/d/yyyy H:mm:ss[.fff]` or `M/d/yyyy h:mm:ss AM`, as
//!   MSTICPy's sample CSVs and Excel write it. `todatetime()` reads the same layouts.

use polars::prelude::*;

/// Values sampled from a text column to decide whether it contains datetimes.
pub(crate) const DATETIME_SAMPLE: usize = 200;

/// ISO layouts, tried in order. Each one can be handed to polars' `strptime`.
const ISO_FORMATS: &[&str] = &[
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%dT%H:%M:%S%.fZ",
    "%Y-%m-%d %H:%M:%S%.fZ",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%dT%H:%M:%S%.f%:z",
    "%Y-%m-%d %H:%M:%S%.f%:z",
];

/// US layouts (month first), the ones `todatetime()` reads.
const US_FORMATS: &[&str] = &[
    "%m/%d/%Y %H:%M:%S%.f",
    "%m/%d/%Y %I:%M:%S %p",
    "%m/%d/%Y %H:%M",
];

/// Text layout of the datetimes in one column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DatetimeLayout {
    /// Every value has this one ISO layout.
    Uniform(&'static str),
    /// ISO values in several layouts.
    Iso,
    /// Month-first US values.
    Us,
}

impl DatetimeLayout {
    /// Returns the polars `strptime` format when polars can parse the column on its own.
    pub(crate) fn lazy_format(self) -> Option<&'static str> {
        match self {
            // polars' `strptime` keeps the offset as a time zone; the eager loader converts it.
            DatetimeLayout::Uniform(format) if format.ends_with("%:z") => None,
            DatetimeLayout::Uniform(format) => Some(format),
            DatetimeLayout::Iso | DatetimeLayout::Us => None,
        }
    }

    fn parse(self, value: &str) -> Option<i64> {
        match self {
            DatetimeLayout::Uniform(format) => parse_with(value, format),
            DatetimeLayout::Iso => parse_any(value, ISO_FORMATS),
            DatetimeLayout::Us => parse_any(value, US_FORMATS),
        }
    }
}

/// Parses `value` with `format` into nanoseconds since the Unix epoch, UTC.
///
/// Formats with a UTC offset (`%:z`) are converted to UTC; the others are read as UTC.
fn parse_with(value: &str, format: &str) -> Option<i64> {
    if format.ends_with("%:z") {
        let datetime = chrono::DateTime::parse_from_str(value, format).ok()?;
        return datetime.timestamp_nanos_opt();
    }
    let datetime = chrono::NaiveDateTime::parse_from_str(value, format).ok()?;
    datetime.and_utc().timestamp_nanos_opt()
}

fn parse_any(value: &str, formats: &[&str]) -> Option<i64> {
    formats.iter().find_map(|format| parse_with(value, format))
}

/// Parses a datetime in any layout the loader detects, for explicit `datetime` columns.
pub(crate) fn parse_loader_datetime(value: &str) -> Option<i64> {
    parse_any(value, ISO_FORMATS).or_else(|| parse_any(value, US_FORMATS))
}

/// Returns the layout that every sampled non-empty value of `column` has, if any.
pub(crate) fn detect_datetime_layout(column: &Series) -> PolarsResult<Option<DatetimeLayout>> {
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
    let all = |layout: DatetimeLayout| sample.iter().all(|value| layout.parse(value).is_some());
    let uniform = ISO_FORMATS
        .iter()
        .copied()
        .map(DatetimeLayout::Uniform)
        .find(|layout| all(*layout));
    Ok(uniform.or_else(|| {
        [DatetimeLayout::Iso, DatetimeLayout::Us]
            .into_iter()
            .find(|layout| all(*layout))
    }))
}

/// Parses a text column with `layout`, or returns `None` when some non-empty value fails.
pub(crate) fn parse_column(
    column: &Series,
    layout: DatetimeLayout,
) -> PolarsResult<Option<Series>> {
    let values = column.str()?;
    let mut failed = false;
    let parsed: Int64Chunked = values
        .iter()
        .map(|value| {
            let value = value.map(str::trim).filter(|v| !v.is_empty())?;
            let nanos = layout.parse(value);
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
