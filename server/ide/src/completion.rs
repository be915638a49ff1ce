//! Completion. After `|` it offers tabular operators, and at the start of a query tables and
//! `let` names. In expressions it offers the columns reaching the operator, the visible
//! variables and the functions. Where an operator expects a word of its own, such as a join
//! kind, a chart type, `by` or a string operator, it offers those words.

mod keywords;
mod ranking;

use std::ops::Range;
use std::sync::Arc;

use quarry_analysis::FunctionKind;

use crate::cursor;
use crate::lexer::TokenKind;
use crate::{Analysis, SourceFile, semantic};
use ranking::{Context, ranked};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completions {
    /// The text the chosen item replaces: the partial name before the cursor, possibly empty.
    pub replace: Range<usize>,
    pub items: Vec<CompletionItem>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompletionItem {
    pub label: String,
    pub kind: CompletionKind,
    /// One line shown next to the label: an operator's first sentence or a function signature.
    pub detail: String,
    /// Markdown documentation.
    pub documentation: String,
    /// The key editors sort by, which depends on the position: see `completion/ranking.rs`.
    pub sort_text: String,
    /// Text in LSP snippet syntax (`${1:name}` tab stops) that replaces the label on insert.
    /// Only [`CompletionKind::Snippet`] items have one.
    pub snippet: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompletionKind {
    Operator,
    Function,
    Aggregate,
    Plugin,
    Column,
    Table,
    Variable,
    /// A keyword of an operator (`by`, `on`, `with`, `kind=`) or a string operator (`has`).
    Keyword,
    /// One of the fixed values of a parameter, such as a join kind or a chart type.
    Value,
    /// A common operator shape with placeholders, such as `summarize … by …`.
    Snippet,
}

/// Operators whose arguments may contain aggregation functions.
const AGGREGATING_OPERATORS: [&str; 4] = ["summarize", "make-series", "top-nested", "count"];

pub fn completions(analysis: &Analysis, file: &SourceFile, offset: usize) -> Option<Completions> {
    let catalog = analysis.catalog;
    let text = file.text();
    let tokens = file.tokens();
    if in_string_or_comment(file, offset) {
        return None;
    }

    // The partial name before the cursor; hyphens count, for names such as `mv-ex`.
    let prefix_start = name_start(&text[..offset], |c| {
        c.is_ascii_alphanumeric() || c == '_' || c == '-'
    });
    let replace = prefix_start..offset;

    if after_pipe(file, prefix_start) || at_query_start(file, prefix_start) {
        let starts_query_only = !after_pipe(file, prefix_start);
        let mut items: Vec<CompletionItem> = catalog
            .operators()
            .filter(|operator| !starts_query_only || operator.starts_query)
            .flat_map(|operator| operator.names().map(move |name| (name, operator)))
            .map(|(name, operator)| {
                item(
                    name.to_owned(),
                    CompletionKind::Operator,
                    first_sentence(&operator.summary),
                    operator.hover_markdown(),
                )
            })
            .collect();
        let context = if starts_query_only {
            items.extend(tables_and_variables(analysis, file, offset));
            Context::QueryStart
        } else {
            items.extend(operator_snippets());
            Context::AfterPipe
        };
        return Some(Completions {
            replace,
            items: ranked(items.into_iter(), context),
        });
    }

    // Expression position: the name typed must not contain a hyphen.
    let replace = name_start(&text[..offset], |c| c.is_ascii_alphanumeric() || c == '_')..offset;
    let previous = cursor::significant_before(tokens, replace.start);
    if previous.is_some_and(|dot| is_member_access(file, dot)) {
        return None;
    }
    let after_evaluate = previous
        .is_some_and(|i| tokens[i].kind == TokenKind::Ident && tokens[i].text(text) == "evaluate");
    let segment_range = segment_operator(file, replace.start);
    let aggregate_position = segment_range
        .clone()
        .filter(|range| AGGREGATING_OPERATORS.contains(&&text[range.clone()]))
        .map(|range| {
            ranking::aggregate_position(file, &text[range.clone()], range.end, replace.start)
        });
    let aggregates_allowed = aggregate_position.is_some_and(|position| position.allowed);
    let series_axis = segment_range.clone().is_some_and(|range| {
        &text[range.clone()] == "make-series"
            && ranking::is_series_axis(file, range.end, replace.start)
    });
    let context = if aggregate_position.is_some_and(|position| position.expected) {
        Context::Aggregation
    } else if series_axis {
        Context::SeriesAxis
    } else {
        Context::Expression
    };

    let mut items: Vec<CompletionItem> = catalog
        .functions()
        .filter(|function| match function.kind {
            FunctionKind::Plugin => after_evaluate,
            FunctionKind::Aggregate => !after_evaluate && aggregates_allowed,
            FunctionKind::Scalar => !after_evaluate,
        })
        .map(|function| {
            item(
                function.name.clone(),
                match function.kind {
                    FunctionKind::Scalar => CompletionKind::Function,
                    FunctionKind::Aggregate => CompletionKind::Aggregate,
                    FunctionKind::Plugin => CompletionKind::Plugin,
                },
                function_detail(function),
                function.hover_markdown(),
            )
        })
        .collect();

    // Replacing the name of a call (`| where is|empty(x)`) with a column would leave `Column(x)`,
    // so only functions are offered there, as Kusto.Language does.
    // Likewise, a name followed by `=` is a new column being named (`| extend Name = ...`).
    let rest = &text[offset..];
    let name_end = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(rest.len());
    let after_name = &rest[name_end..];
    let at_call_name = after_name.starts_with('(');
    let at_assigned_name = {
        let after_space = after_name.trim_start();
        after_space.starts_with('=')
            && !after_space.starts_with("==")
            && !after_space.starts_with("=~")
    };
    // Kusto.Language offers no columns inside `count(`, whose only useful form takes none.
    let in_count_call = text[..replace.start]
        .trim_end()
        .strip_suffix("count(")
        .is_some_and(|before| !before.ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_'));
    let columns = columns_and_variables(analysis, file, replace.start, offset);
    if let Some(range) = segment_range {
        let string_columns: Vec<String> = columns
            .iter()
            .filter(|item| item.kind == CompletionKind::Column && item.detail == "string")
            .map(|item| item.label.clone())
            .collect();
        let operator = &text[range.clone()];
        match keywords::contextual(file, replace.start, operator, range.end, &string_columns) {
            Some(keywords::Contextual::Only(only)) => {
                return Some(Completions {
                    replace,
                    items: ranked(only.into_iter(), Context::Expression),
                });
            }
            Some(keywords::Contextual::Extra(extra)) => items.extend(extra),
            None => {}
        }
    }
    if !after_evaluate && !at_call_name && !at_assigned_name && !in_count_call {
        items.extend(columns);
    }
    Some(Completions {
        replace,
        items: ranked(items.into_iter(), context),
    })
}

/// Tells whether the token at `index` is the `.` of `object.name`, where the name is a property
/// of a dynamic value and not a column. The schema lists no properties, so nothing fits there.
/// The `.` after `$left` and `$right` in a join condition is excluded, because columns follow.
fn is_member_access(file: &SourceFile, index: usize) -> bool {
    let text = file.text();
    let tokens = file.tokens();
    let token = &tokens[index];
    if token.kind != TokenKind::Punct || token.text(text) != "." {
        return false;
    }
    let object = cursor::significant_before(tokens, token.start);
    !object.is_some_and(|object| matches!(tokens[object].text(text), "$left" | "$right"))
}

/// Returns the first overload's signature, with the number of other overloads when there are
/// any, since the completion list has room for one line only.
fn function_detail(function: &quarry_analysis::Function) -> String {
    let label = function.signature_label(0);
    match function.signatures.len() {
        0 | 1 => label,
        2 => format!("{label} (+1 overload)"),
        count => format!("{label} (+{} overloads)", count - 1),
    }
}

fn item(
    label: String,
    kind: CompletionKind,
    detail: String,
    documentation: String,
) -> CompletionItem {
    CompletionItem {
        // `ranking::ranked` sets it once the position is known.
        sort_text: String::new(),
        label,
        kind,
        detail,
        documentation,
        snippet: None,
    }
}

/// Common operator shapes after `|`: label, snippet and detail.
const OPERATOR_SNIPPETS: [(&str, &str, &str); 8] = [
    (
        "where … has …",
        "where ${1:column} has \"${2:term}\"",
        "Keep rows whose column contains a term",
    ),
    (
        "summarize … by …",
        "summarize ${1:count()} by ${2:column}",
        "Aggregate rows per group",
    ),
    (
        "summarize … by bin(…)",
        "summarize ${1:count()} by bin(${2:TimeGenerated}, ${3:1h})",
        "Aggregate rows per time bucket",
    ),
    (
        "extend … = …",
        "extend ${1:name} = ${2:expression}",
        "Add a computed column",
    ),
    (
        "top … by …",
        "top ${1:10} by ${2:column} desc",
        "The first rows by a column",
    ),
    (
        "join kind=… (…) on …",
        "join kind=${1|innerunique,inner,leftouter,leftanti,leftsemi,fullouter|} (${2:table}) on ${3:column}",
        "Join with another table or query",
    ),
    (
        "mv-expand … to typeof(…)",
        "mv-expand ${1:column} to typeof(${2:string})",
        "One row per element of a dynamic array",
    ),
    (
        "render timechart",
        "render ${1|timechart,columnchart,barchart,piechart,table|}",
        "Draw the result as a chart",
    ),
];

fn operator_snippets() -> impl Iterator<Item = CompletionItem> {
    OPERATOR_SNIPPETS
        .iter()
        .map(|(label, snippet, detail)| CompletionItem {
            snippet: Some((*snippet).to_owned()),
            ..item(
                (*label).to_owned(),
                CompletionKind::Snippet,
                (*detail).to_owned(),
                String::new(),
            )
        })
}

/// Returns the byte offset where the run of name characters ending `before` starts. The
/// character before the run may be multi-byte, so the offset is taken after it, not at its
/// first byte plus one.
fn name_start(before: &str, is_name_char: impl Fn(char) -> bool) -> usize {
    before
        .char_indices()
        .rev()
        .find(|&(_, c)| !is_name_char(c))
        .map_or(0, |(index, c)| index + c.len_utf8())
}

/// Returns the columns reaching the operator at `start` and the variables visible at `offset`.
fn columns_and_variables(
    analysis: &Analysis,
    file: &SourceFile,
    start: usize,
    offset: usize,
) -> Vec<CompletionItem> {
    let text = file.text();
    let model = analysis.model_at(file, offset);
    let mut items = match segment_input(&model, file, start) {
        SegmentInput::Own(row) => column_items(row, text),
        SegmentInput::Enclosing(row) => columns_with_brackets_closed(analysis, file, start, offset)
            .unwrap_or_else(|| row.map(|row| column_items(row, text)).unwrap_or_default()),
    };
    for variable in model.variables_at(offset) {
        items.push(item(
            variable.name.clone(),
            CompletionKind::Variable,
            variable.description.clone(),
            semantic::variable_markdown(variable, text),
        ));
    }
    items
}

/// The row type reaching the operator at the cursor, as far as the model shows it.
enum SegmentInput<'m> {
    /// The input of the cursor's own operator.
    Own(&'m Arc<quarry_hir::RowType>),
    /// The model shows no input for the cursor's own operator, as in a subquery whose `(` is
    /// still open. The row of an enclosing operator, if any, is the fallback.
    Enclosing(Option<&'m Arc<quarry_hir::RowType>>),
}

fn segment_input<'m>(
    model: &'m quarry_hir::Model,
    file: &SourceFile,
    start: usize,
) -> SegmentInput<'m> {
    // A scope that starts before the cursor's `|` belongs to an enclosing operator, such as the
    // `join` around an unparsed operator in its subquery, so the subquery's input comes first.
    let scope = semantic::row_scope_at(model, file.text(), start);
    let pipe = segment_pipe(file, start);
    let scope_in_segment =
        scope.filter(|scope| pipe.is_none_or(|pipe| file.tokens()[pipe].start < scope.range.start));
    if let Some(scope) = scope_in_segment {
        return SegmentInput::Own(&scope.row);
    }
    match pipe.and_then(|pipe| row_before_unparsed_operator(model, file, pipe)) {
        Some(row) => SegmentInput::Own(row),
        None => SegmentInput::Enclosing(scope.map(|scope| &scope.row)),
    }
}

fn column_items(row: &quarry_hir::RowType, text: &str) -> Vec<CompletionItem> {
    row.columns
        .iter()
        .map(|column| {
            item(
                semantic::quoted_name(&column.name),
                CompletionKind::Column,
                column.ty.to_string(),
                semantic::column_markdown(column, text),
            )
        })
        .collect()
}

/// Returns the columns reaching the operator at `start` in a copy of the document with the
/// brackets still open at `offset` closed there, as in `| join (SigninLogs | where `, whose
/// subquery the parser cannot place until its `)` is typed. Returns `None` when no bracket is
/// open or the copy shows no row either.
fn columns_with_brackets_closed(
    analysis: &Analysis,
    file: &SourceFile,
    start: usize,
    offset: usize,
) -> Option<Vec<CompletionItem>> {
    let tokens = file.tokens();
    let end = tokens.partition_point(|token| token.end <= offset);
    let mut closers = Vec::new();
    for token in &tokens[..end] {
        match token.kind {
            TokenKind::OpenParen => closers.push(')'),
            TokenKind::OpenBracket => closers.push(']'),
            TokenKind::OpenBrace => closers.push('}'),
            TokenKind::CloseParen | TokenKind::CloseBracket | TokenKind::CloseBrace => {
                closers.pop();
            }
            _ => {}
        }
    }
    if closers.is_empty() {
        return None;
    }
    let text = file.text();
    let mut repaired = String::with_capacity(text.len() + closers.len());
    repaired.push_str(&text[..offset]);
    repaired.extend(closers.iter().rev());
    repaired.push_str(&text[offset..]);
    // The text before `offset` is unchanged, so `start` and every range before it keep their
    // meaning in the copy.
    let repaired = SourceFile::parse(&repaired);
    let model = analysis.model_at(&repaired, offset);
    match segment_input(&model, &repaired, start) {
        SegmentInput::Own(row) => Some(column_items(row, repaired.text())),
        SegmentInput::Enclosing(_) => None,
    }
}

/// Returns the index of the `|` token that starts the operator whose arguments contain `start`,
/// skipping pipes inside brackets closed before `start`, such as those of `toscalar(T | count)`.
fn segment_pipe(file: &SourceFile, start: usize) -> Option<usize> {
    let tokens = file.tokens();
    let end = tokens.partition_point(|token| token.end <= start);
    let mut depth = 0usize;
    for index in (0..end).rev() {
        match tokens[index].kind {
            TokenKind::CloseParen | TokenKind::CloseBracket | TokenKind::CloseBrace => depth += 1,
            TokenKind::OpenParen | TokenKind::OpenBracket | TokenKind::OpenBrace => {
                depth = depth.saturating_sub(1);
            }
            TokenKind::Pipe if depth == 0 => return Some(index),
            _ => {}
        }
    }
    None
}

/// Returns the input row of the operator after the `|` token at index `pipe` when that operator
/// failed to parse and so has no row scope, as `| make-series count() on ` does before its
/// `step`. The input is the tabular result that ends at the last token before the `|`.
fn row_before_unparsed_operator<'m>(
    model: &'m quarry_hir::Model,
    file: &SourceFile,
    pipe: usize,
) -> Option<&'m Arc<quarry_hir::RowType>> {
    let tokens = file.tokens();
    let source = cursor::significant_before(tokens, tokens[pipe].start)?;
    let source_end = tokens[source].end;
    model
        .tabular_results
        .iter()
        .filter(|result| result.range.end == source_end)
        .max_by_key(|result| result.range.len())
        .map(|result| &result.row)
}

