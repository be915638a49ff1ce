//! Criterion benchmarks of the local engine: where + summarize over a real CSV and the demo data.
//!
//! Run with `cargo bench -p quarry-engine`. Tables are loaded once before timing, as a
//! `Session` keeps them between runs, so the numbers measure planning and polars execution.

use std::hint::black_box;
use std::path::PathBuf;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use quarry_engine::{DataSource, FixedClock, RunOptions, Session};

/// 2024-03-10T12:00:00Z.
const NOW: i64 = 1_710_072_000 * 1_000_000_000;

fn msticpy_folder() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/msticpy"
    ))
}

fn bench_queries(c: &mut Criterion) {
    let options = RunOptions::default();

    let folder = Session::with_clock(
        DataSource::Folder(msticpy_folder()),
        Arc::new(FixedClock(NOW)),
    );
    let cmd_by_account = r#"processes_on_host | where NewProcessName endswith "cmd.exe" | summarize n = count() by Account | order by n desc"#;
    folder
        .run(cmd_by_account, &options)
        .expect("the fixture query runs");
    c.bench_function("processes_on_host where+summarize", |b| {
        b.iter(|| folder.run(black_box(cmd_by_account), &options).unwrap())
    });

    let demo = Session::with_clock(DataSource::Demo, Arc::new(FixedClock(NOW)));
    let spray = "SecurityEvent | where EventID == 4625 | summarize accounts = dcount(TargetUserName), n = count() by IpAddress, bin(TimeGenerated, 1h)";
    demo.run(spray, &options).expect("the demo query runs");
    c.bench_function("demo SecurityEvent where+summarize", |b| {
        b.iter(|| demo.run(black_box(spray), &options).unwrap())
    });

    let has_term =
        "SecurityEvent | where CommandLine has 'powershell' | summarize count() by Computer";
    c.bench_function("demo SecurityEvent has+summarize", |b| {
        b.iter(|| demo.run(black_box(has_term), &options).unwrap())
    });
}

fn bench_loading(c: &mut Criterion) {
    let options = RunOptions::default();
    c.bench_function("load processes_on_host.csv", |b| {
        b.iter(|| {
            // A new session has an empty cache, so each run reads and normalises the file.
            let session = Session::new(DataSource::Folder(msticpy_folder()));
            session.run("processes_on_host | count", &options).unwrap()
        })
    });
    c.bench_function("generate demo dataset", |b| {
        b.iter(|| quarry_engine::demo::generate(black_box(0)))
    });
}

criterion_group!(benches, bench_queries, bench_loading);
criterion_main!(benches);
