//! Time-series anomalies against MSTICPy's `ts_anomalies_stl` on TimeSeriesDemo.csv
//! (TotalBytesSent, period 24, seasonal 7, threshold 3).

mod common;

use std::fs::File;

use chrono::Duration;
use quarry_analytics::input::{Table, number_at, parse_timestamp, timestamp_at};
use quarry_analytics::timeseries::{
    AnomalyOptions, anomaly_periods, kql_time_filter, score_anomalies,
};

fn scored_demo() -> Vec<quarry_analytics::timeseries::ScoredPoint> {
    let file = File::open(common::fixture("TimeSeriesDemo.csv")).unwrap();
    let table = Table::read_csv(file, &["TimeGenerated", "TotalBytesSent"]).unwrap();
    let mut times = Vec::new();
    let mut values = Vec::new();
    for (row, cells) in table.rows.iter().enumerate() {
        times.push(timestamp_at(&cells[0], row, "TimeGenerated").unwrap());
        values.push(number_at(&cells[1], row, "TotalBytesSent").unwrap());
    }
    score_anomalies(&times, &values, &AnomalyOptions::default()).unwrap()
}

#[test]
fn anomalous_hours_match_msticpy() {
    let reference = common::read_json("timeseries_reference.json");
    let points = scored_demo();
    let rows = reference["rows"].as_array().unwrap();
    assert_eq!(points.len(), rows.len());

    let expected: Vec<(String, i64)> = rows
        .iter()
        .filter(|row| row["anomalies"].as_i64() != Some(0))
        .map(|row| {
            (
                row["time"].as_str().unwrap().to_string(),
                row["anomalies"].as_i64().unwrap(),
            )
        })
        .collect();
    let actual: Vec<(String, i64)> = points
        .iter()
        .filter(|point| point.anomalies != 0)
        .map(|point| {
            (
                point.time.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
                point.anomalies as i64,
            )
        })
        .collect();
    assert_eq!(actual.len(), 3);
    assert_eq!(actual, expected);
}

#[test]
fn components_match_msticpy_columns() {
    let reference = common::read_json("timeseries_reference.json");
    let points = scored_demo();
    let mut max_stl_error: f64 = 0.0;
    for (point, row) in points.iter().zip(reference["rows"].as_array().unwrap()) {
        let time = parse_timestamp(row["time"].as_str().unwrap()).unwrap();
        assert_eq!(point.time, time);
        // MSTICPy truncates every component to int64; the truncated values may differ by one
        // where statsmodels' float lands within rounding error of an integer.
        for (name, actual) in [
            ("value", point.value),
            ("residual", point.residual),
            ("trend", point.trend),
            ("seasonal", point.seasonal),
            ("weights", point.weights),
            ("baseline", point.baseline),
        ] {
            let expected = row[name].as_f64().unwrap();
            assert!(
                (actual - expected).abs() <= 1.0,
                "{name} at {time}: {actual} vs {expected}"
            );
        }
        let score = row["score"].as_f64().unwrap();
        assert!(
            (point.score.unwrap() - score).abs() < 1e-6,
            "score at {time}"
        );
        max_stl_error = max_stl_error
            .max(common::relative_error(
                point.trend,
                row["stl_trend"].as_f64().unwrap().trunc(),
            ))
            .max(common::relative_error(
                point.seasonal,
                row["stl_seasonal"].as_f64().unwrap().trunc(),
            ));
    }
    assert!(max_stl_error < 0.005, "max relative error {max_stl_error}");
}

#[test]
fn untruncated_components_match_statsmodels() {
    let reference = common::read_json("timeseries_reference.json");
    let file = File::open(common::fixture("TimeSeriesDemo.csv")).unwrap();
    let table = Table::read_csv(file, &["TimeGenerated", "TotalBytesSent"]).unwrap();
    let times: Vec<_> = table
        .rows
        .iter()
        .map(|r| parse_timestamp(&r[0]).unwrap())
        .collect();
    let values: Vec<f64> = table.rows.iter().map(|r| r[1].parse().unwrap()).collect();
    let options = AnomalyOptions {
        truncate_to_integers: false,
        ..AnomalyOptions::default()
    };
    let points = score_anomalies(&times, &values, &options).unwrap();

    for (point, row) in points.iter().zip(reference["rows"].as_array().unwrap()) {
        for (name, actual) in [
            ("stl_trend", point.trend),
            ("stl_seasonal", point.seasonal),
            ("stl_residual", point.residual),
        ] {
            let expected = row[name].as_f64().unwrap();
            // Relative to the series level (about 1e9), since the residual crosses zero.
            assert!(
                (actual - expected).abs() <= 1e-9 * 1e9,
                "{name} at {}: {actual} vs {expected}",
                point.time
            );
        }
    }
}

#[test]
fn periods_and_kql_filter_match_msticpy() {
    let reference = common::read_json("timeseries_reference.json");
    let points = scored_demo();
    let periods = anomaly_periods(&points, Duration::hours(1), true);
    let expected: Vec<(String, String)> = reference["periods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|pair| {
            (
                pair[0].as_str().unwrap().to_string(),
                pair[1].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let actual: Vec<(String, String)> = periods
        .iter()
        .map(|p| {
            (
                p.start.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
                p.end.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            )
        })
        .collect();
    assert_eq!(actual, expected);

    // MSTICPy prints Python datetimes ("2019-05-13 16:00:00+00:00") where Quarry prints ISO 8601,
    // so compare after rewriting Quarry's datetimes in Python's form.
    let filter = kql_time_filter("TimeGenerated", &periods).unwrap();
    let mut python_form = filter.clone();
    for period in &periods {
        for time in [period.start, period.end] {
            let iso = time.format("%Y-%m-%dT%H:%M:%SZ").to_string();
            let python = time.format("%Y-%m-%d %H:%M:%S+00:00").to_string();
            python_form = python_form.replace(&iso, &python);
        }
    }
    assert_eq!(python_form, reference["kql_filter"].as_str().unwrap());
}
