//! Row-at-a-time KQL values, for functions that polars has no expression for.
//!
//! [`row_function`] builds a polars expression that reads its input columns into [`Value`]s,
//! calls a Rust closure once per row and writes the results into a column of a fixed KQL type.
//! Dynamic values are stored in polars as `Binary` columns that hold JSON text, so that the
//! schema keeps them apart from strings; [`read_column`] also accepts polars lists.

use polars::prelude::{
    AnyValue, BinaryChunked, BooleanChunked, Column, DataType, Expr as PlExpr, Field,
    Float64Chunked, Int32Chunked, Int64Chunked, IntoColumn as _, IntoSeries as _,
    NewChunkedArray as _, PlSmallStr, PolarsResult, StringChunked, TimeUnit, map_multiple,
};
use serde_json::Value as Json;

use crate::eval::types::KqlType;
use crate::output::{any_value_to_json, format_datetime, format_timespan};

/// One KQL scalar value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Long(i64),
    Real(f64),
    String(String),
    /// Nanoseconds since the Unix epoch, UTC.
    Datetime(i64),
    /// Nanoseconds.
    Timespan(i64),
    Dynamic(Json),
}

impl Value {
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null | Value::Dynamic(Json::Null))
    }

    /// Returns the text of a string value, and of a dynamic value that contains a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(text) => Some(text),
            Value::Dynamic(Json::String(text)) => Some(text),
            _ => None,
        }
    }

    /// Returns the value as `tostring()` does: strings as they are, null as the empty string,
    /// datetimes and timespans in Kusto's text forms, and other dynamic values as JSON.
    pub fn to_text(&self) -> String {
        match self {
            Value::Null => String::new(),
            Value::Bool(flag) => flag.to_string(),
            Value::Long(n) => n.to_string(),
            Value::Real(x) => format_real(*x),
            Value::String(text) => text.clone(),
            Value::Datetime(nanos) => format_datetime(*nanos),
            Value::Timespan(nanos) => format_timespan(*nanos),
            Value::Dynamic(Json::Null) => String::new(),
            Value::Dynamic(Json::String(text)) => text.clone(),
            Value::Dynamic(json) => json.to_string(),
        }
    }

    /// Returns the value as a long, converting reals by truncation and numeric text by parsing.
    pub fn to_long(&self) -> Option<i64> {
        match self {
            Value::Long(n) => Some(*n),
            Value::Real(x) if x.is_finite() => Some(x.trunc() as i64),
            Value::Bool(flag) => Some(i64::from(*flag)),
            Value::Datetime(n) | Value::Timespan(n) => Some(*n / 100),
            Value::String(text) => parse_long_text(text),
            Value::Dynamic(Json::Number(n)) => n.as_i64().or_else(|| {
                n.as_f64()
                    .filter(|x| x.is_finite())
                    .map(|x| x.trunc() as i64)
            }),
            Value::Dynamic(Json::String(text)) => parse_long_text(text),
            Value::Dynamic(Json::Bool(flag)) => Some(i64::from(*flag)),
            _ => None,
        }
    }

    /// Returns the value as a real, parsing numeric text.
    pub fn to_real(&self) -> Option<f64> {
        match self {
            Value::Long(n) => Some(*n as f64),
            Value::Real(x) => Some(*x),
            Value::Bool(flag) => Some(f64::from(u8::from(*flag))),
            Value::String(text) => parse_real_text(text),
            Value::Dynamic(Json::Number(n)) => n.as_f64(),
            Value::Dynamic(Json::String(text)) => parse_real_text(text),
            Value::Dynamic(Json::Bool(flag)) => Some(f64::from(u8::from(*flag))),
            _ => None,
        }
    }

    /// Returns the value as JSON, the form it takes inside a dynamic array or bag.
    pub fn to_json(&self) -> Json {
        match self {
            Value::Null => Json::Null,
            Value::Bool(flag) => Json::Bool(*flag),
            Value::Long(n) => Json::from(*n),
            Value::Real(x) => serde_json::Number::from_f64(*x)
                .map(Json::Number)
                .unwrap_or(Json::Null),
            Value::String(text) => Json::String(text.clone()),
            Value::Datetime(nanos) => Json::String(format_datetime(*nanos)),
            Value::Timespan(nanos) => Json::String(format_timespan(*nanos)),
            Value::Dynamic(json) => json.clone(),
        }
    }

    /// Returns the dynamic content of the value: the JSON of a dynamic value, or the scalar
    /// wrapped as JSON.
    pub fn into_json(self) -> Json {
        match self {
            Value::Dynamic(json) => json,
            other => other.to_json(),
        }
    }
}

