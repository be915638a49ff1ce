//! The threat-indicator tables of a connected Microsoft Sentinel workspace as a
//! threat-intelligence source: the STIX-based `ThreatIntelIndicators` table and the older
//! `ThreatIntelligenceIndicator` table, queried together through the Log Analytics client of a
//! connection from `quarry.toml` or `msticpyconfig.yaml`. A workspace may have either table or
//! both, so the query is a fuzzy union that skips a table the workspace lacks.
//!
//! Severities follow MSTICPy's Sentinel TI provider (`azure_sent_byoti.py`, msticpy 3.0.2):
//! an indicator on record is a warning, and high when its action is `alert` or `block` or its
//! confidence score is 80 or more. The workspace belongs to the organisation, so lookups are
//! not screened by the privacy guard, as local indicator files are not.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use quarry_enrichment::ti::{LookupStatus, Provider as TiProvider, SentinelTiConfig};
use quarry_enrichment::{IocType, Observable, Severity, TiResult};
use quarry_providers::config::{Backend, BuildOptions, Environment, build_provider};
use quarry_providers::{
    Provider, ProviderError, QueryRequest, RunOptions, TimeRange, Value as Cell,
};
use quarry_templates::quote::escape_kql_body;
use serde_json::{Map, Value, json};

/// MSTICPy's confidence score from which an indicator is high severity.
const HIGH_CONFIDENCE: f64 = 80.0;

/// The maximum number of indicators one lookup reads.
const MAX_INDICATORS: usize = 20;

/// Looks indicators up in a Sentinel workspace's threat-indicator tables.
pub struct SentinelTi {
    name: String,
    client: Box<dyn Provider>,
    lookback: Duration,
    timeout: Duration,
}

impl SentinelTi {
    /// Builds the source from `[ti.sentinel]`, with the connection found in the configuration
    /// files of `workspace`. The error names the setting to fix.
    pub fn from_config(
        config: &SentinelTiConfig,
        workspace: &Path,
        env: &dyn Environment,
    ) -> Result<SentinelTi, String> {
        let loaded = crate::remote::load_connections(workspace);
        let connection = crate::remote::find_connection(&loaded, &config.connection)
            .map_err(|message| format!("[ti.sentinel] connection: {message}"))?;
        if !matches!(connection.backend, Backend::LogAnalytics { .. }) {
            return Err(format!(
                "[ti.sentinel] connection `{}` is a {} connection; name a log-analytics connection",
                connection.name,
                connection.backend.kind()
            ));
        }
        let client = build_provider(connection, env, &BuildOptions::default())
            .map_err(|problem| format!("[ti.sentinel]: {problem}"))?;
        Ok(SentinelTi {
            name: config.name.clone(),
            client,
            lookback: Duration::from_secs(u64::from(config.lookback_days) * 86_400),
            timeout: Duration::from_secs_f64(config.timeout_seconds.max(1.0)),
        })
    }

    async fn search(&self, observable: &Observable) -> TiResult {
        let Some(query) = indicator_query(observable) else {
            return TiResult::failure(
                &self.name,
                observable,
                LookupStatus::Failed,
                format!(
                    "{} has no column for {} indicators",
                    self.name, observable.ioc_type
                ),
            );
        };
        let request = QueryRequest {
            query,
            time_range: Some(TimeRange::Last(self.lookback)),
            options: RunOptions {
                timeout: self.timeout,
                row_limit: Some(MAX_INDICATORS),
                ..RunOptions::default()
            },
        };
        let result = match self.client.run(&request).await {
            Ok(result) => result,
            Err(error) => {
                tracing::warn!(provider = %self.name, %error, "Sentinel indicator lookup failed");
                return TiResult::failure(
                    &self.name,
                    observable,
                    status_of(&error),
                    error.to_string(),
                );
            }
        };
        let Some(table) = result.tables.first() else {
            return TiResult::not_found(&self.name, observable, None);
        };
        let records: Vec<Map<String, Value>> = table
            .rows
            .iter()
            .map(|row| {
                table
                    .columns
                    .iter()
                    .zip(row)
                    .map(|(column, cell)| (column.name.clone(), cell_json(cell)))
                    .collect()
            })
            .collect();
        if records.is_empty() {
            return TiResult::not_found(&self.name, observable, None);
        }
        let severity = records
            .iter()
            .map(record_severity)
            .max()
            .unwrap_or(Severity::Warning);
        let threat_types: Vec<&str> = records
            .iter()
            .filter_map(|record| record.get("ThreatType").and_then(Value::as_str))
            .collect();
        let summary = format!(
            "{} active indicator{} in the workspace{}",
            records.len(),
            if records.len() == 1 { "" } else { "s" },
            if threat_types.is_empty() {
                String::new()
            } else {
                format!(": {}", threat_types.join(", "))
            }
        );
        TiResult::found(
            &self.name,
            observable,
            severity,
            summary,
            json!({ "indicators": records }),
            None,
        )
    }
}

