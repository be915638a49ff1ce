//! Open documents: text in a rope, the tree-sitter parse kept up to date incrementally, and
//! immutable snapshots for read requests.
//!
//! Only the most recently used documents keep their parse (syntax tree and tokens). A syntax tree
//! takes about 37 bytes and the token list about 9 bytes per byte of text, so 50 open documents
//! of 5,000 lines would take 470 MB. So the parses of the least recently used documents are
//! dropped once the parsed documents have more than [`DEFAULT_PARSED_TEXT_LIMIT`] bytes of text.
//! The next snapshot of such a document parses its text again, which takes about 30 ms for 5,000
//! lines in a release build. The text itself is always kept.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use dashmap::DashMap;
use ropey::Rope;
use tower_lsp_server::ls_types::{TextDocumentContentChangeEvent, Uri};

use super::from_proto;

/// The bytes of text whose parses are kept when `QUARRY_PARSED_TEXT_LIMIT` is not set: about
/// 47 MiB of syntax trees and tokens, or five documents of 5,000 lines.
pub const DEFAULT_PARSED_TEXT_LIMIT: usize = 1 << 20;

/// The environment variable that overrides [`DEFAULT_PARSED_TEXT_LIMIT`], in bytes.
pub const PARSED_TEXT_LIMIT_VARIABLE: &str = "QUARRY_PARSED_TEXT_LIMIT";

/// One open document.
struct Document {
    version: i32,
    /// Counts the changes applied, so a parse made outside the lock is stored only when the text
    /// it was made from is still current. Unlike `version`, it increases even when a client
    /// repeats a version number.
    revision: u64,
    rope: Rope,
    /// The parse of `rope`, or `None` after it was dropped for memory.
    file: Option<quarry_ide::SourceFile>,
    /// The value of [`Documents::clock`] when a request or an edit last used the document.
    last_used: u64,
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

pub struct Documents {
    open: DashMap<Uri, Document>,
    /// Increases on every use of a document; orders documents from least to most recently used.
    clock: AtomicU64,
    /// The bytes of text whose parses are kept; the most recently used parse is always kept.
    parsed_text_limit: usize,
}

impl Default for Documents {
    fn default() -> Documents {
        Documents::with_parsed_text_limit(parsed_text_limit_from_env())
    }
}

/// Reads `QUARRY_PARSED_TEXT_LIMIT`, falling back to the default when it is unset or invalid.
fn parsed_text_limit_from_env() -> usize {
    let Ok(value) = std::env::var(PARSED_TEXT_LIMIT_VARIABLE) else {
        return DEFAULT_PARSED_TEXT_LIMIT;
    };
    match value.trim().parse::<usize>() {
        Ok(limit) => {
            tracing::info!(
                limit,
                "parsed text limit set by {PARSED_TEXT_LIMIT_VARIABLE}"
            );
            limit
        }
        Err(error) => {
            tracing::warn!(
                value = value.as_str(),
                %error,
                default = DEFAULT_PARSED_TEXT_LIMIT,
                "invalid {PARSED_TEXT_LIMIT_VARIABLE}: expected a number of bytes such as \
                 1048576; using the default"
            );
            DEFAULT_PARSED_TEXT_LIMIT
        }
    }
}

impl Documents {
    /// Creates an empty store that keeps the parses of at most `limit` bytes of text.
    pub fn with_parsed_text_limit(limit: usize) -> Documents {
        Documents {
            open: DashMap::new(),
            clock: AtomicU64::new(0),
            parsed_text_limit: limit,
        }
    }

    pub fn open(&self, uri: Uri, version: i32, text: &str) {
        let document = Document {
            version,
            revision: 0,
            rope: Rope::from_str(text),
            file: Some(quarry_ide::SourceFile::parse(text)),
            last_used: self.tick(),
        };
        self.open.insert(uri, document);
        self.drop_idle_parses();
    }

    pub fn close(&self, uri: &Uri) {
        self.open.remove(uri);
    }

