//! Compiling KQL scalar expressions into polars expressions.
//!
//! The compiler tracks the KQL type of every subexpression, so that type errors carry the
//! byte range of the offending expression instead of surfacing later as a polars error.

use std::cell::Cell;
use std::collections::HashMap;
use std::ops::Range;

use polars::prelude::{
    Column, DataType, Expr as PlExpr, Float64Chunked, Int64Chunked, IntoColumn as _, IntoLazy as _,
    NamedFrom as _, Null, PlSmallStr, PolarsResult, Schema, Series, StringChunkedBuilder, TimeUnit,
    col, concat_str, lit, when,
};

use crate::EngineError;
use crate::ast::{BinaryOp, Expr, ExprKind, Literal, StringOp, StringOpKind};
use crate::eval::aggregate;
use crate::eval::functions::{Call, compile_function};
use crate::eval::types::KqlType;
use crate::eval::value::{Value, random_column_function, row_function};

/// A compiled expression: the polars expression, its KQL type, and its value when constant.
#[derive(Debug, Clone)]
pub struct Compiled {
    pub expr: PlExpr,
    pub ty: KqlType,
    pub constant: Option<Literal>,
}

impl Compiled {
    /// Returns the expression for a column of the result, cast to `long` where Kusto types it
    /// `long`. Polars makes a 32-bit column of an integer literal whose value fits, so without
    /// the cast `print a = 1` and `extend b = a + 1` (with an `int` column `a`) would make
    /// 32-bit columns where Kusto makes `long` ones.
    pub(crate) fn output_expr(self) -> PlExpr {
        match self.ty {
            KqlType::Long => self.expr.cast(DataType::Int64),
            _ => self.expr,
        }
    }

    pub(crate) fn new(expr: PlExpr, ty: KqlType) -> Compiled {
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
            Literal::Dynamic(json) => (lit(json.to_string().into_bytes()), KqlType::Dynamic),
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
    /// Functions bound by `let`; calls of scalar ones are inlined.
    pub functions: &'a HashMap<String, crate::ast::Function>,
    /// Tables bound by `let`, for `x in (T)`.
    pub tables: &'a HashMap<String, polars::prelude::LazyFrame>,
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

    /// Compiles `a op b op c ...` as the left-nested binary operations it stands for, in a
    /// loop. An `and` or `or` chain becomes a balanced tree of polars operations, because
    /// both are associative and a chain of thousands of terms would otherwise give polars an
    /// expression nested as deep as the chain is long.
    fn compile_chain(&self, op: BinaryOp, operands: &[Expr]) -> Result<Compiled, EngineError> {
        let start = operands
            .first()
            .expect("lowering builds a chain with three or more operands")
            .range
            .start;
        if matches!(op, BinaryOp::And | BinaryOp::Or) {
            let name = if op == BinaryOp::And { "and" } else { "or" };
            let mut terms = Vec::with_capacity(operands.len());
            for operand in operands {
                let compiled = coerce_dynamic(self.compile(operand)?, KqlType::Bool);
                expect_type(&compiled, &[KqlType::Bool], name, operand.range.clone())
                    .map_err(|error| name_operands(error, &[operand]))?;
                terms.push(compiled.expr);
            }
            return Ok(Compiled::new(balanced_logical(op, terms), KqlType::Bool));
        }

        let mut compiled = operands
            .iter()
            .map(|operand| self.compile(operand))
            .collect::<Result<Vec<_>, _>>()?;
        // Integer addition and multiplication give the same result in any grouping, even when
        // they wrap, so a balanced tree is exact. Polars also resolves the type of an
        // arithmetic tree in time that grows faster than its depth. Other operators and real
        // numbers, which round differently when regrouped, keep the left-to-right order.
        if matches!(op, BinaryOp::Add | BinaryOp::Mul)
            && compiled.iter().all(|value| value.ty == KqlType::Long)
        {
            return Ok(balanced_long_arithmetic(op, compiled));
        }

        let rest_compiled = compiled.split_off(1);
        let mut result = compiled.pop().expect("the first operand");
        for (index, rhs_compiled) in rest_compiled.into_iter().enumerate() {
            let (lhs, rhs) = (&operands[index], &operands[index + 1]);
            result = compile_binary(op, result, rhs_compiled, start..rhs.range.end)
                .map_err(|error| name_operands(error, &[lhs, rhs]))?;
        }
        Ok(result)
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
                    .map_err(|error| name_operands(error, &[lhs, rhs]))
            }
            ExprKind::Chain { op, operands } => self.compile_chain(*op, operands),
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
                if let Some(function) = self.scope.functions.get(&name.name) {
                    let body = inline_function(function, &name.name, args, expr.range.clone())?;
                    return self.compile(&body);
                }
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
            ExprKind::Member { object, key } => {
                let object = self.compile(object)?;
                if !matches!(
                    object.ty,
                    KqlType::Dynamic | KqlType::String | KqlType::Null
                ) {
                    return Err(EngineError::at(
                        format!(
                            "`.name` and `[key]` need a dynamic value, but this is a {}; convert it with parse_json()",
                            object.ty.name()
                        ),
                        expr.range.clone(),
                    ));
                }
                let key = self.compile(key)?;
                let member = row_function(vec![object.expr, key.expr], KqlType::Dynamic, |v| {
                    let json = crate::eval::functions::as_json(v[0]);
                    Value::Dynamic(crate::eval::functions::get_member(&json, v[1]))
                });
                Ok(Compiled::new(member, KqlType::Dynamic))
            }
            ExprKind::TypeOf(name) => Err(EngineError::at(
                format!("`typeof({name})` can only be an argument of functions such as extract()"),
                expr.range.clone(),
            )),
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
            // `x in (T)` with a tabular `let` name: the values of T's first column.
            if let Some(name) = item.as_name()
                && !self.scope.schema.contains(name)
                && !self.scope.lets.contains_key(name)
                && let Some(table) = self.scope.tables.get(name)
            {
                items.extend(first_column_literals(table, item.range.clone())?);
                continue;
            }
            let compiled = self.compile(item)?;
            let Some(constant) = compiled.constant.clone() else {
                return Err(EngineError::at(
                    "the local engine supports only constants in an `in` list",
                    item.range.clone(),
                ));
            };
            // A constant dynamic array in the list stands for its elements.
            if let Literal::Dynamic(serde_json::Value::Array(elements)) = &constant {
                for element in elements {
                    items.push(json_to_literal(element));
                }
                continue;
            }
            if !value.ty.is_comparable_with(compiled.ty) && value.ty != KqlType::Dynamic {
                return Err(comparison_error(
                    "in",
                    value.ty,
                    compiled.ty,
                    item.range.clone(),
                ));
            }
            items.push(constant);
        }

