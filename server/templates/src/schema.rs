//! Structural checks of a template file: MSTICPy's JSON schema for query files
//! (`queries.schema.json`, draft 7) and the file checks MSTICPy makes when it reads a file.
//!
//! The schema is small, so it is checked by hand here. That gives each problem the position
//! of the offending key or value and a message that names what to write instead.

use crate::problem::ProblemSink;
use crate::yaml::{Node, Value};

/// Keys allowed in file metadata and query metadata.
pub const METADATA_KEYS: [&str; 10] = [
    "version",
    "description",
    "data_environments",
    "data_families",
    "tags",
    "aliases",
    "cluster",
    "clusters",
    "cluster_groups",
    "database",
];

/// Keys allowed in a parameter definition.
pub const PARAMETER_KEYS: [&str; 4] = ["description", "type", "default", "aliases"];

/// Keys allowed in a query under `sources`.
pub const QUERY_KEYS: [&str; 5] = [
    "description",
    "metadata",
    "parameters",
    "args",
    "query_macros",
];

/// Data environment names that MSTICPy 3.0.2 defines (`DataEnvironment` with its aliases), plus
/// `AzureSecurityCenter`, which the schema's enumeration also lists.
pub const DATA_ENVIRONMENTS: &[&str] = &[
    "MSSentinel",
    "AzureSentinel",
    "LogAnalytics",
    "MSSentinel_New",
    "Kusto",
    "AzureDataExplorer",
    "Kusto_New",
    "MSGraph",
    "SecurityGraph",
    "MDE",
    "MDATP",
    "LocalData",
    "Splunk",
    "OTRF",
    "Mordor",
    "ResourceGraph",
    "Sumologic",
    "M365D",
    "Cybereason",
    "Elastic",
    "OSQueryLogs",
    "OSQuery",
    "MSSentinel_Legacy",
    "MSSentinel_KQLM",
    "Kusto_Legacy",
    "Kusto_KQLM",
    "VelociraptorLogs",
    "Velociraptor",
    "M365DGraph",
    "Prismacloud",
    "OpenObserve",
    "MSSentinelSearch",
    "AzureSecurityCenter",
];

/// Checks the whole file against the schema and MSTICPy's file rules.
pub(crate) fn check_file(root: &Node, sink: &mut ProblemSink<'_>) {
    if root.is_falsy() {
        sink.error(
            0..0,
            "the file is empty; a template file needs `metadata` and `sources` mappings",
        );
        return;
    }
    let Some(entries) = root.as_map() else {
        sink.error(
            root.span.clone(),
            format!(
                "the file contains a {} at the top level; a template file is a mapping with `metadata` and `sources`",
                root.type_name()
            ),
        );
        return;
    };
    report_duplicate_keys(root, sink);
    for key in ["metadata", "sources"] {
        if root.get(key).is_none_or(Node::is_falsy) {
            let range = entries
                .first()
                .map_or(0..0, |(first, _)| first.span.clone());
            sink.error(
                range,
                format!("missing `{key}`: add a non-empty top-level `{key}:` mapping"),
            );
        }
    }

    if let Some(metadata) = root.get("metadata") {
        check_metadata(metadata, "metadata", true, sink);
    }
    if let Some(defaults) = root.get("defaults") {
        check_defaults(defaults, sink);
    }
    if let Some(sources) = root.get("sources") {
        match sources.as_map() {
            Some(queries) => {
                for (key, query) in queries {
                    let name = key.key_text().unwrap_or_default();
                    check_query(query, &name, sink);
                }
            }
            None if !sources.is_null() => expect_type(sources, "sources", "object", sink),
            None => {}
        }
    }
}

