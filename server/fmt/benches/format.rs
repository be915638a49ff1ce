//! Formatter benchmark: formatting every query of the conformance corpus, parse included.
//!
//! Run with `cargo bench -p quarry-fmt --bench format`.

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use quarry_fmt::{FormatOptions, format_document};

fn corpus_queries() -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/corpus/kql");
    let mut queries = Vec::new();
    for name in ["kustodocs.jsonl", "reprise99.jsonl"] {
        let content = std::fs::read_to_string(dir.join(name)).expect("corpus file is readable");
        for line in content.lines() {
            let record: serde_json::Value =
                serde_json::from_str(line).expect("corpus line is JSON");
            let query = record["query"].as_str().expect("query is a string");
            queries.push(query.to_owned());
        }
    }
    queries
}

fn format_corpus(c: &mut Criterion) {
    let queries = corpus_queries();
    let bytes: usize = queries.iter().map(String::len).sum();
    let options = FormatOptions::default();

    let mut group = c.benchmark_group("format");
    group.throughput(Throughput::Bytes(bytes as u64));
    group.bench_function("corpus", |b| {
        b.iter(|| {
            for query in &queries {
                black_box(format_document(black_box(query), &options));
            }
        })
    });
    group.finish();
}

criterion_group!(benches, format_corpus);
criterion_main!(benches);
