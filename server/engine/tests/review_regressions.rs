//! Queries where the engine's speed-ups (plan rewrites, per-distinct-value memos, join key
//! filters, the `top` threshold and the Parquet scan settings) gave other rows, names or types
//! than the same query run without them.
//!
//! Most checks run a query twice, once as written and once with an operator inserted that the
//! rewrite does not look through (`where true` before `summarize`, `serialize` after
//! `mv-expand`), and both runs must agree. The Parquet checks compare the lazy scan with the
//! eager loader.

mod common;

use common::{column, column_names, column_types, run_ok, strings};
use serde_json::json;

const LINES: &str = "Host,Line,Num\nh1,a b c,1\nh2,a b,2\nh1,,3\nh3,c c,4\nh2,a b,5\n";

/// Runs `query` and `reference` over the same tables and checks that names, types and rows
/// agree.
fn assert_same_output(tables: &[(&str, &str)], query: &str, reference: &str) {
    let output = run_ok(tables, query);
    let expected = run_ok(tables, reference);
    assert_eq!(column_names(&output), column_names(&expected), "{query}");
    assert_eq!(column_types(&output), column_types(&expected), "{query}");
    assert_eq!(output.rows, expected.rows, "{query}");
}

#[test]
fn count_first_keeps_zero_signs_apart() {
    // Grouping treats -0.0 and 0.0 as one key, but their text differs, so counting distinct
    // inputs first would merge the "-0" and "0" rows.
    let tables = [("F.csv", "R\n0.0\n-0.0\n1.5\n-0.0\n")];
    for (query, reference) in [
        (
            "F | mv-expand P = pack_array(R, R) | summarize n = count() by tostring(P)",
            "F | mv-expand P = pack_array(R, R) | where true | summarize n = count() by tostring(P)",
        ),
        (
            "F | parse tostring(1 / R) with A:string | summarize n = count() by A",
            "F | parse tostring(1 / R) with A:string | where true | summarize n = count() by A",
        ),
    ] {
        assert_same_output(&tables, query, reference);
    }
    let output = run_ok(
        &tables,
        "F | parse tostring(1 / R) with A:string | summarize n = count() by A",
    );
    assert_eq!(
        strings(&output, "A"),
        ["Infinity", "-Infinity", "0.6666666666666666"]
    );
    assert_eq!(column(&output, "n"), [json!(1), json!(2), json!(1)]);

    // The same inside a list column read from JSON lines.
    let lists = [(
        "L.json",
        "{\"Items\":[0.0]}\n{\"Items\":[-0.0]}\n{\"Items\":[-0.0]}\n",
    )];
    assert_same_output(
        &lists,
        "L | mv-expand Items | summarize n = count() by tostring(Items)",
        "L | mv-expand Items | where true | summarize n = count() by tostring(Items)",
    );
}

#[test]
fn count_first_default_name_clash() {
    // An unnamed count() is named count_ only when no key or other aggregate has that name,
    // so the rewrite must not name it count_ explicitly.
    let tables = [("T.csv", LINES)];
    for (query, reference) in [
        (
            "T | mv-expand P = split(Line, \" \") | summarize count_ = count(), count() by tostring(P)",
            "T | mv-expand P = split(Line, \" \") | where true | summarize count_ = count(), count() by tostring(P)",
        ),
        (
            "T | mv-expand P = split(Line, \" \") | summarize count() by count_ = tostring(P)",
            "T | mv-expand P = split(Line, \" \") | where true | summarize count() by count_ = tostring(P)",
        ),
        (
            "T | parse Line with count_ \" \" * | summarize count() by count_",
            "T | parse Line with count_ \" \" * | where true | summarize count() by count_",
        ),
    ] {
        assert_same_output(&tables, query, reference);
    }
    let output = run_ok(
        &tables,
        "T | parse Line with count_ \" \" * | summarize count() by count_",
    );
    assert_eq!(column_names(&output), ["count_", "count_1"]);
}

