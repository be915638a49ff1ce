//! Tabular operators, scalar functions and error reporting, run end to end on small CSV tables.

mod common;

use common::*;
use serde_json::{Value, json};

const EVENTS: &str = "\
TimeGenerated,Computer,Account,EventID,Bytes,CommandLine
2024-03-10 09:05:00,WKS-1,CONTOSO\\alice,4624,100,cmd.exe /c whoami
2024-03-10 09:40:00,WKS-1,CONTOSO\\bob,4625,,C:\\Windows\\System32\\cmd.exe
2024-03-10 10:15:00,WKS-2,CONTOSO\\alice,4625,300,xcmd.exe --run
2024-03-10 10:20:00,WKS-2,CONTOSO\\carol,4688,50,CMD.EXE /C dir
2024-03-10 11:59:59,SRV-1,CONTOSO\\Alice,4688,,powershell -enc SQBFAFgA
2024-03-09 23:00:00,SRV-1,,4624,700,
";

fn events(query: &str) -> quarry_engine::QueryOutput {
    run_ok(&[("Events.csv", EVENTS)], query)
}

fn events_error(query: &str) -> quarry_engine::EngineError {
    match run_csv(&[("Events.csv", EVENTS)], query) {
        Ok(output) => panic!("expected an error, got {} rows", output.row_count),
        Err(error) => error,
    }
}

/// Returns the byte range of `needle` in `text`.
fn range_of(text: &str, needle: &str) -> std::ops::Range<usize> {
    let start = text.find(needle).expect("needle in text");
    start..start + needle.len()
}

// ----- where and scalar operators -----

#[test]
fn where_numeric_comparison() {
    let output = events("Events | where EventID == 4625 | project Account");
    assert_eq!(
        strings(&output, "Account"),
        ["CONTOSO\\bob", "CONTOSO\\alice"]
    );
    let output = events("Events | where EventID > 4624 and EventID != 4688");
    assert_eq!(output.row_count, 2);
    let output = events("Events | where EventID < 4625 or Computer == 'WKS-2'");
    assert_eq!(output.row_count, 4);
}

#[test]
fn where_not_and_parentheses() {
    let output = events("Events | where not(EventID == 4624 or EventID == 4688)");
    assert_eq!(output.row_count, 2);
}

#[test]
fn equality_is_case_sensitive_and_tilde_is_not() {
    assert_eq!(
        events("Events | where Account == 'CONTOSO\\\\alice'").row_count,
        2
    );
    assert_eq!(
        events("Events | where Account =~ 'contoso\\\\ALICE'").row_count,
        3
    );
    assert_eq!(
        events("Events | where Account !~ 'contoso\\\\alice'").row_count,
        3
    );
}

#[test]
fn has_matches_whole_terms_only() {
    let output = events("Events | where CommandLine has 'cmd.exe' | project CommandLine");
    assert_eq!(
        strings(&output, "CommandLine"),
        [
            "cmd.exe /c whoami",
            "C:\\Windows\\System32\\cmd.exe",
            "CMD.EXE /C dir"
        ],
        "`has` is case-insensitive and must not match inside `xcmd.exe`"
    );
    let output = events("Events | where CommandLine has 'cmd'");
    assert_eq!(
        output.row_count, 3,
        "`cmd` is a term of `cmd.exe` but not of `xcmd.exe`"
    );
    assert_eq!(
        events("Events | where CommandLine has 'whoam'").row_count,
        0,
        "a term prefix is no match"
    );
    assert_eq!(events("Events | where CommandLine has '-enc'").row_count, 1);
    assert_eq!(events("Events | where CommandLine !has 'cmd'").row_count, 3);
}

#[test]
fn has_cs_and_prefix_suffix() {
    assert_eq!(
        events("Events | where CommandLine has_cs 'CMD'").row_count,
        1
    );
    assert_eq!(
        events("Events | where CommandLine hasprefix 'power'").row_count,
        1
    );
    assert_eq!(
        events("Events | where CommandLine hasprefix 'ower'").row_count,
        0
    );
    assert_eq!(
        events("Events | where CommandLine hassuffix 'shell'").row_count,
        1
    );
}

