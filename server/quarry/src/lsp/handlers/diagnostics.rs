//! Syntax diagnostics for `textDocument/publishDiagnostics`.

use tower_lsp_server::ls_types::Diagnostic;

use crate::lsp::documents::DocumentSnapshot;
use crate::lsp::server::Session;
use crate::lsp::to_proto;

pub fn compute(session: &Session, snapshot: &DocumentSnapshot) -> Vec<Diagnostic> {
    if let Some(diagnostics) = super::templates::yaml_diagnostics(session, snapshot) {
        return diagnostics;
    }
    let diagnostics = session
        .analysis_for(&snapshot.uri)
        .diagnostics(&snapshot.file);
    let diagnostics = super::templates::adjust_diagnostics(session, &snapshot.file, diagnostics);

    diagnostics
        .into_iter()
        .map(|diagnostic| to_proto::diagnostic(&snapshot.rope, diagnostic))
        .collect()
}
