//! `union` and `join`: operators that combine the pipe's input with other tables.

use std::ops::Range;

use polars::prelude::{
    DataType, Expr as PlExpr, IntoLazy as _, JoinArgs, JoinCoalesce, JoinType, LazyFrame,
    MaintainOrderJoin, NULL, Schema, UnionArgs, UniqueKeepStrategy, col, concat, lit,
};

use super::types::KqlType;
use super::unique_name;
use crate::EngineError;
use crate::ast::{Ident, JoinKind};

fn schema_of(frame: &mut LazyFrame, range: &Range<usize>) -> Result<Schema, EngineError> {
    frame
        .collect_schema()
        .map(|schema| schema.as_ref().clone())
        .map_err(|error| {
            EngineError::at(
                format!("a table of this operator is invalid: {error}"),
                range.clone(),
            )
        })
}

/// One column of a union's output.
struct UnionColumn {
    output: String,
    input: String,
    /// The KQL type taken from the input column; `None` when every input has it as `null`.
    ty: Option<KqlType>,
    dtype: DataType,
}

/// Appends the rows of `inputs` in order. `outer` keeps every column and fills the missing ones
/// with nulls; otherwise only the columns common to all inputs remain. A column whose type
/// differs between inputs is split into one column per type (`Status_string`, `Status_dynamic`). `withsource` adds a first
/// column with each row's table label.
pub(super) fn union(
    inputs: Vec<(String, LazyFrame)>,
    outer: bool,
    withsource: Option<&Ident>,
    range: Range<usize>,
) -> Result<LazyFrame, EngineError> {
    let mut schemas = Vec::with_capacity(inputs.len());
    let mut frames = Vec::with_capacity(inputs.len());
    for (label, mut frame) in inputs {
        schemas.push(schema_of(&mut frame, &range)?);
        frames.push((label, frame));
    }
    // Each output column: its name, the input column it reads, and its polars type. A name
    // that arrives with two KQL types becomes one column per type, named `Name_type` as Kusto
    // names them, at the place where the name first appeared.
    let mut names: Vec<(String, Vec<(KqlType, DataType)>)> = Vec::new();
    for schema in &schemas {
        for (name, dtype) in schema.iter() {
            let ty = KqlType::from_polars(dtype);
            let index = match names.iter().position(|(known, _)| known == name.as_str()) {
                Some(index) => index,
                None => {
                    names.push((name.to_string(), Vec::new()));
                    names.len() - 1
                }
            };
            let types = &mut names[index].1;
            if ty != KqlType::Null && !types.iter().any(|(known, _)| *known == ty) {
                types.push((ty, dtype.clone()));
            }
        }
    }
    let mut columns: Vec<UnionColumn> = Vec::new();
    for (name, types) in names {
        match types.as_slice() {
            [] => columns.push(UnionColumn {
                output: name.clone(),
                input: name,
                ty: None,
                dtype: DataType::Null,
            }),
            [(ty, dtype)] => columns.push(UnionColumn {
                output: name.clone(),
                input: name,
                ty: Some(*ty),
                dtype: dtype.clone(),
            }),
            several => {
                for (ty, dtype) in several {
                    columns.push(UnionColumn {
                        output: format!("{name}_{}", ty.name()),
                        input: name.clone(),
                        ty: Some(*ty),
                        dtype: dtype.clone(),
                    });
                }
            }
        }
    }
    let holds = |schema: &Schema, column: &UnionColumn| match schema.get(&column.input) {
        Some(dtype) => {
            let ty = KqlType::from_polars(dtype);
            column.ty.is_none() || ty == KqlType::Null || Some(ty) == column.ty
        }
        None => false,
    };
    if !outer {
        columns.retain(|column| schemas.iter().all(|schema| holds(schema, column)));
    }
    let mut aligned = Vec::with_capacity(frames.len());
    for ((label, frame), schema) in frames.into_iter().zip(&schemas) {
        let mut exprs: Vec<PlExpr> = Vec::with_capacity(columns.len() + 1);
        if let Some(source) = withsource {
            exprs.push(lit(label).alias(source.name.as_str()));
        }
        for column in &columns {
            let output = column.output.as_str();
            exprs.push(match schema.get(&column.input) {
                Some(dtype) if holds(schema, column) => {
                    if *dtype == column.dtype {
                        col(column.input.as_str()).alias(output)
                    } else {
                        col(column.input.as_str())
                            .cast(column.dtype.clone())
                            .alias(output)
                    }
                }
                _ => lit(NULL).cast(column.dtype.clone()).alias(output),
            });
        }
        aligned.push(frame.select(exprs));
    }
    concat(aligned, UnionArgs::default())
        .map_err(|error| EngineError::at(format!("`union` failed: {error}"), range))
}