#[test]
fn contains_startswith_endswith_ignore_case() {
    assert_eq!(
        events("Events | where CommandLine contains 'CMD'").row_count,
        4
    );
    assert_eq!(
        events("Events | where CommandLine contains_cs 'CMD'").row_count,
        1
    );
    assert_eq!(
        events("Events | where CommandLine !contains 'cmd'").row_count,
        2
    );
    assert_eq!(
        events("Events | where CommandLine startswith 'cmd'").row_count,
        2
    );
    assert_eq!(
        events("Events | where CommandLine startswith_cs 'cmd'").row_count,
        1
    );
    assert_eq!(
        events("Events | where CommandLine endswith 'CMD.exe'").row_count,
        1
    );
    assert_eq!(
        events("Events | where CommandLine !endswith 'cmd.exe'").row_count,
        5
    );
}

#[test]
fn matches_regex_is_case_sensitive() {
    assert_eq!(
        events("Events | where CommandLine matches regex @'^cmd'").row_count,
        1
    );
    assert_eq!(
        events("Events | where CommandLine matches regex @'(?i)^cmd'").row_count,
        2
    );
}

#[test]
fn in_and_not_in() {
    assert_eq!(
        events("Events | where EventID in (4624, 4625)").row_count,
        4
    );
    assert_eq!(
        events("Events | where EventID !in (4624, 4625)").row_count,
        2
    );
    assert_eq!(
        events("Events | where Computer in ('WKS-1', 'SRV-1')").row_count,
        4
    );
    assert_eq!(events("Events | where Computer in ('wks-1')").row_count, 0);
    assert_eq!(events("Events | where Computer in~ ('wks-1')").row_count, 2);
    assert_eq!(
        events("Events | where Computer !in~ ('wks-1', 'srv-1')").row_count,
        2
    );
}

#[test]
fn between_numbers() {
    assert_eq!(
        events("Events | where Bytes between (50 .. 300)").row_count,
        3
    );
    assert_eq!(
        events("Events | where Bytes !between (50 .. 300)").row_count,
        1,
        "nulls match neither form"
    );
}

#[test]
fn empty_strings_and_nulls() {
    let output = events("Events | where isempty(Account) | project Computer");
    assert_eq!(strings(&output, "Computer"), ["SRV-1"]);
    assert_eq!(events("Events | where isnotempty(Account)").row_count, 5);
    assert_eq!(events("Events | where isempty(Bytes)").row_count, 2);
    assert_eq!(events("Events | where isnull(Bytes)").row_count, 2);
    assert_eq!(events("Events | where isnotnull(Bytes)").row_count, 4);
    // A KQL string is never null: an empty cell reads as "".
    assert_eq!(events("Events | where Account == ''").row_count, 1);
    assert_eq!(
        events("Events | where Bytes > 0").row_count,
        4,
        "null comparisons drop the row"
    );
}

#[test]
fn empty_result_keeps_columns() {
    let output = events("Events | where EventID == 1 | project Computer, EventID");
    assert_eq!(output.row_count, 0);
    assert!(output.rows.is_empty());
    assert_eq!(column_names(&output), ["Computer", "EventID"]);
    assert_eq!(column_types(&output), ["string", "long"]);
}

// ----- project, extend and friends -----

#[test]
fn project_renames_and_computes() {
    let output = events(
        "Events | take 1 | project Host = Computer, Id = EventID + 1, tolower(Account), EventID",
    );
    assert_eq!(column_names(&output), ["Host", "Id", "Column1", "EventID"]);
    assert_eq!(
        output.rows[0],
        vec![
            json!("WKS-1"),
            json!(4625),
            json!("contoso\\alice"),
            json!(4624)
        ]
    );
}

#[test]
fn extend_sees_earlier_columns() {
    let output =
        events("Events | take 1 | extend Kb = Bytes / 10, Double = Kb * 2 | project Kb, Double");
    assert_eq!(output.rows[0], vec![json!(10), json!(20)]);
}

#[test]
fn extend_replaces_existing_column() {
    let output = events("Events | take 1 | extend Computer = strcat(Computer, '.contoso.com')");
    assert_eq!(strings(&output, "Computer"), ["WKS-1.contoso.com"]);
    assert_eq!(
        column_names(&output).len(),
        6,
        "the column is replaced in place, not added"
    );
}

#[test]
fn project_away_and_rename() {
    let output = events(
        "Events | take 1 | project-away CommandLine, Bytes | project-rename Host = Computer",
    );
    assert_eq!(
        column_names(&output),
        ["TimeGenerated", "Host", "Account", "EventID"]
    );
}

