//! The Log Analytics client against a fake query API on 127.0.0.1.

mod common;

use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use common::{FakeServer, Reply, TEST_TOKEN, assert_no_token, test_credential, test_http_options};
use quarry_providers::log_analytics::{LogAnalytics, LogAnalyticsConfig};
use quarry_providers::table::{ColumnType, TimeSpan, Value};
use quarry_providers::{
    Provider, ProviderError, QueryRequest, RunOptions, SourceLocation, TimeRange,
};
use serde_json::json;

const WORKSPACE: &str = "6b0f1c9e-52d3-4a8c-9f1e-3d2c1b0a9f8e";

fn client(server: &FakeServer) -> LogAnalytics {
    let mut config = LogAnalyticsConfig::new(WORKSPACE);
    config.endpoint = server.url();
    LogAnalytics::new(config, test_credential(), &test_http_options()).expect("client")
}

fn typed_table() -> serde_json::Value {
    json!({
        "name": "PrimaryResult",
        "columns": [
            {"name": "TimeGenerated", "type": "datetime"},
            {"name": "Computer", "type": "string"},
            {"name": "EventID", "type": "int"},
            {"name": "Bytes", "type": "long"},
            {"name": "Score", "type": "real"},
            {"name": "Price", "type": "decimal"},
            {"name": "Elevated", "type": "bool"},
            {"name": "Duration", "type": "timespan"},
            {"name": "ActivityId", "type": "guid"},
            {"name": "Extra", "type": "dynamic"}
        ],
        "rows": [
            ["2024-03-01T10:00:00.1234567Z", "host-1", 4624, 1024, 0.5, "12.3400000000000000001", true,
             "01:02:03", "0f8fad5b-d9cb-469f-a165-70867728950e", "{\"LogonType\":3}"],
            [null, "host-2", 4625, null, "NaN", null, false, "1.00:00:00.5000000", null, "[1,2]"]
        ]
    })
}

#[tokio::test]
async fn query_sends_documented_request() {
    let server =
        FakeServer::start(|_, _| Reply::json(200, &json!({"tables": [typed_table()]}))).await;
    let mut config = LogAnalyticsConfig::new(WORKSPACE);
    config.endpoint = server.url();
    config.additional_workspaces = vec!["second-workspace".to_string()];
    let client =
        LogAnalytics::new(config, test_credential(), &test_http_options()).expect("client");

    let start = Utc.with_ymd_and_hms(2024, 3, 1, 0, 0, 0).unwrap();
    let end = Utc.with_ymd_and_hms(2024, 3, 2, 0, 0, 0).unwrap();
    let mut request = QueryRequest::new("SecurityEvent | take 2");
    request.time_range = Some(TimeRange::Between { start, end });
    request.options.timeout = Duration::from_secs(30);
    client.run(&request).await.expect("query succeeds");

    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    let sent = &requests[0];
    assert_eq!(sent.method, "POST");
    assert_eq!(sent.path(), format!("/v1/workspaces/{WORKSPACE}/query"));
    assert_eq!(
        sent.header("authorization"),
        Some(format!("Bearer {TEST_TOKEN}").as_str())
    );
    assert_eq!(
        sent.header("prefer"),
        Some("wait=30, include-statistics=true, include-render=true")
    );
    assert_eq!(sent.header("content-type"), Some("application/json"));
    let body = sent.json();
    assert_eq!(body["query"], "SecurityEvent | take 2");
    assert_eq!(
        body["timespan"],
        "2024-03-01T00:00:00Z/2024-03-02T00:00:00Z"
    );
    assert_eq!(body["workspaces"], json!(["second-workspace"]));
}

