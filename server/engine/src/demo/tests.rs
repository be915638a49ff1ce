//! Tests of the demo generator: determinism, schema and the planted story.

use std::collections::BTreeMap;

use polars::prelude::*;

use super::*;

/// 2024-03-10T00:00:00Z.
const ANCHOR: i64 = 1_710_028_800 * 1_000_000_000;

fn sentinel_columns() -> BTreeMap<String, BTreeMap<String, String>> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/sentinel-columns.json"
    );
    let text = std::fs::read_to_string(path).expect("the Sentinel column fixture exists");
    serde_json::from_str(&text).expect("the fixture is a map of tables to column types")
}

#[test]
fn anchor_is_midnight_utc() {
    assert_eq!(anchor_for(ANCHOR + 13 * org::NANOS_PER_HOUR), ANCHOR);
    assert_eq!(anchor_for(ANCHOR), ANCHOR);
    assert_eq!(anchor_for(ANCHOR - 1), ANCHOR - NANOS_PER_DAY);
}

#[test]
fn generation_is_deterministic() {
    let first = generate(ANCHOR);
    let second = generate(ANCHOR);
    for (name, frame) in &first {
        assert!(
            frame.equals_missing(&second[name]),
            "table {name} differs between runs"
        );
    }
}

#[test]
fn row_content_does_not_depend_on_day() {
    let today = generate(ANCHOR);
    let tomorrow = generate(ANCHOR + NANOS_PER_DAY);
    let accounts = |dataset: &Dataset| dataset["SecurityEvent"].column("Account").unwrap().clone();
    assert!(accounts(&today).equals_missing(&accounts(&tomorrow)));
}

#[test]
fn tables_have_sentinel_columns_and_types() {
    let reference = sentinel_columns();
    let dataset = generate(ANCHOR);
    assert_eq!(
        dataset.keys().map(String::as_str).collect::<Vec<_>>(),
        [
            "DeviceNetworkEvents",
            "DeviceProcessEvents",
            "SecurityEvent",
            "SigninLogs"
        ]
    );
    for (table, frame) in &dataset {
        let columns = &reference[table];
        for (name, dtype) in frame.schema().iter() {
            let expected = columns
                .get(name.as_str())
                .unwrap_or_else(|| panic!("{table}.{name} is not a Sentinel column"));
            let actual = crate::eval::types::KqlType::from_polars(dtype).name();
            assert_eq!(actual, expected, "type of {table}.{name}");
        }
    }
}

#[test]
fn tables_have_a_few_thousand_rows_in_range() {
    let dataset = generate(ANCHOR);
    for (table, frame) in dataset.iter() {
        assert!(
            (2_000..10_000).contains(&frame.height()),
            "{table} has {} rows",
            frame.height()
        );
        let times = frame
            .column("TimeGenerated")
            .unwrap()
            .as_materialized_series()
            .cast(&DataType::Int64)
            .unwrap();
        let min = times.i64().unwrap().min().unwrap();
        let max = times.i64().unwrap().max().unwrap();
        assert!(
            min >= ANCHOR - DAYS * NANOS_PER_DAY,
            "{table} starts too early"
        );
        assert!(max < ANCHOR, "{table} has events after the anchor");
    }
}

#[test]
fn encoded_command_decodes_to_cradle() {
    // "IEX" in UTF-16LE is 49 00 45 00 58 00, which is "SQBFAFgA" in Base64.
    let encoded = encode_powershell_command(story::DOWNLOAD_CRADLE);
    assert!(encoded.starts_with("SQBFAFgA"), "{encoded}");
    assert_eq!(base64(b"ab"), "YWI=");
    assert_eq!(base64(b"abc"), "YWJj");
    assert_eq!(base64(b"a"), "YQ==");
}
