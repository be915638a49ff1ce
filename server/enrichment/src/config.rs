//! The enrichment configuration file, `enrichment.toml` in Quarry's configuration folder.
//!
//! ```toml
//! [geoip]
//! folders = ["/data/geoip"]
//!
//! [ti.privacy]
//! internal_domains = ["corp.example.com"]
//! internal_hosts = ["dc01"]
//!
//! [ti.providers.virustotal]
//! api_key_env = "VT_API_KEY"
//!
//! [ti.providers.greynoise]
//! enabled = true
//! ```

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::geoip::GeoIpConfig;
use crate::paths::config_dir;
use crate::rdap::RdapConfig;
use crate::ti::TiConfig;

/// File name of the configuration inside the configuration folder.
pub const CONFIG_FILE_NAME: &str = "enrichment.toml";

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EnrichmentConfig {
    pub geoip: GeoIpConfig,
    pub ti: TiConfig,
    pub rdap: RdapConfig,
}

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("failed to read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid enrichment configuration {path}: {source}")]
    Parse {
        path: PathBuf,
        source: Box<toml::de::Error>,
    },
}

impl EnrichmentConfig {
    /// Reads `path`, or the default file when `path` is `None`. A missing default file gives
    /// the defaults (GeoIP from MSTICPy's folder and the user cache, no TI provider); a missing
    /// explicit file is an error.
    pub fn load(path: Option<&Path>) -> Result<EnrichmentConfig, LoadError> {
        let (path, required) = match path {
            Some(path) => (path.to_owned(), true),
            None => match config_dir() {
                Some(dir) => (dir.join(CONFIG_FILE_NAME), false),
                None => return Ok(EnrichmentConfig::default()),
            },
        };
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(error) if !required && error.kind() == std::io::ErrorKind::NotFound => {
                return Ok(EnrichmentConfig::default());
            }
            Err(source) => return Err(LoadError::Read { path, source }),
        };
        Self::parse(&text).map_err(|source| LoadError::Parse {
            path,
            source: Box::new(source),
        })
    }

    pub fn parse(text: &str) -> Result<EnrichmentConfig, toml::de::Error> {
        toml::from_str(text)
    }
}
