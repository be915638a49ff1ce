//! Turning a query tree into a polars lazy plan, one tabular operator at a time.

pub mod aggregate;
pub mod expr;
mod tabular;
pub mod types;

use std::collections::HashMap;
use std::ops::Range;

use polars::prelude::{
    DataFrame, DataType, Expr as PlExpr, IdxSize, IntoLazy as _, LazyFrame, Schema,
    SortMultipleOptions, UniqueKeepStrategy, col, len,
};

use crate::EngineError;
use crate::ast::{Ident, Literal, NamedExpr, Operator, OperatorKind, Pipeline, Query, SortKey};
use expr::{AggregateMode, Compiled, ExprCompiler, Scope, evaluate_constant};
use types::KqlType;

/// Looks up tables by name for the evaluator.
pub trait TableProvider {
    /// Returns the table, `Ok(None)` when no table has that name, or an error when loading failed.
    fn table(&self, name: &str) -> Result<Option<DataFrame>, EngineError>;

    /// Returns the names of all tables, for error messages and completion.
    fn table_names(&self) -> Result<Vec<String>, EngineError>;
}

/// Builds the lazy plan for `query`. `now_nanos` is the value of `now()` for the whole query.
pub fn plan_query(
    query: &Query,
    tables: &dyn TableProvider,
    now_nanos: i64,
) -> Result<LazyFrame, EngineError> {
    let empty = Schema::default();
    let mut lets: HashMap<String, Compiled> = HashMap::new();
    for statement in &query.lets {
        let scope = Scope {
            schema: &empty,
            lets: &lets,
            now_nanos,
        };
        let compiled =
            ExprCompiler::new(&scope, AggregateMode::Forbidden).compile(&statement.value)?;
        // Folding the value lets `take n` and `ago(span)` accept a `let` name as their constant.
        let compiled = match evaluate_constant(&compiled) {
            Some(literal) => Compiled::from_literal(&literal),
            None => compiled,
        };
        lets.insert(statement.name.name.clone(), compiled);
    }

    plan_pipeline(&query.pipeline, tables, &lets, now_nanos)
}

fn plan_pipeline(
    pipeline: &Pipeline,
    tables: &dyn TableProvider,
    lets: &HashMap<String, Compiled>,
    now_nanos: i64,
) -> Result<LazyFrame, EngineError> {
    let source = &pipeline.source;
    let Some(frame) = tables.table(&source.name)? else {
        return Err(unknown_table(source, tables));
    };
    let mut frame = frame.lazy();
    for (position, operator) in pipeline.operators.iter().enumerate() {
        let schema = current_schema(&mut frame, operator.range.clone())?;
        frame = match &operator.kind {
            OperatorKind::Union {
                outer,
                withsource,
                tables: others,
            } => {
                // NOTE: when operators ran before `union`, its input is assumed to be named
                // `union_arg0`, as Kusto names other table expressions.
                let label = if position == 0 {
                    source.name.clone()
                } else {
                    "union_arg0".to_owned()
                };
                let mut inputs = vec![(label, frame)];
                for (label, other) in others {
                    inputs.push((
                        label.clone(),
                        plan_pipeline(other, tables, lets, now_nanos)?,
                    ));
                }
                tabular::union(inputs, *outer, withsource.as_ref(), operator.range.clone())?
            }
            OperatorKind::Join { kind, right, keys } => {
                let right = plan_pipeline(right, tables, lets, now_nanos)?;
                tabular::join(frame, right, *kind, keys, operator.range.clone())?
            }
            _ => {
                let scope = Scope {
                    schema: &schema,
                    lets,
                    now_nanos,
                };
                apply_operator(frame, operator, &scope)?
            }
        };
    }
    Ok(frame)
}

fn unknown_table(source: &Ident, tables: &dyn TableProvider) -> EngineError {
    let names = tables.table_names().unwrap_or_default();
    let listed = if names.is_empty() {
        "the data source has no tables".to_owned()
    } else {
        let shown: Vec<&str> = names.iter().take(20).map(String::as_str).collect();
        let more = if names.len() > shown.len() {
            ", ..."
        } else {
            ""
        };
        format!("available tables: {}{more}", shown.join(", "))
    };
    EngineError::at(
        format!("unknown table `{}`; {listed}", source.name),
        source.range.clone(),
    )
}

