//! OAuth 2.0 flows against a Microsoft Entra (or compatible) token endpoint: client credentials,
//! the device authorization grant (RFC 8628) and refresh tokens.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use futures::future::BoxFuture;
use serde::Deserialize;
use url::Url;

use super::{AccessToken, AuthError, TokenSource};
use crate::http::Transport;
use crate::secret::Secret;

/// The token and device-code endpoints of one tenant.
#[derive(Clone, Debug, PartialEq)]
pub struct OAuthEndpoints {
    pub token: Url,
    pub device_code: Url,
}

impl OAuthEndpoints {
    /// Builds the v2.0 endpoints of `tenant` under an authority host such as
    /// `https://login.microsoftonline.com` (or a sovereign cloud's host).
    pub fn azure(authority_host: &Url, tenant: &str) -> Result<OAuthEndpoints, url::ParseError> {
        let base = authority_host.as_str().trim_end_matches('/');
        Ok(OAuthEndpoints {
            token: Url::parse(&format!("{base}/{tenant}/oauth2/v2.0/token"))?,
            device_code: Url::parse(&format!("{base}/{tenant}/oauth2/v2.0/devicecode"))?,
        })
    }
}

/// A successful token response.
#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    /// Entra's v2.0 endpoint sends a number; the v1.0 endpoint sends a string.
    expires_in: Option<serde_json::Value>,
    refresh_token: Option<String>,
}

impl TokenResponse {
    fn access_token(&self) -> AccessToken {
        let seconds = match &self.expires_in {
            Some(serde_json::Value::Number(number)) => number.as_u64(),
            Some(serde_json::Value::String(text)) => text.parse().ok(),
            _ => None,
        };
        AccessToken {
            token: Secret::new(self.access_token.clone()),
            expires_at: seconds.map(|seconds| SystemTime::now() + Duration::from_secs(seconds)),
        }
    }
}

/// An error response (RFC 6749 section 5.2).
#[derive(Deserialize)]
struct OAuthError {
    error: String,
    error_description: Option<String>,
}

impl OAuthError {
    /// Returns the first line of the description, because Entra appends trace and correlation
    /// ids on later lines.
    fn description(&self) -> &str {
        self.error_description
            .as_deref()
            .and_then(|text| text.lines().next())
            .unwrap_or("")
    }
}

enum TokenReply {
    Token(TokenResponse),
    Error(OAuthError),
}

/// Posts a form to the token endpoint and reads either a token or an OAuth error.
async fn post_token_form(
    transport: &Transport,
    endpoint: &Url,
    form: &[(&str, &str)],
) -> Result<TokenReply, AuthError> {
    let request = transport.client().post(endpoint.clone()).form(form);
    let response = transport
        .send(crate::error::Service::SignIn, request)
        .await
        .map_err(|error| match error {
            crate::error::ProviderError::Transport { detail, .. } => AuthError::new(format!(
                "could not reach the token endpoint {endpoint}: {detail}"
            )),
            other => AuthError::new(format!("the token endpoint {endpoint} failed: {other}")),
        })?;
    if response.status.is_success() {
        let token: TokenResponse = serde_json::from_slice(&response.body).map_err(|error| {
            AuthError::new(format!(
                "the token endpoint {endpoint} sent a response that is not a token ({error})"
            ))
        })?;
        return Ok(TokenReply::Token(token));
    }
    match serde_json::from_slice::<OAuthError>(&response.body) {
        Ok(error) => Ok(TokenReply::Error(error)),
        Err(_) => Err(AuthError::new(format!(
            "the token endpoint {endpoint} returned HTTP {} without an OAuth error",
            response.status.as_u16()
        ))),
    }
}

/// The client credentials grant: an app registration's id and secret.
pub struct ClientCredentials {
    endpoints: OAuthEndpoints,
    client_id: String,
    client_secret: Secret,
    transport: Transport,
}

impl ClientCredentials {
    pub fn new(
        endpoints: OAuthEndpoints,
        client_id: String,
        client_secret: Secret,
        transport: Transport,
    ) -> ClientCredentials {
        ClientCredentials {
            endpoints,
            client_id,
            client_secret,
            transport,
        }
    }

