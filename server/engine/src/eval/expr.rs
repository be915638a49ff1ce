//! Compiling KQL scalar expressions into polars expressions.
//!
//! The compiler tracks the KQL type of every subexpression, so that type errors carry the
//! byte range of the offending expression instead of surfacing later as a polars error.

use std::cell::Cell;
use std::collections::HashMap;
use std::ops::Range;

use polars::prelude::{
    DataType, Expr as PlExpr, IntoLazy as _, NamedFrom as _, Null, Schema, Series, TimeUnit, col,
    concat_str, lit, when,
};

use crate::EngineError;
use crate::ast::{BinaryOp, Expr, ExprKind, Literal, StringOp, StringOpKind};
use crate::eval::aggregate;
use crate::eval::types::KqlType;

/// A compiled expression: the polars expression, its KQL type, and its value when constant.
#[derive(Debug, Clone)]
pub struct Compiled {
    pub expr: PlExpr,
    pub ty: KqlType,
    pub constant: Option<Literal>,
}

impl Compiled {
    fn new(expr: PlExpr, ty: KqlType) -> Compiled {
        Compiled {
            expr,
            ty,
            constant: None,
        }
    }

    pub fn from_literal(literal: &Literal) -> Compiled {
        let (expr, ty) = match literal {
            Literal::Null => (lit(Null {}), KqlType::Null),
            Literal::Bool(value) => (lit(*value), KqlType::Bool),
            Literal::Long(value) => (lit(*value), KqlType::Long),
            Literal::Real(value) => (lit(*value), KqlType::Real),
            Literal::String(value) => (lit(value.as_str()), KqlType::String),
            Literal::Datetime(nanos) => (
                lit(*nanos).cast(DataType::Datetime(TimeUnit::Nanoseconds, None)),
                KqlType::Datetime,
            ),
            Literal::Timespan(nanos) => (
                lit(*nanos).cast(DataType::Duration(TimeUnit::Nanoseconds)),
                KqlType::Timespan,
            ),
        };
        Compiled {
            expr,
            ty,
            constant: Some(literal.clone()),
        }
    }

    fn constant_string(&self) -> Option<&str> {
        match &self.constant {
            Some(Literal::String(value)) => Some(value),
            _ => None,
        }
    }
}

/// The places where aggregate functions such as `count()` may appear.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AggregateMode {
    /// Outside `summarize`: aggregates are an error.
    Forbidden,
    /// In `summarize ... by ...`: aggregates run per group.
    Grouped,
    /// In `summarize` without `by`: aggregates run over the whole table.
    Whole,
}

/// The names an expression can refer to: the columns of the current table, `let` names and `now()`.
pub struct Scope<'a> {
    pub schema: &'a Schema,
    pub lets: &'a HashMap<String, Compiled>,
    /// The query's `now()`, in nanoseconds since the Unix epoch. Kusto fixes it once per query.
    pub now_nanos: i64,
}

pub struct ExprCompiler<'a> {
    pub scope: &'a Scope<'a>,
    pub mode: AggregateMode,
    /// Set when the compiled expression contained an aggregate call.
    pub saw_aggregate: Cell<bool>,
}