fn parse_long_text(text: &str) -> Option<i64> {
    let text = text.trim();
    text.parse::<i64>().ok().or_else(|| {
        text.parse::<f64>()
            .ok()
            .filter(|x| x.is_finite())
            .map(|x| x.trunc() as i64)
    })
}

fn parse_real_text(text: &str) -> Option<f64> {
    let text = text.trim();
    match text.to_ascii_lowercase().as_str() {
        "nan" => Some(f64::NAN),
        "inf" | "+inf" | "infinity" => Some(f64::INFINITY),
        "-inf" | "-infinity" => Some(f64::NEG_INFINITY),
        _ => text.parse().ok(),
    }
}

/// Formats a real the way Kusto prints it: whole numbers without a fraction.
pub fn format_real(x: f64) -> String {
    if x.is_nan() {
        "NaN".to_owned()
    } else if x.is_infinite() {
        if x > 0.0 { "Infinity" } else { "-Infinity" }.to_owned()
    } else {
        x.to_string()
    }
}

/// Converts one polars cell. A `Binary` cell is dynamic JSON text.
pub fn from_any_value(value: &AnyValue<'_>) -> Value {
    match value {
        AnyValue::Null => Value::Null,
        AnyValue::Boolean(flag) => Value::Bool(*flag),
        AnyValue::String(text) => Value::String((*text).to_owned()),
        AnyValue::StringOwned(text) => Value::String(text.to_string()),
        AnyValue::Int8(n) => Value::Long(i64::from(*n)),
        AnyValue::Int16(n) => Value::Long(i64::from(*n)),
        AnyValue::Int32(n) => Value::Long(i64::from(*n)),
        AnyValue::Int64(n) => Value::Long(*n),
        AnyValue::UInt8(n) => Value::Long(i64::from(*n)),
        AnyValue::UInt16(n) => Value::Long(i64::from(*n)),
        AnyValue::UInt32(n) => Value::Long(i64::from(*n)),
        AnyValue::UInt64(n) => Value::Long(i64::try_from(*n).unwrap_or(i64::MAX)),
        AnyValue::Float32(x) => Value::Real(f64::from(*x)),
        AnyValue::Float64(x) => Value::Real(*x),
        AnyValue::Datetime(n, unit, _) => Value::Datetime(to_nanos(*n, *unit)),
        AnyValue::DatetimeOwned(n, unit, _) => Value::Datetime(to_nanos(*n, *unit)),
        AnyValue::Date(days) => Value::Datetime(i64::from(*days) * 86_400_000_000_000),
        AnyValue::Duration(n, unit) => Value::Timespan(to_nanos(*n, *unit)),
        AnyValue::Binary(bytes) => Value::Dynamic(parse_dynamic_bytes(bytes)),
        AnyValue::BinaryOwned(bytes) => Value::Dynamic(parse_dynamic_bytes(bytes)),
        other => Value::Dynamic(any_value_to_json(other)),
    }
}

fn parse_dynamic_bytes(bytes: &[u8]) -> Json {
    serde_json::from_slice(bytes).unwrap_or(Json::Null)
}

fn to_nanos(value: i64, unit: TimeUnit) -> i64 {
    match unit {
        TimeUnit::Nanoseconds => value,
        TimeUnit::Microseconds => value.saturating_mul(1_000),
        TimeUnit::Milliseconds => value.saturating_mul(1_000_000),
    }
}

