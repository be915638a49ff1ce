//! Query templates called like functions in KQL documents:
//! `WindowsSecurity.list_host_logons(host_name="WS1", start=ago(7d)) | take 10`.
//!
//! [`TemplateCatalog`] is the set of templates available to the editor, as plain data. The functions
//! here find template calls in a parsed document, check them against the catalog, describe
//! them for hover, completion and signature help, and expand them into the rendered query text.
//! Nothing here uses LSP types; offsets are bytes into the document text.

use std::collections::BTreeSet;
use std::ops::Range;

use chrono::{DateTime, Duration, Utc};
use quarry_syntax::kinds;
use quarry_syntax::tree_sitter::Node;
use quarry_templates::library::template_dialect;
use quarry_templates::time::TimeValue;
use quarry_templates::{ArgValue, Dialect, Library, ParamType, Parameter, RenderOptions, Template};

use crate::diagnostics::{Diagnostic, Severity};
use crate::literals;
use crate::source_file::SourceFile;

/// Codes of the diagnostics about template calls.
pub mod codes {
    pub const UNKNOWN_FAMILY: &str = "TPL001";
    pub const UNKNOWN_TEMPLATE: &str = "TPL002";
    pub const UNKNOWN_PARAMETER: &str = "TPL003";
    pub const MISSING_PARAMETER: &str = "TPL004";
    pub const WRONG_TYPE: &str = "TPL005";
    pub const POSITIONAL_ARGUMENT: &str = "TPL006";
    pub const DUPLICATE_PARAMETER: &str = "TPL007";
    pub const NOT_RENDERABLE: &str = "TPL008";
}

/// One template as listed in the catalog: a data family and the template.
#[derive(Clone, Debug)]
pub struct CatalogEntry {
    pub family: String,
    pub template: Template,
}

impl CatalogEntry {
    pub fn qualified_name(&self) -> String {
        format!("{}.{}", self.family, self.template.name)
    }
}

/// The templates callable from KQL documents, taken from a template [`Library`].
#[derive(Clone, Debug, Default)]
pub struct TemplateCatalog {
    entries: Vec<CatalogEntry>,
    families: BTreeSet<String>,
}

impl TemplateCatalog {
    /// Builds the catalog from the valid files of `library`, with its replacement rules.
    pub fn new(library: &Library) -> TemplateCatalog {
        let entries: Vec<CatalogEntry> = library
            .entries()
            .into_iter()
            .map(|entry| CatalogEntry {
                family: entry.family.to_owned(),
                template: entry.template.clone(),
            })
            .collect();
        let families = entries.iter().map(|entry| entry.family.clone()).collect();
        TemplateCatalog { entries, families }
    }

    /// Entries sorted by qualified name.
    pub fn entries(&self) -> &[CatalogEntry] {
        &self.entries
    }

    /// Family names in sorted order.
    pub fn families(&self) -> impl Iterator<Item = &str> {
        self.families.iter().map(String::as_str)
    }

    pub fn is_family(&self, name: &str) -> bool {
        self.families.contains(name)
    }

    pub fn templates_of<'a>(&'a self, family: &'a str) -> impl Iterator<Item = &'a CatalogEntry> {
        self.entries
            .iter()
            .filter(move |entry| entry.family == family)
    }

    pub fn find(&self, family: &str, name: &str) -> Option<&CatalogEntry> {
        self.entries
            .iter()
            .find(|entry| entry.family == family && entry.template.name == name)
    }
}

/// A call `Family.template(name=value, ...)` found in a document.
#[derive(Clone, Debug, PartialEq)]
pub struct TemplateCall {
    /// The whole call, from the family name to the closing parenthesis.
    pub range: Range<usize>,
    pub family: String,
    pub family_range: Range<usize>,
    pub name: String,
    pub name_range: Range<usize>,
    /// The argument list, parentheses included.
    pub arguments_range: Range<usize>,
    pub arguments: Vec<CallArgument>,
    /// Whether the expansion must be parenthesized: the call is not the source of a pipeline
    /// or a whole query.
    pub needs_parentheses: bool,
}

/// One argument of a template call.
#[derive(Clone, Debug, PartialEq)]
pub struct CallArgument {
    /// The parameter name and its range, or `None` for a positional argument.
    pub name: Option<(String, Range<usize>)>,
    pub range: Range<usize>,
    pub value_range: Range<usize>,
    /// The kind of the value's syntax node.
    value_kind: String,
}

