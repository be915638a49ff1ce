//! Tests of the public API: parsing, syntax errors, incremental reparsing and query blocks.

use quarry_syntax::{TextEdit, parse, query_blocks, reparse};

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
fn expected_keyword_is_named() {
    let text = "T | order x desc";
    let errors = parse(text).errors;
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(&text[errors[0].range.clone()], "x");
    assert_eq!(errors[0].message, "expected `by` after `order`, found `x`");
}

#[test]
fn unclosed_call_before_by() {
    let text = "T | summarize count( by x";
    let errors = parse(text).errors;
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(&text[errors[0].range.clone()], "by");
    assert_eq!(
        errors[0].message,
        "expected `)` to close the `(` before `by`"
    );
}

#[test]
fn columns_without_comma() {
    let text = "T | extend x = 1 y = 2";
    let errors = parse(text).errors;
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(&text[errors[0].range.clone()], "y");
    assert_eq!(errors[0].message, "expected `,` between `1` and `y`");
}

#[test]
fn parameter_of_another_operator_is_rejected() {
    // `kind` is a parameter of join, not of summarize.
    let errors = parse("T | summarize kind=inner count()").errors;
    assert_eq!(errors.len(), 1, "{errors:?}");
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

/// Renders `src/kinds.rs` from the grammar's node-types.json.
fn render_kinds_module() -> String {
    let node_types: serde_json::Value = serde_json::from_str(tree_sitter_kql::NODE_TYPES).unwrap();
    let mut named: Vec<&str> = node_types
        .as_array()
        .unwrap()
        .iter()
        .filter(|entry| entry["named"] == true)
        .map(|entry| entry["type"].as_str().unwrap())
        .filter(|kind| !kind.starts_with('_'))
        .collect();
    named.sort();
    named.dedup();

    let mut module = String::from(
        "//! Node kind names of the KQL grammar, for matching on `Node::kind()`.\n\
         //!\n\
         //! Each constant equals the kind string tree-sitter reports. Hidden rules (names starting with\n\
         //! `_`) never appear in a tree and are not listed. The fields of each kind are documented in\n\
         //! `grammars/tree-sitter-kql/NODES.md`. This file is generated by the `kinds_match_node_types`\n\
         //! test: run it with `UPDATE_EXPECT=1` after changing the grammar.\n\n",
    );
    for kind in &named {
        module.push_str(&format!(
            "pub const {}: &str = \"{kind}\";\n",
            kind.to_uppercase()
        ));
    }
    module.push_str(
        "\n/// Every named node kind, in alphabetical order.\npub const ALL: &[&str] = &[\n",
    );
    for kind in &named {
        module.push_str(&format!("    {},\n", kind.to_uppercase()));
    }
    module.push_str("];\n");
    module
}

#[test]
fn kinds_match_node_types() {
    expect_test::expect_file!["../src/kinds.rs"].assert_eq(&render_kinds_module());
}

#[test]
fn reparse_matches_full_parse_on_random_edits() {
    let mut text = String::from(
        "let threshold = 5;\nSecurityEvent\n| where EventID in (4624, 4625)\n| summarize n = count() by Account\n\n\
         T | join kind=inner (U | where x == 1) on $left.a == $right.b\n| project a, b = dynamic([1, 2])\n\n\
         print s = 'text', d = datetime(2020-01-01), t = 1.5h\n",
    );
    let insertions = [
        "|", " ", "\n", "\n\n", "(", ")", "x", "where ", "'", "1", ";", "by", "é",
    ];
    let mut current = parse(&text);
    // A fixed linear congruential generator keeps the edits the same on every run.
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = |bound: usize| {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (seed >> 33) as usize % bound.max(1)
    };

    for step in 0..300 {
        let mut start = next(text.len() + 1);
        while !text.is_char_boundary(start) {
            start -= 1;
        }
        let mut end = (start + next(4)).min(text.len());
        while !text.is_char_boundary(end) {
            end += 1;
        }
        let inserted = if next(3) == 0 {
            ""
        } else {
            insertions[next(insertions.len())]
        };

        let edit = TextEdit::replace(&text, start..end, inserted);
        text.replace_range(start..end, inserted);
        let incremental = reparse(&text, &current, &edit);
        let full = parse(&text);

        assert_eq!(
            incremental.root().to_sexp(),
            full.root().to_sexp(),
            "step {step}: trees differ after replacing {start}..{end} with {inserted:?} in {text:?}"
        );
        // NOTE: only the number of errors is compared. Reused tokens keep the parse states of
        // the earlier parse, which can change which token an error message blames.
        assert_eq!(
            incremental.errors.len(),
            full.errors.len(),
            "step {step}: error counts differ in {text:?}"
        );
        current = incremental;
    }
}
