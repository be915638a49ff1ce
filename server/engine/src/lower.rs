//! Lowering the tree-sitter syntax tree of one query block into the engine's [`ast`].
//!
//! Node kinds and field names are those of `grammars/tree-sitter-kql`. Syntax the grammar
//! accepts but the engine cannot run yet becomes an [`EngineError`] with the byte range of
//! the construct, so that an editor can underline it.

use quarry_syntax::tree_sitter::Node;

use crate::ast::{
    BinaryOp, Expr, ExprKind, Function, FunctionBody, Ident, JoinKind, Let, LetValue, Literal,
    NamedExpr, Operator, OperatorKind, Pipeline, Query, SortKey, Source, StringOp, StringOpKind,
};
use crate::eval::expr::term_pattern;
use crate::{EngineError, RenderHint};

mod search;
pub(crate) use search::{
    SEARCH_ALTERNATION_MIN, term_alternations as search_term_alternations,
    term_test as search_term_test,
};

const NANOS_PER_SECOND: i64 = 1_000_000_000;

/// `render` properties whose value is a list of column names.
const RENDER_LIST_PROPERTIES: &[&str] = &["ycolumns", "anomalycolumns", "series"];

/// Parses `text` and lowers its single query block.
pub fn lower_query(text: &str) -> Result<Query, EngineError> {
    let parse = quarry_syntax::parse(text);
    if let Some(error) = parse.errors.first() {
        return Err(EngineError::at(
            format!("syntax error: {}", error.message),
            error.range.clone(),
        ));
    }
    let root = parse.root();
    let mut cursor = root.walk();
    let blocks: Vec<Node<'_>> = root
        .named_children(&mut cursor)
        .filter(|n| n.kind() == "query_block")
        .collect();
    match blocks.as_slice() {
        [] => Err(EngineError::new(
            "the query text is empty; write a query such as `SecurityEvent | take 10`",
        )),
        [block] => Lowerer {
            text,
            subqueries: std::cell::RefCell::new(Vec::new()),
            depth: std::cell::Cell::new(0),
        }
        .block(*block),
        [_, second, ..] => Err(EngineError::at(
            format!(
                "the text contains {} query blocks separated by blank lines; run one block at a time",
                blocks.len()
            ),
            second.byte_range(),
        )),
    }
}

/// The deepest nesting of expressions that the engine accepts: parentheses, calls, and runs
/// of different binary operators such as `a + b - c`. A run of one repeated operator, such as
/// `a or b or c ...`, counts as one level however long it is.
///
/// Lowering, compiling and polars recurse once per level, so callers need a large stack. The
/// `quarry` binary gives its command threads and the polars workers 256 MiB, and 999 nested
/// calls ran within it in a debug build.
pub const MAX_EXPRESSION_DEPTH: usize = 1_000;

struct Lowerer<'t> {
    text: &'t str,
    /// Subqueries of `x in (T | ...)`, lowered into tabular lets named `__subquery` and their
    /// byte offset; `block` binds them before the statement that uses them.
    subqueries: std::cell::RefCell<Vec<Let>>,
    /// How many `expr` calls are on the stack, checked against `MAX_EXPRESSION_DEPTH`.
    depth: std::cell::Cell<usize>,
}

impl<'t> Lowerer<'t> {
    fn text_of(&self, node: Node<'_>) -> &'t str {
        &self.text[node.byte_range()]
    }

    fn block(&self, block: Node<'_>) -> Result<Query, EngineError> {
        let mut lets = Vec::new();
        let mut pipeline = None;
        let mut cursor = block.walk();
        for statement in block.named_children(&mut cursor) {
            match statement.kind() {
                "comment" => {}
                "let_statement" => {
                    let lowered = self.let_statement(statement)?;
                    lets.append(&mut self.subqueries.borrow_mut());
                    lets.push(lowered);
                }
                "query_statement" => {
                    if pipeline.is_some() {
                        return Err(EngineError::at(
                            "a query block can hold only one tabular expression; split it with blank lines",
                            statement.byte_range(),
                        ));
                    }
                    let query = statement.named_child(0).ok_or_else(|| missing(statement))?;
                    pipeline = Some(self.pipeline(query)?);
                    lets.append(&mut self.subqueries.borrow_mut());
                }
                other => {
                    return Err(EngineError::at(
                        format!(
                            "the `{}` statement is not supported by the local engine yet",
                            statement_keyword(other)
                        ),
                        statement.byte_range(),
                    ));
                }
            }
        }
        let pipeline = pipeline.ok_or_else(|| {
            EngineError::at(
                "the query block has no tabular expression to run, only `let` statements",
                block.byte_range(),
            )
        })?;
        let (pipeline, render) = pipeline;
        Ok(Query {
            lets,
            pipeline,
            render,
        })
    }

    fn let_statement(&self, node: Node<'_>) -> Result<Let, EngineError> {
        let name = self.name(field(node, "name")?)?;
        let value = unwrap_parentheses(field(node, "value")?);
        Ok(Let {
            name,
            value: self.let_value(value)?,
        })
    }

    fn let_value(&self, value: Node<'_>) -> Result<LetValue, EngineError> {
        match value.kind() {
            "pipe_expression"
            | "datatable_expression"
            | "print_operator"
            | "range_operator"
            | "union_operator" => Ok(LetValue::Tabular(self.sub_pipeline(value)?)),
            "lambda_expression" => Ok(LetValue::Function(self.lambda(value)?)),
            "view_expression" => Err(unsupported("`view` functions", value)),
            "call_expression" => {
                let function = field(value, "function")?;
                let name = self.text_of(function);
                if matches!(name, "materialize" | "toscalar") {
                    let argument = call_arguments(value)?
                        .into_iter()
                        .next()
                        .ok_or_else(|| missing(value))?;
                    let pipeline = self.sub_pipeline(argument)?;
                    return Ok(if name == "materialize" {
                        LetValue::Tabular(pipeline)
                    } else {
                        LetValue::ToScalar(pipeline)
                    });
                }
                Ok(LetValue::Scalar(self.expr(value)?))
            }
            _ => Ok(LetValue::Scalar(self.expr(value)?)),
        }
    }

    /// Lowers the subquery of `x in (T | ...)` into a tabular let and returns its name.
    fn hoist_subquery(&self, node: Node<'_>) -> Result<Expr, EngineError> {
        let pipeline = self.sub_pipeline(node)?;
        let mut subqueries = self.subqueries.borrow_mut();
        // The byte offset makes the name unique within the query text.
        let name = format!("__subquery{}", node.start_byte());
        subqueries.push(Let {
            name: Ident {
                name: name.clone(),
                range: node.byte_range(),
            },
            value: LetValue::Tabular(pipeline),
        });
        Ok(Expr::new(ExprKind::Name(name), node.byte_range()))
    }

    /// Lowers `(a: long, b: string = "x") { let c = ...; body }`.
    fn lambda(&self, node: Node<'_>) -> Result<Function, EngineError> {
        let mut parameters = Vec::new();
        let list = field(node, "parameters")?;
        let mut cursor = list.walk();
        for parameter in list.named_children(&mut cursor) {
            if parameter.kind() != "parameter" {
                continue;
            }
            let tabular = field(parameter, "type")?.kind() == "tabular_type";
            let default = match parameter.child_by_field_name("default") {
                Some(default) => Some(self.expr(default)?),
                None => None,
            };
            parameters.push(crate::ast::Parameter {
                name: self.name(field(parameter, "name")?)?,
                default,
                tabular,
            });
        }
        let body_node = field(node, "body")?;
        let mut lets = Vec::new();
        let mut body = None;
        let mut cursor = body_node.walk();
        for statement in body_node.named_children(&mut cursor) {
            match statement.kind() {
                "comment" => {}
                "let_statement" => lets.push(self.let_statement(statement)?),
                "query_statement" => {
                    let query = unwrap_parentheses(
                        statement.named_child(0).ok_or_else(|| missing(statement))?,
                    );
                    body = Some(match query.kind() {
                        "pipe_expression"
                        | "datatable_expression"
                        | "print_operator"
                        | "range_operator"
                        | "union_operator" => FunctionBody::Tabular(self.sub_pipeline(query)?),
                        _ => FunctionBody::Scalar(self.expr(query)?),
                    });
                }
                _ => return Err(unsupported("this statement in a function body", statement)),
            }
        }
        let body = body.ok_or_else(|| {
            EngineError::at(
                "the function body has no expression",
                body_node.byte_range(),
            )
        })?;
        Ok(Function {
            parameters,
            lets,
            body,
        })
    }

    /// Lowers `Table | op | op`, collecting the operators from the innermost source outwards.
    /// A `render` operator is accepted only as the last one and is returned separately.
    fn pipeline(&self, node: Node<'_>) -> Result<(Pipeline, Option<RenderHint>), EngineError> {
        let mut operators = Vec::new();
        let mut render = None;
        let mut current = node;
        while current.kind() == "pipe_expression" {
            let operator = field(current, "operator")?;
            if operator.kind() == "render_operator" {
                if !operators.is_empty() {
                    return Err(EngineError::at(
                        "`render` must be the last operator of the query",
                        operator.byte_range(),
                    ));
                }
                render = Some(self.render(operator)?);
            } else {
                operators.push(self.operator(operator)?);
            }
            current = field(current, "source")?;
        }
        operators.reverse();
        let current = unwrap_parentheses(current);
        let source = match current.kind() {
            "identifier" | "bracketed_name" => Source::Table(self.name(current)?),
            // `(T | where ...) | op`: the inner pipeline's operators run first.
            "pipe_expression" => {
                let (inner, inner_render) = self.pipeline(current)?;
                if inner_render.is_some() {
                    return Err(unsupported("`render` inside a subquery", current));
                }
                let mut all = inner.operators;
                all.extend(operators);
                return Ok((
                    Pipeline {
                        source: inner.source,
                        operators: all,
                    },
                    render,
                ));
            }
            "search_operator" => {
                let mut tables = Vec::new();
                let mut cursor = current.walk();
                let table_nodes: Vec<Node<'_>> = current
                    .children_by_field_name("table", &mut cursor)
                    .collect();
                if table_nodes.is_empty() {
                    tables.push(("*".to_owned(), wildcard_pipeline("*", current.byte_range())));
                }
                for table in table_nodes {
                    let name = self.text_of(table).to_owned();
                    let pipeline = if table.kind() == "wildcard_name" {
                        wildcard_pipeline(&name, table.byte_range())
                    } else {
                        self.sub_pipeline(table)?
                    };
                    tables.push((name, pipeline));
                }
                operators.insert(
                    0,
                    Operator {
                        kind: self.search(current)?,
                        range: current.byte_range(),
                    },
                );
                operators.insert(
                    0,
                    Operator {
                        kind: OperatorKind::Union {
                            outer: true,
                            withsource: Some(Ident {
                                name: "$table".to_owned(),
                                range: current.byte_range(),
                            }),
                            tables,
                        },
                        range: current.byte_range(),
                    },
                );
                Source::Empty
            }
            "call_expression" => {
                let function = field(current, "function")?;
                let name = self.name(function)?;
                if name.name == "materialize" {
                    let argument = call_arguments(current)?
                        .into_iter()
                        .next()
                        .ok_or_else(|| missing(current))?;
                    let inner = self.sub_pipeline(argument)?;
                    let mut inner_operators = inner.operators;
                    inner_operators.extend(operators);
                    return Ok((
                        Pipeline {
                            source: inner.source,
                            operators: inner_operators,
                        },
                        render,
                    ));
                }
                let mut args = Vec::new();
                for argument in call_arguments(current)? {
                    args.push(self.expr(argument)?);
                }
                Source::Call { name, args }
            }
            "datatable_expression" => self.datatable(current)?,
            "print_operator" => Source::Print(self.columns(current)?),
            "range_operator" => Source::Range {
                name: self.name(field(current, "name")?)?,
                from: self.expr(field(current, "from")?)?,
                to: self.expr(field(current, "to")?)?,
                step: self.expr(field(current, "step")?)?,
            },
            // `union A, B | ...` starts from A, followed by a union with the other tables.
            "union_operator" => {
                let OperatorKind::Union {
                    outer,
                    withsource,
                    mut tables,
                } = self.union(current, 0)?
                else {
                    unreachable!("union lowers to OperatorKind::Union")
                };
                // A plain first table is the pipeline's source, so that it keeps its label;
                // otherwise every table is a union input after an empty source.
                let plain_first = tables[0].1.operators.is_empty()
                    && tables[0]
                        .1
                        .source
                        .table_name()
                        .is_some_and(|name| !name.name.contains('*'));
                let first_source = if plain_first {
                    tables.remove(0).1.source
                } else {
                    Source::Empty
                };
                operators.insert(
                    0,
                    Operator {
                        kind: OperatorKind::Union {
                            outer,
                            withsource,
                            tables,
                        },
                        range: current.byte_range(),
                    },
                );
                first_source
            }
            _ => {
                return Err(EngineError::at(
                    "the local engine can only start a query from a table name, datatable, print or range",
                    current.byte_range(),
                ));
            }
        };
        Ok((Pipeline { source, operators }, render))
    }

    /// Returns the `name=value` operator parameters of `node`, such as `kind=inner`.
    fn parameters<'n>(&self, node: Node<'n>) -> Result<Vec<(String, Node<'n>)>, EngineError> {
        let mut parameters = Vec::new();
        for parameter in children(node, "parameter") {
            let name = self.text_of(field(parameter, "name")?).to_ascii_lowercase();
            parameters.push((name, field(parameter, "value")?));
        }
        Ok(parameters)
    }