fn check_metadata(node: &Node, path: &str, file_level: bool, sink: &mut ProblemSink<'_>) {
    let Some(entries) = node.as_map() else {
        if !node.is_null() {
            expect_type(node, path, "object", sink);
        }
        return;
    };
    report_duplicate_keys(node, sink);
    for (key, value) in entries {
        let name = key.key_text().unwrap_or_default();
        let key_path = format!("{path}.{name}");
        match name.as_str() {
            "version" => expect_integer(value, &key_path, sink),
            "description" => check_description(value, &key_path, sink),
            "data_environments" => {
                expect_string_array(value, &key_path, sink);
                for item in value.as_seq().unwrap_or_default() {
                    let Some(text) = item.as_str() else { continue };
                    let short = text.rsplit('.').next().unwrap_or(text);
                    if !DATA_ENVIRONMENTS.contains(&short) {
                        sink.warning(
                            item.span.clone(),
                            format!(
                                "`{key_path}` lists `{text}`, which MSTICPy does not know; use one of {} or register a custom provider",
                                DATA_ENVIRONMENTS.join(", ")
                            ),
                        );
                    }
                }
            }
            "data_families" | "tags" | "clusters" | "cluster_groups" => {
                expect_string_array(value, &key_path, sink)
            }
            "aliases" => expect_string_or_string_array(value, &key_path, sink),
            "cluster" | "database" => expect_string(value, &key_path, sink),
            // Query metadata may carry other keys (such as `pivot`): the schema accepts any
            // query metadata (`anyOf: [metadata, true]`), and the known keys are still
            // type-checked above because MSTICPy reads them.
            _ if !file_level => {}
            _ => sink.error(
                key.span.clone(),
                format!(
                    "unknown key `{key_path}`{}; metadata allows only {}",
                    suggestion(&name, &METADATA_KEYS),
                    quoted_list(&METADATA_KEYS)
                ),
            ),
        }
    }
    // The schema requires all four keys where a metadata block is checked against it. In a
    // query, MSTICPy's schema accepts any metadata (`anyOf: [metadata, true]`), so only the
    // file metadata is held to them.
    if file_level {
        for required in [
            "version",
            "description",
            "data_environments",
            "data_families",
        ] {
            let present = node.get(required);
            let empty_list = matches!(required, "data_environments" | "data_families")
                && present.is_some_and(Node::is_falsy);
            if present.is_none() || empty_list {
                sink.error(
                    node.span.start..node.span.start,
                    format!("missing `{path}.{required}`: {}", required_hint(required)),
                );
            }
        }
    }
}

fn required_hint(key: &str) -> &'static str {
    match key {
        "version" => "add `version: 1`",
        "description" => "add a `description:` of 5 to 1024 characters",
        "data_environments" => {
            "add the environments the queries run in, e.g. `data_environments: [MSSentinel]`"
        }
        _ => {
            "add the families the queries are listed under, e.g. `data_families: [WindowsSecurity]`"
        }
    }
}

fn check_defaults(node: &Node, sink: &mut ProblemSink<'_>) {
    let Some(entries) = node.as_map() else {
        if !node.is_null() {
            expect_type(node, "defaults", "object", sink);
        }
        return;
    };
    report_duplicate_keys(node, sink);
    for (key, value) in entries {
        match key.key_text().as_deref() {
            Some("metadata") => check_default_metadata(value, sink),
            Some("parameters") => check_parameters(value, "defaults.parameters", sink),
            _ => {}
        }
    }
}

fn check_default_metadata(node: &Node, sink: &mut ProblemSink<'_>) {
    let Some(entries) = node.as_map() else {
        if !node.is_null() {
            expect_type(node, "defaults.metadata", "object", sink);
        }
        return;
    };
    for (key, value) in entries {
        let name = key.key_text().unwrap_or_default();
        let path = format!("defaults.metadata.{name}");
        match name.as_str() {
            "data_source" => expect_string(value, &path, sink),
            "data_families" => expect_string_array(value, &path, sink),
            "top" => expect_integer(value, &path, sink),
            "pivot" => check_pivot(value, &path, sink),
            _ => {}
        }
    }
}

fn check_pivot(node: &Node, path: &str, sink: &mut ProblemSink<'_>) {
    let Some(entries) = node.as_map() else {
        expect_type(node, path, "object", sink);
        return;
    };
    for (key, value) in entries {
        let name = key.key_text().unwrap_or_default();
        expect_string_array(value, &format!("{path}.{name}"), sink);
    }
}

