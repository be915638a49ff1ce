//! Inputs found by fuzzing (`fuzz/` at the repository root) that once failed, kept so that they
//! stay fixed, and a seeded random edit run that compares every incremental reparse with a full
//! parse, as the `kql_reparse` fuzz target does.

use std::ops::Range;
use std::path::Path;

use quarry_syntax::{Parse, TextEdit, parse, reparse};

/// Applies `insert` at `offset` of `text`, reparsing incrementally, and returns the new text
/// and parse.
fn insert_and_reparse(text: &str, old: &Parse, offset: usize, insert: &str) -> (String, Parse) {
    replace_and_reparse(text, old, offset..offset, insert)
}

fn replace_and_reparse(
    text: &str,
    old: &Parse,
    range: Range<usize>,
    insert: &str,
) -> (String, Parse) {
    let new_text = format!("{}{insert}{}", &text[..range.start], &text[range.end..]);
    let edit = TextEdit::replace(text, range, insert);
    let new_parse = reparse(&new_text, old, &edit);
    (new_text, new_parse)
}

/// Lists every node, named or not, with its kind, byte range and error flags, in tree order.
fn tree_shape(parse: &Parse) -> Vec<(u16, Range<usize>, bool, bool)> {
    let mut shape = Vec::new();
    let mut cursor = parse.tree.walk();
    loop {
        let node = cursor.node();
        shape.push((
            node.kind_id(),
            node.byte_range(),
            node.is_error(),
            node.is_missing(),
        ));
        if cursor.goto_first_child() {
            continue;
        }
        loop {
            if cursor.goto_next_sibling() {
                break;
            }
            if !cursor.goto_parent() {
                return shape;
            }
        }
    }
}

#[test]
fn reparse_after_errors_matches_full_parse() {
    let first = parse("Th");
    let (text, second) = insert_and_reparse("Th", &first, 1, " | ");
    let (text, third) = insert_and_reparse(&text, &second, 4, " | ");
    assert_eq!(text, "T |  | h");
    let full = parse(&text);

    assert_eq!(tree_shape(&third), tree_shape(&full));
    assert_eq!(full.errors.len(), 1, "{:?}", full.errors);
    assert_eq!(full.errors[0].range, 0..1, "{:?}", full.errors);
    // Incremental error recovery once put this error on the second `|` (offset 5).
    assert_eq!(third.errors, full.errors);
}

#[test]
fn reparse_into_errors_matches_full_parse() {
    // The old tree is clean and the edit breaks it.
    let text = "T | where x == 1";
    let old = parse(text);
    assert!(old.errors.is_empty(), "{:?}", old.errors);
    let (text, incremental) = replace_and_reparse(text, &old, 4..9, "wher");
    let full = parse(&text);

    assert!(!full.errors.is_empty());
    assert_eq!(tree_shape(&incremental), tree_shape(&full));
    assert_eq!(incremental.errors, full.errors);
}

#[test]
fn errors_in_order_around_comment() {
    // Two ERROR nodes, split by a comment, between the `=` and the value of an assignment. The
    // first node's error is a missing comma at the value `t` (offset 14), after the second
    // node's error (offset 13), and was once reported first.
    let text = "print s=#//\ni#t";
    let errors = parse(text).errors;
    let starts: Vec<usize> = errors.iter().map(|error| error.range.start).collect();

    assert_eq!(starts, vec![13, 14], "{errors:?}");
    assert_eq!(errors[0].message, "unexpected `#`");
    assert_eq!(errors[1].message, "expected `,` between `#` and `t`");
}

/// Fragments that the random edits insert, chosen to make and break KQL tokens.
#[rustfmt::skip]
const FRAGMENTS: &[&str] = &[
    "|", " | ", "where ", "summarize ", "count()", " by ", "project ", "extend ", "let ", "=",
    "==", ";", "(", ")", "[", "]", "{", "}", "\"", "'", "@\"", "//", "\n", "\n\n", "\r\n", " ",
    ",", ".", "x", "T", "42", "1d", "and ", "!", "h\"", "```", "é", "😀", "\\", "union ",
];

/// Queries of the corpus of at most `max_len` bytes, in file order.
fn short_corpus_queries(max_len: usize) -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/corpus/kql");
    let mut queries = Vec::new();
    for name in ["kustodocs.jsonl", "reprise99.jsonl"] {
        let content = std::fs::read_to_string(dir.join(name)).expect("corpus file is readable");
        for line in content.lines() {
            let record: serde_json::Value =
                serde_json::from_str(line).expect("corpus line is JSON");
            let query = record["query"].as_str().expect("query is a string");
            if query.len() <= max_len {
                queries.push(query.to_owned());
            }
        }
    }
    queries
}

/// SplitMix64, a small seeded generator, so that a failing run replays from its printed seed.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, bound: usize) -> usize {
        (self.next() % bound as u64) as usize
    }
}

fn floor_char_boundary(text: &str, mut offset: usize) -> usize {
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

#[test]
fn random_edits_match_full_parse() {
    const QUERIES: usize = 200;
    const EDITS_PER_QUERY: usize = 16;
    let seed = std::env::var("QUARRY_REPARSE_SEED")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(20_261_204_u64);
    eprintln!("random_edits_match_full_parse: seed {seed} (set QUARRY_REPARSE_SEED to replay)");
    let mut random = SplitMix64(seed);

    let queries = short_corpus_queries(400);
    assert!(
        queries.len() >= QUERIES,
        "corpus has {} short queries",
        queries.len()
    );
    let mut edits_with_errors = 0;
    for _ in 0..QUERIES {
        let mut text = queries[random.below(queries.len())].clone();
        let mut current = parse(&text);
        for _ in 0..EDITS_PER_QUERY {
            let start = floor_char_boundary(&text, random.below(text.len() + 1));
            let end = floor_char_boundary(&text, (start + random.below(8)).min(text.len()));
            let insert = FRAGMENTS[random.below(FRAGMENTS.len())];
            let (new_text, incremental) = replace_and_reparse(&text, &current, start..end, insert);
            let full = parse(&new_text);

            assert_eq!(
                tree_shape(&incremental),
                tree_shape(&full),
                "tree after replacing {start}..{end} with {insert:?} differs from a full parse (seed {seed})\ntext: {new_text:?}"
            );
            assert_eq!(
                incremental.errors, full.errors,
                "errors after replacing {start}..{end} with {insert:?} differ from a full parse (seed {seed})\ntext: {new_text:?}"
            );
            let starts: Vec<usize> = full.errors.iter().map(|error| error.range.start).collect();
            assert!(
                starts.is_sorted(),
                "errors out of document order (seed {seed})\ntext: {new_text:?}\n{:?}",
                full.errors
            );
            if !full.errors.is_empty() {
                edits_with_errors += 1;
            }
            text = new_text;
            current = incremental;
        }
    }
    // Most random edits break the query, so the comparison covers error recovery.
    assert!(
        edits_with_errors > QUERIES * EDITS_PER_QUERY / 2,
        "only {edits_with_errors} edits left syntax errors"
    );
}
