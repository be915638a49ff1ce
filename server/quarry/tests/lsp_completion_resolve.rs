//! End-to-end tests of `completionItem/resolve`: a client that resolves `documentation` lazily
//! gets completion lists without the catalog documentation, and resolving each item gives the
//! documentation that a client without that capability gets in the list.

mod lsp_client;

use lsp_client::{LspClient, position};
use serde_json::{Value, json};

const URI: &str = "file:///hunt/resolve.kql";

/// Starts a server and initializes it with a client that resolves `documentation` lazily.
fn start_resolving_client() -> (LspClient, Value) {
    let mut client = LspClient::spawn();
    let result = client.request_ok(
        "initialize",
        json!({
            "processId": std::process::id(),
            "rootUri": null,
            "capabilities": {
                "textDocument": {
                    "completion": {
                        "completionItem": {
                            "snippetSupport": true,
                            "resolveSupport": { "properties": ["documentation", "detail"] }
                        }
                    }
                }
            },
        }),
    );
    client.notify("initialized", json!({}));
    (client, result)
}

/// Starts a server whose client does not resolve items and has snippets, like the first one.
fn start_plain_client() -> LspClient {
    let mut client = LspClient::spawn();
    client.request_ok(
        "initialize",
        json!({
            "processId": std::process::id(),
            "rootUri": null,
            "capabilities": {
                "textDocument": {
                    "completion": { "completionItem": { "snippetSupport": true } }
                }
            },
        }),
    );
    client.notify("initialized", json!({}));
    client
}

/// Opens `text_with_cursor` once per client and returns the completion items at `$0`.
fn complete(client: &mut LspClient, uri: &str, text_with_cursor: &str) -> Vec<Value> {
    let offset = text_with_cursor
        .find("$0")
        .expect("the text has a $0 cursor");
    let text = text_with_cursor.replace("$0", "");
    let line = text[..offset].matches('\n').count() as u32;
    let character = (offset - text[..offset].rfind('\n').map_or(0, |index| index + 1)) as u32;
    client.did_open(uri, &text);
    let result = client.request_ok(
        "textDocument/completion",
        json!({ "textDocument": { "uri": uri }, "position": position(line, character) }),
    );
    result
        .as_array()
        .expect("completion returns an array")
        .clone()
}

#[test]
fn resolve_provider_is_announced() {
    let (client, result) = start_resolving_client();
    assert_eq!(
        result["capabilities"]["completionProvider"]["resolveProvider"],
        true
    );
    drop(client);
}

#[test]
fn resolved_documentation_equals_inline() {
    let (mut resolving, _) = start_resolving_client();
    let mut plain = start_plain_client();

    let positions = [
        "SecurityEvent\n| summarize $0",
        "SecurityEvent\n| $0",
        "SecurityEvent\n| evaluate $0",
        "SecurityEvent\n| where $0",
        "SecurityEvent\n| summarize count() $0",
    ];
    for (number, text) in positions.iter().enumerate() {
        let uri = format!("{URI}{number}");
        let inline = complete(&mut plain, &uri, text);
        let deferred = complete(&mut resolving, &uri, text);
        assert_eq!(inline.len(), deferred.len(), "{text}");

        let mut resolved_count = 0;
        for (expected, item) in inline.iter().zip(&deferred) {
            assert_eq!(item["label"], expected["label"], "{text}");
            if item["data"].is_null() {
                assert_eq!(item, expected, "{text}");
                continue;
            }
            assert!(item["documentation"].is_null(), "{text}: {item}");
            let resolved = resolving.request_ok("completionItem/resolve", item.clone());
            assert_eq!(
                resolved["documentation"], expected["documentation"],
                "{text}: {}",
                item["label"]
            );
            resolved_count += 1;
        }
        assert!(resolved_count > 0, "{text}: no item was left for resolve");
    }
}

#[test]
fn resolve_leaves_other_items_unchanged() {
    let (mut client, _) = start_resolving_client();
    let item = json!({ "label": "Account", "kind": 5, "detail": "string" });
    assert_eq!(
        client.request_ok("completionItem/resolve", item.clone()),
        item
    );

    let unknown = json!({
        "label": "no_such_function",
        "kind": 3,
        "data": { "entry": "function", "name": "no_such_function" }
    });
    let resolved = client.request_ok("completionItem/resolve", unknown.clone());
    assert_eq!(resolved, unknown);
}
