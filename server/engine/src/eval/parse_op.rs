//! The `parse`, `parse-where` and `parse-kv` operators.
//!
//! Each output column is a polars expression that runs over the whole text column at once.
//! A `parse` pattern of constants and untyped columns is matched by searching for each
//! constant in turn; other patterns become one regular expression. Both are anchored at the
//! start of the text, as in Kusto, so a pattern that does not begin with `*` or a column
//! must match there.

use std::sync::Arc;

use polars::prelude::{
    BooleanChunked, Column, DataType, Expr as PlExpr, Field, IntoColumn as _, LazyFrame,
    NewChunkedArray as _, StringChunkedBuilder,
};
use regex::Regex;

use super::expr::{AggregateMode, ExprCompiler, Scope, parse_type_name};
use super::functions::convert_text;
use super::memo::distinct_views;
use super::types::KqlType;
use super::value::{Value, build_column, output_dtype};
use crate::EngineError;
use crate::ast::{Expr, Ident, ParseItem, ParseKind};

/// Returns the regular expression of one `parse` column of type `ty`. The `last` column
/// takes the rest of the text.
fn column_pattern(ty: KqlType, last: bool) -> &'static str {
    match ty {
        KqlType::Long | KqlType::Int => r"([-+]?\d+)",
        KqlType::Real => r"([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)",
        KqlType::Bool => r"((?i:true|false))",
        _ if last => "(.*)",
        _ => "(.*?)",
    }
}

/// One step of a pattern that [`Matcher::Literal`] runs.
#[derive(Debug, Clone, PartialEq)]
enum Step {
    /// The constant must follow at the current position.
    Exact(String),
    /// Text up to the first occurrence of the constant is skipped, or captured as column
    /// `Some(index)`; the constant is consumed too.
    Until(Option<usize>, String),
    /// Column `index` captures the rest of the text.
    Rest(usize),
    /// Column `index` captures the empty text, as a lazy `(.*?)` before another column does.
    Empty(usize),
}

/// The matching strategy of a `parse` pattern.
enum Matcher {
    /// Search for the constants from left to right. For a pattern of constants, `*` and
    /// untyped columns this finds the same captures as the regular expression below. A lazy
    /// `(.*?)` followed by a constant ends at the constant's first occurrence, because if the
    /// rest of the pattern fails to match from there, it fails from any later position too.
    Literal(Vec<Step>),
    Regex(Regex),
}

/// A compiled `parse` pattern and its columns.
struct Parser {
    matcher: Matcher,
    types: Vec<KqlType>,
    /// Whether a typed value that does not convert fails the whole match; `kind=relaxed`
    /// makes it null instead.
    strict: bool,
}

impl Parser {
    /// Matches `text` and writes the byte range of each column into `spans`. Returns
    /// whether the pattern matched and, in strict mode, every typed column converted.
    fn matches(&self, text: &str, spans: &mut Vec<(usize, usize)>) -> bool {
        spans.clear();
        spans.resize(self.types.len(), (0, 0));
        let matched = match &self.matcher {
            Matcher::Literal(steps) => match_steps(steps, text, spans),
            Matcher::Regex(regex) => match regex.captures(text) {
                Some(captures) => {
                    for (index, span) in spans.iter_mut().enumerate() {
                        if let Some(group) = captures.get(index + 1) {
                            *span = (group.start(), group.end());
                        }
                    }
                    true
                }
                None => false,
            },
        };
        if !matched {
            return false;
        }
        if self.strict {
            let converts = |(index, ty): (usize, &KqlType)| {
                *ty == KqlType::String
                    || !convert_text(&text[spans[index].0..spans[index].1], *ty).is_null()
            };
            return self.types.iter().enumerate().all(converts);
        }
        true
    }
}

/// Returns the byte offset of the first `constant` in `text`. A one-character constant is
/// searched as a `char`, which the standard library does with `memchr`.
fn find_constant(text: &str, constant: &str) -> Option<usize> {
    let mut chars = constant.chars();
    match (chars.next(), chars.next()) {
        (Some(single), None) => text.find(single),
        _ => text.find(constant),
    }
}

