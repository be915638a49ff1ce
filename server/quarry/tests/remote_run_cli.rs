//! `quarry run --connection` against a fake Log Analytics API on 127.0.0.1.

#[path = "../../providers/tests/common/mod.rs"]
mod common;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use common::{FakeServer, Reply};
use serde_json::{Value, json};

const TOKEN: &str = "remote-run-secret-7f3a";

fn workspace_with(name: &str, server: &FakeServer) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("quarry-remote-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let config = format!(
        "[connections.sentinel]\nkind = \"log-analytics\"\nworkspace-id = \"ws-9\"\nendpoint = \"{}\"\n\
         auth = {{ method = \"token\", token = {{ env = \"REMOTE_TOKEN\" }} }}\n",
        server.url()
    );
    std::fs::write(dir.join("quarry.toml"), config).unwrap();
    dir
}

/// Runs the binary on a blocking thread so the fake server keeps serving meanwhile.
async fn run(dir: &Path, args: &[&str]) -> Output {
    let mut all = vec!["run".to_string()];
    all.extend(args.iter().map(|arg| arg.to_string()));
    let dir = dir.to_path_buf();
    tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_quarry"))
            .args(&all)
            .current_dir(&dir)
            .env("HOME", &dir)
            .env("REMOTE_TOKEN", TOKEN)
            .env("RUST_LOG", "trace")
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

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn assert_no_secret(output: &Output) {
    for stream in [&output.stdout, &output.stderr] {
        assert!(!text(stream).contains(TOKEN), "the token leaked");
    }
}

fn typed_reply() -> Value {
    json!({"tables": [{
        "name": "PrimaryResult",
        "columns": [
            {"name": "TimeGenerated", "type": "datetime"},
            {"name": "Computer", "type": "string"},
            {"name": "Duration", "type": "timespan"},
            {"name": "Extra", "type": "dynamic"},
            {"name": "ActivityId", "type": "guid"},
            {"name": "Price", "type": "decimal"},
            {"name": "Bytes", "type": "long"}
        ],
        "rows": [
            ["2024-03-01T10:00:00.1234567Z", "host-1", "01:02:03", "{\"LogonType\":3}",
             "0f8fad5b-d9cb-469f-a165-70867728950e", "12.3400000000000000001", 1024],
            [null, "host-2", "1.00:00:00.5000000", "[1,2]", null, null, null],
            ["2024-03-02T00:00:00Z", "host-3", "00:00:01", "{}", null, "1", 7]
        ]
    }]})
}

#[tokio::test(flavor = "multi_thread")]
async fn json_output_keeps_kusto_types() {
    let reply = typed_reply();
    let server = FakeServer::start(move |_, _| Reply::json(200, &reply)).await;
    let dir = workspace_with("json", &server);
    let output = run(
        &dir,
        &[
            "SecurityEvent | take 3",
            "--connection",
            "sentinel",
            "--timespan",
            "P1D",
            "--format",
            "json",
            "--max-rows",
            "2",
        ],
    )
    .await;
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let result: Value = serde_json::from_slice(&output.stdout).expect("JSON output");
    let types: Vec<&str> = result["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|column| column["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "datetime", "string", "timespan", "dynamic", "guid", "decimal", "long"
        ]
    );
    assert_eq!(
        result["rows"][0],
        json!([
            "2024-03-01T10:00:00.1234567Z",
            "host-1",
            "01:02:03",
            {"LogonType": 3},
            "0f8fad5b-d9cb-469f-a165-70867728950e",
            "12.3400000000000000001",
            1024
        ])
    );
    assert_eq!(result["rows"].as_array().unwrap().len(), 2);
    assert_eq!(result["rowCount"], 3);
    assert_eq!(result["truncated"], true);
    assert!(stderr.contains("showing 2 of 3 rows"), "{stderr}");

    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].path(), "/v1/workspaces/ws-9/query");
    assert_eq!(requests[0].json()["query"], "SecurityEvent | take 3");
    assert_eq!(requests[0].json()["timespan"], "PT86400S");
    assert_no_secret(&output);
    std::fs::remove_dir_all(dir).ok();
}

