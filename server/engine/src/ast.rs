//! The engine's own query tree: the subset of KQL that the engine can run, with byte ranges.
//!
//! `lower` builds it from the tree-sitter syntax tree; `eval` turns it into polars lazy plans.
//! Every node keeps the byte range of its source text so that errors can point at it.

use std::ops::Range;

/// One query block: `let` statements followed by a tabular expression.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    pub lets: Vec<Let>,
    pub pipeline: Pipeline,
    /// A trailing `render` operator, which names a chart and does not change the rows.
    pub render: Option<crate::RenderHint>,
}

/// `let name = value;`
#[derive(Debug, Clone, PartialEq)]
pub struct Let {
    pub name: Ident,
    pub value: LetValue,
}

#[derive(Debug, Clone, PartialEq)]
#[allow(
    clippy::large_enum_variant,
    reason = "a query holds a handful of these, so their size does not matter"
)]
pub enum LetValue {
    /// A scalar expression, such as `let n = 10;`.
    Scalar(Expr),
    /// A tabular expression, such as `let bad = T | where X;` or `materialize(...)`.
    Tabular(Pipeline),
    /// `toscalar(subquery)`: the first column of the subquery's first row.
    ToScalar(Pipeline),
    /// A user-defined function, `let f = (a: long, b: string = "x") { body };`.
    Function(Function),
}

/// A lambda bound by `let`: typed parameters and the body's statements.
#[derive(Debug, Clone, PartialEq)]
pub struct Function {
    pub parameters: Vec<Parameter>,
    pub lets: Vec<Let>,
    pub body: FunctionBody,
}

/// A function parameter: its name, its default value, and whether it takes a table.
#[derive(Debug, Clone, PartialEq)]
pub struct Parameter {
    pub name: Ident,
    pub default: Option<Expr>,
    pub tabular: bool,
}

#[derive(Debug, Clone, PartialEq)]
#[allow(
    clippy::large_enum_variant,
    reason = "a query holds a handful of these, so their size does not matter"
)]
pub enum FunctionBody {
    Scalar(Expr),
    Tabular(Pipeline),
}

/// A source followed by `| operator` stages.
#[derive(Debug, Clone, PartialEq)]
pub struct Pipeline {
    pub source: Source,
    pub operators: Vec<Operator>,
}

/// The origin of a pipeline's rows.
#[derive(Debug, Clone, PartialEq)]
#[allow(
    clippy::large_enum_variant,
    reason = "a query holds a handful of these, so their size does not matter"
)]
pub enum Source {
    /// A table of the data source, or a tabular `let` name.
    Table(Ident),
    /// A call of a tabular function bound by `let`.
    Call { name: Ident, args: Vec<Expr> },
    /// `datatable(Name: type, ...) [values]`, with the values in row order.
    Datatable {
        columns: Vec<(Ident, String)>,
        values: Vec<Expr>,
        range: Range<usize>,
    },
    /// `print a = expr, ...`: one row.
    Print(Vec<NamedExpr>),
    /// No rows and no columns; `union` and `search` at the start of a query append to it.
    Empty,
    /// `range Name from A to B step S`.
    Range {
        name: Ident,
        from: Expr,
        to: Expr,
        step: Expr,
    },
}

