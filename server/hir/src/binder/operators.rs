//! The row type each tabular operator produces from its input.

use std::sync::Arc;

use quarry_analysis::{FunctionKind, ScalarType};
use quarry_syntax::kinds;
use quarry_syntax::tree_sitter::Node;

use super::expressions::as_row;
use super::{Binder, Binding, Context, Expect, field_children, named_children};
use crate::codes;
use crate::model::{Column, Origin, RowScope, RowType, Value, VariableKind};
use crate::naming::{self, ARGUMENT_NAMED_AGGREGATES, name_text, unique_name};

/// Builds an operator's output columns.
struct RowBuilder {
    columns: Vec<Column>,
    open: bool,
}

impl RowBuilder {
    fn new(open: bool) -> RowBuilder {
        RowBuilder {
            columns: Vec::new(),
            open,
        }
    }

    fn from_row(row: &RowType) -> RowBuilder {
        RowBuilder {
            columns: row.columns.clone(),
            open: row.open,
        }
    }

    fn contains(&self, name: &str) -> bool {
        self.columns.iter().any(|column| column.name == name)
    }

    /// Appends a column, renaming it `name1`, `name2`, ... if the name is taken, as `project`,
    /// `summarize` and `join` do.
    fn add_unique(&mut self, mut column: Column) {
        column.name = unique_name(&column.name, |name| self.contains(name));
        self.columns.push(column);
    }

    /// Replaces the column of the same name in place, or appends it, as `extend` does.
    fn set(&mut self, column: Column) {
        match self
            .columns
            .iter_mut()
            .find(|existing| existing.name == column.name)
        {
            Some(existing) => *existing = column,
            None => self.columns.push(column),
        }
    }

    /// Returns the next free `Column1`, `Column2`, ... name.
    fn numbered_name(&self) -> String {
        (1..)
            .map(|n| format!("Column{n}"))
            .find(|name| !self.contains(name))
            .expect("an unused number exists")
    }

    fn build(self) -> Arc<RowType> {
        Arc::new(RowType {
            columns: self.columns,
            open: self.open,
        })
    }
}

impl<'t> Binder<'t> {
    /// Binds a tabular operator over `input` and returns its output row type.
    pub(super) fn operator(&mut self, node: Node<'t>, input: Arc<RowType>) -> Arc<RowType> {
        let name = operator_name(node.kind());
        let aggregates = matches!(
            node.kind(),
            kinds::SUMMARIZE_OPERATOR | kinds::MAKE_SERIES_OPERATOR | kinds::TOP_NESTED_OPERATOR
        );
        if self.replaying == 0 {
            self.model.row_scopes.push(RowScope {
                range: node.byte_range(),
                operator: name,
                row: Arc::clone(&input),
                aggregates,
            });
        }
        let context = Context::with_row(&input);

        match node.kind() {
            kinds::WHERE_OPERATOR
            | kinds::TAKE_OPERATOR
            | kinds::SORT_OPERATOR
            | kinds::TOP_OPERATOR
            | kinds::SAMPLE_OPERATOR
            | kinds::CONSUME_OPERATOR => {
                self.walk_children(node, &context);
                input
            }
            // Render properties name columns for the chart, which Quarry does not check.
            kinds::RENDER_OPERATOR => input,
            kinds::PROJECT_OPERATOR => self.project(node, &context),
            kinds::EXTEND_OPERATOR | kinds::SERIALIZE_OPERATOR => {
                let mut output = RowBuilder::from_row(&input);
                self.extend_columns(node, "column", &context, &mut output, name);
                output.build()
            }
            kinds::PROJECT_AWAY_OPERATOR => self.project_away(node, &input),
            kinds::PROJECT_KEEP_OPERATOR => self.project_keep(node, &input),
            kinds::PROJECT_RENAME_OPERATOR => self.project_rename(node, &input),
            kinds::PROJECT_REORDER_OPERATOR => {
                self.check_reordered_names(node, &input);
                input
            }
            kinds::SUMMARIZE_OPERATOR => self.summarize(node, &input, &context),
            kinds::DISTINCT_OPERATOR => self.distinct(node, &input, &context),
            kinds::COUNT_OPERATOR => {
                let mut output = RowBuilder::new(false);
                output.add_unique(computed("Count", ScalarType::Long, name, node));
                output.build()
            }
            kinds::GETSCHEMA_OPERATOR => {
                let mut output = RowBuilder::new(false);
                for (column, ty) in [
                    ("ColumnName", ScalarType::String),
                    ("ColumnOrdinal", ScalarType::Int),
                    ("DataType", ScalarType::String),
                    ("ColumnType", ScalarType::String),
                ] {
                    output.add_unique(computed(column, ty, name, node));
                }
                output.build()
            }
            kinds::AS_OPERATOR => {
                if let Some(alias) = node.child_by_field_name("name") {
                    let variable = self.variable(
                        alias,
                        VariableKind::As,
                        &super::describe_value(&Value::Table(Arc::clone(&input))),
                    );
                    let visible_end = self.scope_end(node);
                    self.bind(
                        alias,
                        Binding::Value {
                            value: Value::Table(Arc::clone(&input)),
                            variable,
                        },
                        visible_end,
                    );
                }
                input
            }
            kinds::JOIN_OPERATOR | kinds::LOOKUP_OPERATOR => self.join(node, &input),
            kinds::UNION_OPERATOR => self.union(node, &input),
            kinds::SEARCH_OPERATOR => self.search(node, &input),
            kinds::MV_EXPAND_OPERATOR => {
                let mut output = RowBuilder::from_row(&input);
                self.mv_columns(node, &context, &mut output);
                output.build()
            }
            kinds::MV_APPLY_OPERATOR => self.mv_apply(node, &input, &context),
            kinds::PARSE_OPERATOR | kinds::PARSE_WHERE_OPERATOR => {
                let mut output = RowBuilder::from_row(&input);
                if let Some(source) = node.child_by_field_name("source") {
                    self.expression(source, &context, Expect::Any);
                }
                for pattern in field_children(node, "pattern") {
                    if pattern.kind() != kinds::PARSE_COLUMN {
                        continue;
                    }
                    if let Some(column) = pattern.child_by_field_name("name") {
                        let ty = pattern
                            .child_by_field_name("type")
                            .and_then(|ty| ScalarType::parse(&self.text[ty.byte_range()]))
                            .unwrap_or(ScalarType::String);
                        output.set(computed(&name_text(column, self.text), ty, name, pattern));
                    }
                }
                output.build()
            }
            kinds::PARSE_KV_OPERATOR => {
                let mut output = RowBuilder::from_row(&input);
                if let Some(source) = node.child_by_field_name("source") {
                    self.expression(source, &context, Expect::Any);
                }
                if let Some(columns) = node.child_by_field_name("columns") {
                    for column in self.tabular_type(columns).columns {
                        output.set(column);
                    }
                }
                output.build()
            }
            kinds::MAKE_SERIES_OPERATOR => self.make_series(node, &input, &context),
            kinds::EVALUATE_OPERATOR => self.evaluate(node, &input, &context),
            kinds::PRINT_OPERATOR => {
                let mut output = RowBuilder::new(false);
                let columns = field_children(node, "column");
                for (index, column) in columns.into_iter().enumerate() {
                    self.project_column(column, &context, &mut output, name, Some(index));
                }
                output.build()
            }
            kinds::RANGE_OPERATOR => {
                let mut ty = ScalarType::Long;
                for field in ["from", "to", "step"] {
                    if let Some(value) = node.child_by_field_name(field) {
                        let value_ty = self.expression(value, &context, Expect::Any).scalar_type();
                        if field == "from" && value_ty != ScalarType::Unknown {
                            ty = value_ty;
                        }
                    }
                }
                let mut output = RowBuilder::new(false);
                if let Some(column) = node.child_by_field_name("name") {
                    output.add_unique(computed(&name_text(column, self.text), ty, name, column));
                }
                output.build()
            }
            kinds::TOP_NESTED_OPERATOR => self.top_nested(node, &context),
            kinds::SAMPLE_DISTINCT_OPERATOR => {
                let mut output = RowBuilder::new(false);
                for column in field_children(node, "column") {
                    self.project_column(column, &context, &mut output, name, None);
                }
                if node.child_by_field_name("column").is_none() {
                    output.open = true;
                }
                output.build()
            }
            kinds::INVOKE_OPERATOR => self.invoke_operator(node, &input, &context),
            kinds::PARTITION_OPERATOR => self.partition(node, &input, &context),
            _ => {
                // facet, fork, partition, scan, reduce, find, search, macro-expand, the graph
                // operators and top-hitters: names are looked up leniently and the output is open.
                let lenient = Context::with_row(&Arc::new(RowType {
                    columns: input.columns.clone(),
                    open: true,
                }));
                self.walk_children(node, &lenient);
                Arc::new(RowType::unknown())
            }
        }
    }

