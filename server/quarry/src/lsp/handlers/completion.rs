//! `textDocument/completion`: tabular operators after `|`, functions in expressions.

use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::{CompletionParams, CompletionResponse};

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
    let response = completions.map(|completions| {
        to_proto::completion_response_with(&snapshot.rope, completions, snippet_support)
    });
    Ok(match (response, templates) {
        (Some(CompletionResponse::Array(mut items)), Some((_, families))) => {
            items.extend(families);
            Some(CompletionResponse::Array(items))
        }
        (None, Some((_, families))) => Some(CompletionResponse::Array(families)),
        (response, _) => response,
    })
}
