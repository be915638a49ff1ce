//! Scalar expressions, calls and the dispatch from expression nodes to tabular operators.

use std::sync::Arc;

use quarry_analysis::{FunctionKind, ScalarType};
use quarry_syntax::kinds;
use quarry_syntax::tree_sitter::Node;

use super::{Binder, Binding, Context, Expect, named_children};
use crate::model::{RowType, Target, Value};
use crate::naming::{self, name_text};
use crate::{codes, infer};

/// Functions that take or return tables and are not in the built-in list: the cross-database
/// and cross-workspace references. Their results are open row types.
const ENTITY_FUNCTIONS: &[&str] = &[
    "cluster",
    "database",
    "workspace",
    "app",
    "resource",
    "external_table",
    "materialized_view",
    "stored_query_result",
    "entity_group",
];

impl<'t> Binder<'t> {
    /// Binds any expression and returns its value.
    pub(super) fn expression(
        &mut self,
        node: Node<'t>,
        context: &Context,
        expect: Expect,
    ) -> Value {
        match node.kind() {
            kinds::IDENTIFIER | kinds::BRACKETED_NAME => self.name(node, context, expect),
            kinds::PIPE_EXPRESSION => {
                // Names in a subquery do not bind to columns of the operator it is nested in.
                let input = match node.child_by_field_name("source") {
                    Some(source) => self.expression(source, &Context::default(), Expect::Tabular),
                    None => Value::Unknown,
                };
                let row = as_row(input);
                let output = match node.child_by_field_name("operator") {
                    Some(operator) => self.operator(operator, row),
                    None => row,
                };
                let output = Value::Table(output);
                self.record_tabular_result(node, &output);
                output
            }
            kinds::PARENTHESIZED_EXPRESSION => match named_children(node).first() {
                Some(&inner) => self.expression(inner, context, expect),
                None => Value::Unknown,
            },
            kinds::CALL_EXPRESSION => self.call(node, context),
            kinds::BINARY_EXPRESSION => Value::Scalar(self.binary_chain(node, context)),
            kinds::UNARY_EXPRESSION => Value::Scalar(self.scalar_field(node, "operand", context)),
            kinds::IN_EXPRESSION | kinds::BETWEEN_EXPRESSION => {
                for child in named_children(node) {
                    self.expression(child, context, Expect::Any);
                }
                Value::Scalar(ScalarType::Bool)
            }
            kinds::MEMBER_EXPRESSION => self.member(node, context),
            kinds::INDEX_EXPRESSION => {
                let object = node
                    .child_by_field_name("object")
                    .map(|object| self.expression(object, context, Expect::Any));
                if let Some(index) = node.child_by_field_name("index") {
                    self.expression(index, context, Expect::Any);
                }
                match object {
                    Some(Value::Scalar(ScalarType::Dynamic)) => Value::Scalar(ScalarType::Dynamic),
                    _ => Value::Scalar(ScalarType::Unknown),
                }
            }
            kinds::DATATABLE_EXPRESSION | kinds::EXTERNALDATA_EXPRESSION => {
                let row = node
                    .child_by_field_name("schema")
                    .map(|schema| self.tabular_type(schema))
                    .unwrap_or_else(RowType::unknown);
                Value::Table(Arc::new(row))
            }
            kinds::PRINT_OPERATOR
            | kinds::RANGE_OPERATOR
            | kinds::UNION_OPERATOR
            | kinds::FIND_OPERATOR
            | kinds::SEARCH_OPERATOR
            | kinds::EVALUATE_OPERATOR
            | kinds::MACRO_EXPAND_OPERATOR => {
                Value::Table(self.operator(node, Arc::new(RowType::default())))
            }
            kinds::NAMED_ARGUMENT | kinds::ASSIGNMENT => match node.child_by_field_name("value") {
                Some(value) => self.expression(value, context, expect),
                None => Value::Unknown,
            },
            kind => {
                if let Some(ty) = infer::literal(kind, &self.text[node.byte_range()]) {
                    return Value::Scalar(ty);
                }
                for child in named_children(node) {
                    self.expression(child, context, Expect::Any);
                }
                Value::Unknown
            }
        }
    }

    /// Binds a binary expression and the binary expressions down its left side in one loop.
    /// The grammar nests `a or b or c` to the left, so a generated chain of thousands of terms
    /// would otherwise take one stack frame per operator.
    fn binary_chain(&mut self, node: Node<'t>, context: &Context) -> ScalarType {
        let mut chain = vec![node];
        let mut leftmost = node.child_by_field_name("left");
        while let Some(left) = leftmost.filter(|left| left.kind() == kinds::BINARY_EXPRESSION) {
            chain.push(left);
            leftmost = left.child_by_field_name("left");
        }

        let mut left = leftmost
            .map(|left| self.expression(left, context, Expect::Any).scalar_type())
            .unwrap_or(ScalarType::Unknown);
        for &binary in chain.iter().rev() {
            let right = self.scalar_field(binary, "right", context);
            let operator = binary
                .child_by_field_name("operator")
                .map_or("", |operator| &self.text[operator.byte_range()]);
            if infer::is_ordering(operator) && !infer::comparable(left, right) {
                self.report(
                    binary.byte_range(),
                    codes::OPERAND_TYPES,
                    format!(
                        "`{operator}` cannot compare {} with {}",
                        infer::with_article(left),
                        infer::with_article(right)
                    ),
                    Some(comparison_help(left, right)),
                );
            }
            left = infer::binary(operator, left, right);
        }
        left
    }

