//! End-to-end tests of query templates in `quarry lsp`: the `quarry/listTemplates` and
//! `quarry/renderTemplate` requests, template calls in KQL documents (diagnostics, hover,
//! completion, signature help, the expand code action) and their expansion before a run.

mod lsp_client;

use std::path::PathBuf;

use lsp_client::{LspClient, position_of};
use serde_json::{Value, json};

const URI: &str = "file:///hunt/templates.kql";

fn open(text: &str) -> LspClient {
    let mut client = LspClient::start(Value::Null);
    client.did_open(URI, text);
    client
}

fn at(text: &str, needle: &str) -> Value {
    json!({ "textDocument": { "uri": URI }, "position": position_of(text, needle) })
}

fn find_template<'a>(listing: &'a Value, family: &str, name: &str) -> &'a Value {
    listing["families"]
        .as_array()
        .unwrap()
        .iter()
        .find(|entry| entry["name"] == family)
        .unwrap_or_else(|| panic!("no family {family} in {listing}"))["templates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|template| template["name"] == name)
        .unwrap_or_else(|| panic!("no template {family}.{name}"))
}

#[test]
fn list_templates_groups_bundled_library() {
    let mut client = LspClient::start(Value::Null);
    let listing = client.request_ok("quarry/listTemplates", json!({}));
    let families: Vec<&str> = listing["families"]
        .as_array()
        .unwrap()
        .iter()
        .map(|family| family["name"].as_str().unwrap())
        .collect();
    for family in ["DemoHunt", "WindowsSecurity", "MDE", "SplunkHunting"] {
        assert!(families.contains(&family), "{families:?}");
    }
    let mut sorted = families.clone();
    sorted.sort();
    assert_eq!(families, sorted, "families are sorted");

    let template = find_template(&listing, "WindowsSecurity", "list_host_logons");
    assert_eq!(
        template["qualifiedName"],
        "WindowsSecurity.list_host_logons"
    );
    assert_eq!(template["dialect"], "kql");
    assert_eq!(template["pivotEntities"], json!(["Host"]));
    assert!(template["line"].as_u64().unwrap() > 1);
    let host = &template["parameters"][0];
    assert_eq!(host["name"], "host_name");
    assert_eq!(host["type"], "str");
    assert_eq!(host["required"], true);
    assert_eq!(host["aliases"], json!(["hostname"]));
    let splunk = find_template(&listing, "SplunkHunting", "list_windows_logons_for_host");
    assert_eq!(splunk["dialect"], "splunk");
    assert_eq!(listing["problems"], json!([]));
}

