//! Network and protocol faults against the five threat-intelligence providers. The faults are
//! refused connections, unresolvable hosts, TLS against a plain-TCP server, stalls in the
//! connect, header and body phases, 5xx bursts and 429 storms. Bodies come truncated, malformed
//! and huge.
//!
//! Each case checks the lookup status and message, counts the requests the fake server
//! received (the retry bound), and guards against a hang: the lookup must end within its
//! timeout plus a margin. The margin only catches hangs; these are not speed tests.

#[path = "../../providers/tests/fault_server/mod.rs"]
mod fault_server;

use std::time::{Duration, Instant};

use fault_server::{Fault, FaultServer, FullBacklog, refused_url, unresolvable_url};
use futures::future::join_all;
use quarry_enrichment::ti::TiConfig;
use quarry_enrichment::{Enricher, IocType, LookupStatus, Observable, TiResult};

/// API key of every provider. No result may contain it.
const API_KEY: &str = "ti-fault-key-3b7d90";
/// X-Force's API password. No result may contain it.
const PASSWORD: &str = "ti-fault-password-61ce";
/// Retries after the first attempt that these tests configure.
const RETRIES: usize = 2;
/// Slack on top of a configured timeout before a lookup counts as hung.
const HANG_MARGIN: Duration = Duration::from_secs(5);
/// A public address that none of the privacy settings keep from a provider.
const PUBLIC_IP: &str = "185.220.101.4";

/// Configuration keys of the providers.
const PROVIDERS: [&str; 5] = ["abuseipdb", "greynoise", "otx", "virustotal", "xforce"];

/// Builds an enricher with one provider, `key`, at `url`.
fn enricher(key: &str, url: &str, timeout_seconds: f64, max_retry_wait_seconds: f64) -> Enricher {
    let password = if key == "xforce" {
        format!("api_password = \"{PASSWORD}\"")
    } else {
        String::new()
    };
    let config: TiConfig = toml::from_str(&format!(
        r#"
cache = false
[providers.{key}]
api_key = "{API_KEY}"
base_url = "{url}"
timeout_seconds = {timeout_seconds}
requests_per_minute = 6000
burst = 100
max_retries = {RETRIES}
max_retry_wait_seconds = {max_retry_wait_seconds}
{password}
"#
    ))
    .expect("test configuration parses");
    config.build(None).expect("test configuration builds")
}

/// Looks up [`PUBLIC_IP`] with provider `key` at `url`, and checks that the lookup neither hung
/// nor put a secret in its result.
async fn lookup(
    key: &str,
    url: &str,
    timeout_seconds: f64,
    max_retry_wait: f64,
) -> (TiResult, Duration) {
    let enricher = enricher(key, url, timeout_seconds, max_retry_wait);
    let started = Instant::now();
    let mut results = enricher
        .lookup(&Observable::new(PUBLIC_IP, IocType::Ipv4))
        .await;
    let elapsed = started.elapsed();
    assert_eq!(results.len(), 1, "{key}: {results:?}");
    let result = results.remove(0);

    let shown = format!("{result:?}");
    for secret in [API_KEY, PASSWORD] {
        assert!(!shown.contains(secret), "{key}: secret in {shown}");
    }
    // Every provider makes at most 1 + RETRIES requests, each bounded by the timeout, with
    // waits of at most `max_retry_wait` between them.
    let bound = Duration::from_secs_f64(
        (1 + RETRIES) as f64 * timeout_seconds + RETRIES as f64 * max_retry_wait,
    );
    assert!(
        elapsed < bound + HANG_MARGIN,
        "{key}: the lookup took {elapsed:?}, bound {bound:?}"
    );
    (result, elapsed)
}

fn message(result: &TiResult) -> &str {
    result.message.as_deref().unwrap_or_default()
}

