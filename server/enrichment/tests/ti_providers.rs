//! Every remote provider against a fake API on 127.0.0.1 that answers with real-shaped bodies:
//! malicious, clean, not found, 401, 429 (then success, or for too long), slow and malformed.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use base64::Engine;
use common::{FakeServer, Request, Response};
use quarry_enrichment::ti::TiConfig;
use quarry_enrichment::{Enricher, IocType, LookupStatus, Observable, Severity, TiResult, Verdict};
use serde_json::{Value, json};

const API_KEY: &str = "test-key-0123";

const MALICIOUS: &str = "185.220.101.4";
const CLEAN: &str = "8.8.8.8";
const NOT_FOUND: &str = "45.33.32.156";
const THROTTLED_ONCE: &str = "1.0.0.1";
const THROTTLED_LONG: &str = "1.0.0.2";
const SLOW: &str = "9.9.9.9";
const HTML: &str = "4.4.4.4";
const WRONG_SHAPE: &str = "4.4.4.5";

/// How one provider's API looks.
struct Api {
    key: &'static str,
    name: &'static str,
    extra_config: &'static str,
    authorized: fn(&Request, &str) -> bool,
    malicious: fn(&str) -> Value,
    clean: fn(&str) -> Value,
    not_found: fn(&str) -> (u16, Value),
    unauthorized: Value,
}

fn virustotal() -> Api {
    fn stats(ip: &str, malicious: u32) -> Value {
        json!({"data": {"id": ip, "type": "ip_address", "links": {"self": format!("https://www.virustotal.com/api/v3/ip_addresses/{ip}")},
            "attributes": {"as_owner": "Example AS", "country": "DE", "reputation": -11,
                "last_analysis_date": 1_700_000_000,
                "last_analysis_stats": {"malicious": malicious, "suspicious": 1, "undetected": 30, "harmless": 55, "timeout": 0},
                "tags": []}}})
    }
    Api {
        key: "virustotal",
        name: "VirusTotal",
        extra_config: "",
        authorized: |request, key| request.header("x-apikey") == Some(key),
        malicious: |ip| stats(ip, 12),
        clean: |ip| stats(ip, 0),
        not_found: |ip| {
            (
                404,
                json!({"error": {"code": "NotFoundError", "message": format!("Resource not found: {ip}")}}),
            )
        },
        unauthorized: json!({"error": {"code": "WrongCredentialsError", "message": "Wrong API key"}}),
    }
}

fn otx() -> Api {
    fn pulses(ip: &str, names: &[&str]) -> Value {
        let pulses: Vec<Value> = names
            .iter()
            .map(|name| json!({"id": "5f1", "name": name, "tags": ["tor", "scanner"], "references": []}))
            .collect();
        json!({"indicator": ip, "type": "IPv4", "type_title": "IPv4", "asn": "AS24940",
            "sections": ["general", "geo", "reputation"],
            "pulse_info": {"count": pulses.len(), "pulses": pulses, "references": []}})
    }
    Api {
        key: "otx",
        name: "OTX",
        extra_config: "",
        authorized: |request, key| request.header("x-otx-api-key") == Some(key),
        malicious: |ip| pulses(ip, &["Tor exit nodes", "SSH brute force"]),
        clean: |ip| pulses(ip, &[]),
        not_found: |_| (404, json!({"detail": "Not found."})),
        unauthorized: json!({"detail": "Authentication required"}),
    }
}

fn xforce() -> Api {
    Api {
        key: "xforce",
        name: "XForce",
        extra_config: "api_password = \"test-password\"",
        authorized: |request, key| {
            let expected =
                base64::engine::general_purpose::STANDARD.encode(format!("{key}:test-password"));
            request.header("authorization") == Some(format!("Basic {expected}").as_str())
        },
        malicious: |ip| {
            json!({"ip": ip, "score": 7.1, "cats": {"Anonymisation Services": 100},
                "reason": "Regional Internet Registry", "reasonDescription": "One of the five RIRs announced a (new) location mapping of the IP.",
                "tags": [], "geo": {"country": "Germany", "countrycode": "DE"}})
        },
        clean: |ip| json!({"ip": ip, "score": 1, "cats": {}, "reason": "Regional Internet Registry", "tags": []}),
        not_found: |_| (404, json!({"error": "Not found."})),
        unauthorized: json!({"error": "Not authorized."}),
    }
}

fn greynoise() -> Api {
    Api {
        key: "greynoise",
        name: "GreyNoise",
        extra_config: "",
        authorized: |request, key| request.header("key") == Some(key),
        malicious: |ip| {
            json!({"ip": ip, "noise": true, "riot": false, "classification": "malicious", "name": "unknown",
                "link": format!("https://viz.greynoise.io/ip/{ip}"), "last_seen": "2024-05-01", "message": "Success"})
        },
        clean: |ip| {
            json!({"ip": ip, "noise": false, "riot": true, "classification": "benign", "name": "Google Public DNS",
                "link": format!("https://viz.greynoise.io/riot/{ip}"), "last_seen": "2024-05-01", "message": "Success"})
        },
        not_found: |ip| {
            (
                404,
                json!({"ip": ip, "noise": false, "riot": false,
                "message": "IP not observed scanning the internet or contained in RIOT data set."}),
            )
        },
        unauthorized: json!({"message": "Authentication required"}),
    }
}