/// Finds every template call in `file`: a call whose function is `Name.name`, with a plain
/// identifier on each side of the dot. KQL itself has no such calls.
pub fn template_calls(file: &SourceFile) -> Vec<TemplateCall> {
    let text = file.text();
    let mut calls = Vec::new();
    let mut cursor = file.syntax().root().walk();
    let mut stack = vec![file.syntax().root()];
    while let Some(node) = stack.pop() {
        if let Some(call) = template_call(node, text) {
            calls.push(call);
        }
        for child in node.children(&mut cursor) {
            stack.push(child);
        }
    }
    calls.sort_by_key(|call| call.range.start);
    calls
}

/// Returns the innermost template call whose range contains `offset` (or ends at it).
///
/// Only the ancestors of the bytes on either side of `offset` are checked, because any node
/// that contains `offset` or ends at it contains one of those bytes. Hover and completion call
/// this on every request, and walking a 5,000-line tree took most of their time.
pub fn template_call_at(file: &SourceFile, offset: usize) -> Option<TemplateCall> {
    let text = file.text();
    let root = file.syntax().root();
    let byte_before = offset.checked_sub(1).map(|before| before..offset);
    let byte_after = (offset < text.len()).then(|| offset..offset + 1);
    let mut innermost: Option<TemplateCall> = None;
    for byte in [byte_before, byte_after].into_iter().flatten() {
        let mut node = root.descendant_for_byte_range(byte.start, byte.end);
        while let Some(current) = node {
            if let Some(call) = template_call(current, text)
                && innermost
                    .as_ref()
                    .is_none_or(|found| call.range.len() < found.range.len())
            {
                innermost = Some(call);
            }
            node = current.parent();
        }
    }
    innermost
}

fn template_call(node: Node<'_>, text: &str) -> Option<TemplateCall> {
    if node.kind() != kinds::CALL_EXPRESSION {
        return None;
    }
    let function = node.child_by_field_name("function")?;
    if function.kind() != kinds::MEMBER_EXPRESSION {
        return None;
    }
    let object = function.child_by_field_name("object")?;
    let member = function.child_by_field_name("member")?;
    if object.kind() != kinds::IDENTIFIER || member.kind() != kinds::IDENTIFIER {
        return None;
    }
    let arguments_node = node.child_by_field_name("arguments")?;
    let mut arguments = Vec::new();
    let mut cursor = arguments_node.walk();
    for child in arguments_node.named_children(&mut cursor) {
        if child.kind() == kinds::COMMENT {
            continue;
        }
        arguments.push(call_argument(child, text));
    }
    Some(TemplateCall {
        range: node.byte_range(),
        family: text[object.byte_range()].to_owned(),
        family_range: object.byte_range(),
        name: text[member.byte_range()].to_owned(),
        name_range: member.byte_range(),
        arguments_range: arguments_node.byte_range(),
        arguments,
        needs_parentheses: !is_query_source(node),
    })
}

fn call_argument(node: Node<'_>, text: &str) -> CallArgument {
    if node.kind() == kinds::NAMED_ARGUMENT
        && let (Some(name), Some(value)) = (
            node.child_by_field_name("name"),
            node.child_by_field_name("value"),
        )
    {
        return CallArgument {
            name: Some((text[name.byte_range()].to_owned(), name.byte_range())),
            range: node.byte_range(),
            value_range: value.byte_range(),
            value_kind: value.kind().to_owned(),
        };
    }
    CallArgument {
        name: None,
        range: node.byte_range(),
        value_range: node.byte_range(),
        value_kind: node.kind().to_owned(),
    }
}

/// Returns whether `node` starts a pipeline or is a whole statement, where its expansion can
/// stand without parentheses.
fn is_query_source(node: Node<'_>) -> bool {
    let Some(parent) = node.parent() else {
        return true;
    };
    match parent.kind() {
        kinds::QUERY_STATEMENT => true,
        kinds::PIPE_EXPRESSION => parent
            .child_by_field_name("source")
            .is_some_and(|source| source.id() == node.id() && is_query_source(parent)),
        _ => false,
    }
}

/// Diagnostics for the template calls in `file`: unknown families, templates and parameters,
/// positional or repeated arguments, missing required parameters and values of the wrong type.
pub fn template_diagnostics(
    catalog: &TemplateCatalog,
    file: &SourceFile,
    now: DateTime<Utc>,
) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    for call in template_calls(file) {
        check_call(catalog, file.text(), &call, now, &mut diagnostics);
    }
    diagnostics
}

