//! Per-user folders for Quarry's configuration and caches.

use std::env;
use std::path::PathBuf;

/// Environment variable that overrides the cache folder.
pub const CACHE_DIR_VAR: &str = "QUARRY_CACHE_DIR";
/// Environment variable that overrides the configuration folder.
pub const CONFIG_DIR_VAR: &str = "QUARRY_CONFIG_DIR";

fn non_empty_var(name: &str) -> Option<PathBuf> {
    env::var_os(name)
        .filter(|value| !value.is_empty())
        .map(PathBuf::from)
}

fn home() -> Option<PathBuf> {
    non_empty_var("HOME").or_else(|| non_empty_var("USERPROFILE"))
}

/// Returns the cache folder: `$QUARRY_CACHE_DIR`, else `$XDG_CACHE_HOME/quarry`, else
/// `%LOCALAPPDATA%\quarry` on Windows, else `~/.cache/quarry`. `None` when no home folder is
/// known.
pub fn cache_dir() -> Option<PathBuf> {
    non_empty_var(CACHE_DIR_VAR)
        .or_else(|| non_empty_var("XDG_CACHE_HOME").map(|dir| dir.join("quarry")))
        .or_else(|| {
            cfg!(windows)
                .then(|| non_empty_var("LOCALAPPDATA").map(|dir| dir.join("quarry")))
                .flatten()
        })
        .or_else(|| home().map(|dir| dir.join(".cache").join("quarry")))
}

/// Returns the configuration folder: `$QUARRY_CONFIG_DIR`, else `$XDG_CONFIG_HOME/quarry`,
/// else `%APPDATA%\quarry` on Windows, else `~/.config/quarry`.
pub fn config_dir() -> Option<PathBuf> {
    non_empty_var(CONFIG_DIR_VAR)
        .or_else(|| non_empty_var("XDG_CONFIG_HOME").map(|dir| dir.join("quarry")))
        .or_else(|| {
            cfg!(windows)
                .then(|| non_empty_var("APPDATA").map(|dir| dir.join("quarry")))
                .flatten()
        })
        .or_else(|| home().map(|dir| dir.join(".config").join("quarry")))
}

/// Expands a leading `~` to the home folder, as MSTICPy's settings allow.
pub fn expand_home(path: &str) -> PathBuf {
    if let Some(rest) = path.strip_prefix("~/").or_else(|| path.strip_prefix("~\\")) {
        if let Some(home) = home() {
            return home.join(rest);
        }
    } else if path == "~" {
        return home().unwrap_or_else(|| PathBuf::from(path));
    }
    PathBuf::from(path)
}
