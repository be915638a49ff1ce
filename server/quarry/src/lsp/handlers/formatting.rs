//! `textDocument/formatting` and `textDocument/rangeFormatting`: the KQL formatter.
//!
//! The indentation comes from the request's `tabSize`; the line width from the extra
//! formatting property `quarry.lineWidth` when the client sends one. Query blocks with syntax
//! errors stay unchanged, and a `window/showMessage` names their lines.

use std::ops::Range;

use quarry_fmt::FormatOptions;
use ropey::Rope;
use tower_lsp_server::Client;
use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::{
    DocumentFormattingParams, DocumentRangeFormattingParams, FormattingOptions, FormattingProperty,
    MessageType, TextEdit,
};

use crate::lsp::server::Session;
use crate::lsp::{from_proto, to_proto};

/// The formatting property that sets the line width, in characters.
pub const LINE_WIDTH_PROPERTY: &str = "quarry.lineWidth";

pub async fn document(
    session: &Session,
    client: &Client,
    params: DocumentFormattingParams,
) -> Result<Option<Vec<TextEdit>>> {
    if super::templates::is_yaml_document(&params.text_document.uri) {
        return Ok(None);
    }
    let Some(snapshot) = super::snapshot(session, &params.text_document.uri)? else {
        return Ok(None);
    };
    let text = snapshot.file.text();
    let options = format_options(&params.options);

    let formatted = quarry_fmt::format_parsed(text, snapshot.file.syntax(), &options);

    report_unformatted_blocks(client, &snapshot.rope, &formatted.unformatted_blocks).await;
    if formatted.text == **text {
        return Ok(Some(Vec::new()));
    }
    Ok(Some(vec![TextEdit {
        range: to_proto::range(&snapshot.rope, 0..text.len()),
        new_text: formatted.text,
    }]))
}

pub async fn range(
    session: &Session,
    client: &Client,
    params: DocumentRangeFormattingParams,
) -> Result<Option<Vec<TextEdit>>> {
    if super::templates::is_yaml_document(&params.text_document.uri) {
        return Ok(None);
    }
    let Some(snapshot) = super::snapshot(session, &params.text_document.uri)? else {
        return Ok(None);
    };
    let range = from_proto::text_range(&snapshot.rope, params.range);
    let options = format_options(&params.options);

    let formatted = quarry_fmt::format_range(
        snapshot.file.text(),
        snapshot.file.syntax(),
        range,
        &options,
    );

    report_unformatted_blocks(client, &snapshot.rope, &formatted.unformatted_blocks).await;
    Ok(Some(
        formatted
            .edits
            .into_iter()
            .map(|edit| TextEdit {
                range: to_proto::range(&snapshot.rope, edit.range),
                new_text: edit.new_text,
            })
            .collect(),
    ))
}

fn format_options(options: &FormattingOptions) -> FormatOptions {
    let defaults = FormatOptions::default();
    let line_width = match options.properties.get(LINE_WIDTH_PROPERTY) {
        Some(FormattingProperty::Number(width)) if *width > 0 => *width as usize,
        Some(other) => {
            tracing::warn!(value = ?other, "invalid {LINE_WIDTH_PROPERTY}, expected a positive number; using the default");
            defaults.line_width
        }
        None => defaults.line_width,
    };
    FormatOptions {
        indent_width: options.tab_size as usize,
        line_width,
    }
}

/// Tells the user which blocks the formatter skipped, since an editor shows no sign of it.
async fn report_unformatted_blocks(client: &Client, rope: &Rope, blocks: &[Range<usize>]) {
    if blocks.is_empty() {
        return;
    }
    let lines: Vec<String> = blocks
        .iter()
        .map(|block| (to_proto::position(rope, block.start).line + 1).to_string())
        .collect();
    let noun = if blocks.len() == 1 { "block" } else { "blocks" };
    let message = format!(
        "Formatting left {} query {noun} unchanged because of syntax errors (starting at line {}).",
        blocks.len(),
        lines.join(", ")
    );
    tracing::info!(
        blocks = blocks.len(),
        "formatting skipped blocks with syntax errors"
    );
    client.show_message(MessageType::INFO, message).await;
}
