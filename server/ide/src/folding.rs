//! Folding ranges: query blocks, multi-line brackets and runs of comment lines.

use std::ops::Range;

use crate::SourceFile;
use crate::lexer::TokenKind;
use crate::query_blocks::query_blocks;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fold {
    pub range: Range<usize>,
    pub kind: FoldKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FoldKind {
    QueryBlock,
    /// A `( ... )`, `[ ... ]` or `{ ... }` pair.
    Brackets,
    /// Two or more comment lines in a row.
    Comments,
}

/// Returns folds that span more than one line, sorted by start.
pub fn folding_ranges(file: &SourceFile) -> Vec<Fold> {
    let text = file.text();
    let spans_lines = |range: &Range<usize>| text[range.clone()].contains('\n');
    let mut folds: Vec<Fold> = query_blocks(file)
        .into_iter()
        .map(|range| Fold {
            range,
            kind: FoldKind::QueryBlock,
        })
        .collect();

    let mut open = Vec::new();
    let mut comment_run: Option<(Range<usize>, usize)> = None;
    for token in file.tokens() {
        match token.kind {
            TokenKind::OpenParen | TokenKind::OpenBracket | TokenKind::OpenBrace => {
                open.push((token.kind, token.start));
            }
            TokenKind::CloseParen | TokenKind::CloseBracket | TokenKind::CloseBrace => {
                let opening = match token.kind {
                    TokenKind::CloseParen => TokenKind::OpenParen,
                    TokenKind::CloseBracket => TokenKind::OpenBracket,
                    _ => TokenKind::OpenBrace,
                };
                // An unmatched closer is skipped; an unclosed opener never folds.
                if let Some(position) = open.iter().rposition(|(kind, _)| *kind == opening) {
                    let (_, start) = open[position];
                    open.truncate(position);
                    folds.push(Fold {
                        range: start..token.end,
                        kind: FoldKind::Brackets,
                    });
                }
            }
            _ => {}
        }

        match token.kind {
            TokenKind::Comment => {
                comment_run = match comment_run.take() {
                    Some((run, count)) if is_single_line_break(&text[run.end..token.start]) => {
                        Some((run.start..token.end, count + 1))
                    }
                    finished => {
                        push_comment_run(&mut folds, finished);
                        Some((token.range(), 1))
                    }
                };
            }
            TokenKind::Whitespace => {}
            _ => push_comment_run(&mut folds, comment_run.take()),
        }
    }
    push_comment_run(&mut folds, comment_run);

    folds.retain(|fold| spans_lines(&fold.range));
    folds.sort_by_key(|fold| (fold.range.start, std::cmp::Reverse(fold.range.end)));
    folds
}

/// Checks whether `gap` is whitespace with exactly one line break, so the comments around it sit on
/// consecutive lines.
fn is_single_line_break(gap: &str) -> bool {
    gap.chars().all(char::is_whitespace) && gap.matches('\n').count() == 1
}

fn push_comment_run(folds: &mut Vec<Fold>, run: Option<(Range<usize>, usize)>) {
    if let Some((range, _)) = run.filter(|(_, count)| *count >= 2) {
        folds.push(Fold {
            range,
            kind: FoldKind::Comments,
        });
    }
}

#[cfg(test)]
mod tests {
    use expect_test::{Expect, expect};

    use super::*;

    fn check(text: &str, expect: Expect) {
        let file = SourceFile::parse(text);
        let lines: Vec<String> = folding_ranges(&file)
            .into_iter()
            .map(|fold| format!("{:?} {:?}", fold.kind, &text[fold.range]))
            .collect();
        expect.assert_eq(&lines.join("\n"));
    }

    #[test]
    fn folds_blocks_brackets_comments() {
        check(
            "// Failed logons\n// per account\nSecurityEvent\n| where EventID in (\n    4625,\n    4771)\n| take 5\n\nT | take 1\n",
            expect![[r#"
                QueryBlock "// Failed logons\n// per account\nSecurityEvent\n| where EventID in (\n    4625,\n    4771)\n| take 5"
                Comments "// Failed logons\n// per account"
                Brackets "(\n    4625,\n    4771)""#]],
        );
    }

    #[test]
    fn folds_skip_single_line_and_unbalanced() {
        check(
            "T | where x in (1, 2)\n| extend y = (\n// lone comment\n| take 1)",
            expect![[r#"
            QueryBlock "T | where x in (1, 2)\n| extend y = (\n// lone comment\n| take 1)"
            Brackets "(\n// lone comment\n| take 1)""#]],
        );
    }
}
