//! Threat-intelligence lookups: remote providers (VirusTotal, OTX, X-Force, GreyNoise,
//! AbuseIPDB) and offline sources (indicator files, Tor exit nodes) behind one result type, run
//! concurrently, cached on disk and screened by the privacy guard.

mod cache;
mod config;
pub(crate) mod http;
mod offline;
mod privacy;
pub mod providers;
mod ratelimit;
mod result;

use std::collections::HashSet;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use futures::future::{BoxFuture, join_all};

pub use cache::DiskCache;
pub use config::{ConfigError, ProviderConfig, SecretLookup, SentinelTiConfig, TiConfig};
pub use http::{HttpOverrides, HttpSettings};
pub use offline::{IndicatorFile, OfflineError, TorExitNodes};
pub use privacy::PrivacyGuard;
pub use ratelimit::{RateLimit, TokenBucket};
pub use result::{LookupStatus, Observable, Severity, TiResult, Verdict};

use crate::indicator::IocType;

/// A source of threat intelligence.
pub trait Provider: Send + Sync {
    fn name(&self) -> &str;

    /// True when a lookup sends the indicator off this machine; the privacy guard screens
    /// those lookups.
    fn is_third_party(&self) -> bool;

    fn supports(&self, ioc_type: IocType) -> bool;

    /// Looks the indicator up. Errors come back as a result with a failure status.
    fn lookup<'a>(&'a self, observable: &'a Observable) -> BoxFuture<'a, TiResult>;
}

/// The results available within a wait, and the providers still working.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PartialLookup {
    pub results: Vec<TiResult>,
    /// Providers whose result had not arrived. It goes to the cache when it does.
    pub pending: Vec<String>,
}

/// A function called with each result that a provider returns, after the cache has stored it.
pub type ResultListener = Arc<dyn Fn(&Observable, &TiResult) + Send + Sync>;

/// Runs lookups across every configured provider.
pub struct Enricher {
    providers: Vec<Arc<dyn Provider>>,
    guard: PrivacyGuard,
    cache: Option<Arc<DiskCache>>,
    in_flight: Mutex<HashSet<(String, Observable)>>,
    listener: OnceLock<ResultListener>,
}

impl Enricher {
    pub fn new(
        providers: Vec<Arc<dyn Provider>>,
        guard: PrivacyGuard,
        cache: Option<DiskCache>,
    ) -> Enricher {
        Enricher {
            providers,
            guard,
            cache: cache.map(Arc::new),
            in_flight: Mutex::new(HashSet::new()),
            listener: OnceLock::new(),
        }
    }

    /// Sets the function called with every fresh provider result, including those of lookups
    /// that go on in the background. Cached and blocked results do not call it. Only the first
    /// call takes effect, and later calls return false.
    pub fn set_result_listener(&self, listener: ResultListener) -> bool {
        self.listener.set(listener).is_ok()
    }

    pub fn provider_names(&self) -> Vec<String> {
        self.providers
            .iter()
            .map(|provider| provider.name().to_owned())
            .collect()
    }

    pub fn has_providers(&self) -> bool {
        !self.providers.is_empty()
    }

    fn applicable(&self, observable: &Observable) -> Vec<Arc<dyn Provider>> {
        self.providers
            .iter()
            .filter(|provider| provider.supports(observable.ioc_type))
            .cloned()
            .collect()
    }

    /// Returns a result without a request when it can: a blocked result from the privacy guard, or a
    /// cached result.
    fn immediate(&self, provider: &dyn Provider, observable: &Observable) -> Option<TiResult> {
        let verdict = if provider.is_third_party() {
            self.guard.check(observable)
        } else {
            Ok(())
        };
        if let Err(reason) = verdict {
            tracing::debug!(provider = provider.name(), ioc_type = %observable.ioc_type, "privacy guard blocked a lookup");
            return Some(TiResult::failure(
                provider.name(),
                observable,
                LookupStatus::Blocked,
                format!("not sent to {}: {reason}", provider.name()),
            ));
        }
        self.cache
            .as_ref()
            .and_then(|cache| cache.get(provider.name(), observable))
    }

