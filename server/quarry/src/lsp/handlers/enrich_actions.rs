//! Code actions on the indicator under the cursor (threat-intelligence lookup, GeoIP, RDAP
//! whois and one pivot per matching template) and the commands they run. Each command returns
//! its result to the client, which shows it; `docs/lsp-extensions.md` documents the commands.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use quarry_enrichment::hover::IndicatorReport;
use quarry_enrichment::pivot::{EntityType, pivots};
use quarry_enrichment::rdap::RdapClient;
use quarry_enrichment::{EnrichmentConfig, Indicator, IocType, Observable, classify};
use serde_json::{Value, json};
use tower_lsp_server::jsonrpc::{Error, Result};
use tower_lsp_server::ls_types::{
    CodeAction, CodeActionKind, CodeActionOrCommand, Command, ExecuteCommandParams, LSPAny,
};

use super::enrich_hover::{config_path, indicator_at, service};
use super::pivot::PIVOT;
use crate::lsp::documents::DocumentSnapshot;
use crate::lsp::server::Session;

/// Looks an indicator up with every configured threat-intelligence provider.
pub const LOOKUP_INDICATOR: &str = "quarry.lookupIndicator";
/// Returns the IP type, country, city and ASN of an address.
pub const GEOIP: &str = "quarry.geoip";
/// Returns the RDAP (whois) record of an IP address or domain.
pub const WHOIS: &str = "quarry.whois";
/// Runs a pivot pipeline file on the local engine.
pub const RUN_PIVOT_PIPELINE: &str = "quarry.runPivotPipeline";
/// The commands this module runs, for the server's capabilities.
pub const COMMANDS: [&str; 4] = [LOOKUP_INDICATOR, GEOIP, WHOIS, RUN_PIVOT_PIPELINE];

/// Kind of the indicator actions. The LSP leaves the set of kinds open, and none of the
/// predefined ones (quick fix, refactor, source) describes a lookup.
pub const ENRICH_KIND: &str = "quarry.enrich";

/// Maximum wait of `quarry.lookupIndicator` for providers without a cached result.
const LOOKUP_WAIT: Duration = Duration::from_secs(8);
/// Pause between two rounds while providers are pending.
const POLL: Duration = Duration::from_millis(250);

/// Returns true when the request's `only` filter admits [`ENRICH_KIND`].
pub fn is_requested(only: Option<&Vec<CodeActionKind>>) -> bool {
    only.is_none_or(|only| {
        only.iter()
            .any(|kind| ENRICH_KIND.starts_with(kind.as_str()))
    })
}

/// Builds the indicator actions at the start of `range`, or none when no indicator is there.
pub fn code_actions(
    session: &Session,
    snapshot: &DocumentSnapshot,
    range: std::ops::Range<usize>,
) -> Vec<CodeActionOrCommand> {
    let Some(indicator) = indicator_at(&session.analysis, &snapshot.file, range.start) else {
        return Vec::new();
    };
    let value = indicator.value.clone();
    let type_name = indicator.ioc_type.as_str();
    let argument = json!({ "value": value, "type": type_name });
    let kind = CodeActionKind::new(ENRICH_KIND);
    let action = |title: String, command: &str, argument: Value| {
        CodeActionOrCommand::CodeAction(CodeAction {
            title: title.clone(),
            kind: Some(kind.clone()),
            command: Some(Command {
                title,
                command: command.to_owned(),
                arguments: Some(vec![argument]),
            }),
            ..CodeAction::default()
        })
    };

    let mut actions = vec![action(
        format!("Look up {value} in threat intelligence"),
        LOOKUP_INDICATOR,
        argument.clone(),
    )];
    let is_ip = matches!(indicator.ioc_type, IocType::Ipv4 | IocType::Ipv6);
    if is_ip {
        actions.push(action(format!("GeoIP: {value}"), GEOIP, argument.clone()));
    }
    if is_ip || indicator.ioc_type == IocType::Dns {
        actions.push(action(
            format!("Whois (RDAP): {value}"),
            WHOIS,
            argument.clone(),
        ));
    }

    let entity = EntityType::for_ioc(indicator.ioc_type);
    let templates = session.templates.get(session);
    for pivot in pivots(&templates.library, entity) {
        let pivot_argument = json!({
            "template": pivot.template,
            "parameter": pivot.parameter,
            "value": value,
            "entity": entity,
            "run": true,
        });
        actions.push(action(
            format!("Pivot: {}", pivot.template),
            PIVOT,
            pivot_argument,
        ));
    }
    actions
}

