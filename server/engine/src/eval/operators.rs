//! Tabular operators beyond the basics: `make-series`, `top-nested`, `bag_unpack`, `search`,
//! `sample` and `getschema`.

use std::collections::HashMap;
use std::ops::Range;

use polars::prelude::{
    BinaryChunked, ChunkAgg as _, Column, DataFrame, DataType, Expr as PlExpr, Float64Chunked,
    GroupsIndicator, IdxCa, IdxSize, Int64Chunked, IntoColumn as _, IntoLazy, LazyFrame,
    NewChunkedArray as _, PlSmallStr, PolarsError, PolarsResult, Schema, Selector,
    SortMultipleOptions, StringChunked, col, lit,
};
use serde_json::Value as Json;

use super::aggregate;
use super::expr::{AggregateMode, Compiled, ExprCompiler, Scope, evaluate_constant};
use super::functions::{as_json, get_member};
use super::series_count;
use super::types::KqlType;
use super::unique_name;
use super::value::{Value, build_column, read_column, row_function};
use crate::EngineError;
use crate::ast::{
    BinaryOp, Expr, ExprKind, Ident, Literal, NamedExpr, StringOp, StringOpKind, TopNestedClause,
};

pub(super) fn collect(
    frame: LazyFrame,
    range: &Range<usize>,
    what: &str,
) -> Result<DataFrame, EngineError> {
    super::collect_plan(frame).map_err(|error| {
        EngineError::at(
            format!("`{what}` failed while running: {error}"),
            range.clone(),
        )
    })
}

/// Returns the schema's column names that `names` select, where a name may hold `*`
/// wildcards. A plain name that is not a column is an error.
pub(super) fn match_columns(schema: &Schema, names: &[Ident]) -> Result<Vec<String>, EngineError> {
    let mut matched = Vec::new();
    for name in names {
        if name.name.contains('*') {
            for column in schema.iter_names() {
                if super::wildcard_matches(&name.name, column)
                    && !matched.iter().any(|m| m == column.as_str())
                {
                    matched.push(column.to_string());
                }
            }
        } else if schema.contains(&name.name) {
            if !matched.contains(&name.name) {
                matched.push(name.name.clone());
            }
        } else {
            return Err(EngineError::at(
                format!("unknown column `{}`", name.name),
                name.range.clone(),
            ));
        }
    }
    Ok(matched)
}

/// Returns `getschema`'s rows: each column's name, position, .NET type and KQL type.
pub(super) fn getschema(schema: &Schema) -> Result<LazyFrame, EngineError> {
    let mut names = Vec::new();
    let mut ordinals = Vec::new();
    let mut dotnet = Vec::new();
    let mut kql = Vec::new();
    for (index, (name, dtype)) in schema.iter().enumerate() {
        let ty = KqlType::from_polars(dtype);
        names.push(Value::String(name.to_string()));
        ordinals.push(Value::Long(index as i64));
        dotnet.push(Value::String(
            match ty {
                KqlType::String => "System.String",
                KqlType::Long => "System.Int64",
                KqlType::Int => "System.Int32",
                KqlType::Real => "System.Double",
                KqlType::Bool => "System.Boolean",
                KqlType::Datetime => "System.DateTime",
                KqlType::Timespan => "System.TimeSpan",
                KqlType::Dynamic | KqlType::Null => "System.Object",
            }
            .to_owned(),
        ));
        kql.push(Value::String(ty.name().to_owned()));
    }
    let build = |name: &str, values: Vec<Value>, ty: KqlType| {
        build_column(name.into(), values, ty)
            .map_err(|error| EngineError::new(format!("`getschema` failed: {error}")))
    };
    let frame = DataFrame::new_infer_height(vec![
        build("ColumnName", names, KqlType::String)?,
        build("ColumnOrdinal", ordinals, KqlType::Int)?,
        build("DataType", dotnet, KqlType::String)?,
        build("ColumnType", kql, KqlType::String)?,
    ])
    .map_err(|error| EngineError::new(format!("`getschema` failed: {error}")))?;
    Ok(frame.lazy())
}

/// Applies `sample N`: N rows picked at random.
pub(super) fn sample(
    frame: LazyFrame,
    scope: &Scope<'_>,
    count: polars::prelude::IdxSize,
) -> Result<LazyFrame, EngineError> {
    let taken: Vec<String> = scope.schema.iter_names().map(|n| n.to_string()).collect();
    let index = unique_name("__sample_index", &taken);
    let key = unique_name("__sample_key", &taken);
    let random = row_function(vec![col(index.as_str())], KqlType::Real, |_| {
        Value::Real(rand::random::<f64>())
    });
    Ok(frame
        .with_row_index(index.as_str(), None)
        .with_columns([random.alias(key.as_str())])
        .sort_by_exprs([col(key.as_str())], SortMultipleOptions::default())
        .limit(count)
        .drop(Selector::ByName {
            names: vec![
                PlSmallStr::from(index.as_str()),
                PlSmallStr::from(key.as_str()),
            ]
            .into(),
            strict: true,
        }))
}

