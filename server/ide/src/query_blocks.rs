//! Query blocks: runs of non-blank lines, the unit a hunter runs at once.
//!
//! A blank line inside a multi-line string literal does not end a block.

use std::ops::Range;

use crate::SourceFile;
use crate::lexer::TokenKind;

/// Returns the byte range of each block that contains at least one token other than comments,
/// trimmed of surrounding whitespace, in document order.
pub fn query_blocks(file: &SourceFile) -> Vec<Range<usize>> {
    let text = file.text();
    let mut blocks = Vec::new();
    let mut current: Option<Range<usize>> = None;
    let mut has_code = false;

    for token in file.tokens() {
        if token.kind == TokenKind::Whitespace {
            if token.text(text).matches('\n').count() >= 2 {
                if let Some(block) = current.take().filter(|_| has_code) {
                    blocks.push(block);
                }
                has_code = false;
            }
            continue;
        }

        has_code |= token.kind != TokenKind::Comment;
        match &mut current {
            Some(block) => block.end = token.end,
            None => current = Some(token.range()),
        }
    }
    if let Some(block) = current.filter(|_| has_code) {
        blocks.push(block);
    }
    blocks
}

#[cfg(test)]
mod tests {
    use expect_test::{Expect, expect};

    use super::*;

    fn check(text: &str, expect: Expect) {
        let file = SourceFile::parse(text);
        let rendered: Vec<String> = query_blocks(&file)
            .into_iter()
            .map(|block| format!("{:?}", &text[block]))
            .collect();
        expect.assert_eq(&rendered.join("\n"));
    }

    #[test]
    fn blocks_split_at_blank_lines() {
        check(
            "let x = 1;\nT | take x\n\n  \n// comment only\n\nU\n| count\n",
            expect![[r#"
                "let x = 1;\nT | take x"
                "U\n| count""#]],
        );
    }

    #[test]
    fn blocks_keep_multiline_string_together() {
        check(
            "print ```a\n\nb```\n\nT",
            expect![[r#"
                "print ```a\n\nb```"
                "T""#]],
        );
    }

    #[test]
    fn blocks_include_leading_comment() {
        check(
            "// failed logons\nSecurityEvent\r\n| where EventID == 4625\r\n\r\nT",
            expect![[r#"
                "// failed logons\nSecurityEvent\r\n| where EventID == 4625"
                "T""#]],
        );
    }
}
