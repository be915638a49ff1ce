//! Helpers that read the semantic model for completion and hover.

use quarry_hir::{Column, Model, Origin, RowScope, RowType, Variable, VariableKind};

/// Returns the operator scope for a cursor at `offset`. While typing, the cursor often sits
/// after the end of the operator's node (`T | where ` parses as a `where` with a missing
/// predicate), so the last scope that ends before the cursor counts when only spaces, commas
/// and keywords separate them.
pub fn row_scope_at<'m>(model: &'m Model, text: &str, offset: usize) -> Option<&'m RowScope> {
    if let Some(scope) = model.row_scope_at(offset) {
        return Some(scope);
    }
    model
        .row_scopes
        .iter()
        .filter(|scope| scope.range.end <= offset)
        .filter(|scope| {
            let gap = &text[scope.range.end..offset];
            !gap.contains(['|', ';', '(', ')']) && !crate::cursor::contains_blank_line(gap)
        })
        .max_by_key(|scope| (scope.range.end, std::cmp::Reverse(scope.range.len())))
}

/// Returns a name as it must be written in a query: bare when it is an identifier, otherwise
/// bracketed and quoted (`['Account Name']`).
pub fn quoted_name(name: &str) -> String {
    let mut chars = name.chars();
    let is_identifier = chars
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic() || first == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if is_identifier {
        name.to_owned()
    } else {
        format!("['{}']", name.replace('\\', "\\\\").replace('\'', "\\'"))
    }
}

/// Renders hover text for a column: its type and where it comes from.
pub fn column_markdown(column: &Column, text: &str) -> String {
    let origin = match &column.origin {
        Origin::Table(table) => format!("Column of table `{table}`."),
        Origin::Operator { operator, range } => {
            let line = text[..range.start].matches('\n').count() + 1;
            let definition = first_line(&text[range.clone()]);
            format!("Defined by `{operator}` on line {line}: `{definition}`")
        }
        Origin::Unknown => "Computed by an operator whose output Quarry does not model.".to_owned(),
    };
    format!(
        "```kusto\n{}: {}\n```\n\n{origin}\n",
        quoted_name(&column.name),
        column.ty
    )
}

/// Renders hover text for a table of the schema: its columns with their types.
pub fn table_markdown(name: &str, row: &RowType, source: &str) -> String {
    let mut markdown = format!(
        "```kusto\n{name}\n```\n\nTable with {} columns, from {source}.\n\n",
        row.columns.len()
    );
    for column in &row.columns {
        markdown.push_str(&format!(
            "- `{}`: {}\n",
            quoted_name(&column.name),
            column.ty
        ));
    }
    markdown
}

/// Renders hover text for a variable: how it is bound, its type and the defining line.
pub fn variable_markdown(variable: &Variable, text: &str) -> String {
    let kind = match variable.kind {
        VariableKind::Let => "let",
        VariableKind::Parameter => "parameter",
        VariableKind::QueryParameter => "query parameter",
        VariableKind::As => "as",
        VariableKind::Function => "function",
    };
    let line_start = text[..variable.definition.start]
        .rfind('\n')
        .map_or(0, |index| index + 1);
    let line_number = text[..variable.definition.start].matches('\n').count() + 1;
    let line_end = text[variable.definition.start..]
        .find('\n')
        .map_or(text.len(), |index| variable.definition.start + index);
    format!(
        "```kusto\n({kind}) {}: {}\n```\n\nDefined on line {line_number}: `{}`\n",
        variable.name,
        variable.description,
        text[line_start..line_end].trim()
    )
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or_default().trim()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_name_brackets_special_names() {
        assert_eq!(quoted_name("Account"), "Account");
        assert_eq!(quoted_name("_Billed2"), "_Billed2");
        assert_eq!(quoted_name("Account Name"), "['Account Name']");
        assert_eq!(quoted_name("d.x"), "['d.x']");
        assert_eq!(quoted_name("it's"), "['it\\'s']");
        assert_eq!(quoted_name("1st"), "['1st']");
    }
}
