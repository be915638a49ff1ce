//! The `[ti]` table of the enrichment configuration and the [`Enricher`] built from it.
//!
//! No remote provider runs unless its table enables it. A provider with an API key is enabled
//! unless its table sets `enabled = false`. GreyNoise's community API needs no key, so it runs
//! only with `enabled = true`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use url::Url;

use super::cache::DiskCache;
use super::http::HttpOverrides;
use super::offline::{IndicatorFile, OfflineError, TorExitNodes};
use super::privacy::PrivacyGuard;
use super::providers::{AbuseIpDb, GreyNoise, Otx, VirusTotal, XForce};
use super::{DEFAULT_CACHE_TTL, Enricher, Provider};
use crate::secret::Secret;

/// Remote providers in the order their results are listed.
const PROVIDER_KEYS: [&str; 5] = ["virustotal", "otx", "xforce", "greynoise", "abuseipdb"];

/// Errors in the threat-intelligence configuration.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "unknown provider `{0}` in [ti.providers]; expected one of virustotal, otx, xforce, greynoise, abuseipdb"
    )]
    UnknownProvider(String),
    #[error(
        "provider `{provider}` is enabled but has no {what}; set it in [ti.providers.{provider}]"
    )]
    MissingKey {
        provider: String,
        what: &'static str,
    },
    #[error(
        "environment variable {variable} named by [ti.providers.{provider}] is not set or empty"
    )]
    MissingEnv { provider: String, variable: String },
    #[error(
        "keyring entry {entry} named by [ti.providers.{provider}] was not found: set it from the editor or add it to the OS keyring (service `quarry`, account `{entry}`)"
    )]
    MissingKeyringEntry { provider: String, entry: String },
    #[error("[ti.providers.{provider}]: {message}")]
    Keyring { provider: String, message: String },
    #[error(transparent)]
    Offline(#[from] OfflineError),
}

/// Settings of one remote provider, `[ti.providers.NAME]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProviderConfig {
    /// Turns the provider on or off. Unset means "on when it has a key".
    pub enabled: Option<bool>,
    pub api_key: Option<Secret>,
    /// Name of an environment variable that contains the API key.
    pub api_key_env: Option<String>,
    /// Name of a keyring entry that contains the API key: a secret the editor handed over, or
    /// an OS keyring entry (see [`SecretLookup`]).
    pub api_key_keyring: Option<String>,
    /// X-Force's API password (X-Force authenticates with key and password).
    pub api_password: Option<Secret>,
    pub api_password_env: Option<String>,
    pub api_password_keyring: Option<String>,
    /// Replaces the provider's base URL, for a proxy or a test server.
    pub base_url: Option<Url>,
    /// Time allowed for one request, in seconds (default 10).
    pub timeout_seconds: Option<f64>,
    pub requests_per_minute: Option<u32>,
    /// Requests allowed at once before the per-minute rate applies.
    pub burst: Option<u32>,
    /// Retries after HTTP 429, 502, 503 or 504 (default 2).
    pub max_retries: Option<u32>,
    /// Maximum wait before a retry, in seconds (default 30).
    pub max_retry_wait_seconds: Option<f64>,
}

impl ProviderConfig {
    fn http_overrides(&self) -> HttpOverrides {
        HttpOverrides {
            base_url: self.base_url.clone(),
            timeout_seconds: self.timeout_seconds,
            requests_per_minute: self.requests_per_minute,
            burst: self.burst,
            max_retries: self.max_retries,
            max_retry_wait_seconds: self.max_retry_wait_seconds,
        }
    }
}

/// Reads keyring entries named by `api_key_keyring` and `api_password_keyring`. It returns
/// `Ok(None)` for a missing entry and an error naming the entry when the store cannot be read.
pub type SecretLookup<'a> = &'a (dyn Fn(&str) -> Result<Option<Secret>, String> + Sync);

/// Rejects every keyring entry, for [`TiConfig::build`], which has no keyring.
fn no_keyring(name: &str) -> Result<Option<Secret>, String> {
    Err(format!(
        "keyring entry {name} cannot be read, because no keyring is available here: use api_key_env"
    ))
}

/// The places one secret can come from, in the order they are tried.
struct SecretSources<'a> {
    value: &'a Option<Secret>,
    variable: &'a Option<String>,
    keyring_entry: &'a Option<String>,
}

