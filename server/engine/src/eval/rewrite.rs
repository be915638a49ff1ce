//! Rewrites of a pipeline that make it cheaper to run and give the same rows.
//!
//! [`count_inputs_first`] counts repeated inputs once before `mv-expand` or `parse` when only
//! `count()` follows; [`expand_split_as_text`] keeps the parts of `split()` as strings when
//! nothing reads them as dynamic values. The planner tries both at each operator.

use std::collections::HashMap;

use polars::prelude::{DataType, Schema};

use crate::ast::{Expr, ExprKind, Function, Ident, NamedExpr, Operator, OperatorKind, ParseItem};

/// The row count that [`count_inputs_first`] keeps per distinct input.
const ROWS_COLUMN: &str = "__quarry_rows";

/// The output name of an unnamed `count()` in `summarize`.
const DEFAULT_COUNT_NAME: &str = "count_";

/// Built-in functions whose value depends on more than the named columns of the row: other
/// rows (`prev`, `next`, `row_number`, `row_cumsum`), every column (`pack_all`) or chance
/// (`rand`). Counting distinct inputs first would change what they see.
const ROW_CONTEXT_FUNCTIONS: [&str; 6] = [
    "prev",
    "next",
    "row_number",
    "row_cumsum",
    "pack_all",
    "rand",
];

/// Rewrites `mv-expand ... | summarize count() by keys` into
/// `summarize rows = count() by inputs | mv-expand ... | summarize sum(rows) by keys`, where
/// `inputs` are the columns that the expanded expressions read; `parse` gets the same rewrite.
/// Log columns such as command lines and accounts repeat, so each distinct value is expanded
/// or parsed once instead of once per row, and the counts come out the same. Groups also come out in the same order, because a key first
/// seen in row r is first seen in the distinct value of row r.
///
/// Returns the three operators, or `None` when the pattern does not apply: the operator must
/// be `mv-expand` or `parse` (`parse-where` too), and the `summarize`
/// must have keys, only `count()` aggregates, and read no column that the first
/// `summarize` drops.
// NOTE: when the inputs rarely repeat, as unique command lines do, the first summarize saves
// no work and adds a group-by over every row: about 25% more time on 3 million such rows.
pub(super) fn count_inputs_first(
    expand: &Operator,
    next: Option<&Operator>,
    schema: &Schema,
    functions: &HashMap<String, Function>,
) -> Option<[Operator; 3]> {
    // The expressions that the operator reads and the columns that it adds.
    let (reads, adds): (Vec<&Expr>, Vec<&str>) = match &expand.kind {
        OperatorKind::MvExpand {
            columns,
            item_index,
            limit,
            ..
        } => (
            columns
                .iter()
                .map(|column| &column.expr)
                .chain(limit.as_ref())
                .collect(),
            columns
                .iter()
                .map(|column| column.name.name.as_str())
                .chain(item_index.iter().map(|index| index.name.as_str()))
                .collect(),
        ),
        OperatorKind::Parse { source, items, .. } => (
            vec![source],
            items
                .iter()
                .filter_map(|item| match item {
                    ParseItem::Column { name, .. } => Some(name.name.as_str()),
                    _ => None,
                })
                .collect(),
        ),
        _ => return None,
    };

    let next = next?;

    let OperatorKind::Summarize { aggregates, by } = &next.kind else {
        return None;
    };

    if by.is_empty() || functions.contains_key("count") || functions.contains_key("sum") {
        return None;
    }

    // A `let` function body may read columns that its call does not name, and the first
    // summarize would drop them. Some built-ins read other rows or columns too.
    let keys_and_counts = by.iter().chain(aggregates).map(|item| &item.expr);

    if reads
        .iter()
        .copied()
        .chain(keys_and_counts)
        .any(|expr| calls_any(expr, functions))
    {
        return None;
    }

    // The input columns that the expansion reads; everything else is dropped by the first
    // summarize.
    let mut inputs: Vec<String> = Vec::new();

    for expr in reads {
        for name in mentioned_names(expr) {
            if schema.contains(name) && !inputs.iter().any(|known| known == name) {
                inputs.push(name.to_owned());
            }
        }
    }

    // Grouping puts -0.0 and 0.0 (and every NaN) in one group, but the expansion can tell
    // them apart, for example through `tostring()`.
    let floats = inputs
        .iter()
        .any(|name| schema.get(name).is_none_or(holds_floats));

    if inputs.is_empty() || floats {
        return None;
    }

    let mut available: Vec<&str> = inputs.iter().map(String::as_str).collect();
    available.extend(adds);

    for key in by {
        for name in mentioned_names(&key.expr) {
            if schema.contains(name) && !available.contains(&name) {
                return None;
            }
        }
    }

    let mut unnamed = 0;

    let mut summed = Vec::with_capacity(aggregates.len());

    for aggregate in aggregates {
        let ExprKind::Call { name, args } = &aggregate.expr.kind else {
            return None;
        };
        if name.name != "count" || !args.is_empty() {
            return None;
        }
        let output = match &aggregate.name {
            Some(output) => output.clone(),
            None => {
                unnamed += 1;
                Ident {
                    name: DEFAULT_COUNT_NAME.to_owned(),
                    range: aggregate.expr.range.clone(),
                }
            }
        };
        let range = aggregate.expr.range.clone();
        summed.push(NamedExpr {
            name: Some(output),
            expr: Expr::new(
                ExprKind::Call {
                    name: Ident {
                        name: "sum".to_owned(),
                        range: range.clone(),
                    },
                    args: vec![Expr::new(
                        ExprKind::Name(ROWS_COLUMN.to_owned()),
                        range.clone(),
                    )],
                },
                range,
            ),
        });
    }

    if unnamed > 1 || schema.contains(ROWS_COLUMN) {
        return None;
    }

    // An unnamed count() is called `count_` only when no key or other aggregate takes that
    // name. Naming it `count_` explicitly would turn that case into a duplicate-column error.
    if unnamed == 1 {
        let mut taken = aggregates
            .iter()
            .chain(by)
            .filter_map(|item| item.name.as_ref())
            .map(|ident| ident.name.as_str())
            .chain(by.iter().flat_map(|key| mentioned_names(&key.expr)));
        if taken.any(|name| name == DEFAULT_COUNT_NAME) {
            return None;
        }
    }

    let range = expand.range.clone();

    let counted = Operator {
        kind: OperatorKind::Summarize {
            aggregates: vec![NamedExpr {
                name: Some(Ident {
                    name: ROWS_COLUMN.to_owned(),
                    range: range.clone(),
                }),
                expr: Expr::new(
                    ExprKind::Call {
                        name: Ident {
                            name: "count".to_owned(),
                            range: range.clone(),
                        },
                        args: Vec::new(),
                    },
                    range.clone(),
                ),
            }],
            by: inputs
                .iter()
                .map(|name| NamedExpr {
                    name: None,
                    expr: Expr::new(ExprKind::Name(name.clone()), range.clone()),
                })
                .collect(),
        },
        range,
    };

    let summed = Operator {
        kind: OperatorKind::Summarize {
            aggregates: summed,
            by: by.clone(),
        },
        range: next.range.clone(),
    };

    Some([counted, expand.clone(), summed])
}

