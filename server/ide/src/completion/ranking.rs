//! The order of completion items: the `sort_text` that editors sort by, and the order of the
//! returned list, which follows it for clients that ignore `sortText`.
//!
//! What ranks first depends on the position. Where an aggregation goes (`| summarize `) the
//! aggregates lead, the common ones first, then columns, then scalar functions. In other
//! expressions (`| where `, `| extend `, `by `) columns lead. After `make-series ... on ` the
//! datetime columns lead, then the numeric ones, since the series axis must have one of those
//! types. At the start of a query `let` names and tables lead, and after `|` the operators.

use std::ops::Range;

use quarry_analysis::ScalarType;

use super::{CompletionItem, CompletionKind};
use crate::SourceFile;
use crate::lexer::TokenKind;

/// The kind of position the cursor is in, which decides the order of the items.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Context {
    /// The start of a query, where `let` names, tables and the operators that start a query go.
    QueryStart,
    /// After `|`, where a tabular operator goes.
    AfterPipe,
    /// A position for an aggregation: the top level of `summarize` before `by`, of
    /// `make-series` before `on`, and of `top-nested` after `by`.
    Aggregation,
    /// The axis column of `make-series`, after its `on`.
    SeriesAxis,
    /// Any other expression, such as the arguments of `where`, `extend` and `project`, the
    /// columns after `by`, and the arguments of a call.
    Expression,
}

/// The aggregates hunting queries use most, in the order they are offered where an
/// aggregation goes. The other aggregates follow in alphabetical order.
const COMMON_AGGREGATES: [&str; 16] = [
    "count",
    "dcount",
    "countif",
    "dcountif",
    "sum",
    "sumif",
    "avg",
    "min",
    "max",
    "arg_max",
    "arg_min",
    "make_set",
    "make_list",
    "take_any",
    "percentile",
    "percentiles",
];

/// Sets each item's `sort_text` for `context` and returns the items in that order.
pub(super) fn ranked(
    items: impl Iterator<Item = CompletionItem>,
    context: Context,
) -> Vec<CompletionItem> {
    let mut items: Vec<CompletionItem> = items
        .map(|mut item| {
            item.sort_text = sort_text(&item, context);
            item
        })
        .collect();
    // The label breaks ties, so a name that is both a variable and a column keeps both items in
    // a stable order.
    items.sort_by(|a, b| a.sort_text.cmp(&b.sort_text).then(a.label.cmp(&b.label)));
    items
}

/// Returns the group digit, then for common aggregates their two-digit rank, then the label.
fn sort_text(item: &CompletionItem, context: Context) -> String {
    let group = if context == Context::SeriesAxis && item.kind == CompletionKind::Column {
        // A column item's detail is its type name. Time axes are the common case.
        match ScalarType::parse(&item.detail) {
            Some(ScalarType::DateTime) => '1',
            Some(ty) if ty.is_numeric() => '2',
            _ => '3',
        }
    } else {
        group(item.kind, context)
    };
    if context == Context::Aggregation && item.kind == CompletionKind::Aggregate {
        let rank = COMMON_AGGREGATES
            .iter()
            .position(|name| *name == item.label)
            .unwrap_or(COMMON_AGGREGATES.len());
        return format!("{group}{rank:02}{}", item.label);
    }
    format!("{group}{}", item.label)
}

fn group(kind: CompletionKind, context: Context) -> char {
    use CompletionKind::*;
    match context {
        Context::QueryStart => match kind {
            Variable => '0',
            Table => '1',
            Operator | Snippet => '2',
            _ => '3',
        },
        Context::AfterPipe => match kind {
            Operator | Snippet => '0',
            _ => '1',
        },
        Context::Aggregation => match kind {
            Keyword | Value => '0',
            Aggregate => '1',
            Column => '2',
            Variable => '3',
            Function => '4',
            _ => '5',
        },
        Context::SeriesAxis => match kind {
            Keyword | Value => '0',
            // `sort_text` ranks columns '1' to '3' by type.
            Column => '3',
            Variable => '4',
            Function | Aggregate | Plugin => '5',
            _ => '6',
        },
        Context::Expression => match kind {
            Keyword | Value => '0',
            Column => '1',
            Variable => '2',
            Function | Aggregate | Plugin => '3',
            _ => '4',
        },
    }
}

/// The cursor's place inside the arguments of an aggregating operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct AggregatePosition {
    /// Aggregates are valid here: not after `by` in `summarize`, nor after `on` in
    /// `make-series`.
    pub allowed: bool,
    /// An aggregation is expected here, at the top level of the arguments rather than inside a
    /// call or brackets.
    pub expected: bool,
}