fn match_steps(steps: &[Step], text: &str, spans: &mut [(usize, usize)]) -> bool {
    let mut position = 0;
    for step in steps {
        match step {
            Step::Exact(constant) => {
                if !text[position..].starts_with(constant.as_str()) {
                    return false;
                }
                position += constant.len();
            }
            Step::Until(column, constant) => {
                let Some(offset) = find_constant(&text[position..], constant) else {
                    return false;
                };
                if let Some(index) = column {
                    spans[*index] = (position, position + offset);
                }
                position += offset + constant.len();
            }
            Step::Rest(index) => {
                spans[*index] = (position, text.len());
                position = text.len();
            }
            Step::Empty(index) => spans[*index] = (position, position),
        }
    }
    true
}

/// Returns the steps of a pattern that constant search can match, or `None` when the
/// pattern needs a regular expression (typed columns in strict mode, or empty constants).
fn literal_steps(items: &[ParseItem], types: &[KqlType], strict: bool) -> Option<Vec<Step>> {
    let mut steps = Vec::new();
    // The column (or `*`, as `Some(None)`) whose text runs until the next constant.
    let mut open: Option<Option<usize>> = None;
    let mut column = 0;
    for item in items {
        match item {
            ParseItem::Text(constant) => {
                if constant.is_empty() {
                    return None;
                }
                steps.push(match open.take() {
                    Some(target) => Step::Until(target, constant.clone()),
                    None => Step::Exact(constant.clone()),
                });
            }
            ParseItem::Star | ParseItem::Column { .. } => {
                if let Some(Some(index)) = open.take() {
                    steps.push(Step::Empty(index));
                }
                if matches!(item, ParseItem::Column { .. }) {
                    if strict && types[column] != KqlType::String {
                        return None;
                    }
                    open = Some(Some(column));
                    column += 1;
                } else {
                    open = Some(None);
                }
            }
        }
    }
    if let Some(Some(index)) = open {
        steps.push(Step::Rest(index));
    }
    Some(steps)
}

/// Returns the anchored regular expression of a pattern; group `i + 1` captures column `i`.
fn pattern_regex(
    items: &[ParseItem],
    types: &[KqlType],
    kind: ParseKind,
    range: &std::ops::Range<usize>,
) -> Result<Regex, EngineError> {
    // Outside `kind=regex`, `.` also matches line breaks, so a multi-line value parses the
    // way constant search parses it.
    let mut pattern = String::from(if kind == ParseKind::Regex {
        r"\A"
    } else {
        r"(?s)\A"
    });
    let mut column = 0;
    for (position, item) in items.iter().enumerate() {
        let last = position + 1 == items.len();
        match item {
            ParseItem::Star => pattern.push_str(if last { ".*" } else { ".*?" }),
            ParseItem::Text(text) if kind == ParseKind::Regex => {
                pattern.push_str(&format!("(?:{text})"));
            }
            ParseItem::Text(text) => pattern.push_str(&regex::escape(text)),
            ParseItem::Column { .. } => {
                // In relaxed mode a typed column takes any text, and text that does not
                // convert becomes null instead of failing the match.
                let pattern_ty = if kind == ParseKind::Relaxed {
                    KqlType::String
                } else {
                    types[column]
                };
                pattern.push_str(column_pattern(pattern_ty, last));
                column += 1;
            }
        }
    }
    Regex::new(&pattern).map_err(|error| {
        EngineError::at(
            format!("the parse pattern is not a valid regular expression: {error}"),
            range.clone(),
        )
    })
}

