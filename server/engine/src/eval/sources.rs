//! Sources that make rows without a table: `datatable`, `print` and `range`.

use std::ops::Range;

use polars::prelude::{DataFrame, IntoLazy as _, LazyFrame, Schema};

use super::Bindings;
use super::expr::{
    AggregateMode, Compiled, ExprCompiler, Scope, evaluate_constant, parse_type_name,
};
use super::value::{Value, build_column};
use crate::EngineError;
use crate::ast::{Expr, Ident, Literal, NamedExpr};
use crate::eval::types::KqlType;

/// The most rows `range` may make, so that a typo in `step` cannot exhaust memory.
const MAX_RANGE_ROWS: i64 = 100_000_000;

fn compile_constant(
    expr: &Expr,
    bindings: &Bindings,
    now_nanos: i64,
) -> Result<(Compiled, Literal), EngineError> {
    let empty = Schema::default();
    let scope = Scope {
        schema: &empty,
        lets: &bindings.scalars,
        functions: &bindings.functions,
        tables: &bindings.tables,
        now_nanos,
    };
    let compiled = ExprCompiler::new(&scope, AggregateMode::Forbidden).compile(expr)?;
    let literal = evaluate_constant(&compiled)
        .ok_or_else(|| EngineError::at("expected a constant value here", expr.range.clone()))?;
    Ok((compiled, literal))
}

fn literal_to_value(literal: Literal) -> Value {
    match literal {
        Literal::Null => Value::Null,
        Literal::Bool(flag) => Value::Bool(flag),
        Literal::Long(n) => Value::Long(n),
        Literal::Real(x) => Value::Real(x),
        Literal::String(text) => Value::String(text),
        Literal::Datetime(n) => Value::Datetime(n),
        Literal::Timespan(n) => Value::Timespan(n),
        Literal::Dynamic(json) => Value::Dynamic(json),
    }
}

/// Builds the rows of `datatable(A: type, ...) [values]`.
pub(super) fn datatable(
    columns: &[(Ident, String)],
    values: &[Expr],
    range: Range<usize>,
    bindings: &Bindings,
    now_nanos: i64,
) -> Result<LazyFrame, EngineError> {
    if columns.is_empty() {
        return Err(EngineError::at(
            "`datatable` needs at least one column",
            range,
        ));
    }
    if !values.len().is_multiple_of(columns.len()) {
        return Err(EngineError::at(
            format!(
                "`datatable` has {} values, which is not a multiple of its {} columns",
                values.len(),
                columns.len()
            ),
            range,
        ));
    }
    let mut types = Vec::with_capacity(columns.len());
    for (name, type_name) in columns {
        types.push(parse_type_name(type_name).ok_or_else(|| {
            EngineError::at(format!("unknown type `{type_name}`"), name.range.clone())
        })?);
    }
    let mut cells: Vec<Vec<Value>> = vec![Vec::new(); columns.len()];
    for (index, expr) in values.iter().enumerate() {
        let column = index % columns.len();
        let (_, literal) = compile_constant(expr, bindings, now_nanos)?;
        let value = literal_to_value(literal);
        let expected = types[column];
        let fits = matches!(
            (&value, expected),
            (Value::Null, _)
                | (Value::Long(_), KqlType::Long | KqlType::Int | KqlType::Real)
                | (Value::Real(_), KqlType::Real)
                | (Value::String(_), KqlType::String)
                | (Value::Bool(_), KqlType::Bool)
                | (Value::Datetime(_), KqlType::Datetime)
                | (Value::Timespan(_), KqlType::Timespan)
                | (_, KqlType::Dynamic)
        );
        if !fits {
            return Err(EngineError::at(
                format!(
                    "this value does not fit the column `{}` of type {}",
                    columns[column].0.name,
                    expected.name()
                ),
                expr.range.clone(),
            ));
        }
        let value = match (value, expected) {
            (Value::Long(n), KqlType::Real) => Value::Real(n as f64),
            (Value::Null, _) => Value::Null,
            (other, KqlType::Dynamic) => Value::Dynamic(other.into_json()),
            (other, _) => other,
        };
        cells[column].push(value);
    }
    let mut frame_columns = Vec::with_capacity(columns.len());
    for ((name, _), (values, ty)) in columns.iter().zip(cells.into_iter().zip(types)) {
        // Kusto strings are never null, but a datatable's null string stays empty.
        let column = build_column(name.name.as_str().into(), values, ty).map_err(|error| {
            EngineError::at(format!("invalid datatable: {error}"), name.range.clone())
        })?;
        frame_columns.push(column);
    }
    let frame = DataFrame::new_infer_height(frame_columns)
        .map_err(|error| EngineError::at(format!("invalid datatable: {error}"), range))?;
    Ok(frame.lazy())
}