fn check_parameters(node: &Node, path: &str, sink: &mut ProblemSink<'_>) {
    let Some(entries) = node.as_map() else {
        if !node.is_null() {
            expect_type(node, path, "object", sink);
        }
        return;
    };
    report_duplicate_keys(node, sink);
    for (key, definition) in entries {
        let name = key.key_text().unwrap_or_default();
        let param_path = format!("{path}.{name}");
        let Some(fields) = definition.as_map() else {
            sink.error(
                definition.span.start..definition.span.end.max(key.span.end),
                format!(
                    "`{param_path}` is a {}; a parameter is a mapping with `description` and `type`",
                    definition.type_name()
                ),
            );
            continue;
        };
        for (field_key, value) in fields {
            let field = field_key.key_text().unwrap_or_default();
            let field_path = format!("{param_path}.{field}");
            match field.as_str() {
                "description" => check_description(value, &field_path, sink),
                "type" => match value.as_str() {
                    Some(text) if crate::ParamType::parse(text).is_some() => {}
                    _ => sink.error(
                        value.span.clone(),
                        format!(
                            "`{field_path}` is {}; use one of {}",
                            describe(value),
                            quoted_list(&crate::ParamType::NAMES)
                        ),
                    ),
                },
                "default" => match &value.value {
                    Value::Str(_) | Value::Timestamp(_) | Value::Seq(_) | Value::Int(_) => {}
                    _ => sink.error(
                        value.span.clone(),
                        format!(
                            "`{field_path}` is {}; the schema allows a string, a list or an integer (quote it to make it a string)",
                            describe(value)
                        ),
                    ),
                },
                "aliases" => expect_string_or_string_array(value, &field_path, sink),
                _ => sink.error(
                    field_key.span.clone(),
                    format!(
                        "unknown key `{field_path}`{}; a parameter allows only {}",
                        suggestion(&field, &PARAMETER_KEYS),
                        quoted_list(&PARAMETER_KEYS)
                    ),
                ),
            }
        }
        // A query may override only the `default` of a parameter declared in `defaults`, so
        // the required keys are checked on the merged parameter (see `validate`).
        if path == "defaults.parameters" {
            for required in ["description", "type"] {
                if definition.get(required).is_none() {
                    sink.error(
                        key.span.clone(),
                        format!(
                            "parameter `{param_path}` has no `{required}`; {}",
                            parameter_hint(required)
                        ),
                    );
                }
            }
        }
    }
}

pub(crate) fn parameter_hint(key: &str) -> String {
    if key == "type" {
        format!(
            "add `type:` with one of {}",
            quoted_list(&crate::ParamType::NAMES)
        )
    } else {
        "add a `description:` of 5 to 1024 characters".to_string()
    }
}

fn check_query(node: &Node, name: &str, sink: &mut ProblemSink<'_>) {
    let path = format!("sources.{name}");
    let Some(entries) = node.as_map() else {
        expect_type(node, &path, "object", sink);
        return;
    };
    report_duplicate_keys(node, sink);
    for (key, value) in entries {
        let field = key.key_text().unwrap_or_default();
        let field_path = format!("{path}.{field}");
        match field.as_str() {
            "description" => check_description(value, &field_path, sink),
            "metadata" => check_metadata(value, &field_path, false, sink),
            "parameters" => check_parameters(value, &field_path, sink),
            "args" => check_args(value, &field_path, sink),
            "query_macros" => check_macros(value, &field_path, sink),
            _ => sink.error(
                key.span.clone(),
                format!(
                    "unknown key `{field_path}`; a query allows only {}",
                    quoted_list(&QUERY_KEYS)
                ),
            ),
        }
    }
    let start = node.span.start..node.span.start;
    if node.get("description").is_none() {
        sink.error(
            start.clone(),
            format!("missing `{path}.description`: add a description of 5 to 1024 characters"),
        );
    }
    if node.get("args").is_none() {
        sink.error(
            start,
            format!("missing `{path}.args`: add `args:` with a `query:` string"),
        );
    }
}

fn check_args(node: &Node, path: &str, sink: &mut ProblemSink<'_>) {
    let Some(entries) = node.as_map() else {
        expect_type(node, path, "object", sink);
        return;
    };
    for (key, value) in entries {
        match key.key_text().as_deref() {
            Some("query") => expect_string(value, &format!("{path}.query"), sink),
            Some("uri") => expect_string(value, &format!("{path}.uri"), sink),
            _ => {}
        }
    }
    if node.get("query").is_none() {
        sink.error(
            node.span.start..node.span.start,
            format!("missing `{path}.query`: add the query text as `query:`"),
        );
    }
}

fn check_macros(node: &Node, path: &str, sink: &mut ProblemSink<'_>) {
    let Some(entries) = node.as_map() else {
        if !node.is_null() {
            expect_type(node, path, "object", sink);
        }
        return;
    };
    for (key, definition) in entries {
        let name = key.key_text().unwrap_or_default();
        let macro_path = format!("{path}.{name}");
        let Some(fields) = definition.as_map() else {
            expect_type(definition, &macro_path, "object", sink);
            continue;
        };
        for (field_key, value) in fields {
            match field_key.key_text().as_deref() {
                Some("description") => check_description(value, &format!("{macro_path}.description"), sink),
                Some("value") => expect_string(value, &format!("{macro_path}.value"), sink),
                other => sink.error(
                    field_key.span.clone(),
                    format!(
                        "unknown key `{macro_path}.{}`; a query macro allows only `description` and `value`",
                        other.unwrap_or_default()
                    ),
                ),
            }
        }
        for required in ["description", "value"] {
            if definition.get(required).is_none() {
                sink.error(
                    key.span.clone(),
                    format!("query macro `{macro_path}` has no `{required}`; add `{required}:`"),
                );
            }
        }
    }
}

