//! Azure CLI tokens from a stub `az` script put on `PATH`.
//!
//! This binary contains a single test because it changes `PATH` for the whole process.

#![cfg(unix)]

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use common::{FakeServer, Reply, test_http_options};
use quarry_providers::auth::{AzureCliCredential, Credential, TokenSource};
use quarry_providers::log_analytics::{LogAnalytics, LogAnalyticsConfig};
use quarry_providers::{Provider, ProviderError, QueryRequest};
use serde_json::json;

const CLI_TOKEN: &str = "cli-token-e3b0";

/// Writes an `az` stub that logs its arguments and prints a token, or fails like a signed-out CLI
/// when `fail` is set.
fn write_stub(dir: &Path, fail: bool) -> PathBuf {
    let log = dir.join("az-args.log");
    let body = if fail {
        "echo \"ERROR: Please run 'az login' to setup account.\" >&2\nexit 1\n".to_string()
    } else {
        format!(
            "cat <<'EOF'\n{{\n  \"accessToken\": \"{CLI_TOKEN}\",\n  \"expiresOn\": \"2099-01-01 00:00:00.000000\",\n  \"expires_on\": 4070908800,\n  \"subscription\": \"sub\",\n  \"tenant\": \"tenant-1\",\n  \"tokenType\": \"Bearer\"\n}}\nEOF\n"
        )
    };
    let script = format!("#!/bin/sh\necho \"$@\" >> '{}'\n{body}", log.display());
    let path = dir.join("az");
    std::fs::write(&path, script).expect("write stub");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod stub");
    log
}

#[test]
fn azure_cli_tokens_from_path() {
    let root = std::env::temp_dir().join(format!("quarry-az-stub-{}", std::process::id()));
    let (good, bad, empty) = (root.join("good"), root.join("bad"), root.join("empty"));
    for dir in [&good, &bad, &empty] {
        std::fs::create_dir_all(dir).expect("create stub dir");
    }
    let log = write_stub(&good, false);
    write_stub(&bad, true);
    let system_path = std::env::var("PATH").unwrap_or_default();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");

    // SAFETY: this binary runs only this test, so no other thread reads the environment while
    // PATH changes. The runtime is single-threaded and child processes inherit a complete PATH.
    unsafe { std::env::set_var("PATH", format!("{}:{system_path}", good.display())) };
    runtime.block_on(async {
        let credential = AzureCliCredential::new(Some("tenant-1".to_string()));
        let token = credential
            .token("https://api.loganalytics.io/.default")
            .await
            .expect("token from the stub");
        assert_eq!(token.token.expose(), CLI_TOKEN);
        let expiry = token.expires_at.expect("expiry");
        assert_eq!(
            expiry
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs(),
            4_070_908_800
        );

        // The token goes into the query's Authorization header.
        let server = FakeServer::start(|_, _| Reply::json(200, &json!({"tables": []}))).await;
        let mut config = LogAnalyticsConfig::new("ws");
        config.endpoint = server.url();
        let client = LogAnalytics::new(
            config,
            Credential::Bearer(Arc::new(credential)),
            &test_http_options(),
        )
        .unwrap();
        client.run(&QueryRequest::new("T")).await.expect("query");
        assert_eq!(
            server.requests()[0].header("authorization"),
            Some(format!("Bearer {CLI_TOKEN}").as_str())
        );
    });
    let args = std::fs::read_to_string(&log).expect("stub log");
    let first = args.lines().next().expect("one call");
    assert_eq!(
        first,
        "account get-access-token --scope https://api.loganalytics.io/.default --output json --tenant tenant-1"
    );

    unsafe { std::env::set_var("PATH", format!("{}:{system_path}", bad.display())) };
    runtime.block_on(async {
        let credential = AzureCliCredential::new(Some("tenant-1".to_string()));
        let error = credential
            .token("https://api.loganalytics.io/.default")
            .await
            .expect_err("signed out");
        let message = error.to_string();
        assert!(
            message.contains("Please run 'az login' to setup account."),
            "{message}"
        );
        assert!(
            message.contains("Run `az login --tenant tenant-1`"),
            "{message}"
        );

        // A 401 from the service with a CLI token asks the user to sign in again.
        let server = FakeServer::start(|_, _| {
            Reply::json(
                401,
                &json!({"error": {"code": "InvalidTokenError", "message": "expired"}}),
            )
        })
        .await;
        let mut config = LogAnalyticsConfig::new("ws");
        config.endpoint = server.url();
        let with_good_token = AzureCliCredential::new(None).with_program(good.join("az"));
        let client = LogAnalytics::new(
            config,
            Credential::Bearer(Arc::new(with_good_token)),
            &test_http_options(),
        )
        .unwrap();
        let error = client.run(&QueryRequest::new("T")).await.expect_err("401");
        assert!(
            matches!(error, ProviderError::Unauthorized { .. }),
            "{error:?}"
        );
        assert!(
            error
                .to_string()
                .contains("Run `az login` with an account that can read"),
            "{error}"
        );
        assert!(!error.to_string().contains(CLI_TOKEN), "{error}");
    });

    unsafe { std::env::set_var("PATH", empty.display().to_string()) };
    runtime.block_on(async {
        let error = AzureCliCredential::new(None)
            .token("scope")
            .await
            .expect_err("no az");
        assert!(
            error.to_string().contains("was not found on PATH"),
            "{error}"
        );
    });

    unsafe { std::env::set_var("PATH", system_path) };
    std::fs::remove_dir_all(&root).ok();
}