/// Runs every provider against its own fault server with `plan`, at once, and returns each
/// provider's result with the number of requests its server received.
async fn each_provider_against(
    plan: impl Fn(usize) -> Fault + Clone + Send + Sync + 'static,
    timeout_seconds: f64,
    max_retry_wait: f64,
) -> Vec<(&'static str, TiResult, usize)> {
    let servers: Vec<FaultServer> = PROVIDERS
        .iter()
        .map(|_| FaultServer::start(plan.clone()))
        .collect();
    let urls: Vec<String> = servers.iter().map(FaultServer::http_url).collect();
    let lookups = PROVIDERS
        .iter()
        .zip(&urls)
        .map(|(key, url)| lookup(key, url, timeout_seconds, max_retry_wait));
    let results = join_all(lookups).await;
    PROVIDERS
        .iter()
        .zip(results)
        .zip(&servers)
        .map(|((key, (result, _)), server)| (*key, result, server.requests()))
        .collect()
}

#[tokio::test]
async fn refused_connection_fails() {
    for key in PROVIDERS {
        let (result, _) = lookup(key, &refused_url(), 5.0, 1.0).await;
        assert_eq!(result.status, LookupStatus::Failed, "{key}: {result:?}");
        let text = message(&result).to_lowercase();
        assert!(text.contains("connection refused"), "{key}: {text}");
        assert!(
            text.contains(&format!("request to {}", result.provider).to_lowercase()),
            "{key}: {text}"
        );
    }
}

#[tokio::test]
async fn unresolvable_host_fails() {
    for key in PROVIDERS {
        let (result, _) = lookup(key, &unresolvable_url(), 5.0, 1.0).await;
        assert_eq!(result.status, LookupStatus::Failed, "{key}: {result:?}");
        assert!(message(&result).contains("dns error"), "{key}: {result:?}");
    }
}

#[tokio::test]
async fn tls_to_plain_server_fails() {
    for key in PROVIDERS {
        let server = FaultServer::start(|_| Fault::json(200, "{}"));
        let (result, _) = lookup(key, &server.https_url(), 5.0, 1.0).await;
        assert_eq!(result.status, LookupStatus::Failed, "{key}: {result:?}");
        assert!(!message(&result).is_empty(), "{key}: {result:?}");
        assert_eq!(server.requests(), 0, "{key}: an HTTP request got through");
        assert_eq!(
            server.tls_handshakes(),
            1,
            "{key}: TLS failures are not retried"
        );
    }
}

#[tokio::test]
async fn connect_phase_timeout() {
    let backlog = FullBacklog::new();
    for key in PROVIDERS {
        let (result, elapsed) = lookup(key, &backlog.http_url(), 0.5, 1.0).await;
        assert_eq!(result.status, LookupStatus::TimedOut, "{key}: {result:?}");
        assert!(
            message(&result).contains("did not respond within 0.5 s")
                || message(&result).contains("within 0.5 s"),
            "{key}: {result:?}"
        );
        // A timed-out request is not retried.
        assert!(elapsed < Duration::from_millis(500) + HANG_MARGIN, "{key}");
    }
}

#[tokio::test]
async fn header_phase_timeout() {
    for (key, result, requests) in
        each_provider_against(|_| Fault::StallBeforeHeaders, 1.0, 1.0).await
    {
        assert_eq!(result.status, LookupStatus::TimedOut, "{key}: {result:?}");
        assert!(message(&result).contains("within 1 s"), "{key}: {result:?}");
        assert_eq!(requests, 1, "{key}");
    }
}

#[tokio::test]
async fn body_phase_timeout() {
    let plan = |_| Fault::StallInBody {
        status: 200,
        announced: 4096,
        sent: b"{\"data\": {".to_vec(),
    };
    for (key, result, requests) in each_provider_against(plan, 1.0, 1.0).await {
        assert_eq!(result.status, LookupStatus::TimedOut, "{key}: {result:?}");
        assert_eq!(requests, 1, "{key}");
    }
}

