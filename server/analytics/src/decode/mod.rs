//! Decoding of obfuscated command lines and payloads into a tree of decoded layers.
//!
//! The decoder looks for base64 (standard and URL-safe, padded or not), PowerShell
//! `-EncodedCommand` arguments (base64 of UTF-16LE text), hex strings, char-code arrays
//! (`[char]72+[char]101`, `(72,101)|%{[char]$_}`, `String.fromCharCode(72,101)`), gzip, zlib and
//! raw deflate streams, and zip and tar archives. Each decoded layer is scanned again, down to
//! [`DecodeOptions::max_depth`] layers, and the total decoded size is capped by
//! [`DecodeOptions::max_total_bytes`] so that compression bombs stop early. Every stop is reported
//! in [`DecodeReport::limits`]. Parsing is bounds-checked so that hostile input does not panic (a unit
//! test feeds random and truncated gzip, zlib and zip input).

mod container;
mod magic;
mod scan;

use serde::Serialize;

pub use magic::file_type;

/// Bounds for one decode run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeOptions {
    /// Maximum number of nested decoded layers below the input.
    pub max_depth: usize,
    /// Maximum number of decoded bytes, summed over the whole tree.
    pub max_total_bytes: usize,
    /// Maximum number of encoded spans or archive members decoded per layer.
    pub max_children: usize,
}

impl Default for DecodeOptions {
    fn default() -> Self {
        DecodeOptions {
            max_depth: 20,
            max_total_bytes: 10 * 1024 * 1024,
            max_children: 1000,
        }
    }
}

/// The decoding step that produced a layer from its parent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Encoding {
    /// The input itself (the root of the tree).
    Input,
    Base64,
    /// A PowerShell `-EncodedCommand` argument: base64 of UTF-16LE text.
    PowershellEncodedCommand,
    Hex,
    CharCodes,
    Gzip,
    Zlib,
    /// A raw deflate stream, as PowerShell's `IO.Compression.DeflateStream` reads.
    Deflate,
    /// A member of a zip archive.
    Zip,
    /// A member of a tar archive.
    Tar,
}

/// One decoded layer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DecodeNode {
    pub encoding: Encoding,
    /// Byte range of the encoded form in the parent. For text layers the range indexes the
    /// parent's text as UTF-8 (after UTF-16LE conversion, when the parent was UTF-16LE). For
    /// compressed streams and archive members it indexes the parent's bytes.
    pub start: usize,
    pub end: usize,
    /// Archive member name, for zip and tar members.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Decoded size in bytes.
    pub size: usize,
    /// Whether the decoded bytes were cut at the size limit.
    pub truncated: bool,
    /// The file type detected from magic bytes, or `text` / `utf-16le-text` / `data`.
    pub file_type: &'static str,
    /// The first characters of the decoded text, when the layer is text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preview: Option<String>,
    pub md5: String,
    pub sha1: String,
    pub sha256: String,
    pub children: Vec<DecodeNode>,
    /// The whole decoded text, when the layer is text (used for indicator extraction).
    #[serde(skip)]
    pub text: Option<String>,
}

/// A bound that stopped decoding somewhere in the tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LimitHit {
    /// `max-depth`, `max-total-bytes`, `max-children` or `malformed`.
    pub kind: &'static str,
    /// Depth of the layer where decoding stopped (the input is depth 0).
    pub depth: usize,
    pub message: String,
}

/// The result of decoding one input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DecodeReport {
    pub root: DecodeNode,
    /// Number of decoded layers below the input.
    pub layers: usize,
    /// Depth of the deepest decoded layer.
    pub max_depth_reached: usize,
    /// Decoded bytes summed over the tree, not counting the input.
    pub total_decoded_bytes: usize,
    pub limits: Vec<LimitHit>,
}

impl DecodeReport {
    /// Returns every layer in depth-first order, the root first.
    pub fn nodes(&self) -> Vec<&DecodeNode> {
        let mut out = Vec::new();
        let mut stack = vec![&self.root];
        while let Some(node) = stack.pop() {
            out.push(node);
            stack.extend(node.children.iter().rev());
        }
        out
    }
}

