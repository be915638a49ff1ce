//! The indicator part of `textDocument/hover`: the IP address, domain, URL, hash or e-mail
//! address under the cursor in a KQL string literal or comment, with GeoIP data and
//! threat-intelligence verdicts from `quarry-enrichment`.
//!
//! The GeoIP databases and providers are opened on the first hover and kept. They are opened
//! again when `enrichment.toml` changes or the editor hands over a secret.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use quarry_enrichment::hover::{IndicatorReport, IndicatorService};
use quarry_enrichment::paths::cache_dir;
use quarry_enrichment::{EnrichmentConfig, Indicator, Severity, indicators_at};
use quarry_ide::{HighlightTag, SourceFile};
use tower_lsp_server::ls_types::{
    Diagnostic, DiagnosticSeverity, Hover, HoverContents, HoverParams, MarkupContent, MarkupKind,
    NumberOrString,
};

use crate::lsp::remote::{SECRETS, workspace};
use crate::lsp::server::Session;
use crate::lsp::{from_proto, to_proto};

/// The inputs the open service was built from. A change in any of them opens it again.
#[derive(Clone, PartialEq)]
struct ServiceKey {
    config_path: Option<PathBuf>,
    modified: Option<SystemTime>,
    secrets_generation: u64,
}

static SERVICE: Mutex<Option<(ServiceKey, Arc<IndicatorService>)>> = Mutex::new(None);

/// Lock held while a service opens. Concurrent callers (a hover and the diagnostics task) then
/// share one service and its lookups in flight, so a provider never gets the same request twice.
static OPENING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Returns the enrichment settings file: `enrichment.toml` in the workspace folder, else the
/// one in the Quarry configuration folder. `None` when neither exists.
pub fn config_path() -> Option<PathBuf> {
    let in_workspace = workspace().join(quarry_enrichment::config::CONFIG_FILE_NAME);
    if in_workspace.is_file() {
        return Some(in_workspace);
    }
    quarry_enrichment::paths::config_dir()
        .map(|dir| dir.join(quarry_enrichment::config::CONFIG_FILE_NAME))
        .filter(|path| path.is_file())
}

/// Returns the indicator service, opening it when the settings or secrets changed.
pub async fn service() -> Arc<IndicatorService> {
    let config_path = config_path();
    let key = ServiceKey {
        modified: config_path
            .as_ref()
            .and_then(|path| path.metadata().ok())
            .and_then(|meta| meta.modified().ok()),
        config_path,
        secrets_generation: SECRETS.generation(),
    };
    if let Some(service) = cached_service(&key) {
        return service;
    }
    let _opening = OPENING.lock().await;
    if let Some(service) = cached_service(&key) {
        return service;
    }

    let path = key.config_path.clone();
    // Opening reads the GeoIP databases, which can be tens of megabytes.
    let opened = tokio::task::spawn_blocking(move || open_service(path)).await;
    let service = match opened {
        Ok(service) => Arc::new(service),
        Err(error) => {
            tracing::error!(%error, "opening the indicator service failed");
            Arc::new(IndicatorService::open(
                &EnrichmentConfig::default(),
                None,
                &|name: &str| SECRETS.lookup_enrichment(name),
                Vec::new(),
            ))
        }
    };
    *SERVICE
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some((key, Arc::clone(&service)));
    service
}

/// Returns the open service when it was built from `key`.
fn cached_service(key: &ServiceKey) -> Option<Arc<IndicatorService>> {
    let cached = SERVICE
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    cached
        .as_ref()
        .filter(|(cached_key, _)| cached_key == key)
        .map(|(_, service)| Arc::clone(service))
}

fn open_service(path: Option<PathBuf>) -> IndicatorService {
    let mut problems = Vec::new();
    let config = match EnrichmentConfig::load(path.as_deref()) {
        Ok(config) => config,
        Err(error) => {
            tracing::warn!(%error, "using the default enrichment settings");
            problems.push(error.to_string());
            EnrichmentConfig::default()
        }
    };
    let sentinel = crate::sentinel_ti::sentinel_providers(
        config.ti.sentinel.as_ref(),
        &workspace(),
        &SECRETS.environment(),
    )
    .unwrap_or_else(|problem| {
        tracing::warn!(%problem, "the Sentinel indicator source is left out");
        problems.push(problem);
        Vec::new()
    });
    tracing::info!(config = ?path, "opening GeoIP databases and threat-intelligence providers");
    let cache_folder = cache_dir().map(|dir| dir.join("ti"));
    let lookup = |name: &str| SECRETS.lookup_enrichment(name);
    let mut service = IndicatorService::open(&config, cache_folder.as_deref(), &lookup, sentinel);
    for problem in problems {
        service.add_problem(problem);
    }
    service.set_result_listener(Arc::new(|_, result| {
        if result.severity == Severity::High {
            HIGH_SEVERITY_VERDICT.notify_one();
        }
    }));
    service
}

/// Returns the innermost indicator at `offset` when the offset is inside a string literal or a
/// comment of `file`.
pub fn indicator_at(
    analysis: &quarry_ide::Analysis,
    file: &SourceFile,
    offset: usize,
) -> Option<Indicator> {
    let literal = analysis.string_or_comment_at(file, offset)?;
    let start = literal.range.start;
    let inner = file.text().get(literal.range)?;
    let mut found = indicators_at(inner, offset - start);
    let mut indicator = found.pop()?;
    indicator.start += start;
    indicator.end += start;
    Some(indicator)
}