impl<'a> ExprCompiler<'a> {
    pub fn new(scope: &'a Scope<'a>, mode: AggregateMode) -> ExprCompiler<'a> {
        ExprCompiler {
            scope,
            mode,
            saw_aggregate: Cell::new(false),
        }
    }

    /// Returns a compiler for the arguments of an aggregate, where aggregates may not nest.
    pub fn for_arguments(&self) -> ExprCompiler<'a> {
        ExprCompiler::new(self.scope, AggregateMode::Forbidden)
    }

    pub fn compile(&self, expr: &Expr) -> Result<Compiled, EngineError> {
        match &expr.kind {
            ExprKind::Name(name) => self.compile_name(name, expr.range.clone()),
            ExprKind::Literal(literal) => Ok(Compiled::from_literal(literal)),
            ExprKind::Not(inner) => {
                let inner = self.compile(inner)?;
                expect_type(&inner, &[KqlType::Bool], "not", expr.range.clone())?;
                Ok(Compiled::new(inner.expr.not(), KqlType::Bool))
            }
            ExprKind::Negate(inner) => {
                let inner = self.compile(inner)?;
                if !inner.ty.is_numeric() && inner.ty != KqlType::Timespan {
                    return Err(type_error("unary `-`", inner.ty, expr.range.clone()));
                }
                Ok(Compiled::new(-inner.expr, inner.ty))
            }
            ExprKind::Binary { op, lhs, rhs } => {
                let lhs_compiled = self.compile(lhs)?;
                let rhs_compiled = self.compile(rhs)?;
                compile_binary(*op, lhs_compiled, rhs_compiled, expr.range.clone())
            }
            ExprKind::In {
                expr: value,
                list,
                negated,
                case_sensitive,
            } => self.compile_in(value, list, *negated, *case_sensitive, expr.range.clone()),
            ExprKind::Between {
                expr: value,
                low,
                high,
                negated,
            } => {
                let value = self.compile(value)?;
                let low = self.compile(low)?;
                let high = self.compile(high)?;
                for bound in [&low, &high] {
                    if !value.ty.is_comparable_with(bound.ty) {
                        return Err(comparison_error(
                            "between",
                            value.ty,
                            bound.ty,
                            expr.range.clone(),
                        ));
                    }
                }
                let inside = value
                    .expr
                    .clone()
                    .gt_eq(low.expr)
                    .and(value.expr.lt_eq(high.expr));
                let result = if *negated { inside.not() } else { inside };
                Ok(Compiled::new(result, KqlType::Bool))
            }
            ExprKind::Call { name, args } => {
                if aggregate::is_aggregate(&name.name) {
                    if self.mode == AggregateMode::Forbidden {
                        return Err(EngineError::at(
                            format!(
                                "`{}()` is an aggregate function; use it inside `summarize`",
                                name.name
                            ),
                            name.range.clone(),
                        ));
                    }
                    self.saw_aggregate.set(true);
                    return aggregate::compile_aggregate(self, name, args, expr.range.clone());
                }
                self.compile_call(&name.name, name.range.clone(), args, expr.range.clone())
            }
        }
    }

    fn compile_name(&self, name: &str, range: Range<usize>) -> Result<Compiled, EngineError> {
        if let Some(dtype) = self.scope.schema.get(name) {
            return Ok(Compiled::new(col(name), KqlType::from_polars(dtype)));
        }
        if let Some(bound) = self.scope.lets.get(name) {
            return Ok(bound.clone());
        }
        let suggestion = self
            .scope
            .schema
            .iter_names()
            .find(|candidate| candidate.eq_ignore_ascii_case(name))
            .map(|candidate| {
                format!("; did you mean `{candidate}`? Column names are case-sensitive")
            })
            .unwrap_or_default();
        Err(EngineError::at(
            format!("unknown column or name `{name}`{suggestion}"),
            range,
        ))
    }

    fn compile_in(
        &self,
        value: &Expr,
        list: &[Expr],
        negated: bool,
        case_sensitive: bool,
        range: Range<usize>,
    ) -> Result<Compiled, EngineError> {
        let value = self.compile(value)?;
        let mut items = Vec::with_capacity(list.len());
        for item in list {
            let compiled = self.compile(item)?;
            let Some(constant) = compiled.constant.clone() else {
                return Err(EngineError::at(
                    "the local engine supports only constants in an `in` list",
                    item.range.clone(),
                ));
            };
            if !value.ty.is_comparable_with(compiled.ty) {
                return Err(comparison_error(
                    "in",
                    value.ty,
                    compiled.ty,
                    item.range.clone(),
                ));
            }
            items.push(constant);
        }

        let (lhs, series) = match value.ty {
            KqlType::String => {
                let strings: Vec<Option<String>> = items
                    .iter()
                    .map(|item| match item {
                        Literal::String(s) if case_sensitive => Some(s.clone()),
                        Literal::String(s) => Some(s.to_lowercase()),
                        _ => None,
                    })
                    .collect();
                let lhs = if case_sensitive {
                    value.expr
                } else {
                    value.expr.str().to_lowercase()
                };
                (lhs, Series::new("in".into(), strings))
            }
            KqlType::Real => {
                let reals: Vec<Option<f64>> = items.iter().map(literal_as_f64).collect();
                (
                    value.expr.cast(DataType::Float64),
                    Series::new("in".into(), reals),
                )
            }
            KqlType::Long | KqlType::Int | KqlType::Null => {
                if items.iter().any(|item| matches!(item, Literal::Real(_))) {
                    let reals: Vec<Option<f64>> = items.iter().map(literal_as_f64).collect();
                    (
                        value.expr.cast(DataType::Float64),
                        Series::new("in".into(), reals),
                    )
                } else {
                    let longs: Vec<Option<i64>> = items.iter().map(literal_as_i64).collect();
                    (
                        value.expr.cast(DataType::Int64),
                        Series::new("in".into(), longs),
                    )
                }
            }
            KqlType::Datetime | KqlType::Timespan => {
                let nanos: Vec<Option<i64>> = items.iter().map(literal_as_i64).collect();
                (
                    value.expr.cast(DataType::Int64),
                    Series::new("in".into(), nanos),
                )
            }
            KqlType::Bool => {
                let bools: Vec<Option<bool>> = items
                    .iter()
                    .map(|item| match item {
                        Literal::Bool(b) => Some(*b),
                        _ => None,
                    })
                    .collect();
                (value.expr, Series::new("in".into(), bools))
            }
            KqlType::Dynamic => return Err(type_error("in", value.ty, range)),
        };
        let member = lhs.is_in(lit(series).implode(false), false);
        let result = if negated { member.not() } else { member };
        Ok(Compiled::new(result, KqlType::Bool))
    }

    fn compile_args(&self, args: &[Expr]) -> Result<Vec<Compiled>, EngineError> {
        args.iter().map(|arg| self.compile(arg)).collect()
    }

    fn compile_call(
        &self,
        name: &str,
        name_range: Range<usize>,
        args: &[Expr],
        range: Range<usize>,
    ) -> Result<Compiled, EngineError> {
        let compiled = self.compile_args(args)?;
        let arity = |min: usize, max: usize| -> Result<(), EngineError> {
            if compiled.len() < min || compiled.len() > max {
                let expected = if min == max {
                    format!("{min}")
                } else if max == usize::MAX {
                    format!("at least {min}")
                } else {
                    format!("{min} to {max}")
                };
                return Err(EngineError::at(
                    format!(
                        "`{name}()` takes {expected} arguments, got {}",
                        compiled.len()
                    ),
                    range.clone(),
                ));
            }
            Ok(())
        };

        match name {
            "now" => {
                arity(0, 1)?;
                let offset = match compiled.first() {
                    Some(arg) => constant_timespan(arg, name, args[0].range.clone())?,
                    None => 0,
                };
                Ok(Compiled::from_literal(&Literal::Datetime(
                    self.scope.now_nanos + offset,
                )))
            }
            "ago" => {
                arity(1, 1)?;
                let span = constant_timespan(&compiled[0], name, args[0].range.clone())?;
                Ok(Compiled::from_literal(&Literal::Datetime(
                    self.scope.now_nanos - span,
                )))
            }
            "bin" | "floor" => {
                arity(2, 2)?;
                compile_bin(&compiled[0], &compiled[1], args[1].range.clone(), range)
            }
            "tolower" | "toupper" => {
                arity(1, 1)?;
                let value = as_string(&compiled[0]);
                let expr = if name == "tolower" {
                    value.str().to_lowercase()
                } else {
                    value.str().to_uppercase()
                };
                Ok(Compiled::new(expr, KqlType::String))
            }
            "strcat" => {
                arity(1, 64)?;
                let parts: Vec<PlExpr> = compiled.iter().map(as_string).collect();
                Ok(Compiled::new(concat_str(parts, "", true), KqlType::String))
            }
            "strlen" => {
                arity(1, 1)?;
                let length = as_string(&compiled[0])
                    .str()
                    .len_chars()
                    .cast(DataType::Int64);
                Ok(Compiled::new(length, KqlType::Long))
            }
            "isempty" | "isnotempty" => {
                arity(1, 1)?;
                let value = &compiled[0];
                let empty = if value.ty == KqlType::String {
                    value
                        .expr
                        .clone()
                        .is_null()
                        .or(value.expr.clone().eq(lit("")))
                } else {
                    value.expr.clone().is_null()
                };
                let result = if name == "isempty" {
                    empty
                } else {
                    empty.not()
                };
                Ok(Compiled::new(result, KqlType::Bool))
            }
            "isnull" | "isnotnull" => {
                arity(1, 1)?;
                let value = compiled[0].expr.clone();
                let result = if name == "isnull" {
                    value.is_null()
                } else {
                    value.is_not_null()
                };
                Ok(Compiled::new(result, KqlType::Bool))
            }
            "iff" | "iif" => {
                arity(3, 3)?;
                expect_type(&compiled[0], &[KqlType::Bool], name, args[0].range.clone())?;
                let then_ty = compiled[1].ty;
                let else_ty = compiled[2].ty;
                let ty = unify(then_ty, else_ty).ok_or_else(|| {
                    EngineError::at(
                        format!(
                            "the branches of `{name}()` have different types, {} and {}",
                            then_ty.name(),
                            else_ty.name()
                        ),
                        range.clone(),
                    )
                })?;
                let expr = when(compiled[0].expr.clone())
                    .then(compiled[1].expr.clone())
                    .otherwise(compiled[2].expr.clone());
                Ok(Compiled::new(expr, ty))
            }
            "not" => {
                arity(1, 1)?;
                expect_type(&compiled[0], &[KqlType::Bool], name, args[0].range.clone())?;
                Ok(Compiled::new(compiled[0].expr.clone().not(), KqlType::Bool))
            }
            "tostring" => {
                arity(1, 1)?;
                Ok(Compiled::new(
                    as_string(&compiled[0]).fill_null(lit("")),
                    KqlType::String,
                ))
            }
            "tolong" | "toint" | "toreal" | "todouble" => {
                arity(1, 1)?;
                let ty = match name {
                    "tolong" => KqlType::Long,
                    "toint" => KqlType::Int,
                    _ => KqlType::Real,
                };
                let source = &compiled[0];
                // NOTE: a failed conversion gives null, as in Kusto; the non-strict cast does that.
                let expr = if source.ty == KqlType::String {
                    source
                        .expr
                        .clone()
                        .str()
                        .strip_chars(lit(Null {}))
                        .cast(ty.to_polars())
                } else {
                    source.expr.clone().cast(ty.to_polars())
                };
                Ok(Compiled::new(expr, ty))
            }
            _ => Err(EngineError::at(
                format!("the function `{name}()` is not supported by the local engine yet"),
                name_range,
            )),
        }
    }
}

