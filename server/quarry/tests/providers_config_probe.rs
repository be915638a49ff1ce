//! `quarry config check --probe` against a fake Log Analytics API on 127.0.0.1.

#[path = "../../providers/tests/common/mod.rs"]
mod common;

use std::path::PathBuf;
use std::process::Output;

use common::{FakeServer, Reply};
use serde_json::json;

const TOKEN: &str = "probe-token-42";

fn workspace_with(name: &str, server: &FakeServer) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("quarry-probe-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let config = format!(
        "[connections.prod]\nkind = \"log-analytics\"\nworkspace-id = \"ws-1\"\nendpoint = \"{}\"\n\
         auth = {{ method = \"token\", token = {{ env = \"PROBE_TOKEN\" }} }}\n",
        server.url()
    );
    std::fs::write(dir.join("quarry.toml"), config).unwrap();
    dir
}

/// Runs the binary on a blocking thread so the fake server keeps serving meanwhile.
async fn run_probe(dir: PathBuf, names: &[&str]) -> Output {
    let mut args = vec!["config".to_string(), "check".to_string()];
    for name in names {
        args.push("--probe".to_string());
        args.push(name.to_string());
    }
    tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_quarry"))
            .args(&args)
            .current_dir(&dir)
            .env("HOME", &dir)
            .env("PROBE_TOKEN", TOKEN)
            .env_remove("MSTICPYCONFIG")
            .env_remove("XDG_CONFIG_HOME")
            .env_remove("HTTPS_PROXY")
            .env_remove("HTTP_PROXY")
            .env_remove("https_proxy")
            .env_remove("http_proxy")
            .output()
            .expect("run quarry")
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn probe_runs_query() {
    let server = FakeServer::start(|_, _| {
        Reply::json(200, &json!({"tables": [{"name": "PrimaryResult", "columns": [{"name": "probe", "type": "long"}], "rows": [[1]]}]}))
    })
    .await;
    let dir = workspace_with("ok", &server);
    let output = run_probe(dir.clone(), &["prod"]).await;
    let stdout = String::from_utf8_lossy(&output.stdout);

    assert_eq!(
        output.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("prod: ok, 1 row(s)"), "{stdout}");
    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].path(), "/v1/workspaces/ws-1/query");
    assert_eq!(requests[0].json()["query"], "print probe = 1");
    assert_eq!(
        requests[0].header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    std::fs::remove_dir_all(dir).ok();
}

#[tokio::test(flavor = "multi_thread")]
async fn probe_reports_forbidden() {
    let server = FakeServer::start(|_, _| {
        Reply::json(403, &json!({"error": {"code": "InsufficientAccessError", "message": "The provided credentials have insufficient access"}}))
    })
    .await;
    let dir = workspace_with("forbidden", &server);
    let output = run_probe(dir.clone(), &["prod", "missing"]).await;
    let stdout = String::from_utf8_lossy(&output.stdout);

    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("prod: failed: Log Analytics denied access (HTTP 403)"),
        "{stdout}"
    );
    assert!(stdout.contains("Log Analytics Reader"), "{stdout}");
    assert!(
        stdout.contains("missing: failed: no connection is named `missing`; configured: prod"),
        "{stdout}"
    );
    assert!(!stdout.contains(TOKEN), "{stdout}");
    std::fs::remove_dir_all(dir).ok();
}
