//! `summarize`: aggregate functions, `by` keys and Kusto's default column names.

use std::ops::Range;
use std::sync::Arc;

use polars::prelude::{
    Column, DataType, Expr as PlExpr, Field, LazyFrame, OptFlags, PlSmallStr, PolarsResult, Schema,
    SchemaRef, SortMultipleOptions, apply_multiple, col, len, lit, repeat,
};
use serde_json::Value as Json;

use crate::EngineError;
use crate::ast::{Expr, ExprKind, Ident, NamedExpr};
use crate::eval::count;
use crate::eval::expr::{AggregateMode, Compiled, ExprCompiler, Scope, evaluate_constant};
use crate::eval::functions::{as_json, compare_values, json_equal};
use crate::eval::types::KqlType;
use crate::eval::unique_name;
use crate::eval::value::{Value, build_column, output_dtype, read_column};

const AGGREGATES: &[&str] = &[
    "count",
    "countif",
    "dcount",
    "dcountif",
    "sum",
    "sumif",
    "min",
    "max",
    "avg",
    "avgif",
    "make_set",
    "make_list",
    "make_set_if",
    "make_list_if",
    "make_list_with_nulls",
    "make_bag",
    "make_bag_if",
    "take_any",
    "take_anyif",
    "any",
    "minif",
    "maxif",
    "stdev",
    "stdevif",
    "stdevp",
    "variance",
    "varianceif",
    "variancep",
    "percentile",
    "percentiles",
    "arg_max",
    "arg_min",
    "count_distinct",
    "sum_if",
];

/// Returns whether `name` is an aggregate function the engine runs.
pub fn is_aggregate(name: &str) -> bool {
    AGGREGATES.contains(&name)
}

/// Repeats a constant argument once per row, as Kusto evaluates an aggregate's argument for
/// each row: `countif(true)` and `sum(1)` count the rows, where the bare constant would count
/// once. Arguments that are parameters, such as a percentile's rank, keep their constant,
/// which is also filled in for a computed one like `25 * 2`.
fn per_row(argument: Compiled) -> Compiled {
    let constant = match argument.constant.clone() {
        Some(constant) => constant,
        None => match evaluate_constant(&argument) {
            Some(constant) => constant,
            None => return argument,
        },
    };
    Compiled {
        expr: repeat(argument.expr, len()),
        ty: argument.ty,
        constant: Some(constant),
    }
}