#[test]
fn count_first_let_function_reads_columns() {
    // A `let` function body may read columns that the call does not pass, so the first
    // summarize must not drop them.
    let tables = [("T.csv", LINES)];
    let query = "let f = (x:string) { strcat(x, Host) }; \
                 T | parse Line with A \" \" * | summarize n = count() by h = f(A)";
    let reference = "let f = (x:string) { strcat(x, Host) }; \
                     T | parse Line with A \" \" * | where true | summarize n = count() by h = f(A)";
    assert_same_output(&tables, query, reference);
    let output = run_ok(&tables, query);
    assert_eq!(strings(&output, "h"), ["ah1", "ah2", "h1", "ch3"]);
}

#[test]
fn split_as_text_star_keeps_dynamic() {
    // `arg_max(..., *)` outputs every column, so the parts of split() show as dynamic.
    let tables = [("T.csv", LINES)];
    let query = "T | mv-expand P = split(Line, \" \") | summarize arg_max(Num, *) by Host";
    let reference =
        "T | mv-expand P = split(Line, \" \") | serialize | summarize arg_max(Num, *) by Host";
    assert_same_output(&tables, query, reference);
    let output = run_ok(&tables, query);
    assert_eq!(
        column_types(&output),
        ["string", "long", "string", "dynamic"]
    );
}

#[test]
fn split_as_text_let_function_reads_part() {
    // The function body reads P itself. parse_json keeps a dynamic string as it is but turns
    // the text "1" into a number.
    let tables = [("U.csv", "Line\n1 2\n")];
    let function = "let g = () { gettype(parse_json(P)) };";
    let query = format!("{function} U | mv-expand P = split(Line, \" \") | project x = g()");
    let reference =
        format!("{function} U | mv-expand P = split(Line, \" \") | serialize | project x = g()");
    assert_same_output(&tables, &query, &reference);
    assert_eq!(strings(&run_ok(&tables, &query), "x"), ["string", "string"]);
}

/// Returns 2,000 rows with distinct ids. Filtering a second random draw by the threshold of a
/// first one leaves fewer than 5 of them in roughly half the runs (an estimate).
fn numbered_rows() -> String {
    let mut text = String::from("Id,V\n");
    for id in 0..2000 {
        text.push_str(&format!("{id},{}\n", id % 50));
    }
    text
}

#[test]
fn top_random_input_keeps_n_rows() {
    // `top` over random values must not run its input twice, because a threshold from one
    // draw would filter another draw and leave fewer than n rows.
    let rows = numbered_rows();
    let tables = [("Big.csv", rows.as_str())];
    for query in [
        "Big | top 5 by rand(1000000)",
        "Big | extend r = rand(1000000) | top 5 by r",
        "Big | where rand() < 0.5 | top 5 by Id",
    ] {
        for _ in 0..20 {
            let output = run_ok(&tables, query);
            assert_eq!(output.rows.len(), 5, "{query}");
        }
    }
}

#[test]
fn top_matches_order_take() {
    let tables = [(
        "TP.csv",
        "Id,V,W\n1,5,a\n2,,b\n3,5,c\n4,7,d\n5,5,e\n6,3,f\n",
    )];
    for (query, reference) in [
        ("TP | top 3 by V", "TP | order by V desc | take 3"),
        (
            "TP | top 2 by V asc nulls last",
            "TP | order by V asc nulls last | take 2",
        ),
        ("TP | top 5 by V", "TP | order by V desc | take 5"),
        ("TP | top 3 by -V", "TP | order by -V desc | take 3"),
        (
            "TP | where Id > 1 | top 1 by V",
            "TP | where Id > 1 | order by V desc | take 1",
        ),
    ] {
        assert_same_output(&tables, query, reference);
    }
}

