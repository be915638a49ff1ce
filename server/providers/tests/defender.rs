//! The Defender XDR clients against fake Graph and advanced hunting APIs on 127.0.0.1.

mod common;

use std::time::Duration;

use common::{FakeServer, Reply, TEST_TOKEN, test_credential, test_http_options};
use quarry_providers::defender::{Defender, DefenderApi, DefenderConfig};
use quarry_providers::table::{ColumnType, Value};
use quarry_providers::{Provider, ProviderError, QueryRequest, SourceLocation, TimeRange};
use serde_json::json;

fn client(server: &FakeServer, api: DefenderApi) -> Defender {
    let mut config = DefenderConfig::new(api);
    config.endpoint = server.url();
    Defender::new(config, test_credential(), &test_http_options()).expect("client")
}

#[tokio::test]
async fn graph_query_request_and_rows() {
    let reply = json!({
        "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#microsoft.graph.security.huntingQueryResults",
        "schema": [
            {"name": "Timestamp", "type": "DateTime"},
            {"name": "FileName", "type": "String"},
            {"name": "ProcessId", "type": "Int64"},
            {"name": "AdditionalFields", "type": "Object"}
        ],
        "results": [
            {"Timestamp": "2024-03-01T10:00:00.1234567Z", "FileName": "powershell.exe", "ProcessId": 4242,
             "AdditionalFields": "{\"Command\":\"Invoke-WebRequest\"}"},
            {"Timestamp": "2024-03-01T10:05:00Z", "FileName": "cmd.exe"}
        ]
    });
    let server = FakeServer::start(move |_, _| Reply::json(200, &reply)).await;
    let mut request = QueryRequest::new("DeviceProcessEvents | take 2");
    request.time_range = Some(TimeRange::Last(Duration::from_secs(7 * 86_400)));
    let result = client(&server, DefenderApi::Graph)
        .run(&request)
        .await
        .expect("query succeeds");

    let sent = &server.requests()[0];
    assert_eq!(sent.path(), "/v1.0/security/runHuntingQuery");
    assert_eq!(
        sent.header("authorization"),
        Some(format!("Bearer {TEST_TOKEN}").as_str())
    );
    assert_eq!(
        sent.json(),
        json!({"Query": "DeviceProcessEvents | take 2", "Timespan": "PT604800S"})
    );

    let table = &result.tables[0];
    let types: Vec<ColumnType> = table.columns.iter().map(|c| c.column_type).collect();
    assert_eq!(
        types,
        [
            ColumnType::DateTime,
            ColumnType::String,
            ColumnType::Long,
            ColumnType::Dynamic
        ]
    );
    assert_eq!(table.rows[0][2], Value::Long(4242));
    assert_eq!(
        table.rows[0][3],
        Value::Dynamic(json!({"Command": "Invoke-WebRequest"}))
    );
    assert_eq!(table.rows[1][2], Value::Null, "a missing member is null");
}

#[tokio::test]
async fn legacy_api_shape() {
    let reply = json!({
        "Stats": {"ExecutionTime": 0.0312, "resource_usage": {}},
        "Schema": [{"Name": "Timestamp", "Type": "DateTime"}, {"Name": "DeviceName", "Type": "String"}],
        "Results": [{"Timestamp": "2024-03-01T10:00:00Z", "DeviceName": "laptop-7"}]
    });
    let server = FakeServer::start(move |_, _| Reply::json(200, &reply)).await;
    let mut request = QueryRequest::new("DeviceInfo | take 1");
    request.time_range = Some(TimeRange::Last(Duration::from_secs(3600)));
    let result = client(&server, DefenderApi::AdvancedHunting)
        .run(&request)
        .await
        .expect("query succeeds");

    let sent = &server.requests()[0];
    assert_eq!(sent.path(), "/api/advancedqueries/run");
    assert_eq!(sent.json(), json!({"Query": "DeviceInfo | take 1"}));
    assert_eq!(
        result.tables[0].rows[0][1],
        Value::String("laptop-7".to_string())
    );
    assert_eq!(
        result
            .statistics
            .as_ref()
            .map(|s| s["ExecutionTime"].clone()),
        Some(json!(0.0312))
    );
    assert_eq!(
        result.warnings.len(),
        1,
        "the older API cannot apply the time range"
    );
}

#[tokio::test]
async fn graph_syntax_error() {
    let reply = json!({"error": {
        "code": "BadRequest",
        "message": "Query could not be parsed at 'tak' on line [1,22]",
        "innerError": {"date": "2024-03-01T10:00:00", "request-id": "r1", "client-request-id": "c1"}
    }});
    let server = FakeServer::start(move |_, _| Reply::json(400, &reply)).await;
    let error = client(&server, DefenderApi::Graph)
        .run(&QueryRequest::new("DeviceProcessEvents | tak 1"))
        .await
        .expect_err("syntax");

    let ProviderError::Query(query_error) = &error else {
        panic!("expected a query error, got {error:?}")
    };
    assert_eq!(
        query_error.location,
        Some(SourceLocation {
            line: 1,
            column: 22
        })
    );
}

#[tokio::test]
async fn graph_forbidden_names_permission() {
    let reply = json!({"error": {"code": "Forbidden", "message": "Missing application roles. API required roles: ThreatHunting.Read.All."}});
    let server = FakeServer::start(move |_, _| Reply::json(403, &reply)).await;
    let error = client(&server, DefenderApi::Graph)
        .run(&QueryRequest::new("T"))
        .await
        .expect_err("403");
    let message = error.to_string();
    assert!(message.contains("Missing application roles"), "{message}");
    assert!(
        message.contains("ThreatHunting.Read.All permission with admin consent"),
        "{message}"
    );
}

#[tokio::test]
async fn graph_throttling_retried() {
    let server = FakeServer::start(|_, index| match index {
        0 => Reply::json(
            429,
            &json!({"error": {"code": "TooManyRequests", "message": "Rate limit"}}),
        )
        .with_header("Retry-After", "0"),
        _ => Reply::json(200, &json!({"schema": [], "results": []})),
    })
    .await;
    let result = client(&server, DefenderApi::Graph)
        .run(&QueryRequest::new("T"))
        .await
        .expect("retried");
    assert_eq!(server.requests().len(), 2);
    assert_eq!(result.tables[0].rows.len(), 0);
}

#[tokio::test]
async fn schema_is_unsupported() {
    let server = FakeServer::start(|_, _| Reply::json(500, &json!({}))).await;
    let error = client(&server, DefenderApi::Graph)
        .schema(&quarry_providers::RunOptions::default())
        .await
        .expect_err("no schema endpoint");
    assert!(matches!(error, ProviderError::Unsupported(_)));
    assert!(server.requests().is_empty());
}