    async fn lookup_one(
        provider: Arc<dyn Provider>,
        cache: Option<Arc<DiskCache>>,
        listener: Option<ResultListener>,
        observable: Observable,
    ) -> TiResult {
        let result = provider.lookup(&observable).await;
        if let Some(cache) = &cache {
            cache.put(provider.name(), &observable, &result);
        }
        if let Some(listener) = &listener {
            listener(&observable, &result);
        }
        result
    }

    /// Returns the cached results of `observable`, without any request and without starting a
    /// lookup. Providers with no cached result are left out.
    pub fn cached(&self, observable: &Observable) -> Vec<TiResult> {
        let Some(cache) = &self.cache else {
            return Vec::new();
        };
        let mut results: Vec<TiResult> = self
            .applicable(observable)
            .iter()
            .filter_map(|provider| cache.get(provider.name(), observable))
            .collect();
        self.sort(&mut results);
        results
    }

    /// Looks `observable` up with every provider that supports its type, concurrently, and
    /// waits for all of them. Each provider's own timeout bounds the wait.
    pub async fn lookup(&self, observable: &Observable) -> Vec<TiResult> {
        let mut results = Vec::new();
        let mut running = Vec::new();
        for provider in self.applicable(observable) {
            match self.immediate(provider.as_ref(), observable) {
                Some(result) => results.push(result),
                None => running.push(Self::lookup_one(
                    provider,
                    self.cache.clone(),
                    self.listener.get().cloned(),
                    observable.clone(),
                )),
            }
        }
        results.extend(join_all(running).await);
        self.sort(&mut results);
        results
    }

    /// Returns the results that are ready within `wait`: cached and blocked ones at once, and
    /// fresh ones that arrive in time. Lookups still running carry on in the background and
    /// store their result in the cache, so a later call returns it at once. A lookup already
    /// running for the same provider and indicator is not started again.
    ///
    /// Must be called inside a Tokio runtime.
    pub async fn lookup_within(
        self: &Arc<Self>,
        observable: &Observable,
        wait: Duration,
    ) -> PartialLookup {
        let mut results = Vec::new();
        let mut pending = Vec::new();
        let mut handles = Vec::new();
        for provider in self.applicable(observable) {
            if let Some(result) = self.immediate(provider.as_ref(), observable) {
                results.push(result);
                continue;
            }
            let key = (provider.name().to_owned(), observable.clone());
            let newly_started = self
                .in_flight
                .lock()
                .expect("in-flight lock")
                .insert(key.clone());
            if !newly_started {
                pending.push(provider.name().to_owned());
                continue;
            }
            let enricher = Arc::clone(self);
            let name = provider.name().to_owned();
            let task_observable = observable.clone();
            let handle = tokio::spawn(async move {
                let result = Self::lookup_one(
                    provider,
                    enricher.cache.clone(),
                    enricher.listener.get().cloned(),
                    task_observable,
                )
                .await;
                enricher
                    .in_flight
                    .lock()
                    .expect("in-flight lock")
                    .remove(&key);
                result
            });
            handles.push((name, handle));
        }

        let deadline = tokio::time::Instant::now() + wait;
        for (name, mut handle) in handles {
            match tokio::time::timeout_at(deadline, &mut handle).await {
                Ok(Ok(result)) => results.push(result),
                Ok(Err(error)) => {
                    tracing::error!(provider = %name, %error, "a threat-intelligence lookup task failed");
                    results.push(TiResult::failure(
                        &name,
                        observable,
                        LookupStatus::Failed,
                        format!("the lookup task failed: {error}"),
                    ));
                }
                // Dropping the handle detaches the task; it keeps running and fills the cache.
                Err(_) => pending.push(name),
            }
        }
        self.sort(&mut results);
        PartialLookup { results, pending }
    }

    /// Orders results as the providers are configured.
    fn sort(&self, results: &mut [TiResult]) {
        let order = self.provider_names();
        results.sort_by_key(|result| {
            order
                .iter()
                .position(|name| *name == result.provider)
                .unwrap_or(usize::MAX)
        });
    }
}

impl std::fmt::Debug for Enricher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Enricher")
            .field("providers", &self.provider_names())
            .field("guard", &self.guard)
            .finish()
    }
}

/// Default time to live of cached results.
pub const DEFAULT_CACHE_TTL: Duration = Duration::from_secs(24 * 60 * 60);
