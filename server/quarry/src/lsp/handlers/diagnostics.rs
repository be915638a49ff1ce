//! Syntax diagnostics for `textDocument/publishDiagnostics`.

use tower_lsp_server::ls_types::Diagnostic;

use crate::lsp::documents::DocumentSnapshot;
use crate::lsp::server::Session;
use crate::lsp::to_proto;

pub fn compute(session: &Session, snapshot: &DocumentSnapshot) -> Vec<Diagnostic> {
    let diagnostics = session
        .analysis_for(&snapshot.uri)
        .diagnostics(&snapshot.file);

    diagnostics
        .into_iter()
        .map(|diagnostic| to_proto::diagnostic(&snapshot.rope, diagnostic))
        .collect()
}