        let value = if value.ty == KqlType::Dynamic {
            let target = match items.iter().find(|item| !matches!(item, Literal::Null)) {
                Some(Literal::Long(_)) => KqlType::Long,
                Some(Literal::Real(_)) => KqlType::Real,
                Some(Literal::Bool(_)) => KqlType::Bool,
                _ => KqlType::String,
            };
            coerce_dynamic(value, target)
        } else {
            value
        };
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
        let mut type_arg = None;
        let mut value_args: Vec<Expr> = Vec::with_capacity(args.len());
        for arg in args {
            match &arg.kind {
                ExprKind::TypeOf(type_name) => {
                    type_arg = Some(parse_type_name(type_name).ok_or_else(|| {
                        EngineError::at(format!("unknown type `{type_name}`"), arg.range.clone())
                    })?);
                }
                _ => value_args.push(arg.clone()),
            }
        }
        let args = value_args.as_slice();
        if let Some(special) = self.compile_scope_call(name, args, range.clone()) {
            return special;
        }
        // `(a, b) = f(...)` lowers each name to `__component(i, f(...))`.
        if name == "__component"
            && let [index, inner] = args
            && let ExprKind::Literal(Literal::Long(index)) = index.kind
            && let ExprKind::Call {
                name: inner_name,
                args: inner_args,
            } = &inner.kind
        {
            if inner_name.name == "series_stats" {
                let fields = crate::eval::functions::series::STATS_FIELDS;
                let Some(field) = usize::try_from(index).ok().and_then(|i| fields.get(i)) else {
                    return Err(EngineError::at(
                        format!("`series_stats()` returns {} values", fields.len()),
                        range,
                    ));
                };
                let field = crate::lower::series_stats_field(
                    inner_args,
                    field,
                    inner_name.range.clone(),
                    inner.range.clone(),
                );
                return self.compile(&field);
            }
            let compiled = self.compile_args(inner_args)?;
            let ranges: Vec<Range<usize>> = inner_args.iter().map(|a| a.range.clone()).collect();
            let call = Call {
                name: &inner_name.name,
                args: &compiled,
                ranges: &ranges,
                range: inner.range.clone(),
                type_arg: None,
                component: usize::try_from(index).ok(),
            };
            return compile_function(&call).unwrap_or_else(|| {
                Err(EngineError::at(
                    format!("`{}()` does not return several values", inner_name.name),
                    inner_name.range.clone(),
                ))
            });
        }
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
                let mut expr = when(compiled[0].expr.clone())
                    .then(compiled[1].expr.clone())
                    .otherwise(compiled[2].expr.clone());
                // Kusto strings are never null: a null branch, such as `string(null)`, is "".
                if ty == KqlType::String {
                    expr = expr.fill_null(lit(""));
                }
                Ok(Compiled::new(expr, ty))
            }
            "not" => {
                arity(1, 1)?;
                expect_type(&compiled[0], &[KqlType::Bool], name, args[0].range.clone())?;
                Ok(Compiled::new(compiled[0].expr.clone().not(), KqlType::Bool))
            }
            "tostring" if compiled.len() == 1 && compiled[0].ty == KqlType::String => Ok(
                Compiled::new(compiled[0].expr.clone().fill_null(lit("")), KqlType::String),
            ),
            "tolong" | "toint" | "toreal" | "todouble" | "todecimal"
                if compiled.len() == 1
                    && matches!(
                        compiled[0].ty,
                        KqlType::Dynamic | KqlType::Datetime | KqlType::Timespan
                    ) =>
            {
                let ty = match name {
                    "tolong" => KqlType::Long,
                    "toint" => KqlType::Int,
                    _ => KqlType::Real,
                };
                let converted = row_function(vec![compiled[0].expr.clone()], ty, move |v| {
                    let value = if ty == KqlType::Real {
                        v[0].to_real().map(Value::Real)
                    } else {
                        v[0].to_long().map(Value::Long)
                    };
                    value.unwrap_or(Value::Null)
                });
                Ok(Compiled::new(converted, ty))
            }
            "case" => {
                arity(3, usize::MAX)?;
                if compiled.len() % 2 == 0 {
                    return Err(EngineError::at(
                        "`case()` takes pairs of condition and value, then an else value",
                        range,
                    ));
                }
                let mut ty = compiled[compiled.len() - 1].ty;
                for pair in compiled[..compiled.len() - 1].chunks(2) {
                    expect_type(&pair[0], &[KqlType::Bool], name, range.clone())?;
                    ty = unify(ty, pair[1].ty).ok_or_else(|| {
                        EngineError::at(
                            "the values of `case()` have different types",
                            range.clone(),
                        )
                    })?;
                }
                let mut result = compiled[compiled.len() - 1].expr.clone();
                for pair in compiled[..compiled.len() - 1].chunks(2).rev() {
                    result = when(pair[0].expr.clone().fill_null(lit(false)))
                        .then(pair[1].expr.clone())
                        .otherwise(result);
                }
                if ty == KqlType::String {
                    result = result.fill_null(lit(""));
                }
                Ok(Compiled::new(result, ty))
            }
            "coalesce" => {
                arity(2, 64)?;
                let ty = compiled
                    .iter()
                    .try_fold(KqlType::Null, |acc, c| unify(acc, c.ty));
                let ty = ty.ok_or_else(|| {
                    EngineError::at(
                        "the arguments of `coalesce()` have different types",
                        range.clone(),
                    )
                })?;
                // Kusto skips empty strings as well as nulls.
                let mut result = compiled[compiled.len() - 1].expr.clone();
                for value in compiled[..compiled.len() - 1].iter().rev() {
                    let present = if ty == KqlType::String {
                        value
                            .expr
                            .clone()
                            .is_not_null()
                            .and(value.expr.clone().neq(lit("")))
                    } else {
                        value.expr.clone().is_not_null()
                    };
                    result = when(present).then(value.expr.clone()).otherwise(result);
                }
                Ok(Compiled::new(result, ty))
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
            _ => {
                let ranges: Vec<Range<usize>> = args.iter().map(|a| a.range.clone()).collect();
                let call = Call {
                    name,
                    args: &compiled,
                    ranges: &ranges,
                    range,
                    type_arg,
                    component: None,
                };
                compile_function(&call).unwrap_or_else(|| {
                    Err(EngineError::at(unknown_function_message(name), name_range))
                })
            }
        }
    }

    /// Compiles the functions that read the whole row or the row order: `pack_all()`,
    /// `row_number()`, `prev()`, `next()` and `rand()`. Returns `None` for other names.
    fn compile_scope_call(
        &self,
        name: &str,
        args: &[Expr],
        range: Range<usize>,
    ) -> Option<Result<Compiled, EngineError>> {
        let result = match name {
            "pack_all" => {
                let names: Vec<String> = self
                    .scope
                    .schema
                    .iter_names()
                    .map(|n| n.to_string())
                    .collect();
                let inputs: Vec<PlExpr> = names.iter().map(|n| col(n.as_str())).collect();
                if inputs.is_empty() {
                    return Some(Ok(Compiled::from_literal(&Literal::Dynamic(
                        serde_json::Value::Object(serde_json::Map::new()),
                    ))));
                }
                let expr = row_function(inputs, KqlType::Dynamic, move |v| {
                    let mut bag = serde_json::Map::new();
                    for (name, value) in names.iter().zip(v) {
                        if !value.is_null() {
                            bag.insert(name.clone(), value.to_json());
                        }
                    }
                    Value::Dynamic(serde_json::Value::Object(bag))
                });
                Ok(Compiled::new(expr, KqlType::Dynamic))
            }
            "row_number" if args.len() == 2 => {
                let compiled = match self.compile_args(args) {
                    Ok(compiled) => compiled,
                    Err(error) => return Some(Err(error)),
                };
                let Some(Literal::Long(start)) = compiled[0].constant.clone() else {
                    return Some(Err(EngineError::at(
                        "`row_number()` needs a constant start index",
                        args[0].range.clone(),
                    )));
                };
                let restart = compiled[1].expr.clone().fill_null(lit(false));
                // Counts from `start`, and again from `start` on each row where `restart` holds.
                // The count carries from row to row, so the function must see the whole column.
                // `apply_multiple` is not element-wise, so the streaming engine does not split it
                // into batches as it would a `map_multiple` function.
                let expr = polars::prelude::apply_multiple(
                    move |columns: &mut [polars::prelude::Column]| {
                        let flags = columns[0].bool()?.clone();
                        let mut current = start - 1;
                        let numbers: Vec<i64> = flags
                            .iter()
                            .enumerate()
                            .map(|(index, flag)| {
                                current = if index > 0 && flag == Some(true) {
                                    start
                                } else {
                                    current + 1
                                };
                                current
                            })
                            .collect();
                        Ok(polars::prelude::Column::new(
                            columns[0].name().clone(),
                            numbers,
                        ))
                    },
                    [restart],
                    |_, fields: &[polars::prelude::Field]| {
                        Ok(polars::prelude::Field::new(
                            fields[0].name().clone(),
                            DataType::Int64,
                        ))
                    },
                    false,
                );
                Ok(Compiled::new(expr, KqlType::Long))
            }
            "row_number" => {
                let start = match args.first() {
                    Some(arg) => match self.compile(arg).map(|c| c.constant) {
                        Ok(Some(Literal::Long(n))) => n,
                        _ => {
                            return Some(Err(EngineError::at(
                                "`row_number()` needs a constant start index",
                                arg.range.clone(),
                            )));
                        }
                    },
                    None => 1,
                };
                Ok(Compiled::new(self.row_index() + lit(start), KqlType::Long))
            }
            "prev" | "next" => {
                if args.is_empty() || args.len() > 3 {
                    return Some(Err(EngineError::at(
                        format!("`{name}()` takes 1 to 3 arguments"),
                        range,
                    )));
                }
                let compiled = match self.compile_args(args) {
                    Ok(compiled) => compiled,
                    Err(error) => return Some(Err(error)),
                };
                let offset = match compiled.get(1).map(|c| c.constant.clone()) {
                    None => 1,
                    Some(Some(Literal::Long(n))) if n >= 0 => n,
                    Some(_) => {
                        return Some(Err(EngineError::at(
                            format!(
                                "the offset of `{name}()` must be a constant, non-negative integer"
                            ),
                            args[1].range.clone(),
                        )));
                    }
                };
                let shift = if name == "prev" { offset } else { -offset };
                let mut shifted = compiled[0].expr.clone().shift(lit(shift));
                if let Some(default) = compiled.get(2) {
                    shifted = shifted.fill_null(default.expr.clone());
                } else if compiled[0].ty == KqlType::String {
                    // Kusto strings are never null: past the edge, a string is empty.
                    shifted = shifted.fill_null(lit(""));
                }
                Ok(Compiled::new(shifted, compiled[0].ty))
            }
            "__has_terms" => {
                let [any, left, item] = args else {
                    return Some(Err(EngineError::at("invalid `has_any` term list", range)));
                };
                let any = matches!(any.kind, ExprKind::Literal(Literal::Bool(true)));
                self.compile_has_terms(any, left, item, range)
            }
            "row_cumsum" => {
                if args.len() != 1 {
                    return Some(Err(EngineError::at(
                        "the local engine supports `row_cumsum()` with one argument, without a restart condition",
                        range,
                    )));
                }
                let compiled = match self.compile(&args[0]) {
                    Ok(compiled) => compiled,
                    Err(error) => return Some(Err(error)),
                };
                if !compiled.ty.is_numeric() && compiled.ty != KqlType::Timespan {
                    return Some(Err(type_error(
                        "row_cumsum",
                        compiled.ty,
                        args[0].range.clone(),
                    )));
                }
                let ty = if compiled.ty == KqlType::Int {
                    KqlType::Long
                } else {
                    compiled.ty
                };
                // A null adds nothing to the running sum.
                let summed = compiled
                    .expr
                    .cast(ty.to_polars())
                    .fill_null(lit(0).cast(ty.to_polars()))
                    .cum_sum(false);
                Ok(Compiled::new(summed, ty))
            }
            "new_guid" => {
                if !args.is_empty() {
                    return Some(Err(EngineError::at(
                        "`new_guid()` takes no arguments",
                        range.clone(),
                    )));
                }
                // Each row gets its own GUID; the row index only gives the column its length.
                let expr =
                    random_column_function(vec![self.row_index()], KqlType::String, |_, height| {
                        Ok(random_guids(height))
                    });
                Ok(Compiled::new(expr, KqlType::String))
            }
            "rand" => {
                let compiled = match self.compile_args(args) {
                    Ok(compiled) => compiled,
                    Err(error) => return Some(Err(error)),
                };
                let index = self.row_index();
                let bound = compiled
                    .first()
                    .map(|c| c.expr.clone().cast(DataType::Int64));
                let ty = if bound.is_some() {
                    KqlType::Long
                } else {
                    KqlType::Real
                };
                let mut inputs = vec![index];
                inputs.extend(bound);
                let expr = random_column_function(inputs, ty, |columns, height| {
                    random_numbers(columns.get(1), height)
                });
                Ok(Compiled::new(expr, ty))
            }
            _ => return None,
        };
        Some(result)
    }

    /// Compiles `left has_any (item)` or `has_all` where `item` is a constant array, a scalar
    /// `let` name or a tabular `let` name, expanding it into one `has` test per term.
    fn compile_has_terms(
        &self,
        any: bool,
        left: &Expr,
        item: &Expr,
        range: Range<usize>,
    ) -> Result<Compiled, EngineError> {
        let terms: Vec<Literal> = match item.as_name() {
            Some(name)
                if !self.scope.schema.contains(name)
                    && !self.scope.lets.contains_key(name)
                    && self.scope.tables.contains_key(name) =>
            {
                first_column_literals(&self.scope.tables[name], item.range.clone())?
            }
            _ => match self.compile(item)?.constant {
                Some(Literal::Dynamic(serde_json::Value::Array(elements))) => {
                    elements.iter().map(json_to_literal).collect()
                }
                Some(literal) => vec![literal],
                None => {
                    return Err(EngineError::at(
                        "`has_any` and `has_all` need constant terms, a dynamic array or a table",
                        item.range.clone(),
                    ));
                }
            },
        };
        let lhs = self.compile(left)?;
        let op = StringOp {
            kind: StringOpKind::Has,
            case_sensitive: false,
            negated: false,
        };
        let mut combined: Option<PlExpr> = None;
        for term in terms {
            let text = match term {
                Literal::Null => continue,
                Literal::String(text) => text,
                other => crate::eval::value_to_literal_text(other),
            };
            let rhs = Compiled::from_literal(&Literal::String(text));
            let test = compile_string_op(op, &lhs, &rhs, range.clone())?.expr;
            combined = Some(match combined {
                None => test,
                Some(previous) if any => previous.or(test),
                Some(previous) => previous.and(test),
            });
        }
        Ok(Compiled::new(combined.unwrap_or(lit(!any)), KqlType::Bool))
    }

    /// Returns the zero-based position of each row, from a column of the input: the first of
    /// a fixed-width type if there is one, because a file scan then reads fewer bytes than for
    /// a text column.
    fn row_index(&self) -> PlExpr {
        let fixed_width = self
            .scope
            .schema
            .iter()
            .find(|(_, dtype)| {
                dtype.is_primitive_numeric() || dtype.is_bool() || dtype.is_temporal()
            })
            .map(|(name, _)| name);
        match fixed_width.or_else(|| self.scope.schema.iter_names().next()) {
            // `is_null()` is never null, so its running count numbers every row. An expression
            // that polars folds into a constant, such as `x or true`, would give one number for
            // the whole frame inside `where`.
            Some(first) => {
                col(first.as_str())
                    .is_null()
                    .cum_count(false)
                    .cast(DataType::Int64)
                    - lit(1i64)
            }
            None => lit(0i64),
        }
    }
}