/// Returns the schema's tables and the variables visible at `offset`, for the start of a query.
fn tables_and_variables(
    analysis: &Analysis,
    file: &SourceFile,
    offset: usize,
) -> Vec<CompletionItem> {
    let text = file.text();
    let model = analysis.model_at(file, offset);
    let mut items: Vec<CompletionItem> = model
        .variables_at(offset)
        .into_iter()
        .map(|variable| {
            item(
                variable.name.clone(),
                CompletionKind::Variable,
                variable.description.clone(),
                semantic::variable_markdown(variable, text),
            )
        })
        .collect();
    for table in analysis.schema.tables() {
        let row = quarry_hir::RowType {
            columns: table
                .columns
                .iter()
                .map(|column| quarry_hir::Column {
                    name: column.name.clone(),
                    ty: column.ty,
                    origin: quarry_hir::Origin::Table(table.name.clone()),
                })
                .collect(),
            open: false,
        };
        items.push(item(
            semantic::quoted_name(&table.name),
            CompletionKind::Table,
            format!("table, {} columns", table.columns.len()),
            semantic::table_markdown(&table.name, &row, &table.source),
        ));
    }
    items
}

/// Checks whether `offset` lies inside a string or comment, where no completion makes sense. The end
/// of a comment or an unterminated string counts as inside.
pub(crate) fn in_string_or_comment(file: &SourceFile, offset: usize) -> bool {
    let text = file.text();
    let tokens = file.tokens();
    // Only tokens that start before `offset` and end at it or later can contain it.
    let first = tokens.partition_point(|token| token.end < offset);
    let candidates = tokens[first..]
        .iter()
        .take_while(|token| token.start < offset);
    candidates.into_iter().any(|token| match token.kind {
        TokenKind::Comment => token.start < offset && offset <= token.end,
        TokenKind::String => {
            let closed = token.end - token.start >= 2 && {
                let body = token.text(text);
                body.ends_with(['\'', '"'])
                    || (body.starts_with("```") && body.len() >= 6 && body.ends_with("```"))
            };
            token.start < offset && (offset < token.end || (offset == token.end && !closed))
        }
        _ => false,
    })
}

