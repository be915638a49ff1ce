//! The Splunk client against a fake `/services/search/jobs/export` endpoint on 127.0.0.1.

mod common;

use std::time::Duration;

use common::{FakeServer, Reply, test_http_options};
use quarry_providers::auth::Credential;
use quarry_providers::splunk::{Splunk, SplunkConfig};
use quarry_providers::table::{ColumnType, Value};
use quarry_providers::{Provider, ProviderError, QueryRequest, Secret, TimeRange};
use serde_json::json;

const SPLUNK_TOKEN: &str = "splunk-token-91ab";

fn client(server: &FakeServer, credential: Credential) -> Splunk {
    Splunk::new(
        SplunkConfig {
            base_url: server.url(),
        },
        credential,
        &test_http_options(),
    )
    .expect("client")
}

fn export_body(lines: &[serde_json::Value]) -> Vec<u8> {
    lines
        .iter()
        .map(|line| format!("{line}\n"))
        .collect::<String>()
        .into_bytes()
}

#[tokio::test]
async fn export_request_and_rows() {
    let body = export_body(&[
        json!({"preview": false, "offset": 0, "result": {"_time": "2024-03-01T10:00:00.000+00:00", "host": "web-1", "status": "404"}}),
        json!({"preview": false, "offset": 1, "lastrow": true, "result": {"_time": "2024-03-01T10:01:00.000+00:00", "host": "web-2", "status": "500", "uri": ["/a", "/b"]}}),
    ]);
    let server =
        FakeServer::start(move |_, _| Reply::raw(200, "application/json", body.clone())).await;
    let mut request = QueryRequest::new("index=web status>=400");
    request.time_range = Some(TimeRange::Last(Duration::from_secs(86_400)));
    let result = client(&server, Credential::SplunkToken(Secret::new(SPLUNK_TOKEN)))
        .run(&request)
        .await
        .expect("search succeeds");

    let sent = &server.requests()[0];
    assert_eq!(sent.method, "POST");
    assert_eq!(sent.path(), "/services/search/jobs/export");
    assert_eq!(
        sent.header("authorization"),
        Some(format!("Bearer {SPLUNK_TOKEN}").as_str())
    );
    let form = sent.form();
    assert_eq!(form["search"], "search index=web status>=400");
    assert_eq!(form["output_mode"], "json");
    assert_eq!(form["earliest_time"], "-86400s");
    assert_eq!(form["latest_time"], "now");

    let table = &result.tables[0];
    let names: Vec<&str> = table.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["_time", "host", "status", "uri"]);
    assert_eq!(table.columns[0].column_type, ColumnType::DateTime);
    assert_eq!(table.columns[2].column_type, ColumnType::String);
    assert_eq!(table.columns[3].column_type, ColumnType::Dynamic);
    assert_eq!(table.rows[0][3], Value::Null);
    assert_eq!(table.rows[1][3], Value::Dynamic(json!(["/a", "/b"])));
}

#[tokio::test]
async fn basic_auth_is_sent() {
    let server = FakeServer::start(|_, _| Reply::raw(200, "application/json", Vec::new())).await;
    let credential = Credential::Basic {
        username: "hunter".to_string(),
        password: Secret::new("pa55"),
    };
    client(&server, credential)
        .run(&QueryRequest::new("| tstats count"))
        .await
        .expect("search succeeds");

    let sent = &server.requests()[0];
    // base64("hunter:pa55")
    assert_eq!(sent.header("authorization"), Some("Basic aHVudGVyOnBhNTU="));
    assert_eq!(sent.form()["search"], "| tstats count");
}

#[tokio::test]
async fn bad_spl_is_query_error() {
    let reply = json!({"messages": [{"type": "FATAL", "text": "Error in 'search' command: Unable to parse the search: unbalanced parentheses."}]});
    let server = FakeServer::start(move |_, _| Reply::json(400, &reply)).await;
    let error = client(&server, Credential::SplunkToken(Secret::new(SPLUNK_TOKEN)))
        .run(&QueryRequest::new("index=web (status=404"))
        .await
        .expect_err("bad SPL");
    assert!(matches!(error, ProviderError::Query(_)), "{error:?}");
    assert!(
        error.to_string().contains("unbalanced parentheses"),
        "{error}"
    );
}

#[tokio::test]
async fn streamed_fatal_without_rows_is_error() {
    let body = export_body(&[
        json!({"preview": false, "messages": [{"type": "FATAL", "text": "Unknown search command 'foo'."}]}),
    ]);
    let server =
        FakeServer::start(move |_, _| Reply::raw(200, "application/json", body.clone())).await;
    let error = client(&server, Credential::SplunkToken(Secret::new(SPLUNK_TOKEN)))
        .run(&QueryRequest::new("| foo"))
        .await
        .expect_err("fatal");
    assert!(
        error.to_string().contains("Unknown search command 'foo'"),
        "{error}"
    );
}