#[test]
fn join_key_filter_keeps_matches() {
    // Float keys with zero signs, NaN and nulls, int against long keys, and two keys.
    let tables = [
        ("FL.csv", "K,A\n0.0,a\n-0.0,b\nNaN,c\n1.5,d\n,e\n"),
        ("FR.csv", "K,B\n0.0,x\nNaN,y\n,z\n"),
        ("IL.csv", "K,A\n1,a\n2,b\n3,c\n"),
    ];
    for (query, reference) in [
        (
            "FL | join kind=inner FR on K | project A, B",
            "FL | join kind=leftouter FR on K | where isnotempty(B) | project A, B",
        ),
        (
            "FL | join kind=leftsemi FR on K | project A",
            "FL | join kind=leftouter FR on K | where isnotempty(B) | project A",
        ),
        (
            "FL | join kind=rightouter FR on K | project A, B",
            "FL | join kind=fullouter FR on K | where isnotempty(B) | project A, B",
        ),
        (
            "IL | join kind=inner (datatable(K:int, B:string)[1, \"x\", 3, \"y\"]) on K | project A, B",
            "IL | join kind=leftouter (datatable(K:int, B:string)[1, \"x\", 3, \"y\"]) on K | where isnotempty(B) | project A, B",
        ),
    ] {
        assert_same_output(&tables, query, reference);
    }
    let output = run_ok(
        &tables,
        "IL | join kind=innerunique (datatable(R:long, B:string)[3, \"x\", 1, \"y\", 3, \"z\"]) \
         on $left.K == $right.R | order by A asc, B asc | project A, B",
    );
    assert_eq!(strings(&output, "A"), ["a", "c", "c"]);
    assert_eq!(strings(&output, "B"), ["y", "x", "z"]);

    let output = run_ok(
        &tables,
        "IL | extend K2 = strcat(A, \"!\") \
         | join kind=inner (datatable(K2:string, K:long, B:string)[\"a!\", 3, \"x\", \"c!\", 3, \"y\", \"b!\", 2, \"z\"]) on K, K2 \
         | order by A asc | project A, B",
    );
    assert_eq!(strings(&output, "A"), ["b", "c"]);
    assert_eq!(strings(&output, "B"), ["z", "y"]);
}

#[test]
fn count_first_matches_plain_runs() {
    let lines = [("T.csv", LINES)];
    let json = [(
        "J.json",
        "{\"Id\":1,\"Items\":[\"a\",\"b\"],\"Bag\":{\"k\":1,\"v\":2}}\n\
         {\"Id\":2,\"Items\":[],\"Bag\":{}}\n\
         {\"Id\":3,\"Items\":null,\"Bag\":null}\n\
         {\"Id\":4,\"Items\":[\"a\",[\"b\"],1,null],\"Bag\":{\"k\":3}}\n\
         {\"Id\":5,\"Items\":[\"a\",\"b\"],\"Bag\":{\"k\":1,\"v\":2}}\n",
    )];
    // Each case is (tables, the query up to the expansion, the summarize after it).
    type Case<'a> = (&'a [(&'a str, &'a str)], &'a str, &'a str);
    let cases: [Case; 10] = [
        (
            &lines,
            "T | mv-expand P = split(Line, \" \") limit 1",
            "summarize count() by tostring(P)",
        ),
        (
            &lines,
            "T | mv-expand with_itemindex=I P = split(Line, \" \")",
            "summarize c = count() by I",
        ),
        (
            &lines,
            "T | mv-expand P = split(Line, \" \")",
            "summarize a = count(), b = count() by tostring(P), Line",
        ),
        (
            &lines,
            "T | parse-where kind=regex Line with A:string \" \" B:string",
            "summarize count() by B",
        ),
        (
            &lines,
            "T | parse kind=relaxed Line with A \" \" B:long",
            "summarize count() by B",
        ),
        (
            &lines,
            "T | parse Line with Line \" \" B",
            "summarize count() by Line",
        ),
        (
            &json,
            "J | mv-expand Items",
            "summarize count() by tostring(Items)",
        ),
        (
            &json,
            "J | mv-expand Bag",
            "summarize n = count() by tostring(Bag)",
        ),
        (
            &json,
            "J | mv-expand kind=array Bag",
            "summarize n = count() by tostring(Bag)",
        ),
        (
            &json,
            "J | mv-expand with_itemindex=i Items",
            "summarize n = count() by i",
        ),
    ];
    for (tables, head, tail) in cases {
        assert_same_output(
            tables,
            &format!("{head} | {tail}"),
            &format!("{head} | where true | {tail}"),
        );
    }
}

