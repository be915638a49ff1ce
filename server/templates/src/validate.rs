//! The checks MSTICPy makes on each assembled query (`QuerySource.validate` in msticpy 3.0.2):
//! every `{param}` in the query is declared and every parameter has a type. Quarry adds
//! checks for what would fail only at render time in MSTICPy: malformed braces and parameters
//! without a description.

use std::ops::Range;

use crate::problem::ProblemSink;
use crate::pyformat;
use crate::schema::parameter_hint;
use crate::template::{Template, macro_reference_spans};

pub(crate) fn check_template(template: &Template, sink: &mut ProblemSink<'_>) {
    let query_source = sink
        .text
        .get(template.query_span.clone())
        .unwrap_or_default();
    let locate = |needle: &str| -> Range<usize> {
        match query_source.find(needle) {
            Some(offset) => {
                let start = template.query_span.start + offset;
                start..start + needle.len()
            }
            None => template.query_span.clone(),
        }
    };

    for (name, _) in placeholders(&template.query) {
        if template.parameter(&name).is_none() {
            let declared: Vec<&str> = template
                .parameters
                .iter()
                .map(|p| p.name.as_str())
                .collect();
            sink.error(
                locate(&format!("{{{name}}}")),
                format!(
                    "query `{}` uses `{{{name}}}`, but no parameter `{name}` is declared; add it under `parameters:` of the query or `defaults.parameters` (declared: {})",
                    template.name,
                    if declared.is_empty() { "none".to_string() } else { declared.join(", ") }
                ),
            );
        }
    }

    // A query that is a JSON document (Cybereason, Elastic) is filled in by its driver's own
    // parameter handler in MSTICPy, not by `str.format`, so its braces are not checked.
    let is_json = serde_json::from_str::<serde_json::Value>(&template.query).is_ok();
    let format_error = if is_json {
        None
    } else {
        pyformat::parse(&template.query).err()
    };
    if let Some(error) = format_error {
        let excerpt = template.query.get(error.span.clone()).unwrap_or_default();
        sink.error(
            locate(excerpt),
            format!("query `{}`: {}", template.name, error.message),
        );
    }

    for param in &template.parameters {
        // An invalid `type` value is reported by the schema check at the value itself.
        if !param.type_declared {
            sink.error(
                param.name_span.clone(),
                format!(
                    "parameter `{}` of query `{}` has no `type`; {}",
                    param.name,
                    template.name,
                    parameter_hint("type")
                ),
            );
        }
        if param.description.is_none() {
            sink.error(
                param.name_span.clone(),
                format!(
                    "parameter `{}` of query `{}` has no `description`; {}",
                    param.name,
                    template.name,
                    parameter_hint("description")
                ),
            );
        }
    }

    for param in &template.parameters {
        for alias in &param.aliases {
            if template.parameter(alias).is_some() && alias != &param.name {
                sink.warning(
                    param.name_span.clone(),
                    format!(
                        "alias `{alias}` of parameter `{}` in query `{}` is also a parameter name, so the alias is never used; remove or rename it",
                        param.name, template.name
                    ),
                );
            }
        }
    }

    let raw_query = sink
        .text
        .get(template.query_span.clone())
        .unwrap_or_default()
        .to_string();
    let source_macros = macro_reference_spans(&raw_query);
    if !source_macros.is_empty() {
        let defined = &template.macro_names;
        for (name, span) in source_macros {
            if !defined.iter().any(|known| known == &name) {
                let start = template.query_span.start + span.start;
                sink.warning(
                    start..template.query_span.start + span.end,
                    format!(
                        "macro `$<{name}>$` of query `{}` is not defined, so it expands to nothing; add `{name}:` with `description` and `value` under the query's `query_macros:`",
                        template.name
                    ),
                );
            }
        }
    }
}

/// Returns the parameter names the query uses, as MSTICPy's validation finds them. A query that
/// is a JSON document is first re-serialised with an indent of 2, as MSTICPy does, so that
/// JSON's own braces are not taken for fields.
pub fn placeholders(query: &str) -> Vec<(String, Range<usize>)> {
    if let Ok(document) = serde_json::from_str::<serde_json::Value>(query) {
        let pretty = serde_json::to_string_pretty(&document).unwrap_or_default();
        let mut names = Vec::new();
        for line in pretty.lines() {
            for (name, _) in pyformat::msticpy_placeholders(line) {
                if !names.iter().any(|(known, _)| known == &name) {
                    names.push((name, 0..0));
                }
            }
        }
        return names;
    }
    pyformat::msticpy_placeholders(query)
}
