//! `textDocument/didOpen`, `didChange` and `didClose`.

use tower_lsp_server::ls_types::{
    DidChangeTextDocumentParams, DidCloseTextDocumentParams, DidOpenTextDocumentParams, Uri,
};

use crate::lsp::server::Session;

pub fn did_open(session: &Session, params: DidOpenTextDocumentParams) -> Uri {
    let document = params.text_document;
    tracing::debug!(
        uri = document.uri.as_str(),
        version = document.version,
        "document opened"
    );

    session
        .documents
        .open(document.uri.clone(), document.version, &document.text);
    document.uri
}

/// Returns the document's URI when it is open, so the caller can schedule diagnostics.
pub fn did_change(session: &Session, params: DidChangeTextDocumentParams) -> Option<Uri> {
    let document = params.text_document;
    tracing::debug!(
        uri = document.uri.as_str(),
        version = document.version,
        changes = params.content_changes.len(),
        "document changed"
    );

    if session
        .documents
        .change(&document.uri, document.version, params.content_changes)
    {
        Some(document.uri)
    } else {
        tracing::warn!(
            uri = document.uri.as_str(),
            "change for a document that is not open"
        );
        None
    }
}

pub fn did_close(session: &Session, params: DidCloseTextDocumentParams) -> Uri {
    let uri = params.text_document.uri;
    tracing::debug!(uri = uri.as_str(), "document closed");

    session.documents.close(&uri);
    uri
}
