//! Secrets handed over by the editor (`quarry/setSecret`), kept in memory only, and the lookups
//! that read them before the OS keyring.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::RwLock;
use std::sync::atomic::{AtomicU64, Ordering};

use quarry_providers::config::{Environment, ProcessEnvironment};
use quarry_providers::{Secret, keyring_store};

/// Secrets by entry name. Nothing here is written to disk or logged.
#[derive(Default)]
pub struct SecretStore {
    entries: RwLock<HashMap<String, Secret>>,
    /// Counts changes, so that holders of clients built from these secrets can rebuild them.
    generation: AtomicU64,
}

impl SecretStore {
    /// Stores `value` as entry `name`, or removes the entry when `value` is `None` or empty.
    pub fn set(&self, name: &str, value: Option<Secret>) {
        let mut entries = self
            .entries
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        match value.filter(|secret| !secret.is_empty()) {
            Some(secret) => {
                entries.insert(name.to_owned(), secret);
            }
            None => {
                entries.remove(name);
            }
        }
        self.generation.fetch_add(1, Ordering::Relaxed);
    }

    /// Returns the number of changes so far.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Relaxed)
    }

    fn get(&self, name: &str) -> Option<Secret> {
        self.entries
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .get(name)
            .cloned()
    }

    /// Looks entry `name` up here, then in the OS keyring.
    pub fn lookup(&self, name: &str) -> Result<Option<Secret>, String> {
        match self.get(name) {
            Some(secret) => Ok(Some(secret)),
            None => keyring_store::read(name),
        }
    }

    /// Looks entry `name` up as [`SecretStore::lookup`] does, as the enrichment crate's secret.
    pub fn lookup_enrichment(
        &self,
        name: &str,
    ) -> Result<Option<quarry_enrichment::Secret>, String> {
        self.lookup(name).map(|found| {
            found.map(|secret| quarry_enrichment::Secret::new(secret.expose().to_owned()))
        })
    }

    /// Returns the process environment with this store in front of the OS keyring.
    pub fn environment(&self) -> EditorEnvironment<'_> {
        EditorEnvironment { store: self }
    }
}

/// The process environment, whose keyring entries come from the editor's secrets first.
pub struct EditorEnvironment<'a> {
    store: &'a SecretStore,
}

impl Environment for EditorEnvironment<'_> {
    fn var(&self, name: &str) -> Option<String> {
        ProcessEnvironment.var(name)
    }

    fn home_dir(&self) -> Option<PathBuf> {
        ProcessEnvironment.home_dir()
    }

    fn keyring(&self, name: &str) -> Result<Option<Secret>, String> {
        self.store.lookup(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_set_replace_remove() {
        let store = SecretStore::default();
        store.set("vt", Some(Secret::new("first")));
        store.set("vt", Some(Secret::new("second")));
        assert_eq!(store.get("vt").unwrap().expose(), "second");

        store.set("vt", Some(Secret::new("")));
        assert!(store.get("vt").is_none());

        store.set("vt", Some(Secret::new("third")));
        store.set("vt", None);
        assert!(store.get("vt").is_none());
    }

    #[test]
    fn editor_secret_wins_over_keyring() {
        let store = SecretStore::default();
        store.set("quarry-test-editor-entry", Some(Secret::new("from-editor")));
        let found = store.environment().keyring("quarry-test-editor-entry");
        assert_eq!(found.unwrap().unwrap().expose(), "from-editor");
    }
}
