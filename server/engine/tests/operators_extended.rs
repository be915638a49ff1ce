//! Tabular operators beyond the basics, each checked against rows worked out by hand.

mod common;

use common::{column, column_names, run_csv, run_ok, strings};
use serde_json::json;

const LEFT: &str = "Key,L\na,1\nb,2\nb,3\nc,4\n,5\n";
const RIGHT: &str = "Key,R\nb,20\nc,30\nc,31\nd,40\n";

fn joined(kind: &str, order: &str) -> quarry_engine::QueryOutput {
    run_ok(
        &[("L.csv", LEFT), ("R.csv", RIGHT)],
        &format!("L | join kind={kind} R on Key | order by {order}"),
    )
}

#[test]
fn join_kinds() {
    // Semi and anti joins keep one side's columns; null keys never match.
    let output = joined("leftsemi", "L asc");
    assert_eq!(column_names(&output), ["Key", "L"]);
    assert_eq!(column(&output, "L"), [json!(2), json!(3), json!(4)]);

    let output = joined("leftanti", "L asc");
    assert_eq!(column(&output, "L"), [json!(1), json!(5)]);

    let output = run_ok(
        &[("L.csv", LEFT), ("R.csv", RIGHT)],
        "L | join kind=rightanti R on Key",
    );
    assert_eq!(column_names(&output), ["Key", "R"]);
    assert_eq!(column(&output, "R"), [json!(40)]);

    let output = run_ok(
        &[("L.csv", LEFT), ("R.csv", RIGHT)],
        "L | join kind=rightsemi R on Key | order by R asc",
    );
    assert_eq!(column(&output, "R"), [json!(20), json!(30), json!(31)]);

    // inner keeps every pair: b matches once per left row, c twice.
    let output = joined("inner", "L asc, R asc");
    assert_eq!(
        column(&output, "R"),
        [json!(20), json!(20), json!(30), json!(31)]
    );

    // innerunique keeps the first left row of each key.
    let output = joined("innerunique", "L asc, R asc");
    assert_eq!(column(&output, "L"), [json!(2), json!(4), json!(4)]);

    let output = run_ok(
        &[("L.csv", LEFT), ("R.csv", RIGHT)],
        "L | join kind=fullouter R on Key | summarize n = count()",
    );
    // 1 (a) + 2 (b) + 2 (c) + 1 (null key) + 1 (d) rows.
    assert_eq!(column(&output, "n"), [json!(7)]);

    let output = run_ok(
        &[("L.csv", LEFT), ("R.csv", RIGHT)],
        "L | join kind=rightouter R on Key | where isempty(Key) | project Key1, R",
    );
    assert_eq!(column(&output, "Key1"), [json!("d")]);
}

#[test]
fn lookup_adds_right_columns() {
    let output = run_ok(
        &[("L.csv", LEFT), ("Names.csv", "Key,Name\nb,Bee\nc,Sea\n")],
        "L | lookup Names on Key | project L, Name",
    );
    assert_eq!(strings(&output, "Name"), ["", "Bee", "Bee", "Sea", ""]);
}

#[test]
fn mv_expand_arrays_and_bags() {
    let table = "Id,Items\n1,\"[\"\"a\"\",\"\"b\"\"]\"\n2,[]\n3,\"{\"\"k\"\":1,\"\"v\"\":2}\"\n";
    let output = run_ok(
        &[("T.csv", table)],
        "T | mv-expand with_itemindex=I Item = parse_json(Items) | project Id, I, Item",
    );
    // The empty array makes no rows; a bag makes one row per property.
    assert_eq!(
        column(&output, "Id"),
        [json!(1), json!(1), json!(3), json!(3)]
    );
    assert_eq!(
        column(&output, "I"),
        [json!(0), json!(1), json!(0), json!(1)]
    );
    assert_eq!(
        column(&output, "Item"),
        [json!("a"), json!("b"), json!({"k": 1}), json!({"v": 2})]
    );
    let output = run_ok(
        &[("T.csv", table)],
        "T | where Id == 1 | mv-expand Item = parse_json(Items) to typeof(string) | project Item",
    );
    assert_eq!(common::column_types(&output), ["string"]);
    let output = run_ok(
        &[("T.csv", table)],
        "T | where Id == 3 | mv-expand bagexpansion=array Item = parse_json(Items) | project Item",
    );
    assert_eq!(column(&output, "Item"), [json!(["k", 1]), json!(["v", 2])]);
}

