//! Converting a result frame into [`QueryOutput`]: KQL type names and JSON cell values.

use polars::prelude::{AnyValue, Column, DataFrame, DataType, TimeUnit};
use serde_json::Value;

use crate::eval::types::KqlType;
use crate::{ColumnInfo, EngineError, QueryOutput};

/// Converts the first `max_rows` rows of `frame`.
pub fn to_output(frame: &DataFrame, max_rows: usize) -> Result<QueryOutput, EngineError> {
    let row_count = frame.height();
    let shown = row_count.min(max_rows);
    let head = frame.head(Some(shown));

    let columns: Vec<ColumnInfo> = head
        .columns()
        .iter()
        .map(|column| ColumnInfo {
            name: column.name().to_string(),
            ty: type_name(column.dtype()).to_owned(),
        })
        .collect();

    let mut rows: Vec<Vec<Value>> = (0..shown)
        .map(|_| Vec::with_capacity(columns.len()))
        .collect();
    for column in head.columns() {
        for (row, cell) in rows.iter_mut().zip(column_values(column)?) {
            row.push(cell);
        }
    }
    Ok(QueryOutput {
        columns,
        rows,
        row_count,
        truncated: shown < row_count,
        render: None,
    })
}

fn type_name(dtype: &DataType) -> &'static str {
    KqlType::from_polars(dtype).name()
}

fn column_values(column: &Column) -> Result<Vec<Value>, EngineError> {
    let series = column.as_materialized_series();
    let mut values = Vec::with_capacity(series.len());
    for index in 0..series.len() {
        let value = series.get(index).map_err(|error| {
            EngineError::new(format!(
                "cannot read the result column `{}`: {error}",
                column.name()
            ))
        })?;
        values.push(any_value_to_json(&value));
    }
    Ok(values)
}

/// Converts one cell. Datetimes become ISO-8601 strings in UTC with Kusto's seven fractional
/// digits, and timespans Kusto's `[-][d.]hh:mm:ss[.fffffff]` text.
pub fn any_value_to_json(value: &AnyValue<'_>) -> Value {
    match value {
        AnyValue::Null => Value::Null,
        AnyValue::Boolean(b) => Value::Bool(*b),
        AnyValue::String(s) => Value::String((*s).to_owned()),
        AnyValue::StringOwned(s) => Value::String(s.to_string()),
        AnyValue::Int8(v) => Value::from(*v),
        AnyValue::Int16(v) => Value::from(*v),
        AnyValue::Int32(v) => Value::from(*v),
        AnyValue::Int64(v) => Value::from(*v),
        AnyValue::UInt8(v) => Value::from(*v),
        AnyValue::UInt16(v) => Value::from(*v),
        AnyValue::UInt32(v) => Value::from(*v),
        AnyValue::UInt64(v) => Value::from(*v),
        AnyValue::Float32(v) => float(f64::from(*v)),
        AnyValue::Float64(v) => float(*v),
        AnyValue::Datetime(v, unit, _) => Value::String(format_datetime(to_nanos(*v, *unit))),
        AnyValue::DatetimeOwned(v, unit, _) => Value::String(format_datetime(to_nanos(*v, *unit))),
        AnyValue::Date(days) => {
            Value::String(format_datetime(i64::from(*days) * 86_400_000_000_000))
        }
        AnyValue::Duration(v, unit) => Value::String(format_timespan(to_nanos(*v, *unit))),
        // The engine stores dynamic values as JSON text in binary columns.
        AnyValue::Binary(bytes) => serde_json::from_slice(bytes).unwrap_or(Value::Null),
        AnyValue::BinaryOwned(bytes) => serde_json::from_slice(bytes).unwrap_or(Value::Null),
        AnyValue::List(series) => {
            let items = (0..series.len())
                .map(|i| {
                    series
                        .get(i)
                        .map(|v| any_value_to_json(&v))
                        .unwrap_or(Value::Null)
                })
                .collect();
            Value::Array(items)
        }
        other => Value::String(other.to_string()),
    }
}

/// NaN and infinities have no JSON number; they are written as null.
fn float(value: f64) -> Value {
    serde_json::Number::from_f64(value)
        .map(Value::Number)
        .unwrap_or(Value::Null)
}

fn to_nanos(value: i64, unit: TimeUnit) -> i64 {
    match unit {
        TimeUnit::Nanoseconds => value,
        TimeUnit::Microseconds => value.saturating_mul(1_000),
        TimeUnit::Milliseconds => value.saturating_mul(1_000_000),
    }
}

/// Formats nanoseconds since the Unix epoch as `2019-01-15T05:24:24.0100000Z`.
pub fn format_datetime(nanos: i64) -> String {
    let datetime = chrono::DateTime::from_timestamp_nanos(nanos);
    let ticks = datetime.timestamp_subsec_nanos() / 100;
    format!("{}.{ticks:07}Z", datetime.format("%Y-%m-%dT%H:%M:%S"))
}

/// Formats nanoseconds as a Kusto timespan such as `01:30:00` or `-2.00:00:00.5000000`.
pub fn format_timespan(nanos: i64) -> String {
    let sign = if nanos < 0 { "-" } else { "" };
    let total = nanos.unsigned_abs();
    let ticks = (total % 1_000_000_000) / 100;
    let seconds = total / 1_000_000_000;
    let days = seconds / 86_400;
    let hours = seconds / 3_600 % 24;
    let minutes = seconds / 60 % 60;
    let secs = seconds % 60;
    let mut text = String::from(sign);
    if days > 0 {
        text.push_str(&format!("{days}."));
    }
    text.push_str(&format!("{hours:02}:{minutes:02}:{secs:02}"));
    if ticks > 0 {
        text.push_str(&format!(".{ticks:07}"));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datetime_format_has_seven_digits() {
        // 2019-01-15 05:24:24.010 UTC.
        let nanos = 1_547_529_864_010_000_000;
        assert_eq!(format_datetime(nanos), "2019-01-15T05:24:24.0100000Z");
    }

    #[test]
    fn timespan_formats() {
        assert_eq!(format_timespan(90 * 60 * 1_000_000_000), "01:30:00");
        assert_eq!(
            format_timespan(-(2 * 86_400 * 1_000_000_000 + 500_000_000)),
            "-2.00:00:00.5000000"
        );
        assert_eq!(format_timespan(0), "00:00:00");
    }
}
