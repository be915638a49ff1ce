//! Parses arbitrary text as KQL and checks the parse invariants and the line index.

#![no_main]

use libfuzzer_sys::fuzz_target;
use quarry_syntax::{LineCol, LineIndex, parse};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let parsed = parse(&text);
    quarry_fuzz::check_parse(&text, &parsed);

    // Every error position must survive the editor's round trip through (line, UTF-16 column).
    let lines = LineIndex::new(&text);
    for error in &parsed.errors {
        for offset in [error.range.start, error.range.end] {
            let position: LineCol = lines.line_col(offset);
            assert_eq!(
                lines.offset(position),
                Some(offset),
                "offset {offset} does not round-trip through {position:?}"
            );
        }
    }
});