/// Returns whether values of `dtype` can contain floating-point numbers, at any depth of a
/// list or struct.
fn holds_floats(dtype: &DataType) -> bool {
    match dtype {
        DataType::List(inner) => holds_floats(inner),
        DataType::Struct(fields) => fields.iter().any(|field| holds_floats(field.dtype())),
        other => other.is_float(),
    }
}

/// Returns the names that `expr` mentions, columns or not.
fn mentioned_names(expr: &Expr) -> Vec<&str> {
    sub_expressions(expr)
        .into_iter()
        .filter_map(Expr::as_name)
        .collect()
}

/// Returns whether `expr` calls one of the `let` functions in `functions` or one of the
/// [`ROW_CONTEXT_FUNCTIONS`].
pub(super) fn calls_any(expr: &Expr, functions: &HashMap<String, Function>) -> bool {
    sub_expressions(expr)
        .into_iter()
        .any(|node| match &node.kind {
            ExprKind::Call { name, .. } => {
                functions.contains_key(&name.name)
                    || ROW_CONTEXT_FUNCTIONS.contains(&name.name.as_str())
            }
            _ => false,
        })
}

/// Returns `expr` and every expression inside it.
fn sub_expressions(expr: &Expr) -> Vec<&Expr> {
    let mut found = Vec::new();
    let mut pending = vec![expr];
    while let Some(expr) = pending.pop() {
        found.push(expr);
        pending.extend(expr.children());
    }
    found
}