fn secret_from(
    provider: &str,
    sources: SecretSources<'_>,
    lookup: SecretLookup<'_>,
) -> Result<Option<Secret>, ConfigError> {
    if let Some(secret) = sources.value.as_ref().filter(|secret| !secret.is_empty()) {
        return Ok(Some(secret.clone()));
    }
    if let Some(entry) = sources.keyring_entry {
        return match lookup(entry) {
            Ok(Some(secret)) if !secret.is_empty() => Ok(Some(secret)),
            Ok(_) => Err(ConfigError::MissingKeyringEntry {
                provider: provider.to_owned(),
                entry: entry.clone(),
            }),
            Err(message) => Err(ConfigError::Keyring {
                provider: provider.to_owned(),
                message,
            }),
        };
    }
    let Some(variable) = sources.variable else {
        return Ok(None);
    };
    match std::env::var(variable) {
        Ok(text) if !text.is_empty() => Ok(Some(Secret::new(text))),
        _ => Err(ConfigError::MissingEnv {
            provider: provider.to_owned(),
            variable: variable.clone(),
        }),
    }
}

/// A local indicator file, `[[ti.indicator_files]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndicatorFileConfig {
    pub path: PathBuf,
    /// Provider name in results; the file name without extension when unset.
    pub name: Option<String>,
}

/// A Microsoft Sentinel workspace's threat-indicator table as a source, `[ti.sentinel]`. The
/// `quarry` binary builds it from a Log Analytics connection; [`TiConfig::build`] skips it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SentinelTiConfig {
    /// The name of a `log-analytics` connection in `quarry.toml` or `msticpyconfig.yaml`.
    pub connection: String,
    /// Provider name in results (default `SentinelTI`).
    #[serde(default = "default_sentinel_name")]
    pub name: String,
    /// Days of indicators to search (default 30).
    #[serde(default = "default_lookback_days")]
    pub lookback_days: u32,
    /// Time allowed for one lookup query, in seconds (default 30).
    #[serde(default = "default_sentinel_timeout")]
    pub timeout_seconds: f64,
}

fn default_sentinel_name() -> String {
    "SentinelTI".to_owned()
}

fn default_lookback_days() -> u32 {
    30
}

fn default_sentinel_timeout() -> f64 {
    30.0
}

/// The `[ti]` table.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TiConfig {
    pub providers: BTreeMap<String, ProviderConfig>,
    pub indicator_files: Vec<IndicatorFileConfig>,
    /// A Tor exit-node list in the `exit-addresses` format or one address a line.
    pub tor_exit_list: Option<PathBuf>,
    pub sentinel: Option<SentinelTiConfig>,
    pub privacy: PrivacyGuard,
    /// Caches found and not-found results under the cache folder (default true).
    pub cache: bool,
    /// Time to live of a cached result, in hours (default 24).
    pub cache_ttl_hours: f64,
}

impl Default for TiConfig {
    fn default() -> TiConfig {
        TiConfig {
            providers: BTreeMap::new(),
            indicator_files: Vec::new(),
            tor_exit_list: None,
            sentinel: None,
            privacy: PrivacyGuard::default(),
            cache: true,
            cache_ttl_hours: DEFAULT_CACHE_TTL.as_secs_f64() / 3600.0,
        }
    }
}

impl TiConfig {
    /// Builds the enricher. `cache_folder` is where results are cached (`None` turns the cache
    /// off). Offline files are read now, so a missing file fails here. Keyring settings fail,
    /// because this form has no keyring: [`TiConfig::build_with_secrets`] has one.
    pub fn build(&self, cache_folder: Option<&Path>) -> Result<Enricher, ConfigError> {
        self.build_with_secrets(cache_folder, &no_keyring)
    }

    /// Builds the enricher as [`TiConfig::build`] does, reading `api_key_keyring` and
    /// `api_password_keyring` entries through `lookup`.
    pub fn build_with_secrets(
        &self,
        cache_folder: Option<&Path>,
        lookup: SecretLookup<'_>,
    ) -> Result<Enricher, ConfigError> {
        self.build_with(cache_folder, lookup, Vec::new())
    }

