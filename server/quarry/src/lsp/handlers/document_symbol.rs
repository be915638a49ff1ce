//! `textDocument/documentSymbol`: query blocks and `let` statements.

use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::{DocumentSymbolParams, DocumentSymbolResponse};

use crate::lsp::server::Session;
use crate::lsp::to_proto;

pub fn handle(
    session: &Session,
    params: DocumentSymbolParams,
) -> Result<Option<DocumentSymbolResponse>> {
    if super::templates::is_yaml_document(&params.text_document.uri) {
        return Ok(None);
    }
    let Some(snapshot) = super::snapshot(session, &params.text_document.uri)? else {
        return Ok(None);
    };

    let symbols = session.analysis.document_symbols(&snapshot.file);

    let symbols = symbols
        .into_iter()
        .map(|symbol| to_proto::document_symbol(&snapshot.rope, symbol));
    Ok(Some(DocumentSymbolResponse::Nested(symbols.collect())))
}
