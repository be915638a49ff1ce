//! The `mv-expand` and `mv-apply` operators.
//!
//! `mv-expand` builds one list column per expanded expression and lets polars explode them
//! together. Expanding `split(text, "delimiter")` plans polars' own string split, so no JSON
//! array is built per row. Other dynamic values are parsed once per row, and their items are
//! written straight into the list columns.

use polars::prelude::{
    BinaryChunkedBuilder, Column, DataFrame, DataType, ExplodeOptions, Expr as PlExpr, Field,
    Int64Type, IntoColumn as _, IntoLazy as _, IntoSeries as _, JoinArgs, JoinType, LazyFrame,
    ListBinaryChunkedBuilder, ListBuilderTrait as _, ListNameSpaceImpl as _,
    ListPrimitiveChunkedBuilder, MaintainOrderJoin, PlSmallStr, Selector, col, lit, map_multiple,
};
use serde_json::Value as Json;

use super::apply_operator;
use super::expr::{
    AggregateMode, ExprCompiler, Scope, as_string, evaluate_constant, parse_type_name,
};
use super::functions::{as_json, convert_text};
use super::operators::collect;
use super::types::KqlType;
use super::value::{Value, read_column, row_function};
use crate::EngineError;
use crate::ast::{Expr, ExprKind, Ident, Literal, MvColumn, NamedExpr, Operator, OperatorKind};

/// Returns the elements that `mv-expand` makes of one value, as JSON text: an array's items,
/// a bag's properties as one-property bags (or `[key, value]` pairs with
/// `bagexpansion=array`), and any other value as itself. Null gives one null element, and an
/// empty array or bag gives none, as in Kusto.
fn expansion_items(value: &Value, bag_as_array: bool) -> Vec<Option<Vec<u8>>> {
    let encode = |item: &Json| match item {
        Json::Null => None,
        other => Some(other.to_string().into_bytes()),
    };
    match as_json(value) {
        Json::Null => vec![None],
        Json::Array(items) => items.iter().map(encode).collect(),
        Json::Object(bag) => bag
            .into_iter()
            .map(|(key, item)| {
                let element = if bag_as_array {
                    Json::Array(vec![Json::String(key), item])
                } else {
                    let mut single = serde_json::Map::new();
                    single.insert(key, item);
                    Json::Object(single)
                };
                encode(&element)
            })
            .collect(),
        other => vec![encode(&other)],
    }
}