    /// Binds every named child of an operator as an expression.
    fn walk_children(&mut self, node: Node<'t>, context: &Context) {
        for child in named_children(node) {
            match child.kind() {
                kinds::OPERATOR_PARAMETER => {
                    if let Some(value) = child.child_by_field_name("value")
                        && value.kind() != kinds::IDENTIFIER
                    {
                        self.expression(value, context, Expect::Any);
                    }
                }
                kinds::SORT_EXPRESSION => {
                    if let Some(value) = child.child_by_field_name("value") {
                        self.expression(value, context, Expect::Any);
                    }
                }
                kinds::OPERATOR_PIPELINE => {
                    self.pipeline(child, Arc::new(RowType::unknown()));
                }
                _ => {
                    self.expression(child, context, Expect::Any);
                }
            }
        }
    }

    /// Applies the operators of an `operator_pipeline` in order.
    fn pipeline(&mut self, node: Node<'t>, input: Arc<RowType>) -> Arc<RowType> {
        let mut row = input;
        for operator in named_children(node) {
            row = self.operator(operator, row);
        }
        row
    }

    /// Returns where an `as` name stops being visible: the end of the query block.
    fn scope_end(&self, node: Node<'t>) -> usize {
        let mut current = node;
        while let Some(parent) = current.parent() {
            if parent.kind() == kinds::QUERY_BLOCK || parent.kind() == kinds::FUNCTION_BODY {
                return parent.end_byte();
            }
            current = parent;
        }
        node.end_byte()
    }

    fn project(&mut self, node: Node<'t>, context: &Context) -> Arc<RowType> {
        let mut output = RowBuilder::new(false);
        for column in field_children(node, "column") {
            self.project_column(column, context, &mut output, "project", None);
        }
        output.build()
    }

