//! The terms of the `search` operator: `"err"`, `"err*"`, `"*err*"`, `"Lab*PC"`, and the
//! column-restricted form `Col:"err"`.
//!
//! Kusto's documentation of `search` gives the equivalent `where` for each term: `"err"` is
//! `has`, `"err*"` is `hasprefix`, `"*err"` is `hassuffix`, `"*err*"` is `contains`, and a `*`
//! inside the term makes a regular expression. Terms match case-insensitively unless the operator
//! has `kind=case_sensitive`.

use std::ops::Range;

use quarry_syntax::tree_sitter::Node;

use super::{Lowerer, field, parse_string, unsupported};
use crate::EngineError;
use crate::ast::{BinaryOp, Expr, ExprKind, Literal, OperatorKind, StringOp, StringOpKind};

/// Boundaries of a Kusto term, which is a maximal run of ASCII letters and digits.
const TERM_START: &str = "(?:^|[^A-Za-z0-9])";
const TERM_END: &str = "(?:$|[^A-Za-z0-9])";

impl Lowerer<'_> {
    /// Lowers a `search` operator's `kind=` parameter and predicate. The caller lowers the
    /// tables of `search in (...)`.
    pub(super) fn search(&self, node: Node<'_>) -> Result<OperatorKind, EngineError> {
        let case_sensitive = self.search_case_sensitive(node)?;
        Ok(OperatorKind::Search {
            predicate: self.search_predicate(field(node, "predicate")?, case_sensitive)?,
            case_sensitive,
        })
    }

    /// Reads the `kind=` parameter of `search`: `case_insensitive`, the default, or
    /// `case_sensitive`.
    fn search_case_sensitive(&self, node: Node<'_>) -> Result<bool, EngineError> {
        let mut case_sensitive = false;
        for (name, value) in self.parameters(node)? {
            match (name.as_str(), self.text_of(value)) {
                ("kind", "case_sensitive") => case_sensitive = true,
                ("kind", "case_insensitive") => case_sensitive = false,
                _ => {
                    return Err(unsupported(
                        &format!(
                            "the search parameter `{}`",
                            self.text_of(value.parent().unwrap_or(value))
                        ),
                        value,
                    ));
                }
            }
        }
        Ok(case_sensitive)
    }

    /// Lowers the predicate of `search`: `and` and `or` over terms, column terms and
    /// ordinary conditions. A bare string term stays a string literal, which `search` tests on
    /// every string column when it runs.
    fn search_predicate(&self, node: Node<'_>, case_sensitive: bool) -> Result<Expr, EngineError> {
        let range = node.byte_range();
        let kind = match node.kind() {
            "binary_expression" => match self.text_of(field(node, "operator")?) {
                ":" => self.column_search_term(node, case_sensitive)?,
                operator @ ("and" | "or") => self.search_chain(node, operator, case_sensitive)?,
                _ => return self.expr(node),
            },
            "parenthesized_expression" => match node.named_child(0) {
                Some(inner)
                    if matches!(
                        inner.kind(),
                        "binary_expression" | "parenthesized_expression"
                    ) =>
                {
                    return self.search_predicate(inner, case_sensitive);
                }
                _ => return self.expr(node),
            },
            _ => return self.expr(node),
        };
        Ok(Expr::new(kind, range))
    }

    /// Lowers a run of one repeated `and` or `or` in a loop down the left side, so that a
    /// generated `search "a" or "b" or ...` takes no stack frame per term.
    fn search_chain(
        &self,
        node: Node<'_>,
        operator: &str,
        case_sensitive: bool,
    ) -> Result<ExprKind, EngineError> {
        let op = if operator == "and" {
            BinaryOp::And
        } else {
            BinaryOp::Or
        };
        let mut right_operands = vec![field(node, "right")?];
        let mut left = field(node, "left")?;
        while left.kind() == "binary_expression"
            && left
                .child_by_field_name("operator")
                .is_some_and(|inner| self.text_of(inner) == operator)
        {
            right_operands.push(field(left, "right")?);
            left = field(left, "left")?;
        }

        let mut operands = Vec::with_capacity(right_operands.len() + 1);
        operands.push(self.search_predicate(left, case_sensitive)?);
        for right in right_operands.into_iter().rev() {
            operands.push(self.search_predicate(right, case_sensitive)?);
        }
        if operands.len() > 2 {
            return Ok(ExprKind::Chain { op, operands });
        }
        let rhs = operands
            .pop()
            .expect("a binary expression has two operands");
        let lhs = operands
            .pop()
            .expect("a binary expression has two operands");
        Ok(ExprKind::Binary {
            op,
            lhs: Box::new(lhs),
            rhs: Box::new(rhs),
        })
    }

    /// Lowers `Col:"term"` into the string test of the term on `Col`. `*:"term"` becomes the
    /// bare term, which `search` tests on every string column.
    fn column_search_term(
        &self,
        node: Node<'_>,
        case_sensitive: bool,
    ) -> Result<ExprKind, EngineError> {
        let column = field(node, "left")?;
        let term_node = field(node, "right")?;
        let term = match term_node.kind() {
            "string_literal" => parse_string(self.text_of(term_node)),
            _ => None,
        };
        let Some(term) = term else {
            let column_text = self.text_of(column);
            return Err(EngineError::at(
                format!(
                    "`{column_text}:` needs a string term after the colon, such as \
                     `{column_text}:\"error\"`"
                ),
                term_node.byte_range(),
            ));
        };
        if column.kind() == "star" {
            return Ok(ExprKind::Literal(Literal::String(term)));
        }
        let name = self.name(column)?;
        let column = Expr::new(ExprKind::Name(name.name), name.range);
        Ok(term_test(column, &term, case_sensitive, node.byte_range()).kind)
    }
}