/// Compiles one aggregate call, such as `dcount(Account)`.
pub fn compile_aggregate(
    compiler: &ExprCompiler<'_>,
    name: &Ident,
    args: &[Expr],
    range: Range<usize>,
) -> Result<Compiled, EngineError> {
    let arguments = compiler.for_arguments();
    let compiled: Vec<Compiled> = args
        .iter()
        .map(|arg| arguments.compile(arg).map(per_row))
        .collect::<Result<_, _>>()?;
    let function = name.name.as_str();
    let arity = |min: usize, max: usize| -> Result<(), EngineError> {
        if compiled.len() < min || compiled.len() > max {
            let expected = if min == max {
                format!("{min}")
            } else {
                format!("{min} to {max}")
            };
            return Err(EngineError::at(
                format!(
                    "`{function}()` takes {expected} arguments, got {}",
                    compiled.len()
                ),
                range.clone(),
            ));
        }
        Ok(())
    };
    let predicate = |index: usize| -> Result<PlExpr, EngineError> {
        let value = &compiled[index];
        if value.ty != KqlType::Bool && value.ty != KqlType::Null {
            return Err(EngineError::at(
                format!(
                    "the condition of `{function}()` must be a bool, not {}",
                    value.ty.name()
                ),
                args[index].range.clone(),
            ));
        }
        Ok(value.expr.clone().fill_null(lit(false)))
    };
    let numeric = |index: usize| -> Result<&Compiled, EngineError> {
        let value = &compiled[index];
        if !value.ty.is_numeric() && value.ty != KqlType::Timespan && value.ty != KqlType::Null {
            return Err(EngineError::at(
                format!(
                    "`{function}()` needs a number or a timespan, not {}",
                    value.ty.name()
                ),
                args[index].range.clone(),
            ));
        }
        Ok(value)
    };

    let result = match function {
        "count" => {
            arity(0, 1)?;
            match compiled.first() {
                None => Compiled {
                    expr: len().cast(DataType::Int64),
                    ty: KqlType::Long,
                    constant: None,
                },
                Some(value) => long(value.expr.clone().count()),
            }
        }
        "countif" => {
            arity(1, 1)?;
            long(predicate(0)?.cast(DataType::Int64).sum())
        }
        "dcount" => {
            arity(1, 2)?;
            long(compiled[0].expr.clone().drop_nulls().n_unique())
        }
        "dcountif" => {
            arity(2, 3)?;
            long(
                compiled[0]
                    .expr
                    .clone()
                    .filter(predicate(1)?)
                    .drop_nulls()
                    .n_unique(),
            )
        }
        "sum" | "sumif" => {
            if function == "sum" {
                arity(1, 1)?
            } else {
                arity(2, 2)?
            };
            let value = numeric(0)?;
            let (input, ty) = widen(value);
            let input = if function == "sumif" {
                input.filter(predicate(1)?)
            } else {
                input
            };
            Compiled {
                expr: input.sum(),
                ty,
                constant: None,
            }
        }
        "avg" | "avgif" => {
            if function == "avg" {
                arity(1, 1)?
            } else {
                arity(2, 2)?
            };
            let value = numeric(0)?;
            let is_timespan = value.ty == KqlType::Timespan;
            let input = if is_timespan {
                value
                    .expr
                    .clone()
                    .cast(DataType::Int64)
                    .cast(DataType::Float64)
            } else {
                value.expr.clone().cast(DataType::Float64)
            };
            let input = if function == "avgif" {
                input.filter(predicate(1)?)
            } else {
                input
            };
            // The average of timespans is a timespan.
            if is_timespan {
                Compiled {
                    expr: input
                        .mean()
                        .round(0, polars::prelude::RoundMode::HalfAwayFromZero)
                        .cast(DataType::Int64)
                        .cast(KqlType::Timespan.to_polars()),
                    ty: KqlType::Timespan,
                    constant: None,
                }
            } else {
                Compiled {
                    expr: input.mean(),
                    ty: KqlType::Real,
                    constant: None,
                }
            }
        }
        "min" | "max" => {
            arity(1, 1)?;
            let value = &compiled[0];
            let expr = if function == "min" {
                value.expr.clone().min()
            } else {
                value.expr.clone().max()
            };
            Compiled {
                expr,
                ty: value.ty,
                constant: None,
            }
        }
        "take_any" => {
            arity(1, 1)?;
            let value = &compiled[0];
            Compiled {
                expr: value.expr.clone().drop_nulls().first(),
                ty: value.ty,
                constant: None,
            }
        }
        "make_set"
        | "make_list"
        | "make_set_if"
        | "make_list_if"
        | "make_list_with_nulls"
        | "make_bag"
        | "make_bag_if" => {
            let conditional = function.ends_with("_if");
            let min = if conditional { 2 } else { 1 };
            arity(min, min + 1)?;
            let limit = match compiled.get(min) {
                None => usize::MAX,
                Some(Compiled {
                    constant: Some(crate::ast::Literal::Long(n)),
                    ..
                }) if *n > 0 => usize::try_from(*n).unwrap_or(usize::MAX),
                Some(_) => {
                    return Err(EngineError::at(
                        format!("the size limit of `{function}()` must be a positive constant"),
                        args[min].range.clone(),
                    ));
                }
            };
            let mut inputs = vec![compiled[0].expr.clone()];
            if conditional {
                inputs.push(predicate(1)?);
            }
            let kind = function.trim_end_matches("_if").to_owned();
            Compiled {
                expr: collect_dynamic(inputs, kind, limit),
                ty: KqlType::Dynamic,
                constant: None,
            }
        }
        "take_anyif" => {
            arity(2, 2)?;
            let value = &compiled[0];
            Compiled {
                expr: value
                    .expr
                    .clone()
                    .filter(predicate(1)?)
                    .drop_nulls()
                    .first(),
                ty: value.ty,
                constant: None,
            }
        }
        "any" => {
            arity(1, 1)?;
            let value = &compiled[0];
            Compiled {
                expr: value.expr.clone().drop_nulls().first(),
                ty: value.ty,
                constant: None,
            }
        }
        "minif" | "maxif" => {
            arity(2, 2)?;
            let value = &compiled[0];
            let filtered = value.expr.clone().filter(predicate(1)?);
            Compiled {
                expr: if function == "minif" {
                    filtered.min()
                } else {
                    filtered.max()
                },
                ty: value.ty,
                constant: None,
            }
        }
        "stdev" | "stdevif" | "stdevp" | "variance" | "varianceif" | "variancep" => {
            let conditional = function.ends_with("if");
            if conditional {
                arity(2, 2)?
            } else {
                arity(1, 1)?
            };
            let value = numeric(0)?;
            let mut input = value.expr.clone().cast(DataType::Float64);
            if conditional {
                input = input.filter(predicate(1)?);
            }
            // `stdevp` and `variancep` are population statistics; the others use the sample.
            let ddof = if function.ends_with('p') { 0 } else { 1 };
            let expr = if function.starts_with("stdev") {
                input.std(ddof)
            } else {
                input.var(ddof)
            };
            Compiled {
                expr,
                ty: KqlType::Real,
                constant: None,
            }
        }
        "percentile" => {
            arity(2, 2)?;
            let value = numeric(0)?;
            let rank = constant_percentile(&compiled[1], &args[1], function)?;
            Compiled {
                expr: nearest_rank(value.expr.clone(), rank, value.ty),
                ty: if value.ty == KqlType::Int {
                    KqlType::Long
                } else {
                    value.ty
                },
                constant: None,
            }
        }
        "percentiles" | "arg_max" | "arg_min" => {
            return Err(EngineError::at(
                format!(
                    "`{function}()` returns several columns; use it directly in `summarize`, not inside an expression"
                ),
                range,
            ));
        }
        "count_distinct" => {
            arity(1, 1)?;
            long(compiled[0].expr.clone().drop_nulls().n_unique())
        }
        "sum_if" => {
            arity(2, 2)?;
            let value = numeric(0)?;
            let (input, ty) = widen(value);
            Compiled {
                expr: input.filter(predicate(1)?).sum(),
                ty,
                constant: None,
            }
        }
        _ => unreachable!("is_aggregate lists every aggregate handled here"),
    };
    Ok(result)
}