    /// Adds one `project`-style column: `Name = value`, `(A, B) = value` or an expression named
    /// as Kusto names it. `print_index` numbers unnamed `print` columns `print_0`, `print_1`, ...
    fn project_column(
        &mut self,
        column: Node<'t>,
        context: &Context,
        output: &mut RowBuilder,
        operator: &'static str,
        print_index: Option<usize>,
    ) {
        if column.kind() == kinds::ASSIGNMENT {
            let value = column
                .child_by_field_name("value")
                .map(|value| self.expression(value, context, Expect::Any))
                .unwrap_or(Value::Unknown);
            for name in self.assigned_names(column) {
                output.add_unique(computed(&name, value.scalar_type(), operator, column));
            }
            return;
        }
        if column.kind() == kinds::STAR {
            if let Some(row) = &context.row {
                for existing in &row.columns {
                    output.add_unique(existing.clone());
                }
                output.open |= row.open;
            }
            return;
        }

        let value = self.expression(column, context, Expect::Any);
        // A plain column reference keeps the column's origin for hover.
        if matches!(column.kind(), kinds::IDENTIFIER | kinds::BRACKETED_NAME)
            && let Some(existing) = context
                .row
                .as_ref()
                .and_then(|row| row.column(&name_text(column, self.text)))
        {
            output.add_unique(existing.clone());
            return;
        }
        if let Some(names) = naming::multi_column_names(column, self.text) {
            for name in names {
                output.add_unique(computed(&name, ScalarType::Dynamic, operator, column));
            }
            return;
        }
        let name =
            naming::expression_name(column, self.text).unwrap_or_else(|| match print_index {
                Some(index) => format!("print_{index}"),
                None => output.numbered_name(),
            });
        output.add_unique(computed(&name, value.scalar_type(), operator, column));
    }

    /// Returns the names an assignment defines: one name, or several for `(A, B) = ...`.
    fn assigned_names(&self, assignment: Node<'t>) -> Vec<String> {
        let Some(name) = assignment.child_by_field_name("name") else {
            return Vec::new();
        };
        if name.kind() == kinds::NAME_LIST {
            return named_children(name)
                .into_iter()
                .map(|name| name_text(name, self.text))
                .collect();
        }
        vec![name_text(name, self.text)]
    }

    /// Adds `extend`-style columns, which replace input columns of the same name.
    fn extend_columns(
        &mut self,
        node: Node<'t>,
        field: &str,
        context: &Context,
        output: &mut RowBuilder,
        operator: &'static str,
    ) {
        for column in field_children(node, field) {
            if column.kind() == kinds::ASSIGNMENT {
                let value = column
                    .child_by_field_name("value")
                    .map(|value| self.expression(value, context, Expect::Any))
                    .unwrap_or(Value::Unknown);
                for name in self.assigned_names(column) {
                    output.set(computed(&name, value.scalar_type(), operator, column));
                }
                continue;
            }
            let value = self.expression(column, context, Expect::Any);
            if let Some(names) = naming::multi_column_names(column, self.text) {
                for name in names {
                    output.set(computed(&name, ScalarType::Dynamic, operator, column));
                }
                continue;
            }
            match naming::expression_name(column, self.text) {
                Some(name) => {
                    if matches!(column.kind(), kinds::IDENTIFIER | kinds::BRACKETED_NAME)
                        && output.contains(&name)
                    {
                        continue;
                    }
                    output.set(computed(&name, value.scalar_type(), operator, column));
                }
                None => {
                    let name = output.numbered_name();
                    output.add_unique(computed(&name, value.scalar_type(), operator, column));
                }
            }
        }
    }

    fn project_away(&mut self, node: Node<'t>, input: &Arc<RowType>) -> Arc<RowType> {
        let mut output = RowBuilder::from_row(input);
        for column in field_children(node, "column") {
            if column.kind() == kinds::WILDCARD_NAME {
                let pattern = self.text[column.byte_range()].to_owned();
                output
                    .columns
                    .retain(|existing| !wildcard_match(&pattern, &existing.name));
                continue;
            }
            self.expression(column, &Context::with_row(input), Expect::Any);
            let name = name_text(column, self.text);
            output.columns.retain(|existing| existing.name != name);
        }
        output.build()
    }

    fn project_keep(&mut self, node: Node<'t>, input: &Arc<RowType>) -> Arc<RowType> {
        let mut patterns = Vec::new();
        for column in field_children(node, "column") {
            if column.kind() != kinds::WILDCARD_NAME {
                self.expression(column, &Context::with_row(input), Expect::Any);
            }
            patterns.push(name_text(column, self.text));
        }
        let mut output = RowBuilder::from_row(input);
        output.columns.retain(|column| {
            patterns
                .iter()
                .any(|pattern| wildcard_match(pattern, &column.name))
        });
        output.build()
    }

    fn project_rename(&mut self, node: Node<'t>, input: &Arc<RowType>) -> Arc<RowType> {
        let mut output = RowBuilder::from_row(input);
        for column in field_children(node, "column") {
            let (Some(new_name), Some(old_name)) = (
                column.child_by_field_name("name"),
                column.child_by_field_name("value"),
            ) else {
                continue;
            };
            self.expression(old_name, &Context::with_row(input), Expect::Any);
            let old_name = name_text(old_name, self.text);
            let new_name = name_text(new_name, self.text);
            match output
                .columns
                .iter_mut()
                .find(|existing| existing.name == old_name)
            {
                Some(existing) => {
                    existing.name = new_name;
                    existing.origin = Origin::Operator {
                        operator: "project-rename",
                        range: column.byte_range(),
                    };
                }
                None => output.open = true,
            }
        }
        output.build()
    }

