//! Completion of the words that depend on where the cursor sits in an operator: join kinds and
//! hints, render chart types and `with` properties, the `by`, `on` and `with` keywords, and the
//! string operators after a string operand.

use super::{CompletionItem, CompletionKind, item};
use crate::SourceFile;
use crate::cursor;
use crate::lexer::TokenKind;

/// Words offered at the cursor, and whether they replace the usual expression items.
pub(super) enum Contextual {
    /// Only these items fit, such as the chart types after `render`.
    Only(Vec<CompletionItem>),
    /// These items fit next to the usual columns, variables and functions.
    Extra(Vec<CompletionItem>),
}

const JOIN_KINDS: [(&str, &str); 9] = [
    (
        "innerunique",
        "Inner join after removing duplicate left keys (the default)",
    ),
    ("inner", "Inner join, every matching pair of rows"),
    (
        "leftouter",
        "Every left row, with right columns empty where nothing matches",
    ),
    (
        "rightouter",
        "Every right row, with left columns empty where nothing matches",
    ),
    ("fullouter", "Every row of both sides"),
    ("leftanti", "Left rows that have no match on the right"),
    ("rightanti", "Right rows that have no match on the left"),
    (
        "leftsemi",
        "Left rows that have a match on the right, left columns only",
    ),
    (
        "rightsemi",
        "Right rows that have a match on the left, right columns only",
    ),
];

const LOOKUP_KINDS: [(&str, &str); 2] = [
    (
        "leftouter",
        "Every left row, with right columns empty where nothing matches (the default)",
    ),
    ("inner", "Only left rows that have a match on the right"),
];

const JOIN_PARAMETERS: [(&str, &str); 3] = [
    (
        "kind=",
        "The join flavor: innerunique, inner, leftouter, leftanti, ...",
    ),
    (
        "hint.strategy=",
        "How the join is distributed: broadcast or shuffle",
    ),
    (
        "hint.remote=",
        "Where a cross-cluster join runs: auto, left, local or right",
    ),
];

const CHART_TYPES: [(&str, &str); 15] = [
    (
        "anomalychart",
        "Time chart that marks the anomalies of anomalycolumns",
    ),
    (
        "areachart",
        "Area graph: first column on the x-axis, numeric columns on the y-axis",
    ),
    (
        "barchart",
        "Horizontal bars: first column on the y-axis, numeric columns as bars",
    ),
    ("card", "The first value of the result"),
    (
        "columnchart",
        "Vertical columns: first column on the x-axis",
    ),
    (
        "ladderchart",
        "Intervals from the last two columns, one row per series",
    ),
    ("linechart", "Line graph: first column on the x-axis"),
    (
        "piechart",
        "Pie: the first column is the slice label, the second its size",
    ),
    ("pivotchart", "Pivot table and chart"),
    ("scatterchart", "Points: first column on the x-axis"),
    ("stackedareachart", "Stacked area graph"),
    ("table", "Results as a table (the default)"),
    (
        "timechart",
        "Line graph over time: the first datetime column is the x-axis",
    ),
    (
        "timepivot",
        "Interactive navigation over the events time line",
    ),
    ("treemap", "Nested rectangles sized by a numeric column"),
];

const RENDER_PROPERTIES: [(&str, &str); 15] = [
    (
        "accumulate",
        "Whether each y value adds the values before it: true or false",
    ),
    (
        "anomalycolumns",
        "Columns whose values are anomalies, for anomalychart",
    ),
    (
        "kind",
        "Chart variant: default, stacked, stacked100, unstacked or map",
    ),
    ("legend", "Whether the legend shows: visible or hidden"),
    ("series", "Columns whose combined values name a series"),
    ("title", "Title of the chart"),
    ("xaxis", "Scale of the x-axis: linear or log"),
    ("xcolumn", "Column on the x-axis"),
    ("xtitle", "Title of the x-axis"),
    ("yaxis", "Scale of the y-axis: linear or log"),
    ("ycolumns", "Columns on the y-axis"),
    ("ymax", "Largest value on the y-axis"),
    ("ymin", "Smallest value on the y-axis"),
    ("ysplit", "How y columns split: none, axes or panels"),
    ("ytitle", "Title of the y-axis"),
];

