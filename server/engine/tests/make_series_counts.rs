//! `make-series count()` by plain columns over an integral axis takes a one-pass path of its
//! own (eval/series_count.rs). These tests compare it with the general path, which
//! `countif(true)` still takes, on the same rows, and check its bounds and limits by hand.

mod common;

use common::*;
use serde_json::{Value, json};

/// Returns a table of `rows` events over about three days, with null hosts, users and times mixed
/// in, from a fixed pseudo-random sequence.
fn events(rows: usize) -> String {
    let mut state: u64 = 0x2545_F491_4F6C_DD1D;
    let mut next = move |modulus: u64| {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 33) % modulus
    };
    let mut csv = String::from("Host,User,EventID,Elevated,Wide,At\n");
    for _ in 0..rows {
        let host = match next(12) {
            0 => String::new(),
            n => format!("host-{n}"),
        };
        let user = match next(5) {
            0 => String::new(),
            n => format!("user{n}"),
        };
        let event = [4624, 4625, 4688, 4672][next(4) as usize];
        let elevated = next(2) == 1;
        // A key whose values span far more than a rank table holds.
        let wide = next(3) * 10_000_000_000;
        let at = match next(40) {
            0 => String::new(),
            _ => {
                let seconds = next(3 * 24 * 3600);
                format!(
                    "2024-03-{:02}T{:02}:{:02}:{:02}Z",
                    1 + seconds / 86_400,
                    seconds / 3600 % 24,
                    seconds / 60 % 60,
                    seconds % 60
                )
            }
        };
        csv.push_str(&format!("{host},{user},{event},{elevated},{wide},{at}\n"));
    }
    csv
}

/// Runs `make-series n = AGGREGATE CLAUSES` with `count()` and with `countif(true)`, and
/// checks that both give the same rows in the same order.
fn same_as_general_path(table: &str, clauses: &str) -> quarry_engine::QueryOutput {
    let tables = [("E.csv", table)];
    let fast = run_ok(&tables, &format!("E | make-series n = count() {clauses}"));
    let general = run_ok(
        &tables,
        &format!("E | make-series n = countif(true) {clauses}"),
    );
    assert_eq!(column_names(&fast), column_names(&general), "{clauses}");
    assert_same_rows(&fast.rows, &general.rows, clauses);
    fast
}

/// Asserts that two results have equal rows, naming the first row that differs rather than
/// printing both results whole.
fn assert_same_rows(fast: &[Vec<Value>], general: &[Vec<Value>], query: &str) {
    for (index, (left, right)) in fast.iter().zip(general).enumerate() {
        assert_eq!(left, right, "{query}: row {index} differs");
    }
    assert_eq!(fast.len(), general.len(), "{query}: row counts differ");
}

#[test]
fn counts_match_the_general_path() {
    let table = events(3000);
    let clauses = [
        "on At step 1h by Host",
        "on At step 1h by Host, User",
        "on At step 6h by EventID, Elevated",
        "on At step 1d",
        "on At step 1h by Wide",
        "on At from datetime(2024-03-01 12:00) to datetime(2024-03-02) step 1h by Host",
        "on At from datetime(2024-03-01 00:17) to datetime(2024-03-02) step 1h by User",
        "on At from datetime(2024-03-02) step 2h by Host",
        "on At from datetime(2024-03-01 00:17) step 2h by Host",
        "on At to datetime(2024-03-02 05:00) step 3h by User",
        "on EventID step 10 by Host",
        "on EventID from 4620 to 4700 step 7 by User",
    ];
    for clause in clauses {
        let output = same_as_general_path(&table, clause);
        assert!(!output.rows.is_empty(), "{clause}");
    }
}

#[test]
fn counts_by_hand() {
    let table = "Host,At\n\
                 b,2024-01-01T03:10:00Z\n\
                 a,2024-01-01T00:59:59Z\n\
                 ,2024-01-01T01:00:00Z\n\
                 b,\n\
                 a,2024-01-01T03:00:00Z\n\
                 a,2024-01-01T00:00:00Z\n";
    let output = run_ok(
        &[("T.csv", table)],
        "T | make-series n = count() default = -1 on At step 1h by Host",
    );
    assert_eq!(column_names(&output), ["Host", "n", "At"]);
    // Hosts in order of first appearance; the row without a time counts nowhere; a missing
    // host is "".
    assert_eq!(strings(&output, "Host"), ["b", "a", ""]);
    assert_eq!(
        column(&output, "n"),
        [
            json!([-1, -1, -1, 1]),
            json!([2, -1, -1, 1]),
            json!([-1, 1, -1, -1])
        ]
    );
    assert_eq!(
        column(&output, "At")[0],
        json!([
            "2024-01-01T00:00:00.0000000Z",
            "2024-01-01T01:00:00.0000000Z",
            "2024-01-01T02:00:00.0000000Z",
            "2024-01-01T03:00:00.0000000Z"
        ])
    );

    // Bounds keep rows from `from` up to, not including, `to`; two counts share the rows.
    let bounded = run_ok(
        &[("T.csv", table)],
        "T | make-series n = count(), m = count() default = 9 on At \
         from datetime(2024-01-01 00:30) to datetime(2024-01-01 03:00) step 1h by Host",
    );
    assert_eq!(column_names(&bounded), ["Host", "n", "m", "At"]);
    assert_eq!(strings(&bounded, "Host"), ["a", ""]);
    assert_eq!(column(&bounded, "n"), [json!([1, 0, 0]), json!([1, 0, 0])]);
    assert_eq!(column(&bounded, "m"), [json!([1, 9, 9]), json!([1, 9, 9])]);
    assert_eq!(
        column(&bounded, "At")[0],
        json!([
            "2024-01-01T00:30:00.0000000Z",
            "2024-01-01T01:30:00.0000000Z",
            "2024-01-01T02:30:00.0000000Z"
        ])
    );

    // A number axis with negative values rounds down to its steps.
    let numbers = run_ok(
        &[("N.csv", "K,X\na,-1\na,-10\nb,9\na,0\n")],
        "N | make-series n = count() on X step 5 by K",
    );
    assert_eq!(
        column(&numbers, "n"),
        [json!([1, 1, 1, 0]), json!([0, 0, 0, 1])]
    );
    assert_eq!(column(&numbers, "X")[0], json!([-10, -5, 0, 5]));
}

