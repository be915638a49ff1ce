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
use crate::http::{
    HttpOptions, HttpResponse, Redactor, Transport, body_error, error_detail, read_body,
    status_error,
};
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
        let row_limit = request.options.row_limit;
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
        let request = self
            .credential
            .authorize(self.transport.client().post(&url).form(&form), "")
            .await?;
        let redactor = Redactor::for_request(&request);
        let (mut response, attempts) = self
            .transport
            .send_streaming(Service::Splunk, request)
            .await?;

        if !response.status().is_success() {
            let status = response.status();
            let headers = response.headers().clone();
            let body =
                read_body(Service::Splunk, response, self.transport.max_body_bytes()).await?;
            let body = redactor.apply(body);
            let failed = HttpResponse {
                status,
                headers,
                body,
                attempts,
            };
            if status == StatusCode::BAD_REQUEST {
                return Err(ProviderError::Query(QueryError {
                    service: Service::Splunk,
                    code: None,
                    message: error_detail(&failed.body),
                    location: None,
                }));
            }
            return Err(status_error(
                Service::Splunk,
                &failed,
                self.credential.unauthorized_action(),
            ));
        }

        // The export can return far more events than the row limit keeps, so the body is read
        // chunk by chunk and rows past the limit are counted, not stored.
        let mut reader = ExportReader::new(row_limit, self.transport.max_body_bytes());
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|error| body_error(Service::Splunk, url.clone(), &error))?
        {
            reader.feed(&chunk)?;
        }
        reader.finish()
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
    result: Option<Record>,
    #[serde(default)]
    messages: Vec<Message>,
}

/// One result's fields in the order Splunk sent them, which is the order of the search's
/// `table` or `fields` command. `serde_json::Map` would sort them by name.
struct Record(Vec<(String, Json)>);

impl Record {
    fn get(&self, name: &str) -> Option<&Json> {
        self.0
            .iter()
            .find(|(field, _)| field == name)
            .map(|(_, value)| value)
    }

    fn take(&mut self, name: &str) -> Json {
        match self.0.iter().position(|(field, _)| field == name) {
            Some(index) => self.0.swap_remove(index).1,
            None => Json::Null,
        }
    }
}

impl<'de> Deserialize<'de> for Record {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Record, D::Error> {
        struct RecordVisitor;

        impl<'de> serde::de::Visitor<'de> for RecordVisitor {
            type Value = Record;

            fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
                formatter.write_str("an object of fields")
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Record, A::Error> {
                let mut fields = Vec::with_capacity(map.size_hint().unwrap_or(8));
                while let Some((name, value)) = map.next_entry::<String, Json>()? {
                    fields.push((name, value));
                }
                Ok(Record(fields))
            }
        }

        deserializer.deserialize_map(RecordVisitor)
    }
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

/// Reads the export's JSON lines as they arrive.
struct ExportReader {
    row_limit: usize,
    /// Bytes of a line whose end has not arrived yet.
    pending: Vec<u8>,
    /// Longest line kept in `pending`, so that a body without line breaks cannot fill memory.
    max_line_bytes: usize,
    line_number: usize,
    columns: Vec<String>,
    positions: HashMap<String, usize>,
    records: Vec<Record>,
    /// Final (not preview) results seen, kept or not.
    total_rows: usize,
    errors: Vec<Message>,
    warnings: Vec<Warning>,
}

impl ExportReader {
    fn new(row_limit: Option<usize>, max_line_bytes: usize) -> ExportReader {
        ExportReader {
            row_limit: row_limit.unwrap_or(usize::MAX),
            pending: Vec::new(),
            max_line_bytes,
            line_number: 0,
            columns: Vec::new(),
            positions: HashMap::new(),
            records: Vec::new(),
            total_rows: 0,
            errors: Vec::new(),
            warnings: Vec::new(),
        }
    }

    fn feed(&mut self, chunk: &[u8]) -> Result<(), ProviderError> {
        // Only the new bytes can hold the next line break, so a long line is scanned once.
        let mut searched = self.pending.len();
        self.pending.extend_from_slice(chunk);
        while let Some(found) = self.pending[searched..]
            .iter()
            .position(|byte| *byte == b'\n')
        {
            let end = searched + found;
            let line: Vec<u8> = self.pending.drain(..=end).collect();
            self.read_line(&line[..end])?;
            searched = 0;
        }
        if self.pending.len() > self.max_line_bytes {
            return Err(ProviderError::TooLarge {
                service: Service::Splunk,
                limit: self.max_line_bytes,
            });
        }
        Ok(())
    }

    fn read_line(&mut self, line: &[u8]) -> Result<(), ProviderError> {
        self.line_number += 1;
        if line.iter().all(u8::is_ascii_whitespace) {
            return Ok(());
        }
        let line: ExportLine = serde_json::from_slice(line).map_err(|error| {
            malformed(format!(
                "line {} is not valid JSON ({error})",
                self.line_number
            ))
        })?;
        for message in line.messages {
            match message.kind.as_str() {
                "FATAL" | "ERROR" => self.errors.push(message),
                "WARN" => self.warnings.push(Warning {
                    code: Some(message.kind),
                    message: message.text,
                }),
                _ => {}
            }
        }
        let Some(record) = line.result else {
            return Ok(());
        };
        if line.preview {
            return Ok(());
        }
        self.total_rows += 1;
        if self.records.len() >= self.row_limit {
            return Ok(());
        }
        for (field, _) in &record.0 {
            if !self.positions.contains_key(field) {
                self.positions.insert(field.clone(), self.columns.len());
                self.columns.push(field.clone());
            }
        }
        self.records.push(record);
        Ok(())
    }

    fn finish(mut self) -> Result<QueryResult, ProviderError> {
        if !self.pending.is_empty() {
            let rest = std::mem::take(&mut self.pending);
            self.read_line(&rest)?;
        }

        if self.records.is_empty()
            && let Some(first) = self.errors.first()
        {
            return Err(ProviderError::Query(QueryError {
                service: Service::Splunk,
                code: Some(first.kind.clone()),
                message: self
                    .errors
                    .iter()
                    .map(|m| m.text.as_str())
                    .collect::<Vec<_>>()
                    .join("; "),
                location: None,
            }));
        }
        let mut warnings = self.warnings;
        warnings.extend(self.errors.into_iter().map(|m| Warning {
            code: Some(m.kind),
            message: m.text,
        }));

        let typed_columns: Vec<Column> = self
            .columns
            .iter()
            .map(|name| Column::new(name.clone(), field_type(name, &self.records)))
            .collect();
        let columns = self.columns;
        let rows: Vec<Vec<Json>> = self
            .records
            .into_iter()
            .map(|mut record| columns.iter().map(|name| record.take(name)).collect())
            .collect();
        let mut table = Table::from_json_rows(
            "results".to_string(),
            typed_columns,
            rows,
            DynamicEncoding::Native,
            None,
        )
        .map_err(malformed)?;
        table.total_rows = self.total_rows;
        Ok(QueryResult {
            tables: vec![table],
            warnings,
            ..QueryResult::default()
        })
    }
}

/// Splunk sends every field as text, or as an array for a multivalue field. `_time` becomes a
/// datetime when every value parses; a field with any array becomes dynamic.
fn field_type(name: &str, records: &[Record]) -> ColumnType {
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
