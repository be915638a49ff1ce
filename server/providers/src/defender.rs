//! Defender XDR advanced hunting, through Microsoft Graph or the older advanced hunting API.
//!
//! Graph: `POST {endpoint}/v1.0/security/runHuntingQuery` with `{"Query", "Timespan"}` returns
//! `{"schema": [{"name", "type"}], "results": [{column: value}]}`. The older API,
//! `POST {endpoint}/api/advancedqueries/run` with `{"Query"}`, returns the same data as
//! `{"Schema": [{"Name", "Type"}], "Results": [...], "Stats": {...}}`.

use futures::future::BoxFuture;
use serde::Deserialize;
use serde_json::{Value as Json, json};
use tokio_util::sync::CancellationToken;
use url::Url;

use crate::auth::Credential;
use crate::error::{ProviderError, Service};
use crate::http::{HttpOptions, Transport, parse_json, send_authorized, status_error};
use crate::log_analytics::default_scope;
use crate::query::{Provider, QueryRequest, RunOptions, with_limits};
use crate::table::{Column, ColumnType, DynamicEncoding, QueryResult, Schema, Table, Warning};

/// The hunting API a client calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DefenderApi {
    /// Microsoft Graph `runHuntingQuery`, the current API.
    Graph,
    /// `api/advancedqueries/run` on the Defender API host, the older API.
    AdvancedHunting,
}

impl DefenderApi {
    fn service(self) -> Service {
        match self {
            DefenderApi::Graph => Service::DefenderGraph,
            DefenderApi::AdvancedHunting => Service::DefenderLegacy,
        }
    }

    /// Returns the public cloud's endpoint for the API.
    pub fn default_endpoint(self) -> Url {
        let text = match self {
            DefenderApi::Graph => "https://graph.microsoft.com",
            DefenderApi::AdvancedHunting => "https://api.security.microsoft.com",
        };
        Url::parse(text).expect("valid URL")
    }
}

#[derive(Clone, Debug)]
pub struct DefenderConfig {
    pub api: DefenderApi,
    pub endpoint: Url,
    /// The OAuth scope, `{endpoint}/.default` unless set.
    pub scope: Option<String>,
}

impl DefenderConfig {
    pub fn new(api: DefenderApi) -> DefenderConfig {
        DefenderConfig {
            api,
            endpoint: api.default_endpoint(),
            scope: None,
        }
    }
}

/// A Defender XDR advanced hunting client.
pub struct Defender {
    config: DefenderConfig,
    credential: Credential,
    transport: Transport,
}

impl Defender {
    pub fn new(
        config: DefenderConfig,
        credential: Credential,
        http: &HttpOptions,
    ) -> Result<Defender, ProviderError> {
        Ok(Defender {
            config,
            credential,
            transport: Transport::new(http)?,
        })
    }

    async fn run_query(&self, request: &QueryRequest) -> Result<QueryResult, ProviderError> {
        let service = self.config.api.service();
        let base = self.config.endpoint.as_str().trim_end_matches('/');
        let mut warnings = Vec::new();
        let (url, body) = match self.config.api {
            DefenderApi::Graph => {
                let mut body = json!({"Query": request.query});
                if let Some(range) = &request.time_range {
                    body["Timespan"] = json!(range.to_iso8601());
                }
                (format!("{base}/v1.0/security/runHuntingQuery"), body)
            }
            DefenderApi::AdvancedHunting => {
                if request.time_range.is_some() {
                    warnings.push(Warning {
                        code: None,
                        message: "the older advanced hunting API takes no time range: filter on Timestamp in the query instead".to_string(),
                    });
                }
                (
                    format!("{base}/api/advancedqueries/run"),
                    json!({"Query": request.query}),
                )
            }
        };
        let body = body.to_string();
        let build = || {
            self.transport
                .client()
                .post(&url)
                .header("Content-Type", "application/json")
                .header("Accept", "application/json")
                .body(body.clone())
        };

        let scope = self
            .config
            .scope
            .clone()
            .unwrap_or_else(|| default_scope(&self.config.endpoint));
        let response =
            send_authorized(&self.transport, &self.credential, &scope, service, build).await?;
        if !response.status.is_success() {
            return Err(status_error(
                service,
                &response,
                self.credential.unauthorized_action(),
            ));
        }
        let reply: HuntingReply = parse_json(service, &response.body)?;
        let mut result = reply.into_result(service, request.options.row_limit)?;
        result.warnings.extend(warnings);
        Ok(result)
    }
}

impl Provider for Defender {
    fn service(&self) -> Service {
        self.config.api.service()
    }

    fn sign_in<'a>(
        &'a self,
        cancel: &'a CancellationToken,
    ) -> BoxFuture<'a, Result<(), ProviderError>> {
        Box::pin(async move {
            let scope = self
                .config
                .scope
                .clone()
                .unwrap_or_else(|| default_scope(&self.config.endpoint));
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
        _options: &'a RunOptions,
    ) -> BoxFuture<'a, Result<Schema, ProviderError>> {
        Box::pin(async {
            Err(ProviderError::Unsupported(
                "Defender XDR has no schema endpoint: the advanced hunting tables come from Quarry's catalog".to_string(),
            ))
        })
    }
}

/// Both APIs' reply; the older one capitalizes the member names.
#[derive(Deserialize)]
struct HuntingReply {
    #[serde(alias = "Schema")]
    schema: Vec<SchemaColumn>,
    #[serde(alias = "Results")]
    results: Vec<serde_json::Map<String, Json>>,
    #[serde(alias = "Stats")]
    stats: Option<Json>,
}

#[derive(Deserialize)]
struct SchemaColumn {
    #[serde(alias = "Name")]
    name: String,
    #[serde(alias = "Type", rename = "type")]
    column_type: String,
}

impl HuntingReply {
    fn into_result(
        self,
        service: Service,
        row_limit: Option<usize>,
    ) -> Result<QueryResult, ProviderError> {
        let columns: Vec<Column> = self
            .schema
            .into_iter()
            .map(|column| {
                // The APIs document no closed list of type names; an unknown one keeps its JSON.
                let column_type = ColumnType::from_service_name(&column.column_type)
                    .unwrap_or(ColumnType::Dynamic);
                Column::new(column.name, column_type)
            })
            .collect();
        let rows: Vec<Vec<Json>> = self
            .results
            .into_iter()
            .map(|mut object| {
                columns
                    .iter()
                    .map(|column| object.remove(&column.name).unwrap_or(Json::Null))
                    .collect()
            })
            .collect();
        let table = Table::from_json_rows(
            "PrimaryResult".to_string(),
            columns,
            rows,
            DynamicEncoding::JsonText,
            row_limit,
        )
        .map_err(|detail| ProviderError::MalformedResponse { service, detail })?;
        Ok(QueryResult {
            tables: vec![table],
            statistics: self.stats,
            ..QueryResult::default()
        })
    }
}
