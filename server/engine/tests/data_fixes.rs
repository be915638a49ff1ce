//! Loading nested JSON as dynamic values, and datetime layouts in loaded columns.

mod common;

use common::*;
use serde_json::json;

const NESTED: &str = "\
{\"TimeGenerated\":\"2024-05-01T00:00:00Z\",\"Props\":{\"a\":1,\"b\":[1,2]},\"User\":\"x\"}
{\"TimeGenerated\":\"2024-05-01T01:00:00Z\",\"Props\":{\"a\":2,\"c\":\"z\"},\"User\":\"y\"}
";

#[test]
fn nested_json_objects_keep_their_keys() {
    let output = run_ok(
        &[("ev.jsonl", NESTED)],
        "ev | extend a = Props.a, b = array_length(Props.b), t = gettype(Props), \
         p = tostring(Props) | project User, a, b, t, p",
    );
    assert_eq!(
        output.rows[0],
        vec![
            json!("x"),
            json!(1),
            json!(2),
            json!("dictionary"),
            json!("{\"a\":1,\"b\":[1,2]}")
        ]
    );
    // The second row keeps only its own keys: no `b` merged in from the first row.
    assert_eq!(output.rows[1][4], json!("{\"a\":2,\"c\":\"z\"}"));
}

#[test]
fn nested_json_objects_filter_and_print() {
    let output = run_ok(
        &[("ev.jsonl", NESTED)],
        "ev | where Props.a == 2 | project User",
    );
    assert_eq!(strings(&output, "User"), ["y"]);
    let output = run_ok(&[("ev.jsonl", NESTED)], "ev | project Props | take 1");
    assert_eq!(column_types(&output), ["dynamic"]);
    assert_eq!(output.rows[0][0], json!({"a": 1, "b": [1, 2]}));
}

#[test]
fn json_array_files_with_objects_of_objects() {
    let text = r#"[{"Id":1,"Props":{"a":{"deep":"v"}},"Items":[{"k":1},{"k":2}]},
                   {"Id":2,"Props":{"a":{"deep":"w"}},"Items":[]}]"#;
    let output = run_ok(
        &[("ev.json", text)],
        "ev | extend d = tostring(Props.a.deep), k = toint(Items[1].k), n = array_length(Items) \
         | project Id, d, k, n",
    );
    assert_eq!(
        output.rows,
        vec![
            vec![json!(1), json!("v"), json!(2), json!(2)],
            vec![json!(2), json!("w"), json!(null), json!(0)],
        ]
    );
}

#[test]
fn mixed_iso_layouts_in_one_column_are_datetimes() {
    let csv = "\
Offsets,Separators
2024-05-01T10:00:00+02:00,2024-05-01 10:00:00
2024-05-01T09:00:00Z,2024-05-01T09:00:00Z
";
    let output = run_ok(&[("t.csv", csv)], "t");
    assert_eq!(column_types(&output), ["datetime", "datetime"]);
    assert_eq!(
        strings(&output, "Offsets"),
        [
            "2024-05-01T08:00:00.0000000Z",
            "2024-05-01T09:00:00.0000000Z"
        ]
    );
    assert_eq!(
        strings(&output, "Separators"),
        [
            "2024-05-01T10:00:00.0000000Z",
            "2024-05-01T09:00:00.0000000Z"
        ]
    );
}

#[test]
fn us_layout_datetimes_are_detected() {
    // The layout of MSTICPy's syslog_data.csv.
    let csv = "\
TimeGenerated,Seconds,Clock
7/8/2019 16:08,12/31/2019 23:59:59.5,7/8/2019 4:08:00 PM
7/8/2019 9:05,1/2/2020 00:00:01,7/8/2019 4:08:00 AM
";
    let output = run_ok(
        &[("syslog.csv", csv)],
        "syslog | where TimeGenerated > datetime(2019-07-08) | extend h = bin(TimeGenerated, 1h)",
    );
    assert_eq!(
        column_types(&output),
        ["datetime", "datetime", "datetime", "datetime"]
    );
    assert_eq!(
        strings(&output, "TimeGenerated"),
        [
            "2019-07-08T16:08:00.0000000Z",
            "2019-07-08T09:05:00.0000000Z"
        ]
    );
    assert_eq!(
        strings(&output, "Seconds"),
        [
            "2019-12-31T23:59:59.5000000Z",
            "2020-01-02T00:00:01.0000000Z"
        ]
    );
    assert_eq!(
        strings(&output, "Clock"),
        [
            "2019-07-08T16:08:00.0000000Z",
            "2019-07-08T04:08:00.0000000Z"
        ]
    );
}

#[test]
fn mixed_iso_and_us_stay_string() {
    // A column must fit one layout family, and `13/8/2019` is not a month-first date.
    let csv = "When\n7/8/2019 16:08\n2019-07-08T16:08:00Z\n13/8/2019 16:08\n";
    let output = run_ok(&[("t.csv", csv)], "t");
    assert_eq!(column_types(&output), ["string"]);
}

#[test]
fn schema_file_datetime_accepts_what_todatetime_reads() {
    // `Other` contains an RFC 822 date, which todatetime() reads and the loader does not detect.
    let csv = "TimeGenerated,Other\n7/8/2019 16:08,\"Mon, 08 Jul 2019 16:08:00 +0000\"\n";
    let schema = r#"{"syslog": {"TimeGenerated": "datetime", "Other": "datetime"}}"#;
    let output = run_ok(
        &[("syslog.csv", csv), ("quarry-schema.json", schema)],
        "syslog | extend same = TimeGenerated == todatetime('7/8/2019 16:08')",
    );
    assert_eq!(column_types(&output), ["datetime", "datetime", "bool"]);
    assert_eq!(
        output.rows[0],
        vec![
            json!("2019-07-08T16:08:00.0000000Z"),
            json!("2019-07-08T16:08:00.0000000Z"),
            json!(true)
        ]
    );
}