impl Source {
    /// Returns the table name when the source is a plain table, for `union`'s source labels.
    pub fn table_name(&self) -> Option<&Ident> {
        match self {
            Source::Table(name) => Some(name),
            _ => None,
        }
    }
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
    /// `lookup kind=leftouter|inner (right) on keys`: a join that keeps the left rows' order
    /// and adds only the right side's non-key columns.
    Lookup {
        inner: bool,
        right: Pipeline,
        keys: Vec<(Ident, Ident)>,
    },
    /// `mv-expand [bagexpansion=array] [with_itemindex=I] Col [to typeof(T)], ... [limit N]`.
    MvExpand {
        columns: Vec<MvColumn>,
        bag_as_array: bool,
        item_index: Option<Ident>,
        limit: Option<Expr>,
    },
    /// `parse`, and `parse-where` when `keep_unmatched` is false.
    Parse {
        source: Expr,
        kind: ParseKind,
        items: Vec<ParseItem>,
        keep_unmatched: bool,
    },
    /// `parse-kv Source as (Key: type, ...) with (pair_delimiter=P, kv_delimiter=K, quote=Q)`.
    ParseKv {
        source: Expr,
        columns: Vec<(Ident, String)>,
        pair_delimiter: String,
        kv_delimiter: String,
        quotes: String,
    },
    /// `serialize [name = expr, ...]`: marks the rows as ordered and extends them.
    Serialize(Vec<NamedExpr>),
    /// `project-keep a, b`
    ProjectKeep(Vec<Ident>),
    /// `project-reorder a, b`: the named columns first, the others after them.
    ProjectReorder(Vec<Ident>),
    Getschema,
    /// `sample N`
    Sample(Expr),
    /// `evaluate bag_unpack(Column [, prefix])`
    BagUnpack {
        column: Expr,
        prefix: Option<String>,
    },
    /// `make-series agg default=d, ... on Axis from A to B step S by keys`.
    MakeSeries {
        aggregates: Vec<(NamedExpr, Option<Expr>)>,
        axis: Expr,
        from: Option<Expr>,
        to: Option<Expr>,
        step: Expr,
        by: Vec<NamedExpr>,
    },
    /// `invoke f(args)`: calls a tabular function with the input as its first argument.
    Invoke {
        name: Ident,
        args: Vec<Expr>,
    },
    /// `as Name`: names the input for later reference; it does not change the rows.
    As(Ident),
    /// `top-nested` clauses, outermost first.
    TopNested(Vec<TopNestedClause>),
    /// `mv-apply Col to typeof(T) on (subquery)`.
    MvApply {
        columns: Vec<MvColumn>,
        item_index: Option<Ident>,
        subquery: Vec<Operator>,
    },
    /// `search "term"` or `search predicate` over every column of the input. Bare string terms
    /// in `predicate` are tested on every string and dynamic column, matching case only when
    /// `case_sensitive` (`kind=case_sensitive`) is set.
    Search {
        predicate: Expr,
        case_sensitive: bool,
    },
    /// An operator the grammar parses but the engine does not run yet, named as written.
    Unsupported(String),
}

/// One `top-nested N of Column [with others = V] by Aggregate [asc|desc]` clause.
#[derive(Debug, Clone, PartialEq)]
pub struct TopNestedClause {
    pub count: Option<Expr>,
    pub column: NamedExpr,
    pub others: Option<Expr>,
    pub aggregate: NamedExpr,
    pub descending: bool,
}

/// One column of `mv-expand`: the expression, its output name and the `to typeof()` type.
#[derive(Debug, Clone, PartialEq)]
pub struct MvColumn {
    pub name: Ident,
    pub expr: Expr,
    pub to_type: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParseKind {
    /// The default: string items match literally, and a value that does not convert fails
    /// the match.
    Simple,
    /// `kind=regex`: string items are regular expressions.
    Regex,
    /// `kind=relaxed`: like simple, but a value that does not convert is null, not a mismatch.
    Relaxed,
}

/// One item of a `parse` pattern.
#[derive(Debug, Clone, PartialEq)]
pub enum ParseItem {
    /// `*`: any text, not kept.
    Star,
    /// A constant string (a regular expression with `kind=regex`).
    Text(String),
    /// `Name` or `Name: type`, a column to extract.
    Column { name: Ident, ty: Option<String> },
}

/// The join kinds. `InnerUnique`, Kusto's default, keeps one left row per key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JoinKind {
    InnerUnique,
    Inner,
    LeftOuter,
    RightOuter,
    FullOuter,
    LeftAnti,
    RightAnti,
    LeftSemi,
    RightSemi,
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
    /// `a op b op c ...`: three or more operands joined by one operator, which means the
    /// left-nested `((a op b) op c) ...`. Lowering builds it so that later passes loop over a
    /// long generated chain, such as thousands of `or` terms, with no stack frame per operator.
    Chain {
        op: BinaryOp,
        operands: Vec<Expr>,
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
    /// `object.name`, `object["name"]` and `object[index]` on dynamic values.
    Member {
        object: Box<Expr>,
        key: Box<Expr>,
    },
    /// `typeof(T)`, an argument of `extract()` and the like; the type name as written.
    TypeOf(String),
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
    /// `dynamic(...)`: a JSON array, property bag or scalar.
    Dynamic(serde_json::Value),
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

    /// Returns the expressions directly inside this one: operands, arguments, list items.
    pub fn children(&self) -> Vec<&Expr> {
        match &self.kind {
            ExprKind::Name(_) | ExprKind::Literal(_) | ExprKind::TypeOf(_) => Vec::new(),
            ExprKind::Call { args, .. } => args.iter().collect(),
            ExprKind::Not(inner) | ExprKind::Negate(inner) => vec![inner],
            ExprKind::Binary { lhs, rhs, .. } => vec![lhs, rhs],
            ExprKind::Chain { operands, .. } => operands.iter().collect(),
            ExprKind::In { expr, list, .. } => std::iter::once(&**expr).chain(list).collect(),
            ExprKind::Between {
                expr, low, high, ..
            } => vec![expr, low, high],
            ExprKind::Member { object, key } => vec![object, key],
        }
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
