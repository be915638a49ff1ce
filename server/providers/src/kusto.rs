//! Azure Data Explorer (Kusto) over REST: queries on the v2 endpoint, the schema over `/v1/rest/mgmt`.
//!
//! `POST {cluster}/v2/rest/query` with `{"db", "csl", "properties"}` returns a JSON array of
//! frames: a `DataSetHeader`, one `DataTable` per table (`TableKind` marks each as primary results,
//! query properties or completion information), and a `DataSetCompletion` that reports
//! `HasErrors` with `OneApiErrors`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use futures::future::BoxFuture;
use serde::Deserialize;
use serde_json::{Value as Json, json};
use tokio_util::sync::CancellationToken;
use url::Url;

use crate::auth::Credential;
use crate::error::{ProviderError, Service};
use crate::http::{HttpOptions, OneApiError, Transport, parse_json, send_authorized, status_error};
use crate::log_analytics::{default_scope, render_hint};
use crate::query::{Provider, QueryRequest, RunOptions, with_limits};
use crate::table::{
    Column, ColumnType, DynamicEncoding, QueryResult, Schema, Table, TableSchema, TimeSpan, Warning,
};

/// The cluster and database to query.
#[derive(Clone, Debug)]
pub struct DataExplorerConfig {
    /// The cluster URL, such as `https://help.kusto.windows.net`.
    pub cluster: Url,
    pub database: String,
    /// The OAuth scope, `{cluster}/.default` unless set.
    pub scope: Option<String>,
}

/// An Azure Data Explorer database client.
pub struct DataExplorer {
    config: DataExplorerConfig,
    credential: Credential,
    transport: Transport,
}

impl DataExplorer {
    pub fn new(
        config: DataExplorerConfig,
        credential: Credential,
        http: &HttpOptions,
    ) -> Result<DataExplorer, ProviderError> {
        Ok(DataExplorer {
            config,
            credential,
            transport: Transport::new(http)?,
        })
    }

    fn scope(&self) -> String {
        self.config
            .scope
            .clone()
            .unwrap_or_else(|| default_scope(&self.config.cluster))
    }

    fn endpoint(&self, path: &str) -> String {
        format!(
            "{}{path}",
            self.config.cluster.as_str().trim_end_matches('/')
        )
    }

    /// Posts `{"db", "csl", "properties"}` to `path` and returns the successful body.
    async fn post(
        &self,
        path: &str,
        csl: &str,
        timeout: Duration,
    ) -> Result<Vec<u8>, ProviderError> {
        // The service stops the query at `servertimeout`, so it does not run on after the client
        // gives up. NOTE: the property bag goes as a JSON-encoded string. This client has not
        // been run against a live cluster, so that form is unverified there.
        let properties = json!({"Options": {"servertimeout": TimeSpan::from(timeout).to_string()}});
        let body =
            json!({"db": self.config.database, "csl": csl, "properties": properties.to_string()})
                .to_string();

        let url = self.endpoint(path);
        let request_id = client_request_id();
        let build = || {
            self.transport
                .client()
                .post(&url)
                .header("Content-Type", "application/json; charset=utf-8")
                .header("Accept", "application/json")
                .header("x-ms-app", "quarry")
                .header(
                    "x-ms-client-version",
                    concat!("quarry/", env!("CARGO_PKG_VERSION")),
                )
                .header("x-ms-client-request-id", &request_id)
                .body(body.clone())
        };

        let scope = self.scope();
        let response = send_authorized(
            &self.transport,
            &self.credential,
            &scope,
            Service::DataExplorer,
            build,
        )
        .await?;
        if !response.status.is_success() {
            tracing::debug!(%request_id, status = response.status.as_u16(), "query failed");
            return Err(status_error(
                Service::DataExplorer,
                &response,
                self.credential.unauthorized_action(),
            ));
        }
        Ok(response.body)
    }

