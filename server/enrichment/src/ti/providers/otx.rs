//! AlienVault OTX DirectConnect API v1 (`/api/v1/indicators/{type}/{value}/general`).
//!
//! Severity follows MSTICPy's OTX rule on the number of pulses that name the indicator: none is
//! information, one is warning, two or more is high.

use serde_json::{Value, json};

use super::{Reading, RemoteApi, RemoteProvider, path_segment};
use crate::indicator::IocType;
use crate::secret::Secret;
use crate::ti::http::{ApiRequest, HttpOverrides, HttpSettings};
use crate::ti::ratelimit::RateLimit;
use crate::ti::result::{Observable, Severity};

pub struct Otx {
    api_key: Secret,
}

impl Otx {
    pub const NAME: &'static str = "OTX";
    pub const BASE_URL: &'static str = "https://otx.alienvault.com/";

    /// Builds the provider. OTX publishes no per-minute quota, so the default of 60 a minute
    /// is an estimate.
    pub fn provider(api_key: Secret, overrides: &HttpOverrides) -> RemoteProvider {
        let settings =
            HttpSettings::new(Self::BASE_URL, RateLimit::per_minute(60)).with_overrides(overrides);
        RemoteProvider::new(Self::NAME, Box::new(Otx { api_key }), settings)
    }

    fn section(ioc_type: IocType) -> &'static str {
        match ioc_type {
            IocType::Ipv4 => "IPv4",
            IocType::Ipv6 => "IPv6",
            IocType::Dns => "domain",
            IocType::Url => "url",
            _ => "file",
        }
    }
}

impl RemoteApi for Otx {
    fn supports(&self, ioc_type: IocType) -> bool {
        !matches!(
            ioc_type,
            IocType::Email | IocType::WindowsPath | IocType::LinuxPath
        )
    }

    fn request(&self, observable: &Observable) -> ApiRequest {
        let mut request = ApiRequest::get(format!(
            "api/v1/indicators/{}/{}/general",
            Self::section(observable.ioc_type),
            path_segment(&observable.normalized())
        ));
        request
            .secret_headers
            .push(("X-OTX-API-KEY", self.api_key.clone()));
        request
    }

    fn read(&self, _observable: &Observable, body: &Value) -> Result<Option<Reading>, String> {
        if !body.is_object() {
            return Err("the body is not a JSON object".to_owned());
        }
        let Some(pulse_info) = body.get("pulse_info") else {
            return Ok(Some(Reading {
                severity: Severity::Information,
                summary: "no pulse information".to_owned(),
                details: Value::Null,
            }));
        };
        let pulses = pulse_info
            .get("pulses")
            .and_then(Value::as_array)
            .ok_or("pulse_info has no pulses list")?;
        let severity = match pulses.len() {
            0 => Severity::Information,
            1 => Severity::Warning,
            _ => Severity::High,
        };
        let names: Vec<&Value> = pulses
            .iter()
            .filter_map(|pulse| pulse.get("name"))
            .collect();
        let tags: Vec<&Value> = pulses
            .iter()
            .filter_map(|pulse| pulse.get("tags"))
            .collect();
        Ok(Some(Reading {
            severity,
            summary: format!("in {} OTX pulse(s)", pulses.len()),
            details: json!({ "pulse_count": pulses.len(), "names": names, "tags": tags }),
        }))
    }

    fn reference(&self, observable: &Observable) -> Option<String> {
        let kind = match observable.ioc_type {
            IocType::Ipv4 | IocType::Ipv6 => "ip",
            IocType::Dns => "domain",
            IocType::Url => "url",
            _ => "file",
        };
        Some(format!(
            "https://otx.alienvault.com/indicator/{kind}/{}",
            path_segment(&observable.normalized())
        ))
    }
}
