//! A query back end whose HTTPS certificate no trust store accepts: a self-signed certificate on
//! 127.0.0.1. The run fails at once with an error that states the certificate is not trusted and
//! how to make it trusted, and sends no retries, because another handshake cannot succeed.

mod common;
mod fault_tls_server;

use std::time::{Duration, Instant};

use common::{assert_no_token, test_credential, test_http_options};
use fault_tls_server::SelfSignedServer;
use quarry_providers::log_analytics::{LogAnalytics, LogAnalyticsConfig};
use quarry_providers::{Provider, ProviderError, QueryRequest};

#[tokio::test]
async fn self_signed_certificate_not_trusted() {
    let server = SelfSignedServer::start().await;
    let mut config = LogAnalyticsConfig::new("ws");
    config.endpoint = url::Url::parse(&server.url()).expect("server URL");
    let client =
        LogAnalytics::new(config, test_credential(), &test_http_options()).expect("client builds");

    let mut request = QueryRequest::new("SecurityEvent | take 1");
    request.options.timeout = Duration::from_secs(20);
    let started = Instant::now();
    let error = client
        .run(&request)
        .await
        .expect_err("untrusted certificate");
    let elapsed = started.elapsed();

    assert!(
        matches!(error, ProviderError::Transport { .. }),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(message.contains("certificate is not trusted"), "{message}");
    assert!(message.contains("SSL_CERT_FILE"), "{message}");
    assert!(message.contains(&server.addr.to_string()), "{message}");
    assert_no_token(&message);
    // The test options allow two retries for a failed connection, but none for this one.
    assert_eq!(server.connections(), 1, "{message}");
    // This bound only catches a hang, because a handshake on 127.0.0.1 takes milliseconds.
    assert!(elapsed < Duration::from_secs(10), "{elapsed:?}");
}