#[test]
fn mv_expand_split_counts_match_dynamic_path() {
    // `summarize by tostring(P)` lets the engine keep the parts of `split()` as strings; the
    // extra `extend Q = P` keeps them dynamic. Both must count the same parts.
    let table = "Line\n\"cmd /c \"\"a b\"\"\"\nnet  user\n\nC:\\x\\y.exe -k\n";
    let fast = run_ok(
        &[("T.csv", table)],
        "T | mv-expand P = split(Line, \" \") | summarize n = count() by tostring(P) \
         | order by P asc",
    );
    let slow = run_ok(
        &[("T.csv", table)],
        "T | mv-expand P = split(Line, \" \") | extend Q = P \
         | summarize n = count() by P = tostring(Q) | order by P asc",
    );
    assert_eq!(common::column_types(&fast), ["string", "long"]);
    assert_eq!(fast.rows, slow.rows);
    assert_eq!(
        strings(&fast, "P"),
        [
            "",
            "\"a",
            "-k",
            "/c",
            "C:\\x\\y.exe",
            "b\"",
            "cmd",
            "net",
            "user"
        ]
    );
    assert_eq!(
        column(&fast, "n"),
        [
            json!(2),
            json!(1),
            json!(1),
            json!(1),
            json!(1),
            json!(1),
            json!(1),
            json!(1),
            json!(1)
        ]
    );
    // A part that is output keeps the dynamic type of `split()`'s items.
    let output = run_ok(
        &[("T.csv", table)],
        "T | mv-expand P = split(Line, \" \") | where tostring(P) == \"net\"",
    );
    assert_eq!(common::column_types(&output), ["string", "dynamic"]);
}

#[test]
fn mv_expand_then_count_matches_unrewritten_plan() {
    // The engine counts each distinct input once before expanding when `summarize count()`
    // follows `mv-expand`; `| where true` in between turns that off. Rows, values and
    // their order must be the same either way.
    let table = "Host,Line,Items\n\
        a,x y x,\"[1,2]\"\n\
        b,y z,[]\n\
        a,x y x,\"[1,2]\"\n\
        c,,\n\
        b,z,\"{\"\"k\"\":1}\"\n\
        a,y,\"[2,null]\"\n";
    let queries = [
        "T | mv-expand P = split(Line, \" \") | summarize n = count() by tostring(P)",
        "T | mv-expand P = split(Line, \" \") | summarize count() by tostring(P), Line",
        "T | mv-expand P = split(Line, \" \") | summarize n = count(), m = count() by P = tostring(P)",
        "T | mv-expand with_itemindex=I P = parse_json(Items) | summarize n = count() by I, tostring(P)",
        "T | mv-expand P = parse_json(Items) limit 1 | summarize n = count() by tostring(P)",
        "T | mv-expand P = parse_json(Items), Q = split(Line, \" \") | summarize n = count() by tostring(P), tostring(Q)",
        // Host is not read by the expansion, so the rewrite must leave this one alone.
        "T | mv-expand P = split(Line, \" \") | summarize n = count() by Host, tostring(P)",
        "T | parse Line with A \" \" B | summarize n = count() by A, B",
        "T | parse kind=relaxed Line with A \" \" N:long | summarize n = count() by N",
        "T | parse-where Line with \"x \" B | summarize n = count() by B, Line",
    ];
    for query in queries {
        let fast = run_ok(&[("T.csv", table)], query);
        let plain = query.replacen(" | summarize", " | where true | summarize", 1);
        let slow = run_ok(&[("T.csv", table)], &plain);
        assert_eq!(fast.columns, slow.columns, "{query}");
        assert_eq!(fast.rows, slow.rows, "{query}");
        assert!(!fast.rows.is_empty(), "{query}");
    }
    let counts = run_ok(&[("T.csv", table)], queries[0]);
    assert_eq!(strings(&counts, "P"), ["x", "y", "z", ""]);
    assert_eq!(
        column(&counts, "n"),
        [json!(4), json!(4), json!(2), json!(1)]
    );
}

