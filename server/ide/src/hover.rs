//! Hover: the catalog documentation of the tabular operator or function under the cursor.
//! Elsewhere it shows the semantic model's target of the name (column, table, variable), a
//! readable form of a timespan or datetime literal, or the Windows event behind an `EventID`.

use std::ops::Range;

use quarry_analysis::{Catalog, windows_security_event};
use quarry_hir::Target;
use quarry_syntax::kinds;
use quarry_syntax::tree_sitter::Node;

use crate::cursor;
use crate::lexer::TokenKind;
use crate::{Analysis, SourceFile, literals, semantic};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HoverResult {
    /// The name the documentation is about.
    pub range: Range<usize>,
    pub markdown: String,
}

pub fn hover(analysis: &Analysis, file: &SourceFile, offset: usize) -> Option<HoverResult> {
    catalog_hover(analysis.catalog, file, offset)
        .or_else(|| literal_hover(file, offset))
        .or_else(|| name_hover(analysis, file, offset))
}

/// Hover for a name the semantic model resolved: a column, table, variable or built-in.
fn name_hover(analysis: &Analysis, file: &SourceFile, offset: usize) -> Option<HoverResult> {
    let text = file.text();
    let model = analysis.model_at(file, offset);
    let reference = model.reference_at(offset)?;
    let markdown = match &reference.target {
        Target::Column(column) => semantic::column_markdown(column, text),
        Target::Table { name, row, source } => semantic::table_markdown(name, row, source),
        Target::Variable(variable) => semantic::variable_markdown(variable, text),
        Target::Function { name } => {
            let function = analysis.catalog.builtin(name)?;
            match analysis.catalog.function(name) {
                Some(documented) => documented.hover_markdown(),
                None => {
                    let labels: Vec<String> = (0..function.signatures.len())
                        .map(|i| function.signature_label(i))
                        .collect();
                    format!("```kusto\n{}\n```\n", labels.join("\n"))
                }
            }
        }
    };
    Some(HoverResult {
        range: reference.range.clone(),
        markdown,
    })
}

/// Hover for a literal: timespans in days, hours and minutes, datetimes in UTC, and the
/// Windows Security event an `EventID` comparison names.
fn literal_hover(file: &SourceFile, offset: usize) -> Option<HoverResult> {
    let text = file.text();
    let root = file.syntax().root();
    let node = [offset, offset.saturating_sub(1)]
        .into_iter()
        .filter_map(|at| root.descendant_for_byte_range(at, at))
        .find(|node| {
            matches!(
                node.kind(),
                kinds::TIMESPAN_LITERAL | kinds::DATETIME_LITERAL | kinds::INTEGER_LITERAL
            )
        })?;
    let literal = &text[node.byte_range()];
    let markdown = match node.kind() {
        kinds::TIMESPAN_LITERAL => {
            let ticks = literals::timespan_ticks(literal)?;
            format!(
                "```kusto\n{literal}: timespan\n```\n\n{}\n",
                literals::describe_timespan(ticks)
            )
        }
        kinds::DATETIME_LITERAL => {
            let instant = literals::datetime_utc(literal)?;
            format!(
                "```kusto\n{literal}: datetime\n```\n\n{} UTC ({})\n",
                instant.format("%Y-%m-%d %H:%M:%S%.3f"),
                instant.format("%A")
            )
        }
        _ => {
            if !compared_with_event_id(node, text) {
                return None;
            }
            let event = windows_security_event(literal.parse().ok()?)?;
            format!(
                "**Windows Security event {}**: {}\n\nCategory: {}; subcategory: {}.\n",
                event.id, event.title, event.category, event.subcategory
            )
        }
    };
    Some(HoverResult {
        range: node.byte_range(),
        markdown,
    })
}

/// Checks whether an integer literal is compared with an `EventID` column: `EventID == 4688`,
/// `EventID != 4688` or `EventID in (4624, 4625)`.
fn compared_with_event_id(literal: Node, text: &str) -> bool {
    let is_event_id = |node: Option<Node>| {
        node.is_some_and(|node| {
            node.kind() == kinds::IDENTIFIER
                && text[node.byte_range()].eq_ignore_ascii_case("EventID")
        })
    };
    let Some(parent) = literal.parent() else {
        return false;
    };
    match parent.kind() {
        kinds::BINARY_EXPRESSION => {
            let operator = parent
                .child_by_field_name("operator")
                .map(|operator| &text[operator.byte_range()]);
            matches!(operator, Some("==" | "!=" | "<>"))
                && (is_event_id(parent.child_by_field_name("left"))
                    || is_event_id(parent.child_by_field_name("right")))
        }
        kinds::EXPRESSION_LIST => parent
            .parent()
            .filter(|list_parent| list_parent.kind() == kinds::IN_EXPRESSION)
            .is_some_and(|in_expression| is_event_id(in_expression.child_by_field_name("left"))),
        _ => false,
    }
}

