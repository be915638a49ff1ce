//! `textDocument/semanticTokens/full`. The legend is documented in `to_proto`.

use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::{SemanticTokensParams, SemanticTokensResult};

use crate::lsp::server::Session;
use crate::lsp::to_proto;

pub fn handle(
    session: &Session,
    params: SemanticTokensParams,
) -> Result<Option<SemanticTokensResult>> {
    if super::templates::is_yaml_document(&params.text_document.uri) {
        return Ok(None);
    }
    let Some(snapshot) = super::snapshot(session, &params.text_document.uri)? else {
        return Ok(None);
    };

    let highlights = session.analysis.highlight(&snapshot.file);

    let tokens = to_proto::semantic_tokens(&snapshot.rope, snapshot.text(), &highlights);
    Ok(Some(SemanticTokensResult::Tokens(tokens)))
}