    /// Lowers a tabular operand of `union` or `join`: a table name or a parenthesized pipeline.
    fn sub_pipeline(&self, node: Node<'_>) -> Result<Pipeline, EngineError> {
        let (pipeline, render) = self.pipeline(unwrap_parentheses(node))?;
        if render.is_some() {
            return Err(unsupported("`render` inside a subquery", node));
        }
        Ok(pipeline)
    }

    /// Lowers `union`. `first_arg` is the position of its first table among Kusto's
    /// `union_argN` names: 1 after a pipe, whose input is argument 0, and 0 at a query's start.
    fn union(&self, node: Node<'_>, first_arg: usize) -> Result<OperatorKind, EngineError> {
        let mut outer = true;
        let mut withsource = None;
        for (name, value) in self.parameters(node)? {
            match (name.as_str(), self.text_of(value)) {
                ("kind", "outer") => outer = true,
                ("kind", "inner") => outer = false,
                ("withsource" | "with_source", _) => withsource = Some(self.name(value)?),
                ("isfuzzy", "false") => {}
                _ => {
                    return Err(unsupported(&format!("the union parameter `{name}`"), value));
                }
            }
        }
        let mut tables = Vec::new();
        for (index, table) in children(node, "table").enumerate() {
            // A wildcard such as `Sec*` stays a table name here; `eval` expands it.
            let pipeline = if table.kind() == "wildcard_name" {
                Pipeline {
                    source: Source::Table(Ident {
                        name: self.text_of(table).to_owned(),
                        range: table.byte_range(),
                    }),
                    operators: Vec::new(),
                }
            } else {
                self.sub_pipeline(table)?
            };
            // NOTE: Kusto names a table given as an expression `union_argN`; N counts the
            // input of the pipe as 0, which is an assumption for the piped form.
            let label = match (pipeline.source.table_name(), pipeline.operators.is_empty()) {
                (Some(name), true) => name.name.clone(),
                _ => format!("union_arg{}", index + first_arg),
            };
            tables.push((label, pipeline));
        }
        Ok(OperatorKind::Union {
            outer,
            withsource,
            tables,
        })
    }

    fn join(&self, node: Node<'_>) -> Result<OperatorKind, EngineError> {
        let mut kind = JoinKind::InnerUnique;
        for (name, value) in self.parameters(node)? {
            let text = self.text_of(value);
            match (name.as_str(), text.to_ascii_lowercase().as_str()) {
                ("kind", "innerunique") => kind = JoinKind::InnerUnique,
                ("kind", "inner") => kind = JoinKind::Inner,
                ("kind", "leftouter") => kind = JoinKind::LeftOuter,
                ("kind", "rightouter") => kind = JoinKind::RightOuter,
                ("kind", "fullouter") => kind = JoinKind::FullOuter,
                ("kind", "leftanti" | "anti" | "leftantisemi") => kind = JoinKind::LeftAnti,
                ("kind", "rightanti" | "rightantisemi") => kind = JoinKind::RightAnti,
                ("kind", "leftsemi") => kind = JoinKind::LeftSemi,
                ("kind", "rightsemi") => kind = JoinKind::RightSemi,
                ("kind", _) => {
                    return Err(unsupported(&format!("`join kind={text}`"), value));
                }
                _ if name.starts_with("hint.") => {}
                _ => return Err(unsupported(&format!("the join parameter `{name}`"), value)),
            }
        }
        let right = self.sub_pipeline(field(node, "right")?)?;
        let mut keys = Vec::new();
        for condition in children(node, "condition") {
            keys.push(self.join_key(condition)?);
        }
        if keys.is_empty() {
            return Err(EngineError::at(
                "`join` needs `on` with the key columns",
                node.byte_range(),
            ));
        }
        Ok(OperatorKind::Join { kind, right, keys })
    }

    fn lookup(&self, node: Node<'_>) -> Result<OperatorKind, EngineError> {
        let mut inner = false;
        for (name, value) in self.parameters(node)? {
            match (name.as_str(), self.text_of(value)) {
                ("kind", "leftouter") => inner = false,
                ("kind", "inner") => inner = true,
                _ => {
                    return Err(unsupported(
                        &format!("the lookup parameter `{name}`"),
                        value,
                    ));
                }
            }
        }
        let right = self.sub_pipeline(field(node, "right")?)?;
        let mut keys = Vec::new();
        for condition in children(node, "condition") {
            keys.push(self.join_key(condition)?);
        }
        Ok(OperatorKind::Lookup { inner, right, keys })
    }

    /// Lowers one `mv-expand` or `mv-apply` column: `Col`, `Name = expr`, with `to typeof(T)`.
    fn mv_column(&self, node: Node<'_>) -> Result<crate::ast::MvColumn, EngineError> {
        let mut cursor = node.walk();
        let value = node
            .named_children(&mut cursor)
            .find(|child| !matches!(child.kind(), "typeof_literal" | "comment"))
            .ok_or_else(|| missing(node))?;
        let column = self.column(value)?;
        let name = match (&column.name, column.expr.as_name()) {
            (Some(name), _) => name.clone(),
            (None, Some(name)) => Ident {
                name: name.to_owned(),
                range: column.expr.range.clone(),
            },
            (None, None) => {
                return Err(EngineError::at(
                    "name the expanded expression, as in `mv-expand Name = expr`",
                    value.byte_range(),
                ));
            }
        };
        let to_type = match node.child_by_field_name("type") {
            Some(ty) => Some(typeof_name(self.text_of(ty)).ok_or_else(|| invalid_literal(ty))?),
            None => None,
        };
        Ok(crate::ast::MvColumn {
            name,
            expr: column.expr,
            to_type,
        })
    }

    fn mv_parameters(&self, node: Node<'_>) -> Result<(bool, Option<Ident>), EngineError> {
        let mut bag_as_array = false;
        let mut item_index = None;
        for (name, value) in self.parameters(node)? {
            match (name.as_str(), self.text_of(value)) {
                ("bagexpansion" | "kind", "array") => bag_as_array = true,
                ("bagexpansion" | "kind", "bag") => bag_as_array = false,
                ("bagexpansion" | "kind", other) => {
                    return Err(EngineError::at(
                        format!(
                            "`{name}={other}` is not a bag expansion; use `{name}=bag` or \
                             `{name}=array`"
                        ),
                        value.byte_range(),
                    ));
                }
                ("with_itemindex", _) => item_index = Some(self.name(value)?),
                _ => {
                    return Err(unsupported(&format!("the parameter `{name}`"), value));
                }
            }
        }
        Ok((bag_as_array, item_index))
    }

    fn mv_expand(&self, node: Node<'_>) -> Result<OperatorKind, EngineError> {
        let (bag_as_array, item_index) = self.mv_parameters(node)?;
        let columns = children(node, "column")
            .map(|c| self.mv_column(c))
            .collect::<Result<_, _>>()?;
        let limit = match node.child_by_field_name("limit") {
            Some(limit) => Some(self.expr(limit)?),
            None => None,
        };
        Ok(OperatorKind::MvExpand {
            columns,
            bag_as_array,
            item_index,
            limit,
        })
    }

