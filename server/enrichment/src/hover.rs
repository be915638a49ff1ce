//! The editor's view of one indicator: its type, GeoIP and ASN data, and threat-intelligence
//! verdicts within a short wait, as Markdown for a hover.
//!
//! Every piece of text that comes from the document or a provider is escaped, so an indicator
//! or a provider's summary cannot add links, images or HTML to the hover.

use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use crate::config::EnrichmentConfig;
use crate::geoip::{GeoIp, GeoIpReport};
use crate::indicator::Indicator;
use crate::ti::{Enricher, LookupStatus, PartialLookup, SecretLookup, Severity, TiResult};

/// How long a hover waits for providers that have no cached result.
pub const HOVER_WAIT: Duration = Duration::from_millis(300);

/// GeoIP databases and threat-intelligence providers, opened once and shared by hovers.
pub struct IndicatorService {
    geoip: Option<GeoIp>,
    enricher: Option<Arc<Enricher>>,
    /// Configuration problems to show in each hover, such as a missing API key.
    problems: Vec<String>,
    wait: Duration,
}

impl IndicatorService {
    /// Opens the GeoIP databases and builds the providers of `config`. A part that fails is
    /// left out and its error is kept for the hover, so the rest still works.
    pub fn open(
        config: &EnrichmentConfig,
        cache_folder: Option<&Path>,
        secrets: SecretLookup<'_>,
        extra: Vec<Arc<dyn crate::ti::Provider>>,
    ) -> IndicatorService {
        let mut problems = Vec::new();
        let geoip = match GeoIp::discover(&config.geoip) {
            Ok(geoip) if !geoip.is_empty() => Some(geoip),
            Ok(_) => None,
            Err(error) => {
                tracing::warn!(%error, "GeoIP databases could not be opened");
                problems.push(format!("GeoIP: {error}"));
                None
            }
        };
        let enricher = match config.ti.build_with(cache_folder, secrets, extra) {
            Ok(enricher) if enricher.has_providers() => Some(Arc::new(enricher)),
            Ok(_) => None,
            Err(error) => {
                tracing::warn!(%error, "threat-intelligence providers could not be built");
                problems.push(format!("threat intelligence: {error}"));
                None
            }
        };
        IndicatorService {
            geoip,
            enricher,
            problems,
            wait: HOVER_WAIT,
        }
    }

    /// Adds a problem to show in each hover, such as an invalid settings file.
    pub fn add_problem(&mut self, problem: String) {
        self.problems.push(problem);
    }

    /// Sets how long [`IndicatorService::report`] waits for providers.
    pub fn with_wait(mut self, wait: Duration) -> IndicatorService {
        self.wait = wait;
        self
    }

    /// Sets the function called with each fresh threat-intelligence result, as
    /// [`Enricher::set_result_listener`] describes. Does nothing without providers.
    pub fn set_result_listener(&self, listener: crate::ti::ResultListener) {
        if let Some(enricher) = &self.enricher {
            enricher.set_result_listener(listener);
        }
    }

    /// Returns the opened GeoIP databases, or `None` when none was found.
    pub fn geoip(&self) -> Option<&GeoIp> {
        self.geoip.as_ref()
    }

    /// Returns the cached threat-intelligence results of `observable` without sending any
    /// request.
    pub fn cached_results(&self, observable: &crate::ti::Observable) -> Vec<TiResult> {
        self.enricher
            .as_ref()
            .map_or_else(Vec::new, |enricher| enricher.cached(observable))
    }

    /// Returns the cached threat-intelligence results of `indicator` with high severity. It
    /// sends no request, so diagnostics can call it on every edit.
    pub fn cached_high_severity(&self, indicator: &Indicator) -> Vec<TiResult> {
        let Some(enricher) = &self.enricher else {
            return Vec::new();
        };
        enricher
            .cached(&indicator.observable())
            .into_iter()
            .filter(|result| result.severity == Severity::High)
            .collect()
    }