    fn check_reordered_names(&mut self, node: Node<'t>, input: &Arc<RowType>) {
        for column in field_children(node, "column") {
            let name = match column.kind() {
                kinds::REORDER_COLUMN => column.child_by_field_name("name").unwrap_or(column),
                _ => column,
            };
            if matches!(name.kind(), kinds::IDENTIFIER | kinds::BRACKETED_NAME) {
                self.expression(name, &Context::with_row(input), Expect::Any);
            }
        }
    }

    fn summarize(
        &mut self,
        node: Node<'t>,
        input: &Arc<RowType>,
        context: &Context,
    ) -> Arc<RowType> {
        let mut output = RowBuilder::new(false);
        for parameter in field_children(node, "parameter") {
            self.walk_parameter(parameter, context);
        }
        for group in field_children(node, "group") {
            self.project_column(group, context, &mut output, "summarize", None);
        }
        for aggregate in field_children(node, "aggregate") {
            self.aggregate(aggregate, input, context, &mut output, "summarize");
        }
        output.build()
    }

    /// Adds the columns of one aggregate: `Name = agg(...)`, `(A, B) = arg_max(...)` or an
    /// unnamed call such as `count()` or `arg_max(TimeGenerated, *)`.
    fn aggregate(
        &mut self,
        aggregate: Node<'t>,
        input: &Arc<RowType>,
        context: &Context,
        output: &mut RowBuilder,
        operator: &'static str,
    ) {
        let (call, explicit_names) = if aggregate.kind() == kinds::ASSIGNMENT {
            let Some(value) = aggregate.child_by_field_name("value") else {
                return;
            };
            (value, Some(self.assigned_names(aggregate)))
        } else {
            (aggregate, None)
        };

        let value = self.expression(call, context, Expect::Any);
        let function = call
            .child_by_field_name("function")
            .filter(|_| call.kind() == kinds::CALL_EXPRESSION)
            .map(|function| &self.text[function.byte_range()]);

        let mut columns: Vec<Column> = Vec::new();
        match function {
            Some(function) if ARGUMENT_NAMED_AGGREGATES.contains(&function) => {
                let arguments = naming::arguments(call);
                for (argument, name) in arguments
                    .iter()
                    .zip(naming::aggregate_names(call, self.text))
                {
                    if name == "*" {
                        columns.extend(input.columns.iter().cloned());
                        output.open |= input.open;
                        continue;
                    }
                    let ty = self.type_again(*argument, context);
                    let name = if name.is_empty() {
                        output.numbered_name()
                    } else {
                        name
                    };
                    columns.push(computed(&name, ty, operator, *argument));
                }
            }
            Some(function) if self.is_aggregate(call) => {
                // Percentiles have the type of the values they are taken of.
                let ty = match naming::arguments(call).first() {
                    Some(&values)
                        if function.starts_with("percentile") && !function.ends_with("_array") =>
                    {
                        self.type_again(values, context)
                    }
                    _ => value.scalar_type(),
                };
                for name in naming::aggregate_names(call, self.text) {
                    columns.push(computed(&name, ty, operator, call));
                }
            }
            _ => {
                let name = naming::expression_name(call, self.text)
                    .unwrap_or_else(|| output.numbered_name());
                columns.push(computed(&name, value.scalar_type(), operator, call));
            }
        }

        if let Some(names) = explicit_names {
            // Explicit names replace the derived ones in order; extra derived columns keep theirs.
            for (column, name) in columns.iter_mut().zip(names.iter()) {
                column.name = name.clone();
                column.origin = Origin::Operator {
                    operator,
                    range: aggregate.byte_range(),
                };
            }
            if columns.is_empty() {
                for name in names {
                    columns.push(computed(&name, value.scalar_type(), operator, aggregate));
                }
            }
        }
        for column in columns {
            output.add_unique(column);
        }
    }

    /// Returns the type of an expression that was already bound once, without recording its
    /// references and diagnostics a second time.
    fn type_again(&mut self, node: Node<'t>, context: &Context) -> ScalarType {
        self.replaying += 1;
        let ty = self.expression(node, context, Expect::Any).scalar_type();
        self.replaying -= 1;
        ty
    }

    fn is_aggregate(&self, call: Node<'t>) -> bool {
        call.child_by_field_name("function")
            .and_then(|function| self.catalog.builtin(&self.text[function.byte_range()]))
            .is_some_and(|function| function.kind == FunctionKind::Aggregate)
    }

    fn walk_parameter(&mut self, parameter: Node<'t>, context: &Context) {
        if let Some(value) = parameter.child_by_field_name("value")
            && value.kind() != kinds::IDENTIFIER
        {
            self.expression(value, context, Expect::Any);
        }
    }

    fn distinct(
        &mut self,
        node: Node<'t>,
        input: &Arc<RowType>,
        context: &Context,
    ) -> Arc<RowType> {
        let mut output = RowBuilder::new(false);
        for column in field_children(node, "column") {
            if column.kind() == kinds::STAR {
                return Arc::clone(input);
            }
            self.project_column(column, context, &mut output, "distinct", None);
        }
        output.build()
    }

