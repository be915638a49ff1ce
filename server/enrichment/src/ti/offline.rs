//! Offline sources that never send an indicator anywhere: a local indicator file (CSV, STIX 2.1
//! bundle or MISP event JSON) and a Tor exit-node list.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use futures::future::BoxFuture;
use serde_json::{Value, json};

use super::Provider;
use super::result::{Observable, Severity, TiResult};
use crate::indicator::IocType;

/// Errors from loading an offline source.
#[derive(Debug, thiserror::Error)]
pub enum OfflineError {
    #[error("failed to read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not a valid indicator file: {message}")]
    Invalid { path: PathBuf, message: String },
}

/// One entry of a local indicator file.
#[derive(Debug, Clone, PartialEq)]
struct Entry {
    severity: Severity,
    description: String,
    source: String,
}

/// A local list of known-bad (or known-good) indicators.
///
/// Severity: CSV files may give it per row (`severity` column with MSTICPy's names; `high`
/// otherwise). STIX indicators are high unless their `indicator_types` contain `benign`
/// (information) or `anomalous-activity` (warning). MISP attributes with `to_ids` set are high,
/// the others warning.
pub struct IndicatorFile {
    name: String,
    path: PathBuf,
    entries: HashMap<String, Vec<Entry>>,
}

impl IndicatorFile {
    /// Loads `path`, choosing the format from its content: a JSON object with `"type":
    /// "bundle"` is STIX, one with an `Event` (or a `response` list of them) is MISP, and
    /// anything else is read as CSV.
    pub fn load(name: &str, path: &Path) -> Result<IndicatorFile, OfflineError> {
        let text = std::fs::read_to_string(path).map_err(|source| OfflineError::Read {
            path: path.to_owned(),
            source,
        })?;
        let invalid = |message: String| OfflineError::Invalid {
            path: path.to_owned(),
            message,
        };
        let mut file = IndicatorFile {
            name: name.to_owned(),
            path: path.to_owned(),
            entries: HashMap::new(),
        };
        let trimmed = text.trim_start();
        if trimmed.starts_with('{') || trimmed.starts_with('[') {
            let json: Value =
                serde_json::from_str(&text).map_err(|error| invalid(error.to_string()))?;
            if json.get("type").and_then(Value::as_str) == Some("bundle") {
                file.read_stix(&json);
            } else if json.get("Event").is_some() || json.get("response").is_some() {
                file.read_misp(&json);
            } else {
                return Err(invalid(
                    "JSON that is neither a STIX 2.1 bundle nor a MISP event".to_owned(),
                ));
            }
        } else {
            file.read_csv(&text).map_err(invalid)?;
        }
        Ok(file)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn add(&mut self, value: &str, severity: Severity, description: String, source: &str) {
        let Some(observable) = Observable::parse(value) else {
            tracing::debug!(file = %self.path.display(), value, "skipping a value that is not an indicator");
            return;
        };
        self.entries
            .entry(observable.normalized())
            .or_default()
            .push(Entry {
                severity,
                description,
                source: source.to_owned(),
            });
    }

    fn read_csv(&mut self, text: &str) -> Result<(), String> {
        let mut reader = csv::ReaderBuilder::new()
            .flexible(true)
            .trim(csv::Trim::All)
            .from_reader(text.as_bytes());
        let headers: Vec<String> = reader
            .headers()
            .map_err(|error| error.to_string())?
            .iter()
            .map(str::to_ascii_lowercase)
            .collect();
        let column = |names: &[&str]| {
            headers
                .iter()
                .position(|header| names.contains(&header.as_str()))
        };
        let value_column = column(&["indicator", "ioc", "value", "observable"])
            .ok_or("the CSV header needs an `indicator`, `ioc`, `value` or `observable` column")?;
        let severity_column = column(&["severity"]);
        let description_column = column(&["description", "comment", "threat"]);

        for record in reader.records() {
            let record = record.map_err(|error| error.to_string())?;
            let Some(value) = record.get(value_column).filter(|value| !value.is_empty()) else {
                continue;
            };
            let severity = severity_column
                .and_then(|index| record.get(index))
                .and_then(parse_severity)
                .unwrap_or(Severity::High);
            let description = description_column
                .and_then(|index| record.get(index))
                .unwrap_or_default()
                .to_owned();
            self.add(value, severity, description, "csv");
        }
        Ok(())
    }

    fn read_stix(&mut self, bundle: &Value) {
        let objects = bundle.get("objects").and_then(Value::as_array);
        for object in objects.into_iter().flatten() {
            if object.get("type").and_then(Value::as_str) != Some("indicator") {
                continue;
            }
            let Some(pattern) = object.get("pattern").and_then(Value::as_str) else {
                continue;
            };
            let types: Vec<&str> = object
                .get("indicator_types")
                .and_then(Value::as_array)
                .map(|list| list.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let severity = if types.contains(&"benign") {
                Severity::Information
            } else if types.contains(&"anomalous-activity") {
                Severity::Warning
            } else {
                Severity::High
            };
            let description = object
                .get("name")
                .or_else(|| object.get("description"))
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            for value in stix_pattern_values(pattern) {
                self.add(&value, severity, description.clone(), "stix");
            }
        }
    }

    fn read_misp(&mut self, json: &Value) {
        let events: Vec<&Value> = match json.get("response").and_then(Value::as_array) {
            Some(list) => list.iter().filter_map(|item| item.get("Event")).collect(),
            None => json.get("Event").into_iter().collect(),
        };
        for event in events {
            let info = event
                .get("info")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            let mut attributes: Vec<&Value> = Vec::new();
            attributes.extend(
                event
                    .get("Attribute")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten(),
            );
            for object in event
                .get("Object")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                attributes.extend(
                    object
                        .get("Attribute")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten(),
                );
            }
            for attribute in attributes {
                let kind = attribute
                    .get("type")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let Some(value) = attribute.get("value").and_then(Value::as_str) else {
                    continue;
                };
                let to_ids = match attribute.get("to_ids") {
                    Some(Value::Bool(flag)) => *flag,
                    Some(Value::String(text)) => text == "1" || text.eq_ignore_ascii_case("true"),
                    Some(Value::Number(number)) => number.as_i64() == Some(1),
                    _ => false,
                };
                let severity = if to_ids {
                    Severity::High
                } else {
                    Severity::Warning
                };
                let comment = attribute
                    .get("comment")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let description = if comment.is_empty() {
                    info.clone()
                } else {
                    format!("{info}: {comment}")
                };
                // Composite types such as `ip-dst|port` and `filename|sha256` join two values
                // with `|`; every part that is an indicator counts.
                let parts: Vec<&str> = if kind.contains('|') {
                    value.split('|').collect()
                } else {
                    vec![value]
                };
                for part in parts {
                    self.add(part, severity, description.clone(), "misp");
                }
            }
        }
    }
}

fn parse_severity(text: &str) -> Option<Severity> {
    match text.trim().to_ascii_lowercase().as_str() {
        "high" | "2" => Some(Severity::High),
        "warning" | "medium" | "1" => Some(Severity::Warning),
        "information" | "info" | "low" | "0" => Some(Severity::Information),
        "unknown" | "-1" => Some(Severity::Unknown),
        _ => None,
    }
}

/// Returns the literal values compared in a STIX 2.1 pattern, such as `1.2.3.4` in
/// `[ipv4-addr:value = '1.2.3.4']`. Only equality comparisons count; `MATCHES`, `LIKE` and
/// ranges do not name one indicator.
fn stix_pattern_values(pattern: &str) -> Vec<String> {
    let mut values = Vec::new();
    let mut rest = pattern;
    while let Some(equals) = rest.find('=') {
        let before = rest[..equals].trim_end();
        let after = rest[equals + 1..].trim_start();
        // Skip `!=`, `<=` and `>=`.
        let operator_ok =
            !(before.ends_with('!') || before.ends_with('<') || before.ends_with('>'));
        let literal = if operator_ok {
            after.strip_prefix('\'')
        } else {
            None
        };
        if let Some(literal) = literal {
            let mut value = String::new();
            let mut chars = literal.char_indices();
            let mut end = literal.len();
            while let Some((index, ch)) = chars.next() {
                match ch {
                    '\\' => {
                        if let Some((_, escaped)) = chars.next() {
                            value.push(escaped);
                        }
                    }
                    '\'' => {
                        end = index + 1;
                        break;
                    }
                    _ => value.push(ch),
                }
            }
            values.push(value);
            rest = &literal[end.min(literal.len())..];
        } else {
            rest = after;
        }
    }
    values
}

impl Provider for IndicatorFile {
    fn name(&self) -> &str {
        &self.name
    }