#[tokio::test(flavor = "multi_thread")]
async fn partial_error_prints_warning() {
    let mut reply = typed_reply();
    reply["error"] = json!({
        "code": "PartialError",
        "message": "There were some errors when processing your query.",
        "details": [{"code": "EngineError", "message": "Something went wrong.",
            "innererror": {"code": "-2133196797", "message": "Query result set has exceeded the internal record count limit 500000"}}]
    });
    let server = FakeServer::start(move |_, _| Reply::json(200, &reply)).await;
    let dir = workspace_with("partial", &server);
    let output = run(&dir, &["T", "--connection", "sentinel"]).await;
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(lines[0].starts_with("TimeGenerated"), "{stdout}");
    assert!(
        lines[2].contains("host-1") && lines[2].contains("{\"LogonType\":3}"),
        "{stdout}"
    );
    assert_eq!(lines.last(), Some(&"(3 rows)"));
    assert!(
        stderr.contains("warning: There were some errors"),
        "{stderr}"
    );
    assert!(stderr.contains("internal record count limit"), "{stderr}");
    assert_no_secret(&output);
    std::fs::remove_dir_all(dir).ok();
}

#[tokio::test(flavor = "multi_thread")]
async fn syntax_error_shows_caret() {
    let reply = json!({"error": {
        "message": "The request had some invalid properties",
        "code": "BadArgumentError",
        "innererror": {"code": "SyntaxError", "message": "A recognition error occurred in the query.",
            "innererror": {"code": "SYN0002", "message": "Query could not be parsed at 'whre' on line [2,3]",
                "line": 2, "pos": 3, "token": "whre"}}
    }});
    let server = FakeServer::start(move |_, _| Reply::json(400, &reply)).await;
    let dir = workspace_with("syntax", &server);
    let output = run(&dir, &["T\n| whre x", "--connection", "sentinel"]).await;
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("could not be parsed at 'whre'"), "{stderr}");
    assert!(stderr.contains("--> query:2:3"), "{stderr}");
    assert!(stderr.contains("2 | | whre x\n  |   ^^^^\n"), "{stderr}");
    assert!(output.stdout.is_empty());
    std::fs::remove_dir_all(dir).ok();
}

#[tokio::test(flavor = "multi_thread")]
async fn unauthorized_hides_token() {
    let server = FakeServer::start(|_, _| {
        Reply::json(
            401,
            &json!({"error": {"code": "InvalidTokenError", "message": "The provided authentication is not valid for this resource"}}),
        )
    })
    .await;
    let dir = workspace_with("401", &server);
    let output = run(&dir, &["T", "--connection", "sentinel"]).await;
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("rejected the credentials (HTTP 401)"),
        "{stderr}"
    );
    assert!(stderr.contains("not valid for this resource"), "{stderr}");
    assert_no_secret(&output);
    std::fs::remove_dir_all(dir).ok();
}

#[tokio::test(flavor = "multi_thread")]
async fn throttled_then_success() {
    let reply = typed_reply();
    let server = FakeServer::start(move |_, index| {
        if index == 0 {
            Reply::json(
                429,
                &json!({"error": {"code": "TooManyRequests", "message": "slow down"}}),
            )
            .with_header("Retry-After", "1")
        } else {
            Reply::json(200, &reply)
        }
    })
    .await;
    let dir = workspace_with("429", &server);
    let output = run(&dir, &["T", "--connection", "sentinel", "--format", "csv"]).await;
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert_eq!(server.requests().len(), 2);
    assert_eq!(text(&output.stdout).lines().count(), 4);
    std::fs::remove_dir_all(dir).ok();
}

#[tokio::test(flavor = "multi_thread")]
async fn timeout_stops_the_run() {
    let reply = typed_reply();
    let server =
        FakeServer::start(move |_, _| Reply::json(200, &reply).delayed(Duration::from_secs(30)))
            .await;
    let dir = workspace_with("timeout", &server);
    let started = std::time::Instant::now();
    let output = run(&dir, &["T", "--connection", "sentinel", "--timeout", "1"]).await;
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("timed out after 1 s"), "{stderr}");
    assert!(started.elapsed() < Duration::from_secs(15));
    std::fs::remove_dir_all(dir).ok();
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_connection_lists_names() {
    let server = FakeServer::start(|_, _| Reply::json(500, &json!({}))).await;
    let dir = workspace_with("unknown", &server);
    let output = run(&dir, &["T", "--connection", "prod"]).await;
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("no connection is named `prod`; configured: sentinel"),
        "{stderr}"
    );
    assert!(server.requests().is_empty());
    std::fs::remove_dir_all(dir).ok();
}

