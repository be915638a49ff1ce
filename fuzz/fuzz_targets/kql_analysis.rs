//! Runs the editor features (diagnostics, hover, completion, symbols, folding, highlighting) on
//! arbitrary KQL text and checks that every range they return lies inside the text.

#![no_main]

use std::ops::Range;
use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use quarry_ide::{Analysis, SourceFile};

static ANALYSIS: LazyLock<Analysis> =
    LazyLock::new(|| Analysis::new(quarry_analysis::Catalog::get()));

/// Number of steps between the offsets probed with hover and completion: the start, the middle
/// and the end. The probes are the slow part of an input (8 steps ran 26 inputs a second, 2
/// steps 42), so there are few of them.
const PROBE_STEPS: usize = 2;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let file = SourceFile::parse(&text);
    let analysis = &*ANALYSIS;

    for diagnostic in analysis.diagnostics(&file) {
        check_range("diagnostic", &diagnostic.range, &text);
    }
    for fold in analysis.folding_ranges(&file) {
        check_range("folding range", &fold.range, &text);
    }
    for highlight in analysis.highlight(&file) {
        check_range("highlight", &highlight.range, &text);
    }
    let _ = analysis.document_symbols(&file);

    // Probe the start, the end and evenly spaced character boundaries in between.
    let step = (text.len() / PROBE_STEPS).max(1);
    let offsets = (0..=text.len())
        .step_by(step)
        .chain([text.len()])
        .filter(|&offset| text.is_char_boundary(offset));
    for offset in offsets {
        let _ = analysis.hover(&file, offset);
        let _ = analysis.completions(&file, offset);
        if let Some(block) = analysis.query_block_at(&file, offset) {
            check_range("query block", &block, &text);
        }
    }
});

fn check_range(what: &str, range: &Range<usize>, text: &str) {
    assert!(
        range.start <= range.end && range.end <= text.len(),
        "{what} range {range:?} outside the text of {} bytes",
        text.len()
    );
    assert!(
        text.is_char_boundary(range.start) && text.is_char_boundary(range.end),
        "{what} range {range:?} splits a character"
    );
}
