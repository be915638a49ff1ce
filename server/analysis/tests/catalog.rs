//! Checks the embedded catalog data: completeness, agreement with the reference signatures,
//! text limits and the rendered hover text.

use std::collections::BTreeSet;

use expect_test::expect;
use quarry_analysis::{Catalog, FunctionKind};
use serde_json::Value;

/// Every KQL tabular operator, by every name it is written with.
const OPERATOR_NAMES: &[&str] = &[
    "as",
    "consume",
    "count",
    "datatable",
    "distinct",
    "evaluate",
    "extend",
    "externaldata",
    "facet",
    "find",
    "fork",
    "getschema",
    "invoke",
    "join",
    "limit",
    "take",
    "lookup",
    "macro-expand",
    "make-graph",
    "graph-match",
    "graph-to-table",
    "make-series",
    "mv-apply",
    "mv-expand",
    "order",
    "sort",
    "parse",
    "parse-where",
    "parse-kv",
    "partition",
    "print",
    "project",
    "project-away",
    "project-keep",
    "project-rename",
    "project-reorder",
    "range",
    "reduce",
    "render",
    "sample",
    "sample-distinct",
    "scan",
    "search",
    "serialize",
    "summarize",
    "top",
    "top-hitters",
    "top-nested",
    "union",
    "where",
    "filter",
];

/// The functions that the local engine's first slice evaluates. Hover must cover each of them.
const ENGINE_FUNCTIONS: &[&str] = &[
    "count",
    "countif",
    "dcount",
    "sum",
    "min",
    "max",
    "avg",
    "make_set",
    "ago",
    "now",
    "bin",
    "tolower",
    "toupper",
    "strcat",
    "isempty",
    "isnotempty",
    "iff",
];

/// Every built-in of Kusto.Language with its signatures, the list the catalog must cover.
const REFERENCE_JSON: &str = include_str!("../data/reference/kql-builtins.json");
const USAGE_TSV: &str = include_str!("../data/function-usage.tsv");

#[test]
fn catalog_loads() {
    let catalog = Catalog::get();
    assert!(catalog.operators().count() >= 45);
    assert!(catalog.functions().count() >= 479);
}

#[test]
fn every_operator_is_present() {
    let catalog = Catalog::get();
    for name in OPERATOR_NAMES {
        assert!(
            catalog.operator(name).is_some(),
            "operator `{name}` is missing"
        );
    }
}

#[test]
fn operator_aliases_resolve_to_canonical() {
    let catalog = Catalog::get();
    assert_eq!(
        catalog.operator("filter").map(|o| o.name.as_str()),
        Some("where")
    );
    assert_eq!(
        catalog.operator("limit").map(|o| o.name.as_str()),
        Some("take")
    );
    assert_eq!(
        catalog.operator("order").map(|o| o.name.as_str()),
        Some("sort")
    );
    assert!(
        catalog.operator("Where").is_none(),
        "operator names are case-sensitive"
    );
    assert!(catalog.operator("nonexistent").is_none());
}

#[test]
fn operator_snippets_start_with_name() {
    for operator in Catalog::get().operators() {
        assert!(
            operator.snippet.starts_with(&operator.name),
            "snippet of `{}` is `{}`",
            operator.name,
            operator.snippet
        );
        assert!(
            operator.example.contains(&operator.name)
                || operator
                    .aliases
                    .iter()
                    .any(|a| operator.example.contains(a)),
            "example of `{}` does not use it",
            operator.name
        );
    }
}

#[test]
fn engine_functions_are_present() {
    let catalog = Catalog::get();
    for name in ENGINE_FUNCTIONS {
        assert!(
            catalog.function(name).is_some(),
            "function `{name}` is missing"
        );
    }
}

#[test]
fn most_used_functions_are_present() {
    let catalog = Catalog::get();
    let top: Vec<&str> = USAGE_TSV
        .lines()
        .skip(1) // header row
        .take(60)
        .map(|line| line.split('\t').next().expect("tab-separated line"))
        .collect();
    assert_eq!(top.len(), 60);
    for name in top {
        assert!(
            catalog.function(name).is_some(),
            "function `{name}` is missing"
        );
    }
}

/// Names that Kusto.Language lists both as a scalar function and as an aggregate. The catalog
/// keeps one entry for each, the aggregate, whose single-argument overload is the common use.
const SCALAR_AND_AGGREGATE: &[&str] = &["hll_merge", "merge_tdigest", "tdigest_merge"];