    fn mv_apply(&self, node: Node<'_>) -> Result<OperatorKind, EngineError> {
        let (bag_as_array, item_index) = self.mv_parameters(node)?;
        if bag_as_array {
            return Err(unsupported("`bagexpansion=array` in `mv-apply`", node));
        }
        if let Some(limit) = node.child_by_field_name("limit") {
            return Err(unsupported("`limit` in `mv-apply`", limit));
        }
        let columns = children(node, "column")
            .map(|c| self.mv_column(c))
            .collect::<Result<_, _>>()?;
        let subquery = field(node, "subquery")?;
        let mut operators = Vec::new();
        let mut cursor = subquery.walk();
        for operator in subquery.named_children(&mut cursor) {
            if operator.kind() == "comment" {
                continue;
            }
            operators.push(self.operator(operator)?);
        }
        Ok(OperatorKind::MvApply {
            columns,
            item_index,
            subquery: operators,
        })
    }

    fn parse(&self, node: Node<'_>) -> Result<OperatorKind, EngineError> {
        use crate::ast::{ParseItem, ParseKind};
        let mut kind = ParseKind::Simple;
        let mut flags = String::new();
        for (name, value) in self.parameters(node)? {
            match (name.as_str(), self.text_of(value)) {
                ("kind", "simple") => kind = ParseKind::Simple,
                ("kind", "regex") => kind = ParseKind::Regex,
                ("kind", "relaxed") => kind = ParseKind::Relaxed,
                ("flags", text) => flags = text.to_owned(),
                _ => return Err(unsupported(&format!("the parse parameter `{name}`"), value)),
            }
        }
        let mut items = Vec::new();
        for item in children(node, "pattern") {
            items.push(match item.kind() {
                "star" => ParseItem::Star,
                "string_literal" => ParseItem::Text(
                    parse_string(self.text_of(item)).ok_or_else(|| invalid_literal(item))?,
                ),
                _ => ParseItem::Column {
                    name: self.name(field(item, "name")?)?,
                    ty: item
                        .child_by_field_name("type")
                        .map(|ty| self.text_of(ty).to_ascii_lowercase()),
                },
            });
        }
        if !flags.is_empty() {
            if kind != ParseKind::Regex {
                return Err(EngineError::at(
                    "`flags` needs `kind=regex`",
                    node.byte_range(),
                ));
            }
            let flags: String = flags.chars().filter(|c| c.is_ascii_alphabetic()).collect();
            items.insert(0, ParseItem::Text(format!("(?{flags})")));
        }
        Ok(OperatorKind::Parse {
            source: self.expr(field(node, "source")?)?,
            kind,
            items,
            keep_unmatched: node.kind() == "parse_operator",
        })
    }

    fn parse_kv(&self, node: Node<'_>) -> Result<OperatorKind, EngineError> {
        let schema = field(node, "columns")?;
        let mut columns = Vec::new();
        let mut cursor = schema.walk();
        for declaration in schema.named_children(&mut cursor) {
            if declaration.kind() != "column_declaration" {
                continue;
            }
            columns.push((
                self.name(field(declaration, "name")?)?,
                self.text_of(field(declaration, "type")?)
                    .to_ascii_lowercase(),
            ));
        }
        let mut pair_delimiter = None;
        let mut kv_delimiter = None;
        let mut quotes = String::new();
        for property in children(node, "property") {
            let name = self
                .name(field(property, "name")?)?
                .name
                .to_ascii_lowercase();
            let value = field(property, "value")?;
            let text = || parse_string(self.text_of(value)).ok_or_else(|| invalid_literal(value));
            match name.as_str() {
                "pair_delimiter" => pair_delimiter = Some(text()?),
                "kv_delimiter" => kv_delimiter = Some(text()?),
                "quote" => quotes = text()?,
                _ => {
                    return Err(unsupported(
                        &format!("the parse-kv option `{name}`"),
                        property,
                    ));
                }
            }
        }
        let (Some(pair_delimiter), Some(kv_delimiter)) = (pair_delimiter, kv_delimiter) else {
            return Err(EngineError::at(
                "the local engine needs `with (pair_delimiter=..., kv_delimiter=...)` in `parse-kv`",
                node.byte_range(),
            ));
        };
        if pair_delimiter.is_empty() || kv_delimiter.is_empty() {
            return Err(EngineError::at(
                "the delimiters of `parse-kv` must not be empty",
                node.byte_range(),
            ));
        }
        Ok(OperatorKind::ParseKv {
            source: self.expr(field(node, "source")?)?,
            columns,
            pair_delimiter,
            kv_delimiter,
            quotes,
        })
    }

    fn evaluate(&self, node: Node<'_>) -> Result<OperatorKind, EngineError> {
        let plugin = field(node, "plugin")?;
        let name = self.text_of(field(plugin, "function")?);
        if name != "bag_unpack" {
            return Err(unsupported(&format!("the `{name}` plugin"), plugin));
        }
        if let Some(schema) = node.child_by_field_name("schema") {
            return Err(unsupported("an output schema for `bag_unpack`", schema));
        }
        let arguments = call_arguments(plugin)?;
        let column = self.expr(*arguments.first().ok_or_else(|| missing(plugin))?)?;
        let prefix = match arguments.get(1) {
            Some(prefix) => {
                Some(parse_string(self.text_of(*prefix)).ok_or_else(|| invalid_literal(*prefix))?)
            }
            None => None,
        };
        if arguments.len() > 2 {
            return Err(unsupported(
                "`bag_unpack` with more than two arguments",
                plugin,
            ));
        }
        Ok(OperatorKind::BagUnpack { column, prefix })
    }

    fn make_series(&self, node: Node<'_>) -> Result<OperatorKind, EngineError> {
        if let Some((name, value)) = self.parameters(node)?.into_iter().next() {
            return Err(unsupported(
                &format!("the make-series parameter `{name}`"),
                value,
            ));
        }
        let mut aggregates = Vec::new();
        for aggregate in children(node, "aggregate") {
            let mut cursor = aggregate.walk();
            let value = aggregate
                .named_children(&mut cursor)
                .next()
                .ok_or_else(|| missing(aggregate))?;
            let default = match aggregate.child_by_field_name("default") {
                Some(default) => Some(self.expr(default)?),
                None => None,
            };
            aggregates.push((self.column(value)?, default));
        }
        let optional = |name: &str| -> Result<Option<Expr>, EngineError> {
            match node.child_by_field_name(name) {
                Some(value) => Ok(Some(self.expr(value)?)),
                None => Ok(None),
            }
        };
        let (from, to, step) = match node.child_by_field_name("range") {
            Some(range) => {
                let arguments = call_arguments_of_list(range);
                if arguments.len() != 3 {
                    return Err(EngineError::at(
                        "`in range(from, to, step)` needs three arguments",
                        range.byte_range(),
                    ));
                }
                (
                    Some(self.expr(arguments[0])?),
                    Some(self.expr(arguments[1])?),
                    self.expr(arguments[2])?,
                )
            }
            None => (
                optional("from")?,
                optional("to")?,
                self.expr(field(node, "step")?)?,
            ),
        };
        let by = children(node, "group")
            .map(|c| self.column(c))
            .collect::<Result<_, _>>()?;
        Ok(OperatorKind::MakeSeries {
            aggregates,
            axis: self.expr(field(node, "axis")?)?,
            from,
            to,
            step,
            by,
        })
    }

    fn top_nested(&self, node: Node<'_>) -> Result<OperatorKind, EngineError> {
        let mut clauses = Vec::new();
        let mut cursor = node.walk();
        for clause in node.named_children(&mut cursor) {
            if clause.kind() != "top_nested_clause" {
                continue;
            }
            let count = match clause.child_by_field_name("count") {
                Some(count) => Some(self.expr(count)?),
                None => None,
            };
            let others = match clause.child_by_field_name("others") {
                Some(others) => Some(self.expr(others)?),
                None => None,
            };
            let descending = clause
                .child_by_field_name("order")
                .is_none_or(|order| self.text_of(order) == "desc");
            clauses.push(crate::ast::TopNestedClause {
                count,
                column: self.column(field(clause, "column")?)?,
                others,
                aggregate: self.column(field(clause, "aggregate")?)?,
                descending,
            });
        }
        Ok(OperatorKind::TopNested(clauses))
    }

    /// Lowers `datatable(A: type, ...) [v1, v2, ...]`.
    fn datatable(&self, node: Node<'_>) -> Result<Source, EngineError> {
        let schema = field(node, "schema")?;
        let mut columns = Vec::new();
        let mut cursor = schema.walk();
        for declaration in schema.named_children(&mut cursor) {
            if declaration.kind() != "column_declaration" {
                continue;
            }
            columns.push((
                self.name(field(declaration, "name")?)?,
                self.text_of(field(declaration, "type")?)
                    .to_ascii_lowercase(),
            ));
        }
        let values = children(node, "value")
            .map(|value| self.expr(value))
            .collect::<Result<_, _>>()?;
        Ok(Source::Datatable {
            columns,
            values,
            range: node.byte_range(),
        })
    }