/// Replaces a call of a scalar function bound by `let` with its body, where each parameter
/// name stands for the call's argument (or the parameter's default).
fn inline_function(
    function: &crate::ast::Function,
    name: &str,
    args: &[Expr],
    range: Range<usize>,
) -> Result<Expr, EngineError> {
    use crate::ast::{FunctionBody, LetValue};
    let FunctionBody::Scalar(body) = &function.body else {
        return Err(EngineError::at(
            format!("`{name}` returns a table; call it where a table is expected"),
            range,
        ));
    };
    if args.len() > function.parameters.len() {
        return Err(EngineError::at(
            format!(
                "`{name}` takes {} arguments, got {}",
                function.parameters.len(),
                args.len()
            ),
            range,
        ));
    }
    let mut bound: HashMap<String, Expr> = HashMap::new();
    for (index, parameter) in function.parameters.iter().enumerate() {
        let value = match (args.get(index), &parameter.default) {
            (Some(arg), _) | (None, Some(arg)) => arg.clone(),
            (None, None) => {
                return Err(EngineError::at(
                    format!("missing argument `{}` of `{name}`", parameter.name.name),
                    range,
                ));
            }
        };
        bound.insert(parameter.name.name.clone(), value);
    }
    for statement in &function.lets {
        let LetValue::Scalar(value) = &statement.value else {
            return Err(EngineError::at(
                format!("the local engine supports only scalar `let` statements inside `{name}`"),
                statement.name.range.clone(),
            ));
        };
        let value = substitute(value, &bound);
        bound.insert(statement.name.name.clone(), value);
    }
    Ok(substitute(body, &bound))
}

