//! The enricher as a whole: the privacy guard against recording fake servers, opt-in providers,
//! the disk cache, answers within a wait, offline sources and secret redaction.

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use common::{FakeServer, Response, temp_dir};
use quarry_enrichment::ti::TiConfig;
use quarry_enrichment::{
    Enricher, EnrichmentConfig, IocType, LookupStatus, Observable, Severity, TiResult, Verdict,
};
use serde_json::json;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/enrichment")
        .join(name)
}

/// A fake API that calls every address clean and counts requests.
async fn clean_server() -> FakeServer {
    FakeServer::start(|request| {
        if request.target.contains("/v3/community/") {
            Response::json(200, json!({"ip": "x", "noise": false, "riot": false, "classification": "benign", "name": "x", "message": "Success"}))
        } else if request.target.contains("/api/v2/check") {
            Response::json(200, json!({"data": {"abuseConfidenceScore": 0, "totalReports": 0}}))
        } else if request.target.contains("/api/v1/indicators/") {
            Response::json(200, json!({"pulse_info": {"count": 0, "pulses": []}, "sections": []}))
        } else if request.target.contains("/api/v3/") {
            Response::json(200, json!({"data": {"attributes": {"last_analysis_stats": {"malicious": 0, "harmless": 70}}}}))
        } else {
            Response::json(200, json!({"score": 1, "cats": {}}))
        }
    })
    .await
}

/// Every remote provider enabled against `server`, with internal names configured.
fn all_providers_config(server: &FakeServer, extra: &str) -> TiConfig {
    let mut text = String::from(
        "cache = false\n[privacy]\ninternal_domains = [\"corp.example.com\"]\ninternal_hosts = [\"dc01\"]\n",
    );
    for name in ["virustotal", "otx", "xforce", "greynoise", "abuseipdb"] {
        text.push_str(&format!(
            "[providers.{name}]\napi_key = \"key-{name}\"\nbase_url = \"{}\"\nrequests_per_minute = 6000\nburst = 100\n",
            server.base_url
        ));
        if name == "xforce" {
            text.push_str("api_password = \"xforce-password\"\n");
        }
    }
    text.push_str(extra);
    toml::from_str(&text).unwrap()
}

#[tokio::test]
async fn private_and_internal_never_sent() {
    let server = clean_server().await;
    let enricher = all_providers_config(&server, "").build(None).unwrap();

    let withheld = [
        ("10.0.0.5", IocType::Ipv4),
        ("192.168.1.20", IocType::Ipv4),
        ("172.20.3.4", IocType::Ipv4),
        ("127.0.0.1", IocType::Ipv4),
        ("169.254.169.254", IocType::Ipv4),
        ("100.64.7.1", IocType::Ipv4),
        ("192.0.2.33", IocType::Ipv4),
        ("224.0.0.251", IocType::Ipv4),
        ("fd12:3456::1", IocType::Ipv6),
        ("fe80::1", IocType::Ipv6),
        ("::1", IocType::Ipv6),
        ("fileserver.corp.example.com", IocType::Dns),
        ("corp.example.com", IocType::Dns),
        ("dc01.example.org", IocType::Dns),
        ("printer.local", IocType::Dns),
        ("http://intranet.corp.example.com/wiki", IocType::Url),
        ("http://10.10.10.10:8080/admin", IocType::Url),
        ("alice@corp.example.com", IocType::Email),
        (r"C:\Users\alice\Documents\plan.docx", IocType::WindowsPath),
    ];
    for (value, kind) in withheld {
        let results = enricher.lookup(&Observable::new(value, kind)).await;
        for result in &results {
            assert_eq!(result.status, LookupStatus::Blocked, "{value}: {result:?}");
            assert_eq!(result.verdict, Verdict::Unknown);
            assert!(
                result
                    .message
                    .as_deref()
                    .unwrap()
                    .starts_with("not sent to")
            );
        }
    }
    assert!(
        server.requests().is_empty(),
        "the fake servers received {:?}",
        server.requests()
    );

    // The same enricher does send a public address, so the silence above is the guard's work.
    let results = enricher
        .lookup(&Observable::new("185.220.101.4", IocType::Ipv4))
        .await;
    assert_eq!(results.len(), 5, "{results:?}");
    assert!(
        results
            .iter()
            .all(|result| result.status == LookupStatus::Ok),
        "{results:?}"
    );
    assert_eq!(server.requests().len(), 5);
}

