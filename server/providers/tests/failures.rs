//! The same HTTP failures against every client: each must map them to the same error kinds, and
//! no message may contain the token.

mod common;

use std::time::Duration;

use common::{FakeServer, Reply, TEST_TOKEN, assert_no_token, test_credential, test_http_options};
use quarry_providers::auth::Credential;
use quarry_providers::defender::{Defender, DefenderApi, DefenderConfig};
use quarry_providers::kusto::{DataExplorer, DataExplorerConfig};
use quarry_providers::log_analytics::{LogAnalytics, LogAnalyticsConfig};
use quarry_providers::splunk::{Splunk, SplunkConfig};
use quarry_providers::{Provider, ProviderError, QueryRequest, Secret};
use serde_json::json;

const KINDS: [&str; 5] = [
    "log-analytics",
    "data-explorer",
    "defender-graph",
    "defender-legacy",
    "splunk",
];

fn provider(kind: &str, server: &FakeServer) -> Box<dyn Provider> {
    let http = test_http_options();
    match kind {
        "log-analytics" => {
            let mut config = LogAnalyticsConfig::new("ws");
            config.endpoint = server.url();
            Box::new(LogAnalytics::new(config, test_credential(), &http).unwrap())
        }
        "data-explorer" => {
            let config = DataExplorerConfig {
                cluster: server.url(),
                database: "db".to_string(),
                scope: None,
            };
            Box::new(DataExplorer::new(config, test_credential(), &http).unwrap())
        }
        "defender-graph" | "defender-legacy" => {
            let api = if kind == "defender-graph" {
                DefenderApi::Graph
            } else {
                DefenderApi::AdvancedHunting
            };
            let mut config = DefenderConfig::new(api);
            config.endpoint = server.url();
            Box::new(Defender::new(config, test_credential(), &http).unwrap())
        }
        "splunk" => {
            let credential = Credential::SplunkToken(Secret::new(TEST_TOKEN));
            Box::new(
                Splunk::new(
                    SplunkConfig {
                        base_url: server.url(),
                    },
                    credential,
                    &http,
                )
                .unwrap(),
            )
        }
        other => panic!("unknown kind {other}"),
    }
}

fn error_body() -> serde_json::Value {
    json!({"error": {"code": "SomeError", "message": "the service explains"}})
}

async fn run_against(kind: &str, reply: Reply, timeout: Duration) -> (ProviderError, usize) {
    let server = FakeServer::start(move |_, _| reply.clone()).await;
    let mut request = QueryRequest::new("T | take 1");
    request.options.timeout = timeout;
    let error = provider(kind, &server)
        .run(&request)
        .await
        .expect_err("the reply is a failure");
    assert_no_token(&error.to_string());
    assert_no_token(&format!("{error:?}"));
    for sent in server.requests() {
        assert_eq!(
            sent.header("authorization"),
            Some(format!("Bearer {TEST_TOKEN}").as_str()),
            "{kind}"
        );
    }
    (error, server.requests().len())
}

#[tokio::test]
async fn unauthorized_everywhere() {
    for kind in KINDS {
        let (error, requests) = run_against(
            kind,
            Reply::json(401, &error_body()),
            Duration::from_secs(10),
        )
        .await;
        assert!(
            matches!(error, ProviderError::Unauthorized { .. }),
            "{kind}: {error:?}"
        );
        assert!(
            error.to_string().contains("the service explains"),
            "{kind}: {error}"
        );
        assert_eq!(requests, 1, "{kind}");
    }
}

#[tokio::test]
async fn forbidden_everywhere() {
    for kind in KINDS {
        let (error, _) = run_against(
            kind,
            Reply::json(403, &error_body()),
            Duration::from_secs(10),
        )
        .await;
        assert!(
            matches!(error, ProviderError::Forbidden { .. }),
            "{kind}: {error:?}"
        );
        assert!(error.to_string().contains("Check that"), "{kind}: {error}");
    }
}

#[tokio::test]
async fn server_errors_retried_everywhere() {
    for kind in KINDS {
        let (error, requests) = run_against(
            kind,
            Reply::json(502, &error_body()),
            Duration::from_secs(10),
        )
        .await;
        assert!(
            matches!(error, ProviderError::Server { status: 502, .. }),
            "{kind}: {error:?}"
        );
        assert_eq!(requests, 3, "{kind}: one request and two retries");
    }
}

#[tokio::test]
async fn throttling_everywhere() {
    for kind in KINDS {
        let reply = Reply::json(429, &error_body()).with_header("Retry-After", "0");
        let (error, requests) = run_against(kind, reply, Duration::from_secs(10)).await;
        assert!(
            matches!(error, ProviderError::Throttled { .. }),
            "{kind}: {error:?}"
        );
        assert_eq!(requests, 3, "{kind}");
    }
}

#[tokio::test]
async fn timeout_everywhere() {
    for kind in KINDS {
        let reply = Reply::json(200, &json!({})).delayed(Duration::from_secs(10));
        let (error, _) = run_against(kind, reply, Duration::from_millis(200)).await;
        assert!(
            matches!(error, ProviderError::Timeout { .. }),
            "{kind}: {error:?}"
        );
    }
}

#[tokio::test]
async fn cut_body_everywhere() {
    for kind in KINDS {
        let reply = Reply::raw(
            200,
            "application/json",
            b"{\"tables\": [1, 2, 3]}".repeat(10),
        )
        .cut_at(25);
        let (error, _) = run_against(kind, reply, Duration::from_secs(10)).await;
        assert!(
            matches!(error, ProviderError::MalformedResponse { .. }),
            "{kind}: {error:?}"
        );
    }
}

#[tokio::test]
async fn html_error_page_everywhere() {
    // A proxy or gateway in front of the service replies with HTML rather than JSON.
    let page = b"<html><body><h1>502 Bad Gateway</h1></body></html>".to_vec();
    for kind in KINDS {
        let (error, _) = run_against(
            kind,
            Reply::raw(400, "text/html", page.clone()),
            Duration::from_secs(10),
        )
        .await;
        let message = error.to_string();
        assert!(message.contains("502 Bad Gateway"), "{kind}: {message}");
    }
}