fn abuseipdb() -> Api {
    fn check(ip: &str, score: u32, reports: u32) -> Value {
        json!({"data": {"ipAddress": ip, "isPublic": true, "ipVersion": 4, "isWhitelisted": false,
            "abuseConfidenceScore": score, "countryCode": "DE", "usageType": "Data Center/Web Hosting/Transit",
            "isp": "Example Hosting", "domain": "example.net", "hostnames": [], "isTor": false,
            "totalReports": reports, "numDistinctUsers": 3, "lastReportedAt": "2024-05-01T10:00:00+00:00"}})
    }
    Api {
        key: "abuseipdb",
        name: "AbuseIPDB",
        extra_config: "",
        authorized: |request, key| request.header("key") == Some(key),
        malicious: |ip| check(ip, 100, 1520),
        clean: |ip| check(ip, 0, 0),
        not_found: |_| {
            (
                404,
                json!({"errors": [{"detail": "The requested resource could not be found.", "status": 404}]}),
            )
        },
        unauthorized: json!({"errors": [{"detail": "Authentication failed. Your API key is either missing, incorrect, or revoked.", "status": 401}]}),
    }
}

/// Starts a fake API for `api` that picks the scenario from the address in the request.
async fn fake_api(api: &'static Api) -> FakeServer {
    let throttled_once = Arc::new(AtomicUsize::new(0));
    FakeServer::start(move |request| {
        let target = request.target.as_str();
        if !(api.authorized)(request, API_KEY) {
            return Response::json(401, api.unauthorized.clone());
        }
        if target.contains(MALICIOUS) {
            Response::json(200, (api.malicious)(MALICIOUS))
        } else if target.contains(CLEAN) {
            Response::json(200, (api.clean)(CLEAN))
        } else if target.contains(NOT_FOUND) {
            let (status, body) = (api.not_found)(NOT_FOUND);
            Response::json(status, body)
        } else if target.contains(THROTTLED_ONCE) {
            if throttled_once.fetch_add(1, Ordering::SeqCst) == 0 {
                Response::json(429, json!({"error": {"code": "QuotaExceededError"}}))
                    .with_header("Retry-After", "1")
            } else {
                Response::json(200, (api.malicious)(THROTTLED_ONCE))
            }
        } else if target.contains(THROTTLED_LONG) {
            Response::json(429, json!({"error": {"code": "QuotaExceededError"}}))
                .with_header("Retry-After", "3600")
        } else if target.contains(SLOW) {
            Response::json(200, (api.malicious)(SLOW)).with_delay(Duration::from_secs(3))
        } else if target.contains(HTML) {
            Response::text(200, "<html><body>Service maintenance</body></html>")
        } else if target.contains(WRONG_SHAPE) {
            Response::json(200, json!([1, 2, 3]))
        } else {
            Response::json(500, json!({"error": "unexpected request"}))
        }
    })
    .await
}

fn enricher(api: &Api, server: &FakeServer, key: &str) -> Enricher {
    let config: TiConfig = toml::from_str(&format!(
        r#"
cache = false
[providers.{name}]
api_key = "{key}"
base_url = "{url}"
timeout_seconds = 0.5
requests_per_minute = 6000
burst = 100
{extra}
"#,
        name = api.key,
        url = server.base_url,
        extra = api.extra_config,
    ))
    .unwrap();
    config.build(None).unwrap()
}

async fn one(enricher: &Enricher, ip: &str) -> TiResult {
    let mut results = enricher.lookup(&Observable::new(ip, IocType::Ipv4)).await;
    assert_eq!(results.len(), 1, "{results:?}");
    results.remove(0)
}

