//! The HTTP layer shared by the clients: retries on 429 and 5xx, reading bodies, and the
//! mapping of error responses to [`ProviderError`]. Timeouts and cancellation wrap whole runs
//! in `query.rs`.

use std::sync::LazyLock;
use std::time::Duration;

use regex::Regex;
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, RETRY_AFTER};
use serde_json::Value as Json;

use crate::error::{ProviderError, QueryError, Service, SourceLocation};

/// Retry settings for throttled (429) and failed (5xx) responses.
#[derive(Clone, Debug)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// Wait before the first retry when the service sends no `Retry-After`. It doubles per retry,
    /// before the random jitter that [`Transport`] applies.
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
    /// Longest `Retry-After` the client honours; a longer one ends the run with a throttling error.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> RetryPolicy {
        RetryPolicy {
            max_retries: 3,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(8),
            max_retry_after: Duration::from_secs(60),
        }
    }
}

/// Default of [`HttpOptions::max_body_bytes`]: 256 MiB.
pub const DEFAULT_MAX_BODY_BYTES: usize = 256 * 1024 * 1024;

/// Client-wide HTTP settings.
#[derive(Clone, Debug)]
pub struct HttpOptions {
    pub retry: RetryPolicy,
    /// Whether `HTTPS_PROXY`, `HTTP_PROXY` and `NO_PROXY` apply.
    pub use_env_proxy: bool,
    /// Largest response body read into memory, in bytes. A larger body ends the run with
    /// [`ProviderError::TooLarge`] instead of exhausting memory. Streamed Splunk exports apply
    /// it to one line.
    pub max_body_bytes: usize,
}

impl Default for HttpOptions {
    fn default() -> HttpOptions {
        HttpOptions {
            retry: RetryPolicy::default(),
            use_env_proxy: true,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
        }
    }
}

/// A response read to the end.
#[derive(Debug)]
pub struct HttpResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    /// Requests sent, counting retries.
    pub attempts: u32,
}

/// An HTTP client with the retry policy; cheap to clone.
#[derive(Clone, Debug)]
pub struct Transport {
    client: reqwest::Client,
    retry: RetryPolicy,
    max_body_bytes: usize,
}