#[test]
fn string_functions() {
    let output = events(
        "Events | take 1 | project u = toupper(Computer), l = tolower(Account), s = strcat(Computer, '/', EventID), n = strlen(Computer)",
    );
    assert_eq!(
        output.rows[0],
        vec![
            json!("WKS-1"),
            json!("contoso\\alice"),
            json!("WKS-1/4624"),
            json!(5)
        ]
    );
}

#[test]
fn iff_picks_branch_and_handles_null() {
    let output = events("Events | project Size = iff(Bytes > 100, 'big', 'small')");
    assert_eq!(
        strings(&output, "Size"),
        ["small", "small", "big", "small", "small", "big"]
    );
}

#[test]
fn arithmetic_types() {
    let output = events(
        "Events | take 1 | project a = Bytes / 3, b = Bytes / 3.0, c = Bytes % 7, d = -Bytes",
    );
    assert_eq!(column_types(&output), ["long", "real", "long", "long"]);
    assert_eq!(output.rows[0][0], json!(33));
    assert_eq!(output.rows[0][2], json!(2));
    assert_eq!(output.rows[0][3], json!(-100));
    let b = output.rows[0][1].as_f64().unwrap();
    assert!((b - 33.333_333).abs() < 1e-5, "{b}");
}

#[test]
fn let_scalars_are_usable_as_constants() {
    let output = events("let n = 2;\nlet id = 4625;\nEvents | where EventID == id | take n");
    assert_eq!(output.row_count, 2);
    let output = events("let lookback = 3h; Events | where TimeGenerated > ago(lookback)");
    assert_eq!(output.row_count, 5);
}

// ----- time -----

#[test]
fn ago_and_now_use_the_query_clock() {
    // The clock is 2024-03-10T12:00:00Z.
    assert_eq!(
        events("Events | where TimeGenerated > ago(1h)").row_count,
        1
    );
    assert_eq!(
        events("Events | where TimeGenerated > ago(1d)").row_count,
        6
    );
    assert_eq!(
        events("Events | where TimeGenerated >= now(-2h)").row_count,
        3
    );
    let output = events("Events | take 1 | project t = now()");
    assert_eq!(
        column(&output, "t"),
        [json!("2024-03-10T12:00:00.0000000Z")]
    );
}

#[test]
fn datetime_literals_compare() {
    assert_eq!(
        events("Events | where TimeGenerated < datetime(2024-03-10)").row_count,
        1
    );
    assert_eq!(events("Events | where TimeGenerated between (datetime(2024-03-10 09:00) .. datetime(2024-03-10 10:00))").row_count, 2);
}

#[test]
fn bin_on_datetimes_counts_per_hour() {
    let output = events(
        "Events | summarize n = count() by bin(TimeGenerated, 1h) | order by TimeGenerated asc",
    );
    assert_eq!(column_names(&output), ["TimeGenerated", "n"]);
    assert_eq!(column_types(&output), ["datetime", "long"]);
    assert_eq!(
        strings(&output, "TimeGenerated"),
        [
            "2024-03-09T23:00:00.0000000Z",
            "2024-03-10T09:00:00.0000000Z",
            "2024-03-10T10:00:00.0000000Z",
            "2024-03-10T11:00:00.0000000Z"
        ]
    );
    assert_eq!(longs(&output, "n"), [Some(1), Some(2), Some(2), Some(1)]);
}

#[test]
fn bin_on_numbers() {
    let output = events(
        "Events | where isnotnull(Bytes) | project b = bin(Bytes, 250), r = bin(Bytes * 1.0, 0.5)",
    );
    assert_eq!(
        longs(&output, "b"),
        [Some(0), Some(250), Some(0), Some(500)]
    );
    assert_eq!(column_types(&output), ["long", "real"]);
}

#[test]
fn datetime_arithmetic_gives_timespans() {
    let output = events(
        "Events | take 1 | project age = now() - TimeGenerated, later = TimeGenerated + 30m",
    );
    assert_eq!(column_types(&output), ["timespan", "datetime"]);
    assert_eq!(
        output.rows[0],
        vec![json!("02:55:00"), json!("2024-03-10T09:35:00.0000000Z")]
    );
}

// ----- summarize -----