fn literal_as_f64(literal: &Literal) -> Option<f64> {
    match literal {
        Literal::Long(v) => Some(*v as f64),
        Literal::Real(v) => Some(*v),
        _ => None,
    }
}

fn literal_as_i64(literal: &Literal) -> Option<i64> {
    match literal {
        Literal::Long(v) | Literal::Datetime(v) | Literal::Timespan(v) => Some(*v),
        _ => None,
    }
}

/// Returns the value as text; `strcat` and the string operators accept any scalar type.
fn as_string(value: &Compiled) -> PlExpr {
    if value.ty == KqlType::String {
        value.expr.clone()
    } else {
        value.expr.clone().cast(DataType::String)
    }
}

fn unify(a: KqlType, b: KqlType) -> Option<KqlType> {
    match (a, b) {
        _ if a == b => Some(a),
        (KqlType::Null, other) | (other, KqlType::Null) => Some(other),
        (KqlType::Real, other) | (other, KqlType::Real) if other.is_numeric() => {
            Some(KqlType::Real)
        }
        _ if a.is_numeric() && b.is_numeric() => Some(KqlType::Long),
        _ => None,
    }
}

fn constant_timespan(
    value: &Compiled,
    function: &str,
    range: Range<usize>,
) -> Result<i64, EngineError> {
    match value.constant {
        Some(Literal::Timespan(nanos)) => Ok(nanos),
        _ => Err(EngineError::at(
            format!("`{function}()` needs a constant timespan such as `1h` or `7d`"),
            range,
        )),
    }
}