    /// Lowers `Col`, or `$left.A == $right.B` in either order.
    fn join_key(&self, node: Node<'_>) -> Result<(Ident, Ident), EngineError> {
        if matches!(node.kind(), "identifier" | "bracketed_name") {
            let name = self.name(node)?;
            return Ok((name.clone(), name));
        }
        let side = |operand: Node<'_>| -> Option<(bool, Ident)> {
            let text = self.text_of(operand);
            let (is_left, column) = if let Some(rest) = text.strip_prefix("$left.") {
                (true, rest)
            } else {
                (false, text.strip_prefix("$right.")?)
            };
            let column = column.trim();
            let name = match lower_bracketed(column) {
                Some(name) => name,
                None => column.to_owned(),
            };
            Some((
                is_left,
                Ident {
                    name,
                    range: operand.byte_range(),
                },
            ))
        };
        if node.kind() == "binary_expression" && self.text_of(field(node, "operator")?) == "==" {
            let first = side(field(node, "left")?);
            let second = side(field(node, "right")?);
            match (first, second) {
                (Some((true, left)), Some((false, right)))
                | (Some((false, right)), Some((true, left))) => return Ok((left, right)),
                _ => {}
            }
        }
        Err(unsupported(
            "this join condition; write `on Column` or `on $left.A == $right.B`",
            node,
        ))
    }

    /// Lowers `render KIND with (name = value, ...)` into a chart hint. A bare name after a
    /// list property such as `ycolumns = A, B` joins that property's list.
    fn render(&self, node: Node<'_>) -> Result<RenderHint, EngineError> {
        let kind = self
            .text_of(field(node, "visualization")?)
            .to_ascii_lowercase();
        let mut properties = serde_json::Map::new();
        let mut open_list: Option<String> = None;
        for property in children(node, "property") {
            if property.kind() != "named_argument" {
                let (Some(list), Ok(name)) = (&open_list, self.name(property)) else {
                    return Err(EngineError::at(
                        "expected a `name = value` property in `render ... with (...)`",
                        property.byte_range(),
                    ));
                };
                if let Some(serde_json::Value::Array(items)) = properties.get_mut(list) {
                    items.push(serde_json::Value::String(name.name));
                }
                continue;
            }
            let name = self
                .name(field(property, "name")?)?
                .name
                .to_ascii_lowercase();
            let value_node = field(property, "value")?;
            let value = self.render_value(value_node)?;
            if RENDER_LIST_PROPERTIES.contains(&name.as_str()) {
                let items = match value {
                    serde_json::Value::Array(items) => items,
                    other => vec![other],
                };
                properties.insert(name.clone(), serde_json::Value::Array(items));
                open_list = Some(name);
            } else {
                properties.insert(name, value);
                open_list = None;
            }
        }
        Ok(RenderHint { kind, properties })
    }

    fn render_value(&self, node: Node<'_>) -> Result<serde_json::Value, EngineError> {
        use serde_json::Value;
        let value = match node.kind() {
            "identifier" | "bracketed_name" => {
                let name = self.name(node)?.name;
                match name.as_str() {
                    "true" => Value::Bool(true),
                    "false" => Value::Bool(false),
                    _ => Value::String(name),
                }
            }
            _ => match self.expr(node)?.kind {
                ExprKind::Literal(Literal::String(text)) => Value::String(text),
                ExprKind::Literal(Literal::Bool(flag)) => Value::Bool(flag),
                ExprKind::Literal(Literal::Long(n)) => Value::from(n),
                ExprKind::Literal(Literal::Real(n)) => Value::from(n),
                _ => Value::String(self.text_of(node).to_owned()),
            },
        };
        Ok(value)
    }

    fn operator(&self, node: Node<'_>) -> Result<Operator, EngineError> {
        let kind = match node.kind() {
            "where_operator" => OperatorKind::Where(self.expr(field(node, "predicate")?)?),
            "project_operator" => OperatorKind::Project(self.columns(node)?),
            "extend_operator" => OperatorKind::Extend(self.columns(node)?),
            "project_away_operator" => {
                let mut names = Vec::new();
                for column in children(node, "column") {
                    if column.kind() == "wildcard_name" {
                        names.push(Ident {
                            name: self.text_of(column).to_owned(),
                            range: column.byte_range(),
                        });
                    } else {
                        names.push(self.name(column)?);
                    }
                }
                OperatorKind::ProjectAway(names)
            }
            "project_rename_operator" => {
                let mut pairs = Vec::new();
                for column in children(node, "column") {
                    let new = self.name(field(column, "name")?)?;
                    let old = self.name(field(column, "value")?)?;
                    pairs.push((new, old));
                }
                OperatorKind::ProjectRename(pairs)
            }
            "summarize_operator" => {
                let mut aggregates = Vec::new();
                for aggregate in children(node, "aggregate") {
                    match self.percentile_names(aggregate)? {
                        Some(columns) => aggregates.extend(columns),
                        None => aggregates.push(self.column(aggregate)?),
                    }
                }
                let by = children(node, "group")
                    .map(|c| self.column(c))
                    .collect::<Result<_, _>>()?;
                OperatorKind::Summarize { aggregates, by }
            }
            "sort_operator" => OperatorKind::Sort(
                children(node, "key")
                    .map(|k| self.sort_key(k))
                    .collect::<Result<_, _>>()?,
            ),
            "take_operator" => OperatorKind::Take(self.expr(field(node, "count")?)?),
            "top_operator" => OperatorKind::Top {
                count: self.expr(field(node, "count")?)?,
                key: self.sort_key(field(node, "key")?)?,
            },
            "distinct_operator" => {
                let columns: Vec<Node<'_>> = children(node, "column").collect();
                if columns.len() == 1 && columns[0].kind() == "star" {
                    OperatorKind::Distinct(Vec::new())
                } else {
                    let lowered = columns
                        .iter()
                        .map(|c| self.column(*c))
                        .collect::<Result<_, _>>()?;
                    OperatorKind::Distinct(lowered)
                }
            }
            "count_operator" => OperatorKind::Count,
            "union_operator" => self.union(node, 1)?,
            "join_operator" => self.join(node)?,
            "lookup_operator" => self.lookup(node)?,
            "mv_expand_operator" => self.mv_expand(node)?,
            "mv_apply_operator" => self.mv_apply(node)?,
            "parse_operator" | "parse_where_operator" => self.parse(node)?,
            "serialize_operator" => OperatorKind::Serialize(self.columns(node)?),
            "parse_kv_operator" => self.parse_kv(node)?,
            "project_keep_operator" | "project_reorder_operator" => {
                let mut names = Vec::new();
                for column in children(node, "column") {
                    let column = if column.kind() == "reorder_column" {
                        if column.child_by_field_name("order").is_some() {
                            return Err(unsupported("sorted `project-reorder`", column));
                        }
                        column.named_child(0).ok_or_else(|| missing(column))?
                    } else {
                        column
                    };
                    if column.kind() == "wildcard_name" {
                        names.push(Ident {
                            name: self.text_of(column).to_owned(),
                            range: column.byte_range(),
                        });
                    } else {
                        names.push(self.name(column)?);
                    }
                }
                if node.kind() == "project_keep_operator" {
                    OperatorKind::ProjectKeep(names)
                } else {
                    OperatorKind::ProjectReorder(names)
                }
            }
            "getschema_operator" => OperatorKind::Getschema,
            "sample_operator" => OperatorKind::Sample(self.expr(field(node, "count")?)?),
            "as_operator" => OperatorKind::As(self.name(field(node, "name")?)?),
            "evaluate_operator" => self.evaluate(node)?,
            "make_series_operator" => self.make_series(node)?,
            "invoke_operator" => {
                let call = field(node, "function")?;
                let name = self.name(field(call, "function")?)?;
                let mut args = Vec::new();
                for argument in call_arguments(call)? {
                    args.push(self.expr(argument)?);
                }
                OperatorKind::Invoke { name, args }
            }
            "top_nested_operator" => self.top_nested(node)?,
            "search_operator" => {
                if node.child_by_field_name("table").is_some() {
                    return Err(unsupported("`search in (...)` after a pipe", node));
                }
                self.search(node)?
            }
            _ => OperatorKind::Unsupported(operator_keyword(self.text_of(node))),
        };
        Ok(Operator {
            kind,
            range: node.byte_range(),
        })
    }

    /// Lowers the columns of `extend`, `project` and the like. `(a, b) = f(x)` becomes one
    /// column per name, and an unnamed `series_stats(x)` one column per statistic.
    fn columns(&self, node: Node<'_>) -> Result<Vec<NamedExpr>, EngineError> {
        let mut columns = Vec::new();
        for column in children(node, "column") {
            if column.kind() == "assignment" && field(column, "name")?.kind() == "name_list" {
                let names_node = field(column, "name")?;
                let value = self.expr(field(column, "value")?)?;
                let mut cursor = names_node.walk();
                let names: Vec<Node<'_>> = names_node.named_children(&mut cursor).collect();
                for (index, name) in names.into_iter().enumerate() {
                    let range = value.range.clone();
                    columns.push(NamedExpr {
                        name: Some(self.name(name)?),
                        expr: Expr::new(
                            ExprKind::Call {
                                name: Ident {
                                    name: "__component".to_owned(),
                                    range: range.clone(),
                                },
                                args: vec![
                                    Expr::new(
                                        ExprKind::Literal(Literal::Long(index as i64)),
                                        range.clone(),
                                    ),
                                    value.clone(),
                                ],
                            },
                            range,
                        ),
                    });
                }
                continue;
            }
            let lowered = self.column(column)?;
            match series_stats_columns(&lowered) {
                Some(expanded) => columns.extend(expanded),
                None => columns.push(lowered),
            }
        }
        Ok(columns)
    }

    /// Lowers `(p50, p95) = percentiles(x, 50, 95)` into `p50 = percentile(x, 50)` and
    /// `p95 = percentile(x, 95)`. Returns `None` for any other aggregate.
    fn percentile_names(&self, node: Node<'_>) -> Result<Option<Vec<NamedExpr>>, EngineError> {
        if node.kind() != "assignment" {
            return Ok(None);
        }
        let names_node = field(node, "name")?;
        if names_node.kind() != "name_list" {
            return Ok(None);
        }
        let value = self.expr(field(node, "value")?)?;
        let ExprKind::Call { name, args } = &value.kind else {
            return Ok(None);
        };
        if name.name != "percentiles" || args.len() < 2 {
            return Ok(None);
        }

        let mut cursor = names_node.walk();
        let names: Vec<Node<'_>> = names_node.named_children(&mut cursor).collect();
        if names.len() > args.len() - 1 {
            return Err(EngineError::at(
                format!(
                    "{} names for {} percentiles; give one name per percentile",
                    names.len(),
                    args.len() - 1
                ),
                names_node.byte_range(),
            ));
        }

        let mut columns = Vec::with_capacity(names.len());
        for (name_node, rank) in names.into_iter().zip(&args[1..]) {
            columns.push(NamedExpr {
                name: Some(self.name(name_node)?),
                expr: Expr::new(
                    ExprKind::Call {
                        name: Ident {
                            name: "percentile".to_owned(),
                            range: name.range.clone(),
                        },
                        args: vec![args[0].clone(), rank.clone()],
                    },
                    value.range.clone(),
                ),
            });
        }
        Ok(Some(columns))
    }

    /// Lowers `Name = expr` or a bare expression.
    fn column(&self, node: Node<'_>) -> Result<NamedExpr, EngineError> {
        if node.kind() == "assignment" {
            let name_node = field(node, "name")?;
            if name_node.kind() == "name_list" {
                return Err(unsupported("assigning to several names at once", name_node));
            }
            return Ok(NamedExpr {
                name: Some(self.name(name_node)?),
                expr: self.expr(field(node, "value")?)?,
            });
        }
        Ok(NamedExpr {
            name: None,
            expr: self.expr(node)?,
        })
    }

    fn sort_key(&self, node: Node<'_>) -> Result<SortKey, EngineError> {
        let expr = self.expr(field(node, "value")?)?;
        let descending = node
            .child_by_field_name("order")
            .is_none_or(|order| self.text_of(order) == "desc");
        let nulls_first = node
            .child_by_field_name("nulls")
            .map(|nulls| self.text_of(nulls) == "first");
        Ok(SortKey {
            expr,
            descending,
            nulls_first,
        })
    }

    fn name(&self, node: Node<'_>) -> Result<Ident, EngineError> {
        let name = match node.kind() {
            "identifier" => self.text_of(node).to_owned(),
            "bracketed_name" => {
                let literal = node.named_child(0).ok_or_else(|| missing(node))?;
                parse_string(self.text_of(literal)).ok_or_else(|| invalid_literal(literal))?
            }
            _ => return Err(EngineError::at("expected a name", node.byte_range())),
        };
        Ok(Ident {
            name,
            range: node.byte_range(),
        })
    }

    /// Lowers an expression, or rejects it when it nests deeper than `MAX_EXPRESSION_DEPTH`.
    fn expr(&self, node: Node<'_>) -> Result<Expr, EngineError> {
        let depth = self.depth.get();
        if depth >= MAX_EXPRESSION_DEPTH {
            return Err(EngineError::at(
                format!(
                    "expression nested deeper than {MAX_EXPRESSION_DEPTH} levels; split it, \
                     or test a column against many values with `in (...)`"
                ),
                node.byte_range(),
            ));
        }
        self.depth.set(depth + 1);
        let lowered = self.expr_within_depth(node);
        self.depth.set(depth);
        lowered
    }

    fn expr_within_depth(&self, node: Node<'_>) -> Result<Expr, EngineError> {
        let range = node.byte_range();
        let kind = match node.kind() {
            // NOTE: the grammar can lex a timespan such as `1h` as an identifier. No KQL name
            // starts with a digit, so such an identifier is read as the timespan it spells.
            "identifier" if self.text_of(node).starts_with(|c: char| c.is_ascii_digit()) => {
                ExprKind::Literal(Literal::Timespan(
                    parse_timespan(self.text_of(node)).ok_or_else(|| invalid_literal(node))?,
                ))
            }
            "identifier" | "bracketed_name" => ExprKind::Name(self.name(node)?.name),
            "parenthesized_expression" => {
                let inner = node.named_child(0).ok_or_else(|| missing(node))?;
                if inner.kind() == "pipe_expression" {
                    return Err(unsupported("subqueries", inner));
                }
                return self.expr(inner);
            }
            "binary_expression" => self.binary(node)?,
            "unary_expression" => {
                let operand = self.expr(field(node, "operand")?)?;
                if self.text_of(field(node, "operator")?) == "+" {
                    return Ok(Expr::new(operand.kind, range));
                }
                match operand.kind {
                    ExprKind::Literal(Literal::Long(n)) => ExprKind::Literal(Literal::Long(-n)),
                    ExprKind::Literal(Literal::Real(n)) => ExprKind::Literal(Literal::Real(-n)),
                    ExprKind::Literal(Literal::Timespan(n)) => {
                        ExprKind::Literal(Literal::Timespan(-n))
                    }
                    _ => ExprKind::Negate(Box::new(operand)),
                }
            }
            "in_expression" => {
                let operator = self.text_of(field(node, "operator")?);
                let (negated, case_sensitive) = match operator {
                    "in" => (false, true),
                    "!in" => (true, true),
                    "in~" => (false, false),
                    "!in~" => (true, false),
                    "has_any" | "has_all" => return self.has_any_or_all(node, operator),
                    other => return Err(unsupported(&format!("the `{other}` operator"), node)),
                };
                let list_node = field(node, "right")?;
                let mut cursor = list_node.walk();
                let list = list_node
                    .named_children(&mut cursor)
                    .filter(|n| n.kind() != "comment")
                    .map(|item| {
                        let inner = unwrap_parentheses(item);
                        if is_tabular(inner) {
                            self.hoist_subquery(inner)
                        } else {
                            self.expr(item)
                        }
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                ExprKind::In {
                    expr: Box::new(self.expr(field(node, "left")?)?),
                    list,
                    negated,
                    case_sensitive,
                }
            }
            "between_expression" => ExprKind::Between {
                expr: Box::new(self.expr(field(node, "left")?)?),
                low: Box::new(self.expr(field(node, "low")?)?),
                high: Box::new(self.expr(field(node, "high")?)?),
                negated: self.text_of(field(node, "operator")?) == "!between",
            },
            "call_expression" => self.call(node)?,
            "string_literal" => ExprKind::Literal(Literal::String(
                parse_string(self.text_of(node)).ok_or_else(|| invalid_literal(node))?,
            )),
            "integer_literal" => ExprKind::Literal(Literal::Long(
                parse_integer(self.text_of(node)).ok_or_else(|| invalid_literal(node))?,
            )),
            "real_literal" => ExprKind::Literal(Literal::Real(
                self.text_of(node)
                    .parse()
                    .map_err(|_| invalid_literal(node))?,
            )),
            "bool_literal" => ExprKind::Literal(Literal::Bool(
                self.text_of(node).eq_ignore_ascii_case("true"),
            )),
            "timespan_literal" => ExprKind::Literal(Literal::Timespan(
                parse_timespan(self.text_of(node)).ok_or_else(|| invalid_literal(node))?,
            )),
            "datetime_literal" => ExprKind::Literal(
                parse_datetime_literal(self.text_of(node)).ok_or_else(|| invalid_literal(node))?,
            ),
            "typed_literal" => {
                let text = self.text_of(node);
                let does_not_fit = || {
                    EngineError::at(
                        format!("invalid literal `{text}`: the value does not fit the type"),
                        node.byte_range(),
                    )
                };
                let literal = parse_typed_literal(text).ok_or_else(does_not_fit)?;
                let type_name = text.split('(').next().unwrap_or_default().trim();
                if matches!(type_name, "int" | "int32") {
                    // The engine's literals have no 32-bit integer, so `int(5)` is `toint(5)`,
                    // which keeps Kusto's type `int`.
                    if let Literal::Long(value) = literal
                        && i32::try_from(value).is_err()
                    {
                        return Err(does_not_fit());
                    }
                    ExprKind::Call {
                        name: Ident {
                            name: "toint".to_owned(),
                            range: node.byte_range(),
                        },
                        args: vec![Expr::new(ExprKind::Literal(literal), node.byte_range())],
                    }
                } else {
                    ExprKind::Literal(literal)
                }
            }
            "guid_literal" => ExprKind::Literal(Literal::String(
                function_argument(self.text_of(node), &["guid", "uuid", "uniqueid"])
                    .ok_or_else(|| invalid_literal(node))?
                    .to_owned(),
            )),
            "dynamic_literal" => ExprKind::Literal(Literal::Dynamic(self.dynamic_literal(node)?)),
            "typeof_literal" => ExprKind::TypeOf(
                typeof_name(self.text_of(node)).ok_or_else(|| invalid_literal(node))?,
            ),
            "member_expression" => {
                let member = field(node, "member")?;
                ExprKind::Member {
                    object: Box::new(self.expr(field(node, "object")?)?),
                    key: Box::new(Expr::new(
                        ExprKind::Literal(Literal::String(self.text_of(member).to_owned())),
                        member.byte_range(),
                    )),
                }
            }
            "index_expression" => ExprKind::Member {
                object: Box::new(self.expr(field(node, "object")?)?),
                key: Box::new(self.expr(field(node, "index")?)?),
            },
            "concatenated_string" => {
                let mut text = String::new();
                let mut cursor = node.walk();
                for part in node.named_children(&mut cursor) {
                    text.push_str(
                        &parse_string(self.text_of(part)).ok_or_else(|| invalid_literal(part))?,
                    );
                }
                ExprKind::Literal(Literal::String(text))
            }
            "pipe_expression" => return Err(unsupported("subqueries", node)),
            "datatable_expression" => return Err(unsupported("datatable", node)),
            "externaldata_expression" => return Err(unsupported("externaldata", node)),
            "star" => return Err(EngineError::at("`*` is not valid here", range)),
            "ERROR" => return Err(EngineError::at("syntax error", range)),
            other => {
                return Err(EngineError::at(
                    format!("unexpected `{other}` in an expression"),
                    range,
                ));
            }
        };
        Ok(Expr::new(kind, range))
    }

    /// Reads `dynamic(...)` as JSON. Datetimes and timespans inside it become their text.
    fn dynamic_literal(&self, node: Node<'_>) -> Result<serde_json::Value, EngineError> {
        match node.child_by_field_name("value") {
            None => Ok(serde_json::Value::Null),
            Some(value) => self.json_value(value),
        }
    }

    fn json_value(&self, node: Node<'_>) -> Result<serde_json::Value, EngineError> {
        use serde_json::Value as Json;
        let value = match node.kind() {
            "json_null" => Json::Null,
            "json_array" => {
                let mut cursor = node.walk();
                let items = node
                    .named_children(&mut cursor)
                    .filter(|n| n.kind() != "comment")
                    .map(|item| self.json_value(item))
                    .collect::<Result<Vec<_>, _>>()?;
                Json::Array(items)
            }
            "json_object" => {
                let mut bag = serde_json::Map::new();
                let mut cursor = node.walk();
                for pair in node.named_children(&mut cursor) {
                    if pair.kind() != "json_pair" {
                        continue;
                    }
                    let key = field(pair, "key")?;
                    let key =
                        parse_string(self.text_of(key)).ok_or_else(|| invalid_literal(key))?;
                    bag.insert(key, self.json_value(field(pair, "value")?)?);
                }
                Json::Object(bag)
            }
            "dynamic_literal" => self.dynamic_literal(node)?,
            "json_number" => {
                let text: String = self
                    .text_of(node)
                    .chars()
                    .filter(|c| !c.is_whitespace())
                    .collect();
                let text = text.strip_prefix('+').unwrap_or(&text);
                match parse_integer(text.trim_start_matches('-')) {
                    Some(n) if !text.contains(['.', 'e', 'E']) => {
                        Json::from(if text.starts_with('-') { -n } else { n })
                    }
                    _ => text
                        .parse::<f64>()
                        .ok()
                        .and_then(serde_json::Number::from_f64)
                        .map(Json::Number)
                        .ok_or_else(|| invalid_literal(node))?,
                }
            }
            _ => match self.expr(node)?.kind {
                ExprKind::Literal(Literal::String(text)) => Json::String(text),
                ExprKind::Literal(Literal::Bool(flag)) => Json::Bool(flag),
                ExprKind::Literal(Literal::Long(n)) => Json::from(n),
                ExprKind::Literal(Literal::Real(x)) => serde_json::Number::from_f64(x)
                    .map(Json::Number)
                    .unwrap_or(Json::Null),
                ExprKind::Literal(Literal::Datetime(n)) => {
                    Json::String(crate::output::format_datetime(n))
                }
                ExprKind::Literal(Literal::Timespan(n)) => {
                    Json::String(crate::output::format_timespan(n))
                }
                ExprKind::Literal(Literal::Null) => Json::Null,
                ExprKind::Literal(Literal::Dynamic(json)) => json,
                _ => return Err(invalid_literal(node)),
            },
        };
        Ok(value)
    }

    /// Lowers `x has_any (a, b)` to `x has a or x has b`, and `has_all` to the same with `and`.
    /// Eight or more constant `has_any` terms become alternations of their term patterns.
    /// An empty list matches nothing for `has_any` and everything for `has_all`.
    fn has_any_or_all(&self, node: Node<'_>, operator: &str) -> Result<Expr, EngineError> {
        let range = node.byte_range();
        let any = operator == "has_any";
        let left = self.expr(field(node, "left")?)?;
        let list_node = field(node, "right")?;
        let mut cursor = list_node.walk();
        let items: Vec<Node<'_>> = list_node
            .named_children(&mut cursor)
            .filter(|n| n.kind() != "comment")
            .collect();
        let has = BinaryOp::Str(StringOp {
            kind: StringOpKind::Has,
            case_sensitive: false,
            negated: false,
        });
        let joiner = if any { BinaryOp::Or } else { BinaryOp::And };
        let mut terms = Vec::with_capacity(items.len());
        let mut needles: Vec<String> = Vec::new();
        for item in items {
            let inner = unwrap_parentheses(item);
            // A name, a dynamic array or a subquery may stand for many terms; the engine
            // expands them with `__has_terms(any, left, item)`.
            let term =
                if is_tabular(inner) || matches!(inner.kind(), "identifier" | "dynamic_literal") {
                    let value = if is_tabular(inner) {
                        self.hoist_subquery(inner)?
                    } else {
                        self.expr(inner)?
                    };
                    Expr::new(
                        ExprKind::Call {
                            name: Ident {
                                name: "__has_terms".to_owned(),
                                range: range.clone(),
                            },
                            args: vec![
                                Expr::new(ExprKind::Literal(Literal::Bool(any)), range.clone()),
                                left.clone(),
                                value,
                            ],
                        },
                        range.clone(),
                    )
                } else {
                    let needle = self.expr(item)?;
                    if let (true, ExprKind::Literal(Literal::String(text))) = (any, &needle.kind) {
                        needles.push(text.clone());
                        continue;
                    }
                    Expr::new(
                        ExprKind::Binary {
                            op: has,
                            lhs: Box::new(left.clone()),
                            rhs: Box::new(needle),
                        },
                        range.clone(),
                    )
                };
            terms.push(term);
        }
        // A long list of constant terms is matched by a few regular expressions, each an
        // alternation of the terms' `has` patterns, in place of one pass over the column per
        // term. A row matches an alternation exactly when it matches one of its terms.
        if needles.len() >= HAS_ANY_ALTERNATION_MIN {
            for chunk in needles.chunks(HAS_ANY_ALTERNATION_CHUNK) {
                let alternatives: Vec<String> = chunk
                    .iter()
                    .map(|needle| term_pattern(needle, StringOpKind::Has, true))
                    .collect();
                let pattern = format!("(?i)(?:{})", alternatives.join("|"));
                terms.push(Expr::new(
                    ExprKind::Binary {
                        op: BinaryOp::Str(StringOp {
                            kind: StringOpKind::MatchesRegex,
                            case_sensitive: true,
                            negated: false,
                        }),
                        lhs: Box::new(left.clone()),
                        rhs: Box::new(Expr::new(
                            ExprKind::Literal(Literal::String(pattern)),
                            range.clone(),
                        )),
                    },
                    range.clone(),
                ));
            }
        } else {
            for needle in needles {
                terms.push(Expr::new(
                    ExprKind::Binary {
                        op: has,
                        lhs: Box::new(left.clone()),
                        rhs: Box::new(Expr::new(
                            ExprKind::Literal(Literal::String(needle)),
                            range.clone(),
                        )),
                    },
                    range.clone(),
                ));
            }
        }
        // A long list becomes one chain, so that later passes take no stack frame per item.
        let kind = match terms.len() {
            0 => ExprKind::Literal(Literal::Bool(!any)),
            1 => return Ok(terms.pop().expect("one term")),
            2 => {
                let rhs = terms.pop().expect("two terms");
                let lhs = terms.pop().expect("two terms");
                ExprKind::Binary {
                    op: joiner,
                    lhs: Box::new(lhs),
                    rhs: Box::new(rhs),
                }
            }
            _ => ExprKind::Chain {
                op: joiner,
                operands: terms,
            },
        };
        Ok(Expr::new(kind, range))
    }

    /// Lowers a binary expression; a run of one repeated operator becomes one `Chain`.
    fn binary(&self, node: Node<'_>) -> Result<ExprKind, EngineError> {
        let operator = self.text_of(field(node, "operator")?);
        let op = binary_operator(operator)
            .ok_or_else(|| unsupported(&format!("the `{operator}` operator"), node))?;

        self.operator_run(node, operator, op, |operand| self.expr(operand))
    }

    /// Lowers a run of one repeated binary `operator` that starts at `node`, with each operand
    /// lowered by `lower`. The grammar nests `a or b or c` to the left, so this walks down the
    /// left side in a loop and returns one `Chain` for three or more operands.
    fn operator_run(
        &self,
        node: Node<'_>,
        operator: &str,
        op: BinaryOp,
        lower: impl Fn(Node<'_>) -> Result<Expr, EngineError>,
    ) -> Result<ExprKind, EngineError> {
        let mut right_operands = vec![field(node, "right")?];
        let mut left = field(node, "left")?;
        while left.kind() == "binary_expression"
            && left
                .child_by_field_name("operator")
                .is_some_and(|inner| self.text_of(inner) == operator)
        {
            right_operands.push(field(left, "right")?);
            left = field(left, "left")?;
        }

        let mut operands = Vec::with_capacity(right_operands.len() + 1);
        operands.push(lower(left)?);
        for right in right_operands.into_iter().rev() {
            operands.push(lower(right)?);
        }
        if operands.len() > 2 {
            return Ok(ExprKind::Chain { op, operands });
        }
        let rhs = operands
            .pop()
            .expect("a binary expression has two operands");
        let lhs = operands
            .pop()
            .expect("a binary expression has two operands");
        Ok(ExprKind::Binary {
            op,
            lhs: Box::new(lhs),
            rhs: Box::new(rhs),
        })
    }

    fn call(&self, node: Node<'_>) -> Result<ExprKind, EngineError> {
        let function = field(node, "function")?;
        if function.kind() != "identifier" {
            return Err(unsupported("calls of this form", function));
        }
        let name = Ident {
            name: self.text_of(function).to_owned(),
            range: function.byte_range(),
        };
        let arguments = field(node, "arguments")?;
        let mut cursor = arguments.walk();
        let mut args = Vec::new();
        for argument in arguments.named_children(&mut cursor) {
            match argument.kind() {
                "comment" => {}
                "named_argument" => return Err(unsupported("named arguments", argument)),
                "pipe_expression" => return Err(unsupported("subqueries", argument)),
                // `count(*)` and the like: a star argument means "all rows", the same as none.
                "star" if args.is_empty() && arguments.named_child_count() == 1 => {}
                // `arg_max(X, *)`: every column.
                "star" => args.push(Expr::new(
                    ExprKind::Name("*".to_owned()),
                    argument.byte_range(),
                )),
                _ => args.push(self.expr(argument)?),
            }
        }
        if name.name == "not" && args.len() == 1 {
            let operand = args.pop().expect("one argument");
            return Ok(ExprKind::Not(Box::new(operand)));
        }
        Ok(ExprKind::Call { name, args })
    }
}

fn field<'a>(node: Node<'a>, name: &str) -> Result<Node<'a>, EngineError> {
    node.child_by_field_name(name).ok_or_else(|| missing(node))
}

