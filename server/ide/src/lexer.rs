//! A KQL tokenizer for editor features that need tokens but no tree: highlighting, folding,
//! query blocks and the cursor context of hover and completion.
//!
//! It never fails. Text it cannot classify becomes [`TokenKind::Unknown`], and an unclosed
//! string or comment runs to the end of the text, as it does while someone is typing.

use std::ops::Range;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// Spaces, tabs and line breaks.
    Whitespace,
    /// A `//` comment up to the end of its line.
    Comment,
    /// Any string literal: quoted, verbatim (`@'...'`), obfuscated (`h'...'`) or multi-line
    /// (```` ``` ... ``` ````).
    String,
    /// A number, with a timespan unit if one follows (`10`, `1.5e3`, `0x1F`, `30m`, `100ms`).
    Number,
    /// A name or keyword, including `$left` and `$right`.
    Ident,
    /// `|`.
    Pipe,
    OpenParen,
    CloseParen,
    OpenBracket,
    CloseBracket,
    OpenBrace,
    CloseBrace,
    Comma,
    Semicolon,
    /// Any other punctuation, such as `==`, `=~`, `!`, `.` or `-`.
    Punct,
    Unknown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token {
    pub kind: TokenKind,
    /// Byte offsets into the text.
    pub start: usize,
    pub end: usize,
}

impl Token {
    pub fn range(&self) -> Range<usize> {
        self.start..self.end
    }

    pub fn text<'a>(&self, source: &'a str) -> &'a str {
        &source[self.start..self.end]
    }

    /// Returns `false` for whitespace and comments, which carry no meaning.
    pub fn is_significant(&self) -> bool {
        !matches!(self.kind, TokenKind::Whitespace | TokenKind::Comment)
    }
}

/// Two-character punctuation, longest match first.
const TWO_CHAR_PUNCT: [&str; 7] = ["==", "!=", "<>", "<=", ">=", "=~", "!~"];

pub fn tokenize(text: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut pos = 0;
    while pos < text.len() {
        let token = next_token(text, pos);
        pos = token.end;
        tokens.push(token);
    }
    tokens
}