#[test]
fn summarize_default_names() {
    let output = events(
        "Events | summarize count(), dcount(Account), sum(Bytes), min(Bytes), max(Bytes), avg(Bytes), countif(EventID == 4625)",
    );
    assert_eq!(
        column_names(&output),
        [
            "count_",
            "dcount_Account",
            "sum_Bytes",
            "min_Bytes",
            "max_Bytes",
            "avg_Bytes",
            "countif_"
        ]
    );
    assert_eq!(
        column_types(&output),
        ["long", "long", "long", "long", "long", "real", "long"]
    );
    assert_eq!(
        output.rows[0][..5],
        [json!(6), json!(5), json!(1150), json!(50), json!(700)]
    );
    assert_eq!(output.rows[0][5], json!(287.5));
    assert_eq!(output.rows[0][6], json!(2));
}

#[test]
fn summarize_by_columns_keeps_first_seen_order() {
    let output = events("Events | summarize n = count(), accounts = dcount(Account) by Computer");
    assert_eq!(strings(&output, "Computer"), ["WKS-1", "WKS-2", "SRV-1"]);
    assert_eq!(longs(&output, "n"), [Some(2), Some(2), Some(2)]);
    assert_eq!(longs(&output, "accounts"), [Some(2), Some(2), Some(2)]);
}

#[test]
fn summarize_make_set() {
    let output = events("Events | summarize Ids = make_set(EventID) by Computer");
    assert_eq!(
        column(&output, "Ids"),
        [
            json!([4624, 4625]),
            json!([4625, 4688]),
            json!([4688, 4624])
        ]
    );
    assert_eq!(column_types(&output), ["string", "dynamic"]);
    let output = events("Events | summarize make_set(Computer)");
    assert_eq!(
        column(&output, "set_Computer"),
        [json!(["WKS-1", "WKS-2", "SRV-1"])]
    );
}

#[test]
fn constant_aggregate_arguments_count_each_row() {
    // Kusto evaluates an aggregate's argument per row, constant or not.
    let output = events(
        "Events | summarize c = countif(true), s = sum(1), n = count(2), \
         l = array_length(make_list(\"x\")), d = dcount(1), m = max(3), \
         p = percentile(Bytes, 25 * 2), f = countif(1 > 2) by EventID | order by EventID asc",
    );
    let counts: Vec<Vec<Value>> = output.rows.iter().map(|row| row[1..].to_vec()).collect();
    assert_eq!(
        counts,
        [
            // 4624: two rows, Bytes 100 and 700.
            vec![
                json!(2),
                json!(2),
                json!(2),
                json!(2),
                json!(1),
                json!(3),
                json!(100),
                json!(0)
            ],
            // 4625: two rows, Bytes null and 300.
            vec![
                json!(2),
                json!(2),
                json!(2),
                json!(2),
                json!(1),
                json!(3),
                json!(300),
                json!(0)
            ],
            // 4688: two rows, Bytes 50 and null.
            vec![
                json!(2),
                json!(2),
                json!(2),
                json!(2),
                json!(1),
                json!(3),
                json!(50),
                json!(0)
            ],
        ]
    );
}

#[test]
fn integer_literals_are_long() {
    // Kusto types `1` as long, and int plus long as long.
    let output = events(
        "Events | take 1 | extend i = toint(EventID) | project a = 1, b = i + 1, c = int(2), \
         m = i * 2",
    );
    assert_eq!(column_names(&output), ["a", "b", "c", "m"]);
    assert_eq!(column_types(&output), ["long", "long", "int", "long"]);
    let printed = events("print p = 1 + 1");
    assert_eq!(column_types(&printed), ["long"]);
    let summed = events("Events | summarize x = max(1), y = min(toint(EventID))");
    assert_eq!(column_types(&summed), ["long", "int"]);
}

#[test]
fn int_arithmetic_is_64_bit() {
    // Kusto computes int arithmetic as long, so nothing wraps around at 32 bits.
    let printed = events("print a = int(3) * 1000000000, b = int(2147483647) + int(1)");
    assert_eq!(
        printed.rows[0],
        [json!(3_000_000_000i64), json!(2_147_483_648i64)]
    );
    assert_eq!(column_types(&printed), ["long", "long"]);

    let summed = events(
        "datatable(a: int)[3, 2147483647] | summarize s = sum(a * 1000000000) by k = a + 1 \
         | order by k asc",
    );
    assert_eq!(column_types(&summed), ["long", "long"]);
    assert_eq!(
        summed.rows,
        [
            vec![json!(4), json!(3_000_000_000i64)],
            vec![json!(2_147_483_648i64), json!(2_147_483_647_000_000_000i64)]
        ]
    );
    let filtered = events("datatable(a: int)[3, 5] | where a * 1000000000 > 4000000000 | count");
    assert_eq!(filtered.rows, [vec![json!(1)]]);
}