    /// Binds `join` and `lookup`. The right side's columns follow the left's; a right column
    /// whose name is taken is renamed `Name1` (join) and lookup drops the right join keys.
    fn join(&mut self, node: Node<'t>, input: &Arc<RowType>) -> Arc<RowType> {
        let is_lookup = node.kind() == kinds::LOOKUP_OPERATOR;
        let mut kind = if is_lookup {
            "leftouter"
        } else {
            "innerunique"
        }
        .to_owned();
        for parameter in field_children(node, "parameter") {
            let text = &self.text[parameter.byte_range()];
            if let Some((name, value)) = text.split_once('=')
                && name.trim() == "kind"
            {
                kind = value.trim().to_owned();
            }
        }
        let right = match node.child_by_field_name("right") {
            Some(right) => as_row(self.expression(right, &Context::default(), Expect::Tabular)),
            None => Arc::new(RowType::unknown()),
        };

        // The condition: `on A, B` names columns of both sides, `$left.A == $right.B` one each.
        let mut right_keys = Vec::new();
        let conditions = field_children(node, "condition");
        if let (Some(first), Some(last)) = (conditions.first(), conditions.last())
            && self.replaying == 0
        {
            let mut both = RowBuilder::from_row(input);
            for column in &right.columns {
                if !both.contains(&column.name) {
                    both.columns.push(column.clone());
                }
            }
            both.open |= right.open;
            self.model.row_scopes.push(RowScope {
                range: first.start_byte()..last.end_byte(),
                operator: if is_lookup { "lookup" } else { "join" },
                row: both.build(),
                aggregates: false,
            });
        }
        for condition in conditions {
            self.join_condition(condition, input, &right, &mut right_keys);
        }

        let mut output = match kind.as_str() {
            "leftsemi" | "leftanti" | "anti" | "leftantisemi" => return Arc::clone(input),
            "rightsemi" | "rightanti" | "rightantisemi" => return right,
            _ => RowBuilder::from_row(input),
        };
        output.open |= right.open;
        for column in right.columns.iter() {
            if is_lookup && right_keys.contains(&column.name) {
                continue;
            }
            output.add_unique(column.clone());
        }
        output.build()
    }

    fn join_condition(
        &mut self,
        condition: Node<'t>,
        left: &Arc<RowType>,
        right: &Arc<RowType>,
        right_keys: &mut Vec<String>,
    ) {
        match condition.kind() {
            kinds::IDENTIFIER | kinds::BRACKETED_NAME => {
                let name = name_text(condition, self.text);
                for side in [left, right] {
                    self.expression(condition, &Context::with_row(side), Expect::Any);
                }
                right_keys.push(name);
            }
            kinds::BINARY_EXPRESSION
                if condition
                    .child_by_field_name("operator")
                    .is_some_and(|operator| &self.text[operator.byte_range()] == "and") =>
            {
                for field in ["left", "right"] {
                    if let Some(part) = condition.child_by_field_name(field) {
                        self.join_condition(part, left, right, right_keys);
                    }
                }
            }
            _ => {
                let context = Context {
                    row: None,
                    left: Some(Arc::clone(left)),
                    right: Some(Arc::clone(right)),
                };
                self.expression(condition, &context, Expect::Any);
                collect_right_keys(condition, self.text, right_keys);
            }
        }
    }

    /// Binds `union` as an operator (`T | union U`) or a source (`union T, U`): the output has
    /// every column of every input, once.
    fn union(&mut self, node: Node<'t>, input: &Arc<RowType>) -> Arc<RowType> {
        let mut output = RowBuilder::from_row(input);
        let mut source_column = None;
        let mut fuzzy = false;
        for parameter in field_children(node, "parameter") {
            let text = &self.text[parameter.byte_range()];
            if let Some((name, value)) = text.split_once('=') {
                match name.trim() {
                    "withsource" => source_column = Some((value.trim().to_owned(), parameter)),
                    "isfuzzy" if value.trim() == "true" => fuzzy = true,
                    _ => {}
                }
            }
        }
        if fuzzy {
            self.fuzzy_union += 1;
        }
        self.add_table_columns(node, &mut output);
        if fuzzy {
            self.fuzzy_union -= 1;
        }
        if let Some((name, parameter)) = source_column {
            output.set(computed(&name, ScalarType::String, "union", parameter));
        }
        output.build()
    }

    /// Adds the columns of every `table` child of `union` or `search` that `output` lacks.
    fn add_table_columns(&mut self, node: Node<'t>, output: &mut RowBuilder) {
        for table in field_children(node, "table") {
            let row = if matches!(table.kind(), kinds::STAR | kinds::WILDCARD_NAME) {
                self.wildcard_tables(table)
            } else {
                as_row(self.expression(table, &Context::default(), Expect::Tabular))
            };
            output.open |= row.open;
            for column in &row.columns {
                if !output.contains(&column.name) {
                    output.columns.push(column.clone());
                }
            }
        }
    }

    /// Binds `search`, which keeps the rows of its input, or of the tables in `in (...)`, and
    /// adds `$table`, the name of each row's table. Without a pipe or `in (...)` it reads every
    /// table, so its row stays open.
    fn search(&mut self, node: Node<'t>, input: &Arc<RowType>) -> Arc<RowType> {
        let piped = node.parent().is_some_and(|parent| {
            parent.kind() == kinds::PIPE_EXPRESSION
                && parent
                    .child_by_field_name("operator")
                    .is_some_and(|operator| operator.id() == node.id())
        });
        let mut output = if piped {
            RowBuilder::from_row(input)
        } else {
            RowBuilder::new(node.child_by_field_name("table").is_none())
        };
        self.add_table_columns(node, &mut output);
        let row = output.build();
        if let Some(predicate) = node.child_by_field_name("predicate") {
            self.expression(predicate, &Context::with_row(&row), Expect::Any);
        }
        let mut output = RowBuilder::from_row(&row);
        output.set(computed("$table", ScalarType::String, "search", node));
        output.build()
    }

