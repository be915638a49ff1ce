//! GreyNoise community API (`/v3/community/{ip}`), IPv4 only. The key is optional: without one
//! the community API applies a lower quota, so the provider runs only when enabled.
//!
//! Severity follows MSTICPy: classification `malicious` is high, anything else information.

use serde_json::{Value, json};

use super::{Reading, RemoteApi, RemoteProvider};
use crate::indicator::IocType;
use crate::secret::Secret;
use crate::ti::http::{ApiRequest, HttpOverrides, HttpSettings};
use crate::ti::ratelimit::RateLimit;
use crate::ti::result::{Observable, Severity};

pub struct GreyNoise {
    api_key: Option<Secret>,
}

impl GreyNoise {
    pub const NAME: &'static str = "GreyNoise";
    pub const BASE_URL: &'static str = "https://api.greynoise.io/";

    /// Builds the provider. The default of 10 requests a minute is an estimate that avoids
    /// spending the community API's small daily quota in one burst.
    pub fn provider(api_key: Option<Secret>, overrides: &HttpOverrides) -> RemoteProvider {
        let settings =
            HttpSettings::new(Self::BASE_URL, RateLimit::per_minute(10)).with_overrides(overrides);
        RemoteProvider::new(Self::NAME, Box::new(GreyNoise { api_key }), settings)
    }

    fn reading(body: &Value) -> Reading {
        let text = |key: &str| body.get(key).and_then(Value::as_str).unwrap_or_default();
        let classification = text("classification");
        let severity = if classification == "malicious" {
            Severity::High
        } else {
            Severity::Information
        };
        let mut parts = Vec::new();
        if !classification.is_empty() {
            parts.push(format!("classification {classification}"));
        }
        if !text("name").is_empty() && text("name") != "unknown" {
            parts.push(text("name").to_owned());
        }
        if body.get("noise").and_then(Value::as_bool) == Some(true) {
            parts.push("internet scanner".to_owned());
        }
        if body.get("riot").and_then(Value::as_bool) == Some(true) {
            parts.push("common business service".to_owned());
        }
        if parts.is_empty() {
            parts.push(text("message").to_owned());
        }
        Reading {
            severity,
            summary: parts.join(", "),
            details: json!({
                "classification": body.get("classification"),
                "name": body.get("name"),
                "noise": body.get("noise"),
                "riot": body.get("riot"),
                "last_seen": body.get("last_seen"),
                "message": body.get("message"),
            }),
        }
    }
}

impl RemoteApi for GreyNoise {
    fn supports(&self, ioc_type: IocType) -> bool {
        ioc_type == IocType::Ipv4
    }

    fn request(&self, observable: &Observable) -> ApiRequest {
        let mut request = ApiRequest::get(format!("v3/community/{}", observable.value));
        if let Some(key) = &self.api_key {
            request.secret_headers.push(("key", key.clone()));
        }
        request
    }

    fn read(&self, _observable: &Observable, body: &Value) -> Result<Option<Reading>, String> {
        if body.get("classification").is_none() && body.get("noise").is_none() {
            return Err("no classification or noise field".to_owned());
        }
        Ok(Some(Self::reading(body)))
    }

    /// GreyNoise returns 404 with a message for addresses it has not seen.
    fn read_not_found(&self, _observable: &Observable, body: Option<&Value>) -> Option<Reading> {
        let message = body?.get("message")?.as_str()?;
        Some(Reading {
            severity: Severity::Information,
            summary: message.to_owned(),
            details: json!({ "message": message }),
        })
    }

    fn reference(&self, observable: &Observable) -> Option<String> {
        Some(format!("https://viz.greynoise.io/ip/{}", observable.value))
    }
}
