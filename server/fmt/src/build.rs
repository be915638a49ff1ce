//! Builds the layout document of one query block from its syntax tree.
//!
//! Every token of the block becomes one `Text` exactly once, in source order, with the comments
//! that belong to it, so the layout can change only the whitespace between tokens. Most nodes
//! use [`Builder::sequence`]: tokens separated by single spaces, bracket pairs as groups that
//! break inside when they overflow, and comma-separated lists as fills that wrap. The nodes that
//! shape a query, such as pipes, `let` statements, `and`/`or` chains and `summarize ... by ...`,
//! have their own methods.

use quarry_syntax::kinds;
use quarry_syntax::tree_sitter::Node;

use crate::comments::{Comments, is_atom};
use crate::doc::{Doc, Line};

/// Kinds whose tokens are written without spaces between them, as in `a.b`, `f(x)`, `-1`,
/// `x:string` and `kind=inner`.
const TIGHT_KINDS: &[&str] = &[
    kinds::MEMBER_EXPRESSION,
    kinds::INDEX_EXPRESSION,
    kinds::CALL_EXPRESSION,
    kinds::BRACKETED_NAME,
    kinds::COLUMN_DECLARATION,
    kinds::PARSE_COLUMN,
    kinds::UNARY_EXPRESSION,
    kinds::OPERATOR_PARAMETER,
    kinds::JSON_NUMBER,
    kinds::DYNAMIC_LITERAL,
    kinds::GRAPH_PATTERN,
    kinds::GRAPH_NODE,
    kinds::GRAPH_EDGE,
];

/// Kinds where `:` has no space after it, as in `(Name:string, Count:long)`. The only `:` of a
/// binary expression is that of a search term such as `Col:"x"`.
const TIGHT_COLON_KINDS: &[&str] = &[
    kinds::PARAMETER,
    kinds::COLUMN_DECLARATION,
    kinds::PARSE_COLUMN,
    kinds::BINARY_EXPRESSION,
];

/// Keywords written directly before the `(` of their schema, as in `datatable(Name:string)`.
const SCHEMA_KEYWORDS: &[&str] = &["datatable", "externaldata", "external_data"];