fn current_schema(frame: &mut LazyFrame, range: Range<usize>) -> Result<Schema, EngineError> {
    frame
        .collect_schema()
        .map(|schema| schema.as_ref().clone())
        .map_err(|error| {
            EngineError::at(
                format!("the query before this operator is invalid: {error}"),
                range,
            )
        })
}

/// Returns `base` followed by the first number from 1 that gives a name not in `taken`.
pub fn unique_name(base: &str, taken: &[String]) -> String {
    (1..)
        .map(|n| format!("{base}{n}"))
        .find(|candidate| !taken.contains(candidate))
        .expect("an unbounded range always has an unused name")
}

fn apply_operator(
    frame: LazyFrame,
    operator: &Operator,
    scope: &Scope<'_>,
) -> Result<LazyFrame, EngineError> {
    let compiler = ExprCompiler::new(scope, AggregateMode::Forbidden);
    match &operator.kind {
        OperatorKind::Where(predicate) => {
            let compiled = compiler.compile(predicate)?;
            if compiled.ty != KqlType::Bool && compiled.ty != KqlType::Null {
                return Err(EngineError::at(
                    format!(
                        "`where` needs a bool condition, but this expression is a {}",
                        compiled.ty.name()
                    ),
                    predicate.range.clone(),
                ));
            }
            Ok(frame.filter(compiled.expr))
        }
        OperatorKind::Project(columns) => {
            let exprs = named_exprs(&compiler, columns, scope, false)?;
            Ok(frame.select(exprs))
        }
        OperatorKind::ProjectAway(columns) => {
            for column in columns {
                require_column(scope, column)?;
            }
            let kept: Vec<PlExpr> = scope
                .schema
                .iter_names()
                .filter(|name| !columns.iter().any(|c| c.name == name.as_str()))
                .map(|name| col(name.clone()))
                .collect();
            Ok(frame.select(kept))
        }
        OperatorKind::ProjectRename(pairs) => {
            for (_, old) in pairs {
                require_column(scope, old)?;
            }
            let renamed: Vec<PlExpr> = scope
                .schema
                .iter_names()
                .map(
                    |name| match pairs.iter().find(|(_, old)| old.name == name.as_str()) {
                        Some((new, _)) => col(name.clone()).alias(new.name.as_str()),
                        None => col(name.clone()),
                    },
                )
                .collect();
            Ok(frame.select(renamed))
        }
        OperatorKind::Extend(columns) => extend(frame, columns, scope),
        OperatorKind::Summarize { aggregates, by } => {
            aggregate::summarize(frame, scope, aggregates, by, operator.range.clone())
        }
        OperatorKind::Sort(keys) => sort(frame, &compiler, keys),
        OperatorKind::Take(count) => {
            let n = constant_count(&compiler, count, "take")?;
            Ok(frame.limit(n))
        }
        OperatorKind::Top { count, key } => {
            let n = constant_count(&compiler, count, "top")?;
            Ok(sort(frame, &compiler, std::slice::from_ref(key))?.limit(n))
        }
        OperatorKind::Distinct(columns) => {
            if columns.is_empty() {
                return Ok(frame.unique_stable(None, UniqueKeepStrategy::First));
            }
            let exprs = named_exprs(&compiler, columns, scope, false)?;
            Ok(frame
                .select(exprs)
                .unique_stable(None, UniqueKeepStrategy::First))
        }
        OperatorKind::Count => Ok(frame.select([len().cast(DataType::Int64).alias("Count")])),
        OperatorKind::Union { .. } | OperatorKind::Join { .. } => {
            unreachable!("plan_pipeline applies union and join")
        }
        OperatorKind::Unsupported(name) => Err(EngineError::at(
            format!("the `{name}` operator is not supported by the local engine yet"),
            operator.range.clone(),
        )),
    }
}