/// Builds a custom aggregate that gathers a group's values into one dynamic value:
/// `make_list` keeps them in order, `make_set` keeps distinct ones, `make_list_with_nulls`
/// keeps nulls too, and `make_bag` merges property bags (the first value of a key wins).
/// The optional second input is a filter, and `limit` caps the number of elements.
fn collect_dynamic(inputs: Vec<PlExpr>, kind: String, limit: usize) -> PlExpr {
    apply_multiple(
        move |columns: &mut [Column]| {
            let name = columns[0].name().clone();
            let values = read_column(&columns[0]);
            let keep: Vec<bool> = match columns.get(1) {
                Some(filter) => read_column(filter)
                    .iter()
                    .map(|v| matches!(v, Value::Bool(true)))
                    .collect(),
                None => vec![true; values.len()],
            };
            let selected = values
                .iter()
                .zip(&keep)
                .filter(|(_, keep)| **keep)
                .map(|(v, _)| v);
            let result = match kind.as_str() {
                "make_bag" => {
                    let mut bag = serde_json::Map::new();
                    for value in selected {
                        if let Json::Object(properties) = as_json(value) {
                            for (key, item) in properties {
                                if bag.len() >= limit {
                                    break;
                                }
                                bag.entry(key).or_insert(item);
                            }
                        }
                    }
                    Json::Object(bag)
                }
                _ => {
                    let mut items: Vec<Json> = Vec::new();
                    for value in selected {
                        if items.len() >= limit {
                            break;
                        }
                        if value.is_null() && kind != "make_list_with_nulls" {
                            continue;
                        }
                        let item = value.to_json();
                        if kind == "make_set" && items.iter().any(|known| json_equal(known, &item))
                        {
                            continue;
                        }
                        items.push(item);
                    }
                    Json::Array(items)
                }
            };
            build_column(name, vec![Value::Dynamic(result)], KqlType::Dynamic)
        },
        inputs,
        |_, fields: &[Field]| Ok(Field::new(fields[0].name().clone(), DataType::Binary)),
        true,
    )
}

