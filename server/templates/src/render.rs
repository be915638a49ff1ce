//! Rendering a template with parameter values, as MSTICPy's `QuerySource.create_query` does.
//!
//! The steps (msticpy 3.0.2) are these. Start from each parameter's default and apply the
//! supplied values, resolving aliases. Fail on parameters still without a value. Convert
//! datetime and list values and apply the back end's datetime and list formatting. Substitute
//! the fields with Python's `str.format`. Finally, collapse every run of whitespace that
//! contains two or more line breaks into one line break.
//!
//! With [`Escaping::Msticpy`] the output is byte-for-byte MSTICPy's. With [`Escaping::Safe`]
//! (Quarry's default) values are also escaped for the lexical context their field sits in, see
//! [`render`].

use std::collections::HashMap;
use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use regex::Regex;

use crate::pyformat::{self, Piece};
use crate::quote::{self, Context, Dialect};
use crate::template::{ParamType, Parameter, Template};
use crate::time::{self, TimeValue};
use crate::yaml::{self, Node, Value};

/// Escaping policy for values written into the query.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Escaping {
    /// Exactly as MSTICPy writes them.
    Msticpy,
    /// As MSTICPy, except that values cannot leave the string literal or comment they are
    /// placed in, numbers must be numbers, and code fields must not leave a literal open.
    Safe,
}

#[derive(Clone, Copy, Debug)]
pub struct RenderOptions {
    pub dialect: Dialect,
    pub escaping: Escaping,
    /// The time that relative datetimes (`-3d`, `-1d@d`, numbers of days) count from.
    pub now: DateTime<Utc>,
}

impl RenderOptions {
    pub fn new(dialect: Dialect) -> RenderOptions {
        RenderOptions {
            dialect,
            escaping: Escaping::Safe,
            now: Utc::now(),
        }
    }
}

/// A parameter value supplied by the caller.
#[derive(Clone, Debug, PartialEq)]
pub enum ArgValue {
    Text(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    List(Vec<ArgValue>),
    Time(TimeValue),
}

impl ArgValue {
    /// Converts a YAML default value; `None` for null, which counts as no value.
    pub fn from_node(node: &Node) -> Option<ArgValue> {
        Some(match &node.value {
            Value::Null => return None,
            Value::Bool(flag) => ArgValue::Bool(*flag),
            Value::Int(number) => ArgValue::Int(*number),
            Value::Float(number) => ArgValue::Float(*number),
            Value::Str(text) | Value::Timestamp(text) => ArgValue::Text(text.clone()),
            Value::Seq(items) => {
                ArgValue::List(items.iter().filter_map(ArgValue::from_node).collect())
            }
            Value::Map(_) => ArgValue::Text(yaml::python_str(&node.value)),
        })
    }

    /// Formats the value as Python's `str()` would.
    pub fn python_str(&self) -> String {
        match self {
            ArgValue::Text(text) => text.clone(),
            ArgValue::Int(number) => number.to_string(),
            ArgValue::Float(number) => yaml::python_float_repr(*number),
            ArgValue::Bool(flag) => yaml::python_str(&Value::Bool(*flag)),
            ArgValue::Time(time) => time.isoformat(' '),
            ArgValue::List(items) => {
                let inner: Vec<String> = items.iter().map(ArgValue::python_repr).collect();
                format!("[{}]", inner.join(", "))
            }
        }
    }

