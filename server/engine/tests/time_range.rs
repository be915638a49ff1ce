//! `RunOptions::time_range`: the window applies to every table with a datetime `TimeGenerated`
//! column, start inclusive and end exclusive, and leaves other tables whole.

mod common;

use common::*;
use quarry_engine::{RunOptions, TimeWindow};

const EVENTS: &str = "\
TimeGenerated,Account
2024-03-10 09:00:00,alice
2024-03-10 10:00:00,bob
2024-03-10 11:00:00,carol
2024-03-10 12:00:00,dave
";

const HOSTS: &str = "\
Host,Owner
WKS-1,alice
WKS-2,bob
";

/// Nanoseconds of 2024-03-10 at `hour`:00 UTC.
fn at_hour(hour: i64) -> i64 {
    (1_710_028_800 + hour * 3600) * 1_000_000_000
}

fn run_window(query: &str, window: Option<TimeWindow>) -> quarry_engine::QueryOutput {
    let folder = TempFolder::new();
    folder.write("Events.csv", EVENTS);
    folder.write("Hosts.csv", HOSTS);
    let options = RunOptions {
        max_rows: usize::MAX,
        time_range: window,
    };
    session(&folder.path)
        .run(query, &options)
        .unwrap_or_else(|error| panic!("query failed: {error}"))
}

#[test]
fn window_keeps_start_drops_end() {
    let window = TimeWindow {
        start: at_hour(10),
        end: at_hour(12),
    };
    let output = run_window("Events | project Account", Some(window));
    assert_eq!(strings(&output, "Account"), ["bob", "carol"]);
}

#[test]
fn no_window_keeps_every_row() {
    let output = run_window("Events | count", None);
    assert_eq!(column(&output, "Count"), [serde_json::json!(4)]);
}

#[test]
fn tables_without_time_column_whole() {
    let window = TimeWindow {
        start: at_hour(0),
        end: at_hour(1),
    };
    let output = run_window("Hosts | count", Some(window));
    assert_eq!(column(&output, "Count"), [serde_json::json!(2)]);
    let output = run_window("Events | count", Some(window));
    assert_eq!(column(&output, "Count"), [serde_json::json!(0)]);
}

#[test]
fn start_between_ticks_stays_inclusive() {
    // One nanosecond after 10:00 excludes the 10:00 row whatever the column's time unit.
    let window = TimeWindow {
        start: at_hour(10) + 1,
        end: at_hour(11) + 1,
    };
    let output = run_window("Events | project Account", Some(window));
    assert_eq!(strings(&output, "Account"), ["carol"]);
}
