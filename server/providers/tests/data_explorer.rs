//! The Azure Data Explorer client against a fake v2 REST endpoint on 127.0.0.1.

mod common;

use std::time::Duration;

use common::{FakeServer, Reply, TEST_TOKEN, assert_no_token, test_credential, test_http_options};
use quarry_providers::kusto::{DataExplorer, DataExplorerConfig};
use quarry_providers::table::{ColumnType, Value};
use quarry_providers::{
    Provider, ProviderError, QueryRequest, RunOptions, SourceLocation, TimeRange,
};
use serde_json::{Value as Json, json};

fn client(server: &FakeServer) -> DataExplorer {
    let config = DataExplorerConfig {
        cluster: server.url(),
        database: "Samples".to_string(),
        scope: None,
    };
    DataExplorer::new(config, test_credential(), &test_http_options()).expect("client")
}

fn header_frame() -> Json {
    json!({"FrameType": "DataSetHeader", "IsProgressive": false, "Version": "v2.0"})
}

fn properties_frame(visualization: Option<&str>) -> Json {
    let mut rows = vec![json!([1, "SourceId", "{}"])];
    if let Some(kind) = visualization {
        let payload =
            json!({"Visualization": kind, "Title": "Storms", "XColumn": null}).to_string();
        rows.push(json!([1, "Visualization", payload]));
    }
    json!({
        "FrameType": "DataTable", "TableId": 0, "TableKind": "QueryProperties", "TableName": "@ExtendedProperties",
        "Columns": [
            {"ColumnName": "TableId", "ColumnType": "int"},
            {"ColumnName": "Key", "ColumnType": "string"},
            {"ColumnName": "Value", "ColumnType": "dynamic"}
        ],
        "Rows": rows
    })
}

fn primary_frame(id: u32, rows: Vec<Json>) -> Json {
    json!({
        "FrameType": "DataTable", "TableId": id, "TableKind": "PrimaryResult", "TableName": "PrimaryResult",
        "Columns": [
            {"ColumnName": "StartTime", "ColumnType": "datetime"},
            {"ColumnName": "State", "ColumnType": "string"},
            {"ColumnName": "DamageProperty", "ColumnType": "int"},
            {"ColumnName": "StormSummary", "ColumnType": "dynamic"},
            {"ColumnName": "Duration", "ColumnType": "timespan"}
        ],
        "Rows": rows
    })
}

fn storm_rows() -> Vec<Json> {
    vec![
        json!(["2007-09-29T08:11:00Z", "ATLANTIC SOUTH", 0, {"TotalDamages": 0, "Details": {"Location": "ATLANTIC SOUTH"}}, "00:05:00"]),
        json!(["2007-09-18T20:00:00Z", "FLORIDA", 0, {"TotalDamages": 0}, "1.01:00:00"]),
    ]
}

fn completion_info_frame(extra_rows: Vec<Json>) -> Json {
    let mut rows = vec![json!([
        "2024-03-01T10:00:00.0000000Z",
        "quarry;1",
        "a1",
        "s1",
        "p1",
        4,
        "Info",
        0,
        "S_OK (0)",
        4,
        "QueryResourceConsumption",
        "{\"ExecutionTime\":0.0156,\"resource_usage\":{\"cpu\":{\"total cpu\":\"00:00:00\"}}}"
    ])];
    rows.extend(extra_rows);
    json!({
        "FrameType": "DataTable", "TableId": 2, "TableKind": "QueryCompletionInformation",
        "TableName": "QueryCompletionInformation",
        "Columns": [
            {"ColumnName": "Timestamp", "ColumnType": "datetime"},
            {"ColumnName": "ClientRequestId", "ColumnType": "string"},
            {"ColumnName": "ActivityId", "ColumnType": "guid"},
            {"ColumnName": "SubActivityId", "ColumnType": "guid"},
            {"ColumnName": "ParentActivityId", "ColumnType": "guid"},
            {"ColumnName": "Level", "ColumnType": "int"},
            {"ColumnName": "LevelName", "ColumnType": "string"},
            {"ColumnName": "StatusCode", "ColumnType": "int"},
            {"ColumnName": "StatusCodeName", "ColumnType": "string"},
            {"ColumnName": "EventType", "ColumnType": "int"},
            {"ColumnName": "EventTypeName", "ColumnType": "string"},
            {"ColumnName": "Payload", "ColumnType": "string"}
        ],
        "Rows": rows
    })
}

