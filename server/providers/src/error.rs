//! Errors of the remote back ends. Every message states what failed and what to do next. No
//! message contains a secret, because request headers and bodies never go into an error.

use std::fmt;
use std::time::Duration;

use crate::auth::AuthError;

/// The remote service a client talks to, used in messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Service {
    LogAnalytics,
    DataExplorer,
    DefenderGraph,
    DefenderLegacy,
    Splunk,
    /// The OAuth token or device-code endpoint.
    SignIn,
}

impl Service {
    /// Names the permission or role a 403 usually means is missing.
    pub fn access_hint(self) -> &'static str {
        match self {
            Service::LogAnalytics => {
                "Check that the identity has the Log Analytics Reader or Microsoft Sentinel Reader role on the workspace"
            }
            Service::DataExplorer => {
                "Check that the identity has at least the viewer role on the database"
            }
            Service::DefenderGraph => {
                "Check that the app or user has the ThreatHunting.Read.All permission with admin consent"
            }
            Service::DefenderLegacy => {
                "Check that the app or user has the AdvancedHunting.Read.All permission with admin consent"
            }
            Service::Splunk => {
                "Check that the Splunk role has the search capability and may read the indexes in the query"
            }
            Service::SignIn => {
                "Check the tenant, the client id and the app registration's permissions"
            }
        }
    }

    /// Names the settings a 404 usually means are wrong.
    pub fn not_found_hint(self) -> &'static str {
        match self {
            Service::LogAnalytics => "Check the workspace id and the endpoint of the connection",
            Service::DataExplorer => "Check the cluster URL and the database name",
            Service::DefenderGraph | Service::DefenderLegacy => {
                "Check the endpoint of the connection"
            }
            Service::Splunk => "Check the Splunk management URL and port (8089 unless changed)",
            Service::SignIn => "Check the authority and the tenant",
        }
    }
}

impl fmt::Display for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Service::LogAnalytics => "Log Analytics",
            Service::DataExplorer => "Azure Data Explorer",
            Service::DefenderGraph => "Microsoft Graph advanced hunting",
            Service::DefenderLegacy => "Defender XDR advanced hunting API",
            Service::Splunk => "Splunk",
            Service::SignIn => "the sign-in service",
        })
    }
}

/// A 1-based line and column in the query text, as the service reported it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SourceLocation {
    pub line: u32,
    pub column: u32,
}

/// A query the service rejected: a syntax error, an unknown table or column, a type error.
#[derive(Clone, Debug, PartialEq)]
pub struct QueryError {
    pub service: Service,
    /// The most specific error code the service sent, such as `SYN0002` or `SEM0100`.
    pub code: Option<String>,
    pub message: String,
    pub location: Option<SourceLocation>,
}

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} rejected the query", self.service)?;
        if let Some(location) = self.location {
            write!(f, " at line {}, column {}", location.line, location.column)?;
        }
        write!(f, ": {}", self.message)?;
        if let Some(code) = &self.code {
            write!(f, " ({code})")?;
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    #[error("{service} rejected the credentials (HTTP 401): {detail}. {action}")]
    Unauthorized {
        service: Service,
        detail: String,
        action: String,
    },

    #[error("{service} denied access (HTTP 403): {detail}. {}", service.access_hint())]
    Forbidden { service: Service, detail: String },

    #[error("{0}")]
    Query(QueryError),

    #[error(
        "{service} is throttling requests (HTTP 429) and {attempts} attempts failed{}: wait a while, then run the query again",
        retry_after.map(|delay| format!(" (it asked to wait {} s)", delay.as_secs())).unwrap_or_default()
    )]
    Throttled {
        service: Service,
        attempts: u32,
        retry_after: Option<Duration>,
    },

    #[error(
        "{service} failed with HTTP {status} after {attempts} attempts: {detail}. Run the query again later; if it keeps failing, check the service status"
    )]
    Server {
        service: Service,
        status: u16,
        attempts: u32,
        detail: String,
    },

    #[error("{service} was not found at that address (HTTP 404): {detail}. {}", service.not_found_hint())]
    NotFound { service: Service, detail: String },

    #[error("{service} returned HTTP {status}: {detail}")]
    Http {
        service: Service,
        status: u16,
        detail: String,
    },

    #[error(
        "the query timed out after {} s: raise the timeout, narrow the time range or reduce the result",
        after.as_secs_f64()
    )]
    Timeout { after: Duration },

    #[error("the query was cancelled")]
    Cancelled,

    #[error(
        "could not reach {service} at {url}: {detail}. Check the URL, the network and any proxy"
    )]
    Transport {
        service: Service,
        url: String,
        detail: String,
    },

    #[error(
        "{service} sent a response that could not be read: {detail}. Run the query again; if it repeats, a proxy may be cutting the response off"
    )]
    MalformedResponse { service: Service, detail: String },

    #[error(
        "{service} sent a response larger than {}, the most Quarry reads: narrow the time range, add `take` or project fewer columns",
        byte_size(*limit)
    )]
    TooLarge { service: Service, limit: usize },

    #[error(transparent)]
    Auth(#[from] AuthError),

    #[error("{0}")]
    Unsupported(String),
}

/// Formats a byte count for a message: whole MiB when it is a multiple of one, bytes otherwise.
fn byte_size(bytes: usize) -> String {
    const MIB: usize = 1024 * 1024;
    if bytes >= MIB && bytes.is_multiple_of(MIB) {
        format!("{} MiB", bytes / MIB)
    } else {
        format!("{bytes} bytes")
    }
}
