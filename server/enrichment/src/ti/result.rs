//! The result every threat-intelligence source returns, whatever its API.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::indicator::IocType;

/// The severity of a result, with MSTICPy's `ResultSeverity` levels. The order is
/// `Unknown < Information < Warning < High`, as MSTICPy's values -1, 0, 1, 2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Unknown,
    Information,
    Warning,
    High,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Unknown => "unknown",
            Severity::Information => "information",
            Severity::Warning => "warning",
            Severity::High => "high",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The provider's conclusion in one word.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Malicious,
    Suspicious,
    Harmless,
    NotFound,
    /// The lookup produced no result (error, timeout, blocked, rate limited).
    Unknown,
}

/// The outcome of a lookup.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LookupStatus {
    /// The provider has a record of the indicator.
    Ok,
    /// The provider responded and has no record of the indicator.
    NotFound,
    /// The privacy guard kept the indicator from a third-party provider; no request was sent.
    Blocked,
    /// The provider rejected the API key (HTTP 401 or 403).
    Unauthorized,
    /// The provider kept returning HTTP 429 past the retry budget.
    RateLimited,
    TimedOut,
    /// A network error or an unexpected HTTP status.
    Failed,
    /// The provider returned a body that is not the documented JSON.
    MalformedResponse,
}

impl LookupStatus {
    /// Returns true for outcomes worth caching, where the provider returned a record or "not found".
    pub fn is_answer(self) -> bool {
        matches!(self, LookupStatus::Ok | LookupStatus::NotFound)
    }
}

/// One provider's result for one indicator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TiResult {
    pub provider: String,
    pub ioc: String,
    pub ioc_type: IocType,
    pub status: LookupStatus,
    pub verdict: Verdict,
    pub severity: Severity,
    /// One line for a hover or a table cell, such as `5/90 engines flag it`.
    pub summary: String,
    /// The provider's key fields, as MSTICPy's `Details` column has them.
    #[serde(default, skip_serializing_if = "Value::is_null")]
    pub details: Value,
    /// A page for a person to read about the indicator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// The reason the lookup failed or was blocked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// True when the result came from the disk cache.
    #[serde(default)]
    pub cached: bool,
}

impl TiResult {
    /// Builds a result for an indicator the provider has a record of. The verdict follows the severity.
    pub fn found(
        provider: &str,
        observable: &Observable,
        severity: Severity,
        summary: String,
        details: Value,
        reference: Option<String>,
    ) -> TiResult {
        let verdict = match severity {
            Severity::High => Verdict::Malicious,
            Severity::Warning => Verdict::Suspicious,
            Severity::Information => Verdict::Harmless,
            Severity::Unknown => Verdict::Unknown,
        };
        TiResult {
            provider: provider.to_owned(),
            ioc: observable.value.clone(),
            ioc_type: observable.ioc_type,
            status: LookupStatus::Ok,
            verdict,
            severity,
            summary,
            details,
            reference,
            message: None,
            cached: false,
        }
    }

    /// Builds a result for an indicator the provider has no record of. Severity is
    /// `information`, as in MSTICPy's "Not found." results.
    pub fn not_found(
        provider: &str,
        observable: &Observable,
        reference: Option<String>,
    ) -> TiResult {
        TiResult {
            provider: provider.to_owned(),
            ioc: observable.value.clone(),
            ioc_type: observable.ioc_type,
            status: LookupStatus::NotFound,
            verdict: Verdict::NotFound,
            severity: Severity::Information,
            summary: "not found".to_owned(),
            details: Value::Null,
            reference,
            message: None,
            cached: false,
        }
    }

    /// Builds a result for a lookup that failed, timed out or was blocked.
    pub fn failure(
        provider: &str,
        observable: &Observable,
        status: LookupStatus,
        message: impl Into<String>,
    ) -> TiResult {
        let message = message.into();
        TiResult {
            provider: provider.to_owned(),
            ioc: observable.value.clone(),
            ioc_type: observable.ioc_type,
            status,
            verdict: Verdict::Unknown,
            severity: Severity::Unknown,
            summary: message.clone(),
            details: Value::Null,
            reference: None,
            message: Some(message),
            cached: false,
        }
    }
}

/// An indicator to look up: its value (refanged) and type.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Observable {
    pub value: String,
    pub ioc_type: IocType,
}

impl Observable {
    pub fn new(value: impl Into<String>, ioc_type: IocType) -> Observable {
        Observable {
            value: value.into(),
            ioc_type,
        }
    }

    /// Classifies `value` with the indicator extractor; `None` when the whole string is not one
    /// indicator.
    pub fn parse(value: &str) -> Option<Observable> {
        let trimmed = value.trim();
        let indicator = crate::extract::extract(trimmed)
            .into_iter()
            .find(|indicator| indicator.start == 0 && indicator.end == trimmed.len())?;
        Some(Observable::new(indicator.value, indicator.ioc_type))
    }

    /// Returns the value that providers and caches compare: lowercase for case-insensitive
    /// types, and the canonical form of an IPv6 address.
    pub fn normalized(&self) -> String {
        match self.ioc_type {
            IocType::Dns | IocType::Email | IocType::Md5 | IocType::Sha1 | IocType::Sha256 => {
                self.value.to_ascii_lowercase()
            }
            IocType::Ipv6 => self
                .value
                .parse::<std::net::Ipv6Addr>()
                .map_or_else(|_| self.value.clone(), |address| address.to_string()),
            _ => self.value.clone(),
        }
    }
}