/// Returns the engine's operator for the text of a binary operator, or `None` when the engine
/// does not support it.
fn binary_operator(operator: &str) -> Option<BinaryOp> {
    Some(match operator {
        "+" => BinaryOp::Add,
        "-" => BinaryOp::Sub,
        "*" => BinaryOp::Mul,
        "/" => BinaryOp::Div,
        "%" => BinaryOp::Mod,
        "==" => BinaryOp::Eq,
        "!=" | "<>" => BinaryOp::NotEq,
        "<" => BinaryOp::Lt,
        "<=" => BinaryOp::LtEq,
        ">" => BinaryOp::Gt,
        ">=" => BinaryOp::GtEq,
        "=~" => BinaryOp::EqIgnoreCase,
        "!~" => BinaryOp::NotEqIgnoreCase,
        "and" => BinaryOp::And,
        "or" => BinaryOp::Or,
        "matches" => BinaryOp::Str(StringOp {
            kind: StringOpKind::MatchesRegex,
            case_sensitive: true,
            negated: false,
        }),
        "notcontains" => BinaryOp::Str(StringOp {
            kind: StringOpKind::Contains,
            case_sensitive: false,
            negated: true,
        }),
        "notcontains_cs" => BinaryOp::Str(StringOp {
            kind: StringOpKind::Contains,
            case_sensitive: true,
            negated: true,
        }),
        other => BinaryOp::Str(StringOp::parse(other)?),
    })
}

