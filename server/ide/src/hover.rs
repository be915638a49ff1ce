//! Hover: the catalog documentation of the tabular operator or function under the cursor.

use std::ops::Range;

use quarry_analysis::Catalog;

use crate::SourceFile;
use crate::cursor;
use crate::lexer::TokenKind;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HoverResult {
    /// The name the documentation is about.
    pub range: Range<usize>,
    pub markdown: String,
}

pub fn hover(catalog: &Catalog, file: &SourceFile, offset: usize) -> Option<HoverResult> {
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
        let actual = match hover(Catalog::get(), &file, offset) {
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
}
