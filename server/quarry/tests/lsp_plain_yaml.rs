//! YAML documents that are not query templates: the editor sends every YAML file of the
//! workspace, so the server must leave the ones it does not understand alone, while template
//! files keep their features.

mod lsp_client;

use lsp_client::{LspClient, position_of};
use serde_json::{Value, json};

const COMPOSE: &str = "services:\n  web:\n    image: nginx:1.27\n    ports:\n      - \"8080:80\"\n\n  db:\n    image: postgres\n";

#[test]
fn plain_yaml_gets_no_kql_features() {
    let uri = "file:///project/docker-compose.yml";
    let mut client = LspClient::start(Value::Null);
    client.did_open(uri, COMPOSE);

    let diagnostics = client.wait_for_diagnostics(uri, 1);
    assert_eq!(
        diagnostics,
        Vec::<Value>::new(),
        "no KQL errors on plain YAML"
    );
    let document = json!({ "textDocument": { "uri": uri } });
    for method in [
        "textDocument/semanticTokens/full",
        "textDocument/documentSymbol",
        "textDocument/foldingRange",
    ] {
        assert_eq!(
            client.request_ok(method, document.clone()),
            Value::Null,
            "{method}"
        );
    }
    let formatting = client.request_ok(
        "textDocument/formatting",
        json!({ "textDocument": { "uri": uri }, "options": { "tabSize": 2, "insertSpaces": true } }),
    );
    assert_eq!(formatting, Value::Null, "YAML is never reformatted as KQL");
    let at = |needle: &str| json!({ "textDocument": { "uri": uri }, "position": position_of(COMPOSE, needle) });
    assert_eq!(
        client.request_ok("textDocument/hover", at("image")),
        Value::Null
    );
    let completion = client.request_ok("textDocument/completion", at("postgres"));
    let items = completion
        .as_array()
        .or_else(|| completion["items"].as_array())
        .map_or(0, Vec::len);
    assert_eq!(items, 0, "no KQL completion in plain YAML: {completion}");
}

#[test]
fn template_yaml_keeps_its_problems() {
    let text = concat!(
        "metadata:\n",
        "  version: 1\n",
        "  description: Test\n",
        "  data_environments: [LogAnalytics]\n",
        "  data_families: [Demo]\n",
        "sources:\n",
        "  recent:\n",
        "    description: Recent rows\n",
        "    args:\n",
        "      query: |\n",
        "        SecurityEvent | where Computer == \"{host_name}\"\n",
        "    parameters: {}\n",
    );
    let uri = "file:///hunts/demo.yaml";
    let mut client = LspClient::start(Value::Null);
    client.did_open(uri, text);

    let diagnostics = client.wait_for_diagnostics(uri, 1);
    assert!(
        diagnostics.iter().any(|diagnostic| diagnostic["message"]
            .as_str()
            .unwrap()
            .contains("host_name")),
        "the undeclared parameter is reported: {diagnostics:#?}"
    );
    let tokens = client.request_ok(
        "textDocument/semanticTokens/full",
        json!({ "textDocument": { "uri": uri } }),
    );
    assert_eq!(
        tokens,
        Value::Null,
        "the YAML grammar colours the file, not KQL tokens"
    );
}
