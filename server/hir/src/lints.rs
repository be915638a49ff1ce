//! Warnings about queries that run but are likely slow or not what was meant, each with a quick
//! fix where one edit resolves it. They run on a query block after binding, because the time
//! filter check needs to know which names are tables.

use std::collections::HashSet;
use std::ops::Range;
use std::sync::OnceLock;

use quarry_syntax::kinds;
use quarry_syntax::tree_sitter::Node;

use crate::codes;
use crate::model::{Diagnostic, Edit, Fix, Reference, RowScope, Severity, Target};
use crate::naming::string_value;

const LARGE_TABLES: &str = include_str!("../data/large-tables.txt");

/// The time filter that the KQL202 quick fix inserts, as a look-back from now.
const DEFAULT_LOOKBACK: &str = "ago(1d)";

/// Returns the tables from `data/large-tables.txt`.
fn large_tables() -> &'static HashSet<&'static str> {
    static TABLES: OnceLock<HashSet<&'static str>> = OnceLock::new();
    TABLES.get_or_init(|| {
        LARGE_TABLES
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty() && !line.starts_with('#'))
            .collect()
    })
}

/// The names and operator scopes bound in one query block.
pub(crate) struct BlockModel<'m> {
    pub references: &'m [Reference],
    pub row_scopes: &'m [RowScope],
}

/// Returns the warnings of one query block. The block's references let the time filter check
/// tell tables from other names.
pub(crate) fn lint_block(text: &str, block: Node, model: &BlockModel) -> Vec<Diagnostic> {
    let mut warnings = Vec::new();
    let mut has_time_literal = false;
    let mut stack = vec![block];
    while let Some(node) = stack.pop() {
        match node.kind() {
            kinds::BINARY_EXPRESSION => {
                contains_term(text, node, &mut warnings);
                case_variants(text, node, &mut warnings);
            }
            kinds::IN_EXPRESSION => case_variants_in_list(text, node, &mut warnings),
            kinds::JOIN_OPERATOR => join_without_kind(text, node, &mut warnings),
            kinds::DATETIME_LITERAL => has_time_literal = true,
            _ => {}
        }
        let mut cursor = node.walk();
        stack.extend(node.named_children(&mut cursor));
    }
    if !has_time_literal {
        no_time_filter(block, model, &mut warnings);
    }
    warnings
}

fn warning(range: Range<usize>, code: &'static str, message: String, help: String) -> Diagnostic {
    Diagnostic {
        range,
        code,
        message,
        help: Some(help),
        severity: Severity::Warning,
        fixes: Vec::new(),
    }
}

fn replace(range: Range<usize>, new_text: impl Into<String>) -> Edit {
    Edit {
        range,
        new_text: new_text.into(),
    }
}

/// Returns the `has` operator with the same negation and case sensitivity as a `contains`
/// operator.
fn has_for_contains(operator: &str) -> Option<&'static str> {
    Some(match operator {
        "contains" => "has",
        "!contains" | "notcontains" => "!has",
        "contains_cs" => "has_cs",
        "!contains_cs" | "notcontains_cs" => "!has_cs",
        _ => return None,
    })
}

/// Checks whether a string is one term of Kusto's index: at least three ASCII letters and
/// digits and nothing else, so `has` finds it without scanning each value.
fn is_term(value: &str) -> bool {
    value.len() >= 3 && value.bytes().all(|byte| byte.is_ascii_alphanumeric())
}

/// KQL201: `X contains "term"` where `X has "term"` would use the term index.
fn contains_term(text: &str, node: Node, warnings: &mut Vec<Diagnostic>) {
    let (Some(operator), Some(right)) = (
        node.child_by_field_name("operator"),
        node.child_by_field_name("right"),
    ) else {
        return;
    };
    let Some(has) = has_for_contains(&text[operator.byte_range()]) else {
        return;
    };
    if right.kind() != kinds::STRING_LITERAL {
        return;
    }
    let value = string_value(right, text);
    if !is_term(&value) {
        return;
    }
    let contains = &text[operator.byte_range()];
    let mut diagnostic = warning(
        operator.byte_range(),
        codes::CONTAINS_TERM,
        format!(
            "`{contains}` scans each value for \"{value}\", but `{has}` would find the whole term \
             \"{value}\" in the term index"
        ),
        format!(
            "`{has}` matches whole terms only: it finds \"{value}\" in \"{value}.exe\" but not in \
             \"x{value}\". Keep `{contains}` where a partial match is meant."
        ),
    );
    diagnostic.fixes.push(Fix {
        title: format!("Replace `{contains}` with `{has}`"),
        edits: vec![replace(operator.byte_range(), has)],
    });
    warnings.push(diagnostic);
}

