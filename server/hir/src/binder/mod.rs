//! The walk over the syntax tree that builds the [`Model`].
//!
//! `mod.rs` binds statements, scopes and names. `expressions.rs` binds scalar expressions and
//! calls, and `operators.rs` computes the row type each tabular operator produces.

mod expressions;
mod operators;

use std::collections::HashMap;
use std::ops::Range;
use std::sync::Arc;

use quarry_analysis::{Catalog, ScalarType, Schema};
use quarry_syntax::kinds;
use quarry_syntax::tree_sitter::Node;

use crate::model::{
    Column, Diagnostic, Model, Origin, Reference, RowType, Severity, TabularResult, Target, Value,
    Variable, VariableKind, VisibleVariable, describe_row,
};
use crate::naming::name_text;
use crate::{codes, lints, suggest};

/// The depth of nested calls of `let`-defined functions that are followed; deeper results are
/// unknown. The limit stops recursion and keeps deeply nested helper functions cheap.
const MAX_CALL_DEPTH: usize = 8;

/// A name bound by `let`, a parameter declaration or `as`.
#[derive(Clone)]
enum Binding<'t> {
    Value {
        value: Value,
        variable: Variable,
    },
    /// A lambda or view; its body is bound again at each call with the argument values.
    Function {
        lambda: Node<'t>,
        variable: Variable,
    },
}

impl Binding<'_> {
    fn variable(&self) -> &Variable {
        match self {
            Binding::Value { variable, .. } | Binding::Function { variable, .. } => variable,
        }
    }
}

/// The columns the names of an expression may refer to.
#[derive(Clone, Default)]
pub(crate) struct Context {
    /// The columns of the operator's input.
    row: Option<Arc<RowType>>,
    /// The two sides of a `join` or `lookup` condition, for `$left.X` and `$right.X`.
    left: Option<Arc<RowType>>,
    right: Option<Arc<RowType>>,
}

impl Context {
    fn with_row(row: &Arc<RowType>) -> Context {
        Context {
            row: Some(Arc::clone(row)),
            ..Context::default()
        }
    }

    /// Checks whether some row type in reach is open, so unknown names are not errors.
    fn is_open(&self) -> bool {
        [&self.row, &self.left, &self.right]
            .into_iter()
            .flatten()
            .any(|row| row.open)
    }
}

/// Whether an expression is expected to be a table, which decides the diagnostic for an
/// unknown name.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Expect {
    Tabular,
    Any,
}

pub(crate) struct Binder<'t> {
    text: &'t str,
    catalog: &'t Catalog,
    schema: &'t Schema,
    scopes: Vec<Vec<(String, Binding<'t>)>>,
    model: Model,
    /// Greater than zero while a function body is bound again for a call; nothing is recorded
    /// then, because the definition was already recorded once.
    replaying: usize,
    call_depth: usize,
    /// Greater than zero inside `union isfuzzy=true`, where missing tables are not errors.
    fuzzy_union: usize,
    table_rows: HashMap<String, Arc<RowType>>,
}

