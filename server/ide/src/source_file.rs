//! One version of a KQL document: its text, its tokens and its syntax tree.

use std::ops::Range;
use std::sync::Arc;

use quarry_syntax::{Parse, TextEdit};

use crate::lexer::{self, Token};

/// An immutable document version; cloning shares the text, tokens and tree.
#[derive(Clone)]
pub struct SourceFile {
    text: Arc<str>,
    tokens: Arc<[Token]>,
    parse: Arc<Parse>,
}

impl std::fmt::Debug for SourceFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The text stays out of debug output, as it may end up in logs.
        f.debug_struct("SourceFile")
            .field("len", &self.text.len())
            .finish_non_exhaustive()
    }
}

impl SourceFile {
    /// Parses `text` from scratch.
    pub fn parse(text: &str) -> SourceFile {
        SourceFile {
            text: Arc::from(text),
            tokens: lexer::tokenize(text).into(),
            parse: Arc::new(quarry_syntax::parse(text)),
        }
    }

    /// Returns the next version after replacing the bytes `replaced` of this version with
    /// `inserted`. `new_text` is the whole text after the edit; the tree-sitter parse reuses the
    /// unchanged parts of this version's tree.
    ///
    /// # Panics
    ///
    /// Panics if `replaced` is out of bounds or not on character boundaries of this version.
    pub fn edit(&self, replaced: Range<usize>, inserted: &str, new_text: &str) -> SourceFile {
        assert_eq!(
            self.text.len() - replaced.len() + inserted.len(),
            new_text.len(),
            "the edit does not produce a text of the given length"
        );
        let edit = TextEdit::replace(&self.text, replaced.clone(), inserted);
        let parse = quarry_syntax::reparse(new_text, &self.parse, &edit);
        SourceFile {
            text: Arc::from(new_text),
            tokens: lexer::retokenize(&self.tokens, new_text, replaced, inserted.len()).into(),
            parse: Arc::new(parse),
        }
    }

    pub fn text(&self) -> &Arc<str> {
        &self.text
    }

    pub fn syntax(&self) -> &Parse {
        &self.parse
    }

    pub(crate) fn tokens(&self) -> &[Token] {
        &self.tokens
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Compares the tree after incremental edits with a parse of the final text from scratch.
    #[test]
    fn edit_reparse_matches_full_parse() {
        let mut file = SourceFile::parse("SecurityEvent\n| where EventID == 4625\n");
        let edits: [(Range<usize>, &str); 3] = [
            (33..37, "46"),         // "4625" -> "46"
            (14..14, "| take 5\n"), // insert a line
            (0..13, "SigninLogs"),  // rename the table
        ];
        for (range, inserted) in edits {
            let mut new_text = file.text().to_string();
            new_text.replace_range(range.clone(), inserted);
            file = file.edit(range, inserted, &new_text);

            let fresh = SourceFile::parse(&new_text);
            assert_eq!(file.text(), fresh.text());
            assert_eq!(
                file.syntax().root().to_sexp(),
                fresh.syntax().root().to_sexp()
            );
            assert_eq!(file.syntax().errors, fresh.syntax().errors);
        }
    }
}