    /// Applies content changes in order and reparses incrementally.
    ///
    /// Returns `false` when the document is not open. A change without a range replaces the
    /// whole text and parses it from scratch. A document whose parse was dropped gets only its
    /// text changed, and the next snapshot parses it.
    pub fn change(
        &self,
        uri: &Uri,
        version: i32,
        changes: Vec<TextDocumentContentChangeEvent>,
    ) -> bool {
        let last_used = self.tick();
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

                    if let Some(file) = &document.file {
                        let new_text = document.rope.to_string();
                        let edited = file.edit(byte_range, &change.text, &new_text);
                        document.file = Some(edited);
                    }
                }
                None => {
                    document.rope = Rope::from_str(&change.text);
                    if document.file.is_some() {
                        document.file = Some(quarry_ide::SourceFile::parse(&change.text));
                    }
                }
            }
        }
        document.version = version;
        document.revision += 1;
        document.last_used = last_used;
        true
    }

    pub fn is_open(&self, uri: &Uri) -> bool {
        self.open.contains_key(uri)
    }

    /// Returns the URIs of the open documents.
    pub fn uris(&self) -> Vec<Uri> {
        self.open.iter().map(|entry| entry.key().clone()).collect()
    }

    /// Returns the current version of a document for a request, and marks the document as
    /// recently used. Parses the text when its parse was dropped.
    pub fn snapshot(&self, uri: &Uri) -> Option<DocumentSnapshot> {
        self.snapshot_with(uri, true)
    }

    /// Returns the current version of a document for background work such as diagnostics,
    /// without marking it as used. When its parse was dropped, the new parse is kept only if the
    /// document is still among the recently used ones.
    pub fn background_snapshot(&self, uri: &Uri) -> Option<DocumentSnapshot> {
        self.snapshot_with(uri, false)
    }

    /// Checks whether the document's parse is in memory.
    #[cfg(test)]
    fn is_parsed(&self, uri: &Uri) -> bool {
        self.open
            .get(uri)
            .is_some_and(|document| document.file.is_some())
    }

    fn snapshot_with(&self, uri: &Uri, mark_used: bool) -> Option<DocumentSnapshot> {
        let (version, revision, rope, file) = {
            let mut document = self.open.get_mut(uri)?;
            if mark_used {
                document.last_used = self.tick();
            }
            (
                document.version,
                document.revision,
                document.rope.clone(),
                document.file.clone(),
            )
        };
        if let Some(file) = file {
            return Some(DocumentSnapshot {
                uri: uri.clone(),
                version,
                rope,
                file,
            });
        }

        // The parse runs without holding the map's lock, so edits and requests on other
        // documents do not wait for it.
        let started = std::time::Instant::now();
        let file = quarry_ide::SourceFile::parse(&rope.to_string());
        tracing::debug!(
            uri = uri.as_str(),
            bytes = rope.len_bytes(),
            elapsed_ms = started.elapsed().as_secs_f64() * 1000.0,
            "parsed a document whose parse was dropped"
        );
        let stored = match self.open.get_mut(uri) {
            Some(mut document) if document.revision == revision && document.file.is_none() => {
                document.file = Some(file.clone());
                true
            }
            _ => false,
        };
        if stored {
            self.drop_idle_parses();
        }
        Some(DocumentSnapshot {
            uri: uri.clone(),
            version,
            rope,
            file,
        })
    }

    fn tick(&self) -> u64 {
        self.clock.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// Drops the parses of the least recently used documents until the parsed documents hold
    /// at most `parsed_text_limit` bytes of text, keeping the most recently used one whatever
    /// its size.
    fn drop_idle_parses(&self) {
        // Each entry guard is released before the next is taken, so this never holds two of
        // the map's locks at once.
        let mut parsed: Vec<(Uri, u64, usize)> = self
            .open
            .iter()
            .filter(|entry| entry.file.is_some())
            .map(|entry| (entry.key().clone(), entry.last_used, entry.rope.len_bytes()))
            .collect();
        parsed.sort_by_key(|&(_, last_used, _)| std::cmp::Reverse(last_used));

        let mut kept_bytes = 0usize;
        let mut dropped = 0usize;
        for (index, (uri, last_used, bytes)) in parsed.into_iter().enumerate() {
            kept_bytes = kept_bytes.saturating_add(bytes);
            if index == 0 || kept_bytes <= self.parsed_text_limit {
                continue;
            }
            // A document used since the list was made is recent again and keeps its parse.
            if let Some(mut document) = self.open.get_mut(&uri)
                && document.last_used == last_used
                && document.file.take().is_some()
            {
                dropped += 1;
                tracing::debug!(
                    uri = uri.as_str(),
                    bytes,
                    "dropped the parse of an idle document"
                );
            }
        }
        if dropped > 0 {
            release_free_memory();
        }
    }
}

/// Asks the allocator to return freed memory to the operating system.
///
/// A syntax tree is tens of thousands of small allocations, and glibc's malloc keeps the pages of
/// freed small chunks mapped, so without this the resident set does not shrink when parses are
/// dropped. `malloc_trim` releases the whole free pages of every arena. Other platforms' and C
/// libraries' allocators are left alone.
fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        unsafe extern "C" {
            /// Releases free memory at the top of the heap and, since glibc 2.8, the whole free
            /// pages inside every arena. `pad` bytes stay untrimmed at the top. Returns 1 when
            /// memory was released.
            fn malloc_trim(pad: usize) -> std::ffi::c_int;
        }
        // SAFETY: `malloc_trim` takes no pointers and is thread-safe; glibc locks each arena
        // while it trims it.
        unsafe {
            malloc_trim(0);
        }
    }
}