impl<'t> Binder<'t> {
    pub(crate) fn new(text: &'t str, catalog: &'t Catalog, schema: &'t Schema) -> Binder<'t> {
        Binder {
            text,
            catalog,
            schema,
            scopes: Vec::new(),
            model: Model::default(),
            replaying: 0,
            call_depth: 0,
            fuzzy_union: 0,
            table_rows: HashMap::new(),
        }
    }

    /// Binds the query blocks under `root` that overlap `range`. Each block reaches to the
    /// start of the next, so a cursor in the spaces after a block's last token belongs to it.
    pub(crate) fn run(mut self, root: Node<'t>, range: Range<usize>) -> Model {
        let blocks: Vec<Node<'t>> = named_children(root)
            .into_iter()
            .filter(|block| block.kind() == kinds::QUERY_BLOCK)
            .collect();
        for (i, &block) in blocks.iter().enumerate() {
            let end = blocks
                .get(i + 1)
                .map_or(usize::MAX, |next| next.start_byte());
            if block.start_byte() <= range.end && range.start < end {
                let first_reference = self.model.references.len();
                let first_scope = self.model.row_scopes.len();
                self.scopes.push(Vec::new());
                let reach = block_reach(self.text, block.end_byte(), end.min(self.text.len()));
                self.statements(block, reach);
                self.scopes.pop();
                let block_model = lints::BlockModel {
                    references: &self.model.references[first_reference..],
                    row_scopes: &self.model.row_scopes[first_scope..],
                };
                let warnings = lints::lint_block(self.text, block, &block_model);
                self.model.diagnostics.extend(warnings);
            }
        }
        self.model
            .references
            .sort_by_key(|reference| reference.range.start);
        self.model.row_scopes.sort_by_key(|scope| scope.range.start);
        self.model
            .tabular_results
            .sort_by_key(|result| result.range.start);
        self.model
            .diagnostics
            .sort_by_key(|diagnostic| diagnostic.range.start);
        self.model
    }

    /// Binds the statements of a query block or function body and returns the value of the
    /// last expression statement.
    fn statements(&mut self, parent: Node<'t>, visible_end: usize) -> Value {
        let mut result = Value::Unknown;
        for statement in named_children(parent) {
            match statement.kind() {
                kinds::LET_STATEMENT => self.let_statement(statement, visible_end),
                kinds::QUERY_STATEMENT => {
                    for expression in named_children(statement) {
                        result = self.expression(expression, &Context::default(), Expect::Any);
                        self.record_tabular_result(expression, &result);
                    }
                }
                kinds::DECLARE_QUERY_PARAMETERS_STATEMENT => {
                    self.declare_query_parameters(statement, visible_end)
                }
                kinds::PATTERN_STATEMENT => {
                    if let Some(name) = statement.child_by_field_name("name") {
                        let variable = self.variable(name, VariableKind::Function, "pattern");
                        self.bind(
                            name,
                            Binding::Value {
                                value: Value::Table(Arc::new(RowType::unknown())),
                                variable,
                            },
                            visible_end,
                        );
                    }
                }
                _ => {}
            }
        }
        result
    }

    fn let_statement(&mut self, statement: Node<'t>, visible_end: usize) {
        let Some(name) = statement.child_by_field_name("name") else {
            return;
        };
        let Some(value) = statement.child_by_field_name("value") else {
            return;
        };
        let binding = match value.kind() {
            kinds::LAMBDA_EXPRESSION | kinds::VIEW_EXPRESSION => {
                // Bind the body once with the declared parameter types, so its names are
                // resolved and checked even if the function is never called.
                let result = self.invoke(value, &[], true);
                let parameters = value
                    .child_by_field_name("parameters")
                    .map_or("()", |node| &self.text[node.byte_range()]);
                let description = format!("{parameters}: {}", describe_value(&result));
                Binding::Function {
                    lambda: value,
                    variable: self.variable(name, VariableKind::Function, &description),
                }
            }
            _ => {
                let value_node = value;
                let value = self.expression(value_node, &Context::default(), Expect::Any);
                self.record_tabular_result(value_node, &value);
                Binding::Value {
                    variable: self.variable(name, VariableKind::Let, &describe_value(&value)),
                    value,
                }
            }
        };
        self.bind(name, binding, visible_end);
    }

    fn declare_query_parameters(&mut self, statement: Node<'t>, visible_end: usize) {
        let Some(list) = statement.child_by_field_name("parameters") else {
            return;
        };
        for parameter in named_children(list) {
            if parameter.kind() != kinds::PARAMETER {
                continue;
            }
            let Some(name) = parameter.child_by_field_name("name") else {
                continue;
            };
            let value = self.parameter_value(parameter);
            let variable =
                self.variable(name, VariableKind::QueryParameter, &describe_value(&value));
            self.bind(name, Binding::Value { value, variable }, visible_end);
        }
    }

    /// Binds a lambda's parameters to `arguments` (or their declared types where an argument is
    /// missing) and returns the value of its body.
    fn invoke(&mut self, lambda: Node<'t>, arguments: &[Value], record: bool) -> Value {
        if self.call_depth >= MAX_CALL_DEPTH {
            return Value::Unknown;
        }
        self.call_depth += 1;
        if !record {
            self.replaying += 1;
        }
        self.scopes.push(Vec::new());

        let body_end = lambda.end_byte();
        let parameters = lambda
            .child_by_field_name("parameters")
            .map(named_children)
            .unwrap_or_default();
        let mut index = 0;
        for parameter in parameters {
            if parameter.kind() != kinds::PARAMETER {
                continue;
            }
            let Some(name) = parameter.child_by_field_name("name") else {
                continue;
            };
            let declared = self.parameter_value(parameter);
            let value = match arguments.get(index) {
                Some(Value::Unknown) | None => declared,
                Some(argument) => argument.clone(),
            };
            index += 1;
            let variable = self.variable(name, VariableKind::Parameter, &describe_value(&value));
            self.bind(name, Binding::Value { value, variable }, body_end);
        }

        let result = match lambda.child_by_field_name("body") {
            Some(body) => self.statements(body, body_end),
            None => Value::Unknown,
        };

        self.scopes.pop();
        if !record {
            self.replaying -= 1;
        }
        self.call_depth -= 1;
        result
    }

    /// Returns the value a parameter declaration stands for: its scalar type, or a row type for
    /// a tabular parameter such as `T:(Account:string)` or `T:(*)`.
    fn parameter_value(&mut self, parameter: Node<'t>) -> Value {
        if let Some(ty) = parameter.child_by_field_name("type") {
            return match ty.kind() {
                kinds::TABULAR_TYPE => Value::Table(Arc::new(self.tabular_type(ty))),
                _ => Value::Scalar(
                    ScalarType::parse(&self.text[ty.byte_range()]).unwrap_or(ScalarType::Unknown),
                ),
            };
        }
        match parameter.child_by_field_name("default") {
            Some(default) => self.expression(default, &Context::default(), Expect::Any),
            None => Value::Unknown,
        }
    }

    /// Reads a `(Name: type, ...)` declaration; a `*` inside makes the row type open.
    fn tabular_type(&self, node: Node<'t>) -> RowType {
        let mut row = RowType::default();
        for child in named_children(node) {
            match child.kind() {
                kinds::COLUMN_DECLARATION => {
                    let Some(name) = child.child_by_field_name("name") else {
                        continue;
                    };
                    let ty = child
                        .child_by_field_name("type")
                        .and_then(|ty| ScalarType::parse(&self.text[ty.byte_range()]))
                        .unwrap_or(ScalarType::Unknown);
                    row.columns.push(Column {
                        name: name_text(name, self.text),
                        ty,
                        origin: Origin::Operator {
                            operator: "schema",
                            range: child.byte_range(),
                        },
                    });
                }
                kinds::STAR => row.open = true,
                _ => {}
            }
        }
        if !node.has_error() && !self.text[node.byte_range()].contains('*') {
            return row;
        }
        row.open = true;
        row
    }

    fn variable(&self, name: Node<'t>, kind: VariableKind, description: &str) -> Variable {
        Variable {
            name: name_text(name, self.text),
            kind,
            definition: name.byte_range(),
            description: description.to_owned(),
        }
    }

    /// Records the row type of `node` when its value is a table.
    fn record_tabular_result(&mut self, node: Node<'t>, value: &Value) {
        if self.replaying > 0 {
            return;
        }
        if let Value::Table(row) = value {
            self.model.tabular_results.push(TabularResult {
                range: node.byte_range(),
                row: Arc::clone(row),
            });
        }
    }

    fn bind(&mut self, name: Node<'t>, binding: Binding<'t>, visible_end: usize) {
        if self.replaying == 0 {
            self.model.variables.push(VisibleVariable {
                variable: binding.variable().clone(),
                visible: name.end_byte()..visible_end,
            });
            self.record(
                name.byte_range(),
                Target::Variable(binding.variable().clone()),
            );
        }
        let scope = self
            .scopes
            .last_mut()
            .expect("bindings happen inside a block or function scope");
        scope.push((name_text(name, self.text), binding));
    }

    fn lookup(&self, name: &str) -> Option<Binding<'t>> {
        self.scopes.iter().rev().find_map(|scope| {
            scope
                .iter()
                .rev()
                .find(|(bound, _)| bound == name)
                .map(|(_, binding)| binding.clone())
        })
    }

