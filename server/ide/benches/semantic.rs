//! Semantic analysis benchmark: binding every query of the conformance corpus against the
//! bundled Sentinel schema, with parsing measured separately.
//!
//! Run with `cargo bench -p quarry-ide --bench semantic`.

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use quarry_analysis::{BundledSchema, Catalog};

fn corpus_queries() -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/corpus/kql");
    let mut queries = Vec::new();
    for name in ["kustodocs.jsonl", "reprise99.jsonl"] {
        let content = std::fs::read_to_string(dir.join(name)).expect("corpus file is readable");
        for line in content.lines().filter(|line| !line.trim().is_empty()) {
            let record: serde_json::Value =
                serde_json::from_str(line).expect("corpus line is JSON");
            let query = record["query"].as_str().expect("query is a string");
            queries.push(query.to_owned());
        }
    }
    queries
}

fn bind_corpus(c: &mut Criterion) {
    let queries = corpus_queries();
    let bytes: usize = queries.iter().map(String::len).sum();
    let parses: Vec<_> = queries
        .iter()
        .map(|query| quarry_syntax::parse(query))
        .collect();
    let catalog = Catalog::get();
    let schema = BundledSchema::Sentinel.get();

    let mut group = c.benchmark_group("semantic");
    group.throughput(Throughput::Bytes(bytes as u64));
    group.sample_size(20);
    group.bench_function(format!("bind {} corpus queries", queries.len()), |b| {
        b.iter(|| {
            for (query, parse) in queries.iter().zip(&parses) {
                black_box(quarry_hir::analyze(query, parse, catalog, schema));
            }
        })
    });
    group.bench_function(
        format!("parse and bind {} corpus queries", queries.len()),
        |b| {
            b.iter(|| {
                for query in &queries {
                    let parse = quarry_syntax::parse(query);
                    black_box(quarry_hir::analyze(query, &parse, catalog, schema));
                }
            })
        },
    );
    group.finish();
}

criterion_group!(benches, bind_corpus);
criterion_main!(benches);