fn children<'a>(node: Node<'a>, name: &'static str) -> impl Iterator<Item = Node<'a>> {
    let mut cursor = node.walk();
    let nodes: Vec<Node<'a>> = node.children_by_field_name(name, &mut cursor).collect();
    nodes.into_iter()
}

/// Expands `series_stats(x)` into Kusto's seven columns, `series_stats_x_min` and so on, or
/// `name_min` and so on after `name =`. Returns `None` for any other column.
fn series_stats_columns(column: &NamedExpr) -> Option<Vec<NamedExpr>> {
    let ExprKind::Call { name, args } = &column.expr.kind else {
        return None;
    };
    if name.name != "series_stats" || args.is_empty() {
        return None;
    }
    let prefix = match &column.name {
        Some(name) => name.name.clone(),
        None => format!("series_stats_{}", args[0].as_name().unwrap_or("")),
    };
    let range = column.expr.range.clone();
    let fields = crate::eval::functions::series::STATS_FIELDS;
    Some(
        fields
            .iter()
            .map(|field| NamedExpr {
                name: Some(Ident {
                    name: format!("{prefix}_{field}"),
                    range: range.clone(),
                }),
                expr: series_stats_field(args, field, name.range.clone(), range.clone()),
            })
            .collect(),
    )
}

