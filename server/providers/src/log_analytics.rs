//! The Log Analytics query API, which also serves Microsoft Sentinel workspaces.
//!
//! `POST {endpoint}/v1/workspaces/{id}/query` takes `{"query", "timespan", "workspaces"}` and
//! returns `{"tables": [{"name", "columns": [{"name", "type"}], "rows": [[...]]}]}`. A query that
//! fails part way still returns HTTP 200, with an `error` object beside the tables.

use futures::future::BoxFuture;
use serde::Deserialize;
use serde_json::{Value as Json, json};
use tokio_util::sync::CancellationToken;
use url::Url;

use crate::auth::Credential;
use crate::error::{ProviderError, Service};
use crate::http::{HttpOptions, OneApiError, Transport, parse_json, send_authorized, status_error};
use crate::query::{Provider, QueryRequest, RunOptions, with_limits};
use crate::table::{
    Column, ColumnType, DynamicEncoding, QueryResult, RenderHint, Schema, Table, TableSchema,
    Warning,
};

/// The public cloud's endpoint; sovereign clouds and proxies use their own.
pub const DEFAULT_ENDPOINT: &str = "https://api.loganalytics.io";

/// The maximum server-side query time Log Analytics allows, in seconds.
const MAX_WAIT_SECONDS: u64 = 600;

/// The workspace to query and the endpoint that serves it.
#[derive(Clone, Debug)]
pub struct LogAnalyticsConfig {
    pub endpoint: Url,
    pub workspace_id: String,
    /// More workspaces the query spans, by id or resource id.
    pub additional_workspaces: Vec<String>,
    /// The OAuth scope of the endpoint, `{endpoint}/.default` unless set.
    pub scope: Option<String>,
}

impl LogAnalyticsConfig {
    pub fn new(workspace_id: impl Into<String>) -> LogAnalyticsConfig {
        LogAnalyticsConfig {
            endpoint: Url::parse(DEFAULT_ENDPOINT).expect("valid URL"),
            workspace_id: workspace_id.into(),
            additional_workspaces: Vec::new(),
            scope: None,
        }
    }

    fn scope(&self) -> String {
        self.scope
            .clone()
            .unwrap_or_else(|| default_scope(&self.endpoint))
    }

    fn workspace_url(&self, operation: &str) -> String {
        format!(
            "{}/v1/workspaces/{}/{operation}",
            self.endpoint.as_str().trim_end_matches('/'),
            self.workspace_id
        )
    }
}

/// Returns `{origin}/.default`, the scope Entra issues tokens for a resource under.
pub(crate) fn default_scope(endpoint: &Url) -> String {
    format!("{}/.default", endpoint.origin().ascii_serialization())
}

/// A Log Analytics workspace client.
pub struct LogAnalytics {
    config: LogAnalyticsConfig,
    credential: Credential,
    transport: Transport,
}

impl LogAnalytics {
    pub fn new(
        config: LogAnalyticsConfig,
        credential: Credential,
        http: &HttpOptions,
    ) -> Result<LogAnalytics, ProviderError> {
        Ok(LogAnalytics {
            config,
            credential,
            transport: Transport::new(http)?,
        })
    }

    async fn run_query(&self, request: &QueryRequest) -> Result<QueryResult, ProviderError> {
        let mut body = json!({ "query": request.query });
        if let Some(range) = &request.time_range {
            body["timespan"] = json!(range.to_iso8601());
        }
        if !self.config.additional_workspaces.is_empty() {
            body["workspaces"] = json!(self.config.additional_workspaces);
        }
        let body = body.to_string();
        // The service stops the query after `wait` seconds. Log Analytics runs a query for at most
        // 10 minutes, so a longer client timeout is not passed on.
        let wait = request.options.timeout.as_secs().clamp(1, MAX_WAIT_SECONDS);
        let prefer = format!("wait={wait}, include-statistics=true, include-render=true");
        let url = self.config.workspace_url("query");
        let build = || {
            self.transport
                .client()
                .post(&url)
                .header("Content-Type", "application/json")
                .header("Prefer", &prefer)
                .body(body.clone())
        };

        let scope = self.config.scope();
        let response = send_authorized(
            &self.transport,
            &self.credential,
            &scope,
            Service::LogAnalytics,
            build,
        )
        .await?;
        if !response.status.is_success() {
            return Err(status_error(
                Service::LogAnalytics,
                &response,
                self.credential.unauthorized_action(),
            ));
        }
        let reply: QueryReply = parse_json(Service::LogAnalytics, &response.body)?;
        reply.into_result(request.options.row_limit)
    }

    async fn fetch_schema(&self) -> Result<Schema, ProviderError> {
        let url = self.config.workspace_url("metadata");
        let build = || self.transport.client().get(&url);
        let scope = self.config.scope();
        let response = send_authorized(
            &self.transport,
            &self.credential,
            &scope,
            Service::LogAnalytics,
            build,
        )
        .await?;
        if !response.status.is_success() {
            return Err(status_error(
                Service::LogAnalytics,
                &response,
                self.credential.unauthorized_action(),
            ));
        }
        let metadata: MetadataReply = parse_json(Service::LogAnalytics, &response.body)?;
        Ok(metadata.into_schema())
    }
}

