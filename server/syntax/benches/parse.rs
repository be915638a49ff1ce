//! Parser benchmarks: a full parse of the conformance corpus, and an incremental reparse after a
//! one-character edit in a 5,000-line document, without and with a syntax error in it.
//!
//! Run with `cargo bench -p quarry-syntax --bench parse`.

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use quarry_syntax::{TextEdit, parse, reparse};

/// Line count of the document in the incremental benchmark.
const DOCUMENT_LINES: usize = 5_000;

/// Loads the queries of the conformance corpus, the same set the conformance test uses, with
/// a flag that is true when Kusto accepts the query.
fn corpus_queries() -> Vec<(String, bool)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/corpus/kql");
    let mut queries = Vec::new();
    for name in ["kustodocs.jsonl", "reprise99.jsonl"] {
        let content = std::fs::read_to_string(dir.join(name)).expect("corpus file is readable");
        for line in content.lines() {
            let record: serde_json::Value =
                serde_json::from_str(line).expect("corpus line is JSON");
            let query = record["query"]
                .as_str()
                .expect("query is a string")
                .to_string();
            let accepted = record["kusto_language_syntax_errors"]
                .as_array()
                .is_some_and(Vec::is_empty);
            queries.push((query, accepted));
        }
    }
    queries
}

/// Builds a document of at least `lines` lines by repeating the corpus queries that Kusto
/// accepts as blank-line separated blocks, as a large .kql file holds them.
///
/// NOTE: the rejected queries are left out because their syntax errors make a reparse several
/// times slower (tree-sitter reuses less of the tree around errors), and a file being edited
/// is mostly valid.
fn large_document(queries: &[(String, bool)], lines: usize) -> String {
    let mut document = String::new();
    let accepted = queries.iter().filter(|(_, accepted)| *accepted);
    for (query, _) in accepted.cycle() {
        if document.lines().count() >= lines {
            break;
        }
        document.push_str(query.trim());
        document.push_str("\n\n");
    }
    document
}

fn full_parse(criterion: &mut Criterion) {
    let queries = corpus_queries();
    let total_bytes: usize = queries.iter().map(|(query, _)| query.len()).sum();

    let mut group = criterion.benchmark_group("full_parse");
    group.throughput(Throughput::Bytes(total_bytes as u64));
    group.bench_function("corpus_1536_queries", |bencher| {
        bencher.iter(|| {
            for (query, _) in &queries {
                black_box(parse(black_box(query)));
            }
        })
    });
    group.finish();
}

fn incremental_reparse(criterion: &mut Criterion) {
    let queries = corpus_queries();
    let old_text = large_document(&queries, DOCUMENT_LINES);
    let old = parse(&old_text);

    // Replace one character in the middle of the document: the first digit after the midpoint.
    let middle = old_text.len() / 2;
    let offset = middle
        + old_text[middle..]
            .find(|ch: char| ch.is_ascii_digit())
            .expect("a digit");
    let replacement = if &old_text[offset..offset + 1] == "7" {
        "8"
    } else {
        "7"
    };
    let edit = TextEdit::replace(&old_text, offset..offset + 1, replacement);
    let new_text = format!(
        "{}{replacement}{}",
        &old_text[..offset],
        &old_text[offset + 1..]
    );

    let mut group = criterion.benchmark_group("reparse");
    group.bench_function("one_char_edit_5000_lines", |bencher| {
        bencher.iter(|| black_box(reparse(black_box(&new_text), &old, &edit)))
    });
    group.bench_function("full_parse_5000_lines", |bencher| {
        bencher.iter(|| black_box(parse(black_box(&new_text))))
    });

    // The same edit in a document with one syntax error near its start: `reparse` then parses
    // the whole text again, so this costs about as much as a full parse.
    let broken_text = format!("T | wher x\n\n{old_text}");
    let broken = parse(&broken_text);
    assert!(!broken.errors.is_empty());
    let shift = "T | wher x\n\n".len();
    let broken_edit = TextEdit::replace(
        &broken_text,
        shift + offset..shift + offset + 1,
        replacement,
    );
    let broken_new_text = format!(
        "{}{replacement}{}",
        &broken_text[..shift + offset],
        &broken_text[shift + offset + 1..]
    );
    group.bench_function("one_char_edit_5000_lines_with_error", |bencher| {
        bencher.iter(|| black_box(reparse(black_box(&broken_new_text), &broken, &broken_edit)))
    });
    group.finish();
}

criterion_group!(benches, full_parse, incremental_reparse);
criterion_main!(benches);
