//! Conversions from `quarry-ide` data (byte offsets, plain strings) to LSP types.

use std::ops::Range;

use quarry_ide::{
    CompletionKind, Completions, Diagnostic, Fold, FoldKind, Highlight, HighlightTag, HoverResult,
    Symbol, SymbolKind,
};
use ropey::Rope;
use tower_lsp_server::ls_types::{self, SemanticTokenModifier, SemanticTokenType};

/// Converts a byte offset in `rope` to an LSP position in UTF-16 code units.
///
/// An offset past the end maps to the end of the document, and an offset inside a
/// multi-byte character maps to the start of that character.
pub fn position(rope: &Rope, offset: usize) -> ls_types::Position {
    let offset = offset.min(rope.len_bytes());
    let char_index = rope.byte_to_char(offset);
    let line = rope.char_to_line(char_index);
    let line_start = rope.line_to_char(line);
    let character = rope.char_to_utf16_cu(char_index) - rope.char_to_utf16_cu(line_start);
    ls_types::Position {
        line: to_u32(line),
        character: to_u32(character),
    }
}

pub fn range(rope: &Rope, range: Range<usize>) -> ls_types::Range {
    ls_types::Range {
        start: position(rope, range.start),
        end: position(rope, range.end),
    }
}

/// Converts a count to the `u32` LSP uses, saturating for documents past 4 GiB.
fn to_u32(value: usize) -> u32 {
    u32::try_from(value).unwrap_or(u32::MAX)
}

pub fn diagnostic(rope: &Rope, diagnostic: Diagnostic) -> ls_types::Diagnostic {
    ls_types::Diagnostic {
        range: range(rope, diagnostic.range),
        severity: Some(match diagnostic.severity {
            quarry_ide::Severity::Error => ls_types::DiagnosticSeverity::ERROR,
            quarry_ide::Severity::Warning => ls_types::DiagnosticSeverity::WARNING,
        }),
        code: Some(ls_types::NumberOrString::String(diagnostic.code)),
        source: Some("quarry".to_owned()),
        message: match diagnostic.help {
            Some(help) => format!("{}\n{help}", diagnostic.message),
            None => diagnostic.message,
        },
        ..ls_types::Diagnostic::default()
    }
}

pub fn hover(rope: &Rope, hover: HoverResult) -> ls_types::Hover {
    ls_types::Hover {
        contents: ls_types::HoverContents::Markup(ls_types::MarkupContent {
            kind: ls_types::MarkupKind::Markdown,
            value: hover.markdown,
        }),
        range: Some(range(rope, hover.range)),
    }
}

pub fn completion_response(rope: &Rope, completions: Completions) -> ls_types::CompletionResponse {
    completion_response_with(rope, completions, false)
}

/// Converts completions, keeping snippet items only when the client supports snippets.
pub fn completion_response_with(
    rope: &Rope,
    completions: Completions,
    snippet_support: bool,
) -> ls_types::CompletionResponse {
    let replace = range(rope, completions.replace);
    let items = completions
        .items
        .into_iter()
        .filter(|item| snippet_support || item.snippet.is_none())
        .map(|item| ls_types::CompletionItem {
            kind: Some(match item.kind {
                CompletionKind::Operator => ls_types::CompletionItemKind::KEYWORD,
                CompletionKind::Function | CompletionKind::Aggregate => {
                    ls_types::CompletionItemKind::FUNCTION
                }
                CompletionKind::Plugin => ls_types::CompletionItemKind::MODULE,
                CompletionKind::Column => ls_types::CompletionItemKind::FIELD,
                CompletionKind::Table => ls_types::CompletionItemKind::CLASS,
                CompletionKind::Variable => ls_types::CompletionItemKind::VARIABLE,
                CompletionKind::Keyword => ls_types::CompletionItemKind::KEYWORD,
                CompletionKind::Value => ls_types::CompletionItemKind::ENUM_MEMBER,
                CompletionKind::Snippet => ls_types::CompletionItemKind::SNIPPET,
            }),
            insert_text_format: item
                .snippet
                .as_ref()
                .map(|_| ls_types::InsertTextFormat::SNIPPET),
            sort_text: Some(item.sort_text),
            detail: Some(item.detail),
            documentation: Some(ls_types::Documentation::MarkupContent(
                ls_types::MarkupContent {
                    kind: ls_types::MarkupKind::Markdown,
                    value: item.documentation,
                },
            )),
            text_edit: Some(ls_types::CompletionTextEdit::Edit(ls_types::TextEdit {
                range: replace,
                new_text: item.snippet.unwrap_or_else(|| item.label.clone()),
            })),
            label: item.label,
            ..ls_types::CompletionItem::default()
        })
        .collect();
    ls_types::CompletionResponse::Array(items)
}