#[test]
fn every_builtin_is_documented() {
    let reference: Value = serde_json::from_str(REFERENCE_JSON).expect("reference JSON parses");
    let catalog = Catalog::get();
    let mut names = 0;
    for group in ["functions", "aggregates", "plugins"] {
        for entry in reference[group].as_array().expect("group is an array") {
            let name = entry["name"].as_str().expect("name is a string");
            let function = catalog
                .function(name)
                .unwrap_or_else(|| panic!("built-in `{name}` ({group}) has no catalog entry"));
            assert!(
                !function.summary.trim().is_empty(),
                "`{name}` has no summary"
            );
            assert!(
                !function.example.trim().is_empty(),
                "`{name}` has no example"
            );
            assert!(!function.signatures.is_empty(), "`{name}` has no signature");
            names += 1;
        }
    }
    assert_eq!(names, 482, "the reference lists 385 + 52 + 45 built-ins");
}

#[test]
fn signatures_match_reference() {
    let reference: Value = serde_json::from_str(REFERENCE_JSON).expect("reference JSON parses");
    let catalog = Catalog::get();
    let mut checked = BTreeSet::new();

    for (group, kind) in [
        ("functions", FunctionKind::Scalar),
        ("aggregates", FunctionKind::Aggregate),
        ("plugins", FunctionKind::Plugin),
    ] {
        for entry in reference[group].as_array().expect("group is an array") {
            let name = entry["name"].as_str().expect("name is a string");
            if kind == FunctionKind::Scalar && SCALAR_AND_AGGREGATE.contains(&name) {
                continue;
            }
            let function = catalog
                .function(name)
                .unwrap_or_else(|| panic!("reference function `{name}` is not in the catalog"));
            assert_eq!(function.kind, kind, "kind of `{name}`");

            let expected = entry["signatures"].as_array().expect("signatures array");
            assert_eq!(
                function.signatures.len(),
                expected.len(),
                "signature count of `{name}`"
            );
            for (i, (actual, expected)) in function.signatures.iter().zip(expected).enumerate() {
                assert_eq!(
                    actual.returns,
                    expected["returns"].as_str().expect("returns"),
                    "return type of `{name}` overload {i}"
                );
                let expected_parameters = expected["parameters"].as_array().expect("parameters");
                assert_eq!(
                    actual.parameters.len(),
                    expected_parameters.len(),
                    "parameter count of `{name}` overload {i}"
                );
                for (parameter, expected) in actual.parameters.iter().zip(expected_parameters) {
                    let context = format!("`{name}` overload {i} parameter `{}`", parameter.name);
                    assert_eq!(
                        parameter.name,
                        expected["name"].as_str().unwrap(),
                        "{context}"
                    );
                    assert_eq!(
                        parameter.ty,
                        expected["type"].as_str().unwrap(),
                        "{context}"
                    );
                    assert_eq!(
                        parameter.optional,
                        expected["optional"].as_bool().unwrap(),
                        "{context} optional"
                    );
                    assert_eq!(
                        parameter.repeatable,
                        expected["repeatable"].as_bool().unwrap(),
                        "{context} repeatable"
                    );
                }
            }
            checked.insert(name.to_owned());
        }
    }

    let uncovered: Vec<&str> = catalog
        .functions()
        .map(|f| f.name.as_str())
        .filter(|name| !checked.contains(*name))
        .collect();
    assert!(
        uncovered.is_empty(),
        "functions with no reference entry: {uncovered:?}"
    );
}

#[test]
fn parameter_notes_are_sentences() {
    for function in Catalog::get().functions() {
        for note in &function.parameter_notes {
            let sentences = sentence_count(&note.note);
            assert!(
                (1..=2).contains(&sentences) && note.note.ends_with('.'),
                "note on `{}` of `{}` must be one or two sentences ending with a period: {}",
                note.name,
                function.name,
                note.note
            );
        }
    }
}

/// Counts sentences by their terminal punctuation followed by whitespace, a quote or the end
/// of the text. Text inside backticks is skipped, so `a.b` and `...` in code do not count, and a
/// period followed by a digit or letter (as in `0.1`) does not end a sentence.
fn sentence_count(text: &str) -> usize {
    let mut count = 0;
    let mut in_code = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '`' {
            in_code = !in_code;
            continue;
        }
        if in_code || !matches!(c, '.' | '!' | '?') {
            continue;
        }
        let ends = match chars.peek() {
            None => true,
            Some(next) => next.is_whitespace() || *next == '"',
        };
        if ends {
            count += 1;
        }
    }
    count
}