fn expect_type(
    value: &Compiled,
    allowed: &[KqlType],
    context: &str,
    range: Range<usize>,
) -> Result<(), EngineError> {
    if value.ty == KqlType::Null || allowed.contains(&value.ty) {
        return Ok(());
    }
    Err(type_error(context, value.ty, range))
}

fn type_error(context: &str, ty: KqlType, range: Range<usize>) -> EngineError {
    EngineError::at(
        format!("`{context}` cannot take a value of type {}", ty.name()),
        range,
    )
}

fn comparison_error(op: &str, lhs: KqlType, rhs: KqlType, range: Range<usize>) -> EngineError {
    EngineError::at(
        format!(
            "cannot compare {} with {} using `{op}`; convert one side, for example with tostring() or tolong()",
            lhs.name(),
            rhs.name()
        ),
        range,
    )
}

/// Compiles `bin(value, size)`: rounds `value` down to a multiple of `size`.
fn compile_bin(
    value: &Compiled,
    size: &Compiled,
    size_range: Range<usize>,
    range: Range<usize>,
) -> Result<Compiled, EngineError> {
    match (value.ty, size.ty) {
        (KqlType::Datetime | KqlType::Timespan | KqlType::Null, KqlType::Timespan) => {
            let Some(Literal::Timespan(step)) = size.constant else {
                return Err(EngineError::at(
                    "`bin()` needs a constant bin size",
                    size_range,
                ));
            };
            if step <= 0 {
                return Err(EngineError::at(
                    "`bin()` needs a positive bin size",
                    size_range,
                ));
            }
            let ty = if value.ty == KqlType::Null {
                KqlType::Datetime
            } else {
                value.ty
            };
            let ticks = value.expr.clone().cast(DataType::Int64);
            let floored = ticks.floor_div(lit(step)) * lit(step);
            Ok(Compiled::new(floored.cast(ty.to_polars()), ty))
        }
        (value_ty, size_ty) if value_ty.is_numeric() && size_ty.is_numeric() => {
            if value_ty != KqlType::Real && size_ty != KqlType::Real {
                let value = value.expr.clone().cast(DataType::Int64);
                let size = size.expr.clone().cast(DataType::Int64);
                Ok(Compiled::new(
                    value.floor_div(size.clone()) * size,
                    KqlType::Long,
                ))
            } else {
                let value = value.expr.clone().cast(DataType::Float64);
                let size = size.expr.clone().cast(DataType::Float64);
                Ok(Compiled::new(
                    (value / size.clone()).floor() * size,
                    KqlType::Real,
                ))
            }
        }
        (value_ty, size_ty) => Err(EngineError::at(
            format!(
                "`bin()` cannot round a {} by a {}; use a timespan size for datetimes and a number for numbers",
                value_ty.name(),
                size_ty.name()
            ),
            range,
        )),
    }
}