#[test]
fn list_templates_filters_by_search() {
    let mut client = LspClient::start(Value::Null);
    let listing = client.request_ok("quarry/listTemplates", json!({ "search": "BEACON" }));
    let names: Vec<String> = listing["families"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|family| family["templates"].as_array().unwrap().clone())
        .map(|template| template["qualifiedName"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        names.contains(&"DemoHunt.public_destinations".to_owned()),
        "{names:?}"
    );
    assert!(!names.contains(&"WindowsSecurity.list_host_logons".to_owned()));

    let error = client
        .request("quarry/listTemplates", json!({ "search": 3 }))
        .unwrap_err();
    assert_eq!(error["code"], -32602);
}

#[test]
fn list_templates_reads_template_folders() {
    let folder = scratch_folder("extra-templates");
    std::fs::write(
        folder.join("mine.yaml"),
        "metadata:\n  version: 1\n  description: My own hunts\n  data_environments: [MSSentinel]\n  data_families: [MyHunts]\nsources:\n  odd_logons:\n    description: Logons of type 9\n    args:\n      query: 'SecurityEvent | where LogonType == 9'\n",
    )
    .unwrap();
    std::fs::write(folder.join("broken.yaml"), "metadata: [\n").unwrap();
    let options = json!({ "templateFolders": [folder.to_str().unwrap()] });
    let mut client = LspClient::start(options);
    let listing = client.request_ok("quarry/listTemplates", Value::Null);
    let template = find_template(&listing, "MyHunts", "odd_logons");
    assert_eq!(template["parameters"], json!([]));
    let template = find_template(&listing, "MyHunts", "odd_logons");
    assert_eq!(template["parameters"], json!([]));
    let problems = listing["problems"].as_array().unwrap();
    assert!(
        problems
            .iter()
            .any(|problem| problem["file"].as_str().unwrap().ends_with("broken.yaml")),
        "{problems:?}"
    );
}

fn scratch_folder(name: &str) -> PathBuf {
    let folder = std::env::temp_dir().join(format!(
        "quarry-lsp-templates-{}-{name}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&folder);
    std::fs::create_dir_all(&folder).unwrap();
    folder
}

#[test]
fn render_template_fills_values() {
    let mut client = LspClient::start(Value::Null);
    let result = client.request_ok(
        "quarry/renderTemplate",
        json!({
            "name": "WindowsSecurity.list_host_logons",
            "parameters": { "hostname": "WS1\" | take 0", "start": "2024-05-01", "end": "2024-05-02" }
        }),
    );
    assert_eq!(result["dialect"], "kql");
    let query = result["query"].as_str().unwrap();
    assert!(
        query.contains(r#"Computer has "WS1\" | take 0""#),
        "{query}"
    );
    assert!(query.contains("datetime(2024-05-01T00:00:00"), "{query}");

    let splunk = client.request_ok(
        "quarry/renderTemplate",
        json!({ "name": "list_sudo_commands_for_host", "parameters": { "host_name": "web01" } }),
    );
    assert_eq!(splunk["dialect"], "splunk");
    assert!(
        splunk["query"].as_str().unwrap().contains("host=web01"),
        "{splunk}"
    );
}

#[test]
fn render_template_rejects_bad_requests() {
    let mut client = LspClient::start(Value::Null);
    let cases = [
        (json!({ "name": "NoSuch.template" }), "no template named"),
        (
            json!({ "name": "WindowsSecurity.list_host_logons", "parameters": { "host_name": "a", "colour": "red" } }),
            "unknown parameter `colour`",
        ),
        (
            json!({ "name": "WindowsSecurity.list_host_logons" }),
            "missing required parameters",
        ),
        (
            json!({ "name": "DemoHunt.failed_logon_sources", "parameters": { "top_count": "five" } }),
            "is not an integer",
        ),
        (json!({ "parameters": {} }), "needs `name`"),
    ];
    for (params, expected) in cases {
        let error = client
            .request("quarry/renderTemplate", params.clone())
            .unwrap_err();
        assert_eq!(error["code"], -32602, "{params}");
        let message = error["message"].as_str().unwrap();
        assert!(message.contains(expected), "{params}: {message}");
    }
}

#[test]
fn template_call_diagnostics() {
    let text = "WindowsSecurity.list_host_logons(colour=\"red\", start=42)\n| take 10\n\nNoFamily.anything()\n\nWindowsSecurity.list_host_logons(host_name=\"WS1\", start=ago(3d)) | take 5\n";
    let mut client = open(text);
    let diagnostics = client.wait_for_diagnostics(URI, 1);
    let codes: Vec<&str> = diagnostics
        .iter()
        .map(|diagnostic| diagnostic["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["TPL004", "TPL003", "TPL001"], "{diagnostics:#?}");
    assert!(
        diagnostics[0]["message"]
            .as_str()
            .unwrap()
            .contains("host_name"),
        "{diagnostics:#?}"
    );
    assert!(
        diagnostics[1]["message"]
            .as_str()
            .unwrap()
            .contains("its parameters are: "),
        "{diagnostics:#?}"
    );
    assert_eq!(
        diagnostics[1]["range"]["start"],
        position_of(text, "colour")
    );
    assert_eq!(
        diagnostics[2]["range"]["start"],
        position_of(text, "NoFamily")
    );
}

#[test]
fn template_call_wrong_type_is_error() {
    let text = "DemoHunt.failed_logon_sources(top_count=\"five\")";
    let mut client = open(text);
    let diagnostics = client.wait_for_diagnostics(URI, 1);
    assert_eq!(diagnostics.len(), 1, "{diagnostics:#?}");
    assert_eq!(diagnostics[0]["code"], "TPL005");
    assert!(
        diagnostics[0]["message"]
            .as_str()
            .unwrap()
            .contains("expects an integer literal"),
        "{diagnostics:#?}"
    );
}

#[test]
fn template_call_hover_and_signature() {
    let text = "WindowsSecurity.list_host_logons(host_name=\"WS1\", start=ago(7d)) | take 10";
    let mut client = open(text);

    let hover = client.request_ok("textDocument/hover", at(text, "list_host_logons"));
    let markdown = hover["contents"]["value"].as_str().unwrap();
    assert!(markdown.contains("Lists successful logons"), "{markdown}");
    assert!(markdown.contains("**required**"), "{markdown}");
    assert!(markdown.contains("aliases: hostname"), "{markdown}");
    assert!(markdown.contains("Pivot entities: Host"), "{markdown}");

    let hover = client.request_ok("textDocument/hover", at(text, "start="));
    let markdown = hover["contents"]["value"].as_str().unwrap();
    assert!(
        markdown.starts_with("**Parameter `start`**: `datetime`, default `-7`"),
        "{markdown}"
    );

    let help = client.request_ok("textDocument/signatureHelp", at(text, "ago("));
    let signature = &help["signatures"][0];
    let label = signature["label"].as_str().unwrap();
    assert!(
        label.starts_with("WindowsSecurity.list_host_logons(host_name: str, "),
        "{label}"
    );
    let active = help["activeParameter"].as_u64().unwrap() as usize;
    let offsets = &signature["parameters"][active]["label"];
    let start = offsets[0].as_u64().unwrap() as usize;
    assert!(
        label[start..].starts_with("start: datetime"),
        "{label} {offsets}"
    );
}

#[test]
fn template_call_completion() {
    let text = "WindowsSecurity.\n\nDemoHunt.signins_from_ip(ip_address=\"203.0.113.77\", )\n\nDem";
    let mut client = open(text);
    let labels = |result: Value| -> Vec<String> {
        let items = match &result {
            Value::Array(items) => items.clone(),
            other => other["items"].as_array().cloned().unwrap_or_default(),
        };
        items
            .iter()
            .map(|item| item["label"].as_str().unwrap().to_owned())
            .collect()
    };

    let after_dot = labels(client.request_ok(
        "textDocument/completion",
        json!({ "textDocument": { "uri": URI }, "position": { "line": 0, "character": 16 } }),
    ));
    assert!(
        after_dot.contains(&"list_host_logons".to_owned()),
        "{after_dot:?}"
    );
    assert!(
        !after_dot.contains(&"SecurityEvent".to_owned()),
        "{after_dot:?}"
    );

    let parameters = labels(client.request_ok(
        "textDocument/completion",
        json!({ "textDocument": { "uri": URI }, "position": { "line": 2, "character": 51 } }),
    ));
    assert_eq!(
        parameters,
        ["start", "end", "add_query_items"],
        "{parameters:?}"
    );

    let families = labels(client.request_ok(
        "textDocument/completion",
        json!({ "textDocument": { "uri": URI }, "position": { "line": 4, "character": 3 } }),
    ));
    assert!(families.contains(&"DemoHunt".to_owned()), "{families:?}");
    assert!(
        families.contains(&"SecurityEvent".to_owned()),
        "{families:?}"
    );
}

fn run_query(client: &mut LspClient, argument: Value) -> Result<Value, Value> {
    client.request(
        "workspace/executeCommand",
        json!({ "command": "quarry.runQuery", "arguments": [argument] }),
    )
}

#[test]
fn run_query_expands_template_call() {
    let text = "DemoHunt.successful_logons_from_ip(ip_address=\"203.0.113.77\")\n| project TargetUserName, Computer";
    let mut client = open(text);
    let result = run_query(
        &mut client,
        json!({ "uri": URI, "position": position_of(text, "project") }),
    )
    .unwrap_or_else(|error| panic!("run failed: {error}\n{}", client.stderr()));
    let query = result["query"].as_str().unwrap();
    assert!(
        query.starts_with("SecurityEvent\n| where TimeGenerated between"),
        "{query}"
    );
    assert!(!query.contains("DemoHunt"), "{query}");
    let rows = result["rows"].as_array().unwrap();
    assert!(!rows.is_empty(), "{result}");
    assert!(
        rows.iter().any(|row| row[0] == "jordan.lee"),
        "the spray's successful logon is found: {result}"
    );
}

#[test]
fn run_query_rejects_unexpandable_call() {
    let text = "WindowsSecurity.list_host_logons(start=ago(1d)) | take 1";
    let mut client = open(text);
    let error = run_query(
        &mut client,
        json!({ "uri": URI, "position": position_of(text, "take") }),
    )
    .unwrap_err();
    assert_eq!(error["code"], -32803);
    assert!(
        error["message"].as_str().unwrap().contains("host_name"),
        "{error}"
    );
    assert_eq!(
        error["data"]["range"]["start"],
        position_of(text, "list_host_logons")
    );

    let error = run_query(
        &mut client,
        json!({ "query": "SplunkHunting.list_sudo_commands_for_host(host_name=\"a\")" }),
    )
    .unwrap_err();
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("Splunk template"),
        "{error}"
    );
}

/// Returns the LSP range of the last occurrence of `needle` in `text`.
fn range_of_last(text: &str, needle: &str) -> Value {
    let position_at = |offset: usize| {
        let before = &text[..offset];
        let line_start = before.rfind('\n').map_or(0, |index| index + 1);
        json!({
            "line": before.matches('\n').count(),
            "character": before[line_start..].encode_utf16().count(),
        })
    };
    let start = text.rfind(needle).expect("needle in the text");
    json!({ "start": position_at(start), "end": position_at(start + needle.len()) })
}

#[test]
fn run_error_after_call_maps_back() {
    let text =
        "DemoHunt.successful_logons_from_ip(ip_address=\"203.0.113.77\")\n| project NoSuchColumn";
    let mut client = open(text);
    let error = run_query(
        &mut client,
        json!({ "uri": URI, "position": position_of(text, "project") }),
    )
    .unwrap_err();
    assert!(
        error["message"].as_str().unwrap().contains("NoSuchColumn"),
        "{error}"
    );
    assert_eq!(
        error["data"]["range"],
        range_of_last(text, "NoSuchColumn"),
        "{error}"
    );

    // A query passed as text maps back to that text.
    let error = run_query(&mut client, json!({ "query": text })).unwrap_err();
    assert_eq!(
        error["data"]["range"],
        range_of_last(text, "NoSuchColumn"),
        "{error}"
    );
}

#[test]
fn run_error_in_argument_maps_back() {
    let text =
        "DemoHunt.failed_logon_sources(top_count=3, add_query_items=\"| project NoSuchColumn\")";
    let mut client = open(text);
    let error = run_query(
        &mut client,
        json!({ "uri": URI, "position": position_of(text, "failed") }),
    )
    .unwrap_err();
    assert!(
        error["message"].as_str().unwrap().contains("NoSuchColumn"),
        "{error}"
    );
    // The bad name is in the user's argument, which the range shows, so no template is named.
    assert!(
        !error["message"].as_str().unwrap().contains("in template"),
        "{error}"
    );
    assert_eq!(
        error["data"]["range"],
        range_of_last(text, "NoSuchColumn"),
        "{error}"
    );
}

#[test]
fn run_error_in_template_maps_to_call() {
    let folder = scratch_folder("failing-templates");
    std::fs::write(
        folder.join("failing.yaml"),
        "metadata:\n  version: 1\n  description: Templates the local engine rejects\n  data_environments: [LocalData]\n  data_families: [Failing]\nsources:\n  reduce_messages:\n    description: Groups messages with an operator the local engine lacks\n    args:\n      query: 'SecurityEvent | where Computer has \"{host}\" | reduce by Activity'\n    parameters:\n      host:\n        description: Host name\n        type: str\n",
    )
    .unwrap();
    let options = json!({ "templateFolders": [folder.to_str().unwrap()] });
    let mut client = LspClient::start(options);
    let text = "let n = 1;\nFailing.reduce_messages(host=\"web01\")\n| take n";
    client.did_open(URI, text);
    let error = run_query(
        &mut client,
        json!({ "uri": URI, "position": position_of(text, "take") }),
    )
    .unwrap_err();
    assert!(
        error["message"].as_str().unwrap().contains("reduce"),
        "{error}"
    );
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .ends_with("(in template Failing.reduce_messages)"),
        "{error}"
    );
    assert_eq!(
        error["data"]["range"],
        range_of_last(text, "Failing.reduce_messages(host=\"web01\")"),
        "{error}"
    );
}

#[test]
fn demo_templates_return_rows() {
    let mut client = LspClient::start(Value::Null);
    let listing = client.request_ok("quarry/listTemplates", json!({}));
    let demo = listing["families"]
        .as_array()
        .unwrap()
        .iter()
        .find(|family| family["name"] == "DemoHunt")
        .expect("DemoHunt family");
    let templates = demo["templates"].as_array().unwrap();
    assert!(templates.len() >= 10, "{} demo templates", templates.len());
    for template in templates {
        let name = template["qualifiedName"].as_str().unwrap();
        let result = run_query(&mut client, json!({ "query": format!("{name}()") }))
            .unwrap_or_else(|error| panic!("{name} failed on the demo dataset: {error}"));
        assert!(
            result["rowCount"].as_u64().unwrap() > 0,
            "{name} returns no rows: {}",
            result["query"]
        );
    }
}

#[test]
fn expand_template_code_action() {
    let text = "DemoHunt.signins_from_ip(ip_address=\"203.0.113.77\")\n| take 3";
    let mut client = open(text);
    let actions = client.request_ok(
        "textDocument/codeAction",
        json!({
            "textDocument": { "uri": URI },
            "range": { "start": position_of(text, "signins"), "end": position_of(text, "signins") },
            "context": { "diagnostics": [], "only": ["refactor.inline"] }
        }),
    );
    let actions = actions.as_array().unwrap();
    assert_eq!(actions.len(), 1, "{actions:?}");
    let action = &actions[0];
    assert_eq!(action["title"], "Expand template DemoHunt.signins_from_ip");
    assert_eq!(action["kind"], "refactor.inline");
    let edit = &action["edit"]["changes"][URI][0];
    assert_eq!(edit["range"]["start"], position_of(text, "DemoHunt"));
    assert_eq!(edit["range"]["end"], position_of(text, "\n| take"));
    let new_text = edit["newText"].as_str().unwrap();
    assert!(
        new_text.starts_with("SigninLogs\n| where TimeGenerated between (datetime("),
        "{new_text}"
    );
    assert!(
        new_text.contains("| where IPAddress == \"203.0.113.77\""),
        "{new_text}"
    );

    let quick_fixes_only = client.request_ok(
        "textDocument/codeAction",
        json!({
            "textDocument": { "uri": URI },
            "range": { "start": position_of(text, "signins"), "end": position_of(text, "signins") },
            "context": { "diagnostics": [], "only": ["quickfix"] }
        }),
    );
    assert_eq!(quick_fixes_only, json!([]));
}

#[test]
fn sentinel_rule_yaml_gets_kql_diagnostics_and_hover() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/sentinel/broken_rule.yaml");
    let text = std::fs::read_to_string(path).unwrap();
    let uri = "file:///rules/broken_rule.yaml";
    let mut client = LspClient::start(Value::Null);
    client.did_open(uri, &text);
    let diagnostics = client.wait_for_diagnostics(uri, 1);
    let codes: Vec<&str> = diagnostics
        .iter()
        .map(|diagnostic| diagnostic["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&"TPL100"), "{diagnostics:#?}");
    let kql = diagnostics
        .iter()
        .find(|diagnostic| diagnostic["code"].as_str().unwrap().starts_with("KQL"))
        .unwrap_or_else(|| panic!("no KQL diagnostic: {diagnostics:#?}"));
    let line = kql["range"]["start"]["line"].as_u64().unwrap();
    assert!((9..=10).contains(&line), "{kql}");

    let hover = client.request_ok(
        "textDocument/hover",
        json!({ "textDocument": { "uri": uri }, "position": position_of(&text, "Persistence") }),
    );
    let markdown = hover["contents"]["value"].as_str().unwrap();
    assert!(markdown.contains("Rule with a KQL error"), "{markdown}");
}

#[test]
fn template_yaml_field_hover() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../queries/demo/demo_hunt.yaml");
    let text = std::fs::read_to_string(path).unwrap();
    let uri = "file:///queries/demo_hunt.yaml";
    let mut client = LspClient::start(Value::Null);
    client.did_open(uri, &text);
    let diagnostics = client.wait_for_diagnostics(uri, 1);
    assert_eq!(
        diagnostics,
        Vec::<Value>::new(),
        "the library file has no problems"
    );
    let hover = client.request_ok(
        "textDocument/hover",
        json!({ "textDocument": { "uri": uri }, "position": position_of(&text, "top_count}") }),
    );
    let markdown = hover["contents"]["value"].as_str().unwrap();
    assert!(
        markdown.starts_with("**Parameter `top_count`**: `int`, default `5`"),
        "{markdown}"
    );
}

#[test]
fn sentinel_queries_load_from_template_folders() {
    let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/sentinel")
        .canonicalize()
        .unwrap();
    let options = json!({ "templateFolders": [folder.to_str().unwrap()] });
    let mut client = LspClient::start(options);
    let listing = client.request_ok("quarry/listTemplates", json!({}));
    let spray = find_template(&listing, "SentinelHunting", "password_spray_hunting");
    assert_eq!(spray["pivotEntities"], json!(["IpAddress"]));
    assert_eq!(spray["parameters"], json!([]));
    let rule = find_template(&listing, "SentinelAnalytics", "encoded_powershell_rule");
    assert_eq!(rule["pivotEntities"], json!(["Host", "Account"]));

    let text = "SentinelHunting.password_spray_hunting()\n| take 10";
    client.did_open(URI, text);
    let diagnostics = client.wait_for_diagnostics(URI, 1);
    assert_eq!(diagnostics, Vec::<Value>::new());
    let actions = client.request_ok(
        "textDocument/codeAction",
        json!({
            "textDocument": { "uri": URI },
            "range": { "start": position_of(text, "password"), "end": position_of(text, "password") },
            "context": { "diagnostics": [], "only": ["refactor.inline"] }
        }),
    );
    let new_text = actions[0]["edit"]["changes"][URI][0]["newText"]
        .as_str()
        .unwrap();
    assert!(
        new_text.starts_with("let lookback = 1d;\nlet failures = SigninLogs"),
        "{new_text}"
    );
}