/// Returns the expression for one statistic of `series_stats(args)`, such as `min` or
/// `max_idx`: a field of `series_stats_dynamic(args)`, as a long for a position and a real
/// for the rest, as in Kusto.
pub(crate) fn series_stats_field(
    args: &[Expr],
    field: &str,
    name_range: std::ops::Range<usize>,
    range: std::ops::Range<usize>,
) -> Expr {
    let stats = Expr::new(
        ExprKind::Call {
            name: Ident {
                name: "series_stats_dynamic".to_owned(),
                range: name_range,
            },
            args: args.to_vec(),
        },
        range.clone(),
    );
    let member = Expr::new(
        ExprKind::Member {
            object: Box::new(stats),
            key: Box::new(Expr::new(
                ExprKind::Literal(Literal::String(field.to_owned())),
                range.clone(),
            )),
        },
        range.clone(),
    );
    let conversion = if field.ends_with("_idx") {
        "tolong"
    } else {
        "todouble"
    };
    Expr::new(
        ExprKind::Call {
            name: Ident {
                name: conversion.to_owned(),
                range: range.clone(),
            },
            args: vec![member],
        },
        range,
    )
}

/// A pipeline that reads every table whose name matches `pattern`.
fn wildcard_pipeline(pattern: &str, range: std::ops::Range<usize>) -> Pipeline {
    Pipeline {
        source: Source::Table(Ident {
            name: pattern.to_owned(),
            range,
        }),
        operators: Vec::new(),
    }
}

/// Returns the argument nodes of a call, without comments.
fn call_arguments(call: Node<'_>) -> Result<Vec<Node<'_>>, EngineError> {
    Ok(call_arguments_of_list(field(call, "arguments")?))
}

fn call_arguments_of_list(list: Node<'_>) -> Vec<Node<'_>> {
    let mut cursor = list.walk();
    list.named_children(&mut cursor)
        .filter(|n| n.kind() != "comment")
        .collect()
}

/// Reads the type name out of `typeof(long)`.
fn typeof_name(text: &str) -> Option<String> {
    let inner = function_argument(text, &["typeof"])?;
    Some(inner.to_ascii_lowercase())
}

/// Returns whether `node`, inside `in (...)` or `has_any (...)`, is a tabular subquery:
/// a pipeline, or a source such as `print`, `range` or `datatable` on its own.
fn is_tabular(node: Node<'_>) -> bool {
    matches!(
        node.kind(),
        "pipe_expression" | "print_operator" | "range_operator" | "datatable_expression"
    )
}

fn unwrap_parentheses(mut node: Node<'_>) -> Node<'_> {
    while node.kind() == "parenthesized_expression" {
        match node.named_child(0) {
            Some(inner) => node = inner,
            None => break,
        }
    }
    node
}

/// Reads `["name"]` as `name`.
fn lower_bracketed(text: &str) -> Option<String> {
    let inner = text.strip_prefix('[')?.strip_suffix(']')?;
    parse_string(inner.trim())
}

fn missing(node: Node<'_>) -> EngineError {
    EngineError::at(
        format!("incomplete `{}`", node.kind().replace('_', " ")),
        node.byte_range(),
    )
}

/// The minimum number of constant `has_any` terms that are matched as alternations.
const HAS_ANY_ALTERNATION_MIN: usize = 8;

/// The maximum number of terms in one alternation, which keeps each compiled regex small.
const HAS_ANY_ALTERNATION_CHUNK: usize = 256;

fn unsupported(what: &str, node: Node<'_>) -> EngineError {
    EngineError::at(
        format!("the local engine does not support {what} yet"),
        node.byte_range(),
    )
}

fn invalid_literal(node: Node<'_>) -> EngineError {
    EngineError::at("invalid literal", node.byte_range())
}

/// Returns the operator's keyword, such as `join` or `mv-expand`, from its source text.
fn operator_keyword(text: &str) -> String {
    text.split(|c: char| c.is_whitespace() || c == '(')
        .next()
        .unwrap_or(text)
        .to_owned()
}

fn statement_keyword(kind: &str) -> &str {
    match kind {
        "set_statement" => "set",
        "alias_statement" => "alias",
        "declare_query_parameters_statement" => "declare query_parameters",
        "pattern_statement" => "declare pattern",
        "restrict_statement" => "restrict",
        other => other,
    }
}

/// Decodes a KQL string literal, including its quotes and any `h` or `@` prefix.
pub fn parse_string(text: &str) -> Option<String> {
    let text = text.strip_prefix(['h', 'H']).unwrap_or(text);
    if let Some(body) = text.strip_prefix("```").and_then(|t| t.strip_suffix("```")) {
        return Some(body.to_owned());
    }
    if let Some(body) = text.strip_prefix("~~~").and_then(|t| t.strip_suffix("~~~")) {
        return Some(body.to_owned());
    }
    if let Some(verbatim) = text.strip_prefix('@') {
        let quote = verbatim.chars().next()?;
        let body = verbatim.strip_prefix(quote)?.strip_suffix(quote)?;
        return Some(body.replace(&format!("{quote}{quote}"), &quote.to_string()));
    }
    let quote = text.chars().next()?;
    if quote != '"' && quote != '\'' {
        return None;
    }
    let body = text.strip_prefix(quote)?.strip_suffix(quote)?;
    let mut out = String::with_capacity(body.len());
    let mut chars = body.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next()? {
            'n' => out.push('\n'),
            't' => out.push('\t'),
            'r' => out.push('\r'),
            '0' => out.push('\0'),
            'u' => {
                let hex: String = chars.by_ref().take(4).collect();
                out.push(char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?);
            }
            other => out.push(other),
        }
    }
    Some(out)
}

fn parse_integer(text: &str) -> Option<i64> {
    match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) => i64::from_str_radix(hex, 16).ok(),
        None => text.parse().ok(),
    }
}

/// Parses `1d`, `1.5h`, `100ms`, `10tick`, `time(1.02:03:04)` or `timespan(2h)` to nanoseconds.
pub fn parse_timespan(text: &str) -> Option<i64> {
    if let Some(inner) = function_argument(text, &["timespan", "time"]) {
        if inner.contains(':') {
            return parse_clock_timespan(inner);
        }
        if inner.chars().all(|c| c.is_ascii_digit() || c == '.') {
            // A bare number inside time() counts days.
            return Some(
                (inner.parse::<f64>().ok()? * 86_400.0 * NANOS_PER_SECOND as f64).round() as i64,
            );
        }
        return parse_timespan(inner);
    }
    let split = text.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
    let (number, unit) = text.split_at(split);
    let value: f64 = number.parse().ok()?;
    let unit_nanos: f64 = match unit {
        "d" | "day" | "days" => 86_400.0 * 1e9,
        "h" | "hr" | "hrs" | "hour" | "hours" => 3_600.0 * 1e9,
        "m" | "min" | "mins" | "minute" | "minutes" => 60.0 * 1e9,
        "s" | "sec" | "secs" | "second" | "seconds" => 1e9,
        "ms" | "milli" | "millis" | "millisec" | "millisecond" | "milliseconds" => 1e6,
        "micro" | "micros" | "microsec" | "microsecond" | "microseconds" => 1e3,
        "nano" | "nanos" | "nanosec" | "nanosecond" | "nanoseconds" => 1.0,
        "tick" | "ticks" => 100.0,
        _ => return None,
    };
    Some((value * unit_nanos).round() as i64)
}

/// Parses `[-][d.]hh:mm[:ss[.fffffff]]`.
fn parse_clock_timespan(text: &str) -> Option<i64> {
    let (negative, text) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let parts: Vec<&str> = text.split(':').collect();
    if parts.len() < 2 || parts.len() > 3 {
        return None;
    }
    let (days, hours) = match parts[0].split_once('.') {
        Some((days, hours)) => (days.parse::<i64>().ok()?, hours.parse::<i64>().ok()?),
        None => (0, parts[0].parse::<i64>().ok()?),
    };
    let minutes: i64 = parts[1].parse().ok()?;
    let seconds: f64 = match parts.get(2) {
        Some(seconds) => seconds.parse().ok()?,
        None => 0.0,
    };
    let total = ((days * 24 + hours) * 60 + minutes) * 60 * NANOS_PER_SECOND
        + (seconds * NANOS_PER_SECOND as f64).round() as i64;
    Some(if negative { -total } else { total })
}

/// Returns the text between the parentheses of `name(...)` when `text` starts with one of `names`.
fn function_argument<'a>(text: &'a str, names: &[&str]) -> Option<&'a str> {
    let name = names.iter().find(|name| text.starts_with(*name))?;
    let rest = text[name.len()..].trim_start();
    Some(rest.strip_prefix('(')?.strip_suffix(')')?.trim())
}

/// Datetime layouts accepted inside `datetime(...)`.
const DATETIME_LITERAL_FORMATS: &[&str] = &[
    "%Y-%m-%dT%H:%M:%S%.fZ",
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%MZ",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M",
];

fn parse_datetime_literal(text: &str) -> Option<Literal> {
    let inner = function_argument(text, &["datetime", "date"])?;
    if inner == "null" {
        return Some(Literal::Null);
    }
    let datetime = DATETIME_LITERAL_FORMATS
        .iter()
        .find_map(|format| chrono::NaiveDateTime::parse_from_str(inner, format).ok())
        .or_else(|| {
            chrono::NaiveDate::parse_from_str(inner, "%Y-%m-%d")
                .ok()
                .and_then(|date| date.and_hms_opt(0, 0, 0))
        })
        .or_else(|| {
            chrono::DateTime::parse_from_rfc3339(inner)
                .ok()
                .map(|d| d.naive_utc())
        })?;
    datetime
        .and_utc()
        .timestamp_nanos_opt()
        .map(Literal::Datetime)
}