/// Classifies `start`, which lies in the arguments of `operator` after `operator_end`, for an
/// operator that takes aggregates (`summarize`, `make-series`, `top-nested`, `count`).
pub(super) fn aggregate_position(
    file: &SourceFile,
    operator: &str,
    operator_end: usize,
    start: usize,
) -> AggregatePosition {
    let (words, nested) = top_level_words(file, operator_end..start);
    let has = |word: &str| words.contains(&word);
    match operator {
        "summarize" => AggregatePosition {
            allowed: !has("by"),
            expected: !nested && !has("by"),
        },
        "make-series" => AggregatePosition {
            allowed: !has("on"),
            expected: !nested && !has("on"),
        },
        "top-nested" => {
            // `top-nested 3 of Account by count(), top-nested 2 of Computer by ...`: the
            // aggregation follows each clause's `by`.
            let last_clause_word = words
                .iter()
                .rev()
                .find(|word| matches!(**word, "of" | "by"));
            AggregatePosition {
                allowed: true,
                expected: !nested && last_clause_word == Some(&"by"),
            }
        }
        _ => AggregatePosition {
            allowed: true,
            expected: false,
        },
    }
}

/// Checks whether `start`, in the arguments of `make-series` after `operator_end`, is the axis
/// column: after `on` and before `from`, `to`, `step` and `by`, outside brackets.
pub(super) fn is_series_axis(file: &SourceFile, operator_end: usize, start: usize) -> bool {
    let (words, nested) = top_level_words(file, operator_end..start);
    let last_clause_word = words
        .iter()
        .rev()
        .find(|word| matches!(**word, "on" | "from" | "to" | "step" | "by"));
    !nested && last_clause_word == Some(&"on")
}

/// Returns the names outside brackets in `range`, and whether the end of `range` lies inside
/// brackets opened within it.
fn top_level_words(file: &SourceFile, range: Range<usize>) -> (Vec<&str>, bool) {
    let text = file.text();
    let tokens = file.tokens();
    let first = tokens.partition_point(|token| token.end <= range.start);
    let mut depth = 0usize;
    let mut words = Vec::new();
    for token in tokens[first..]
        .iter()
        .take_while(|token| token.end <= range.end)
    {
        match token.kind {
            TokenKind::OpenParen | TokenKind::OpenBracket | TokenKind::OpenBrace => depth += 1,
            TokenKind::CloseParen | TokenKind::CloseBracket | TokenKind::CloseBrace => {
                depth = depth.saturating_sub(1);
            }
            TokenKind::Ident if depth == 0 => words.push(token.text(text)),
            _ => {}
        }
    }
    (words, depth > 0)
}

#[cfg(test)]
mod tests {
    use quarry_analysis::Catalog;

    use super::super::completions;
    use super::*;
    use crate::{Analysis, fixture};

    /// Returns the completion items at the `$0` cursor, in list order.
    fn items(fixture: &str) -> Vec<CompletionItem> {
        let (text, offset) = fixture::cursor(fixture);
        let file = SourceFile::parse(&text);
        completions(&Analysis::new(Catalog::get()), &file, offset)
            .expect("completions at the cursor")
            .items
    }

    /// Renders the first `count` items as `Kind label`.
    fn top(fixture: &str, count: usize) -> Vec<String> {
        items(fixture)
            .iter()
            .take(count)
            .map(|item| format!("{:?} {}", item.kind, item.label))
            .collect()
    }

    /// Returns the kinds of the items in list order, with each run of one kind merged.
    fn kind_runs(fixture: &str) -> Vec<CompletionKind> {
        let mut runs = items(fixture)
            .iter()
            .map(|item| item.kind)
            .collect::<Vec<_>>();
        runs.dedup();
        runs
    }

    fn assert_sorted_by_sort_text(fixture: &str) {
        let items = items(fixture);
        for pair in items.windows(2) {
            assert!(
                pair[0].sort_text <= pair[1].sort_text,
                "{fixture}: {:?} ({}) is listed before {:?} ({})",
                pair[0].label,
                pair[0].sort_text,
                pair[1].label,
                pair[1].sort_text
            );
        }
    }

    #[test]
    fn summarize_offers_common_aggregates_first() {
        assert_eq!(
            top("SecurityEvent\n| summarize $0", 6),
            [
                "Aggregate count",
                "Aggregate dcount",
                "Aggregate countif",
                "Aggregate dcountif",
                "Aggregate sum",
                "Aggregate sumif"
            ]
        );
        assert_eq!(
            top("SecurityEvent\n| summarize failures = $0", 1),
            ["Aggregate count"]
        );
        assert_eq!(
            top("SecurityEvent\n| summarize count(), $0", 1),
            ["Aggregate count"]
        );
    }

    #[test]
    fn summarize_ranks_aggregates_columns_functions() {
        assert_eq!(
            kind_runs("SecurityEvent\n| summarize $0"),
            [
                CompletionKind::Aggregate,
                CompletionKind::Column,
                CompletionKind::Function
            ]
        );
    }