/// Runs one of [`COMMANDS`]. Returns `None` for every other command.
pub async fn execute_command(
    session: &Arc<Session>,
    params: &ExecuteCommandParams,
) -> Option<Result<Option<LSPAny>>> {
    let command = params.command.as_str();
    if !COMMANDS.contains(&command) {
        return None;
    }
    if command == RUN_PIVOT_PIPELINE {
        let outcome = run_pivot_pipeline(session, &params.arguments).await;
        if let Err(error) = &outcome {
            tracing::warn!(command, error = %error.message, "pivot pipeline failed");
        }
        return Some(outcome.map(Some));
    }
    let outcome = match read_argument(command, &params.arguments) {
        Ok(indicator) => match command {
            LOOKUP_INDICATOR => Ok(lookup(indicator).await),
            GEOIP => geoip(indicator).await,
            _ => whois(indicator).await,
        },
        Err(error) => Err(error),
    };
    if let Err(error) = &outcome {
        tracing::warn!(command, error = %error.message, "indicator command failed");
    }
    Some(outcome.map(Some))
}

/// Reads `{ "value": ..., "type"?: ... }`. Without `type`, the value's type is detected.
fn read_argument(command: &str, arguments: &[Value]) -> Result<Indicator> {
    let [argument] = arguments else {
        return Err(Error::invalid_params(format!(
            "`{command}` takes one argument object, got {} arguments",
            arguments.len()
        )));
    };
    let value = argument
        .get("value")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|value| !value.is_empty())
        .ok_or_else(|| Error::invalid_params(format!("`{command}` needs a non-empty `value`")))?;
    let ioc_type = match argument.get("type").and_then(Value::as_str) {
        Some(name) => name.parse::<IocType>().map_err(|_| {
            Error::invalid_params(format!(
                "`type` is `{name}`; use an indicator type such as ipv4, ipv6, dns, url or md5_hash"
            ))
        })?,
        None => classify(value).ok_or_else(|| {
            Error::invalid_params(format!(
                "`{value}` is not an IP address, domain, URL, hash or e-mail address; pass `type`"
            ))
        })?,
    };
    Ok(Indicator {
        ioc_type,
        value: value.to_owned(),
        start: 0,
        end: value.len(),
        defanged: false,
    })
}

async fn lookup(indicator: Indicator) -> Value {
    let service = service().await;
    let deadline = tokio::time::Instant::now() + LOOKUP_WAIT;
    let mut report = service.report(indicator.clone()).await;
    while has_pending(&report) && tokio::time::Instant::now() + POLL < deadline {
        tokio::time::sleep(POLL).await;
        report = service.report(indicator.clone()).await;
    }
    let (results, pending) = match &report.lookup {
        Some(lookup) => (
            serde_json::to_value(&lookup.results).unwrap_or(Value::Null),
            lookup.pending.clone(),
        ),
        None => (json!([]), Vec::new()),
    };
    json!({
        "value": report.indicator.value,
        "type": report.indicator.ioc_type.as_str(),
        "tiConfigured": report.lookup.is_some(),
        "results": results,
        "pending": pending,
        "problems": report.problems,
        "markdown": report.markdown(),
    })
}

fn has_pending(report: &IndicatorReport) -> bool {
    report
        .lookup
        .as_ref()
        .is_some_and(|lookup| !lookup.pending.is_empty())
}

async fn geoip(indicator: Indicator) -> Result<Value> {
    if !matches!(indicator.ioc_type, IocType::Ipv4 | IocType::Ipv6) {
        return Err(Error::invalid_params(format!(
            "`{GEOIP}` needs an IP address, got {} `{}`",
            indicator.ioc_type.as_str(),
            indicator.value
        )));
    }
    // GeoIP comes from local databases, so the report has it at once without any provider.
    let report = service().await.report(indicator).await;
    let geoip = report.geoip.as_ref();
    Ok(json!({
        "value": report.indicator.value,
        "ipType": geoip.map(|geoip| geoip.ip_type.to_string()),
        "location": geoip.and_then(|geoip| geoip.location.as_ref()),
        "problems": report.problems,
    }))
}

