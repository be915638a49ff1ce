//! Semantic differential tests against Microsoft's Kusto.Language 12.4.1 on the query corpus,
//! with the bundled Sentinel schema. The oracle's results are stored in
//! `tests/oracle/semantic.jsonl` by `scripts/oracle_fixtures.py`, so these tests need no node.

use std::collections::{BTreeSet, HashMap};

use quarry_analysis::{BundledSchema, Catalog};
use quarry_hir::{Model, analyze, codes};
use serde::Deserialize;

const CORPUS_FILES: [&str; 2] = ["kustodocs.jsonl", "reprise99.jsonl"];

/// Kusto.Language's codes for names that bind to nothing: tables (KS204), any name (KS142),
/// functions (KS211), databases (KS208) and plugins (KS124).
const ORACLE_UNKNOWN_NAME_CODES: [&str; 5] = ["KS204", "KS142", "KS211", "KS208", "KS124"];

/// Clean queries on which Quarry still reports an error, with the reason.
const CLEAN_QUERY_EXCEPTIONS: &[(&str, &str)] = &[];

#[derive(Deserialize)]
struct CorpusRecord {
    id: String,
    query: String,
}

#[derive(Deserialize)]
struct SemanticAnswer {
    id: String,
    errors: Vec<OracleError>,
}

#[derive(Deserialize)]
struct OracleError {
    code: String,
    #[serde(default)]
    start: usize,
    #[serde(default)]
    length: usize,
    text: String,
}

fn fixture_path(relative: &str) -> String {
    format!("{}/{relative}", env!("CARGO_MANIFEST_DIR"))
}

fn read_jsonl<T: for<'de> Deserialize<'de>>(path: &str) -> Vec<T> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|error| panic!("{path}: {error}"));
    text.lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| serde_json::from_str(line).unwrap_or_else(|error| panic!("{path}: {error}")))
        .collect()
}

fn corpus() -> HashMap<String, String> {
    CORPUS_FILES
        .iter()
        .flat_map(|file| {
            read_jsonl::<CorpusRecord>(&fixture_path(&format!(
                "../../tests/fixtures/corpus/kql/{file}"
            )))
        })
        .map(|record| (record.id, record.query))
        .collect()
}

fn model(text: &str) -> Model {
    let parse = quarry_syntax::parse(text);
    analyze(text, &parse, Catalog::get(), BundledSchema::Sentinel.get())
}

#[test]
fn clean_queries_have_no_semantic_errors() {
    let corpus = corpus();
    let answers: Vec<SemanticAnswer> = read_jsonl(&fixture_path("tests/oracle/semantic.jsonl"));
    let mut failures = Vec::new();
    let mut clean = 0;
    for answer in answers.iter().filter(|answer| answer.errors.is_empty()) {
        clean += 1;
        let text = &corpus[&answer.id];
        let model = model(text);
        if let Some(diagnostic) = model.errors().next() {
            failures.push(format!(
                "{}: {} {:?}: {}",
                answer.id,
                diagnostic.code,
                &text[diagnostic.range.clone()],
                diagnostic.message
            ));
        }
    }
    let unexpected: Vec<&String> = failures
        .iter()
        .filter(|failure| {
            !CLEAN_QUERY_EXCEPTIONS
                .iter()
                .any(|(id, _)| failure.starts_with(&format!("{id}: ")))
        })
        .collect();
    eprintln!(
        "clean queries: {clean}, with a Quarry error: {} ({} listed as exceptions)",
        failures.len(),
        failures.len() - unexpected.len()
    );
    for failure in &unexpected {
        eprintln!("  {failure}");
    }
    assert!(
        unexpected.is_empty(),
        "{} clean queries have errors",
        unexpected.len()
    );
}

