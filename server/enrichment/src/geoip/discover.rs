//! GeoIP database discovery: configured files and folders, MSTICPy's `GeoIPLite`
//! `DBFolder` setting, and the folder `quarry setup geoip` fills.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::{GeoIp, GeoIpError};
use crate::paths::{cache_dir, expand_home};

/// GeoIP settings, the `[geoip]` table of the enrichment configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GeoIpConfig {
    /// Database files to open; a missing or invalid file is an error.
    pub databases: Vec<PathBuf>,
    /// Folders whose `*.mmdb` files (and those one folder down, as MaxMind's archives unpack)
    /// are opened; a missing folder is an error.
    pub folders: Vec<PathBuf>,
    /// Also use MSTICPy's `OtherProviders.GeoIPLite.Args.DBFolder` from `msticpyconfig.yaml`
    /// (found through `MSTICPYCONFIG`, in the working folder or in `~/.msticpy`).
    pub msticpy: bool,
    /// An explicit `msticpyconfig.yaml` to read instead of searching for one.
    pub msticpy_config: Option<PathBuf>,
    /// Also use the databases that `quarry setup geoip` stored in the user cache.
    pub user_cache: bool,
}

impl Default for GeoIpConfig {
    fn default() -> GeoIpConfig {
        GeoIpConfig {
            databases: Vec::new(),
            folders: Vec::new(),
            msticpy: true,
            msticpy_config: None,
            user_cache: true,
        }
    }
}

/// Folder under the cache folder where `quarry setup geoip` stores databases.
pub fn user_cache_folder() -> Option<PathBuf> {
    cache_dir().map(|dir| dir.join("geoip"))
}

/// MSTICPy's default `DBFolder` (`~/.msticpy`) when the setting is absent, per msticpy 3.0.2's
/// `mpconfig_defaults.yaml`.
const MSTICPY_DEFAULT_FOLDER: &str = "~/.msticpy";

/// Returns the MSTICPy configuration file that MSTICPy itself would read: the file named by
/// `MSTICPYCONFIG` when it exists, else `msticpyconfig.yaml` in the working folder, else
/// `~/.msticpy/msticpyconfig.yaml` (the order of `msticpy.common.pkg_config`, msticpy 3.0.2).
fn msticpy_config_file() -> Option<PathBuf> {
    let from_env = std::env::var_os("MSTICPYCONFIG")
        .filter(|value| !value.is_empty())
        .map(PathBuf::from)
        .filter(|path| path.is_file());
    let local = Some(PathBuf::from("msticpyconfig.yaml")).filter(|path| path.is_file());
    let home = Some(expand_home("~/.msticpy/msticpyconfig.yaml")).filter(|path| path.is_file());
    from_env.or(local).or(home)
}

/// Returns the GeoLite folder that MSTICPy would use: `DBFolder` from the given
/// `msticpyconfig.yaml` or from the one MSTICPy would find, and MSTICPy's default when the file
/// does not set it. `None` when no MSTICPy configuration file exists.
pub fn msticpy_db_folder(config_file: Option<&Path>) -> Option<PathBuf> {
    let path = match config_file {
        Some(path) => path.to_owned(),
        None => msticpy_config_file()?,
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(error) => {
            tracing::warn!(path = %path.display(), %error, "failed to read the MSTICPy configuration");
            return None;
        }
    };
    let document = match quarry_templates::yaml::parse(&text) {
        Ok(document) => document,
        Err(error) => {
            tracing::warn!(path = %path.display(), error = ?error, "failed to parse the MSTICPy configuration");
            return None;
        }
    };
    let folder = document
        .get("OtherProviders")
        .and_then(|node| node.get("GeoIPLite"))
        .and_then(|node| node.get("Args"))
        .and_then(|node| node.get("DBFolder"))
        .and_then(|node| node.as_str())
        .unwrap_or(MSTICPY_DEFAULT_FOLDER);
    Some(expand_home(folder))
}

/// Returns the `*.mmdb` files in `folder` and in its direct subfolders, sorted by path.
fn mmdb_files(folder: &Path) -> Result<Vec<PathBuf>, std::io::Error> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(folder)? {
        let path = entry?.path();
        if path.is_dir() {
            let Ok(inner) = std::fs::read_dir(&path) else {
                continue;
            };
            for inner_entry in inner.flatten() {
                let inner_path = inner_entry.path();
                if is_mmdb(&inner_path) {
                    files.push(inner_path);
                }
            }
        } else if is_mmdb(&path) {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

fn is_mmdb(path: &Path) -> bool {
    path.is_file()
        && path
            .extension()
            .is_some_and(|extension| extension.eq_ignore_ascii_case("mmdb"))
}

impl GeoIp {
    /// Opens every database the configuration points to. Configured files and folders must
    /// exist. The MSTICPy folder and the user cache are optional, so a database there that fails
    /// to open is skipped with a warning.
    pub fn discover(config: &GeoIpConfig) -> Result<GeoIp, GeoIpError> {
        let mut geoip = GeoIp::default();
        for path in &config.databases {
            geoip.add_file(path)?;
        }
        for folder in &config.folders {
            let files = mmdb_files(folder).map_err(|source| GeoIpError::Folder {
                path: folder.clone(),
                source,
            })?;
            for file in files {
                geoip.add_file(&file)?;
            }
        }

        let mut optional_folders = Vec::new();
        if config.msticpy {
            optional_folders.extend(msticpy_db_folder(config.msticpy_config.as_deref()));
        }
        if config.user_cache {
            optional_folders.extend(user_cache_folder());
        }
        for folder in optional_folders {
            let Ok(files) = mmdb_files(&folder) else {
                continue;
            };
            for file in files {
                if let Err(error) = geoip.add_file(&file) {
                    tracing::warn!(%error, "skipping a GeoIP database");
                }
            }
        }
        Ok(geoip)
    }
}
