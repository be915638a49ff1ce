//! Syntax errors derived from the ERROR and MISSING nodes of a tree.

use std::ops::Range;

use tree_sitter::{Node, Tree};

use crate::kinds;

/// Code of errors where the parser expected a token that is not there.
pub const CODE_EXPECTED: &str = "KQL001";
/// Code of errors where the parser found a token it cannot place.
pub const CODE_UNEXPECTED: &str = "KQL002";

/// Maximum number of characters of a token quoted in a message; longer tokens are shortened.
const MAX_QUOTED_CHARS: usize = 30;

/// A syntax error in a KQL document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    /// Byte range of the problem. It is empty when the error marks a place where a token is missing.
    pub range: Range<usize>,
    /// Stable error code, [`CODE_EXPECTED`] or [`CODE_UNEXPECTED`].
    pub code: &'static str,
    /// Plain-words description, such as "expected an expression after `|`".
    pub message: String,
}

/// Creates one error for each outermost ERROR node and each MISSING node, in document order.
pub(crate) fn collect(tree: &Tree, text: &str) -> Vec<SyntaxError> {
    let mut errors = Vec::new();
    if !tree.root_node().has_error() {
        return errors;
    }

    let mut cursor = tree.walk();
    loop {
        let node = cursor.node();
        let mut descend = node.has_error();
        if node.is_error() {
            errors.push(error_for_error_node(node, text));
            // Errors nested in an ERROR node describe the same problem.
            descend = false;
        } else if node.is_missing() {
            errors.push(error_for_missing_node(node, text));
        }

        if descend && cursor.goto_first_child() {
            continue;
        }
        loop {
            if cursor.goto_next_sibling() {
                break;
            }
            if !cursor.goto_parent() {
                // An ERROR node's error can point past a later node's, as a missing comma at the
                // value that follows the node does, so the walk order is not document order.
                errors.sort_by_key(|error| (error.range.start, error.range.end));
                return errors;
            }
        }
    }
}

fn error_for_missing_node(node: Node<'_>, text: &str) -> SyntaxError {
    let expected = describe_missing(node);
    let message = match previous_leaf(node) {
        Some(previous) => format!("expected {expected} after {}", quote(previous, text)),
        None => format!("expected {expected}"),
    };
    SyntaxError {
        range: node.start_byte()..node.start_byte(),
        code: CODE_EXPECTED,
        message,
    }
}

fn error_for_error_node(node: Node<'_>, text: &str) -> SyntaxError {
    let leaves = leaves_of(node);
    let (Some(&first), Some(&last)) = (leaves.first(), leaves.last()) else {
        return SyntaxError {
            range: node.byte_range(),
            code: CODE_UNEXPECTED,
            message: "unexpected text".to_string(),
        };
    };

    // Dangling keywords or operators at the end of a block, as in `summarize count() by`:
    // report what should have followed the last one.
    let only_keywords = leaves
        .iter()
        .all(|&leaf| is_keyword_or_punctuation(leaf, text));
    if ends_block(node) && only_keywords {
        let expected = if token_text(last, text) == "|" {
            "a tabular operator"
        } else {
            "an expression"
        };
        return SyntaxError {
            range: last.byte_range(),
            code: CODE_EXPECTED,
            message: format!("expected {expected} after {}", quote(last, text)),
        };
    }

    // An unclosed call or parenthesis before a keyword, as in `summarize count( by x`.
    if let Some(error) = unclosed_parenthesis(&leaves, text) {
        return error;
    }

    // Two columns without a comma between them, as in `extend x = 1 y = 2`: the parser takes
    // `y = 2` as the value of `x` and skips `1`.
    if let Some(error) = missing_comma_in_assignment(node, &leaves, text) {
        return error;
    }

    // A word right after `|` that is no tabular operator, as in `T | wher x`.
    let after_pipe = leaves
        .windows(2)
        .find(|pair| token_text(pair[0], text) == "|" && !is_keyword_or_punctuation(pair[1], text))
        .map(|pair| pair[1]);
    if let Some(word) = after_pipe {
        return SyntaxError {
            range: word.byte_range(),
            code: CODE_UNEXPECTED,
            message: format!(
                "expected a tabular operator after `|`, found {}",
                quote(word, text)
            ),
        };
    }

    // A token that the grammar does not allow after the one before it, as in `order x`:
    // name the tokens that were expected there when there are few of them.
    if let Some(rejected) = first_rejected_token(&leaves, text) {
        let found = quote(rejected.token, text);
        let expected = describe_expected(&rejected.expected);
        let message = match (expected, rejected.previous) {
            (Some(expected), Some(previous)) => format!(
                "expected {expected} after {}, found {found}",
                quote(previous, text)
            ),
            (Some(expected), None) => format!("expected {expected}, found {found}"),
            (None, _) => format!("unexpected {found}"),
        };
        return SyntaxError {
            range: rejected.token.byte_range(),
            code: CODE_UNEXPECTED,
            message,
        };
    }

    // Otherwise blame the first token the parser skipped, or the first token of the error.
    let culprit = leaves
        .iter()
        .copied()
        .find(|leaf| leaf.is_error())
        .unwrap_or(first);
    let message = match previous_leaf(node) {
        Some(previous) if previous.kind() == "|" && culprit == first => format!(
            "expected a tabular operator after `|`, found {}",
            quote(culprit, text)
        ),
        _ => format!("unexpected {}", quote(culprit, text)),
    };
    SyntaxError {
        range: culprit.byte_range(),
        code: CODE_UNEXPECTED,
        message,
    }
}

