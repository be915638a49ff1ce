//! Scalar functions that run row by row on [`Value`]s: strings, dynamic values, datetimes,
//! conversions, math, IP addresses and hashes.
//!
//! Each family module returns `None` for a name it does not define, so that
//! [`compile_function`] can try the next one.

mod dynamic;
mod math;
mod network;
pub mod series;
mod text;
mod time;

use std::ops::Range;

use regex::Regex;

use crate::EngineError;
use crate::ast::Literal;
use crate::eval::expr::Compiled;
use crate::eval::types::KqlType;
use crate::eval::value::{Value, row_function};

/// A call to compile: the function name, its compiled arguments and their byte ranges.
pub struct Call<'a> {
    pub name: &'a str,
    pub args: &'a [Compiled],
    pub ranges: &'a [Range<usize>],
    pub range: Range<usize>,
    /// The `typeof(T)` argument of `extract()` and the like, if the call has one.
    pub type_arg: Option<KqlType>,
    /// Which output of a function with several, such as `series_decompose_anomalies()`, the
    /// call returns; `None` returns the first.
    pub component: Option<usize>,
}

impl Call<'_> {
    /// Checks that the call has from `min` to `max` arguments.
    pub fn arity(&self, min: usize, max: usize) -> Result<(), EngineError> {
        let count = self.args.len();
        if count >= min && count <= max {
            return Ok(());
        }
        let expected = if min == max {
            format!("{min}")
        } else if max == usize::MAX {
            format!("at least {min}")
        } else {
            format!("{min} to {max}")
        };
        Err(EngineError::at(
            format!("`{}()` takes {expected} arguments, got {count}", self.name),
            self.range.clone(),
        ))
    }

    /// Compiles the call as a row function over all its arguments.
    pub fn row<F>(&self, ty: KqlType, function: F) -> Compiled
    where
        F: Fn(&[&Value]) -> Value + Send + Sync + 'static,
    {
        let inputs = self.args.iter().map(|arg| arg.expr.clone()).collect();
        Compiled::new(row_function(inputs, ty, function), ty)
    }

    /// Returns argument `index` as a constant string, or an error that names the argument.
    pub fn constant_string(&self, index: usize, what: &str) -> Result<String, EngineError> {
        match &self.args[index].constant {
            Some(Literal::String(text)) => Ok(text.clone()),
            _ => Err(EngineError::at(
                format!("`{}()` needs a constant string as its {what}", self.name),
                self.ranges[index].clone(),
            )),
        }
    }

    /// Compiles argument `index`, a constant regular expression in RE2 syntax.
    pub fn regex(&self, index: usize) -> Result<Regex, EngineError> {
        let pattern = self.constant_string(index, "regular expression")?;
        Regex::new(&pattern).map_err(|error| {
            EngineError::at(
                format!("invalid regular expression {pattern:?}: {error}"),
                self.ranges[index].clone(),
            )
        })
    }

    /// Returns argument `index` as a constant long.
    pub fn constant_long(&self, index: usize, what: &str) -> Result<i64, EngineError> {
        match &self.args[index].constant {
            Some(Literal::Long(n)) => Ok(*n),
            _ => Err(EngineError::at(
                format!("`{}()` needs a constant integer as its {what}", self.name),
                self.ranges[index].clone(),
            )),
        }
    }

    /// Rejects argument `index` unless its type is one of `allowed` (null always passes).
    pub fn expect(&self, index: usize, allowed: &[KqlType]) -> Result<(), EngineError> {
        let ty = self.args[index].ty;
        if ty == KqlType::Null || allowed.contains(&ty) {
            return Ok(());
        }
        let names: Vec<&str> = allowed.iter().map(|t| t.name()).collect();
        Err(EngineError::at(
            format!(
                "argument {} of `{}()` must be {}, not {}",
                index + 1,
                self.name,
                names.join(" or "),
                ty.name()
            ),
            self.ranges[index].clone(),
        ))
    }
}

/// Compiles a call of a scalar function defined in this module, or returns `None` when no
/// family defines `call.name`.
pub fn compile_function(call: &Call<'_>) -> Option<Result<Compiled, EngineError>> {
    text::compile(call)
        .or_else(|| dynamic::compile(call))
        .or_else(|| time::compile(call))
        .or_else(|| math::compile(call))
        .or_else(|| network::compile(call))
        .or_else(|| series::compile(call))
}

/// Returns the text of a value as string functions read it: null is the empty string.
fn text_of(value: &Value) -> String {
    value.to_text()
}

pub use dynamic::{as_json, get_member, json_equal, parse_json_value};
pub use math::compare_values;
pub use text::{convert_text, parse_windows_command_line};
pub use time::{parse_datetime_text as parse_datetime, parse_timespan_text as parse_timespan};