/// Number of characters kept in [`DecodeNode::preview`].
const PREVIEW_CHARS: usize = 200;

/// A decoded layer before it is expanded: its encoding, range in the parent and bytes.
pub(crate) struct Candidate {
    pub encoding: Encoding,
    pub start: usize,
    pub end: usize,
    pub name: Option<String>,
    pub bytes: Vec<u8>,
    /// Set when the bytes are known to be UTF-16LE text (PowerShell encoded commands).
    pub text: Option<String>,
    pub truncated: bool,
}

/// Running totals shared by the whole tree.
pub(crate) struct Budget {
    pub options: DecodeOptions,
    pub used: usize,
    pub limits: Vec<LimitHit>,
    pub layers: usize,
    pub deepest: usize,
}

impl Budget {
    /// Bytes still allowed before the total size limit.
    pub fn remaining(&self) -> usize {
        self.options.max_total_bytes.saturating_sub(self.used)
    }

    pub fn hit(&mut self, kind: &'static str, depth: usize, message: String) {
        self.limits.push(LimitHit {
            kind,
            depth,
            message,
        });
    }
}

/// Decodes `input` into a tree of layers with the default bounds.
pub fn decode(input: &[u8]) -> DecodeReport {
    decode_with(input, DecodeOptions::default())
}

/// Decodes `input` into a tree of layers within `options`' bounds.
pub fn decode_with(input: &[u8], options: DecodeOptions) -> DecodeReport {
    let mut budget = Budget {
        options,
        used: 0,
        limits: Vec::new(),
        layers: 0,
        deepest: 0,
    };
    let root = Candidate {
        encoding: Encoding::Input,
        start: 0,
        end: input.len(),
        name: None,
        bytes: input.to_vec(),
        text: None,
        truncated: false,
    };
    let root = expand(root, 0, &mut budget);
    DecodeReport {
        root,
        layers: budget.layers,
        max_depth_reached: budget.deepest,
        total_decoded_bytes: budget.used,
        limits: budget.limits,
    }
}

/// Builds the node for `candidate` and decodes its children, recursively.
fn expand(candidate: Candidate, depth: usize, budget: &mut Budget) -> DecodeNode {
    let text = candidate.text.or_else(|| magic::as_text(&candidate.bytes));
    let file_type = magic::file_type(&candidate.bytes, text.is_some());
    let hashes = magic::Hashes::of(&candidate.bytes);

    let found = if candidate.bytes.is_empty() {
        Vec::new()
    } else {
        container::open(&candidate.bytes, budget, depth).unwrap_or_else(|| {
            text.as_deref()
                .map(|t| scan::scan(t, budget, depth))
                .unwrap_or_default()
        })
    };

    let mut children = Vec::new();
    if !found.is_empty() && depth >= budget.options.max_depth {
        let dropped: usize = found.iter().map(|child| child.bytes.len()).sum();
        budget.used = budget.used.saturating_sub(dropped);
        budget.hit(
            "max-depth",
            depth,
            format!(
                "stopped at the maximum depth of {} layers; {} more encoded layer(s) were not decoded",
                budget.options.max_depth,
                found.len()
            ),
        );
    } else {
        for child in found {
            budget.layers += 1;
            budget.deepest = budget.deepest.max(depth + 1);
            children.push(expand(child, depth + 1, budget));
        }
    }

    let preview = text
        .as_deref()
        .map(|t| t.chars().take(PREVIEW_CHARS).collect::<String>());
    DecodeNode {
        encoding: candidate.encoding,
        start: candidate.start,
        end: candidate.end,
        name: candidate.name,
        size: candidate.bytes.len(),
        truncated: candidate.truncated,
        file_type,
        preview,
        md5: hashes.md5,
        sha1: hashes.sha1,
        sha256: hashes.sha256,
        children,
        text,
    }
}

#[cfg(test)]
mod tests;
