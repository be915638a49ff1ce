//! The decoded part of `textDocument/hover`: a string literal that holds base64, a PowerShell
//! encoded command, hex, character codes or compressed data shows its decoded layers.
//!
//! Decoding uses `quarry-analytics`' decoder with bounds smaller than `quarry/decode`'s, because
//! a hover runs on every mouse rest and must return quickly.

use quarry_analytics::decode::{DecodeNode, DecodeOptions, DecodeReport, decode_with};
use quarry_enrichment::hover::escape_markdown;
use quarry_ide::{HighlightTag, SourceFile};

/// Maximum length, in bytes, of a string literal that hover decodes.
pub const MAX_LITERAL_BYTES: usize = 64 * 1024;

/// Bounds of one hover decode: fewer layers and bytes than the `quarry/decode` defaults.
pub const HOVER_OPTIONS: DecodeOptions = DecodeOptions {
    max_depth: 8,
    max_total_bytes: 1024 * 1024,
    max_children: 16,
};

/// Number of layers listed in a hover; the rest are counted.
const MAX_LISTED_LAYERS: usize = 12;

/// Number of characters of a layer's text shown in a hover.
const PREVIEW_CHARS: usize = 160;

/// Decodes the string literal at `offset` and returns its byte range and a Markdown section of
/// the layers. Returns `None` when the cursor is not in a string literal or nothing decodes.
pub fn decoded_literal(
    analysis: &quarry_ide::Analysis,
    file: &SourceFile,
    offset: usize,
) -> Option<(std::ops::Range<usize>, String)> {
    // A comment never ends where a string starts, so the first string or comment at `offset`
    // is the first string there, if any.
    let literal = analysis
        .string_or_comment_at(file, offset)
        .filter(|highlight| highlight.tag == HighlightTag::String)?;
    let text = file.text().get(literal.range.clone())?;
    if text.len() > MAX_LITERAL_BYTES {
        return None;
    }
    let value = literal_value(text)?;
    let report = decode_with(value.as_bytes(), HOVER_OPTIONS);
    if report.layers == 0 {
        return None;
    }
    Some((literal.range, markdown(&report)))
}

/// Returns the value of a KQL string literal: the text between its quotes with escapes
/// resolved. Handles `"…"` and `'…'` with backslash escapes, verbatim `@"…"` with doubled
/// quotes, the obfuscated `h` prefix and multi-line ```` ```…``` ```` strings.
pub fn literal_value(literal: &str) -> Option<String> {
    let literal = literal
        .strip_prefix('h')
        .or_else(|| literal.strip_prefix('H'))
        .unwrap_or(literal);
    if let Some(inner) = literal
        .strip_prefix("```")
        .and_then(|rest| rest.strip_suffix("```"))
    {
        return Some(inner.to_owned());
    }
    if let Some(inner) = literal
        .strip_prefix("~~~")
        .and_then(|rest| rest.strip_suffix("~~~"))
    {
        return Some(inner.to_owned());
    }
    if let Some(verbatim) = literal.strip_prefix('@') {
        let quote = verbatim
            .chars()
            .next()
            .filter(|c| *c == '"' || *c == '\'')?;
        let inner = verbatim.strip_prefix(quote)?.strip_suffix(quote)?;
        let doubled = format!("{quote}{quote}");
        return Some(inner.replace(&doubled, &quote.to_string()));
    }
    let quote = literal.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let inner = literal.strip_prefix(quote)?.strip_suffix(quote)?;
    let mut value = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(ch) = chars.next() {
        if ch != '\\' {
            value.push(ch);
            continue;
        }
        match chars.next() {
            Some('n') => value.push('\n'),
            Some('t') => value.push('\t'),
            Some('r') => value.push('\r'),
            Some(other) => value.push(other),
            None => value.push('\\'),
        }
    }
    Some(value)
}

/// Builds the hover section: one line per layer, indented by depth, with a preview of each text
/// layer in a code block, followed by the bounds that stopped decoding.
fn markdown(report: &DecodeReport) -> String {
    let mut out = format!(
        "**Decoded** ({} layer{}, {} bytes)\n",
        report.layers,
        if report.layers == 1 { "" } else { "s" },
        report.total_decoded_bytes
    );
    let mut layers = Vec::new();
    collect_layers(&report.root, 0, &mut layers);
    for (depth, node) in layers.iter().take(MAX_LISTED_LAYERS) {
        out.push_str(&layer_markdown(*depth, node));
    }
    if layers.len() > MAX_LISTED_LAYERS {
        out.push_str(&format!(
            "\n{} more layers; run `quarry decode` for the whole tree.\n",
            layers.len() - MAX_LISTED_LAYERS
        ));
    }
    for limit in &report.limits {
        out.push_str(&format!(
            "\n_Stopped: {}_\n",
            escape_markdown(&limit.message)
        ));
    }
    out
}