async fn whois(indicator: Indicator) -> Result<Value> {
    let config = EnrichmentConfig::load(config_path().as_deref()).map_err(|error| {
        Error::invalid_params(format!("{error}; fix enrichment.toml and try again"))
    })?;
    let rdap_cache = quarry_enrichment::paths::cache_dir().map(|dir| dir.join("rdap"));
    let client =
        RdapClient::new(&config.rdap, &config.ti.privacy).with_cache_folder(rdap_cache.as_deref());
    let observable = Observable::new(indicator.value, indicator.ioc_type);
    match client.lookup(&observable).await {
        Ok(record) => serde_json::to_value(record).map_err(|error| {
            internal_error(format!("serializing the RDAP record failed: {error}"))
        }),
        Err(error) => Err(Error::invalid_params(error.to_string())),
    }
}

/// Runs `quarry.runPivotPipeline`: `{"path": FILE}` or `{"text": YAML}`, with optional
/// `parameters` (an object of strings) and `dataFolder` (default: the configured local data).
/// `enrich` steps use the GeoIP databases and only cached threat-intelligence results, so the
/// command sends no indicator anywhere.
async fn run_pivot_pipeline(session: &Arc<Session>, arguments: &[Value]) -> Result<Value> {
    let [argument] = arguments else {
        return Err(Error::invalid_params(format!(
            "`{RUN_PIVOT_PIPELINE}` takes one argument object, got {} arguments",
            arguments.len()
        )));
    };
    let text = match (
        argument.get("text").and_then(Value::as_str),
        argument.get("path").and_then(Value::as_str),
    ) {
        (Some(text), _) => text.to_owned(),
        (None, Some(path)) => std::fs::read_to_string(path).map_err(|error| {
            Error::invalid_params(format!("failed to read pipeline {path}: {error}"))
        })?,
        (None, None) => {
            return Err(Error::invalid_params(format!(
                "`{RUN_PIVOT_PIPELINE}` needs `path` (a pipeline file) or `text` (its YAML)"
            )));
        }
    };
    let mut overrides = BTreeMap::new();
    if let Some(values) = argument.get("parameters").and_then(Value::as_object) {
        for (name, value) in values {
            let text = match value {
                Value::String(text) => text.clone(),
                Value::Number(number) => number.to_string(),
                Value::Bool(flag) => flag.to_string(),
                _ => {
                    return Err(Error::invalid_params(format!(
                        "parameter `{name}` must be a string, number or boolean"
                    )));
                }
            };
            overrides.insert(name.clone(), text);
        }
    }

    let mut config = session.config();
    if let Some(folder) = argument
        .get("dataFolder")
        .and_then(Value::as_str)
        .filter(|folder| !folder.trim().is_empty())
    {
        config.data_folder = Some(PathBuf::from(folder));
    }
    let engine = session.engine(config.data_source());
    let templates = session.templates.get(session);
    let service = service().await;
    // The engine blocks, so the pipeline runs on the blocking pool.
    let outcome = tokio::task::spawn_blocking(move || {
        let threat_intel = |observable: &Observable| service.cached_results(observable);
        let context = crate::pivot_cli::EnrichContext {
            geoip: service.geoip(),
            threat_intel: &threat_intel,
        };
        crate::pivot_cli::run_pipeline(&text, &overrides, &engine, &templates.library, &context)
    })
    .await
    .map_err(|error| internal_error(format!("the pipeline task failed: {error}")))?;
    let output = outcome.map_err(Error::invalid_params)?;
    serde_json::to_value(output)
        .map_err(|error| internal_error(format!("serializing the result failed: {error}")))
}

fn internal_error(message: String) -> Error {
    Error {
        code: tower_lsp_server::jsonrpc::ErrorCode::InternalError,
        message: message.into(),
        data: None,
    }
}