fn error(range: Range<usize>, code: &str, message: String) -> Diagnostic {
    Diagnostic {
        range,
        code: code.to_owned(),
        message,
        help: None,
        severity: Severity::Error,
        fixes: Vec::new(),
    }
}

fn check_call(
    catalog: &TemplateCatalog,
    text: &str,
    call: &TemplateCall,
    now: DateTime<Utc>,
    out: &mut Vec<Diagnostic>,
) {
    if !catalog.is_family(&call.family) {
        let known: Vec<&str> = catalog.families().collect();
        out.push(error(
            call.family_range.clone(),
            codes::UNKNOWN_FAMILY,
            format!(
                "unknown template family `{}`; known families: {}",
                call.family,
                if known.is_empty() {
                    "none (no templates are loaded)".to_owned()
                } else {
                    known.join(", ")
                }
            ),
        ));
        return;
    }
    let Some(entry) = catalog.find(&call.family, &call.name) else {
        let known: Vec<&str> = catalog
            .templates_of(&call.family)
            .map(|entry| entry.template.name.as_str())
            .collect();
        out.push(error(
            call.name_range.clone(),
            codes::UNKNOWN_TEMPLATE,
            format!(
                "family `{}` has no template `{}`; its templates are: {}",
                call.family,
                call.name,
                known.join(", ")
            ),
        ));
        return;
    };
    let template = &entry.template;
    let before = out.len();
    let mut supplied: Vec<&str> = Vec::new();
    for argument in &call.arguments {
        let Some((name, name_range)) = &argument.name else {
            out.push(error(
                argument.range.clone(),
                codes::POSITIONAL_ARGUMENT,
                format!(
                    "template arguments are passed by name; write `name=value` with one of: {}",
                    parameter_names(template)
                ),
            ));
            continue;
        };
        let Some(param) = template.resolve_parameter(name) else {
            out.push(error(
                name_range.clone(),
                codes::UNKNOWN_PARAMETER,
                format!(
                    "`{}` has no parameter `{name}`; its parameters are: {}",
                    entry.qualified_name(),
                    parameter_names(template)
                ),
            ));
            continue;
        };
        if supplied.contains(&param.name.as_str()) {
            out.push(error(
                name_range.clone(),
                codes::DUPLICATE_PARAMETER,
                format!("parameter `{}` is given twice; pass it once", param.name),
            ));
            continue;
        }
        supplied.push(param.name.as_str());
        if let Err(message) = argument_value(text, argument, param, now) {
            out.push(error(
                argument.value_range.clone(),
                codes::WRONG_TYPE,
                format!("parameter `{}`: {message}", param.name),
            ));
        }
    }
    let missing: Vec<&str> = template
        .parameters
        .iter()
        .filter(|param| param.is_required() && !supplied.contains(&param.name.as_str()))
        .map(|param| param.name.as_str())
        .collect();
    if !missing.is_empty() {
        out.push(error(
            call.name_range.clone(),
            codes::MISSING_PARAMETER,
            format!(
                "`{}` needs the parameters {}; add them as name=value",
                entry.qualified_name(),
                missing.join(", ")
            ),
        ));
    }
    // Render only a call without other problems, to catch what rendering alone finds (such as a
    // value that would leave a literal open in a code field).
    if out.len() == before
        && let Err(message) = render_call(entry, text, call, now)
    {
        out.push(error(call.range.clone(), codes::NOT_RENDERABLE, message));
    }
}

fn parameter_names(template: &Template) -> String {
    let names: Vec<&str> = template
        .parameters
        .iter()
        .map(|param| param.name.as_str())
        .collect();
    if names.is_empty() {
        "none".to_owned()
    } else {
        names.join(", ")
    }
}