/// Reads the constant percentile argument, from 0 to 100.
fn constant_percentile(value: &Compiled, arg: &Expr, function: &str) -> Result<f64, EngineError> {
    // A computed rank such as `5 * 2` has no `constant` until it is evaluated.
    let constant = value.constant.clone().or_else(|| evaluate_constant(value));
    let rank = match constant {
        Some(crate::ast::Literal::Long(n)) => n as f64,
        Some(crate::ast::Literal::Real(x)) => x,
        _ => f64::NAN,
    };
    if !(0.0..=100.0).contains(&rank) {
        return Err(EngineError::at(
            format!("the percentile of `{function}()` must be a constant from 0 to 100"),
            arg.range.clone(),
        ));
    }
    Ok(rank)
}

/// Builds the nearest-rank percentile of a group: the smallest value with at least `rank`
/// percent of the non-null values at or below it.
// NOTE: Kusto estimates percentiles with T-Digest; on small groups that gives these same
// nearest-rank values, on large ones Kusto's result may differ slightly.
fn nearest_rank(expr: PlExpr, rank: f64, ty: KqlType) -> PlExpr {
    let output = if ty == KqlType::Int {
        KqlType::Long
    } else {
        ty
    };
    apply_multiple(
        move |columns: &mut [Column]| {
            let name = columns[0].name().clone();
            let mut values: Vec<Value> = read_column(&columns[0])
                .into_iter()
                .filter(|v| !v.is_null())
                .collect();
            values.sort_by(|a, b| compare_values(a, b).unwrap_or(std::cmp::Ordering::Equal));
            let result = if values.is_empty() {
                Value::Null
            } else {
                let position = ((rank / 100.0) * values.len() as f64).ceil() as usize;
                values[position.clamp(1, values.len()) - 1].clone()
            };
            build_column(name, vec![result], output)
        },
        [expr],
        move |_, fields: &[Field]| Ok(Field::new(fields[0].name().clone(), output_dtype(output))),
        true,
    )
}

fn long(expr: PlExpr) -> Compiled {
    Compiled {
        expr: expr.cast(DataType::Int64),
        ty: KqlType::Long,
        constant: None,
    }
}

/// Widens ints to long before summing, as Kusto's `sum()` of ints returns a long.
fn widen(value: &Compiled) -> (PlExpr, KqlType) {
    match value.ty {
        KqlType::Int | KqlType::Long | KqlType::Null => {
            (value.expr.clone().cast(DataType::Int64), KqlType::Long)
        }
        other => (value.expr.clone(), other),
    }
}

/// Returns Kusto's default name for an unnamed aggregate, such as `count_` or `dcount_Account`.
fn default_aggregate_name(expr: &Expr) -> Option<String> {
    let ExprKind::Call { name, args } = &expr.kind else {
        return None;
    };
    if !is_aggregate(&name.name) {
        // A function around an aggregate, as in `round(avg(x), 2)`, takes the name of its
        // first argument: `avg_x`.
        return args.first().and_then(default_aggregate_name);
    }
    let column = args.first().and_then(column_label);
    // Kusto drops the `make_` prefix and the `_if` suffix of the list builders.
    let base = match name.name.as_str() {
        "make_list" | "make_list_if" | "make_list_with_nulls" => "list",
        "make_set" | "make_set_if" => "set",
        "make_bag" | "make_bag_if" => "bag",
        other => other,
    };
    Some(match (name.name.as_str(), column) {
        ("countif", _) => "countif_".to_owned(),
        ("percentile", Some(column)) => {
            let rank = match args.get(1).map(|a| &a.kind) {
                Some(ExprKind::Literal(crate::ast::Literal::Long(n))) => n.to_string(),
                Some(ExprKind::Literal(crate::ast::Literal::Real(x))) => {
                    crate::eval::value::format_real(*x).replace('.', "_")
                }
                _ => String::new(),
            };
            format!("percentile_{column}_{rank}")
        }
        (_, Some(column)) => format!("{base}_{column}"),
        (_, None) => format!("{base}_"),
    })
}