impl DocumentSnapshot {
    pub fn text(&self) -> &Arc<str> {
        self.file.text()
    }
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use tower_lsp_server::ls_types::{Position, Range};

    use super::*;

    fn uri(name: &str) -> Uri {
        Uri::from_str(&format!("file:///test/{name}.kql")).unwrap()
    }

    /// Builds a document of about `bytes` bytes from query blocks.
    fn text_of(bytes: usize) -> String {
        let block = "SecurityEvent\n| where EventID == 4625\n| take 10\n\n";
        block.repeat(bytes.div_ceil(block.len()))
    }

    fn insertion(line: u32, character: u32, text: &str) -> TextDocumentContentChangeEvent {
        let position = Position { line, character };
        TextDocumentContentChangeEvent {
            range: Some(Range {
                start: position,
                end: position,
            }),
            range_length: None,
            text: text.to_owned(),
        }
    }

    #[test]
    fn parses_over_limit_are_dropped_least_recent_first() {
        let documents = Documents::with_parsed_text_limit(2_500);
        for name in ["a", "b", "c"] {
            documents.open(uri(name), 1, &text_of(1_000));
        }
        assert!(!documents.is_parsed(&uri("a")), "the least recently used");
        assert!(documents.is_parsed(&uri("b")));
        assert!(documents.is_parsed(&uri("c")));

        // A request on `a` parses it again and makes `b` the least recently used.
        let snapshot = documents.snapshot(&uri("a")).unwrap();
        assert_eq!(snapshot.file.text().as_ref(), text_of(1_000));
        assert!(documents.is_parsed(&uri("a")));
        assert!(!documents.is_parsed(&uri("b")));
        assert!(documents.is_parsed(&uri("c")));
    }

    #[test]
    fn most_recent_parse_kept_over_limit() {
        let documents = Documents::with_parsed_text_limit(10);
        documents.open(uri("a"), 1, &text_of(1_000));
        documents.open(uri("b"), 1, &text_of(1_000));
        assert!(!documents.is_parsed(&uri("a")));
        assert!(documents.is_parsed(&uri("b")));
    }

    #[test]
    fn background_snapshot_keeps_recency() {
        let documents = Documents::with_parsed_text_limit(1_500);
        documents.open(uri("a"), 1, &text_of(1_000));
        documents.open(uri("b"), 1, &text_of(1_000));
        assert!(!documents.is_parsed(&uri("a")));

        let snapshot = documents.background_snapshot(&uri("a")).unwrap();
        assert_eq!(snapshot.file.text().as_ref(), text_of(1_000));
        assert!(
            !documents.is_parsed(&uri("a")),
            "a background parse of an idle document is not kept"
        );
        assert!(documents.is_parsed(&uri("b")));
    }

    #[test]
    fn edit_of_dropped_parse_matches_fresh_parse() {
        let documents = Documents::with_parsed_text_limit(0);
        let original = text_of(500);
        documents.open(uri("a"), 1, &original);
        documents.open(uri("b"), 1, &original);
        assert!(!documents.is_parsed(&uri("a")));

        // Break the second query block, then fix it again with a second edit.
        assert!(documents.change(&uri("a"), 2, vec![insertion(5, 8, "(")]));
        assert!(!documents.is_parsed(&uri("a")), "edits alone do not parse");
        let broken = documents.snapshot(&uri("a")).unwrap();
        assert_eq!(broken.version, 2);
        assert_eq!(broken.file.syntax().errors.len(), 1);

        assert!(documents.change(&uri("a"), 3, vec![insertion(5, 24, ")")]));
        let fixed = documents.snapshot(&uri("a")).unwrap();
        let expected = original.replacen(
            "SecurityEvent\n| where EventID == 4625\n| take 10\n\nSecurityEvent\n| where EventID == 4625",
            "SecurityEvent\n| where EventID == 4625\n| take 10\n\nSecurityEvent\n| where (EventID == 4625)",
            1,
        );
        assert_ne!(expected, original);
        assert_eq!(fixed.file.text().as_ref(), expected);
        assert_eq!(
            fixed.file.syntax().root().to_sexp(),
            quarry_ide::SourceFile::parse(&expected)
                .syntax()
                .root()
                .to_sexp()
        );
        assert!(fixed.file.syntax().errors.is_empty());
    }
}
