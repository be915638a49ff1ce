//! Splunk's REST search API: `POST {base}/services/search/jobs/export` runs SPL and streams the
//! results as one JSON object per line (`output_mode=json`).
//!
//! Each line is `{"preview": false, "offset": N, "result": {field: value}}`, with `"lastrow": true`
//! on the last one, or `{"messages": [{"type", "text"}]}` for notices and errors.

use std::collections::HashMap;

use futures::future::BoxFuture;
use reqwest::StatusCode;
use serde::Deserialize;
use serde_json::Value as Json;
use tokio_util::sync::CancellationToken;
use url::Url;

use crate::auth::Credential;
use crate::error::{ProviderError, QueryError, Service};
use crate::http::{HttpOptions, Transport, error_detail, send_authorized, status_error};
use crate::query::{Provider, QueryRequest, RunOptions, TimeRange, with_limits};
use crate::table::{
    Column, ColumnType, DynamicEncoding, QueryResult, Schema, Table, Warning, parse_datetime,
};

#[derive(Clone, Debug)]
pub struct SplunkConfig {
    /// The management endpoint, such as `https://splunk.example.com:8089`.
    pub base_url: Url,
}

/// A Splunk search client.
pub struct Splunk {
    config: SplunkConfig,
    credential: Credential,
    transport: Transport,
}

impl Splunk {
    pub fn new(
        config: SplunkConfig,
        credential: Credential,
        http: &HttpOptions,
    ) -> Result<Splunk, ProviderError> {
        Ok(Splunk {
            config,
            credential,
            transport: Transport::new(http)?,
        })
    }

    async fn run_search(&self, request: &QueryRequest) -> Result<QueryResult, ProviderError> {
        let mut form: Vec<(&str, String)> = vec![
            ("search", search_command(&request.query)),
            ("output_mode", "json".to_string()),
        ];
        match request.time_range {
            Some(TimeRange::Last(duration)) => {
                form.push(("earliest_time", format!("-{}s", duration.as_secs())));
                form.push(("latest_time", "now".to_string()));
            }
            // Epoch seconds need no `time_format`, unlike formatted dates.
            Some(TimeRange::Between { start, end }) => {
                form.push(("earliest_time", start.timestamp().to_string()));
                form.push(("latest_time", end.timestamp().to_string()));
            }
            None => {}
        }
        let url = format!(
            "{}/services/search/jobs/export",
            self.config.base_url.as_str().trim_end_matches('/')
        );
        let build = || self.transport.client().post(&url).form(&form);

        let response = send_authorized(
            &self.transport,
            &self.credential,
            "",
            Service::Splunk,
            build,
        )
        .await?;
        if response.status == StatusCode::BAD_REQUEST {
            return Err(ProviderError::Query(QueryError {
                service: Service::Splunk,
                code: None,
                message: error_detail(&response.body),
                location: None,
            }));
        }
        if !response.status.is_success() {
            return Err(status_error(
                Service::Splunk,
                &response,
                self.credential.unauthorized_action(),
            ));
        }
        parse_export(&response.body, request.options.row_limit)
    }
}

impl Provider for Splunk {
    fn service(&self) -> Service {
        Service::Splunk
    }

    fn sign_in<'a>(
        &'a self,
        cancel: &'a CancellationToken,
    ) -> BoxFuture<'a, Result<(), ProviderError>> {
        // Splunk credentials are a token or a password, so there is nothing to fetch.
        Box::pin(self.credential.sign_in("", cancel))
    }

    fn run<'a>(
        &'a self,
        request: &'a QueryRequest,
    ) -> BoxFuture<'a, Result<QueryResult, ProviderError>> {
        Box::pin(with_limits(&request.options, self.run_search(request)))
    }

    fn schema<'a>(
        &'a self,
        _options: &'a RunOptions,
    ) -> BoxFuture<'a, Result<Schema, ProviderError>> {
        Box::pin(async {
            Err(ProviderError::Unsupported(
                "Splunk has no fixed schema: fields depend on the events each search reads"
                    .to_string(),
            ))
        })
    }
}