/// Returns the default name of an unnamed `by` key: the column it reads, or `None`.
///
/// A bare column keeps its name, and so does a column wrapped in `bin()` or `floor()`.
fn default_key_name(expr: &Expr) -> Option<String> {
    match &expr.kind {
        ExprKind::Call { args, .. } => args.first().and_then(column_label),
        _ => column_label(expr),
    }
}

/// Returns the name Kusto derives from a column reference: `A` for `A`, and `A_b` for the
/// dynamic access `A.b` or `A["b"]`.
pub(crate) fn column_label(expr: &Expr) -> Option<String> {
    match &expr.kind {
        ExprKind::Name(name) => Some(name.clone()),
        ExprKind::Member { object, key } => {
            let base = column_label(object)?;
            match &key.kind {
                ExprKind::Literal(crate::ast::Literal::String(member)) => {
                    Some(format!("{base}_{member}"))
                }
                ExprKind::Literal(crate::ast::Literal::Long(index)) => {
                    Some(format!("{base}_{index}"))
                }
                _ => None,
            }
        }
        _ => None,
    }
}

/// Compiles the aggregates that return several columns: `arg_max(X, cols)`,
/// `arg_min(X, cols)` and `percentiles(X, p1, p2, ...)`. Returns `None` for other aggregates.
fn expand_multi_column(
    scope: &Scope<'_>,
    aggregate: &NamedExpr,
    by: &[NamedExpr],
    names: &mut Vec<String>,
) -> Result<Option<Vec<PlExpr>>, EngineError> {
    let ExprKind::Call { name, args } = &aggregate.expr.kind else {
        return Ok(None);
    };
    let function = name.name.as_str();
    if !matches!(function, "arg_max" | "arg_min" | "percentiles") {
        return Ok(None);
    }
    let range = aggregate.expr.range.clone();
    let compiler = ExprCompiler::new(scope, AggregateMode::Forbidden);
    let Some(first) = args.first() else {
        return Err(EngineError::at(
            format!("`{function}()` needs arguments"),
            range,
        ));
    };
    let target = compiler.compile(first)?;
    let target_name = match (&aggregate.name, first.as_name()) {
        (Some(ident), _) => ident.name.clone(),
        (None, Some(column)) if function != "percentiles" => column.to_owned(),
        (None, _) if function != "percentiles" => unique_name(&format!("{function}_"), names),
        (None, column) => column.unwrap_or("").to_owned(),
    };
    fn push_name(
        names: &mut Vec<String>,
        name: String,
        range: Range<usize>,
    ) -> Result<String, EngineError> {
        if names.contains(&name) {
            return Err(EngineError::at(
                format!("the column `{name}` appears twice in `summarize`"),
                range,
            ));
        }
        names.push(name.clone());
        Ok(name)
    }
    let mut outputs = Vec::new();
    if function == "percentiles" {
        if args.len() < 2 {
            return Err(EngineError::at(
                "`percentiles()` needs at least one percentile",
                range,
            ));
        }
        if !target.ty.is_numeric()
            && target.ty != KqlType::Timespan
            && target.ty != KqlType::Datetime
        {
            return Err(EngineError::at(
                format!("`percentiles()` needs a number, not {}", target.ty.name()),
                first.range.clone(),
            ));
        }
        // Kusto names the first column after an assigned name, if any, and the others
        // `percentile_COLUMN_RANK`.
        let column_name = first.as_name().unwrap_or("");
        for (index, arg) in args[1..].iter().enumerate() {
            let rank_value = compiler.compile(arg)?;
            let rank = constant_percentile(&rank_value, arg, function)?;
            let label = crate::eval::value::format_real(rank).replace('.', "_");
            let name = match &aggregate.name {
                Some(ident) if index == 0 => ident.name.clone(),
                _ => format!("percentile_{column_name}_{label}"),
            };
            let column = push_name(names, name, arg.range.clone())?;
            outputs.push(nearest_rank(target.expr.clone(), rank, target.ty).alias(column));
        }
        return Ok(Some(outputs));
    }
    let descending = function == "arg_max";
    let order = SortMultipleOptions::default()
        .with_order_descending(descending)
        .with_nulls_last(true)
        .with_maintain_order(true);
    // Integer, datetime and timespan targets use polars' `max_by`/`min_by`, which the
    // streaming engine runs as a reduction instead of sorting every group. Reals keep the
    // sort, which places NaN above every number, and so do strings and bools.
    // NOTE: with `max_by`, a tie between rows of different input batches may return either
    // row. The sort returns the first tied row in input order.
    let reduce = matches!(
        target.ty,
        KqlType::Int | KqlType::Long | KqlType::Datetime | KqlType::Timespan
    );
    let pick = |expr: PlExpr| -> PlExpr {
        match (reduce, descending) {
            (true, true) => expr.max_by(target.expr.clone()),
            (true, false) => expr.min_by(target.expr.clone()),
            (false, _) => expr.sort_by([target.expr.clone()], order.clone()).first(),
        }
    };
    outputs.push(pick(target.expr.clone()).alias(push_name(
        names,
        target_name.clone(),
        first.range.clone(),
    )?));
    let by_names: Vec<String> = by
        .iter()
        .filter_map(|key| {
            key.name
                .as_ref()
                .map(|n| n.name.clone())
                .or_else(|| key.expr.as_name().map(str::to_owned))
        })
        .collect();
    for arg in &args[1..] {
        if arg.as_name() == Some("*") {
            for column in scope.schema.iter_names() {
                if by_names.iter().any(|b| b == column.as_str())
                    || names.iter().any(|n| n == column.as_str())
                {
                    continue;
                }
                names.push(column.to_string());
                outputs.push(pick(col(column.clone())).alias(column.clone()));
            }
            continue;
        }
        let value = compiler.compile(arg)?;
        let column = match arg.as_name() {
            Some(column) => column.to_owned(),
            None => unique_name("Column", names),
        };
        let column = push_name(names, column, arg.range.clone())?;
        outputs.push(pick(value.expr).alias(column));
    }
    Ok(Some(outputs))
}