    fn record(&mut self, range: Range<usize>, target: Target) {
        if self.replaying == 0 {
            self.model.references.push(Reference { range, target });
        }
    }

    fn report(
        &mut self,
        range: Range<usize>,
        code: &'static str,
        message: String,
        help: Option<String>,
    ) {
        if self.replaying == 0 {
            self.model.diagnostics.push(Diagnostic {
                range,
                code,
                message,
                help,
                severity: Severity::Error,
                fixes: Vec::new(),
            });
        }
    }

    /// Returns the row type of a schema table, built once per table.
    fn table_row(&mut self, name: &str) -> Option<(Arc<RowType>, Arc<str>)> {
        let table = self.schema.table(name)?;
        let row = self
            .table_rows
            .entry(name.to_owned())
            .or_insert_with(|| {
                Arc::new(RowType {
                    columns: table
                        .columns
                        .iter()
                        .map(|column| Column {
                            name: column.name.clone(),
                            ty: column.ty,
                            origin: Origin::Table(table.name.clone()),
                        })
                        .collect(),
                    open: false,
                })
            })
            .clone();
        Some((row, Arc::clone(&table.source)))
    }

    /// Resolves a name in an expression: variables first, then the columns in context, then
    /// schema tables.
    fn name(&mut self, node: Node<'t>, context: &Context, expect: Expect) -> Value {
        let name = name_text(node, self.text);
        let range = node.byte_range();

        if let Some(binding) = self.lookup(&name) {
            self.record(range, Target::Variable(binding.variable().clone()));
            return match binding {
                Binding::Value { value, .. } => value,
                Binding::Function { lambda, .. } => self.invoke(lambda, &[], false),
            };
        }
        if let Some(column) = context.row.as_ref().and_then(|row| row.column(&name)) {
            let ty = column.ty;
            self.record(range, Target::Column(column.clone()));
            return Value::Scalar(ty);
        }
        if let Some((row, source)) = self.table_row(&name) {
            self.record(
                range,
                Target::Table {
                    name,
                    row: Arc::clone(&row),
                    source,
                },
            );
            return Value::Table(row);
        }
        if name.starts_with('$') || (expect == Expect::Any && context.is_open()) {
            return Value::Unknown;
        }
        if expect == Expect::Tabular && self.fuzzy_union > 0 {
            return Value::Table(Arc::new(RowType::unknown()));
        }

        let help = self.suggestion(&name, context, expect);
        if expect == Expect::Tabular {
            self.report(
                range,
                codes::UNKNOWN_TABLE,
                format!(
                    "unknown table `{name}`: no table, tabular variable or function has this name"
                ),
                help,
            );
            return Value::Table(Arc::new(RowType::unknown()));
        }
        self.report(
            range,
            codes::UNKNOWN_NAME,
            format!("unknown name `{name}`: no column, variable, table or function has this name"),
            help,
        );
        Value::Unknown
    }

