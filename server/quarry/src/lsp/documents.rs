//! Open documents: text in a rope, the tree-sitter parse kept up to date incrementally, and
//! immutable snapshots for read requests.

use std::sync::Arc;

use dashmap::DashMap;
use ropey::Rope;
use tower_lsp_server::ls_types::{TextDocumentContentChangeEvent, Uri};

use super::from_proto;

/// One open document.
struct Document {
    version: i32,
    rope: Rope,
    file: quarry_ide::SourceFile,
}

/// A read-only view of one document version, cheap to clone and safe to use on any thread.
#[derive(Clone)]
pub struct DocumentSnapshot {
    pub uri: Uri,
    pub version: i32,
    /// The text as a rope, for conversions between byte offsets and LSP positions.
    pub rope: Rope,
    pub file: quarry_ide::SourceFile,
}

#[derive(Default)]
pub struct Documents {
    open: DashMap<Uri, Document>,
}

impl Documents {
    pub fn open(&self, uri: Uri, version: i32, text: &str) {
        let document = Document {
            version,
            rope: Rope::from_str(text),
            file: quarry_ide::SourceFile::parse(text),
        };
        self.open.insert(uri, document);
    }

    pub fn close(&self, uri: &Uri) {
        self.open.remove(uri);
    }

    /// Applies content changes in order and reparses incrementally.
    ///
    /// Returns `false` when the document is not open. A change without a range replaces the
    /// whole text and parses it from scratch.
    pub fn change(
        &self,
        uri: &Uri,
        version: i32,
        changes: Vec<TextDocumentContentChangeEvent>,
    ) -> bool {
        let Some(mut document) = self.open.get_mut(uri) else {
            return false;
        };
        if version <= document.version {
            tracing::warn!(
                uri = uri.as_str(),
                current = document.version,
                received = version,
                "document version did not increase"
            );
        }

        for change in changes {
            match change.range {
                Some(range) => {
                    let byte_range = from_proto::text_range(&document.rope, range);
                    let start_char = document.rope.byte_to_char(byte_range.start);
                    let end_char = document.rope.byte_to_char(byte_range.end);
                    document.rope.remove(start_char..end_char);
                    document.rope.insert(start_char, &change.text);

                    let new_text = document.rope.to_string();
                    document.file = document.file.edit(byte_range, &change.text, &new_text);
                }
                None => {
                    document.rope = Rope::from_str(&change.text);
                    document.file = quarry_ide::SourceFile::parse(&change.text);
                }
            }
        }
        document.version = version;
        true
    }

    /// Returns the URIs of the open documents.
    pub fn uris(&self) -> Vec<Uri> {
        self.open.iter().map(|entry| entry.key().clone()).collect()
    }

    pub fn snapshot(&self, uri: &Uri) -> Option<DocumentSnapshot> {
        let document = self.open.get(uri)?;
        Some(DocumentSnapshot {
            uri: uri.clone(),
            version: document.version,
            rope: document.rope.clone(),
            file: document.file.clone(),
        })
    }
}

impl DocumentSnapshot {
    pub fn text(&self) -> &Arc<str> {
        self.file.text()
    }
}
