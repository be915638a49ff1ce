//! Hover on indicators in `quarry lsp`: GeoIP from a database the test writes, and threat
//! intelligence from fake VirusTotal and OTX APIs on 127.0.0.1. A slow provider is reported as
//! pending, then returned from the cache. The tests also cover the privacy guard and an API key
//! handed over with `quarry/setSecret` that never reaches the log.

mod lsp_client;

#[path = "../../enrichment/tests/common/mod.rs"]
mod ti_common;

use std::net::IpAddr;
use std::path::Path;
use std::time::Duration;

use lsp_client::{LspClient, position_of};
use quarry_enrichment::mmdb_writer::{MmdbValue, MmdbWriter};
use serde_json::json;
use ti_common::{FakeServer, Response, temp_dir};

const VT_KEY: &str = "vt-key-from-editor-5d21";
const URI: &str = "file:///hunt/hover.kql";
const DOCUMENT: &str = "// beacon to 185.220.101.4, seen from 10.1.2.3\nSigninLogs\n| where IPAddress == \"185.220.101.4\" or HostName == \"dc01.corp.example.com\"\n| where Url has \"hxxp://evil[.]example/x\"\n";

/// Writes a city database that puts 185.220.101.0/24 in Testville, Germany.
fn write_city_db(path: &Path) {
    let mut writer = MmdbWriter::new("GeoLite2-City", "hover test database", 1_700_000_000);
    let names =
        |text: &str| MmdbValue::map([("names", MmdbValue::map([("en", MmdbValue::string(text))]))]);
    let record = MmdbValue::map([
        ("city", names("Testville")),
        (
            "country",
            MmdbValue::map([
                ("iso_code", MmdbValue::string("DE")),
                (
                    "names",
                    MmdbValue::map([("en", MmdbValue::string("Germany"))]),
                ),
            ]),
        ),
    ]);
    let network: IpAddr = "185.220.101.0".parse().unwrap();
    writer.insert(network, 24, &record).unwrap();
    std::fs::write(path, writer.to_bytes().unwrap()).unwrap();
}

/// Starts fake APIs: VirusTotal flags every indicator at once, and OTX replies after `otx_delay`.
async fn fake_ti(otx_delay: Duration) -> FakeServer {
    FakeServer::start(move |request| {
        if request.target.contains("/api/v3/") {
            Response::json(
                200,
                json!({"data": {"attributes": {"last_analysis_stats": {"malicious": 12, "harmless": 60, "undetected": 18}}}}),
            )
        } else if request.target.contains("/api/v1/indicators/") {
            Response::json(
                200,
                json!({"pulse_info": {"count": 1, "pulses": [{"name": "Tor exit <script>", "tags": ["tor"]}]}}),
            )
            .with_delay(otx_delay)
        } else {
            Response::json(404, json!({}))
        }
    })
    .await
}

fn write_settings(dir: &Path, server: &FakeServer) {
    let database = dir.join("city.mmdb");
    write_city_db(&database);
    let settings = format!(
        r#"[geoip]
databases = ["{database}"]
msticpy = false
user_cache = false

[ti.privacy]
internal_domains = ["corp.example.com"]

[ti.providers.virustotal]
api_key_keyring = "vt-key"
base_url = "{base}"
requests_per_minute = 6000
burst = 100

[ti.providers.otx]
api_key = "otx-test-key"
base_url = "{base}"
requests_per_minute = 6000
burst = 100
"#,
        database = database.display(),
        base = server.base_url,
    );
    std::fs::write(dir.join("enrichment.toml"), settings).unwrap();
}

fn start_server(dir: &Path) -> LspClient {
    let cache = dir.join("cache");
    let config = dir.join("config");
    std::fs::create_dir_all(&config).unwrap();
    let mut client = LspClient::spawn_with_env(&[
        ("HOME", dir.to_str().unwrap()),
        ("QUARRY_CACHE_DIR", cache.to_str().unwrap()),
        ("QUARRY_CONFIG_DIR", config.to_str().unwrap()),
        ("MSTICPYCONFIG", dir.join("absent.yaml").to_str().unwrap()),
    ]);
    let root = url::Url::from_directory_path(dir).unwrap().to_string();
    client.request_ok(
        "initialize",
        json!({
            "processId": std::process::id(),
            "rootUri": root,
            "workspaceFolders": [{"uri": root, "name": "hunt"}],
            "capabilities": {"textDocument": {"hover": {"contentFormat": ["markdown"]}}},
        }),
    );
    client.notify("initialized", json!({}));
    client
}

fn hover_text(client: &mut LspClient, needle: &str) -> String {
    let hover = client.request_ok(
        "textDocument/hover",
        json!({"textDocument": {"uri": URI}, "position": position_of(DOCUMENT, needle)}),
    );
    hover["contents"]["value"]
        .as_str()
        .unwrap_or_else(|| panic!("no Markdown hover at `{needle}`: {hover}"))
        .to_owned()
}

