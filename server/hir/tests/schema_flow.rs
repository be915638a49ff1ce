//! The row types that reach each operator, checked on small queries against the bundled
//! Sentinel schema and a small custom table.

use quarry_analysis::{BundledSchema, Catalog, Schema, parse_schema_json};
use quarry_hir::{Model, Target, analyze, describe_row};

fn schema() -> Schema {
    let mut schema = BundledSchema::Sentinel.get().clone();
    let custom = parse_schema_json(
        r#"{"tables": {"T": {"a": "long", "b": "string", "d": "dynamic", "t": "datetime", "r": "real"}}}"#,
        "test",
    )
    .unwrap();
    schema.merge(custom);
    schema
}

fn model(text: &str) -> Model {
    let parse = quarry_syntax::parse(text);
    analyze(text, &parse, Catalog::get(), &schema())
}

/// Returns the columns reaching the last operator (the scope that starts last).
fn last_row(text: &str) -> String {
    let model = model(text);
    let scope = model
        .row_scopes
        .iter()
        .max_by_key(|scope| scope.range.start)
        .expect("the query has an operator");
    describe_row(&scope.row)
}

/// Returns the errors as `CODE text`; warnings are left out.
fn diagnostics(text: &str) -> Vec<String> {
    model(text)
        .errors()
        .map(|d| format!("{} {}", d.code, &text[d.range.clone()]))
        .collect()
}

#[test]
fn project_variants() {
    assert_eq!(
        last_row("T | project a, x = b | take 1"),
        "(a: long, x: string)"
    );
    assert_eq!(
        last_row("T | project-away d, t | take 1"),
        "(a: long, b: string, r: real)"
    );
    assert_eq!(
        last_row("T | project-away [\"d\"], t* | take 1"),
        "(a: long, b: string, r: real)"
    );
    assert_eq!(
        last_row("T | project-keep a, t | take 1"),
        "(a: long, t: datetime)"
    );
    assert_eq!(
        last_row("T | project-rename z = a | take 1"),
        "(z: long, b: string, d: dynamic, t: datetime, r: real)"
    );
    assert_eq!(
        last_row("T | project-reorder t, a | take 1"),
        "(a: long, b: string, d: dynamic, t: datetime, r: real)"
    );
}

#[test]
fn extend_names_and_types() {
    assert_eq!(
        last_row(
            "T | project a, t | extend x = a * 2.5, tostring(a), now() - t, strlen(\"x\") | take 1"
        ),
        // `tostring(a)` is named `a`, so it replaces the column, as Kusto does.
        "(a: string, t: datetime, x: real, Column1: timespan, Column2: long)"
    );
    assert_eq!(
        last_row("T | project d | extend d.host, tostring(d.user) | take 1"),
        "(d: dynamic, d_host: dynamic, d_user: string)"
    );
    assert_eq!(
        last_row("T | project a | extend a = 'x' | take 1"),
        "(a: string)"
    );
}

#[test]
fn summarize_default_names() {
    assert_eq!(
        last_row(
            "T | summarize count(), sum(a), dcount(b), make_set(b), avg(r) by bin(t, 1h) | take 1"
        ),
        "(t: datetime, count_: long, sum_a: long, dcount_b: long, set_b: dynamic, avg_r: real)"
    );
    assert_eq!(
        last_row("T | summarize arg_max(t, b), percentiles(a, 50, 95) by b | take 1"),
        "(b: string, t: datetime, b1: string, percentile_a_50: long, percentile_a_95: long)"
    );
    assert_eq!(
        last_row("T | summarize (Latest, Who) = arg_max(t, b) | take 1"),
        "(Latest: datetime, Who: string)"
    );
}

#[test]
fn join_renames_right_duplicates() {
    assert_eq!(
        last_row("T | project a, b | join kind=inner (T | project a, c = b) on a | take 1"),
        "(a: long, b: string, a1: long, c: string)"
    );
    assert_eq!(
        last_row("T | project a, b | join kind=leftanti (T | project a) on a | take 1"),
        "(a: long, b: string)"
    );
    assert_eq!(
        last_row("T | project a, b | lookup (T | project a, c = r) on a | take 1"),
        "(a: long, b: string, c: real)"
    );
    assert!(
        diagnostics("T | join (T) on $left.a == $right.nope").contains(&"KQL102 nope".to_owned())
    );
}

#[test]
fn union_mv_expand_parse_and_series() {
    assert_eq!(
        last_row("union withsource=Source (T | project a), (T | project b) | take 1"),
        "(a: long, b: string, Source: string)"
    );
    assert_eq!(
        last_row("T | project d | mv-expand with_itemindex=i x = d to typeof(long) | take 1"),
        "(d: dynamic, i: long, x: long)"
    );
    assert_eq!(
        last_row("T | project b | parse b with * 'user=' User:string ' id=' Id:long | take 1"),
        "(b: string, User: string, Id: long)"
    );
    assert_eq!(
        last_row("T | make-series n = count() default = 0 on t step 1h by b | take 1"),
        "(b: string, n: dynamic, t: dynamic)"
    );
}