    /// Collects what is known about `indicator` now: GeoIP at once, and the threat-intelligence
    /// results that are cached or arrive within the wait. Lookups still running go on in the
    /// background and fill the cache. Must be called inside a Tokio runtime.
    pub async fn report(&self, indicator: Indicator) -> IndicatorReport {
        let geoip = match (&self.geoip, indicator.value.parse::<IpAddr>()) {
            (Some(geoip), Ok(address)) => Some(geoip.lookup(address)),
            (None, Ok(address)) => Some(GeoIpReport {
                address,
                ip_type: crate::ip_type(address),
                location: None,
            }),
            _ => None,
        };
        let lookup = match &self.enricher {
            Some(enricher) => Some(
                enricher
                    .lookup_within(&indicator.observable(), self.wait)
                    .await,
            ),
            None => None,
        };
        IndicatorReport {
            indicator,
            geoip,
            lookup,
            problems: self.problems.clone(),
        }
    }
}

/// The facts a hover shows about one indicator.
#[derive(Debug, Clone)]
pub struct IndicatorReport {
    pub indicator: Indicator,
    pub geoip: Option<GeoIpReport>,
    /// `None` when no threat-intelligence provider is configured.
    pub lookup: Option<PartialLookup>,
    pub problems: Vec<String>,
}

impl IndicatorReport {
    /// Returns the highest severity among the providers' results.
    pub fn max_severity(&self) -> Option<Severity> {
        self.lookup
            .as_ref()?
            .results
            .iter()
            .map(|result| result.severity)
            .max()
    }

    /// Formats the report as Markdown.
    pub fn markdown(&self) -> String {
        let indicator = &self.indicator;
        let mut out = format!(
            "**{}** `{}`",
            indicator.ioc_type.as_str(),
            code_span(&indicator.value)
        );
        if indicator.defanged {
            out.push_str(" (defanged)");
        }
        out.push_str("\n\n");

        if let Some(report) = &self.geoip {
            out.push_str(&format!("- Address type: {}\n", report.ip_type.as_str()));
            if let Some(location) = &report.location {
                let place: Vec<&str> = [
                    location.city.as_deref(),
                    location.subdivision.as_deref(),
                    location
                        .country
                        .as_deref()
                        .or(location.country_code.as_deref()),
                ]
                .into_iter()
                .flatten()
                .collect();
                if !place.is_empty() {
                    out.push_str(&format!(
                        "- Location: {}\n",
                        escape_markdown(&place.join(", "))
                    ));
                }
                if let Some(asn) = location.asn {
                    let organization = location
                        .as_organization
                        .as_deref()
                        .map(|name| format!(" {}", escape_markdown(name)))
                        .unwrap_or_default();
                    out.push_str(&format!("- ASN: AS{asn}{organization}\n"));
                }
            }
        }

        match &self.lookup {
            None => {}
            Some(lookup) => {
                out.push_str("\n**Threat intelligence**\n\n");
                for result in &lookup.results {
                    out.push_str(&result_line(result));
                }
                for provider in &lookup.pending {
                    out.push_str(&format!(
                        "- {}: pending, hover again for the result\n",
                        escape_markdown(provider)
                    ));
                }
                if lookup.results.is_empty() && lookup.pending.is_empty() {
                    out.push_str("- No configured provider looks up this type.\n");
                }
            }
        }
        for problem in &self.problems {
            out.push_str(&format!("\n_{}_\n", escape_markdown(problem)));
        }
        out
    }
}

fn result_line(result: &TiResult) -> String {
    let provider = escape_markdown(&result.provider);
    let mut line = match result.status {
        LookupStatus::Ok => format!(
            "- {provider}: **{}** ({})",
            verdict_text(result),
            result.severity
        ),
        LookupStatus::NotFound => format!("- {provider}: not found"),
        LookupStatus::Blocked => format!("- {provider}: not sent (privacy guard)"),
        LookupStatus::Unauthorized => format!("- {provider}: API key rejected"),
        LookupStatus::RateLimited => format!("- {provider}: rate limited, try again later"),
        LookupStatus::TimedOut => format!("- {provider}: timed out"),
        LookupStatus::Failed | LookupStatus::MalformedResponse => {
            format!("- {provider}: lookup failed")
        }
    };
    if !result.summary.is_empty() && result.status == LookupStatus::Ok {
        line.push_str(&format!(", {}", escape_markdown(&result.summary)));
    }
    if let Some(link) = result.reference.as_deref().and_then(safe_link) {
        line.push_str(&format!(" [report]({link})"));
    }
    if result.cached {
        line.push_str(" (cached)");
    }
    line.push('\n');
    line
}

