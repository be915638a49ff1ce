//! VirusTotal API v3 (`/api/v3/ip_addresses`, `/domains`, `/files`, `/urls`).
//!
//! Severity uses MSTICPy's VirusTotal thresholds on the number of engines that flag the
//! indicator as malicious (`last_analysis_stats.malicious` in v3, `positives` in the v2 API
//! MSTICPy calls): more than 1 is high, 1 is warning, 0 is information.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use super::{Reading, RemoteApi, RemoteProvider, number, path_segment};
use crate::indicator::IocType;
use crate::secret::Secret;
use crate::ti::http::{ApiRequest, HttpOverrides, HttpSettings};
use crate::ti::ratelimit::RateLimit;
use crate::ti::result::{Observable, Severity};

pub struct VirusTotal {
    api_key: Secret,
}

impl VirusTotal {
    pub const NAME: &'static str = "VirusTotal";
    pub const BASE_URL: &'static str = "https://www.virustotal.com/";

    /// Builds the provider with VirusTotal's published quota for free keys, 4 lookups a minute.
    pub fn provider(api_key: Secret, overrides: &HttpOverrides) -> RemoteProvider {
        let settings =
            HttpSettings::new(Self::BASE_URL, RateLimit::per_minute(4)).with_overrides(overrides);
        RemoteProvider::new(Self::NAME, Box::new(VirusTotal { api_key }), settings)
    }

    fn collection(ioc_type: IocType) -> &'static str {
        match ioc_type {
            IocType::Ipv4 | IocType::Ipv6 => "ip_addresses",
            IocType::Dns => "domains",
            IocType::Url => "urls",
            _ => "files",
        }
    }

    /// Returns the object id: the value itself, or the unpadded URL-safe base64 of a URL.
    fn object_id(observable: &Observable) -> String {
        if observable.ioc_type == IocType::Url {
            URL_SAFE_NO_PAD.encode(observable.value.as_bytes())
        } else {
            observable.normalized()
        }
    }
}

impl RemoteApi for VirusTotal {
    fn supports(&self, ioc_type: IocType) -> bool {
        matches!(
            ioc_type,
            IocType::Ipv4
                | IocType::Ipv6
                | IocType::Dns
                | IocType::Url
                | IocType::Md5
                | IocType::Sha1
                | IocType::Sha256
        )
    }

    fn request(&self, observable: &Observable) -> ApiRequest {
        let mut request = ApiRequest::get(format!(
            "api/v3/{}/{}",
            Self::collection(observable.ioc_type),
            path_segment(&Self::object_id(observable))
        ));
        request
            .secret_headers
            .push(("x-apikey", self.api_key.clone()));
        request
    }

    fn read(&self, _observable: &Observable, body: &Value) -> Result<Option<Reading>, String> {
        let attributes = body
            .pointer("/data/attributes")
            .ok_or("no data.attributes object")?;
        let stats = attributes
            .get("last_analysis_stats")
            .ok_or("no last_analysis_stats in data.attributes")?;
        let count = |key: &str| number(stats.get(key)).unwrap_or(0);
        let malicious = count("malicious");
        let suspicious = count("suspicious");
        let engines = [
            "malicious",
            "suspicious",
            "harmless",
            "undetected",
            "timeout",
        ]
        .iter()
        .map(|key| count(key))
        .sum::<i64>();

        let severity = if malicious > 1 {
            Severity::High
        } else if malicious > 0 {
            Severity::Warning
        } else {
            Severity::Information
        };
        let mut summary = format!("{malicious}/{engines} engines flag it as malicious");
        if suspicious > 0 {
            summary.push_str(&format!(", {suspicious} as suspicious"));
        }
        let details = json!({
            "malicious": malicious,
            "suspicious": suspicious,
            "harmless": count("harmless"),
            "undetected": count("undetected"),
            "reputation": attributes.get("reputation"),
            "last_analysis_date": attributes.get("last_analysis_date"),
            "tags": attributes.get("tags"),
        });
        Ok(Some(Reading {
            severity,
            summary,
            details,
        }))
    }

    fn reference(&self, observable: &Observable) -> Option<String> {
        let kind = match observable.ioc_type {
            IocType::Ipv4 | IocType::Ipv6 => "ip-address",
            IocType::Dns => "domain",
            IocType::Url => "url",
            _ => "file",
        };
        let id = if observable.ioc_type == IocType::Url {
            // The GUI addresses URLs by the SHA-256 of the URL; the search page takes the URL.
            return Some(format!(
                "https://www.virustotal.com/gui/search/{}",
                path_segment(&observable.value)
            ));
        } else {
            observable.normalized()
        };
        Some(format!("https://www.virustotal.com/gui/{kind}/{id}"))
    }
}
