//! `textDocument/hover`: catalog documentation of the operator or function under the cursor.

use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::{Hover, HoverParams};

use crate::lsp::server::Session;
use crate::lsp::{from_proto, to_proto};

pub fn handle(session: &Session, params: HoverParams) -> Result<Option<Hover>> {
    let position = params.text_document_position_params;
    let Some(snapshot) = super::snapshot(session, &position.text_document.uri)? else {
        return Ok(None);
    };
    let offset = from_proto::offset(&snapshot.rope, position.position);

    if let Some(hover) = super::templates::yaml_hover(session, &snapshot, offset) {
        return Ok(hover);
    }
    if let Some(hover) = super::templates::hover(session, &snapshot, offset) {
        return Ok(Some(hover));
    }
    let hover = session
        .analysis_for(&snapshot.uri)
        .hover(&snapshot.file, offset);

    Ok(hover.map(|hover| to_proto::hover(&snapshot.rope, hover)))
}
