//! Stable codes of the semantic diagnostics. Syntax errors use `KQL0xx` codes.

/// A name where a table is expected (the source of a pipe, the right side of `join`, an operand
/// of `union`) that is no table, tabular variable or function.
pub const UNKNOWN_TABLE: &str = "KQL101";
/// A name in an expression that is no column, variable, table or function.
pub const UNKNOWN_NAME: &str = "KQL102";
/// A call of a function that is neither built in nor defined with `let`.
pub const UNKNOWN_FUNCTION: &str = "KQL103";
/// A call with fewer or more arguments than any overload of the function accepts.
pub const ARGUMENT_COUNT: &str = "KQL104";
/// An `evaluate` of a plugin that does not exist.
pub const UNKNOWN_PLUGIN: &str = "KQL105";