#[test]
fn summarize_names_around_aggregates() {
    // Names as Kusto.Language binds them: a function around an aggregate takes the aggregate's
    // name, an operator does not, and an assigned name goes to the first percentile.
    let output = events(
        "Events | summarize round(avg(Bytes), 2), tostring(max(Bytes)), avg(Bytes) * 2, \
         ps = percentiles(Bytes, 50, 90)",
    );
    assert_eq!(
        column_names(&output),
        [
            "avg_Bytes",
            "max_Bytes",
            "Column1",
            "ps",
            "percentile_Bytes_90"
        ]
    );
}

#[test]
fn series_stats_assigns_names_in_order() {
    let output = events(
        "print s = dynamic([2, 4, 9]) \
         | extend (lo, lo_at, hi, hi_at, mean, sd, var) = series_stats(s) \
         | extend series_stats(s) | project-away s",
    );
    assert_eq!(
        column_names(&output),
        [
            "lo",
            "lo_at",
            "hi",
            "hi_at",
            "mean",
            "sd",
            "var",
            "series_stats_s_min",
            "series_stats_s_min_idx",
            "series_stats_s_max",
            "series_stats_s_max_idx",
            "series_stats_s_avg",
            "series_stats_s_stdev",
            "series_stats_s_variance"
        ]
    );
    // Sample variance of 2, 4 and 9: 13; its square root is the standard deviation.
    let row = &output.rows[0];
    assert_eq!(
        row[..5],
        [json!(2.0), json!(0), json!(9.0), json!(2), json!(5.0)]
    );
    assert!(
        (row[5].as_f64().unwrap() - 13f64.sqrt()).abs() < 1e-9,
        "{row:?}"
    );
    assert_eq!(row[6], json!(13.0));
    assert_eq!(row[..7], row[7..]);

    let error =
        events_error("print s = dynamic([1]) | extend (a, b, c, d, e, f, g, h) = series_stats(s)");
    assert!(
        error.message.contains("returns 7 values"),
        "{}",
        error.message
    );
}

#[test]
fn in_takes_print_range_and_datatable() {
    for list in [
        "(print 4625)",
        "(range x from 4625 to 4625 step 1)",
        "(datatable(x: long)[4625])",
        "(4625)",
    ] {
        let output = events(&format!("Events | where EventID in {list} | count"));
        assert_eq!(output.rows, [vec![json!(2)]], "{list}");
    }
}

#[test]
fn percentiles_assign_names_in_order() {
    let output = events("Events | summarize (median, high) = percentiles(Bytes, 50, 90)");
    assert_eq!(column_names(&output), ["median", "high"]);
    assert_eq!(output.rows[0], [json!(100), json!(700)]);

    let error = events_error("Events | summarize (a, b, c) = percentiles(Bytes, 50, 90)");
    assert!(
        error.message.contains("3 names for 2 percentiles"),
        "{}",
        error.message
    );
}

#[test]
fn percentiles_take_computed_ranks() {
    let output = events("Events | summarize percentiles(Bytes, 5 * 10, 90)");
    assert_eq!(
        column_names(&output),
        ["percentile_Bytes_50", "percentile_Bytes_90"]
    );
    // Bytes: 50, 100, 300, 700 and two nulls; nearest ranks.
    assert_eq!(output.rows[0], [json!(100), json!(700)]);
}

#[test]
fn summarize_expression_of_aggregates() {
    let output = events("Events | summarize failed = 100.0 * countif(EventID == 4625) / count()");
    let failed = output.rows[0][0].as_f64().unwrap();
    assert!((failed - 33.333).abs() < 0.01, "{failed}");
}

