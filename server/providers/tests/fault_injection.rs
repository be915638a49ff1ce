//! Network and protocol faults against every query back end and the OAuth token endpoint.
//! The faults are refused connections, unresolvable hosts, TLS against a plain-TCP server,
//! stalls in the connect, header and body phases, bursts of 4xx and 5xx, and 429 storms. Bodies
//! come truncated, malformed and huge.
//!
//! Each case checks the error kind and its message, counts the requests the fake server
//! received (the retry bound), and guards against a hang: the run must end within its timeout
//! plus a margin. The margin only catches hangs; these are not speed tests.

mod fault_server;

use std::sync::Arc;
use std::time::{Duration, Instant};

use fault_server::{Fault, FaultServer, FullBacklog, refused_url, unresolvable_url};
use futures::future::join_all;
use quarry_providers::auth::{
    ClientCredentials, Credential, OAuthEndpoints, StaticToken, TokenCache,
};
use quarry_providers::defender::{Defender, DefenderApi, DefenderConfig};
use quarry_providers::http::{HttpOptions, RetryPolicy, Transport};
use quarry_providers::kusto::{DataExplorer, DataExplorerConfig};
use quarry_providers::log_analytics::{LogAnalytics, LogAnalyticsConfig};
use quarry_providers::splunk::{Splunk, SplunkConfig};
use quarry_providers::{Provider, ProviderError, QueryRequest, Secret};
use url::Url;

/// Bearer token the query clients send. No error message may contain it.
const TOKEN: &str = "fault-token-4f9a1c";
/// Client secret the token endpoint receives. No error message may contain it.
const CLIENT_SECRET: &str = "fault-client-secret-8e2b";
/// Retries after the first attempt, so a failing run sends at most `1 + RETRIES` requests.
const RETRIES: u32 = 2;
/// Body size limit of these tests' clients.
const BODY_LIMIT: usize = 1024 * 1024;
/// Slack on top of a configured timeout before a run counts as hung.
const HANG_MARGIN: Duration = Duration::from_secs(5);

/// The clients under test: the five query back-end APIs, and the Entra token endpoint in front
/// of Log Analytics.
const TARGETS: [&str; 6] = [
    "log-analytics",
    "data-explorer",
    "defender-graph",
    "defender-advanced-hunting",
    "splunk",
    "token-endpoint",
];

fn http_options() -> HttpOptions {
    HttpOptions {
        retry: RetryPolicy {
            max_retries: RETRIES,
            initial_backoff: Duration::from_millis(10),
            max_backoff: Duration::from_millis(50),
            max_retry_after: Duration::from_secs(5),
        },
        use_env_proxy: false,
        max_body_bytes: BODY_LIMIT,
    }
}

fn bearer() -> Credential {
    Credential::Bearer(Arc::new(StaticToken::new(Secret::new(TOKEN), "the test")))
}

/// Builds the client `target` with `url` as the address under test.
fn client(target: &str, url: &str) -> Box<dyn Provider> {
    let http = http_options();
    let url = Url::parse(url).expect("test URL");
    match target {
        "log-analytics" => {
            let mut config = LogAnalyticsConfig::new("ws");
            config.endpoint = url;
            Box::new(LogAnalytics::new(config, bearer(), &http).unwrap())
        }
        "data-explorer" => {
            let config = DataExplorerConfig {
                cluster: url,
                database: "db".into(),
                scope: None,
            };
            Box::new(DataExplorer::new(config, bearer(), &http).unwrap())
        }
        "defender-graph" | "defender-advanced-hunting" => {
            let api = if target == "defender-graph" {
                DefenderApi::Graph
            } else {
                DefenderApi::AdvancedHunting
            };
            let mut config = DefenderConfig::new(api);
            config.endpoint = url;
            Box::new(Defender::new(config, bearer(), &http).unwrap())
        }
        "splunk" => {
            let credential = Credential::SplunkToken(Secret::new(TOKEN));
            Box::new(Splunk::new(SplunkConfig { base_url: url }, credential, &http).unwrap())
        }
        "token-endpoint" => {
            let endpoints = OAuthEndpoints::azure(&url, "contoso.onmicrosoft.com").unwrap();
            let transport = Transport::new(&http).unwrap();
            let source = ClientCredentials::new(
                endpoints,
                "app-id".into(),
                Secret::new(CLIENT_SECRET),
                transport,
            );
            // The query endpoint is never reached because the token fetch fails first.
            let mut config = LogAnalyticsConfig::new("ws");
            config.endpoint = Url::parse(&refused_url()).unwrap();
            let credential = Credential::Bearer(Arc::new(TokenCache::new(source)));
            Box::new(LogAnalytics::new(config, credential, &http).unwrap())
        }
        other => panic!("unknown target {other}"),
    }
}

