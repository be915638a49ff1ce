//! MSTICPy template files: the file model and how each query is assembled from it.
//!
//! A file has file-wide `metadata`, optional `defaults` (`metadata` and `parameters`) and
//! `sources`, one entry per query. Each query's metadata is the deep merge of the file metadata,
//! the default metadata and its own metadata, later ones winning. Its parameters are the deep
//! merge of the default parameters and its own, so a query can override only the `default` of
//! a parameter and keep the description and type from `defaults` (msticpy 3.0.2,
//! `QuerySource.__init__` with `collapse_dicts`).

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::problem::{LineIndex, Problem, ProblemSink};
use crate::schema;
use crate::yaml::{self, Node, Value};

/// The declared type of a template parameter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ParamType {
    Str,
    Datetime,
    Int,
    Float,
    List,
}

impl ParamType {
    pub const NAMES: [&'static str; 5] = ["str", "datetime", "int", "float", "list"];

    pub fn parse(name: &str) -> Option<ParamType> {
        match name {
            "str" => Some(ParamType::Str),
            "datetime" => Some(ParamType::Datetime),
            "int" => Some(ParamType::Int),
            "float" => Some(ParamType::Float),
            "list" => Some(ParamType::List),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            ParamType::Str => "str",
            ParamType::Datetime => "datetime",
            ParamType::Int => "int",
            ParamType::Float => "float",
            ParamType::List => "list",
        }
    }
}

/// A parameter of one query after merging `defaults.parameters` with the query's own.
#[derive(Clone, Debug, PartialEq)]
pub struct Parameter {
    pub name: String,
    /// The key that declares the parameter: in the query when the query declares it, else in
    /// `defaults.parameters`.
    pub name_span: Range<usize>,
    /// The type, or `None` when `type` is missing or not one of the five names.
    pub param_type: Option<ParamType>,
    /// Whether the merged definition has a `type` key at all.
    pub type_declared: bool,
    pub description: Option<String>,
    /// The default value. `Some(Null)` (written `default:` or `default: null`) counts as no
    /// value when rendering, as in MSTICPy.
    pub default: Option<Node>,
    pub aliases: Vec<String>,
    /// A Python format string applied to the value (`"{}"`), an undocumented MSTICPy option.
    pub format: Option<String>,
}

impl Parameter {
    /// Returns whether a value must be supplied: there is no usable default.
    pub fn is_required(&self) -> bool {
        self.default.as_ref().is_none_or(Node::is_null)
    }
}

/// One query template, assembled as MSTICPy assembles a `QuerySource`.
#[derive(Clone, Debug, PartialEq)]
pub struct Template {
    pub name: String,
    pub name_span: Range<usize>,
    pub path: Arc<PathBuf>,
    pub description: String,
    /// The merged metadata (file, defaults, query).
    pub metadata: Node,
    /// Data families from the merged metadata; the template is listed under each.
    pub families: Vec<String>,
    /// Data environments from the file metadata (MSTICPy reads them from the file only).
    pub environments: Vec<String>,
    pub parameters: Vec<Parameter>,
    /// The query text after `$<macro>$` substitution.
    pub query: String,
    /// Byte range of the `args.query` value in the file.
    pub query_span: Range<usize>,
    pub uri: Option<String>,
    /// Names defined under the query's `query_macros`.
    pub macro_names: Vec<String>,
}

impl Template {
    pub fn parameter(&self, name: &str) -> Option<&Parameter> {
        self.parameters.iter().find(|param| param.name == name)
    }

    /// Returns the parameter named `name`, or the first one that lists `name` as an alias.
    pub fn resolve_parameter(&self, name: &str) -> Option<&Parameter> {
        self.parameter(name).or_else(|| {
            self.parameters
                .iter()
                .find(|param| param.aliases.iter().any(|alias| alias == name))
        })
    }