/// Reads the token that starts at byte `start` of `text`, which must be before the end.
fn next_token(text: &str, start: usize) -> Token {
    let bytes = text.as_bytes();
    let mut pos = start;
    {
        let byte = bytes[pos];
        let kind = match byte {
            b' ' | b'\t' | b'\r' | b'\n' => {
                pos = skip_while(bytes, pos, |b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'));
                TokenKind::Whitespace
            }
            b'/' if bytes.get(pos + 1) == Some(&b'/') => {
                pos = skip_while(bytes, pos, |b| b != b'\n');
                TokenKind::Comment
            }
            b'`' if text[pos..].starts_with("```") => {
                pos = match text[pos + 3..].find("```") {
                    Some(close) => pos + 3 + close + 3,
                    None => bytes.len(),
                };
                TokenKind::String
            }
            b'\'' | b'"' => {
                pos = quoted_string_end(bytes, pos, false);
                TokenKind::String
            }
            b'@' if matches!(bytes.get(pos + 1), Some(b'\'' | b'"')) => {
                pos = quoted_string_end(bytes, pos + 1, true);
                TokenKind::String
            }
            b'h' | b'H' if is_obfuscated_string_start(bytes, pos) => {
                let verbatim = bytes[pos + 1] == b'@';
                let quote = if verbatim { pos + 2 } else { pos + 1 };
                pos = quoted_string_end(bytes, quote, verbatim);
                TokenKind::String
            }
            b'0'..=b'9' => {
                pos = number_end(bytes, pos);
                TokenKind::Number
            }
            b'.' if bytes.get(pos + 1).is_some_and(u8::is_ascii_digit) => {
                pos = number_end(bytes, pos);
                TokenKind::Number
            }
            b'$' | b'_' | b'a'..=b'z' | b'A'..=b'Z' => {
                pos = skip_while(bytes, pos + 1, is_ident_continue);
                TokenKind::Ident
            }
            b'|' => single(&mut pos, TokenKind::Pipe),
            b'(' => single(&mut pos, TokenKind::OpenParen),
            b')' => single(&mut pos, TokenKind::CloseParen),
            b'[' => single(&mut pos, TokenKind::OpenBracket),
            b']' => single(&mut pos, TokenKind::CloseBracket),
            b'{' => single(&mut pos, TokenKind::OpenBrace),
            b'}' => single(&mut pos, TokenKind::CloseBrace),
            b',' => single(&mut pos, TokenKind::Comma),
            b';' => single(&mut pos, TokenKind::Semicolon),
            _ if byte.is_ascii_punctuation() => {
                let two = TWO_CHAR_PUNCT
                    .iter()
                    .any(|punct| text[pos..].starts_with(punct));
                pos += if two { 2 } else { 1 };
                TokenKind::Punct
            }
            _ => {
                // Skip one whole character, which may be several bytes long.
                let width = text[pos..].chars().next().map_or(1, char::len_utf8);
                pos += width;
                TokenKind::Unknown
            }
        };
        Token {
            kind,
            start,
            end: pos,
        }
    }
}

/// How far past a token's end the tokenizer may look to decide where the token ends (`1e+5`,
/// `h@'...'`, ```` ``` ````). A token that ends at least this far before an edit keeps its extent.
const LOOKAHEAD: usize = 3;

/// Returns the tokens of `new_text`, the text made from the text of `old` by replacing the bytes
/// `replaced` with `inserted_len` bytes. The result equals `tokenize(new_text)`. Only the
/// stretch from the first token the edit can change to the first boundary after the edit that
/// the old tokens share is tokenized again, and the later old tokens are shifted.
pub fn retokenize(
    old: &[Token],
    new_text: &str,
    replaced: Range<usize>,
    inserted_len: usize,
) -> Vec<Token> {
    let edit_start = replaced.start;
    let new_edit_end = replaced.start + inserted_len;
    // Tokens whose extent cannot depend on the edited bytes stay as they are.
    let kept = old.partition_point(|token| token.end + LOOKAHEAD <= edit_start);
    let mut tokens: Vec<Token> = old[..kept].to_vec();
    let mut pos = old.get(kept).map_or_else(
        || tokens.last().map_or(0, |token| token.end),
        |token| token.start,
    );
    let bytes = new_text.as_bytes();
    while pos < bytes.len() {
        if pos >= new_edit_end {
            // Past the edit, the new text equals the old text shifted. So once a boundary falls
            // where an old token started, every later token is that old token, shifted.
            let old_pos = pos + replaced.end - new_edit_end;
            let index = old.partition_point(|token| token.start < old_pos);
            if old.get(index).is_some_and(|token| token.start == old_pos) {
                tokens.extend(old[index..].iter().map(|token| Token {
                    kind: token.kind,
                    start: token.start + new_edit_end - replaced.end,
                    end: token.end + new_edit_end - replaced.end,
                }));
                return tokens;
            }
        }
        let token = next_token(new_text, pos);
        pos = token.end;
        tokens.push(token);
    }
    tokens
}

fn single(pos: &mut usize, kind: TokenKind) -> TokenKind {
    *pos += 1;
    kind
}

fn skip_while(bytes: &[u8], mut pos: usize, keep: impl Fn(u8) -> bool) -> usize {
    while pos < bytes.len() && keep(bytes[pos]) {
        pos += 1;
    }
    pos
}

fn is_ident_continue(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_'
}

/// Checks whether `h` or `H` at `pos` starts an obfuscated string (`h'...'`, `H"..."`, `h@'...'`).
/// Names that merely end in `h` never reach here, because names are consumed whole.
fn is_obfuscated_string_start(bytes: &[u8], pos: usize) -> bool {
    match bytes.get(pos + 1) {
        Some(b'\'' | b'"') => true,
        Some(b'@') => matches!(bytes.get(pos + 2), Some(b'\'' | b'"')),
        _ => false,
    }
}

/// Returns the end of the string whose opening quote is at `quote`.
///
/// Regular strings stop at the first unescaped quote or line break; verbatim strings escape a
/// quote by doubling it and may not span lines either.
fn quoted_string_end(bytes: &[u8], quote: usize, verbatim: bool) -> usize {
    let delimiter = bytes[quote];
    let mut pos = quote + 1;
    while pos < bytes.len() {
        match bytes[pos] {
            b'\\' if !verbatim => pos += 2,
            b'\n' => return pos,
            byte if byte == delimiter => {
                if verbatim && bytes.get(pos + 1) == Some(&delimiter) {
                    pos += 2;
                } else {
                    return pos + 1;
                }
            }
            _ => pos += 1,
        }
    }
    bytes.len()
}

/// Returns the end of a number literal: digits, a fraction, an exponent, a hex form, and a
/// unit suffix such as `d`, `ms` or `tick`.
fn number_end(bytes: &[u8], start: usize) -> usize {
    if bytes[start] == b'0' && matches!(bytes.get(start + 1), Some(b'x' | b'X')) {
        return skip_while(bytes, start + 2, |b| b.is_ascii_hexdigit());
    }

    let mut pos = skip_while(bytes, start, |b| b.is_ascii_digit());
    if bytes.get(pos) == Some(&b'.') && bytes.get(pos + 1).is_some_and(u8::is_ascii_digit) {
        pos = skip_while(bytes, pos + 1, |b| b.is_ascii_digit());
    }
    if matches!(bytes.get(pos), Some(b'e' | b'E')) {
        let mut exponent = pos + 1;
        if matches!(bytes.get(exponent), Some(b'+' | b'-')) {
            exponent += 1;
        }
        if bytes.get(exponent).is_some_and(u8::is_ascii_digit) {
            pos = skip_while(bytes, exponent, |b| b.is_ascii_digit());
        }
    }
    skip_while(bytes, pos, |b| b.is_ascii_alphabetic())
}

#[cfg(test)]
mod tests {
    use expect_test::{Expect, expect};

    use super::*;

    fn check(text: &str, expect: Expect) {
        let rendered: Vec<String> = tokenize(text)
            .iter()
            .filter(|token| token.kind != TokenKind::Whitespace)
            .map(|token| format!("{:?} {:?}", token.kind, token.text(text)))
            .collect();
        expect.assert_eq(&rendered.join("\n"));
    }

    #[test]
    fn tokenize_pipeline() {
        check(
            "SecurityEvent | where EventID == 4625 and Account !~ \"x\" // fails",
            expect![[r#"
                Ident "SecurityEvent"
                Pipe "|"
                Ident "where"
                Ident "EventID"
                Punct "=="
                Number "4625"
                Ident "and"
                Ident "Account"
                Punct "!~"
                String "\"x\""
                Comment "// fails""#]],
        );
    }

    #[test]
    fn tokenize_string_forms() {
        check(
            r#"'a\'b' @"c:\dir""x" h'secret' H@"p" ```multi
line``` "open"#,
            expect![[r#"
                String "'a\\'b'"
                String "@\"c:\\dir\"\"x\""
                String "h'secret'"
                String "H@\"p\""
                String "```multi\nline```"
                String "\"open""#]],
        );
    }

    #[test]
    fn tokenize_numbers_and_timespans() {
        check(
            "1 2.5 1e3 0x1F 30m 100ms 1.5h .5 10tick",
            expect![[r#"
                Number "1"
                Number "2.5"
                Number "1e3"
                Number "0x1F"
                Number "30m"
                Number "100ms"
                Number "1.5h"
                Number ".5"
                Number "10tick""#]],
        );
    }

    #[test]
    fn tokenize_hyphenated_operator_and_dollar_names() {
        check(
            "T | mv-expand x | join (U) on $left.a == $right.b",
            expect![[r#"
                Ident "T"
                Pipe "|"
                Ident "mv"
                Punct "-"
                Ident "expand"
                Ident "x"
                Pipe "|"
                Ident "join"
                OpenParen "("
                Ident "U"
                CloseParen ")"
                Ident "on"
                Ident "$left"
                Punct "."
                Ident "a"
                Punct "=="
                Ident "$right"
                Punct "."
                Ident "b""#]],
        );
    }

    #[test]
    fn tokenize_unterminated_string_stops_at_line_end() {
        check(
            "print \"abc\nT",
            expect![[r#"
                Ident "print"
                String "\"abc"
                Ident "T""#]],
        );
    }

    #[test]
    fn tokenize_non_ascii_text() {
        check(
            "print «x» é",
            expect![[r#"
                Ident "print"
                Unknown "«"
                Ident "x"
                Unknown "»"
                Unknown "é""#]],
        );
    }

    #[test]
    fn retokenize_equals_tokenize_after_random_edits() {
        // Texts with every token form whose extent depends on what follows it.
        let seeds = [
            "SecurityEvent\n| where EventID == 4625 and Account !~ 'x'\n| extend d = 1e+5, t = 30m\n",
            "print a = h'secret', b = @\"C:\\temp\", c = ```multi\nline```, d = 0x1F // note\n| take 1",
            "let x = 1.5;\nT | where Name has \"a\\\"b\" | project-away ['a.b'], $left.Id",
        ];
        let pieces = [
            "", "'", "\"", "`", "```", "/", "//", "\n", "e", "+", "5", ".", "=", "~", "h", "@",
            "x", " ", "|", "0x", "ms", "\\", "é",
        ];
        // A small linear congruential generator keeps the edits reproducible.
        let mut state: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = |bound: usize| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            ((state >> 33) as usize) % bound.max(1)
        };
        for seed in seeds {
            let mut text = seed.to_owned();
            let mut tokens = tokenize(&text);
            for _ in 0..3_000 {
                let boundaries: Vec<usize> = (0..=text.len())
                    .filter(|&i| text.is_char_boundary(i))
                    .collect();
                let start = boundaries[next(boundaries.len())];
                let ends: Vec<usize> = boundaries
                    .iter()
                    .copied()
                    .filter(|&i| i >= start && i <= start + 6)
                    .collect();
                let end = ends[next(ends.len())];
                let inserted = pieces[next(pieces.len())];
                let mut new_text = text.clone();
                new_text.replace_range(start..end, inserted);
                let incremental = retokenize(&tokens, &new_text, start..end, inserted.len());
                assert_eq!(
                    incremental,
                    tokenize(&new_text),
                    "after replacing {start}..{end} of {text:?} with {inserted:?}"
                );
                text = new_text;
                tokens = incremental;
                if text.len() > 400 {
                    text = seed.to_owned();
                    tokens = tokenize(&text);
                }
            }
        }
    }

    #[test]
    fn tokens_cover_the_whole_text() {
        let text = "let x = 1;\n\nT | where y has 'z'\n// end\n\u{1F600}";
        let tokens = tokenize(text);
        let mut expected_start = 0;
        for token in &tokens {
            assert_eq!(token.start, expected_start, "gap before {token:?}");
            assert!(token.end > token.start, "empty token {token:?}");
            expected_start = token.end;
        }
        assert_eq!(expected_start, text.len());
    }
}