/// Diagnostic code of the hint on an indicator with a high-severity cached verdict.
pub const HIGH_SEVERITY_CODE: &str = "QTI001";

/// Signalled after a provider's high-severity verdict has gone into the cache, from a hover,
/// a lookup command or a lookup that finished in the background. The diagnostics scheduler
/// waits on it to republish the open documents with their new hints.
pub static HIGH_SEVERITY_VERDICT: tokio::sync::Notify = tokio::sync::Notify::const_new();

/// Maximum number of indicators per document that get a cache check, so a pasted log does not
/// turn every edit into thousands of cache reads.
const MAX_HINTED_INDICATORS: usize = 200;

/// Builds an Information diagnostic for each indicator in a string literal or comment whose
/// cached threat-intelligence verdict is high. Only the cache is read. A verdict that arrives
/// later signals [`HIGH_SEVERITY_VERDICT`], and the publication that follows adds its hint.
pub async fn high_severity_hints(
    session: &Session,
    snapshot: &crate::lsp::documents::DocumentSnapshot,
) -> Vec<Diagnostic> {
    let text = snapshot.file.text();
    let mut indicators = Vec::new();
    for highlight in session.analysis.highlight(&snapshot.file) {
        if !matches!(highlight.tag, HighlightTag::String | HighlightTag::Comment) {
            continue;
        }
        let Some(inner) = text.get(highlight.range.clone()) else {
            continue;
        };
        for mut indicator in quarry_enrichment::extract(inner) {
            indicator.start += highlight.range.start;
            indicator.end += highlight.range.start;
            indicators.push(indicator);
        }
        if indicators.len() >= MAX_HINTED_INDICATORS {
            indicators.truncate(MAX_HINTED_INDICATORS);
            break;
        }
    }
    if indicators.is_empty() {
        return Vec::new();
    }

    let service = service().await;
    let mut hints = Vec::new();
    for indicator in indicators {
        let results = service.cached_high_severity(&indicator);
        if results.is_empty() {
            continue;
        }
        let verdicts: Vec<String> = results
            .iter()
            .map(|result| format!("{}: {}", result.provider, result.summary))
            .collect();
        hints.push(Diagnostic {
            range: to_proto::range(&snapshot.rope, indicator.range()),
            severity: Some(DiagnosticSeverity::INFORMATION),
            code: Some(NumberOrString::String(HIGH_SEVERITY_CODE.to_owned())),
            source: Some("quarry-ti".to_owned()),
            message: format!(
                "{} has a high-severity threat-intelligence verdict ({})",
                indicator.value,
                verdicts.join("; ")
            ),
            ..Diagnostic::default()
        });
    }
    hints
}

/// The indicator part of a hover: its range in the document and its Markdown.
pub struct IndicatorHover {
    pub range: tower_lsp_server::ls_types::Range,
    pub report: IndicatorReport,
}

/// Builds the indicator part of the hover at the request's position, or `None` when no
/// indicator is there.
pub async fn indicator_hover(session: &Session, params: &HoverParams) -> Option<IndicatorHover> {
    let position = &params.text_document_position_params;
    let snapshot = session.documents.snapshot(&position.text_document.uri)?;
    let offset = from_proto::offset(&snapshot.rope, position.position);
    let indicator = indicator_at(&session.analysis, &snapshot.file, offset)?;
    let range = to_proto::range(&snapshot.rope, indicator.range());
    let report = service().await.report(indicator).await;
    Some(IndicatorHover { range, report })
}

/// Appends the indicator section to the language hover, or returns it alone.
pub fn merge(language: Option<Hover>, indicator: Option<IndicatorHover>) -> Option<Hover> {
    let Some(indicator) = indicator else {
        return language;
    };
    let section = indicator.report.markdown();
    let Some(mut hover) = language else {
        return Some(Hover {
            contents: HoverContents::Markup(MarkupContent {
                kind: MarkupKind::Markdown,
                value: section,
            }),
            range: Some(indicator.range),
        });
    };
    hover.contents = match hover.contents {
        HoverContents::Markup(markup) => HoverContents::Markup(MarkupContent {
            kind: MarkupKind::Markdown,
            value: format!("{}\n\n---\n\n{section}", markup.value),
        }),
        other => other,
    };
    Some(hover)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indicator_in_string_and_comment() {
        let analysis = quarry_ide::Analysis::new(quarry_analysis::Catalog::get());
        let text = "// seen from 203.0.113.7\nT | where Url == \"hxxp://evil[.]example[.]com/x\" | where IP == 10";
        let file = SourceFile::parse(text);
        let in_comment = indicator_at(&analysis, &file, text.find("113").unwrap()).unwrap();
        assert_eq!(in_comment.value, "203.0.113.7");
        assert_eq!(&text[in_comment.range()], "203.0.113.7");

        let host_offset = text.find("evil").unwrap();
        let in_string = indicator_at(&analysis, &file, host_offset).unwrap();
        assert_eq!(in_string.value, "evil.example.com");

        assert!(indicator_at(&analysis, &file, text.find("where").unwrap()).is_none());
    }
}