    fn is_third_party(&self) -> bool {
        false
    }

    fn supports(&self, ioc_type: IocType) -> bool {
        !matches!(ioc_type, IocType::WindowsPath | IocType::LinuxPath)
    }

    fn lookup<'a>(&'a self, observable: &'a Observable) -> BoxFuture<'a, TiResult> {
        let result = match self.entries.get(&observable.normalized()) {
            Some(entries) => {
                let severity = entries
                    .iter()
                    .map(|entry| entry.severity)
                    .max()
                    .unwrap_or(Severity::High);
                let descriptions: Vec<&str> = entries
                    .iter()
                    .map(|entry| entry.description.as_str())
                    .filter(|text| !text.is_empty())
                    .collect();
                let summary = if descriptions.is_empty() {
                    format!("listed in {}", self.path.display())
                } else {
                    descriptions.join("; ")
                };
                let sources: Vec<&str> =
                    entries.iter().map(|entry| entry.source.as_str()).collect();
                TiResult::found(
                    &self.name,
                    observable,
                    severity,
                    summary,
                    json!({ "file": self.path.display().to_string(), "entries": entries.len(), "formats": sources }),
                    None,
                )
            }
            None => TiResult::not_found(&self.name, observable, None),
        };
        Box::pin(async move { result })
    }
}

/// Tor exit nodes from a file: the Tor Project's `exit-addresses` format (`ExitNode`,
/// `LastStatus`, `ExitAddress` lines) or one address a line. A listed address is a warning, as
/// MSTICPy's `Tor` provider reports it.
pub struct TorExitNodes {
    path: PathBuf,
    nodes: HashMap<String, Value>,
}

impl TorExitNodes {
    pub const NAME: &'static str = "Tor";

