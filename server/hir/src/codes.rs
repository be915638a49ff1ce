//! Stable codes of the semantic diagnostics: `KQL1xx` for errors and `KQL2xx` for warnings.
//! Syntax errors use `KQL0xx` codes.

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
/// An argument whose type no overload of the function accepts, such as `strlen(TimeGenerated)`
/// or `sum(Account)`.
pub const ARGUMENT_TYPE: &str = "KQL106";
/// A comparison of two values that Kusto cannot compare, such as a number with a string.
pub const OPERAND_TYPES: &str = "KQL107";

// Warnings: the query runs, but it is likely slower or different from what was meant.

/// `contains` with a literal that is one whole term, where the indexed `has` would do.
pub const CONTAINS_TERM: &str = "KQL201";
/// A large table queried with no time filter.
pub const NO_TIME_FILTER: &str = "KQL202";
/// A `join` without `kind=`, which defaults to `innerunique` and drops duplicate left keys.
pub const JOIN_WITHOUT_KIND: &str = "KQL203";
/// The same value compared with `==` to string literals that differ only in case.
pub const CASE_VARIANTS: &str = "KQL204";