/// KQL203: `join` without `kind=`, whose default `innerunique` keeps one row per left key.
fn join_without_kind(text: &str, node: Node, warnings: &mut Vec<Diagnostic>) {
    let mut cursor = node.walk();
    let has_kind = node
        .children_by_field_name("parameter", &mut cursor)
        .any(|parameter| {
            text[parameter.byte_range()]
                .split_once('=')
                .is_some_and(|(name, _)| name.trim() == "kind")
        });
    if has_kind {
        return;
    }
    let Some(keyword) = node.child(0).filter(|keyword| keyword.kind() == "join") else {
        return;
    };
    let mut diagnostic = warning(
        keyword.byte_range(),
        codes::JOIN_WITHOUT_KIND,
        "`join` without `kind=` is an `innerunique` join: it keeps only one row for each \
         distinct key of the left side"
            .to_owned(),
        "Write the kind explicitly: `kind=inner` keeps every matching pair of rows, \
         `kind=innerunique` states the default."
            .to_owned(),
    );
    let end = keyword.end_byte();
    for kind in ["innerunique", "inner"] {
        diagnostic.fixes.push(Fix {
            title: format!("Add `kind={kind}`"),
            edits: vec![replace(end..end, format!(" kind={kind}"))],
        });
    }
    warnings.push(diagnostic);
}

/// Returns the two sides of an `X == "literal"` comparison, with the literal's value.
fn literal_equality<'t>(text: &str, node: Node<'t>) -> Option<(Node<'t>, Node<'t>, String)> {
    if node.kind() != kinds::BINARY_EXPRESSION {
        return None;
    }
    let operator = node.child_by_field_name("operator")?;
    if &text[operator.byte_range()] != "==" {
        return None;
    }
    let left = node.child_by_field_name("left")?;
    let right = node.child_by_field_name("right")?;
    if right.kind() != kinds::STRING_LITERAL {
        return None;
    }
    Some((left, right, string_value(right, text)))
}

/// KQL204: `X == "a" or X == "A"`, which `X =~ "a"` expresses in one comparison.
fn case_variants(text: &str, node: Node, warnings: &mut Vec<Diagnostic>) {
    let Some(operator) = node.child_by_field_name("operator") else {
        return;
    };
    if &text[operator.byte_range()] != "or" {
        return;
    }
    let (Some(first), Some(second)) = (
        node.child_by_field_name("left")
            .and_then(|side| literal_equality(text, side)),
        node.child_by_field_name("right")
            .and_then(|side| literal_equality(text, side)),
    ) else {
        return;
    };
    let subject = &text[first.0.byte_range()];
    if subject != &text[second.0.byte_range()]
        || first.2 == second.2
        || !first.2.eq_ignore_ascii_case(&second.2)
    {
        return;
    }
    let literal = &text[first.1.byte_range()];
    let mut diagnostic = warning(
        node.byte_range(),
        codes::CASE_VARIANTS,
        format!(
            "`{subject}` is compared with \"{}\" and \"{}\", which differ only in case",
            first.2, second.2
        ),
        "`=~` compares strings ignoring case, so one comparison also covers the other \
         spellings, such as all capitals."
            .to_owned(),
    );
    diagnostic.fixes.push(Fix {
        title: format!("Replace with `{subject} =~ {literal}`"),
        edits: vec![replace(
            node.byte_range(),
            format!("{subject} =~ {literal}"),
        )],
    });
    warnings.push(diagnostic);
}