/// Converts an argument's KQL literal to a template value, checking it against the parameter's
/// type. Only literals are accepted, because the template is expanded before the query runs.
fn argument_value(
    text: &str,
    argument: &CallArgument,
    param: &Parameter,
    now: DateTime<Utc>,
) -> Result<ArgValue, String> {
    let source = &text[argument.value_range.clone()];
    let kind = argument.value_kind.as_str();
    let param_type = param.param_type.unwrap_or(ParamType::Str);
    let wrong = |expected: &str| {
        Err(format!(
            "expects {expected} (type `{}`), not `{}`",
            param_type.name(),
            abbreviate(source)
        ))
    };
    match param_type {
        ParamType::Str => match string_value(source, kind) {
            Some(value) => Ok(ArgValue::Text(value)),
            None => wrong("a string literal such as \"value\""),
        },
        ParamType::Int => match integer_value(source, kind) {
            Some(number) => Ok(ArgValue::Int(number)),
            None => wrong("an integer literal"),
        },
        ParamType::Float => match integer_value(source, kind) {
            Some(number) => Ok(ArgValue::Int(number)),
            None if kind == kinds::REAL_LITERAL => source
                .parse::<f64>()
                .map(ArgValue::Float)
                .or_else(|_| wrong("a number")),
            None => wrong("a number"),
        },
        ParamType::Datetime => datetime_value(source, kind, now).or_else(|_| {
            wrong("a datetime: datetime(2024-05-01), ago(7d), now(), or a string such as \"-7d\"")
        }),
        ParamType::List => list_value(source, kind)
            .or_else(|| string_value(source, kind).map(ArgValue::Text))
            .map_or_else(
                || wrong("a list: dynamic([\"a\", \"b\"]) or a string of comma-separated items"),
                Ok,
            ),
    }
}

fn abbreviate(source: &str) -> String {
    let single: String = source.split_whitespace().collect::<Vec<_>>().join(" ");
    if single.chars().count() > 40 {
        format!("{}...", single.chars().take(40).collect::<String>())
    } else {
        single
    }
}

/// Decodes a KQL string literal: `"..."` and `'...'` with backslash escapes, verbatim `@"..."`
/// with doubled quotes, the obfuscated `h` prefix and ```` ``` ```` blocks.
fn string_value(source: &str, kind: &str) -> Option<String> {
    if kind != kinds::STRING_LITERAL {
        return None;
    }
    let source = source.strip_prefix(['h', 'H']).unwrap_or(source);
    if let Some(body) = source
        .strip_prefix("```")
        .and_then(|rest| rest.strip_suffix("```"))
    {
        return Some(body.to_owned());
    }
    if let Some(verbatim) = source.strip_prefix('@') {
        let quote = verbatim.chars().next()?;
        let body = verbatim.get(1..verbatim.len().checked_sub(1)?)?;
        let doubled: String = [quote, quote].iter().collect();
        return Some(body.replace(&doubled, &quote.to_string()));
    }
    let body = source.get(1..source.len().checked_sub(1)?)?;
    let mut out = String::with_capacity(body.len());
    let mut chars = body.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next()? {
            'n' => out.push('\n'),
            't' => out.push('\t'),
            'r' => out.push('\r'),
            'u' => {
                let hex: String = chars.by_ref().take(4).collect();
                out.push(char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?);
            }
            other => out.push(other),
        }
    }
    Some(out)
}

fn integer_value(source: &str, kind: &str) -> Option<i64> {
    match kind {
        kinds::INTEGER_LITERAL => parse_integer(source),
        kinds::UNARY_EXPRESSION => {
            let rest = source.trim_start();
            let (sign, digits) = if let Some(digits) = rest.strip_prefix('-') {
                (-1, digits)
            } else {
                (1, rest.strip_prefix('+')?)
            };
            parse_integer(digits.trim()).map(|number| sign * number)
        }
        _ => None,
    }
}

fn parse_integer(source: &str) -> Option<i64> {
    match source
        .strip_prefix("0x")
        .or_else(|| source.strip_prefix("0X"))
    {
        Some(hex) => i64::from_str_radix(hex, 16).ok(),
        None => source.parse().ok(),
    }
}

fn datetime_value(source: &str, kind: &str, now: DateTime<Utc>) -> Result<ArgValue, ()> {
    match kind {
        kinds::DATETIME_LITERAL => literals::datetime_utc(source)
            .map(|time| ArgValue::Time(utc_time(time)))
            .ok_or(()),
        kinds::STRING_LITERAL => {
            let value = string_value(source, kind).ok_or(())?;
            quarry_templates::time::parse_time(&value, now).map_err(|_| ())?;
            Ok(ArgValue::Text(value))
        }
        kinds::INTEGER_LITERAL | kinds::UNARY_EXPRESSION => {
            integer_value(source, kind).map(ArgValue::Int).ok_or(())
        }
        kinds::CALL_EXPRESSION => {
            let compact: String = source.split_whitespace().collect();
            if compact == "now()" {
                return Ok(ArgValue::Time(utc_time(now)));
            }
            let span = compact
                .strip_prefix("ago(")
                .and_then(|rest| rest.strip_suffix(')'))
                .ok_or(())?;
            let ticks = literals::timespan_ticks(span).ok_or(())?;
            let ago = Duration::microseconds(ticks / 10);
            Ok(ArgValue::Time(utc_time(now - ago)))
        }
        _ => Err(()),
    }
}