#[tokio::test]
async fn offline_sources_see_private_addresses() {
    let server = clean_server().await;
    let dir = temp_dir("offline-private");
    let list = dir.join("internal.csv");
    std::fs::write(
        &list,
        "indicator,description\n10.0.0.5,Known compromised workstation\n",
    )
    .unwrap();
    let extra = format!(
        "[[indicator_files]]\npath = \"{}\"\nname = \"Internal\"\n",
        list.display()
    );
    let enricher = all_providers_config(&server, &extra).build(None).unwrap();

    let results = enricher
        .lookup(&Observable::new("10.0.0.5", IocType::Ipv4))
        .await;
    let internal = results
        .iter()
        .find(|result| result.provider == "Internal")
        .unwrap();
    assert_eq!(internal.status, LookupStatus::Ok);
    assert_eq!(internal.severity, Severity::High);
    assert_eq!(internal.summary, "Known compromised workstation");
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn providers_need_key_or_enabled() {
    let server = clean_server().await;
    let config: TiConfig = toml::from_str(&format!(
        r#"
cache = false
[providers.virustotal]
base_url = "{url}"
[providers.greynoise]
base_url = "{url}"
[providers.otx]
api_key = "otx-key"
enabled = false
base_url = "{url}"
"#,
        url = server.base_url
    ))
    .unwrap();
    let enricher = config.build(None).unwrap();
    assert!(!enricher.has_providers(), "{:?}", enricher.provider_names());
    let results = enricher
        .lookup(&Observable::new("185.220.101.4", IocType::Ipv4))
        .await;
    assert!(results.is_empty());
    assert!(server.requests().is_empty());

    let defaults = TiConfig::default().build(None).unwrap();
    assert!(!defaults.has_providers());
}

#[tokio::test]
async fn greynoise_enabled_without_key() {
    let server = clean_server().await;
    let config: TiConfig = toml::from_str(&format!(
        "cache = false\n[providers.greynoise]\nenabled = true\nbase_url = \"{}\"\n",
        server.base_url
    ))
    .unwrap();
    let enricher = config.build(None).unwrap();
    assert_eq!(enricher.provider_names(), ["GreyNoise"]);
    let results = enricher
        .lookup(&Observable::new("185.220.101.4", IocType::Ipv4))
        .await;
    assert_eq!(results[0].status, LookupStatus::Ok);
    assert!(server.requests()[0].header("key").is_none());
}

#[test]
fn enabled_without_key_is_error() {
    let config: TiConfig = toml::from_str("[providers.virustotal]\nenabled = true\n").unwrap();
    let error = config.build(None).unwrap_err().to_string();
    assert!(error.contains("virustotal"), "{error}");
    assert!(error.contains("api_key"), "{error}");

    let unknown: TiConfig = toml::from_str("[providers.shodan]\napi_key = \"k\"\n").unwrap();
    assert!(
        unknown
            .build(None)
            .unwrap_err()
            .to_string()
            .contains("shodan")
    );

    let missing_env: TiConfig =
        toml::from_str("[providers.otx]\napi_key_env = \"QUARRY_TEST_VARIABLE_THAT_IS_NOT_SET\"\n")
            .unwrap();
    let error = missing_env.build(None).unwrap_err().to_string();
    assert!(
        error.contains("QUARRY_TEST_VARIABLE_THAT_IS_NOT_SET"),
        "{error}"
    );
}

#[test]
fn keys_redacted_in_debug() {
    let config = EnrichmentConfig::parse(
        "[ti.providers.virustotal]\napi_key = \"vt-secret-123\"\n[ti.providers.xforce]\napi_key = \"xf-id\"\napi_password = \"xf-secret-456\"\n",
    )
    .unwrap();
    let text = format!("{config:?}");
    assert!(!text.contains("vt-secret-123"), "{text}");
    assert!(!text.contains("xf-secret-456"), "{text}");
    assert!(text.contains("[redacted]"));
}

#[test]
fn unknown_config_field_rejected() {
    let error = EnrichmentConfig::parse("[ti.providers.virustotal]\napikey = \"x\"\n")
        .unwrap_err()
        .to_string();
    assert!(error.contains("apikey"), "{error}");
}

#[tokio::test]
async fn cache_serves_repeat_lookups() {
    let server = clean_server().await;
    let dir = temp_dir("cache");
    let config: TiConfig = toml::from_str(&format!(
        "[providers.abuseipdb]\napi_key = \"k\"\nbase_url = \"{}\"\n",
        server.base_url
    ))
    .unwrap();
    let observable = Observable::new("185.220.101.4", IocType::Ipv4);

    let first = config.build(Some(&dir)).unwrap().lookup(&observable).await;
    assert!(!first[0].cached);
    // A new enricher reads the cache file the first one wrote.
    let second = config.build(Some(&dir)).unwrap().lookup(&observable).await;
    assert!(second[0].cached, "{second:?}");
    assert_eq!(second[0].summary, first[0].summary);
    assert_eq!(server.requests().len(), 1);
    assert!(dir.join("abuseipdb.json").is_file());

    let expired: TiConfig = toml::from_str(&format!(
        "cache_ttl_hours = 0.0\n[providers.abuseipdb]\napi_key = \"k\"\nbase_url = \"{}\"\n",
        server.base_url
    ))
    .unwrap();
    let third = expired.build(Some(&dir)).unwrap().lookup(&observable).await;
    assert!(!third[0].cached);
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn errors_not_cached() {
    let server = FakeServer::start(|_| {
        Response::json(
            401,
            json!({"errors": [{"detail": "Authentication failed."}]}),
        )
    })
    .await;
    let dir = temp_dir("no-error-cache");
    let config: TiConfig = toml::from_str(&format!(
        "[providers.abuseipdb]\napi_key = \"k\"\nbase_url = \"{}\"\n",
        server.base_url
    ))
    .unwrap();
    let enricher = config.build(Some(&dir)).unwrap();
    let observable = Observable::new("185.220.101.4", IocType::Ipv4);
    for _ in 0..2 {
        let results = enricher.lookup(&observable).await;
        assert_eq!(results[0].status, LookupStatus::Unauthorized);
        assert!(!results[0].cached);
    }
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lookup_within_reports_pending() {
    let fast = clean_server().await;
    let slow = FakeServer::start(|_| {
        Response::json(
            200,
            json!({"data": {"abuseConfidenceScore": 75, "totalReports": 9}}),
        )
        .with_delay(Duration::from_millis(800))
    })
    .await;
    let dir = temp_dir("within");
    let config: TiConfig = toml::from_str(&format!(
        "[providers.otx]\napi_key = \"k\"\nbase_url = \"{}\"\n[providers.abuseipdb]\napi_key = \"k\"\nbase_url = \"{}\"\n",
        fast.base_url, slow.base_url
    ))
    .unwrap();
    let enricher: Arc<Enricher> = Arc::new(config.build(Some(&dir)).unwrap());
    let observable = Observable::new("185.220.101.4", IocType::Ipv4);

    let started = std::time::Instant::now();
    let partial = enricher
        .lookup_within(&observable, Duration::from_millis(300))
        .await;
    assert!(
        started.elapsed() < Duration::from_millis(700),
        "{:?}",
        started.elapsed()
    );
    let providers: Vec<&str> = partial
        .results
        .iter()
        .map(|result| result.provider.as_str())
        .collect();
    assert_eq!(providers, ["OTX"]);
    assert_eq!(partial.pending, ["AbuseIPDB"]);

    // A second call while the slow lookup runs does not send it again.
    let again = enricher
        .lookup_within(&observable, Duration::from_millis(10))
        .await;
    assert_eq!(again.pending, ["AbuseIPDB"]);
    assert!(again.results[0].cached);

    tokio::time::sleep(Duration::from_millis(1000)).await;
    let complete = enricher
        .lookup_within(&observable, Duration::from_millis(10))
        .await;
    assert!(complete.pending.is_empty(), "{complete:?}");
    let abuse: &TiResult = complete
        .results
        .iter()
        .find(|result| result.provider == "AbuseIPDB")
        .unwrap();
    assert!(abuse.cached);
    assert_eq!(abuse.severity, Severity::High);
    assert_eq!(slow.requests().len(), 1);
}

#[tokio::test]
async fn indicator_file_formats() {
    let config: TiConfig = toml::from_str(&format!(
        "cache = false\n[[indicator_files]]\npath = \"{}\"\n[[indicator_files]]\npath = \"{}\"\nname = \"STIX\"\n[[indicator_files]]\npath = \"{}\"\nname = \"MISP\"\n",
        fixture("indicators.csv").display(),
        fixture("stix-bundle.json").display(),
        fixture("misp-event.json").display(),
    ))
    .unwrap();
    let enricher = config.build(None).unwrap();
    assert_eq!(enricher.provider_names(), ["indicators", "STIX", "MISP"]);

    let cases: [(&str, IocType, &str, Severity); 10] = [
        ("185.220.101.4", IocType::Ipv4, "indicators", Severity::High),
        (
            "EVIL-C2.example.net",
            IocType::Dns,
            "indicators",
            Severity::Warning,
        ),
        (
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            IocType::Sha256,
            "indicators",
            Severity::High,
        ),
        (
            "http://files.example.org/stage2.bin",
            IocType::Url,
            "indicators",
            Severity::High,
        ),
        (
            "login-update.example.com",
            IocType::Dns,
            "STIX",
            Severity::High,
        ),
        (
            "44d88612fea8a8f36de82e1278abb02f",
            IocType::Md5,
            "STIX",
            Severity::High,
        ),
        (
            "updates.example.com",
            IocType::Dns,
            "STIX",
            Severity::Information,
        ),
        ("198.51.100.44", IocType::Ipv4, "MISP", Severity::High),
        (
            "cdn.invoice-portal.example.net",
            IocType::Dns,
            "MISP",
            Severity::Warning,
        ),
        (
            "3395856ce81f2b7382dee72602f798b642f14140",
            IocType::Sha1,
            "MISP",
            Severity::High,
        ),
    ];
    for (value, kind, provider, severity) in cases {
        let results = enricher.lookup(&Observable::new(value, kind)).await;
        let found: Vec<&TiResult> = results
            .iter()
            .filter(|result| result.status == LookupStatus::Ok)
            .collect();
        assert_eq!(found.len(), 1, "{value}: {results:?}");
        assert_eq!(found[0].provider, provider, "{value}");
        assert_eq!(found[0].severity, severity, "{value}");
    }

    let email = enricher
        .lookup(&Observable::new(
            "billing@invoice-portal.example.net",
            IocType::Email,
        ))
        .await;
    let misp = email
        .iter()
        .find(|result| result.provider == "MISP")
        .unwrap();
    assert_eq!(misp.summary, "Credential phishing campaign");

    let unknown = enricher
        .lookup(&Observable::new("8.8.8.8", IocType::Ipv4))
        .await;
    assert!(
        unknown
            .iter()
            .all(|result| result.status == LookupStatus::NotFound)
    );
}

#[tokio::test]
async fn tor_exit_list() {
    let config: TiConfig = toml::from_str(&format!(
        "cache = false\ntor_exit_list = \"{}\"\n",
        fixture("tor-exit-addresses.txt").display()
    ))
    .unwrap();
    let enricher = config.build(None).unwrap();
    let listed = enricher
        .lookup(&Observable::new("192.42.116.16", IocType::Ipv4))
        .await;
    assert_eq!(listed[0].provider, "Tor");
    assert_eq!(listed[0].severity, Severity::Warning);
    assert_eq!(
        listed[0].details["NodeID"],
        "00B3E8C8A3E1C0A5D5C4A09B3EC9B7D0F1A2B3C4"
    );
    assert_eq!(listed[0].details["LastStatus"], "2024-05-01 10:00:00");

    let other = enricher
        .lookup(&Observable::new("8.8.8.8", IocType::Ipv4))
        .await;
    assert_eq!(other[0].status, LookupStatus::NotFound);
    let domain = enricher
        .lookup(&Observable::new("example.com", IocType::Dns))
        .await;
    assert!(domain.is_empty(), "the Tor list only knows addresses");
}

#[test]
fn invalid_indicator_files_fail() {
    let dir = temp_dir("invalid-files");
    let json = dir.join("other.json");
    std::fs::write(&json, "{\"hello\": 1}").unwrap();
    let config: TiConfig = toml::from_str(&format!(
        "[[indicator_files]]\npath = \"{}\"\n",
        json.display()
    ))
    .unwrap();
    let error = config.build(None).unwrap_err().to_string();
    assert!(
        error.contains("neither a STIX 2.1 bundle nor a MISP event"),
        "{error}"
    );

    let csv = dir.join("no-column.csv");
    std::fs::write(&csv, "name,comment\nx,y\n").unwrap();
    let config: TiConfig = toml::from_str(&format!(
        "[[indicator_files]]\npath = \"{}\"\n",
        csv.display()
    ))
    .unwrap();
    let error = config.build(None).unwrap_err().to_string();
    assert!(error.contains("`indicator`"), "{error}");

    let config: TiConfig =
        toml::from_str("tor_exit_list = \"/nonexistent/exit-addresses\"\n").unwrap();
    let error = config.build(None).unwrap_err().to_string();
    assert!(error.contains("/nonexistent/exit-addresses"), "{error}");
}

#[tokio::test]
async fn listener_sees_fresh_results() {
    let server = clean_server().await;
    let dir = temp_dir("listener");
    let config: TiConfig = toml::from_str(&format!(
        "[providers.abuseipdb]\napi_key = \"k\"\nbase_url = \"{}\"\n",
        server.base_url
    ))
    .unwrap();
    let enricher = Arc::new(config.build(Some(&dir)).unwrap());
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let recorded = Arc::clone(&seen);
    let cache_dir = dir.clone();
    assert!(
        enricher.set_result_listener(Arc::new(move |observable, result| {
            // The cache has the result by the time the listener runs.
            let stored = cache_dir.join("abuseipdb.json").is_file();
            recorded.lock().unwrap().push((
                observable.value.clone(),
                result.provider.clone(),
                stored,
            ));
        }))
    );
    assert!(!enricher.set_result_listener(Arc::new(|_, _| {})));

    let observable = Observable::new("185.220.101.4", IocType::Ipv4);
    enricher.lookup(&observable).await;
    assert_eq!(
        *seen.lock().unwrap(),
        [("185.220.101.4".to_owned(), "AbuseIPDB".to_owned(), true)]
    );

    // A cached result is no new verdict, so the listener is not called again.
    let again = enricher
        .lookup_within(&observable, Duration::from_secs(5))
        .await;
    assert!(again.results[0].cached);
    assert_eq!(seen.lock().unwrap().len(), 1);

    // A lookup that finishes in the background still calls it.
    let other = Observable::new("185.220.101.5", IocType::Ipv4);
    enricher.lookup_within(&other, Duration::ZERO).await;
    for _ in 0..100 {
        if seen.lock().unwrap().len() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(seen.lock().unwrap()[1].0, "185.220.101.5");
}