/// Infers the column type of `bag_unpack` values: one scalar type when all non-null values
/// share it, and dynamic otherwise.
fn infer_type(values: &[&Json]) -> KqlType {
    let mut ty: Option<KqlType> = None;
    for value in values {
        let this = match value {
            Json::Null => continue,
            Json::String(_) => KqlType::String,
            Json::Bool(_) => KqlType::Bool,
            Json::Number(n) if n.is_i64() => KqlType::Long,
            Json::Number(_) => KqlType::Real,
            _ => return KqlType::Dynamic,
        };
        ty = Some(match (ty, this) {
            (None, this) => this,
            (Some(a), b) if a == b => a,
            (Some(KqlType::Long), KqlType::Real) | (Some(KqlType::Real), KqlType::Long) => {
                KqlType::Real
            }
            _ => return KqlType::Dynamic,
        });
    }
    ty.unwrap_or(KqlType::Dynamic)
}

/// Applies `evaluate bag_unpack(Column [, prefix])`: one column per property of the bags,
/// in order of first appearance, replacing the bag column.
pub(super) fn bag_unpack(
    frame: LazyFrame,
    scope: &Scope<'_>,
    column: &Expr,
    prefix: Option<&str>,
    range: Range<usize>,
) -> Result<LazyFrame, EngineError> {
    let compiler = ExprCompiler::new(scope, AggregateMode::Forbidden);
    let bag = compiler.compile(column)?;
    let values = collect(
        frame.clone().select([bag.expr.clone().alias("__bag")]),
        &range,
        "bag_unpack",
    )?;
    let bags: Vec<Json> = read_column(values.column("__bag").map_err(|error| {
        EngineError::at(format!("`bag_unpack` failed: {error}"), range.clone())
    })?)
    .iter()
    .map(as_json)
    .collect();
    let mut keys: Vec<String> = Vec::new();
    let mut per_key: HashMap<String, Vec<&Json>> = HashMap::new();
    for bag in &bags {
        if let Json::Object(properties) = bag {
            for (key, value) in properties {
                if !per_key.contains_key(key) {
                    keys.push(key.clone());
                }
                per_key.entry(key.clone()).or_default().push(value);
            }
        }
    }
    let mut kept: Vec<PlExpr> = scope
        .schema
        .iter_names()
        .filter(|name| column.as_name() != Some(name.as_str()))
        .map(|name| col(name.clone()))
        .collect();
    for key in keys {
        let name = format!("{}{key}", prefix.unwrap_or(""));
        if scope.schema.contains(&name) && column.as_name() != Some(name.as_str()) {
            return Err(EngineError::at(
                format!(
                    "`bag_unpack` would add the column `{name}`, which already exists; pass a prefix as the second argument"
                ),
                range,
            ));
        }
        let ty = infer_type(&per_key[&key]);
        let key_value = Value::String(key.clone());
        let expr = row_function(vec![bag.expr.clone()], ty, move |v| {
            let member = get_member(&as_json(v[0]), &key_value);
            match (ty, member) {
                (_, Json::Null) => Value::Null,
                (KqlType::Dynamic, json) => Value::Dynamic(json),
                (KqlType::String, Json::String(text)) => Value::String(text),
                (_, json) => Value::Dynamic(json),
            }
        });
        kept.push(expr.alias(name));
    }
    Ok(frame.select(kept))
}

/// The clauses of `make-series`.
pub(super) struct MakeSeries<'a> {
    pub aggregates: &'a [(NamedExpr, Option<Expr>)],
    pub axis: &'a Expr,
    pub from: Option<&'a Expr>,
    pub to: Option<&'a Expr>,
    pub step: &'a Expr,
    pub by: &'a [NamedExpr],
}