    async fn run_query(&self, request: &QueryRequest) -> Result<QueryResult, ProviderError> {
        let body = self
            .post("/v2/rest/query", &request.query, request.options.timeout)
            .await?;
        let frames: Vec<Frame> = parse_json(Service::DataExplorer, &body)?;
        let mut result = frames_to_result(frames, request.options.row_limit)?;
        if request.time_range.is_some() {
            result.warnings.push(Warning {
                code: None,
                message: "Azure Data Explorer takes no time range beside the query: filter on a datetime column in the query instead".to_string(),
            });
        }
        Ok(result)
    }

    async fn fetch_schema(&self, options: &RunOptions) -> Result<Schema, ProviderError> {
        let command = format!(
            ".show database {} schema as json",
            quote_name(&self.config.database)
        );
        let body = self
            .post("/v1/rest/mgmt", &command, options.timeout)
            .await?;
        let reply: V1Reply = parse_json(Service::DataExplorer, &body)?;
        let text = reply
            .tables
            .first()
            .and_then(|table| table.rows.first())
            .and_then(|row| row.first())
            .and_then(Json::as_str)
            .ok_or_else(|| {
                malformed("the schema command returned no DatabaseSchema cell".to_string())
            })?;
        let schema: DatabaseSchemaJson = serde_json::from_str(text).map_err(|error| {
            malformed(format!(
                "the DatabaseSchema cell is not valid JSON ({error})"
            ))
        })?;
        Ok(schema.into_schema(&self.config.database))
    }
}

impl Provider for DataExplorer {
    fn service(&self) -> Service {
        Service::DataExplorer
    }

    fn sign_in<'a>(
        &'a self,
        cancel: &'a CancellationToken,
    ) -> BoxFuture<'a, Result<(), ProviderError>> {
        Box::pin(async move {
            let scope = self.scope();
            self.credential.sign_in(&scope, cancel).await
        })
    }

    fn run<'a>(
        &'a self,
        request: &'a QueryRequest,
    ) -> BoxFuture<'a, Result<QueryResult, ProviderError>> {
        Box::pin(with_limits(&request.options, self.run_query(request)))
    }

    fn schema<'a>(
        &'a self,
        options: &'a RunOptions,
    ) -> BoxFuture<'a, Result<Schema, ProviderError>> {
        Box::pin(with_limits(options, self.fetch_schema(options)))
    }
}

impl From<Duration> for TimeSpan {
    fn from(duration: Duration) -> TimeSpan {
        TimeSpan {
            ticks: i64::try_from(duration.as_nanos() / 100).unwrap_or(i64::MAX),
        }
    }
}