/// Applies `summarize aggregates by keys` to `frame`.
pub fn summarize(
    frame: LazyFrame,
    scope: &Scope<'_>,
    aggregates: &[NamedExpr],
    by: &[NamedExpr],
    range: Range<usize>,
) -> Result<LazyFrame, EngineError> {
    summarize_with(frame, scope, aggregates, by, range, true)
}

/// Applies [`summarize`], where `count_batches` allows counting each batch first (see
/// [`count::count_batch`]) when every aggregate is `count()`. That pays when a batch has few
/// combinations of keys. `make-series` turns it off, because its keys (series and time step)
/// give most batches nearly as many combinations as rows.
pub fn summarize_with(
    frame: LazyFrame,
    scope: &Scope<'_>,
    aggregates: &[NamedExpr],
    by: &[NamedExpr],
    range: Range<usize>,
    count_batches: bool,
) -> Result<LazyFrame, EngineError> {
    let mut names: Vec<String> = Vec::new();

    let key_compiler = ExprCompiler::new(scope, AggregateMode::Forbidden);
    let mut keys = Vec::with_capacity(by.len());
    for key in by {
        let compiled = key_compiler.compile(&key.expr)?;
        let name = match &key.name {
            Some(ident) => ident.name.clone(),
            None => default_key_name(&key.expr).unwrap_or_else(|| unique_name("Column", &names)),
        };
        if names.contains(&name) {
            return Err(EngineError::at(
                format!("the column `{name}` appears twice in `by`"),
                key.expr.range.clone(),
            ));
        }
        names.push(name.clone());
        keys.push(compiled.output_expr().alias(name));
    }

    let mode = if by.is_empty() {
        AggregateMode::Whole
    } else {
        AggregateMode::Grouped
    };
    let mut outputs = Vec::with_capacity(aggregates.len());
    for aggregate in aggregates {
        if let Some(expanded) = expand_multi_column(scope, aggregate, by, &mut names)? {
            outputs.extend(expanded);
            continue;
        }
        let compiler = ExprCompiler::new(scope, mode);
        let compiled = compiler.compile(&aggregate.expr)?;
        if !compiler.saw_aggregate.get() {
            return Err(EngineError::at(
                "each `summarize` column needs an aggregate function such as count(), sum() or dcount()",
                aggregate.expr.range.clone(),
            ));
        }
        let name = match &aggregate.name {
            Some(ident) => ident.name.clone(),
            None => match default_aggregate_name(&aggregate.expr) {
                Some(base) if !names.contains(&base) => base,
                Some(base) => unique_name(&base, &names),
                None => unique_name("Column", &names),
            },
        };
        if names.contains(&name) {
            return Err(EngineError::at(
                format!("the column `{name}` appears twice in `summarize`"),
                aggregate.expr.range.clone(),
            ));
        }
        names.push(name.clone());
        outputs.push(compiled.output_expr().alias(name));
    }
    if outputs.is_empty() && keys.is_empty() {
        return Err(EngineError::at(
            "`summarize` needs an aggregate or a `by` clause",
            range,
        ));
    }

    if keys.is_empty() {
        Ok(frame.select(outputs))
    } else if let Some(counts) = plain_counts(scope, aggregates, by, &names)
        && count_batches
    {
        Ok(count_rows_by_keys(
            frame.select(keys),
            &names[..by.len()],
            counts,
        ))
    } else {
        // NOTE: `group_by_stable` keeps groups in order of first appearance, so that results
        // are deterministic; Kusto leaves the order unspecified.
        Ok(frame.group_by_stable(keys).agg(outputs))
    }
}

