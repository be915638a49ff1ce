//! `textDocument/references`: every use of the binding under the cursor in its query block.

use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::{Location, ReferenceParams};

use crate::lsp::server::Session;
use crate::lsp::{from_proto, to_proto};

pub fn handle(session: &Session, params: ReferenceParams) -> Result<Option<Vec<Location>>> {
    let position = params.text_document_position;
    let uri = position.text_document.uri;
    let Some(snapshot) = super::snapshot(session, &uri)? else {
        return Ok(None);
    };
    let offset = from_proto::offset(&snapshot.rope, position.position);

    let Some(occurrences) = session
        .analysis_for(&snapshot.uri)
        .references(&snapshot.file, offset)
    else {
        return Ok(None);
    };

    let include_declaration = params.context.include_declaration;
    Ok(Some(
        occurrences
            .into_iter()
            .filter(|occurrence| include_declaration || !occurrence.is_definition)
            .map(|occurrence| Location {
                uri: uri.clone(),
                range: to_proto::range(&snapshot.rope, occurrence.range),
            })
            .collect(),
    ))
}