/// Applies `make-series`: one row per group with a dynamic array per aggregate, one element
/// per step from `from` (inclusive) to `to` (exclusive), and the axis values as an array.
/// Steps without rows get the aggregate's `default`, or 0.
pub(super) fn make_series(
    frame: LazyFrame,
    scope: &Scope<'_>,
    series: MakeSeries<'_>,
    range: Range<usize>,
) -> Result<LazyFrame, EngineError> {
    let compiler = ExprCompiler::new(scope, AggregateMode::Forbidden);
    let axis = compiler.compile(series.axis)?;
    let step = compiler.compile(series.step)?;
    let step_ticks = match (evaluate_constant(&step), axis.ty) {
        (Some(Literal::Timespan(n)), KqlType::Datetime | KqlType::Timespan) if n > 0 => n as f64,
        (Some(Literal::Long(n)), ty) if ty.is_numeric() && n > 0 => n as f64,
        (Some(Literal::Real(x)), ty) if ty.is_numeric() && x > 0.0 => x,
        _ => {
            return Err(EngineError::at(
                "`step` needs a positive constant: a timespan for a datetime axis, a number for a numeric axis",
                series.step.range.clone(),
            ));
        }
    };
    let axis_number = |expr: PlExpr| -> PlExpr {
        match axis.ty {
            KqlType::Datetime | KqlType::Timespan => {
                expr.cast(DataType::Int64).cast(DataType::Float64)
            }
            _ => expr.cast(DataType::Float64),
        }
    };
    let bound = |expr: Option<&Expr>, name: &str| -> Result<Option<f64>, EngineError> {
        let Some(expr) = expr else { return Ok(None) };
        let compiled = compiler.compile(expr)?;
        match evaluate_constant(&compiled) {
            Some(Literal::Datetime(n) | Literal::Timespan(n) | Literal::Long(n)) => {
                Ok(Some(n as f64))
            }
            Some(Literal::Real(x)) => Ok(Some(x)),
            _ => Err(EngineError::at(
                format!("`{name}` needs a constant"),
                expr.range.clone(),
            )),
        }
    };
    let mut from = bound(series.from, "from")?;
    let mut to = bound(series.to, "to")?;
    if let Some(counted) = count_series(&frame, scope, &series, &axis, &step, &range)? {
        return Ok(counted);
    }
    let taken: Vec<String> = scope.schema.iter_names().map(|n| n.to_string()).collect();
    let position_name = unique_name("__position", &taken);
    let mut extended = scope.schema.clone();
    extended.with_column(position_name.as_str().into(), DataType::Int64);
    let inner = Scope {
        schema: &extended,
        lets: scope.lets,
        functions: scope.functions,
        tables: scope.tables,
        now_nanos: scope.now_nanos,
    };
    let mut by = series.by.to_vec();
    by.push(NamedExpr {
        name: None,
        expr: Expr::new(ExprKind::Name(position_name.clone()), range.clone()),
    });
    let aggregates: Vec<NamedExpr> = series.aggregates.iter().map(|(a, _)| a.clone()).collect();
    let group = |frame: LazyFrame, position: PlExpr| -> Result<DataFrame, EngineError> {
        let positioned = frame.with_columns([position.alias(position_name.as_str())]);
        let grouped =
            aggregate::summarize_with(positioned, &inner, &aggregates, &by, range.clone(), false)?;
        collect(grouped, &range, "make-series")
    };

    // Without `from` and `to`, the series span the bins of the axis values. Grouping by each
    // value's bin number finds those bins in the same pass over the rows as the aggregates.
    // The bins are then numbered from the first. A real axis keeps the two passes below,
    // because of NaN.
    let integral_axis = matches!(
        axis.ty,
        KqlType::Datetime | KqlType::Timespan | KqlType::Long | KqlType::Int
    );
    let (from, steps, grouped) = if from.is_none() && to.is_none() && integral_axis {
        let bin = (axis_number(axis.expr.clone()) / lit(step_ticks))
            .floor()
            .cast(DataType::Int64);
        let present = frame.clone().filter(axis.expr.clone().is_not_null());
        let mut grouped = group(present, bin)?;
        let key_count = series.by.len();
        let bins = grouped.columns()[key_count].i64().map_err(|error| {
            EngineError::at(format!("`make-series` failed: {error}"), range.clone())
        })?;
        // No rows and no bounds: no series, and no steps.
        let (first, last) = (bins.min().unwrap_or(0), bins.max().unwrap_or(-1));
        let steps = (i128::from(last) - i128::from(first) + 1) as usize;
        if steps > series_count::MAX_STEPS as usize {
            return Err(too_many_steps(steps as f64, &series));
        }
        let positions = (bins.clone() - first)
            .into_column()
            .with_name(position_name.as_str().into());
        grouped
            .replace_column(key_count, positions)
            .map_err(|error| {
                EngineError::at(format!("`make-series` failed: {error}"), range.clone())
            })?;
        (first as f64 * step_ticks, steps, grouped)
    } else {
        if from.is_none() || to.is_none() {
            let limits = collect(
                frame.clone().select([
                    axis_number(axis.expr.clone()).min().alias("min"),
                    axis_number(axis.expr.clone()).max().alias("max"),
                ]),
                &range,
                "make-series",
            )?;
            let read = |name: &str| first_value(&limits, name).and_then(|v| v.extract::<f64>());
            if from.is_none() {
                from = read("min").map(|min| (min / step_ticks).floor() * step_ticks);
            }
            // The last step is the one that contains the highest value, counted from `from`.
            if to.is_none()
                && let Some(from) = from
            {
                to = read("max")
                    .map(|max| from + (((max - from) / step_ticks).floor() + 1.0) * step_ticks);
            }
        }
        // No rows and a bound missing: no series, and no steps.
        let (from, to) = match (from, to) {
            (Some(from), Some(to)) => (from, to),
            _ => (0.0, 0.0),
        };
        let steps = ((to - from) / step_ticks).ceil().max(0.0);
        if steps > series_count::MAX_STEPS as f64 {
            return Err(too_many_steps(steps, &series));
        }
        let steps = steps as usize;

        // Aggregate per group and step, then lay the results out as arrays.
        let position = ((axis_number(axis.expr.clone()) - lit(from)) / lit(step_ticks))
            .floor()
            .cast(DataType::Int64);
        let inside = axis_number(axis.expr.clone())
            .gt_eq(lit(from))
            .and(axis_number(axis.expr.clone()).lt(lit(to)));
        (from, steps, group(frame.filter(inside), position)?)
    };

    let key_count = series.by.len();
    let defaults: Vec<String> = series
        .aggregates
        .iter()
        .map(|(_, default)| match default {
            None => Ok("0".to_owned()),
            Some(expr) => match evaluate_constant(&compiler.compile(expr)?) {
                Some(literal) => Ok(super::sources::literal_json(literal).to_string()),
                None => Err(EngineError::at(
                    "`default` needs a constant",
                    expr.range.clone(),
                )),
            },
        })
        .collect::<Result<_, _>>()?;
    lay_out_series(
        &grouped,
        key_count,
        steps,
        &defaults,
        |i| axis_point(axis.ty, from + i as f64 * step_ticks),
        series.axis.as_name().unwrap_or("Axis"),
        &range,
    )
    .map(IntoLazy::lazy)
}

