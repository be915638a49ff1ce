//! The request, run options and provider trait that every back end shares.

use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use futures::future::BoxFuture;
use tokio_util::sync::CancellationToken;

use crate::error::{ProviderError, Service};
use crate::table::{QueryResult, Schema};

/// Limits of one run. Dropping the run's future or cancelling `cancel` aborts the HTTP request.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// Time allowed for the whole run: token, retries and reading the response.
    pub timeout: Duration,
    /// Rows kept per table; the tables record how many rows the service sent.
    pub row_limit: Option<usize>,
    pub cancel: CancellationToken,
}

impl Default for RunOptions {
    fn default() -> RunOptions {
        RunOptions {
            // Log Analytics and Azure Data Explorer stop queries at 10 minutes by default. A
            // shorter client timeout keeps a forgotten run from blocking the editor that long.
            timeout: Duration::from_secs(180),
            row_limit: None,
            cancel: CancellationToken::new(),
        }
    }
}

/// The time range a query covers, for services that take it beside the query text.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum TimeRange {
    /// The period ending now.
    Last(Duration),
    Between {
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    },
}

impl TimeRange {
    /// Formats the range as an ISO 8601 duration (`PT3600S`) or interval (`start/end`).
    pub fn to_iso8601(&self) -> String {
        match self {
            TimeRange::Last(duration) => format!("PT{}S", duration.as_secs()),
            TimeRange::Between { start, end } => format!(
                "{}/{}",
                start.to_rfc3339_opts(SecondsFormat::AutoSi, true),
                end.to_rfc3339_opts(SecondsFormat::AutoSi, true)
            ),
        }
    }
}

/// A query to run on a back end.
#[derive(Clone, Debug, Default)]
pub struct QueryRequest {
    pub query: String,
    pub time_range: Option<TimeRange>,
    pub options: RunOptions,
}

impl QueryRequest {
    pub fn new(query: impl Into<String>) -> QueryRequest {
        QueryRequest {
            query: query.into(),
            ..QueryRequest::default()
        }
    }
}

/// A remote back end that runs queries. The futures are cancel-safe: dropping one closes its
/// HTTP connection.
pub trait Provider: Send + Sync {
    fn service(&self) -> Service;

    /// Runs the query and returns its tables, or an error that names the fix.
    fn run<'a>(
        &'a self,
        request: &'a QueryRequest,
    ) -> BoxFuture<'a, Result<QueryResult, ProviderError>>;

    /// Gets the credential ready before a run, running an interactive sign-in such as the device
    /// code flow if one is needed. The run's timeout then does not have to cover a person typing
    /// a code. Credentials without a token cache fetch again at the run.
    fn sign_in<'a>(
        &'a self,
        cancel: &'a CancellationToken,
    ) -> BoxFuture<'a, Result<(), ProviderError>>;

    /// Fetches the tables and columns the connection can query.
    fn schema<'a>(
        &'a self,
        options: &'a RunOptions,
    ) -> BoxFuture<'a, Result<Schema, ProviderError>>;
}

/// Runs `work` under the options' timeout and cancellation token.
pub(crate) async fn with_limits<T>(
    options: &RunOptions,
    work: impl Future<Output = Result<T, ProviderError>>,
) -> Result<T, ProviderError> {
    tokio::select! {
        biased;
        _ = options.cancel.cancelled() => Err(ProviderError::Cancelled),
        outcome = tokio::time::timeout(options.timeout, work) => match outcome {
            Ok(result) => result,
            Err(_) => Err(ProviderError::Timeout { after: options.timeout }),
        },
    }
}