mod parquet {
    //! The lazy Parquet scan against the eager loader, which reads the same files whole.

    use std::fs::File;
    use std::path::Path;

    use polars::prelude::*;
    use quarry_engine::load;

    use super::common::TempFolder;

    fn write_parquet(path: &Path, frame: &mut DataFrame, row_group_rows: usize) {
        ParquetWriter::new(File::create(path).expect("the temporary folder is writable"))
            .with_statistics(StatisticsOptions::full())
            .with_row_group_size(Some(row_group_rows))
            .finish(frame)
            .expect("polars writes the test frame");
    }

    /// Reads table `name` of `folder` through the scan and through the eager loader.
    fn scanned_and_loaded(folder: &Path, name: &str) -> (DataFrame, DataFrame) {
        let tables = load::list_tables(folder).expect("the folder lists");
        let file = &tables[name];
        let loaded = load::load_table(file).expect("the loader reads the table");
        let scanned = load::scan::scan_table(file)
            .expect("the scan plans")
            .expect("parquet scans lazily")
            .collect()
            .expect("the scan runs");
        (scanned, loaded)
    }

    fn strings(frame: &DataFrame, name: &str) -> Vec<Option<String>> {
        let column = frame.column(name).expect("the column exists");
        column
            .str()
            .expect("a string column")
            .iter()
            .map(|text| text.map(str::to_owned))
            .collect()
    }

    #[test]
    fn nulls_in_one_row_group() {
        let folder = TempFolder::new();
        let texts = [Some("a"), Some("b"), Some("c"), None, Some("e"), Some("f")];
        let column = Series::new("S".into(), texts).into_column();
        let mut frame = DataFrame::new(6, vec![column]).unwrap();
        write_parquet(&folder.path.join("t.parquet"), &mut frame, 3);

        let (scanned, loaded) = scanned_and_loaded(&folder.path, "t");
        let expected = ["a", "b", "c", "", "e", "f"].map(|t| Some(t.to_owned()));
        assert_eq!(strings(&loaded, "S"), expected);
        assert_eq!(strings(&scanned, "S"), expected);
    }

    #[test]
    fn nulls_in_one_part_of_several() {
        let folder = TempFolder::new();
        let parts = folder.path.join("t");
        std::fs::create_dir(&parts).unwrap();
        let full = Series::new("S".into(), [Some("a"), Some("b")]).into_column();
        let gappy = Series::new("S".into(), [None, Some("d")]).into_column();
        write_parquet(
            &parts.join("part-0.parquet"),
            &mut DataFrame::new(2, vec![full]).unwrap(),
            2,
        );
        write_parquet(
            &parts.join("part-1.parquet"),
            &mut DataFrame::new(2, vec![gappy]).unwrap(),
            2,
        );

        let (scanned, loaded) = scanned_and_loaded(&folder.path, "t");
        let expected = ["a", "b", "", "d"].map(|t| Some(t.to_owned()));
        assert_eq!(strings(&loaded, "S"), expected);
        assert_eq!(strings(&scanned, "S"), expected);
    }

    /// Returns the nanoseconds since the epoch in datetime column `name`.
    fn nanoseconds(frame: &DataFrame, name: &str) -> Vec<Option<i64>> {
        let column = frame.column(name).expect("the column exists");
        assert_eq!(
            column.dtype(),
            &DataType::Datetime(TimeUnit::Nanoseconds, None),
            "{name}"
        );
        column
            .cast(&DataType::Int64)
            .unwrap()
            .i64()
            .unwrap()
            .iter()
            .collect()
    }