/// Builds column `index` of a `parse`: the converted capture of each matching text, and
/// null (the empty string for string columns) where the text does not match.
fn parse_column(text: PlExpr, parser: Arc<Parser>, index: usize) -> PlExpr {
    let ty = parser.types[index];
    let dtype = output_dtype(ty);
    text.map(
        move |column: Column| {
            let name = column.name().clone();
            let texts = column.str()?;
            // Each distinct text is matched once (see `memo`), and the results are gathered.
            let distinct = distinct_views(&column);
            let rows: Box<dyn Iterator<Item = Option<&str>>> = match &distinct {
                Some(distinct) => Box::new(distinct.first_rows.iter().map(|&row| texts.get(row))),
                None => Box::new(texts.iter()),
            };
            let mut spans = Vec::new();
            let built = if ty == KqlType::String {
                let mut builder = StringChunkedBuilder::new(name, texts.len());
                for text in rows {
                    let text = text.unwrap_or("");
                    if parser.matches(text, &mut spans) {
                        builder.append_value(&text[spans[index].0..spans[index].1]);
                    } else {
                        builder.append_value("");
                    }
                }
                builder.finish().into_column()
            } else {
                let values: Vec<Value> = rows
                    .map(|text| {
                        let text = text.unwrap_or("");
                        if parser.matches(text, &mut spans) {
                            convert_text(&text[spans[index].0..spans[index].1], ty)
                        } else {
                            Value::Null
                        }
                    })
                    .collect();
                build_column(name, values, ty)?
            };
            match distinct {
                Some(distinct) => distinct.gather(&built),
                None => Ok(built),
            }
        },
        move |_, field: &Field| Ok(Field::new(field.name().clone(), dtype.clone())),
    )
}

