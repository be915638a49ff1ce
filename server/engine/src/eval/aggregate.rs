//! `summarize`: aggregate functions, `by` keys and Kusto's default column names.

use std::ops::Range;

use polars::prelude::{DataType, Expr as PlExpr, LazyFrame, len, lit};

use crate::EngineError;
use crate::ast::{Expr, ExprKind, Ident, NamedExpr};
use crate::eval::expr::{AggregateMode, Compiled, ExprCompiler, Scope};
use crate::eval::types::KqlType;
use crate::eval::unique_name;

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
    "take_any",
];

/// Returns whether `name` is an aggregate function the engine runs.
pub fn is_aggregate(name: &str) -> bool {
    AGGREGATES.contains(&name)
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
        .map(|arg| arguments.compile(arg))
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
            let input = value.expr.clone().cast(DataType::Float64);
            let input = if function == "avgif" {
                input.filter(predicate(1)?)
            } else {
                input
            };
            Compiled {
                expr: input.mean(),
                ty: KqlType::Real,
                constant: None,
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
        "make_set" | "make_list" => {
            arity(1, 2)?;
            let limit = match compiled.get(1) {
                None => None,
                Some(Compiled {
                    constant: Some(crate::ast::Literal::Long(n)),
                    ..
                }) if *n > 0 => Some(*n as usize),
                Some(_) => {
                    return Err(EngineError::at(
                        format!("the size limit of `{function}()` must be a positive constant"),
                        args[1].range.clone(),
                    ));
                }
            };
            let values = compiled[0].expr.clone().drop_nulls();
            let values = if function == "make_set" {
                values.unique_stable()
            } else {
                values
            };
            let values = match limit {
                Some(n) => values.head(Some(n)),
                None => values,
            };
            // NOTE: inside `group_by().agg()`, polars gathers a non-scalar expression into one
            // list per group by itself. Over the whole table, `implode` builds the list.
            let expr = if compiler.mode == AggregateMode::Whole {
                values.implode(true)
            } else {
                values
            };
            Compiled {
                expr,
                ty: KqlType::Dynamic,
                constant: None,
            }
        }
        _ => unreachable!("is_aggregate lists every aggregate handled here"),
    };
    Ok(result)
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
        return None;
    }
    let column = args.first().and_then(|arg| arg.as_name());
    Some(match (name.name.as_str(), column) {
        ("count" | "countif", _) => format!("{}_", name.name),
        (_, Some(column)) => format!("{}_{column}", name.name),
        (_, None) => format!("{}_", name.name),
    })
}

/// Returns the default name of an unnamed `by` key: the column it reads, or `None`.
///
/// A bare column keeps its name, and so does a column wrapped in `bin()` or `floor()`.
fn default_key_name(expr: &Expr) -> Option<String> {
    match &expr.kind {
        ExprKind::Name(name) => Some(name.clone()),
        ExprKind::Call { name, args } if matches!(name.name.as_str(), "bin" | "floor") => args
            .first()
            .and_then(|arg| arg.as_name())
            .map(str::to_owned),
        _ => None,
    }
}

/// Applies `summarize aggregates by keys` to `frame`.
pub fn summarize(
    frame: LazyFrame,
    scope: &Scope<'_>,
    aggregates: &[NamedExpr],
    by: &[NamedExpr],
    range: Range<usize>,
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
        keys.push(compiled.expr.alias(name));
    }

    let mode = if by.is_empty() {
        AggregateMode::Whole
    } else {
        AggregateMode::Grouped
    };
    let mut outputs = Vec::with_capacity(aggregates.len());
    for aggregate in aggregates {
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
        outputs.push(compiled.expr.alias(name));
    }
    if outputs.is_empty() && keys.is_empty() {
        return Err(EngineError::at(
            "`summarize` needs an aggregate or a `by` clause",
            range,
        ));
    }

    if keys.is_empty() {
        Ok(frame.select(outputs))
    } else {
        // NOTE: `group_by_stable` keeps groups in order of first appearance, so that results
        // are deterministic; Kusto leaves the order unspecified.
        Ok(frame.group_by_stable(keys).agg(outputs))
    }
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
            Some("make_set_Ip")
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
        assert_eq!(default_key_name(&call("tolower", vec![column("A")])), None);
    }
}
