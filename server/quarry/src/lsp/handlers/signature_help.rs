//! `textDocument/signatureHelp`: the overloads of the function, aggregate or plugin whose
//! argument list contains the cursor, with the active overload and parameter.

use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::{
    Documentation, MarkupContent, MarkupKind, ParameterInformation, ParameterLabel, SignatureHelp,
    SignatureHelpParams, SignatureInformation,
};

use crate::lsp::from_proto;
use crate::lsp::server::Session;

pub fn handle(session: &Session, params: SignatureHelpParams) -> Result<Option<SignatureHelp>> {
    let position = params.text_document_position_params;
    let Some(snapshot) = super::snapshot(session, &position.text_document.uri)? else {
        return Ok(None);
    };
    let offset = from_proto::offset(&snapshot.rope, position.position);
    if let Some(help) = super::templates::signature_help(session, &snapshot, offset) {
        return Ok(Some(help));
    }

    // While the help is open the client sends the overload the user last chose. It is kept
    // only when the client's overloads are those of the call now at the cursor.
    let preferred = params
        .context
        .and_then(|context| context.active_signature_help)
        .and_then(|active| {
            active
                .active_signature
                .map(|index| (index, active.signatures))
        });

    let mut help = session
        .analysis
        .signature_help(&snapshot.file, offset, None);
    if let (Some(found), Some((index, previous))) = (&help, preferred) {
        let same_function = previous.len() == found.signatures.len()
            && previous
                .iter()
                .zip(&found.signatures)
                .all(|(previous, found)| previous.label == found.label);
        if same_function {
            help = session.analysis.signature_help(
                &snapshot.file,
                offset,
                usize::try_from(index).ok(),
            );
        }
    }

    Ok(help.map(to_proto))
}

fn to_proto(help: quarry_ide::SignatureHelp) -> SignatureHelp {
    let active_signature = help.active_signature;
    let signatures: Vec<SignatureInformation> = help
        .signatures
        .into_iter()
        .map(signature_information)
        .collect();
    let active_parameter = signatures[active_signature].active_parameter;
    SignatureHelp {
        signatures,
        active_signature: Some(to_u32(active_signature)),
        active_parameter,
    }
}

fn signature_information(signature: quarry_ide::SignatureInfo) -> SignatureInformation {
    let parameters: Vec<ParameterInformation> = signature
        .parameters
        .iter()
        .map(|parameter| ParameterInformation {
            label: ParameterLabel::LabelOffsets([
                utf16_len(&signature.label[..parameter.label.start]),
                utf16_len(&signature.label[..parameter.label.end]),
            ]),
            documentation: parameter.documentation.clone().map(markdown),
        })
        .collect();
    // With no active parameter (the cursor is past the last one), an index past the end keeps
    // the client from highlighting the first parameter, which an absent value would mean.
    let active_parameter = signature.active_parameter.unwrap_or(parameters.len());
    SignatureInformation {
        label: signature.label,
        documentation: (!signature.documentation.is_empty())
            .then(|| markdown(signature.documentation)),
        parameters: Some(parameters),
        active_parameter: Some(to_u32(active_parameter)),
    }
}

fn markdown(value: String) -> Documentation {
    Documentation::MarkupContent(MarkupContent {
        kind: MarkupKind::Markdown,
        value,
    })
}

/// Returns the length of `text` in UTF-16 code units, the unit of LSP label offsets.
fn utf16_len(text: &str) -> u32 {
    to_u32(text.encode_utf16().count())
}

fn to_u32(value: usize) -> u32 {
    u32::try_from(value).unwrap_or(u32::MAX)
}