#[tokio::test]
async fn query_keeps_kusto_types() {
    let reply = json!({
        "tables": [typed_table()],
        "statistics": {"query": {"executionTime": 0.04}},
        "render": {"visualization": "timechart", "title": "Logons"}
    });
    let server = FakeServer::start(move |_, _| Reply::json(200, &reply)).await;
    let result = client(&server)
        .run(&QueryRequest::new("T"))
        .await
        .expect("query succeeds");

    assert_eq!(result.tables.len(), 1);
    let table = &result.tables[0];
    let types: Vec<ColumnType> = table.columns.iter().map(|c| c.column_type).collect();
    assert_eq!(
        types,
        [
            ColumnType::DateTime,
            ColumnType::String,
            ColumnType::Int,
            ColumnType::Long,
            ColumnType::Real,
            ColumnType::Decimal,
            ColumnType::Bool,
            ColumnType::TimeSpan,
            ColumnType::Guid,
            ColumnType::Dynamic
        ]
    );
    let first = &table.rows[0];
    let expected_time = Utc.with_ymd_and_hms(2024, 3, 1, 10, 0, 0).unwrap()
        + chrono::Duration::nanoseconds(123_456_700);
    assert_eq!(first[0], Value::DateTime(expected_time));
    assert_eq!(first[2], Value::Long(4624));
    assert_eq!(
        first[5],
        Value::Decimal("12.3400000000000000001".to_string())
    );
    assert_eq!(
        first[7],
        Value::TimeSpan(TimeSpan {
            ticks: 37_230_000_000
        })
    );
    assert_eq!(
        first[8],
        Value::Guid("0f8fad5b-d9cb-469f-a165-70867728950e".to_string())
    );
    assert_eq!(first[9], Value::Dynamic(json!({"LogonType": 3})));
    let second = &table.rows[1];
    assert_eq!(second[0], Value::Null);
    assert!(matches!(second[4], Value::Real(real) if real.is_nan()));
    assert_eq!(second[9], Value::Dynamic(json!([1, 2])));

    let render = result.render.expect("render hint");
    assert_eq!(render.visualization, "timechart");
    assert_eq!(render.properties.get("title"), Some(&json!("Logons")));
    assert_eq!(
        result.statistics,
        Some(json!({"query": {"executionTime": 0.04}}))
    );
}

#[tokio::test]
async fn query_returns_several_tables() {
    let mut second = typed_table();
    second["name"] = json!("PrimaryResult1");
    let reply = json!({"tables": [typed_table(), second]});
    let server = FakeServer::start(move |_, _| Reply::json(200, &reply)).await;
    let result = client(&server)
        .run(&QueryRequest::new("T | fork (take 1) (take 2)"))
        .await
        .expect("query succeeds");
    let names: Vec<&str> = result.tables.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["PrimaryResult", "PrimaryResult1"]);
}

#[tokio::test]
async fn partial_error_becomes_warning() {
    let reply = json!({
        "tables": [typed_table()],
        "error": {
            "code": "PartialError",
            "message": "There were some errors when processing your query.",
            "details": [{
                "code": "EngineError",
                "message": "Something went wrong processing your query on the server.",
                "innererror": {
                    "code": "-2133196797",
                    "message": "Query result set has exceeded the internal record count limit 500000",
                    "severity": 2,
                    "severityName": "Error"
                }
            }]
        }
    });
    let server = FakeServer::start(move |_, _| Reply::json(200, &reply)).await;
    let result = client(&server)
        .run(&QueryRequest::new("T"))
        .await
        .expect("rows despite the error");

    assert_eq!(result.tables[0].rows.len(), 2);
    assert_eq!(result.warnings.len(), 1);
    let warning = &result.warnings[0];
    assert_eq!(warning.code.as_deref(), Some("-2133196797"));
    assert!(
        warning.message.starts_with("There were some errors"),
        "{}",
        warning.message
    );
    assert!(
        warning
            .message
            .contains("exceeded the internal record count limit"),
        "{}",
        warning.message
    );
}

#[tokio::test]
async fn syntax_error_carries_position() {
    let reply = json!({"error": {
        "message": "The request had some invalid properties",
        "code": "BadArgumentError",
        "correlationId": "5f6b4b1e-0000-0000-0000-000000000000",
        "innererror": {
            "code": "SyntaxError",
            "message": "A recognition error occurred in the query.",
            "innererror": {
                "code": "SYN0002",
                "message": "Query could not be parsed at 'whre' on line [2,3]",
                "line": 2, "pos": 3, "token": "whre"
            }
        }
    }});
    let server = FakeServer::start(move |_, _| Reply::json(400, &reply)).await;
    let error = client(&server)
        .run(&QueryRequest::new("T\n| whre x"))
        .await
        .expect_err("syntax error");

    let ProviderError::Query(query_error) = &error else {
        panic!("expected a query error, got {error:?}")
    };
    assert_eq!(
        query_error.location,
        Some(SourceLocation { line: 2, column: 3 })
    );
    assert_eq!(query_error.code.as_deref(), Some("SYN0002"));
    let message = error.to_string();
    assert!(message.contains("at line 2, column 3"), "{message}");
    assert!(
        message.contains("could not be parsed at 'whre'"),
        "{message}"
    );
}