async fn check_provider(api: &'static Api) {
    let server = fake_api(api).await;
    let enricher = enricher(api, &server, API_KEY);

    let malicious = one(&enricher, MALICIOUS).await;
    assert_eq!(malicious.provider, api.name);
    assert_eq!(malicious.status, LookupStatus::Ok, "{malicious:?}");
    assert_eq!(malicious.severity, Severity::High, "{malicious:?}");
    assert_eq!(malicious.verdict, Verdict::Malicious);
    assert!(
        malicious
            .reference
            .as_deref()
            .is_some_and(|link| link.starts_with("https://"))
    );
    assert!(!malicious.summary.is_empty());

    let clean = one(&enricher, CLEAN).await;
    assert_eq!(clean.status, LookupStatus::Ok, "{clean:?}");
    assert_eq!(clean.severity, Severity::Information, "{clean:?}");
    assert_eq!(clean.verdict, Verdict::Harmless);

    let missing = one(&enricher, NOT_FOUND).await;
    assert_eq!(missing.status, LookupStatus::NotFound, "{missing:?}");
    assert_eq!(missing.verdict, Verdict::NotFound);
    assert_eq!(missing.severity, Severity::Information);

    let throttled = one(&enricher, THROTTLED_ONCE).await;
    assert_eq!(
        throttled.status,
        LookupStatus::Ok,
        "retried after Retry-After: {throttled:?}"
    );
    assert_eq!(server.hits(THROTTLED_ONCE), 2);

    let slow = one(&enricher, SLOW).await;
    assert_eq!(slow.status, LookupStatus::TimedOut, "{slow:?}");

    let html = one(&enricher, HTML).await;
    assert_eq!(html.status, LookupStatus::MalformedResponse, "{html:?}");
    let shape = one(&enricher, WRONG_SHAPE).await;
    assert_eq!(shape.status, LookupStatus::MalformedResponse, "{shape:?}");

    let started = std::time::Instant::now();
    let limited = one(&enricher, THROTTLED_LONG).await;
    assert_eq!(limited.status, LookupStatus::RateLimited, "{limited:?}");
    assert_eq!(limited.verdict, Verdict::Unknown);
    assert!(
        limited
            .message
            .as_deref()
            .unwrap()
            .contains("retry after 3600"),
        "{limited:?}"
    );
    assert_eq!(
        server.hits(THROTTLED_LONG),
        1,
        "a Retry-After beyond the limit is not waited for"
    );
    assert!(started.elapsed() < Duration::from_secs(2));

    let clean_hits = server.hits(CLEAN);
    let paused = one(&enricher, CLEAN).await;
    assert_eq!(
        paused.status,
        LookupStatus::RateLimited,
        "the provider stays paused: {paused:?}"
    );
    assert_eq!(
        server.hits(CLEAN),
        clean_hits,
        "no request while the provider is paused"
    );

    let wrong_key = self::enricher(api, &server, "wrong-key");
    let unauthorized = one(&wrong_key, MALICIOUS).await;
    assert_eq!(
        unauthorized.status,
        LookupStatus::Unauthorized,
        "{unauthorized:?}"
    );
    let message = unauthorized.message.unwrap();
    assert!(
        !message.contains("wrong-key"),
        "the key leaked into {message}"
    );

    for request in server.requests() {
        assert_eq!(request.method, "GET");
        assert!(
            !request.target.contains(API_KEY),
            "the key is sent in a header, not the URL"
        );
    }
}

static VIRUSTOTAL: std::sync::LazyLock<Api> = std::sync::LazyLock::new(virustotal);
static OTX: std::sync::LazyLock<Api> = std::sync::LazyLock::new(otx);
static XFORCE: std::sync::LazyLock<Api> = std::sync::LazyLock::new(xforce);
static GREYNOISE: std::sync::LazyLock<Api> = std::sync::LazyLock::new(greynoise);
static ABUSEIPDB: std::sync::LazyLock<Api> = std::sync::LazyLock::new(abuseipdb);

#[tokio::test]
async fn virustotal_scenarios() {
    check_provider(&VIRUSTOTAL).await;
}

#[tokio::test]
async fn otx_scenarios() {
    check_provider(&OTX).await;
}

#[tokio::test]
async fn xforce_scenarios() {
    check_provider(&XFORCE).await;
}

#[tokio::test]
async fn greynoise_scenarios() {
    check_provider(&GREYNOISE).await;
}

#[tokio::test]
async fn abuseipdb_scenarios() {
    check_provider(&ABUSEIPDB).await;
}

#[tokio::test]
async fn virustotal_paths_per_type() {
    let server =
        FakeServer::start(|_| Response::json(404, json!({"error": {"code": "NotFoundError"}})))
            .await;
    let enricher = enricher(&VIRUSTOTAL, &server, API_KEY);
    let lookups = [
        ("evil.example.net", IocType::Dns),
        ("http://evil.example.net/a?b=1", IocType::Url),
        ("D41D8CD98F00B204E9800998ECF8427E", IocType::Md5),
        ("2606:4700:4700::1111", IocType::Ipv6),
    ];
    for (value, kind) in lookups {
        let results = enricher.lookup(&Observable::new(value, kind)).await;
        assert_eq!(results[0].status, LookupStatus::NotFound, "{value}");
    }
    let targets: Vec<String> = server
        .requests()
        .into_iter()
        .map(|request| request.target)
        .collect();
    assert_eq!(
        targets,
        [
            "/api/v3/domains/evil.example.net",
            "/api/v3/urls/aHR0cDovL2V2aWwuZXhhbXBsZS5uZXQvYT9iPTE",
            "/api/v3/files/d41d8cd98f00b204e9800998ecf8427e",
            "/api/v3/ip_addresses/2606%3A4700%3A4700%3A%3A1111",
        ]
    );
}

#[tokio::test]
async fn unsupported_types_skip_provider() {
    let server = FakeServer::start(|_| Response::json(500, json!({}))).await;
    let enricher = enricher(&GREYNOISE, &server, API_KEY);
    let results = enricher
        .lookup(&Observable::new(
            "d41d8cd98f00b204e9800998ecf8427e",
            IocType::Md5,
        ))
        .await;
    assert!(results.is_empty(), "GreyNoise looks up IPv4 addresses only");
    assert!(server.requests().is_empty());
}
