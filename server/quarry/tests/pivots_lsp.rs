//! `quarry/pivots` and `quarry.pivot` in `quarry lsp`, with a template folder the test writes:
//! listing by entity, the cursor form, rendering with escaping, and a run on the demo dataset.

mod lsp_client;

use std::path::PathBuf;

use lsp_client::{LspClient, position_of};
use serde_json::{Value, json};

const URI: &str = "file:///hunt/pivots.kql";
const DOCUMENT: &str = "SecurityEvent\n| where IpAddress == \"185.220.101.4\"\n";

const TEMPLATES: &str = r#"
metadata:
  version: 1
  description: Pivot tests
  data_environments: [MSSentinel]
  data_families: [PivotTest]
sources:
  logons_from_ip:
    description: Counts logon events from an address
    args:
      query: 'SecurityEvent | where IpAddress == "{ip_address}" | summarize Events = count()'
    parameters:
      ip_address:
        description: The source address
        type: str
  host_heartbeat:
    description: Heartbeats of one computer
    metadata:
      pivot:
        direct_func_entities: [Host]
    args:
      query: 'Heartbeat | where Computer =~ "{computer}"'
    parameters:
      computer:
        description: The computer name
        type: str
"#;

fn template_folder(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("quarry-pivots-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("pivot_tests.yaml"), TEMPLATES).unwrap();
    dir
}

fn start(name: &str) -> LspClient {
    let folder = template_folder(name);
    LspClient::start_with_env(
        json!({}),
        &[("QUARRY_TEMPLATE_PATH", folder.to_str().unwrap())],
    )
}

fn templates_of(result: &Value) -> Vec<String> {
    result["pivots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|pivot| pivot["template"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn pivots_by_value_and_entity() {
    let mut client = start("list");
    let by_ip = client.request_ok("quarry/pivots", json!({"value": "185.220.101.4"}));
    assert_eq!(by_ip["entity"], "IpAddress");
    assert!(
        templates_of(&by_ip).contains(&"PivotTest.logons_from_ip".to_owned()),
        "{by_ip}"
    );
    let pivot = by_ip["pivots"]
        .as_array()
        .unwrap()
        .iter()
        .find(|pivot| pivot["template"] == "PivotTest.logons_from_ip")
        .unwrap();
    assert_eq!(pivot["parameter"], "ip_address");
    assert_eq!(pivot["dialect"], "kql");

    let by_host = client.request_ok("quarry/pivots", json!({"value": "WS-17", "entity": "Host"}));
    assert!(
        templates_of(&by_host).contains(&"PivotTest.host_heartbeat".to_owned()),
        "{by_host}"
    );
    assert!(!templates_of(&by_host).contains(&"PivotTest.logons_from_ip".to_owned()));

    let unknown = client
        .request("quarry/pivots", json!({"value": "not an indicator"}))
        .unwrap_err();
    assert_eq!(unknown["code"], -32602, "{unknown}");
    assert!(
        unknown["message"].as_str().unwrap().contains("entity"),
        "{unknown}"
    );
    client.shutdown();
}

#[test]
fn pivots_under_cursor() {
    let mut client = start("cursor");
    client.did_open(URI, DOCUMENT);
    let result = client.request_ok(
        "quarry/pivots",
        json!({"uri": URI, "position": position_of(DOCUMENT, "220.101")}),
    );
    assert_eq!(result["value"], "185.220.101.4");
    assert_eq!(result["entity"], "IpAddress");

    let nothing = client.request_ok(
        "quarry/pivots",
        json!({"uri": URI, "position": position_of(DOCUMENT, "where")}),
    );
    assert!(nothing.is_null(), "{nothing}");
    client.shutdown();
}

#[test]
fn pivot_renders_escaped_and_runs() {
    let mut client = start("render");
    let hostile = r#"1.2.3.4" or 1==1 //"#;
    let rendered = client.request_ok(
        "workspace/executeCommand",
        json!({"command": "quarry.pivot", "arguments": [{
            "template": "PivotTest.logons_from_ip",
            "value": hostile,
            "entity": "IpAddress",
        }]}),
    );
    assert_eq!(
        rendered["query"],
        r#"SecurityEvent | where IpAddress == "1.2.3.4\" or 1==1 //" | summarize Events = count()"#
    );
    assert_eq!(rendered["parameter"], "ip_address");

    let ran = client.request_ok(
        "workspace/executeCommand",
        json!({"command": "quarry.pivot", "arguments": [{
            "template": "PivotTest.logons_from_ip",
            "value": hostile,
            "entity": "IpAddress",
            "run": true,
        }]}),
    );
    assert_eq!(ran["source"], "demo", "{ran}");
    assert_eq!(ran["template"], "PivotTest.logons_from_ip");
    assert_eq!(
        ran["rows"],
        json!([[0]]),
        "the hostile value matched rows: {ran}"
    );

    let wrong = client
        .request(
            "workspace/executeCommand",
            json!({"command": "quarry.pivot", "arguments": [{
                "template": "PivotTest.host_heartbeat",
                "value": "185.220.101.4",
            }]}),
        )
        .unwrap_err();
    assert_eq!(wrong["code"], -32602, "{wrong}");
    assert!(
        wrong["message"].as_str().unwrap().contains("IpAddress"),
        "{wrong}"
    );
    client.shutdown();
}
