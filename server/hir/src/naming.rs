//! The names Kusto gives to columns computed without an explicit name, as Kusto.Language 12.4.1
//! computes them: `extend strlen(Account)` adds `strlen_Account`, `summarize count()` adds
//! `count_`, `extend tolower(Account)` adds `Column1`.

use quarry_syntax::kinds;
use quarry_syntax::tree_sitter::Node;

/// Scalar functions whose result takes the name of their first argument (`tostring(Props.x)`
/// is `Props_x`, `bin(TimeGenerated, 1h)` is `TimeGenerated`).
const FIRST_ARGUMENT_NAME: &[&str] = &[
    "abs",
    "acos",
    "asin",
    "atan",
    "atan2",
    "bin",
    "bin_at",
    "binary_and",
    "binary_not",
    "binary_or",
    "binary_shift_left",
    "binary_shift_right",
    "binary_xor",
    "bitset_count_ones",
    "ceiling",
    "cos",
    "erf",
    "erfc",
    "exp",
    "exp10",
    "exp2",
    "floor",
    "format_bytes",
    "format_datetime",
    "format_timespan",
    "gamma",
    "log",
    "log10",
    "log2",
    "loggamma",
    "parse_csv",
    "parse_json",
    "parse_xml",
    "pow",
    "round",
    "series_fill_backward",
    "series_fill_const",
    "series_fill_forward",
    "series_fill_linear",
    "series_fir",
    "series_iir",
    "series_outliers",
    "sin",
    "split",
    "sqrt",
    "startofday",
    "tan",
    "tobool",
    "toboolean",
    "todatetime",
    "todecimal",
    "todouble",
    "todynamic",
    "toguid",
    "tohex",
    "toint",
    "tolong",
    "toreal",
    "tostring",
    "totimespan",
];

/// Scalar functions whose result is named `function_argument` (`strlen_Account`).
const FUNCTION_AND_ARGUMENT_NAME: &[&str] = &[
    "dcount_hll",
    "percentile_tdigest",
    "repeat",
    "string_size",
    "strlen",
];

/// Aggregates whose result prefix differs from their name (`make_set(x)` is `set_x`).
const AGGREGATE_PREFIXES: &[(&str, &str)] = &[
    ("make_bag", "bag"),
    ("make_bag_if", "bag"),
    ("make_list", "list"),
    ("make_list_if", "list"),
    ("make_list_with_nulls", "list"),
    ("make_set", "set"),
    ("make_set_if", "set"),
    ("buildschema", "schema"),
    ("merge_tdigest", "merge_tdigests"),
    ("tdigest_merge", "merge_tdigests"),
    ("percentiles_array", "percentiles"),
    ("percentilesw_array", "percentiles"),
];

/// Aggregates whose results take the names of their arguments (`arg_max(T, A, B)` is `T, A, B`).
pub const ARGUMENT_NAMED_AGGREGATES: &[&str] = &[
    "arg_max",
    "arg_min",
    "take_any",
    "take_anyif",
    "any",
    "anyif",
    "binary_all_and",
    "binary_all_or",
    "binary_all_xor",
];

/// Returns the name Kusto derives from an expression, or `None` where it would number the
/// column (`Column1`, `print_0`).
pub fn expression_name(node: Node, text: &str) -> Option<String> {
    match node.kind() {
        kinds::IDENTIFIER | kinds::BRACKETED_NAME => Some(name_text(node, text)),
        kinds::PARENTHESIZED_EXPRESSION => expression_name(node.named_child(0)?, text),
        kinds::MEMBER_EXPRESSION => {
            let object = expression_name(node.child_by_field_name("object")?, text)?;
            let member = name_text(node.child_by_field_name("member")?, text);
            Some(format!("{object}_{member}"))
        }
        kinds::INDEX_EXPRESSION => {
            let object = expression_name(node.child_by_field_name("object")?, text)?;
            let index = node.child_by_field_name("index")?;
            let index = match index.kind() {
                kinds::STRING_LITERAL => string_value(index, text),
                kinds::INTEGER_LITERAL | kinds::IDENTIFIER | kinds::BRACKETED_NAME => {
                    name_text(index, text)
                }
                _ => return None,
            };
            Some(format!("{object}_{index}"))
        }
        kinds::CALL_EXPRESSION => {
            let function = node.child_by_field_name("function")?;
            if function.kind() != kinds::IDENTIFIER {
                return None;
            }
            let name = &text[function.byte_range()];
            let first = first_argument(node)?;
            if FIRST_ARGUMENT_NAME.contains(&name) {
                expression_name(first, text)
            } else if FUNCTION_AND_ARGUMENT_NAME.contains(&name) {
                Some(format!("{name}_{}", expression_name(first, text)?))
            } else {
                None
            }
        }
        _ => None,
    }
}

