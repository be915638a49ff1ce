//! Credentials for the back ends: Microsoft Entra tokens (Azure CLI, client credentials, device
//! code), a token cache, and Splunk tokens or passwords.
//!
//! Secrets come in through [`crate::secret::Secret`] and leave only in an `Authorization` header.

mod azure_cli;
mod oauth;

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use futures::future::BoxFuture;

pub use azure_cli::AzureCliCredential;
pub use oauth::{
    ClientCredentials, DeviceCodeFlow, DeviceCodePrompt, OAuthEndpoints, PollTiming, PromptCallback,
};

use crate::secret::Secret;

/// An access token and when it expires.
#[derive(Clone, Debug)]
pub struct AccessToken {
    pub token: Secret,
    /// `None` when the source gave no expiry, as for a token taken from an environment variable.
    pub expires_at: Option<SystemTime>,
}

impl AccessToken {
    /// Returns whether the token stays valid for at least `margin`.
    pub fn is_fresh(&self, margin: Duration) -> bool {
        match self.expires_at {
            None => true,
            Some(expiry) => SystemTime::now() + margin < expiry,
        }
    }
}

/// A failed attempt to get a credential. The message names the fix.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct AuthError {
    pub message: String,
}

impl AuthError {
    pub fn new(message: impl Into<String>) -> AuthError {
        AuthError {
            message: message.into(),
        }
    }
}

/// Something that hands out bearer tokens for an OAuth scope such as
/// `https://api.loganalytics.io/.default`.
pub trait TokenSource: Send + Sync {
    fn token<'a>(&'a self, scope: &'a str) -> BoxFuture<'a, Result<AccessToken, AuthError>>;

    /// Drops any cached token for `scope` after a service rejected it. Returns whether asking
    /// again may give a different token.
    fn invalidate(&self, _scope: &str) -> bool {
        false
    }

    /// Tells the user how to get a token the service accepts, for 401 messages.
    fn unauthorized_action(&self) -> String;
}

/// A fixed bearer token, such as one read from an environment variable.
pub struct StaticToken {
    token: Secret,
    origin: String,
}

impl StaticToken {
    /// `origin` names where the token came from, for messages (`the QUARRY_TOKEN variable`).
    pub fn new(token: Secret, origin: impl Into<String>) -> StaticToken {
        StaticToken {
            token,
            origin: origin.into(),
        }
    }
}

impl TokenSource for StaticToken {
    fn token<'a>(&'a self, _scope: &'a str) -> BoxFuture<'a, Result<AccessToken, AuthError>> {
        Box::pin(async move {
            Ok(AccessToken {
                token: self.token.clone(),
                expires_at: None,
            })
        })
    }

    fn unauthorized_action(&self) -> String {
        format!(
            "The token from {} was rejected: put a fresh token there",
            self.origin
        )
    }
}

/// Caches tokens per scope and fetches a new one shortly before expiry.
pub struct TokenCache<S> {
    source: S,
    tokens: tokio::sync::Mutex<HashMap<String, AccessToken>>,
    invalidated: std::sync::Mutex<Vec<String>>,
}

/// Tokens closer than this to expiry are fetched again, so none expires in flight.
const REFRESH_MARGIN: Duration = Duration::from_secs(300);

impl<S: TokenSource> TokenCache<S> {
    pub fn new(source: S) -> TokenCache<S> {
        TokenCache {
            source,
            tokens: tokio::sync::Mutex::new(HashMap::new()),
            invalidated: std::sync::Mutex::new(Vec::new()),
        }
    }
}

impl<S: TokenSource> TokenSource for TokenCache<S> {
    fn token<'a>(&'a self, scope: &'a str) -> BoxFuture<'a, Result<AccessToken, AuthError>> {
        Box::pin(async move {
            // Holding the lock across the fetch makes concurrent callers wait for one sign-in
            // instead of each starting their own.
            let mut tokens = self.tokens.lock().await;
            let stale: Vec<String> =
                std::mem::take(&mut *self.invalidated.lock().expect("lock poisoned"));
            for scope in stale {
                tokens.remove(&scope);
            }
            if let Some(token) = tokens.get(scope)
                && token.is_fresh(REFRESH_MARGIN)
            {
                return Ok(token.clone());
            }
            let token = self.source.token(scope).await?;
            tokens.insert(scope.to_string(), token.clone());
            Ok(token)
        })
    }

    fn invalidate(&self, scope: &str) -> bool {
        self.invalidated
            .lock()
            .expect("lock poisoned")
            .push(scope.to_string());
        self.source.invalidate(scope);
        true
    }

    fn unauthorized_action(&self) -> String {
        self.source.unauthorized_action()
    }
}

/// The proof of identity a client sends to the service.
#[derive(Clone)]
pub enum Credential {
    /// An OAuth bearer token for the service's scope (the Azure services).
    Bearer(Arc<dyn TokenSource>),
    /// Splunk's username and password, sent as HTTP basic authentication.
    Basic { username: String, password: Secret },
    /// A Splunk authentication token, sent as `Authorization: Bearer`.
    SplunkToken(Secret),
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credential::Bearer(_) => f.write_str("Credential::Bearer"),
            Credential::Basic { username, .. } => write!(f, "Credential::Basic({username:?})"),
            Credential::SplunkToken(_) => f.write_str("Credential::SplunkToken([redacted])"),
        }
    }
}

impl Credential {
    /// Adds the `Authorization` header for `scope` to the request.
    pub(crate) async fn authorize(
        &self,
        request: reqwest::RequestBuilder,
        scope: &str,
    ) -> Result<reqwest::RequestBuilder, AuthError> {
        match self {
            Credential::Bearer(source) => {
                let token = source.token(scope).await?;
                Ok(request.bearer_auth(token.token.expose()))
            }
            Credential::Basic { username, password } => {
                Ok(request.basic_auth(username, Some(password.expose())))
            }
            Credential::SplunkToken(token) => Ok(request.bearer_auth(token.expose())),
        }
    }

    /// Drops a rejected token; returns whether a second attempt may succeed.
    pub(crate) fn invalidate(&self, scope: &str) -> bool {
        match self {
            Credential::Bearer(source) => source.invalidate(scope),
            _ => false,
        }
    }

    /// Gets a token for `scope` ahead of a run, so that an interactive sign-in happens outside
    /// the run's timeout. Splunk credentials need no preparation.
    pub(crate) async fn sign_in(
        &self,
        scope: &str,
        cancel: &tokio_util::sync::CancellationToken,
    ) -> Result<(), crate::ProviderError> {
        let Credential::Bearer(source) = self else {
            return Ok(());
        };
        tokio::select! {
            biased;
            _ = cancel.cancelled() => Err(crate::ProviderError::Cancelled),
            token = source.token(scope) => token.map(|_| ()).map_err(Into::into),
        }
    }

    pub(crate) fn unauthorized_action(&self) -> String {
        match self {
            Credential::Bearer(source) => source.unauthorized_action(),
            Credential::Basic { username, .. } => {
                format!(
                    "Check the password of Splunk user `{username}` and that the account is not locked"
                )
            }
            Credential::SplunkToken(_) => {
                "Check that the Splunk token is valid, enabled and not expired".to_string()
            }
        }
    }
}
