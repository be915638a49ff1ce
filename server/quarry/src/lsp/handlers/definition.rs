//! `textDocument/definition`: where a `let` binding, parameter or `as` name is defined, and the
//! expression that computes a column added by an operator.

use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::{GotoDefinitionParams, GotoDefinitionResponse, Location};

use crate::lsp::server::Session;
use crate::lsp::{from_proto, to_proto};

pub fn handle(
    session: &Session,
    params: GotoDefinitionParams,
) -> Result<Option<GotoDefinitionResponse>> {
    let position = params.text_document_position_params;
    let uri = position.text_document.uri;
    let Some(snapshot) = super::snapshot(session, &uri)? else {
        return Ok(None);
    };
    let offset = from_proto::offset(&snapshot.rope, position.position);

    let definition = session
        .analysis_for(&snapshot.uri)
        .definition(&snapshot.file, offset);

    Ok(definition.map(|range| {
        GotoDefinitionResponse::Scalar(Location {
            uri,
            range: to_proto::range(&snapshot.rope, range),
        })
    }))
}
