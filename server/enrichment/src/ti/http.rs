//! The HTTP side shared by the remote providers: base URL, per-request timeout, token bucket,
//! and retries on HTTP 429 (honouring `Retry-After`) and on 502, 503 and 504.

use std::time::{Duration, SystemTime};

use reqwest::header::{HeaderMap, RETRY_AFTER};
use url::Url;

use super::ratelimit::{RateLimit, TokenBucket};
use super::result::LookupStatus;
use crate::secret::Secret;

/// Connection settings of one remote provider.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    pub base_url: Url,
    /// Time allowed for one request, from sending it to reading the whole body.
    pub timeout: Duration,
    pub rate_limit: RateLimit,
    /// Retries after HTTP 429, 502, 503 or 504.
    pub max_retries: u32,
    /// The maximum wait before a retry. A `Retry-After` longer than this ends the lookup as
    /// rate limited instead of waiting.
    pub max_retry_wait: Duration,
    /// Largest response body read, in bytes. A larger one fails the lookup instead of filling
    /// memory until the timeout.
    pub max_body_bytes: usize,
}

/// Default of [`HttpSettings::max_body_bytes`]: 16 MiB.
pub const DEFAULT_MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// Overrides for [`HttpSettings`]; unset fields keep the provider's defaults.
#[derive(Debug, Clone, Default)]
pub struct HttpOverrides {
    pub base_url: Option<Url>,
    pub timeout_seconds: Option<f64>,
    pub requests_per_minute: Option<u32>,
    pub burst: Option<u32>,
    pub max_retries: Option<u32>,
    pub max_retry_wait_seconds: Option<f64>,
}

impl HttpSettings {
    /// Defaults: a 10 s timeout, 2 retries, at most 30 s of waiting before a retry, and bodies of
    /// up to 16 MiB.
    pub fn new(base_url: &str, rate_limit: RateLimit) -> HttpSettings {
        HttpSettings {
            base_url: Url::parse(base_url).expect("built-in base URLs are valid"),
            timeout: Duration::from_secs(10),
            rate_limit,
            max_retries: 2,
            max_retry_wait: Duration::from_secs(30),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
        }
    }

    pub fn with_overrides(mut self, overrides: &HttpOverrides) -> HttpSettings {
        if let Some(url) = &overrides.base_url {
            self.base_url = url.clone();
        }
        if let Some(seconds) = overrides.timeout_seconds {
            self.timeout = Duration::from_secs_f64(seconds.max(0.001));
        }
        if let Some(requests) = overrides.requests_per_minute {
            self.rate_limit = RateLimit::per_minute(requests.max(1));
        }
        if let Some(burst) = overrides.burst {
            self.rate_limit.burst = burst.max(1);
        }
        if let Some(retries) = overrides.max_retries {
            self.max_retries = retries;
        }
        if let Some(seconds) = overrides.max_retry_wait_seconds {
            self.max_retry_wait = Duration::from_secs_f64(seconds.max(0.0));
        }
        self
    }
}