/// Returns the first value of column `name` of `frame`, or `None` when there is none.
fn first_value<'a>(frame: &'a DataFrame, name: &str) -> Option<polars::prelude::AnyValue<'a>> {
    frame.column(name).ok()?.get(0).ok()
}

/// Returns the error for a `make-series` whose series would have `steps` steps each.
fn too_many_steps(steps: f64, series: &MakeSeries<'_>) -> EngineError {
    EngineError::at(
        format!(
            "`make-series` would make {} steps per series, more than the limit of 1,000,000; \
             use a larger step or a shorter `from`/`to` range",
            thousands(steps)
        ),
        series.step.range.clone(),
    )
}

/// Writes a whole number with commas between groups of three digits, as `1,234,567`.
fn thousands(number: f64) -> String {
    let digits = format!("{:.0}", number.abs());
    let mut text = String::new();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index) % 3 == 0 {
            text.push(',');
        }
        text.push(digit);
    }
    if number < 0.0 {
        text.insert(0, '-');
    }
    text
}

/// The largest number of points that a `make-series` result may hold in all its series.
const MAX_POINTS: usize = 50_000_000;

/// Checks that `series` series of `steps` points each stay within [`MAX_POINTS`].
fn check_points(series: usize, steps: usize, range: &Range<usize>) -> Result<(), EngineError> {
    let points = series.saturating_mul(steps);
    if points <= MAX_POINTS {
        return Ok(());
    }
    Err(EngineError::at(
        format!(
            "`make-series` would make {} series of {} steps, {} points in all, more than the \
             limit of 50,000,000; use a larger step, a shorter `from`/`to` range, or a `where` \
             that keeps fewer groups",
            thousands(series as f64),
            thousands(steps as f64),
            thousands(points as f64),
        ),
        range.clone(),
    ))
}

/// Turns `grouped` into `make-series` rows. `grouped` has the key columns, the step number,
/// then one column per aggregate, with one row per group and step. The result has one row per
/// group, in order of first appearance, and a dynamic array of `steps` elements per aggregate.
/// A step without a row gets the aggregate's default. The axis values come last.
fn lay_out_series(
    grouped: &DataFrame,
    key_count: usize,
    steps: usize,
    defaults: &[String],
    axis_point: impl Fn(usize) -> Json,
    axis_name: &str,
    range: &Range<usize>,
) -> Result<DataFrame, EngineError> {
    let failed = |error: PolarsError| {
        EngineError::at(format!("`make-series` failed: {error}"), range.clone())
    };
    let columns = grouped.columns();
    let positions = columns[key_count].cast(&DataType::Int64).map_err(failed)?;
    let positions = positions.i64().map_err(failed)?;
    let aggregates: Vec<JsonCells> = columns[key_count + 1..]
        .iter()
        .map(JsonCells::new)
        .collect();

    // The rows of each group, in order of first appearance.
    let mut firsts: Vec<IdxSize> = Vec::new();
    let mut members: Vec<Vec<IdxSize>> = Vec::new();
    if key_count == 0 {
        if grouped.height() > 0 {
            firsts.push(0);
            members.push((0..grouped.height() as IdxSize).collect());
        }
    } else {
        let keys: Vec<PlSmallStr> = columns[..key_count]
            .iter()
            .map(|c| c.name().clone())
            .collect();
        let by_key = grouped.group_by_stable(keys).map_err(failed)?;
        for group in by_key.get_groups().iter() {
            firsts.push(group.first());
            members.push(match group {
                GroupsIndicator::Idx((_, rows)) => rows.as_slice().to_vec(),
                GroupsIndicator::Slice([first, len]) => (first..first + len).collect(),
            });
        }
    }

    check_points(firsts.len(), steps, range)?;
    let mut arrays: Vec<Vec<Vec<u8>>> = vec![Vec::with_capacity(firsts.len()); aggregates.len()];
    let mut row_at_step: Vec<Option<usize>> = vec![None; steps];
    for rows in &members {
        row_at_step.fill(None);
        for &row in rows {
            let row = row as usize;
            if let Some(step) = positions.get(row).and_then(|p| usize::try_from(p).ok())
                && step < steps
            {
                row_at_step[step] = Some(row);
            }
        }
        for (index, cells) in aggregates.iter().enumerate() {
            let mut text = Vec::with_capacity(steps * 4 + 2);
            text.push(b'[');
            for (step, row) in row_at_step.iter().enumerate() {
                if step > 0 {
                    text.push(b',');
                }
                if !row.is_some_and(|row| cells.write(row, &mut text)) {
                    text.extend_from_slice(defaults[index].as_bytes());
                }
            }
            text.push(b']');
            arrays[index].push(text);
        }
    }

    let first_rows = IdxCa::from_vec("".into(), firsts);
    let keys = columns[..key_count]
        .iter()
        .map(|key| key.take(&first_rows))
        .collect::<PolarsResult<Vec<Column>>>()
        .map_err(failed)?;
    let arrays = columns[key_count + 1..]
        .iter()
        .map(|column| column.name().clone())
        .zip(arrays)
        .collect();
    let axis = Json::Array((0..steps).map(axis_point).collect());
    series_frame(keys, arrays, &axis, axis_name).map_err(failed)
}

