//! One module per LSP request or notification. Each handler converts its input, calls
//! `quarry-ide` and converts the output.

pub mod analyze;
pub mod code_action;
pub mod completion;
pub mod definition;
pub mod diagnostics;
pub mod document_symbol;
pub mod document_sync;
pub mod enrich_actions;
pub mod enrich_hover;
pub mod enrich_request;
pub mod execute_command;
pub mod folding_range;
pub mod formatting;
pub mod highlight;
pub mod hover;
pub mod pivot;
pub mod references;
pub mod rename;
pub mod run_expansion;
pub mod semantic_tokens;
pub mod signature_help;
pub mod templates;

use tower_lsp_server::jsonrpc;
use tower_lsp_server::ls_types::Uri;

use super::documents::DocumentSnapshot;
use super::server::Session;

/// Returns the snapshot of an open document, or `None` (logged) when it is not open, so the
/// read request returns an empty result.
fn snapshot(session: &Session, uri: &Uri) -> jsonrpc::Result<Option<DocumentSnapshot>> {
    let snapshot = session.documents.snapshot(uri);
    if snapshot.is_none() {
        tracing::warn!(
            uri = uri.as_str(),
            "request for a document that is not open"
        );
    }
    Ok(snapshot)
}