/// One child of a node: a node, or the text of a hidden token (such as `in range`) that the tree
/// has no node for.
#[derive(Clone, Copy)]
enum Element<'tree, 't> {
    Node(Node<'tree>),
    Hidden(&'t str),
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Spacing {
    /// One space between elements, with the exceptions of [`Builder::separator`].
    Spaced,
    /// No space unless the two tokens would merge into one.
    Tight,
}

/// The line breaks of a pipe chain.
#[derive(Clone, Copy, PartialEq, Eq)]
enum PipeLayout {
    /// A statement's value: every `|` starts a line; `indented` puts those lines one level in.
    Statement { indented: bool },
    /// Inside brackets: the `|`s break together with the enclosing group.
    Nested,
}

pub(crate) struct Builder<'t> {
    text: &'t str,
    comments: Comments<'t>,
}

impl<'t> Builder<'t> {
    pub(crate) fn new(text: &'t str, comments: Comments<'t>) -> Builder<'t> {
        Builder { text, comments }
    }

    /// Returns the document of one query block, given the top-level nodes between two block
    /// separators: at most one `query_block` and the comments around it.
    pub(crate) fn block(&mut self, nodes: &[Node<'_>]) -> Doc {
        let mut parts = Vec::new();
        for node in nodes {
            if node.kind() != kinds::COMMENT {
                parts.push(self.query_block(*node));
            }
        }
        for comment in std::mem::take(&mut self.comments.after_last_token) {
            parts.push(Doc::Line(Line::Hard));
            parts.push(Doc::text(comment));
        }
        Doc::Concat(parts)
    }

    /// Returns whether every comment was printed with its token.
    pub(crate) fn printed_all_comments(&self) -> bool {
        self.comments.all_taken()
    }

    fn query_block(&mut self, node: Node<'_>) -> Doc {
        if node.kind() != kinds::QUERY_BLOCK {
            return self.node(node);
        }
        self.statements(node)
    }

    /// Prints the statements of a block or a function body, each on its own line after its `;`.
    fn statements(&mut self, node: Node<'_>) -> Doc {
        let mut parts = Vec::new();
        let mut after_statement = false;
        for element in self.elements(node) {
            let Element::Node(child) = element else {
                parts.push(Doc::text(element_text(element, self.text)));
                continue;
            };
            if child.kind() == ";" {
                parts.push(self.atom(child));
                continue;
            }
            if matches!(child.kind(), "{" | "}") {
                continue;
            }
            if after_statement {
                parts.push(Doc::Line(Line::Hard));
            }
            parts.push(self.statement(child));
            after_statement = true;
        }
        Doc::Concat(parts)
    }

    fn statement(&mut self, node: Node<'_>) -> Doc {
        let doc = self.statement_without_trailing_comment(node);
        self.with_trailing_comment(node, doc)
    }

    fn statement_without_trailing_comment(&mut self, node: Node<'_>) -> Doc {
        match node.kind() {
            kinds::LET_STATEMENT => self.let_statement(node),
            kinds::QUERY_STATEMENT => match named_child(node) {
                Some(query) if query.kind() == kinds::PIPE_EXPRESSION => {
                    self.pipe(query, PipeLayout::Statement { indented: false })
                }
                _ => self.generic(node),
            },
            _ => self.node_without_trailing_comment(node),
        }
    }

    fn let_statement(&mut self, node: Node<'_>) -> Doc {
        let value = node.child_by_field_name("value");
        let mut parts = Vec::new();
        for element in self.elements(node) {
            if let (Element::Node(child), Some(value)) = (element, value)
                && child.id() == value.id()
                && child.kind() == kinds::PIPE_EXPRESSION
            {
                parts.push(Doc::space());
                parts.push(self.pipe(child, PipeLayout::Statement { indented: true }));
                continue;
            }
            if !parts.is_empty() {
                parts.push(Doc::space());
            }
            parts.push(self.element(element));
        }
        Doc::Concat(parts)
    }

    /// Lays out a node and the comment at the end of its last line.
    fn node(&mut self, node: Node<'_>) -> Doc {
        let doc = self.node_without_trailing_comment(node);
        self.with_trailing_comment(node, doc)
    }

    fn with_trailing_comment(&mut self, node: Node<'_>, doc: Doc) -> Doc {
        match self.comments.take_trailing(node) {
            Some(comment) => Doc::Concat(vec![
                doc,
                Doc::space(),
                Doc::TrailingComment(comment.to_owned()),
                Doc::Line(Line::Hard),
            ]),
            None => doc,
        }
    }

    fn node_without_trailing_comment(&mut self, node: Node<'_>) -> Doc {
        if is_atom(node) {
            return self.atom(node);
        }
        match node.kind() {
            kinds::PIPE_EXPRESSION => self.pipe(node, PipeLayout::Nested),
            kinds::OPERATOR_PIPELINE => self.operator_pipeline(node),
            kinds::BINARY_EXPRESSION => self.binary(node),
            kinds::SUMMARIZE_OPERATOR | kinds::MAKE_SERIES_OPERATOR => self.by_clause(node),
            kinds::DATATABLE_EXPRESSION => self.datatable(node),
            kinds::FUNCTION_BODY => self.function_body(node),
            kinds::QUERY_STATEMENT | kinds::LET_STATEMENT => {
                self.statement_without_trailing_comment(node)
            }
            kind if TIGHT_KINDS.contains(&kind) => {
                let elements = self.elements(node);
                self.sequence(node.kind(), &elements, Spacing::Tight, false)
            }
            _ => self.generic(node),
        }
    }

    fn generic(&mut self, node: Node<'_>) -> Doc {
        let elements = self.elements(node);
        self.sequence(node.kind(), &elements, Spacing::Spaced, false)
    }

    /// Prints a token with the comments on their own lines before it and the comment after it
    /// on its line.
    fn atom(&mut self, node: Node<'_>) -> Doc {
        let token = Doc::text(&self.text[node.byte_range()]);
        let mut parts = Vec::new();
        for comment in self.comments.take_leading(node.start_byte()) {
            parts.push(Doc::Line(Line::Hard));
            parts.push(Doc::text(comment));
            parts.push(Doc::Line(Line::Hard));
        }
        parts.push(token);
        let token = if parts.len() == 1 {
            parts.pop().expect("one part")
        } else {
            Doc::Concat(parts)
        };
        self.with_trailing_comment(node, token)
    }

    fn element(&mut self, element: Element<'_, 't>) -> Doc {
        match element {
            Element::Node(node) => self.node(node),
            Element::Hidden(text) => Doc::text(text),
        }
    }

    /// Returns the children of `node` other than comments, with the text of hidden tokens.
    fn elements<'tree>(&self, node: Node<'tree>) -> Vec<Element<'tree, 't>> {
        let mut elements = Vec::new();
        let mut previous_end = node.start_byte();
        let mut cursor = node.walk();
        for child in node.children(&mut cursor) {
            let hidden = self.text[previous_end..child.start_byte()].trim();
            if !hidden.is_empty() {
                elements.push(Element::Hidden(hidden));
            }
            previous_end = child.end_byte();
            if child.kind() != kinds::COMMENT {
                elements.push(Element::Node(child));
            }
        }
        let hidden = self.text[previous_end..node.end_byte()].trim();
        if !hidden.is_empty() {
            elements.push(Element::Hidden(hidden));
        }
        elements
    }

    /// Lays out a run of elements: bracket pairs become groups, comma-separated items become a
    /// fill (indented unless `in_brackets`, where the brackets indent it), and the rest are
    /// separated as `spacing` says.
    fn sequence(
        &mut self,
        parent: &str,
        elements: &[Element<'_, 't>],
        spacing: Spacing,
        in_brackets: bool,
    ) -> Doc {
        let mut parts = Vec::new();
        let mut previous_last: Option<&'t str> = None;
        let mut index = 0;
        while index < elements.len() {
            let start = index;
            let doc = if let Some(close) = matching_close(elements, index) {
                index = close + 1;
                self.bracketed(parent, &elements[start..=close])
            } else if is_comma(elements.get(index + 1)) {
                index = comma_run_end(elements, index);
                let fill = self.comma_run(&elements[start..index]);
                if in_brackets {
                    fill
                } else {
                    Doc::Indent(vec![fill])
                }
            } else {
                index += 1;
                self.element(elements[start])
            };

            let first = first_token(elements[start], self.text);
            if let Some(previous) = previous_last
                && let Some(separator) = self.separator(parent, previous, first, spacing)
            {
                parts.push(separator);
            }
            previous_last = Some(last_token(elements[index - 1], self.text));
            parts.push(doc);
        }
        Doc::Concat(parts)
    }

    /// Returns what goes between two tokens of a sequence: a space, a line break or nothing.
    fn separator(&self, parent: &str, previous: &str, next: &str, spacing: Spacing) -> Option<Doc> {
        if parent == kinds::SCAN_OPERATOR && next == "step" {
            return Some(Doc::Line(Line::Space));
        }
        let tight = spacing == Spacing::Tight
            || matches!(next, "," | ";" | ")" | "]" | "}" | "." | ":")
            || matches!(previous, "(" | "[" | "{" | ".")
            || (previous == ":" && TIGHT_COLON_KINDS.contains(&parent))
            || (next == "(" && SCHEMA_KEYWORDS.contains(&previous));
        if tight && !tokens_would_merge(previous, next) {
            None
        } else {
            Some(Doc::space())
        }
    }

    /// Lays out `open ... close`: flat when it fits, otherwise the content goes on its own
    /// indented lines between the brackets.
    fn bracketed(&mut self, parent: &str, elements: &[Element<'_, 't>]) -> Doc {
        let (open, rest) = elements
            .split_first()
            .expect("a bracket pair has an opening token");
        let (close, inner) = rest
            .split_last()
            .expect("a bracket pair has a closing token");
        let open = self.element(*open);
        if inner.is_empty() {
            return Doc::Concat(vec![open, self.element(*close)]);
        }
        let scalar_parentheses =
            parent == kinds::PARENTHESIZED_EXPRESSION && !inner.iter().any(is_tabular);
        let inner = self.sequence(parent, inner, Spacing::Spaced, true);
        let close = self.element(*close);
        if scalar_parentheses {
            // Breaking inside `(a + b) * c` reads worse than a long line; the operators inside
            // have their own break points where they are `and`/`or` chains.
            return Doc::Concat(vec![open, inner, close]);
        }
        Doc::group(vec![
            open,
            Doc::Indent(vec![Doc::Line(Line::Soft), inner]),
            Doc::Line(Line::Soft),
            close,
        ])
    }

    /// Lays out `item, item, ...` (with an optional trailing comma) as a fill that wraps before
    /// an item that would overflow the line.
    fn comma_run(&mut self, elements: &[Element<'_, 't>]) -> Doc {
        let mut parts = Vec::new();
        let mut item = Vec::new();
        for element in elements {
            let is_comma = is_comma(Some(element));
            item.push(self.element(*element));
            if is_comma {
                if !parts.is_empty() {
                    parts.push(Doc::Line(Line::Space));
                }
                parts.push(Doc::Concat(std::mem::take(&mut item)));
            }
        }
        if !item.is_empty() {
            if !parts.is_empty() {
                parts.push(Doc::Line(Line::Space));
            }
            parts.push(Doc::Concat(item));
        }
        Doc::Fill(parts)
    }

    /// Lays out `source | op | op`, one `|` per line.
    fn pipe(&mut self, node: Node<'_>, layout: PipeLayout) -> Doc {
        let mut stages = Vec::new();
        let mut source = node;
        while source.kind() == kinds::PIPE_EXPRESSION {
            let bar = children(source)
                .into_iter()
                .find(|child| child.kind() == "|");
            let (Some(inner), Some(bar), Some(operator)) = (
                source.child_by_field_name("source"),
                bar,
                source.child_by_field_name("operator"),
            ) else {
                return self.generic(node);
            };
            stages.push((bar, operator));
            source = inner;
        }
        stages.reverse();

        let line = match layout {
            PipeLayout::Statement { .. } => Line::Hard,
            PipeLayout::Nested => Line::Space,
        };
        let source = self.node(source);
        let mut rest = Vec::new();
        for (bar, operator) in stages {
            rest.push(Doc::Line(line));
            rest.push(self.atom(bar));
            rest.push(Doc::space());
            rest.push(self.operator(operator));
        }
        match layout {
            PipeLayout::Statement { indented: true } => {
                Doc::Concat(vec![source, Doc::Indent(rest)])
            }
            _ => {
                rest.insert(0, source);
                Doc::Concat(rest)
            }
        }
    }

    /// Lays out the operators of `fork`, `facet`, `partition` and `mv-apply` subqueries.
    fn operator_pipeline(&mut self, node: Node<'_>) -> Doc {
        let mut parts = Vec::new();
        for element in self.elements(node) {
            match element {
                Element::Node(child) if child.kind() == "|" => {
                    parts.push(Doc::Line(Line::Space));
                    parts.push(self.atom(child));
                    parts.push(Doc::space());
                }
                Element::Node(child) => parts.push(self.operator(child)),
                Element::Hidden(text) => parts.push(Doc::text(text)),
            }
        }
        Doc::Concat(parts)
    }

    fn operator(&mut self, node: Node<'_>) -> Doc {
        self.node(node)
    }

    /// Lays out binary expressions. A chain of `and` or of `or` breaks before each operator
    /// when it does not fit, with the continuation lines indented.
    fn binary(&mut self, node: Node<'_>) -> Doc {
        let Some(operator) = node.child_by_field_name("operator") else {
            return self.generic(node);
        };
        let operator_text = &self.text[operator.byte_range()];
        if !matches!(operator_text, "and" | "or") {
            return self.operator_chain(node);
        }

        // The chain nests to the left: `a and b and c` is `(a and b) and c`.
        let mut links = Vec::new();
        let mut left = node;
        while left.kind() == kinds::BINARY_EXPRESSION
            && left
                .child_by_field_name("operator")
                .is_some_and(|op| &self.text[op.byte_range()] == operator_text)
        {
            let (Some(next_left), Some(right)) = (
                left.child_by_field_name("left"),
                left.child_by_field_name("right"),
            ) else {
                return self.generic(node);
            };
            // Comments are attached to tokens, so only the operator and operands matter here.
            let op = left.child_by_field_name("operator").expect("checked above");
            links.push((op, right));
            left = next_left;
        }
        links.reverse();

        let first = self.node(left);
        let mut rest = Vec::new();
        for (op, right) in links {
            rest.push(Doc::Line(Line::Space));
            rest.push(self.atom(op));
            rest.push(Doc::space());
            rest.push(self.node(right));
        }
        Doc::group(vec![first, Doc::Indent(rest)])
    }

    /// Lays out a binary expression other than `and` and `or`, and the binary expressions
    /// of the same kind down its left side, as one spaced sequence. It loops over the left
    /// side so that a generated `1 + 1 + ...` of thousands of terms does not take one stack
    /// frame per operator. The output is the same as laying out each operator on its own.
    fn operator_chain(&mut self, node: Node<'_>) -> Doc {
        let mut chain = vec![node];
        let mut left = node;
        while let Some(next_left) = left
            .child_by_field_name("left")
            .filter(|next_left| self.is_operator_link(*next_left))
        {
            chain.push(next_left);
            left = next_left;
        }

        // The innermost expression gives all its elements. Every outer one adds the elements
        // after its left operand, which is the expression already laid out.
        let mut elements = Vec::new();
        for (index, &binary) in chain.iter().rev().enumerate() {
            let mut own = self.elements(binary);
            if index > 0 && matches!(own.first(), Some(Element::Node(_))) {
                own.remove(0);
            }
            elements.extend(own);
        }
        // The trailing comment of an inner expression ends where its right operand ends, so
        // laying out that operand takes it.
        self.sequence(node.kind(), &elements, Spacing::Spaced, false)
    }

    /// Tells whether `node` is a binary expression that `operator_chain` lays out.
    fn is_operator_link(&self, node: Node<'_>) -> bool {
        node.kind() == kinds::BINARY_EXPRESSION
            && node
                .child_by_field_name("operator")
                .is_some_and(|op| !matches!(&self.text[op.byte_range()], "and" | "or"))
    }

    /// Lays out `summarize` and `make-series`: the `by` clause moves to its own indented line
    /// when the operator does not fit on one line.
    fn by_clause(&mut self, node: Node<'_>) -> Doc {
        let elements = self.elements(node);
        let by = elements
            .iter()
            .position(|element| matches!(element, Element::Node(child) if child.kind() == "by"));
        let Some(by) = by else {
            return self.sequence(node.kind(), &elements, Spacing::Spaced, false);
        };
        let head = self.sequence(node.kind(), &elements[..by], Spacing::Spaced, false);
        let tail = self.sequence(node.kind(), &elements[by..], Spacing::Spaced, false);
        Doc::group(vec![head, Doc::Indent(vec![Doc::Line(Line::Space), tail])])
    }

    /// Lays out `datatable(schema) [values]` with one row per line when it does not fit, where
    /// a row has as many values as the schema has columns.
    fn datatable(&mut self, node: Node<'_>) -> Doc {
        let elements = self.elements(node);
        let open = elements
            .iter()
            .position(|element| matches!(element, Element::Node(child) if child.kind() == "["));
        let close = elements
            .iter()
            .rposition(|element| matches!(element, Element::Node(child) if child.kind() == "]"));
        let (Some(open), Some(close)) = (open, close) else {
            return self.generic(node);
        };
        let columns = node
            .child_by_field_name("schema")
            .map_or(1, |schema| named_children(schema).len().max(1));

        let head = self.sequence(node.kind(), &elements[..open], Spacing::Spaced, false);
        let open_doc = self.element(elements[open]);
        let mut rows = Vec::new();
        let mut row = Vec::new();
        let mut values_in_row = 0;
        for element in &elements[open + 1..close] {
            let is_comma = is_comma(Some(element));
            row.push(self.element(*element));
            if !is_comma {
                continue;
            }
            values_in_row += 1;
            if values_in_row == columns {
                rows.push(Doc::Concat(std::mem::take(&mut row)));
                rows.push(Doc::Line(Line::Space));
                values_in_row = 0;
            } else {
                row.push(Doc::space());
            }
        }
        if row.is_empty() {
            rows.pop();
        } else {
            rows.push(Doc::Concat(row));
        }
        let close_doc = self.element(elements[close]);

        let table = if rows.is_empty() {
            Doc::Concat(vec![open_doc, close_doc])
        } else {
            Doc::group(vec![
                open_doc,
                Doc::Indent(vec![Doc::Line(Line::Soft), Doc::Concat(rows)]),
                Doc::Line(Line::Soft),
                close_doc,
            ])
        };
        Doc::Concat(vec![head, Doc::space(), table])
    }

    /// Lays out `{ statements }`, on one line when it fits.
    fn function_body(&mut self, node: Node<'_>) -> Doc {
        let elements = self.elements(node);
        let (Some(Element::Node(open)), Some(Element::Node(close))) =
            (elements.first(), elements.last())
        else {
            return self.generic(node);
        };
        let (open, close) = (*open, *close);
        let open_doc = self.atom(open);
        let body = self.statements(node);
        let close_doc = self.atom(close);
        if elements.len() == 2 {
            return Doc::Concat(vec![open_doc, close_doc]);
        }
        Doc::group(vec![
            open_doc,
            Doc::Indent(vec![Doc::Line(Line::Space), body]),
            Doc::Line(Line::Space),
            close_doc,
        ])
    }
}

/// Returns whether an element is a tabular query: a pipe or an operator that starts one.
fn is_tabular(element: &Element<'_, '_>) -> bool {
    let Element::Node(node) = element else {
        return false;
    };
    matches!(
        node.kind(),
        kinds::PIPE_EXPRESSION
            | kinds::PRINT_OPERATOR
            | kinds::RANGE_OPERATOR
            | kinds::UNION_OPERATOR
            | kinds::FIND_OPERATOR
            | kinds::SEARCH_OPERATOR
            | kinds::EVALUATE_OPERATOR
            | kinds::MACRO_EXPAND_OPERATOR
    )
}

fn children<'tree>(node: Node<'tree>) -> Vec<Node<'tree>> {
    let mut cursor = node.walk();
    node.children(&mut cursor).collect()
}

