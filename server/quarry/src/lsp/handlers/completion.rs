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

    let completions = session
        .analysis_for(&snapshot.uri)
        .completions(&snapshot.file, offset);

    Ok(completions.map(|completions| to_proto::completion_response(&snapshot.rope, completions)))
}
