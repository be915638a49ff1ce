//! Token navigation around a cursor, shared by hover, completion and highlighting.

use std::ops::Range;

use quarry_analysis::Catalog;

use crate::lexer::{Token, TokenKind};

/// Returns the index of the name token under `offset`, counting the offset just after a name
/// as on it, since that is where the cursor sits while typing.
pub fn ident_at(tokens: &[Token], offset: usize) -> Option<usize> {
    let index = tokens.partition_point(|token| token.end < offset);
    [index, index + 1].into_iter().find(|&i| {
        tokens.get(i).is_some_and(|token| {
            token.kind == TokenKind::Ident && token.start <= offset && offset <= token.end
        })
    })
}

/// Returns the index of the last significant token that ends at or before `offset`.
pub fn significant_before(tokens: &[Token], offset: usize) -> Option<usize> {
    let end = tokens.partition_point(|token| token.end <= offset);
    tokens[..end].iter().rposition(Token::is_significant)
}

pub fn next_significant(tokens: &[Token], index: usize) -> Option<usize> {
    tokens[index + 1..]
        .iter()
        .position(Token::is_significant)
        .map(|i| index + 1 + i)
}

/// Extends the name at `index` to a hyphenated name written without spaces, such as
/// `mv-expand` or `project-away`, and returns its token index range.
pub fn hyphenated_name(source: &str, tokens: &[Token], index: usize) -> Range<usize> {
    let is_joining_hyphen = |hyphen: usize| {
        let token = &tokens[hyphen];
        token.kind == TokenKind::Punct
            && token.text(source) == "-"
            && tokens[hyphen - 1].kind == TokenKind::Ident
            && tokens[hyphen - 1].end == token.start
            && tokens[hyphen + 1].kind == TokenKind::Ident
            && token.end == tokens[hyphen + 1].start
    };

    let mut first = index;
    while first >= 2 && is_joining_hyphen(first - 1) {
        first -= 2;
    }
    let mut last = index;
    while last + 2 < tokens.len() && is_joining_hyphen(last + 1) {
        last += 2;
    }
    first..last + 1
}

/// Checks whether a name starting at byte `start` is where a tabular operator goes: after `|`, or,
/// for operators that can begin a query (`print`, `range`, `union`, ...), at the start of a
/// query block or statement.
pub fn is_operator_position(
    catalog: &Catalog,
    source: &str,
    tokens: &[Token],
    start: usize,
    name: &str,
) -> bool {
    let starts_query = || {
        catalog
            .operator(name)
            .is_some_and(|operator| operator.starts_query)
    };
    let Some(previous) = significant_before(tokens, start) else {
        return starts_query();
    };
    match tokens[previous].kind {
        TokenKind::Pipe => true,
        TokenKind::Semicolon => starts_query(),
        _ if contains_blank_line(&source[tokens[previous].end..start]) => starts_query(),
        _ => false,
    }
}

/// Checks whether `gap`, the text between two tokens, contains a blank line.
pub fn contains_blank_line(gap: &str) -> bool {
    let lines: Vec<&str> = gap.split('\n').collect();
    lines.len() > 2
        && lines[1..lines.len() - 1]
            .iter()
            .any(|line| line.trim().is_empty())
}
