//! `render` as the last operator: the rows come from the query without it, and the chart hint
//! is returned next to them.

mod common;

use common::*;
use serde_json::json;

const LOGONS: &str = "\
TimeGenerated,Account,Failures
2024-03-10 09:00:00,alice,3
2024-03-10 10:00:00,bob,5
";

#[test]
fn render_hint_returned_with_rows() {
    let output = run_ok(
        &[("Logons.csv", LOGONS)],
        "Logons | project TimeGenerated, Failures \
         | render TimeChart with (title=\"Failed logons\", ycolumns=Failures, Account, ymax=10, legend=hidden, accumulate=true)",
    );
    assert_eq!(output.row_count, 2);
    assert_eq!(output.columns.len(), 2);
    let render = serde_json::to_value(output.render.expect("a render hint")).unwrap();
    assert_eq!(
        render,
        json!({
            "kind": "timechart",
            "properties": {
                "title": "Failed logons",
                "ycolumns": ["Failures", "Account"],
                "ymax": 10,
                "legend": "hidden",
                "accumulate": true,
            }
        })
    );
}

#[test]
fn render_field_present_only_with_render() {
    let output = run_ok(&[("Logons.csv", LOGONS)], "Logons | render table");
    assert_eq!(output.row_count, 2);
    let value = serde_json::to_value(&output).unwrap();
    assert_eq!(value["render"], json!({"kind": "table", "properties": {}}));

    let plain = run_ok(&[("Logons.csv", LOGONS)], "Logons | take 1");
    let value = serde_json::to_value(&plain).unwrap();
    assert!(value.get("render").is_none(), "{value}");
}

#[test]
fn render_not_last_is_error() {
    let query = "Logons | render barchart | take 1";
    let error = run_csv(&[("Logons.csv", LOGONS)], query).expect_err("render in the middle");
    assert!(error.message.contains("last operator"), "{}", error.message);
    let start = query.find("render").unwrap();
    assert_eq!(error.range, Some(start..start + "render barchart".len()));
}
