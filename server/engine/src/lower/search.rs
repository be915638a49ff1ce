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
        self.operator_run(node, operator, op, |operand| {
            self.search_predicate(operand, case_sensitive)
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
    let (kind, needle) = term_operator(term, case_sensitive);
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

/// Picks the string operator and its right operand for a search term: `has`, `hasprefix`,
/// `hassuffix` or `contains` with the term stripped of its edge `*`s, or `matches regex` with
/// the pattern of a term that has a `*` inside.
fn term_operator(term: &str, case_sensitive: bool) -> (StringOpKind, String) {
    let leading = term.starts_with('*');
    let trailing = term.ends_with('*');
    let core = term.trim_matches('*');
    if core.contains('*') {
        return (
            StringOpKind::MatchesRegex,
            wildcard_regex(term, case_sensitive),
        );
    }
    let kind = match (leading, trailing) {
        (false, false) => StringOpKind::Has,
        (false, true) => StringOpKind::HasPrefix,
        (true, false) => StringOpKind::HasSuffix,
        (true, true) => StringOpKind::Contains,
    };
    (kind, core.to_owned())
}

/// The minimum number of bare terms joined by `or` that `search` matches through alternations.
/// A lone term keeps its own string test.
pub(crate) const SEARCH_ALTERNATION_MIN: usize = 2;

/// The maximum number of terms in one alternation.
const SEARCH_ALTERNATION_MAX_TERMS: usize = 256;

/// The pattern length, in bytes, at which an alternation takes no more terms. It keeps each
/// compiled alternation well under the regex crate's default limit of 10 MiB on a compiled
/// program, even with `(?i)` doubling every letter into a class.
const SEARCH_ALTERNATION_MAX_BYTES: usize = 16 * 1024;

/// Bare search terms grouped into regular expressions, each matching a string exactly when
/// one of its terms matches it.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct TermAlternations {
    /// Alternation patterns, with `(?i)` in front unless the search is case-sensitive.
    pub patterns: Vec<String>,
    /// Terms that keep their own test: the `*mid*` terms of a case-insensitive search, because
    /// `contains` then compares lowercased text and `(?i)` folds case by other rules for some
    /// non-ASCII letters.
    pub separate: Vec<String>,
}

/// One term as a piece of an alternation: the regex of its text and the term boundaries it
/// needs on each side.
struct Alternative {
    start_boundary: bool,
    end_boundary: bool,
    body: String,
}

/// Groups bare search terms into alternations of their term patterns, so that `search`
/// makes one pass over each column per alternation in place of one per term.
///
/// Terms with the same boundaries share them: `B(?:t1|t2)B` matches where `Bt1B|Bt2B` does,
/// because concatenation distributes over alternation.
pub(crate) fn term_alternations(terms: &[&str], case_sensitive: bool) -> TermAlternations {
    let mut grouped = TermAlternations::default();
    let mut chunk: Vec<Alternative> = Vec::new();
    let mut chunk_bytes = 0;
    for term in terms {
        let Some(alternative) = term_alternative(term, case_sensitive) else {
            grouped.separate.push((*term).to_owned());
            continue;
        };
        chunk_bytes += alternative.body.len() + 1;
        chunk.push(alternative);
        if chunk.len() >= SEARCH_ALTERNATION_MAX_TERMS
            || chunk_bytes >= SEARCH_ALTERNATION_MAX_BYTES
        {
            grouped
                .patterns
                .push(alternation_pattern(&chunk, case_sensitive));
            chunk.clear();
            chunk_bytes = 0;
        }
    }
    if !chunk.is_empty() {
        grouped
            .patterns
            .push(alternation_pattern(&chunk, case_sensitive));
    }
    grouped
}

/// Converts a term into an alternative with the same matches as its `has`, `hasprefix`,
/// `hassuffix`, wildcard or case-sensitive `contains` test. Returns `None` for a
/// case-insensitive `contains` term.
///
/// A needle edge that is a letter or digit needs a term boundary next to it. An edge that is
/// punctuation is its own boundary, as in the engine's `has`.
fn term_alternative(term: &str, case_sensitive: bool) -> Option<Alternative> {
    let (kind, needle) = term_operator(term, true);
    let (starts_with_term_char, ends_with_term_char) = crate::eval::expr::term_char_edges(&needle);
    let (start_boundary, end_boundary, body) = match kind {
        StringOpKind::Has => (
            starts_with_term_char,
            ends_with_term_char,
            regex::escape(&needle),
        ),
        StringOpKind::HasPrefix => (starts_with_term_char, false, regex::escape(&needle)),
        StringOpKind::HasSuffix => (false, ends_with_term_char, regex::escape(&needle)),
        // The pattern of a term with an inner `*` carries its own boundaries.
        StringOpKind::MatchesRegex => (false, false, needle),
        StringOpKind::Contains if case_sensitive => (false, false, regex::escape(&needle)),
        _ => return None,
    };
    Some(Alternative {
        start_boundary,
        end_boundary,
        body,
    })
}

/// Writes one alternation: the alternatives grouped by the boundaries they need, each group
/// wrapped once in those boundaries.
fn alternation_pattern(alternatives: &[Alternative], case_sensitive: bool) -> String {
    let mut groups = Vec::new();
    for (start_boundary, end_boundary) in
        [(true, true), (true, false), (false, true), (false, false)]
    {
        let bodies: Vec<&str> = alternatives
            .iter()
            .filter(|a| a.start_boundary == start_boundary && a.end_boundary == end_boundary)
            .map(|a| a.body.as_str())
            .collect();
        if bodies.is_empty() {
            continue;
        }
        let start = if start_boundary { TERM_START } else { "" };
        let end = if end_boundary { TERM_END } else { "" };
        groups.push(format!("{start}(?:{}){end}", bodies.join("|")));
    }
    let flags = if case_sensitive { "" } else { "(?i)" };
    format!("{flags}(?:{})", groups.join("|"))
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

    #[test]
    fn alternation_shares_boundaries() {
        let grouped = term_alternations(&["cmd.exe", "-enc", "pow*", "*shell", "Te*ing"], false);
        assert!(grouped.separate.is_empty());
        assert_eq!(
            grouped.patterns,
            [format!(
                "(?i)(?:{TERM_START}(?:cmd\\.exe){TERM_END}|{TERM_START}(?:pow)|(?:\\-enc|shell){TERM_END}\
                 |(?:{TERM_START}Te.*ing{TERM_END}))"
            )]
        );
    }

    #[test]
    fn alternation_keeps_contains_terms_apart() {
        let grouped = term_alternations(&["*mid*", "a", "*", "b"], false);
        assert_eq!(grouped.separate, ["*mid*", "*"]);
        assert_eq!(
            grouped.patterns,
            [format!("(?i)(?:{TERM_START}(?:a|b){TERM_END})")]
        );
    }

    #[test]
    fn case_sensitive_contains_joins_alternation() {
        let grouped = term_alternations(&["*m.d*", "a", "*", "b"], true);
        assert!(grouped.separate.is_empty());
        assert_eq!(
            grouped.patterns,
            [format!("(?:{TERM_START}(?:a|b){TERM_END}|(?:m\\.d|))")]
        );
    }

    #[test]
    fn alternation_matches_like_each_term() {
        let terms = [
            "cmd.exe", "-enc", "pow*", "*shell", "Te*ing", "a+b", "(x)", "c:\\temp", "",
        ];
        let texts = [
            "run cmd.exe now",
            "xcmd.exe",
            "cmd.exes",
            "p -enc x",
            "x-encoded",
            "PowerShell",
            "apow",
            "myshell.",
            "shells",
            "attesting",
            "a testing",
            "1 a+b 2",
            "ba+b",
            "f(x)",
            "C:\\Temp\\x",
            "",
        ];
        for case_sensitive in [false, true] {
            for term in terms {
                let single = term_alternations(&[term], case_sensitive);
                let pattern = regex::Regex::new(&single.patterns[0]).expect("valid alternation");
                let (kind, needle) = term_operator(term, case_sensitive);
                let expected = match kind {
                    StringOpKind::MatchesRegex => needle,
                    _ => crate::eval::expr::term_pattern(&needle, kind, case_sensitive),
                };
                let expected = regex::Regex::new(&expected).expect("valid term pattern");
                for text in texts {
                    assert_eq!(
                        pattern.is_match(text),
                        expected.is_match(text),
                        "term {term:?} on {text:?}, case_sensitive {case_sensitive}"
                    );
                }
            }
        }

        // A case-sensitive `*mid*` term is a literal substring test.
        for term in ["*a+b*", "*(x)*", "*Temp\\*", "*md.e*", "*"] {
            let single = term_alternations(&[term], true);
            let pattern = regex::Regex::new(&single.patterns[0]).expect("valid alternation");
            let needle = term.trim_matches('*');
            for text in texts {
                assert_eq!(
                    pattern.is_match(text),
                    text.contains(needle),
                    "term {term:?} on {text:?}"
                );
            }
        }
    }

    #[test]
    fn alternation_chunks_by_count_and_length() {
        let short: Vec<String> = (0..600).map(|n| format!("t{n}")).collect();
        let short: Vec<&str> = short.iter().map(String::as_str).collect();
        let grouped = term_alternations(&short, false);
        assert_eq!(grouped.patterns.len(), 3);

        let long: Vec<String> = (0..40).map(|n| format!("{n:0>1000}")).collect();
        let long: Vec<&str> = long.iter().map(String::as_str).collect();
        let grouped = term_alternations(&long, false);
        assert_eq!(grouped.patterns.len(), 3);
        for pattern in &grouped.patterns {
            assert!(pattern.len() < SEARCH_ALTERNATION_MAX_BYTES + 1100);
        }
    }

    /// Checks that the largest alternations of long case-insensitive terms compile within a
    /// quarter of the regex crate's default size limit of 10 MiB, which polars uses unless
    /// POLARS_REGEX_SIZE_LIMIT is set.
    #[test]
    fn largest_alternation_compiles() {
        let terms: Vec<String> = (0..SEARCH_ALTERNATION_MAX_TERMS)
            .map(|n| format!("{n:x>120}.Example-Domain.net"))
            .collect();
        let terms: Vec<&str> = terms.iter().map(String::as_str).collect();
        for pattern in term_alternations(&terms, false).patterns {
            regex::RegexBuilder::new(&pattern)
                .size_limit((10 << 20) / 4)
                .build()
                .expect("the alternation compiles");
        }
    }
}