impl TiProvider for SentinelTi {
    fn name(&self) -> &str {
        &self.name
    }

    fn is_third_party(&self) -> bool {
        false
    }

    fn supports(&self, ioc_type: IocType) -> bool {
        match_columns(ioc_type).is_some()
    }

    fn lookup<'a>(&'a self, observable: &'a Observable) -> BoxFuture<'a, TiResult> {
        Box::pin(self.search(observable))
    }
}

/// Builds the `[ti.sentinel]` source as a list of providers to add to the enricher: empty when
/// the table is absent.
pub fn sentinel_providers(
    config: Option<&SentinelTiConfig>,
    workspace: &Path,
    env: &dyn Environment,
) -> Result<Vec<Arc<dyn TiProvider>>, String> {
    match config {
        None => Ok(Vec::new()),
        Some(config) => {
            let source = SentinelTi::from_config(config, workspace, env)?;
            Ok(vec![Arc::new(source)])
        }
    }
}

/// Returns the `ThreatIntelligenceIndicator` columns that hold indicators of `ioc_type`, and
/// whether they compare without case.
fn match_columns(ioc_type: IocType) -> Option<(&'static [&'static str], bool)> {
    match ioc_type {
        IocType::Ipv4 | IocType::Ipv6 => Some((
            &[
                "NetworkIP",
                "NetworkSourceIP",
                "NetworkDestinationIP",
                "EmailSourceIpAddress",
            ],
            false,
        )),
        IocType::Dns => Some((&["DomainName", "EmailSourceDomain"], true)),
        IocType::Url => Some((&["Url"], false)),
        IocType::Md5 | IocType::Sha1 | IocType::Sha256 => Some((&["FileHashValue"], true)),
        IocType::Email => Some((&["EmailSenderAddress"], true)),
        IocType::WindowsPath | IocType::LinuxPath => None,
    }
}

/// Returns the prefixes of the `ThreatIntelIndicators` `ObservableKey` values (STIX 2.1 object
/// paths such as `ipv4-addr:value` or `file:hashes.MD5`) that hold indicators of `ioc_type`.
fn observable_key_prefixes(ioc_type: IocType) -> &'static [&'static str] {
    match ioc_type {
        IocType::Ipv4 | IocType::Ipv6 => &["ipv4-addr:", "ipv6-addr:", "network-traffic:"],
        IocType::Dns => &["domain-name:"],
        IocType::Url => &["url:"],
        IocType::Md5 | IocType::Sha1 | IocType::Sha256 => &["file:hashes"],
        IocType::Email => &["email-addr:", "email-message:"],
        IocType::WindowsPath | IocType::LinuxPath => &[],
    }
}