/// Returns the value of the `make-series` axis at `point` ticks, for an axis of type `ty`.
fn axis_point(ty: KqlType, point: f64) -> Json {
    match ty {
        KqlType::Datetime => Json::String(crate::output::format_datetime(point as i64)),
        KqlType::Timespan => Json::String(crate::output::format_timespan(point as i64)),
        KqlType::Real => serde_json::Number::from_f64(point).map_or(Json::Null, Json::Number),
        _ => Json::from(point as i64),
    }
}

/// Assembles the `make-series` result. It has the key columns, one row per series, then each
/// aggregate's arrays as JSON text, then the `axis` array, which is the same in every row.
fn series_frame(
    keys: Vec<Column>,
    arrays: Vec<(PlSmallStr, Vec<Vec<u8>>)>,
    axis: &Json,
    axis_name: &str,
) -> PolarsResult<DataFrame> {
    let rows = keys.first().map_or_else(
        || arrays.first().map_or(0, |(_, texts)| texts.len()),
        Column::len,
    );
    let mut output: Vec<Column> = Vec::with_capacity(keys.len() + arrays.len() + 1);
    for key in keys {
        // Kusto strings are never null, so a null string key is output as "".
        let key = match key.str() {
            Ok(texts) if texts.null_count() > 0 => StringChunked::from_iter_values(
                key.name().clone(),
                texts.iter().map(|text| text.unwrap_or("")),
            )
            .into_column(),
            _ => key,
        };
        output.push(key);
    }
    for (name, texts) in arrays {
        output.push(
            BinaryChunked::from_iter_values(name, texts.iter().map(Vec::as_slice)).into_column(),
        );
    }
    output.push(repeated_text(
        axis_name,
        axis.to_string().into_bytes(),
        rows,
    )?);
    DataFrame::new_infer_height(output)
}

/// Returns a binary column of `rows` rows that all hold `text`. The rows share one copy of
/// the bytes, so that the axis of a series of many steps does not take a copy per series.
fn repeated_text(name: &str, text: Vec<u8>, rows: usize) -> PolarsResult<Column> {
    use polars_arrow::array::{BinaryViewArray, View};
    use polars_arrow::datatypes::ArrowDataType;
    use polars_buffer::Buffer;

    let Ok(length) = u32::try_from(text.len()) else {
        return Ok(BinaryChunked::from_iter_values(
            name.into(),
            std::iter::repeat_n(text.as_slice(), rows),
        )
        .into_column());
    };
    let view = if length <= View::MAX_INLINE_SIZE {
        View::new_inline(&text)
    } else {
        View::new_from_bytes(&text, 0, 0)
    };
    let buffers: Vec<Buffer<u8>> = if length <= View::MAX_INLINE_SIZE {
        Vec::new()
    } else {
        vec![Buffer::from(text)]
    };
    let array = BinaryViewArray::try_new(
        ArrowDataType::BinaryView,
        Buffer::from(vec![view; rows]),
        Buffer::from(buffers),
        None,
    )?;
    Ok(BinaryChunked::with_chunk(name.into(), array).into_column())
}