#[test]
fn parse_patterns() {
    let table = "Msg\nuser=bob port=22 ok\nuser=eve port=x ok\nnothing here\n";
    let output = run_ok(
        &[("T.csv", table)],
        r#"T | parse Msg with "user=" User " port=" Port:long " " Rest"#,
    );
    assert_eq!(strings(&output, "User"), ["bob", "", ""]);
    assert_eq!(
        column(&output, "Port"),
        [json!(22), json!(null), json!(null)]
    );
    assert_eq!(strings(&output, "Rest"), ["ok", "", ""]);

    let output = run_ok(
        &[("T.csv", table)],
        r#"T | parse kind=relaxed Msg with "user=" User " port=" Port:long " " Rest"#,
    );
    assert_eq!(strings(&output, "User"), ["bob", "eve", ""]);
    assert_eq!(
        column(&output, "Port"),
        [json!(22), json!(null), json!(null)]
    );

    let output = run_ok(
        &[("T.csv", table)],
        r#"T | parse-where kind=regex Msg with @"user=(\w)" First:string ".*""#,
    );
    assert_eq!(strings(&output, "First"), ["b", "e"]);
}

#[test]
fn make_series_without_bounds_spans_the_values_bins() {
    // Without `from` and `to`, the series start at the bin of the first time and end with the
    // bin of the last. A row without a time counts in no bin.
    let table = "Host,At,Bytes\nA,2024-01-01T00:10:00Z,1\nA,2024-01-01T00:20:00Z,2\n\
                 B,,4\nA,2024-01-01T03:59:59Z,5\nB,2024-01-01T01:00:00Z,7\nC,2024-01-01T01:30:00Z,1\n";
    let unbounded = run_ok(
        &[("T.csv", table)],
        "T | make-series total = sum(Bytes) default = 0, n = count() on At step 1h by Host \
         | order by Host asc",
    );
    let bounded = run_ok(
        &[("T.csv", table)],
        "T | make-series total = sum(Bytes) default = 0, n = count() on At \
         from datetime(2024-01-01) to datetime(2024-01-01 04:00) step 1h by Host \
         | where isnotempty(Host) and array_length(n) > 0 | order by Host asc",
    );
    assert_eq!(column(&unbounded, "total"), column(&bounded, "total"));
    assert_eq!(column(&unbounded, "n"), column(&bounded, "n"));
    assert_eq!(column(&unbounded, "At"), column(&bounded, "At"));
    assert_eq!(
        column(&unbounded, "n"),
        [
            json!([2, 0, 0, 1]),
            json!([0, 1, 0, 0]),
            json!([0, 1, 0, 0])
        ]
    );

    // A number axis gets the same bins.
    let numbers = run_ok(
        &[("N.csv", "K,X\na,7\na,12\nb,31\n")],
        "N | make-series n = count() on X step 10 by K | order by K asc",
    );
    assert_eq!(
        column(&numbers, "n"),
        [json!([1, 1, 0, 0]), json!([0, 0, 0, 1])]
    );
    assert_eq!(column(&numbers, "X")[0], json!([0, 10, 20, 30]));

    // No rows: no series.
    let empty = run_ok(
        &[("T.csv", table)],
        "T | where Bytes > 100 | make-series n = count() on At step 1h by Host",
    );
    assert_eq!(empty.rows.len(), 0);
}