/// Builds the KQL that finds the active indicators matching `observable` in both indicator
/// tables, with the columns of `ThreatIntelligenceIndicator` and a `SourceTable` column. The
/// value is escaped for a double-quoted KQL literal.
pub fn indicator_query(observable: &Observable) -> Option<String> {
    let (columns, ignore_case) = match_columns(observable.ioc_type)?;
    let literal = format!("\"{}\"", escape_kql_body(&observable.value, '"'));
    let operator = if ignore_case { "=~" } else { "==" };
    let predicate: Vec<String> = columns
        .iter()
        .map(|column| format!("{column} {operator} {literal}"))
        .collect();
    let key_predicate: Vec<String> = observable_key_prefixes(observable.ioc_type)
        .iter()
        .map(|prefix| format!("ObservableKey startswith \"{prefix}\""))
        .collect();
    // `ThreatIntelIndicators` has no action column, so `Action` is empty there and the
    // severity comes from the confidence score alone.
    Some(format!(
        "union isfuzzy=true\n\
         (ThreatIntelligenceIndicator\n\
         | where Active == true and ExpirationDateTime > now()\n\
         | where {}\n\
         | summarize arg_max(TimeGenerated, *) by IndicatorId\n\
         | project TimeGenerated, IndicatorId, ThreatType, Description, ConfidenceScore, Action, Tags = tostring(Tags), SourceSystem, ExpirationDateTime, SourceTable = \"ThreatIntelligenceIndicator\"),\n\
         (ThreatIntelIndicators\n\
         | where IsActive == true and (isnull(ValidUntil) or ValidUntil > now())\n\
         | where ObservableValue {operator} {literal} and ({})\n\
         | summarize arg_max(TimeGenerated, *) by Id\n\
         | project TimeGenerated, IndicatorId = Id, ThreatType = strcat_array(Data.indicator_types, \", \"), Description = tostring(Data.description), ConfidenceScore = Confidence, Action = \"\", Tags = tostring(Tags), SourceSystem, ExpirationDateTime = ValidUntil, SourceTable = \"ThreatIntelIndicators\")\n\
         | take {MAX_INDICATORS}",
        predicate.join(" or "),
        key_predicate.join(" or ")
    ))
}

fn record_severity(record: &Map<String, Value>) -> Severity {
    let action = record
        .get("Action")
        .and_then(Value::as_str)
        .unwrap_or("alert")
        .to_ascii_lowercase();
    let confidence = record
        .get("ConfidenceScore")
        .and_then(|value| value.as_f64().or_else(|| value.as_str()?.parse().ok()))
        .unwrap_or(0.0);
    if action == "alert" || action == "block" || confidence >= HIGH_CONFIDENCE {
        Severity::High
    } else {
        Severity::Warning
    }
}

fn cell_json(cell: &Cell) -> Value {
    crate::remote::value_json(cell)
}

fn status_of(error: &ProviderError) -> LookupStatus {
    match error {
        ProviderError::Unauthorized { .. } | ProviderError::Forbidden { .. } => {
            LookupStatus::Unauthorized
        }
        ProviderError::Throttled { .. } => LookupStatus::RateLimited,
        ProviderError::Timeout { .. } => LookupStatus::TimedOut,
        ProviderError::MalformedResponse { .. } => LookupStatus::MalformedResponse,
        _ => LookupStatus::Failed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_escapes_value() {
        let observable = Observable::new(r#"evil.com" or 1==1"#, IocType::Dns);
        let query = indicator_query(&observable).unwrap();
        assert!(
            query.contains(r#"DomainName =~ "evil.com\" or 1==1""#),
            "{query}"
        );
        assert!(
            query.contains(r#"ObservableValue =~ "evil.com\" or 1==1""#),
            "{query}"
        );
        assert!(query.contains(r#"ObservableKey startswith "domain-name:""#));
        assert!(query.starts_with("union isfuzzy=true"), "{query}");
        assert!(indicator_query(&Observable::new("C:\\x", IocType::WindowsPath)).is_none());
    }

    #[test]
    fn severity_from_action_and_confidence() {
        let record = |action: &str, confidence: i64| {
            json!({"Action": action, "ConfidenceScore": confidence})
                .as_object()
                .unwrap()
                .clone()
        };
        assert_eq!(record_severity(&record("alert", 10)), Severity::High);
        assert_eq!(record_severity(&record("allow", 85)), Severity::High);
        assert_eq!(record_severity(&record("allow", 50)), Severity::Warning);
        assert_eq!(record_severity(&record("", 85)), Severity::High);
        assert_eq!(record_severity(&record("", 40)), Severity::Warning);
    }
}
