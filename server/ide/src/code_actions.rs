//! Quick fixes: the fixes of the diagnostics that overlap a range. An editor requests them
//! when the cursor or selection touches a diagnostic.

use std::ops::Range;

use crate::diagnostics::Edit;
use crate::{Analysis, SourceFile};

/// A quick fix for one diagnostic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeAction {
    pub title: String,
    /// The code of the diagnostic the fix resolves, such as `KQL203`.
    pub code: String,
    /// The range of that diagnostic, so an editor can tie the fix to it.
    pub diagnostic_range: Range<usize>,
    pub edits: Vec<Edit>,
    /// Whether this is the first fix of its diagnostic, which an editor may apply with one key.
    pub preferred: bool,
}

impl Analysis {
    /// Returns the quick fixes of the diagnostics that overlap `range` or touch its ends, in
    /// document order of the diagnostics.
    pub fn code_actions(&self, file: &SourceFile, range: Range<usize>) -> Vec<CodeAction> {
        // Editors request code actions on every cursor move, so only the blocks under the
        // range are bound. Syntax errors have no fixes.
        let model = quarry_hir::analyze_range(
            file.text(),
            file.syntax(),
            self.catalog,
            &self.schema,
            range.clone(),
        );
        let mut actions = Vec::new();
        for diagnostic in crate::diagnostics::semantic_diagnostics(file, model) {
            let touches =
                diagnostic.range.start <= range.end && range.start <= diagnostic.range.end;
            if !touches {
                continue;
            }
            for (index, fix) in diagnostic.fixes.into_iter().enumerate() {
                actions.push(CodeAction {
                    title: fix.title,
                    code: diagnostic.code.clone(),
                    diagnostic_range: diagnostic.range.clone(),
                    edits: fix.edits,
                    preferred: index == 0,
                });
            }
        }
        actions
    }
}

#[cfg(test)]
mod tests {
    use quarry_analysis::Catalog;

    use super::*;

    #[test]
    fn code_actions_at_join() {
        let text = "SigninLogs | where TimeGenerated > ago(1h) | join (AuditLogs) on CorrelationId";
        let file = SourceFile::parse(text);
        let at = text.find("join").unwrap() + 1;
        let actions = Analysis::new(Catalog::get()).code_actions(&file, at..at);
        let titles: Vec<&str> = actions.iter().map(|action| action.title.as_str()).collect();
        assert_eq!(titles, ["Add `kind=innerunique`", "Add `kind=inner`"]);
        assert!(actions[0].preferred);
        assert!(!actions[1].preferred);
        assert_eq!(actions[0].code, "KQL203");
    }

    #[test]
    fn code_actions_elsewhere_empty() {
        let text = "SigninLogs | where TimeGenerated > ago(1h) | join (AuditLogs) on CorrelationId";
        let file = SourceFile::parse(text);
        let actions = Analysis::new(Catalog::get()).code_actions(&file, 0..3);
        assert!(actions.is_empty(), "{actions:?}");
    }

    #[test]
    fn code_actions_skip_blocks_with_syntax_errors() {
        let text = "SecurityEvent | where CommandLine contains 'mimikatz' | where (";
        let file = SourceFile::parse(text);
        let actions = Analysis::new(Catalog::get()).code_actions(&file, 0..text.len());
        assert!(actions.is_empty(), "{actions:?}");
    }
}