fn compile_binary(
    op: BinaryOp,
    lhs: Compiled,
    rhs: Compiled,
    range: Range<usize>,
) -> Result<Compiled, EngineError> {
    use KqlType as T;
    match op {
        BinaryOp::And | BinaryOp::Or => {
            let name = if op == BinaryOp::And { "and" } else { "or" };
            expect_type(&lhs, &[T::Bool], name, range.clone())?;
            expect_type(&rhs, &[T::Bool], name, range)?;
            let expr = if op == BinaryOp::And {
                lhs.expr.and(rhs.expr)
            } else {
                lhs.expr.or(rhs.expr)
            };
            Ok(Compiled::new(expr, T::Bool))
        }
        BinaryOp::Eq
        | BinaryOp::NotEq
        | BinaryOp::Lt
        | BinaryOp::LtEq
        | BinaryOp::Gt
        | BinaryOp::GtEq => {
            let symbol = match op {
                BinaryOp::Eq => "==",
                BinaryOp::NotEq => "!=",
                BinaryOp::Lt => "<",
                BinaryOp::LtEq => "<=",
                BinaryOp::Gt => ">",
                _ => ">=",
            };
            if !lhs.ty.is_comparable_with(rhs.ty) {
                return Err(comparison_error(symbol, lhs.ty, rhs.ty, range));
            }
            let expr = match op {
                BinaryOp::Eq => lhs.expr.eq(rhs.expr),
                BinaryOp::NotEq => lhs.expr.neq(rhs.expr),
                BinaryOp::Lt => lhs.expr.lt(rhs.expr),
                BinaryOp::LtEq => lhs.expr.lt_eq(rhs.expr),
                BinaryOp::Gt => lhs.expr.gt(rhs.expr),
                _ => lhs.expr.gt_eq(rhs.expr),
            };
            Ok(Compiled::new(expr, T::Bool))
        }
        BinaryOp::EqIgnoreCase | BinaryOp::NotEqIgnoreCase => {
            let lower_lhs = lowercase(&lhs);
            let lower_rhs = lowercase(&rhs);
            let equal = lower_lhs.eq(lower_rhs);
            let expr = if op == BinaryOp::EqIgnoreCase {
                equal
            } else {
                equal.not()
            };
            Ok(Compiled::new(expr, T::Bool))
        }
        BinaryOp::Str(string_op) => compile_string_op(string_op, &lhs, &rhs, range),
        BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Div | BinaryOp::Mod => {
            compile_arithmetic(op, lhs, rhs, range)
        }
    }
}