    #[test]
    fn milli_and_micro_times_with_zones() {
        let folder = TempFolder::new();
        // 2023-11-14T22:13:20Z, a null, and 1970-01-01T00:00:00.001Z.
        let millis = [Some(1_700_000_000_000i64), None, Some(1)];
        let zones: [(&str, TimeUnit, Option<TimeZone>); 5] = [
            ("Ms", TimeUnit::Milliseconds, None),
            ("Us", TimeUnit::Microseconds, None),
            ("MsUtc", TimeUnit::Milliseconds, Some(TimeZone::UTC)),
            (
                "UsNewYork",
                TimeUnit::Microseconds,
                TimeZone::opt_try_new(Some("America/New_York")).unwrap(),
            ),
            (
                "NsTokyo",
                TimeUnit::Nanoseconds,
                TimeZone::opt_try_new(Some("Asia/Tokyo")).unwrap(),
            ),
        ];
        let mut columns = Vec::new();
        for (name, unit, zone) in zones.iter().cloned() {
            let scale = match unit {
                TimeUnit::Milliseconds => 1,
                TimeUnit::Microseconds => 1_000,
                TimeUnit::Nanoseconds => 1_000_000,
            };
            let ticks = millis.map(|ms| ms.map(|ms| ms * scale));
            columns.push(
                Series::new(name.into(), ticks)
                    .cast(&DataType::Datetime(unit, zone))
                    .unwrap()
                    .into_column(),
            );
        }
        let mut frame = DataFrame::new(3, columns).unwrap();
        write_parquet(&folder.path.join("t.parquet"), &mut frame, 3);

        let (scanned, loaded) = scanned_and_loaded(&folder.path, "t");
        let expected = millis.map(|ms| ms.map(|ms| ms * 1_000_000));
        for (name, ..) in zones {
            assert_eq!(nanoseconds(&loaded, name), expected, "loaded {name}");
            assert_eq!(nanoseconds(&scanned, name), expected, "scanned {name}");
        }
    }

    #[test]
    fn millisecond_durations_read_as_nanoseconds() {
        // The eager loader reads every timespan in nanoseconds, and so must the scan.
        let folder = TempFolder::new();
        let column = Series::new("Took".into(), [Some(1_500i64), None])
            .cast(&DataType::Duration(TimeUnit::Milliseconds))
            .unwrap()
            .into_column();
        let mut frame = DataFrame::new(2, vec![column]).unwrap();
        write_parquet(&folder.path.join("t.parquet"), &mut frame, 2);

        let (scanned, loaded) = scanned_and_loaded(&folder.path, "t");
        let nanoseconds = DataType::Duration(TimeUnit::Nanoseconds);
        assert_eq!(loaded.column("Took").unwrap().dtype(), &nanoseconds);
        assert_eq!(scanned.column("Took").unwrap().dtype(), &nanoseconds);
        let ticks: Vec<Option<i64>> = scanned
            .column("Took")
            .unwrap()
            .cast(&DataType::Int64)
            .unwrap()
            .i64()
            .unwrap()
            .iter()
            .collect();
        assert_eq!(ticks, [Some(1_500_000_000), None]);
    }

    #[test]
    fn parts_with_different_time_units() {
        // One part in milliseconds and one in nanoseconds, first with values that fit in
        // nanoseconds and then with 9999-12-31 in the millisecond part.
        for (first_millis, expected_first) in [
            (1_700_000_000_000i64, Some(1_700_000_000_000_000_000i64)),
            (253_402_214_400_000, None),
        ] {
            let folder = TempFolder::new();
            let parts = folder.path.join("t");
            std::fs::create_dir(&parts).unwrap();
            let millis = Series::new("At".into(), [first_millis])
                .cast(&DataType::Datetime(TimeUnit::Milliseconds, None))
                .unwrap()
                .into_column();
            let nanos = Series::new("At".into(), [5i64])
                .cast(&DataType::Datetime(TimeUnit::Nanoseconds, None))
                .unwrap()
                .into_column();
            write_parquet(
                &parts.join("part-0.parquet"),
                &mut DataFrame::new(1, vec![millis]).unwrap(),
                1,
            );
            write_parquet(
                &parts.join("part-1.parquet"),
                &mut DataFrame::new(1, vec![nanos]).unwrap(),
                1,
            );

            let (scanned, loaded) = scanned_and_loaded(&folder.path, "t");
            let expected = [expected_first, Some(5)];
            assert_eq!(nanoseconds(&loaded, "At"), expected);
            assert_eq!(nanoseconds(&scanned, "At"), expected);
        }
    }