fn verdict_text(result: &TiResult) -> &'static str {
    match result.verdict {
        crate::ti::Verdict::Malicious => "malicious",
        crate::ti::Verdict::Suspicious => "suspicious",
        crate::ti::Verdict::Harmless => "harmless",
        crate::ti::Verdict::NotFound => "not found",
        crate::ti::Verdict::Unknown => "unknown",
    }
}

/// Returns `reference` as a link target when it is an `http` or `https` URL, with the
/// characters that could end a Markdown link target percent-encoded.
fn safe_link(reference: &str) -> Option<String> {
    let url = url::Url::parse(reference).ok()?;
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    let mut link = String::new();
    for ch in url.as_str().chars() {
        match ch {
            '(' => link.push_str("%28"),
            ')' => link.push_str("%29"),
            '<' => link.push_str("%3C"),
            '>' => link.push_str("%3E"),
            ' ' => link.push_str("%20"),
            '"' => link.push_str("%22"),
            '\'' => link.push_str("%27"),
            _ => link.push(ch),
        }
    }
    Some(link)
}

/// Escapes Markdown and HTML so `text` shows as written: punctuation that Markdown reads gets
/// a backslash, and `<`, `>` and `&` become entities.
pub fn escape_markdown(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\n' | '\r' => out.push(' '),
            '\\' | '`' | '*' | '_' | '{' | '}' | '[' | ']' | '(' | ')' | '#' | '+' | '-' | '.'
            | '!' | '|' | '~' | '"' | '\'' => {
                out.push('\\');
                out.push(ch);
            }
            _ => out.push(ch),
        }
    }
    out
}

/// Prepares `text` for a Markdown code span: backticks and line breaks become spaces, since a
/// code span shows backslashes as written and cannot escape a backtick.
fn code_span(text: &str) -> String {
    text.chars()
        .map(|ch| {
            if matches!(ch, '`' | '\n' | '\r') {
                ' '
            } else {
                ch
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::indicator::IocType;
    use crate::ti::{Observable, TiResult};

    fn indicator(value: &str, ioc_type: IocType) -> Indicator {
        Indicator {
            ioc_type,
            value: value.to_owned(),
            start: 0,
            end: value.len(),
            defanged: false,
        }
    }

    #[test]
    fn escape_markdown_neutralizes_markup() {
        let escaped = escape_markdown("[x](javascript:alert(1)) <img src=x> **b**");
        assert!(!escaped.contains("<img"), "{escaped}");
        assert!(
            escaped.contains(r"\[x\]\(javascript:alert\(1\)\)"),
            "{escaped}"
        );
        assert!(escaped.contains(r"\*\*b\*\*"), "{escaped}");
    }

    #[test]
    fn safe_link_only_http() {
        assert_eq!(safe_link("javascript:alert(1)"), None);
        assert_eq!(
            safe_link("https://example.com/a(b)").as_deref(),
            Some("https://example.com/a%28b%29")
        );
    }

    #[test]
    fn markdown_lists_results_and_pending() {
        let observable = Observable::new("203.0.113.7", IocType::Ipv4);
        let found = TiResult::found(
            "VirusTotal",
            &observable,
            Severity::High,
            "12/90 engines flag it <b>".to_owned(),
            serde_json::Value::Null,
            Some("https://www.virustotal.com/gui/ip-address/203.0.113.7".to_owned()),
        );
        let report = IndicatorReport {
            indicator: indicator("203.0.113.7", IocType::Ipv4),
            geoip: Some(GeoIpReport {
                address: "203.0.113.7".parse().unwrap(),
                ip_type: crate::IpType::Documentation,
                location: None,
            }),
            lookup: Some(PartialLookup {
                results: vec![found],
                pending: vec!["OTX".to_owned()],
            }),
            problems: Vec::new(),
        };
        let text = report.markdown();
        assert!(text.contains("**ipv4** `203.0.113.7`"), "{text}");
        assert!(text.contains("Address type: documentation"), "{text}");
        assert!(text.contains("VirusTotal: **malicious** (high)"), "{text}");
        assert!(text.contains("&lt;b&gt;"), "{text}");
        assert!(text.contains("OTX: pending"), "{text}");
        assert!(
            text.contains("[report](https://www.virustotal.com/gui/ip-address/203.0.113.7)"),
            "{text}"
        );
        assert_eq!(report.max_severity(), Some(Severity::High));
    }
}