/// Builds the one row of `print`. Unnamed columns are `print_0`, `print_1` and so on.
pub(super) fn print(
    columns: &[NamedExpr],
    bindings: &Bindings,
    now_nanos: i64,
) -> Result<LazyFrame, EngineError> {
    let empty = Schema::default();
    let scope = Scope {
        schema: &empty,
        lets: &bindings.scalars,
        functions: &bindings.functions,
        tables: &bindings.tables,
        now_nanos,
    };
    let compiler = ExprCompiler::new(&scope, AggregateMode::Forbidden);
    let mut exprs = Vec::with_capacity(columns.len());
    for (index, column) in columns.iter().enumerate() {
        let compiled = compiler.compile(&column.expr)?;
        let name = match &column.name {
            Some(name) => name.name.clone(),
            None => format!("print_{index}"),
        };
        exprs.push(compiled.output_expr().alias(name));
    }
    Ok(DataFrame::empty_with_height(1).lazy().select(exprs))
}

/// Builds `range Name from A to B step S`: numbers, datetimes or timespans, `to` inclusive.
pub(super) fn range(
    name: &Ident,
    from: &Expr,
    to: &Expr,
    step: &Expr,
    bindings: &Bindings,
    now_nanos: i64,
) -> Result<LazyFrame, EngineError> {
    let (_, start) = compile_constant(from, bindings, now_nanos)?;
    let (_, end) = compile_constant(to, bindings, now_nanos)?;
    let (_, stride) = compile_constant(step, bindings, now_nanos)?;
    let count = |span: f64, stride: f64| -> Result<i64, EngineError> {
        if stride == 0.0 || !stride.is_finite() {
            return Err(EngineError::at(
                "`range` needs a non-zero step",
                step.range.clone(),
            ));
        }
        let rows = (span / stride).floor() + 1.0;
        if rows > MAX_RANGE_ROWS as f64 {
            return Err(EngineError::at(
                format!("`range` would make more than {MAX_RANGE_ROWS} rows; use a larger step"),
                step.range.clone(),
            ));
        }
        Ok(rows.max(0.0) as i64)
    };
    let (values, ty): (Vec<Value>, KqlType) = match (start, end, stride) {
        (Literal::Long(a), Literal::Long(b), Literal::Long(s)) => {
            let rows = count((b - a) as f64, s as f64)?;
            (
                (0..rows).map(|i| Value::Long(a + i * s)).collect(),
                KqlType::Long,
            )
        }
        (Literal::Datetime(a), Literal::Datetime(b), Literal::Timespan(s)) => {
            let rows = count((b - a) as f64, s as f64)?;
            (
                (0..rows).map(|i| Value::Datetime(a + i * s)).collect(),
                KqlType::Datetime,
            )
        }
        (Literal::Timespan(a), Literal::Timespan(b), Literal::Timespan(s)) => {
            let rows = count((b - a) as f64, s as f64)?;
            (
                (0..rows).map(|i| Value::Timespan(a + i * s)).collect(),
                KqlType::Timespan,
            )
        }
        (a, b, s) => {
            let as_real = |literal: &Literal| match literal {
                Literal::Long(n) => Some(*n as f64),
                Literal::Real(x) => Some(*x),
                _ => None,
            };
            let (Some(a), Some(b), Some(s)) = (as_real(&a), as_real(&b), as_real(&s)) else {
                return Err(EngineError::at(
                    "`range` needs numbers, or datetimes or timespans with a timespan step",
                    from.range.start..step.range.end,
                ));
            };
            let rows = count(b - a, s)?;
            (
                (0..rows).map(|i| Value::Real(a + i as f64 * s)).collect(),
                KqlType::Real,
            )
        }
    };
    let column = build_column(name.name.as_str().into(), values, ty)
        .map_err(|error| EngineError::at(format!("`range` failed: {error}"), name.range.clone()))?;
    let frame = DataFrame::new_infer_height(vec![column])
        .map_err(|error| EngineError::at(format!("`range` failed: {error}"), name.range.clone()))?;
    Ok(frame.lazy())
}

/// Converts a literal to the JSON it takes inside a dynamic array.
pub(super) fn literal_json(literal: Literal) -> serde_json::Value {
    literal_to_value(literal).into_json()
}