fn after_pipe(file: &SourceFile, start: usize) -> bool {
    let tokens = file.tokens();
    cursor::significant_before(tokens, start).is_some_and(|i| tokens[i].kind == TokenKind::Pipe)
}

/// Checks whether `start` begins a query block or follows a `;`, where operators such as `print` go.
fn at_query_start(file: &SourceFile, start: usize) -> bool {
    let tokens = file.tokens();
    match cursor::significant_before(tokens, start) {
        None => true,
        Some(i) if tokens[i].kind == TokenKind::Semicolon => true,
        Some(i) => cursor::contains_blank_line(&file.text()[tokens[i].end..start]),
    }
}

/// Returns the byte range of the name of the tabular operator whose arguments contain `offset`:
/// the name after the last `|` before it outside closed brackets.
fn segment_operator(file: &SourceFile, offset: usize) -> Option<Range<usize>> {
    let text = file.text();
    let tokens = file.tokens();
    let pipe = segment_pipe(file, offset)?;
    let name =
        cursor::next_significant(tokens, pipe).filter(|&i| tokens[i].kind == TokenKind::Ident)?;
    let name_tokens = cursor::hyphenated_name(text, tokens, name);
    Some(tokens[name_tokens.start].start..tokens[name_tokens.end - 1].end)
}

