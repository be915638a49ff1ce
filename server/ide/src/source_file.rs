//! One version of a KQL document: its text, its tokens and its syntax tree.

use std::ops::Range;
use std::sync::Arc;

use crate::lexer::{self, Token};

/// An immutable document version; cloning shares the text, tokens and tree.
#[derive(Clone)]
pub struct SourceFile {
    text: Arc<str>,
    tokens: Arc<[Token]>,
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
        }
    }

    /// Returns the next version after replacing the bytes `replaced` of this version with
    /// `inserted`; `new_text` is the whole text after the edit.
    pub fn edit(&self, replaced: Range<usize>, inserted: &str, new_text: &str) -> SourceFile {
        debug_assert_eq!(
            self.text.len() - replaced.len() + inserted.len(),
            new_text.len(),
            "edit does not match the new text"
        );
        SourceFile::parse(new_text)
    }

    pub fn text(&self) -> &Arc<str> {
        &self.text
    }

    pub(crate) fn tokens(&self) -> &[Token] {
        &self.tokens
    }
}
