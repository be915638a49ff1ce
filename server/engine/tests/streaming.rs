//! Queries over inputs large enough that polars' streaming engine splits them into several
//! batches, checking that results keep Kusto's row order and per-group values.

mod common;

use common::*;
use serde_json::{Value, json};

/// Rows in each input: three times the streaming engine's default batch size in polars 0.55
/// (100,000 rows, `POLARS_IDEAL_MORSEL_SIZE`).
const ROWS: i64 = 300_000;

fn column(output: &quarry_engine::QueryOutput, index: usize) -> Vec<Value> {
    output.rows.iter().map(|row| row[index].clone()).collect()
}

#[test]
fn arg_max_picks_group_maximum() {
    let output = run_ok(
        &[],
        &format!(
            "range i from 1 to {ROWS} step 1 | extend g = i % 3, t = i * 2 \
             | summarize arg_max(t, i) by g | sort by g asc"
        ),
    );
    assert_eq!(column(&output, 0), vec![json!(0), json!(1), json!(2)]);
    assert_eq!(
        column(&output, 1),
        vec![json!(600_000), json!(599_996), json!(599_998)]
    );
    assert_eq!(
        column(&output, 2),
        vec![json!(300_000), json!(299_998), json!(299_999)]
    );
}

#[test]
fn arg_min_picks_group_minimum() {
    let output = run_ok(
        &[],
        &format!(
            "range i from 1 to {ROWS} step 1 | extend g = i % 3, t = {ROWS} - i \
             | summarize arg_min(t, i) by g | sort by g asc"
        ),
    );
    assert_eq!(column(&output, 1), vec![json!(0), json!(2), json!(1)]);
    assert_eq!(
        column(&output, 2),
        vec![json!(300_000), json!(299_998), json!(299_999)]
    );
}

#[test]
fn top_ties_keep_input_order() {
    let output = run_ok(
        &[],
        &format!(
            "range i from 1 to {ROWS} step 1 | extend k = i % 10 | top 3 by k desc | project i"
        ),
    );
    assert_eq!(column(&output, 0), vec![json!(9), json!(19), json!(29)]);
}

#[test]
fn summarize_groups_in_first_appearance_order() {
    let output = run_ok(
        &[],
        &format!(
            "range i from 1 to {ROWS} step 1 | extend k = (i * 7919) % 11 \
             | summarize n = count() by k"
        ),
    );
    let mut expected: Vec<i64> = Vec::new();
    for i in 1..=ROWS {
        let key = (i * 7919) % 11;
        if !expected.contains(&key) {
            expected.push(key);
        }
    }
    let expected: Vec<Value> = expected.into_iter().map(|key| json!(key)).collect();
    assert_eq!(column(&output, 0), expected);
}

#[test]
fn row_number_restarts_across_batches() {
    let output = run_ok(
        &[],
        &format!(
            "range i from 1 to {ROWS} step 1 \
             | extend r = row_number(1, i % 100000 == 1) \
             | where i in (100000, 100001, 300000) | project i, r"
        ),
    );
    assert_eq!(
        column(&output, 0),
        vec![json!(100_000), json!(100_001), json!(300_000)]
    );
    assert_eq!(
        column(&output, 1),
        vec![json!(100_000), json!(1), json!(100_000)]
    );
}

#[test]
fn prev_and_row_number_across_batches() {
    let output = run_ok(
        &[],
        &format!(
            "range i from 1 to {ROWS} step 1 | extend p = prev(i), rn = row_number() \
             | where i in (1, 100001, 300000) | project p, rn"
        ),
    );
    assert_eq!(
        column(&output, 0),
        vec![Value::Null, json!(100_000), json!(299_999)]
    );
    assert_eq!(
        column(&output, 1),
        vec![json!(1), json!(100_001), json!(300_000)]
    );
}