/// Returns `expr` with every name in `bound` replaced by its expression.
fn substitute(expr: &Expr, bound: &HashMap<String, Expr>) -> Expr {
    let boxed = |inner: &Expr| Box::new(substitute(inner, bound));
    let kind = match &expr.kind {
        ExprKind::Name(name) => match bound.get(name) {
            Some(value) => return value.clone(),
            None => ExprKind::Name(name.clone()),
        },
        ExprKind::Literal(_) | ExprKind::TypeOf(_) => expr.kind.clone(),
        ExprKind::Not(inner) => ExprKind::Not(boxed(inner)),
        ExprKind::Negate(inner) => ExprKind::Negate(boxed(inner)),
        ExprKind::Binary { op, lhs, rhs } => ExprKind::Binary {
            op: *op,
            lhs: boxed(lhs),
            rhs: boxed(rhs),
        },
        ExprKind::Chain { op, operands } => ExprKind::Chain {
            op: *op,
            operands: operands
                .iter()
                .map(|operand| substitute(operand, bound))
                .collect(),
        },
        ExprKind::In {
            expr: value,
            list,
            negated,
            case_sensitive,
        } => ExprKind::In {
            expr: boxed(value),
            list: list.iter().map(|item| substitute(item, bound)).collect(),
            negated: *negated,
            case_sensitive: *case_sensitive,
        },
        ExprKind::Between {
            expr: value,
            low,
            high,
            negated,
        } => ExprKind::Between {
            expr: boxed(value),
            low: boxed(low),
            high: boxed(high),
            negated: *negated,
        },
        ExprKind::Call { name, args } => ExprKind::Call {
            name: name.clone(),
            args: args.iter().map(|arg| substitute(arg, bound)).collect(),
        },
        ExprKind::Member { object, key } => ExprKind::Member {
            object: boxed(object),
            key: boxed(key),
        },
    };
    Expr::new(kind, expr.range.clone())
}

