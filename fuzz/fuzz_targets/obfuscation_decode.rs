//! Decodes arbitrary bytes as an obfuscated command or payload and checks that the decoder
//! stays within its bounds and that every layer's range lies inside its parent.

#![no_main]

use libfuzzer_sys::fuzz_target;
use quarry_analytics::decode::{DecodeNode, DecodeOptions, decode_with};

/// Bounds smaller than the defaults, so one input cannot take long.
const OPTIONS: DecodeOptions = DecodeOptions {
    max_depth: 6,
    max_total_bytes: 256 * 1024,
    max_children: 32,
};

fuzz_target!(|data: &[u8]| {
    let report = decode_with(data, OPTIONS);

    assert!(
        report.max_depth_reached <= OPTIONS.max_depth,
        "decoded {} layers deep, past the limit of {}",
        report.max_depth_reached,
        OPTIONS.max_depth
    );
    assert!(
        report.total_decoded_bytes <= OPTIONS.max_total_bytes,
        "decoded {} bytes, past the limit of {}",
        report.total_decoded_bytes,
        OPTIONS.max_total_bytes
    );
    assert_eq!(
        report.root.size,
        data.len(),
        "the root layer is not the input"
    );
    assert_eq!(
        report.nodes().len(),
        report.layers + 1,
        "layer count differs from the tree"
    );
    check_children(&report.root);
});

fn check_children(node: &DecodeNode) {
    assert!(
        node.children.len() <= OPTIONS.max_children,
        "{} children, past the limit of {}",
        node.children.len(),
        OPTIONS.max_children
    );
    // Text layers index the parent's text, which can be longer than its bytes only when the
    // parent was UTF-16LE and was converted, so the bound is the larger of the two.
    let parent_len = node
        .text
        .as_ref()
        .map_or(node.size, |text| text.len().max(node.size));
    for child in &node.children {
        assert!(
            child.start <= child.end && child.end <= parent_len,
            "layer range {}..{} outside its parent of {parent_len} bytes",
            child.start,
            child.end
        );
        check_children(child);
    }
}