/// Reads every cell of `column`.
pub fn read_column(column: &Column) -> Vec<Value> {
    let series = column.as_materialized_series();
    series.iter().map(|value| from_any_value(&value)).collect()
}

/// Writes `values` into a column of the polars type of `ty`. A value of another type is
/// converted where KQL converts it implicitly (long to real) and is null otherwise. Strings
/// are never null in Kusto, so a null string result is written as the empty string.
pub fn build_column(name: PlSmallStr, values: Vec<Value>, ty: KqlType) -> PolarsResult<Column> {
    let series = match ty {
        KqlType::String => StringChunked::from_iter_values(
            name,
            values.iter().map(|value| match value {
                Value::Null => String::new(),
                other => other.to_text(),
            }),
        )
        .into_series(),
        KqlType::Long => Int64Chunked::from_iter_options(
            name,
            values.iter().map(|value| match value {
                Value::Long(n) => Some(*n),
                Value::Dynamic(Json::Number(n)) => n.as_i64(),
                _ => None,
            }),
        )
        .into_series(),
        KqlType::Int => Int32Chunked::from_iter_options(
            name,
            values.iter().map(|value| match value {
                Value::Long(n) => i32::try_from(*n).ok(),
                _ => None,
            }),
        )
        .into_series(),
        KqlType::Real => Float64Chunked::from_iter_options(
            name,
            values.iter().map(|value| match value {
                Value::Real(x) => Some(*x),
                Value::Long(n) => Some(*n as f64),
                Value::Dynamic(Json::Number(n)) => n.as_f64(),
                _ => None,
            }),
        )
        .into_series(),
        KqlType::Bool => BooleanChunked::from_iter_options(
            name,
            values.iter().map(|value| match value {
                Value::Bool(flag) => Some(*flag),
                Value::Dynamic(Json::Bool(flag)) => Some(*flag),
                _ => None,
            }),
        )
        .into_series(),
        KqlType::Datetime | KqlType::Timespan => {
            let ticks = Int64Chunked::from_iter_options(
                name,
                values.iter().map(|value| match value {
                    Value::Datetime(n) | Value::Timespan(n) => Some(*n),
                    _ => None,
                }),
            )
            .into_series();
            ticks.cast(&ty.to_polars())?
        }
        KqlType::Dynamic | KqlType::Null => BinaryChunked::from_iter_options(
            name,
            // A dynamic null is written as a polars null, so that isnull() returns true for it.
            values.into_iter().map(|value| match value.into_json() {
                Json::Null => None,
                json => Some(json.to_string().into_bytes()),
            }),
        )
        .into_series(),
    };
    Ok(series.into_column())
}

static NULL: Value = Value::Null;

/// Builds an expression that calls `function` once per row of `inputs` and returns a column of
/// type `ty`. Inputs of length one, such as literals, are repeated for every row.
///
/// `function` must depend on its arguments only: when one string or dynamic column is the
/// only input that varies, it is called once per distinct value of that column.
pub fn row_function<F>(inputs: Vec<PlExpr>, ty: KqlType, function: F) -> PlExpr
where
    F: Fn(&[&Value]) -> Value + Send + Sync + 'static,
{
    columns_function(inputs, ty, move |columns, height, name| {
        if let Some(column) = memoized_row_function(columns, height, &name, ty, &function) {
            return column;
        }
        let inputs: Vec<Vec<Value>> = columns.iter().map(read_column).collect();
        let mut row: Vec<&Value> = Vec::with_capacity(inputs.len());
        let mut results = Vec::with_capacity(height);
        for index in 0..height {
            row.clear();
            for input in &inputs {
                // A one-row input, such as a literal, applies to every row. An empty input
                // (an empty frame next to a literal) reads as null.
                row.push(match input.len() {
                    0 => &NULL,
                    1 => &input[0],
                    _ => input.get(index).unwrap_or(&NULL),
                });
            }
            results.push(function(&row));
        }
        build_column(name, results, ty)
    })
}

