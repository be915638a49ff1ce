//! `textDocument/prepareRename` and `textDocument/rename` for `let` bindings, parameters and
//! `as` names. A rejected rename is an `InvalidParams` error whose message gives the reason.

use std::borrow::Cow;
use std::collections::HashMap;

use tower_lsp_server::jsonrpc::{Error, ErrorCode, Result};
use tower_lsp_server::ls_types::{
    PrepareRenameResponse, RenameParams, TextDocumentPositionParams, TextEdit, WorkspaceEdit,
};

use crate::lsp::server::Session;
use crate::lsp::{from_proto, to_proto};

fn invalid(error: quarry_ide::RenameError) -> Error {
    tracing::debug!(reason = %error.message, "rename rejected");
    Error {
        code: ErrorCode::InvalidParams,
        message: Cow::Owned(error.message),
        data: None,
    }
}

pub fn prepare(
    session: &Session,
    params: TextDocumentPositionParams,
) -> Result<Option<PrepareRenameResponse>> {
    let Some(snapshot) = super::snapshot(session, &params.text_document.uri)? else {
        return Ok(None);
    };
    let offset = from_proto::offset(&snapshot.rope, params.position);

    let target = session
        .analysis
        .prepare_rename(&snapshot.file, offset)
        .map_err(invalid)?;

    Ok(
        target.map(|target| PrepareRenameResponse::RangeWithPlaceholder {
            range: to_proto::range(&snapshot.rope, target.range),
            placeholder: target.name,
        }),
    )
}

pub fn rename(session: &Session, params: RenameParams) -> Result<Option<WorkspaceEdit>> {
    let position = params.text_document_position;
    let uri = position.text_document.uri;
    let Some(snapshot) = super::snapshot(session, &uri)? else {
        return Ok(None);
    };
    let offset = from_proto::offset(&snapshot.rope, position.position);

    let edits = session
        .analysis
        .rename(&snapshot.file, offset, &params.new_name)
        .map_err(invalid)?;

    let edits = edits
        .into_iter()
        .map(|edit| TextEdit {
            range: to_proto::range(&snapshot.rope, edit.range),
            new_text: edit.new_text,
        })
        .collect();
    Ok(Some(WorkspaceEdit {
        changes: Some(HashMap::from([(uri, edits)])),
        ..WorkspaceEdit::default()
    }))
}
