//! Conversions between byte offsets, UTF-16 offsets and (line, UTF-16 column) positions.

/// A zero-based line and a column counted in UTF-16 code units, as the Language Server
/// Protocol counts them by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LineCol {
    pub line: u32,
    pub col_utf16: u32,
}

/// A character that takes more than one byte in UTF-8.
#[derive(Debug, Clone, Copy)]
struct WideChar {
    byte_offset: usize,
    utf16_offset: usize,
    utf8_len: usize,
    utf16_len: usize,
}

/// Line starts and non-ASCII characters of one text, for position conversions.
///
/// Lines end at `\n`; a `\r` before it belongs to the line. Byte offsets inside a multi-byte
/// character are rounded down to the character's start, and offsets past the end are clamped.
#[derive(Debug, Clone)]
pub struct LineIndex {
    len: usize,
    line_starts: Vec<usize>,
    wide_chars: Vec<WideChar>,
}

impl LineIndex {
    /// Indexes `text`.
    pub fn new(text: &str) -> LineIndex {
        let mut line_starts = vec![0];
        let mut wide_chars = Vec::new();
        let mut utf16_offset = 0;
        for (byte_offset, ch) in text.char_indices() {
            if ch == '\n' {
                line_starts.push(byte_offset + 1);
            }
            let utf8_len = ch.len_utf8();
            let utf16_len = ch.len_utf16();
            if utf8_len > 1 {
                wide_chars.push(WideChar {
                    byte_offset,
                    utf16_offset,
                    utf8_len,
                    utf16_len,
                });
            }
            utf16_offset += utf16_len;
        }
        LineIndex {
            len: text.len(),
            line_starts,
            wide_chars,
        }
    }

    /// Number of lines; a text ending in `\n` has an empty last line.
    pub fn line_count(&self) -> usize {
        self.line_starts.len()
    }

    /// Byte offset where the zero-based `line` starts, or `None` past the last line.
    pub fn line_start(&self, line: u32) -> Option<usize> {
        self.line_starts.get(line as usize).copied()
    }

    /// Returns the line and UTF-16 column of a byte offset.
    pub fn line_col(&self, offset: usize) -> LineCol {
        let offset = self.char_start(offset.min(self.len));
        let line = self.line_starts.partition_point(|&start| start <= offset) - 1;
        let line_start = self.line_starts[line];
        let col = self.utf16_offset(offset) - self.utf16_offset(line_start);
        LineCol {
            line: line as u32,
            col_utf16: col as u32,
        }
    }

    /// Returns the byte offset of a line and UTF-16 column. A column past the end of the line is clamped
    /// to the line end, and a line past the end of the text gives `None`.
    pub fn offset(&self, position: LineCol) -> Option<usize> {
        let line_start = self.line_start(position.line)?;
        let line_end = match self.line_starts.get(position.line as usize + 1) {
            Some(next_start) => next_start - 1,
            None => self.len,
        };
        let target = self.utf16_offset(line_start) + position.col_utf16 as usize;
        Some(self.byte_offset(target).min(line_end))
    }

    /// Returns the UTF-16 offset of a byte offset.
    pub fn utf16_offset(&self, offset: usize) -> usize {
        let offset = self.char_start(offset.min(self.len));
        let before = self
            .wide_chars
            .partition_point(|wide| wide.byte_offset < offset);
        match before.checked_sub(1).map(|index| self.wide_chars[index]) {
            Some(wide) => {
                wide.utf16_offset + wide.utf16_len + (offset - wide.byte_offset - wide.utf8_len)
            }
            None => offset,
        }
    }

    /// Returns the byte offset of a UTF-16 offset. An offset between the two halves of a surrogate pair
    /// maps to the start of the character, and an offset past the end maps to the end.
    pub fn byte_offset(&self, utf16_offset: usize) -> usize {
        let before = self
            .wide_chars
            .partition_point(|wide| wide.utf16_offset < utf16_offset);
        let byte_offset = match before.checked_sub(1).map(|index| self.wide_chars[index]) {
            Some(wide) if utf16_offset < wide.utf16_offset + wide.utf16_len => wide.byte_offset,
            Some(wide) => {
                wide.byte_offset
                    + wide.utf8_len
                    + (utf16_offset - wide.utf16_offset - wide.utf16_len)
            }
            None => utf16_offset,
        };
        byte_offset.min(self.len)
    }

    /// Rounds a byte offset inside a multi-byte character down to the character's start.
    fn char_start(&self, offset: usize) -> usize {
        let after = self
            .wide_chars
            .partition_point(|wide| wide.byte_offset <= offset);
        match after.checked_sub(1).map(|index| self.wide_chars[index]) {
            Some(wide) if offset < wide.byte_offset + wide.utf8_len => wide.byte_offset,
            _ => offset,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_positions() {
        let index = LineIndex::new("ab\ncd\n");
        assert_eq!(index.line_count(), 3);
        assert_eq!(
            index.line_col(0),
            LineCol {
                line: 0,
                col_utf16: 0
            }
        );
        assert_eq!(
            index.line_col(4),
            LineCol {
                line: 1,
                col_utf16: 1
            }
        );
        assert_eq!(
            index.line_col(6),
            LineCol {
                line: 2,
                col_utf16: 0
            }
        );
        assert_eq!(
            index.offset(LineCol {
                line: 1,
                col_utf16: 1
            }),
            Some(4)
        );
        assert_eq!(
            index.offset(LineCol {
                line: 0,
                col_utf16: 99
            }),
            Some(2)
        );
        assert_eq!(
            index.offset(LineCol {
                line: 9,
                col_utf16: 0
            }),
            None
        );
    }

    #[test]
    fn wide_characters_count_in_utf16() {
        // `é` is 2 bytes and 1 UTF-16 unit; `😀` is 4 bytes and 2 UTF-16 units.
        let text = "é😀x\n😀y";
        let index = LineIndex::new(text);
        let x = text.find('x').unwrap();
        let y = text.find('y').unwrap();
        assert_eq!(index.utf16_offset(x), 3);
        assert_eq!(index.byte_offset(3), x);
        assert_eq!(
            index.line_col(x),
            LineCol {
                line: 0,
                col_utf16: 3
            }
        );
        assert_eq!(
            index.line_col(y),
            LineCol {
                line: 1,
                col_utf16: 2
            }
        );
        assert_eq!(
            index.offset(LineCol {
                line: 1,
                col_utf16: 2
            }),
            Some(y)
        );
        assert_eq!(index.utf16_offset(text.len()), 8);
    }

    #[test]
    fn offsets_inside_a_character_round_down() {
        let text = "a😀b";
        let index = LineIndex::new(text);
        assert_eq!(index.utf16_offset(2), 1);
        assert_eq!(index.byte_offset(2), 1);
        assert_eq!(
            index.line_col(3),
            LineCol {
                line: 0,
                col_utf16: 1
            }
        );
    }
}