    /// Builds the enricher as [`TiConfig::build_with_secrets`] does, with `extra` providers
    /// (such as a Sentinel workspace's indicators) listed after the offline sources.
    pub fn build_with(
        &self,
        cache_folder: Option<&Path>,
        lookup: SecretLookup<'_>,
        extra: Vec<Arc<dyn Provider>>,
    ) -> Result<Enricher, ConfigError> {
        for name in self.providers.keys() {
            if !PROVIDER_KEYS.contains(&name.as_str()) {
                return Err(ConfigError::UnknownProvider(name.clone()));
            }
        }

        let mut providers: Vec<Arc<dyn Provider>> = Vec::new();
        for file in &self.indicator_files {
            let name = file.name.clone().unwrap_or_else(|| {
                file.path.file_stem().map_or_else(
                    || "LocalIndicators".to_owned(),
                    |stem| stem.to_string_lossy().into_owned(),
                )
            });
            providers.push(Arc::new(IndicatorFile::load(&name, &file.path)?));
        }
        if let Some(path) = &self.tor_exit_list {
            providers.push(Arc::new(TorExitNodes::load(path)?));
        }
        providers.extend(extra);
        for key in PROVIDER_KEYS {
            let Some(config) = self.providers.get(key) else {
                continue;
            };
            if let Some(provider) = remote_provider(key, config, lookup)? {
                providers.push(Arc::new(provider));
            }
        }

        let cache = match cache_folder {
            Some(folder) if self.cache => Some(DiskCache::new(
                folder,
                Duration::from_secs_f64(self.cache_ttl_hours.max(0.0) * 3600.0),
            )),
            _ => None,
        };
        Ok(Enricher::new(providers, self.privacy.clone(), cache))
    }
}

fn remote_provider(
    key: &str,
    config: &ProviderConfig,
    lookup: SecretLookup<'_>,
) -> Result<Option<super::providers::RemoteProvider>, ConfigError> {
    let api_key = secret_from(
        key,
        SecretSources {
            value: &config.api_key,
            variable: &config.api_key_env,
            keyring_entry: &config.api_key_keyring,
        },
        lookup,
    )?;
    let enabled = config.enabled.unwrap_or(api_key.is_some());
    if !enabled {
        return Ok(None);
    }
    let overrides = config.http_overrides();
    let require_key = |secret: Option<Secret>, what: &'static str| {
        secret.ok_or_else(|| ConfigError::MissingKey {
            provider: key.to_owned(),
            what,
        })
    };
    let provider = match key {
        "virustotal" => VirusTotal::provider(require_key(api_key, "api_key")?, &overrides),
        "otx" => Otx::provider(require_key(api_key, "api_key")?, &overrides),
        "xforce" => {
            let password = secret_from(
                key,
                SecretSources {
                    value: &config.api_password,
                    variable: &config.api_password_env,
                    keyring_entry: &config.api_password_keyring,
                },
                lookup,
            )?;
            XForce::provider(
                require_key(api_key, "api_key")?,
                require_key(password, "api_password")?,
                &overrides,
            )
        }
        "greynoise" => GreyNoise::provider(api_key, &overrides),
        "abuseipdb" => AbuseIpDb::provider(require_key(api_key, "api_key")?, &overrides),
        other => return Err(ConfigError::UnknownProvider(other.to_owned())),
    };
    Ok(Some(provider))
}

#[cfg(test)]
mod keyring_tests {
    use super::*;

    fn config(text: &str) -> TiConfig {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn keyring_key_enables_provider() {
        let ti = config("[providers.virustotal]\napi_key_keyring = \"vt\"\n");
        let lookup = |name: &str| Ok((name == "vt").then(|| Secret::new("key-from-editor")));
        let enricher = ti.build_with_secrets(None, &lookup).unwrap();
        assert_eq!(enricher.provider_names(), ["VirusTotal"]);
    }

    #[test]
    fn missing_keyring_entry_named() {
        let ti = config("[providers.otx]\napi_key_keyring = \"otx-key\"\n");
        let lookup = |_: &str| Ok(None);
        let error = ti
            .build_with_secrets(None, &lookup)
            .unwrap_err()
            .to_string();
        assert!(error.contains("otx-key"), "{error}");
        assert!(error.contains("[ti.providers.otx]"), "{error}");
    }

    #[test]
    fn build_without_keyring_fails_clearly() {
        let ti = config("[providers.otx]\napi_key_keyring = \"otx-key\"\n");
        let error = ti.build(None).unwrap_err().to_string();
        assert!(error.contains("otx-key"), "{error}");
        assert!(error.contains("api_key_env"), "{error}");
    }
}
