//! KQL syntax trees for Quarry.
//!
//! This crate wraps the tree-sitter grammar in `grammars/tree-sitter-kql`. Parsing never fails:
//! [`parse`] returns a tree plus a list of [`SyntaxError`]s, one for each outermost ERROR node
//! and each MISSING node outside an ERROR node. [`reparse`] reuses the previous tree after an
//! edit. [`LineIndex`] converts between byte offsets, which the tree and the errors use, and the
//! line/UTF-16 column positions that editors use. Node kind names are listed in [`kinds`].

pub mod kinds;

mod errors;
mod line_index;

use std::ops::Range;

pub use tree_sitter;
use tree_sitter::{InputEdit, Node, Parser, Point, Tree};

pub use errors::SyntaxError;
pub use line_index::{LineCol, LineIndex};

/// A syntax tree and the syntax errors found in it.
#[derive(Debug, Clone)]
pub struct Parse {
    pub tree: Tree,
    pub errors: Vec<SyntaxError>,
}

impl Parse {
    /// Returns the root `source_file` node.
    pub fn root(&self) -> Node<'_> {
        self.tree.root_node()
    }
}

/// A replacement of a byte range of the old text, as needed by [`reparse`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextEdit {
    /// Bytes of the old text that the edit replaced.
    pub old_range: Range<usize>,
    /// Length in bytes of the inserted text.
    pub new_len: usize,
    /// Position of `old_range.end` in the old text (row, byte column).
    pub old_end_point: Point,
}

impl TextEdit {
    /// Describes replacing `old_range` of `old_text` with `new_text`.
    ///
    /// # Panics
    /// Panics if `old_range` is out of bounds or not on UTF-8 character boundaries.
    pub fn replace(old_text: &str, old_range: Range<usize>, new_text: &str) -> TextEdit {
        let old_end_point = point_at(old_text, old_range.end);
        TextEdit {
            old_range,
            new_len: new_text.len(),
            old_end_point,
        }
    }
}

/// Parses a whole KQL document.
pub fn parse(text: &str) -> Parse {
    parse_with(text, None)
}

/// Parses `text`, the document after `edit`, reusing the unchanged parts of `old`.
///
/// `old` must be the parse of the text before the edit. The result equals `parse(text)`.
/// When the old tree or the new one has syntax errors, `text` is parsed from scratch. The
/// reason is that tree-sitter's error recovery, resumed from a reused tree, can place ERROR
/// nodes elsewhere than a full parse does, which would make diagnostics depend on edit history.
pub fn reparse(text: &str, old: &Parse, edit: &TextEdit) -> Parse {
    if old.root().has_error() {
        return parse(text);
    }

    let start_byte = edit.old_range.start;
    let new_end_byte = start_byte + edit.new_len;
    let input_edit = InputEdit {
        start_byte,
        old_end_byte: edit.old_range.end,
        new_end_byte,
        // The text before the edit is unchanged, so both points can be read from the new text.
        start_position: point_at(text, start_byte),
        old_end_position: edit.old_end_point,
        new_end_position: point_at(text, new_end_byte),
    };
    let mut old_tree = old.tree.clone();
    old_tree.edit(&input_edit);
    let incremental = parse_with(text, Some(&old_tree));
    if incremental.root().has_error() {
        return parse(text);
    }
    incremental
}

fn parse_with(text: &str, old_tree: Option<&Tree>) -> Parse {
    let mut parser = Parser::new();
    parser
        .set_language(&tree_sitter_kql::LANGUAGE.into())
        .expect("tree-sitter-kql is generated for the linked tree-sitter version");
    let tree = parser
        .parse(text, old_tree)
        .expect("parsing without a timeout or cancellation flag always returns a tree");
    let errors = errors::collect(&tree, text);
    Parse { tree, errors }
}

/// Returns the byte ranges of the query blocks in the document, in order.
///
/// Blocks are separated by blank lines. A block that holds only comments has no range.
pub fn query_blocks(parse: &Parse, text: &str) -> Vec<Range<usize>> {
    let root = parse.root();
    let mut cursor = root.walk();
    root.named_children(&mut cursor)
        .filter(|node| node.kind() == kinds::QUERY_BLOCK)
        .map(|node| node.byte_range())
        .map(|range| range.start.min(text.len())..range.end.min(text.len()))
        .collect()
}

/// Returns the tree-sitter point (row, byte column) of a byte offset.
fn point_at(text: &str, offset: usize) -> Point {
    let before = &text[..offset];
    let row = before.matches('\n').count();
    let line_start = before.rfind('\n').map_or(0, |index| index + 1);
    Point {
        row,
        column: offset - line_start,
    }
}