    pub fn load(path: &Path) -> Result<TorExitNodes, OfflineError> {
        let text = std::fs::read_to_string(path).map_err(|source| OfflineError::Read {
            path: path.to_owned(),
            source,
        })?;
        let mut nodes = HashMap::new();
        let mut fingerprint = Value::Null;
        let mut last_status = Value::Null;
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let mut fields = line.splitn(3, ' ');
            let key = fields.next().unwrap_or_default();
            let first = fields.next();
            match key {
                "ExitNode" => {
                    fingerprint = first.map_or(Value::Null, |text| json!(text));
                    last_status = Value::Null;
                }
                "LastStatus" => {
                    last_status = json!(line.trim_start_matches("LastStatus").trim());
                }
                "ExitAddress" => {
                    if let Some(address) = first {
                        nodes.insert(
                            address.to_owned(),
                            json!({ "NodeID": fingerprint, "LastStatus": last_status }),
                        );
                    }
                }
                "Published" => {}
                plain if plain.parse::<std::net::IpAddr>().is_ok() => {
                    nodes.insert(plain.to_owned(), Value::Null);
                }
                _ => {}
            }
        }
        if nodes.is_empty() {
            return Err(OfflineError::Invalid {
                path: path.to_owned(),
                message: "no exit addresses found".to_owned(),
            });
        }
        Ok(TorExitNodes {
            path: path.to_owned(),
            nodes,
        })
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }
}

impl Provider for TorExitNodes {
    fn name(&self) -> &str {
        Self::NAME
    }

    fn is_third_party(&self) -> bool {
        false
    }

    fn supports(&self, ioc_type: IocType) -> bool {
        ioc_type.is_ip()
    }

    fn lookup<'a>(&'a self, observable: &'a Observable) -> BoxFuture<'a, TiResult> {
        let result = match self.nodes.get(&observable.normalized()) {
            Some(details) => TiResult::found(
                Self::NAME,
                observable,
                Severity::Warning,
                "Tor exit node".to_owned(),
                details.clone(),
                Some(format!("file://{}", self.path.display())),
            ),
            None => TiResult::not_found(Self::NAME, observable, None),
        };
        Box::pin(async move { result })
    }
}

#[cfg(test)]
mod tests {
    use super::stix_pattern_values;

    #[test]
    fn stix_pattern_literals() {
        assert_eq!(
            stix_pattern_values(
                "[ipv4-addr:value = '198.51.100.1' OR domain-name:value = 'evil.example.com']"
            ),
            ["198.51.100.1", "evil.example.com"]
        );
        assert_eq!(
            stix_pattern_values("[file:hashes.'SHA-256' = 'aa\\'bb']"),
            ["aa'bb"]
        );
        assert!(stix_pattern_values("[network-traffic:dst_port >= '443']").is_empty());
    }
}