/// Returns the first sentence of a summary, for the one-line `detail`.
fn first_sentence(summary: &str) -> String {
    let end = summary.find(". ").map_or(summary.len(), |index| index + 1);
    summary[..end].trim().to_owned()
}

#[cfg(test)]
mod tests {
    use expect_test::{Expect, expect};
    use quarry_analysis::Catalog;

    use super::*;
    use crate::fixture;

    /// Renders completions as `replaced-text`, then one `kind label` line per item.
    fn check(fixture: &str, expect: Expect) {
        let (text, offset) = fixture::cursor(fixture);
        let file = SourceFile::parse(&text);
        let actual = match completions(&Analysis::new(Catalog::get()), &file, offset) {
            Some(completions) => {
                let mut lines = vec![format!("replace {:?}", &text[completions.replace])];
                lines.extend(
                    completions
                        .items
                        .iter()
                        .map(|item| format!("{:?} {}", item.kind, item.label)),
                );
                lines.join("\n")
            }
            None => "no completions".to_owned(),
        };
        expect.assert_eq(&actual);
    }

    /// Renders only the labels, for lists whose full content another test pins.
    fn labels(fixture: &str) -> Vec<String> {
        let (text, offset) = fixture::cursor(fixture);
        let file = SourceFile::parse(&text);
        completions(&Analysis::new(Catalog::get()), &file, offset)
            .map(|completions| {
                completions
                    .items
                    .into_iter()
                    .map(|item| item.label)
                    .collect()
            })
            .unwrap_or_default()
    }