#[allow(deprecated)] // `DocumentSymbol::deprecated` must be written out, though unused.
pub fn document_symbol(rope: &Rope, symbol: Symbol) -> ls_types::DocumentSymbol {
    let children: Vec<ls_types::DocumentSymbol> = symbol
        .children
        .into_iter()
        .map(|child| document_symbol(rope, child))
        .collect();
    ls_types::DocumentSymbol {
        name: symbol.name,
        detail: None,
        kind: match symbol.kind {
            SymbolKind::Query => ls_types::SymbolKind::NAMESPACE,
            SymbolKind::Variable => ls_types::SymbolKind::VARIABLE,
            SymbolKind::Function => ls_types::SymbolKind::FUNCTION,
        },
        tags: None,
        deprecated: None,
        range: range(rope, symbol.range),
        selection_range: range(rope, symbol.selection_range),
        children: (!children.is_empty()).then_some(children),
    }
}

/// Converts a fold to whole lines; a fold that starts and ends on one line has no LSP form.
pub fn folding_range(rope: &Rope, fold: Fold) -> Option<ls_types::FoldingRange> {
    let start = position(rope, fold.range.start);
    let end = position(rope, fold.range.end);
    if end.line <= start.line {
        return None;
    }
    Some(ls_types::FoldingRange {
        start_line: start.line,
        end_line: end.line,
        kind: match fold.kind {
            FoldKind::Comments => Some(ls_types::FoldingRangeKind::Comment),
            FoldKind::QueryBlock | FoldKind::Brackets => Some(ls_types::FoldingRangeKind::Region),
        },
        ..ls_types::FoldingRange::default()
    })
}

/// The semantic token legend. A token's type is its index in `SEMANTIC_TOKEN_TYPES`:
///
/// | index | type | used for |
/// |---|---|---|
/// | 0 | `keyword` | tabular operators (`where`, `mv-expand`) and other keywords (`let`, `by`) |
/// | 1 | `operator` | word operators in expressions (`and`, `has`, `contains`) |
/// | 2 | `function` | function calls |
/// | 3 | `variable` | names bound by `let` |
/// | 4 | `string` | string literals |
/// | 5 | `number` | numbers and timespans |
/// | 6 | `comment` | comments |
///
/// Modifiers are bits in `SEMANTIC_TOKEN_MODIFIERS` order: bit 0 `declaration` (where `let` binds
/// a name), bit 1 `defaultLibrary` (built-in operators and catalog functions).
const SEMANTIC_TOKEN_TYPES: [SemanticTokenType; 7] = [
    SemanticTokenType::KEYWORD,
    SemanticTokenType::OPERATOR,
    SemanticTokenType::FUNCTION,
    SemanticTokenType::VARIABLE,
    SemanticTokenType::STRING,
    SemanticTokenType::NUMBER,
    SemanticTokenType::COMMENT,
];

const SEMANTIC_TOKEN_MODIFIERS: [SemanticTokenModifier; 2] = [
    SemanticTokenModifier::DECLARATION,
    SemanticTokenModifier::DEFAULT_LIBRARY,
];

pub fn semantic_tokens_legend() -> ls_types::SemanticTokensLegend {
    ls_types::SemanticTokensLegend {
        token_types: SEMANTIC_TOKEN_TYPES.to_vec(),
        token_modifiers: SEMANTIC_TOKEN_MODIFIERS.to_vec(),
    }
}

