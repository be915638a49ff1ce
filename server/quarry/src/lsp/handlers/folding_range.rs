//! `textDocument/foldingRange`: query blocks, multi-line brackets and comment runs.

use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::{FoldingRange, FoldingRangeParams};

use crate::lsp::server::Session;
use crate::lsp::to_proto;

pub fn handle(session: &Session, params: FoldingRangeParams) -> Result<Option<Vec<FoldingRange>>> {
    if super::templates::is_yaml_document(&params.text_document.uri) {
        return Ok(None);
    }
    let Some(snapshot) = super::snapshot(session, &params.text_document.uri)? else {
        return Ok(None);
    };

    let folds = session.analysis.folding_ranges(&snapshot.file);

    Ok(Some(
        folds
            .into_iter()
            .filter_map(|fold| to_proto::folding_range(&snapshot.rope, fold))
            .collect(),
    ))
}