fn utc_time(time: DateTime<Utc>) -> TimeValue {
    TimeValue {
        local: time.naive_utc(),
        offset_seconds: Some(0),
    }
}

/// Reads `dynamic([...])` of strings and numbers.
fn list_value(source: &str, kind: &str) -> Option<ArgValue> {
    if kind != kinds::DYNAMIC_LITERAL {
        return None;
    }
    let inner = source.trim().strip_prefix("dynamic")?.trim_start();
    let inner = inner.strip_prefix('(')?.strip_suffix(')')?.trim();
    let json: serde_json::Value = serde_json::from_str(inner).ok()?;
    let items = json.as_array()?;
    items
        .iter()
        .map(|item| match item {
            serde_json::Value::String(text) => Some(ArgValue::Text(text.clone())),
            serde_json::Value::Number(number) => number
                .as_i64()
                .map(ArgValue::Int)
                .or_else(|| number.as_f64().map(ArgValue::Float)),
            serde_json::Value::Bool(flag) => Some(ArgValue::Bool(*flag)),
            _ => None,
        })
        .collect::<Option<Vec<_>>>()
        .map(ArgValue::List)
}

/// Renders one call with its argument values, in the template's own dialect.
fn render_call(
    entry: &CatalogEntry,
    text: &str,
    call: &TemplateCall,
    now: DateTime<Utc>,
) -> Result<String, String> {
    let template = &entry.template;
    let mut args = Vec::new();
    for argument in &call.arguments {
        let Some((name, _)) = &argument.name else {
            return Err(format!(
                "`{}` takes arguments by name only",
                entry.qualified_name()
            ));
        };
        let param = template.resolve_parameter(name).ok_or_else(|| {
            format!(
                "`{}` has no parameter `{name}`; its parameters are: {}",
                entry.qualified_name(),
                parameter_names(template)
            )
        })?;
        let value = argument_value(text, argument, param, now)
            .map_err(|message| format!("parameter `{}`: {message}", param.name))?;
        args.push((name.clone(), value));
    }
    let options = RenderOptions {
        now,
        ..RenderOptions::new(template_dialect(template))
    };
    quarry_templates::render(template, &args, &options)
        .map_err(|error| format!("`{}` cannot be rendered: {error}", entry.qualified_name()))
}

/// A template call that could not be expanded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExpandError {
    pub range: Range<usize>,
    pub message: String,
}

/// Returns the text that replaces `call` when it is expanded: the rendered KQL query,
/// parenthesized where the call is not the source of a pipeline.
pub fn expand_call(
    catalog: &TemplateCatalog,
    file: &SourceFile,
    call: &TemplateCall,
    now: DateTime<Utc>,
) -> Result<String, ExpandError> {
    let fail = |message: String| ExpandError {
        range: call.range.clone(),
        message,
    };
    let mut problems = Vec::new();
    check_call(catalog, file.text(), call, now, &mut problems);
    if let Some(problem) = problems.into_iter().next() {
        return Err(ExpandError {
            range: problem.range,
            message: problem.message,
        });
    }
    let entry = catalog
        .find(&call.family, &call.name)
        .ok_or_else(|| fail(format!("unknown template `{}.{}`", call.family, call.name)))?;
    if template_dialect(&entry.template) != Dialect::Kql {
        return Err(fail(format!(
            "`{}` is a Splunk template and cannot be part of a KQL query; render it with `quarry templates render`",
            entry.qualified_name()
        )));
    }
    let rendered = render_call(entry, file.text(), call, now).map_err(fail)?;
    let query = rendered.trim();
    Ok(if call.needs_parentheses {
        format!("({query}\n)")
    } else {
        query.to_owned()
    })
}