#[test]
fn unknown_names_match_oracle() {
    let corpus = corpus();
    let answers: Vec<SemanticAnswer> = read_jsonl(&fixture_path("tests/oracle/semantic.jsonl"));
    let quarry_codes = [
        codes::UNKNOWN_TABLE,
        codes::UNKNOWN_NAME,
        codes::UNKNOWN_FUNCTION,
        codes::UNKNOWN_PLUGIN,
    ];
    let mut total = 0;
    let mut matched = 0;
    let mut misses = Vec::new();
    for answer in &answers {
        let expected: BTreeSet<&str> = answer
            .errors
            .iter()
            .filter(|error| ORACLE_UNKNOWN_NAME_CODES.contains(&error.code.as_str()))
            .map(|error| error.text.as_str())
            .collect();
        if expected.is_empty() {
            continue;
        }
        total += 1;
        let text = &corpus[&answer.id];
        let model = model(text);
        let reported: BTreeSet<&str> = model
            .errors()
            .filter(|diagnostic| quarry_codes.contains(&diagnostic.code))
            .map(|diagnostic| &text[diagnostic.range.clone()])
            .collect();
        if expected.is_subset(&reported) {
            matched += 1;
        } else {
            misses.push(format!(
                "{}: expected {expected:?}, reported {reported:?}",
                answer.id
            ));
        }
    }
    let rate = matched as f64 / total as f64;
    eprintln!(
        "queries with unknown names: {total}, same names reported: {matched} ({:.1}%)",
        rate * 100.0
    );
    for miss in &misses {
        eprintln!("  {miss}");
    }
    assert!(rate >= 0.90, "only {:.1}% of queries match", rate * 100.0);
}

/// Every type error Quarry reports on the corpus (wrong argument type, operands that cannot be
/// compared) lies where Kusto.Language also reports an error, so the type checks add no false
/// errors on real queries.
#[test]
fn type_errors_match_oracle() {
    let corpus = corpus();
    let answers: Vec<SemanticAnswer> = read_jsonl(&fixture_path("tests/oracle/semantic.jsonl"));
    let mut reported = 0;
    let mut unconfirmed = Vec::new();
    for answer in &answers {
        let text = &corpus[&answer.id];
        let model = model(text);
        for diagnostic in model.errors().filter(|diagnostic| {
            diagnostic.code == codes::ARGUMENT_TYPE || diagnostic.code == codes::OPERAND_TYPES
        }) {
            reported += 1;
            // Offsets in the answers count UTF-16 units, so the check compares the oracle's
            // text with the diagnostic's text and falls back to any error in the query.
            let range = &diagnostic.range;
            let confirmed = answer.errors.iter().any(|error| {
                let overlaps_text =
                    !error.text.is_empty() && text[range.clone()].contains(&error.text);
                overlaps_text
                    || (error.start <= range.end && range.start <= error.start + error.length)
            });
            if !confirmed {
                unconfirmed.push(format!(
                    "{}: {} {:?}: {}",
                    answer.id,
                    diagnostic.code,
                    &text[range.clone()],
                    diagnostic.message
                ));
            }
        }
    }
    eprintln!(
        "type errors reported: {reported}, without a matching oracle error: {}",
        unconfirmed.len()
    );
    for failure in &unconfirmed {
        eprintln!("  {failure}");
    }
    assert!(
        unconfirmed.is_empty(),
        "{} type errors have no oracle error",
        unconfirmed.len()
    );
}

/// Applying any quick fix to a corpus query leaves a query that parses without new syntax errors
/// and no longer has the diagnostic the fix was for at that place.
#[test]
fn quick_fixes_keep_corpus_queries_valid() {
    let mut applied = 0;
    let mut warnings: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
    for (id, text) in corpus() {
        let model = model(&text);
        for diagnostic in &model.diagnostics {
            *warnings.entry(diagnostic.code).or_default() += 1;
        }
        let syntax_errors = quarry_syntax::parse(&text).errors.len();
        for diagnostic in &model.diagnostics {
            for fix in &diagnostic.fixes {
                let mut edits = fix.edits.clone();
                edits.sort_by_key(|edit| std::cmp::Reverse(edit.range.start));
                let mut fixed = text.clone();
                for edit in edits {
                    fixed.replace_range(edit.range, &edit.new_text);
                }
                applied += 1;
                let after = quarry_syntax::parse(&fixed);
                assert!(
                    after.errors.len() <= syntax_errors,
                    "{id}: `{}` adds syntax errors:\n{fixed}",
                    fix.title
                );
                let again = analyze(
                    &fixed,
                    &after,
                    Catalog::get(),
                    BundledSchema::Sentinel.get(),
                );
                let same_start = diagnostic.range.start;
                assert!(
                    !again
                        .diagnostics
                        .iter()
                        .any(|d| d.code == diagnostic.code && d.range.start == same_start),
                    "{id}: `{}` leaves {} in place:\n{fixed}",
                    fix.title,
                    diagnostic.code
                );
            }
        }
    }
    eprintln!("diagnostics by code: {warnings:?}, quick fixes applied: {applied}");
    assert!(applied > 0, "the corpus produced no quick fixes to check");
}
