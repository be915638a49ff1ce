//! `textDocument/completion`: tabular operators after `|`, functions in expressions, and
//! `completionItem/resolve`, which fills in the documentation of catalog items.
//!
//! A completion list in an expression has about 600 items, and the Markdown documentation of
//! the functions and operators is about half of its 320 KB. When the client declares that it
//! resolves `documentation` lazily, the list leaves that documentation out and each item keeps
//! the name of its catalog entry in `data` for `completionItem/resolve`.

use quarry_analysis::Catalog;
use serde::{Deserialize, Serialize};
use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::{
    CompletionItem, CompletionItemKind, CompletionParams, CompletionResponse, Documentation,
    MarkupContent, MarkupKind,
};

use crate::lsp::server::Session;
use crate::lsp::{from_proto, to_proto};

pub fn handle(session: &Session, params: CompletionParams) -> Result<Option<CompletionResponse>> {
    let position = params.text_document_position;
    let Some(snapshot) = super::snapshot(session, &position.text_document.uri)? else {
        return Ok(None);
    };
    let offset = from_proto::offset(&snapshot.rope, position.position);

    if let Some(completions) = super::templates::yaml_completion(session, &snapshot, offset) {
        return Ok(completions);
    }
    let templates = super::templates::completion_items(session, &snapshot, offset);
    if let Some((true, items)) = templates {
        return Ok(Some(CompletionResponse::Array(items)));
    }
    let completions = session
        .analysis_for(&snapshot.uri)
        .completions(&snapshot.file, offset);
    let snippet_support = session
        .snippet_support
        .load(std::sync::atomic::Ordering::Relaxed);
    let defer_documentation = session
        .resolves_completion_documentation
        .load(std::sync::atomic::Ordering::Relaxed);
    let mut response = completions.map(|completions| {
        to_proto::completion_response_with(&snapshot.rope, completions, snippet_support)
    });
    if defer_documentation && let Some(CompletionResponse::Array(items)) = &mut response {
        items.iter_mut().for_each(defer_catalog_documentation);
    }
    Ok(match (response, templates) {
        (Some(CompletionResponse::Array(mut items)), Some((_, families))) => {
            items.extend(families);
            Some(CompletionResponse::Array(items))
        }
        (None, Some((_, families))) => Some(CompletionResponse::Array(families)),
        (response, _) => response,
    })
}

/// `completionItem/resolve`: adds the documentation that [`handle`] left out. Items without
/// such a reference in `data` are returned unchanged.
pub fn resolve(mut item: CompletionItem) -> CompletionItem {
    let Some(data) = item.data.as_ref() else {
        return item;
    };
    let reference = match DeferredDocumentation::deserialize(data) {
        Ok(reference) => reference,
        Err(error) => {
            tracing::debug!(label = item.label.as_str(), %error, "completion item data is not a catalog reference");
            return item;
        }
    };
    let catalog = Catalog::get();
    let markdown = match reference.entry {
        CatalogEntry::Function => catalog
            .function(&reference.name)
            .map(|function| function.hover_markdown()),
        CatalogEntry::Operator => catalog
            .operator(&reference.name)
            .map(|operator| operator.hover_markdown()),
    };
    match markdown {
        Some(markdown) => {
            item.documentation = Some(Documentation::MarkupContent(MarkupContent {
                kind: MarkupKind::Markdown,
                value: markdown,
            }));
        }
        None => tracing::warn!(
            name = reference.name.as_str(),
            "completion item refers to a name missing from the catalog"
        ),
    }
    item
}

/// The catalog entry whose documentation a completion item shows, stored in the item's `data`.
#[derive(Debug, Serialize, Deserialize)]
struct DeferredDocumentation {
    entry: CatalogEntry,
    name: String,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum CatalogEntry {
    Function,
    Operator,
}

/// Replaces the documentation of a function, aggregate, plugin or operator item with a reference
/// to its catalog entry. The labels of those items are their catalog names, and their
/// documentation is the entry's hover Markdown. Keywords and values have no documentation,
/// so they are left as they are.
fn defer_catalog_documentation(item: &mut CompletionItem) {
    let has_documentation = matches!(
        &item.documentation,
        Some(Documentation::MarkupContent(content)) if !content.value.is_empty()
    );
    let entry = match item.kind {
        Some(CompletionItemKind::FUNCTION | CompletionItemKind::MODULE) => CatalogEntry::Function,
        Some(CompletionItemKind::KEYWORD) if has_documentation => CatalogEntry::Operator,
        _ => return,
    };
    let reference = DeferredDocumentation {
        entry,
        name: item.label.clone(),
    };
    match serde_json::to_value(&reference) {
        Ok(data) => {
            item.data = Some(data);
            item.documentation = None;
        }
        Err(error) => tracing::warn!(%error, "failed to encode a completion item reference"),
    }
}
