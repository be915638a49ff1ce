//! Inputs found by fuzzing (`fuzz/` at the repository root) that once failed, kept so that they
//! stay fixed or, where the problem remains, so that a change in behaviour is noticed.

use quarry_syntax::{TextEdit, parse, reparse};

/// Applies `insert` at `offset` of `text`, reparsing incrementally, and returns the new text
/// and parse.
fn insert_and_reparse(
    text: &str,
    old: &quarry_syntax::Parse,
    offset: usize,
    insert: &str,
) -> (String, quarry_syntax::Parse) {
    let new_text = format!("{}{insert}{}", &text[..offset], &text[offset..]);
    let edit = TextEdit::replace(text, offset..offset, insert);
    let new_parse = reparse(&new_text, old, &edit);
    (new_text, new_parse)
}

#[test]
fn reparse_after_error_recovery_moves_error() {
    let first = parse("Th");
    let (text, second) = insert_and_reparse("Th", &first, 1, " | ");
    let (text, third) = insert_and_reparse(&text, &second, 4, " | ");
    assert_eq!(text, "T |  | h");
    let full = parse(&text);

    // The named structure is the same either way.
    assert_eq!(third.root().to_sexp(), full.root().to_sexp());
    assert_eq!(full.errors.len(), 1, "{:?}", full.errors);
    assert_eq!(full.errors[0].range, 0..1, "{:?}", full.errors);

    // TODO: the incremental parse should report the error where a full parse does. Today
    // tree-sitter's error recovery, resumed from the reused tree, puts the ERROR node on the
    // second `|`, so an editor shows a different error after typing than after reopening the
    // file. Reparsing from scratch while the old tree has errors would avoid it; when that is
    // done, replace these lines with `assert_eq!(third.errors, full.errors)`.
    assert_eq!(third.errors.len(), 1, "{:?}", third.errors);
    assert_eq!(third.errors[0].range, 5..6, "{:?}", third.errors);
}

#[test]
fn errors_out_of_order_around_comment() {
    // Two ERROR nodes, split by a comment, between the `=` and the value of an assignment.
    let text = "print s=#//\ni#t";
    let errors = parse(text).errors;
    let starts: Vec<usize> = errors.iter().map(|error| error.range.start).collect();

    // TODO: `parse` documents its errors in document order. Here the first ERROR node is
    // reported as a missing comma at the value `t` (offset 14), after the error for the
    // second ERROR node (offset 13). Sorting the errors by range, or reporting the first
    // node at its own place, fixes it; then assert `starts.is_sorted()`.
    assert_eq!(starts, vec![14, 13], "{errors:?}");
    assert_eq!(errors[0].message, "expected `,` between `#` and `t`");
    assert_eq!(errors[1].message, "unexpected `#`");
}
