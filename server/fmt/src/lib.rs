//! The KQL formatter: lays out each query block of a document from its tree-sitter tree.
//!
//! The output has one pipe stage per line, single spaces around binary operators and after
//! commas, each statement on its own line, and bracket contents and comma-separated lists
//! wrapped at [`FormatOptions::line_width`]. Comments stay on their own line or at the end of
//! their line. Tokens, string literals included, are copied unchanged: only the whitespace
//! between tokens changes, and query blocks are separated by exactly one blank line.
//!
//! A block with syntax errors is left exactly as it is and listed in
//! [`Formatted::unformatted_blocks`], because its tree does not say where its tokens belong.

mod build;
mod comments;
mod doc;

use std::ops::Range;

use quarry_syntax::tree_sitter::Node;
use quarry_syntax::{Parse, kinds};

use crate::build::Builder;
use crate::comments::Comments;
use crate::doc::Layout;

/// Layout settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FormatOptions {
    /// Spaces per indentation level.
    pub indent_width: usize,
    /// Line width in characters that lists and bracket contents wrap at. A single token or an
    /// expression without a place to break can still make a line longer.
    pub line_width: usize,
}

impl Default for FormatOptions {
    fn default() -> Self {
        FormatOptions {
            indent_width: 4,
            line_width: 100,
        }
    }
}

/// A formatted document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Formatted {
    pub text: String,
    /// Byte ranges, in the input, of the query blocks left unchanged because they have syntax
    /// errors.
    pub unformatted_blocks: Vec<Range<usize>>,
}

/// A replacement of one query block by its formatted text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockEdit {
    /// Byte range of the block in the input, from the start of its first line.
    pub range: Range<usize>,
    pub new_text: String,
}

/// The edits that format the query blocks a range touches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RangeFormatted {
    /// Edits in document order, for the touched blocks whose text changes.
    pub edits: Vec<BlockEdit>,
    /// Byte ranges of the touched blocks left unchanged because they have syntax errors.
    pub unformatted_blocks: Vec<Range<usize>>,
}

/// Parses and formats a whole document.
pub fn format_document(text: &str, options: &FormatOptions) -> Formatted {
    format_parsed(text, &quarry_syntax::parse(text), options)
}

/// Formats a whole document, given its parse.
pub fn format_parsed(text: &str, parse: &Parse, options: &FormatOptions) -> Formatted {
    let newline = newline_style(text);
    let mut out = String::new();
    let mut unformatted_blocks = Vec::new();
    for block in blocks(parse.root(), text) {
        if !out.is_empty() {
            out.push_str(newline);
            out.push_str(newline);
        }
        match format_block(&block, text, options, newline) {
            Some(formatted) => out.push_str(&formatted),
            None => {
                out.push_str(&text[block.range.clone()]);
                unformatted_blocks.push(block.range);
            }
        }
    }
    if !out.is_empty() {
        out.push_str(newline);
    }
    Formatted {
        text: out,
        unformatted_blocks,
    }
}

/// Formats the query blocks that `range` (byte offsets) overlaps or touches at either end.
pub fn format_range(
    text: &str,
    parse: &Parse,
    range: Range<usize>,
    options: &FormatOptions,
) -> RangeFormatted {
    let newline = newline_style(text);
    let mut edits = Vec::new();
    let mut unformatted_blocks = Vec::new();
    for block in blocks(parse.root(), text) {
        if block.range.start > range.end || block.range.end < range.start {
            continue;
        }
        match format_block(&block, text, options, newline) {
            Some(formatted) if formatted != text[block.range.clone()] => edits.push(BlockEdit {
                range: block.range,
                new_text: formatted,
            }),
            Some(_) => {}
            None => unformatted_blocks.push(block.range),
        }
    }
    RangeFormatted {
        edits,
        unformatted_blocks,
    }
}

