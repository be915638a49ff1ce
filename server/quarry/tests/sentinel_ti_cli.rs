//! A Sentinel workspace's threat-indicator tables (`ThreatIntelIndicators` and the older
//! `ThreatIntelligenceIndicator`) as a threat-intelligence source of `quarry enrich`, against a
//! fake Log Analytics API on 127.0.0.1.

#[path = "../../providers/tests/common/mod.rs"]
mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::{FakeServer, Reply};
use serde_json::{Value, json};

const TOKEN: &str = "sentinel-ti-secret-83d1";

fn indicator_table(rows: Value) -> Value {
    json!({"tables": [{
        "name": "PrimaryResult",
        "columns": [
            {"name": "TimeGenerated", "type": "datetime"},
            {"name": "IndicatorId", "type": "string"},
            {"name": "ThreatType", "type": "string"},
            {"name": "Description", "type": "string"},
            {"name": "ConfidenceScore", "type": "int"},
            {"name": "Action", "type": "string"}
        ],
        "rows": rows
    }]})
}

fn workspace(name: &str, server: &FakeServer) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("quarry-sentinel-ti-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let connections = format!(
        "[connections.sentinel]\nkind = \"log-analytics\"\nworkspace-id = \"ws-ti\"\nendpoint = \"{}\"\n\
         auth = {{ method = \"token\", token = {{ env = \"REMOTE_TOKEN\" }} }}\n",
        server.url()
    );
    std::fs::write(dir.join("quarry.toml"), connections).unwrap();
    std::fs::write(
        dir.join("enrichment.toml"),
        "[ti]\ncache = false\n\n[ti.sentinel]\nconnection = \"sentinel\"\nlookback_days = 14\n",
    )
    .unwrap();
    dir
}

async fn enrich(dir: &Path, iocs: &[&str]) -> Output {
    let mut args = vec![
        "enrich",
        "--config",
        "enrichment.toml",
        "--no-geoip",
        "--format",
        "json",
    ];
    args.extend_from_slice(iocs);
    let args: Vec<String> = args.into_iter().map(str::to_owned).collect();
    let dir = dir.to_path_buf();
    tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_quarry"))
            .args(&args)
            .current_dir(&dir)
            .env("HOME", &dir)
            .env("QUARRY_CACHE_DIR", dir.join("cache"))
            .env("REMOTE_TOKEN", TOKEN)
            .env_remove("MSTICPYCONFIG")
            .output()
            .expect("run quarry")
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn sentinel_indicator_found_and_not_found() {
    let server = FakeServer::start(|request, _| {
        let query = request.json()["query"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        if query.contains("185.220.101.4") {
            Reply::json(
                200,
                &indicator_table(json!([[
                    "2024-03-01T10:00:00Z",
                    "ind-1",
                    "Botnet",
                    "C2 <b>server</b>",
                    90,
                    "alert"
                ]])),
            )
        } else {
            Reply::json(200, &indicator_table(json!([])))
        }
    })
    .await;
    let dir = workspace("found", &server);
    let output = enrich(&dir, &["185.220.101.4", "clean.example.com"]).await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let results: Value = serde_json::from_slice(&output.stdout).unwrap();

    let found = &results[0]["threat_intel"][0];
    assert_eq!(found["provider"], "SentinelTI", "{results}");
    assert_eq!(found["status"], "ok");
    assert_eq!(found["severity"], "high");
    assert_eq!(found["verdict"], "malicious");
    assert_eq!(found["details"]["indicators"][0]["ThreatType"], "Botnet");

    let missing = &results[1]["threat_intel"][0];
    assert_eq!(missing["provider"], "SentinelTI");
    assert_eq!(missing["status"], "not_found", "{results}");

    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    let first = requests
        .iter()
        .map(|request| request.json())
        .find(|body| body["query"].as_str().unwrap().contains("185.220.101.4"))
        .unwrap();
    let query = first["query"].as_str().unwrap();
    assert!(query.starts_with("union isfuzzy=true"), "{query}");
    assert!(query.contains("(ThreatIntelligenceIndicator\n"), "{query}");
    assert!(query.contains("(ThreatIntelIndicators\n"), "{query}");
    assert!(query.contains(r#"NetworkIP == "185.220.101.4""#), "{query}");
    assert!(
        query.contains(r#"ObservableValue == "185.220.101.4""#),
        "{query}"
    );
    assert_eq!(first["timespan"], "PT1209600S");
    assert!(!stderr.contains(TOKEN));
}

#[tokio::test(flavor = "multi_thread")]
async fn sentinel_unknown_connection_named() {
    let server = FakeServer::start(|_, _| Reply::json(500, &json!({}))).await;
    let dir = workspace("unknown", &server);
    std::fs::write(
        dir.join("enrichment.toml"),
        "[ti.sentinel]\nconnection = \"missing\"\n",
    )
    .unwrap();
    let output = enrich(&dir, &["185.220.101.4"]).await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("[ti.sentinel] connection"), "{stderr}");
    assert!(stderr.contains("`missing`"), "{stderr}");
    assert!(server.requests().is_empty());
}

/// Rows of the STIX-based table carry an empty `Action`, so the confidence score alone sets
/// the severity.
#[tokio::test(flavor = "multi_thread")]
async fn sentinel_stix_table_rows() {
    let server = FakeServer::start(|request, _| {
        let query = request.json()["query"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let confidence = if query.contains("evil-example.com") {
            85
        } else {
            40
        };
        Reply::json(
            200,
            &indicator_table(json!([[
                "2026-11-01T10:00:00Z",
                "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
                "malicious-activity",
                "Phishing landing page",
                confidence,
                ""
            ]])),
        )
    })
    .await;
    let dir = workspace("stix", &server);
    let output = enrich(&dir, &["evil-example.com", "odd-example.com"]).await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let results: Value = serde_json::from_slice(&output.stdout).unwrap();

    let confident = &results[0]["threat_intel"][0];
    assert_eq!(confident["status"], "ok", "{results}");
    assert_eq!(confident["severity"], "high", "{results}");
    let unsure = &results[1]["threat_intel"][0];
    assert_eq!(unsure["severity"], "warning", "{results}");

    let queries: Vec<String> = server
        .requests()
        .iter()
        .map(|request| request.json()["query"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(queries.len(), 2);
    for query in &queries {
        assert!(
            query.contains(r#"ObservableKey startswith "domain-name:""#),
            "{query}"
        );
        assert!(query.contains("IsActive == true"), "{query}");
    }
}