/// KQL204: `X in ("a", "A")`, which `X in~ ("a")` covers.
fn case_variants_in_list(text: &str, node: Node, warnings: &mut Vec<Diagnostic>) {
    let (Some(operator), Some(list)) = (
        node.child_by_field_name("operator"),
        node.child_by_field_name("right"),
    ) else {
        return;
    };
    let negated = match &text[operator.byte_range()] {
        "in" => false,
        "!in" => true,
        _ => return,
    };
    let mut cursor = list.walk();
    let values: Vec<String> = list
        .named_children(&mut cursor)
        .filter(|item| item.kind() == kinds::STRING_LITERAL)
        .map(|item| string_value(item, text))
        .collect();
    let pair = values.iter().enumerate().find_map(|(i, a)| {
        values[i + 1..]
            .iter()
            .find(|b| *b != a && b.eq_ignore_ascii_case(a))
            .map(|b| (a, b))
    });
    let Some((a, b)) = pair else {
        return;
    };
    let insensitive = if negated { "!in~" } else { "in~" };
    let written = &text[operator.byte_range()];
    let mut diagnostic = warning(
        operator.byte_range(),
        codes::CASE_VARIANTS,
        format!("the `{written}` list has \"{a}\" and \"{b}\", which differ only in case"),
        format!("`{insensitive}` compares ignoring case, so one spelling of each value is enough."),
    );
    diagnostic.fixes.push(Fix {
        title: format!("Replace `{written}` with `{insensitive}`"),
        edits: vec![replace(operator.byte_range(), insensitive)],
    });
    warnings.push(diagnostic);
}

/// KQL202: a large table in a block with no time filter: no `ago()` or `now()` call, no datetime
/// literal and no `where` on the table's time column.
fn no_time_filter(block: Node, model: &BlockModel, warnings: &mut Vec<Diagnostic>) {
    let in_where = |offset: usize| {
        model
            .row_scopes
            .iter()
            .filter(|scope| scope.range.start <= offset && offset <= scope.range.end)
            .min_by_key(|scope| scope.range.len())
            .is_some_and(|scope| scope.operator == "where")
    };
    let references = model.references;
    let filtered = references.iter().any(|reference| match &reference.target {
        Target::Function { name } => name == "ago" || name == "now",
        Target::Column(column) => {
            matches!(column.name.as_str(), "TimeGenerated" | "Timestamp")
                && in_where(reference.range.start)
        }
        _ => false,
    });
    if filtered {
        return;
    }
    let mut warned = HashSet::new();
    for reference in references {
        let Target::Table { name, row, .. } = &reference.target else {
            continue;
        };
        if !large_tables().contains(name.as_str()) || !warned.insert(name.clone()) {
            continue;
        }
        // Defender XDR tables have only `Timestamp` in advanced hunting and both columns in
        // Sentinel, so `Timestamp` works in both places.
        let Some(time_column) = ["Timestamp", "TimeGenerated"]
            .into_iter()
            .find(|column| row.column(column).is_some())
        else {
            continue;
        };
        let mut diagnostic = warning(
            reference.range.clone(),
            codes::NO_TIME_FILTER,
            format!(
                "`{name}` is a large table, and the query has no time filter on `{time_column}`"
            ),
            format!(
                "Without a time filter the query reads the whole retention period. Add \
                 `| where {time_column} > {DEFAULT_LOOKBACK}` or set a time range for the run."
            ),
        );
        if is_pipe_source(block, reference.range.clone()) {
            let end = reference.range.end;
            diagnostic.fixes.push(Fix {
                title: format!("Add `| where {time_column} > {DEFAULT_LOOKBACK}`"),
                edits: vec![replace(
                    end..end,
                    format!(" | where {time_column} > {DEFAULT_LOOKBACK}"),
                )],
            });
        }
        warnings.push(diagnostic);
    }
}

/// Checks whether the name at `range` starts a pipeline or is a whole query by itself, the
/// places where `| where ...` can follow it without parentheses.
fn is_pipe_source(block: Node, range: Range<usize>) -> bool {
    let Some(node) = block.descendant_for_byte_range(range.start, range.end) else {
        return false;
    };
    let Some(parent) = node.parent() else {
        return false;
    };
    match parent.kind() {
        kinds::PIPE_EXPRESSION => parent
            .child_by_field_name("source")
            .is_some_and(|source| source.id() == node.id()),
        kinds::QUERY_STATEMENT => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn term_shape() {
        assert!(is_term("powershell"));
        assert!(is_term("4688"));
        assert!(!is_term("ab"));
        assert!(!is_term("cmd.exe"));
        assert!(!is_term("power shell"));
    }

    #[test]
    fn large_tables_parse() {
        assert!(large_tables().contains("SecurityEvent"));
        assert!(!large_tables().iter().any(|table| table.starts_with('#')));
    }
}
