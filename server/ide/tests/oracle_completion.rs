//! Completion differential test against Microsoft's Kusto.Language 12.4.1: at cursor positions
//! from the corpus (after `| where `, `| project `, `by ` and inside function arguments), the
//! columns Quarry offers must equal the oracle's column items. The oracle's results are stored
//! in `tests/oracle/completion.jsonl` by `server/hir/scripts/oracle_fixtures.py`.

use std::collections::{BTreeSet, HashMap};

use quarry_analysis::Catalog;
use quarry_ide::{Analysis, CompletionKind, SourceFile};
use serde::Deserialize;

#[derive(Deserialize)]
struct CorpusRecord {
    id: String,
    query: String,
}

#[derive(Deserialize)]
struct CompletionAnswer {
    query_id: String,
    byte_offset: usize,
    columns: Vec<String>,
}

fn read_jsonl<T: for<'de> Deserialize<'de>>(relative: &str) -> Vec<T> {
    let path = format!("{}/{relative}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{path}: {error}"));
    text.lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| serde_json::from_str(line).unwrap_or_else(|error| panic!("{path}: {error}")))
        .collect()
}

/// Removes the brackets Quarry adds around names that are not identifiers, since the oracle's
/// labels are the bare names.
fn bare_name(label: &str) -> String {
    match label
        .strip_prefix("['")
        .and_then(|rest| rest.strip_suffix("']"))
    {
        Some(inner) => inner.replace("\\'", "'").replace("\\\\", "\\"),
        None => label.to_owned(),
    }
}

#[test]
fn completion_columns_match_oracle() {
    let corpus: HashMap<String, String> = ["kustodocs.jsonl", "reprise99.jsonl"]
        .iter()
        .flat_map(|file| {
            read_jsonl::<CorpusRecord>(&format!("../../tests/fixtures/corpus/kql/{file}"))
        })
        .map(|record| (record.id, record.query))
        .collect();
    let answers: Vec<CompletionAnswer> = read_jsonl("tests/oracle/completion.jsonl");
    assert!(
        answers.len() >= 300,
        "only {} cursor positions",
        answers.len()
    );

    let analysis = Analysis::new(Catalog::get());
    let mut matched = 0;
    let mut misses = Vec::new();
    for answer in &answers {
        let file = SourceFile::parse(&corpus[&answer.query_id]);
        let columns: BTreeSet<String> = analysis
            .completions(&file, answer.byte_offset)
            .map(|completions| {
                completions
                    .items
                    .iter()
                    .filter(|item| item.kind == CompletionKind::Column)
                    .map(|item| bare_name(&item.label))
                    .collect()
            })
            .unwrap_or_default();
        let expected: BTreeSet<String> = answer.columns.iter().cloned().collect();
        if columns == expected {
            matched += 1;
        } else {
            let missing: Vec<_> = expected.difference(&columns).take(5).collect();
            let extra: Vec<_> = columns.difference(&expected).take(5).collect();
            misses.push(format!(
                "{}@{}: missing {missing:?}, extra {extra:?}",
                answer.query_id, answer.byte_offset
            ));
        }
    }
    let rate = matched as f64 / answers.len() as f64;
    eprintln!(
        "completion positions: {}, same columns: {matched} ({:.1}%)",
        answers.len(),
        rate * 100.0
    );
    for miss in &misses {
        eprintln!("  {miss}");
    }
    assert!(rate >= 0.95, "only {:.1}% of positions match", rate * 100.0);
}