impl Provider for LogAnalytics {
    fn service(&self) -> Service {
        Service::LogAnalytics
    }

    fn sign_in<'a>(
        &'a self,
        cancel: &'a CancellationToken,
    ) -> BoxFuture<'a, Result<(), ProviderError>> {
        Box::pin(async move {
            let scope = self.config.scope();
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
        Box::pin(with_limits(options, self.fetch_schema()))
    }
}

#[derive(Deserialize)]
struct ReplyColumn {
    name: String,
    #[serde(rename = "type")]
    column_type: String,
}

#[derive(Deserialize)]
struct ReplyTable {
    name: String,
    columns: Vec<ReplyColumn>,
    rows: Vec<Vec<Json>>,
}

#[derive(Deserialize)]
struct QueryReply {
    /// Missing in an error reply. A success reply without it is malformed, not empty.
    tables: Option<Vec<ReplyTable>>,
    error: Option<Json>,
    statistics: Option<Json>,
    render: Option<Json>,
}

impl QueryReply {
    fn into_result(self, row_limit: Option<usize>) -> Result<QueryResult, ProviderError> {
        let mut result = QueryResult {
            statistics: self.statistics,
            ..QueryResult::default()
        };
        result.render = self.render.as_ref().and_then(render_hint);

        if let Some(error) = &self.error {
            let Some(parsed) = OneApiError::from_json(error) else {
                return Err(malformed(format!(
                    "the `error` member is not an error object: {error}"
                )));
            };
            if self.tables.as_ref().is_none_or(Vec::is_empty) {
                return Err(ProviderError::Query(
                    parsed.into_query_error(Service::LogAnalytics),
                ));
            }
            result.warnings.extend(partial_error_warnings(&parsed));
        }

        let Some(tables) = self.tables else {
            return Err(malformed(
                "the response has neither a `tables` nor an `error` member".to_string(),
            ));
        };
        for table in tables {
            result.tables.push(convert_table(table, row_limit)?);
        }
        Ok(result)
    }
}

/// Turns a partial error into warnings: one per detail, or the error itself.
fn partial_error_warnings(error: &OneApiError) -> Vec<Warning> {
    if error.inner.is_empty() {
        return vec![Warning {
            code: Some(error.code.clone()),
            message: error.message.clone(),
        }];
    }
    let innermost = error
        .inner
        .iter()
        .rev()
        .find(|(_, message)| !message.is_empty());
    let message = match innermost {
        Some((_, inner)) if *inner != error.message => format!("{}: {inner}", error.message),
        _ => error.message.clone(),
    };
    let code = error
        .inner
        .iter()
        .rev()
        .map(|(code, _)| code)
        .find(|code| !code.is_empty());
    vec![Warning {
        code: code.cloned().or(Some(error.code.clone())),
        message,
    }]
}

fn convert_table(table: ReplyTable, row_limit: Option<usize>) -> Result<Table, ProviderError> {
    let columns = table
        .columns
        .into_iter()
        .map(|column| {
            let column_type =
                ColumnType::from_service_name(&column.column_type).ok_or_else(|| {
                    malformed(format!(
                        "column `{}` has the unknown type `{}`",
                        column.name, column.column_type
                    ))
                })?;
            Ok(Column::new(column.name, column_type))
        })
        .collect::<Result<Vec<_>, ProviderError>>()?;
    Table::from_json_rows(
        table.name,
        columns,
        table.rows,
        DynamicEncoding::JsonText,
        row_limit,
    )
    .map_err(malformed)
}

/// Reads `{"visualization": "timechart", ...}`; a `null` or `"table"` visualization is no hint.
pub(crate) fn render_hint(render: &Json) -> Option<RenderHint> {
    let object = render.as_object()?;
    let visualization = object.get("visualization")?.as_str()?.to_string();
    if visualization.is_empty() || visualization == "table" {
        return None;
    }
    let mut properties = object.clone();
    properties.remove("visualization");
    Some(RenderHint {
        visualization,
        properties,
    })
}

fn malformed(detail: String) -> ProviderError {
    ProviderError::MalformedResponse {
        service: Service::LogAnalytics,
        detail,
    }
}

#[derive(Deserialize)]
struct MetadataReply {
    #[serde(default)]
    tables: Vec<MetadataTable>,
}

#[derive(Deserialize)]
struct MetadataTable {
    name: String,
    #[serde(default)]
    columns: Vec<ReplyColumn>,
}

impl MetadataReply {
    fn into_schema(self) -> Schema {
        let tables = self
            .tables
            .into_iter()
            .map(|table| TableSchema {
                name: table.name,
                columns: table
                    .columns
                    .into_iter()
                    .map(|column| {
                        // An unknown type in the schema should not hide the whole table.
                        let column_type = ColumnType::from_service_name(&column.column_type)
                            .unwrap_or(ColumnType::Dynamic);
                        Column::new(column.name, column_type)
                    })
                    .collect(),
            })
            .collect();
        Schema { tables }
    }
}