#[test]
fn sentence_count_handles_code_and_numbers() {
    assert_eq!(sentence_count("One. Two."), 2);
    assert_eq!(sentence_count("Uses `a.b` and `...`. Then 0.1 more."), 2);
    assert_eq!(sentence_count("No terminal punctuation"), 0);
}

#[test]
fn summaries_have_one_to_three_sentences() {
    let catalog = Catalog::get();
    let summaries = catalog
        .operators()
        .map(|o| (o.name.as_str(), o.summary.as_str()))
        .chain(
            catalog
                .functions()
                .map(|f| (f.name.as_str(), f.summary.as_str())),
        );
    for (name, summary) in summaries {
        let sentences = sentence_count(summary);
        assert!(
            (1..=3).contains(&sentences),
            "summary of `{name}` has {sentences} sentences: {summary}"
        );
        assert!(
            summary.ends_with('.'),
            "summary of `{name}` does not end with a period"
        );
    }
}

#[test]
fn examples_and_syntax_lines_present() {
    let catalog = Catalog::get();
    for operator in catalog.operators() {
        assert!(
            !operator.example.trim().is_empty(),
            "operator `{}`",
            operator.name
        );
        assert!(
            !operator.syntax.trim().is_empty(),
            "operator `{}`",
            operator.name
        );
    }
    for function in catalog.functions() {
        assert!(
            !function.example.trim().is_empty(),
            "function `{}`",
            function.name
        );
        assert!(
            function.example.contains(&format!("{}(", function.name)),
            "example of `{}` does not call it",
            function.name
        );
    }
}

#[test]
fn signature_label_renders_overloads() {
    let bin = Catalog::get().function("bin").expect("bin");
    assert_eq!(
        bin.signature_label(0),
        "bin(value: number, roundTo: number): number"
    );
    assert_eq!(
        bin.signature_label(3),
        "bin(value: datetime, roundTo: timespan): datetime"
    );
}

#[test]
fn signature_label_marks_optional_and_repeatable() {
    let catalog = Catalog::get();
    let label = |name: &str, i: usize| catalog.function(name).expect(name).signature_label(i);
    assert_eq!(label("strcat", 0), "strcat(arg: scalar, ...): string");
    assert_eq!(
        label("make_set", 0),
        "make_set(expr: scalar, [maxSize: integer]): dynamic"
    );
    assert_eq!(
        label("arg_max", 0),
        "arg_max(maximized: scalar, [returned: scalar, ...]): columns"
    );
    assert_eq!(
        label("bag_pack", 0),
        "bag_pack(key: string, value: scalar, ...): dynamic"
    );
    assert_eq!(
        label("case", 0),
        "case(predicate: bool, then: scalar, ..., else: scalar): scalar"
    );
    assert_eq!(label("count", 0), "count(): long");
    assert_eq!(label("min", 0), "min(expr: scalar): scalar");
}

#[test]
fn signature_label_ranges_cover_parameters() {
    let function = Catalog::get().function("split").expect("split");
    let label = function.signature_label_with_ranges(0);
    let parameters: Vec<&str> = label
        .parameters
        .iter()
        .map(|r| &label.text[r.clone()])
        .collect();
    assert_eq!(
        parameters,
        [
            "source: scalar",
            "delimiter: string",
            "requestedIndex: integer"
        ]
    );
}

#[test]
fn function_hover_snapshot() {
    let hover = Catalog::get()
        .function("bin")
        .expect("bin")
        .hover_markdown();
    expect![[r#"
        ```kusto
        bin(value: number, roundTo: number): number
        bin(value: timespan, roundTo: timespan): timespan
        bin(value: datetime, roundTo: datetime): datetime
        bin(value: datetime, roundTo: timespan): datetime
        ```

        Scalar function. Rounds a value down to a multiple of a bin size. Applied to a datetime with a timespan, it groups events into time buckets.

        - `roundTo`: The bin size, such as `1h` for hourly buckets of datetimes.

        Example:

        ```kusto
        SecurityEvent
        | summarize count() by bin(TimeGenerated, 1h)
        ```
    "#]]
    .assert_eq(&hover);
}

#[test]
fn operator_hover_snapshot() {
    let hover = Catalog::get()
        .operator("where")
        .expect("where")
        .hover_markdown();
    expect![[r#"
        ```kusto
        T | where Predicate
        ```

        Keeps the rows for which the condition is true. Filter on time and on indexed string operators such as `has` early in the query to keep it fast.

        Also written `filter`.

        - `Predicate`: A boolean expression, for example `EventID == 4625 and Account has "admin"`.

        Example:

        ```kusto
        SecurityEvent
        | where TimeGenerated > ago(1d) and EventID == 4625
        ```
    "#]]
    .assert_eq(&hover);
}

#[test]
fn from_json_rejects_bad_data() {
    let operators = r#"[{"name": "a", "aliases": ["b"], "syntax": "T | a", "summary": "S.",
        "example": "T | a", "snippet": "a"}, {"name": "b", "syntax": "T | b", "summary": "S.",
        "example": "T | b", "snippet": "b"}]"#;
    let error = Catalog::from_json(operators, "[]").expect_err("duplicate name");
    assert!(error.contains("duplicate operator name `b`"), "{error}");

    let functions = r#"[{"name": "f", "kind": "scalar", "signatures": ["x: long"],
        "summary": "S.", "example": "f(1)"}]"#;
    let error = Catalog::from_json("[]", functions).expect_err("invalid signature");
    assert!(error.contains("function `f`: invalid signature"), "{error}");

    let error = Catalog::from_json("{", "[]").expect_err("invalid JSON");
    assert!(error.starts_with("operators.json:"), "{error}");
}

