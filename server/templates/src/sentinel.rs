//! Microsoft Sentinel hunting queries and analytics rules (the YAML of the Azure-Sentinel
//! repository's `Hunting Queries` and `Detections` folders), read as templates without
//! parameters so that they can be listed, shown, rendered and called like MSTICPy templates.
//!
//! A file is one query. Its family is `SentinelAnalytics` for an analytics rule (a file with
//! `queryFrequency`, `triggerOperator` or `kind`) and `SentinelHunting` otherwise. Its name is
//! the file stem in lower case, with characters other than letters, digits and `_` replaced by
//! `_`. The entity types of `entityMappings` become MSTICPy pivot entities.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::problem::ProblemSink;
use crate::template::Template;
use crate::yaml::{Node, Value};

/// Returns whether a parsed YAML file is a Sentinel query: a top-level `query` with `id` or
/// `name`, and no MSTICPy `sources`.
pub fn is_sentinel_file(root: &Node) -> bool {
    root.get("sources").is_none()
        && root.get("query").is_some()
        && (root.get("id").is_some() || root.get("name").is_some())
}

/// Builds the template of a Sentinel file, reporting missing or malformed fields.
pub(crate) fn assemble(
    root: &Node,
    path: &Arc<PathBuf>,
    sink: &mut ProblemSink<'_>,
) -> Vec<Template> {
    let Some(query_node) = root.get("query") else {
        return Vec::new();
    };
    let Some(query) = query_node.as_str() else {
        sink.error(query_node.span.clone(), "`query` must be a string of KQL");
        return Vec::new();
    };
    for key in ["id", "name", "description"] {
        if root.get(key).is_none() {
            sink.warning(0..0, format!("the `{key}` field is missing; add it"));
        }
    }
    if let Some(techniques) = root.get("relevantTechniques").and_then(Node::as_seq) {
        for technique in techniques {
            if !technique.as_str().is_some_and(is_technique_id) {
                sink.warning(
                    technique.span.clone(),
                    "a MITRE ATT&CK technique id looks like T1110 or T1110.003",
                );
            }
        }
    }

    let analytics = ["queryFrequency", "triggerOperator", "kind"]
        .iter()
        .any(|key| root.get(key).is_some());
    let family = if analytics {
        "SentinelAnalytics"
    } else {
        "SentinelHunting"
    };
    let name_node = root.get("name").unwrap_or(query_node);
    let description = root
        .get("description")
        .and_then(Node::as_str)
        .or_else(|| root.get("name").and_then(Node::as_str))
        .unwrap_or_default()
        .trim()
        .to_owned();
    let span = name_node.span.clone();
    let metadata = Node::new(
        Value::Map(vec![(
            text_node("pivot", &span),
            Node::new(
                Value::Map(vec![(
                    text_node("direct_func_entities", &span),
                    Node::new(
                        Value::Seq(
                            pivot_entities(root)
                                .into_iter()
                                .map(|entity| text_node(entity, &span))
                                .collect(),
                        ),
                        span.clone(),
                    ),
                )]),
                span.clone(),
            ),
        )]),
        span.clone(),
    );
    vec![Template {
        name: template_name(path),
        name_span: span.clone(),
        path: Arc::clone(path),
        description,
        metadata,
        families: vec![family.to_owned()],
        environments: vec!["MSSentinel".to_owned()],
        parameters: Vec::new(),
        // The query has no parameters, so its braces (in `dynamic({...})`, for example) are
        // doubled to render as written.
        query: query.replace('{', "{{").replace('}', "}}"),
        query_span: query_node.span.clone(),
        uri: None,
        macro_names: Vec::new(),
    }]
}

fn text_node(text: &str, span: &std::ops::Range<usize>) -> Node {
    Node::new(Value::Str(text.to_owned()), span.clone())
}

/// Returns the file stem as an identifier: lower case, other characters than letters, digits
/// and `_` replaced by `_`.
fn template_name(path: &Path) -> String {
    let stem = path
        .file_stem()
        .map(|stem| stem.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut name: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
        name.insert(0, '_');
    }
    name
}

/// Maps the entity types of `entityMappings` to MSTICPy's entity names.
fn pivot_entities(root: &Node) -> Vec<&'static str> {
    let mut entities = Vec::new();
    let mappings = root
        .get("entityMappings")
        .and_then(Node::as_seq)
        .unwrap_or(&[]);
    for mapping in mappings {
        let entity = match mapping.get("entityType").and_then(Node::as_str) {
            Some("Account") => "Account",
            Some("Host") => "Host",
            Some("IP") => "IpAddress",
            Some("DNS") => "Dns",
            Some("URL") => "Url",
            Some("FileHash" | "File") => "File",
            Some("Process") => "Process",
            _ => continue,
        };
        if !entities.contains(&entity) {
            entities.push(entity);
        }
    }
    entities
}

/// Returns whether `id` is a MITRE ATT&CK technique or sub-technique id (`T1110`, `T1110.003`).
pub fn is_technique_id(id: &str) -> bool {
    let Some(rest) = id.strip_prefix('T') else {
        return false;
    };
    let (main, sub) = match rest.split_once('.') {
        Some((main, sub)) => (main, Some(sub)),
        None => (rest, None),
    };
    let digits = |text: &str, count: usize| {
        text.len() == count && text.bytes().all(|byte| byte.is_ascii_digit())
    };
    digits(main, 4) && sub.is_none_or(|sub| digits(sub, 3))
}
