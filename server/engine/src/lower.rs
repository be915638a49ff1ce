//! Lowering the tree-sitter syntax tree of one query block into the engine's [`ast`].
//!
//! Node kinds and field names are those of `grammars/tree-sitter-kql`. Syntax the grammar
//! accepts but the engine cannot run yet becomes an [`EngineError`] with the byte range of
//! the construct, so that an editor can underline it.

use quarry_syntax::tree_sitter::Node;

use crate::ast::{
    BinaryOp, Expr, ExprKind, Ident, JoinKind, LetScalar, Literal, NamedExpr, Operator,
    OperatorKind, Pipeline, Query, SortKey, StringOp, StringOpKind,
};
use crate::{EngineError, RenderHint};

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
        [block] => Lowerer { text }.block(*block),
        [_, second, ..] => Err(EngineError::at(
            format!(
                "the text contains {} query blocks separated by blank lines; run one block at a time",
                blocks.len()
            ),
            second.byte_range(),
        )),
    }
}

struct Lowerer<'t> {
    text: &'t str,
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
                "let_statement" => lets.push(self.let_statement(statement)?),
                "query_statement" => {
                    if pipeline.is_some() {
                        return Err(EngineError::at(
                            "a query block can hold only one tabular expression; split it with blank lines",
                            statement.byte_range(),
                        ));
                    }
                    let query = statement.named_child(0).ok_or_else(|| missing(statement))?;
                    pipeline = Some(self.pipeline(query)?);
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

    fn let_statement(&self, node: Node<'_>) -> Result<LetScalar, EngineError> {
        let name = self.name(field(node, "name")?)?;
        let value = field(node, "value")?;
        if matches!(
            value.kind(),
            "pipe_expression" | "lambda_expression" | "view_expression"
        ) {
            return Err(EngineError::at(
                "the local engine supports only scalar `let` values, such as `let n = 10;`",
                value.byte_range(),
            ));
        }
        Ok(LetScalar {
            name,
            value: self.expr(value)?,
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
            "identifier" | "bracketed_name" => self.name(current)?,
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
                let (_, first) = tables.remove(0);
                if !first.operators.is_empty() {
                    return Err(unsupported(
                        "a query that starts with `union` of a subquery; start with a table name",
                        current,
                    ));
                }
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
                first.source
            }
            _ => {
                return Err(EngineError::at(
                    "the local engine can only start a query from a table name",
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
            if table.kind() == "wildcard_name" {
                return Err(unsupported("wildcard table names in `union`", table));
            }
            let pipeline = self.sub_pipeline(table)?;
            // NOTE: Kusto names a table given as an expression `union_argN`; N counts the
            // input of the pipe as 0, which is an assumption for the piped form.
            let label = if pipeline.operators.is_empty() {
                pipeline.source.name.clone()
            } else {
                format!("union_arg{}", index + first_arg)
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
                        return Err(unsupported("wildcards in `project-away`", column));
                    }
                    names.push(self.name(column)?);
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
                let aggregates = children(node, "aggregate")
                    .map(|c| self.column(c))
                    .collect::<Result<_, _>>()?;
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
            _ => OperatorKind::Unsupported(operator_keyword(self.text_of(node))),
        };
        Ok(Operator {
            kind,
            range: node.byte_range(),
        })
    }

    fn columns(&self, node: Node<'_>) -> Result<Vec<NamedExpr>, EngineError> {
        children(node, "column").map(|c| self.column(c)).collect()
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

    fn expr(&self, node: Node<'_>) -> Result<Expr, EngineError> {
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
                        if item.kind() == "pipe_expression" {
                            Err(unsupported("subqueries in `in`", item))
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
            "typed_literal" => ExprKind::Literal(
                parse_typed_literal(self.text_of(node)).ok_or_else(|| invalid_literal(node))?,
            ),
            "guid_literal" => return Err(unsupported("guid literals", node)),
            "dynamic_literal" => return Err(unsupported("dynamic literals", node)),
            "typeof_literal" => return Err(unsupported("typeof()", node)),
            "member_expression" | "index_expression" => {
                return Err(unsupported("dynamic property access", node));
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

    /// Lowers `x has_any (a, b)` to `x has a or x has b`, and `has_all` to the same with `and`.
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
        let mut combined: Option<Expr> = None;
        for item in items {
            if item.kind() == "pipe_expression" {
                return Err(unsupported(&format!("subqueries in `{operator}`"), item));
            }
            let term = Expr::new(
                ExprKind::Binary {
                    op: has,
                    lhs: Box::new(left.clone()),
                    rhs: Box::new(self.expr(item)?),
                },
                range.clone(),
            );
            combined = Some(match combined {
                None => term,
                Some(previous) => Expr::new(
                    ExprKind::Binary {
                        op: joiner,
                        lhs: Box::new(previous),
                        rhs: Box::new(term),
                    },
                    range.clone(),
                ),
            });
        }
        Ok(combined
            .unwrap_or_else(|| Expr::new(ExprKind::Literal(Literal::Bool(!any)), range.clone())))
    }

    fn binary(&self, node: Node<'_>) -> Result<ExprKind, EngineError> {
        let operator = self.text_of(field(node, "operator")?);
        let op = match operator {
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
            other => match StringOp::parse(other) {
                Some(string_op) => BinaryOp::Str(string_op),
                None => return Err(unsupported(&format!("the `{other}` operator"), node)),
            },
        };
        Ok(ExprKind::Binary {
            op,
            lhs: Box::new(self.expr(field(node, "left")?)?),
            rhs: Box::new(self.expr(field(node, "right")?)?),
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
                "star" if args.is_empty() => {}
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

fn children<'a>(node: Node<'a>, name: &'static str) -> impl Iterator<Item = Node<'a>> {
    let mut cursor = node.walk();
    let nodes: Vec<Node<'a>> = node.children_by_field_name(name, &mut cursor).collect();
    nodes.into_iter()
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

fn parse_typed_literal(text: &str) -> Option<Literal> {
    let open = text.find('(')?;
    let type_name = text[..open].trim();
    let inner = text[open + 1..].strip_suffix(')')?.trim();
    if inner == "null" {
        return Some(Literal::Null);
    }
    match type_name {
        "bool" | "boolean" => match inner {
            "true" => Some(Literal::Bool(true)),
            "false" => Some(Literal::Bool(false)),
            _ => None,
        },
        "int" | "int32" | "long" | "int64" => parse_integer(inner).map(Literal::Long),
        "real" | "double" => match inner {
            "nan" => Some(Literal::Real(f64::NAN)),
            "+inf" | "inf" => Some(Literal::Real(f64::INFINITY)),
            "-inf" => Some(Literal::Real(f64::NEG_INFINITY)),
            _ => inner.parse().ok().map(Literal::Real),
        },
        _ => None,
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
        assert_eq!(query.pipeline.source.name, "SecurityEvent");
        assert_eq!(query.pipeline.source.range, range_of(text, "SecurityEvent"));
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

    #[test]
    fn lowers_lets_and_string_operators() {
        let text = "let span = 1h;\nT | where Name !has_cs \"x\" and not(A in~ (\"a\", \"b\"))";
        let query = lower_query(text).unwrap();
        assert_eq!(query.lets.len(), 1);
        assert_eq!(
            query.lets[0].value.kind,
            ExprKind::Literal(Literal::Timespan(3_600 * NANOS_PER_SECOND))
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
        let text = "T | mv-expand Items";
        let query = lower_query(text).unwrap();
        assert_eq!(
            query.pipeline.operators[0].kind,
            OperatorKind::Unsupported("mv-expand".into())
        );
        assert_eq!(
            query.pipeline.operators[0].range,
            range_of(text, "mv-expand Items")
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