/// Applies `make-series` through [`series_count`] when it qualifies: every aggregate is
/// `count()`, the keys are plain columns, and the axis, step and bounds are integral.
/// Returns `None` otherwise.
fn count_series(
    frame: &LazyFrame,
    scope: &Scope<'_>,
    series: &MakeSeries<'_>,
    axis: &Compiled,
    step: &Compiled,
    range: &Range<usize>,
) -> Result<Option<LazyFrame>, EngineError> {
    let compiler = ExprCompiler::new(scope, AggregateMode::Forbidden);
    let counts: Vec<NamedExpr> = series.aggregates.iter().map(|(a, _)| a.clone()).collect();
    let Some(aggregate::PlainCounts {
        keys,
        counts: count_names,
    }) = aggregate::plain_count_columns(scope, &counts, series.by)
    else {
        return Ok(None);
    };
    if !matches!(
        axis.ty,
        KqlType::Datetime | KqlType::Timespan | KqlType::Long | KqlType::Int
    ) {
        return Ok(None);
    }
    let Some(Literal::Timespan(step_ticks) | Literal::Long(step_ticks)) = evaluate_constant(step)
    else {
        return Ok(None);
    };
    // An integral bound, `Some(None)` without one, or `None` when it is not integral.
    let integral = |bound: Option<&Expr>| -> Option<Option<i64>> {
        match bound {
            None => Some(None),
            Some(expr) => match evaluate_constant(&compiler.compile(expr).ok()?) {
                Some(Literal::Datetime(n) | Literal::Timespan(n) | Literal::Long(n)) => {
                    Some(Some(n))
                }
                _ => None,
            },
        }
    };
    let (Some(from), Some(to)) = (integral(series.from), integral(series.to)) else {
        return Ok(None);
    };
    let mut defaults: Vec<String> = Vec::with_capacity(series.aggregates.len());
    for (_, default) in series.aggregates {
        defaults.push(match default {
            None => "0".to_owned(),
            Some(expr) => match evaluate_constant(&compiler.compile(expr)?) {
                Some(literal) => super::sources::literal_json(literal).to_string(),
                None => return Ok(None),
            },
        });
    }

    let ticks = axis.expr.clone().cast(DataType::Int64);
    let mut counted_rows = ticks.clone().is_not_null();
    if let Some(from) = from {
        counted_rows = counted_rows.and(ticks.clone().gt_eq(lit(from)));
    }
    if let Some(to) = to {
        counted_rows = counted_rows.and(ticks.clone().lt(lit(to)));
    }
    let sources: Vec<String> = keys.iter().map(|(source, _)| source.clone()).collect();
    let origin = from.unwrap_or(0);
    // The steps, numbered from `origin`, from the lowest and highest axis value counted: as
    // the general path lays them out.
    let step = i128::from(step_ticks);
    let floor = |ticks: i128| ticks.div_euclid(step);
    let ceil = |ticks: i128| -(-ticks).div_euclid(step);
    let step_range = |extremes: Option<(i64, i64)>| -> (i128, i128) {
        match (from, to, extremes) {
            (Some(from), Some(to), _) => (0, ceil(i128::from(to) - i128::from(from))),
            // No rows and a bound missing: no series, and no steps.
            (_, _, None) => (0, 0),
            (None, None, Some((low, high))) => (floor(low.into()), floor(high.into()) + 1),
            (None, Some(to), Some((low, _))) => (floor(low.into()), ceil(to.into())),
            (Some(from), None, Some((_, high))) => {
                (0, floor(i128::from(high) - i128::from(from)) + 1)
            }
        }
    };
    let rows = frame.clone().filter(counted_rows);
    let counted =
        match series_count::count_series(rows.clone(), &sources, ticks.clone(), origin, step_ticks)
        {
            Err(series_count::TooLarge::Steps(_)) => {
                // One series spans too many steps. Report the steps of all series, as the general
                // path does, from the axis values' extremes.
                let limits = collect(
                    rows.select([ticks.clone().min().alias("low"), ticks.max().alias("high")]),
                    range,
                    "make-series",
                )?;
                let read = |name: &str| first_value(&limits, name).and_then(|v| v.extract::<i64>());
                let extremes = read("low").zip(read("high"));
                let (first, end) = step_range(extremes);
                return Err(too_many_steps((end - first) as f64, series));
            }
            Err(series_count::TooLarge::Cells) => {
                return Err(EngineError::at(
                    // The number is `series_count::MAX_CELLS`.
                    "`make-series` would hold more than 100,000,000 counts in all; use a larger \
                 step, a shorter `from`/`to` range, or a `where` that keeps fewer groups",
                    range.clone(),
                ));
            }
            Ok(counted) => counted.map_err(|error| {
                EngineError::at(
                    format!("`make-series` failed while running: {error}"),
                    range.clone(),
                )
            })?,
        };
    let (first, end) = step_range(counted.extremes);
    let steps = (end - first).max(0);
    if steps > i128::from(series_count::MAX_STEPS) {
        return Err(too_many_steps(steps as f64, series));
    }
    check_points(counted.series.len(), steps as usize, range)?;
    let (first, steps) = (first as i64, steps as usize);

    let keys_out = counted
        .keys
        .into_iter()
        .zip(&keys)
        .map(|(column, (_, name))| column.with_name(name.as_str().into()))
        .collect();
    let arrays = count_names
        .iter()
        .zip(&defaults)
        .map(|(name, default)| {
            let texts = counted
                .series
                .iter()
                .map(|histogram| series_count::write_counts(histogram, first, steps, default))
                .collect();
            (PlSmallStr::from(name.as_str()), texts)
        })
        .collect();
    let point = |index: usize| {
        let ticks = i128::from(origin) + (i128::from(first) + index as i128) * step;
        axis_point(axis.ty, ticks as f64)
    };
    let axis_values = Json::Array((0..steps).map(point).collect());
    let frame = series_frame(
        keys_out,
        arrays,
        &axis_values,
        series.axis.as_name().unwrap_or("Axis"),
    )
    .map_err(|error| EngineError::at(format!("`make-series` failed: {error}"), range.clone()))?;
    Ok(Some(frame.lazy()))
}

/// One aggregate column of `make-series`, written as JSON array elements.
enum JsonCells {
    Long(Int64Chunked),
    Real(Float64Chunked),
    /// Any other type, read as KQL values.
    Values(Vec<Value>),
}

impl JsonCells {
    fn new(column: &Column) -> JsonCells {
        match column.dtype() {
            DataType::Int64 | DataType::Int32 | DataType::UInt32 | DataType::UInt64 => {
                match column.cast(&DataType::Int64).and_then(|c| c.i64().cloned()) {
                    Ok(longs) => JsonCells::Long(longs),
                    Err(_) => JsonCells::Values(read_column(column)),
                }
            }
            DataType::Float64 => match column.f64() {
                Ok(reals) => JsonCells::Real(reals.clone()),
                Err(_) => JsonCells::Values(read_column(column)),
            },
            _ => JsonCells::Values(read_column(column)),
        }
    }

    /// Appends the JSON of the value at `row`; returns false, writing nothing, for a null.
    fn write(&self, row: usize, out: &mut Vec<u8>) -> bool {
        match self {
            JsonCells::Long(longs) => match longs.get(row) {
                Some(n) => {
                    out.extend_from_slice(n.to_string().as_bytes());
                    true
                }
                None => false,
            },
            JsonCells::Real(reals) => match reals.get(row) {
                Some(x) => {
                    let json = serde_json::Number::from_f64(x).map_or(Json::Null, Json::Number);
                    out.extend_from_slice(json.to_string().as_bytes());
                    true
                }
                None => false,
            },
            JsonCells::Values(values) => match values.get(row) {
                Some(value) if !value.is_null() => {
                    out.extend_from_slice(value.to_json().to_string().as_bytes());
                    true
                }
                _ => false,
            },
        }
    }
}

