//! Tests of the public API: parsing, syntax errors, incremental reparsing and query blocks.

use quarry_syntax::{TextEdit, kinds, parse, query_blocks, reparse};

fn messages(text: &str) -> Vec<String> {
    parse(text)
        .errors
        .iter()
        .map(|error| {
            format!(
                "{}..{} {} {}",
                error.range.start, error.range.end, error.code, error.message
            )
        })
        .collect()
}

#[test]
fn clean_query_has_no_errors() {
    let text = "SecurityEvent\n| where EventID == 4624\n| summarize n = count() by Account\n| order by n desc";
    let result = parse(text);
    assert!(result.errors.is_empty(), "{:?}", result.errors);
    assert!(!result.root().has_error());
}

#[test]
fn missing_predicate_after_where() {
    assert_eq!(
        messages("T | where \n| take 10"),
        vec!["9..9 KQL001 expected an expression after `where`"]
    );
}

#[test]
fn dangling_by_keeps_next_block() {
    let text = "T | summarize count() by\n\nX | take 1\n";
    assert_eq!(
        messages(text),
        vec!["22..24 KQL001 expected an expression after `by`"]
    );
    let result = parse(text);
    let blocks = query_blocks(&result, text);
    assert_eq!(blocks.len(), 2);
    assert_eq!(&text[blocks[1].clone()], "X | take 1");
}

#[test]
fn unknown_operator_after_pipe() {
    let text = "print x = 1 | wher y";
    let errors = parse(text).errors;
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].code, "KQL002");
    assert_eq!(&text[errors[0].range.clone()], "wher");
    assert_eq!(
        errors[0].message,
        "expected a tabular operator after `|`, found `wher`"
    );
}

#[test]
fn blocks_split_on_blank_lines() {
    let text = "// first\nT | take 1\n   \n\nlet x = 1;\nU | where y == x\n\n";
    let result = parse(text);
    assert!(result.errors.is_empty(), "{:?}", result.errors);
    let blocks: Vec<&str> = query_blocks(&result, text)
        .into_iter()
        .map(|range| &text[range])
        .collect();
    assert_eq!(blocks, vec!["T | take 1", "let x = 1;\nU | where y == x"]);
}

#[test]
fn reparse_matches_full_parse() {
    let old_text = "T\n| where a == 1\n\nU | take 5\n";
    let old = parse(old_text);
    let start = old_text.find("1\n").unwrap();
    let edit = TextEdit::replace(old_text, start..start + 1, "42");
    let new_text = format!("{}42{}", &old_text[..start], &old_text[start + 1..]);

    let incremental = reparse(&new_text, &old, &edit);
    let full = parse(&new_text);
    assert_eq!(incremental.root().to_sexp(), full.root().to_sexp());
    assert!(incremental.errors.is_empty());
}

#[test]
fn reparse_introduces_and_clears_errors() {
    let text = "T | take 1\n\nU | take 2";
    let first = parse(text);

    let cut = text.find(" 2").unwrap();
    let broken_text = format!("{}{}", &text[..cut], "");
    let broken_edit = TextEdit::replace(text, cut..text.len(), "");
    let broken = reparse(&broken_text, &first, &broken_edit);
    assert_eq!(broken.errors.len(), 1, "{:?}", broken.errors);

    let fixed_edit = TextEdit::replace(&broken_text, broken_text.len()..broken_text.len(), " 2");
    let fixed = reparse(text, &broken, &fixed_edit);
    assert!(fixed.errors.is_empty(), "{:?}", fixed.errors);
}

#[test]
fn kinds_match_node_types() {
    let node_types: serde_json::Value = serde_json::from_str(tree_sitter_kql::NODE_TYPES).unwrap();
    let mut named: Vec<String> = node_types
        .as_array()
        .unwrap()
        .iter()
        .filter(|entry| entry["named"] == true)
        .map(|entry| entry["type"].as_str().unwrap().to_string())
        .filter(|kind| !kind.starts_with('_'))
        .collect();
    named.sort();
    let listed: Vec<String> = kinds::ALL.iter().map(|kind| kind.to_string()).collect();
    assert_eq!(
        listed, named,
        "regenerate server/syntax/src/kinds.rs from node-types.json"
    );
}