/// Joins `left` and `right` on pairs of (left, right) key columns with Kusto's output shape:
/// every left column, then every right column, renamed with a number (`Key1`) when a left
/// column has its name. Semi and anti joins return only one side's columns. Null keys never
/// match.
pub(super) fn join(
    mut left: LazyFrame,
    mut right: LazyFrame,
    kind: JoinKind,
    keys: &[(Ident, Ident)],
    range: Range<usize>,
) -> Result<LazyFrame, EngineError> {
    let left_schema = schema_of(&mut left, &range)?;
    let right_schema = schema_of(&mut right, &range)?;
    check_keys(&left_schema, &right_schema, keys)?;
    if matches!(
        kind,
        JoinKind::Inner | JoinKind::InnerUnique | JoinKind::LeftSemi | JoinKind::RightOuter
    ) {
        (left, right) = keep_left_rows_with_right_keys(left, right, &left_schema, keys, &range)?;
    }
    match kind {
        JoinKind::LeftSemi | JoinKind::LeftAnti => {
            let pairs: Vec<(Ident, Ident)> = keys.to_vec();
            return Ok(semi_join(left, right, &pairs, kind == JoinKind::LeftAnti));
        }
        JoinKind::RightSemi | JoinKind::RightAnti => {
            let pairs: Vec<(Ident, Ident)> =
                keys.iter().map(|(l, r)| (r.clone(), l.clone())).collect();
            return Ok(semi_join(right, left, &pairs, kind == JoinKind::RightAnti));
        }
        _ => {}
    }
    let mut taken: Vec<String> = left_schema
        .iter_names()
        .map(|name| name.to_string())
        .collect();
    let mut renamed = Vec::new();
    let mut right_names = Vec::new();
    for name in right_schema.iter_names() {
        let output = if taken.iter().any(|known| known == name.as_str()) {
            unique_name(name, &taken)
        } else {
            name.to_string()
        };
        taken.push(output.clone());
        renamed.push(col(name.clone()).alias(output.as_str()));
        right_names.push((name.to_string(), output));
    }
    let marker = unique_name("__right_present", &taken);
    renamed.push(lit(true).alias(marker.as_str()));
    let right = right.select(renamed);
    let right_key = |key: &Ident| {
        let output = right_names
            .iter()
            .find(|(original, _)| *original == key.name)
            .map(|(_, output)| output.clone())
            .unwrap_or_else(|| key.name.clone());
        col(output.as_str())
    };
    let left_on: Vec<PlExpr> = keys.iter().map(|(key, _)| col(key.name.as_str())).collect();
    let right_on: Vec<PlExpr> = keys.iter().map(|(_, key)| right_key(key)).collect();
    let left = match kind {
        // Kusto's default keeps one left row per distinct key before joining.
        JoinKind::InnerUnique => {
            let subset: Vec<PlExpr> = left_on.clone();
            left.unique_stable(
                Some(polars::prelude::Selector::ByName {
                    names: keys
                        .iter()
                        .map(|(key, _)| key.name.as_str().into())
                        .collect(),
                    strict: true,
                }),
                UniqueKeepStrategy::First,
            )
            .filter(
                subset
                    .into_iter()
                    .fold(lit(true), |all, key| all.and(key.is_not_null())),
            )
        }
        _ => left,
    };
    let how = match kind {
        JoinKind::LeftOuter => JoinType::Left,
        // A right outer join is a full join without the left rows that found no match.
        JoinKind::FullOuter | JoinKind::RightOuter => JoinType::Full,
        _ => JoinType::Inner,
    };
    let args = JoinArgs::new(how).with_coalesce(JoinCoalesce::KeepColumns);
    let mut joined = left.join(right, left_on, right_on, args);
    if kind == JoinKind::RightOuter {
        joined = joined.filter(col(marker.as_str()).is_not_null());
    }
    let outer = matches!(
        kind,
        JoinKind::LeftOuter | JoinKind::RightOuter | JoinKind::FullOuter
    );
    let output: Vec<PlExpr> = taken
        .iter()
        .zip(left_schema.iter().chain(right_schema.iter()))
        .map(|(name, (_, dtype))| {
            // Kusto strings are never null: an outer join fills a missing string with "".
            if outer && *dtype == DataType::String {
                col(name.as_str()).fill_null(lit(""))
            } else {
                col(name.as_str())
            }
        })
        .collect();
    Ok(joined.select(output))
}