/// Returns whether each text matches the pattern, for `parse-where`.
fn parse_matches(text: PlExpr, parser: Arc<Parser>) -> PlExpr {
    text.map(
        move |column: Column| {
            let texts = column.str()?;
            let distinct = distinct_views(&column);
            let rows: Box<dyn Iterator<Item = Option<&str>>> = match &distinct {
                Some(distinct) => Box::new(distinct.first_rows.iter().map(|&row| texts.get(row))),
                None => Box::new(texts.iter()),
            };
            let mut spans = Vec::new();
            let matched = BooleanChunked::from_iter_values(
                column.name().clone(),
                rows.map(|text| parser.matches(text.unwrap_or(""), &mut spans)),
            )
            .into_column();
            match distinct {
                Some(distinct) => distinct.gather(&matched),
                None => Ok(matched),
            }
        },
        |_, field: &Field| Ok(Field::new(field.name().clone(), DataType::Boolean)),
    )
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
    let mut names: Vec<&Ident> = Vec::new();
    let mut types = Vec::new();
    for item in items {
        if let ParseItem::Column { name, ty } = item {
            let ty = match ty {
                Some(type_name) => parse_type_name(type_name).ok_or_else(|| {
                    EngineError::at(format!("unknown type `{type_name}`"), name.range.clone())
                })?,
                None => KqlType::String,
            };
            names.push(name);
            types.push(ty);
        }
    }
    let strict = kind != ParseKind::Relaxed;
    let steps = match kind {
        ParseKind::Regex => None,
        ParseKind::Simple | ParseKind::Relaxed => literal_steps(items, &types, strict),
    };
    let matcher = match steps {
        Some(steps) => Matcher::Literal(steps),
        None => Matcher::Regex(pattern_regex(items, &types, kind, &source.range)?),
    };
    let parser = Arc::new(Parser {
        matcher,
        types,
        strict,
    });
    let outputs: Vec<PlExpr> = names
        .iter()
        .enumerate()
        .map(|(index, name)| {
            parse_column(text.clone(), parser.clone(), index).alias(name.name.as_str())
        })
        .collect();
    if keep_unmatched {
        return Ok(frame.with_columns(outputs));
    }
    Ok(frame
        .filter(parse_matches(text, parser))
        .with_columns(outputs))
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
    let delimiters = Arc::new(delimiters);
    let mut outputs = Vec::with_capacity(columns.len());
    for (name, type_name) in columns {
        let ty = parse_type_name(type_name).ok_or_else(|| {
            EngineError::at(format!("unknown type `{type_name}`"), name.range.clone())
        })?;
        let key = name.name.clone();
        let delimiters = delimiters.clone();
        let dtype = output_dtype(ty);
        let expr = text.clone().map(
            move |column: Column| {
                let texts = column.str()?;
                let values: Vec<Value> = texts
                    .iter()
                    .map(|text| {
                        split_pairs(text.unwrap_or(""), &delimiters)
                            .into_iter()
                            .find(|(k, _)| *k == key)
                            .map_or(Value::Null, |(_, value)| convert_text(&value, ty))
                    })
                    .collect();
                build_column(column.name().clone(), values, ty)
            },
            move |_, field: &Field| Ok(Field::new(field.name().clone(), dtype.clone())),
        );
        outputs.push(expr.alias(name.name.as_str()));
    }
    Ok(frame.with_columns(outputs))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(constant: &str) -> ParseItem {
        ParseItem::Text(constant.to_owned())
    }

    fn column(name: &str) -> ParseItem {
        ParseItem::Column {
            name: Ident {
                name: name.to_owned(),
                range: 0..0,
            },
            ty: None,
        }
    }

    /// Returns the captures of `text` under `parser`, or `None` when it does not match.
    fn captures(parser: &Parser, text: &str) -> Option<Vec<String>> {
        let mut spans = Vec::new();
        if !parser.matches(text, &mut spans) {
            return None;
        }
        Some(
            spans
                .iter()
                .map(|(start, end)| text[*start..*end].to_owned())
                .collect(),
        )
    }

    #[test]
    fn constant_search_agrees_with_regex() {
        let patterns = vec![
            vec![column("A"), text("\\"), column("B")],
            vec![text("pam_unix("), column("S"), text(":"), column("R")],
            vec![
                ParseItem::Star,
                text("for "),
                column("W"),
                text(" "),
                ParseItem::Star,
            ],
            vec![column("A"), column("B"), text("="), column("C")],
            vec![text("a"), text("b"), column("C")],
            vec![
                ParseItem::Star,
                text("x"),
                ParseItem::Star,
                text("y"),
                column("Z"),
            ],
            vec![column("A"), text("-"), column("B"), text(".")],
            vec![column("A"), ParseItem::Star],
        ];
        let texts = [
            "",
            "CONTOSO\\alice",
            "\\lead",
            "trail\\",
            "pam_unix(sshd:session): opened",
            "x pam_unix(a:b)",
            "session opened for user root by (uid=0)",
            "for  double",
            "key=value=more",
            "abc",
            "ab",
            "xay yxyz",
            "yx",
            "a-b-c.d",
            "a-b",
            "line\nbreak-x.",
        ];
        for items in &patterns {
            let types = vec![
                KqlType::String;
                items
                    .iter()
                    .filter(|i| matches!(i, ParseItem::Column { .. }))
                    .count()
            ];
            let steps = literal_steps(items, &types, true)
                .expect("the pattern has only constants and untyped columns");
            let literal = Parser {
                matcher: Matcher::Literal(steps),
                types: types.clone(),
                strict: true,
            };
            let regex = Parser {
                matcher: Matcher::Regex(
                    pattern_regex(items, &types, ParseKind::Simple, &(0..0)).unwrap(),
                ),
                types: types.clone(),
                strict: true,
            };
            for text in texts {
                assert_eq!(
                    captures(&literal, text),
                    captures(&regex, text),
                    "pattern {items:?} on {text:?}"
                );
            }
        }
    }

    #[test]
    fn pattern_anchored_at_start() {
        let items = vec![text("port="), column("P")];
        let types = vec![KqlType::String];
        let parser = Parser {
            matcher: Matcher::Literal(literal_steps(&items, &types, true).unwrap()),
            types,
            strict: true,
        };
        assert_eq!(captures(&parser, "port=80"), Some(vec!["80".to_owned()]));
        assert_eq!(captures(&parser, "x port=80"), None);
    }

    #[test]
    fn typed_columns_need_regex_when_strict() {
        let items = vec![text("n="), column("N")];
        assert!(literal_steps(&items, &[KqlType::Long], true).is_none());
        assert!(literal_steps(&items, &[KqlType::Long], false).is_some());
        assert!(
            literal_steps(
                &[column("A"), text(""), column("B")],
                &[KqlType::String; 2],
                true
            )
            .is_none()
        );
    }
}
