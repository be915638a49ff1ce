//! The `parse`, `parse-where` and `parse-kv` operators.

use polars::prelude::LazyFrame;
use regex::Regex;

use super::expr::{AggregateMode, ExprCompiler, Scope, parse_type_name};
use super::functions::convert_text;
use super::types::KqlType;
use super::value::{Value, row_function};
use crate::EngineError;
use crate::ast::{Expr, Ident, ParseItem, ParseKind};

/// The regular expression of one `parse` column of type `ty`. `last` columns take the rest
/// of the text.
fn column_pattern(ty: KqlType, last: bool) -> &'static str {
    match ty {
        KqlType::Long | KqlType::Int => r"([-+]?\d+)",
        KqlType::Real => r"([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)",
        KqlType::Bool => r"((?i:true|false))",
        _ if last => "(.*)",
        _ => "(.*?)",
    }
}

/// Applies `parse` and `parse-where`.
pub(super) fn parse(
    frame: LazyFrame,
    scope: &Scope<'_>,
    source: &Expr,
    kind: ParseKind,
    items: &[ParseItem],
    keep_unmatched: bool,
) -> Result<LazyFrame, EngineError> {
    let compiler = ExprCompiler::new(scope, AggregateMode::Forbidden);
    let text = super::expr::as_string(&compiler.compile(source)?);
    // NOTE: the pattern is not anchored at the start of the text, so leading text before
    // the first constant is skipped as if the pattern began with `*`.
    let mut pattern = String::new();
    let mut columns: Vec<(Ident, KqlType, usize)> = Vec::new();
    let mut group = 0;
    for (position, item) in items.iter().enumerate() {
        let last = position + 1 == items.len();
        match item {
            ParseItem::Star => pattern.push_str(if last { ".*" } else { ".*?" }),
            ParseItem::Text(text) => {
                if kind == ParseKind::Regex {
                    pattern.push_str(&format!("(?:{text})"));
                } else {
                    pattern.push_str(&regex::escape(text));
                }
            }
            ParseItem::Column { name, ty } => {
                let ty = match ty {
                    Some(type_name) => parse_type_name(type_name).ok_or_else(|| {
                        EngineError::at(format!("unknown type `{type_name}`"), name.range.clone())
                    })?,
                    None => KqlType::String,
                };
                group += 1;
                // In relaxed mode a typed column takes any text, and text that does not convert
                // becomes null instead of failing the match.
                let pattern_ty = if kind == ParseKind::Relaxed {
                    KqlType::String
                } else {
                    ty
                };
                pattern.push_str(column_pattern(pattern_ty, last));
                columns.push((name.clone(), ty, group));
            }
        }
    }
    let regex = Regex::new(&pattern).map_err(|error| {
        EngineError::at(
            format!("the parse pattern is not a valid regular expression: {error}"),
            source.range.start..source.range.end,
        )
    })?;
    let typed: Vec<(usize, KqlType)> = columns.iter().map(|(_, ty, g)| (*g, *ty)).collect();
    // In simple mode a value that does not convert fails the whole match.
    let strict = kind != ParseKind::Relaxed;
    let matches = {
        let regex = regex.clone();
        let typed = typed.clone();
        move |text: &str| -> Option<Vec<Value>> {
            let captures = regex.captures(text)?;
            let mut values = Vec::with_capacity(typed.len());
            for (group, ty) in &typed {
                let captured = captures.get(*group).map_or("", |m| m.as_str());
                let value = convert_text(captured, *ty);
                if strict && value.is_null() && *ty != KqlType::String {
                    return None;
                }
                values.push(value);
            }
            Some(values)
        }
    };
    let matches = std::sync::Arc::new(matches);
    let mut outputs = Vec::with_capacity(columns.len());
    for (index, (name, ty, _)) in columns.iter().enumerate() {
        let matches = matches.clone();
        let expr = row_function(vec![text.clone()], *ty, move |v| {
            match matches(&v[0].to_text()) {
                Some(values) => values[index].clone(),
                None => Value::Null,
            }
        });
        outputs.push(expr.alias(name.name.as_str()));
    }
    if keep_unmatched {
        return Ok(frame.with_columns(outputs));
    }
    let matched = row_function(vec![text], KqlType::Bool, move |v| {
        Value::Bool(matches(&v[0].to_text()).is_some())
    });
    Ok(frame.filter(matched).with_columns(outputs))
}

/// The delimiters of `parse-kv`.
pub(super) struct KvDelimiters {
    pub pair: String,
    pub key_value: String,
    /// Characters that may quote a value; a quoted value keeps delimiters inside it.
    pub quotes: String,
}

/// Splits `text` into key-value pairs. Text without the key-value delimiter is skipped.
fn split_pairs(text: &str, delimiters: &KvDelimiters) -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let Some(at) = rest.find(delimiters.key_value.as_str()) else {
            break;
        };
        let key = rest[..at].trim().to_owned();
        let after = &rest[at + delimiters.key_value.len()..];
        let quote = after
            .chars()
            .next()
            .filter(|c| delimiters.quotes.contains(*c));
        let (value, next) = match quote {
            Some(q) => match after[q.len_utf8()..].find(q) {
                Some(end) => {
                    let value = &after[q.len_utf8()..q.len_utf8() + end];
                    let tail = &after[q.len_utf8() + end + q.len_utf8()..];
                    let next = tail
                        .find(delimiters.pair.as_str())
                        .map_or("", |p| &tail[p + delimiters.pair.len()..]);
                    (value, next)
                }
                None => (after, ""),
            },
            None => match after.find(delimiters.pair.as_str()) {
                Some(end) => (&after[..end], &after[end + delimiters.pair.len()..]),
                None => (after, ""),
            },
        };
        // A key may follow earlier text that had no delimiter; keep its last pair-separated part.
        let key = key
            .rsplit(delimiters.pair.as_str())
            .next()
            .unwrap_or(&key)
            .to_owned();
        pairs.push((key, value.to_owned()));
        rest = next;
    }
    pairs
}

/// Applies `parse-kv`: one column per declared key, converted to its type; a key that is
/// missing gives an empty string or null.
pub(super) fn parse_kv(
    frame: LazyFrame,
    scope: &Scope<'_>,
    source: &Expr,
    columns: &[(Ident, String)],
    delimiters: KvDelimiters,
) -> Result<LazyFrame, EngineError> {
    let compiler = ExprCompiler::new(scope, AggregateMode::Forbidden);
    let text = super::expr::as_string(&compiler.compile(source)?);
    let delimiters = std::sync::Arc::new(delimiters);
    let mut outputs = Vec::with_capacity(columns.len());
    for (name, type_name) in columns {
        let ty = parse_type_name(type_name).ok_or_else(|| {
            EngineError::at(format!("unknown type `{type_name}`"), name.range.clone())
        })?;
        let key = name.name.clone();
        let delimiters = delimiters.clone();
        let expr = row_function(vec![text.clone()], ty, move |v| {
            split_pairs(&v[0].to_text(), &delimiters)
                .into_iter()
                .find(|(k, _)| *k == key)
                .map_or(Value::Null, |(_, value)| convert_text(&value, ty))
        });
        outputs.push(expr.alias(name.name.as_str()));
    }
    Ok(frame.with_columns(outputs))
}