fn collect_layers<'a>(node: &'a DecodeNode, depth: usize, out: &mut Vec<(usize, &'a DecodeNode)>) {
    for child in &node.children {
        out.push((depth + 1, child));
        collect_layers(child, depth + 1, out);
    }
}

fn layer_markdown(depth: usize, node: &DecodeNode) -> String {
    let encoding = serde_json::to_value(node.encoding)
        .ok()
        .and_then(|value| value.as_str().map(str::to_owned))
        .unwrap_or_default();
    let mut line = format!(
        "\n{}. {} → {}, {} bytes",
        depth,
        escape_markdown(&encoding),
        escape_markdown(node.file_type),
        node.size
    );
    if let Some(name) = &node.name {
        line.push_str(&format!(", member {}", escape_markdown(name)));
    }
    if node.truncated {
        line.push_str(", cut at the size limit");
    }
    line.push('\n');
    if let Some(preview) = &node.preview {
        line.push_str(&code_block(preview));
    }
    line
}

/// Wraps `text` in a fenced code block whose fence is longer than any backtick run in it, so the
/// decoded text cannot close the block and add Markdown or HTML. Control characters other than
/// line breaks and tabs become `.`.
fn code_block(text: &str) -> String {
    let shown: String = text
        .chars()
        .take(PREVIEW_CHARS)
        .map(|ch| {
            if ch.is_control() && ch != '\n' && ch != '\t' {
                '.'
            } else {
                ch
            }
        })
        .collect();
    let mut longest = 0;
    let mut run = 0;
    for ch in shown.chars() {
        run = if ch == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat(longest.max(2) + 1);
    let ellipsis = if text.chars().count() > PREVIEW_CHARS {
        "…"
    } else {
        ""
    };
    format!("\n{fence}text\n{shown}{ellipsis}\n{fence}\n")
}

#[cfg(test)]
mod tests {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;

    use super::*;

    fn hover_at(text: &str, needle: &str) -> Option<(std::ops::Range<usize>, String)> {
        let analysis = quarry_ide::Analysis::new(quarry_analysis::Catalog::get());
        let file = SourceFile::parse(text);
        let offset = text.find(needle).expect("needle is in the text") + 2;
        decoded_literal(&analysis, &file, offset)
    }

    #[test]
    fn literal_value_forms() {
        assert_eq!(literal_value(r#""a\"b\\c""#).as_deref(), Some("a\"b\\c"));
        assert_eq!(literal_value(r"'it\'s'").as_deref(), Some("it's"));
        assert_eq!(literal_value(r#"@"C:\x""y""#).as_deref(), Some("C:\\x\"y"));
        assert_eq!(literal_value(r#"h"secret""#).as_deref(), Some("secret"));
        assert_eq!(
            literal_value("```multi\nline```").as_deref(),
            Some("multi\nline")
        );
        assert_eq!(literal_value("plain"), None);
    }

    #[test]
    fn powershell_encoded_command_decodes() {
        // "Write-Host hi" as UTF-16LE, then base64.
        let encoded = "VwByAGkAdABlAC0ASABvAHMAdAAgAGgAaQA=";
        let text = format!("DeviceProcessEvents\n| where ProcessCommandLine has \"{encoded}\"\n");
        let (range, markdown) = hover_at(&text, encoded).expect("the literal decodes");
        assert_eq!(&text[range], format!("\"{encoded}\""));
        assert!(markdown.starts_with("**Decoded**"), "{markdown}");
        assert!(markdown.contains("Write-Host hi"), "{markdown}");
    }

    #[test]
    fn plain_string_has_no_section() {
        let text = "SecurityEvent\n| where Account == \"administrator\"\n";
        assert!(hover_at(text, "administrator").is_none());
    }

    #[test]
    fn identifier_has_no_section() {
        let text = "SecurityEvent\n| where Account == \"d3JpdGUtaG9zdCBoZWxsbyB3b3JsZA==\"\n";
        assert!(hover_at(text, "Account").is_none());
    }

    #[test]
    fn decoded_backticks_cannot_close_block() {
        let block = code_block("a ``` b\n**bold** <img src=x>");
        let fence = block.lines().nth(1).expect("fence line");
        assert!(fence.starts_with("````"), "{block}");
        assert!(
            block.trim_end().ends_with(&fence[..fence.len() - 4]),
            "{block}"
        );
    }

    #[test]
    fn depth_limit_is_reported() {
        // Base64 nested ten times, deeper than the hover's eight layers.
        let mut value = "Invoke-Expression (New-Object Net.WebClient).DownloadString".to_owned();
        for _ in 0..10 {
            value = STANDARD.encode(value.as_bytes());
        }
        let report = decode_with(value.as_bytes(), HOVER_OPTIONS);
        assert!(report.max_depth_reached <= HOVER_OPTIONS.max_depth);
        let section = markdown(&report);
        assert!(section.contains("_Stopped:"), "{section}");
    }
}