#[test]
fn make_series_fills_missing_steps() {
    let table = "Host,At,Bytes\nA,2024-01-01T00:10:00Z,1\nA,2024-01-01T00:20:00Z,2\nA,2024-01-01T02:00:00Z,5\nB,2024-01-01T01:00:00Z,7\n";
    let output = run_ok(
        &[("T.csv", table)],
        "T | make-series total = sum(Bytes) default = -1 on At from datetime(2024-01-01) to datetime(2024-01-01 03:00) step 1h by Host | order by Host asc",
    );
    assert_eq!(column_names(&output), ["Host", "total", "At"]);
    assert_eq!(
        column(&output, "total"),
        [json!([3, -1, 5]), json!([-1, 7, -1])]
    );
    assert_eq!(
        column(&output, "At")[0],
        json!([
            "2024-01-01T00:00:00.0000000Z",
            "2024-01-01T01:00:00.0000000Z",
            "2024-01-01T02:00:00.0000000Z"
        ])
    );
}

#[test]
fn make_series_reals_datetimes_and_group_order() {
    // Groups come in order of first appearance. Real averages keep their fraction, an empty
    // step of a real series takes the real default, and a datetime aggregate is written as
    // Kusto's datetime text.
    let table = "Host,At,Bytes\nB,2024-01-01T00:10:00Z,1\nA,2024-01-01T00:20:00Z,2\nB,2024-01-01T00:40:00Z,4\nA,2024-01-01T02:00:00Z,6\n";
    let output = run_ok(
        &[("T.csv", table)],
        "T | make-series mean = avg(Bytes) default = 0.5, last = max(At) default = datetime(null), n = count() \
         on At from datetime(2024-01-01) to datetime(2024-01-01 03:00) step 1h by Host",
    );
    assert_eq!(column_names(&output), ["Host", "mean", "last", "n", "At"]);
    assert_eq!(strings(&output, "Host"), ["B", "A"]);
    assert_eq!(
        column(&output, "mean"),
        [json!([2.5, 0.5, 0.5]), json!([2.0, 0.5, 6.0])]
    );
    assert_eq!(
        column(&output, "last"),
        [
            json!(["2024-01-01T00:40:00.0000000Z", null, null]),
            json!([
                "2024-01-01T00:20:00.0000000Z",
                null,
                "2024-01-01T02:00:00.0000000Z"
            ])
        ]
    );
    assert_eq!(column(&output, "n"), [json!([2, 0, 0]), json!([1, 0, 1])]);
}

#[test]
fn sources_without_tables() {
    let output = run_ok(&[("T.csv", "x\n1\n")], "range i from 1 to 10 step 3");
    assert_eq!(
        column(&output, "i"),
        [json!(1), json!(4), json!(7), json!(10)]
    );

    let output = run_ok(
        &[("T.csv", "x\n1\n")],
        r#"datatable(Name: string, N: long, D: dynamic) ["a", 1, dynamic([1]), "b", 2, dynamic({"k": "v"})]"#,
    );
    assert_eq!(column_names(&output), ["Name", "N", "D"]);
    assert_eq!(column(&output, "D"), [json!([1]), json!({"k": "v"})]);

    let output = run_ok(&[("T.csv", "x\n1\n")], "print 1 + 1, s = 'x'");
    assert_eq!(column_names(&output), ["print_0", "s"]);
}

#[test]
fn lets_and_functions() {
    let tables = [("L.csv", LEFT), ("R.csv", RIGHT)];
    let output = run_ok(
        &tables,
        "let bad = R | where R > 25 | project Key; L | where Key in (bad) | project L",
    );
    assert_eq!(column(&output, "L"), [json!(4)]);

    let output = run_ok(
        &tables,
        "let top_r = toscalar(R | summarize max(R)); print m = top_r",
    );
    assert_eq!(column(&output, "m"), [json!(40)]);

    let output = run_ok(
        &tables,
        "let above = (t: long) { R | where R > t }; above(30) | project R",
    );
    assert_eq!(column(&output, "R"), [json!(31), json!(40)]);

    let output = run_ok(
        &tables,
        "let count_by_key = (T: (Key: string)) { T | summarize n = count() by Key }; L | invoke count_by_key() | where Key == 'b'",
    );
    assert_eq!(column(&output, "n"), [json!(2)]);

    let output = run_ok(
        &tables,
        "let m = materialize(L | where L > 1); m | join kind=inner (m) on Key | count",
    );
    // b: 2 x 2, c: 1 x 1, and the empty key of row 5 matches itself once.
    assert_eq!(column(&output, "Count"), [json!(6)]);
}