fn check_description(node: &Node, path: &str, sink: &mut ProblemSink<'_>) {
    let Some(text) = node.as_str() else {
        expect_string(node, path, sink);
        return;
    };
    let length = text.chars().count();
    if !(5..=1024).contains(&length) {
        sink.error(
            node.span.clone(),
            format!(
                "`{path}` has {length} characters; write a description of 5 to 1024 characters"
            ),
        );
    }
}

fn expect_type(node: &Node, path: &str, expected: &str, sink: &mut ProblemSink<'_>) {
    sink.error(
        node.span.clone(),
        format!(
            "`{path}` is {}; it must be {}",
            describe(node),
            article(expected)
        ),
    );
}

fn expect_string(node: &Node, path: &str, sink: &mut ProblemSink<'_>) {
    if !matches!(node.value, Value::Str(_) | Value::Timestamp(_)) {
        sink.error(
            node.span.clone(),
            format!(
                "`{path}` is {}; it must be a string (quote the value)",
                describe(node)
            ),
        );
    }
}

fn expect_integer(node: &Node, path: &str, sink: &mut ProblemSink<'_>) {
    if !matches!(node.value, Value::Int(_)) {
        expect_type(node, path, "integer", sink);
    }
}

fn expect_string_array(node: &Node, path: &str, sink: &mut ProblemSink<'_>) {
    let Some(items) = node.as_seq() else {
        sink.error(
            node.span.clone(),
            format!(
                "`{path}` is {}; write a list of strings such as `[name]`",
                describe(node)
            ),
        );
        return;
    };
    for item in items {
        expect_string(item, &format!("an item of `{path}`"), sink);
    }
}

fn expect_string_or_string_array(node: &Node, path: &str, sink: &mut ProblemSink<'_>) {
    if node.as_seq().is_some() {
        expect_string_array(node, path, sink);
    } else if !matches!(node.value, Value::Str(_)) {
        sink.error(
            node.span.clone(),
            format!(
                "`{path}` is {}; write a string or a list of strings",
                describe(node)
            ),
        );
    }
}

fn report_duplicate_keys(node: &Node, sink: &mut ProblemSink<'_>) {
    let Some(entries) = node.as_map() else { return };
    for (index, (key, _)) in entries.iter().enumerate() {
        let text = key.key_text();
        if entries[..index]
            .iter()
            .any(|(earlier, _)| earlier.key_text() == text)
        {
            sink.warning(
                key.span.clone(),
                format!(
                    "duplicate key `{}`: only this last value is used (as in MSTICPy); remove the earlier one",
                    text.unwrap_or_default()
                ),
            );
        }
    }
}

fn describe(node: &Node) -> String {
    match &node.value {
        Value::Null => "empty".to_string(),
        Value::Str(text) => format!("the string {text:?}"),
        Value::Seq(_) | Value::Map(_) => article(node.type_name()),
        other => format!(
            "the {} {}",
            node.type_name(),
            crate::yaml::python_str(other)
        ),
    }
}

fn article(noun: &str) -> String {
    let vowel = noun.starts_with(['a', 'e', 'i', 'o', 'u']);
    format!("{} {noun}", if vowel { "an" } else { "a" })
}

/// Returns " (did you mean `x`?)" for the allowed key closest to `key`, when one is within two
/// edits.
fn suggestion(key: &str, allowed: &[&str]) -> String {
    allowed
        .iter()
        .map(|candidate| (edit_distance(key, candidate), *candidate))
        .filter(|(distance, _)| *distance <= 2)
        .min()
        .map(|(_, candidate)| format!(" (did you mean `{candidate}`?)"))
        .unwrap_or_default()
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current.push(substitution.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

pub(crate) fn quoted_list(items: &[&str]) -> String {
    items
        .iter()
        .map(|item| format!("`{item}`"))
        .collect::<Vec<_>>()
        .join(", ")
}