    #[test]
    fn completion_operators_after_pipe() {
        check(
            "SecurityEvent\n| $0",
            expect![[r#"
                replace ""
                Operator as
                Operator consume
                Operator count
                Operator datatable
                Operator distinct
                Operator evaluate
                Operator extend
                Snippet extend … = …
                Operator externaldata
                Operator facet
                Operator filter
                Operator find
                Operator fork
                Operator getschema
                Operator graph-match
                Operator graph-to-table
                Operator invoke
                Operator join
                Snippet join kind=… (…) on …
                Operator limit
                Operator lookup
                Operator macro-expand
                Operator make-graph
                Operator make-series
                Operator mv-apply
                Operator mv-expand
                Snippet mv-expand … to typeof(…)
                Operator mvapply
                Operator mvexpand
                Operator order
                Operator parse
                Operator parse-kv
                Operator parse-where
                Operator partition
                Operator print
                Operator project
                Operator project-away
                Operator project-keep
                Operator project-rename
                Operator project-reorder
                Operator range
                Operator reduce
                Operator render
                Snippet render timechart
                Operator sample
                Operator sample-distinct
                Operator scan
                Operator search
                Operator serialize
                Operator sort
                Operator summarize
                Snippet summarize … by bin(…)
                Snippet summarize … by …
                Operator take
                Operator top
                Snippet top … by …
                Operator top-hitters
                Operator top-nested
                Operator union
                Operator where
                Snippet where … has …"#]],
        );
    }

    #[test]
    fn completion_operator_prefix_with_hyphen() {
        let (text, offset) = fixture::cursor("T | mv-ex$0");
        let file = SourceFile::parse(&text);
        let completions = completions(&Analysis::new(Catalog::get()), &file, offset).unwrap();
        assert_eq!(&text[completions.replace], "mv-ex");
        assert!(
            completions
                .items
                .iter()
                .any(|item| item.label == "mv-expand")
        );
    }

    #[test]
    fn completion_operator_detail_is_one_line() {
        let (text, offset) = fixture::cursor("T | $0");
        let file = SourceFile::parse(&text);
        let completions = completions(&Analysis::new(Catalog::get()), &file, offset).unwrap();
        for item in &completions.items {
            assert!(!item.detail.is_empty(), "{} has no detail", item.label);
            assert!(
                !item.detail.contains('\n'),
                "{} detail spans lines",
                item.label
            );
        }
    }

    #[test]
    fn completion_functions_in_where() {
        let labels = labels("T | where is$0");
        assert!(labels.contains(&"isempty".to_owned()), "{labels:?}");
        assert!(
            !labels.contains(&"dcount".to_owned()),
            "aggregates outside summarize: {labels:?}"
        );
        assert!(
            !labels.contains(&"where".to_owned()),
            "operators in an expression: {labels:?}"
        );
    }

    #[test]
    fn completion_aggregates_in_summarize() {
        let labels = labels("T | summarize n = $0 by Account");
        assert!(labels.contains(&"dcount".to_owned()), "{labels:?}");
        assert!(labels.contains(&"tolower".to_owned()), "{labels:?}");
    }

    #[test]
    fn completion_query_start_operators() {
        let labels = labels("let x = 1;\npr$0");
        assert!(labels.contains(&"print".to_owned()), "{labels:?}");
        assert!(!labels.contains(&"where".to_owned()), "{labels:?}");
    }

    #[test]
    fn completion_none_in_string_or_comment() {
        check("T | where x == 'ab$0'", expect!["no completions"]);
        check("T // note $0", expect!["no completions"]);
        check("T | where x == \"open$0", expect!["no completions"]);
    }

    #[test]
    fn completion_function_detail_counts_overloads() {
        let functions = items_of_kind("T | extend x = bi$0", CompletionKind::Function);
        assert!(
            functions.contains(
                &"bin: bin(value: number, roundTo: number): number (+3 overloads)".to_owned()
            ),
            "{functions:?}"
        );
        assert!(
            functions.contains(&"tolower: tolower(value: scalar): string".to_owned()),
            "{functions:?}"
        );
        let plugins = items_of_kind("T | evaluate bag$0", CompletionKind::Plugin);
        assert!(
            plugins
                .iter()
                .any(|item| item.starts_with("bag_unpack: bag_unpack(column: scalar")),
            "{plugins:?}"
        );
    }

    /// Renders the items of one kind as `label: detail`.
    fn items_of_kind(fixture: &str, kind: CompletionKind) -> Vec<String> {
        let (text, offset) = fixture::cursor(fixture);
        let file = SourceFile::parse(&text);
        completions(&Analysis::new(Catalog::get()), &file, offset)
            .map(|completions| {
                completions
                    .items
                    .into_iter()
                    .filter(|item| item.kind == kind)
                    .map(|item| format!("{}: {}", item.label, item.detail))
                    .collect()
            })
            .unwrap_or_default()
    }

    #[test]
    fn completion_columns_after_where() {
        let columns = items_of_kind(
            "SecurityEvent\n| project TimeGenerated, Account, EventID\n| where $0",
            CompletionKind::Column,
        );
        assert_eq!(
            columns,
            ["Account: string", "EventID: int", "TimeGenerated: datetime"]
        );
    }

    #[test]
    fn completion_columns_after_summarize() {
        let columns = items_of_kind(
            "SecurityEvent\n| summarize count(), Hosts = dcount(Computer) by Account, bin(TimeGenerated, 1h)\n| project $0",
            CompletionKind::Column,
        );
        assert_eq!(
            columns,
            [
                "Account: string",
                "Hosts: long",
                "TimeGenerated: datetime",
                "count_: long"
            ]
        );
    }

    #[test]
    fn completion_columns_in_by_and_arguments() {
        let by = items_of_kind(
            "SigninLogs | project UserPrincipalName, IPAddress | summarize count() by $0",
            CompletionKind::Column,
        );
        assert_eq!(by, ["IPAddress: string", "UserPrincipalName: string"]);
        let argument = items_of_kind(
            "SigninLogs | project UserPrincipalName, IPAddress | extend u = tolower($0)",
            CompletionKind::Column,
        );
        assert_eq!(argument, ["IPAddress: string", "UserPrincipalName: string"]);
    }

    #[test]
    fn completion_columns_bracketed_when_needed() {
        let columns = items_of_kind(
            "print ['Account Name'] = 'x', Plain = 1\n| where $0",
            CompletionKind::Column,
        );
        assert_eq!(columns, ["Plain: long", "['Account Name']: string"]);
    }

    #[test]
    fn completion_tables_and_lets_at_query_start() {
        let tables = items_of_kind("let recent = 1h;\nSecurityEv$0", CompletionKind::Table);
        assert!(
            tables
                .iter()
                .any(|table| table.starts_with("SecurityEvent: table")),
            "{tables:?}"
        );
        let variables = items_of_kind("let recent = 1h;\nSecurityEv$0", CompletionKind::Variable);
        assert_eq!(variables, ["recent: timespan"]);
    }

    #[test]
    fn completion_none_after_member_access() {
        for fixture in [
            "SigninLogs\n| extend c = LocationDetails.$0",
            "SigninLogs\n| where Status.$0",
            "SigninLogs\n| where Status.err$0",
            "SigninLogs\n| project LocationDetails.geoCoordinates.$0",
        ] {
            assert_eq!(labels(fixture), Vec::<String>::new(), "{fixture}");
        }
    }

    #[test]
    fn completion_columns_after_join_side() {
        let fixture = "SigninLogs\n| join (AADNonInteractiveUserSignInLogs) on $left.$0";
        let columns = items_of_kind(fixture, CompletionKind::Column);
        assert!(
            columns
                .iter()
                .any(|column| column.starts_with("UserPrincipalName:")),
            "{columns:?}"
        );
    }

    #[test]
    fn completion_no_columns_on_call_name() {
        let columns = items_of_kind(
            "SecurityEvent | where $0isnotempty(Account)",
            CompletionKind::Column,
        );
        assert!(columns.is_empty(), "{columns:?}");
    }

    #[test]
    fn completion_after_multibyte_character() {
        let (text, offset) = fixture::cursor("a]é$0x");
        let file = SourceFile::parse(&text);
        let completions = completions(&Analysis::new(Catalog::get()), &file, offset).unwrap();
        assert_eq!(completions.replace, offset..offset);
    }

    #[test]
    fn completion_join_kinds_after_kind() {
        let kinds = labels("SecurityEvent\n| join kind=$0 (SigninLogs) on Account");
        assert_eq!(kinds.len(), 9);
        assert!(kinds.contains(&"leftanti".to_owned()), "{kinds:?}");
        assert!(kinds.contains(&"innerunique".to_owned()), "{kinds:?}");
        assert!(!kinds.contains(&"Account".to_owned()), "{kinds:?}");
    }

    #[test]
    fn completion_join_parameters_and_on() {
        let at_start = items_of_kind("SecurityEvent\n| join $0", CompletionKind::Keyword);
        assert!(
            at_start.iter().any(|item| item.starts_with("kind=:")),
            "{at_start:?}"
        );
        assert!(
            at_start
                .iter()
                .any(|item| item.starts_with("hint.strategy=:")),
            "{at_start:?}"
        );

        let after_right = items_of_kind(
            "SecurityEvent\n| join kind=inner (SigninLogs) $0",
            CompletionKind::Keyword,
        );
        assert!(
            after_right.iter().any(|item| item.starts_with("on:")),
            "{after_right:?}"
        );

        let after_on = items_of_kind(
            "SecurityEvent\n| join kind=inner (SigninLogs) on $0",
            CompletionKind::Keyword,
        );
        assert_eq!(after_on, Vec::<String>::new());
    }

    #[test]
    fn completion_hint_values() {
        assert_eq!(
            labels("T\n| join hint.strategy=$0"),
            ["broadcast", "shuffle"]
        );
        assert_eq!(
            labels("T\n| join hint.remote = $0"),
            ["auto", "left", "local", "right"]
        );
    }

    #[test]
    fn completion_render_kinds_and_properties() {
        let charts =
            labels("SecurityEvent\n| summarize count() by bin(TimeGenerated, 1h)\n| render $0");
        assert!(charts.contains(&"timechart".to_owned()), "{charts:?}");
        assert!(charts.contains(&"piechart".to_owned()), "{charts:?}");
        assert_eq!(charts.len(), 15);

        assert_eq!(labels("T\n| render timechart $0"), ["with"]);

        let properties = labels("T\n| render timechart with (title=\"x\", $0");
        assert!(
            properties.contains(&"ycolumns".to_owned()),
            "{properties:?}"
        );
        assert!(!properties.contains(&"title".to_owned()), "{properties:?}");

        assert_eq!(
            labels("T\n| render timechart with (legend=$0"),
            ["hidden", "visible"]
        );
        assert_eq!(
            labels("T\n| render columnchart with (kind=$0"),
            ["default", "map", "stacked", "stacked100", "unstacked"]
        );
    }

    #[test]
    fn completion_by_keyword() {
        let summarize = items_of_kind(
            "SecurityEvent\n| summarize count() $0",
            CompletionKind::Keyword,
        );
        assert!(
            summarize.iter().any(|item| item.starts_with("by:")),
            "{summarize:?}"
        );

        let after_by = items_of_kind(
            "SecurityEvent\n| summarize count() by $0",
            CompletionKind::Keyword,
        );
        assert_eq!(after_by, Vec::<String>::new());

        assert_eq!(labels("SecurityEvent\n| sort $0"), ["by"]);
    }

    #[test]
    fn completion_string_operators_after_string_column() {
        let operators = labels("SecurityEvent\n| where Account $0");
        assert!(operators.contains(&"has".to_owned()), "{operators:?}");
        assert!(
            operators.contains(&"startswith".to_owned()),
            "{operators:?}"
        );
        assert!(operators.contains(&"=~".to_owned()), "{operators:?}");
        assert!(!operators.contains(&"Account".to_owned()), "{operators:?}");

        let after_literal = labels("SecurityEvent\n| where \"x\" $0");
        assert!(
            after_literal.contains(&"in~".to_owned()),
            "{after_literal:?}"
        );
    }

    #[test]
    fn completion_no_string_operators_after_number_column() {
        let items = labels("SecurityEvent\n| where EventID $0");
        assert!(!items.contains(&"has".to_owned()), "{items:?}");
    }

    #[test]
    fn completion_operator_snippets_after_pipe() {
        let (text, offset) = fixture::cursor("SecurityEvent\n| $0");
        let file = SourceFile::parse(&text);
        let completions = completions(&Analysis::new(Catalog::get()), &file, offset).unwrap();
        let snippets: Vec<&CompletionItem> = completions
            .items
            .iter()
            .filter(|item| item.kind == CompletionKind::Snippet)
            .collect();
        assert_eq!(snippets.len(), OPERATOR_SNIPPETS.len());
        let join = snippets
            .iter()
            .find(|item| item.label.starts_with("join"))
            .unwrap();
        assert!(
            join.snippet.as_deref().unwrap().contains("${3:column}"),
            "{join:?}"
        );
        let operators = completions
            .items
            .iter()
            .filter(|item| item.kind == CompletionKind::Operator);
        assert!(operators.clone().all(|item| item.snippet.is_none()));
        assert!(operators.count() > 50);
    }

    #[test]
    fn completion_no_snippets_at_query_start() {
        let items = items_of_kind("$0", CompletionKind::Snippet);
        assert_eq!(items, Vec::<String>::new());
    }

    #[test]
    fn completion_lets_after_unfinished_comparison() {
        let fixture =
            "let cutoff = ago(1d);\nlet minimum = 5;\nSecurityEvent\n| where TimeGenerated > $0";
        let variables = items_of_kind(fixture, CompletionKind::Variable);
        assert_eq!(variables, ["cutoff: datetime", "minimum: long"]);
        let columns = items_of_kind(fixture, CompletionKind::Column);
        assert!(
            columns
                .iter()
                .any(|column| column == "TimeGenerated: datetime"),
            "{columns:?}"
        );
    }

    #[test]
    fn completion_lets_end_at_blank_line() {
        let fixture = "let cutoff = ago(1d);\nSecurityEvent\n| where TimeGenerated > \n\n$0";
        let variables = items_of_kind(fixture, CompletionKind::Variable);
        assert_eq!(variables, Vec::<String>::new());

        let unparsed = "let cutoff = ago(1d);\nSecurityEvent\n| make-series count() on $0";
        let variables = items_of_kind(unparsed, CompletionKind::Variable);
        assert_eq!(variables, ["cutoff: datetime"]);
    }

    #[test]
    fn completion_columns_after_make_series_on() {
        let projected = "SecurityEvent\n| project TimeGenerated, Account, EventID\n";
        let on = items_of_kind(
            &format!("{projected}| make-series count() on $0"),
            CompletionKind::Column,
        );
        assert_eq!(
            on,
            ["TimeGenerated: datetime", "EventID: int", "Account: string"]
        );

        let by = items_of_kind(
            &format!("{projected}| make-series count() on TimeGenerated by $0"),
            CompletionKind::Column,
        );
        assert_eq!(
            by,
            ["Account: string", "EventID: int", "TimeGenerated: datetime"]
        );

        let from_table = items_of_kind(
            "SecurityEvent\n| make-series count() on $0",
            CompletionKind::Column,
        );
        assert!(
            from_table.contains(&"TimeGenerated: datetime".to_owned()),
            "{from_table:?}"
        );
    }

    #[test]
    fn completion_columns_after_top_nested_of() {
        let projected = "SecurityEvent\n| project TimeGenerated, Account, EventID\n";
        let first = items_of_kind(
            &format!("{projected}| top-nested 3 of $0"),
            CompletionKind::Column,
        );
        assert_eq!(
            first,
            ["Account: string", "EventID: int", "TimeGenerated: datetime"]
        );

        let second = items_of_kind(
            &format!("{projected}| top-nested 3 of Account by count(), top-nested 2 of $0"),
            CompletionKind::Column,
        );
        assert_eq!(
            second,
            ["Account: string", "EventID: int", "TimeGenerated: datetime"]
        );
    }

    #[test]
    fn completion_columns_in_unclosed_subquery() {
        let join = items_of_kind(
            "SecurityEvent\n| join kind=inner (SigninLogs | project IPAddress, UserPrincipalName | where $0",
            CompletionKind::Column,
        );
        assert_eq!(join, ["IPAddress: string", "UserPrincipalName: string"]);

        let unparsed = items_of_kind(
            "SecurityEvent\n| join kind=inner (SigninLogs | project IPAddress | top-nested 3 of $0",
            CompletionKind::Column,
        );
        assert_eq!(unparsed, ["IPAddress: string"]);

        let in_list = items_of_kind(
            "let cutoff = ago(1d);\nSecurityEvent\n| where Account in (SigninLogs | project Id, IPAddress | where IP$0",
            CompletionKind::Column,
        );
        assert_eq!(in_list, ["IPAddress: string", "Id: string"]);
    }

    #[test]
    fn completion_operator_after_closed_subquery() {
        let fixture = "SigninLogs\n| extend n = toscalar(SecurityEvent | summarize count()) + $0";
        let aggregates = items_of_kind(fixture, CompletionKind::Aggregate);
        assert_eq!(aggregates, Vec::<String>::new());
        let keywords = items_of_kind(fixture, CompletionKind::Keyword);
        assert_eq!(keywords, Vec::<String>::new());
    }

    #[test]
    fn completion_columns_in_unparsed_subquery_operator() {
        let columns = items_of_kind(
            "SecurityEvent\n| join (SigninLogs | project IPAddress | make-series count() on $0) on IPAddress",
            CompletionKind::Column,
        );
        assert_eq!(columns, ["IPAddress: string"]);

        // A pipe inside closed brackets does not start the operator at the cursor.
        let after_subquery = items_of_kind(
            "SigninLogs\n| project IPAddress\n| extend n = toscalar(SecurityEvent | count) + $0",
            CompletionKind::Column,
        );
        assert_eq!(after_subquery, ["IPAddress: string"]);
    }
}