fn completion_frame(errors: Vec<Json>) -> Json {
    if errors.is_empty() {
        json!({"FrameType": "DataSetCompletion", "HasErrors": false, "Cancelled": false})
    } else {
        json!({"FrameType": "DataSetCompletion", "HasErrors": true, "Cancelled": false, "OneApiErrors": errors})
    }
}

fn limits_error() -> Json {
    json!({"error": {
        "code": "LimitsExceeded",
        "message": "Request is invalid and cannot be executed.",
        "@type": "Kusto.Data.Exceptions.KustoServicePartialQueryFailureLimitsExceededException",
        "@message": "Query execution has exceeded the allowed limits (80DA0003): The results of this query exceed the set limit of 500000 records.",
        "@context": {"timestamp": "2024-03-01T10:00:00Z", "clientRequestId": "quarry;1"},
        "@permanent": true
    }})
}

#[tokio::test]
async fn query_sends_db_csl_properties() {
    let frames = json!([
        header_frame(),
        primary_frame(1, storm_rows()),
        completion_frame(vec![])
    ]);
    let server = FakeServer::start(move |_, _| Reply::json(200, &frames)).await;
    let mut request = QueryRequest::new("StormEvents | take 2");
    request.options.timeout = Duration::from_secs(90);
    client(&server).run(&request).await.expect("query succeeds");

    let sent = &server.requests()[0];
    assert_eq!(sent.method, "POST");
    assert_eq!(sent.path(), "/v2/rest/query");
    assert_eq!(
        sent.header("authorization"),
        Some(format!("Bearer {TEST_TOKEN}").as_str())
    );
    assert_eq!(sent.header("x-ms-app"), Some("quarry"));
    assert!(
        sent.header("x-ms-client-request-id")
            .is_some_and(|id| id.starts_with("quarry;"))
    );
    let body = sent.json();
    assert_eq!(body["db"], "Samples");
    assert_eq!(body["csl"], "StormEvents | take 2");
    let properties: Json =
        serde_json::from_str(body["properties"].as_str().expect("properties is a string")).unwrap();
    assert_eq!(properties["Options"]["servertimeout"], "00:01:30");
}

#[tokio::test]
async fn frames_become_tables() {
    let frames = json!([
        header_frame(),
        properties_frame(Some("columnchart")),
        primary_frame(1, storm_rows()),
        primary_frame(3, vec![storm_rows()[0].clone()]),
        completion_info_frame(vec![]),
        completion_frame(vec![])
    ]);
    let server = FakeServer::start(move |_, _| Reply::json(200, &frames)).await;
    let result = client(&server)
        .run(&QueryRequest::new("StormEvents | take 2"))
        .await
        .expect("query succeeds");

    assert_eq!(result.tables.len(), 2, "only primary results are tables");
    let table = &result.tables[0];
    assert_eq!(table.columns[3].column_type, ColumnType::Dynamic);
    assert_eq!(table.columns[4].column_type, ColumnType::TimeSpan);
    assert_eq!(
        table.rows[0][3],
        Value::Dynamic(json!({"TotalDamages": 0, "Details": {"Location": "ATLANTIC SOUTH"}}))
    );
    assert_eq!(
        table.rows[1][4].clone(),
        Value::TimeSpan(quarry_providers::table::TimeSpan::parse("1.01:00:00").unwrap())
    );
    assert_eq!(result.tables[1].rows.len(), 1);

    let render = result.render.expect("render hint from @ExtendedProperties");
    assert_eq!(render.visualization, "columnchart");
    assert_eq!(render.properties.get("Title"), Some(&json!("Storms")));
    let statistics = result.statistics.expect("resource consumption");
    assert_eq!(statistics["ExecutionTime"], json!(0.0156));
    assert!(result.warnings.is_empty(), "{:?}", result.warnings);
}