/// Returns `operator` with `to typeof(string)` added when it is an `mv-expand` of one
/// `split()` whose parts the `rest` of the pipeline reads only through `tostring()` before
/// dropping or replacing the column. The parts of `split()` are strings, so the result is the
/// same, and the parts need not be written as dynamic JSON text and read back.
pub(super) fn expand_split_as_text(
    operator: &Operator,
    rest: &[Operator],
    functions: &HashMap<String, Function>,
) -> Option<Operator> {
    let OperatorKind::MvExpand { columns, .. } = &operator.kind else {
        return None;
    };
    let [column] = columns.as_slice() else {
        return None;
    };
    let is_split = matches!(&column.expr.kind, ExprKind::Call { name, .. } if name.name == "split");
    if column.to_type.is_some()
        || !is_split
        || functions.contains_key("split")
        || functions.contains_key("tostring")
        || !read_only_as_text(rest, &column.name.name, functions)
    {
        return None;
    }
    let mut rewritten = operator.clone();
    if let OperatorKind::MvExpand { columns, .. } = &mut rewritten.kind {
        columns[0].to_type = Some("string".to_owned());
    }
    Some(rewritten)
}

/// Returns whether the operators read column `name` only as `tostring(name)` until one of
/// them drops or replaces it. A column still present at the end of the pipeline is output,
/// and its type shows there, so such a column returns `false`.
fn read_only_as_text(
    operators: &[Operator],
    name: &str,
    functions: &HashMap<String, Function>,
) -> bool {
    let texts = |exprs: &mut dyn Iterator<Item = &Expr>| {
        for expr in exprs {
            if !uses_only_as_text(expr, name, functions) {
                return false;
            }
        }
        true
    };
    for operator in operators {
        match &operator.kind {
            OperatorKind::Where(expr) | OperatorKind::Take(expr) => {
                if !uses_only_as_text(expr, name, functions) {
                    return false;
                }
            }
            OperatorKind::Sort(keys) => {
                if !texts(&mut keys.iter().map(|key| &key.expr)) {
                    return false;
                }
            }
            OperatorKind::Top { count, key } => {
                if !texts(&mut [count, &key.expr].into_iter()) {
                    return false;
                }
            }
            OperatorKind::Extend(items) => {
                if !texts(&mut items.iter().map(|item| &item.expr)) {
                    return false;
                }
                if items
                    .iter()
                    .any(|item| item.name.as_ref().is_some_and(|n| n.name == name))
                {
                    return true;
                }
            }
            // These keep only the columns they name; when none of them is the bare column,
            // it is gone after them.
            OperatorKind::Project(items) => {
                return texts(&mut items.iter().map(|item| &item.expr));
            }
            OperatorKind::Summarize { aggregates, by } => {
                return texts(&mut aggregates.iter().chain(by).map(|item| &item.expr));
            }
            OperatorKind::ProjectAway(names) => {
                if names.iter().any(|ident| ident.name == name) {
                    return true;
                }
            }
            OperatorKind::Count => return true,
            _ => return false,
        }
    }
    false
}

