//! Parquet export of a query result, local or remote, for `quarry run --format parquet`.
//!
//! Each column keeps its Kusto type where Parquet has one: `long` and `int` become Int64,
//! `real` Float64, `bool` Boolean, `datetime` a timestamp in nanoseconds (UTC, without a zone,
//! as the local engine reads Parquet), and `timespan` a duration in nanoseconds. `string`,
//! `guid`, `decimal` and `dynamic` become UTF-8 text, dynamic values as JSON. A cell that does
//! not fit its column's type makes the whole column text, so no value is lost.

use std::fs::File;
use std::path::Path;

use anyhow::Context;
use chrono::DateTime;
use polars::prelude::{
    DataFrame, DataType, IntoColumn, NamedFrom, ParquetWriter, Series, TimeUnit,
};
use quarry_engine::QueryOutput;
use serde_json::Value;

/// Writes `output` to `path` as one Parquet file.
pub fn write_parquet(output: &QueryOutput, path: &Path) -> anyhow::Result<()> {
    let mut columns = Vec::with_capacity(output.columns.len());
    for (index, info) in output.columns.iter().enumerate() {
        let cells: Vec<&Value> = output
            .rows
            .iter()
            .map(|row| row.get(index).unwrap_or(&Value::Null))
            .collect();
        columns.push(column(&info.name, &info.ty, &cells)?.into_column());
    }
    let mut frame = DataFrame::new(output.rows.len(), columns)
        .context("failed to assemble the result for Parquet")?;
    let file =
        File::create(path).with_context(|| format!("failed to create `{}`", path.display()))?;
    ParquetWriter::new(file)
        .finish(&mut frame)
        .with_context(|| format!("failed to write Parquet to `{}`", path.display()))?;
    Ok(())
}

/// Builds one column in the Parquet type of the Kusto type `ty`, or as text when a cell does
/// not fit that type.
fn column(name: &str, ty: &str, cells: &[&Value]) -> anyhow::Result<Series> {
    let typed = match ty {
        "long" | "int" => {
            typed(cells, Value::as_i64).map(|values| Series::new(name.into(), values))
        }
        "real" | "double" => {
            typed(cells, Value::as_f64).map(|values| Series::new(name.into(), values))
        }
        "bool" | "boolean" => {
            typed(cells, Value::as_bool).map(|values| Series::new(name.into(), values))
        }
        "datetime" | "date" => typed(cells, datetime_nanos)
            .map(|values| {
                Series::new(name.into(), values)
                    .cast(&DataType::Datetime(TimeUnit::Nanoseconds, None))
            })
            .transpose()?,
        "timespan" | "time" => typed(cells, timespan_nanos)
            .map(|values| {
                Series::new(name.into(), values).cast(&DataType::Duration(TimeUnit::Nanoseconds))
            })
            .transpose()?,
        _ => None,
    };
    Ok(typed.unwrap_or_else(|| {
        let texts: Vec<Option<String>> = cells.iter().map(|cell| text(cell)).collect();
        Series::new(name.into(), texts)
    }))
}

/// Converts every cell with `convert`, nulls staying null. Returns `None` when a cell does not
/// convert.
fn typed<T>(cells: &[&Value], convert: impl Fn(&Value) -> Option<T>) -> Option<Vec<Option<T>>> {
    cells
        .iter()
        .map(|cell| match cell {
            Value::Null => Some(None),
            value => convert(value).map(Some),
        })
        .collect()
}

fn text(cell: &Value) -> Option<String> {
    match cell {
        Value::Null => None,
        Value::String(text) => Some(text.clone()),
        other => Some(other.to_string()),
    }
}

fn datetime_nanos(cell: &Value) -> Option<i64> {
    let instant = DateTime::parse_from_rfc3339(cell.as_str()?).ok()?;
    instant.timestamp_nanos_opt()
}

/// Reads Kusto's timespan text, `[-][d.]hh:mm:ss[.fffffff]`, as nanoseconds.
fn timespan_nanos(cell: &Value) -> Option<i64> {
    let text = cell.as_str()?.trim();
    let (negative, body) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (clock, fraction) = match body.split_once(':') {
        Some(_) => match body.rsplit_once('.') {
            Some((clock, fraction)) if !fraction.contains(':') => (clock, fraction),
            _ => (body, ""),
        },
        None => return None,
    };
    let (days, clock) = match clock.split_once('.') {
        Some((days, clock)) => (days.parse::<i64>().ok()?, clock),
        None => (0, clock),
    };
    let parts: Vec<i64> = clock
        .split(':')
        .map(|part| part.parse::<i64>().ok())
        .collect::<Option<_>>()?;
    let [hours, minutes, seconds] = parts.as_slice() else {
        return None;
    };
    if fraction.len() > 9 || !fraction.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let fraction_nanos = if fraction.is_empty() {
        0
    } else {
        format!("{fraction:0<9}").parse::<i64>().ok()?
    };
    let whole_seconds = ((days * 24 + hours) * 60 + minutes) * 60 + seconds;
    let nanos = whole_seconds
        .checked_mul(1_000_000_000)?
        .checked_add(fraction_nanos)?;
    Some(if negative { -nanos } else { nanos })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn timespan_forms() {
        assert_eq!(timespan_nanos(&json!("01:30:00")), Some(5_400_000_000_000));
        assert_eq!(
            timespan_nanos(&json!("1.00:00:01.5")),
            Some(86_401_500_000_000)
        );
        assert_eq!(timespan_nanos(&json!("-00:00:00.0000001")), Some(-100));
        assert_eq!(timespan_nanos(&json!("90s")), None);
        assert_eq!(timespan_nanos(&json!(12)), None);
    }

    #[test]
    fn mixed_column_falls_back_to_text() {
        let cells = [&json!(1), &json!("two"), &Value::Null];
        let series = column("n", "long", &cells).unwrap();
        assert_eq!(series.dtype(), &DataType::String);
        let long = column("n", "long", &[&json!(1), &Value::Null]).unwrap();
        assert_eq!(long.dtype(), &DataType::Int64);
    }
}