fn semantic_token_type(tag: HighlightTag) -> u32 {
    match tag {
        HighlightTag::TabularOperator | HighlightTag::Keyword => 0,
        HighlightTag::WordOperator => 1,
        HighlightTag::Function => 2,
        HighlightTag::Variable => 3,
        HighlightTag::String => 4,
        HighlightTag::Number => 5,
        HighlightTag::Comment => 6,
    }
}

/// Encodes highlights as LSP's relative (delta) token stream, in UTF-16 units.
///
/// A highlight that spans lines, such as a multi-line string, becomes one token per line,
/// because clients need not support multi-line tokens.
pub fn semantic_tokens(
    rope: &Rope,
    text: &str,
    highlights: &[Highlight],
) -> ls_types::SemanticTokens {
    let mut data = Vec::with_capacity(highlights.len());
    let mut previous = ls_types::Position {
        line: 0,
        character: 0,
    };

    for highlight in highlights {
        let token_type = semantic_token_type(highlight.tag);
        let modifiers =
            u32::from(highlight.declaration) | (u32::from(highlight.default_library) << 1);

        let mut line_start = highlight.range.start;
        for line in text[highlight.range.clone()].split_inclusive('\n') {
            let content = line.trim_end_matches(['\r', '\n']);
            let start = position(rope, line_start);
            let length: usize = content.chars().map(char::len_utf16).sum();
            line_start += line.len();
            if length == 0 {
                continue;
            }

            let delta_line = start.line - previous.line;
            let delta_start = if delta_line == 0 {
                start.character - previous.character
            } else {
                start.character
            };
            data.push(ls_types::SemanticToken {
                delta_line,
                delta_start,
                length: to_u32(length),
                token_type,
                token_modifiers_bitset: modifiers,
            });
            previous = start;
        }
    }
    ls_types::SemanticTokens {
        result_id: None,
        data,
    }
}
#[cfg(test)]
mod tests {
    use super::*;
    use crate::lsp::from_proto;

    #[test]
    fn position_round_trips_through_offset() {
        let text = "é😀x\r\nT | where a == \"ü\"\n\n";
        let rope = Rope::from_str(text);
        for (offset, _) in text.char_indices().chain([(text.len(), ' ')]) {
            if text[..offset].ends_with('\r') && text[offset..].starts_with('\n') {
                continue; // No position lies between CR and LF.
            }
            let position = position(&rope, offset);
            assert_eq!(
                from_proto::offset(&rope, position),
                offset,
                "offset {offset} -> {position:?}"
            );
        }
    }

    #[test]
    fn semantic_tokens_split_multiline_strings() {
        let text = "print ```a\nbc```, 1";
        let rope = Rope::from_str(text);
        let highlight = |range: Range<usize>, tag| Highlight {
            range,
            tag,
            default_library: false,
            declaration: false,
        };
        let highlights = [
            highlight(0..5, HighlightTag::TabularOperator),
            highlight(6..16, HighlightTag::String),
            highlight(18..19, HighlightTag::Number),
        ];
        let tokens = semantic_tokens(&rope, text, &highlights);
        let encoded: Vec<[u32; 4]> = tokens
            .data
            .iter()
            .map(|token| {
                [
                    token.delta_line,
                    token.delta_start,
                    token.length,
                    token.token_type,
                ]
            })
            .collect();
        assert_eq!(
            encoded,
            vec![[0, 0, 5, 0], [0, 6, 4, 4], [1, 0, 5, 4], [0, 7, 1, 5]]
        );
    }

    #[test]
    fn position_utf16_columns() {
        let rope = Rope::from_str("😀a\nb");
        assert_eq!(
            position(&rope, 4),
            ls_types::Position {
                line: 0,
                character: 2
            }
        );
        assert_eq!(
            position(&rope, 6),
            ls_types::Position {
                line: 1,
                character: 0
            }
        );
        assert_eq!(
            position(&rope, 99),
            ls_types::Position {
                line: 1,
                character: 1
            }
        );
    }
}