/// Expands every template call in `range` of `file` and returns the text of that range with
/// each call replaced by its rendered query. Text without calls is returned unchanged.
pub fn expand_range(
    catalog: &TemplateCatalog,
    file: &SourceFile,
    range: Range<usize>,
    now: DateTime<Utc>,
) -> Result<String, ExpandError> {
    let text = file.text();
    let calls: Vec<TemplateCall> = template_calls(file)
        .into_iter()
        .filter(|call| range.start <= call.range.start && call.range.end <= range.end)
        .collect();
    let mut out = String::with_capacity(range.len());
    let mut position = range.start;
    for call in &calls {
        if call.range.start < position {
            // A call nested inside an argument of an outer call was replaced with it.
            continue;
        }
        out.push_str(&text[position..call.range.start]);
        out.push_str(&expand_call(catalog, file, call, now)?);
        position = call.range.end;
    }
    out.push_str(&text[position..range.end]);
    Ok(out)
}

/// Hover text for a family name, a template name or a parameter name of a template call.
pub fn template_hover(
    catalog: &TemplateCatalog,
    file: &SourceFile,
    offset: usize,
) -> Option<(Range<usize>, String)> {
    let call = template_call_at(file, offset)?;
    let within = |range: &Range<usize>| range.start <= offset && offset <= range.end;
    if within(&call.family_range) {
        if !catalog.is_family(&call.family) {
            return None;
        }
        let names: Vec<String> = catalog
            .templates_of(&call.family)
            .map(|entry| {
                format!(
                    "- `{}`: {}",
                    entry.template.name,
                    first_line(&entry.template.description)
                )
            })
            .collect();
        let markdown = format!(
            "**Template family `{}`**\n\n{}",
            call.family,
            names.join("\n")
        );
        return Some((call.family_range.clone(), markdown));
    }
    let entry = catalog.find(&call.family, &call.name)?;
    if within(&call.name_range) {
        return Some((call.name_range.clone(), template_markdown(entry)));
    }
    for argument in &call.arguments {
        if let Some((name, range)) = &argument.name
            && within(range)
            && let Some(param) = entry.template.resolve_parameter(name)
        {
            return Some((range.clone(), parameter_markdown(param)));
        }
    }
    None
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or("").trim()
}

/// Describes a template in Markdown: description, parameters, pivot entities and source file.
pub fn template_markdown(entry: &CatalogEntry) -> String {
    let template = &entry.template;
    let mut out = format!(
        "**Template `{}`**\n\n{}\n\n",
        entry.qualified_name(),
        template.description.trim()
    );
    if template.parameters.is_empty() {
        out.push_str("No parameters.\n");
    } else {
        out.push_str("| parameter | type | default | description |\n|---|---|---|---|\n");
        for param in sorted_parameters(template) {
            let default = match param.default.as_ref().and_then(ArgValue::from_node) {
                Some(value) => format!("`{}`", escape_table(&abbreviate(&default_text(&value)))),
                None => "**required**".to_owned(),
            };
            let aliases = if param.aliases.is_empty() {
                String::new()
            } else {
                format!(" (aliases: {})", param.aliases.join(", "))
            };
            out.push_str(&format!(
                "| `{}`{aliases} | {} | {default} | {} |\n",
                param.name,
                param.param_type.map_or("str", ParamType::name),
                escape_table(param.description.as_deref().unwrap_or(""))
            ));
        }
    }
    let entities = pivot_entities(template);
    if !entities.is_empty() {
        out.push_str(&format!("\nPivot entities: {}\n", entities.join(", ")));
    }
    out.push_str(&format!(
        "\nEnvironments: {}. Defined in `{}`.",
        template.environments.join(", "),
        template.path.display()
    ));
    out
}

/// Shows a default value as a hunter would type it: strings quoted, other values as text.
fn default_text(value: &ArgValue) -> String {
    match value {
        ArgValue::Text(text) => format!("{text:?}"),
        other => other.python_str(),
    }
}

