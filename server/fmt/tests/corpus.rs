//! The formatter's guarantees, checked on every query of the conformance corpus in
//! `tests/fixtures/corpus/kql/`: it keeps the query blocks apart, changes no token, adds no
//! syntax error, and formatting its output again changes nothing.

use std::path::Path;

use quarry_fmt::{FormatOptions, format_document};
use quarry_syntax::kinds;
use quarry_syntax::tree_sitter::Node;

struct CorpusQuery {
    id: String,
    query: String,
}

fn load_corpus() -> Vec<CorpusQuery> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/corpus/kql");
    let mut queries = Vec::new();
    for name in ["kustodocs.jsonl", "reprise99.jsonl"] {
        let path = dir.join(name);
        let content = std::fs::read_to_string(&path)
            .unwrap_or_else(|error| panic!("failed to read {}: {error}", path.display()));
        for line in content.lines() {
            let record: serde_json::Value =
                serde_json::from_str(line).expect("corpus line is JSON");
            queries.push(CorpusQuery {
                id: record["id"].as_str().expect("id is a string").to_owned(),
                query: record["query"]
                    .as_str()
                    .expect("query is a string")
                    .to_owned(),
            });
        }
    }
    assert_eq!(queries.len(), 1536, "the corpus changed size");
    queries
}

/// Narrow options make the wrapping code run on most queries, not only on long ones.
const OPTION_SETS: [FormatOptions; 2] = [
    FormatOptions {
        indent_width: 4,
        line_width: 100,
    },
    FormatOptions {
        indent_width: 2,
        line_width: 40,
    },
];

/// A token of a tree: its kind and text. Comments lose trailing whitespace, which the
/// formatter trims.
type Token = (String, String);

/// Returns the tokens of each query block, in order. Text between two leaves that is not
/// whitespace (a hidden token such as `in range`) counts as a token too.
fn block_tokens(text: &str) -> Vec<Vec<Token>> {
    let parse = quarry_syntax::parse(text);
    let mut blocks = vec![Vec::new()];
    let mut previous_end = 0;
    collect_tokens(parse.root(), text, &mut previous_end, &mut blocks);
    blocks.retain(|block| !block.is_empty());
    blocks
}

fn collect_tokens(
    node: Node<'_>,
    text: &str,
    previous_end: &mut usize,
    blocks: &mut Vec<Vec<Token>>,
) {
    if node.child_count() > 0 {
        let mut cursor = node.walk();
        for child in node.children(&mut cursor) {
            collect_tokens(child, text, previous_end, blocks);
        }
        return;
    }
    let gap = text[*previous_end..node.start_byte()].trim();
    if !gap.is_empty() {
        let block = blocks.last_mut().expect("there is always a current block");
        block.push((
            "hidden".to_owned(),
            gap.split_whitespace().collect::<Vec<_>>().join(" "),
        ));
    }
    *previous_end = node.end_byte();
    if node.kind() == kinds::BLOCK_SEPARATOR {
        blocks.push(Vec::new());
        return;
    }
    let mut token = &text[node.byte_range()];
    if node.kind() == kinds::COMMENT {
        token = token.trim_end();
    }
    let block = blocks.last_mut().expect("there is always a current block");
    block.push((node.kind().to_owned(), token.to_owned()));
}

/// Runs `check` on every corpus query with every option set and fails with the list of queries
/// it rejects.
fn check_corpus(check: impl Fn(&str, &FormatOptions) -> Result<(), String>) {
    let mut failures = Vec::new();
    for query in load_corpus() {
        for options in &OPTION_SETS {
            if let Err(message) = check(&query.query, options) {
                failures.push(format!(
                    "{} (width {}): {message}",
                    query.id, options.line_width
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn corpus_blocks_stay_separated() {
    check_corpus(|query, options| {
        let formatted = format_document(query, options).text;
        let before = block_tokens(query).len();
        let after = block_tokens(&formatted).len();
        if before != after {
            return Err(format!("{before} blocks became {after}:\n{formatted}"));
        }
        if formatted.contains("\n\n\n") {
            return Err(format!(
                "more than one blank line between blocks:\n{formatted}"
            ));
        }
        Ok(())
    });
}

#[test]
fn corpus_tokens_unchanged() {
    check_corpus(|query, options| {
        let formatted = format_document(query, options).text;
        let before = block_tokens(query).concat();
        let after = block_tokens(&formatted).concat();
        match before.iter().zip(&after).position(|(a, b)| a != b) {
            Some(index) => Err(format!(
                "token {index} changed from {:?} to {:?}:\n{formatted}",
                before[index], after[index]
            )),
            None if before.len() != after.len() => Err(format!(
                "{} tokens became {}:\n{formatted}",
                before.len(),
                after.len()
            )),
            None => Ok(()),
        }
    });
}

#[test]
fn corpus_formatting_adds_no_syntax_error() {
    check_corpus(|query, options| {
        let formatted = format_document(query, options).text;
        let before = quarry_syntax::parse(query).errors.len();
        let after = quarry_syntax::parse(&formatted).errors;
        if after.len() > before {
            return Err(format!(
                "{before} syntax errors became {after:?}:\n{formatted}"
            ));
        }
        Ok(())
    });
}

#[test]
fn corpus_formatting_is_idempotent() {
    check_corpus(|query, options| {
        let once = format_document(query, options).text;
        let twice = format_document(&once, options).text;
        if once != twice {
            return Err(format!("second pass changed\n{once}\ninto\n{twice}"));
        }
        Ok(())
    });
}

#[test]
fn corpus_blocks_with_errors_left_unchanged() {
    let mut with_errors = 0;
    for query in load_corpus() {
        let formatted = format_document(&query.query, &FormatOptions::default());
        for range in &formatted.unformatted_blocks {
            with_errors += 1;
            let block = &query.query[range.clone()];
            assert!(
                formatted.text.contains(block),
                "{}: the block with errors at {range:?} changed:\n{}",
                query.id,
                formatted.text
            );
        }
    }
    // The corpus has 35 queries that Kusto rejects; some have more than one block with errors.
    assert!(with_errors >= 35, "only {with_errors} blocks with errors");
}
