//! Scalar and aggregate functions, each checked against values worked out by hand from
//! Kusto's documented definitions.

mod common;

use common::{column, column_types, run_ok};
use serde_json::{Value, json};

/// Runs `print`-style queries that need no table; the CSV only gives the folder a file.
fn eval(query: &str) -> Vec<Value> {
    let output = run_ok(&[("T.csv", "x\n1\n")], query);
    output.rows.into_iter().next().expect("one row")
}

fn one(expression: &str) -> Value {
    eval(&format!("print r = {expression}"))[0].clone()
}

#[test]
fn string_functions() {
    assert_eq!(
        one(r#"extract(@"(\d+)\.exe", 1, "a 42.exe b")"#),
        json!("42")
    );
    assert_eq!(one(r#"extract("x(\\d+)", 1, "nothing")"#), json!(""));
    assert_eq!(
        one(r#"extract("n=(\\d+)", 1, "n=7", typeof(long))"#),
        json!(7)
    );
    assert_eq!(
        one(r#"extract_all(@"(\w)=(\d)", "a=1 b=2")"#),
        json!([["a", "1"], ["b", "2"]])
    );

    assert_eq!(one(r#"split("a.b.c", ".")"#), json!(["a", "b", "c"]));
    assert_eq!(one(r#"split("a.b.c", ".", 1)"#), json!(["b"]));
    assert_eq!(one(r#"replace_string("aXbX", "X", "-")"#), json!("a-b-"));
    assert_eq!(
        one(r#"replace_regex("user=bob", @"user=(\w+)", @"name=\1")"#),
        json!("name=bob")
    );
    assert_eq!(one(r#"trim(@"\s+", "  hi  ")"#), json!("hi"));
    assert_eq!(one(r#"trim_start("x", "xxhix")"#), json!("hix"));

    assert_eq!(one(r#"substring("abcdef", 2, 3)"#), json!("cde"));
    assert_eq!(one(r#"indexof("abcabc", "c")"#), json!(2));
    assert_eq!(one(r#"indexof("abcabc", "c", 0, -1, 2)"#), json!(5));
    assert_eq!(one(r#"indexof("abc", "z")"#), json!(-1));
    assert_eq!(one(r#"countof("aaaa", "aa")"#), json!(2));
    assert_eq!(one(r#"strcat_delim("-", "a", 1, true)"#), json!("a-1-true"));
    assert_eq!(one(r#"reverse("abc")"#), json!("cba"));

    assert_eq!(one(r#"base64_decode_tostring("aGVsbG8=")"#), json!("hello"));
    assert_eq!(one(r#"base64_encode_tostring("hello")"#), json!("aGVsbG8="));
    assert_eq!(one(r#"url_decode("a%20b%2Fc")"#), json!("a b/c"));
    // SHA-256 and MD5 of "abc" from FIPS 180-2 and RFC 1321.
    assert_eq!(
        one(r#"hash_sha256("abc")"#),
        json!("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    );
    assert_eq!(
        one(r#"hash_md5("abc")"#),
        json!("900150983cd24fb0d6963f7d28e17f72")
    );
    assert_eq!(one(r#"tohex(255)"#), json!("ff"));
    assert_eq!(one(r#"strcmp("a", "b")"#), json!(-1));
}

#[test]
fn string_parsers() {
    assert_eq!(
        one(r#"parse_command_line(@"powershell.exe -enc ""a b"" c", "windows")"#),
        json!(["powershell.exe", "-enc", "a b", "c"])
    );
    let url = one(r#"parse_url("https://evil.example:8443/p/a.php?id=7#top")"#);
    assert_eq!(url["Host"], json!("evil.example"));
    assert_eq!(url["Port"], json!("8443"));
    assert_eq!(url["Path"], json!("/p/a.php"));
    assert_eq!(url["Query Parameters"]["id"], json!("7"));
    assert_eq!(url["Fragment"], json!("top"));
    let path = one(r#"parse_path(@"C:\Temp\x\payload.dll")"#);
    assert_eq!(path["Filename"], json!("payload.dll"));
    assert_eq!(path["Extension"], json!("dll"));
    assert_eq!(path["DirectoryName"], json!("x"));
}

#[test]
fn has_uses_term_boundaries() {
    let row = eval(
        r#"print a = "cmd.exe /c whoami" has "whoami", b = "cmd.exe /c whoamix" has "whoami", c = "x-enc y" has "-enc", d = "Powershell" hasprefix "power""#,
    );
    assert_eq!(
        row,
        vec![json!(true), json!(false), json!(true), json!(true)]
    );
}

#[test]
fn dynamic_access_and_builders() {
    let row = eval(
        r#"print d = parse_json('{"a": {"b": [10, 20, 30]}, "s": "x"}') | project b0 = d.a.b[0], last = d["a"]["b"][-1], s = tostring(d.s), missing = isnull(d.zz), n = array_length(d.a.b)"#,
    );
    assert_eq!(
        row,
        vec![json!(10), json!(30), json!("x"), json!(true), json!(3)]
    );

    assert_eq!(one(r#"pack_array(1, "a", true)"#), json!([1, "a", true]));
    assert_eq!(
        one(r#"bag_pack("k", 1, "v", "x")"#),
        json!({"k": 1, "v": "x"})
    );
    assert_eq!(one(r#"set_has_element(dynamic([1, 2]), 2)"#), json!(true));
    assert_eq!(one(r#"array_index_of(dynamic(["a", "b"]), "b")"#), json!(1));
    assert_eq!(
        one(r#"bag_keys(dynamic({"x": 1, "y": 2}))"#),
        json!(["x", "y"])
    );
    assert_eq!(
        one(r#"array_concat(dynamic([1]), dynamic([2, 3]))"#),
        json!([1, 2, 3])
    );
    assert_eq!(
        one(r#"array_slice(dynamic([1, 2, 3, 4]), 1, 2)"#),
        json!([2, 3])
    );
    assert_eq!(
        one(r#"array_sort_asc(dynamic([3, 1, 2]))"#),
        json!([1, 2, 3])
    );
    assert_eq!(
        one(r#"set_union(dynamic([1, 2]), dynamic([2, 3]))"#),
        json!([1, 2, 3])
    );
    assert_eq!(
        one(r#"set_difference(dynamic([1, 2, 3]), dynamic([2]))"#),
        json!([1, 3])
    );

    assert_eq!(one(r#"parse_json("not json")"#), json!("not json"));
    assert_eq!(one(r#"gettype(dynamic([1]))"#), json!("array"));
    assert_eq!(
        one(r#"extract_json("$.a[1]", '{"a": [5, 6]}', typeof(long))"#),
        json!(6)
    );
}

#[test]
fn dynamic_compares_as_scalar() {
    let row = eval(
        r#"print d = dynamic({"n": 5, "s": "x"}) | project a = d.n > 4, b = d.s == "x", c = d.n + 1"#,
    );
    assert_eq!(row, vec![json!(true), json!(true), json!(6)]);
}

#[test]
fn datetime_functions() {
    // 2024-03-13 is a Wednesday.
    let t = "datetime(2024-03-13 17:45:30.5)";
    let row = eval(&format!(
        "print a = startofday({t}), b = startofweek({t}), c = startofmonth({t}), d = endofday({t}), e = dayofweek({t}), f = hourofday({t}), g = getmonth({t}), h = dayofyear({t})"
    ));
    assert_eq!(
        row,
        vec![
            json!("2024-03-13T00:00:00.0000000Z"),
            json!("2024-03-10T00:00:00.0000000Z"),
            json!("2024-03-01T00:00:00.0000000Z"),
            json!("2024-03-13T23:59:59.9999999Z"),
            json!("3.00:00:00"),
            json!(17),
            json!(3),
            json!(73),
        ]
    );
    let row = eval(&format!(
        "print a = datetime_diff('day', {t}, datetime(2024-03-10 23:00)), b = datetime_diff('month', {t}, datetime(2023-12-31)), c = datetime_add('month', 1, datetime(2024-01-31)), d = format_datetime({t}, 'yyyy-MM-dd HH:mm:ss.f'), e = format_timespan(1d + 2h + 3m, 'd.hh:mm')"
    ));
    assert_eq!(
        row,
        vec![
            json!(3),
            json!(3),
            json!("2024-02-29T00:00:00.0000000Z"),
            json!("2024-03-13 17:45:30.5"),
            json!("1.02:03"),
        ]
    );
    let row = eval(
        r#"print a = todatetime("2024-01-02T03:04:05Z"), b = unixtime_seconds_todatetime(86400), c = totimespan("01:30:00"), d = make_datetime(2024, 2, 3)"#,
    );
    assert_eq!(
        row,
        vec![
            json!("2024-01-02T03:04:05.0000000Z"),
            json!("1970-01-02T00:00:00.0000000Z"),
            json!("01:30:00"),
            json!("2024-02-03T00:00:00.0000000Z"),
        ]
    );
}

#[test]
fn conversions_and_math() {
    let row = eval(
        r#"print a = tostring(1.5), b = tostring(datetime(2024-01-01)), c = tolong("12"), d = todouble("x"), e = tobool("TRUE"), f = round(2.567, 2), g = abs(-3), h = pow(2, 10), i = -7 % 2, j = 7 / 2"#,
    );
    assert_eq!(
        row,
        vec![
            json!("1.5"),
            json!("2024-01-01T00:00:00.0000000Z"),
            json!(12),
            Value::Null,
            json!(true),
            json!(2.57),
            json!(3),
            json!(1024.0),
            json!(-1),
            json!(3),
        ]
    );
}

#[test]
fn conditionals() {
    let row = eval(
        r#"print a = case(1 > 2, "x", 2 > 1, "y", "z"), b = coalesce("", "second"), c = coalesce(long(null), 3), d = iff(true, 1, 2.5), e = max_of(3, 7, 5), f = min_of(4, 2)"#,
    );
    assert_eq!(
        row,
        vec![
            json!("y"),
            json!("second"),
            json!(3),
            json!(1.0),
            json!(7),
            json!(2)
        ]
    );
}

#[test]
fn ip_functions() {
    let row = eval(
        r#"print a = ipv4_is_private("10.1.2.3"), b = ipv4_is_private("8.8.8.8"), c = ipv4_is_in_range("192.168.1.7", "192.168.1.0/24"), d = ipv4_is_in_any_range("1.2.3.4", "10.0.0.0/8", "1.2.0.0/16"), e = ipv4_is_match("10.0.0.1/24", "10.0.0.200/24"), f = parse_ipv4("1.2.3.4"), g = has_ipv4("src=10.0.0.1:443", "10.0.0.1"), h = has_ipv4_prefix("dst 172.16.5.4", "172.16."), i = ipv6_compare("::ffff:1.2.3.4", "1.2.3.4")"#,
    );
    assert_eq!(
        row,
        vec![
            json!(true),
            json!(false),
            json!(true),
            json!(true),
            json!(true),
            json!(16_909_060),
            json!(true),
            json!(true),
            json!(0),
        ]
    );
}

const SALES: &str = "Host,Bytes,Ok,At\nA,10,true,2024-01-01T00:00:00Z\nA,30,false,2024-01-01T02:00:00Z\nA,20,true,2024-01-01T01:00:00Z\nB,5,true,2024-01-01T03:00:00Z\nB,,false,2024-01-01T04:00:00Z\n";

#[test]
fn arg_max_returns_the_row() {
    let output = run_ok(
        &[("S.csv", SALES)],
        "S | summarize arg_max(Bytes, *) by Host | order by Host asc",
    );
    assert_eq!(common::column_names(&output), ["Host", "Bytes", "Ok", "At"]);
    assert_eq!(column(&output, "Bytes"), [json!(30), json!(5)]);
    assert_eq!(column(&output, "Ok"), [json!(false), json!(true)]);
    let output = run_ok(
        &[("S.csv", SALES)],
        "S | summarize arg_min(At, Bytes) by Host | order by Host asc",
    );
    assert_eq!(column(&output, "Bytes"), [json!(10), json!(5)]);
}

#[test]
fn statistics_aggregates() {
    // Bytes of A: 10, 30, 20. Sample variance ((10-20)^2 + 10^2 + 0) / 2 = 100.
    let output = run_ok(
        &[("S.csv", SALES)],
        "S | where Host == 'A' | summarize v = variance(Bytes), s = stdev(Bytes), p = percentile(Bytes, 50), percentiles(Bytes, 0, 100), l = make_list_if(Bytes, Ok), b = make_bag(bag_pack(Host, Bytes))",
    );
    assert_eq!(
        common::column_names(&output),
        [
            "v",
            "s",
            "p",
            "percentile_Bytes_0",
            "percentile_Bytes_100",
            "l",
            "b"
        ]
    );
    assert_eq!(
        output.rows[0],
        vec![
            json!(100.0),
            json!(10.0),
            json!(20),
            json!(10),
            json!(30),
            json!([10, 20]),
            json!({"A": 10}),
        ]
    );
    assert_eq!(
        column_types(&output),
        ["real", "real", "long", "long", "long", "dynamic", "dynamic"]
    );
}

#[test]
fn make_set_limit_and_nulls() {
    let output = run_ok(
        &[("S.csv", SALES)],
        "S | summarize s = make_set(Host, 1), l = make_list(Bytes), n = make_list_with_nulls(Bytes)",
    );
    assert_eq!(output.rows[0][0], json!(["A"]));
    assert_eq!(output.rows[0][1], json!([10, 30, 20, 5]));
    assert_eq!(output.rows[0][2], json!([10, 30, 20, 5, null]));
}

#[test]
fn series_functions() {
    let row = eval(
        r#"print s = dynamic([1, null, 3]) | project a = series_fill_linear(s), b = series_fill_forward(s), c = series_add(dynamic([1, 2]), 10), d = series_fir(dynamic([1, 2, 3]), dynamic([1, 1]), false)"#,
    );
    assert_eq!(
        row,
        vec![
            json!([1, 2, 3]),
            json!([1, 1, 3]),
            json!([11, 12]),
            json!([1, 3, 5]),
        ]
    );
    let row = eval(
        "print s = dynamic([10, 11, 10, 12, 10, 11, 10, 12, 10, 11, 90, 11, 10, 12, 10, 11]) | extend (flags, score, baseline) = series_decompose_anomalies(s) | project f = flags[10], others = array_sum(flags) - 1",
    );
    assert_eq!(row, vec![json!(1), json!(0.0)]);
}

#[test]
fn user_functions_inline() {
    let row = eval(
        "let twice = (x: long, y: long = 1) { x * 2 + y }; print a = twice(5), b = twice(5, 0)",
    );
    assert_eq!(row, vec![json!(11), json!(10)]);
}

#[test]
fn corpus_extras() {
    let row = eval(
        r#"print a = bag_zip(dynamic(["k", "v"]), dynamic([1, 2])), b = array_iff(dynamic([true, false]), dynamic([1, 2]), 0), c = array_shift_left(dynamic([1, 2, 3]), 1), d = array_rotate_right(dynamic([1, 2, 3]), 1), e = repeat("x", 2), f = replace_strings("ab", dynamic(["a", "b"]), dynamic(["b", "c"])), g = strlen(new_guid())"#,
    );
    assert_eq!(
        row,
        vec![
            json!({"k": 1, "v": 2}),
            json!([1, 0]),
            json!([2, 3, null]),
            json!([3, 1, 2]),
            json!(["x", "x"]),
            json!("bc"),
            json!(36),
        ]
    );
    let row = eval(
        "print s = dynamic([1, 3, 5, 7]) | extend (rsquare, slope) = series_fit_line(s) | project rsquare, slope",
    );
    assert_eq!(row, vec![json!(1.0), json!(2.0)]);
    let output = run_ok(
        &[("T.csv", "v\n1\n\n3\n")],
        "T | serialize s = row_cumsum(v) | project s",
    );
    assert_eq!(column(&output, "s"), [json!(1), json!(1), json!(4)]);
}

#[test]
fn rand_in_where_draws_per_row() {
    // `where rand() < 0.5` keeps about half of the rows. A draw shared by the whole frame
    // keeps all of them or none, which this catches with a failure chance far below 1e-9.
    let rows: String = (0..2_000).map(|i| format!("{i}\n")).collect();
    let table = format!("x\n{rows}");
    for (query, low, high) in [
        ("T | where rand() < 0.5 | count", 800, 1_200),
        ("T | where rand(10) < 5 | count", 800, 1_200),
        ("T | where x > 999 and rand() < 0.25 | count", 150, 350),
    ] {
        let output = run_ok(&[("T.csv", &table)], query);
        let kept = output.rows[0][0].as_i64().unwrap();
        assert!((low..=high).contains(&kept), "{query}: {kept}");
    }
}

#[test]
fn new_guid_differs_per_row() {
    let output = run_ok(
        &[("T.csv", "x\n1\n")],
        "range i from 1 to 200 step 1 | extend g = new_guid() \
         | summarize n = dcount(g), shapes = dcount(strlen(g)), v = take_any(substring(g, 14, 1))",
    );
    assert_eq!(output.rows[0][0], json!(200));
    assert_eq!(output.rows[0][1], json!(1));
    assert_eq!(output.rows[0][2], json!("4"), "a version 4 GUID");
}

#[test]
fn string_branches_are_never_null() {
    // A null branch of a string `iff()` or `case()` gives "", so summarize makes one group of them.
    let output = run_ok(
        &[("T.csv", "x\n1\n2\n3\n")],
        "T | extend s = iff(x == 1, \"a\", string(null)), c = case(x == 1, \"a\", x == 2, string(null), \"\") \
         | summarize n = count() by s, c | order by s asc",
    );
    assert_eq!(
        output.rows,
        [
            vec![json!(""), json!(""), json!(2)],
            vec![json!("a"), json!("a"), json!(1)]
        ]
    );
}