#[test]
fn conditional_aggregates_and_lists() {
    let output = events(
        "Events | summarize s = sumif(Bytes, EventID == 4624), a = avgif(Bytes, EventID == 4624), \
         d = dcountif(Account, EventID == 4625), l = make_list(EventID, 2), t = take_any(Computer)",
    );
    assert_eq!(output.rows[0][0], json!(800));
    assert_eq!(output.rows[0][1], json!(400.0));
    assert_eq!(output.rows[0][2], json!(2));
    assert_eq!(
        output.rows[0][3],
        json!([4624, 4625]),
        "make_list keeps order and its size limit"
    );
    assert_eq!(output.rows[0][4], json!("WKS-1"));
    assert_eq!(
        column_types(&output),
        ["long", "real", "long", "dynamic", "string"]
    );
}

#[test]
fn summarize_on_empty_input() {
    let output = events("Events | where EventID == 1 | summarize count()");
    assert_eq!(
        output.rows,
        vec![vec![json!(0)]],
        "no `by`: one row, as in Kusto"
    );
    let output = events("Events | where EventID == 1 | summarize count() by Computer");
    assert_eq!(output.row_count, 0);
}

#[test]
fn summarize_null_handling() {
    let output = events("Events | summarize s = sum(Bytes), d = dcount(Bytes), c = count(Bytes)");
    assert_eq!(output.rows[0], vec![json!(1150), json!(4), json!(4)]);
}

// ----- order, take, top, distinct, count -----

#[test]
fn order_defaults_to_descending() {
    let output = events("Events | order by EventID | project EventID");
    assert_eq!(
        longs(&output, "EventID"),
        [
            Some(4688),
            Some(4688),
            Some(4625),
            Some(4625),
            Some(4624),
            Some(4624)
        ]
    );
    let output = events("Events | sort by Computer asc, TimeGenerated desc | project Computer");
    assert_eq!(
        strings(&output, "Computer"),
        ["SRV-1", "SRV-1", "WKS-1", "WKS-1", "WKS-2", "WKS-2"]
    );
}

#[test]
fn order_puts_nulls_like_kusto() {
    let output = events("Events | order by Bytes desc | project Bytes");
    assert_eq!(
        longs(&output, "Bytes"),
        [Some(700), Some(300), Some(100), Some(50), None, None]
    );
    let output = events("Events | order by Bytes asc | project Bytes");
    assert_eq!(
        longs(&output, "Bytes"),
        [None, None, Some(50), Some(100), Some(300), Some(700)]
    );
    let output = events("Events | order by Bytes asc nulls last | project Bytes");
    assert_eq!(longs(&output, "Bytes")[4..], [None, None]);
}

#[test]
fn take_limit_and_top() {
    assert_eq!(events("Events | take 2").row_count, 2);
    assert_eq!(events("Events | limit 100").row_count, 6);
    assert_eq!(events("Events | take 0").row_count, 0);
    let output = events("Events | top 2 by Bytes");
    assert_eq!(longs(&output, "Bytes"), [Some(700), Some(300)]);
    let output = events("Events | top 1 by TimeGenerated asc | project Computer");
    assert_eq!(strings(&output, "Computer"), ["SRV-1"]);
}

#[test]
fn distinct_and_count() {
    let output = events("Events | distinct Computer");
    assert_eq!(strings(&output, "Computer"), ["WKS-1", "WKS-2", "SRV-1"]);
    let output = events("Events | distinct Computer, EventID");
    assert_eq!(output.row_count, 6);
    let output = events("Events | distinct tolower(Account)");
    assert_eq!(
        strings(&output, "Column1"),
        ["contoso\\alice", "contoso\\bob", "contoso\\carol", ""]
    );
    assert_eq!(events("Events | distinct *").row_count, 6);
    let output = events("Events | where EventID == 4625 | count");
    assert_eq!(column_names(&output), ["Count"]);
    assert_eq!(output.rows, vec![vec![json!(2)]]);
}