/// Reports an error that starts with `(` and contains no `)` as a missing `)` before the token
/// after the `(`.
fn unclosed_parenthesis(leaves: &[Node<'_>], text: &str) -> Option<SyntaxError> {
    let (open, rest) = leaves.split_first()?;
    let found = rest.first()?;
    let closed = rest.iter().any(|leaf| token_text(*leaf, text) == ")");
    // The parser may have read a keyword such as `by` as a name inside the error.
    let found_keyword = found
        .language()
        .id_for_node_kind(token_text(*found, text), false)
        != 0;
    if token_text(*open, text) != "(" || closed || !found_keyword {
        return None;
    }
    Some(SyntaxError {
        range: found.byte_range(),
        code: CODE_EXPECTED,
        message: format!(
            "expected `)` to close the `(` before {}",
            quote(*found, text)
        ),
    })
}

/// Reports an error between the `=` and the value of an assignment as a missing comma between
/// two columns.
fn missing_comma_in_assignment(
    node: Node<'_>,
    leaves: &[Node<'_>],
    text: &str,
) -> Option<SyntaxError> {
    let parent = node.parent()?;
    let value = parent.child_by_field_name("value")?;
    let after_equals = node
        .prev_sibling()
        .is_some_and(|previous| token_text(previous, text) == "=");
    if parent.kind() != kinds::ASSIGNMENT || !after_equals || value.start_byte() < node.end_byte() {
        return None;
    }
    let last = *leaves.last()?;
    let next = leaves_of(value).into_iter().next()?;
    Some(SyntaxError {
        range: next.byte_range(),
        code: CODE_EXPECTED,
        message: format!(
            "expected `,` between {} and {}",
            quote(last, text),
            quote(next, text)
        ),
    })
}

/// A token the parser could not accept after `previous`, with the token kinds it expected.
struct RejectedToken<'tree> {
    previous: Option<Node<'tree>>,
    token: Node<'tree>,
    expected: Vec<(String, bool)>,
}

/// Finds the first token among `leaves` that its parse state does not allow: the state the
/// first token was read in, and for later tokens the state after the token before. The states
/// are those the parser recorded before it met the error, so the search stops at the first
/// token the parser skipped.
///
/// NOTE: after an incremental reparse, reused tokens keep the states of the earlier parse, so in
/// text with several nearby errors this can blame another token than a full parse would.
fn first_rejected_token<'tree>(leaves: &[Node<'tree>], text: &str) -> Option<RejectedToken<'tree>> {
    let first = *leaves.first()?;
    let mut previous: Option<Node<'tree>> = None;
    for &token in leaves {
        let state = match previous {
            Some(before) if before.is_error() => return None,
            Some(before) => before.next_parse_state(),
            None if token.is_error() => return None,
            None => first.parse_state(),
        };
        let language = token.language();
        let valid: Vec<u16> = language.lookahead_iterator(state)?.collect();
        let symbol = if token.is_error() {
            language.id_for_node_kind(token_text(token, text), false)
        } else {
            token.grammar_id()
        };
        if valid.contains(&symbol) {
            previous = Some(token);
            continue;
        }
        let expected = valid
            .iter()
            .filter(|&&id| language.node_kind_is_visible(id))
            .filter_map(|&id| {
                let kind = language.node_kind_for_id(id)?;
                let ignored = [kinds::COMMENT, kinds::BLOCK_SEPARATOR, "end", "ERROR"];
                (!ignored.contains(&kind))
                    .then(|| (kind.to_string(), language.node_kind_is_named(id)))
            })
            .collect();
        return Some(RejectedToken {
            previous,
            token,
            expected,
        });
    }
    None
}

