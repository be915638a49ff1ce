//! `textDocument/codeAction`: the quick fixes of the diagnostics under the cursor or selection.

use std::collections::HashMap;

use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::{
    CodeAction, CodeActionKind, CodeActionOrCommand, CodeActionParams, CodeActionResponse,
    NumberOrString, TextEdit, WorkspaceEdit,
};

use crate::lsp::server::Session;
use crate::lsp::{from_proto, to_proto};

pub fn handle(session: &Session, params: CodeActionParams) -> Result<Option<CodeActionResponse>> {
    let uri = params.text_document.uri;
    let Some(snapshot) = super::snapshot(session, &uri)? else {
        return Ok(None);
    };
    let wants_quick_fixes = params.context.only.as_ref().is_none_or(|only| {
        only.iter()
            .any(|kind| CodeActionKind::QUICKFIX.as_str().starts_with(kind.as_str()))
    });
    let range = from_proto::text_range(&snapshot.rope, params.range);
    let wants_refactors = params.context.only.as_ref().is_none_or(|only| {
        only.iter().any(|kind| {
            CodeActionKind::REFACTOR_INLINE
                .as_str()
                .starts_with(kind.as_str())
        })
    });
    let template_actions = if wants_refactors {
        super::templates::code_actions(session, &uri, &snapshot, range.clone())
    } else {
        Vec::new()
    };
    let mut template_actions = template_actions;
    if super::enrich_actions::is_requested(params.context.only.as_ref()) {
        template_actions.extend(super::enrich_actions::code_actions(
            session,
            &snapshot,
            range.clone(),
        ));
    }
    if !wants_quick_fixes {
        return Ok(Some(template_actions));
    }

    let actions = session
        .analysis_for(&snapshot.uri)
        .code_actions(&snapshot.file, range);

    let response = actions
        .into_iter()
        .map(|action| {
            let diagnostic_range = to_proto::range(&snapshot.rope, action.diagnostic_range);
            // The client's copy of the diagnostic ties the fix to it in the editor.
            let diagnostics: Vec<_> = params
                .context
                .diagnostics
                .iter()
                .filter(|diagnostic| {
                    diagnostic.range == diagnostic_range
                        && diagnostic.code == Some(NumberOrString::String(action.code.clone()))
                })
                .cloned()
                .collect();
            let edits = action
                .edits
                .into_iter()
                .map(|edit| TextEdit {
                    range: to_proto::range(&snapshot.rope, edit.range),
                    new_text: edit.new_text,
                })
                .collect();
            CodeActionOrCommand::CodeAction(CodeAction {
                title: action.title,
                kind: Some(CodeActionKind::QUICKFIX),
                diagnostics: (!diagnostics.is_empty()).then_some(diagnostics),
                edit: Some(WorkspaceEdit {
                    changes: Some(HashMap::from([(uri.clone(), edits)])),
                    ..WorkspaceEdit::default()
                }),
                is_preferred: Some(action.preferred),
                ..CodeAction::default()
            })
        })
        .collect();
    let mut response: CodeActionResponse = response;
    response.extend(template_actions);
    Ok(Some(response))
}
