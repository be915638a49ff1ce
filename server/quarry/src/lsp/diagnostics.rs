//! Publishing of syntax diagnostics and threat-intelligence hints: at once when a document
//! opens, and 150 ms after the last edit otherwise, so typing does not flood the client.
//! Until the first schema load finishes, only syntax errors are published, if there are any.
//! A high-severity verdict that arrives from a provider republishes every open document, so its
//! hint shows without waiting for an edit.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::task::AbortHandle;
use tower_lsp_server::Client;
use tower_lsp_server::ls_types::{Diagnostic, NumberOrString, Uri};

use super::handlers;
use super::server::Session;

/// The quiet time after an edit before diagnostics are computed and published.
pub const DEBOUNCE: Duration = Duration::from_millis(150);

#[derive(Clone)]
pub struct DiagnosticsScheduler {
    client: Client,
    session: Arc<Session>,
    /// The latest publishing task of each document; a newer edit aborts it.
    pending: Arc<Mutex<HashMap<Uri, AbortHandle>>>,
}

impl DiagnosticsScheduler {
    /// Builds the scheduler and starts its task that waits for high-severity verdicts, which
    /// needs a Tokio runtime.
    pub fn new(client: Client, session: Arc<Session>) -> DiagnosticsScheduler {
        let scheduler = DiagnosticsScheduler {
            client,
            session,
            pending: Arc::new(Mutex::new(HashMap::new())),
        };
        scheduler.republish_on_high_verdicts();
        scheduler
    }

    /// Republishes the diagnostics of every open document after each fresh high-severity
    /// verdict, debounced so that a burst of verdicts publishes once.
    fn republish_on_high_verdicts(&self) {
        if tokio::runtime::Handle::try_current().is_err() {
            tracing::error!(
                "no Tokio runtime, so high-severity verdicts do not republish diagnostics"
            );
            return;
        }
        let scheduler = self.clone();
        tokio::spawn(async move {
            loop {
                handlers::enrich_hover::HIGH_SEVERITY_VERDICT
                    .notified()
                    .await;
                let uris = scheduler.session.documents.uris();
                tracing::debug!(
                    documents = uris.len(),
                    "republishing diagnostics after a high-severity verdict"
                );
                for uri in uris {
                    scheduler.publish_debounced(uri);
                }
            }
        });
    }

    pub fn publish_now(&self, uri: Uri) {
        self.schedule(uri, Duration::ZERO);
    }

    pub fn publish_debounced(&self, uri: Uri) {
        self.schedule(uri, DEBOUNCE);
    }

    /// Cancels pending diagnostics of a closed document and clears the ones the client shows.
    pub fn clear(&self, uri: Uri) {
        if let Some(previous) = self.pending_tasks().remove(&uri) {
            previous.abort();
        }
        let client = self.client.clone();
        tokio::spawn(async move {
            client.publish_diagnostics(uri, Vec::new(), None).await;
        });
    }

    /// Publishes diagnostics for the document's current snapshot after `delay`, unless a newer
    /// call for the same document comes first.
    fn schedule(&self, uri: Uri, delay: Duration) {
        if !self.session.documents.is_open(&uri) {
            tracing::warn!(
                uri = uri.as_str(),
                "diagnostics requested for a document that is not open"
            );
            return;
        }

        let client = self.client.clone();
        let session = Arc::clone(&self.session);
        let task_uri = uri.clone();
        let task = tokio::spawn(async move {
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            // The snapshot is taken when the task runs, not when it is scheduled, so the parse
            // of a document whose parse was dropped lives only as long as this task. The
            // document may have closed in the meantime.
            let Some(snapshot) = session.documents.background_snapshot(&task_uri) else {
                return;
            };
            let mut diagnostics = handlers::diagnostics::compute(&session, &snapshot);
            if !schemas_loaded(&session) {
                // Tables of the data folder and schema files would look unknown. The schema
                // reload publishes the full list when it finishes, so until then only syntax
                // errors go out, and nothing when there are none.
                diagnostics.retain(independent_of_schema);
                if diagnostics.is_empty() {
                    return;
                }
            }
            tracing::debug!(
                uri = task_uri.as_str(),
                version = snapshot.version,
                count = diagnostics.len(),
                "publishing diagnostics"
            );
            client
                .publish_diagnostics(
                    task_uri.clone(),
                    diagnostics.clone(),
                    Some(snapshot.version),
                )
                .await;

            // Threat-intelligence hints may wait for the indicator service to open, so the
            // syntax diagnostics go out first and a second publication adds the hints.
            let hints = handlers::enrich_hover::high_severity_hints(&session, &snapshot).await;
            if !hints.is_empty() {
                diagnostics.extend(hints);
                client
                    .publish_diagnostics(task_uri, diagnostics, Some(snapshot.version))
                    .await;
            }
        });

        if let Some(previous) = self.pending_tasks().insert(uri, task.abort_handle()) {
            previous.abort();
        }
    }

    fn pending_tasks(&self) -> std::sync::MutexGuard<'_, HashMap<Uri, AbortHandle>> {
        self.pending
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

fn schemas_loaded(session: &Session) -> bool {
    session
        .schemas
        .read()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .is_loaded()
}

/// Returns whether a diagnostic is a syntax error (`KQL0xx`) or comes from outside the KQL
/// binder, so it is the same before and after the schemas load.
fn independent_of_schema(diagnostic: &Diagnostic) -> bool {
    match &diagnostic.code {
        Some(NumberOrString::String(code)) => !code.starts_with("KQL") || code.starts_with("KQL0"),
        _ => true,
    }
}