#[tokio::test]
async fn completion_errors_become_warnings() {
    let warning_row = json!([
        "2024-03-01T10:00:00Z",
        "quarry;1",
        "a1",
        "s1",
        "p1",
        3,
        "Warning",
        -2133196797,
        "LimitsExceeded (0x80DA0003)",
        0,
        "QueryInfo",
        "{\"Count\":1,\"Text\":\"Query result set has exceeded the internal record count limit\"}"
    ]);
    let frames = json!([
        header_frame(),
        primary_frame(1, storm_rows()),
        completion_info_frame(vec![warning_row]),
        completion_frame(vec![limits_error()])
    ]);
    let server = FakeServer::start(move |_, _| Reply::json(200, &frames)).await;
    let result = client(&server)
        .run(&QueryRequest::new("StormEvents"))
        .await
        .expect("rows despite errors");

    assert_eq!(result.tables[0].rows.len(), 2);
    assert_eq!(result.warnings.len(), 2, "{:?}", result.warnings);
    assert_eq!(
        result.warnings[0].code.as_deref(),
        Some("LimitsExceeded (0x80DA0003)")
    );
    assert!(
        result.warnings[0]
            .message
            .contains("internal record count limit")
    );
    assert_eq!(result.warnings[1].code.as_deref(), Some("LimitsExceeded"));
    assert!(
        result.warnings[1]
            .message
            .contains("exceed the set limit of 500000 records"),
        "{}",
        result.warnings[1].message
    );
}

#[tokio::test]
async fn in_table_error_row_is_warning() {
    let mut rows = storm_rows();
    rows.push(json!({"OneApiErrors": [limits_error()]}));
    let frames = json!([
        header_frame(),
        primary_frame(1, rows),
        completion_frame(vec![limits_error()])
    ]);
    let server = FakeServer::start(move |_, _| Reply::json(200, &frames)).await;
    let result = client(&server)
        .run(&QueryRequest::new("StormEvents"))
        .await
        .expect("partial rows");

    assert_eq!(result.tables[0].rows.len(), 2);
    assert_eq!(result.warnings.len(), 2);
}

#[tokio::test]
async fn error_without_tables_is_query_error() {
    let runtime_error = json!({"error": {"code": "LimitsExceeded", "message": "Request is invalid",
        "@message": "Query execution lacks memory resources to complete (80DA0007)"}});
    let frames = json!([header_frame(), completion_frame(vec![runtime_error])]);
    let server = FakeServer::start(move |_, _| Reply::json(200, &frames)).await;
    let error = client(&server)
        .run(&QueryRequest::new("StormEvents"))
        .await
        .expect_err("no tables");

    assert!(matches!(error, ProviderError::Query(_)), "{error:?}");
    assert!(
        error.to_string().contains("lacks memory resources"),
        "{error}"
    );
}

#[tokio::test]
async fn syntax_error_has_position() {
    let reply = json!({"error": {
        "code": "General_BadRequest",
        "message": "Request is invalid and cannot be executed.",
        "@type": "Kusto.Data.Exceptions.SyntaxException",
        "@message": "Syntax error: SYN0002: A recognition error occurred. [line:position=1:14]",
        "@context": {"clientRequestId": "quarry;1"},
        "@permanent": true
    }});
    let server = FakeServer::start(move |_, _| Reply::json(400, &reply)).await;
    let error = client(&server)
        .run(&QueryRequest::new("StormEvents | tak 1"))
        .await
        .expect_err("syntax error");

    let ProviderError::Query(query_error) = &error else {
        panic!("expected a query error, got {error:?}")
    };
    assert_eq!(
        query_error.location,
        Some(SourceLocation {
            line: 1,
            column: 14
        })
    );
    assert!(
        error
            .to_string()
            .contains("SYN0002: A recognition error occurred"),
        "{error}"
    );
}

#[tokio::test]
async fn semantic_error_is_query_error() {
    let reply = json!({"error": {
        "code": "General_BadRequest",
        "message": "Request is invalid and cannot be executed.",
        "@type": "Kusto.Data.Exceptions.SemanticException",
        "@message": "Semantic error: SEM0100: 'where' operator: Failed to resolve column or scalar expression named 'Stat'"
    }});
    let server = FakeServer::start(move |_, _| Reply::json(400, &reply)).await;
    let error = client(&server)
        .run(&QueryRequest::new("StormEvents | where Stat == 1"))
        .await
        .expect_err("semantic");
    assert!(matches!(error, ProviderError::Query(_)), "{error:?}");
    assert!(error.to_string().contains("named 'Stat'"), "{error}");
}