/// Returns an expression that calls `function` with its input columns, the height of the
/// tallest, and the name of the first, which the output column takes. The output has the
/// polars type of `ty`.
fn columns_function<F>(inputs: Vec<PlExpr>, ty: KqlType, function: F) -> PlExpr
where
    F: Fn(&mut [Column], usize, PlSmallStr) -> PolarsResult<Column> + Send + Sync + 'static,
{
    let dtype = output_dtype(ty);
    map_multiple(
        move |columns: &mut [Column]| {
            let height = columns.iter().map(Column::len).max().unwrap_or(0);
            let name = columns
                .first()
                .map(|c| c.name().clone())
                .unwrap_or_default();
            function(columns, height, name)
        },
        inputs,
        move |_, fields: &[Field]| {
            let name = fields.first().map(|f| f.name().clone()).unwrap_or_default();
            Ok(Field::new(name, dtype.clone()))
        },
    )
}

/// The label of the polars expressions that [`random_column_function`] builds.
const RANDOM_LABEL: &str = "random draw";

/// Builds an expression that computes a whole column of random values of type `ty` from
/// `inputs` in one call of `function`, which gets the input columns and the row count. Its
/// expression is labelled, so that [`draws_random`] can tell that two runs of a plan give
/// other values.
pub fn random_column_function<F>(inputs: Vec<PlExpr>, ty: KqlType, function: F) -> PlExpr
where
    F: Fn(&[Column], usize) -> PolarsResult<Column> + Send + Sync + 'static,
{
    let expr = columns_function(inputs, ty, move |columns, height, name| {
        function(columns, height).map(|column| column.with_name(name))
    });
    match expr {
        PlExpr::AnonymousFunction {
            input,
            function,
            options,
            ..
        } => PlExpr::AnonymousFunction {
            input,
            function,
            options,
            fmt_str: Box::new(RANDOM_LABEL.into()),
        },
        other => other,
    }
}

/// Returns whether `expr` contains an expression from [`random_column_function`].
pub fn draws_random(expr: &PlExpr) -> bool {
    expr.into_iter().any(|node| {
        matches!(node, PlExpr::AnonymousFunction { fmt_str, .. } if fmt_str.as_str() == RANDOM_LABEL)
    })
}

/// Runs a row function once per distinct value of its only varying input, a string or dynamic
/// column (see [`super::memo`]). The other inputs must be one-row constants; for any other
/// shape of inputs this returns `None`.
fn memoized_row_function<F>(
    columns: &[Column],
    height: usize,
    name: &PlSmallStr,
    ty: KqlType,
    function: &F,
) -> Option<PolarsResult<Column>>
where
    F: Fn(&[&Value]) -> Value,
{
    let mut varying = columns.iter().enumerate().filter(|(_, c)| c.len() > 1);
    let (position, column) = varying.next()?;
    if varying.next().is_some()
        || column.len() != height
        || columns.iter().any(|c| c.is_empty())
        || !super::memo::has_views(column)
    {
        return None;
    }
    let distinct = super::memo::distinct_views(column)?;
    let constants: Vec<Value> = columns
        .iter()
        .map(|c| match c.len() {
            1 => read_column(c).pop().unwrap_or(Value::Null),
            _ => Value::Null,
        })
        .collect();
    let series = column.as_materialized_series();
    let mut results = Vec::with_capacity(distinct.first_rows.len());
    for &first in &distinct.first_rows {
        let value = series
            .get(first)
            .map_or(Value::Null, |any| from_any_value(&any));
        let row: Vec<&Value> = constants
            .iter()
            .enumerate()
            .map(|(index, constant)| if index == position { &value } else { constant })
            .collect();
        results.push(function(&row));
    }
    Some(build_column(name.clone(), results, ty).and_then(|values| distinct.gather(&values)))
}

/// Returns the polars type that [`build_column`] writes for `ty`.
pub fn output_dtype(ty: KqlType) -> DataType {
    match ty {
        KqlType::Dynamic | KqlType::Null => DataType::Binary,
        other => other.to_polars(),
    }
}