    #[test]
    fn millisecond_times_beyond_nanoseconds() {
        // 9999-12-31T00:00:00Z, a common "never expires" value, does not fit in i64
        // nanoseconds. The scan must read it as the loader does.
        let folder = TempFolder::new();
        let millis = [Some(253_402_214_400_000i64), Some(1_700_000_000_000)];
        let column = Series::new("At".into(), millis)
            .cast(&DataType::Datetime(TimeUnit::Milliseconds, None))
            .unwrap()
            .into_column();
        let mut frame = DataFrame::new(2, vec![column]).unwrap();
        write_parquet(&folder.path.join("t.parquet"), &mut frame, 2);

        let (scanned, loaded) = scanned_and_loaded(&folder.path, "t");
        let expected = [None, Some(1_700_000_000_000_000_000)];
        assert_eq!(nanoseconds(&loaded, "At"), expected);
        assert_eq!(nanoseconds(&scanned, "At"), expected);
    }
}

#[test]
fn tostring_of_null_string_is_empty() {
    // Kusto strings are never null, and tostring() of a string column must not pass a null
    // through even where an expression such as iff(..., string(null)) leaves one.
    let tables = [("T.csv", LINES)];
    let output = run_ok(
        &tables,
        "T | take 2 | extend e = iff(Num > 5, \"a\", string(null)) | project t = tostring(e)",
    );
    assert_eq!(column(&output, "t"), [json!(""), json!("")]);
}

#[test]
fn make_series_null_string_key_is_empty() {
    // Kusto strings are never null, so a group whose string key is null is output with "".
    let table =
        "Port,T\n80,2024-01-01T00:00:00Z\n443,2024-01-01T01:00:00Z\n,2024-01-01T01:30:00Z\n";
    let output = run_ok(
        &[("MS.csv", table)],
        "MS | extend e = iff(Port > 100, \"a\", string(null)) \
         | make-series n = count() on T from datetime(2024-01-01) to datetime(2024-01-01T02:00:00Z) step 1h by e, Port",
    );
    assert_eq!(column(&output, "e"), [json!(""), json!("a"), json!("")]);
    assert_eq!(
        column(&output, "Port"),
        [json!(80), json!(443), json!(null)]
    );
    assert_eq!(
        column(&output, "n"),
        [json!([1, 0]), json!([0, 1]), json!([0, 1])]
    );
}

#[test]
fn count_first_row_context_functions() {
    // prev(), next() and row_number() read neighbouring rows, and pack_all() reads every
    // column, so counting distinct inputs first would change what they see.
    let tables = [("T.csv", LINES)];
    for (head, tail) in [
        (
            "T | serialize | mv-expand P = pack_array(prev(Line))",
            "summarize count() by tostring(P)",
        ),
        (
            "T | serialize | mv-expand P = pack_array(Line, next(Line))",
            "summarize count() by tostring(P)",
        ),
        (
            "T | serialize | parse strcat(Line, \"#\", row_number()) with * \"#\" N:long",
            "summarize count() by N",
        ),
        (
            "T | mv-expand P = pack_array(Line, pack_all())",
            "summarize count() by tostring(P)",
        ),
    ] {
        assert_same_output(
            &tables,
            &format!("{head} | {tail}"),
            &format!("{head} | where true | {tail}"),
        );
    }
    let output = run_ok(
        &tables,
        "T | serialize | parse strcat(Line, \"#\", row_number()) with * \"#\" N:long \
         | summarize count() by N",
    );
    assert_eq!(
        column(&output, "count_"),
        [json!(1), json!(1), json!(1), json!(1), json!(1)]
    );
}