/// Lowercases a string value, folding constants at compile time.
fn lowercase(value: &Compiled) -> PlExpr {
    match value.constant_string() {
        Some(text) => lit(text.to_lowercase()),
        None => as_string(value).str().to_lowercase(),
    }
}

fn compile_arithmetic(
    op: BinaryOp,
    lhs: Compiled,
    rhs: Compiled,
    range: Range<usize>,
) -> Result<Compiled, EngineError> {
    use KqlType as T;
    let symbol = match op {
        BinaryOp::Add => "+",
        BinaryOp::Sub => "-",
        BinaryOp::Mul => "*",
        BinaryOp::Div => "/",
        _ => "%",
    };
    let result_ty = match (op, lhs.ty, rhs.ty) {
        (_, T::Null, other) | (_, other, T::Null) => other,
        (_, a, b) if a.is_numeric() && b.is_numeric() => {
            if a == T::Real || b == T::Real {
                T::Real
            } else {
                T::Long
            }
        }
        (BinaryOp::Add, T::Datetime, T::Timespan) | (BinaryOp::Add, T::Timespan, T::Datetime) => {
            T::Datetime
        }
        (BinaryOp::Sub, T::Datetime, T::Timespan) => T::Datetime,
        (BinaryOp::Sub, T::Datetime, T::Datetime) => T::Timespan,
        (BinaryOp::Add | BinaryOp::Sub, T::Timespan, T::Timespan) => T::Timespan,
        (BinaryOp::Mul, T::Timespan, b) if b.is_numeric() => T::Timespan,
        (BinaryOp::Mul, a, T::Timespan) if a.is_numeric() => T::Timespan,
        (BinaryOp::Div, T::Timespan, T::Timespan) => T::Real,
        _ => {
            return Err(EngineError::at(
                format!(
                    "cannot apply `{symbol}` to {} and {}",
                    lhs.ty.name(),
                    rhs.ty.name()
                ),
                range,
            ));
        }
    };

    let expr = match op {
        BinaryOp::Add => lhs.expr + rhs.expr,
        BinaryOp::Sub => lhs.expr - rhs.expr,
        BinaryOp::Mul => lhs.expr * rhs.expr,
        BinaryOp::Div if result_ty == T::Long => {
            // Kusto divides longs with truncation toward zero, and x / 0 is null.
            let quotient = lhs.expr.cast(DataType::Float64) / rhs.expr.cast(DataType::Float64);
            quotient.cast(DataType::Int64)
        }
        BinaryOp::Div if lhs.ty == T::Timespan && rhs.ty == T::Timespan => {
            lhs.expr.cast(DataType::Int64).cast(DataType::Float64)
                / rhs.expr.cast(DataType::Int64).cast(DataType::Float64)
        }
        BinaryOp::Div => lhs.expr.cast(DataType::Float64) / rhs.expr.cast(DataType::Float64),
        _ => lhs.expr % rhs.expr,
    };
    Ok(Compiled::new(expr, result_ty))
}

/// Compiles `has`, `contains`, `startswith` and the other string operators.
fn compile_string_op(
    op: StringOp,
    lhs: &Compiled,
    rhs: &Compiled,
    range: Range<usize>,
) -> Result<Compiled, EngineError> {
    let haystack = as_string(lhs);
    let matched = match op.kind {
        StringOpKind::Contains | StringOpKind::StartsWith | StringOpKind::EndsWith => {
            let (haystack, needle) = if op.case_sensitive {
                (haystack, as_string(rhs))
            } else {
                (haystack.str().to_lowercase(), lowercase(rhs))
            };
            match op.kind {
                StringOpKind::Contains => haystack.str().contains_literal(needle),
                StringOpKind::StartsWith => haystack.str().starts_with(needle),
                _ => haystack.str().ends_with(needle),
            }
        }
        StringOpKind::Has | StringOpKind::HasPrefix | StringOpKind::HasSuffix => {
            let Some(needle) = rhs.constant_string() else {
                return Err(EngineError::at(
                    "the local engine needs a constant string on the right of `has`",
                    range,
                ));
            };
            let pattern = term_pattern(needle, op.kind, op.case_sensitive);
            haystack.str().contains(lit(pattern), true)
        }
        StringOpKind::MatchesRegex => {
            let Some(pattern) = rhs.constant_string() else {
                return Err(EngineError::at(
                    "the local engine needs a constant regular expression after `matches regex`",
                    range,
                ));
            };
            haystack.str().contains(lit(pattern.to_owned()), true)
        }
    };
    let result = if op.negated { matched.not() } else { matched };
    Ok(Compiled::new(result, KqlType::Bool))
}

