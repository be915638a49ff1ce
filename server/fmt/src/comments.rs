//! Places each `//` comment of a query block next to a token, so the layout prints it where it was.
//!
//! A comment on the same line as the token before it stays at the end of that token's line. It
//! belongs to the largest node that ends with that token, such as the whole `where` operator,
//! so that only the groups around that node have to break for the line end. A comment on a line
//! of its own stays on a line of its own, just before the token after it, or after the block's
//! last token when nothing follows it in the block.

use std::collections::HashMap;

use quarry_syntax::kinds;
use quarry_syntax::tree_sitter::Node;

/// Kinds that the layout prints as their source text, without looking inside.
pub(crate) const VERBATIM_KINDS: &[&str] = &[kinds::CONTROL_COMMAND];

/// Returns whether the layout prints `node` as one piece of source text.
pub(crate) fn is_atom(node: Node<'_>) -> bool {
    node.child_count() == 0 || VERBATIM_KINDS.contains(&node.kind())
}

/// The comments of one query block.
#[derive(Debug, Default)]
pub(crate) struct Comments<'t> {
    /// Comments on their own lines, by the start byte of the token after them.
    leading: HashMap<usize, Vec<&'t str>>,
    /// Comments at the end of a line, by the id of the node they follow.
    trailing: HashMap<usize, &'t str>,
    /// Comments on their own lines after the block's last token.
    pub(crate) after_last_token: Vec<&'t str>,
}

impl<'t> Comments<'t> {
    /// Places the comments among `nodes`, the top-level nodes of one query block and the
    /// comments around it.
    pub(crate) fn collect(nodes: &[Node<'_>], text: &'t str) -> Comments<'t> {
        let mut pieces = Vec::new();
        for node in nodes {
            collect_pieces(*node, &mut pieces);
        }

        let mut comments = Comments::default();
        let mut previous_atom: Option<Node<'_>> = None;
        for (index, piece) in pieces.iter().enumerate() {
            let node = match piece {
                Piece::Atom(node) => {
                    previous_atom = Some(*node);
                    continue;
                }
                Piece::Comment(node) => *node,
            };
            let comment = text[node.byte_range()].trim_end();
            let same_line = previous_atom
                .is_some_and(|atom| !text[atom.end_byte()..node.start_byte()].contains('\n'));
            let next_atom = pieces[index + 1..].iter().find_map(|piece| match piece {
                Piece::Atom(node) => Some(*node),
                Piece::Comment(_) => None,
            });

            match (previous_atom, next_atom) {
                (Some(atom), _) if same_line => {
                    comments.trailing.insert(anchor(atom).id(), comment);
                }
                (_, Some(atom)) => comments
                    .leading
                    .entry(atom.start_byte())
                    .or_default()
                    .push(comment),
                (_, None) => comments.after_last_token.push(comment),
            }
        }
        comments
    }

    /// Removes and returns the comments on their own lines before the token at `start`.
    pub(crate) fn take_leading(&mut self, start: usize) -> Vec<&'t str> {
        self.leading.remove(&start).unwrap_or_default()
    }

    /// Removes and returns the comment at the end of the line that `node` ends.
    pub(crate) fn take_trailing(&mut self, node: Node<'_>) -> Option<&'t str> {
        self.trailing.remove(&node.id())
    }

    /// Returns whether every comment placed next to a node has been taken.
    pub(crate) fn all_taken(&self) -> bool {
        self.leading.is_empty() && self.trailing.is_empty()
    }
}

/// Returns the largest node that ends with `token` and that the layout prints as one piece.
///
/// Pipe expressions, query blocks and the inner links of `and`/`or` chains are laid out stage by
/// stage or link by link, so a comment cannot follow them as a whole.
fn anchor(token: Node<'_>) -> Node<'_> {
    let mut anchor = token;
    while let Some(parent) = anchor.parent() {
        if parent.end_byte() != token.end_byte() || !can_anchor(parent) {
            break;
        }
        anchor = parent;
    }
    anchor
}

fn can_anchor(node: Node<'_>) -> bool {
    match node.kind() {
        kinds::PIPE_EXPRESSION | kinds::QUERY_BLOCK | kinds::SOURCE_FILE | "ERROR" => false,
        kinds::BINARY_EXPRESSION => !is_chain_link(node),
        _ => true,
    }
}

/// Returns whether `node` is the left operand of a binary expression with the same `and` or `or`
/// operator, which the layout flattens into one chain.
pub(crate) fn is_chain_link(node: Node<'_>) -> bool {
    let Some(parent) = node.parent() else {
        return false;
    };
    if parent.kind() != kinds::BINARY_EXPRESSION
        || parent.child_by_field_name("left").map(|left| left.id()) != Some(node.id())
    {
        return false;
    }
    matches!(operator_kind(node), Some("and" | "or"))
        && operator_kind(node) == operator_kind(parent)
}

fn operator_kind<'tree>(node: Node<'tree>) -> Option<&'tree str> {
    node.child_by_field_name("operator")
        .map(|operator| operator.kind())
}

enum Piece<'tree> {
    Atom(Node<'tree>),
    Comment(Node<'tree>),
}

fn collect_pieces<'tree>(node: Node<'tree>, pieces: &mut Vec<Piece<'tree>>) {
    if node.kind() == kinds::COMMENT {
        pieces.push(Piece::Comment(node));
        return;
    }
    if is_atom(node) {
        pieces.push(Piece::Atom(node));
        return;
    }
    let mut cursor = node.walk();
    for child in node.children(&mut cursor) {
        collect_pieces(child, pieces);
    }
}
