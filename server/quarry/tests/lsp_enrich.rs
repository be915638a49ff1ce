//! `quarry/enrich` in `quarry lsp`: every indicator of a text with its address type, GeoIP
//! location (from a database the test writes) and the verdict of a fake VirusTotal API on
//! 127.0.0.1 that responds slowly. Private addresses and internal names never reach the fake API,
//! and bad parameters get an error that names the value.

mod lsp_client;

#[path = "../../enrichment/tests/common/mod.rs"]
mod ti_common;

use std::path::Path;
use std::time::Duration;

use lsp_client::LspClient;
use quarry_enrichment::mmdb_writer::{MmdbValue, MmdbWriter};
use serde_json::{Value, json};
use ti_common::{FakeServer, Response, temp_dir};

/// Writes a city database with one network, 81.2.69.0/24, placed in Lisbon.
fn write_geo_database(path: &Path) {
    let mut writer = MmdbWriter::new("GeoLite2-City", "enrich request test", 1_700_000_000);
    let english = |text: &str| MmdbValue::map([("en", MmdbValue::string(text))]);
    let record = MmdbValue::map([
        ("city", MmdbValue::map([("names", english("Lisbon"))])),
        (
            "country",
            MmdbValue::map([
                ("iso_code", MmdbValue::string("PT")),
                ("names", english("Portugal")),
            ]),
        ),
        (
            "location",
            MmdbValue::map([
                ("latitude", MmdbValue::Double(38.72)),
                ("longitude", MmdbValue::Double(-9.14)),
            ]),
        ),
    ]);
    writer
        .insert("81.2.69.0".parse().unwrap(), 24, &record)
        .unwrap();
    std::fs::write(path, writer.to_bytes().unwrap()).unwrap();
}

fn write_enrichment_toml(dir: &Path, base_url: &str) {
    let database = dir.join("geo.mmdb");
    write_geo_database(&database);
    std::fs::write(
        dir.join("enrichment.toml"),
        format!(
            "[geoip]\ndatabases = [\"{}\"]\nmsticpy = false\nuser_cache = false\n\n\
             [ti.privacy]\ninternal_domains = [\"ad.example.org\"]\n\n\
             [ti.providers.virustotal]\napi_key = \"vt-enrich-test\"\nbase_url = \"{base_url}\"\n\
             requests_per_minute = 6000\nburst = 100\n",
            database.display()
        ),
    )
    .unwrap();
}

fn spawn(dir: &Path) -> LspClient {
    let config = dir.join("config");
    std::fs::create_dir_all(&config).unwrap();
    let mut client = LspClient::spawn_with_env(&[
        ("HOME", dir.to_str().unwrap()),
        ("QUARRY_CACHE_DIR", dir.join("cache").to_str().unwrap()),
        ("QUARRY_CONFIG_DIR", config.to_str().unwrap()),
        ("MSTICPYCONFIG", dir.join("none.yaml").to_str().unwrap()),
    ]);
    let root = url::Url::from_directory_path(dir).unwrap().to_string();
    client.request_ok(
        "initialize",
        json!({
            "processId": std::process::id(),
            "rootUri": root,
            "workspaceFolders": [{"uri": root, "name": "enrich"}],
            "capabilities": {},
        }),
    );
    client.notify("initialized", json!({}));
    client
}

fn by_value<'a>(answer: &'a Value, value: &str) -> &'a Value {
    answer["indicators"]
        .as_array()
        .unwrap()
        .iter()
        .find(|entry| entry["value"] == value)
        .unwrap_or_else(|| panic!("`{value}` missing from {answer}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enrich_waits_and_guards_private() {
    let dir = temp_dir("lsp-enrich");
    // The response takes longer than a hover waits, so the request must wait for it.
    let server = FakeServer::start(|request| {
        if request.target.contains("/api/v3/") {
            Response::json(
                200,
                json!({"data": {"attributes": {"last_analysis_stats": {"malicious": 9, "harmless": 50, "undetected": 3}}}}),
            )
            .with_delay(Duration::from_millis(900))
        } else {
            Response::json(404, json!({}))
        }
    })
    .await;
    write_enrichment_toml(&dir, &server.base_url);

    let answer = tokio::task::spawn_blocking(move || {
        let mut client = spawn(&dir);
        let text = "81.2.69.23 talked to 10.20.30.40 and files.ad.example.org; again 81.2.69.23";
        let answer = client.request_ok("quarry/enrich", json!({"text": text}));
        client.shutdown();
        answer
    })
    .await
    .unwrap();

    let indicators = answer["indicators"].as_array().unwrap();
    assert_eq!(
        indicators.len(),
        3,
        "duplicates are looked up once: {answer}"
    );
    assert_eq!(answer["truncated"], false);

    let public = by_value(&answer, "81.2.69.23");
    assert_eq!(public["type"], "ipv4");
    assert_eq!(public["ipType"], "public", "{public}");
    assert_eq!(public["location"]["city"], "Lisbon", "{public}");
    assert_eq!(public["location"]["country_code"], "PT", "{public}");
    assert_eq!(public["location"]["latitude"], 38.72, "{public}");
    assert_eq!(public["pending"], json!([]), "{public}");
    let verdict = &public["results"][0];
    assert_eq!(verdict["provider"], "VirusTotal", "{public}");
    assert_eq!(verdict["verdict"], "malicious", "{public}");
    assert!(
        verdict["reference"]
            .as_str()
            .is_some_and(|link| link.starts_with("https://")),
        "{verdict}"
    );

    let private = by_value(&answer, "10.20.30.40");
    assert_eq!(private["ipType"], "private", "{private}");
    assert_eq!(private["results"][0]["status"], "blocked", "{private}");
    let internal = by_value(&answer, "files.ad.example.org");
    assert_eq!(internal["type"], "dns");
    assert_eq!(internal["results"][0]["status"], "blocked", "{internal}");

    let targets: Vec<String> = server.requests().into_iter().map(|r| r.target).collect();
    assert_eq!(server.hits("/api/v3/"), 1, "{targets:?}");
    assert!(
        targets
            .iter()
            .all(|target| !target.contains("10.20.30.40") && !target.contains("ad.example.org")),
        "a private value reached the provider: {targets:?}"
    );
}

#[test]
fn enrich_invalid_params_and_limits() {
    let dir = temp_dir("lsp-enrich-errors");
    let mut client = spawn(&dir);

    let error = client
        .request(
            "quarry/enrich",
            json!({"text": "1.2.3.4", "waitMs": 999_999}),
        )
        .unwrap_err();
    assert_eq!(error["code"], -32602, "{error}");
    assert!(
        error["message"].as_str().unwrap().contains("999999"),
        "{error}"
    );

    let error = client
        .request("quarry/enrich", json!({"txt": "1.2.3.4"}))
        .unwrap_err();
    assert_eq!(error["code"], -32602, "{error}");

    let none = client.request_ok("quarry/enrich", json!({"text": "no indicators here"}));
    assert_eq!(none["indicators"], json!([]), "{none}");

    let many: Vec<String> = (1..=60).map(|n| format!("203.0.113.{n}")).collect();
    let cut = client.request_ok(
        "quarry/enrich",
        json!({"text": many.join(" "), "waitMs": 0}),
    );
    assert_eq!(cut["indicators"].as_array().unwrap().len(), 50, "{cut}");
    assert_eq!(cut["truncated"], true);
    assert_eq!(cut["indicators"][0]["tiConfigured"], false, "{cut}");
    client.shutdown();
}