fn named_children<'tree>(node: Node<'tree>) -> Vec<Node<'tree>> {
    let mut cursor = node.walk();
    node.named_children(&mut cursor)
        .filter(|child| child.kind() != kinds::COMMENT)
        .collect()
}

fn named_child(node: Node<'_>) -> Option<Node<'_>> {
    named_children(node).into_iter().next()
}

fn element_text<'t>(element: Element<'_, 't>, text: &'t str) -> &'t str {
    match element {
        Element::Node(node) => &text[node.byte_range()],
        Element::Hidden(hidden) => hidden,
    }
}

fn first_token<'t>(element: Element<'_, 't>, text: &'t str) -> &'t str {
    match element {
        Element::Node(mut node) => {
            while !is_atom(node) {
                match children(node)
                    .into_iter()
                    .find(|child| child.kind() != kinds::COMMENT)
                {
                    Some(child) => node = child,
                    None => break,
                }
            }
            &text[node.byte_range()]
        }
        Element::Hidden(hidden) => hidden,
    }
}

fn last_token<'t>(element: Element<'_, 't>, text: &'t str) -> &'t str {
    match element {
        Element::Node(mut node) => {
            while !is_atom(node) {
                match children(node)
                    .into_iter()
                    .rev()
                    .find(|child| child.kind() != kinds::COMMENT)
                {
                    Some(child) => node = child,
                    None => break,
                }
            }
            &text[node.byte_range()]
        }
        Element::Hidden(hidden) => hidden,
    }
}