/// Returns a unique id per request, so a query can be found in the cluster's logs.
fn client_request_id() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!(
        "quarry;{nanos:x}-{}",
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// Quotes a database name as `['name']` unless it is a plain identifier.
fn quote_name(name: &str) -> String {
    let plain = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if plain {
        name.to_string()
    } else {
        format!("['{}']", name.replace('\'', "\\'"))
    }
}

fn malformed(detail: String) -> ProviderError {
    ProviderError::MalformedResponse {
        service: Service::DataExplorer,
        detail,
    }
}

#[derive(Deserialize)]
#[serde(tag = "FrameType")]
enum Frame {
    DataSetHeader {},
    DataTable(DataTableFrame),
    /// Progressive responses only; the client does not ask for them.
    TableHeader {},
    TableFragment {},
    TableProgress {},
    TableCompletion {},
    DataSetCompletion(CompletionFrame),
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DataTableFrame {
    table_kind: String,
    table_name: String,
    columns: Vec<FrameColumn>,
    rows: Vec<Json>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct FrameColumn {
    column_name: String,
    column_type: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CompletionFrame {
    #[serde(default)]
    has_errors: bool,
    #[serde(default)]
    cancelled: bool,
    #[serde(default)]
    one_api_errors: Vec<Json>,
}

fn frames_to_result(
    frames: Vec<Frame>,
    row_limit: Option<usize>,
) -> Result<QueryResult, ProviderError> {
    let mut result = QueryResult::default();
    let mut completed = false;
    let mut errors: Vec<OneApiError> = Vec::new();

    for frame in frames {
        match frame {
            Frame::DataTable(table) => match table.table_kind.as_str() {
                "PrimaryResult" => {
                    let (table, in_table_errors) = convert_table(table, row_limit)?;
                    errors.extend(in_table_errors);
                    result.tables.push(table);
                }
                "QueryProperties" => read_query_properties(&table, &mut result),
                "QueryCompletionInformation" => read_completion_information(&table, &mut result),
                _ => {}
            },
            Frame::DataSetCompletion(completion) => {
                completed = true;
                if completion.cancelled {
                    result.warnings.push(Warning {
                        code: None,
                        message: "the service cancelled the query".to_string(),
                    });
                }
                if completion.has_errors {
                    errors.extend(
                        completion
                            .one_api_errors
                            .iter()
                            .filter_map(OneApiError::from_json),
                    );
                }
            }
            _ => {}
        }
    }

    if !completed {
        return Err(malformed(
            "the frame list ended without a DataSetCompletion frame".to_string(),
        ));
    }
    if result.tables.is_empty()
        && let Some(error) = errors.first()
    {
        return Err(ProviderError::Query(
            error.clone().into_query_error(Service::DataExplorer),
        ));
    }
    for error in errors {
        let code = (!error.code.is_empty()).then(|| error.code.clone());
        result.warnings.push(Warning {
            code,
            message: error.summary(),
        });
    }
    Ok(result)
}

/// Converts a primary result table. A row that is an object rather than an array carries
/// `OneApiErrors` raised while the table streamed; those come back beside the table.
fn convert_table(
    table: DataTableFrame,
    row_limit: Option<usize>,
) -> Result<(Table, Vec<OneApiError>), ProviderError> {
    let columns = table
        .columns
        .into_iter()
        .map(|column| {
            let column_type =
                ColumnType::from_service_name(&column.column_type).ok_or_else(|| {
                    malformed(format!(
                        "column `{}` has the unknown type `{}`",
                        column.column_name, column.column_type
                    ))
                })?;
            Ok(Column::new(column.column_name, column_type))
        })
        .collect::<Result<Vec<_>, ProviderError>>()?;

    let mut rows = Vec::with_capacity(table.rows.len());
    let mut errors = Vec::new();
    for row in table.rows {
        match row {
            Json::Array(cells) => rows.push(cells),
            Json::Object(object) => {
                let listed = object
                    .get("OneApiErrors")
                    .and_then(Json::as_array)
                    .cloned()
                    .unwrap_or_default();
                errors.extend(listed.iter().filter_map(OneApiError::from_json));
            }
            other => {
                return Err(malformed(format!(
                    "a row of `{}` is neither an array nor an object: {other}",
                    table.table_name
                )));
            }
        }
    }
    let table = Table::from_json_rows(
        table.table_name,
        columns,
        rows,
        DynamicEncoding::Native,
        row_limit,
    )
    .map_err(malformed)?;
    Ok((table, errors))
}

/// Reads the render hint from the `Visualization` row of `@ExtendedProperties`.
fn read_query_properties(table: &DataTableFrame, result: &mut QueryResult) {
    let key_index = table.columns.iter().position(|c| c.column_name == "Key");
    let value_index = table.columns.iter().position(|c| c.column_name == "Value");
    let (Some(key_index), Some(value_index)) = (key_index, value_index) else {
        return;
    };
    for row in &table.rows {
        if row.get(key_index).and_then(Json::as_str) != Some("Visualization") {
            continue;
        }
        let parsed = match row.get(value_index) {
            Some(Json::String(text)) => serde_json::from_str(text).ok(),
            Some(other) => Some(other.clone()),
            None => None,
        };
        if let Some(mut value) = parsed {
            // The payload spells the kind `Visualization`; the shared reader expects lower case.
            if let Some(kind) = value.get("Visualization").cloned() {
                value["visualization"] = kind;
                value
                    .as_object_mut()
                    .map(|object| object.remove("Visualization"));
            }
            result.render = render_hint(&value);
        }
    }
}

/// Collects warnings and errors (`Level` 2 and 3) and the resource consumption statistics.
fn read_completion_information(table: &DataTableFrame, result: &mut QueryResult) {
    let index = |name: &str| table.columns.iter().position(|c| c.column_name == name);
    let (level, status, event, payload) = (
        index("Level"),
        index("StatusCodeName"),
        index("EventTypeName"),
        index("Payload"),
    );
    for row in &table.rows {
        let cell = |position: Option<usize>| position.and_then(|i| row.get(i));
        let payload_text = cell(payload).and_then(Json::as_str).unwrap_or_default();
        if cell(event).and_then(Json::as_str) == Some("QueryResourceConsumption") {
            result.statistics = serde_json::from_str(payload_text).ok();
            continue;
        }
        let level = cell(level).and_then(Json::as_i64).unwrap_or(4);
        if level > 3 {
            continue;
        }
        let text = serde_json::from_str::<Json>(payload_text)
            .ok()
            .and_then(|json| json.get("Text").and_then(Json::as_str).map(str::to_string))
            .unwrap_or_else(|| payload_text.to_string());
        let code = cell(status).and_then(Json::as_str).map(str::to_string);
        result.warnings.push(Warning {
            code,
            message: text,
        });
    }
}

/// The v1 response shape that management commands use.
#[derive(Deserialize)]
struct V1Reply {
    #[serde(rename = "Tables")]
    tables: Vec<V1Table>,
}

#[derive(Deserialize)]
struct V1Table {
    #[serde(rename = "Rows")]
    rows: Vec<Vec<Json>>,
}

#[derive(Deserialize)]
struct DatabaseSchemaJson {
    #[serde(rename = "Databases")]
    databases: std::collections::BTreeMap<String, DatabaseJson>,
}

#[derive(Deserialize)]
struct DatabaseJson {
    #[serde(rename = "Tables", default)]
    tables: std::collections::BTreeMap<String, TableJson>,
}

#[derive(Deserialize)]
struct TableJson {
    #[serde(rename = "Name")]
    name: String,
    #[serde(rename = "OrderedColumns", default)]
    columns: Vec<ColumnJson>,
}

#[derive(Deserialize)]
struct ColumnJson {
    #[serde(rename = "Name")]
    name: String,
    #[serde(rename = "CslType")]
    csl_type: Option<String>,
    #[serde(rename = "Type")]
    clr_type: Option<String>,
}

impl DatabaseSchemaJson {
    fn into_schema(mut self, database: &str) -> Schema {
        let Some(database) = self
            .databases
            .remove(database)
            .or_else(|| self.databases.into_values().next())
        else {
            return Schema::default();
        };
        let tables = database
            .tables
            .into_values()
            .map(|table| TableSchema {
                name: table.name,
                columns: table
                    .columns
                    .into_iter()
                    .map(|column| {
                        let type_name = column.csl_type.or(column.clr_type).unwrap_or_default();
                        let column_type = ColumnType::from_service_name(&type_name)
                            .unwrap_or(ColumnType::Dynamic);
                        Column::new(column.name, column_type)
                    })
                    .collect(),
            })
            .collect();
        Schema { tables }
    }
}

#[cfg(test)]
mod tests {
    use super::quote_name;

    #[test]
    fn database_names_are_quoted() {
        assert_eq!(quote_name("Samples"), "Samples");
        assert_eq!(quote_name("my-db"), "['my-db']");
        assert_eq!(quote_name("it's"), "['it\\'s']");
    }
}
