//! Template calls in `quarry run --connection`: the call is expanded before the query is sent,
//! and a call that cannot be expanded sends nothing. The service is a fake Log Analytics API on
//! 127.0.0.1.

#[path = "../../providers/tests/common/mod.rs"]
mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::{FakeServer, Reply};
use serde_json::json;

const TOKEN: &str = "template-remote-secret-5d1e";

fn workspace_with(name: &str, server: &FakeServer) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "quarry-templates-remote-{name}-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let config = format!(
        "[connections.sentinel]\nkind = \"log-analytics\"\nworkspace-id = \"ws-1\"\nendpoint = \"{}\"\n\
         auth = {{ method = \"token\", token = {{ env = \"REMOTE_TOKEN\" }} }}\n",
        server.url()
    );
    std::fs::write(dir.join("quarry.toml"), config).unwrap();
    dir
}

/// Runs `quarry run` on a blocking thread so the fake server keeps serving meanwhile.
async fn run(dir: &Path, args: &[&str]) -> Output {
    let mut all = vec!["run".to_owned()];
    all.extend(args.iter().map(|arg| (*arg).to_owned()));
    let dir = dir.to_path_buf();
    tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_quarry"))
            .args(&all)
            .current_dir(&dir)
            .env("HOME", &dir)
            .env("REMOTE_TOKEN", TOKEN)
            .env_remove("QUARRY_TEMPLATE_PATH")
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

fn reply() -> serde_json::Value {
    json!({"tables": [{
        "name": "PrimaryResult",
        "columns": [{"name": "Computer", "type": "string"}],
        "rows": [["WS1"]]
    }]})
}

#[tokio::test(flavor = "multi_thread")]
async fn remote_run_sends_expanded_query() {
    let body = reply();
    let server = FakeServer::start(move |_, _| Reply::json(200, &body)).await;
    let dir = workspace_with("expanded", &server);
    let output = run(
        &dir,
        &[
            "--connection",
            "sentinel",
            "WindowsSecurity.list_host_logons(host_name=\"WS1\\\" | take 0\", start=datetime(2024-05-01), end=\"2024-05-02\")\n| take 5",
            "--format",
            "csv",
        ],
    )
    .await;
    std::fs::remove_dir_all(&dir).ok();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    let sent = requests[0].json()["query"].as_str().unwrap().to_owned();
    assert!(
        sent.starts_with(
            "SecurityEvent\n| where TimeGenerated between (datetime(2024-05-01T00:00:00"
        ),
        "{sent}"
    );
    assert!(
        sent.contains(r#"| where Computer has "WS1\" | take 0""#),
        "{sent}"
    );
    assert!(sent.ends_with("\n| take 5"), "{sent}");
    assert!(!sent.contains("WindowsSecurity."), "{sent}");
    assert!(quarry_syntax::parse(&sent).errors.is_empty(), "{sent}");
}

#[tokio::test(flavor = "multi_thread")]
async fn remote_run_sends_nothing_for_bad_call() {
    let body = reply();
    let server = FakeServer::start(move |_, _| Reply::json(200, &body)).await;
    let dir = workspace_with("bad-call", &server);
    let output = run(
        &dir,
        &[
            "--connection",
            "sentinel",
            "WindowsSecurity.list_host_logons(hostname=\"WS1\", limit=5)",
        ],
    )
    .await;
    std::fs::remove_dir_all(&dir).ok();
    assert!(!output.status.success());
    let message = String::from_utf8_lossy(&output.stderr);
    assert!(message.contains("has no parameter `limit`"), "{message}");
    assert!(server.requests().is_empty(), "nothing reaches the service");
}