    /// Returns each `{name}` field of the query with its byte range in the file text, for
    /// hover and diagnostics. Fields are matched in order to their spelling in the YAML source of
    /// `args.query`.
    ///
    /// NOTE: a field whose braces the YAML source splits across a line fold, or spells with an
    /// escape such as `\x7b`, is not found and gets the range of the whole query value.
    pub fn field_spans(&self, file_text: &str) -> Vec<(String, Range<usize>)> {
        let source = file_text.get(self.query_span.clone()).unwrap_or_default();
        let Ok(pieces) = crate::pyformat::parse(&self.query) else {
            return Vec::new();
        };
        let mut search_from = 0;
        let mut spans = Vec::new();
        for piece in pieces {
            let crate::pyformat::Piece::Field { name, span, .. } = piece else {
                continue;
            };
            let spelling = &self.query[span];
            let range = match source[search_from..].find(spelling) {
                Some(offset) => {
                    let start = search_from + offset;
                    search_from = start + spelling.len();
                    let file_start = self.query_span.start + start;
                    file_start..file_start + spelling.len()
                }
                None => self.query_span.clone(),
            };
            spans.push((name, range));
        }
        spans
    }

    /// Returns `Family.name` for each family of the template.
    pub fn qualified_names(&self) -> Vec<String> {
        self.families
            .iter()
            .map(|family| format!("{family}.{}", self.name))
            .collect()
    }
}

/// A loaded template file: its parse tree, its templates and its problems.
#[derive(Clone, Debug)]
pub struct TemplateFile {
    pub path: Arc<PathBuf>,
    pub text: String,
    pub lines: LineIndex,
    /// The parse tree, or `None` when the YAML is invalid.
    pub root: Option<Node>,
    pub templates: Vec<Template>,
    pub problems: Vec<Problem>,
}

impl TemplateFile {
    /// Returns whether the file has no errors (warnings allowed).
    pub fn is_valid(&self) -> bool {
        self.problems
            .iter()
            .all(|problem| problem.severity != crate::Severity::Error)
    }

    /// Reads and loads a template file.
    pub fn read(path: &Path) -> std::io::Result<TemplateFile> {
        let text = std::fs::read_to_string(path)?;
        Ok(TemplateFile::parse(path, text))
    }