fn is_token(element: Option<&Element<'_, '_>>, kind: &str) -> bool {
    matches!(element, Some(Element::Node(node)) if node.kind() == kind && node.child_count() == 0)
}

fn is_comma(element: Option<&Element<'_, '_>>) -> bool {
    is_token(element, ",")
}

/// Returns the index of the bracket that closes the one at `index`, if `index` opens a pair
/// among these siblings.
fn matching_close(elements: &[Element<'_, '_>], index: usize) -> Option<usize> {
    let open = match elements.get(index) {
        Some(Element::Node(node)) if node.child_count() == 0 => node.kind(),
        _ => return None,
    };
    let close = match open {
        "(" => ")",
        "[" => "]",
        "{" => "}",
        _ => return None,
    };
    let mut depth = 0;
    for (offset, element) in elements[index..].iter().enumerate() {
        if is_token(Some(element), open) {
            depth += 1;
        } else if is_token(Some(element), close) {
            depth -= 1;
            if depth == 0 {
                return Some(index + offset);
            }
        }
    }
    None
}

/// Returns the end of the comma-separated run that starts with the item at `start`: items are
/// single elements, and a comma at the end is kept.
fn comma_run_end(elements: &[Element<'_, '_>], start: usize) -> usize {
    let mut end = start + 1;
    while is_comma(elements.get(end)) {
        end += 1;
        let item = elements.get(end);
        let closes_or_ends = item.is_none()
            || is_comma(item)
            || matches!(item, Some(Element::Node(node)) if matches!(node.kind(), ")" | "]" | "}"));
        if closes_or_ends || matching_close(elements, end).is_some() {
            break;
        }
        end += 1;
    }
    end
}

/// Returns whether writing `previous` and `next` with nothing between them could lex as other tokens,
/// as `-` `-1` would become `--1`, or `a` `b` would become `ab`.
fn tokens_would_merge(previous: &str, next: &str) -> bool {
    let (Some(last), Some(first)) = (previous.chars().next_back(), next.chars().next()) else {
        return false;
    };
    let word = |c: char| c.is_alphanumeric() || matches!(c, '_' | '$' | '"' | '\'' | '@' | '`');
    let symbol = |c: char| "!<>=~+-*/%.|:&^".contains(c);
    (word(last) && word(first)) || (symbol(last) && symbol(first))
}
