//! Helpers shared by the fuzz targets: turning fuzzer bytes into text and edit scripts, and the
//! invariants every KQL parse must satisfy.

use quarry_syntax::{Parse, query_blocks};

/// Fragments that edits insert, so that random edits form KQL tokens more often than raw bytes
/// would: operators, keywords, brackets, quotes, comments and line breaks.
const FRAGMENTS: &[&str] = &[
    "|",
    " | ",
    "where ",
    "summarize ",
    "count()",
    " by ",
    "project ",
    "extend ",
    "let ",
    "=",
    "==",
    ";",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    "\"",
    "'",
    "@\"",
    "//",
    "\n",
    "\n\n",
    "\r\n",
    " ",
    ",",
    ".",
    "x",
    "T",
    "42",
    "1d",
    "datetime(2024-01-01)",
    "and ",
    "or ",
    "!",
    "h\"",
    "```",
    "é",
    "😀",
    "\\",
    "join kind=inner ",
    "union ",
    "materialize(",
    "toscalar(",
    "$left.",
];

/// One replacement in a text: bytes `start..end` become `insert`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    pub start: usize,
    pub end: usize,
    pub insert: String,
}

/// Splits fuzzer input at its first NUL byte into a document and an edit script. Input without
/// a NUL is all document, so plain KQL files work as seeds.
pub fn split_document(data: &[u8]) -> (String, &[u8]) {
    match data.iter().position(|&byte| byte == 0) {
        Some(index) => (
            String::from_utf8_lossy(&data[..index]).into_owned(),
            &data[index + 1..],
        ),
        None => (String::from_utf8_lossy(data).into_owned(), &[]),
    }
}

/// Reads the next edit of `script` against `text`, advancing `script`.
///
/// An edit takes four bytes: a 16-bit little-endian position (taken modulo the text length + 1),
/// a deletion length and a selector. A selector below the number of built-in fragments inserts
/// that fragment; a larger one inserts the next `selector - fragments` bytes of the script as
/// text. Positions are moved back to character boundaries.
pub fn next_edit(text: &str, script: &mut &[u8]) -> Option<Edit> {
    let &[low, high, delete, selector, ref rest @ ..] = *script else {
        return None;
    };
    *script = rest;

    let position = usize::from(u16::from_le_bytes([low, high])) % (text.len() + 1);
    let start = floor_char_boundary(text, position);
    let end = floor_char_boundary(text, (start + usize::from(delete)).min(text.len()));

    let selector = usize::from(selector);
    let insert = match FRAGMENTS.get(selector) {
        Some(fragment) => (*fragment).to_owned(),
        None => {
            let count = (selector - FRAGMENTS.len()).min(script.len());
            let (raw, rest) = script.split_at(count);
            *script = rest;
            String::from_utf8_lossy(raw).into_owned()
        }
    };
    Some(Edit { start, end, insert })
}

/// Returns `text` with `edit` applied.
pub fn apply(text: &str, edit: &Edit) -> String {
    let mut result = String::with_capacity(text.len() + edit.insert.len());
    result.push_str(&text[..edit.start]);
    result.push_str(&edit.insert);
    result.push_str(&text[edit.end..]);
    result
}

fn floor_char_boundary(text: &str, mut offset: usize) -> usize {
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// Checks what callers of the parser rely on: error ranges and query blocks lie inside the text
/// and on character boundaries, and both come in document order.
///
/// # Panics
/// Panics, with the offending value, when an invariant does not hold.
pub fn check_parse(text: &str, parse: &Parse) {
    let root = parse.root();
    assert!(
        root.end_byte() <= text.len(),
        "root ends at {} past the text length {}",
        root.end_byte(),
        text.len()
    );

    let mut previous_start = 0;
    for error in &parse.errors {
        let range = &error.range;
        assert!(range.start <= range.end, "reversed error range {error:?}");
        assert!(
            range.end <= text.len(),
            "error range past the text end: {error:?}"
        );
        assert!(
            text.is_char_boundary(range.start) && text.is_char_boundary(range.end),
            "error range splits a character: {error:?}"
        );
        assert!(
            range.start >= previous_start,
            "errors out of document order at {error:?}"
        );
        previous_start = range.start;
    }

    let mut previous_end = 0;
    for block in query_blocks(parse, text) {
        assert!(block.start <= block.end, "reversed query block {block:?}");
        assert!(
            block.end <= text.len(),
            "query block past the text end: {block:?}"
        );
        assert!(
            block.start >= previous_end,
            "query blocks overlap or are out of order at {block:?}"
        );
        previous_end = block.end;
    }
}

/// Returns every node of the tree, named or not, in document order, as its kind id, byte range
/// and error flags: the whole structure, where `to_sexp` omits anonymous tokens and ranges.
pub fn tree_shape(parse: &Parse) -> Vec<(u16, std::ops::Range<usize>, bool, bool)> {
    let mut shape = Vec::new();
    let mut cursor = parse.tree.walk();
    loop {
        let node = cursor.node();
        shape.push((
            node.kind_id(),
            node.byte_range(),
            node.is_error(),
            node.is_missing(),
        ));
        if cursor.goto_first_child() {
            continue;
        }
        loop {
            if cursor.goto_next_sibling() {
                break;
            }
            if !cursor.goto_parent() {
                return shape;
            }
        }
    }
}
