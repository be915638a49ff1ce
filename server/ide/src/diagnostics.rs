//! Diagnostics: the syntax errors of the tree-sitter parse.

use std::ops::Range;

use crate::SourceFile;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub range: Range<usize>,
    /// A stable identifier such as `syntax/unexpected-token`.
    pub code: String,
    pub message: String,
}

pub fn diagnostics(file: &SourceFile) -> Vec<Diagnostic> {
    // TODO: report the syntax errors of the tree-sitter parse once `quarry-syntax` provides it.
    let _ = file;
    Vec::new()
}
