//! `quarry.runPivotPipeline` in `quarry lsp`: a pipeline given as text runs on the demo
//! dataset with a template folder the test writes.

mod lsp_client;

use lsp_client::LspClient;
use serde_json::json;

const TEMPLATES: &str = r#"
metadata:
  version: 1
  description: Pipeline tests
  data_environments: [MSSentinel]
  data_families: [PipelineTest]
sources:
  failed_logons_from_ip:
    description: Failed logons from one address by account
    args:
      query: 'SecurityEvent | where EventID == 4625 and IpAddress == "{ip_address}" | summarize Failures = count() by TargetUserName, IpAddress'
    parameters:
      ip_address:
        description: The source address
        type: str
"#;

const PIPELINE: &str = r#"
parameters:
  ip: 127.0.0.1
steps:
  - name: accounts
    template: PipelineTest.failed_logons_from_ip
    parameters:
      ip_address: $ip
  - enrich:
      column: IpAddress
  - filter:
      column: IpAddress_IpType
      equals: documentation
"#;

fn start(name: &str) -> LspClient {
    let dir =
        std::env::temp_dir().join(format!("quarry-pipeline-lsp-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("templates")).unwrap();
    std::fs::create_dir_all(dir.join("config")).unwrap();
    std::fs::write(dir.join("templates/pipeline_tests.yaml"), TEMPLATES).unwrap();
    LspClient::start_with_env(
        json!({}),
        &[
            ("HOME", dir.to_str().unwrap()),
            (
                "QUARRY_TEMPLATE_PATH",
                dir.join("templates").to_str().unwrap(),
            ),
            ("QUARRY_CACHE_DIR", dir.join("cache").to_str().unwrap()),
            ("QUARRY_CONFIG_DIR", dir.join("config").to_str().unwrap()),
        ],
    )
}

#[test]
fn pipeline_command_runs_text() {
    let mut client = start("text");
    let result = client.request_ok(
        "workspace/executeCommand",
        json!({
            "command": "quarry.runPivotPipeline",
            "arguments": [{"text": PIPELINE, "parameters": {"ip": "203.0.113.77"}}],
        }),
    );
    let rows = result["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 45, "{result}");
    assert_eq!(result["columns"][4], "IpAddress_Country");
    assert_eq!(result["steps"][0]["name"], "accounts");
    assert_eq!(result["steps"][2]["name"], "step3");

    let loopback = client.request_ok(
        "workspace/executeCommand",
        json!({"command": "quarry.runPivotPipeline", "arguments": [{"text": PIPELINE}]}),
    );
    assert_eq!(loopback["steps"][2]["rows"], 0, "{loopback}");
    assert!(
        loopback["steps"][0]["rows"].as_u64().unwrap() > 0,
        "{loopback}"
    );
    client.shutdown();
}

#[test]
fn pipeline_command_errors() {
    let mut client = start("errors");
    let missing = client
        .request(
            "workspace/executeCommand",
            json!({"command": "quarry.runPivotPipeline", "arguments": [{}]}),
        )
        .unwrap_err();
    assert!(
        missing["message"]
            .as_str()
            .unwrap()
            .contains("needs `path`"),
        "{missing}"
    );

    let bad_step = client
        .request(
            "workspace/executeCommand",
            json!({
                "command": "quarry.runPivotPipeline",
                "arguments": [{"text": "steps:\n  - sort: {column: x}\n"}],
            }),
        )
        .unwrap_err();
    assert!(
        bad_step["message"]
            .as_str()
            .unwrap()
            .contains("has no action"),
        "{bad_step}"
    );
    client.shutdown();
}
