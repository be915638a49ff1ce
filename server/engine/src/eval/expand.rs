//! The `mv-expand` and `mv-apply` operators.

use polars::prelude::{
    BinaryChunked, Column, DataFrame, DataType, ExplodeOptions, Expr as PlExpr, Field,
    Int64Chunked, IntoColumn as _, IntoLazy as _, IntoSeries as _, LazyFrame, ListChunked,
    NewChunkedArray as _, PlSmallStr, Selector, col, lit, map_multiple,
};
use serde_json::Value as Json;

use super::apply_operator;
use super::expr::{AggregateMode, ExprCompiler, Scope, evaluate_constant, parse_type_name};
use super::functions::{as_json, convert_text};
use super::operators::collect;
use super::types::KqlType;
use super::value::{Value, read_column, row_function};
use crate::EngineError;
use crate::ast::{Expr, Ident, Literal, MvColumn, Operator};

/// Returns the elements that `mv-expand` makes of one value: an array's items, a bag's
/// properties as one-property bags (or `[key, value]` pairs with `bagexpansion=array`), and
/// any other value as itself.
fn expansion_items(value: &Value, bag_as_array: bool) -> Vec<Json> {
    match as_json(value) {
        // A null value, like an empty array, makes no rows.
        Json::Null => Vec::new(),
        Json::Array(items) => items,
        Json::Object(bag) => bag
            .into_iter()
            .map(|(key, item)| {
                if bag_as_array {
                    Json::Array(vec![Json::String(key), item])
                } else {
                    let mut single = serde_json::Map::new();
                    single.insert(key, item);
                    Json::Object(single)
                }
            })
            .collect(),
        other => vec![other],
    }
}

/// Builds a list column for column `index` of an `mv-expand`: each row's items, padded with
/// nulls to the longest expansion of that row, and cut at `limit`. With `index_list`, the
/// list holds the item positions instead.
fn expansion_list(
    inputs: Vec<PlExpr>,
    index: usize,
    bag_as_array: bool,
    limit: usize,
    index_list: bool,
) -> PlExpr {
    let dtype = if index_list {
        DataType::List(Box::new(DataType::Int64))
    } else {
        DataType::List(Box::new(DataType::Binary))
    };
    let output = dtype.clone();
    map_multiple(
        move |columns: &mut [Column]| {
            let name = columns[0].name().clone();
            let values: Vec<Vec<Value>> = columns.iter().map(read_column).collect();
            let height = values.iter().map(Vec::len).max().unwrap_or(0);
            let mut lists: Vec<Option<polars::prelude::Series>> = Vec::with_capacity(height);
            for row in 0..height {
                let expanded: Vec<Vec<Json>> = values
                    .iter()
                    .map(|column| {
                        let value = match column.len() {
                            1 => &column[0],
                            _ => column.get(row).unwrap_or(&Value::Null),
                        };
                        expansion_items(value, bag_as_array)
                    })
                    .collect();
                let length = expanded.iter().map(Vec::len).max().unwrap_or(0).min(limit);
                let series = if index_list {
                    Int64Chunked::from_iter_values(PlSmallStr::EMPTY, 0..length as i64)
                        .into_series()
                } else {
                    let items = &expanded[index];
                    BinaryChunked::from_iter_options(
                        PlSmallStr::EMPTY,
                        (0..length).map(|i| match items.get(i) {
                            None | Some(Json::Null) => None,
                            Some(item) => Some(item.to_string().into_bytes()),
                        }),
                    )
                    .into_series()
                };
                lists.push(Some(series));
            }
            let list: ListChunked = lists.into_iter().collect();
            let column = list.into_series().with_name(name).cast(&output)?;
            Ok(column.into_column())
        },
        inputs,
        move |_, fields: &[Field]| Ok(Field::new(fields[0].name().clone(), dtype.clone())),
    )
}

/// Converts an expanded dynamic element to the `to typeof(T)` type; elements of another
/// type become null.
fn convert_element(expr: PlExpr, ty: KqlType) -> PlExpr {
    row_function(vec![expr], ty, move |v| {
        let json = as_json(v[0]);
        match (&json, ty) {
            (Json::Null, _) => Value::Null,
            (Json::String(text), KqlType::String) => Value::String(text.clone()),
            (_, KqlType::String) => Value::String(json.to_string()),
            (Json::Number(_), KqlType::Long | KqlType::Int) => Value::Dynamic(json.clone())
                .to_long()
                .map_or(Value::Null, Value::Long),
            (Json::Number(n), KqlType::Real) => n.as_f64().map_or(Value::Null, Value::Real),
            (Json::Bool(flag), KqlType::Bool) => Value::Bool(*flag),
            (Json::String(text), KqlType::Datetime | KqlType::Timespan) => convert_text(text, ty),
            (_, KqlType::Dynamic | KqlType::Null) => Value::Dynamic(json.clone()),
            _ => Value::Null,
        }
    })
}