    /// Returns the union of the schema tables and tabular variables whose names match a
    /// `Prefix*` pattern. A pattern that matches nothing is reported, as Kusto.Language does
    /// even under `isfuzzy=true`, and yields an open row type.
    fn wildcard_tables(&mut self, pattern: Node<'t>) -> Arc<RowType> {
        let pattern_text = match pattern.kind() {
            kinds::STAR => "*",
            _ => &self.text[pattern.byte_range()],
        };
        let names: Vec<String> = self
            .schema
            .tables()
            .filter(|table| wildcard_match(pattern_text, &table.name))
            .map(|table| table.name.clone())
            .collect();
        let variables: Vec<Arc<RowType>> = self
            .scopes
            .iter()
            .flatten()
            .filter(|(name, _)| wildcard_match(pattern_text, name))
            .filter_map(|(_, binding)| match binding {
                Binding::Value {
                    value: Value::Table(row),
                    ..
                } => Some(Arc::clone(row)),
                _ => None,
            })
            .collect();
        if names.is_empty() && variables.is_empty() {
            if pattern.kind() != kinds::STAR {
                self.report(
                    pattern.byte_range(),
                    codes::UNKNOWN_TABLE,
                    format!("no table or tabular variable matches `{pattern_text}`"),
                    None,
                );
            }
            return Arc::new(RowType::unknown());
        }

        let mut rows: Vec<Arc<RowType>> = names
            .iter()
            .filter_map(|name| self.table_row(name).map(|(row, _)| row))
            .collect();
        rows.extend(variables);
        let mut output = RowBuilder::new(false);
        for row in rows {
            output.open |= row.open;
            for column in &row.columns {
                if !output.contains(&column.name) {
                    output.columns.push(column.clone());
                }
            }
        }
        output.build()
    }

    /// Adds the columns of `mv-expand` and `mv-apply`: `Name = Array to typeof(T)` or `Array`,
    /// and `with_itemindex = Index`.
    fn mv_columns(&mut self, node: Node<'t>, context: &Context, output: &mut RowBuilder) {
        let operator = operator_name(node.kind());
        for parameter in field_children(node, "parameter") {
            let text = &self.text[parameter.byte_range()];
            if let Some((name, value)) = text.split_once('=')
                && name.trim() == "with_itemindex"
            {
                output.set(computed(
                    value.trim(),
                    ScalarType::Long,
                    operator,
                    parameter,
                ));
            }
        }
        for column in field_children(node, "column") {
            let ty = column
                .child_by_field_name("type")
                .and_then(|ty| typeof_type(&self.text[ty.byte_range()]))
                .unwrap_or(ScalarType::Dynamic);
            let Some(expression) = named_children(column)
                .into_iter()
                .find(|child| child.kind() != kinds::TYPEOF_LITERAL)
            else {
                continue;
            };
            if expression.kind() == kinds::ASSIGNMENT {
                if let Some(value) = expression.child_by_field_name("value") {
                    self.expression(value, context, Expect::Any);
                }
                for name in self.assigned_names(expression) {
                    output.set(computed(&name, ty, operator, expression));
                }
                continue;
            }
            self.expression(expression, context, Expect::Any);
            match naming::expression_name(expression, self.text) {
                Some(name) => output.set(computed(&name, ty, operator, expression)),
                None => {
                    let name = output.numbered_name();
                    output.add_unique(computed(&name, ty, operator, expression));
                }
            }
        }
        if let Some(limit) = node.child_by_field_name("limit") {
            self.expression(limit, context, Expect::Any);
        }
    }

    fn mv_apply(
        &mut self,
        node: Node<'t>,
        input: &Arc<RowType>,
        context: &Context,
    ) -> Arc<RowType> {
        let mut expanded = RowBuilder::from_row(input);
        self.mv_columns(node, context, &mut expanded);
        let expanded = expanded.build();
        let Some(subquery) = node.child_by_field_name("subquery") else {
            return expanded;
        };
        let inner = match subquery.kind() {
            kinds::OPERATOR_PIPELINE => self.pipeline(subquery, Arc::clone(&expanded)),
            _ => as_row(self.expression(subquery, &Context::with_row(&expanded), Expect::Any)),
        };
        let mut output = RowBuilder::from_row(input);
        output.open |= inner.open;
        for column in &inner.columns {
            output.set(column.clone());
        }
        output.build()
    }

    fn make_series(
        &mut self,
        node: Node<'t>,
        input: &Arc<RowType>,
        context: &Context,
    ) -> Arc<RowType> {
        let mut output = RowBuilder::new(false);
        for parameter in field_children(node, "parameter") {
            self.walk_parameter(parameter, context);
        }
        for group in field_children(node, "group") {
            self.project_column(group, context, &mut output, "make-series", None);
        }
        for aggregate in field_children(node, "aggregate") {
            let inner = named_children(aggregate)
                .into_iter()
                .next()
                .unwrap_or(aggregate);
            if let Some(default) = aggregate.child_by_field_name("default") {
                self.expression(default, context, Expect::Any);
            }
            let mut series = RowBuilder::new(false);
            self.aggregate(inner, input, context, &mut series, "make-series");
            for mut column in series.columns {
                column.ty = ScalarType::Dynamic;
                output.add_unique(column);
            }
        }
        for field in ["from", "to", "step", "range"] {
            for value in field_children(node, field) {
                self.expression(value, context, Expect::Any);
            }
        }
        if let Some(axis) = node.child_by_field_name("axis") {
            self.expression(axis, context, Expect::Any);
            let name =
                naming::expression_name(axis, self.text).unwrap_or_else(|| output.numbered_name());
            output.add_unique(computed(&name, ScalarType::Dynamic, "make-series", axis));
        }
        output.build()
    }

