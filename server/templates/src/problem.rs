//! Problems found in template files, with positions for the CLI and the editor.

use std::fmt;
use std::ops::Range;
use std::path::PathBuf;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// A problem in a template file: where it is and what to change.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Problem {
    pub path: PathBuf,
    /// Byte range in the file.
    pub range: Range<usize>,
    /// 1-based line of `range.start`.
    pub line: usize,
    /// 1-based column of `range.start`, counted in Unicode scalar values.
    pub column: usize,
    pub severity: Severity,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let severity = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(
            f,
            "{}:{}:{}: {severity}: {}",
            self.path.display(),
            self.line,
            self.column,
            self.message
        )
    }
}

/// Line starts of a text, for turning byte offsets into line and column numbers.
#[derive(Clone, Debug)]
pub struct LineIndex {
    line_starts: Vec<usize>,
}

impl LineIndex {
    pub fn new(text: &str) -> LineIndex {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(index, _)| index + 1));
        LineIndex { line_starts }
    }

    /// Returns the 1-based line and column of a byte offset in `text`.
    pub fn line_column(&self, text: &str, offset: usize) -> (usize, usize) {
        let offset = offset.min(text.len());
        let line = self.line_starts.partition_point(|start| *start <= offset) - 1;
        let start = self.line_starts[line];
        let column = text
            .get(start..offset)
            .map_or(0, |prefix| prefix.chars().count());
        (line + 1, column + 1)
    }
}

/// Collects problems for one file.
pub(crate) struct ProblemSink<'a> {
    pub path: &'a PathBuf,
    pub text: &'a str,
    pub lines: &'a LineIndex,
    pub problems: Vec<Problem>,
}

impl ProblemSink<'_> {
    pub fn error(&mut self, range: Range<usize>, message: impl Into<String>) {
        self.push(range, Severity::Error, message.into());
    }

    pub fn warning(&mut self, range: Range<usize>, message: impl Into<String>) {
        self.push(range, Severity::Warning, message.into());
    }

    fn push(&mut self, range: Range<usize>, severity: Severity, message: String) {
        let (line, column) = self.lines.line_column(self.text, range.start);
        self.problems.push(Problem {
            path: self.path.clone(),
            range,
            line,
            column,
            severity,
            message,
        });
    }
}
