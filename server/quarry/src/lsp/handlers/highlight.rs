//! `textDocument/documentHighlight`: the definition (as a write) and uses (as reads) of the
//! binding under the cursor.

use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::{
    DocumentHighlight, DocumentHighlightKind, DocumentHighlightParams,
};

use crate::lsp::server::Session;
use crate::lsp::{from_proto, to_proto};

pub fn handle(
    session: &Session,
    params: DocumentHighlightParams,
) -> Result<Option<Vec<DocumentHighlight>>> {
    let position = params.text_document_position_params;
    let Some(snapshot) = super::snapshot(session, &position.text_document.uri)? else {
        return Ok(None);
    };
    let offset = from_proto::offset(&snapshot.rope, position.position);

    let occurrences = session
        .analysis_for(&snapshot.uri)
        .document_highlights(&snapshot.file, offset);

    Ok(Some(
        occurrences
            .into_iter()
            .map(|occurrence| DocumentHighlight {
                range: to_proto::range(&snapshot.rope, occurrence.range),
                kind: Some(if occurrence.is_definition {
                    DocumentHighlightKind::WRITE
                } else {
                    DocumentHighlightKind::READ
                }),
            })
            .collect(),
    ))
}
