//! Applies a random edit sequence to a KQL document, reparsing incrementally after each edit,
//! and compares every incremental parse with a full parse of the same text.

#![no_main]

use libfuzzer_sys::fuzz_target;
use quarry_syntax::{TextEdit, parse, reparse};

/// Edits applied per input at most, so one input cannot run for long.
const MAX_EDITS: usize = 64;

fuzz_target!(|data: &[u8]| {
    let (mut text, mut script) = quarry_fuzz::split_document(data);
    let mut current = parse(&text);
    quarry_fuzz::check_parse(&text, &current);

    for _ in 0..MAX_EDITS {
        let Some(edit) = quarry_fuzz::next_edit(&text, &mut script) else {
            break;
        };
        let new_text = quarry_fuzz::apply(&text, &edit);
        let text_edit = TextEdit::replace(&text, edit.start..edit.end, &edit.insert);
        let incremental = reparse(&new_text, &current, &text_edit);
        let full = parse(&new_text);

        quarry_fuzz::check_parse(&new_text, &incremental);
        assert_eq!(
            quarry_fuzz::tree_shape(&incremental),
            quarry_fuzz::tree_shape(&full),
            "incremental tree differs from a full parse after {edit:?}\ntext: {new_text:?}\nincremental: {}\nfull: {}",
            incremental.root().to_sexp(),
            full.root().to_sexp()
        );
        assert_eq!(
            incremental.errors, full.errors,
            "incremental errors differ from a full parse after {edit:?}\ntext: {new_text:?}"
        );

        text = new_text;
        current = incremental;
    }
});
