//! The KQL semantic model for Quarry: scopes, name binding, the schema flowing through each
//! tabular operator, and expression types.
//!
//! [`analyze`] walks a tree-sitter tree from `quarry-syntax` with a table [`Schema`] and the
//! built-in function catalog. It returns a [`Model`] with the target of each name, the columns
//! visible inside each operator, the `let` bindings visible at each point, and semantic
//! diagnostics. The crate does not depend on LSP, and positions are byte offsets.
//!
//! Binding is lenient where Quarry's knowledge ends. A table missing from the schema, a plugin
//! whose output is not modelled or a subquery that failed to parse yields an *open* row type,
//! and names looked up in an open row type are never reported as unknown.

mod binder;
pub mod codes;
mod infer;
mod lints;
mod model;
mod naming;
mod suggest;

use quarry_analysis::{Catalog, Schema};
use quarry_syntax::Parse;

pub use model::{
    Column, Diagnostic, Edit, Fix, Model, Origin, Reference, RowScope, RowType, Severity,
    TabularResult, Target, Value, Variable, VariableKind, VisibleVariable, describe_row,
};

/// Binds every query block of a document against `schema` and `catalog`.
pub fn analyze(text: &str, parse: &Parse, catalog: &Catalog, schema: &Schema) -> Model {
    binder::Binder::new(text, catalog, schema).run(parse.root(), 0..text.len())
}

/// Binds only the query blocks that overlap `range`, such as the block under the cursor.
/// Blocks are independent in KQL (a `let` is visible only in its own block), so the result
/// for those blocks equals that of [`analyze`] at a fraction of the cost on long documents.
pub fn analyze_range(
    text: &str,
    parse: &Parse,
    catalog: &Catalog,
    schema: &Schema,
    range: std::ops::Range<usize>,
) -> Model {
    binder::Binder::new(text, catalog, schema).run(parse.root(), range)
}