fn require_column(scope: &Scope<'_>, column: &Ident) -> Result<(), EngineError> {
    if scope.schema.contains(&column.name) {
        Ok(())
    } else {
        Err(EngineError::at(
            format!("unknown column `{}`", column.name),
            column.range.clone(),
        ))
    }
}

/// Compiles `name = expr` items, naming unnamed computed columns `Column1`, `Column2` and so on.
fn named_exprs(
    compiler: &ExprCompiler<'_>,
    columns: &[NamedExpr],
    scope: &Scope<'_>,
    avoid_existing: bool,
) -> Result<Vec<PlExpr>, EngineError> {
    let mut taken: Vec<String> = if avoid_existing {
        scope.schema.iter_names().map(|n| n.to_string()).collect()
    } else {
        Vec::new()
    };
    let mut outputs: Vec<String> = Vec::new();
    let mut exprs = Vec::with_capacity(columns.len());
    for column in columns {
        let compiled = compiler.compile(&column.expr)?;
        let name = match (&column.name, column.expr.as_name()) {
            (Some(ident), _) => ident.name.clone(),
            (None, Some(name)) => name.to_owned(),
            (None, None) => unique_name("Column", &taken),
        };
        if outputs.contains(&name) {
            return Err(EngineError::at(
                format!("the column `{name}` appears twice"),
                column.expr.range.clone(),
            ));
        }
        taken.push(name.clone());
        outputs.push(name.clone());
        exprs.push(compiled.expr.alias(name));
    }
    Ok(exprs)
}

/// Applies `extend`: each column is added in turn, so later items can use earlier ones.
fn extend(
    mut frame: LazyFrame,
    columns: &[NamedExpr],
    scope: &Scope<'_>,
) -> Result<LazyFrame, EngineError> {
    let mut schema = scope.schema.clone();
    for column in columns {
        let inner = Scope {
            schema: &schema,
            lets: scope.lets,
            now_nanos: scope.now_nanos,
        };
        let compiler = ExprCompiler::new(&inner, AggregateMode::Forbidden);
        let compiled = compiler.compile(&column.expr)?;
        let name = match &column.name {
            Some(ident) => ident.name.clone(),
            None => {
                let taken: Vec<String> = schema.iter_names().map(|n| n.to_string()).collect();
                unique_name("Column", &taken)
            }
        };
        frame = frame.with_columns([compiled.expr.alias(name.as_str())]);
        let dtype = if compiled.ty == KqlType::Dynamic {
            DataType::List(Box::new(DataType::String))
        } else {
            compiled.ty.to_polars()
        };
        schema.with_column(name.into(), dtype);
    }
    Ok(frame)
}

fn sort(
    frame: LazyFrame,
    compiler: &ExprCompiler<'_>,
    keys: &[SortKey],
) -> Result<LazyFrame, EngineError> {
    let mut exprs = Vec::with_capacity(keys.len());
    let mut descending = Vec::with_capacity(keys.len());
    let mut nulls_last = Vec::with_capacity(keys.len());
    for key in keys {
        exprs.push(compiler.compile(&key.expr)?.expr);
        descending.push(key.descending);
        // Kusto puts nulls last when sorting descending and first when ascending.
        nulls_last.push(match key.nulls_first {
            Some(first) => !first,
            None => key.descending,
        });
    }
    let options = SortMultipleOptions::default()
        .with_order_descending_multi(descending)
        .with_nulls_last_multi(nulls_last)
        .with_maintain_order(true);
    Ok(frame.sort_by_exprs(exprs, options))
}

fn constant_count(
    compiler: &ExprCompiler<'_>,
    count: &crate::ast::Expr,
    operator: &str,
) -> Result<IdxSize, EngineError> {
    let compiled = compiler.compile(count)?;
    match evaluate_constant(&compiled) {
        Some(Literal::Long(n)) if n >= 0 => Ok(IdxSize::try_from(n).unwrap_or(IdxSize::MAX)),
        _ => Err(EngineError::at(
            format!("`{operator}` needs a constant, non-negative row count"),
            count.range.clone(),
        )),
    }
}