/// Hover for a tabular operator or a documented function call.
fn catalog_hover(catalog: &Catalog, file: &SourceFile, offset: usize) -> Option<HoverResult> {
    let text = file.text();
    let tokens = file.tokens();
    let index = cursor::ident_at(tokens, offset)?;

    let name_tokens = cursor::hyphenated_name(text, tokens, index);
    let range = tokens[name_tokens.start].start..tokens[name_tokens.end - 1].end;
    let name = &text[range.clone()];
    let operator = catalog.operator(name);
    if let Some(operator) =
        operator.filter(|_| cursor::is_operator_position(catalog, text, tokens, range.start, name))
    {
        return Some(HoverResult {
            range,
            markdown: operator.hover_markdown(),
        });
    }

    let token = tokens[index];
    let next = cursor::next_significant(tokens, index)?;
    if tokens[next].kind != TokenKind::OpenParen {
        return None;
    }
    let function = catalog.function(token.text(text))?;
    Some(HoverResult {
        range: token.range(),
        markdown: function.hover_markdown(),
    })
}

#[cfg(test)]
mod tests {
    use expect_test::{Expect, expect};

    use super::*;
    use crate::fixture;

    fn check(fixture: &str, expect: Expect) {
        let (text, offset) = fixture::cursor(fixture);
        let file = SourceFile::parse(&text);
        let actual = match hover(&Analysis::new(Catalog::get()), &file, offset) {
            Some(hover) => {
                let first_line = hover.markdown.lines().nth(1).unwrap_or_default();
                format!("{:?} {first_line}", &text[hover.range])
            }
            None => "no hover".to_owned(),
        };
        expect.assert_eq(&actual);
    }