/// Builds a list column for column `index` of an `mv-expand`: each row's elements, padded
/// with nulls to the longest expansion of that row and cut at `limit`. With `index_list`,
/// the list contains the element positions instead.
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
    map_multiple(
        move |columns: &mut [Column]| {
            let name = columns[0].name().clone();
            let height = columns.iter().map(Column::len).max().unwrap_or(0);
            // Each input's elements per row. A one-row input, such as a literal, applies to
            // every row.
            let expanded: Vec<Vec<Vec<Option<Vec<u8>>>>> = columns
                .iter()
                .map(|column| {
                    read_column(column)
                        .iter()
                        .map(|value| expansion_items(value, bag_as_array))
                        .collect()
                })
                .collect();
            let row_items = |input: usize, row: usize| {
                let rows = &expanded[input];
                if rows.len() == 1 {
                    &rows[0]
                } else {
                    &rows[row]
                }
            };
            let length = |row: usize| {
                (0..expanded.len())
                    .filter(|&input| !expanded[input].is_empty())
                    .map(|input| row_items(input, row).len())
                    .max()
                    .unwrap_or(0)
                    .min(limit)
            };
            let column = if index_list {
                let mut builder = ListPrimitiveChunkedBuilder::<Int64Type>::new(
                    name,
                    height,
                    height,
                    DataType::Int64,
                );
                for row in 0..height {
                    builder.append_values_iter(0..length(row) as i64);
                }
                builder.finish().into_series()
            } else {
                let mut builder = ListBinaryChunkedBuilder::new(name, height, height);
                for row in 0..height {
                    let items = row_items(index, row);
                    let padded: Vec<Option<&[u8]>> = (0..length(row))
                        .map(|i| items.get(i).and_then(|item| item.as_deref()))
                        .collect();
                    builder.append_trusted_len_iter(padded.into_iter());
                }
                builder.finish().into_series()
            };
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

/// Returns the list of strings that `expr` makes when it is a call of the built-in
/// `split(text, delimiter)` with a constant, non-empty delimiter and no index argument.
fn split_list(compiler: &ExprCompiler<'_>, expr: &Expr) -> Result<Option<PlExpr>, EngineError> {
    let ExprKind::Call { name, args } = &expr.kind else {
        return Ok(None);
    };
    if name.name != "split" || args.len() != 2 || compiler.scope.functions.contains_key("split") {
        return Ok(None);
    }
    let delimiter = match evaluate_constant(&compiler.compile(&args[1])?) {
        Some(Literal::String(delimiter)) if !delimiter.is_empty() => delimiter,
        _ => return Ok(None),
    };
    // `split()` reads a null text as the empty string, which splits into one empty part.
    let text = as_string(&compiler.compile(&args[0])?).fill_null(lit(""));
    Ok(Some(text.str().split(lit(delimiter))))
}

/// Returns the positions 0, 1, ... of each list in a list column, as a list column.
fn list_positions(list: PlExpr) -> PlExpr {
    list.map(
        |column: Column| {
            let lists = column.list()?;
            let mut builder = ListPrimitiveChunkedBuilder::<Int64Type>::new(
                column.name().clone(),
                lists.len(),
                lists.len(),
                DataType::Int64,
            );
            for length in lists.lst_lengths().iter() {
                match length {
                    Some(length) => builder.append_values_iter(0..i64::from(length)),
                    None => builder.append_null(),
                }
            }
            Ok(builder.finish().into_column())
        },
        |_, field: &Field| {
            Ok(Field::new(
                field.name().clone(),
                DataType::List(Box::new(DataType::Int64)),
            ))
        },
    )
}

/// Encodes each string as a JSON string, the form of a dynamic value that contains it.
fn encode_strings(text: PlExpr) -> PlExpr {
    text.map(
        |column: Column| {
            let strings = column.str()?;
            let mut builder = BinaryChunkedBuilder::new(column.name().clone(), strings.len());
            let mut buffer = Vec::new();
            for value in strings.iter() {
                match value {
                    Some(text) => {
                        buffer.clear();
                        write_json_string(text, &mut buffer);
                        builder.append_value(&buffer);
                    }
                    None => builder.append_null(),
                }
            }
            Ok(builder.finish().into_column())
        },
        |_, field: &Field| Ok(Field::new(field.name().clone(), DataType::Binary)),
    )
}

/// Writes `text` as a JSON string, escaped as `serde_json` escapes it.
fn write_json_string(text: &str, buffer: &mut Vec<u8>) {
    let bytes = text.as_bytes();
    if bytes.iter().any(|&byte| byte < 0x20) {
        buffer.extend_from_slice(Json::String(text.to_owned()).to_string().as_bytes());
        return;
    }
    buffer.push(b'"');
    let mut start = 0;
    for (index, &byte) in bytes.iter().enumerate() {
        if byte == b'"' || byte == b'\\' {
            buffer.extend_from_slice(&bytes[start..index]);
            buffer.push(b'\\');
            // The quote or backslash itself is copied with the next run of bytes.
            start = index;
        }
    }
    buffer.extend_from_slice(&bytes[start..]);
    buffer.push(b'"');
}

/// Returns `mv-expand`'s `limit` as a row count; no limit is `usize::MAX`.
fn row_limit(compiler: &ExprCompiler<'_>, limit: Option<&Expr>) -> Result<usize, EngineError> {
    let Some(expr) = limit else {
        return Ok(usize::MAX);
    };
    match evaluate_constant(&compiler.compile(expr)?) {
        Some(Literal::Long(n)) if n >= 0 => Ok(usize::try_from(n).unwrap_or(usize::MAX)),
        _ => Err(EngineError::at(
            "`limit` needs a constant, non-negative row count",
            expr.range.clone(),
        )),
    }
}

fn explode(frame: LazyFrame, lists: Vec<PlExpr>, names: Vec<PlSmallStr>) -> LazyFrame {
    // Empty lists drop their row, as an empty array does in Kusto.
    let options = ExplodeOptions {
        empty_as_null: false,
        keep_nulls: true,
    };
    frame.with_columns(lists).explode(
        Selector::ByName {
            names: names.into(),
            strict: true,
        },
        options,
    )
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
    let limit = row_limit(&compiler, limit)?;
    let mut types = Vec::with_capacity(columns.len());
    for column in columns {
        let ty = match &column.to_type {
            Some(name) => Some(parse_type_name(name).ok_or_else(|| {
                EngineError::at(format!("unknown type `{name}`"), column.expr.range.clone())
            })?),
            None => None,
        };
        types.push(ty);
    }

    if let [column] = columns
        && let Some(mut parts) = split_list(&compiler, &column.expr)?
    {
        let name = column.name.name.as_str();
        if limit != usize::MAX {
            parts = parts.list().head(lit(limit as u64));
        }
        let mut lists = vec![parts.clone().alias(name)];
        let mut names = vec![PlSmallStr::from(name)];
        if let Some(item_index) = item_index {
            lists.push(list_positions(parts).alias(item_index.name.as_str()));
            names.push(item_index.name.as_str().into());
        }
        let frame = explode(frame, lists, names);
        // The parts are strings; `to typeof(string)` keeps them as they are, and any other
        // target reads them as the dynamic strings that they are in Kusto.
        let item = match types[0] {
            Some(KqlType::String) => return Ok(frame),
            Some(KqlType::Dynamic) | None => encode_strings(col(name)),
            Some(ty) => convert_element(encode_strings(col(name)), ty),
        };
        return Ok(frame.with_columns([item.alias(name)]));
    }

    let mut inputs = Vec::with_capacity(columns.len());
    for column in columns {
        inputs.push(compiler.compile(&column.expr)?.expr);
    }
    let mut lists = Vec::with_capacity(columns.len() + 1);
    let mut names: Vec<PlSmallStr> = Vec::new();
    for (index, column) in columns.iter().enumerate() {
        let list = expansion_list(inputs.clone(), index, bag_as_array, limit, false);
        lists.push(list.alias(column.name.name.as_str()));
        names.push(column.name.name.as_str().into());
    }
    if let Some(item_index) = item_index {
        let list = expansion_list(inputs, 0, bag_as_array, limit, true);
        lists.push(list.alias(item_index.name.as_str()));
        names.push(item_index.name.as_str().into());
    }
    let mut frame = explode(frame, lists, names);
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

/// The column that numbers the input rows of a row-local `mv-apply`.
const APPLY_ROW: &str = "__quarry_mv_apply_row";

/// Returns whether every operator of an `mv-apply` subquery works on each row alone, so the
/// subquery can run once over all expanded rows instead of once per input row.
fn is_row_local(subquery: &[Operator]) -> bool {
    subquery.iter().all(|operator| {
        matches!(
            operator.kind,
            OperatorKind::Where(_)
                | OperatorKind::Extend(_)
                | OperatorKind::Project(_)
                | OperatorKind::ProjectRename(_)
        )
    })
}

/// Applies a row-local `mv-apply` subquery once over every input row's expansion. The row
/// number column goes through the subquery and then joins each result row to the other
/// columns of its input row.
fn mv_apply_row_local(
    frame: LazyFrame,
    scope: &Scope<'_>,
    columns: &[MvColumn],
    item_index: Option<&Ident>,
    subquery: &[Operator],
) -> Result<LazyFrame, EngineError> {
    let range = subquery.first().map_or(0..0, |op| op.range.clone());
    let numbered = frame.with_row_index(APPLY_ROW, None);
    let mut schema = scope.schema.clone();
    schema
        .insert_at_index(0, APPLY_ROW.into(), DataType::UInt32)
        .map_err(|error| EngineError::at(format!("`mv-apply` failed: {error}"), range.clone()))?;
    let numbered_scope = Scope {
        schema: &schema,
        lets: scope.lets,
        functions: scope.functions,
        tables: scope.tables,
        now_nanos: scope.now_nanos,
    };
    let mut expanded = mv_expand(
        numbered.clone(),
        &numbered_scope,
        columns,
        false,
        item_index,
        None,
    )?;

    let mut keep: Vec<PlExpr> = vec![col(APPLY_ROW)];
    keep.extend(columns.iter().map(|c| col(c.name.name.as_str())));
    if let Some(index) = item_index {
        keep.push(col(index.name.as_str()));
    }
    expanded = expanded.select(keep);

    for operator in subquery {
        // `project` would drop the row number, so it is added to the projected columns.
        let operator = match &operator.kind {
            OperatorKind::Project(items) => {
                let mut items = items.clone();
                items.push(NamedExpr {
                    name: None,
                    expr: Expr::new(ExprKind::Name(APPLY_ROW.to_owned()), operator.range.clone()),
                });
                Operator {
                    kind: OperatorKind::Project(items),
                    range: operator.range.clone(),
                }
            }
            _ => operator.clone(),
        };
        expanded = apply_subquery_operator(expanded, &operator, scope)?;
    }

    let result_schema = expanded.collect_schema().map_err(|error| {
        EngineError::at(
            format!("the mv-apply subquery is invalid: {error}"),
            range.clone(),
        )
    })?;
    let expanded_names: Vec<&str> = columns.iter().map(|c| c.name.name.as_str()).collect();
    let mut others: Vec<PlExpr> = vec![col(APPLY_ROW)];
    others.extend(
        scope
            .schema
            .iter_names()
            .filter(|name| {
                !expanded_names.contains(&name.as_str()) && !result_schema.contains(name)
            })
            .map(|name| col(name.clone())),
    );

    let mut args = JoinArgs::new(JoinType::Inner);
    args.maintain_order = MaintainOrderJoin::LeftRight;
    Ok(numbered
        .select(others)
        .join(expanded, [col(APPLY_ROW)], [col(APPLY_ROW)], args)
        .drop(Selector::ByName {
            names: vec![PlSmallStr::from(APPLY_ROW)].into(),
            strict: true,
        }))
}

/// Applies `mv-apply`: for each input row, expands the columns, runs the subquery on the
/// expanded rows, and adds the row's other columns to the subquery's output.
pub(super) fn mv_apply(
    frame: LazyFrame,
    scope: &Scope<'_>,
    columns: &[MvColumn],
    item_index: Option<&Ident>,
    subquery: &[Operator],
) -> Result<LazyFrame, EngineError> {
    if is_row_local(subquery) {
        return mv_apply_row_local(frame, scope, columns, item_index, subquery);
    }
    // NOTE: a subquery with `summarize`, `top`, `take` and the like is planned and run once
    // per input row, which is slow on large inputs.
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
            expanded = apply_subquery_operator(expanded, operator, scope)?;
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

/// Applies one operator of an mv-apply subquery to `frame`, with the frame's own schema and
/// the outer scope's lets, functions and tables.
fn apply_subquery_operator(
    mut frame: LazyFrame,
    operator: &Operator,
    scope: &Scope<'_>,
) -> Result<LazyFrame, EngineError> {
    let schema = frame
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
    apply_operator(frame, operator, &inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_string_matches_serde() {
        let texts = [
            "",
            "plain",
            r"C:\Windows\system32",
            "\"quoted\"",
            "tab\there",
            "line\nbreak",
            "\u{1}control",
            "ünïcödé",
            r#"mixed \" and \\"#,
        ];
        for text in texts {
            let mut buffer = Vec::new();
            write_json_string(text, &mut buffer);
            let expected = serde_json::to_string(text).unwrap();
            assert_eq!(String::from_utf8(buffer).unwrap(), expected, "{text:?}");
        }
    }
}