/// The outcome of one failing run.
struct Failure {
    target: &'static str,
    error: ProviderError,
    message: String,
    elapsed: Duration,
}

/// Runs a query on `target` at `url` with `timeout` and returns its error, after checking
/// that it did not hang and that no secret is in the message.
async fn run_failing(target: &'static str, url: &str, timeout: Duration) -> Failure {
    let mut request = QueryRequest::new("SecurityEvent | take 5");
    request.options.timeout = timeout;
    let started = Instant::now();
    let outcome = client(target, url).run(&request).await;
    let elapsed = started.elapsed();

    let error = match outcome {
        Ok(result) => panic!("{target}: the run succeeded against a fault: {result:?}"),
        Err(error) => error,
    };
    let message = error.to_string();
    for secret in [TOKEN, CLIENT_SECRET] {
        assert!(!message.contains(secret), "{target}: secret in {message}");
        assert!(
            !format!("{error:?}").contains(secret),
            "{target}: secret in {error:?}"
        );
    }
    assert!(
        elapsed < timeout + HANG_MARGIN,
        "{target}: the run took {elapsed:?} with a {timeout:?} timeout"
    );
    Failure {
        target,
        error,
        message,
        elapsed,
    }
}

/// Starts one fault server per target with the same plan, runs every target at once and
/// returns each failure with the number of requests its server received.
async fn each_target_against(
    plan: impl Fn(usize) -> Fault + Clone + Send + Sync + 'static,
    timeout: Duration,
) -> Vec<(Failure, usize)> {
    targets_against(&TARGETS, plan, timeout).await
}