/// The largest right side, in rows, by whose keys [`keep_left_rows_with_right_keys`] filters
/// the left side.
const KEY_FILTER_MAX_ROWS: usize = 100_000;

/// Runs the right side of a join and, when it is small, keeps only the left rows whose keys
/// appear on it. The join kinds that call this drop left rows without a match anyway, and
/// the filter reaches the file scan, where polars tests it once per distinct value of a
/// Parquet dictionary instead of once per row. Returns the filtered left side and the right
/// side as the table it ran to, so that it does not run twice.
fn keep_left_rows_with_right_keys(
    mut left: LazyFrame,
    right: LazyFrame,
    left_schema: &Schema,
    keys: &[(Ident, Ident)],
    range: &Range<usize>,
) -> Result<(LazyFrame, LazyFrame), EngineError> {
    let right = super::collect_plan(right).map_err(|error| {
        EngineError::at(
            format!("the right side of the join failed while running: {error}"),
            range.clone(),
        )
    })?;
    if right.height() <= KEY_FILTER_MAX_ROWS {
        for (left_key, right_key) in keys {
            let Some(dtype) = left_schema.get(&left_key.name) else {
                continue;
            };
            let values = right
                .column(&right_key.name)
                .and_then(|column| column.unique());
            // Keys of different types are left to the join and its own rules.
            if let Ok(values) = values
                && values.dtype() == dtype
            {
                let member = col(left_key.name.as_str())
                    .is_in(lit(values.take_materialized_series()).implode(false), false);
                left = left.filter(member);
            }
        }
    }
    Ok((left, right.lazy()))
}

fn check_keys(
    left_schema: &Schema,
    right_schema: &Schema,
    keys: &[(Ident, Ident)],
) -> Result<(), EngineError> {
    for (left_key, right_key) in keys {
        for (schema, key, side) in [
            (left_schema, left_key, "left"),
            (right_schema, right_key, "right"),
        ] {
            if !schema.contains(&key.name) {
                return Err(EngineError::at(
                    format!("the {side} side of the join has no column `{}`", key.name),
                    key.range.clone(),
                ));
            }
        }
        let (Some(left_type), Some(right_type)) = (
            left_schema.get(&left_key.name),
            right_schema.get(&right_key.name),
        ) else {
            continue;
        };
        // Integer keys of different widths (int and long) join by value.
        if left_type != right_type && !(left_type.is_integer() && right_type.is_integer()) {
            let left_kql = KqlType::from_polars(left_type);
            let right_name = KqlType::from_polars(right_type).name();
            // The hint converts the right key to the left key's type, in the right subquery.
            let conversion = match left_kql {
                KqlType::String => "tostring",
                KqlType::Int => "toint",
                KqlType::Long => "tolong",
                KqlType::Real => "todouble",
                KqlType::Bool => "tobool",
                KqlType::Datetime => "todatetime",
                KqlType::Timespan => "totimespan",
                KqlType::Dynamic | KqlType::Null => "todynamic",
            };
            return Err(EngineError::at(
                format!(
                    "the join keys `{}` ({}) and `{}` ({right_name}) have different \
                     types; convert one side first, for example with `| extend {} = {conversion}({})` \
                     in the right side's subquery",
                    left_key.name,
                    left_kql.name(),
                    right_key.name,
                    right_key.name,
                    right_key.name
                ),
                left_key.range.clone(),
            ));
        }
    }
    Ok(())
}