#[test]
fn top_row_number_key_matches_order_take() {
    // row_number() numbers the rows it receives, so a key that uses it must not be computed again
    // after the threshold filter has dropped rows.
    let rows = numbered_rows();
    let tables = [("Big.csv", rows.as_str())];
    for (query, reference) in [
        (
            "Big | serialize | top 3 by row_number() % 100",
            "Big | serialize | order by row_number() % 100 desc | take 3",
        ),
        (
            "let f = () { row_number() % 100 }; Big | serialize | top 3 by f()",
            "let f = () { row_number() % 100 }; Big | serialize | order by f() desc | take 3",
        ),
        (
            "Big | serialize | extend r = row_number() % 100 | top 3 by r",
            "Big | serialize | extend r = row_number() % 100 | order by r desc | take 3",
        ),
        (
            "Big | serialize | top 3 by prev(Id, 1, 0) % 100",
            "Big | serialize | order by prev(Id, 1, 0) % 100 desc | take 3",
        ),
    ] {
        assert_same_output(&tables, query, reference);
    }
    let output = run_ok(&tables, "Big | serialize | top 3 by row_number() % 100");
    assert_eq!(column(&output, "Id"), [json!(98), json!(198), json!(298)]);
}

#[test]
fn make_series_mixed_keys_and_aggregates() {
    // String, long and bool keys with a null; long, real and datetime aggregates with and
    // without a default. NaN is written as null, and -0.0 keeps its sign.
    let table = "Host,Port,Ok,T,V,When\n\
                 h1,80,true,2024-01-01T00:00:00Z,1.5,2024-02-01T00:00:00Z\n\
                 h1,80,true,2024-01-01T02:00:00Z,2,2024-02-02T00:00:00Z\n\
                 h2,,false,2024-01-01T01:00:00Z,,\n\
                 ,443,true,2024-01-01T00:30:00Z,-0.0,2024-02-03T00:00:00Z\n\
                 h1,81,true,2024-01-01T01:10:00Z,NaN,2024-02-04T00:00:00Z\n";
    let output = run_ok(
        &[("MS.csv", table)],
        "MS | make-series n = count(), a = avg(V) default = double(null), m = max(When), \
         s = sum(V) default = -1 on T from datetime(2024-01-01) to datetime(2024-01-01T03:00:00Z) \
         step 1h by Host, Port, Ok",
    );
    assert_eq!(
        column_names(&output),
        ["Host", "Port", "Ok", "n", "a", "m", "s", "T"]
    );
    assert_eq!(
        column_types(&output),
        [
            "string", "long", "bool", "dynamic", "dynamic", "dynamic", "dynamic", "dynamic"
        ]
    );
    assert_eq!(strings(&output, "Host"), ["h1", "h2", "", "h1"]);
    assert_eq!(
        column(&output, "Port"),
        [json!(80), json!(null), json!(443), json!(81)]
    );
    assert_eq!(
        column(&output, "n"),
        [
            json!([1, 0, 1]),
            json!([0, 1, 0]),
            json!([1, 0, 0]),
            json!([0, 1, 0])
        ]
    );
    assert_eq!(
        column(&output, "a"),
        [
            json!([1.5, null, 2.0]),
            json!([null, null, null]),
            json!([-0.0, null, null]),
            json!([null, null, null])
        ]
    );
    assert_eq!(
        column(&output, "s"),
        [
            json!([1.5, -1, 2.0]),
            json!([-1, 0.0, -1]),
            json!([-0.0, -1, -1]),
            json!([-1, null, -1])
        ]
    );
    assert_eq!(
        column(&output, "m")[0],
        json!([
            "2024-02-01T00:00:00.0000000Z",
            0,
            "2024-02-02T00:00:00.0000000Z"
        ])
    );
}

#[test]
fn rand_in_where_draws_per_row() {
    let rows = numbered_rows();
    let output = run_ok(
        &[("Big.csv", rows.as_str())],
        "Big | where rand() < 0.5 | count",
    );
    let row_count = output.rows[0][0].as_i64().expect("a count");
    assert!(row_count > 0, "{row_count}");
    assert!(row_count < 2000, "{row_count}");
}
