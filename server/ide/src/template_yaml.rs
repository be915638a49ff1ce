//! Editor features inside template YAML files: MSTICPy query template files (a top-level
//! `sources` mapping) and Microsoft Sentinel hunting queries and analytics rules (a top-level
//! `query` with `id` or `name`).
//!
//! In MSTICPy files, `{param}` fields in a query get hover and completion from the template's
//! parameters, and the loader's problems become diagnostics. In Sentinel files, the KQL in
//! `query` gets Quarry's diagnostics, hover and completion at their places in the YAML text,
//! and the metadata (tactics, MITRE ATT&CK technique ids, data connectors, entity mappings)
//! shows in hover.

use std::ops::Range;
use std::path::Path;

use quarry_templates::yaml::{self, Node};
use quarry_templates::{Severity as ProblemSeverity, Template, TemplateFile};

use crate::completion::{CompletionItem, CompletionKind, Completions};
use crate::diagnostics::{Diagnostic, Severity};
use crate::hover::HoverResult;
use crate::templates::{CatalogEntry, parameter_markdown, template_markdown};
use crate::{Analysis, SourceFile};

/// Code of the diagnostics for problems in template YAML files.
pub const YAML_PROBLEM: &str = "TPL100";

/// The kind of template YAML a text holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum YamlKind {
    /// MSTICPy query templates: `metadata`, `defaults`, `sources`.
    Msticpy,
    /// A Sentinel hunting query or analytics rule: `id`, `name`, `query`, ...
    Sentinel,
}

/// Returns the kind of template YAML in `text`, judged by its top-level keys, or `None` for
/// text that is not such a file.
pub fn yaml_kind(text: &str) -> Option<YamlKind> {
    let top_level = |key: &str| {
        text.lines().any(|line| {
            line.strip_prefix(key)
                .is_some_and(|rest| rest.starts_with(':'))
        })
    };
    if top_level("sources") && top_level("metadata") {
        Some(YamlKind::Msticpy)
    } else if top_level("query") && (top_level("id") || top_level("name")) {
        Some(YamlKind::Sentinel)
    } else {
        None
    }
}

/// The KQL of a Sentinel file's `query` value, with the map from its offsets to the file's.
#[derive(Clone, Debug)]
pub struct EmbeddedQuery {
    pub file: SourceFile,
    /// Runs of text that are the same in the query and the file: (query start, file start,
    /// length), in order.
    segments: Vec<(usize, usize, usize)>,
}

impl EmbeddedQuery {
    /// Finds each line of `query` in the file text inside `span`, in order.
    fn new(query: &str, text: &str, span: Range<usize>) -> EmbeddedQuery {
        let mut segments = Vec::new();
        let mut search_from = span.start;
        let mut query_offset = 0;
        for line in query.split_inclusive('\n') {
            let content = line.trim_end_matches(['\n', '\r']);
            if !content.is_empty()
                && let Some(found) = text
                    .get(search_from..span.end.max(search_from))
                    .and_then(|rest| rest.find(content))
            {
                let file_start = search_from + found;
                segments.push((query_offset, file_start, content.len()));
                search_from = file_start + content.len();
            }
            query_offset += line.len();
        }
        EmbeddedQuery {
            file: SourceFile::parse(query),
            segments,
        }
    }

    /// Maps a query offset to the file; an offset between runs maps to the end of the run
    /// before it.
    pub fn to_file(&self, offset: usize) -> usize {
        let mut mapped = self.segments.first().map_or(0, |(_, file, _)| *file);
        for &(query_start, file_start, length) in &self.segments {
            if offset < query_start {
                break;
            }
            mapped = file_start + (offset - query_start).min(length);
        }
        mapped
    }

    /// Maps a file offset into the query, when it falls inside a run.
    pub fn to_query(&self, offset: usize) -> Option<usize> {
        self.segments
            .iter()
            .find(|(_, file_start, length)| *file_start <= offset && offset <= file_start + length)
            .map(|(query_start, file_start, _)| query_start + (offset - file_start))
    }