#[tokio::test]
async fn warning_message_beside_rows() {
    let body = export_body(&[
        json!({"preview": false, "messages": [{"type": "WARN", "text": "Search filter truncated."}, {"type": "INFO", "text": "ok"}]}),
        json!({"preview": false, "offset": 0, "lastrow": true, "result": {"host": "web-1"}}),
    ]);
    let server =
        FakeServer::start(move |_, _| Reply::raw(200, "application/json", body.clone())).await;
    let result = client(&server, Credential::SplunkToken(Secret::new(SPLUNK_TOKEN)))
        .run(&QueryRequest::new("index=web"))
        .await
        .expect("rows");
    assert_eq!(result.tables[0].rows.len(), 1);
    assert_eq!(result.warnings.len(), 1);
    assert_eq!(result.warnings[0].message, "Search filter truncated.");
}

#[tokio::test]
async fn unauthorized_names_the_user() {
    let reply = json!({"messages": [{"type": "WARN", "text": "call not properly authenticated"}]});
    let server = FakeServer::start(move |_, _| Reply::json(401, &reply)).await;
    let credential = Credential::Basic {
        username: "hunter".to_string(),
        password: Secret::new("wrong-pass"),
    };
    let error = client(&server, credential)
        .run(&QueryRequest::new("index=web"))
        .await
        .expect_err("401");
    let message = error.to_string();
    assert!(
        message.contains("call not properly authenticated"),
        "{message}"
    );
    assert!(message.contains("Splunk user `hunter`"), "{message}");
    assert!(!message.contains("wrong-pass"), "{message}");
}

#[tokio::test]
async fn malformed_line_is_reported() {
    let body =
        b"{\"preview\":false,\"result\":{\"host\":\"a\"}}\n{\"preview\":false,\"resu".to_vec();
    let server =
        FakeServer::start(move |_, _| Reply::raw(200, "application/json", body.clone())).await;
    let error = client(&server, Credential::SplunkToken(Secret::new(SPLUNK_TOKEN)))
        .run(&QueryRequest::new("index=web"))
        .await
        .expect_err("cut line");
    assert!(
        error.to_string().contains("line 2 is not valid JSON"),
        "{error}"
    );
}

#[tokio::test]
async fn absolute_range_in_epoch_seconds() {
    let server = FakeServer::start(|_, _| Reply::raw(200, "application/json", Vec::new())).await;
    let mut request = QueryRequest::new("index=web");
    let start = chrono::DateTime::from_timestamp(1_709_251_200, 0).unwrap();
    let end = chrono::DateTime::from_timestamp(1_709_337_600, 0).unwrap();
    request.time_range = Some(TimeRange::Between { start, end });
    client(&server, Credential::SplunkToken(Secret::new(SPLUNK_TOKEN)))
        .run(&request)
        .await
        .expect("search succeeds");

    let form = server.requests()[0].form();
    assert_eq!(form["earliest_time"], "1709251200");
    assert_eq!(form["latest_time"], "1709337600");
}

#[tokio::test]
async fn row_limit_counts_streamed_rows() {
    // Written by hand because `json!` would sort the fields, and their order matters here.
    let lines: Vec<String> = (0..50_000)
        .map(|i| {
            format!(
                r#"{{"preview":false,"offset":{i},"result":{{"host":"web-{i}","bytes":"{i}"}}}}"#
            )
        })
        .collect();
    // No newline after the last line: the reader must still take it.
    let body = lines.join("\n").into_bytes();
    let server =
        FakeServer::start(move |_, _| Reply::raw(200, "application/json", body.clone())).await;
    let mut request = QueryRequest::new("index=web");
    request.options.row_limit = Some(10);
    let result = client(&server, Credential::SplunkToken(Secret::new(SPLUNK_TOKEN)))
        .run(&request)
        .await
        .expect("rows");

    let table = &result.tables[0];
    assert_eq!(table.rows.len(), 10);
    assert_eq!(table.total_rows, 50_000);
    assert!(result.is_truncated());
    let names: Vec<&str> = table.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["host", "bytes"], "Splunk's field order");
    assert_eq!(table.rows[9][0], Value::String("web-9".to_string()));
}

#[tokio::test]
async fn preview_rows_are_skipped() {
    let body = export_body(&[
        json!({"preview": true, "offset": 0, "result": {"count": "1"}}),
        json!({"preview": false, "offset": 0, "lastrow": true, "result": {"count": "7"}}),
    ]);
    let server =
        FakeServer::start(move |_, _| Reply::raw(200, "application/json", body.clone())).await;
    let result = client(&server, Credential::SplunkToken(Secret::new(SPLUNK_TOKEN)))
        .run(&QueryRequest::new("index=web | stats count"))
        .await
        .expect("rows");
    assert_eq!(
        result.tables[0].rows,
        vec![vec![Value::String("7".to_string())]]
    );
    assert_eq!(result.tables[0].total_rows, 1);
}