#[tokio::test(flavor = "multi_thread")]
async fn data_explorer_first_table_and_warnings() {
    let columns = json!([
        {"ColumnName": "State", "ColumnType": "string"},
        {"ColumnName": "Damage", "ColumnType": "decimal"},
        {"ColumnName": "Id", "ColumnType": "guid"}
    ]);
    let frames = json!([
        {"FrameType": "DataSetHeader", "IsProgressive": false, "Version": "v2.0"},
        {"FrameType": "DataTable", "TableId": 1, "TableKind": "PrimaryResult", "TableName": "PrimaryResult",
         "Columns": columns, "Rows": [["FLORIDA", "1234.5600000000000000001", "0f8fad5b-d9cb-469f-a165-70867728950e"]]},
        {"FrameType": "DataTable", "TableId": 2, "TableKind": "PrimaryResult", "TableName": "PrimaryResult1",
         "Columns": columns, "Rows": []},
        {"FrameType": "DataSetCompletion", "HasErrors": false, "Cancelled": false}
    ]);
    let server = FakeServer::start(move |_, _| Reply::json(200, &frames)).await;
    let dir = std::env::temp_dir().join(format!("quarry-remote-cli-adx-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let config = format!(
        "[connections.adx]\nkind = \"azure-data-explorer\"\ncluster = \"{}\"\ndatabase = \"Samples\"\n\
         auth = {{ method = \"token\", token = {{ env = \"REMOTE_TOKEN\" }} }}\n",
        server.url()
    );
    std::fs::write(dir.join("quarry.toml"), config).unwrap();

    let output = run(
        &dir,
        &[
            "StormEvents | take 1; StormEvents | take 0",
            "--connection",
            "adx",
            "--start",
            "-2d",
            "--format",
            "csv",
        ],
    )
    .await;
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert_eq!(
        stdout,
        "State,Damage,Id\nFLORIDA,1234.5600000000000000001,0f8fad5b-d9cb-469f-a165-70867728950e\n"
    );
    assert!(
        stderr.contains("warning: the query returned 2 tables; showing the first, `PrimaryResult`"),
        "{stderr}"
    );
    assert!(
        stderr.contains("warning: Azure Data Explorer takes no time range"),
        "{stderr}"
    );
    assert_eq!(server.requests()[0].path(), "/v2/rest/query");
    assert_no_secret(&output);
    std::fs::remove_dir_all(dir).ok();
}

#[tokio::test(flavor = "multi_thread")]
async fn chunks_join_rows_and_report_failures() {
    let server = FakeServer::start(|request, _| {
        let timespan = request.json()["timespan"].as_str().unwrap_or_default().to_owned();
        if timespan.starts_with("2024-03-02") {
            return Reply::json(
                403,
                &json!({"error": {"code": "InsufficientAccessError", "message": "no access today"}}),
            );
        }
        let day = &timespan[..10];
        Reply::json(
            200,
            &json!({"tables": [{"name": "PrimaryResult",
                "columns": [{"name": "Day", "type": "string"}, {"name": "n", "type": "long"}],
                "rows": [[day, 1], [day, 2]]}]}),
        )
    })
    .await;
    let dir = workspace_with("chunks", &server);
    let output = run(
        &dir,
        &[
            "T",
            "--connection",
            "sentinel",
            "--start",
            "2024-03-01T00:00:00Z",
            "--end",
            "2024-03-04T00:00:00Z",
            "--chunk",
            "P1D",
            "--format",
            "csv",
        ],
    )
    .await;
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert_eq!(
        stdout,
        "Day,n\n2024-03-01,1\n2024-03-01,2\n2024-03-03,1\n2024-03-03,2\n"
    );
    assert!(
        stderr.contains("warning: the chunk 2024-03-02T00:00:00Z/2024-03-03T00:00:00Z failed"),
        "{stderr}"
    );
    assert!(stderr.contains("no access today"), "{stderr}");
    let spans: Vec<String> = server
        .requests()
        .iter()
        .map(|request| request.json()["timespan"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        spans,
        [
            "2024-03-01T00:00:00Z/2024-03-02T00:00:00Z",
            "2024-03-02T00:00:00Z/2024-03-03T00:00:00Z",
            "2024-03-03T00:00:00Z/2024-03-04T00:00:00Z"
        ]
    );
    std::fs::remove_dir_all(dir).ok();
}