#[test]
fn from_alone_ends_at_last_row() {
    // Steps start at `from` (12:58), so 23:57:37 falls in the step from 22:58, the last one.
    let table = "Host,At\na,2024-05-01T13:10:00Z\na,2024-05-01T23:57:37Z\n";
    for aggregate in ["count()", "countif(true)"] {
        let output = run_ok(
            &[("T.csv", table)],
            &format!(
                "T | make-series n = {aggregate} on At from datetime(2024-05-01 12:58) step 1h \
                 by Host"
            ),
        );
        let axis = column(&output, "At")[0].clone();
        let axis = axis.as_array().unwrap();
        assert_eq!(axis.len(), 11, "{aggregate}");
        assert_eq!(
            axis[10],
            json!("2024-05-01T22:58:00.0000000Z"),
            "{aggregate}"
        );
        assert_eq!(
            column(&output, "n"),
            [json!([1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1])],
            "{aggregate}"
        );
    }
}

#[test]
fn rows_out_of_order_stay_within_the_limit() {
    // The series spans 650,002 steps. Rows that arrive before the first step seen must not
    // count the room left for them against the 1,000,000-step limit.
    let output = run_ok(
        &[],
        "datatable(T: long)[500000, 900000, 499999, 1150000] \
         | make-series n = count() on T step 1 | project points = array_length(n)",
    );
    assert_eq!(column(&output, "points"), [json!(650_002)]);
}

#[test]
fn empty_results_keep_their_columns() {
    // No rows, or only rows without a time: no series, but the columns that follow expect.
    let table = "Host,At\na,\n";
    for aggregate in ["count()", "countif(true)"] {
        for clauses in ["", "from datetime(2024-01-01)", "to datetime(2024-01-01)"] {
            let output = run_ok(
                &[("T.csv", table)],
                &format!(
                    "T | extend At = todatetime(At) \
                     | make-series n = {aggregate} on At {clauses} step 1h by Host \
                     | project Host, n, At"
                ),
            );
            assert_eq!(
                column_names(&output),
                ["Host", "n", "At"],
                "{aggregate} {clauses}"
            );
            assert_eq!(output.rows.len(), 0, "{aggregate} {clauses}");
        }
    }
}

#[test]
fn too_many_points_in_all_fails() {
    // 60,000 series of 1,000 steps each: 60 million points, past the limit of 50 million.
    let query = |aggregate: &str| {
        format!(
            "range i from 0 to 59999 step 1 \
             | extend t = datetime(2024-01-01) + (i % 1000) * 1m \
             | make-series n = {aggregate} on t step 1m by i"
        )
    };
    for aggregate in ["count()", "countif(true)"] {
        let error = run_csv(&[], &query(aggregate)).expect_err("60 million points");
        assert!(
            error.message.contains("60,000 series of 1,000 steps"),
            "{aggregate}: {}",
            error.message
        );
        assert!(
            error.message.contains("use a larger step"),
            "{}",
            error.message
        );
    }
}

#[test]
fn too_many_steps_fails() {
    let table = "Host,At\na,2024-01-01T00:00:00Z\na,2025-01-01T00:00:00Z\n";
    let error = run_csv(
        &[("T.csv", table)],
        "T | make-series n = count() on At step 1s by Host",
    )
    .expect_err("a year of seconds is too many steps");
    // 366 days of seconds, and one step more for the last row's own step.
    assert!(
        error.message.contains("31,622,401 steps per series"),
        "{}",
        error.message
    );
    assert!(
        error.message.contains("use a larger step"),
        "{}",
        error.message
    );
}

/// Enough rows for several batches of polars' streaming engine (100,000 rows each).
#[test]
fn batches_keep_first_appearance_order() {
    let query = |aggregate: &str| {
        format!(
            "range i from 1 to 300000 step 1 \
             | extend k = tostring((i * 7919) % 13), w = (i % 3) * 10000000000, \
               t = datetime(2024-01-01) + i * 1s \
             | make-series n = {aggregate} on t step 1h by k, w"
        )
    };
    let fast = run_ok(&[], &query("count()"));
    let general = run_ok(&[], &query("countif(true)"));
    assert_same_rows(&fast.rows, &general.rows, "batches");
    assert_eq!(fast.rows.len(), 39);

    let mut order: Vec<(String, i64)> = Vec::new();
    for i in 1..=300_000i64 {
        let key = (((i * 7919) % 13).to_string(), (i % 3) * 10_000_000_000);
        if !order.contains(&key) {
            order.push(key);
        }
    }
    let keys: Vec<(String, i64)> = fast
        .rows
        .iter()
        .map(|row| {
            (
                row[0].as_str().unwrap().to_owned(),
                row[1].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(keys, order);
    let total: i64 = fast
        .rows
        .iter()
        .flat_map(|row| row[2].as_array().unwrap().clone())
        .map(|n: Value| n.as_i64().unwrap())
        .sum();
    assert_eq!(total, 300_000);
}
