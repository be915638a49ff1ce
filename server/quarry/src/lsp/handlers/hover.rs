//! `textDocument/hover`: catalog documentation of the operator or function under the cursor,
//! and the decoded layers of an encoded string literal.

pub mod decode;

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
    let analysis = session.analysis_for(&snapshot.uri);
    let hover = analysis.hover(&snapshot.file, offset);
    let decoded = decode::decoded_literal(&analysis, &snapshot.file, offset);

    Ok(match (hover, decoded) {
        (Some(mut hover), Some((_, section))) => {
            hover.markdown = format!("{}\n\n---\n\n{section}", hover.markdown);
            Some(to_proto::hover(&snapshot.rope, hover))
        }
        (Some(hover), None) => Some(to_proto::hover(&snapshot.rope, hover)),
        (None, Some((range, markdown))) => Some(to_proto::hover(
            &snapshot.rope,
            quarry_ide::HoverResult { range, markdown },
        )),
        (None, None) => None,
    })
}