    fn evaluate(
        &mut self,
        node: Node<'t>,
        input: &Arc<RowType>,
        context: &Context,
    ) -> Arc<RowType> {
        for parameter in field_children(node, "parameter") {
            self.walk_parameter(parameter, context);
        }
        let declared = node
            .child_by_field_name("schema")
            .map(|schema| self.tabular_type(schema));
        let Some(plugin) = node.child_by_field_name("plugin") else {
            return Arc::new(declared.unwrap_or_else(RowType::unknown));
        };
        let function = plugin
            .child_by_field_name("function")
            .filter(|_| plugin.kind() == kinds::CALL_EXPRESSION);
        let Some(function) = function else {
            self.expression(plugin, context, Expect::Any);
            return Arc::new(declared.unwrap_or_else(RowType::unknown));
        };
        let name = &self.text[function.byte_range()];
        let arguments = naming::arguments(plugin);
        let known = self
            .catalog
            .builtin(name)
            .is_some_and(|function| function.kind == FunctionKind::Plugin);
        if known {
            self.record(
                function.byte_range(),
                crate::model::Target::Function {
                    name: name.to_owned(),
                },
            );
        } else {
            let plugins = self
                .catalog
                .builtins()
                .filter(|function| function.kind == FunctionKind::Plugin)
                .map(|function| function.name.as_str());
            let help = crate::suggest::closest(name, plugins)
                .map(|candidate| format!("did you mean `{candidate}`?"));
            self.report(
                function.byte_range(),
                codes::UNKNOWN_PLUGIN,
                format!("unknown plugin `{name}`: `evaluate` runs only built-in plugins"),
                help,
            );
        }
        // Plugin arguments may name columns of other tables (`ipv4_lookup(Ranges, IP, Network)`),
        // so names are looked up leniently.
        let lenient = Context::with_row(&Arc::new(RowType {
            columns: input.columns.clone(),
            open: true,
        }));
        for &argument in &arguments {
            if argument.kind() != kinds::STAR {
                self.expression(argument, &lenient, Expect::Any);
            }
        }

        if name == "bag_unpack" {
            let mut output = RowBuilder::from_row(input);
            if let Some(&column) = arguments.first() {
                let unpacked = name_text(column, self.text);
                output.columns.retain(|existing| existing.name != unpacked);
            }
            match declared {
                Some(declared) => {
                    for column in declared.columns {
                        output.set(column);
                    }
                    output.open |= declared.open;
                }
                None => output.open = true,
            }
            return output.build();
        }
        Arc::new(declared.unwrap_or_else(RowType::unknown))
    }

    fn top_nested(&mut self, node: Node<'t>, context: &Context) -> Arc<RowType> {
        let mut output = RowBuilder::new(false);
        for clause in named_children(node) {
            if clause.kind() != kinds::TOP_NESTED_CLAUSE {
                continue;
            }
            if let Some(count) = clause.child_by_field_name("count") {
                self.expression(count, context, Expect::Any);
            }
            if let Some(column) = clause.child_by_field_name("column") {
                self.project_column(column, context, &mut output, "top-nested", None);
            }
            if let Some(aggregate) = clause.child_by_field_name("aggregate") {
                let row = context.row.clone().unwrap_or_default();
                self.aggregate(aggregate, &row, context, &mut output, "top-nested");
            }
            if let Some(others) = clause.child_by_field_name("others") {
                self.expression(others, context, Expect::Any);
            }
        }
        output.build()
    }

    /// Binds `partition by Key (subquery)`: inside the subquery the key is a scalar variable,
    /// and a subquery without a source reads each partition.
    fn partition(
        &mut self,
        node: Node<'t>,
        input: &Arc<RowType>,
        context: &Context,
    ) -> Arc<RowType> {
        for parameter in field_children(node, "parameter") {
            self.walk_parameter(parameter, context);
        }
        self.scopes.push(Vec::new());
        for key in field_children(node, "key") {
            let value = self.expression(key, context, Expect::Any);
            if matches!(key.kind(), kinds::IDENTIFIER | kinds::BRACKETED_NAME) {
                let variable =
                    self.variable(key, VariableKind::Parameter, &super::describe_value(&value));
                let name = name_text(key, self.text);
                self.scopes
                    .last_mut()
                    .expect("a scope was pushed above")
                    .push((name, Binding::Value { value, variable }));
            }
        }
        let output = match node.child_by_field_name("subquery") {
            Some(subquery) if subquery.kind() == kinds::OPERATOR_PIPELINE => {
                self.pipeline(subquery, Arc::clone(input))
            }
            Some(subquery) => as_row(self.expression(subquery, &Context::default(), Expect::Any)),
            None => Arc::new(RowType::unknown()),
        };
        self.scopes.pop();
        output
    }

    /// Binds `invoke f(args)`: the input table becomes the function's first argument.
    fn invoke_operator(
        &mut self,
        node: Node<'t>,
        input: &Arc<RowType>,
        context: &Context,
    ) -> Arc<RowType> {
        let Some(call) = node.child_by_field_name("function") else {
            return Arc::new(RowType::unknown());
        };
        let function = call
            .child_by_field_name("function")
            .filter(|_| call.kind() == kinds::CALL_EXPRESSION);
        let Some(function) = function else {
            self.expression(call, context, Expect::Any);
            return Arc::new(RowType::unknown());
        };
        let name = self.text[function.byte_range()].to_owned();
        let mut values = vec![Value::Table(Arc::clone(input))];
        for argument in naming::arguments(call) {
            values.push(self.expression(argument, context, Expect::Any));
        }
        match self.lookup(&name) {
            Some(Binding::Function { lambda, variable }) => {
                self.record(
                    function.byte_range(),
                    crate::model::Target::Variable(variable),
                );
                as_row(self.invoke(lambda, &values, false))
            }
            _ => Arc::new(RowType::unknown()),
        }
    }
}