#[test]
fn max_rows_truncates_but_counts_all() {
    let folder = TempFolder::new();
    folder.write("Events.csv", EVENTS);
    let output = session(&folder.path)
        .run(
            "Events",
            &quarry_engine::RunOptions {
                max_rows: 4,
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(output.row_count, 6);
    assert_eq!(output.rows.len(), 4);
    assert!(output.truncated);
}

// ----- errors -----

#[test]
fn unsupported_operator_is_named_with_range() {
    let query = "Events | reduce by Computer";
    let error = events_error(query);
    assert!(
        error.message.contains("`reduce` operator"),
        "{}",
        error.message
    );
    assert_eq!(error.range, Some(range_of(query, "reduce by Computer")));
}

#[test]
fn unsupported_function_is_named_with_range() {
    let query = "Events | extend x = parse_user_agent(CommandLine, 'browser')";
    let error = events_error(query);
    assert!(
        error.message.contains("`parse_user_agent()`"),
        "{}",
        error.message
    );
    assert_eq!(error.range, Some(range_of(query, "parse_user_agent")));
}

#[test]
fn unknown_column_suggests_case() {
    let query = "Events | where computer == 'x'";
    let error = events_error(query);
    assert!(
        error.message.contains("unknown column or name `computer`"),
        "{}",
        error.message
    );
    assert!(
        error.message.contains("did you mean `Computer`"),
        "{}",
        error.message
    );
    assert_eq!(error.range, Some(range_of(query, "computer")));
}

#[test]
fn unknown_table_lists_tables() {
    let error = events_error("Evnts | take 1");
    assert!(
        error.message.contains("unknown table `Evnts`"),
        "{}",
        error.message
    );
    assert!(
        error.message.contains("available tables: Events"),
        "{}",
        error.message
    );
    assert_eq!(error.range, Some(0..5));
}

#[test]
fn type_errors_point_at_expression() {
    let query = "Events | where Computer > 5";
    let error = events_error(query);
    assert!(
        error.message.contains("cannot compare string with long"),
        "{}",
        error.message
    );
    assert_eq!(error.range, Some(range_of(query, "Computer > 5")));

    let error = events_error("Events | where Bytes");
    assert!(error.message.contains("needs a bool"), "{}", error.message);
}

#[test]
fn aggregate_outside_summarize_is_an_error() {
    let query = "Events | extend n = count()";
    let error = events_error(query);
    assert!(error.message.contains("aggregate"), "{}", error.message);
    assert_eq!(error.range, Some(range_of(query, "count")));
}

#[test]
fn summarize_without_aggregate_is_an_error() {
    let error = events_error("Events | summarize x = Computer by EventID");
    assert!(
        error.message.contains("needs an aggregate"),
        "{}",
        error.message
    );
}

#[test]
fn member_access_needs_dynamic() {
    let query = "Events | where EventID.name == 'x'";
    let error = events_error(query);
    assert!(
        error
            .message
            .contains("need a dynamic value, but this is a long"),
        "{}",
        error.message
    );
    assert_eq!(error.range, Some(range_of(query, "EventID.name")));
}

#[test]
fn output_values_are_json() {
    let output = events(
        "Events | take 1 | project TimeGenerated, EventID, Bytes, Computer, ok = EventID == 4624, r = 1.5",
    );
    assert_eq!(
        output.rows[0],
        vec![
            json!("2024-03-10T09:05:00.0000000Z"),
            json!(4624),
            json!(100),
            json!("WKS-1"),
            Value::Bool(true),
            json!(1.5)
        ]
    );
    assert_eq!(
        column_types(&output),
        ["datetime", "long", "long", "string", "bool", "real"]
    );
}

/// Checks that a long constant `has_any` list, which is matched through alternations, keeps
/// the rows of its terms joined with `or`. The list has terms with punctuation at an edge and
/// is longer than one alternation.
#[test]
fn long_has_any_matches_or_of_has() {
    let mut terms: Vec<String> = (0..600).map(|n| format!("absent{n}")).collect();
    terms.extend(
        ["whoami", "-enc", "cmd.exe", "System32\\cmd", "dir", "CMD"]
            .iter()
            .map(|term| term.to_string()),
    );
    terms.push("SQBFAFg".to_owned());
    let quoted: Vec<String> = terms
        .iter()
        .map(|term| format!("@'{}'", term.replace('\'', "''")))
        .collect();
    let any = events(&format!(
        "Events | where CommandLine has_any ({}) | project CommandLine",
        quoted.join(", ")
    ));
    let ored: Vec<String> = quoted
        .iter()
        .map(|term| format!("CommandLine has {term}"))
        .collect();
    let or = events(&format!(
        "Events | where {} | project CommandLine",
        ored.join(" or ")
    ));
    assert_eq!(
        strings(&any, "CommandLine"),
        vec![
            "cmd.exe /c whoami",
            "C:\\Windows\\System32\\cmd.exe",
            "CMD.EXE /C dir",
            "powershell -enc SQBFAFgA",
        ]
    );
    assert_eq!(strings(&any, "CommandLine"), strings(&or, "CommandLine"));
}
