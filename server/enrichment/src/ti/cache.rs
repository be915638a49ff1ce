//! A disk cache of lookup results with a time to live, one JSON file per provider.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::result::{Observable, TiResult};

#[derive(Debug, Clone, Serialize, Deserialize)]
struct CacheEntry<V> {
    /// Seconds since the Unix epoch when the result was stored.
    stored_at: u64,
    result: V,
}

type ProviderEntries<V> = HashMap<String, CacheEntry<V>>;

/// Results by provider, loaded from disk on first use and written back on every store.
/// `V` is the stored value: threat-intelligence results by default, whois records for RDAP.
/// For threat intelligence, only found and not-found results are stored, so errors are retried
/// on the next lookup.
pub struct DiskCache<V = TiResult> {
    folder: PathBuf,
    ttl: Duration,
    providers: Mutex<HashMap<String, ProviderEntries<V>>>,
}

fn now_seconds() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}

fn key(observable: &Observable) -> String {
    format!(
        "{}:{}",
        observable.ioc_type.as_str(),
        observable.normalized()
    )
}

/// Returns the cache file name for a provider: ASCII letters, digits, `-` and `_` only.
fn file_name(provider: &str) -> String {
    let stem: String = provider
        .chars()
        .map(|ch| {
            if ch.is_ascii_alphanumeric() || ch == '-' || ch == '_' {
                ch.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("{stem}.json")
}

impl<V: Clone + Serialize + DeserializeOwned> DiskCache<V> {
    pub fn new(folder: impl Into<PathBuf>, ttl: Duration) -> DiskCache<V> {
        DiskCache {
            folder: folder.into(),
            ttl,
            providers: Mutex::new(HashMap::new()),
        }
    }

    pub fn folder(&self) -> &Path {
        &self.folder
    }

    fn load(&self, provider: &str) -> ProviderEntries<V> {
        let path = self.folder.join(file_name(provider));
        let Ok(text) = std::fs::read_to_string(&path) else {
            return ProviderEntries::new();
        };
        serde_json::from_str(&text).unwrap_or_else(|error| {
            tracing::warn!(path = %path.display(), %error, "ignoring an unreadable cache file");
            ProviderEntries::new()
        })
    }

    /// Returns the value stored for `observable` when it is younger than the time to live.
    pub fn get_value(&self, provider: &str, observable: &Observable) -> Option<V> {
        let mut providers = self.providers.lock().expect("cache lock");
        let entries = providers
            .entry(provider.to_owned())
            .or_insert_with(|| self.load(provider));
        let entry = entries.get(&key(observable))?;
        let age = now_seconds().saturating_sub(entry.stored_at);
        if age >= self.ttl.as_secs() {
            return None;
        }
        Some(entry.result.clone())
    }

    /// Stores `value` for `observable`, drops the expired entries and writes the provider's file.
    pub fn put_value(&self, provider: &str, observable: &Observable, value: V) {
        let snapshot = {
            let mut providers = self.providers.lock().expect("cache lock");
            let entries = providers
                .entry(provider.to_owned())
                .or_insert_with(|| self.load(provider));
            let ttl = self.ttl.as_secs();
            let now = now_seconds();
            entries.retain(|_, entry| now.saturating_sub(entry.stored_at) < ttl);
            entries.insert(
                key(observable),
                CacheEntry {
                    stored_at: now,
                    result: value,
                },
            );
            serde_json::to_vec(entries).expect("cache entries serialize")
        };
        if let Err(error) = self.write(provider, &snapshot) {
            tracing::warn!(folder = %self.folder.display(), provider, %error, "failed to write the lookup cache");
        }
    }

    /// Writes through a temporary file and a rename, so a crash never leaves half a file.
    fn write(&self, provider: &str, bytes: &[u8]) -> std::io::Result<()> {
        std::fs::create_dir_all(&self.folder)?;
        let path = self.folder.join(file_name(provider));
        // A per-write suffix keeps concurrent writers from renaming each other's half-written
        // files. Between processes the last rename wins, so one process may drop the other's
        // newest entries; they are fetched again on the next lookup.
        static WRITES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let sequence = WRITES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let temporary = self.folder.join(format!(
            ".{}.{}.{sequence}.tmp",
            file_name(provider),
            std::process::id()
        ));
        std::fs::write(&temporary, bytes)?;
        std::fs::rename(&temporary, &path)
    }
}

impl DiskCache<TiResult> {
    /// Returns the stored result, marked as cached, when it is younger than the time to live.
    pub fn get(&self, provider: &str, observable: &Observable) -> Option<TiResult> {
        let mut result = self.get_value(provider, observable)?;
        result.cached = true;
        Some(result)
    }

    /// Stores `result` when it is a found or not-found result, and writes the provider's file.
    pub fn put(&self, provider: &str, observable: &Observable, result: &TiResult) {
        if !result.status.is_answer() {
            return;
        }
        let mut stored = result.clone();
        stored.cached = false;
        self.put_value(provider, observable, stored);
    }
}