/// Builds the test of a search term on one column, following the wildcard rules in the
/// module documentation.
pub(crate) fn term_test(
    column: Expr,
    term: &str,
    case_sensitive: bool,
    range: Range<usize>,
) -> Expr {
    let leading = term.starts_with('*');
    let trailing = term.ends_with('*');
    let core = term.trim_matches('*');
    let (kind, needle) = if core.contains('*') {
        (
            StringOpKind::MatchesRegex,
            wildcard_regex(term, case_sensitive),
        )
    } else {
        let kind = match (leading, trailing) {
            (false, false) => StringOpKind::Has,
            (false, true) => StringOpKind::HasPrefix,
            (true, false) => StringOpKind::HasSuffix,
            (true, true) => StringOpKind::Contains,
        };
        (kind, core.to_owned())
    };
    let op = BinaryOp::Str(StringOp {
        kind,
        case_sensitive,
        negated: false,
    });
    Expr::new(
        ExprKind::Binary {
            op,
            lhs: Box::new(column),
            rhs: Box::new(Expr::new(
                ExprKind::Literal(Literal::String(needle)),
                range.clone(),
            )),
        },
        range,
    )
}

/// Turns a term with a `*` inside, such as `Te*ing`, into a regular expression in which each
/// `*` matches any text, and each end without a `*` sits on a term boundary.
// NOTE: `.*` can run across term boundaries. Kusto's documentation of `search` gives
// `\bLab.*PC\b` for `search "Lab*PC"`, but some versions of the page give `\bLab\w*PC\b`, which
// stays inside one word. The engine has not been compared with Kusto on such terms.
fn wildcard_regex(term: &str, case_sensitive: bool) -> String {
    let mut pattern = String::new();
    if !case_sensitive {
        pattern.push_str("(?i)");
    }
    if !term.starts_with('*') {
        pattern.push_str(TERM_START);
    }
    let pieces: Vec<String> = term
        .trim_matches('*')
        .split('*')
        .map(regex::escape)
        .collect();
    pattern.push_str(&pieces.join(".*"));
    if !term.ends_with('*') {
        pattern.push_str(TERM_END);
    }
    pattern
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind_and_needle(term: &str) -> (StringOpKind, String) {
        let column = Expr::new(ExprKind::Name("C".to_owned()), 0..1);
        match term_test(column, term, false, 0..1).kind {
            ExprKind::Binary {
                op: BinaryOp::Str(op),
                rhs,
                ..
            } => match rhs.kind {
                ExprKind::Literal(Literal::String(needle)) => (op.kind, needle),
                other => panic!("needle is not a string: {other:?}"),
            },
            other => panic!("not a string test: {other:?}"),
        }
    }

    #[test]
    fn term_wildcards_pick_operator() {
        assert_eq!(kind_and_needle("err"), (StringOpKind::Has, "err".into()));
        assert_eq!(
            kind_and_needle("err*"),
            (StringOpKind::HasPrefix, "err".into())
        );
        assert_eq!(
            kind_and_needle("*err"),
            (StringOpKind::HasSuffix, "err".into())
        );
        assert_eq!(
            kind_and_needle("*err*"),
            (StringOpKind::Contains, "err".into())
        );
        assert_eq!(kind_and_needle("*"), (StringOpKind::Contains, "".into()));
    }

    #[test]
    fn inner_wildcard_makes_regex() {
        let (kind, pattern) = kind_and_needle("Te*ing");
        assert_eq!(kind, StringOpKind::MatchesRegex);
        assert_eq!(pattern, format!("(?i){TERM_START}Te.*ing{TERM_END}"));
        let regex = regex::Regex::new(&pattern).expect("valid pattern");
        assert!(regex.is_match("a testing b"));
        assert!(regex.is_match("TEXTING"));
        assert!(!regex.is_match("attesting"));

        let (_, pattern) = kind_and_needle("*a.b*c");
        assert_eq!(pattern, format!("(?i)a\\.b.*c{TERM_END}"));
    }
}