    fn python_repr(&self) -> String {
        match self {
            ArgValue::Text(text) => yaml::python_repr(&Value::Str(text.clone())),
            other => other.python_str(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct RenderError {
    pub message: String,
}

fn error(message: impl Into<String>) -> RenderError {
    RenderError {
        message: message.into(),
    }
}

/// A value after conversion and formatting, ready to be placed in the query.
struct Prepared {
    text: String,
    /// Whether the caller supplied the value. Defaults are part of the template, written by its
    /// author for the place they go (MSTICPy's own defaults include KQL-escaped text such as
    /// `\\`), so safe mode inserts them as written.
    supplied: bool,
    /// Whether the text was written by the renderer (datetimes, lists, checked numbers) rather
    /// than taken from the caller, so it is safe to place in code as it is.
    generated: bool,
}

/// Renders `template` with `args` (parameter names or aliases with values).
///
/// In [`Escaping::Safe`] mode, Quarry differs from MSTICPy on purpose:
/// - a string value inside a string literal of the template (`"{host}"`) is escaped for that
///   literal, so it can never end the literal. KQL gets `\\`, `\"`, `\n` and `\uXXXX` for control
///   and line-separator characters, SPL gets `\\` and `\"`. MSTICPy inserts the value unchanged,
///   so a value such as `x" | take 0 //` ends the literal and adds a pipeline stage;
/// - list items are escaped for the `'...'` (KQL) or `"..."` (SPL) literal the list formatter
///   writes around them;
/// - a value in a KQL `//` comment has its line breaks replaced by spaces;
/// - in SPL, a string after `field=` that is not a plain word or one quoted string is quoted;
/// - `int` and `float` values must be numbers;
/// - a string placed in code (a field such as `{table}` or `{add_query_items}`, whose purpose
///   is to insert query text) is inserted as it is, but may not leave a literal or comment open.
///
/// Defaults are not escaped: they are part of the template and written for their place.
/// Supplied values are taken as plain text, so a caller who passes text already escaped for
/// KQL, as MSTICPy users must (`\\` for one backslash), gets it escaped twice; such callers
/// pass the plain value, or use [`Escaping::Msticpy`].
///
/// Values without quotes, backslashes or control characters render identically in both modes.
pub fn render(
    template: &Template,
    args: &[(String, ArgValue)],
    options: &RenderOptions,
) -> Result<String, RenderError> {
    let values = collect_values(template, args)?;
    let mut prepared: HashMap<&str, Prepared> = HashMap::new();
    for param in &template.parameters {
        let (value, supplied) = &values[param.name.as_str()];
        let mut text = prepare(param, value, options)
            .map_err(|message| error(format!("parameter `{}`: {message}", param.name)))?;
        text.supplied = *supplied;
        prepared.insert(param.name.as_str(), text);
    }

    let pieces = pyformat::parse(&template.query).map_err(|problem| {
        error(format!(
            "template `{}` cannot be rendered: {}",
            template.name, problem.message
        ))
    })?;
    let mut out = String::with_capacity(template.query.len() * 2);
    for piece in pieces {
        match piece {
            Piece::Text(text) => out.push_str(&text),
            Piece::Field {
                name, conversion, ..
            } => {
                let Some(value) = prepared.get(name.as_str()) else {
                    return Err(error(format!(
                        "template `{}` uses `{{{name}}}`, which is not a declared parameter",
                        template.name
                    )));
                };
                let text = if conversion == Some('r') {
                    yaml::python_repr(&Value::Str(value.text.clone()))
                } else {
                    value.text.clone()
                };
                match options.escaping {
                    Escaping::Safe if !value.supplied => out.push_str(&text),
                    Escaping::Msticpy => out.push_str(&text),
                    Escaping::Safe => {
                        let generated = value.generated;
                        place_safely(&mut out, &name, &text, generated, options.dialect)?;
                    }
                }
            }
        }
    }
    Ok(collapse_blank_lines(&out))
}

/// Resolves aliases, rejects unknown names and fills in defaults. Each value comes with
/// whether the caller supplied it.
fn collect_values<'t>(
    template: &'t Template,
    args: &[(String, ArgValue)],
) -> Result<HashMap<&'t str, (ArgValue, bool)>, RenderError> {
    let mut supplied: HashMap<&str, (&str, &ArgValue)> = HashMap::new();
    for (name, value) in args {
        let Some(param) = template.resolve_parameter(name) else {
            return Err(error(format!(
                "unknown parameter `{name}` for template `{}`; its parameters are {}",
                template.name,
                describe_parameters(template)
            )));
        };
        if let Some((first, _)) = supplied.insert(param.name.as_str(), (name.as_str(), value)) {
            return Err(error(format!(
                "parameter `{}` is given twice (as `{first}` and `{name}`); pass it once",
                param.name
            )));
        }
    }

    let mut values = HashMap::new();
    let mut missing = Vec::new();
    for param in &template.parameters {
        let value = match supplied.get(param.name.as_str()) {
            Some((_, value)) => Some(((*value).clone(), true)),
            None => param
                .default
                .as_ref()
                .and_then(ArgValue::from_node)
                .map(|value| (value, false)),
        };
        match value {
            Some(value) => {
                values.insert(param.name.as_str(), value);
            }
            None => missing.push(param.name.as_str()),
        }
    }
    if !missing.is_empty() {
        return Err(error(format!(
            "missing required parameters for template `{}`: {}; pass each with --param NAME=VALUE",
            template.name,
            missing.join(", ")
        )));
    }
    Ok(values)
}

fn describe_parameters(template: &Template) -> String {
    let names: Vec<String> = template
        .parameters
        .iter()
        .map(|param| {
            if param.aliases.is_empty() {
                param.name.clone()
            } else {
                format!("{} (aliases: {})", param.name, param.aliases.join(", "))
            }
        })
        .collect();
    if names.is_empty() {
        "none".to_string()
    } else {
        names.join(", ")
    }
}

/// Converts and formats one value as MSTICPy's `create_query` and `_format_parameter` do.
fn prepare(
    param: &Parameter,
    value: &ArgValue,
    options: &RenderOptions,
) -> Result<Prepared, String> {
    let safe = options.escaping == Escaping::Safe;
    let param_type = param.param_type.unwrap_or(ParamType::Str);
    let (formatted, generated) = match param_type {
        ParamType::Datetime => {
            let time = to_time(value, options.now)?;
            if param.format.is_some() {
                (ArgValue::Time(time).python_str(), true)
            } else {
                let text = match options.dialect {
                    Dialect::Kql => time.format_kql(),
                    Dialect::Splunk => time.format_splunk(),
                };
                (text, true)
            }
        }
        ParamType::List => {
            let items = to_list(value);
            if param.format.is_some() {
                (ArgValue::List(items).python_str(), false)
            } else {
                (format_list(&items, options), true)
            }
        }
        ParamType::Int | ParamType::Float if safe => {
            let text = value.python_str();
            check_number(&text, param_type)?;
            (text, true)
        }
        _ => (value.python_str(), false),
    };
    let text = match &param.format {
        Some(format) => apply_format_option(format, &formatted)?,
        None => formatted,
    };
    Ok(Prepared {
        text,
        generated,
        supplied: true,
    })
}

fn to_time(value: &ArgValue, now: DateTime<Utc>) -> Result<TimeValue, String> {
    match value {
        ArgValue::Time(time) => Ok(*time),
        ArgValue::Int(days) => time::from_day_offset(*days as f64, now),
        ArgValue::Float(days) => time::from_day_offset(*days, now),
        ArgValue::Text(text) => time::parse_time(text, now),
        ArgValue::Bool(_) | ArgValue::List(_) => Err(format!(
            "{} is not a datetime; pass an ISO 8601 time or an offset such as -3d",
            value.python_str()
        )),
    }
}

/// Splits a list value as MSTICPy's `_parse_param_list`: a string with commas becomes its
/// comma-separated items (trimmed), any other single value a one-item list.
fn to_list(value: &ArgValue) -> Vec<ArgValue> {
    match value {
        ArgValue::List(items) => items.clone(),
        ArgValue::Text(text) if text.contains(',') => text
            .split(',')
            .map(|item| ArgValue::Text(item.trim().to_string()))
            .collect(),
        other => vec![other.clone()],
    }
}

/// Formats a list with the back end's list formatter.
///
/// KQL follows MSTICPy's Microsoft Sentinel driver (`AzureMonitorDriver._format_list`): strings
/// in single quotes with `'` escaped as `\'`, other values as they are, joined by `, `. MSTICPy's
/// default formatter, used by its Kusto and Defender drivers, does not escape `'`. SPL follows
/// `SplunkDriver._format_list`: every item in double quotes, joined by `,`.
fn format_list(items: &[ArgValue], options: &RenderOptions) -> String {
    let safe = options.escaping == Escaping::Safe;
    let formatted: Vec<String> = items
        .iter()
        .map(|item| match (options.dialect, item) {
            (Dialect::Kql, ArgValue::Text(text)) if safe => {
                format!("'{}'", quote::escape_kql_body(text, '\''))
            }
            (Dialect::Kql, ArgValue::Text(text)) => format!("'{}'", text.replace('\'', "\\'")),
            (Dialect::Kql, other) => other.python_str(),
            (Dialect::Splunk, item) if safe => {
                format!("\"{}\"", quote::escape_splunk_body(&item.python_str()))
            }
            (Dialect::Splunk, item) => format!("\"{}\"", item.python_str()),
        })
        .collect();
    let separator = match options.dialect {
        Dialect::Kql => ", ",
        Dialect::Splunk => ",",
    };
    formatted.join(separator)
}

fn check_number(text: &str, param_type: ParamType) -> Result<(), String> {
    static INT: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"^[+-]?[0-9]+$").expect("valid regex"));
    static FLOAT: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$").expect("valid regex")
    });
    let (pattern, noun) = match param_type {
        ParamType::Int => (&*INT, "an integer"),
        _ => (&*FLOAT, "a number"),
    };
    if pattern.is_match(text) {
        Ok(())
    } else {
        Err(format!("{text:?} is not {noun}; pass digits such as 10"))
    }
}

