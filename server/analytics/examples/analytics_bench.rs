//! Times the analytics on the inputs that `tests/msticpy-compat/analytics_bench.py` times MSTICPy
//! on, with the same parameters and the same untimed preparation (reading the CSV and parsing
//! the parameter JSON). Prints one JSON line per file with the best of `--repeat` runs.
//!
//! Usage: cargo run --release -p quarry-analytics --example analytics_bench -- [--repeat N] FILE...

use std::fs::File;
use std::path::Path;
use std::time::Instant;

use chrono::Duration;
use quarry_analytics::input::{FullTable, Table, number_at, timestamp_at};
use quarry_analytics::proctree::build_process_tree;
use quarry_analytics::sequences::{
    self, Event, ModelKind, ScoreOptions, SessionLimits, parse_parameters,
};
use quarry_analytics::timeseries::{AnomalyOptions, score_anomalies};

fn time_best(repeat: usize, mut run: impl FnMut()) -> f64 {
    (0..repeat)
        .map(|_| {
            let start = Instant::now();
            run();
            start.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min)
}

fn bench_series(path: &Path, repeat: usize) -> (usize, f64) {
    let name = path.file_name().unwrap().to_string_lossy();
    let value_column = if name.contains("TimeSeriesDemo") {
        "TotalBytesSent"
    } else {
        "Value"
    };
    let table =
        Table::read_csv(File::open(path).unwrap(), &["TimeGenerated", value_column]).unwrap();
    let times: Vec<_> = table
        .rows
        .iter()
        .enumerate()
        .map(|(i, r)| timestamp_at(&r[0], i, "TimeGenerated").unwrap())
        .collect();
    let values: Vec<f64> = table
        .rows
        .iter()
        .enumerate()
        .map(|(i, r)| number_at(&r[1], i, value_column).unwrap())
        .collect();
    let options = AnomalyOptions::default();
    let seconds = time_best(repeat, || {
        let points = score_anomalies(&times, &values, &options).unwrap();
        std::hint::black_box(points);
    });
    (times.len(), seconds)
}

fn bench_events(path: &Path, repeat: usize) -> (usize, f64) {
    let columns = [
        "TimeGenerated",
        "UserId",
        "ClientIP",
        "Operation",
        "Parameters",
    ];
    let table = Table::read_csv(File::open(path).unwrap(), &columns).unwrap();
    let events: Vec<Event> = table
        .rows
        .iter()
        .enumerate()
        .map(|(i, row)| Event {
            user: row[1..3]
                .iter()
                .map(|cell| (!cell.is_empty()).then(|| cell.clone()))
                .collect(),
            time: timestamp_at(&row[0], i, "TimeGenerated").unwrap(),
            command: row[3].clone(),
            params: parse_parameters(&row[4]).unwrap(),
        })
        .collect();
    let limits = SessionLimits {
        max_session: Duration::minutes(20),
        max_gap: Duration::minutes(2),
    };
    let options = ScoreOptions {
        kind: ModelKind::ParamValues,
        window_len: 3,
        use_geo_mean: false,
        modellable_params: None,
    };
    let seconds = time_best(repeat, || {
        let sessions = sequences::sessionize(&events, limits);
        let scores = sequences::score_sessions(&events, &sessions, &options);
        std::hint::black_box(scores);
    });
    (events.len(), seconds)
}

fn bench_processes(path: &Path, repeat: usize) -> (usize, f64) {
    let table = FullTable::read_csv(File::open(path).unwrap()).unwrap();
    let seconds = time_best(repeat, || {
        let tree = build_process_tree(&table.header, &table.rows, None).unwrap();
        std::hint::black_box(tree);
    });
    (table.rows.len(), seconds)
}

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut repeat = 3;
    if let Some(position) = args.iter().position(|arg| arg == "--repeat") {
        repeat = args[position + 1]
            .parse()
            .expect("--repeat takes a positive integer");
        args.drain(position..position + 2);
    }
    for file in &args {
        let path = Path::new(file);
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let (rows, seconds) = if name.starts_with("series_") || name.contains("TimeSeries") {
            bench_series(path, repeat)
        } else if name.starts_with("processes") {
            bench_processes(path, repeat)
        } else {
            bench_events(path, repeat)
        };
        let line = serde_json::json!({"case": name, "rows": rows, "seconds": seconds});
        #[allow(clippy::print_stdout)]
        {
            println!("{line}");
        }
    }
}