/// Returns the output names of the aggregates when `summarize` only counts rows by columns
/// that [`count::count_batch`] numbers: every aggregate is `count()` and every key a column.
/// `names` lists the keys' output names followed by the aggregates'.
fn plain_counts(
    scope: &Scope<'_>,
    aggregates: &[NamedExpr],
    by: &[NamedExpr],
    names: &[String],
) -> Option<Vec<PlSmallStr>> {
    if aggregates.is_empty() || scope.functions.contains_key("count") {
        return None;
    }
    let counts_rows = |aggregate: &NamedExpr| {
        matches!(&aggregate.expr.kind, ExprKind::Call { name, args }
            if name.name == "count" && args.is_empty())
    };
    let numbered_column = |key: &NamedExpr| match &key.expr.kind {
        ExprKind::Name(name) => {
            !scope.lets.contains_key(name)
                && scope.schema.get(name).is_some_and(count::counts_by_number)
        }
        _ => false,
    };
    if !aggregates.iter().all(counts_rows) || !by.iter().all(numbered_column) {
        return None;
    }
    Some(names[by.len()..].iter().map(PlSmallStr::from).collect())
}

/// The columns of an operator that only counts rows by plain columns, named as `summarize`
/// names them.
pub(crate) struct PlainCounts {
    /// Each key's source column and output name.
    pub keys: Vec<(String, String)>,
    /// The output name of each `count()`.
    pub counts: Vec<String>,
}

/// Returns the columns of an operator that only counts rows by plain columns, as
/// [`plain_counts`] accepts them. Returns `None` when the operator has another shape or when
/// two outputs share a name, because the general path reports that.
pub(crate) fn plain_count_columns(
    scope: &Scope<'_>,
    aggregates: &[NamedExpr],
    by: &[NamedExpr],
) -> Option<PlainCounts> {
    let mut names: Vec<String> = Vec::new();
    let mut keys = Vec::with_capacity(by.len());
    for key in by {
        let ExprKind::Name(source) = &key.expr.kind else {
            return None;
        };
        let name = match &key.name {
            Some(ident) => ident.name.clone(),
            None => source.clone(),
        };
        if names.contains(&name) {
            return None;
        }
        names.push(name.clone());
        keys.push((source.clone(), name));
    }
    for aggregate in aggregates {
        let name = match &aggregate.name {
            Some(ident) => ident.name.clone(),
            None => match default_aggregate_name(&aggregate.expr) {
                Some(base) if !names.contains(&base) => base,
                Some(base) => unique_name(&base, &names),
                None => return None,
            },
        };
        if names.contains(&name) {
            return None;
        }
        names.push(name);
    }
    plain_counts(scope, aggregates, by, &names)?;
    Some(PlainCounts {
        keys,
        counts: names.split_off(by.len()),
    })
}