/// Maps a KQL type name, as in `typeof(long)` or a `datatable` schema, to its type.
pub fn parse_type_name(name: &str) -> Option<KqlType> {
    Some(match name.trim().to_ascii_lowercase().as_str() {
        "string" => KqlType::String,
        "long" | "int64" => KqlType::Long,
        "int" | "int32" => KqlType::Int,
        "real" | "double" | "decimal" => KqlType::Real,
        "bool" | "boolean" => KqlType::Bool,
        "datetime" | "date" => KqlType::Datetime,
        "timespan" | "time" => KqlType::Timespan,
        "dynamic" => KqlType::Dynamic,
        "guid" => KqlType::String,
        _ => return None,
    })
}

/// Runs `table` and returns the distinct values of its first column as literals.
fn first_column_literals(
    table: &polars::prelude::LazyFrame,
    range: Range<usize>,
) -> Result<Vec<Literal>, EngineError> {
    let frame = table.clone().collect().map_err(|error| {
        EngineError::at(format!("the table in `in` failed: {error}"), range.clone())
    })?;
    let Some(column) = frame.columns().first() else {
        return Err(EngineError::at("the table in `in` has no columns", range));
    };
    let mut literals: Vec<Literal> = Vec::new();
    for value in crate::eval::value::read_column(column) {
        let literal = crate::eval::value_to_literal(value);
        if !literals.contains(&literal) {
            literals.push(literal);
        }
    }
    Ok(literals)
}

