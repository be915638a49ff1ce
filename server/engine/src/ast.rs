//! The engine's own query tree: the subset of KQL that the engine can run, with byte ranges.
//!
//! `lower` builds it from the tree-sitter syntax tree; `eval` turns it into polars lazy plans.
//! Every node keeps the byte range of its source text so that errors can point at it.

use std::ops::Range;

/// One query block: `let` statements followed by a tabular expression.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    pub lets: Vec<LetScalar>,
    pub pipeline: Pipeline,
    /// A trailing `render` operator, which names a chart and does not change the rows.
    pub render: Option<crate::RenderHint>,
}

/// `let name = scalar-expression;`
#[derive(Debug, Clone, PartialEq)]
pub struct LetScalar {
    pub name: Ident,
    pub value: Expr,
}

/// A table followed by `| operator` stages.
#[derive(Debug, Clone, PartialEq)]
pub struct Pipeline {
    pub source: Ident,
    pub operators: Vec<Operator>,
}

/// A name with the byte range where it appears.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ident {
    pub name: String,
    pub range: Range<usize>,
}

/// A tabular operator with the byte range of the whole stage (without the leading `|`).
#[derive(Debug, Clone, PartialEq)]
pub struct Operator {
    pub kind: OperatorKind,
    pub range: Range<usize>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum OperatorKind {
    Where(Expr),
    /// `project a, b = expr, expr`
    Project(Vec<NamedExpr>),
    /// `project-away a, b`
    ProjectAway(Vec<Ident>),
    /// `project-rename new = old`
    ProjectRename(Vec<(Ident, Ident)>),
    Extend(Vec<NamedExpr>),
    Summarize {
        aggregates: Vec<NamedExpr>,
        by: Vec<NamedExpr>,
    },
    /// `order by` / `sort by`
    Sort(Vec<SortKey>),
    /// `take` / `limit`
    Take(Expr),
    /// `top N by key`
    Top {
        count: Expr,
        key: SortKey,
    },
    /// `distinct a, b`; an empty list means `distinct *`.
    Distinct(Vec<NamedExpr>),
    Count,
    /// `union [kind=outer|inner] [withsource=Name] T, (U | ...)`, appended after the input rows.
    Union {
        outer: bool,
        withsource: Option<Ident>,
        /// Each table with the name its rows get in the `withsource` column.
        tables: Vec<(String, Pipeline)>,
    },
    /// `join kind=K (right) on keys`.
    Join {
        kind: JoinKind,
        right: Pipeline,
        /// Pairs of (left column, right column).
        keys: Vec<(Ident, Ident)>,
    },
    /// An operator the grammar parses but the engine does not run yet, named as written.
    Unsupported(String),
}

/// The join kinds the engine runs. `InnerUnique`, Kusto's default, keeps one left row per key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JoinKind {
    InnerUnique,
    Inner,
    LeftOuter,
}

/// An expression with an optional `name =` in front of it.
#[derive(Debug, Clone, PartialEq)]
pub struct NamedExpr {
    pub name: Option<Ident>,
    pub expr: Expr,
}

/// One key of `order by`, `sort by` or `top ... by`.
#[derive(Debug, Clone, PartialEq)]
pub struct SortKey {
    pub expr: Expr,
    /// `asc` sorts ascending; Kusto's default, with no keyword, is descending.
    pub descending: bool,
    /// `nulls first` / `nulls last`; `None` means Kusto's default for the direction.
    pub nulls_first: Option<bool>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub range: Range<usize>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    /// A column, or a name bound by `let`.
    Name(String),
    Literal(Literal),
    Not(Box<Expr>),
    Negate(Box<Expr>),
    Binary {
        op: BinaryOp,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    /// `x in (a, b)`, `x !in (...)`, `x in~ (...)`, `x !in~ (...)`.
    In {
        expr: Box<Expr>,
        list: Vec<Expr>,
        negated: bool,
        case_sensitive: bool,
    },
    /// `x between (a .. b)` and `x !between (a .. b)`.
    Between {
        expr: Box<Expr>,
        low: Box<Expr>,
        high: Box<Expr>,
        negated: bool,
    },
    Call {
        name: Ident,
        args: Vec<Expr>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// A typed null such as `long(null)`, or plain `null` where a grammar allows it.
    Null,
    Bool(bool),
    Long(i64),
    Real(f64),
    String(String),
    /// Nanoseconds since the Unix epoch, UTC.
    Datetime(i64),
    /// Nanoseconds.
    Timespan(i64),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Eq,
    NotEq,
    Lt,
    LtEq,
    Gt,
    GtEq,
    /// `=~`: equal ignoring case.
    EqIgnoreCase,
    /// `!~`: not equal ignoring case.
    NotEqIgnoreCase,
    And,
    Or,
    Str(StringOp),
}

/// A KQL string operator such as `has`, `!contains_cs` or `startswith`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StringOp {
    pub kind: StringOpKind,
    pub case_sensitive: bool,
    pub negated: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StringOpKind {
    Has,
    HasPrefix,
    HasSuffix,
    Contains,
    StartsWith,
    EndsWith,
    MatchesRegex,
}

impl StringOp {
    /// Parses an operator as written in KQL, such as `!has_cs`.
    pub fn parse(text: &str) -> Option<StringOp> {
        let (negated, rest) = match text.strip_prefix('!') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let (case_sensitive, base) = match rest.strip_suffix("_cs") {
            Some(base) => (true, base),
            None => (false, rest),
        };
        let kind = match base {
            "has" => StringOpKind::Has,
            "hasprefix" => StringOpKind::HasPrefix,
            "hassuffix" => StringOpKind::HasSuffix,
            "contains" => StringOpKind::Contains,
            "startswith" => StringOpKind::StartsWith,
            "endswith" => StringOpKind::EndsWith,
            _ => return None,
        };
        Some(StringOp {
            kind,
            case_sensitive,
            negated,
        })
    }
}

impl Expr {
    pub fn new(kind: ExprKind, range: Range<usize>) -> Expr {
        Expr { kind, range }
    }

    /// Returns the column name when the expression is a bare name.
    pub fn as_name(&self) -> Option<&str> {
        match &self.kind {
            ExprKind::Name(name) => Some(name),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_op_parse_forms() {
        let op = StringOp::parse("!has_cs").unwrap();
        assert_eq!(op.kind, StringOpKind::Has);
        assert!(op.negated);
        assert!(op.case_sensitive);

        let op = StringOp::parse("endswith").unwrap();
        assert_eq!(op.kind, StringOpKind::EndsWith);
        assert!(!op.negated);
        assert!(!op.case_sensitive);

        assert_eq!(StringOp::parse("has_any"), None);
    }
}