/// The top-level nodes between two block separators.
/// The deepest syntax tree the formatter lays out. The builder recurses once per tree level,
/// and 20,000 nested parentheses, one level each, formatted on the 256 MiB command thread of a
/// debug build, so this bound leaves a margin of two.
const MAX_FORMAT_DEPTH: usize = 10_000;

/// Tells whether the tree under `node` has more than `limit` levels, walking it with a cursor
/// so that the check itself does not recurse.
fn nests_deeper_than(node: Node<'_>, limit: usize) -> bool {
    let mut cursor = node.walk();
    let mut depth = 0;
    loop {
        if depth > limit {
            return true;
        }
        if cursor.goto_first_child() {
            depth += 1;
            continue;
        }
        while !cursor.goto_next_sibling() {
            if !cursor.goto_parent() {
                return false;
            }
            depth -= 1;
        }
    }
}

struct Block<'tree> {
    nodes: Vec<Node<'tree>>,
    /// From the start of the first node's line, when only whitespace precedes the node on it,
    /// to the end of the last node, without trailing whitespace.
    range: Range<usize>,
}

fn blocks<'tree>(root: Node<'tree>, text: &str) -> Vec<Block<'tree>> {
    let mut blocks = Vec::new();
    let mut nodes = Vec::new();
    let mut cursor = root.walk();
    for child in root.children(&mut cursor) {
        if child.kind() == kinds::BLOCK_SEPARATOR {
            blocks.extend(Block::new(std::mem::take(&mut nodes), text));
        } else {
            nodes.push(child);
        }
    }
    blocks.extend(Block::new(nodes, text));
    blocks
}

impl<'tree> Block<'tree> {
    fn new(nodes: Vec<Node<'tree>>, text: &str) -> Option<Block<'tree>> {
        let start = nodes.first()?.start_byte();
        let end = nodes.last()?.end_byte();
        let line_start = text[..start].rfind('\n').map_or(0, |index| index + 1);
        let start = if text[line_start..start].trim().is_empty() {
            line_start
        } else {
            start
        };
        let end = start + text[start..end].trim_end().len();
        if start == end {
            return None;
        }
        Some(Block {
            nodes,
            range: start..end,
        })
    }

    fn has_error(&self) -> bool {
        self.nodes
            .iter()
            .any(|node| node.has_error() || node.is_error() || node.is_missing())
    }
}

/// Returns the formatted text of a block, or `None` when the block has syntax errors.
fn format_block(
    block: &Block<'_>,
    text: &str,
    options: &FormatOptions,
    newline: &str,
) -> Option<String> {
    if block.has_error() {
        return None;
    }
    // NOTE: a block nested deeper than `MAX_FORMAT_DEPTH` keeps its text, with no message,
    // because the callers report unformatted blocks as syntax errors.
    if block
        .nodes
        .iter()
        .any(|node| nests_deeper_than(*node, MAX_FORMAT_DEPTH))
    {
        return Some(text[block.range.clone()].to_owned());
    }
    let comments = Comments::collect(&block.nodes, text);
    let mut builder = Builder::new(text, comments);
    let doc = builder.block(&block.nodes);
    // Every comment belongs to a token the builder prints, so none is left over. Should one be,
    // the block stays as it is rather than lose the comment.
    debug_assert!(
        builder.printed_all_comments(),
        "the formatter lost a comment of the block at bytes {:?}",
        block.range
    );
    if !builder.printed_all_comments() {
        return None;
    }
    let layout = Layout {
        width: options.line_width,
        indent_width: options.indent_width,
        newline,
    };
    let mut formatted = doc::print(&doc, &layout);
    // A comment at the end of the block ends with a line break that belongs to no line.
    formatted.truncate(formatted.trim_end().len());
    Some(formatted)
}

/// Returns the line ending of the document's first line, `\n` when it has none.
fn newline_style(text: &str) -> &'static str {
    match text.find('\n') {
        Some(index) if text[..index].ends_with('\r') => "\r\n",
        _ => "\n",
    }
}
