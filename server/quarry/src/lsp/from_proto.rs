//! Conversions from LSP types to the byte offsets and plain values `quarry-ide` takes.

use std::ops::Range;

use ropey::Rope;
use tower_lsp_server::ls_types;

/// Converts an LSP position (UTF-16 code units) to a byte offset in `rope`.
///
/// As the LSP specification requires, a line past the end means the end of the document and a character
/// past the end of its line means the end of that line.
pub fn offset(rope: &Rope, position: ls_types::Position) -> usize {
    let line = position.line as usize;
    if line >= rope.len_lines() {
        return rope.len_bytes();
    }

    let line_start = rope.line_to_char(line);
    let line_text = rope.line(line);
    let content_units = line_text.len_utf16_cu() - line_terminator_units(&line_text);
    let units = (position.character as usize).min(content_units);
    let char_index = line_start + line_text.utf16_cu_to_char(units);
    rope.char_to_byte(char_index)
}

/// Converts an LSP range to a byte range in `rope`; a reversed range is put in order.
pub fn text_range(rope: &Rope, range: ls_types::Range) -> Range<usize> {
    let start = offset(rope, range.start);
    let end = offset(rope, range.end);
    start.min(end)..start.max(end)
}

/// Returns the length of the line break at the end of `line`: 2 for CRLF, 1 for LF or CR, else 0.
fn line_terminator_units(line: &ropey::RopeSlice<'_>) -> usize {
    let chars = line.len_chars();
    let last = (chars > 0).then(|| line.char(chars - 1));
    let before_last = (chars > 1).then(|| line.char(chars - 2));
    match (before_last, last) {
        (Some('\r'), Some('\n')) => 2,
        (_, Some('\n' | '\r')) => 1,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use ls_types::Position;

    use super::*;

    fn at(line: u32, character: u32) -> Position {
        Position { line, character }
    }

    #[test]
    fn offset_ascii_lines() {
        let rope = Rope::from_str("T\n| take 3\n");
        assert_eq!(offset(&rope, at(0, 0)), 0);
        assert_eq!(offset(&rope, at(1, 2)), 4);
        assert_eq!(offset(&rope, at(2, 0)), 11);
    }

    #[test]
    fn offset_utf16_surrogate_pairs() {
        // "é" is 2 bytes and 1 UTF-16 unit; "😀" is 4 bytes and 2 UTF-16 units.
        let rope = Rope::from_str("é😀x\n");
        assert_eq!(offset(&rope, at(0, 1)), 2);
        assert_eq!(offset(&rope, at(0, 3)), 6);
        assert_eq!(offset(&rope, at(0, 4)), 7);
    }

    #[test]
    fn offset_clamps_past_line_and_document_end() {
        let rope = Rope::from_str("ab\r\ncd");
        assert_eq!(offset(&rope, at(0, 99)), 2, "stops before CRLF");
        assert_eq!(offset(&rope, at(1, 1)), 5);
        assert_eq!(offset(&rope, at(7, 0)), 6);
    }

    #[test]
    fn offset_counts_lone_cr_as_line_break() {
        let rope = Rope::from_str("a\rb\u{2028}c");
        assert_eq!(offset(&rope, at(1, 0)), 2);
        // U+2028 is not a line break in LSP, so "c" stays on line 1.
        assert_eq!(offset(&rope, at(1, 2)), 6);
    }

    #[test]
    fn text_range_orders_reversed_range() {
        let rope = Rope::from_str("abcdef");
        let range = ls_types::Range {
            start: at(0, 4),
            end: at(0, 1),
        };
        assert_eq!(text_range(&rope, range), 1..4);
    }
}