impl Transport {
    pub fn new(options: &HttpOptions) -> Result<Transport, ProviderError> {
        let mut builder = reqwest::Client::builder()
            .user_agent(concat!("quarry/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(30));
        if !options.use_env_proxy {
            builder = builder.no_proxy();
        }
        let client = builder.build().map_err(|error| {
            ProviderError::Unsupported(format!("could not set up the HTTP client: {error}"))
        })?;
        Ok(Transport {
            client,
            retry: options.retry.clone(),
            max_body_bytes: options.max_body_bytes,
        })
    }

    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// Returns the largest body, in bytes, that [`Transport::send`] reads.
    pub fn max_body_bytes(&self) -> usize {
        self.max_body_bytes
    }

    /// Sends the request, retrying 429 and 5xx responses and failed connections by the policy,
    /// and reads the final response's body. Returns the last response when retries run out, so
    /// the caller can map its body to an error.
    pub async fn send(
        &self,
        service: Service,
        request: reqwest::RequestBuilder,
    ) -> Result<HttpResponse, ProviderError> {
        let redactor = Redactor::for_request(&request);
        let (response, attempts) = self.send_streaming(service, request).await?;
        let status = response.status();
        let headers = response.headers().clone();
        let mut body = read_body(service, response, self.max_body_bytes).await?;
        if !status.is_success() {
            // Error bodies end up in messages, and some services and proxies repeat the
            // request's credentials in them.
            body = redactor.apply(body);
        }
        Ok(HttpResponse {
            status,
            headers,
            body,
            attempts,
        })
    }

    /// Sends the request with the same retries as [`Transport::send`] but leaves the final
    /// response's body unread, for callers that stream it. Returns the response and the number
    /// of requests sent.
    pub async fn send_streaming(
        &self,
        service: Service,
        request: reqwest::RequestBuilder,
    ) -> Result<(reqwest::Response, u32), ProviderError> {
        let mut attempts = 0;
        loop {
            attempts += 1;
            let attempt = request.try_clone().ok_or_else(|| {
                ProviderError::Unsupported("a request body that cannot be resent".to_string())
            })?;
            let response = match attempt.send().await {
                Ok(response) => response,
                Err(error) => {
                    let url = error.url().map(|url| url.to_string()).unwrap_or_default();
                    let detail = error_chain(&error);
                    if is_untrusted_certificate(&detail) {
                        // Another handshake meets the same certificate, so there is no retry.
                        return Err(ProviderError::Transport {
                            service,
                            url,
                            detail: format!("{detail}. {UNTRUSTED_CERTIFICATE_ACTION}"),
                        });
                    }
                    if error.is_connect() && attempts <= self.retry.max_retries {
                        let delay = self.backoff(attempts);
                        tracing::warn!(%service, %url, attempts, ?delay, "connection failed, retrying");
                        tokio::time::sleep(delay).await;
                        continue;
                    }
                    return Err(ProviderError::Transport {
                        service,
                        url,
                        detail,
                    });
                }
            };

            let status = response.status();
            let retryable = status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error();
            if retryable && attempts <= self.retry.max_retries {
                let retry_after = parse_retry_after(response.headers());
                let delay = match retry_after {
                    Some(delay) if delay > self.retry.max_retry_after => None,
                    Some(delay) => Some(delay),
                    None => Some(self.backoff(attempts)),
                };
                if let Some(delay) = delay {
                    tracing::warn!(%service, status = status.as_u16(), attempts, ?delay, "retrying");
                    drop(response);
                    tokio::time::sleep(delay).await;
                    continue;
                }
            }
            return Ok((response, attempts));
        }
    }

    /// Returns the wait before retry number `attempts`: the initial backoff doubled per retry,
    /// capped, then scaled by a random factor in [0.5, 1) so that clients throttled together do
    /// not retry together.
    fn backoff(&self, attempts: u32) -> Duration {
        let factor = 1u32 << attempts.saturating_sub(1).min(16);
        let capped = self
            .retry
            .initial_backoff
            .saturating_mul(factor)
            .min(self.retry.max_backoff);
        capped.mul_f64(rand::random_range(0.5..1.0))
    }
}

/// Sends a request built by `build` with the credential's `Authorization` header. After a 401
/// it drops the token and tries once more when a fresh token may differ.
pub(crate) async fn send_authorized(
    transport: &Transport,
    credential: &crate::auth::Credential,
    scope: &str,
    service: Service,
    build: impl Fn() -> reqwest::RequestBuilder,
) -> Result<HttpResponse, ProviderError> {
    let mut retried = false;
    loop {
        let request = credential.authorize(build(), scope).await?;
        let response = transport.send(service, request).await?;
        if response.status == StatusCode::UNAUTHORIZED && !retried && credential.invalidate(scope) {
            tracing::info!(%service, "token rejected, fetching a new one");
            retried = true;
            continue;
        }
        return Ok(response);
    }
}

/// The credentials a request carries, to remove from the error bodies its response may repeat
/// them in: the `Authorization` value (and for basic authentication the decoded user and
/// password), and form fields that hold secrets.
pub(crate) struct Redactor {
    secrets: Vec<Vec<u8>>,
}

/// Form fields of the OAuth token requests whose values are secrets.
const SECRET_FORM_FIELDS: &[&str] = &[
    "client_secret",
    "client_assertion",
    "password",
    "refresh_token",
    "device_code",
    "code",
    "assertion",
];

/// Text that replaces a secret in an error body.
const REDACTED: &[u8] = b"[redacted]";

impl Redactor {
    pub(crate) fn for_request(request: &reqwest::RequestBuilder) -> Redactor {
        let mut secrets: Vec<String> = Vec::new();
        let Some(request) = request.try_clone().and_then(|clone| clone.build().ok()) else {
            return Redactor {
                secrets: Vec::new(),
            };
        };
        for value in request.headers().get_all(reqwest::header::AUTHORIZATION) {
            let Ok(value) = value.to_str() else { continue };
            secrets.push(value.to_owned());
            let Some((scheme, credentials)) = value.split_once(' ') else {
                continue;
            };
            let credentials = credentials.trim();
            secrets.push(credentials.to_owned());
            if scheme.eq_ignore_ascii_case("basic")
                && let Some(decoded) = decode_base64(credentials)
                && let Ok(decoded) = String::from_utf8(decoded)
            {
                if let Some((_, password)) = decoded.split_once(':') {
                    secrets.push(password.to_owned());
                }
                secrets.push(decoded);
            }
        }
        if let Some(body) = request.body().and_then(reqwest::Body::as_bytes) {
            for (name, value) in url::form_urlencoded::parse(body) {
                if SECRET_FORM_FIELDS.contains(&name.as_ref()) {
                    secrets.push(value.into_owned());
                }
            }
        }
        // Longest first, so that a secret inside a longer one does not leave the rest behind.
        // Values under six bytes are skipped because they would redact ordinary words.
        secrets.retain(|secret| secret.len() >= 6);
        secrets.sort_by_key(|secret| std::cmp::Reverse(secret.len()));
        secrets.dedup();
        Redactor {
            secrets: secrets.into_iter().map(String::into_bytes).collect(),
        }
    }

    /// Replaces every occurrence of a secret in `body` with `[redacted]`.
    pub(crate) fn apply(&self, mut body: Vec<u8>) -> Vec<u8> {
        for secret in &self.secrets {
            let mut start = 0;
            while let Some(found) = find_bytes(&body[start..], secret) {
                let at = start + found;
                body.splice(at..at + secret.len(), REDACTED.iter().copied());
                start = at + REDACTED.len();
            }
        }
        body
    }
}

fn find_bytes(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

/// Decodes standard base64 with optional padding, as HTTP basic authentication uses it.
fn decode_base64(text: &str) -> Option<Vec<u8>> {
    let mut bits = 0u32;
    let mut count = 0;
    let mut bytes = Vec::new();
    for byte in text.trim_end_matches('=').bytes() {
        let value = match byte {
            b'A'..=b'Z' => byte - b'A',
            b'a'..=b'z' => byte - b'a' + 26,
            b'0'..=b'9' => byte - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        bits = (bits << 6) | u32::from(value);
        count += 6;
        if count >= 8 {
            count -= 8;
            bytes.push((bits >> count) as u8);
        }
    }
    Some(bytes)
}

/// Reads a response body chunk by chunk, failing with [`ProviderError::TooLarge`] as soon as
/// it passes `limit` bytes, so that a huge or endless body is never held in memory.
pub(crate) async fn read_body(
    service: Service,
    mut response: reqwest::Response,
    limit: usize,
) -> Result<Vec<u8>, ProviderError> {
    let url = response.url().to_string();
    if response
        .content_length()
        .is_some_and(|length| length > limit as u64)
    {
        return Err(ProviderError::TooLarge { service, limit });
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|error| body_error(service, url.clone(), &error))?
    {
        if body.len() + chunk.len() > limit {
            return Err(ProviderError::TooLarge { service, limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Maps a failure while reading a body: a cut-off body is a malformed response, anything else
/// a transport error.
pub(crate) fn body_error(service: Service, url: String, error: &reqwest::Error) -> ProviderError {
    if error.is_decode() || error.is_body() {
        ProviderError::MalformedResponse {
            service,
            detail: format!("the body ended early: {}", error_chain(error)),
        }
    } else {
        ProviderError::Transport {
            service,
            url,
            detail: error_chain(error),
        }
    }
}

/// The fix for a server certificate that the trust store rejects.
const UNTRUSTED_CERTIFICATE_ACTION: &str = "The server's TLS certificate is not trusted: add the certificate authority that issued it (for a TLS-inspecting proxy, the proxy's CA) to the system's trust store, or set SSL_CERT_FILE to a PEM file that contains it";

/// Tells whether an error chain is rustls rejecting the server's certificate. rustls writes
/// `invalid peer certificate: <reason>`, for example `UnknownIssuer` for a self-signed one.
pub(crate) fn is_untrusted_certificate(detail: &str) -> bool {
    detail.contains("invalid peer certificate")
}

/// Joins an error and its sources, which is where reqwest puts the useful part.
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

/// Reads `Retry-After` as delay seconds or as an HTTP date (RFC 9110 section 10.2.3). A date in
/// the past means no wait.
pub(crate) fn parse_retry_after(headers: &HeaderMap) -> Option<Duration> {
    let text = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = text.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let date = httpdate::parse_http_date(text).ok()?;
    Some(
        date.duration_since(std::time::SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

/// Parses a JSON body, naming the service and the place where parsing stopped.
pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(
    service: Service,
    body: &[u8],
) -> Result<T, ProviderError> {
    serde_json::from_slice(body).map_err(|error| ProviderError::MalformedResponse {
        service,
        detail: format!("invalid JSON ({error})"),
    })
}

/// Maps a non-success response to an error. `unauthorized_action` is the step that gets a valid
/// credential of the kind in use.
pub(crate) fn status_error(
    service: Service,
    response: &HttpResponse,
    unauthorized_action: String,
) -> ProviderError {
    let status = response.status;
    let detail = error_detail(&response.body);
    match status {
        StatusCode::UNAUTHORIZED => ProviderError::Unauthorized {
            service,
            detail,
            action: unauthorized_action,
        },
        StatusCode::FORBIDDEN => ProviderError::Forbidden { service, detail },
        StatusCode::NOT_FOUND => ProviderError::NotFound { service, detail },
        StatusCode::TOO_MANY_REQUESTS => ProviderError::Throttled {
            service,
            attempts: response.attempts,
            retry_after: parse_retry_after(&response.headers),
        },
        status if status.is_server_error() => ProviderError::Server {
            service,
            status: status.as_u16(),
            attempts: response.attempts,
            detail,
        },
        status => match one_api_error(&response.body) {
            Some(error) if error.looks_like_query_error() => {
                ProviderError::Query(error.into_query_error(service))
            }
            _ => ProviderError::Http {
                service,
                status: status.as_u16(),
                detail,
            },
        },
    }
}

/// Pulls a readable message out of an error body: the OneAPI `error.message`, Splunk's
/// `messages[].text`, or the start of the text.
pub(crate) fn error_detail(body: &[u8]) -> String {
    if let Some(error) = one_api_error(body) {
        return error.summary();
    }
    if let Ok(json) = serde_json::from_slice::<Json>(body)
        && let Some(messages) = json.get("messages").and_then(Json::as_array)
    {
        let texts: Vec<&str> = messages
            .iter()
            .filter_map(|m| m.get("text")?.as_str())
            .collect();
        if !texts.is_empty() {
            return texts.join("; ");
        }
    }
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() {
        return "the response had no body".to_string();
    }
    let mut cut: String = text.chars().take(300).collect();
    if cut.len() < text.len() {
        cut.push('…');
    }
    cut
}

/// An error in Microsoft's OneAPI shape: `{"error": {"code", "message", "innererror" | "details"}}`.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct OneApiError {
    pub code: String,
    pub message: String,
    /// Codes and messages of the nested errors, outermost first.
    pub inner: Vec<(String, String)>,
    pub location: Option<SourceLocation>,
}

impl OneApiError {
    /// Reads `{"error": {...}}` or the inner object itself.
    pub fn from_json(json: &Json) -> Option<OneApiError> {
        let error = json.get("error").unwrap_or(json);
        let code = error.get("code")?.as_str().unwrap_or_default().to_string();
        // Azure Data Explorer puts the detailed text, with the position, in `@message`.
        let message = error
            .get("@message")
            .or_else(|| error.get("message"))
            .and_then(Json::as_str)
            .unwrap_or_default()
            .to_string();
        let mut parsed = OneApiError {
            code,
            message,
            ..OneApiError::default()
        };
        parsed.location = location_of(error);
        parsed.collect_inner(error);
        Some(parsed)
    }

    fn collect_inner(&mut self, error: &Json) {
        let mut nested: Vec<&Json> = Vec::new();
        if let Some(inner) = error.get("innererror") {
            nested.push(inner);
        }
        if let Some(details) = error.get("details").and_then(Json::as_array) {
            nested.extend(details);
        }
        for inner in nested {
            let code = inner.get("code").and_then(Json::as_str).unwrap_or_default();
            let message = inner
                .get("message")
                .and_then(Json::as_str)
                .unwrap_or_default();
            self.inner.push((code.to_string(), message.to_string()));
            if let Some(location) = location_of(inner) {
                self.location = Some(location);
            }
            self.collect_inner(inner);
        }
    }

    /// Returns whether the error is about the query text rather than the request or service.
    pub fn looks_like_query_error(&self) -> bool {
        let codes = std::iter::once(self.code.as_str())
            .chain(self.inner.iter().map(|(code, _)| code.as_str()));
        let query_code = codes.clone().any(|code| {
            code.starts_with("SYN")
                || code.starts_with("SEM")
                || matches!(
                    code,
                    "SyntaxError" | "SemanticError" | "BadArgumentError" | "General_BadRequest"
                )
        });
        query_code || self.location.is_some()
    }

    /// Returns the outer message, followed by the innermost one when it adds something.
    pub fn summary(&self) -> String {
        let innermost = self
            .inner
            .iter()
            .rev()
            .find(|(_, message)| !message.is_empty());
        match innermost {
            Some((_, message)) if *message != self.message && !self.message.is_empty() => {
                format!("{}: {message}", self.message)
            }
            Some((_, message)) if self.message.is_empty() => message.clone(),
            _ => self.message.clone(),
        }
    }

    pub fn into_query_error(self, service: Service) -> QueryError {
        let code = self
            .inner
            .iter()
            .rev()
            .map(|(code, _)| code.as_str())
            .find(|code| !code.is_empty())
            .unwrap_or(&self.code)
            .to_string();
        QueryError {
            service,
            code: (!code.is_empty()).then_some(code),
            message: self.summary(),
            location: self.location,
        }
    }
}

pub(crate) fn one_api_error(body: &[u8]) -> Option<OneApiError> {
    let json: Json = serde_json::from_slice(body).ok()?;
    json.get("error")?;
    OneApiError::from_json(&json)
}

/// Finds a query position in one error object: Log Analytics sends `line` and `pos`, Azure Data
/// Explorer writes `[line:position=L:C]` into `@message`.
fn location_of(error: &Json) -> Option<SourceLocation> {
    static POSITION: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"\[line:position=(\d+):(\d+)\]|on line \[(\d+),(\d+)\]").expect("valid regex")
    });

    let line = error.get("line").and_then(Json::as_u64);
    let column = error.get("pos").and_then(Json::as_u64);
    if let (Some(line), Some(column)) = (line, column) {
        return Some(SourceLocation {
            line: line as u32,
            column: column as u32,
        });
    }
    let text = error
        .get("@message")
        .or_else(|| error.get("message"))?
        .as_str()?;
    let captures = POSITION.captures(text)?;
    let line = captures
        .get(1)
        .or_else(|| captures.get(3))?
        .as_str()
        .parse()
        .ok()?;
    let column = captures
        .get(2)
        .or_else(|| captures.get(4))?
        .as_str()
        .parse()
        .ok()?;
    Some(SourceLocation { line, column })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_error_keeps_location() {
        let body = serde_json::json!({"error": {
            "code": "BadArgumentError", "message": "The request had some invalid properties",
            "innererror": {"code": "SyntaxError", "message": "A recognition error occurred in the query.",
                "innererror": {"code": "SYN0002", "message": "Query could not be parsed at 'x' on line [2,7]",
                    "line": 2, "pos": 7, "token": "x"}}}});
        let error = one_api_error(body.to_string().as_bytes()).expect("a OneAPI error");
        let query_error = error.into_query_error(Service::LogAnalytics);
        assert_eq!(
            query_error.location,
            Some(SourceLocation { line: 2, column: 7 })
        );
        assert_eq!(query_error.code.as_deref(), Some("SYN0002"));
        assert!(
            query_error.message.contains("could not be parsed at 'x'"),
            "{}",
            query_error.message
        );
    }

    #[test]
    fn kusto_message_position() {
        let body = serde_json::json!({"error": {"code": "General_BadRequest", "message": "Request is invalid",
            "@message": "Syntax error: SYN0002: A recognition error occurred. [line:position=3:14]"}});
        let error = one_api_error(body.to_string().as_bytes()).expect("a OneAPI error");
        assert_eq!(
            error.location,
            Some(SourceLocation {
                line: 3,
                column: 14
            })
        );
    }

    #[test]
    fn retry_after_forms() {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, "7".parse().unwrap());
        assert_eq!(parse_retry_after(&headers), Some(Duration::from_secs(7)));

        let later = std::time::SystemTime::now() + Duration::from_secs(120);
        headers.insert(RETRY_AFTER, httpdate::fmt_http_date(later).parse().unwrap());
        let delay = parse_retry_after(&headers).expect("a date parses");
        assert!(
            delay > Duration::from_secs(100) && delay <= Duration::from_secs(120),
            "{delay:?}"
        );

        headers.insert(
            RETRY_AFTER,
            "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap(),
        );
        assert_eq!(parse_retry_after(&headers), Some(Duration::ZERO));

        headers.insert(RETRY_AFTER, "soon".parse().unwrap());
        assert_eq!(parse_retry_after(&headers), None);
    }

    #[test]
    fn redactor_removes_credentials() {
        let client = reqwest::Client::new();
        let request = client
            .post("http://127.0.0.1:9/token")
            .basic_auth("hunter", Some("pa55word-x"))
            .form(&[("client_secret", "s3cr3t-value"), ("scope", "api")]);
        let redactor = Redactor::for_request(&request);
        let body =
            b"bad: pa55word-x / aHVudGVyOnBhNTV3b3JkLXg= / s3cr3t-value / scope api".to_vec();
        let redacted = String::from_utf8(redactor.apply(body)).unwrap();
        assert_eq!(
            redacted,
            "bad: [redacted] / [redacted] / [redacted] / scope api"
        );
    }

    #[test]
    fn plain_text_detail_is_cut() {
        let detail = error_detail("x".repeat(1000).as_bytes());
        assert_eq!(detail.chars().count(), 301);
    }
}