    #[test]
    fn hover_operator_after_pipe() {
        check(
            "SecurityEvent | wh$0ere EventID == 4625",
            expect![[r#""where" T | where Predicate"#]],
        );
    }

    #[test]
    fn hover_operator_at_word_end() {
        check(
            "T\n| summarize$0 count() by Account",
            expect![[
                r#""summarize" T | summarize [SummarizeParameters] [[ColumnName =] Aggregation [, ...]] [by [ColumnName =] GroupExpression [, ...]]"#
            ]],
        );
    }

    #[test]
    fn hover_hyphenated_operator() {
        check(
            "T | project-a$0way Secret",
            expect![[r#""project-away" T | project-away ColumnNameOrPattern [, ...]"#]],
        );
        check(
            "T | m$0v-expand Tags",
            expect![[
                r#""mv-expand" T | mv-expand [bagexpansion = (bag | array)] [with_itemindex = IndexColumnName] [ColumnName =] ArrayExpression [to typeof(Type)] [, ...] [limit RowLimit]"#
            ]],
        );
    }

    #[test]
    fn hover_operator_alias() {
        check(
            "T | lim$0it 10",
            expect![[r#""limit" T | take NumberOfRows"#]],
        );
    }

    #[test]
    fn hover_query_starting_operator() {
        check(
            "pri$0nt x = 1",
            expect![[r#""print" print [ColumnName =] Expression [, ...]"#]],
        );
    }

    #[test]
    fn hover_function_call() {
        check(
            "T | where Computer has_any (x) and isnot$0empty(Account)",
            expect![[r#""isnotempty" isnotempty(value: scalar): bool"#]],
        );
    }

    #[test]
    fn hover_aggregate_in_summarize() {
        check(
            "T | summarize dc$0ount(Account) by Computer",
            expect![[r#""dcount" dcount(expr: scalar, [accuracy: scalar]): long"#]],
        );
    }

    #[test]
    fn hover_plugin_lists_parameter_notes() {
        let (text, offset) = fixture::cursor("SigninLogs | evaluate bag_un$0pack(DeviceDetail)");
        let file = SourceFile::parse(&text);
        let hover = hover(&Analysis::new(Catalog::get()), &file, offset).expect("hover");
        assert_eq!(&text[hover.range], "bag_unpack");
        assert!(
            hover.markdown.contains("Plugin, called with `evaluate`."),
            "{}",
            hover.markdown
        );
        assert!(
            hover.markdown.contains("- `column_prefix`: "),
            "{}",
            hover.markdown
        );
        assert!(hover.markdown.contains("Example:"), "{}", hover.markdown);
    }

    #[test]
    fn hover_function_added_to_full_catalog() {
        check(
            "DeviceNetworkEvents | extend Net = format_ipv4_ma$0sk(RemoteIP, 24)",
            expect![[r#""format_ipv4_mask" format_ipv4_mask(ip: scalar, prefix: long): string"#]],
        );
    }

    #[test]
    fn hover_none_on_column_named_like_operator() {
        check("T | where $0count > 5", expect!["no hover"]);
        check("T | project wh$0ere", expect!["no hover"]);
    }

    #[test]
    fn hover_none_on_unknown_function() {
        check("T | extend x = my_fun$0ction(1)", expect!["no hover"]);
    }

    #[test]
    fn hover_none_in_string() {
        check("T | where x == 'wh$0ere'", expect!["no hover"]);
    }

    /// Renders the whole hover text, for hovers whose body matters.
    fn check_full(fixture: &str, expect: Expect) {
        let (text, offset) = fixture::cursor(fixture);
        let file = SourceFile::parse(&text);
        let actual = match hover(&Analysis::new(Catalog::get()), &file, offset) {
            Some(hover) => format!("{:?}\n{}", &text[hover.range], hover.markdown),
            None => "no hover".to_owned(),
        };
        expect.assert_eq(&actual);
    }

    #[test]
    fn hover_table_column() {
        check_full(
            "SecurityEvent | where Acc$0ount == 'x'",
            expect![[r#"
                "Account"
                ```kusto
                Account: string
                ```

                Column of table `SecurityEvent`.
            "#]],
        );
    }

    #[test]
    fn hover_computed_column() {
        check_full(
            "SigninLogs\n| summarize Failures = countif(ResultType != '0') by UserPrincipalName\n| where Fail$0ures > 10",
            expect![[r#"
                "Failures"
                ```kusto
                Failures: long
                ```

                Defined by `summarize` on line 2: `Failures = countif(ResultType != '0')`
            "#]],
        );
    }

    #[test]
    fn hover_table_lists_columns() {
        let (text, offset) = fixture::cursor("Heart$0beat | take 1");
        let file = SourceFile::parse(&text);
        let hover = hover(&Analysis::new(Catalog::get()), &file, offset).unwrap();
        assert_eq!(&text[hover.range], "Heartbeat");
        assert!(
            hover.markdown.contains("- `Computer`: string"),
            "{}",
            hover.markdown
        );
        assert!(
            hover.markdown.contains("bundled Sentinel"),
            "{}",
            hover.markdown
        );
    }

    #[test]
    fn hover_let_binding() {
        check_full(
            "let threshold = 5;\nSecurityEvent | summarize n = count() by Account | where n > thre$0shold",
            expect![[r#"
                "threshold"
                ```kusto
                (let) threshold: long
                ```

                Defined on line 1: `let threshold = 5;`
            "#]],
        );
    }

    #[test]
    fn hover_timespan_and_datetime() {
        check_full(
            "SecurityEvent | where TimeGenerated > ago(1.5$0h)",
            expect![[r#"
                "1.5h"
                ```kusto
                1.5h: timespan
                ```

                1 hour 30 minutes
            "#]],
        );
        check_full(
            "print x = datetime(2024-03-10 05:2$04:24.010)",
            expect![[r#"
                "datetime(2024-03-10 05:24:24.010)"
                ```kusto
                datetime(2024-03-10 05:24:24.010): datetime
                ```

                2024-03-10 05:24:24.010 UTC (Sunday)
            "#]],
        );
    }

    #[test]
    fn hover_windows_event_id() {
        check_full(
            "SecurityEvent | where EventID == 46$088",
            expect![[r#"
                "4688"
                **Windows Security event 4688**: A new process has been created.

                Category: Detailed Tracking; subcategory: Process Creation.
            "#]],
        );
        check(
            "SecurityEvent | where EventID in (4624, 46$025)",
            expect![[r#""4625" "#]],
        );
        check("SecurityEvent | where Level == 46$088", expect!["no hover"]);
    }
}