    fn range_to_file(&self, range: Range<usize>) -> Range<usize> {
        let start = self.to_file(range.start);
        start..self.to_file(range.end).max(start)
    }
}

/// A Sentinel hunting query or analytics rule file.
#[derive(Clone, Debug)]
pub struct SentinelFile {
    pub root: Option<Node>,
    pub query: Option<EmbeddedQuery>,
    /// Problems in the file itself: invalid YAML, missing fields, malformed technique ids.
    pub problems: Vec<(Range<usize>, String)>,
}

impl SentinelFile {
    pub fn parse(text: &str) -> SentinelFile {
        let root = match yaml::parse(text) {
            Ok(root) => root,
            Err(error) => {
                return SentinelFile {
                    root: None,
                    query: None,
                    problems: vec![(
                        error.offset..error.offset,
                        format!(
                            "invalid YAML: {}; fix the syntax at this position",
                            error.message
                        ),
                    )],
                };
            }
        };
        let mut problems = Vec::new();
        for key in ["id", "name", "description", "query"] {
            if root.get(key).is_none() {
                problems.push((0..0, format!("the `{key}` field is missing")));
            }
        }
        if let Some(techniques) = root.get("relevantTechniques").and_then(Node::as_seq) {
            for technique in techniques {
                match technique.as_str() {
                    Some(id) if quarry_templates::sentinel::is_technique_id(id) => {}
                    _ => problems.push((
                        technique.span.clone(),
                        "a MITRE ATT&CK technique id looks like T1110 or T1110.003".to_owned(),
                    )),
                }
            }
        }
        let query = root.get("query").and_then(|node| {
            node.as_str()
                .map(|query| EmbeddedQuery::new(query, text, node.span.clone()))
        });
        SentinelFile {
            root: Some(root),
            query,
            problems,
        }
    }
}

/// Diagnostics for a template YAML file: the loader's problems for MSTICPy files, and for
/// Sentinel files the problems of the file plus Quarry's KQL diagnostics of the query.
pub fn yaml_diagnostics(analysis: &Analysis, path: &Path, text: &str) -> Vec<Diagnostic> {
    match yaml_kind(text) {
        None => Vec::new(),
        Some(YamlKind::Msticpy) => TemplateFile::parse(path, text.to_owned())
            .problems
            .into_iter()
            .map(|problem| Diagnostic {
                range: problem.range,
                code: YAML_PROBLEM.to_owned(),
                message: problem.message,
                help: None,
                severity: match problem.severity {
                    ProblemSeverity::Error => Severity::Error,
                    ProblemSeverity::Warning => Severity::Warning,
                },
                fixes: Vec::new(),
            })
            .collect(),
        Some(YamlKind::Sentinel) => {
            let file = SentinelFile::parse(text);
            let mut diagnostics: Vec<Diagnostic> = file
                .problems
                .into_iter()
                .map(|(range, message)| Diagnostic {
                    range,
                    code: YAML_PROBLEM.to_owned(),
                    message,
                    help: None,
                    severity: Severity::Warning,
                    fixes: Vec::new(),
                })
                .collect();
            if let Some(query) = &file.query {
                diagnostics.extend(analysis.diagnostics(&query.file).into_iter().map(
                    |mut diagnostic| {
                        diagnostic.range = query.range_to_file(diagnostic.range);
                        diagnostic.fixes.clear();
                        diagnostic
                    },
                ));
            }
            diagnostics.sort_by_key(|diagnostic| diagnostic.range.start);
            diagnostics
        }
    }
}

/// Hover in a template YAML file.
pub fn yaml_hover(
    analysis: &Analysis,
    path: &Path,
    text: &str,
    offset: usize,
) -> Option<HoverResult> {
    match yaml_kind(text)? {
        YamlKind::Msticpy => msticpy_hover(path, text, offset),
        YamlKind::Sentinel => sentinel_hover(analysis, text, offset),
    }
}