/// Adds the `search` command that the API needs unless the SPL starts with a generating
/// command (`| tstats ...`) or already with `search`.
pub fn search_command(spl: &str) -> String {
    let trimmed = spl.trim_start();
    let starts_with_search = trimmed.get(..7).is_some_and(|head| {
        head.eq_ignore_ascii_case("search ") || head.eq_ignore_ascii_case("search\n")
    });
    if trimmed.starts_with('|') || starts_with_search {
        trimmed.to_string()
    } else {
        format!("search {trimmed}")
    }
}

#[derive(Deserialize)]
struct ExportLine {
    #[serde(default)]
    preview: bool,
    result: Option<serde_json::Map<String, Json>>,
    #[serde(default)]
    messages: Vec<Message>,
}

#[derive(Deserialize)]
struct Message {
    #[serde(rename = "type")]
    kind: String,
    text: String,
}

fn malformed(detail: String) -> ProviderError {
    ProviderError::MalformedResponse {
        service: Service::Splunk,
        detail,
    }
}

fn parse_export(body: &[u8], row_limit: Option<usize>) -> Result<QueryResult, ProviderError> {
    let mut columns: Vec<String> = Vec::new();
    let mut positions: HashMap<String, usize> = HashMap::new();
    let mut records: Vec<serde_json::Map<String, Json>> = Vec::new();
    let mut errors: Vec<Message> = Vec::new();
    let mut warnings: Vec<Warning> = Vec::new();

    for (number, line) in body.split(|byte| *byte == b'\n').enumerate() {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let line: ExportLine = serde_json::from_slice(line).map_err(|error| {
            malformed(format!("line {} is not valid JSON ({error})", number + 1))
        })?;
        for message in line.messages {
            match message.kind.as_str() {
                "FATAL" | "ERROR" => errors.push(message),
                "WARN" => warnings.push(Warning {
                    code: Some(message.kind),
                    message: message.text,
                }),
                _ => {}
            }
        }
        let Some(record) = line.result else { continue };
        if line.preview {
            continue;
        }
        for field in record.keys() {
            if !positions.contains_key(field) {
                positions.insert(field.clone(), columns.len());
                columns.push(field.clone());
            }
        }
        records.push(record);
    }

    if records.is_empty()
        && let Some(first) = errors.first()
    {
        return Err(ProviderError::Query(QueryError {
            service: Service::Splunk,
            code: Some(first.kind.clone()),
            message: errors
                .iter()
                .map(|m| m.text.as_str())
                .collect::<Vec<_>>()
                .join("; "),
            location: None,
        }));
    }
    warnings.extend(errors.into_iter().map(|m| Warning {
        code: Some(m.kind),
        message: m.text,
    }));

    let typed_columns: Vec<Column> = columns
        .iter()
        .map(|name| Column::new(name.clone(), field_type(name, &records)))
        .collect();
    let rows: Vec<Vec<Json>> = records
        .into_iter()
        .map(|mut record| {
            columns
                .iter()
                .map(|name| record.remove(name).unwrap_or(Json::Null))
                .collect()
        })
        .collect();
    let table = Table::from_json_rows(
        "results".to_string(),
        typed_columns,
        rows,
        DynamicEncoding::Native,
        row_limit,
    )
    .map_err(malformed)?;
    Ok(QueryResult {
        tables: vec![table],
        warnings,
        ..QueryResult::default()
    })
}

/// Splunk sends every field as text, or as an array for a multivalue field. `_time` becomes a
/// datetime when every value parses; a field with any array becomes dynamic.
fn field_type(name: &str, records: &[serde_json::Map<String, Json>]) -> ColumnType {
    let values = || records.iter().filter_map(|record| record.get(name));
    if values().any(Json::is_array) {
        return ColumnType::Dynamic;
    }
    if name == "_time"
        && values().all(|value| {
            value
                .as_str()
                .is_some_and(|text| parse_datetime(text).is_some())
        })
    {
        return ColumnType::DateTime;
    }
    ColumnType::String
}

#[cfg(test)]
mod tests {
    use super::search_command;

    #[test]
    fn search_command_added_when_needed() {
        assert_eq!(
            search_command("index=main error"),
            "search index=main error"
        );
        assert_eq!(search_command("| tstats count"), "| tstats count");
        assert_eq!(search_command("  search index=main"), "search index=main");
        assert_eq!(search_command("SEARCH index=main"), "SEARCH index=main");
        assert_eq!(search_command("searchable=1"), "search searchable=1");
    }
}