fn escape_table(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

/// Describes one parameter in Markdown: type, required or default, aliases and description.
pub fn parameter_markdown(param: &Parameter) -> String {
    let type_name = param.param_type.map_or("str", ParamType::name);
    let mut out = format!("**Parameter `{}`**: `{type_name}`", param.name);
    match param.default.as_ref().and_then(ArgValue::from_node) {
        Some(value) => out.push_str(&format!(
            ", default `{}`",
            abbreviate(&default_text(&value))
        )),
        None => out.push_str(", required"),
    }
    if !param.aliases.is_empty() {
        out.push_str(&format!("\n\nAliases: {}", param.aliases.join(", ")));
    }
    if let Some(description) = &param.description {
        out.push_str(&format!("\n\n{description}"));
    }
    out
}

/// Required parameters first, then the optional ones, each group in declaration order.
pub fn sorted_parameters(template: &Template) -> Vec<&Parameter> {
    let mut params: Vec<&Parameter> = template.parameters.iter().collect();
    params.sort_by_key(|param| !param.is_required());
    params
}

/// Returns the entity types in the template's `metadata.pivot.direct_func_entities`, MSTICPy's
/// pivot convention.
pub fn pivot_entities(template: &Template) -> Vec<String> {
    let lookup = |node: &quarry_templates::yaml::Node, key: &str| {
        node.as_map()?
            .iter()
            .find(|(name, _)| name.key_text().as_deref() == Some(key))
            .map(|(_, value)| value.clone())
    };
    lookup(&template.metadata, "pivot")
        .and_then(|pivot| lookup(&pivot, "direct_func_entities"))
        .and_then(|entities| {
            entities.as_seq().map(|items| {
                items
                    .iter()
                    .filter_map(|item| item.as_str().map(str::to_owned))
                    .collect()
            })
        })
        .unwrap_or_default()
}

/// The kind of name a template completion item inserts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TemplateItemKind {
    Family,
    Template,
    Parameter,
}

/// One completion item for template calls.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TemplateCompletionItem {
    pub label: String,
    pub kind: TemplateItemKind,
    pub detail: String,
    pub documentation: String,
    /// The text inserted: the label, or `name=` for a parameter.
    pub insert_text: String,
}

/// Returns the byte offset just after the last character of `text` that cannot be part of a
/// template or family name, or 0. The offset is on a character boundary even after a
/// multi-byte character.
fn end_of_last_non_word(text: &str) -> usize {
    text.char_indices()
        .rev()
        .find(|(_, c)| !(c.is_ascii_alphanumeric() || *c == '_'))
        .map_or(0, |(index, c)| index + c.len_utf8())
}

/// Template completions at `offset`, with the range of the partial name they replace.
pub fn template_completions(
    catalog: &TemplateCatalog,
    file: &SourceFile,
    offset: usize,
) -> Option<(Range<usize>, Vec<TemplateCompletionItem>)> {
    let text = file.text();
    if offset > text.len() || !text.is_char_boundary(offset) {
        return None;
    }
    let word_start = end_of_last_non_word(&text[..offset]);
    let replace = word_start..offset;
    let before = &text[..word_start];

    // `Family.|`: the templates of that family.
    if let Some(family_text) = before.strip_suffix('.') {
        let family_start = end_of_last_non_word(family_text);
        let family = &family_text[family_start..];
        if !catalog.is_family(family) {
            return None;
        }
        let items = catalog
            .templates_of(family)
            .map(|entry| TemplateCompletionItem {
                label: entry.template.name.clone(),
                kind: TemplateItemKind::Template,
                detail: signature_label(entry),
                documentation: template_markdown(entry),
                insert_text: entry.template.name.clone(),
            })
            .collect();
        return Some((replace, items));
    }

    // Inside the argument list, at a name position: the parameters not given yet.
    if let Some(call) = template_call_at(file, offset)
        && call.arguments_range.start < offset
        && offset < call.arguments_range.end
    {
        let entry = catalog.find(&call.family, &call.name)?;
        let previous = before.trim_end();
        if !(previous.ends_with('(') || previous.ends_with(',')) {
            return None;
        }
        let given: Vec<&str> = call
            .arguments
            .iter()
            .filter_map(|argument| argument.name.as_ref())
            .filter(|(_, range)| range.end < word_start || range.start > offset)
            .filter_map(|(name, _)| entry.template.resolve_parameter(name))
            .map(|param| param.name.as_str())
            .collect();
        let items = sorted_parameters(&entry.template)
            .into_iter()
            .filter(|param| !given.contains(&param.name.as_str()))
            .map(|param| TemplateCompletionItem {
                label: param.name.clone(),
                kind: TemplateItemKind::Parameter,
                detail: format!(
                    "{}{}",
                    param.param_type.map_or("str", ParamType::name),
                    if param.is_required() {
                        ", required"
                    } else {
                        ""
                    }
                ),
                documentation: parameter_markdown(param),
                insert_text: format!("{}=", param.name),
            })
            .collect();
        return Some((replace, items));
    }

    // The start of a query: family names, to be merged with tables and `let` names.
    let previous = before.trim_end();
    let gap = &before[previous.len()..];
    let after_blank_line = gap.matches('\n').count() >= 2;
    let at_query_start = previous.is_empty()
        || after_blank_line
        || previous.ends_with(';')
        || previous.ends_with('(')
        || previous.ends_with('=')
        || previous.ends_with(',');
    if !at_query_start {
        return None;
    }
    let items = catalog
        .families()
        .map(|family| TemplateCompletionItem {
            label: family.to_owned(),
            kind: TemplateItemKind::Family,
            detail: format!(
                "template family, {} templates",
                catalog.templates_of(family).count()
            ),
            documentation: format!(
                "Query templates of the `{family}` family; type `.` for the list."
            ),
            insert_text: family.to_owned(),
        })
        .collect();
    Some((replace, items))
}

