//! AbuseIPDB API v2 (`/api/v2/check`).
//!
//! Severity uses MSTICPy's AbuseIPDB thresholds on the abuse confidence score: above 50 is
//! high, above 0 is warning, 0 is information.

use serde_json::{Value, json};

use super::{Reading, RemoteApi, RemoteProvider, number};
use crate::indicator::IocType;
use crate::secret::Secret;
use crate::ti::http::{ApiRequest, HttpOverrides, HttpSettings};
use crate::ti::ratelimit::RateLimit;
use crate::ti::result::{Observable, Severity};

pub struct AbuseIpDb {
    api_key: Secret,
}

impl AbuseIpDb {
    pub const NAME: &'static str = "AbuseIPDB";
    pub const BASE_URL: &'static str = "https://api.abuseipdb.com/";
    const HIGH_SEVERITY: i64 = 50;

    /// Builds the provider. The default of 30 requests a minute is an estimate that keeps bursts
    /// small within the free plan's 1,000 checks a day.
    pub fn provider(api_key: Secret, overrides: &HttpOverrides) -> RemoteProvider {
        let settings =
            HttpSettings::new(Self::BASE_URL, RateLimit::per_minute(30)).with_overrides(overrides);
        RemoteProvider::new(Self::NAME, Box::new(AbuseIpDb { api_key }), settings)
    }
}

impl RemoteApi for AbuseIpDb {
    fn supports(&self, ioc_type: IocType) -> bool {
        ioc_type.is_ip()
    }

    fn request(&self, observable: &Observable) -> ApiRequest {
        let mut request = ApiRequest::get("api/v2/check");
        request.query.push(("ipAddress", observable.value.clone()));
        request.query.push(("maxAgeInDays", "90".to_owned()));
        request.secret_headers.push(("Key", self.api_key.clone()));
        request
            .headers
            .push(("Accept", "application/json".to_owned()));
        request
    }

    fn read(&self, _observable: &Observable, body: &Value) -> Result<Option<Reading>, String> {
        let data = body.get("data").ok_or("no data object")?;
        let score =
            number(data.get("abuseConfidenceScore")).ok_or("no abuseConfidenceScore in data")?;
        let severity = if score > Self::HIGH_SEVERITY {
            Severity::High
        } else if score > 0 {
            Severity::Warning
        } else {
            Severity::Information
        };
        let reports = number(data.get("totalReports")).unwrap_or(0);
        Ok(Some(Reading {
            severity,
            summary: format!("abuse confidence {score}%, {reports} report(s)"),
            details: json!({
                "abuseConfidenceScore": score,
                "totalReports": reports,
                "countryCode": data.get("countryCode"),
                "usage": data.get("usageType"),
                "isp": data.get("isp"),
                "domain": data.get("domain"),
                "hostNames": data.get("hostnames"),
                "lastReportedAt": data.get("lastReportedAt"),
            }),
        }))
    }

    fn reference(&self, observable: &Observable) -> Option<String> {
        Some(format!(
            "https://www.abuseipdb.com/check/{}",
            observable.value
        ))
    }
}
