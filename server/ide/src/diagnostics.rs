//! Diagnostics: the syntax errors of the tree-sitter parse.

use std::ops::Range;

use crate::SourceFile;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The problem's bytes; empty where a token is missing.
    pub range: Range<usize>,
    /// A stable code such as `KQL001`.
    pub code: String,
    pub message: String,
}

pub fn diagnostics(file: &SourceFile) -> Vec<Diagnostic> {
    file.syntax()
        .errors
        .iter()
        .map(|error| Diagnostic {
            range: error.range.clone(),
            code: error.code.to_owned(),
            message: error.message.clone(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use expect_test::{Expect, expect};

    use super::*;

    fn check(text: &str, expect: Expect) {
        let file = SourceFile::parse(text);
        let lines: Vec<String> = diagnostics(&file)
            .into_iter()
            .map(|d| {
                format!(
                    "{} {:?} {:?}: {}",
                    d.code,
                    d.range,
                    &text[d.range.clone()],
                    d.message
                )
            })
            .collect();
        expect.assert_eq(&lines.join("\n"));
    }

    #[test]
    fn diagnostics_valid_query() {
        check(
            "SecurityEvent\n| where EventID == 4625\n| take 10",
            expect![[""]],
        );
    }

    #[test]
    fn diagnostics_missing_expression() {
        check(
            "SecurityEvent\n| where\n| take 10",
            expect![[r#"KQL001 21..21 "": expected an expression after `where`"#]],
        );
    }

    #[test]
    fn diagnostics_unexpected_token() {
        check(
            "SecurityEvent | where EventID == ) 4625",
            expect![[r#"KQL002 33..34 ")": unexpected `)`"#]],
        );
    }
}