/// Series functions that return several columns, with the suffix of each: an unnamed
/// `series_fit_line(y)` adds `series_fit_line_y_rsquare`, `series_fit_line_y_slope`, ...
const MULTI_COLUMN_FUNCTIONS: &[(&str, &[&str])] = &[
    (
        "series_decompose",
        &["baseline", "seasonal", "trend", "residual"],
    ),
    (
        "series_decompose_anomalies",
        &["ad_flag", "ad_score", "baseline"],
    ),
    (
        "series_decompose_forecast",
        &["baseline", "seasonal", "trend", "residual"],
    ),
    ("series_fft", &["real", "imag"]),
    ("series_ifft", &["real", "imag"]),
    (
        "series_fit_2lines",
        &[
            "rsquare",
            "split_idx",
            "variance",
            "rvariance",
            "line_fit",
            "right_rsquare",
            "right_slope",
            "right_interception",
            "right_variance",
            "right_rvariance",
            "left_rsquare",
            "left_slope",
            "left_interception",
            "left_variance",
            "left_rvariance",
        ],
    ),
    (
        "series_fit_line",
        &[
            "rsquare",
            "slope",
            "variance",
            "rvariance",
            "interception",
            "line_fit",
        ],
    ),
    (
        "series_fit_poly",
        &[
            "rsquare",
            "coefficients",
            "variance",
            "rvariance",
            "poly_fit",
        ],
    ),
    ("series_periods_detect", &["periods", "scores"]),
    ("series_periods_validate", &["periods", "scores"]),
    (
        "series_stats",
        &[
            "min", "min_idx", "max", "max_idx", "avg", "stdev", "variance",
        ],
    ),
];

/// Returns the column names of an unnamed call to a series function that returns several
/// columns, or `None` for any other expression.
pub fn multi_column_names(node: Node, text: &str) -> Option<Vec<String>> {
    if node.kind() != kinds::CALL_EXPRESSION {
        return None;
    }
    let function = &text[node.child_by_field_name("function")?.byte_range()];
    let (_, suffixes) = MULTI_COLUMN_FUNCTIONS
        .iter()
        .find(|(name, _)| *name == function)?;
    let argument = first_argument(node)
        .and_then(|argument| expression_name(argument, text))
        .unwrap_or_default();
    Some(
        suffixes
            .iter()
            .map(|suffix| format!("{function}_{argument}_{suffix}"))
            .collect(),
    )
}

/// Returns the names of the columns an aggregate call produces without an explicit name. The
/// caller expands `*` arguments of `arg_max` and similar aggregates, which appear here as `*`.
pub fn aggregate_names(call: Node, text: &str) -> Vec<String> {
    let Some(function) = call.child_by_field_name("function") else {
        return Vec::new();
    };
    let name = &text[function.byte_range()];
    let arguments = arguments(call);

    if ARGUMENT_NAMED_AGGREGATES.contains(&name) {
        return arguments
            .iter()
            .map(|&argument| {
                if argument.kind() == kinds::STAR {
                    "*".to_owned()
                } else {
                    expression_name(argument, text).unwrap_or_default()
                }
            })
            .collect();
    }

    let argument = arguments
        .first()
        .and_then(|&argument| expression_name(argument, text))
        .unwrap_or_default();
    if matches!(
        name,
        "percentile" | "percentiles" | "percentilew" | "percentilesw"
    ) {
        let skip = if name.ends_with('w') { 2 } else { 1 };
        let percents: Vec<String> = arguments[skip.min(arguments.len())..]
            .iter()
            .map(|&value| text[value.byte_range()].replace('.', "_"))
            .collect();
        if percents.is_empty() {
            return vec![format!("percentile_{argument}_")];
        }
        return percents
            .into_iter()
            .map(|percent| format!("percentile_{argument}_{percent}"))
            .collect();
    }
    let prefix = AGGREGATE_PREFIXES
        .iter()
        .find(|(aggregate, _)| *aggregate == name)
        .map_or(name, |(_, prefix)| prefix);
    vec![format!("{prefix}_{argument}")]
}

/// Returns the argument expressions of a call, skipping comments.
pub fn arguments(call: Node) -> Vec<Node> {
    let Some(list) = call.child_by_field_name("arguments") else {
        return Vec::new();
    };
    let mut cursor = list.walk();
    list.named_children(&mut cursor)
        .filter(|child| child.kind() != kinds::COMMENT)
        .collect()
}

fn first_argument(call: Node) -> Option<Node> {
    arguments(call).into_iter().next()
}

/// Returns the name an identifier or bracketed name stands for: `['a b']` is `a b`.
pub fn name_text(node: Node, text: &str) -> String {
    if node.kind() == kinds::BRACKETED_NAME
        && let Some(literal) = node.named_child(0)
    {
        return string_value(literal, text);
    }
    text[node.byte_range()].to_owned()
}

/// Returns the content of a simple string literal without quotes or prefixes. Escapes are
/// kept as written, which is enough for names.
pub fn string_value(node: Node, text: &str) -> String {
    let raw = &text[node.byte_range()];
    let raw = raw.trim_start_matches(['h', 'H', '@']);
    let trimmed = raw
        .strip_prefix("```")
        .and_then(|rest| rest.strip_suffix("```"))
        .or_else(|| {
            let quote = raw.chars().next()?;
            if quote == '\'' || quote == '"' {
                raw.get(1..raw.len().saturating_sub(1))
            } else {
                None
            }
        })
        .unwrap_or(raw);
    trimmed.to_owned()
}

/// Returns `base` if no name in `taken` equals it, otherwise `base1`, `base2`, ... as Kusto
/// renames duplicate columns.
pub fn unique_name(base: &str, taken: impl Fn(&str) -> bool) -> String {
    if !taken(base) {
        return base.to_owned();
    }
    (1..)
        .map(|n| format!("{base}{n}"))
        .find(|candidate| !taken(candidate))
        .expect("an unused suffix exists")
}