/// Creates a column computed by an operator at `node`.
fn computed(name: &str, ty: ScalarType, operator: &'static str, node: Node) -> Column {
    Column {
        name: name.to_owned(),
        ty,
        origin: Origin::Operator {
            operator,
            range: node.byte_range(),
        },
    }
}

/// Collects the columns a join condition reads on the right side (`$right.X`).
fn collect_right_keys(node: Node, text: &str, keys: &mut Vec<String>) {
    if node.kind() == kinds::MEMBER_EXPRESSION
        && node
            .child_by_field_name("object")
            .is_some_and(|object| &text[object.byte_range()] == "$right")
        && let Some(member) = node.child_by_field_name("member")
    {
        keys.push(name_text(member, text));
        return;
    }
    for child in named_children(node) {
        collect_right_keys(child, text, keys);
    }
}

/// Returns the type named inside `typeof(T)`.
fn typeof_type(text: &str) -> Option<ScalarType> {
    let inner = text
        .trim()
        .strip_prefix("typeof")?
        .trim()
        .strip_prefix('(')?;
    ScalarType::parse(inner.strip_suffix(')')?)
}

/// Matches a name against a pattern in which `*` stands for any run of characters.
fn wildcard_match(pattern: &str, name: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == name;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !name.starts_with(first) || !name[first.len()..].ends_with(last) {
        return false;
    }
    let mut rest = &name[first.len()..name.len() - last.len()];
    for part in &parts[1..parts.len() - 1] {
        match rest.find(part) {
            Some(index) => rest = &rest[index + part.len()..],
            None => return false,
        }
    }
    true
}

/// Returns the KQL keyword of an operator node kind, for scopes and column origins.
fn operator_name(kind: &str) -> &'static str {
    match kind {
        kinds::WHERE_OPERATOR => "where",
        kinds::PROJECT_OPERATOR => "project",
        kinds::PROJECT_AWAY_OPERATOR => "project-away",
        kinds::PROJECT_KEEP_OPERATOR => "project-keep",
        kinds::PROJECT_RENAME_OPERATOR => "project-rename",
        kinds::PROJECT_REORDER_OPERATOR => "project-reorder",
        kinds::EXTEND_OPERATOR => "extend",
        kinds::SUMMARIZE_OPERATOR => "summarize",
        kinds::SORT_OPERATOR => "sort",
        kinds::TAKE_OPERATOR => "take",
        kinds::TOP_OPERATOR => "top",
        kinds::TOP_NESTED_OPERATOR => "top-nested",
        kinds::TOP_HITTERS_OPERATOR => "top-hitters",
        kinds::DISTINCT_OPERATOR => "distinct",
        kinds::COUNT_OPERATOR => "count",
        kinds::AS_OPERATOR => "as",
        kinds::JOIN_OPERATOR => "join",
        kinds::LOOKUP_OPERATOR => "lookup",
        kinds::UNION_OPERATOR => "union",
        kinds::MV_EXPAND_OPERATOR => "mv-expand",
        kinds::MV_APPLY_OPERATOR => "mv-apply",
        kinds::MAKE_SERIES_OPERATOR => "make-series",
        kinds::PARSE_OPERATOR => "parse",
        kinds::PARSE_WHERE_OPERATOR => "parse-where",
        kinds::PARSE_KV_OPERATOR => "parse-kv",
        kinds::EVALUATE_OPERATOR => "evaluate",
        kinds::RENDER_OPERATOR => "render",
        kinds::PRINT_OPERATOR => "print",
        kinds::SERIALIZE_OPERATOR => "serialize",
        kinds::RANGE_OPERATOR => "range",
        kinds::GETSCHEMA_OPERATOR => "getschema",
        kinds::SAMPLE_OPERATOR => "sample",
        kinds::SAMPLE_DISTINCT_OPERATOR => "sample-distinct",
        kinds::INVOKE_OPERATOR => "invoke",
        kinds::FACET_OPERATOR => "facet",
        kinds::FORK_OPERATOR => "fork",
        kinds::PARTITION_OPERATOR => "partition",
        kinds::SCAN_OPERATOR => "scan",
        kinds::REDUCE_OPERATOR => "reduce",
        kinds::FIND_OPERATOR => "find",
        kinds::SEARCH_OPERATOR => "search",
        kinds::CONSUME_OPERATOR => "consume",
        kinds::MACRO_EXPAND_OPERATOR => "macro-expand",
        _ => "operator",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcard_patterns() {
        assert!(wildcard_match("Prop*", "Properties"));
        assert!(wildcard_match("*Id", "TenantId"));
        assert!(wildcard_match("a*b*c", "axxbyyc"));
        assert!(!wildcard_match("a*b*c", "axxc"));
        assert!(wildcard_match("Name", "Name"));
        assert!(!wildcard_match("Name", "Names"));
    }

    #[test]
    fn typeof_reads_inner_type() {
        assert_eq!(typeof_type("typeof(long)"), Some(ScalarType::Long));
        assert_eq!(typeof_type("typeof( string )"), Some(ScalarType::String));
        assert_eq!(typeof_type("typeof(*)"), None);
    }
}