/// Plans `summarize` of the `counts` columns, each `count()`, over `keys`, a frame of the key
/// columns only: [`count::count_batch`] counts each batch, and polars groups the counted rows
/// by value and adds up their counts.
fn count_rows_by_keys(keys: LazyFrame, key_names: &[String], counts: Vec<PlSmallStr>) -> LazyFrame {
    let partial = PlSmallStr::from(unique_name("__quarry_batch_count", key_names));
    let schema_name = partial.clone();
    let schema = move |input: &Schema| -> PolarsResult<SchemaRef> {
        let mut output = input.clone();
        output.insert(schema_name.clone(), DataType::Int64);
        Ok(Arc::new(output))
    };
    let batch_name = partial.clone();
    let counted = keys.map(
        move |batch| count::count_batch(batch, &batch_name),
        OptFlags::STREAMING,
        Some(Arc::new(schema)),
        Some("count rows by keys"),
    );
    let sums: Vec<PlExpr> = counts
        .iter()
        .map(|name| col(partial.clone()).sum().alias(name.clone()))
        .collect();
    counted
        .group_by_stable(
            key_names
                .iter()
                .map(|name| col(name.as_str()))
                .collect::<Vec<_>>(),
        )
        .agg(sums)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(name: &str, args: Vec<Expr>) -> Expr {
        Expr::new(
            ExprKind::Call {
                name: Ident {
                    name: name.into(),
                    range: 0..0,
                },
                args,
            },
            0..0,
        )
    }

    fn column(name: &str) -> Expr {
        Expr::new(ExprKind::Name(name.into()), 0..0)
    }

    #[test]
    fn aggregate_default_names() {
        assert_eq!(
            default_aggregate_name(&call("count", vec![])).as_deref(),
            Some("count_")
        );
        assert_eq!(
            default_aggregate_name(&call("dcount", vec![column("Account")])).as_deref(),
            Some("dcount_Account")
        );
        assert_eq!(
            default_aggregate_name(&call("make_set", vec![column("Ip")])).as_deref(),
            Some("set_Ip")
        );
        assert_eq!(
            default_aggregate_name(&call("make_list_if", vec![column("Ip"), column("Ok")]))
                .as_deref(),
            Some("list_Ip")
        );
        assert_eq!(
            default_aggregate_name(&call("count", vec![column("Port")])).as_deref(),
            Some("count_Port")
        );
        let fifty = Expr::new(ExprKind::Literal(crate::ast::Literal::Long(50)), 0..0);
        assert_eq!(
            default_aggregate_name(&call("percentile", vec![column("Bytes"), fifty])).as_deref(),
            Some("percentile_Bytes_50")
        );
        assert_eq!(
            default_aggregate_name(&call("countif", vec![column("Ok")])).as_deref(),
            Some("countif_")
        );
        assert_eq!(
            default_aggregate_name(&call("tolower", vec![column("A")])),
            None
        );
    }

    #[test]
    fn key_default_names() {
        assert_eq!(
            default_key_name(&column("Computer")).as_deref(),
            Some("Computer")
        );
        let binned = call("bin", vec![column("TimeGenerated"), column("x")]);
        assert_eq!(default_key_name(&binned).as_deref(), Some("TimeGenerated"));
        assert_eq!(
            default_key_name(&call("tostring", vec![column("A")])).as_deref(),
            Some("A")
        );
        let member = Expr::new(
            ExprKind::Member {
                object: Box::new(column("E")),
                key: Box::new(Expr::new(
                    ExprKind::Literal(crate::ast::Literal::String("Type".into())),
                    0..0,
                )),
            },
            0..0,
        );
        assert_eq!(
            default_key_name(&call("tostring", vec![member])).as_deref(),
            Some("E_Type")
        );
        let sum = Expr::new(
            ExprKind::Binary {
                op: crate::ast::BinaryOp::Add,
                lhs: Box::new(column("A")),
                rhs: Box::new(column("B")),
            },
            0..0,
        );
        assert_eq!(default_key_name(&sum), None);
    }
}