/// Converts one JSON element of a constant dynamic array to a literal.
fn json_to_literal(json: &serde_json::Value) -> Literal {
    match json {
        serde_json::Value::Bool(flag) => Literal::Bool(*flag),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(long) => Literal::Long(long),
            None => Literal::Real(n.as_f64().unwrap_or(f64::NAN)),
        },
        serde_json::Value::String(text) => Literal::String(text.clone()),
        serde_json::Value::Null => Literal::Null,
        other => Literal::String(other.to_string()),
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
/// Datetimes, timespans and dynamic values take the text form of `tostring()`.
pub(crate) fn as_string(value: &Compiled) -> PlExpr {
    match value.ty {
        KqlType::String => value.expr.clone(),
        KqlType::Long | KqlType::Int | KqlType::Bool => value.expr.clone().cast(DataType::String),
        _ => row_function(vec![value.expr.clone()], KqlType::String, |v| {
            Value::String(v[0].to_text())
        }),
    }
}

/// Converts a dynamic operand to `target`'s type for a comparison or arithmetic with it.
fn coerce_dynamic(value: Compiled, target: KqlType) -> Compiled {
    if value.ty != KqlType::Dynamic || target == KqlType::Dynamic || target == KqlType::Null {
        return value;
    }
    let ty = match target {
        KqlType::Int => KqlType::Long,
        other => other,
    };
    let expr = row_function(vec![value.expr], ty, move |v| {
        let json = match v[0] {
            Value::Dynamic(json) => json.clone(),
            other => other.to_json(),
        };
        match (ty, &json) {
            (_, serde_json::Value::Null) => Value::Null,
            (KqlType::String, _) => Value::String(Value::Dynamic(json).to_text()),
            (KqlType::Long, _) => Value::Dynamic(json)
                .to_long()
                .map_or(Value::Null, Value::Long),
            (KqlType::Real, _) => Value::Dynamic(json)
                .to_real()
                .map_or(Value::Null, Value::Real),
            (KqlType::Bool, serde_json::Value::Bool(flag)) => Value::Bool(*flag),
            (KqlType::Datetime, serde_json::Value::String(text)) => {
                crate::eval::functions::parse_datetime(text).map_or(Value::Null, Value::Datetime)
            }
            (KqlType::Timespan, serde_json::Value::String(text)) => {
                crate::eval::functions::parse_timespan(text).map_or(Value::Null, Value::Timespan)
            }
            _ => Value::Null,
        }
    });
    Compiled::new(expr, ty)
}

pub(crate) fn unify(a: KqlType, b: KqlType) -> Option<KqlType> {
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

/// Joins boolean polars expressions with `and` or `or` as a balanced tree, so that the depth
/// of the result grows with the logarithm of the number of terms.
fn balanced_logical(op: BinaryOp, mut terms: Vec<PlExpr>) -> PlExpr {
    while terms.len() > 1 {
        let mut joined = Vec::with_capacity(terms.len().div_ceil(2));
        let mut pairs = terms.into_iter();
        while let Some(lhs) = pairs.next() {
            joined.push(match pairs.next() {
                Some(rhs) if op == BinaryOp::And => lhs.and(rhs),
                Some(rhs) => lhs.or(rhs),
                None => lhs,
            });
        }
        terms = joined;
    }
    terms.pop().expect("a chain has at least one term")
}

/// Adds or multiplies `long` values as a balanced tree of polars operations.
fn balanced_long_arithmetic(op: BinaryOp, mut terms: Vec<Compiled>) -> Compiled {
    while terms.len() > 1 {
        let mut joined = Vec::with_capacity(terms.len().div_ceil(2));
        let mut pairs = terms.into_iter();
        while let Some(lhs) = pairs.next() {
            joined.push(match pairs.next() {
                Some(rhs) if op == BinaryOp::Mul => {
                    Compiled::new(lhs.expr * rhs.expr, KqlType::Long)
                }
                Some(rhs) => Compiled::new(lhs.expr + rhs.expr, KqlType::Long),
                None => lhs,
            });
        }
        terms = joined;
    }
    terms.pop().expect("a chain has at least one term")
}

/// Adds the column names of a binary operation's operands to a type error about it.
fn name_operands(mut error: EngineError, operands: &[&Expr]) -> EngineError {
    let names: Vec<&str> = operands.iter().filter_map(|e| e.as_name()).collect();
    if error.message.starts_with("cannot ") && !names.is_empty() {
        let listed: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
        error.message = format!("{} (column {})", error.message, listed.join(" and "));
    }
    error
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
    // Kusto compares and computes with a dynamic value as the scalar type on the other side.
    let (lhs, rhs) = match (lhs.ty, rhs.ty) {
        (T::Dynamic, other) if other != T::Dynamic => (coerce_dynamic(lhs, other), rhs),
        (other, T::Dynamic) if other != T::Dynamic => {
            let rhs = coerce_dynamic(rhs, other);
            (lhs, rhs)
        }
        _ => (lhs, rhs),
    };
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

    // Kusto computes integer arithmetic in 64 bits, `int` operands included. Polars would keep
    // two 32-bit operands (or one and a small literal) in 32 bits and wrap around.
    let (lhs, rhs) = if result_ty == T::Long {
        let widen = |value: Compiled| Compiled {
            expr: value.expr.cast(DataType::Int64),
            ..value
        };
        (widen(lhs), widen(rhs))
    } else {
        (lhs, rhs)
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
        // Kusto's `%` takes the sign of the dividend, as in C; polars' takes the divisor's.
        _ if result_ty == T::Long => {
            let quotient = (lhs.expr.clone().cast(DataType::Float64)
                / rhs.expr.clone().cast(DataType::Float64))
            .cast(DataType::Int64);
            lhs.expr - quotient * rhs.expr
        }
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

/// Returns the error for a call of a function the engine lacks. A type name called with a
/// non-constant argument, such as `double(x)`, is a typed literal written with an expression.
fn unknown_function_message(name: &str) -> String {
    let conversion = match name {
        "bool" | "boolean" => "tobool",
        "int" | "int32" => "toint",
        "long" | "int64" => "tolong",
        "real" | "double" | "decimal" => "todouble",
        "string" => "tostring",
        _ => return format!("the function `{name}()` is not supported by the local engine yet"),
    };
    format!(
        "`{name}(...)` is a typed literal and takes a constant, such as `{name}(1)` or \
         `{name}(null)`; to convert a value, call `{conversion}()`"
    )
}

/// Returns whether `needle` starts and ends with a term character (an ASCII letter or digit),
/// the edges where `has` needs a term boundary.
pub(crate) fn term_char_edges(needle: &str) -> (bool, bool) {
    let is_term_char = |c: char| c.is_ascii_alphanumeric();
    (
        needle.chars().next().is_some_and(is_term_char),
        needle.chars().last().is_some_and(is_term_char),
    )
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
    let (starts_with_term_char, ends_with_term_char) = term_char_edges(needle);
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
        (KqlType::Dynamic, AnyValue::Binary(bytes)) => {
            serde_json::from_slice(bytes).ok().map(Literal::Dynamic)
        }
        (KqlType::Dynamic, AnyValue::BinaryOwned(bytes)) => {
            serde_json::from_slice(&bytes).ok().map(Literal::Dynamic)
        }
        _ => None,
    }
}

/// Returns `height` random version 4 GUIDs in their text form: random bits except for the
/// version and variant bits.
fn random_guids(height: usize) -> Column {
    use rand::Rng as _;

    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut rng = rand::rng();
    let mut builder = StringChunkedBuilder::new(PlSmallStr::EMPTY, height);
    let mut text = [b'-'; 36];
    for _ in 0..height {
        let mut bytes: [u8; 16] = rng.random();
        bytes[6] = (bytes[6] & 0x0f) | 0x40;
        bytes[8] = (bytes[8] & 0x3f) | 0x80;
        let mut position = 0;
        for (index, byte) in bytes.iter().enumerate() {
            if matches!(index, 4 | 6 | 8 | 10) {
                position += 1;
            }
            text[position] = HEX[usize::from(byte >> 4)];
            text[position + 1] = HEX[usize::from(byte & 0x0f)];
            position += 2;
        }
        builder.append_value(std::str::from_utf8(&text).expect("hex digits and dashes"));
    }
    builder.finish().into_column()
}

/// Returns `height` random numbers: reals in [0, 1) without `bound`, and otherwise longs in
/// [0, bound) per row, null where the bound is null or not positive. A one-row bound applies
/// to every row.
fn random_numbers(bound: Option<&Column>, height: usize) -> PolarsResult<Column> {
    use rand::Rng as _;

    let mut rng = rand::rng();
    let Some(bound) = bound else {
        let values: Vec<f64> = (0..height).map(|_| rng.random::<f64>()).collect();
        return Ok(Float64Chunked::from_vec(PlSmallStr::EMPTY, values).into_column());
    };
    let bounds = bound.i64()?;
    let at = |row: usize| match bounds.len() {
        1 => bounds.get(0),
        _ => bounds.get(row),
    };
    let values: Int64Chunked = (0..height)
        .map(|row| {
            at(row)
                .filter(|&limit| limit > 0)
                .map(|limit| (rng.random::<f64>() * limit as f64) as i64)
        })
        .collect();
    Ok(values.into_column())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_guids_are_version_4_and_distinct() {
        let shape = regex::Regex::new(
            "^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$",
        )
        .unwrap();
        let guids = random_guids(2_000);
        let texts: Vec<&str> = guids.str().unwrap().iter().flatten().collect();
        assert_eq!(texts.len(), 2_000);
        for text in &texts {
            assert!(shape.is_match(text), "{text}");
        }
        let distinct: std::collections::HashSet<&&str> = texts.iter().collect();
        assert_eq!(distinct.len(), texts.len());
    }

    #[test]
    fn random_numbers_respect_each_rows_bound() {
        let bounds = Column::new("b".into(), [Some(10i64), None, Some(0), Some(-3), Some(1)]);
        let drawn = random_numbers(Some(&bounds), 5).unwrap();
        let drawn: Vec<Option<i64>> = drawn.i64().unwrap().iter().collect();
        assert!(matches!(drawn[0], Some(0..=9)), "{drawn:?}");
        assert_eq!(drawn[1..4], [None, None, None]);
        assert_eq!(drawn[4], Some(0));
        let reals = random_numbers(None, 1_000).unwrap();
        let reals = reals.f64().unwrap();
        assert!(reals.iter().flatten().all(|x| (0.0..1.0).contains(&x)));
        let distinct: std::collections::HashSet<u64> =
            reals.iter().flatten().map(f64::to_bits).collect();
        assert!(distinct.len() > 990);
    }

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
