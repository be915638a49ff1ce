//! Diagnostics: the syntax errors of the tree-sitter parse, and the semantic errors and
//! warnings of the binder (unknown names, argument counts and types, slow or surprising
//! queries) with their quick fixes.

use std::ops::Range;

pub use quarry_hir::{Edit, Fix, Severity};

use crate::{Analysis, SourceFile};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The problem's bytes; empty where a token is missing.
    pub range: Range<usize>,
    /// A stable code such as `KQL001`.
    pub code: String,
    pub message: String,
    /// A hint on fixing the problem, such as a "did you mean" suggestion.
    pub help: Option<String>,
    pub severity: Severity,
    /// Quick fixes, best first.
    pub fixes: Vec<Fix>,
}

pub fn diagnostics(analysis: &Analysis, file: &SourceFile) -> Vec<Diagnostic> {
    let mut diagnostics: Vec<Diagnostic> = file
        .syntax()
        .errors
        .iter()
        .map(|error| Diagnostic {
            range: error.range.clone(),
            code: error.code.to_owned(),
            message: error.message.clone(),
            help: None,
            severity: Severity::Error,
            fixes: Vec::new(),
        })
        .collect();
    diagnostics.extend(semantic_diagnostics(file, analysis.model(file)));
    diagnostics.sort_by_key(|diagnostic| diagnostic.range.start);
    diagnostics
}

/// Returns the semantic errors and warnings of `model` that lie in query blocks without syntax
/// errors. `model` may cover the whole file or only some of its blocks.
pub(crate) fn semantic_diagnostics(file: &SourceFile, model: quarry_hir::Model) -> Vec<Diagnostic> {
    let syntax_errors = &file.syntax().errors;

    // A block with syntax errors is bound from a partial tree, where names often look unknown
    // only because the parser skipped the text that defines them.
    // An ERROR node may lie outside the block it belongs to, so each block extends to the start
    // of the next.
    let blocks = quarry_syntax::query_blocks(file.syntax(), file.text());
    let broken_blocks: Vec<Range<usize>> = blocks
        .iter()
        .enumerate()
        .map(|(i, block)| {
            let end = blocks
                .get(i + 1)
                .map_or(file.text().len(), |next| next.start);
            block.start..end
        })
        .filter(|block| {
            syntax_errors
                .iter()
                .any(|error| block.start <= error.range.start && error.range.start <= block.end)
        })
        .collect();
    model
        .diagnostics
        .into_iter()
        .filter(|diagnostic| {
            !broken_blocks.iter().any(|block| {
                block.start <= diagnostic.range.start && diagnostic.range.end <= block.end
            })
        })
        .map(|diagnostic| Diagnostic {
            range: diagnostic.range,
            code: diagnostic.code.to_owned(),
            message: diagnostic.message,
            help: diagnostic.help,
            severity: diagnostic.severity,
            fixes: diagnostic.fixes,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use expect_test::{Expect, expect};

    use quarry_analysis::Catalog;

    use super::*;

    fn check(text: &str, expect: Expect) {
        let file = SourceFile::parse(text);
        let lines: Vec<String> = diagnostics(&Analysis::new(Catalog::get()), &file)
            .into_iter()
            .map(|d| {
                let help = d.help.map(|help| format!(" ({help})")).unwrap_or_default();
                let severity = match d.severity {
                    Severity::Error => "",
                    Severity::Warning => "warning ",
                };
                format!(
                    "{severity}{} {:?} {:?}: {}{help}",
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
            "SecurityEvent\n| where TimeGenerated > ago(1d) and EventID == 4625\n| take 10",
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

    #[test]
    fn diagnostics_unknown_column_with_suggestion() {
        check(
            "SecurityEvent\n| where Acount == 'x'",
            expect![[r#"
                warning KQL202 0..13 "SecurityEvent": `SecurityEvent` is a large table, and the query has no time filter on `TimeGenerated` (Without a time filter the query reads the whole retention period. Add `| where TimeGenerated > ago(1d)` or set a time range for the run.)
                KQL102 22..28 "Acount": unknown name `Acount`: no column, variable, table or function has this name (did you mean `Account`?)"#]],
        );
    }

    #[test]
    fn diagnostics_unknown_table_and_function() {
        check(
            "SecurityEvnt | take 1\n\nSigninLogs | extend x = to_lower(UserPrincipalName)",
            expect![[r#"
                KQL101 0..12 "SecurityEvnt": unknown table `SecurityEvnt`: no table, tabular variable or function has this name (did you mean `SecurityEvent`?)
                warning KQL202 23..33 "SigninLogs": `SigninLogs` is a large table, and the query has no time filter on `TimeGenerated` (Without a time filter the query reads the whole retention period. Add `| where TimeGenerated > ago(1d)` or set a time range for the run.)
                KQL103 47..55 "to_lower": unknown function `to_lower`: it is neither built in nor defined with `let` (did you mean `tolower`?)"#]],
        );
    }

    #[test]
    fn diagnostics_argument_count() {
        check(
            "SigninLogs | where strlen(UserPrincipalName, 2) > 3",
            expect![[r#"
                warning KQL202 0..10 "SigninLogs": `SigninLogs` is a large table, and the query has no time filter on `TimeGenerated` (Without a time filter the query reads the whole retention period. Add `| where TimeGenerated > ago(1d)` or set a time range for the run.)
                KQL104 19..25 "strlen": `strlen` expects 1 argument, but the call passes 2 (signature: strlen(string: string|dynamic): long)"#]],
        );
    }

    #[test]
    fn diagnostics_semantic_skipped_in_broken_block() {
        check(
            "SecurityEvent | where Nope == (",
            expect![[r#"KQL001 30..31 "(": expected an expression after `(`"#]],
        );
    }

    #[test]
    fn diagnostics_type_mismatch_and_warnings() {
        check(
            "SigninLogs\n| where TimeGenerated > \"yesterday\"\n| join (AuditLogs) on CorrelationId",
            expect![[r#"
                KQL107 19..46 "TimeGenerated > \"yesterday\"": `>` cannot compare a datetime with a string (convert the right side with todatetime(), or compare with a datetime value)
                warning KQL203 49..53 "join": `join` without `kind=` is an `innerunique` join: it keeps only one row for each distinct key of the left side (Write the kind explicitly: `kind=inner` keeps every matching pair of rows, `kind=innerunique` states the default.)"#]],
        );
    }
}