/// Returns whether every mention of column `name` in `expr` is the argument of `tostring()`.
/// A `*` (as in `arg_max(x, *)`) reads every column, and a call of a `let` function may read
/// columns in its body, so both count as other uses.
fn uses_only_as_text(expr: &Expr, name: &str, functions: &HashMap<String, Function>) -> bool {
    let mut pending = vec![expr];
    while let Some(expr) = pending.pop() {
        match &expr.kind {
            ExprKind::Name(used) if used == name || used == "*" => return false,
            ExprKind::Call { name: function, .. } if functions.contains_key(&function.name) => {
                return false;
            }
            ExprKind::Call {
                name: function,
                args,
            } if function.name == "tostring"
                && matches!(args.as_slice(), [arg] if arg.as_name() == Some(name)) => {}
            _ => pending.extend(expr.children()),
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use polars::prelude::{DataType, Field};

    use super::*;

    /// Returns whether the first operator of `query` (an `mv-expand`) gets `to typeof(string)`.
    fn expands_as_text(query: &str) -> bool {
        let parsed = crate::lower::lower_query(query).unwrap();
        let operators = &parsed.pipeline.operators;
        let functions = HashMap::new();
        match expand_split_as_text(&operators[0], &operators[1..], &functions) {
            Some(rewritten) => {
                let OperatorKind::MvExpand { columns, .. } = rewritten.kind else {
                    panic!("not an mv-expand: {rewritten:?}");
                };
                assert_eq!(columns[0].to_type.as_deref(), Some("string"));
                true
            }
            None => false,
        }
    }

    /// Returns whether `count_inputs_first` rewrites the first two operators of `query`
    /// over a table with columns Host, Line and Items.
    fn counts_first(query: &str) -> bool {
        let parsed = crate::lower::lower_query(query).unwrap();
        let operators = &parsed.pipeline.operators;
        let schema: polars::prelude::Schema = ["Host", "Line", "Items"]
            .into_iter()
            .map(|name| Field::new(name.into(), DataType::String))
            .collect();
        let functions = HashMap::new();
        match count_inputs_first(&operators[0], operators.get(1), &schema, &functions) {
            Some([counted, expand, summed]) => {
                let OperatorKind::Summarize { by, .. } = &counted.kind else {
                    panic!("{counted:?}");
                };
                // The first summarize keeps exactly the columns that the expansion reads.
                let kept: Vec<_> = by.iter().filter_map(|key| key.expr.as_name()).collect();
                assert!(!kept.is_empty(), "{query}");
                assert!(!kept.contains(&"Host"), "{kept:?}");
                assert_eq!(expand, operators[0]);
                assert!(
                    !kept.contains(&"Items") || !query.contains("parse "),
                    "{kept:?}"
                );
                assert!(matches!(summed.kind, OperatorKind::Summarize { .. }));
                true
            }
            None => false,
        }
    }

    #[test]
    fn counting_moves_before_expansion_only_when_it_can() {
        for query in [
            "T | mv-expand P = split(Line, \" \") | summarize count() by tostring(P)",
            "T | mv-expand P = split(Line, \" \") | summarize n = count(), m = count() by tostring(P), Line",
            "T | mv-expand with_itemindex=I P = parse_json(Items) | summarize n = count() by I",
            "T | parse Line with A \" \" B | summarize count() by A",
            "T | parse-where kind=regex Line with A:long \" \" * | summarize count() by A, Line",
        ] {
            assert!(counts_first(query), "{query}");
        }
        for query in [
            // Host is dropped by counting per Line first.
            "T | mv-expand P = split(Line, \" \") | summarize count() by Host, tostring(P)",
            // Aggregates other than count(), two unnamed counts, no keys, no summarize next.
            "T | mv-expand P = split(Line, \" \") | summarize dcount(Host) by tostring(P)",
            "T | mv-expand P = split(Line, \" \") | summarize count(), count() by tostring(P)",
            "T | mv-expand P = split(Line, \" \") | summarize count()",
            "T | mv-expand P = split(Line, \" \") | where true | summarize count() by tostring(P)",
            // The expansion reads no column.
            "T | mv-expand P = dynamic([1, 2]) | summarize count() by tostring(P)",
            "T | parse Line with A \" \" B | summarize count() by Host, A",
            "T | extend A = Line | summarize count() by A",
        ] {
            assert!(!counts_first(query), "{query}");
        }
    }

    #[test]
    fn split_parts_read_as_text_skip_dynamic() {
        let rewritten = [
            "T | mv-expand P = split(C, \" \") | summarize n = count() by tostring(P)",
            "T | mv-expand P = split(C, \" \") | where tostring(P) != \"\" | summarize count() by Q = tostring(P)",
            "T | mv-expand P = split(C, \",\") | extend P = tostring(P)",
            "T | mv-expand P = split(C, \",\") | project S = strlen(tostring(P))",
            "T | mv-expand P = split(C, \",\") | project-away P",
            "T | mv-expand P = split(C, \",\") | take 5 | count",
        ];
        for query in rewritten {
            assert!(expands_as_text(query), "{query}");
        }
        let kept = [
            // The column is output, so its dynamic type shows.
            "T | mv-expand P = split(C, \" \")",
            "T | mv-expand P = split(C, \" \") | where tostring(P) != \"\"",
            "T | mv-expand P = split(C, \" \") | project P",
            // Used as a dynamic value, or by an operator the check does not follow.
            "T | mv-expand P = split(C, \" \") | summarize count() by P",
            "T | mv-expand P = split(C, \" \") | where P == \"x\" | count",
            "T | mv-expand P = split(C, \" \") | extend L = array_length(P) | count",
            "T | mv-expand P = split(C, \" \") | extend Q = tostring(P[0]) | count",
            "T | mv-expand P = split(C, \" \") | getschema",
            // Not a split, a type given already, or two columns.
            "T | mv-expand P = parse_json(C) | summarize count() by tostring(P)",
            "T | mv-expand P = split(C, \" \") to typeof(long) | summarize count() by tostring(P)",
            "T | mv-expand P = split(C, \" \"), R = split(D, \" \") | summarize count() by tostring(P)",
        ];
        for query in kept {
            assert!(!expands_as_text(query), "{query}");
        }
    }
}