    /// Suggests the closest known name for an unknown one.
    fn suggestion(&self, name: &str, context: &Context, expect: Expect) -> Option<String> {
        let mut candidates: Vec<&str> = Vec::new();
        if expect == Expect::Any
            && let Some(row) = &context.row
        {
            candidates.extend(row.columns.iter().map(|column| column.name.as_str()));
        }
        for scope in &self.scopes {
            candidates.extend(scope.iter().map(|(name, _)| name.as_str()));
        }
        candidates.extend(self.schema.tables().map(|table| table.name.as_str()));
        suggest::closest(name, candidates).map(|candidate| format!("did you mean `{candidate}`?"))
    }
}

/// Describes a value in one line for hover and completion details.
pub(crate) fn describe_value(value: &Value) -> String {
    match value {
        Value::Scalar(ty) => ty.name().to_owned(),
        Value::Table(row) => format!("table {}", describe_row(row)),
        Value::Unknown => "unknown".to_owned(),
    }
}

/// Returns the named children of a node, skipping comments.
pub(crate) fn named_children(node: Node) -> Vec<Node> {
    let mut cursor = node.walk();
    node.named_children(&mut cursor)
        .filter(|child| child.kind() != kinds::COMMENT)
        .collect()
}

/// Returns the children of a node stored under `field`.
pub(crate) fn field_children<'t>(node: Node<'t>, field: &str) -> Vec<Node<'t>> {
    let mut cursor = node.walk();
    node.children_by_field_name(field, &mut cursor)
        .filter(|child| child.kind() != kinds::COMMENT)
        .collect()
}

/// Returns the offset up to which the names bound in a block stay visible: past its last
/// token, through the rest of the text up to the next block or the first blank line. The tail
/// of an unfinished query (`| where TimeGenerated > `) lies there, outside the block's node.
fn block_reach(text: &str, block_end: usize, next_block: usize) -> usize {
    let gap = &text[block_end..next_block];
    let Some(first_newline) = gap.find('\n') else {
        return next_block;
    };
    let mut line_start = first_newline + 1;
    while let Some(line_length) = gap[line_start..].find('\n') {
        if gap[line_start..line_start + line_length].trim().is_empty() {
            return block_end + line_start + line_length;
        }
        line_start += line_length + 1;
    }
    next_block
}