#[tokio::test]
async fn server_error_burst_bounded() {
    // 502, 503 and 504 are retried, but 500 is not, because a server bug does not go away on retry.
    for (status, expected_requests) in [
        (500, 1),
        (502, 1 + RETRIES),
        (503, 1 + RETRIES),
        (504, 1 + RETRIES),
    ] {
        let plan =
            move |_| Fault::text(status, "text/plain", "down").with_header("Retry-After", "0");
        for (key, result, requests) in each_provider_against(plan, 5.0, 1.0).await {
            assert_eq!(
                result.status,
                LookupStatus::Failed,
                "{key}: HTTP {status}: {result:?}"
            );
            assert_eq!(requests, expected_requests, "{key}: HTTP {status}");
            assert!(
                !message(&result).is_empty(),
                "{key}: HTTP {status}: {result:?}"
            );
        }
    }
}

#[tokio::test]
async fn throttling_storm_bounded() {
    let plan = |_| Fault::json(429, "{}").with_header("Retry-After", "1");
    for (key, result, requests) in each_provider_against(plan, 5.0, 2.0).await {
        assert_eq!(
            result.status,
            LookupStatus::RateLimited,
            "{key}: {result:?}"
        );
        assert_eq!(requests, 1 + RETRIES, "{key}");
        assert!(message(&result).contains("HTTP 429"), "{key}: {result:?}");
    }
}

#[tokio::test]
async fn long_retry_after_not_waited() {
    let plan = |_| Fault::json(429, "{}").with_header("Retry-After", "3600");
    for (key, result, requests) in each_provider_against(plan, 5.0, 2.0).await {
        assert_eq!(
            result.status,
            LookupStatus::RateLimited,
            "{key}: {result:?}"
        );
        assert_eq!(requests, 1, "{key}");
        assert!(message(&result).contains("3600 s"), "{key}: {result:?}");
    }
}

#[tokio::test]
async fn truncated_body_fails() {
    let body = br#"{"data": {"attributes": {"last_analysis_stats": {"malicious": 1}}}}"#.to_vec();
    let plan = move |_| Fault::Truncated {
        status: 200,
        body: body.clone(),
        cut: 20,
    };
    for (key, result, requests) in each_provider_against(plan, 5.0, 1.0).await {
        assert!(
            matches!(
                result.status,
                LookupStatus::Failed | LookupStatus::MalformedResponse
            ),
            "{key}: {result:?}"
        );
        assert!(!message(&result).is_empty(), "{key}: {result:?}");
        assert_eq!(requests, 1, "{key}");
    }
}

#[tokio::test]
async fn malformed_bodies_named() {
    let bodies = [
        ("application/json", "{\"data\": [1, 2"),
        ("application/json", "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["),
        ("application/json", "\u{feff}\u{0}garbage"),
        ("text/html", "<html><body>Gateway login</body></html>"),
    ];
    for (content_type, body) in bodies {
        let plan = move |_| Fault::text(200, content_type, body);
        for (key, result, requests) in each_provider_against(plan, 5.0, 1.0).await {
            assert_eq!(
                result.status,
                LookupStatus::MalformedResponse,
                "{key}: {body:?}: {result:?}"
            );
            assert!(!message(&result).is_empty(), "{key}: {result:?}");
            assert_eq!(requests, 1, "{key}");
        }
    }
}

#[tokio::test]
async fn huge_bodies_stop_at_limit() {
    for announced in [true, false] {
        let plan = move |_| Fault::Endless {
            status: 200,
            announced,
        };
        for (key, result, requests) in each_provider_against(plan, 10.0, 1.0).await {
            assert_eq!(result.status, LookupStatus::Failed, "{key}: {result:?}");
            assert!(
                message(&result).contains("larger than 16777216 bytes"),
                "{key}: announced {announced}: {result:?}"
            );
            assert_eq!(requests, 1, "{key}");
        }
    }
}