/// Completion in a template YAML file.
pub fn yaml_completions(
    analysis: &Analysis,
    path: &Path,
    text: &str,
    offset: usize,
) -> Option<Completions> {
    match yaml_kind(text)? {
        YamlKind::Msticpy => msticpy_completions(path, text, offset),
        YamlKind::Sentinel => {
            let file = SentinelFile::parse(text);
            let query = file.query?;
            let query_offset = query.to_query(offset)?;
            let mut completions = analysis.completions(&query.file, query_offset)?;
            completions.replace = query.range_to_file(completions.replace);
            Some(completions)
        }
    }
}

fn template_at(file: &TemplateFile, offset: usize) -> Option<&Template> {
    file.templates
        .iter()
        .find(|template| template.query_span.start <= offset && offset <= template.query_span.end)
}

fn msticpy_hover(path: &Path, text: &str, offset: usize) -> Option<HoverResult> {
    let file = TemplateFile::parse(path, text.to_owned());
    if let Some(template) = file
        .templates
        .iter()
        .find(|template| template.name_span.start <= offset && offset <= template.name_span.end)
    {
        let entry = CatalogEntry {
            family: template.families.first().cloned().unwrap_or_default(),
            template: template.clone(),
        };
        return Some(HoverResult {
            range: template.name_span.clone(),
            markdown: template_markdown(&entry),
        });
    }
    let template = template_at(&file, offset)?;
    let (name, range) = template
        .field_spans(text)
        .into_iter()
        .find(|(_, range)| range.start <= offset && offset <= range.end && range.len() < 200)?;
    let markdown = match template.parameter(&name) {
        Some(param) => parameter_markdown(param),
        None => format!(
            "**`{{{name}}}`** is not a declared parameter of `{}`; declare it under `parameters`",
            template.name
        ),
    };
    Some(HoverResult { range, markdown })
}

fn msticpy_completions(path: &Path, text: &str, offset: usize) -> Option<Completions> {
    let before = text.get(..offset)?;
    let word_start = before
        .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .map_or(0, |index| index + 1);
    if !before[..word_start].ends_with('{') || before[..word_start].ends_with("{{") {
        return None;
    }
    let file = TemplateFile::parse(path, text.to_owned());
    let template = template_at(&file, offset)?;
    let items = template
        .parameters
        .iter()
        .map(|param| CompletionItem {
            label: param.name.clone(),
            kind: CompletionKind::Variable,
            detail: format!(
                "template parameter: {}{}",
                param
                    .param_type
                    .map_or("str", quarry_templates::ParamType::name),
                if param.is_required() {
                    ", required"
                } else {
                    ""
                }
            ),
            documentation: parameter_markdown(param),
            sort_text: format!("0{}", param.name),
            snippet: None,
        })
        .collect();
    Some(Completions {
        replace: word_start..offset,
        items,
    })
}

fn sentinel_hover(analysis: &Analysis, text: &str, offset: usize) -> Option<HoverResult> {
    let file = SentinelFile::parse(text);
    if let Some(query) = &file.query
        && let Some(query_offset) = query.to_query(offset)
    {
        let mut hover = analysis.hover(&query.file, query_offset)?;
        hover.range = query.range_to_file(hover.range);
        return Some(hover);
    }
    let root = file.root.as_ref()?;
    if let Some(techniques) = root.get("relevantTechniques").and_then(Node::as_seq)
        && let Some(technique) = techniques
            .iter()
            .find(|node| node.span.start <= offset && offset <= node.span.end)
    {
        let id = technique.as_str()?;
        let name = technique_name(id);
        let markdown = match name {
            Some(name) => format!("**MITRE ATT&CK {id}**: {name}\n\n{}", rule_summary(root)),
            None => format!("**MITRE ATT&CK {id}**\n\n{}", rule_summary(root)),
        };
        return Some(HoverResult {
            range: technique.span.clone(),
            markdown,
        });
    }
    let (key, _) = root.as_map()?.iter().find(|(key, value)| {
        key.span.start <= offset && offset <= value.span.end.max(key.span.end)
    })?;
    Some(HoverResult {
        range: key.span.clone(),
        markdown: rule_summary(root),
    })
}