#[tokio::test]
async fn forbidden_names_viewer_role() {
    let reply = json!({"error": {"code": "Forbidden", "message": "Principal 'aadapp=x' is not authorized to read database 'Samples'.",
        "@type": "Kusto.DataNode.Exceptions.UnauthorizedDatabaseAccessException"}});
    let server = FakeServer::start(move |_, _| Reply::json(403, &reply)).await;
    let error = client(&server)
        .run(&QueryRequest::new("T"))
        .await
        .expect_err("403");
    let message = error.to_string();
    assert!(
        message.contains("not authorized to read database 'Samples'"),
        "{message}"
    );
    assert!(message.contains("viewer role"), "{message}");
    assert_no_token(&message);
}

#[tokio::test]
async fn missing_completion_frame_is_malformed() {
    let frames = json!([header_frame(), primary_frame(1, storm_rows())]);
    let server = FakeServer::start(move |_, _| Reply::json(200, &frames)).await;
    let error = client(&server)
        .run(&QueryRequest::new("T"))
        .await
        .expect_err("incomplete");
    assert!(
        error
            .to_string()
            .contains("without a DataSetCompletion frame"),
        "{error}"
    );
}

#[tokio::test]
async fn time_range_gives_warning() {
    let frames = json!([
        header_frame(),
        primary_frame(1, storm_rows()),
        completion_frame(vec![])
    ]);
    let server = FakeServer::start(move |_, _| Reply::json(200, &frames)).await;
    let mut request = QueryRequest::new("StormEvents");
    request.time_range = Some(TimeRange::Last(Duration::from_secs(3600)));
    let result = client(&server).run(&request).await.expect("query succeeds");
    assert_eq!(result.warnings.len(), 1);
    assert!(result.warnings[0].message.contains("takes no time range"));
}

#[tokio::test]
async fn hundred_thousand_rows() {
    let rows: Vec<Json> = (0..100_000)
        .map(|i| json!(["2007-09-29T08:11:00Z", format!("STATE-{i}"), i, {"n": i}, "00:05:00"]))
        .collect();
    let body = json!([
        header_frame(),
        primary_frame(1, rows),
        completion_frame(vec![])
    ])
    .to_string()
    .into_bytes();
    let server =
        FakeServer::start(move |_, _| Reply::raw(200, "application/json", body.clone())).await;
    let result = client(&server)
        .run(&QueryRequest::new("StormEvents"))
        .await
        .expect("large result");
    assert_eq!(result.tables[0].rows.len(), 100_000);
    assert_eq!(
        result.tables[0].rows[99_999][3],
        Value::Dynamic(json!({"n": 99_999}))
    );
}

#[tokio::test]
async fn schema_from_mgmt_command() {
    let schema = json!({"Plugins": [], "Databases": {"Samples": {
        "Name": "Samples",
        "Tables": {"StormEvents": {"Name": "StormEvents", "OrderedColumns": [
            {"Name": "StartTime", "Type": "System.DateTime", "CslType": "datetime"},
            {"Name": "State", "Type": "System.String", "CslType": "string"},
            {"Name": "StormSummary", "Type": "System.Object", "CslType": "dynamic"}
        ]}},
        "Functions": {}
    }}});
    let reply = json!({"Tables": [{
        "TableName": "Table_0",
        "Columns": [{"ColumnName": "DatabaseSchema", "DataType": "String", "ColumnType": "string"}],
        "Rows": [[schema.to_string()]]
    }]});
    let server = FakeServer::start(move |_, _| Reply::json(200, &reply)).await;
    let result = client(&server)
        .schema(&RunOptions::default())
        .await
        .expect("schema");

    let sent = &server.requests()[0];
    assert_eq!(sent.path(), "/v1/rest/mgmt");
    assert_eq!(sent.json()["csl"], ".show database Samples schema as json");
    assert_eq!(sent.json()["db"], "Samples");
    assert_eq!(result.tables.len(), 1);
    assert_eq!(result.tables[0].name, "StormEvents");
    let types: Vec<ColumnType> = result.tables[0]
        .columns
        .iter()
        .map(|c| c.column_type)
        .collect();
    assert_eq!(
        types,
        [
            ColumnType::DateTime,
            ColumnType::String,
            ColumnType::Dynamic
        ]
    );
}
