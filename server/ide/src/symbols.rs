//! Document symbols: one per query block, with its `let` statements as children.

use std::ops::Range;

use crate::SourceFile;
use crate::lexer::{Token, TokenKind};
use crate::query_blocks::query_blocks;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Symbol {
    pub name: String,
    pub kind: SymbolKind,
    /// The whole construct: the block, or the `let` statement up to its `;`.
    pub range: Range<usize>,
    /// The part to select and reveal: the block's first line, or the bound name.
    pub selection_range: Range<usize>,
    pub children: Vec<Symbol>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SymbolKind {
    /// A query block.
    Query,
    /// `let name = expression` or `let name = view () { ... }` binding a value or table.
    Variable,
    /// `let name = (parameters) { ... }`, a user-defined function.
    Function,
}

/// The longest block name; longer first lines are cut and end in `…`.
const MAX_NAME_CHARS: usize = 60;

pub fn document_symbols(file: &SourceFile) -> Vec<Symbol> {
    let text = file.text();
    query_blocks(file)
        .into_iter()
        .map(|block| {
            let first_line_end = text[block.clone()]
                .find('\n')
                .map_or(block.end, |i| block.start + i);
            let first_line = text[block.start..first_line_end].trim_end();
            Symbol {
                name: shorten(first_line),
                kind: SymbolKind::Query,
                range: block.clone(),
                selection_range: block.start..block.start + first_line.len(),
                children: let_statements(file, block),
            }
        })
        .collect()
}

fn shorten(line: &str) -> String {
    match line.char_indices().nth(MAX_NAME_CHARS) {
        Some((cut, _)) => format!("{}…", line[..cut].trim_end()),
        None => line.to_owned(),
    }
}

/// Finds `let NAME =` at the start of each statement in `block`.
fn let_statements(file: &SourceFile, block: Range<usize>) -> Vec<Symbol> {
    let text = file.text();
    let tokens: Vec<Token> = file
        .tokens()
        .iter()
        .filter(|token| {
            token.is_significant() && block.start <= token.start && token.end <= block.end
        })
        .copied()
        .collect();

    let mut symbols = Vec::new();
    let mut statement_start = true;
    for (i, token) in tokens.iter().enumerate() {
        let starts_let =
            statement_start && token.kind == TokenKind::Ident && token.text(text) == "let";
        statement_start = token.kind == TokenKind::Semicolon;
        if !starts_let {
            continue;
        }
        let Some(name) = tokens
            .get(i + 1)
            .filter(|name| name.kind == TokenKind::Ident)
        else {
            continue;
        };

        let end = tokens[i..]
            .iter()
            .find(|token| token.kind == TokenKind::Semicolon)
            .map_or(block.end, |semicolon| semicolon.end);
        let value = tokens
            .get(i + 3)
            .filter(|_| tokens.get(i + 2).is_some_and(|eq| eq.text(text) == "="));
        let kind = match value {
            Some(value) if value.kind == TokenKind::OpenParen => SymbolKind::Function,
            _ => SymbolKind::Variable,
        };
        symbols.push(Symbol {
            name: name.text(text).to_owned(),
            kind,
            range: token.start..end,
            selection_range: name.range(),
            children: Vec::new(),
        });
    }
    symbols
}

#[cfg(test)]
mod tests {
    use expect_test::{Expect, expect};

    use super::*;

    fn check(text: &str, expect: Expect) {
        let file = SourceFile::parse(text);
        let mut lines = Vec::new();
        for symbol in document_symbols(&file) {
            lines.push(format!(
                "{:?} {:?} {:?}",
                symbol.kind, symbol.name, &text[symbol.selection_range]
            ));
            for child in symbol.children {
                lines.push(format!(
                    "  {:?} {:?} {:?}",
                    child.kind, child.name, &text[child.range]
                ));
            }
        }
        expect.assert_eq(&lines.join("\n"));
    }

    #[test]
    fn symbols_blocks_and_lets() {
        check(
            "let threshold = 5;\nlet Failed = (t: long) { SecurityEvent | where EventID == t };\nFailed(4625)\n| summarize n = count() by Account\n| where n > threshold\n\nSigninLogs | take 10\n",
            expect![[r#"
                Query "let threshold = 5;" "let threshold = 5;"
                  Variable "threshold" "let threshold = 5;"
                  Function "Failed" "let Failed = (t: long) { SecurityEvent | where EventID == t };"
                Query "SigninLogs | take 10" "SigninLogs | take 10""#]],
        );
    }

    #[test]
    fn symbols_long_first_line_is_shortened() {
        check(
            "SecurityEvent | where Computer in ('host-a', 'host-b', 'host-c', 'host-d', 'host-e')",
            expect![[
                r#"Query "SecurityEvent | where Computer in ('host-a', 'host-b', 'host…" "SecurityEvent | where Computer in ('host-a', 'host-b', 'host-c', 'host-d', 'host-e')""#
            ]],
        );
    }

    #[test]
    fn symbols_let_inside_expression_is_not_a_statement() {
        check(
            "print x = 1 // let y = 2\n| extend z = 3",
            expect![[r#"Query "print x = 1 // let y = 2" "print x = 1 // let y = 2""#]],
        );
    }
}