/// Keeps the rows of `keep` whose keys appear in `other` (semi), or do not (anti), with the
/// columns of `keep` only. `keys` pairs a column of `keep` with a column of `other`.
fn semi_join(keep: LazyFrame, other: LazyFrame, keys: &[(Ident, Ident)], anti: bool) -> LazyFrame {
    const MARKER: &str = "__quarry_match";
    let other_keys: Vec<PlExpr> = keys
        .iter()
        .enumerate()
        .map(|(index, (_, key))| col(key.name.as_str()).alias(format!("__quarry_key{index}")))
        .collect();
    let mut selected = other_keys;
    selected.push(lit(true).alias(MARKER));
    let other = other
        .select(selected)
        .unique_stable(None, UniqueKeepStrategy::First);
    let keep_on: Vec<PlExpr> = keys.iter().map(|(key, _)| col(key.name.as_str())).collect();
    let other_on: Vec<PlExpr> = (0..keys.len())
        .map(|index| col(format!("__quarry_key{index}")))
        .collect();
    let mut args = JoinArgs::new(JoinType::Left).with_coalesce(JoinCoalesce::KeepColumns);
    args.maintain_order = MaintainOrderJoin::Left;
    let joined = keep.join(other, keep_on, other_on, args);
    let matched = col(MARKER).is_not_null();
    let filtered = joined.filter(if anti { matched.not() } else { matched });
    let mut dropped: Vec<polars::prelude::PlSmallStr> = (0..keys.len())
        .map(|index| format!("__quarry_key{index}").into())
        .collect();
    dropped.push(MARKER.into());
    filtered.drop(polars::prelude::Selector::ByName {
        names: dropped.into(),
        strict: true,
    })
}

/// Applies `lookup`: every left row (or only the matching ones with `inner`) with the right
/// side's non-key columns. A right column named like a left column gets a number suffix.
pub(super) fn lookup(
    mut left: LazyFrame,
    mut right: LazyFrame,
    inner: bool,
    keys: &[(Ident, Ident)],
    range: Range<usize>,
) -> Result<LazyFrame, EngineError> {
    let left_schema = schema_of(&mut left, &range)?;
    let right_schema = schema_of(&mut right, &range)?;
    check_keys(&left_schema, &right_schema, keys)?;
    let mut taken: Vec<String> = left_schema.iter_names().map(|n| n.to_string()).collect();
    let mut selected = Vec::new();
    let mut outputs = taken.clone();
    for (index, (_, key)) in keys.iter().enumerate() {
        selected.push(col(key.name.as_str()).alias(format!("__quarry_key{index}")));
    }
    for name in right_schema.iter_names() {
        if keys.iter().any(|(_, key)| key.name == name.as_str()) {
            continue;
        }
        let output = if taken.iter().any(|known| known == name.as_str()) {
            unique_name(name, &taken)
        } else {
            name.to_string()
        };
        taken.push(output.clone());
        outputs.push(output.clone());
        selected.push(col(name.clone()).alias(output.as_str()));
    }
    let right = right.select(selected);
    let left_on: Vec<PlExpr> = keys.iter().map(|(key, _)| col(key.name.as_str())).collect();
    let right_on: Vec<PlExpr> = (0..keys.len())
        .map(|index| col(format!("__quarry_key{index}")))
        .collect();
    let how = if inner {
        JoinType::Inner
    } else {
        JoinType::Left
    };
    let mut args = JoinArgs::new(how).with_coalesce(JoinCoalesce::KeepColumns);
    args.maintain_order = MaintainOrderJoin::Left;
    let output: Vec<PlExpr> = outputs
        .iter()
        .enumerate()
        .map(|(index, name)| {
            // A left row without a match gets "" in the right side's string columns.
            let from_right = index >= left_schema.len();
            let is_string = from_right
                && right_schema
                    .iter()
                    .filter(|(n, _)| !keys.iter().any(|(_, key)| key.name == n.as_str()))
                    .nth(index - left_schema.len())
                    .is_some_and(|(_, dtype)| *dtype == DataType::String);
            if is_string {
                col(name.as_str()).fill_null(lit(""))
            } else {
                col(name.as_str())
            }
        })
        .collect();
    Ok(left.join(right, left_on, right_on, args).select(output))
}