    async fn fetch(&self, scope: &str) -> Result<AccessToken, AuthError> {
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", self.client_id.as_str()),
            ("client_secret", self.client_secret.expose()),
            ("scope", scope),
        ];
        match post_token_form(&self.transport, &self.endpoints.token, &form).await? {
            TokenReply::Token(token) => Ok(token.access_token()),
            TokenReply::Error(error) => Err(AuthError::new(format!(
                "the token endpoint rejected client `{}` ({}: {}): check the client id, the secret and the tenant",
                self.client_id,
                error.error,
                error.description()
            ))),
        }
    }
}

impl TokenSource for ClientCredentials {
    fn token<'a>(&'a self, scope: &'a str) -> BoxFuture<'a, Result<AccessToken, AuthError>> {
        Box::pin(self.fetch(scope))
    }

    fn unauthorized_action(&self) -> String {
        format!(
            "Check that app `{}` is granted access to this resource and that its secret has not expired",
            self.client_id
        )
    }
}

/// The code and URL a user needs to finish a device-code sign-in.
#[derive(Clone, Debug, PartialEq)]
pub struct DeviceCodePrompt {
    pub user_code: String,
    pub verification_uri: String,
    /// The service's own instruction text, ready to show.
    pub message: Option<String>,
    pub expires_in: Duration,
}

/// Receives the device-code prompt, for the editor or terminal to show.
pub type PromptCallback = Arc<dyn Fn(&DeviceCodePrompt) + Send + Sync>;

/// The polling schedule of the device-code flow.
#[derive(Clone, Debug)]
pub struct PollTiming {
    /// Replaces the service's `interval`; for tests and proxies that need faster polling.
    pub interval_override: Option<Duration>,
    /// Added to the interval on each `slow_down` reply; RFC 8628 sets 5 seconds.
    pub slow_down_increment: Duration,
}

impl Default for PollTiming {
    fn default() -> PollTiming {
        PollTiming {
            interval_override: None,
            slow_down_increment: Duration::from_secs(5),
        }
    }
}

#[derive(Deserialize)]
struct DeviceCodeResponse {
    device_code: String,
    user_code: String,
    // Entra's v1.0 endpoint spells it `verification_url`.
    #[serde(alias = "verification_url")]
    verification_uri: String,
    expires_in: u64,
    interval: Option<u64>,
    message: Option<String>,
}

const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// The device authorization grant: the user signs in on another device with a short code. Keeps
/// refresh tokens in memory, so later tokens need no new sign-in.
pub struct DeviceCodeFlow {
    endpoints: OAuthEndpoints,
    client_id: String,
    transport: Transport,
    prompt: PromptCallback,
    timing: PollTiming,
    // TODO: keep refresh tokens in the OS keyring or VS Code's SecretStorage so a sign-in
    // outlives the process.
    refresh_tokens: Mutex<HashMap<String, Secret>>,
}

impl DeviceCodeFlow {
    pub fn new(
        endpoints: OAuthEndpoints,
        client_id: String,
        transport: Transport,
        prompt: PromptCallback,
    ) -> DeviceCodeFlow {
        DeviceCodeFlow {
            endpoints,
            client_id,
            transport,
            prompt,
            timing: PollTiming::default(),
            refresh_tokens: Mutex::new(HashMap::new()),
        }
    }

    pub fn with_timing(mut self, timing: PollTiming) -> DeviceCodeFlow {
        self.timing = timing;
        self
    }

    fn remember(&self, scope: &str, token: &TokenResponse) {
        if let Some(refresh) = &token.refresh_token {
            let mut tokens = self.refresh_tokens.lock().expect("lock poisoned");
            tokens.insert(scope.to_string(), Secret::new(refresh.clone()));
        }
    }

    async fn refresh(&self, scope: &str) -> Option<AccessToken> {
        let refresh_token = self
            .refresh_tokens
            .lock()
            .expect("lock poisoned")
            .get(scope)
            .cloned()?;
        let form = [
            ("grant_type", "refresh_token"),
            ("client_id", self.client_id.as_str()),
            ("refresh_token", refresh_token.expose()),
            ("scope", scope),
        ];
        match post_token_form(&self.transport, &self.endpoints.token, &form).await {
            Ok(TokenReply::Token(token)) => {
                self.remember(scope, &token);
                Some(token.access_token())
            }
            Ok(TokenReply::Error(error)) => {
                tracing::info!(error = %error.error, "refresh token rejected, starting a new sign-in");
                self.refresh_tokens
                    .lock()
                    .expect("lock poisoned")
                    .remove(scope);
                None
            }
            Err(error) => {
                tracing::warn!(%error, "refreshing the token failed, starting a new sign-in");
                None
            }
        }
    }

