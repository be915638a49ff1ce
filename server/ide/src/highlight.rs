//! Semantic highlighting from tokens and the catalog.
//!
//! Names get a tag only when their role is clear: tabular operators, query keywords, word
//! operators such as `has`, function calls and names bound by `let`. Other names (tables,
//! columns) get no tag, so the client's grammar colours them.

use std::ops::Range;

use quarry_analysis::Catalog;

use crate::SourceFile;
use crate::cursor;
use crate::lexer::TokenKind;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Highlight {
    pub range: Range<usize>,
    pub tag: HighlightTag,
    /// Whether the name is a built-in from the catalog, such as `count()` or `$left`.
    pub default_library: bool,
    /// Whether this is where the name is bound (`let name = ...`).
    pub declaration: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HighlightTag {
    /// A tabular operator name, such as `where` or `mv-expand`.
    TabularOperator,
    /// Another keyword: `let`, `by`, `on`, `asc`, `true`, ...
    Keyword,
    /// A word operator in an expression: `and`, `has`, `contains`, `between`, ...
    WordOperator,
    Function,
    Variable,
    String,
    Number,
    Comment,
}

const KEYWORDS: &[&str] = &[
    "let",
    "set",
    "declare",
    "query_parameters",
    "alias",
    "pattern",
    "restrict",
    "access",
    "view",
    "by",
    "on",
    "kind",
    "with",
    "withsource",
    "asc",
    "desc",
    "nulls",
    "first",
    "last",
    "to",
    "step",
    "from",
    "of",
    "typeof",
    "true",
    "false",
    "null",
    "isfuzzy",
    "inner",
    "outer",
    "leftouter",
    "rightouter",
    "fullouter",
    "leftanti",
    "rightanti",
    "leftsemi",
    "rightsemi",
    "innerunique",
    "anti",
    "semi",
    "$left",
    "$right",
];

const WORD_OPERATORS: &[&str] = &[
    "and",
    "or",
    "has",
    "has_cs",
    "hasprefix",
    "hasprefix_cs",
    "hassuffix",
    "hassuffix_cs",
    "contains",
    "contains_cs",
    "startswith",
    "startswith_cs",
    "endswith",
    "endswith_cs",
    "matches",
    "regex",
    "in",
    "between",
    "has_any",
    "has_all",
    "notcontains",
    "notcontainscs",
    "notbetween",
    "notin",
    "like",
    "notlike",
];

pub fn highlight(catalog: &Catalog, file: &SourceFile) -> Vec<Highlight> {
    let text = file.text();
    let tokens = file.tokens();
    let mut highlights = Vec::new();
    let mut index = 0;

    while index < tokens.len() {
        let token = tokens[index];
        let mut next_index = index + 1;
        let plain = |tag| Highlight {
            range: token.range(),
            tag,
            default_library: false,
            declaration: false,
        };

        let highlight = match token.kind {
            TokenKind::Comment => Some(plain(HighlightTag::Comment)),
            TokenKind::String => Some(plain(HighlightTag::String)),
            TokenKind::Number => Some(plain(HighlightTag::Number)),
            TokenKind::Ident => {
                let name_tokens = cursor::hyphenated_name(text, tokens, index);
                let range = token.start..tokens[name_tokens.end - 1].end;
                let name = &text[range.clone()];
                let is_operator = catalog.operator(name).is_some()
                    && cursor::is_operator_position(catalog, text, tokens, token.start, name);
                if is_operator {
                    next_index = name_tokens.end;
                    Some(Highlight {
                        range,
                        tag: HighlightTag::TabularOperator,
                        default_library: true,
                        declaration: false,
                    })
                } else {
                    classify_name(catalog, file, index)
                }
            }
            _ => None,
        };
        highlights.extend(highlight);
        index = next_index;
    }
    highlights
}

/// Returns the first string literal or comment, in document order, whose range contains
/// `offset` or ends at it, as the highlight [`highlight`] gives it. Only the tokens next to
/// `offset` are read, so this is cheap on any document size.
pub fn string_or_comment_at(file: &SourceFile, offset: usize) -> Option<Highlight> {
    let tokens = file.tokens();
    let first = tokens.partition_point(|token| token.end < offset);
    tokens[first..]
        .iter()
        .take_while(|token| token.start <= offset)
        .find_map(|token| {
            let tag = match token.kind {
                TokenKind::String => HighlightTag::String,
                TokenKind::Comment => HighlightTag::Comment,
                _ => return None,
            };
            Some(Highlight {
                range: token.range(),
                tag,
                default_library: false,
                declaration: false,
            })
        })
}

/// Tags a name that is not a tabular operator.
fn classify_name(catalog: &Catalog, file: &SourceFile, index: usize) -> Option<Highlight> {
    let text = file.text();
    let tokens = file.tokens();
    let token = tokens[index];
    let name = token.text(text);
    let highlight = |tag, default_library, declaration| {
        Some(Highlight {
            range: token.range(),
            tag,
            default_library,
            declaration,
        })
    };

    let next = cursor::next_significant(tokens, index).map(|i| tokens[i]);
    if next.is_some_and(|next| next.kind == TokenKind::OpenParen) && !KEYWORDS.contains(&name) {
        return highlight(
            HighlightTag::Function,
            catalog.function(name).is_some(),
            false,
        );
    }
    if KEYWORDS.contains(&name) {
        return highlight(HighlightTag::Keyword, name.starts_with('$'), false);
    }
    if WORD_OPERATORS.contains(&name) {
        return highlight(HighlightTag::WordOperator, false, false);
    }
    let previous = cursor::significant_before(tokens, token.start).map(|i| tokens[i]);
    if previous
        .is_some_and(|previous| previous.kind == TokenKind::Ident && previous.text(text) == "let")
    {
        return highlight(HighlightTag::Variable, false, true);
    }
    None
}

#[cfg(test)]
mod tests {
    use expect_test::{Expect, expect};

    use super::*;

    #[test]
    fn string_or_comment_at_matches_highlight() {
        let text = "T // note\n| where A == 'x''y' and B has @\"c:\\d\"// tail\n| take 1 // end";
        let file = SourceFile::parse(text);
        let highlights = highlight(Catalog::get(), &file);
        for offset in 0..=text.len() {
            let expected = highlights.iter().find(|highlight| {
                matches!(highlight.tag, HighlightTag::String | HighlightTag::Comment)
                    && highlight.range.start <= offset
                    && offset <= highlight.range.end
            });
            assert_eq!(
                string_or_comment_at(&file, offset).as_ref(),
                expected,
                "offset {offset}"
            );
        }
    }

    fn check(text: &str, expect: Expect) {
        let file = SourceFile::parse(text);
        let lines: Vec<String> = highlight(Catalog::get(), &file)
            .into_iter()
            .map(|highlight| {
                let mut modifiers = String::new();
                if highlight.default_library {
                    modifiers.push_str(" defaultLibrary");
                }
                if highlight.declaration {
                    modifiers.push_str(" declaration");
                }
                format!(
                    "{:?} {:?}{modifiers}",
                    highlight.tag, &text[highlight.range]
                )
            })
            .collect();
        expect.assert_eq(&lines.join("\n"));
    }

    #[test]
    fn highlight_pipeline() {
        check(
            "let threshold = 5; // limit\nSecurityEvent\n| where EventID == 4625 and Account has 'admin'\n| summarize n = dcount(Computer) by bin(TimeGenerated, 1h)\n| project-away n\n| order by n desc",
            expect![[r#"
                Keyword "let"
                Variable "threshold" declaration
                Number "5"
                Comment "// limit"
                TabularOperator "where" defaultLibrary
                Number "4625"
                WordOperator "and"
                WordOperator "has"
                String "'admin'"
                TabularOperator "summarize" defaultLibrary
                Function "dcount" defaultLibrary
                Keyword "by"
                Function "bin" defaultLibrary
                Number "1h"
                TabularOperator "project-away" defaultLibrary
                TabularOperator "order" defaultLibrary
                Keyword "by"
                Keyword "desc""#]],
        );
    }

    #[test]
    fn highlight_query_start_operator_and_join_keywords() {
        check(
            "print x = 1\n\nT | join kind=inner (U) on $left.a == $right.b",
            expect![[r#"
            TabularOperator "print" defaultLibrary
            Number "1"
            TabularOperator "join" defaultLibrary
            Keyword "kind"
            Keyword "inner"
            Keyword "on"
            Keyword "$left" defaultLibrary
            Keyword "$right" defaultLibrary"#]],
        );
    }

    #[test]
    fn highlight_operator_word_as_column() {
        check(
            "T | where count > 1 | project where",
            expect![[r#"
            TabularOperator "where" defaultLibrary
            Number "1"
            TabularOperator "project" defaultLibrary"#]],
        );
    }
}