/// Applies a parameter's `format` option, a Python format string with one positional field.
fn apply_format_option(format: &str, value: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = format;
    while let Some(index) = rest.find(['{', '}']) {
        out.push_str(&rest[..index]);
        let tail = &rest[index..];
        if let Some(after) = tail.strip_prefix("{{") {
            out.push('{');
            rest = after;
        } else if let Some(after) = tail.strip_prefix("}}") {
            out.push('}');
            rest = after;
        } else if let Some(after) = tail.strip_prefix("{}").or_else(|| tail.strip_prefix("{0}")) {
            out.push_str(value);
            rest = after;
        } else {
            return Err(format!(
                "the `format` option {format:?} is not supported; use `{{}}` for the value and `{{{{` / `}}}}` for braces"
            ));
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// Appends a value in safe mode, escaped for the context the query text before it has opened.
fn place_safely(
    out: &mut String,
    name: &str,
    text: &str,
    generated: bool,
    dialect: Dialect,
) -> Result<(), RenderError> {
    let context = quote::context_at_end(dialect, out);
    if context != Context::Code {
        let escaped = quote::escape_for_context(dialect, context, text)
            .map_err(|message| error(format!("the value of `{name}` {message}")))?;
        out.push_str(&escaped);
        return Ok(());
    }
    if generated {
        out.push_str(text);
        return Ok(());
    }
    if dialect == Dialect::Splunk && out.ends_with('=') {
        if quote::is_plain_splunk_token(text) || quote::is_single_splunk_string(text) {
            out.push_str(text);
        } else {
            out.push('"');
            out.push_str(&quote::escape_splunk_body(text));
            out.push('"');
        }
        return Ok(());
    }
    // A code field: the value is query text by design, but it must not leave a literal or a
    // comment open, or the template text after it would be read inside that literal.
    let before = out.len();
    out.push_str(text);
    let after = quote::context_at_end(dialect, out);
    if after != Context::Code {
        out.truncate(before);
        return Err(error(format!(
            "the value of `{name}` is inserted as query text and leaves a string literal or comment open; close it, or quote the value in the template"
        )));
    }
    Ok(())
}

/// Collapses whitespace runs that contain two or more line breaks into one line break
/// (MSTICPy's `re.sub(r"\n\s*\n", "\n", query)`; Python's `\s` also matches U+001C..U+001F).
pub fn collapse_blank_lines(text: &str) -> String {
    static BLANK_LINES: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"\n[\s\x1C-\x1F]*\n").expect("valid regex"));
    BLANK_LINES.replace_all(text, "\n").into_owned()
}