/// Describes a Sentinel rule or hunting query: name, id, kind, severity, tactics, techniques,
/// data connectors and entity mappings.
pub fn rule_summary(root: &Node) -> String {
    let text = |key: &str| root.get(key).and_then(Node::as_str).map(str::trim);
    let list = |key: &str| -> Vec<String> {
        root.get(key)
            .and_then(Node::as_seq)
            .map(|items| {
                items
                    .iter()
                    .filter_map(|item| item.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut out = format!("**{}**", text("name").unwrap_or("(no name)"));
    let kind = if root.get("queryFrequency").is_some() || root.get("triggerOperator").is_some() {
        "analytics rule"
    } else {
        "hunting query"
    };
    out.push_str(&format!(" ({kind})"));
    if let Some(id) = text("id") {
        out.push_str(&format!("\n\nid `{id}`"));
    }
    if let Some(description) = text("description") {
        out.push_str(&format!("\n\n{description}"));
    }
    if let Some(severity) = text("severity") {
        out.push_str(&format!("\n\nSeverity: {severity}"));
    }
    for (key, label) in [
        ("queryFrequency", "Runs every"),
        ("queryPeriod", "Looks back"),
    ] {
        if let Some(value) = text(key) {
            out.push_str(&format!("\n\n{label}: {value}"));
        }
    }
    let tactics = list("tactics");
    if !tactics.is_empty() {
        out.push_str(&format!("\n\nTactics: {}", tactics.join(", ")));
    }
    let techniques: Vec<String> = list("relevantTechniques")
        .into_iter()
        .map(|id| match technique_name(&id) {
            Some(name) => format!("{id} ({name})"),
            None => id,
        })
        .collect();
    if !techniques.is_empty() {
        out.push_str(&format!("\n\nTechniques: {}", techniques.join(", ")));
    }
    let connectors = data_connectors(root);
    if !connectors.is_empty() {
        out.push_str(&format!("\n\nData connectors: {}", connectors.join("; ")));
    }
    let entities = entity_mappings(root);
    if !entities.is_empty() {
        out.push_str(&format!("\n\nEntities: {}", entities.join("; ")));
    }
    out
}

/// Returns each required data connector as `connectorId (data types)`.
fn data_connectors(root: &Node) -> Vec<String> {
    root.get("requiredDataConnectors")
        .and_then(Node::as_seq)
        .map(|items| {
            items
                .iter()
                .map(|item| {
                    let connector = item
                        .get("connectorId")
                        .and_then(Node::as_str)
                        .unwrap_or("?");
                    let types: Vec<&str> = item
                        .get("dataTypes")
                        .and_then(Node::as_seq)
                        .map(|types| types.iter().filter_map(Node::as_str).collect())
                        .unwrap_or_default();
                    format!("{connector} ({})", types.join(", "))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Returns each entity mapping as `EntityType (identifier = column, ...)`.
fn entity_mappings(root: &Node) -> Vec<String> {
    root.get("entityMappings")
        .and_then(Node::as_seq)
        .map(|items| {
            items
                .iter()
                .map(|item| {
                    let entity = item.get("entityType").and_then(Node::as_str).unwrap_or("?");
                    let columns: Vec<String> = item
                        .get("fieldMappings")
                        .and_then(Node::as_seq)
                        .map(|fields| {
                            fields
                                .iter()
                                .map(|field| {
                                    format!(
                                        "{} = {}",
                                        field
                                            .get("identifier")
                                            .and_then(Node::as_str)
                                            .unwrap_or("?"),
                                        field
                                            .get("columnName")
                                            .and_then(Node::as_str)
                                            .unwrap_or("?")
                                    )
                                })
                                .collect()
                        })
                        .unwrap_or_default();
                    format!("{entity} ({})", columns.join(", "))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Returns the name of a MITRE ATT&CK (Enterprise) technique or sub-technique that hunting
/// content often cites. The list is partial; other ids return `None`.
pub fn technique_name(id: &str) -> Option<&'static str> {
    Some(match id {
        "T1003" => "OS Credential Dumping",
        "T1003.001" => "OS Credential Dumping: LSASS Memory",
        "T1003.006" => "OS Credential Dumping: DCSync",
        "T1021" => "Remote Services",
        "T1021.001" => "Remote Services: Remote Desktop Protocol",
        "T1021.002" => "Remote Services: SMB/Windows Admin Shares",
        "T1027" => "Obfuscated Files or Information",
        "T1036" => "Masquerading",
        "T1046" => "Network Service Discovery",
        "T1047" => "Windows Management Instrumentation",
        "T1053" => "Scheduled Task/Job",
        "T1053.005" => "Scheduled Task/Job: Scheduled Task",
        "T1059" => "Command and Scripting Interpreter",
        "T1059.001" => "Command and Scripting Interpreter: PowerShell",
        "T1059.003" => "Command and Scripting Interpreter: Windows Command Shell",
        "T1068" => "Exploitation for Privilege Escalation",
        "T1069" => "Permission Groups Discovery",
        "T1070" => "Indicator Removal",
        "T1070.001" => "Indicator Removal: Clear Windows Event Logs",
        "T1071" => "Application Layer Protocol",
        "T1071.001" => "Application Layer Protocol: Web Protocols",
        "T1078" => "Valid Accounts",
        "T1078.004" => "Valid Accounts: Cloud Accounts",
        "T1087" => "Account Discovery",
        "T1098" => "Account Manipulation",
        "T1105" => "Ingress Tool Transfer",
        "T1110" => "Brute Force",
        "T1110.001" => "Brute Force: Password Guessing",
        "T1110.003" => "Brute Force: Password Spraying",
        "T1114" => "Email Collection",
        "T1114.003" => "Email Collection: Email Forwarding Rule",
        "T1133" => "External Remote Services",
        "T1136" => "Create Account",
        "T1190" => "Exploit Public-Facing Application",
        "T1218" => "System Binary Proxy Execution",
        "T1482" => "Domain Trust Discovery",
        "T1484" => "Domain or Tenant Policy Modification",
        "T1485" => "Data Destruction",
        "T1486" => "Data Encrypted for Impact",
        "T1528" => "Steal Application Access Token",
        "T1543.003" => "Create or Modify System Process: Windows Service",
        "T1547.001" => "Boot or Logon Autostart Execution: Registry Run Keys / Startup Folder",
        "T1548" => "Abuse Elevation Control Mechanism",
        "T1550" => "Use Alternate Authentication Material",
        "T1556" => "Modify Authentication Process",
        "T1558" => "Steal or Forge Kerberos Tickets",
        "T1558.003" => "Steal or Forge Kerberos Tickets: Kerberoasting",
        "T1566" => "Phishing",
        "T1566.001" => "Phishing: Spearphishing Attachment",
        "T1566.002" => "Phishing: Spearphishing Link",
        "T1567" => "Exfiltration Over Web Service",
        "T1568" => "Dynamic Resolution",
        "T1571" => "Non-Standard Port",
        "T1573" => "Encrypted Channel",
        "T1621" => "Multi-Factor Authentication Request Generation",
        _ => return None,
    })
}

#[cfg(test)]
#[path = "template_yaml_tests.rs"]
mod tests;