/// Applies `top-nested`: at each level, the top groups of that level's column within each
/// group kept at the level above, ranked by the level's aggregate.
pub(super) fn top_nested(
    frame: LazyFrame,
    scope: &Scope<'_>,
    clauses: &[TopNestedClause],
    range: Range<usize>,
) -> Result<LazyFrame, EngineError> {
    let compiler = ExprCompiler::new(scope, AggregateMode::Forbidden);
    let mut keys: Vec<NamedExpr> = Vec::new();
    let mut key_names: Vec<String> = Vec::new();
    let mut result: Option<LazyFrame> = None;
    let mut order: Vec<(String, bool)> = Vec::new();
    for clause in clauses {
        if let Some(others) = &clause.others {
            return Err(EngineError::at(
                "the local engine does not support `with others` in `top-nested` yet",
                others.range.clone(),
            ));
        }
        let column_name = match (&clause.column.name, clause.column.expr.as_name()) {
            (Some(name), _) => name.name.clone(),
            (None, Some(name)) => name.to_owned(),
            (None, None) => unique_name("Column", &key_names),
        };
        let aggregate_name = match &clause.aggregate.name {
            Some(name) => name.name.clone(),
            None => format!("aggregated_{column_name}"),
        };
        let mut by = keys.clone();
        let key = NamedExpr {
            name: Some(Ident {
                name: column_name.clone(),
                range: clause.column.expr.range.clone(),
            }),
            expr: clause.column.expr.clone(),
        };
        by.push(key.clone());
        let aggregate = NamedExpr {
            name: Some(Ident {
                name: aggregate_name.clone(),
                range: clause.aggregate.expr.range.clone(),
            }),
            expr: clause.aggregate.expr.clone(),
        };
        let level = aggregate::summarize(frame.clone(), scope, &[aggregate], &by, range.clone())?;
        let options = SortMultipleOptions::default()
            .with_order_descending(clause.descending)
            .with_nulls_last(true)
            .with_maintain_order(true);
        let sorted = level.sort_by_exprs([col(aggregate_name.as_str())], options);
        let count = match &clause.count {
            None => None,
            Some(expr) => match evaluate_constant(&compiler.compile(expr)?) {
                Some(Literal::Long(n)) if n >= 0 => Some(n as usize),
                _ => {
                    return Err(EngineError::at(
                        "`top-nested` needs a constant, non-negative count",
                        expr.range.clone(),
                    ));
                }
            },
        };
        let top = match (count, key_names.is_empty()) {
            (None, _) => sorted,
            (Some(n), true) => sorted.limit(n as polars::prelude::IdxSize),
            (Some(n), false) => {
                let group: Vec<PlExpr> = key_names.iter().map(|k| col(k.as_str())).collect();
                sorted.group_by_stable(group).head(Some(n))
            }
        };
        result = Some(match result {
            None => top,
            Some(previous) => {
                let on: Vec<PlExpr> = key_names.iter().map(|k| col(k.as_str())).collect();
                let args = polars::prelude::JoinArgs::new(polars::prelude::JoinType::Inner);
                let right_columns: Vec<PlExpr> = std::iter::once(col(column_name.as_str()))
                    .chain(std::iter::once(col(aggregate_name.as_str())))
                    .chain(key_names.iter().map(|k| col(k.as_str())))
                    .collect();
                previous.join(top.select(right_columns), on.clone(), on, args)
            }
        });
        keys.push(key);
        key_names.push(column_name.clone());
        order.push((aggregate_name, clause.descending));
        order.push((column_name, false));
    }
    let Some(result) = result else {
        return Err(EngineError::at("`top-nested` needs a clause", range));
    };
    let exprs: Vec<PlExpr> = order.iter().map(|(name, _)| col(name.as_str())).collect();
    let descending: Vec<bool> = order.iter().map(|(_, d)| *d).collect();
    let options = SortMultipleOptions::default()
        .with_order_descending_multi(descending)
        .with_maintain_order(true);
    // Kusto lists each level's column before its aggregate.
    let mut columns = Vec::new();
    for pair in order.chunks(2) {
        columns.push(col(pair[1].0.as_str()));
        columns.push(col(pair[0].0.as_str()));
    }
    Ok(result.sort_by_exprs(exprs, options).select(columns))
}

/// Applies `search`: a bare string term matches when any string or dynamic column matches it,
/// and other predicates, column terms included, run as in `where`.
pub(super) fn search(
    frame: LazyFrame,
    scope: &Scope<'_>,
    predicate: &Expr,
    case_sensitive: bool,
) -> Result<LazyFrame, EngineError> {
    let columns: Vec<String> = scope
        .schema
        .iter()
        .filter(|(_, dtype)| {
            matches!(
                KqlType::from_polars(dtype),
                KqlType::String | KqlType::Dynamic
            )
        })
        .map(|(name, _)| name.to_string())
        .collect();
    let rewritten = search_terms(predicate, &columns, case_sensitive);
    let compiler = ExprCompiler::new(scope, AggregateMode::Forbidden);
    let compiled = compiler.compile(&rewritten)?;
    Ok(frame.filter(compiled.expr.fill_null(lit(false))))
}

