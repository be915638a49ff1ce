//! Remote threat-intelligence providers. Each one describes its request and how to read the
//! response ([`RemoteApi`]). [`RemoteProvider`] adds the HTTP client, rate limit and retries and
//! maps HTTP errors to the common result.

mod abuseipdb;
mod greynoise;
mod otx;
mod virustotal;
mod xforce;

use futures::future::BoxFuture;
use serde_json::Value;

use super::Provider;
use super::http::{ApiRequest, HttpCore, HttpSettings};
use super::result::{LookupStatus, Observable, Severity, TiResult};
use crate::indicator::IocType;

pub use abuseipdb::AbuseIpDb;
pub use greynoise::GreyNoise;
pub use otx::Otx;
pub use virustotal::VirusTotal;
pub use xforce::XForce;

/// A provider's reading of a successful response.
pub(crate) struct Reading {
    pub severity: Severity,
    pub summary: String,
    pub details: Value,
}

/// The provider-specific part of a remote provider.
pub(crate) trait RemoteApi: Send + Sync {
    fn supports(&self, ioc_type: IocType) -> bool;

    fn request(&self, observable: &Observable) -> ApiRequest;

    /// Reads an HTTP 200 response. `Ok(None)` means the body reports the indicator as unknown,
    /// and `Err` describes a body without the documented shape.
    fn read(&self, observable: &Observable, body: &Value) -> Result<Option<Reading>, String>;

    /// Reads an HTTP 404 response. The default treats it as "not found".
    fn read_not_found(&self, _observable: &Observable, _body: Option<&Value>) -> Option<Reading> {
        None
    }

    /// A page about the indicator on the provider's web site.
    fn reference(&self, observable: &Observable) -> Option<String>;
}

/// A remote provider: a [`RemoteApi`] with its HTTP client.
pub struct RemoteProvider {
    name: &'static str,
    api: Box<dyn RemoteApi>,
    http: HttpCore,
}

impl RemoteProvider {
    pub(crate) fn new(name: &'static str, api: Box<dyn RemoteApi>, settings: HttpSettings) -> Self {
        RemoteProvider {
            name,
            api,
            http: HttpCore::new(name, settings),
        }
    }

    async fn run(&self, observable: &Observable) -> TiResult {
        let request = self.api.request(observable);
        let (status, body) = match self.http.send(&request).await {
            Ok(answer) => answer,
            Err(failure) => {
                tracing::warn!(provider = self.name, ioc_type = %observable.ioc_type, status = ?failure.status, message = %failure.message, "threat-intelligence lookup failed");
                return TiResult::failure(self.name, observable, failure.status, failure.message);
            }
        };
        let reference = self.api.reference(observable);
        let parsed: Option<Value> = serde_json::from_slice(&body).ok();

        match status {
            200 => {
                let Some(json) = parsed else {
                    return self.malformed(observable, "the body is not JSON");
                };
                match self.api.read(observable, &json) {
                    Ok(Some(reading)) => TiResult::found(
                        self.name,
                        observable,
                        reading.severity,
                        reading.summary,
                        reading.details,
                        reference,
                    ),
                    Ok(None) => TiResult::not_found(self.name, observable, reference),
                    Err(problem) => self.malformed(observable, &problem),
                }
            }
            404 => match self.api.read_not_found(observable, parsed.as_ref()) {
                Some(reading) => {
                    let mut result = TiResult::not_found(self.name, observable, reference);
                    result.severity = reading.severity;
                    result.summary = reading.summary;
                    result.details = reading.details;
                    result
                }
                None => TiResult::not_found(self.name, observable, reference),
            },
            401 | 403 => {
                tracing::warn!(
                    provider = self.name,
                    status,
                    "threat-intelligence provider rejected the API key"
                );
                TiResult::failure(
                    self.name,
                    observable,
                    LookupStatus::Unauthorized,
                    format!(
                        "{} rejected the API key (HTTP {status}); check the key in the enrichment configuration",
                        self.name
                    ),
                )
            }
            _ => {
                tracing::warn!(
                    provider = self.name,
                    status,
                    "unexpected HTTP status from a threat-intelligence provider"
                );
                TiResult::failure(
                    self.name,
                    observable,
                    LookupStatus::Failed,
                    format!("{} answered HTTP {status}", self.name),
                )
            }
        }
    }

    fn malformed(&self, observable: &Observable, problem: &str) -> TiResult {
        tracing::warn!(
            provider = self.name,
            problem,
            "malformed threat-intelligence answer"
        );
        TiResult::failure(
            self.name,
            observable,
            LookupStatus::MalformedResponse,
            format!("{} sent an unexpected answer: {problem}", self.name),
        )
    }
}

impl Provider for RemoteProvider {
    fn name(&self) -> &str {
        self.name
    }

    fn is_third_party(&self) -> bool {
        true
    }

    fn supports(&self, ioc_type: IocType) -> bool {
        self.api.supports(ioc_type)
    }

    fn lookup<'a>(&'a self, observable: &'a Observable) -> BoxFuture<'a, TiResult> {
        Box::pin(self.run(observable))
    }
}

/// Percent-encodes `value` as one path segment.
pub(crate) fn path_segment(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

fn number(value: Option<&Value>) -> Option<i64> {
    let value = value?;
    value
        .as_i64()
        .or_else(|| value.as_f64().map(|number| number as i64))
        .or_else(|| value.as_str().and_then(|text| text.trim().parse().ok()))
}