/// Builds the regular expression for KQL's term operators.
///
/// Kusto splits text into terms: maximal runs of ASCII letters and digits. `has` matches when
/// the needle lines up with term boundaries on both sides, `hasprefix` at the start of a term
/// and `hassuffix` at its end. A needle edge that is not a letter or digit is its own boundary,
/// so `has "-enc"` matches `x -enc y` and `x-enc y` alike.
pub fn term_pattern(needle: &str, kind: StringOpKind, case_sensitive: bool) -> String {
    const START_BOUNDARY: &str = "(?:^|[^A-Za-z0-9])";
    const END_BOUNDARY: &str = "(?:$|[^A-Za-z0-9])";
    let mut pattern = String::new();
    if !case_sensitive {
        pattern.push_str("(?i)");
    }
    let starts_with_term_char = needle
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric());
    let ends_with_term_char = needle
        .chars()
        .last()
        .is_some_and(|c| c.is_ascii_alphanumeric());
    let check_start = matches!(kind, StringOpKind::Has | StringOpKind::HasPrefix);
    let check_end = matches!(kind, StringOpKind::Has | StringOpKind::HasSuffix);
    if check_start && starts_with_term_char {
        pattern.push_str(START_BOUNDARY);
    }
    pattern.push_str(&escape_regex(needle));
    if check_end && ends_with_term_char {
        pattern.push_str(END_BOUNDARY);
    }
    pattern
}

/// Escapes every character that has a meaning in the regex crate's syntax.
fn escape_regex(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(
            c,
            '\\' | '.'
                | '+'
                | '*'
                | '?'
                | '('
                | ')'
                | '|'
                | '['
                | ']'
                | '{'
                | '}'
                | '^'
                | '$'
                | '#'
                | '&'
                | '-'
                | '~'
        ) {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

/// Evaluates a constant expression (one that refers to no column) to a literal.
///
/// `let` statements use it, so that a bound name can stand where the engine needs a constant,
/// such as `take n` or `ago(lookback)`.
pub fn evaluate_constant(compiled: &Compiled) -> Option<Literal> {
    if let Some(constant) = &compiled.constant {
        return Some(constant.clone());
    }
    let frame = polars::prelude::DataFrame::empty_with_height(1)
        .lazy()
        .select([compiled.expr.clone().alias("value")])
        .collect()
        .ok()?;
    let column = frame.column("value").ok()?;
    if column.len() != 1 {
        return None;
    }
    let value = column.get(0).ok()?;
    use polars::prelude::AnyValue;
    match (compiled.ty, value) {
        (_, AnyValue::Null) => Some(Literal::Null),
        (KqlType::Bool, AnyValue::Boolean(b)) => Some(Literal::Bool(b)),
        (KqlType::Long | KqlType::Int, v) => v.extract::<i64>().map(Literal::Long),
        (KqlType::Real, v) => v.extract::<f64>().map(Literal::Real),
        (KqlType::String, AnyValue::String(s)) => Some(Literal::String(s.to_owned())),
        (KqlType::String, AnyValue::StringOwned(s)) => Some(Literal::String(s.to_string())),
        (KqlType::Datetime, AnyValue::Datetime(v, _, _)) => Some(Literal::Datetime(v)),
        (KqlType::Timespan, AnyValue::Duration(v, _)) => Some(Literal::Timespan(v)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn term_pattern_bounds_alphanumeric_edges() {
        assert_eq!(
            term_pattern("cmd.exe", StringOpKind::Has, false),
            r"(?i)(?:^|[^A-Za-z0-9])cmd\.exe(?:$|[^A-Za-z0-9])"
        );
        assert_eq!(
            term_pattern("-enc", StringOpKind::Has, true),
            r"\-enc(?:$|[^A-Za-z0-9])"
        );
        assert_eq!(
            term_pattern("pow", StringOpKind::HasPrefix, true),
            r"(?:^|[^A-Za-z0-9])pow"
        );
        assert_eq!(
            term_pattern("shell", StringOpKind::HasSuffix, true),
            r"shell(?:$|[^A-Za-z0-9])"
        );
    }
}