#[test]
fn serialize_and_row_order() {
    let output = run_ok(
        &[("L.csv", LEFT)],
        "L | order by L asc | serialize n = row_number() | extend p = prev(L), nx = next(Key) | project n, p, nx",
    );
    assert_eq!(
        column(&output, "n"),
        [json!(1), json!(2), json!(3), json!(4), json!(5)]
    );
    assert_eq!(
        column(&output, "p"),
        [json!(null), json!(1), json!(2), json!(3), json!(4)]
    );
    assert_eq!(strings(&output, "nx"), ["b", "b", "c", "", ""]);
}

#[test]
fn top_nested_levels() {
    let table =
        "Country,City,Visits\nUS,NYC,5\nUS,SF,3\nUS,LA,1\nFR,Paris,4\nFR,Lyon,2\nDE,Berlin,1\n";
    let output = run_ok(
        &[("T.csv", table)],
        "T | top-nested 2 of Country by total = sum(Visits), top-nested 1 of City by sum(Visits)",
    );
    assert_eq!(
        column_names(&output),
        ["Country", "total", "City", "aggregated_City"]
    );
    assert_eq!(strings(&output, "Country"), ["US", "FR"]);
    assert_eq!(strings(&output, "City"), ["NYC", "Paris"]);
    assert_eq!(column(&output, "total"), [json!(9), json!(6)]);
}

#[test]
fn small_operators() {
    let bag = "Id,Props\n1,\"{\"\"user\"\":\"\"bob\"\",\"\"n\"\":3}\"\n2,\"{\"\"user\"\":\"\"eve\"\"}\"\n";
    let output = run_ok(
        &[("T.csv", bag)],
        "T | evaluate bag_unpack(Props) | project Id, user, n",
    );
    assert_eq!(strings(&output, "user"), ["bob", "eve"]);
    assert_eq!(column(&output, "n"), [json!(3), json!(null)]);

    let output = run_ok(&[("L.csv", LEFT)], "L | getschema");
    assert_eq!(strings(&output, "ColumnName"), ["Key", "L"]);
    assert_eq!(strings(&output, "ColumnType"), ["string", "long"]);

    let output = run_ok(&[("L.csv", LEFT)], "L | sample 2 | count");
    assert_eq!(column(&output, "Count"), [json!(2)]);

    let output = run_ok(
        &[("L.csv", LEFT)],
        "L | project-reorder L | project-keep L*",
    );
    assert_eq!(column_names(&output), ["L"]);

    let output = run_ok(
        &[("L.csv", LEFT), ("R.csv", RIGHT)],
        "union withsource=Source L, R | summarize n = count() by Source | order by Source asc",
    );
    assert_eq!(column(&output, "n"), [json!(5), json!(4)]);

    let output = run_ok(
        &[("L.csv", LEFT), ("R.csv", RIGHT)],
        "search \"d\" | project R",
    );
    assert_eq!(column(&output, "R"), [json!(40)]);
}

#[test]
fn errors_name_the_construct() {
    let query = "L | evaluate autocluster()";
    let error = run_csv(&[("L.csv", LEFT)], query).unwrap_err();
    assert!(
        error.message.contains("`autocluster` plugin"),
        "{}",
        error.message
    );
    assert_eq!(error.range, Some(13..26));

    let error = run_csv(&[("L.csv", LEFT)], "L | where L > 'x'").unwrap_err();
    assert!(error.message.contains("`L`"), "{}", error.message);

    let error = run_csv(&[("L.csv", LEFT)], "range i from 1 to 10 step 0").unwrap_err();
    assert!(error.message.contains("non-zero step"), "{}", error.message);
}