const STRING_OPERATORS: [(&str, &str); 23] = [
    ("==", "Equals, case-sensitive"),
    ("!=", "Does not equal, case-sensitive"),
    ("=~", "Equals, case-insensitive"),
    ("!~", "Does not equal, case-insensitive"),
    (
        "has",
        "Contains the whole term, case-insensitive (uses the term index)",
    ),
    ("!has", "Does not contain the whole term, case-insensitive"),
    ("has_cs", "Contains the whole term, case-sensitive"),
    ("!has_cs", "Does not contain the whole term, case-sensitive"),
    (
        "hasprefix",
        "Contains a term that starts with the value, case-insensitive",
    ),
    (
        "hassuffix",
        "Contains a term that ends with the value, case-insensitive",
    ),
    ("contains", "Contains the substring, case-insensitive"),
    (
        "!contains",
        "Does not contain the substring, case-insensitive",
    ),
    ("contains_cs", "Contains the substring, case-sensitive"),
    ("startswith", "Starts with the value, case-insensitive"),
    (
        "!startswith",
        "Does not start with the value, case-insensitive",
    ),
    ("endswith", "Ends with the value, case-insensitive"),
    ("!endswith", "Does not end with the value, case-insensitive"),
    ("in", "Equals one of the listed values, case-sensitive"),
    ("!in", "Equals none of the listed values, case-sensitive"),
    ("in~", "Equals one of the listed values, case-insensitive"),
    (
        "has_any",
        "Contains any of the listed terms, case-insensitive",
    ),
    (
        "has_all",
        "Contains all of the listed terms, case-insensitive",
    ),
    ("matches regex", "Matches the RE2 regular expression"),
];

/// Operators that take a `by` clause.
const BY_OPERATORS: [&str; 7] = [
    "summarize",
    "make-series",
    "top",
    "top-nested",
    "sort",
    "order",
    "partition",
];

/// Returns the contextual words at `start`, the start of the name being typed, inside the
/// arguments of `operator`. `operator_end` is where the operator's name ends.
/// `string_columns` names the string-typed columns reaching the operator.
pub(super) fn contextual(
    file: &SourceFile,
    start: usize,
    operator: &str,
    operator_end: usize,
    string_columns: &[String],
) -> Option<Contextual> {
    let text = file.text();
    let arguments = text.get(operator_end..start)?.trim();

    if let Some(assigned) = assigned_parameter(arguments) {
        let values: &[(&str, &str)] = match (operator, assigned) {
            ("join", "kind") => &JOIN_KINDS,
            ("lookup", "kind") => &LOOKUP_KINDS,
            (_, "hint.strategy") if operator == "join" => &[
                ("broadcast", "Send the smaller left side to every node"),
                ("shuffle", "Partition both sides by the join key"),
            ],
            (_, "hint.strategy") => &[("shuffle", "Partition the rows by the key")],
            (_, "hint.remote") => &[
                ("auto", "Let the engine choose (the default)"),
                ("left", "Run on the cluster of the left side"),
                ("local", "Run on the current cluster"),
                ("right", "Run on the cluster of the right side"),
            ],
            ("render", "kind") => &[
                ("default", "Each series on its own"),
                ("stacked", "Series stacked on each other"),
                ("stacked100", "Series stacked to 100%"),
                ("unstacked", "Series drawn over each other"),
                ("map", "Points on a world map, for scatterchart"),
            ],
            ("render", "legend") => &[("visible", "Show the legend"), ("hidden", "Hide it")],
            ("render", "xaxis" | "yaxis") => {
                &[("linear", "Linear scale"), ("log", "Logarithmic scale")]
            }
            ("render", "ysplit") => &[
                ("none", "One y-axis for all series"),
                ("axes", "One y-axis per series, in one chart"),
                ("panels", "One chart per y column"),
            ],
            ("render", "accumulate") => &[("true", "Accumulate"), ("false", "Do not accumulate")],
            _ => return None,
        };
        return Some(Contextual::Only(words(values, CompletionKind::Value)));
    }

    if operator == "render" {
        return render_words(arguments);
    }

    if let Some(items) = string_operators(file, start, string_columns) {
        return Some(Contextual::Only(items));
    }

    let has_word = |word: &str| arguments.split_whitespace().any(|part| part == word);
    if expects_operand(arguments) {
        return None;
    }
    let mut extra = Vec::new();
    if matches!(operator, "join" | "lookup") {
        if arguments.is_empty() || arguments.ends_with(')') && !has_word("on") {
            extra.extend(words(&JOIN_PARAMETERS, CompletionKind::Keyword));
        }
        if !arguments.is_empty() && !has_word("on") {
            extra.push(keyword(
                "on",
                "The columns that match rows of the two sides",
            ));
        }
    }
    if BY_OPERATORS.contains(&operator) && !has_word("by") {
        if matches!(operator, "sort" | "order") && arguments.is_empty() {
            return Some(Contextual::Only(vec![keyword(
                "by",
                "The columns to sort by",
            )]));
        }
        if !arguments.is_empty() {
            extra.push(keyword(
                "by",
                "The columns that form the groups or the order",
            ));
        }
    }
    if extra.is_empty() {
        None
    } else {
        Some(Contextual::Extra(extra))
    }
}

