//! Secrets in error messages: a service, proxy or gateway that copies the request's
//! credentials into its error body must not make Quarry show them. Each case sends a
//! distinctive token, password or client secret and searches the error's message and debug
//! form for it.

mod fault_server;

use std::sync::Arc;
use std::time::Duration;

use fault_server::{Fault, FaultServer};
use quarry_providers::auth::{
    ClientCredentials, Credential, OAuthEndpoints, StaticToken, TokenCache,
};
use quarry_providers::http::{HttpOptions, RetryPolicy, Transport};
use quarry_providers::log_analytics::{LogAnalytics, LogAnalyticsConfig};
use quarry_providers::splunk::{Splunk, SplunkConfig};
use quarry_providers::{Provider, QueryRequest, Secret};
use url::Url;

const TOKEN: &str = "sec-token-5a1f93c7";
const PASSWORD: &str = "sec-password-e04b2d";
const CLIENT_SECRET: &str = "sec-client-secret-91aa";

fn http_options() -> HttpOptions {
    HttpOptions {
        retry: RetryPolicy {
            max_retries: 0,
            initial_backoff: Duration::from_millis(1),
            max_backoff: Duration::from_millis(1),
            max_retry_after: Duration::from_secs(1),
        },
        use_env_proxy: false,
        ..HttpOptions::default()
    }
}

/// Bodies that repeat a credential the way misbehaving services and proxies do.
fn echoing_bodies(secret: &str, basic: &str) -> Vec<(u16, String)> {
    vec![
        (401, format!("invalid token: Bearer {secret}")),
        (
            401,
            format!(
                r#"{{"error": {{"code": "InvalidToken", "message": "token {secret} is expired"}}}}"#
            ),
        ),
        (
            403,
            format!(r#"{{"messages": [{{"type": "ERROR", "text": "denied for {secret}"}}]}}"#),
        ),
        (
            400,
            format!(
                r#"{{"error": {{"code": "BadArgumentError", "message": "Authorization: Basic {basic} rejected"}}}}"#
            ),
        ),
        (
            500,
            format!("<html><pre>request headers: authorization=Bearer {secret}</pre></html>"),
        ),
        (502, format!("upstream said: {secret}")),
        (
            404,
            format!(r#"{{"error": {{"code": "NotFound", "message": "{secret}"}}}}"#),
        ),
        (418, format!("{secret}{secret}")),
        (
            400,
            format!(
                r#"{{"error": "invalid_client", "error_description": "secret {secret} is wrong"}}"#
            ),
        ),
    ]
}

fn assert_no_secret(context: &str, text: &str, secrets: &[&str]) {
    for secret in secrets {
        assert!(
            !text.contains(secret),
            "{context}: secret {secret:?} in {text}"
        );
    }
}

#[tokio::test]
async fn echoed_bearer_token_redacted() {
    for (status, body) in echoing_bodies(TOKEN, "") {
        let server = FaultServer::start(move |_| Fault::text(status, "text/plain", &body.clone()));
        let mut config = LogAnalyticsConfig::new("ws");
        config.endpoint = Url::parse(&server.http_url()).unwrap();
        let credential =
            Credential::Bearer(Arc::new(StaticToken::new(Secret::new(TOKEN), "the test")));
        let client = LogAnalytics::new(config, credential, &http_options()).unwrap();
        let error = client
            .run(&QueryRequest::new("T"))
            .await
            .expect_err("an error status");
        let context = format!("HTTP {status}");
        assert_no_secret(&context, &error.to_string(), &[TOKEN]);
        assert_no_secret(&context, &format!("{error:?}"), &[TOKEN]);
    }
}

#[tokio::test]
async fn echoed_basic_password_redacted() {
    let basic = base64(format!("hunter:{PASSWORD}").as_bytes());
    for (status, body) in echoing_bodies(PASSWORD, &basic) {
        let server = FaultServer::start(move |_| Fault::text(status, "text/plain", &body.clone()));
        let credential = Credential::Basic {
            username: "hunter".into(),
            password: Secret::new(PASSWORD),
        };
        let config = SplunkConfig {
            base_url: Url::parse(&server.http_url()).unwrap(),
        };
        let client = Splunk::new(config, credential, &http_options()).unwrap();
        let error = client
            .run(&QueryRequest::new("search index=main"))
            .await
            .expect_err("an error status");
        let context = format!("HTTP {status}");
        assert_no_secret(&context, &error.to_string(), &[PASSWORD, &basic]);
        assert_no_secret(&context, &format!("{error:?}"), &[PASSWORD, &basic]);
    }
}

#[tokio::test]
async fn echoed_client_secret_redacted() {
    for (status, body) in echoing_bodies(CLIENT_SECRET, "") {
        let server = FaultServer::start(move |_| Fault::text(status, "text/plain", &body.clone()));
        let endpoints =
            OAuthEndpoints::azure(&Url::parse(&server.http_url()).unwrap(), "tenant").unwrap();
        let source = ClientCredentials::new(
            endpoints,
            "app".into(),
            Secret::new(CLIENT_SECRET),
            Transport::new(&http_options()).unwrap(),
        );
        let mut config = LogAnalyticsConfig::new("ws");
        config.endpoint = Url::parse(&fault_server::refused_url()).unwrap();
        let credential = Credential::Bearer(Arc::new(TokenCache::new(source)));
        let client = LogAnalytics::new(config, credential, &http_options()).unwrap();
        let error = client
            .run(&QueryRequest::new("T"))
            .await
            .expect_err("the sign-in fails");
        let context = format!("HTTP {status}");
        assert_no_secret(&context, &error.to_string(), &[CLIENT_SECRET]);
        assert_no_secret(&context, &format!("{error:?}"), &[CLIENT_SECRET]);
    }
}

/// Encodes `bytes` in standard base64 with padding, as HTTP basic authentication does.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut text = String::new();
    for chunk in bytes.chunks(3) {
        let group = (u32::from(chunk[0]) << 16)
            | (u32::from(chunk.get(1).copied().unwrap_or(0)) << 8)
            | u32::from(chunk.get(2).copied().unwrap_or(0));
        for index in 0..4 {
            if index <= chunk.len() {
                text.push(ALPHABET[(group >> (18 - 6 * index) & 63) as usize] as char);
            } else {
                text.push('=');
            }
        }
    }
    text
}