/// Runs the blocking LSP client off the runtime that serves the fake API.
async fn blocking<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(work).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hover_geoip_verdicts_and_pending() {
    let dir = temp_dir("hover-lsp");
    let server = fake_ti(Duration::from_millis(1500)).await;
    write_settings(&dir, &server);

    let (first, second, stderr) = blocking(move || {
        let mut client = start_server(&dir);
        client.request_ok(
            "quarry/setSecret",
            json!({"name": "vt-key", "value": VT_KEY}),
        );
        client.did_open(URI, DOCUMENT);

        let first = hover_text(&mut client, "185.220.101.4\"");
        // The slow provider responds 1.5 s after the first hover. On a loaded machine the result
        // may reach the cache later, so hover again until it is there, for at most 20 s.
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        let mut second;
        loop {
            std::thread::sleep(Duration::from_millis(500));
            second = hover_text(&mut client, "185.220.101.4\"");
            if !second.contains("pending") || std::time::Instant::now() > deadline {
                break;
            }
        }
        let stderr = client.stderr();
        client.shutdown();
        (first, second, stderr)
    })
    .await;

    assert!(first.contains("**ipv4** `185.220.101.4`"), "{first}");
    assert!(first.contains("Address type: public"), "{first}");
    assert!(first.contains("Location: Testville, Germany"), "{first}");
    assert!(
        first.contains("VirusTotal: **malicious** (high)"),
        "{first}"
    );
    assert!(first.contains("OTX: pending"), "{first}");
    assert!(
        first.contains("[report](https://www.virustotal.com/gui/ip-address/185.220.101.4)"),
        "{first}"
    );

    assert!(!second.contains("pending"), "{second}");
    assert!(second.contains("OTX: **"), "{second}");
    assert!(!second.contains("<script>"), "{second}");
    assert_eq!(server.hits("/api/v1/indicators/"), 1, "OTX was asked twice");

    let vt = server
        .requests()
        .into_iter()
        .find(|request| request.target.contains("/api/v3/"))
        .expect("VirusTotal was asked");
    assert_eq!(vt.header("x-apikey"), Some(VT_KEY));
    assert!(!stderr.contains(VT_KEY), "the API key reached the log");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hover_private_and_internal_not_sent() {
    let dir = temp_dir("hover-lsp-private");
    let server = fake_ti(Duration::ZERO).await;
    write_settings(&dir, &server);

    let (private, internal, defanged) = blocking(move || {
        let mut client = start_server(&dir);
        client.request_ok(
            "quarry/setSecret",
            json!({"name": "vt-key", "value": VT_KEY}),
        );
        client.did_open(URI, DOCUMENT);
        let private = hover_text(&mut client, "10.1.2.3");
        let internal = hover_text(&mut client, "dc01.corp");
        let defanged = hover_text(&mut client, "evil[.]example");
        client.shutdown();
        (private, internal, defanged)
    })
    .await;

    assert!(private.contains("Address type: private"), "{private}");
    assert!(
        private.contains("VirusTotal: not sent (privacy guard)"),
        "{private}"
    );
    assert!(
        internal.contains("**dns** `dc01.corp.example.com`"),
        "{internal}"
    );
    assert!(
        internal.contains("OTX: not sent (privacy guard)"),
        "{internal}"
    );
    assert!(
        defanged.contains("**url** `http://evil.example/x` (defanged)"),
        "{defanged}"
    );

    let targets: Vec<String> = server.requests().into_iter().map(|r| r.target).collect();
    assert!(
        targets.iter().all(|target| !target.contains("10.1.2.3")),
        "{targets:?}"
    );
    assert!(
        targets
            .iter()
            .all(|target| !target.contains("corp.example.com")),
        "{targets:?}"
    );
}

#[test]
fn hover_without_indicator_unchanged() {
    let dir = temp_dir("hover-lsp-none");
    let mut client = start_server(&dir);
    client.did_open(URI, DOCUMENT);
    let hover = client.request_ok(
        "textDocument/hover",
        json!({"textDocument": {"uri": URI}, "position": position_of(DOCUMENT, "where")}),
    );
    let text = hover["contents"]["value"].as_str().unwrap_or_default();
    assert!(!text.contains("Threat intelligence"), "{hover}");
    let error = client
        .request("quarry/setSecret", json!({"value": "x"}))
        .unwrap_err();
    assert_eq!(error["code"], -32602, "{error}");
    client.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn late_verdict_republishes_hint() {
    let dir = temp_dir("hover-lsp-late-verdict");
    // VirusTotal calls the address malicious 1.5 s after the request, long after the hover has
    // returned with the verdict pending.
    let server = FakeServer::start(|request| {
        if request.target.contains("/api/v3/") {
            Response::json(
                200,
                json!({"data": {"attributes": {"last_analysis_stats": {"malicious": 12, "harmless": 60, "undetected": 18}}}}),
            )
            .with_delay(Duration::from_millis(1500))
        } else {
            Response::json(404, json!({}))
        }
    })
    .await;
    write_settings(&dir, &server);

    let (before, hover, hints) = blocking(move || {
        let mut client = start_server(&dir);
        client.request_ok(
            "quarry/setSecret",
            json!({"name": "vt-key", "value": VT_KEY}),
        );
        client.did_open(URI, DOCUMENT);
        let before = client.wait_for_diagnostics(URI, 1);
        let hover = hover_text(&mut client, "185.220.101.4\"");

        // No edit follows, so only the publication that the verdict starts can bring the hint.
        let params = client.wait_for_notification("textDocument/publishDiagnostics", |params| {
            params["uri"] == URI
                && params["version"] == 1
                && params["diagnostics"]
                    .as_array()
                    .is_some_and(|items| items.iter().any(|item| item["code"] == "QTI001"))
        });
        client.shutdown();
        let hints: Vec<serde_json::Value> = params["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|item| item["code"] == "QTI001")
            .cloned()
            .collect();
        (before, hover, hints)
    })
    .await;

    assert!(
        !before.iter().any(|item| item["code"] == "QTI001"),
        "{before:?}"
    );
    assert!(hover.contains("VirusTotal: pending"), "{hover}");
    // The address appears in the comment and in the string literal.
    assert_eq!(hints.len(), 2, "{hints:?}");
    for hint in &hints {
        let message = hint["message"].as_str().unwrap();
        assert!(message.contains("185.220.101.4"), "{message}");
        assert!(message.contains("VirusTotal"), "{message}");
    }
    assert_eq!(server.hits("/api/v3/"), 1);
}
