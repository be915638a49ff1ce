//! IBM X-Force Exchange API (`/ipr/{ip}`, `/url/{url or domain}`, `/malware/{hash}`), with
//! HTTP basic authentication by API key and password.
//!
//! Severity uses MSTICPy's X-Force thresholds on the risk score: below 2 is information, 2 to
//! below 5 is warning, 5 and above is high. A hash with a malware record is high.

use serde_json::{Value, json};

use super::{Reading, RemoteApi, RemoteProvider, number, path_segment};
use crate::indicator::IocType;
use crate::secret::Secret;
use crate::ti::http::{ApiRequest, HttpOverrides, HttpSettings};
use crate::ti::ratelimit::RateLimit;
use crate::ti::result::{Observable, Severity};

pub struct XForce {
    api_key: Secret,
    api_password: Secret,
}

impl XForce {
    pub const NAME: &'static str = "XForce";
    pub const BASE_URL: &'static str = "https://api.xforce.ibmcloud.com/";
    const MEDIUM_SEVERITY: i64 = 2;
    const HIGH_SEVERITY: i64 = 5;

    /// Builds the provider. The default of 30 requests a minute is an estimate that keeps bursts
    /// small within the free tier's monthly quota.
    pub fn provider(
        api_key: Secret,
        api_password: Secret,
        overrides: &HttpOverrides,
    ) -> RemoteProvider {
        let settings =
            HttpSettings::new(Self::BASE_URL, RateLimit::per_minute(30)).with_overrides(overrides);
        RemoteProvider::new(
            Self::NAME,
            Box::new(XForce {
                api_key,
                api_password,
            }),
            settings,
        )
    }

    fn section(ioc_type: IocType) -> &'static str {
        match ioc_type {
            IocType::Ipv4 | IocType::Ipv6 => "ipr",
            IocType::Dns | IocType::Url => "url",
            _ => "malware",
        }
    }
}

impl RemoteApi for XForce {
    fn supports(&self, ioc_type: IocType) -> bool {
        !matches!(
            ioc_type,
            IocType::Email | IocType::WindowsPath | IocType::LinuxPath
        )
    }

    fn request(&self, observable: &Observable) -> ApiRequest {
        let mut request = ApiRequest::get(format!(
            "{}/{}",
            Self::section(observable.ioc_type),
            path_segment(&observable.normalized())
        ));
        request.basic_auth = Some((self.api_key.clone(), self.api_password.clone()));
        request
    }

    fn read(&self, observable: &Observable, body: &Value) -> Result<Option<Reading>, String> {
        if !body.is_object() {
            return Err("the body is not a JSON object".to_owned());
        }
        if observable.ioc_type.is_hash() {
            return Ok(Some(match body.get("malware") {
                Some(malware) if malware.is_object() => Reading {
                    severity: Severity::High,
                    summary: format!(
                        "malware record, risk {}",
                        malware
                            .get("risk")
                            .and_then(Value::as_str)
                            .unwrap_or("unknown")
                    ),
                    details: json!({
                        "risk": malware.get("risk"),
                        "family": malware.get("family"),
                    }),
                },
                _ => Reading {
                    severity: Severity::Information,
                    summary: "no malware record".to_owned(),
                    details: Value::Null,
                },
            }));
        }

        // URL and domain responses wrap the report in `result`, but IP responses do not.
        let report = body.get("result").unwrap_or(body);
        let score = number(report.get("score")).unwrap_or(0);
        let severity = if score < Self::MEDIUM_SEVERITY {
            Severity::Information
        } else if score < Self::HIGH_SEVERITY {
            Severity::Warning
        } else {
            Severity::High
        };
        Ok(Some(Reading {
            severity,
            summary: format!("risk score {score} of 10"),
            details: json!({
                "score": report.get("score"),
                "cats": report.get("cats"),
                "reason": report.get("reason"),
                "reasonDescription": report.get("reasonDescription"),
                "tags": report.get("tags"),
            }),
        }))
    }

    fn reference(&self, observable: &Observable) -> Option<String> {
        let kind = match observable.ioc_type {
            IocType::Ipv4 | IocType::Ipv6 => "ip",
            IocType::Dns | IocType::Url => "url",
            _ => "malware",
        };
        Some(format!(
            "https://exchange.xforce.ibmcloud.com/{kind}/{}",
            path_segment(&observable.normalized())
        ))
    }
}