/// Describes the expected keywords and punctuation, such as "`by`" or "`)` or `,`", leaving out
/// names and literals. Returns `None` when there are none or more than three of them, because
/// a long list makes a poor message.
fn describe_expected(expected: &[(String, bool)]) -> Option<String> {
    const MAX_LISTED: usize = 3;
    let keywords: Vec<&str> = expected
        .iter()
        .filter(|(_, named)| !named)
        .map(|(kind, _)| kind.as_str())
        .collect();
    if keywords.is_empty() || keywords.len() > MAX_LISTED {
        return None;
    }
    let quoted: Vec<String> = keywords.iter().map(|kind| format!("`{kind}`")).collect();
    Some(quoted.join(" or "))
}

/// Returns true for tokens that the grammar spells out, such as `by`, `|` or `==`, as opposed
/// to names and literals.
fn is_keyword_or_punctuation(leaf: Node<'_>, text: &str) -> bool {
    if !leaf.is_error() {
        return !leaf.is_named();
    }
    // A skipped token is an ERROR leaf; look its text up among the grammar's anonymous kinds.
    let language = leaf.language();
    language.id_for_node_kind(token_text(leaf, text), false) != 0
}

fn token_text<'text>(leaf: Node<'_>, text: &'text str) -> &'text str {
    text.get(leaf.byte_range()).unwrap_or("")
}

/// Returns true when nothing but a block separator or the end of the document follows `node`.
fn ends_block(node: Node<'_>) -> bool {
    let mut current = node;
    loop {
        match current.next_sibling() {
            Some(next) if next.kind() == kinds::BLOCK_SEPARATOR => return true,
            Some(next) if next.is_extra() => current = next,
            Some(_) => return false,
            None => match current.parent() {
                Some(parent) => current = parent,
                None => return true,
            },
        }
    }
}

/// Describes the token or node a MISSING node stands for.
fn describe_missing(node: Node<'_>) -> String {
    let kind = node.kind();
    if !node.is_named() {
        return format!("`{kind}`");
    }
    let field = node.parent().and_then(|parent| field_name_of(parent, node));
    match kind {
        kinds::IDENTIFIER if field == Some("name") => "a name".to_string(),
        kinds::IDENTIFIER => "an expression".to_string(),
        kinds::STRING_LITERAL => "a string".to_string(),
        kinds::TYPE_NAME => "a type name".to_string(),
        _ => format!("a {}", kind.replace('_', " ")),
    }
}

fn field_name_of<'tree>(parent: Node<'tree>, child: Node<'tree>) -> Option<&'tree str> {
    let mut cursor = parent.walk();
    if !cursor.goto_first_child() {
        return None;
    }
    loop {
        if cursor.node() == child {
            return cursor.field_name();
        }
        if !cursor.goto_next_sibling() {
            return None;
        }
    }
}

/// Finds the last token before `node`, skipping comments and MISSING nodes.
fn previous_leaf(node: Node<'_>) -> Option<Node<'_>> {
    let mut current = node;
    loop {
        match current.prev_sibling() {
            Some(previous) => {
                if let Some(leaf) = leaves_of(previous).last() {
                    return Some(*leaf);
                }
                current = previous;
            }
            None => current = current.parent()?,
        }
    }
}

/// Collects the tokens under `node` in document order, without comments, separators and MISSING nodes.
/// A token the parser skipped is an ERROR node without children and counts as a token.
fn leaves_of(node: Node<'_>) -> Vec<Node<'_>> {
    let mut leaves = Vec::new();
    let mut stack = vec![node];
    while let Some(current) = stack.pop() {
        let skipped_comment = current.is_extra() && !current.is_error();
        if current.is_missing() || skipped_comment || current.kind() == kinds::BLOCK_SEPARATOR {
            continue;
        }
        if current.child_count() == 0 {
            leaves.push(current);
            continue;
        }
        let mut cursor = current.walk();
        let children: Vec<Node<'_>> = current.children(&mut cursor).collect();
        stack.extend(children.into_iter().rev());
    }
    leaves
}

/// Quotes the text of a token in backticks, shortened when long.
fn quote(node: Node<'_>, text: &str) -> String {
    let token = text.get(node.byte_range()).unwrap_or(node.kind());
    let first_line = token.lines().next().unwrap_or("");
    let mut quoted: String = first_line.chars().take(MAX_QUOTED_CHARS).collect();
    if quoted.len() < token.len() {
        quoted.push('…');
    }
    format!("`{quoted}`")
}