/// Replaces LSP snippet placeholders with their default text: `${1:x}` becomes `x`, a choice
/// `${1|a,b|}` becomes `a`, and a bare tab stop such as `$1` or `${2}` is removed.
fn expand_snippet(snippet: &str) -> String {
    let mut out = String::new();
    let mut rest = snippet;
    while let Some(dollar) = rest.find('$') {
        out.push_str(&rest[..dollar]);
        rest = &rest[dollar + 1..];
        if let Some(body) = rest.strip_prefix('{') {
            let close = body.find('}').expect("placeholder is closed");
            let inner = &body[..close];
            let inner = inner.trim_start_matches(|c: char| c.is_ascii_digit());
            if let Some(text) = inner.strip_prefix(':') {
                out.push_str(text);
            } else if let Some(choices) = inner.strip_prefix('|') {
                out.push_str(choices.split([',', '|']).next().unwrap_or_default());
            }
            rest = &body[close + 1..];
        } else {
            rest = rest.trim_start_matches(|c: char| c.is_ascii_digit());
        }
    }
    out.push_str(rest);
    out
}

#[test]
fn expand_snippet_fills_placeholders() {
    assert_eq!(
        expand_snippet("summarize ${1:count()} by ${2:Column}$0"),
        "summarize count() by Column"
    );
    assert_eq!(
        expand_snippet("render ${1|timechart,piechart|}"),
        "render timechart"
    );
    assert_eq!(expand_snippet("invoke ${1:f}(${2})"), "invoke f()");
}

/// Operators and functions whose example Kusto.Language 12.4.1 accepts but Quarry's grammar
/// does not parse yet.
// TODO: the grammar has no `graph-to-table` operator.
// Remove each entry once the grammar learns it; the test fails until then.
const EXAMPLE_GRAMMAR_GAPS: &[&str] = &["graph-to-table"];

/// Operators whose expanded snippet Quarry's grammar does not parse yet, for the same reason.
const SNIPPET_GRAMMAR_GAPS: &[&str] = &["graph-to-table"];

#[test]
fn examples_parse_without_errors() {
    let catalog = Catalog::get();
    let examples = catalog
        .operators()
        .map(|o| (o.name.as_str(), o.example.as_str()))
        .chain(
            catalog
                .functions()
                .map(|f| (f.name.as_str(), f.example.as_str())),
        );

    let mut failing = Vec::new();
    for (name, example) in examples {
        let errors = quarry_syntax::parse(example).errors;
        if !errors.is_empty() {
            eprintln!("example of `{name}`: {errors:?}\n{example}");
            failing.push(name);
        }
    }
    failing.sort_unstable();
    assert_eq!(
        failing, EXAMPLE_GRAMMAR_GAPS,
        "examples with syntax errors (see stderr)"
    );
}

#[test]
fn snippets_parse_without_errors() {
    let mut failing = Vec::new();
    for operator in Catalog::get().operators() {
        let expanded = expand_snippet(&operator.snippet);
        let query = if operator.starts_query {
            expanded
        } else {
            format!("SecurityEvent\n| {expanded}")
        };
        let errors = quarry_syntax::parse(&query).errors;
        if !errors.is_empty() {
            eprintln!("snippet of `{}`: {errors:?}\n{query}", operator.name);
            failing.push(operator.name.as_str());
        }
    }
    failing.sort_unstable();
    assert_eq!(
        failing, SNIPPET_GRAMMAR_GAPS,
        "snippets with syntax errors (see stderr)"
    );
}