    fn scalar_field(&mut self, node: Node<'t>, field: &str, context: &Context) -> ScalarType {
        node.child_by_field_name(field)
            .map(|child| self.expression(child, context, Expect::Any).scalar_type())
            .unwrap_or(ScalarType::Unknown)
    }

    /// Binds `object.member`, including `$left.X` and `$right.X` in join conditions.
    fn member(&mut self, node: Node<'t>, context: &Context) -> Value {
        let (Some(object), Some(member)) = (
            node.child_by_field_name("object"),
            node.child_by_field_name("member"),
        ) else {
            return Value::Unknown;
        };
        let object_text = &self.text[object.byte_range()];
        if object_text == "$left" || object_text == "$right" {
            let side = if object_text == "$left" {
                &context.left
            } else {
                &context.right
            };
            let Some(side) = side.clone() else {
                return Value::Unknown;
            };
            let name = name_text(member, self.text);
            if let Some(column) = side.column(&name) {
                let ty = column.ty;
                self.record(member.byte_range(), Target::Column(column.clone()));
                return Value::Scalar(ty);
            }
            if !side.open {
                let help = crate::suggest::closest(
                    &name,
                    side.columns.iter().map(|column| column.name.as_str()),
                )
                .map(|candidate| format!("did you mean `{candidate}`?"));
                self.report(
                    member.byte_range(),
                    codes::UNKNOWN_NAME,
                    format!(
                        "unknown column `{name}` on the {} side of the join",
                        &object_text[1..]
                    ),
                    help,
                );
            }
            return Value::Unknown;
        }

        match self.expression(object, context, Expect::Any) {
            Value::Scalar(ScalarType::Dynamic) => Value::Scalar(ScalarType::Dynamic),
            Value::Table(row) => {
                let name = name_text(member, self.text);
                match row.column(&name) {
                    Some(column) => {
                        let ty = column.ty;
                        self.record(member.byte_range(), Target::Column(column.clone()));
                        Value::Scalar(ty)
                    }
                    // `database("x").Table` and similar: an entity of unknown shape.
                    None => Value::Table(Arc::new(RowType::unknown())),
                }
            }
            _ => Value::Unknown,
        }
    }

    /// Binds a call: a `let`-defined function, a special table function or a built-in.
    pub(super) fn call(&mut self, node: Node<'t>, context: &Context) -> Value {
        let arguments = naming::arguments(node);
        let Some(function) = node.child_by_field_name("function") else {
            return Value::Unknown;
        };
        if function.kind() != kinds::IDENTIFIER {
            // Dotted names such as `Family.function(...)` call stored functions Quarry cannot see.
            for argument in arguments {
                self.expression(argument, context, Expect::Any);
            }
            return Value::Unknown;
        }
        let name = &self.text[function.byte_range()];

        if let Some(binding) = self.lookup(name) {
            self.record(
                function.byte_range(),
                Target::Variable(binding.variable().clone()),
            );
            let values: Vec<Value> = arguments
                .iter()
                .map(|&argument| self.expression(argument, context, Expect::Any))
                .collect();
            return match binding {
                Binding::Function { lambda, .. } => {
                    self.check_let_arity(function, lambda, arguments.len());
                    self.invoke(lambda, &values, false)
                }
                Binding::Value { value, .. } => value,
            };
        }

        match name {
            "materialize" => {
                return match arguments.first() {
                    Some(&argument) => self.expression(argument, context, Expect::Tabular),
                    None => Value::Unknown,
                };
            }
            "toscalar" => {
                if let Some(&argument) = arguments.first() {
                    self.expression(argument, context, Expect::Any);
                }
                return Value::Scalar(ScalarType::Unknown);
            }
            "table" | "view" => {
                let table = arguments
                    .first()
                    .filter(|argument| argument.kind() == kinds::STRING_LITERAL)
                    .map(|&argument| naming::string_value(argument, self.text))
                    .and_then(|table| self.table_row(&table));
                return Value::Table(
                    table.map_or_else(|| Arc::new(RowType::unknown()), |(row, _)| row),
                );
            }
            _ if ENTITY_FUNCTIONS.contains(&name) => {
                for argument in arguments {
                    self.expression(argument, context, Expect::Any);
                }
                return Value::Table(Arc::new(RowType::unknown()));
            }
            _ => {}
        }

        if let Some(conversion) = typed_literal_conversion(name) {
            // The grammar reads `long(1)` as a literal, so a call of a type name has a
            // non-constant argument. No built-in function has such a name.
            self.report(
                node.byte_range(),
                codes::UNKNOWN_FUNCTION,
                format!(
                    "`{name}(...)` is a typed literal and takes a constant, such as `{name}(1)` or \
                     `{name}(null)`, not an expression"
                ),
                Some(format!(
                    "to convert a value to {name}, call `{conversion}()`"
                )),
            );
            for argument in arguments {
                self.expression(argument, context, Expect::Any);
            }
            return Value::Scalar(ScalarType::parse(name).unwrap_or(ScalarType::Unknown));
        }

        let Some(builtin) = self.catalog.builtin(name) else {
            self.report(
                function.byte_range(),
                codes::UNKNOWN_FUNCTION,
                format!("unknown function `{name}`: it is neither built in nor defined with `let`"),
                self.function_suggestion(name),
            );
            for argument in arguments {
                self.expression(argument, context, Expect::Any);
            }
            return Value::Unknown;
        };
        self.record(
            function.byte_range(),
            Target::Function {
                name: name.to_owned(),
            },
        );

        let (min, max) = infer::arity(builtin);
        let count = arguments.len();
        if count < min || max.is_some_and(|max| count > max) {
            self.report(
                function.byte_range(),
                codes::ARGUMENT_COUNT,
                format!(
                    "`{name}` expects {}, but the call passes {count}",
                    describe_arity(min, max)
                ),
                Some(format!("signature: {}", builtin.signature_label(0))),
            );
        }

        let mut types = Vec::with_capacity(count);
        for &argument in &arguments {
            let value = if argument.kind() == kinds::STAR {
                Value::Unknown
            } else {
                self.expression(argument, context, Expect::Any)
            };
            types.push(value.scalar_type());
        }
        if builtin.kind == FunctionKind::Plugin {
            return Value::Table(Arc::new(RowType::unknown()));
        }
        if let Some(mismatch) = infer::argument_mismatch(builtin, &types)
            && let Some(argument) = arguments.get(mismatch.index)
        {
            self.report(
                argument.byte_range(),
                codes::ARGUMENT_TYPE,
                format!(
                    "`{name}` expects {} for `{}`, but `{}` is {}",
                    mismatch.expected,
                    mismatch.parameter,
                    &self.text[argument.byte_range()],
                    infer::with_article(types[mismatch.index])
                ),
                Some(format!("signature: {}", builtin.signature_label(0))),
            );
        }
        Value::Scalar(infer::call_result(builtin, &types))
    }