/// Checks whether `arguments` end where only an operand can follow, such as after `=`, `,`,
/// `(` or `on`, so that no keyword like `by` fits.
fn expects_operand(arguments: &str) -> bool {
    const OPERAND_BEFORE: [&str; 10] = [
        "by", "on", "of", "and", "or", "not", "with", "from", "to", "step",
    ];
    if arguments.ends_with([
        '=', ',', '(', '[', '+', '-', '*', '/', '%', '<', '>', '!', '~',
    ]) {
        return true;
    }
    arguments
        .split_whitespace()
        .next_back()
        .is_some_and(|last| OPERAND_BEFORE.contains(&last))
}

/// Returns the words after `render`: chart types, then `with`, then properties in `with (...)`.
fn render_words(arguments: &str) -> Option<Contextual> {
    if arguments.is_empty() {
        return Some(Contextual::Only(words(&CHART_TYPES, CompletionKind::Value)));
    }
    if let Some(open) = arguments.find('(') {
        if arguments[open..].contains(')') {
            return None;
        }
        let properties = &arguments[open + 1..];
        if !(properties.trim().is_empty() || properties.trim_end().ends_with(',')) {
            return None;
        }
        let used: Vec<&str> = properties
            .split(',')
            .filter_map(|part| part.split('=').next())
            .map(str::trim)
            .collect();
        let unused: Vec<(&str, &str)> = RENDER_PROPERTIES
            .into_iter()
            .filter(|(name, _)| !used.contains(name))
            .collect();
        return Some(Contextual::Only(words(&unused, CompletionKind::Keyword)));
    }
    let is_single_word = !arguments.contains(char::is_whitespace);
    if is_single_word {
        return Some(Contextual::Only(vec![keyword(
            "with",
            "Chart properties: with (title=..., ycolumns=...)",
        )]));
    }
    None
}

/// Returns the parameter name when `arguments` ends with `name=`, such as `kind=` or
/// `hint.strategy =`.
fn assigned_parameter(arguments: &str) -> Option<&str> {
    let before = arguments.strip_suffix('=')?.trim_end();
    if before.ends_with(['=', '!', '<', '>']) {
        return None;
    }
    let name_start = before
        .char_indices()
        .rev()
        .find(|&(_, c)| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
        .map_or(0, |(index, c)| index + c.len_utf8());
    let name = &before[name_start..];
    (!name.is_empty()).then_some(name)
}

/// Returns the string operators when the token before `start` ends a string operand: a string
/// literal or a string column, itself right after `where`, `and`, `or`, `not`, `(` or `,`.
fn string_operators(
    file: &SourceFile,
    start: usize,
    string_columns: &[String],
) -> Option<Vec<CompletionItem>> {
    let text = file.text();
    let tokens = file.tokens();
    let operand = cursor::significant_before(tokens, start)?;
    let operand_token = tokens[operand];
    let is_string_operand = match operand_token.kind {
        TokenKind::String => true,
        TokenKind::Ident => string_columns
            .iter()
            .any(|column| column == operand_token.text(text)),
        _ => false,
    };
    if !is_string_operand {
        return None;
    }
    let before = cursor::significant_before(tokens, operand_token.start)?;
    let before_token = tokens[before];
    let opens_operand = match before_token.kind {
        TokenKind::OpenParen | TokenKind::Comma => true,
        TokenKind::Ident => matches!(before_token.text(text), "where" | "filter" | "and" | "or"),
        _ => false,
    };
    opens_operand.then(|| words(&STRING_OPERATORS, CompletionKind::Keyword))
}

fn words(words: &[(&str, &str)], kind: CompletionKind) -> Vec<CompletionItem> {
    words
        .iter()
        .map(|(label, detail)| {
            item(
                (*label).to_owned(),
                kind,
                (*detail).to_owned(),
                String::new(),
            )
        })
        .collect()
}

fn keyword(label: &str, detail: &str) -> CompletionItem {
    item(
        label.to_owned(),
        CompletionKind::Keyword,
        detail.to_owned(),
        String::new(),
    )
}

#[cfg(test)]
mod tests {
    use super::assigned_parameter;

    #[test]
    fn assigned_parameter_after_multibyte_text() {
        assert_eq!(assigned_parameter("café="), None);
        assert_eq!(assigned_parameter("é kind="), Some("kind"));
        assert_eq!(assigned_parameter("hint.strategy ="), Some("hint.strategy"));
    }
}
