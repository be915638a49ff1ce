//! Clients for the remote services where hunting data lives: Log Analytics (Microsoft Sentinel),
//! Azure Data Explorer, Defender XDR advanced hunting and Splunk.
//!
//! Each client speaks the service's documented REST protocol and returns one result model
//! ([`table::QueryResult`]) with Kusto's types kept. Runs honour a timeout, a row limit and a
//! cancellation token ([`query::RunOptions`]); dropping a run's future also aborts its request.
//! Credentials ([`auth`]) and connection settings ([`config`]) are separate from the clients, so
//! the editor can hand in secrets and show sign-in prompts.

pub mod auth;
pub mod config;
pub mod defender;
pub mod error;
pub mod http;
pub mod keyring_store;
pub mod kusto;
pub mod log_analytics;
pub mod query;
pub mod secret;
pub mod splunk;
pub mod table;

pub use error::{ProviderError, QueryError, Service, SourceLocation};
pub use query::{Provider, QueryRequest, RunOptions, TimeRange};
pub use secret::Secret;
pub use table::{Column, ColumnType, QueryResult, Table, Value, Warning};