    async fn fetch(&self, scope: &str) -> Result<AccessToken, AuthError> {
        if let Some(token) = self.refresh(scope).await {
            return Ok(token);
        }

        let scopes = format!("{scope} offline_access");
        let form = [
            ("client_id", self.client_id.as_str()),
            ("scope", scopes.as_str()),
        ];
        let request = self
            .transport
            .client()
            .post(self.endpoints.device_code.clone())
            .form(&form);
        let response = self
            .transport
            .send(crate::error::Service::SignIn, request)
            .await
            .map_err(|error| {
                AuthError::new(format!("could not start the device-code sign-in: {error}"))
            })?;
        if !response.status.is_success() {
            let detail = serde_json::from_slice::<OAuthError>(&response.body)
                .map(|error| format!("{}: {}", error.error, error.description()))
                .unwrap_or_else(|_| format!("HTTP {}", response.status.as_u16()));
            return Err(AuthError::new(format!(
                "the device-code endpoint {} rejected client `{}` ({detail}): check the client id and the tenant",
                self.endpoints.device_code, self.client_id
            )));
        }
        let device: DeviceCodeResponse =
            serde_json::from_slice(&response.body).map_err(|error| {
                AuthError::new(format!(
                    "the device-code endpoint sent an unexpected response ({error})"
                ))
            })?;

        let expires_in = Duration::from_secs(device.expires_in);
        (self.prompt)(&DeviceCodePrompt {
            user_code: device.user_code.clone(),
            verification_uri: device.verification_uri.clone(),
            message: device.message.clone(),
            expires_in,
        });
        self.poll(scope, &device, expires_in).await
    }

    async fn poll(
        &self,
        scope: &str,
        device: &DeviceCodeResponse,
        expires_in: Duration,
    ) -> Result<AccessToken, AuthError> {
        let deadline = tokio::time::Instant::now() + expires_in;
        let mut interval = self
            .timing
            .interval_override
            .unwrap_or(Duration::from_secs(device.interval.unwrap_or(5)));
        let form = [
            ("grant_type", DEVICE_CODE_GRANT),
            ("client_id", self.client_id.as_str()),
            ("device_code", device.device_code.as_str()),
        ];
        loop {
            // Stops at the code's expiry instead of sleeping past it, because a long interval or many
            // `slow_down` replies would otherwise hold the sign-in open after the code is dead.
            let wake = tokio::time::Instant::now() + interval;
            if wake >= deadline {
                tokio::time::sleep_until(deadline).await;
                return Err(AuthError::new(
                    "the device code expired before the sign-in finished: run the query again and enter the new code",
                ));
            }
            tokio::time::sleep_until(wake).await;
            match post_token_form(&self.transport, &self.endpoints.token, &form).await? {
                TokenReply::Token(token) => {
                    self.remember(scope, &token);
                    return Ok(token.access_token());
                }
                TokenReply::Error(error) => match error.error.as_str() {
                    "authorization_pending" => {}
                    "slow_down" => interval += self.timing.slow_down_increment,
                    "authorization_declined" | "access_denied" => {
                        return Err(AuthError::new(
                            "the device-code sign-in was declined: run the query again and approve the sign-in",
                        ));
                    }
                    "expired_token" | "code_expired" => {
                        return Err(AuthError::new(
                            "the device code expired before the sign-in finished: run the query again and enter the new code",
                        ));
                    }
                    other => {
                        return Err(AuthError::new(format!(
                            "the device-code sign-in failed ({other}: {})",
                            error.description()
                        )));
                    }
                },
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(AuthError::new(
                    "the device code expired before the sign-in finished: run the query again and enter the new code",
                ));
            }
        }
    }
}

impl TokenSource for DeviceCodeFlow {
    fn token<'a>(&'a self, scope: &'a str) -> BoxFuture<'a, Result<AccessToken, AuthError>> {
        Box::pin(self.fetch(scope))
    }

    fn invalidate(&self, scope: &str) -> bool {
        self.refresh_tokens
            .lock()
            .expect("lock poisoned")
            .remove(scope);
        false
    }

    fn unauthorized_action(&self) -> String {
        "Sign in again with an account that can read this resource".to_string()
    }
}