    /// Loads a template file from text, collecting problems instead of failing.
    pub fn parse(path: &Path, text: String) -> TemplateFile {
        let path = Arc::new(path.to_path_buf());
        let lines = LineIndex::new(&text);
        let mut sink = ProblemSink {
            path: &path,
            text: &text,
            lines: &lines,
            problems: Vec::new(),
        };
        let root = match yaml::parse(&text) {
            Ok(root) => Some(root),
            Err(error) => {
                sink.error(
                    error.offset..error.offset,
                    format!(
                        "invalid YAML: {}; fix the syntax at this position",
                        error.message
                    ),
                );
                None
            }
        };
        let mut templates = Vec::new();
        if let Some(root) = root
            .as_ref()
            .filter(|root| crate::sentinel::is_sentinel_file(root))
        {
            templates = crate::sentinel::assemble(root, &path, &mut sink);
        } else if let Some(root) = &root {
            schema::check_file(root, &mut sink);
            templates = assemble_templates(root, &path, &mut sink);
            for template in &templates {
                crate::validate::check_template(template, &mut sink);
            }
        }
        let mut problems = sink.problems;
        problems.sort_by_key(|problem| (problem.range.start, problem.severity));
        TemplateFile {
            path,
            text,
            lines,
            root,
            templates,
            problems,
        }
    }
}

/// Merges two YAML mappings as MSTICPy's `_merge_dicts` does: keys of both, nested mappings
/// merged recursively, a value in `high` replacing one in `low`. An empty or null side yields the
/// other side.
pub fn merge_nodes(low: &Node, high: &Node) -> Node {
    let (Some(low_entries), Some(high_entries)) = (low.as_map(), high.as_map()) else {
        if high.is_falsy() || high.as_map().is_none() {
            return if low.as_map().is_some() {
                low.clone()
            } else {
                empty_map(low.span.clone())
            };
        }
        return high.clone();
    };
    if high_entries.is_empty() {
        return low.clone();
    }
    if low_entries.is_empty() {
        return high.clone();
    }
    let mut merged: Vec<(Node, Node)> = Vec::new();
    for (key, low_value) in last_entries(low_entries) {
        let text = key.key_text();
        let high_entry = last_entries(high_entries)
            .into_iter()
            .find(|(high_key, _)| high_key.key_text() == text);
        let value = match high_entry {
            Some((_, high_value))
                if low_value.as_map().is_some() && high_value.as_map().is_some() =>
            {
                merge_nodes(low_value, high_value)
            }
            Some((high_key, high_value)) => {
                merged.push((high_key.clone(), high_value.clone()));
                continue;
            }
            None => low_value.clone(),
        };
        merged.push((key.clone(), value));
    }
    for (key, value) in last_entries(high_entries) {
        let text = key.key_text();
        if !merged
            .iter()
            .any(|(existing, _)| existing.key_text() == text)
        {
            merged.push((key.clone(), value.clone()));
        }
    }
    Node::new(Value::Map(merged), high.span.clone())
}

/// Returns the entries with duplicate keys removed, keeping the last value of each key in the
/// position of its first occurrence, as a Python dict built from YAML does.
fn last_entries(entries: &[(Node, Node)]) -> Vec<(&Node, &Node)> {
    let mut out: Vec<(&Node, &Node)> = Vec::new();
    for (key, value) in entries {
        let text = key.key_text();
        match out
            .iter_mut()
            .find(|(existing, _)| existing.key_text() == text)
        {
            Some(slot) => slot.1 = value,
            None => out.push((key, value)),
        }
    }
    out
}

fn empty_map(span: Range<usize>) -> Node {
    Node::new(Value::Map(Vec::new()), span.start..span.start)
}

fn null_node() -> Node {
    Node::new(Value::Null, 0..0)
}

fn string_list(node: Option<&Node>) -> Vec<String> {
    match node.map(|node| &node.value) {
        Some(Value::Seq(items)) => items.iter().filter_map(|item| item.key_text()).collect(),
        Some(Value::Str(text)) => vec![text.clone()],
        _ => Vec::new(),
    }
}

fn assemble_templates(
    root: &Node,
    path: &Arc<PathBuf>,
    sink: &mut ProblemSink<'_>,
) -> Vec<Template> {
    let Some(sources) = root.get("sources").and_then(Node::as_map) else {
        return Vec::new();
    };
    let file_metadata = root.get("metadata").cloned().unwrap_or_else(null_node);
    let defaults = root.get("defaults").cloned().unwrap_or_else(null_node);
    let default_metadata = defaults.get("metadata").cloned().unwrap_or_else(null_node);
    let default_parameters = defaults
        .get("parameters")
        .cloned()
        .unwrap_or_else(null_node);
    let environments = string_list(file_metadata.get("data_environments"));

    let mut templates = Vec::new();
    for (key, source) in last_entries(sources) {
        let Some(name) = key.key_text() else { continue };
        if source.as_map().is_none() {
            continue;
        }
        let source_metadata = source.get("metadata").cloned().unwrap_or_else(null_node);
        let metadata = merge_nodes(
            &merge_nodes(&file_metadata, &default_metadata),
            &source_metadata,
        );
        let source_parameters = source.get("parameters").cloned().unwrap_or_else(null_node);
        let parameters = merge_nodes(&default_parameters, &source_parameters);

        let Some(query_node) = source.get("args").and_then(|args| args.get("query")) else {
            // The schema check reports the missing query.
            continue;
        };
        let Some(raw_query) = query_node.as_str() else {
            continue;
        };
        let query = substitute_macros(raw_query, source);
        let uri = source
            .get("args")
            .and_then(|args| args.get("uri"))
            .and_then(|uri| uri.key_text());

        let description = source
            .get("description")
            .and_then(Node::as_str)
            .unwrap_or("no description")
            .to_string();
        let families = string_list(metadata.get("data_families"));
        if families.is_empty() {
            sink.error(
                key.span.clone(),
                format!(
                    "query `{name}` has no data families; add `data_families` to the file metadata or the query metadata"
                ),
            );
        }
        templates.push(Template {
            name,
            name_span: key.span.clone(),
            path: path.clone(),
            description,
            families,
            environments: environments.clone(),
            parameters: collect_parameters(&parameters, source),
            metadata,
            query,
            query_span: query_node.span.clone(),
            uri,
            macro_names: source
                .get("query_macros")
                .and_then(Node::as_map)
                .map(|macros| {
                    macros
                        .iter()
                        .filter_map(|(key, _)| key.key_text())
                        .collect()
                })
                .unwrap_or_default(),
        });
    }
    templates
}

fn collect_parameters(parameters: &Node, source: &Node) -> Vec<Parameter> {
    let own = source.get("parameters");
    let Some(entries) = parameters.as_map() else {
        return Vec::new();
    };
    last_entries(entries)
        .into_iter()
        .filter_map(|(key, value)| {
            let name = key.key_text()?;
            let name_span = own
                .and_then(|own| own.entry(&name))
                .map_or(key.span.clone(), |(own_key, _)| own_key.span.clone());
            Some(Parameter {
                type_declared: value.get("type").is_some(),
                param_type: value
                    .get("type")
                    .and_then(Node::as_str)
                    .and_then(ParamType::parse),
                description: value.get("description").and_then(Node::key_text),
                default: value.get("default").cloned(),
                aliases: string_list(value.get("aliases")),
                format: value
                    .get("format")
                    .and_then(Node::as_str)
                    .map(str::to_string),
                name,
                name_span,
            })
        })
        .collect()
}

/// Replaces `$<name>$` with the query's macro values, as MSTICPy's `_replace_query_macros`
/// does: a macro without a value, or not defined, becomes the empty string, and when the query
/// mentions any macro, runs of two or more newlines then collapse to one.
pub fn substitute_macros(query: &str, source: &Node) -> String {
    let names = macro_references(query);
    if names.is_empty() {
        return query.to_string();
    }
    let macros = source.get("query_macros");
    let mut out = query.to_string();
    for name in names {
        let replacement = macros
            .and_then(|macros| macros.get(&name))
            .and_then(|definition| definition.get("value"))
            .map(|value| yaml::python_str(&value.value))
            .unwrap_or_default();
        out = out.replace(&format!("$<{name}>$"), &replacement);
    }
    collapse_newline_runs(&out)
}

/// Returns the names of `$<name>` references (the closing `$` is optional, as in MSTICPy's
/// pattern `\$\<([^>]+)\>\$?`).
pub fn macro_references(query: &str) -> Vec<String> {
    macro_reference_spans(query)
        .into_iter()
        .map(|(name, _)| name)
        .collect()
}

/// Returns each macro reference name with the byte range of the whole `$<name>$` reference.
pub fn macro_reference_spans(query: &str) -> Vec<(String, Range<usize>)> {
    let mut out = Vec::new();
    let mut index = 0;
    while let Some(found) = query[index..].find("$<") {
        let start = index + found;
        let name_start = start + 2;
        match query[name_start..].find('>') {
            Some(length) if length > 0 => {
                let name_end = name_start + length;
                let mut end = name_end + 1;
                if query[end..].starts_with('$') {
                    end += 1;
                }
                out.push((query[name_start..name_end].to_string(), start..end));
                index = end;
            }
            _ => index = name_start,
        }
    }
    out
}

fn collapse_newline_runs(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut previous_newline = false;
    for ch in text.chars() {
        if ch == '\n' && previous_newline {
            continue;
        }
        previous_newline = ch == '\n';
        out.push(ch);
    }
    out
}