/// Signature help for the template call around `offset`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TemplateSignature {
    pub label: String,
    pub documentation: String,
    /// Each parameter's byte range within `label`, with its documentation.
    pub parameters: Vec<(Range<usize>, String)>,
    /// The parameter the cursor's argument names, else the first not given whose name starts
    /// with the word being typed, else the first not given (required ones come first).
    pub active_parameter: Option<usize>,
}

/// Returns `Family.name(p1: type, p2: type = default, ...)` with required parameters first.
pub fn signature_label(entry: &CatalogEntry) -> String {
    signature_parts(entry).0
}

fn signature_parts(entry: &CatalogEntry) -> (String, Vec<(Range<usize>, String)>) {
    let mut label = format!("{}(", entry.qualified_name());
    let mut parameters = Vec::new();
    for (index, param) in sorted_parameters(&entry.template).into_iter().enumerate() {
        if index > 0 {
            label.push_str(", ");
        }
        let start = label.len();
        label.push_str(&param.name);
        label.push_str(": ");
        label.push_str(param.param_type.map_or("str", ParamType::name));
        if let Some(value) = param.default.as_ref().and_then(ArgValue::from_node) {
            label.push_str(" = ");
            label.push_str(&abbreviate(&default_text(&value)));
        }
        parameters.push((start..label.len(), parameter_markdown(param)));
    }
    label.push(')');
    (label, parameters)
}

pub fn template_signature(
    catalog: &TemplateCatalog,
    file: &SourceFile,
    offset: usize,
) -> Option<TemplateSignature> {
    let call = template_call_at(file, offset)?;
    if offset <= call.arguments_range.start || offset >= call.arguments_range.end {
        return None;
    }
    let entry = catalog.find(&call.family, &call.name)?;
    let (label, parameters) = signature_parts(entry);
    let sorted = sorted_parameters(&entry.template);
    let current = call
        .arguments
        .iter()
        .find(|argument| argument.range.start <= offset && offset <= argument.range.end)
        .and_then(|argument| argument.name.as_ref())
        .and_then(|(name, _)| entry.template.resolve_parameter(name));
    // A bare word being typed at the cursor, such as `en` on the way to `end=`.
    let typed_name = call
        .arguments
        .iter()
        .find(|argument| argument.range.start <= offset && offset <= argument.range.end)
        .filter(|argument| argument.name.is_none())
        .map(|argument| file.text()[argument.range.start..offset].trim())
        .filter(|word| {
            !word.is_empty() && word.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        });
    let active_parameter = match current {
        Some(param) => sorted
            .iter()
            .position(|candidate| candidate.name == param.name),
        None => {
            let given: Vec<&str> = call
                .arguments
                .iter()
                .filter_map(|argument| argument.name.as_ref())
                .filter_map(|(name, _)| entry.template.resolve_parameter(name))
                .map(|param| param.name.as_str())
                .collect();
            let not_given = |param: &&Parameter| !given.contains(&param.name.as_str());
            typed_name
                .and_then(|word| {
                    sorted
                        .iter()
                        .position(|param| not_given(param) && param.name.starts_with(word))
                })
                .or_else(|| sorted.iter().position(not_given))
        }
    };
    Some(TemplateSignature {
        label,
        documentation: entry.template.description.clone(),
        parameters,
        active_parameter,
    })
}

#[cfg(test)]
#[path = "templates_tests.rs"]
mod tests;
