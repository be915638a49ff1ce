//! Times semantic analysis (parse plus binding) of every corpus query, and binding of one
//! document made by joining corpus queries into about 5,000 lines: all of it, and only the
//! block in its middle as hover and completion do.
//!
//! Run from the repository root:
//! `cargo run --release -p quarry-hir --example time_corpus`

use std::time::Instant;

use quarry_analysis::{BundledSchema, Catalog};

fn main() {
    let root = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/corpus/kql"
    );
    let mut queries = Vec::new();
    for file in ["kustodocs.jsonl", "reprise99.jsonl"] {
        let text = std::fs::read_to_string(format!("{root}/{file}")).expect("corpus file exists");
        for line in text.lines().filter(|line| !line.trim().is_empty()) {
            let record: serde_json::Value = serde_json::from_str(line).expect("valid JSON line");
            queries.push(record["query"].as_str().unwrap_or_default().to_owned());
        }
    }
    let catalog = Catalog::get();
    let schema = BundledSchema::Sentinel.get();

    let start = Instant::now();
    let mut bind_total = std::time::Duration::ZERO;
    for query in &queries {
        let parse = quarry_syntax::parse(query);
        let bind_start = Instant::now();
        let model = quarry_hir::analyze(query, &parse, catalog, schema);
        bind_total += bind_start.elapsed();
        std::hint::black_box(model);
    }
    let elapsed = start.elapsed();
    eprintln!(
        "{} queries: {:.1} ms in total, {:.1} ms of it binding",
        queries.len(),
        elapsed.as_secs_f64() * 1000.0,
        bind_total.as_secs_f64() * 1000.0
    );

    let mut document = String::new();
    for query in queries.iter().cycle() {
        if document.lines().count() >= 5_000 {
            break;
        }
        document.push_str(query);
        document.push_str("\n\n");
    }
    let parse = quarry_syntax::parse(&document);
    let mut timings = Vec::new();
    for _ in 0..20 {
        let start = Instant::now();
        std::hint::black_box(quarry_hir::analyze(&document, &parse, catalog, schema));
        timings.push(start.elapsed().as_secs_f64() * 1000.0);
    }
    timings.sort_by(f64::total_cmp);
    eprintln!(
        "{}-line document: binding takes {:.2} ms (median of 20), {:.2} ms at most",
        document.lines().count(),
        timings[timings.len() / 2],
        timings[timings.len() - 1]
    );

    let middle = document.len() / 2;
    let mut timings = Vec::new();
    for _ in 0..200 {
        let start = Instant::now();
        std::hint::black_box(quarry_hir::analyze_range(
            &document,
            &parse,
            catalog,
            schema,
            middle..middle,
        ));
        timings.push(start.elapsed().as_secs_f64() * 1000.0);
    }
    timings.sort_by(f64::total_cmp);
    eprintln!(
        "one block of it: {:.3} ms (median of 200), {:.3} ms at the 99th percentile",
        timings[timings.len() / 2],
        timings[timings.len() * 99 / 100]
    );
}