    fn check_let_arity(&mut self, function: Node<'t>, lambda: Node<'t>, count: usize) {
        let parameters: Vec<Node> = lambda
            .child_by_field_name("parameters")
            .map(named_children)
            .unwrap_or_default()
            .into_iter()
            .filter(|parameter| parameter.kind() == kinds::PARAMETER)
            .collect();
        let required = parameters
            .iter()
            .filter(|parameter| parameter.child_by_field_name("default").is_none())
            .count();
        if count < required || count > parameters.len() {
            let name = &self.text[function.byte_range()];
            self.report(
                function.byte_range(),
                codes::ARGUMENT_COUNT,
                format!(
                    "`{name}` expects {}, but the call passes {count}",
                    describe_arity(required, Some(parameters.len()))
                ),
                None,
            );
        }
    }

    fn function_suggestion(&self, name: &str) -> Option<String> {
        let candidates = self
            .catalog
            .builtins()
            .map(|function| function.name.as_str());
        crate::suggest::closest(name, candidates)
            .map(|candidate| format!("did you mean `{candidate}`?"))
    }
}

/// Returns the conversion function for a type name that also spells typed literals, such as
/// `todouble` for `double`, or `None` for other names.
fn typed_literal_conversion(name: &str) -> Option<&'static str> {
    let conversion = match name {
        "bool" | "boolean" => "tobool",
        "int" | "int32" => "toint",
        "long" | "int64" => "tolong",
        "real" | "double" => "todouble",
        "decimal" => "todecimal",
        "string" => "tostring",
        _ => return None,
    };
    Some(conversion)
}

/// Returns the row type of a value used as a table; anything else is an unknown open row.
pub(super) fn as_row(value: Value) -> Arc<RowType> {
    match value {
        Value::Table(row) => row,
        _ => Arc::new(RowType::unknown()),
    }
}

/// Suggests the conversion that makes two types comparable.
fn comparison_help(left: ScalarType, right: ScalarType) -> String {
    let converter = |ty: ScalarType| match ty {
        ScalarType::DateTime => Some("todatetime()"),
        ScalarType::TimeSpan => Some("totimespan()"),
        ScalarType::String => Some("tostring()"),
        ty if ty.is_numeric() => Some("tolong() or toreal()"),
        _ => None,
    };
    match converter(left) {
        Some(converter) => format!(
            "convert the right side with {converter}, or compare with a {} value",
            left.name()
        ),
        None => format!("compare with a {} value", right.name()),
    }
}

fn describe_arity(min: usize, max: Option<usize>) -> String {
    let arguments = |n: usize| {
        if n == 1 {
            "1 argument".to_owned()
        } else {
            format!("{n} arguments")
        }
    };
    match max {
        Some(max) if max == min => arguments(min),
        Some(max) => format!("{min} to {max} arguments"),
        None => format!("at least {}", arguments(min)),
    }
}