/// Applies `mv-expand`.
pub(super) fn mv_expand(
    frame: LazyFrame,
    scope: &Scope<'_>,
    columns: &[MvColumn],
    bag_as_array: bool,
    item_index: Option<&Ident>,
    limit: Option<&Expr>,
) -> Result<LazyFrame, EngineError> {
    let compiler = ExprCompiler::new(scope, AggregateMode::Forbidden);
    let limit = match limit {
        None => usize::MAX,
        Some(expr) => match evaluate_constant(&compiler.compile(expr)?) {
            Some(Literal::Long(n)) if n >= 0 => usize::try_from(n).unwrap_or(usize::MAX),
            _ => {
                return Err(EngineError::at(
                    "`limit` needs a constant, non-negative row count",
                    expr.range.clone(),
                ));
            }
        },
    };
    let mut inputs = Vec::with_capacity(columns.len());
    let mut types = Vec::with_capacity(columns.len());
    for column in columns {
        inputs.push(compiler.compile(&column.expr)?.expr);
        let ty = match &column.to_type {
            Some(name) => Some(parse_type_name(name).ok_or_else(|| {
                EngineError::at(format!("unknown type `{name}`"), column.expr.range.clone())
            })?),
            None => None,
        };
        types.push(ty);
    }
    let mut lists = Vec::with_capacity(columns.len() + 1);
    let mut exploded: Vec<PlSmallStr> = Vec::new();
    for (index, column) in columns.iter().enumerate() {
        let list = expansion_list(inputs.clone(), index, bag_as_array, limit, false);
        lists.push(list.alias(column.name.name.as_str()));
        exploded.push(column.name.name.as_str().into());
    }
    if let Some(item_index) = item_index {
        let list = expansion_list(inputs, 0, bag_as_array, limit, true);
        lists.push(list.alias(item_index.name.as_str()));
        exploded.push(item_index.name.as_str().into());
    }
    let options = ExplodeOptions {
        empty_as_null: false,
        keep_nulls: true,
    };
    let mut frame = frame.with_columns(lists).explode(
        Selector::ByName {
            names: exploded.into(),
            strict: true,
        },
        options,
    );
    let conversions: Vec<PlExpr> = columns
        .iter()
        .zip(&types)
        .filter_map(|(column, ty)| {
            ty.map(|ty| {
                convert_element(col(column.name.name.as_str()), ty).alias(column.name.name.as_str())
            })
        })
        .collect();
    if !conversions.is_empty() {
        frame = frame.with_columns(conversions);
    }
    Ok(frame)
}

/// Applies `mv-apply`: for each input row, expands the columns, runs the subquery on the
/// expanded rows, and adds the row's other columns to the subquery's output.
// NOTE: the subquery is planned and run once per input row, which is slow on large inputs.
pub(super) fn mv_apply(
    frame: LazyFrame,
    scope: &Scope<'_>,
    columns: &[MvColumn],
    item_index: Option<&Ident>,
    subquery: &[Operator],
) -> Result<LazyFrame, EngineError> {
    let range = subquery.first().map_or(0..0, |op| op.range.clone());
    let whole = collect(frame, &range, "mv-apply")?;
    let expanded_names: Vec<&str> = columns.iter().map(|c| c.name.name.as_str()).collect();
    let mut outputs = Vec::with_capacity(whole.height());
    for row in 0..whole.height() {
        let single = whole.slice(row as i64, 1);
        let mut expanded = mv_expand(
            single.clone().lazy(),
            scope,
            columns,
            false,
            item_index,
            None,
        )?;
        let mut keep: Vec<PlExpr> = columns.iter().map(|c| col(c.name.name.as_str())).collect();
        if let Some(index) = item_index {
            keep.push(col(index.name.as_str()));
        }
        expanded = expanded.select(keep);
        for operator in subquery {
            let schema = expanded
                .collect_schema()
                .map_err(|error| {
                    EngineError::at(
                        format!("the mv-apply subquery is invalid: {error}"),
                        operator.range.clone(),
                    )
                })?
                .as_ref()
                .clone();
            let inner = Scope {
                schema: &schema,
                lets: scope.lets,
                functions: scope.functions,
                tables: scope.tables,
                now_nanos: scope.now_nanos,
            };
            expanded = apply_operator(expanded, operator, &inner)?;
        }
        let result = collect(expanded, &range, "mv-apply")?;
        let others: Vec<PlExpr> = single
            .get_column_names()
            .into_iter()
            .filter(|name| {
                !expanded_names.contains(&name.as_str()) && !result.schema().contains(name)
            })
            .map(|name| col(name.clone()))
            .collect();
        // Each output row of the subquery gets the input row's other columns.
        let mut with_key = others;
        with_key.push(lit(1i32).alias("__quarry_row"));
        let args = polars::prelude::JoinArgs::new(polars::prelude::JoinType::Inner);
        let repeated = single
            .lazy()
            .select(with_key)
            .join(
                result
                    .lazy()
                    .with_columns([lit(1i32).alias("__quarry_row")]),
                [col("__quarry_row")],
                [col("__quarry_row")],
                args,
            )
            .drop(Selector::ByName {
                names: vec![PlSmallStr::from("__quarry_row")].into(),
                strict: true,
            });
        outputs.push(repeated);
    }
    if outputs.is_empty() {
        return Ok(DataFrame::empty().lazy());
    }
    polars::prelude::concat(outputs, polars::prelude::UnionArgs::default())
        .map_err(|error| EngineError::at(format!("`mv-apply` failed: {error}"), range))
}
