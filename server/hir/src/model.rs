//! The semantic model of one document: the target of each name, the columns visible inside
//! each operator, and the semantic errors found while binding.

use std::ops::Range;
use std::sync::Arc;

use quarry_analysis::ScalarType;

/// A column of a row type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub name: String,
    pub ty: ScalarType,
    pub origin: Origin,
}

/// The place a column comes from, shown in hover.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A column of a table in the schema.
    Table(String),
    /// A column that an operator computes or renames, with the byte range of the expression or
    /// assignment that defines it.
    Operator {
        operator: &'static str,
        range: Range<usize>,
    },
    /// A column whose definition Quarry does not track, such as the output of a plugin.
    Unknown,
}

/// The columns of a tabular value, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RowType {
    pub columns: Vec<Column>,
    /// Whether the value may have columns Quarry does not know, as after `evaluate bag_unpack`
    /// or with a table missing from the schema. References to unknown columns of an open row
    /// type are not errors.
    pub open: bool,
}

impl RowType {
    /// Creates an open row type with no known columns.
    pub fn unknown() -> RowType {
        RowType {
            columns: Vec::new(),
            open: true,
        }
    }

    /// Looks up a column by its exact name.
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|column| column.name == name)
    }
}

/// The value a name or expression stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Scalar(ScalarType),
    Table(Arc<RowType>),
    /// A value of unknown kind: neither a diagnostic nor a type can be derived from it.
    Unknown,
}

impl Value {
    /// Returns the scalar type, or `Unknown` for tables and unknown values.
    pub fn scalar_type(&self) -> ScalarType {
        match self {
            Value::Scalar(ty) => *ty,
            _ => ScalarType::Unknown,
        }
    }
}

/// The target of a name in the document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Column(Column),
    /// A table of the schema.
    Table {
        name: String,
        row: Arc<RowType>,
        source: Arc<str>,
    },
    /// A `let` binding, a lambda parameter, a query parameter or an `as` name.
    Variable(Variable),
    /// A built-in function, aggregate or plugin.
    Function {
        name: String,
    },
}

/// A name bound in a scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variable {
    pub name: String,
    pub kind: VariableKind,
    /// The byte range of the defining name.
    pub definition: Range<usize>,
    /// A one-line description of the value: a type, a row type or a function signature.
    pub description: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VariableKind {
    Let,
    Parameter,
    QueryParameter,
    /// A name given with the `as` operator.
    As,
    Function,
}

/// One use of a name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    pub range: Range<usize>,
    pub target: Target,
}

/// The columns visible inside an operator's arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowScope {
    /// The byte range of the operator, from its keyword to the end of its arguments.
    pub range: Range<usize>,
    /// The operator's name, such as `where` or `summarize`.
    pub operator: &'static str,
    pub row: Arc<RowType>,
    /// Whether aggregate functions may be called here (`summarize`, `make-series`, ...).
    pub aggregates: bool,
}

/// A tabular expression and the row type it produces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TabularResult {
    /// The byte range of the expression.
    pub range: Range<usize>,
    pub row: Arc<RowType>,
}

/// A binding visible from `visible.start` to `visible.end`, for completion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VisibleVariable {
    pub variable: Variable,
    pub visible: Range<usize>,
}

/// How serious a diagnostic is: errors make the query fail in Kusto, warnings point at a query
/// that runs but is likely slow or wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

/// A replacement of the bytes `range` with `new_text`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    pub range: Range<usize>,
    pub new_text: String,
}

/// A quick fix: edits that resolve a diagnostic, with the title an editor shows for them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fix {
    pub title: String,
    pub edits: Vec<Edit>,
}

/// A semantic error or warning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub range: Range<usize>,
    /// A stable code, listed in [`crate::codes`].
    pub code: &'static str,
    pub message: String,
    /// A hint on fixing the problem, such as a "did you mean" suggestion.
    pub help: Option<String>,
    pub severity: Severity,
    /// Quick fixes, best first; empty where no edit resolves the problem.
    pub fixes: Vec<Fix>,
}

/// The semantic model of a document.
#[derive(Debug, Clone, Default)]
pub struct Model {
    /// Errors and warnings, in document order.
    pub diagnostics: Vec<Diagnostic>,
    /// Uses of names, in document order.
    pub references: Vec<Reference>,
    /// Operator scopes, in document order of their start.
    pub row_scopes: Vec<RowScope>,
    /// Every `let`, parameter and `as` binding with the range where it is visible.
    pub variables: Vec<VisibleVariable>,
    /// The outputs of query statements, `let` values and pipe expressions, in document order
    /// of their start. An operator that failed to parse has no row scope, so completion takes
    /// its input from the result that ends before its `|`.
    pub tabular_results: Vec<TabularResult>,
}

impl Model {
    /// Iterates over the diagnostics of severity [`Severity::Error`].
    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics
            .iter()
            .filter(|diagnostic| diagnostic.severity == Severity::Error)
    }

    /// Returns the reference whose name covers `offset`, counting the offset just after a name.
    pub fn reference_at(&self, offset: usize) -> Option<&Reference> {
        self.references
            .iter()
            .filter(|reference| reference.range.start <= offset && offset <= reference.range.end)
            .min_by_key(|reference| reference.range.len())
    }

    /// Returns the innermost operator scope whose range contains `offset`.
    pub fn row_scope_at(&self, offset: usize) -> Option<&RowScope> {
        self.row_scopes
            .iter()
            .filter(|scope| scope.range.start <= offset && offset <= scope.range.end)
            .min_by_key(|scope| scope.range.len())
    }

    /// Returns the variables visible at `offset`, the innermost binding of each name once.
    pub fn variables_at(&self, offset: usize) -> Vec<&Variable> {
        let mut visible: Vec<&VisibleVariable> = self
            .variables
            .iter()
            .filter(|binding| binding.visible.start <= offset && offset <= binding.visible.end)
            .collect();
        // Later definitions shadow earlier ones of the same name.
        visible.sort_by_key(|binding| std::cmp::Reverse(binding.variable.definition.start));
        let mut seen = std::collections::HashSet::new();
        visible
            .into_iter()
            .filter(|binding| seen.insert(binding.variable.name.clone()))
            .map(|binding| &binding.variable)
            .collect()
    }
}

/// Renders a row type as `(Name: type, ...)`, with `...` for an open one.
pub fn describe_row(row: &RowType) -> String {
    let mut parts: Vec<String> = row
        .columns
        .iter()
        .map(|column| format!("{}: {}", column.name, column.ty))
        .collect();
    if row.open {
        parts.push("...".to_owned());
    }
    format!("({})", parts.join(", "))
}