/// Replaces each string literal used as a condition with "the term matches any of
/// `columns`", with the wildcard rules of `crate::lower::search_term_test`. Two or more bare
/// terms joined by `or` are matched through alternations, one pass over each column for up to
/// 256 terms.
fn search_terms(expr: &Expr, columns: &[String], case_sensitive: bool) -> Expr {
    let range = expr.range.clone();
    match &expr.kind {
        ExprKind::Literal(Literal::String(term)) => any_column(columns, &range, |column| {
            crate::lower::search_term_test(column, term, case_sensitive, range.clone())
        }),
        ExprKind::Chain {
            op: BinaryOp::Or, ..
        }
        | ExprKind::Binary {
            op: BinaryOp::Or, ..
        } => search_or(expr, columns, case_sensitive),
        ExprKind::Chain {
            op: op @ BinaryOp::And,
            operands,
        } => Expr::new(
            ExprKind::Chain {
                op: *op,
                operands: operands
                    .iter()
                    .map(|operand| search_terms(operand, columns, case_sensitive))
                    .collect(),
            },
            range,
        ),
        ExprKind::Binary {
            op: op @ BinaryOp::And,
            lhs,
            rhs,
        } => Expr::new(
            ExprKind::Binary {
                op: *op,
                lhs: Box::new(search_terms(lhs, columns, case_sensitive)),
                rhs: Box::new(search_terms(rhs, columns, case_sensitive)),
            },
            range,
        ),
        ExprKind::Not(inner) => {
            let inner = search_terms(inner, columns, case_sensitive);
            Expr::new(ExprKind::Not(Box::new(inner)), range)
        }
        _ => expr.clone(),
    }
}

/// Rewrites an `or` of search predicates, flattening nested `or`s. The bare terms among the
/// operands become alternation tests on each column, and the other operands are rewritten one
/// by one.
fn search_or(expr: &Expr, columns: &[String], case_sensitive: bool) -> Expr {
    let range = expr.range.clone();
    let mut terms: Vec<&str> = Vec::new();
    let mut others: Vec<&Expr> = Vec::new();
    collect_or_operands(expr, &mut terms, &mut others);

    let mut operands: Vec<Expr> = others
        .into_iter()
        .map(|operand| search_terms(operand, columns, case_sensitive))
        .collect();
    let separate: Vec<String> = if terms.len() >= crate::lower::SEARCH_ALTERNATION_MIN {
        let grouped = crate::lower::search_term_alternations(&terms, case_sensitive);
        for pattern in grouped.patterns {
            operands.push(any_column(columns, &range, |column| {
                regex_test(column, &pattern, range.clone())
            }));
        }
        grouped.separate
    } else {
        terms.iter().map(|term| (*term).to_owned()).collect()
    };
    for term in separate {
        operands.push(any_column(columns, &range, |column| {
            crate::lower::search_term_test(column, &term, case_sensitive, range.clone())
        }));
    }
    join_or(operands, range)
}

/// Collects the operands of a tree of `or`s: bare string terms into `terms`, the rest into
/// `others`. The walk uses an explicit stack, so a deep tree takes no stack frame per level.
fn collect_or_operands<'a>(expr: &'a Expr, terms: &mut Vec<&'a str>, others: &mut Vec<&'a Expr>) {
    let mut stack = vec![expr];
    while let Some(current) = stack.pop() {
        match &current.kind {
            ExprKind::Literal(Literal::String(term)) => terms.push(term),
            ExprKind::Chain {
                op: BinaryOp::Or,
                operands,
            } => stack.extend(operands.iter().rev()),
            ExprKind::Binary {
                op: BinaryOp::Or,
                lhs,
                rhs,
            } => {
                stack.push(rhs);
                stack.push(lhs);
            }
            _ => others.push(current),
        }
    }
}

/// Builds "`test` is true for any of `columns`", which is `false` when there are no columns.
fn any_column(columns: &[String], range: &Range<usize>, test: impl Fn(Expr) -> Expr) -> Expr {
    let mut operands = vec![Expr::new(
        ExprKind::Literal(Literal::Bool(false)),
        range.clone(),
    )];
    for column in columns {
        operands.push(test(Expr::new(
            ExprKind::Name(column.clone()),
            range.clone(),
        )));
    }
    join_or(operands, range.clone())
}

/// Builds `column matches regex pattern`. The pattern carries its own `(?i)` flag.
fn regex_test(column: Expr, pattern: &str, range: Range<usize>) -> Expr {
    let op = BinaryOp::Str(StringOp {
        kind: StringOpKind::MatchesRegex,
        case_sensitive: true,
        negated: false,
    });
    Expr::new(
        ExprKind::Binary {
            op,
            lhs: Box::new(column),
            rhs: Box::new(Expr::new(
                ExprKind::Literal(Literal::String(pattern.to_owned())),
                range.clone(),
            )),
        },
        range,
    )
}

/// Joins conditions with `or`: one operand stays as it is, and three or more make one chain.
fn join_or(mut operands: Vec<Expr>, range: Range<usize>) -> Expr {
    let kind = match operands.len() {
        0 => ExprKind::Literal(Literal::Bool(false)),
        1 => return operands.pop().expect("one operand"),
        2 => {
            let rhs = operands.pop().expect("two operands");
            let lhs = operands.pop().expect("two operands");
            ExprKind::Binary {
                op: BinaryOp::Or,
                lhs: Box::new(lhs),
                rhs: Box::new(rhs),
            }
        }
        _ => ExprKind::Chain {
            op: BinaryOp::Or,
            operands,
        },
    };
    Expr::new(kind, range)
}