    #[test]
    fn summarize_by_offers_columns_without_aggregates() {
        let fixture = "SecurityEvent\n| summarize count() by $0";
        assert_eq!(top(fixture, 1), ["Column AccessMask"]);
        assert_eq!(
            kind_runs(fixture),
            [CompletionKind::Column, CompletionKind::Function]
        );
        let after_bin = kind_runs("SecurityEvent\n| summarize count() by bin($0");
        assert_eq!(after_bin[0], CompletionKind::Column);
        assert!(!after_bin.contains(&CompletionKind::Aggregate));
    }

    #[test]
    fn aggregate_argument_offers_columns_first() {
        assert_eq!(
            top("SecurityEvent\n| summarize dcount($0", 1),
            ["Column AccessMask"]
        );
    }

    #[test]
    fn where_extend_project_offer_columns_first() {
        for fixture in [
            "SecurityEvent\n| where $0",
            "SecurityEvent\n| extend Recent = $0",
            "SecurityEvent\n| project $0",
            "SecurityEvent\n| project Account, $0",
        ] {
            assert_eq!(top(fixture, 1), ["Column AccessMask"], "{fixture}");
            assert_eq!(
                kind_runs(fixture),
                [CompletionKind::Column, CompletionKind::Function],
                "{fixture}"
            );
        }
    }

    #[test]
    fn where_offers_variables_after_columns() {
        let fixture = "let since = ago(1h);\nSecurityEvent\n| where $0 > 1\n";
        assert_eq!(
            kind_runs(fixture),
            [
                CompletionKind::Column,
                CompletionKind::Variable,
                CompletionKind::Function
            ]
        );
    }

    #[test]
    fn query_start_offers_lets_then_tables() {
        let fixture = "let recent = 1h;\nr$0";
        assert_eq!(top(fixture, 1), ["Variable recent"]);
        assert_eq!(
            kind_runs(fixture),
            [
                CompletionKind::Variable,
                CompletionKind::Table,
                CompletionKind::Operator
            ]
        );
    }

    #[test]
    fn after_pipe_offers_operators() {
        let runs = kind_runs("SecurityEvent\n| $0");
        assert!(
            runs.iter()
                .all(|kind| matches!(kind, CompletionKind::Operator | CompletionKind::Snippet)),
            "{runs:?}"
        );
    }

    #[test]
    fn make_series_and_top_nested_aggregations() {
        assert_eq!(
            top("SecurityEvent\n| make-series $0", 1),
            ["Aggregate count"]
        );
        let after_on = kind_runs("SecurityEvent\n| make-series count() on $0 step 1h");
        assert!(
            !after_on.contains(&CompletionKind::Aggregate),
            "{after_on:?}"
        );

        assert_eq!(
            top("SecurityEvent\n| top-nested 3 of Account by $0", 1),
            ["Aggregate count"]
        );
        // Before `by` the clause names its column, so aggregates do not lead.
        let before_by = kind_runs("SecurityEvent\n| top-nested 3 of $0 by count()");
        assert_ne!(before_by[0], CompletionKind::Aggregate, "{before_by:?}");
    }

    #[test]
    fn make_series_axis_ranks_datetime_first() {
        let fixture = "SecurityEvent\n| project Account, EventID, TimeGenerated\n| make-series count() on $0 step 1h";
        assert_eq!(
            top(fixture, 3),
            ["Column TimeGenerated", "Column EventID", "Column Account"]
        );
        assert_eq!(
            kind_runs(fixture),
            [CompletionKind::Column, CompletionKind::Function]
        );

        // After `by` the group columns follow the usual order.
        let by = "SecurityEvent\n| project Account, EventID, TimeGenerated\n| make-series count() on TimeGenerated step 1h by $0";
        assert_eq!(top(by, 1), ["Column Account"]);
        // Inside a call on the axis, such as `bin(`, the column types do not decide the order.
        let in_call =
            "SecurityEvent\n| project Account, TimeGenerated\n| make-series count() on bin($0";
        assert_eq!(top(in_call, 1), ["Column Account"]);
    }

    #[test]
    fn by_keyword_leads_after_aggregate() {
        assert_eq!(
            top("SecurityEvent\n| summarize count() $0", 2),
            ["Keyword by", "Aggregate count"]
        );
    }

    #[test]
    fn list_order_follows_sort_text() {
        for fixture in [
            "SecurityEvent\n| summarize $0",
            "SecurityEvent\n| summarize count() by $0",
            "SecurityEvent\n| where $0",
            "let recent = 1h;\nr$0",
            "SecurityEvent\n| $0",
            "SecurityEvent\n| join kind=$0",
            "SecurityEvent\n| make-series count() on $0",
        ] {
            assert_sorted_by_sort_text(fixture);
        }
    }
}