#[test]
fn sources_and_open_schemas() {
    assert_eq!(
        last_row("print 1, x = 'a' | take 1"),
        "(print_0: long, x: string)"
    );
    assert_eq!(last_row("range i from 1 to 5 step 1 | take 1"), "(i: long)");
    assert_eq!(
        last_row("datatable(k: string, v: long) ['a', 1] | take 1"),
        "(k: string, v: long)"
    );
    assert_eq!(
        last_row("T | getschema | take 1"),
        "(ColumnName: string, ColumnOrdinal: int, DataType: string, ColumnType: string)"
    );
    assert_eq!(last_row("T | count | take 1"), "(Count: long)");
    assert_eq!(
        last_row("T | project a, d | evaluate bag_unpack(d) | take 1"),
        "(a: long, ...)"
    );
    // Names in an open row type are not errors.
    assert!(diagnostics("T | evaluate bag_unpack(d) | where anything == 1").is_empty());
    assert!(diagnostics("NotATable | where anything == 1").len() == 1);
}

#[test]
fn scopes_let_lambda_and_as() {
    let text = "let threshold = 10;\nlet f = (n: long, tag: string = 'x') { T | where a > n | project a, tag };\nf(threshold) | as Result | join (Result) on a | where tag == 'x'";
    assert!(diagnostics(text).is_empty(), "{:?}", diagnostics(text));
    let model = model(text);
    let uses: Vec<&str> = model
        .references
        .iter()
        .filter(|reference| matches!(reference.target, Target::Variable(_)))
        .map(|reference| &text[reference.range.clone()])
        .collect();
    assert!(uses.contains(&"threshold"), "{uses:?}");
    assert!(uses.contains(&"Result"), "{uses:?}");
    let visible: Vec<&str> = model
        .variables_at(text.len())
        .iter()
        .map(|variable| variable.name.as_str())
        .collect();
    assert!(
        visible.contains(&"threshold") && visible.contains(&"f"),
        "{visible:?}"
    );
    assert!(
        !visible.contains(&"n"),
        "lambda parameters stay inside the body: {visible:?}"
    );
}

#[test]
fn materialize_and_arity() {
    let text = "let m = materialize(T | summarize n = count() by b);\nm | where n > 1 | project b";
    assert!(diagnostics(text).is_empty(), "{:?}", diagnostics(text));
    assert_eq!(
        diagnostics("T | where strlen(b, 1) > 2 and nosuch(a)"),
        ["KQL104 strlen", "KQL103 nosuch"]
    );
    assert_eq!(
        diagnostics("let f = (x: long) { x }; print f(1, 2), f()"),
        ["KQL104 f", "KQL104 f"]
    );
}

#[test]
fn errors_reported_once() {
    assert_eq!(
        diagnostics("T | summarize arg_max(t, nope), percentile(nada, 50)"),
        ["KQL102 nope", "KQL102 nada"]
    );

    assert_eq!(
        diagnostics("union Securit*, Nothing* | take 1"),
        ["KQL101 Nothing*"]
    );
    assert_eq!(
        last_row("let Part1 = T | project a; let Part2 = T | project b; union Part* | take 1"),
        "(a: long, b: string)"
    );
}

#[test]
fn analyze_range_binds_one_block() {
    let text = "let x = 1;\nT | where a > x\n\nSigninLogs | where Nope == 1\n\nT | where b == 'y'";
    let parse = quarry_syntax::parse(text);
    let schema = schema();
    let whole = analyze(text, &parse, Catalog::get(), &schema);
    let second_block = text.find("SigninLogs").unwrap();
    let part = quarry_hir::analyze_range(
        text,
        &parse,
        Catalog::get(),
        &schema,
        second_block..second_block,
    );
    assert_eq!(whole.diagnostics, part.diagnostics);
    let in_block = |range: &std::ops::Range<usize>| {
        range.start >= second_block && range.end <= second_block + 27
    };
    let expected: Vec<_> = whole
        .references
        .iter()
        .filter(|reference| in_block(&reference.range))
        .collect();
    let actual: Vec<_> = part.references.iter().collect();
    assert_eq!(actual, expected);
    // The trailing space after a block's last token still belongs to it.
    let end_of_first = text.find("\n\n").unwrap() + 1;
    let first = quarry_hir::analyze_range(
        text,
        &parse,
        Catalog::get(),
        &schema,
        end_of_first..end_of_first,
    );
    assert!(
        first
            .references
            .iter()
            .any(|reference| &text[reference.range.clone()] == "x")
    );
}