/// Reads a typed literal such as `long(-1)`, `real(+inf)`, `int(0x1f)`, `bool(1)` or
/// `decimal(null)`. `decimal` values become reals, since the engine has no decimal type.
fn parse_typed_literal(text: &str) -> Option<Literal> {
    let open = text.find('(')?;
    let type_name = text[..open].trim();
    let inner = text[open + 1..].strip_suffix(')')?.trim();
    if inner == "null" {
        return Some(Literal::Null);
    }
    match type_name {
        "bool" | "boolean" => match inner.to_ascii_lowercase().as_str() {
            "true" => Some(Literal::Bool(true)),
            "false" => Some(Literal::Bool(false)),
            number => parse_signed_integer(number).map(|n| Literal::Bool(n != 0)),
        },
        "int" | "int32" | "long" | "int64" => parse_signed_integer(inner).map(Literal::Long),
        "real" | "double" | "decimal" => match inner {
            "nan" | "+nan" | "-nan" => Some(Literal::Real(f64::NAN)),
            "+inf" | "inf" => Some(Literal::Real(f64::INFINITY)),
            "-inf" => Some(Literal::Real(f64::NEG_INFINITY)),
            _ => inner.parse().ok().map(Literal::Real),
        },
        _ => None,
    }
}

/// Reads a decimal or hexadecimal integer with an optional sign.
fn parse_signed_integer(text: &str) -> Option<i64> {
    match text.strip_prefix('-') {
        Some(digits) => parse_integer(digits).and_then(i64::checked_neg),
        None => parse_integer(text.strip_prefix('+').unwrap_or(text)),
    }
}

/// Returns the byte range of the first `needle` in `text`, for tests.
#[cfg(test)]
pub(crate) fn range_of(text: &str, needle: &str) -> std::ops::Range<usize> {
    let start = text.find(needle).expect("the needle occurs in the text");
    start..start + needle.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_literal_forms() {
        assert_eq!(parse_string(r#""a\"b\\c""#).as_deref(), Some("a\"b\\c"));
        assert_eq!(parse_string(r"'it\'s'").as_deref(), Some("it's"));
        assert_eq!(
            parse_string(r#"@"C:\Windows\""#).as_deref(),
            Some(r"C:\Windows\")
        );
        assert_eq!(
            parse_string(r#"@"say ""hi""""#).as_deref(),
            Some(r#"say "hi""#)
        );
        assert_eq!(parse_string(r#"h"secret""#).as_deref(), Some("secret"));
        assert_eq!(
            parse_string("```multi\nline```").as_deref(),
            Some("multi\nline")
        );
    }

    #[test]
    fn timespan_literal_forms() {
        assert_eq!(parse_timespan("1d"), Some(86_400 * NANOS_PER_SECOND));
        assert_eq!(parse_timespan("1.5h"), Some(5_400 * NANOS_PER_SECOND));
        assert_eq!(parse_timespan("100ms"), Some(100_000_000));
        assert_eq!(parse_timespan("10tick"), Some(1_000));
        assert_eq!(parse_timespan("30m"), Some(1_800 * NANOS_PER_SECOND));
        assert_eq!(
            parse_timespan("time(1.02:03:04)"),
            Some(((26 * 60 + 3) * 60 + 4) * NANOS_PER_SECOND)
        );
        assert_eq!(
            parse_timespan("timespan(2h)"),
            Some(7_200 * NANOS_PER_SECOND)
        );
        assert_eq!(parse_timespan("2x"), None);
    }

    #[test]
    fn datetime_literal_forms() {
        let expected = Literal::Datetime(1_547_529_864_010_000_000);
        assert_eq!(
            parse_datetime_literal("datetime(2019-01-15 05:24:24.010)"),
            Some(expected.clone())
        );
        assert_eq!(
            parse_datetime_literal("datetime(2019-01-15T05:24:24.01Z)"),
            Some(expected)
        );
        assert_eq!(
            parse_datetime_literal("datetime(2019-01-15)"),
            Some(Literal::Datetime(1_547_510_400_000_000_000))
        );
        assert_eq!(
            parse_datetime_literal("datetime(null)"),
            Some(Literal::Null)
        );
        assert_eq!(parse_datetime_literal("datetime(yesterday)"), None);
    }

    #[test]
    fn lowers_pipeline_with_ranges() {
        let text = "SecurityEvent | where EventID == 4625 | summarize n = count() by IpAddress | top 5 by n";
        let query = lower_query(text).unwrap();
        let Source::Table(source) = &query.pipeline.source else {
            panic!("expected a table source");
        };
        assert_eq!(source.name, "SecurityEvent");
        assert_eq!(source.range, range_of(text, "SecurityEvent"));
        assert_eq!(query.pipeline.operators.len(), 3);
        assert_eq!(
            query.pipeline.operators[0].range,
            range_of(text, "where EventID == 4625")
        );
        let OperatorKind::Summarize { aggregates, by } = &query.pipeline.operators[1].kind else {
            panic!(
                "expected summarize, got {:?}",
                query.pipeline.operators[1].kind
            );
        };
        assert_eq!(
            aggregates[0].name.as_ref().map(|n| n.name.as_str()),
            Some("n")
        );
        assert_eq!(by[0].expr.as_name(), Some("IpAddress"));
        let OperatorKind::Top { key, .. } = &query.pipeline.operators[2].kind else {
            panic!("expected top");
        };
        assert!(key.descending);
    }

    fn where_predicate(text: &str) -> Expr {
        let query = lower_query(text).unwrap();
        let OperatorKind::Where(predicate) = &query.pipeline.operators[0].kind else {
            panic!("expected where: {:?}", query.pipeline.operators[0].kind);
        };
        predicate.clone()
    }

    #[test]
    fn repeated_operator_lowers_to_chain() {
        let predicate = where_predicate("T | where A or B or C == 1 or D");
        let ExprKind::Chain { op, operands } = &predicate.kind else {
            panic!("expected a chain: {predicate:?}");
        };
        assert_eq!(*op, BinaryOp::Or);
        assert_eq!(operands.len(), 4);
        assert_eq!(operands[0].as_name(), Some("A"));
        assert_eq!(operands[3].as_name(), Some("D"));
        assert!(matches!(
            operands[2].kind,
            ExprKind::Binary {
                op: BinaryOp::Eq,
                ..
            }
        ));
    }

    #[test]
    fn two_operands_stay_binary() {
        let predicate = where_predicate("T | where A and B");
        assert!(
            matches!(
                predicate.kind,
                ExprKind::Binary {
                    op: BinaryOp::And,
                    ..
                }
            ),
            "{predicate:?}"
        );
        // Different operators nest as before: `A + B - C` is `(A + B) - C`.
        let predicate = where_predicate("T | where A + B - C > 0");
        let ExprKind::Binary { lhs, .. } = &predicate.kind else {
            panic!("expected a comparison: {predicate:?}");
        };
        assert!(
            matches!(
                lhs.kind,
                ExprKind::Binary {
                    op: BinaryOp::Sub,
                    ..
                }
            ),
            "{lhs:?}"
        );
    }

    #[test]
    fn nesting_past_limit_rejected() {
        let text = format!("T | where {}A{}", "(".repeat(1_200), ")".repeat(1_200));
        // Reaching the limit takes 1,000 nested calls, which overflow a test thread's stack in
        // a debug build. So the check runs on a thread with a stack as large as the CLI's.
        let error = std::thread::Builder::new()
            .stack_size(256 * 1024 * 1024)
            .spawn(move || lower_query(&text).unwrap_err())
            .unwrap()
            .join()
            .unwrap();
        assert!(
            error.message.contains("nested deeper than 1000 levels"),
            "{}",
            error.message
        );
        assert!(error.range.is_some());
    }

    #[test]
    fn lowers_lets_and_string_operators() {
        let text = "let span = 1h;\nT | where Name !has_cs \"x\" and not(A in~ (\"a\", \"b\"))";
        let query = lower_query(text).unwrap();
        assert_eq!(query.lets.len(), 1);
        assert_eq!(
            query.lets[0].value,
            LetValue::Scalar(Expr::new(
                ExprKind::Literal(Literal::Timespan(3_600 * NANOS_PER_SECOND)),
                range_of(text, "1h")
            ))
        );
        let OperatorKind::Where(predicate) = &query.pipeline.operators[0].kind else {
            panic!("expected where");
        };
        let ExprKind::Binary {
            op: BinaryOp::And,
            lhs,
            rhs,
        } = &predicate.kind
        else {
            panic!("expected and, got {predicate:?}");
        };
        let ExprKind::Binary {
            op: BinaryOp::Str(op),
            ..
        } = &lhs.kind
        else {
            panic!("expected a string operator");
        };
        assert_eq!(
            *op,
            StringOp {
                kind: StringOpKind::Has,
                case_sensitive: true,
                negated: true
            }
        );
        let ExprKind::Not(inner) = &rhs.kind else {
            panic!("expected not");
        };
        assert!(matches!(
            inner.kind,
            ExprKind::In {
                negated: false,
                case_sensitive: false,
                ..
            }
        ));
    }

    #[test]
    fn unsupported_operator_names_itself() {
        let text = "T | reduce by Message";
        let query = lower_query(text).unwrap();
        assert_eq!(
            query.pipeline.operators[0].kind,
            OperatorKind::Unsupported("reduce".into())
        );
        assert_eq!(
            query.pipeline.operators[0].range,
            range_of(text, "reduce by Message")
        );
    }

    #[test]
    fn syntax_error_has_range() {
        let error = lower_query("T | where").unwrap_err();
        assert!(
            error.message.starts_with("syntax error"),
            "{}",
            error.message
        );
        assert!(error.range.is_some());
    }

    #[test]
    fn several_blocks_are_rejected() {
        let error = lower_query("T | take 1\n\nU | take 2").unwrap_err();
        assert!(
            error.message.contains("2 query blocks"),
            "{}",
            error.message
        );
        assert_eq!(error.range, Some(12..22));
    }
}