#[test]
fn parse_kv_with_quotes() {
    let table = "Msg\n\"user=bob;msg='a;b';port=22\"\nport=x\n";
    let output = run_ok(
        &[("T.csv", table)],
        r#"T | parse-kv Msg as (user: string, msg: string, port: long) with (pair_delimiter=";", kv_delimiter="=", quote="'")"#,
    );
    assert_eq!(strings(&output, "user"), ["bob", ""]);
    assert_eq!(strings(&output, "msg"), ["a;b", ""]);
    assert_eq!(column(&output, "port"), [json!(22), json!(null)]);

    let error = run_csv(&[("T.csv", table)], "T | parse-kv Msg as (user: string)").unwrap_err();
    assert!(
        error.message.contains("pair_delimiter"),
        "{}",
        error.message
    );
}

#[test]
fn in_subquery() {
    let output = run_ok(
        &[("L.csv", LEFT), ("R.csv", RIGHT)],
        "L | where Key in ((R | where R >= 30 | project Key)) | project L",
    );
    assert_eq!(column(&output, "L"), [json!(4)]);

    let output = run_ok(
        &[("L.csv", LEFT), ("R.csv", RIGHT)],
        "let picked = L | where Key !in ((R | project Key)) | project L; picked",
    );
    assert_eq!(column(&output, "L"), [json!(1), json!(5)]);
}

#[test]
fn has_any_expands_lists() {
    let table = "Cmd\ncmd /c whoami\npowershell -enc abc\nnotepad x.txt\n";
    let output = run_ok(
        &[("T.csv", table)],
        r#"let terms = dynamic(["whoami", "-enc"]); T | where Cmd has_any (terms) | project Cmd"#,
    );
    assert_eq!(
        strings(&output, "Cmd"),
        ["cmd /c whoami", "powershell -enc abc"]
    );

    let output = run_ok(
        &[("T.csv", table), ("Iocs.csv", "Term\nnotepad\n")],
        "T | where Cmd has_any (Iocs | project Term) | project Cmd",
    );
    assert_eq!(strings(&output, "Cmd"), ["notepad x.txt"]);

    let output = run_ok(
        &[("T.csv", table)],
        r#"T | where Cmd has_all (dynamic(["powershell", "abc"])) | count"#,
    );
    assert_eq!(column(&output, "Count"), [json!(1)]);
}

#[test]
fn top_matches_sort_and_take() {
    // `top` first finds the key of its nth row and keeps only rows that can rank, but `order
    // by` and `take` do not. Both must return the same rows in the same order, ties and nulls
    // included.
    let table = "Id,K,At\n1,5,2024-01-01T00:00:05Z\n2,,2024-01-01T00:00:01Z\n3,7,\n4,5,2024-01-01T00:00:07Z\n\
                 5,9,2024-01-01T00:00:05Z\n6,5,2024-01-01T00:00:05Z\n7,,2024-01-01T00:00:09Z\n8,1,2024-01-01T00:00:02Z\n";
    for (top, sorted) in [
        ("top 3 by K desc", "order by K desc | take 3"),
        ("top 4 by K desc", "order by K desc | take 4"),
        (
            "top 2 by K asc nulls last",
            "order by K asc nulls last | take 2",
        ),
        ("top 3 by K asc", "order by K asc | take 3"),
        ("top 7 by K desc", "order by K desc | take 7"),
        ("top 20 by K desc", "order by K desc | take 20"),
        ("top 3 by At desc", "order by At desc | take 3"),
        (
            "top 2 by At asc nulls last",
            "order by At asc nulls last | take 2",
        ),
        ("top 0 by K desc", "order by K desc | take 0"),
    ] {
        let fast = run_ok(&[("T.csv", table)], &format!("T | {top} | project Id"));
        let slow = run_ok(&[("T.csv", table)], &format!("T | {sorted} | project Id"));
        assert_eq!(fast.rows, slow.rows, "{top}");
    }
    let output = run_ok(&[("T.csv", table)], "T | top 4 by K desc | project Id");
    assert_eq!(
        column(&output, "Id"),
        [json!(5), json!(3), json!(1), json!(4)]
    );
}