/// Does what [`each_target_against`] does for some targets only.
async fn targets_against(
    targets: &[&'static str],
    plan: impl Fn(usize) -> Fault + Clone + Send + Sync + 'static,
    timeout: Duration,
) -> Vec<(Failure, usize)> {
    let servers: Vec<FaultServer> = targets
        .iter()
        .map(|_| FaultServer::start(plan.clone()))
        .collect();
    let urls: Vec<String> = servers.iter().map(FaultServer::http_url).collect();
    let runs = targets
        .iter()
        .zip(&urls)
        .map(|(target, url)| run_failing(target, url, timeout));
    let failures = join_all(runs).await;
    failures
        .into_iter()
        .zip(&servers)
        .map(|(failure, server)| (failure, server.requests()))
        .collect()
}

fn is_auth(error: &ProviderError) -> bool {
    matches!(error, ProviderError::Auth(_))
}

#[tokio::test]
async fn refused_connection_fails_fast() {
    for target in TARGETS {
        let url = refused_url();
        let failure = run_failing(target, &url, Duration::from_secs(20)).await;
        let message = failure.message.to_lowercase();
        assert!(
            matches!(failure.error, ProviderError::Transport { .. }) || is_auth(&failure.error),
            "{target}: {:?}",
            failure.error
        );
        assert!(
            message.contains("connection refused"),
            "{target}: {message}"
        );
        assert!(
            message.contains("127.0.0.1"),
            "{target}: the message names no address: {message}"
        );
        // Two retries with at most 50 ms of backoff each.
        assert!(
            failure.elapsed < Duration::from_secs(5),
            "{target}: {:?}",
            failure.elapsed
        );
    }
}

#[tokio::test]
async fn unresolvable_host_names_dns() {
    for target in TARGETS {
        let failure = run_failing(target, &unresolvable_url(), Duration::from_secs(20)).await;
        let message = failure.message.to_lowercase();
        assert!(
            matches!(failure.error, ProviderError::Transport { .. }) || is_auth(&failure.error),
            "{target}: {:?}",
            failure.error
        );
        assert!(message.contains("dns error"), "{target}: {message}");
        assert!(message.contains(".invalid"), "{target}: {message}");
    }
}

#[tokio::test]
async fn tls_to_plain_server_fails() {
    for target in TARGETS {
        let server = FaultServer::start(|_| Fault::json(200, "{}"));
        let failure = run_failing(target, &server.https_url(), Duration::from_secs(20)).await;
        assert!(
            matches!(failure.error, ProviderError::Transport { .. }) || is_auth(&failure.error),
            "{target}: {:?}",
            failure.error
        );
        assert!(
            failure.message.contains("https://127.0.0.1"),
            "{target}: {}",
            failure.message
        );
        assert_eq!(
            server.requests(),
            0,
            "{target}: an HTTP request got through"
        );
        let handshakes = server.tls_handshakes();
        assert!(
            (1..=1 + RETRIES as usize).contains(&handshakes),
            "{target}: {handshakes} TLS handshakes"
        );
    }
}

#[tokio::test]
async fn connect_phase_timeout() {
    let backlog = FullBacklog::new();
    let timeout = Duration::from_millis(500);
    for target in TARGETS {
        let failure = run_failing(target, &backlog.http_url(), timeout).await;
        assert!(
            matches!(failure.error, ProviderError::Timeout { .. }),
            "{target}: {:?}",
            failure.error
        );
        assert!(
            failure.message.contains("timed out after 0.5 s"),
            "{}: {}",
            failure.target,
            failure.message
        );
    }
}

#[tokio::test]
async fn header_phase_timeout() {
    // Long enough for the request to reach the server on a loaded machine.
    let timeout = Duration::from_secs(2);
    for (failure, requests) in each_target_against(|_| Fault::StallBeforeHeaders, timeout).await {
        assert!(
            matches!(failure.error, ProviderError::Timeout { .. }),
            "{}: {:?}",
            failure.target,
            failure.error
        );
        assert!(failure.message.contains("timed out"), "{}", failure.message);
        assert_eq!(requests, 1, "{}", failure.target);
    }
}

#[tokio::test]
async fn body_phase_timeout() {
    let plan = |_| Fault::StallInBody {
        status: 200,
        announced: 4096,
        sent: b"{\"tables\": [".to_vec(),
    };
    // Long enough for the request to reach the server on a loaded machine.
    let timeout = Duration::from_secs(2);
    for (failure, requests) in each_target_against(plan, timeout).await {
        assert!(
            matches!(failure.error, ProviderError::Timeout { .. }),
            "{}: {:?}",
            failure.target,
            failure.error
        );
        assert_eq!(requests, 1, "{}", failure.target);
    }
}

#[tokio::test]
async fn server_error_burst_bounded() {
    for status in [500, 502, 503, 504] {
        let plan =
            move |_| Fault::json(status, r#"{"error": {"code": "Down", "message": "down"}}"#);
        for (failure, requests) in each_target_against(plan, Duration::from_secs(20)).await {
            let target = failure.target;
            assert_eq!(requests, 1 + RETRIES as usize, "{target}: HTTP {status}");
            if target == "token-endpoint" {
                assert!(
                    failure.message.contains(&format!("HTTP {status}")),
                    "{target}: {}",
                    failure.message
                );
                continue;
            }
            assert!(
                matches!(failure.error, ProviderError::Server { status: got, attempts: 3, .. } if got == status),
                "{target}: {:?}",
                failure.error
            );
            assert!(
                failure.message.contains("after 3 attempts"),
                "{}",
                failure.message
            );
        }
    }
}

#[tokio::test]
async fn client_errors_not_retried() {
    for status in [400, 404, 405, 409, 413, 418] {
        let plan = move |_| {
            Fault::json(
                status,
                r#"{"error": {"code": "Nope", "message": "rejected by the fake"}}"#,
            )
        };
        for (failure, requests) in each_target_against(plan, Duration::from_secs(20)).await {
            let target = failure.target;
            assert_eq!(requests, 1, "{target}: HTTP {status} was retried");
            assert!(
                failure.message.contains("rejected by the fake")
                    || failure.message.contains(&status.to_string()),
                "{target}: HTTP {status}: {}",
                failure.message
            );
        }
    }
}

#[tokio::test]
async fn server_errors_then_success() {
    // Two 503s and then a valid response, so the run succeeds on its third request.
    let server = FaultServer::start(|index| {
        if index < 2 {
            Fault::text(503, "text/plain", "busy")
        } else {
            Fault::json(
                200,
                r#"{"tables": [{"name": "PrimaryResult", "columns": [{"name": "n", "type": "long"}], "rows": [[7]]}]}"#,
            )
        }
    });
    let result = client("log-analytics", &server.http_url())
        .run(&QueryRequest::new("T"))
        .await
        .expect("the third request succeeds");
    assert_eq!(server.requests(), 3);
    assert_eq!(result.tables[0].rows.len(), 1);
}

#[tokio::test]
async fn throttling_storm_honours_retry_after() {
    let plan = |_| {
        Fault::json(
            429,
            r#"{"error": {"code": "TooMany", "message": "slow down"}}"#,
        )
        .with_header("Retry-After", "1")
    };
    let started = Instant::now();
    for (failure, requests) in each_target_against(plan, Duration::from_secs(20)).await {
        let target = failure.target;
        assert_eq!(requests, 1 + RETRIES as usize, "{target}");
        // Two waits of the requested second each.
        assert!(
            failure.elapsed >= Duration::from_secs(2),
            "{target}: Retry-After was not honoured ({:?})",
            failure.elapsed
        );
        if target != "token-endpoint" {
            assert!(
                matches!(failure.error, ProviderError::Throttled { attempts: 3, .. }),
                "{target}: {:?}",
                failure.error
            );
            assert!(failure.message.contains("HTTP 429"), "{}", failure.message);
            assert!(failure.message.contains("1 s"), "{}", failure.message);
        }
    }
    assert!(started.elapsed() < Duration::from_secs(20));
}

#[tokio::test]
async fn long_retry_after_not_waited() {
    // A wait longer than the policy's five seconds ends the run at once.
    let plan = |_| Fault::json(429, "{}").with_header("Retry-After", "3600");
    for (failure, requests) in each_target_against(plan, Duration::from_secs(20)).await {
        let target = failure.target;
        assert_eq!(requests, 1, "{target}");
        assert!(failure.elapsed < Duration::from_secs(5), "{target}");
        if target != "token-endpoint" {
            assert!(
                failure.message.contains("3600 s"),
                "{target}: {}",
                failure.message
            );
        }
    }
}

#[tokio::test]
async fn truncated_bodies_malformed() {
    let body = br#"{"tables": [{"name": "PrimaryResult", "columns": [], "rows": []}]}"#.to_vec();
    for cut in [0, 1, 12, body.len() - 1] {
        let body = body.clone();
        let plan = move |_| Fault::Truncated {
            status: 200,
            body: body.clone(),
            cut,
        };
        for (failure, requests) in each_target_against(plan, Duration::from_secs(20)).await {
            let target = failure.target;
            assert_eq!(requests, 1, "{target}: cut at {cut}");
            if target == "token-endpoint" {
                assert!(
                    failure.message.contains("token endpoint"),
                    "{}",
                    failure.message
                );
                continue;
            }
            assert!(
                matches!(failure.error, ProviderError::MalformedResponse { .. }),
                "{target}: cut at {cut}: {:?}",
                failure.error
            );
        }
    }
}

#[tokio::test]
async fn malformed_bodies_named() {
    let bodies = [
        ("application/json", "{\"tables\": [1, 2"),
        (
            "application/json",
            "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
        ),
        ("application/json", "\u{feff}\u{0}\u{1}garbage"),
        ("text/html", "<html><body>Gateway login</body></html>"),
    ];
    for (content_type, body) in bodies {
        let plan = move |_| Fault::text(200, content_type, body);
        for (failure, requests) in each_target_against(plan, Duration::from_secs(20)).await {
            let target = failure.target;
            assert_eq!(requests, 1, "{target}");
            assert!(
                matches!(failure.error, ProviderError::MalformedResponse { .. })
                    || failure.message.contains("token endpoint"),
                "{target}: {body:?}: {:?}",
                failure.error
            );
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
        for (failure, requests) in each_target_against(plan, Duration::from_secs(20)).await {
            let target = failure.target;
            assert_eq!(requests, 1, "{target}");
            assert!(
                failure.message.contains("larger than 1 MiB"),
                "{target}: announced {announced}: {}",
                failure.message
            );
            if target != "token-endpoint" {
                assert!(
                    matches!(
                        failure.error,
                        ProviderError::TooLarge {
                            limit: BODY_LIMIT,
                            ..
                        }
                    ),
                    "{target}: {:?}",
                    failure.error
                );
            }
        }
    }
}

#[tokio::test]
async fn huge_error_body_stops_at_limit() {
    let plan = |_| Fault::Endless {
        status: 400,
        announced: false,
    };
    for (failure, requests) in each_target_against(plan, Duration::from_secs(20)).await {
        assert_eq!(requests, 1, "{}", failure.target);
        assert!(
            failure.message.contains("larger than 1 MiB"),
            "{}: {}",
            failure.target,
            failure.message
        );
    }
}

#[tokio::test]
async fn wrong_shape_json_malformed() {
    // Valid JSON of the wrong shape. Splunk is left out because its export format allows a
    // line without a result, so such a body is an empty export there.
    let targets = TARGETS
        .map(|target| target)
        .into_iter()
        .filter(|target| *target != "splunk");
    let targets: Vec<&'static str> = targets.collect();
    for body in [
        r#"{"tables": "not a list"}"#,
        "[]",
        "42",
        r#"{"value": [{"x": 1}], "Results": 7}"#,
    ] {
        let plan = move |_| Fault::json(200, body);
        for (failure, requests) in targets_against(&targets, plan, Duration::from_secs(20)).await {
            let target = failure.target;
            assert_eq!(requests, 1, "{target}");
            assert!(
                matches!(failure.error, ProviderError::MalformedResponse { .. })
                    || failure.message.contains("is not a token"),
                "{target}: {body}: {:?}",
                failure.error
            );
        }
    }
}