/// One request to send: the path is joined to the base URL.
pub(crate) struct ApiRequest {
    pub path: String,
    pub query: Vec<(&'static str, String)>,
    pub headers: Vec<(&'static str, String)>,
    pub secret_headers: Vec<(&'static str, Secret)>,
    pub basic_auth: Option<(Secret, Secret)>,
}

impl ApiRequest {
    pub fn get(path: impl Into<String>) -> ApiRequest {
        ApiRequest {
            path: path.into(),
            query: Vec::new(),
            headers: Vec::new(),
            secret_headers: Vec::new(),
            basic_auth: None,
        }
    }
}

/// A failed exchange, already mapped to a lookup status and a message without secrets.
#[derive(Debug)]
pub(crate) struct HttpFailure {
    pub status: LookupStatus,
    pub message: String,
}

/// The HTTP client of one provider.
pub(crate) struct HttpCore {
    provider: &'static str,
    client: reqwest::Client,
    settings: HttpSettings,
    bucket: TokenBucket,
}

impl HttpCore {
    pub fn new(provider: &'static str, settings: HttpSettings) -> HttpCore {
        let client = reqwest::Client::builder()
            .timeout(settings.timeout)
            .user_agent(concat!("quarry/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("the HTTP client builds with static settings");
        HttpCore {
            provider,
            client,
            bucket: TokenBucket::new(settings.rate_limit),
            settings,
        }
    }

    /// Joins `path` to the base URL, keeping the base URL's own path prefix.
    fn url(&self, path: &str) -> Url {
        let mut url = self.settings.base_url.clone();
        let base_path = url.path().trim_end_matches('/').to_owned();
        url.set_path(&format!("{base_path}/{}", path.trim_start_matches('/')));
        url
    }

    /// Sends `request` and returns the status code and body of the final response. 401,
    /// 403, 404 and other statuses are returned as they are, but 429 and 502-504 are retried first.
    pub async fn send(&self, request: &ApiRequest) -> Result<(u16, Vec<u8>), HttpFailure> {
        let url = self.url(&request.path);
        let mut attempt = 0u32;
        loop {
            if let Err(remaining) = self.bucket.acquire(self.settings.max_retry_wait).await {
                return Err(HttpFailure {
                    status: LookupStatus::RateLimited,
                    message: format!(
                        "{} asked to pause requests; retry after {} s",
                        self.provider,
                        remaining.as_secs_f64().ceil()
                    ),
                });
            }
            let mut builder = self.client.get(url.clone()).query(&request.query);
            for (name, value) in &request.headers {
                builder = builder.header(*name, value);
            }
            for (name, value) in &request.secret_headers {
                builder = builder.header(*name, value.expose());
            }
            if let Some((user, password)) = &request.basic_auth {
                builder = builder.basic_auth(user.expose(), Some(password.expose()));
            }

            let response = match builder.send().await {
                Ok(response) => response,
                Err(error) => return Err(self.transport_failure(&error)),
            };
            let status = response.status().as_u16();
            let retry_after = retry_after(response.headers());
            let body = self.read_body(response).await?;

            let retryable = matches!(status, 429 | 502 | 503 | 504);
            if !retryable {
                return Ok((status, body));
            }
            let wait = retry_after.unwrap_or_else(|| backoff(attempt));
            if status == 429 {
                self.bucket.pause_for(wait);
            }
            if attempt >= self.settings.max_retries || wait > self.settings.max_retry_wait {
                let (lookup_status, what) = if status == 429 {
                    (LookupStatus::RateLimited, "rate limited (HTTP 429)")
                } else {
                    (LookupStatus::Failed, "unavailable")
                };
                return Err(HttpFailure {
                    status: lookup_status,
                    message: format!(
                        "{} is {what}; retry after {} s",
                        self.provider,
                        wait.as_secs_f64().ceil()
                    ),
                });
            }
            tracing::info!(
                provider = self.provider,
                status,
                attempt = attempt + 1,
                wait_ms = wait.as_millis() as u64,
                "retrying a threat-intelligence request"
            );
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }

    /// Reads the body chunk by chunk and stops as soon as it passes the size limit.
    async fn read_body(&self, mut response: reqwest::Response) -> Result<Vec<u8>, HttpFailure> {
        let limit = self.settings.max_body_bytes;
        let too_large = || HttpFailure {
            status: LookupStatus::Failed,
            message: format!(
                "{} sent a response larger than {limit} bytes, the most Quarry reads",
                self.provider
            ),
        };
        if response
            .content_length()
            .is_some_and(|length| length > limit as u64)
        {
            return Err(too_large());
        }
        let mut body = Vec::new();
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) if body.len() + chunk.len() > limit => return Err(too_large()),
                Ok(Some(chunk)) => body.extend_from_slice(&chunk),
                Ok(None) => return Ok(body),
                Err(error) => return Err(self.transport_failure(&error)),
            }
        }
    }

    fn transport_failure(&self, error: &reqwest::Error) -> HttpFailure {
        // reqwest's message can include the URL; every key travels in headers, so the URL
        // contains no secret.
        if error.is_timeout() {
            HttpFailure {
                status: LookupStatus::TimedOut,
                message: format!(
                    "{} did not answer within {} s",
                    self.provider,
                    self.settings.timeout.as_secs_f64()
                ),
            }
        } else {
            let detail = error_chain(error);
            // rustls reports a rejected server certificate as `invalid peer certificate: <reason>`.
            let message = if detail.contains("invalid peer certificate") {
                format!(
                    "request to {} failed because its TLS certificate is not trusted ({detail}): add the certificate authority that issued it (for a TLS-inspecting proxy, the proxy's CA) to the system's trust store, or set SSL_CERT_FILE to a PEM file that contains it",
                    self.provider
                )
            } else {
                format!("request to {} failed: {detail}", self.provider)
            };
            HttpFailure {
                status: LookupStatus::Failed,
                message,
            }
        }
    }
}

/// Joins an error and its sources, because reqwest's top-level message leaves out the cause,
/// such as a refused connection or a failed DNS lookup.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Exponential backoff when no `Retry-After` is given: 1 s, 2 s, 4 s, ...
fn backoff(attempt: u32) -> Duration {
    Duration::from_secs(1u64 << attempt.min(6))
}

/// Reads `Retry-After` as seconds or as an HTTP date.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(
        date.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn retry_after_forms() {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, HeaderValue::from_static("7"));
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(7)));

        headers.insert(
            RETRY_AFTER,
            HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
        );
        assert_eq!(
            retry_after(&headers),
            Some(Duration::ZERO),
            "a past date means now"
        );

        headers.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&headers), None);
    }

    #[test]
    fn url_keeps_base_path() {
        let settings = HttpSettings::new("http://127.0.0.1:9/prefix/", RateLimit::per_minute(60));
        let core = HttpCore::new("test", settings);
        assert_eq!(
            core.url("/api/v3/files/abc").as_str(),
            "http://127.0.0.1:9/prefix/api/v3/files/abc"
        );
    }
}
