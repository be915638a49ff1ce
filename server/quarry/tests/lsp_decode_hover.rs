//! End-to-end tests of the decoded layers that `textDocument/hover` shows on an encoded string
//! literal.

mod lsp_client;

use lsp_client::{LspClient, position, position_of};
use serde_json::{Value, json};

const URI: &str = "file:///hunt/encoded.kql";

/// `Write-Host hi` as UTF-16LE, then base64, as `powershell -EncodedCommand` takes it.
const ENCODED_COMMAND: &str = "VwByAGkAdABlAC0ASABvAHMAdAAgAGgAaQA=";

fn hover(client: &mut LspClient, text: &str, needle: &str) -> Value {
    client.request_ok(
        "textDocument/hover",
        json!({ "textDocument": { "uri": URI }, "position": position_of(text, needle) }),
    )
}

#[test]
fn encoded_command_literal_shows_layers() {
    let text =
        format!("DeviceProcessEvents\n| where ProcessCommandLine has \"{ENCODED_COMMAND}\"\n");
    let mut client = LspClient::start(Value::Null);
    client.did_open(URI, &text);

    let hover = hover(&mut client, &text, &ENCODED_COMMAND[4..]);

    assert_eq!(hover["contents"]["kind"], "markdown");
    let markdown = hover["contents"]["value"].as_str().unwrap();
    assert!(markdown.contains("**Decoded**"), "{markdown}");
    assert!(markdown.contains("Write-Host hi"), "{markdown}");
    let start = text.find('"').unwrap();
    assert_eq!(
        hover["range"]["start"],
        position(1, start as u32 - "DeviceProcessEvents\n".len() as u32)
    );
}

#[test]
fn plain_literal_has_no_decoded_section() {
    let text = "SecurityEvent\n| where Account == \"administrator\"\n";
    let mut client = LspClient::start(Value::Null);
    client.did_open(URI, text);

    let hover = hover(&mut client, text, "ministrator");

    let markdown = hover["contents"]["value"].as_str().unwrap_or_default();
    assert!(!markdown.contains("**Decoded**"), "{markdown}");
}

#[test]
fn decoded_section_follows_function_doc() {
    let text = format!("print base64_decode_tostring(\"{ENCODED_COMMAND}\")\n");
    let mut client = LspClient::start(Value::Null);
    client.did_open(URI, &text);

    let on_function = hover(&mut client, &text, "decode_tostring");
    let markdown = on_function["contents"]["value"].as_str().unwrap();
    assert!(!markdown.contains("**Decoded**"), "{markdown}");

    let on_literal = hover(&mut client, &text, &ENCODED_COMMAND[4..]);
    let markdown = on_literal["contents"]["value"].as_str().unwrap();
    assert!(markdown.contains("Write-Host hi"), "{markdown}");
}