#[tokio::test]
async fn semantic_error_names_column() {
    let reply = json!({"error": {
        "message": "The request had some invalid properties",
        "code": "BadArgumentError",
        "innererror": {
            "code": "SemanticError",
            "message": "A semantic error occurred.",
            "innererror": {
                "code": "SEM0100",
                "message": "'where' operator: Failed to resolve column or scalar expression named 'Acount'"
            }
        }
    }});
    let server = FakeServer::start(move |_, _| Reply::json(400, &reply)).await;
    let error = client(&server)
        .run(&QueryRequest::new("T | where Acount == 1"))
        .await
        .expect_err("semantic error");

    let ProviderError::Query(query_error) = &error else {
        panic!("expected a query error, got {error:?}")
    };
    assert_eq!(query_error.code.as_deref(), Some("SEM0100"));
    assert_eq!(query_error.location, None);
    assert!(error.to_string().contains("named 'Acount'"), "{error}");
}

#[tokio::test]
async fn unauthorized_says_what_to_do() {
    let reply = json!({"error": {"code": "InvalidTokenError", "message": "The provided authentication is not valid for this resource"}});
    let server = FakeServer::start(move |_, _| Reply::json(401, &reply)).await;
    let error = client(&server)
        .run(&QueryRequest::new("T"))
        .await
        .expect_err("401");

    assert!(
        matches!(error, ProviderError::Unauthorized { .. }),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(message.contains("HTTP 401"), "{message}");
    assert!(message.contains("not valid for this resource"), "{message}");
    assert!(message.contains("put a fresh token there"), "{message}");
    assert_no_token(&message);
    assert_no_token(&format!("{error:?}"));
    // A fixed token cannot change, so the client does not ask twice.
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn forbidden_names_the_role() {
    let reply = json!({"error": {"code": "InsufficientAccessError", "message": "The provided credentials have insufficient access to perform the requested operation"}});
    let server = FakeServer::start(move |_, _| Reply::json(403, &reply)).await;
    let error = client(&server)
        .run(&QueryRequest::new("T"))
        .await
        .expect_err("403");

    assert!(
        matches!(error, ProviderError::Forbidden { .. }),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(message.contains("insufficient access"), "{message}");
    assert!(message.contains("Log Analytics Reader"), "{message}");
}

#[tokio::test]
async fn throttling_honours_retry_after() {
    let server = FakeServer::start(|_, index| {
        if index == 0 {
            Reply::json(
                429,
                &json!({"error": {"code": "TooManyRequests", "message": "Too many requests"}}),
            )
            .with_header("Retry-After", "1")
        } else {
            Reply::json(200, &json!({"tables": [typed_table()]}))
        }
    })
    .await;
    let started = Instant::now();
    let result = client(&server)
        .run(&QueryRequest::new("T"))
        .await
        .expect("succeeds after the retry");

    assert_eq!(result.tables[0].rows.len(), 2);
    assert_eq!(server.requests().len(), 2);
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "waited {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn throttling_gives_up_after_retries() {
    let server = FakeServer::start(|_, _| {
        Reply::json(
            429,
            &json!({"error": {"code": "TooManyRequests", "message": "Too many requests"}}),
        )
        .with_header("Retry-After", "0")
    })
    .await;
    let error = client(&server)
        .run(&QueryRequest::new("T"))
        .await
        .expect_err("still throttled");

    // One request and the two retries that the test policy allows.
    assert_eq!(server.requests().len(), 3);
    assert!(
        matches!(error, ProviderError::Throttled { attempts: 3, .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains("wait a while"), "{error}");
}

#[tokio::test]
async fn long_retry_after_fails_at_once() {
    let server =
        FakeServer::start(|_, _| Reply::json(429, &json!({})).with_header("Retry-After", "3600"))
            .await;
    let error = client(&server)
        .run(&QueryRequest::new("T"))
        .await
        .expect_err("throttled");

    assert_eq!(server.requests().len(), 1);
    assert!(
        error.to_string().contains("it asked to wait 3600 s"),
        "{error}"
    );
}

#[tokio::test]
async fn server_error_retried_with_backoff() {
    let server = FakeServer::start(|_, _| {
        Reply::json(500, &json!({"error": {"code": "InternalServerError", "message": "An internal error occurred"}}))
    })
    .await;
    let error = client(&server)
        .run(&QueryRequest::new("T"))
        .await
        .expect_err("500");

    assert_eq!(server.requests().len(), 3);
    let ProviderError::Server {
        status, attempts, ..
    } = &error
    else {
        panic!("expected a server error, got {error:?}")
    };
    assert_eq!((*status, *attempts), (500, 3));
    assert!(
        error.to_string().contains("An internal error occurred"),
        "{error}"
    );
}

#[tokio::test]
async fn server_error_then_success() {
    let server = FakeServer::start(|_, index| match index {
        0 => Reply::raw(503, "text/plain", b"busy".to_vec()),
        _ => Reply::json(200, &json!({"tables": [typed_table()]})),
    })
    .await;
    let result = client(&server)
        .run(&QueryRequest::new("T"))
        .await
        .expect("succeeds after the retry");
    assert_eq!(result.tables.len(), 1);
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn slow_response_times_out() {
    let server = FakeServer::start(|_, _| {
        Reply::json(200, &json!({"tables": []})).delayed(Duration::from_secs(10))
    })
    .await;
    let mut request = QueryRequest::new("T");
    request.options.timeout = Duration::from_millis(300);
    let started = Instant::now();
    let error = client(&server).run(&request).await.expect_err("times out");

    assert!(matches!(error, ProviderError::Timeout { .. }), "{error:?}");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "took {:?}",
        started.elapsed()
    );
    assert!(error.to_string().contains("raise the timeout"), "{error}");
}

#[tokio::test]
async fn cancellation_closes_connection() {
    let server = FakeServer::start(|_, _| {
        Reply::json(200, &json!({"tables": []})).delayed(Duration::from_secs(10))
    })
    .await;
    let client = client(&server);
    let request = QueryRequest::new("T");
    let cancel = request.options.cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(200)).await;
        cancel.cancel();
    });
    let error = client.run(&request).await.expect_err("cancelled");
    assert!(matches!(error, ProviderError::Cancelled), "{error:?}");

    // The server detects the client closing the connection while it still delays the reply.
    let deadline = Instant::now() + Duration::from_secs(5);
    while server.abandoned_connections() == 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(server.abandoned_connections(), 1);
}

#[tokio::test]
async fn truncated_body_is_reported() {
    let body = json!({"tables": [typed_table()]}).to_string().into_bytes();
    let cut = body.len() / 2;
    let server = FakeServer::start(move |_, _| {
        Reply::raw(200, "application/json", body.clone()).cut_at(cut)
    })
    .await;
    let error = client(&server)
        .run(&QueryRequest::new("T"))
        .await
        .expect_err("cut off");

    assert!(
        matches!(error, ProviderError::MalformedResponse { .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains("could not be read"), "{error}");
}

#[tokio::test]
async fn malformed_json_is_reported() {
    let server = FakeServer::start(|_, _| {
        Reply::raw(
            200,
            "application/json",
            b"{\"tables\": [ {\"name\": ".to_vec(),
        )
    })
    .await;
    let error = client(&server)
        .run(&QueryRequest::new("T"))
        .await
        .expect_err("invalid JSON");

    let message = error.to_string();
    assert!(
        matches!(error, ProviderError::MalformedResponse { .. }),
        "{error:?}"
    );
    assert!(message.contains("invalid JSON"), "{message}");
}

#[tokio::test]
async fn mistyped_cell_is_reported() {
    let reply = json!({"tables": [{"name": "PrimaryResult", "columns": [{"name": "When", "type": "datetime"}], "rows": [["yesterday"]]}]});
    let server = FakeServer::start(move |_, _| Reply::json(200, &reply)).await;
    let error = client(&server)
        .run(&QueryRequest::new("T"))
        .await
        .expect_err("bad cell");
    let message = error.to_string();
    assert!(
        message.contains("row 0 column `When`: invalid datetime value `yesterday`"),
        "{message}"
    );
}

fn big_reply(rows: usize) -> Vec<u8> {
    let rows: Vec<serde_json::Value> = (0..rows)
        .map(|i| {
            json!([
                format!("2024-03-01T00:00:{:02}Z", i % 60),
                format!("host-{i}"),
                i,
                "{\"k\":1}"
            ])
        })
        .collect();
    json!({"tables": [{
        "name": "PrimaryResult",
        "columns": [
            {"name": "TimeGenerated", "type": "datetime"},
            {"name": "Computer", "type": "string"},
            {"name": "Count", "type": "long"},
            {"name": "Extra", "type": "dynamic"}
        ],
        "rows": rows
    }]})
    .to_string()
    .into_bytes()
}

#[tokio::test]
async fn hundred_thousand_rows() {
    let body = big_reply(100_000);
    let server =
        FakeServer::start(move |_, _| Reply::raw(200, "application/json", body.clone())).await;
    let started = Instant::now();
    let result = client(&server)
        .run(&QueryRequest::new("T"))
        .await
        .expect("large result");
    let elapsed = started.elapsed();

    let table = &result.tables[0];
    assert_eq!(table.rows.len(), 100_000);
    assert_eq!(table.total_rows, 100_000);
    assert_eq!(
        table.rows[99_999][1],
        Value::String("host-99999".to_string())
    );
    assert!(!result.is_truncated());
    // Generous bound for debug builds on a small CI machine; it catches quadratic parsing.
    assert!(elapsed < Duration::from_secs(30), "took {elapsed:?}");
}

#[tokio::test]
async fn row_limit_truncates() {
    let body = big_reply(1_000);
    let server =
        FakeServer::start(move |_, _| Reply::raw(200, "application/json", body.clone())).await;
    let mut request = QueryRequest::new("T");
    request.options.row_limit = Some(10);
    let result = client(&server).run(&request).await.expect("result");

    let table = &result.tables[0];
    assert_eq!(table.rows.len(), 10);
    assert_eq!(table.total_rows, 1_000);
    assert!(result.is_truncated());
}

#[tokio::test]
async fn connection_refused_is_transport_error() {
    // Bind and drop a listener to get a port that nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut config = LogAnalyticsConfig::new(WORKSPACE);
    config.endpoint = url::Url::parse(&format!("http://127.0.0.1:{port}")).unwrap();
    let client = LogAnalytics::new(config, test_credential(), &test_http_options()).unwrap();
    let error = client
        .run(&QueryRequest::new("T"))
        .await
        .expect_err("nothing listens");

    assert!(
        matches!(error, ProviderError::Transport { .. }),
        "{error:?}"
    );
    assert!(
        error
            .to_string()
            .contains("Check the URL, the network and any proxy"),
        "{error}"
    );
}

#[tokio::test]
async fn metadata_gives_schema() {
    let reply = json!({
        "tables": [
            {"id": "t/SecurityEvent", "name": "SecurityEvent", "timespanColumn": "TimeGenerated",
             "columns": [{"name": "TimeGenerated", "type": "datetime"}, {"name": "EventID", "type": "int"}]},
            {"id": "t/Heartbeat", "name": "Heartbeat", "columns": [{"name": "Computer", "type": "string"}]}
        ],
        "functions": [], "workspaces": []
    });
    let server = FakeServer::start(move |_, _| Reply::json(200, &reply)).await;
    let schema = client(&server)
        .schema(&RunOptions::default())
        .await
        .expect("schema");

    let requests = server.requests();
    assert_eq!(requests[0].method, "GET");
    assert_eq!(
        requests[0].path(),
        format!("/v1/workspaces/{WORKSPACE}/metadata")
    );
    assert_eq!(schema.tables.len(), 2);
    assert_eq!(schema.tables[0].name, "SecurityEvent");
    assert_eq!(schema.tables[0].columns[1].column_type, ColumnType::Int);
}

#[tokio::test]
async fn long_timeout_caps_wait() {
    let server = FakeServer::start(|_, _| Reply::json(200, &json!({"tables": []}))).await;
    let mut request = QueryRequest::new("T");
    request.options.timeout = Duration::from_secs(3600);
    client(&server).run(&request).await.expect("query succeeds");
    assert_eq!(
        server.requests()[0].header("prefer"),
        Some("wait=600, include-statistics=true, include-render=true")
    );
}

#[tokio::test]
async fn unknown_workspace_names_setting() {
    let reply = json!({"error": {"code": "WorkspaceNotFoundError", "message": "The workspace could not be found"}});
    let server = FakeServer::start(move |_, _| Reply::json(404, &reply)).await;
    let error = client(&server)
        .run(&QueryRequest::new("T"))
        .await
        .expect_err("404");

    assert!(matches!(error, ProviderError::NotFound { .. }), "{error:?}");
    let message = error.to_string();
    assert!(
        message.contains("The workspace could not be found"),
        "{message}"
    );
    assert!(message.contains("Check the workspace id"), "{message}");
}
