//! `quarry/enrich`: the IP type, GeoIP/ASN data and threat-intelligence results for every
//! indicator in a text, for the editor's enrichment panel. See `docs/lsp-extensions.md`.
//!
//! The request uses the indicator service that hovers use, so it reads the same
//! `enrichment.toml`, API keys and cache, and the privacy guard keeps private addresses and
//! internal names from every third-party provider. Unlike a hover, it waits for slow providers:
//! it repeats the lookup while some are pending, and each result that arrives fills the cache.

use std::time::Duration;

use quarry_enrichment::extract;
use quarry_enrichment::hover::IndicatorReport;
use serde::Deserialize;
use serde_json::{Value, json};
use tower_lsp_server::jsonrpc::{Error, Result};

use super::enrich_hover::service;
use crate::lsp::server::Server;

pub const ENRICH: &str = "quarry/enrich";

/// Maximum number of indicators one request looks up. The result sets `truncated` when a text has more.
const MAX_INDICATORS: usize = 50;
/// Maximum length of `text`, in bytes.
const MAX_TEXT: usize = 256 * 1024;
const DEFAULT_WAIT_MS: u64 = 8_000;
const MAX_WAIT_MS: u64 = 30_000;
/// The pause between two rounds while providers are pending.
const POLL: Duration = Duration::from_millis(250);

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EnrichParams {
    /// The text to read indicators from: a selection or a result cell.
    text: String,
    /// How long to wait for providers that have no cached result, in milliseconds.
    wait_ms: Option<u64>,
}

impl Server {
    /// `quarry/enrich`: reports on every indicator found in `text`.
    pub async fn enrich(&self, params: EnrichParams) -> Result<Value> {
        enrich(params).await
    }
}

async fn enrich(params: EnrichParams) -> Result<Value> {
    if params.text.len() > MAX_TEXT {
        return Err(Error::invalid_params(format!(
            "`text` has {} bytes; `{ENRICH}` reads at most {MAX_TEXT}; select less text",
            params.text.len()
        )));
    }
    let wait_ms = params.wait_ms.unwrap_or(DEFAULT_WAIT_MS);
    if wait_ms > MAX_WAIT_MS {
        return Err(Error::invalid_params(format!(
            "`waitMs` is {wait_ms}; use at most {MAX_WAIT_MS}"
        )));
    }

    let mut indicators = extract(&params.text);
    let mut seen = std::collections::HashSet::new();
    indicators.retain(|indicator| seen.insert((indicator.ioc_type, indicator.value.clone())));
    let found = indicators.len();
    indicators.truncate(MAX_INDICATORS);

    let service = service().await;
    let deadline = tokio::time::Instant::now() + Duration::from_millis(wait_ms);
    // All indicators are looked up at once, so a slow provider delays none of the others.
    let reports = futures::future::join_all(indicators.into_iter().map(|indicator| {
        let service = &service;
        async move {
            let mut report = service.report(indicator.clone()).await;
            while has_pending(&report) && tokio::time::Instant::now() + POLL < deadline {
                tokio::time::sleep(POLL).await;
                report = service.report(indicator.clone()).await;
            }
            report
        }
    }))
    .await;

    let problems = reports
        .first()
        .map(|report| report.problems.clone())
        .unwrap_or_default();
    Ok(json!({
        "indicators": reports.iter().map(report_json).collect::<Vec<_>>(),
        "truncated": found > MAX_INDICATORS,
        "problems": problems,
    }))
}

fn has_pending(report: &IndicatorReport) -> bool {
    report
        .lookup
        .as_ref()
        .is_some_and(|lookup| !lookup.pending.is_empty())
}

fn report_json(report: &IndicatorReport) -> Value {
    let indicator = &report.indicator;
    let (results, pending, configured) = match &report.lookup {
        Some(lookup) => (
            serde_json::to_value(&lookup.results).unwrap_or(Value::Null),
            lookup.pending.clone(),
            true,
        ),
        None => (json!([]), Vec::new(), false),
    };
    json!({
        "value": indicator.value,
        "type": indicator.ioc_type.as_str(),
        "defanged": indicator.defanged,
        "ipType": report.geoip.as_ref().map(|geoip| geoip.ip_type.to_string()),
        "location": report.geoip.as_ref().and_then(|geoip| geoip.location.as_ref()),
        "tiConfigured": configured,
        "results": results,
        "pending": pending,
    })
}
