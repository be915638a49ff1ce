//! Conformance with Microsoft's Kusto.Language parser on a corpus of real queries.
//!
//! The corpus in `tests/fixtures/corpus/kql/` carries, for every query, the syntax errors that
//! Kusto.Language 12.4.1 reports. Every query Kusto accepts must parse without ERROR or MISSING
//! nodes, except the ones listed in [`ACCEPTED_EXCEPTIONS`]. Every query Kusto rejects must get a
//! syntax error that starts at most [`TOLERANCE_UTF16`] code units from the start of Kusto's first
//! error, except the ones listed in [`REJECTED_EXCEPTIONS`].

use std::path::{Path, PathBuf};

use quarry_syntax::{LineIndex, parse};

/// Maximum distance, in UTF-16 code units, between the start of Kusto's first error and the
/// start of the nearest Quarry error.
const TOLERANCE_UTF16: usize = 10;

/// Queries that Kusto accepts and Quarry rejects, with the reason.
const ACCEPTED_EXCEPTIONS: &[(&str, &str)] = &[];

/// Queries that Kusto rejects where Quarry reports no error near Kusto's position, with the reason.
const REJECTED_EXCEPTIONS: &[(&str, &str)] = &[];

struct CorpusQuery {
    id: String,
    query: String,
    kusto_errors: Vec<KustoError>,
}

struct KustoError {
    start: usize,
}

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/corpus/kql")
}

fn load_corpus() -> Vec<CorpusQuery> {
    let mut queries = Vec::new();
    for name in ["kustodocs.jsonl", "reprise99.jsonl"] {
        let path = corpus_dir().join(name);
        let content = std::fs::read_to_string(&path)
            .unwrap_or_else(|error| panic!("failed to read {}: {error}", path.display()));
        for (line_number, line) in content.lines().enumerate() {
            let record: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|error| {
                panic!("{name}:{}: invalid JSON: {error}", line_number + 1)
            });
            let kusto_errors = record["kusto_language_syntax_errors"]
                .as_array()
                .expect("kusto_language_syntax_errors is an array")
                .iter()
                .map(|error| KustoError {
                    start: error["start"].as_u64().expect("start is a number") as usize,
                })
                .collect();
            queries.push(CorpusQuery {
                id: record["id"].as_str().expect("id is a string").to_string(),
                query: record["query"]
                    .as_str()
                    .expect("query is a string")
                    .to_string(),
                kusto_errors,
            });
        }
    }
    queries
}

fn reason_for<'list>(list: &'list [(&str, &str)], id: &str) -> Option<&'list str> {
    list.iter()
        .find(|(listed, _)| *listed == id)
        .map(|(_, reason)| *reason)
}

#[test]
fn corpus_has_both_kinds_of_queries() {
    let corpus = load_corpus();
    let rejected = corpus
        .iter()
        .filter(|query| !query.kusto_errors.is_empty())
        .count();
    assert_eq!(corpus.len(), 1536);
    assert_eq!(rejected, 35);
}

#[test]
fn accepted_queries_parse_cleanly() {
    let corpus = load_corpus();
    let mut passed = 0;
    let mut excepted = Vec::new();
    let mut failures = Vec::new();

    for query in corpus.iter().filter(|query| query.kusto_errors.is_empty()) {
        let result = parse(&query.query);
        let clean = result.errors.is_empty() && !result.root().has_error();
        match (clean, reason_for(ACCEPTED_EXCEPTIONS, &query.id)) {
            (true, None) => passed += 1,
            (false, Some(_)) => excepted.push(query.id.as_str()),
            (true, Some(_)) => failures.push(format!(
                "{}: parses cleanly now, remove its exception",
                query.id
            )),
            (false, None) => failures.push(format!("{}: {:?}", query.id, result.errors)),
        }
    }

    eprintln!(
        "accepted by Kusto: {passed} parse cleanly, {} listed exceptions, {} failures",
        excepted.len(),
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "accepted queries with syntax errors:\n{}",
        failures.join("\n")
    );
}

#[test]
fn rejected_queries_get_errors_nearby() {
    let corpus = load_corpus();
    let mut passed = 0;
    let mut excepted = 0;
    let mut failures = Vec::new();
    let mut distances = Vec::new();

    for query in corpus.iter().filter(|query| !query.kusto_errors.is_empty()) {
        let result = parse(&query.query);
        let index = LineIndex::new(&query.query);
        let kusto_start = query.kusto_errors[0].start;

        let nearest = result
            .errors
            .iter()
            .map(|error| index.utf16_offset(error.range.start).abs_diff(kusto_start))
            .min();
        if let Some(distance) = nearest {
            distances.push(distance);
        }
        let near = nearest.is_some_and(|distance| distance <= TOLERANCE_UTF16);

        match (near, reason_for(REJECTED_EXCEPTIONS, &query.id)) {
            (true, None) => passed += 1,
            (false, Some(_)) => excepted += 1,
            (true, Some(_)) => failures.push(format!(
                "{}: matches Kusto now, remove its exception",
                query.id
            )),
            (false, None) => failures.push(format!(
                "{}: Kusto's first error at UTF-16 offset {kusto_start}, Quarry's errors: {:?}",
                query.id, result.errors
            )),
        }
    }

    distances.sort_unstable();
    eprintln!(
        "rejected by Kusto: {passed} with an error nearby, {excepted} listed exceptions, {} failures; \
         distances to the nearest Quarry error in UTF-16 units: {distances:?}",
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "rejected queries without a nearby error:\n{}",
        failures.join("\n")
    );
}
