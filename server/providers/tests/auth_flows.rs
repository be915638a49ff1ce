//! OAuth flows against a fake Entra token endpoint on 127.0.0.1: client credentials, device code
//! with polling, refresh tokens, and the token cache.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{FakeServer, Reply, test_http_options};
use quarry_providers::auth::{
    ClientCredentials, Credential, DeviceCodeFlow, DeviceCodePrompt, OAuthEndpoints, PollTiming,
    TokenCache, TokenSource,
};
use quarry_providers::http::Transport;
use quarry_providers::log_analytics::{LogAnalytics, LogAnalyticsConfig};
use quarry_providers::{Provider, QueryRequest, Secret};
use serde_json::json;

const TENANT: &str = "contoso.onmicrosoft.com";
const CLIENT_SECRET: &str = "client-secret-5d2e";
const SCOPE: &str = "https://api.loganalytics.io/.default";

fn endpoints(server: &FakeServer) -> OAuthEndpoints {
    OAuthEndpoints::azure(&server.url(), TENANT).expect("endpoints")
}

fn transport() -> Transport {
    Transport::new(&test_http_options()).expect("transport")
}

fn token_reply(token: &str) -> Reply {
    Reply::json(
        200,
        &json!({"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": token}),
    )
}

fn oauth_error(code: &str, description: &str) -> Reply {
    Reply::json(
        400,
        &json!({"error": code, "error_description": description, "error_codes": [70016]}),
    )
}

fn empty_tables() -> Reply {
    Reply::json(
        200,
        &json!({"tables": [{"name": "PrimaryResult", "columns": [], "rows": []}]}),
    )
}

#[tokio::test]
async fn client_credentials_posts_form() {
    let server = FakeServer::start(|_, _| token_reply("cc-token-1")).await;
    let source = ClientCredentials::new(
        endpoints(&server),
        "app-id".to_string(),
        Secret::new(CLIENT_SECRET),
        transport(),
    );
    let token = source.token(SCOPE).await.expect("token");

    assert_eq!(token.token.expose(), "cc-token-1");
    assert!(token.expires_at.is_some());
    let sent = &server.requests()[0];
    assert_eq!(sent.method, "POST");
    assert_eq!(sent.path(), format!("/{TENANT}/oauth2/v2.0/token"));
    assert_eq!(
        sent.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    let form = sent.form();
    assert_eq!(form["grant_type"], "client_credentials");
    assert_eq!(form["client_id"], "app-id");
    assert_eq!(form["client_secret"], CLIENT_SECRET);
    assert_eq!(form["scope"], SCOPE);
}

#[tokio::test]
async fn client_credentials_rejection_explains() {
    let server = FakeServer::start(|_, _| {
        Reply::json(401, &json!({
            "error": "invalid_client",
            "error_description": "AADSTS7000215: Invalid client secret provided.\r\nTrace ID: 1\r\nCorrelation ID: 2"
        }))
    })
    .await;
    let source = ClientCredentials::new(
        endpoints(&server),
        "app-id".to_string(),
        Secret::new(CLIENT_SECRET),
        transport(),
    );
    let error = source.token(SCOPE).await.expect_err("rejected");

    let message = error.to_string();
    assert!(
        message.contains("AADSTS7000215: Invalid client secret provided."),
        "{message}"
    );
    assert!(!message.contains("Trace ID"), "{message}");
    assert!(
        message.contains("check the client id, the secret and the tenant"),
        "{message}"
    );
    assert!(!message.contains(CLIENT_SECRET), "{message}");
}

#[tokio::test]
async fn cached_token_reused_across_queries() {
    let server = FakeServer::start(|request, _| {
        if request.path().ends_with("/token") {
            token_reply("cached-token")
        } else {
            empty_tables()
        }
    })
    .await;
    let source = ClientCredentials::new(
        endpoints(&server),
        "app-id".to_string(),
        Secret::new(CLIENT_SECRET),
        transport(),
    );
    let credential = Credential::Bearer(Arc::new(TokenCache::new(source)));
    let mut config = LogAnalyticsConfig::new("ws");
    config.endpoint = server.url();
    config.scope = Some(SCOPE.to_string());
    let client = LogAnalytics::new(config, credential, &test_http_options()).unwrap();

    client.run(&QueryRequest::new("T")).await.expect("first");
    client.run(&QueryRequest::new("T")).await.expect("second");

    let requests = server.requests();
    let token_requests = requests
        .iter()
        .filter(|r| r.path().ends_with("/token"))
        .count();
    assert_eq!(token_requests, 1);
    let queries: Vec<_> = requests
        .iter()
        .filter(|r| r.path().ends_with("/query"))
        .collect();
    assert_eq!(queries.len(), 2);
    for query in queries {
        assert_eq!(query.header("authorization"), Some("Bearer cached-token"));
    }
}

#[tokio::test]
async fn rejected_token_fetched_again() {
    let tokens_issued = Arc::new(Mutex::new(0));
    let issued = tokens_issued.clone();
    let server = FakeServer::start(move |request, _| {
        if request.path().ends_with("/token") {
            let mut count = issued.lock().unwrap();
            *count += 1;
            return token_reply(&format!("token-{count}"));
        }
        if request.header("authorization") == Some("Bearer token-1") {
            Reply::json(401, &json!({"error": {"code": "InvalidTokenError", "message": "The token has expired"}}))
        } else {
            empty_tables()
        }
    })
    .await;
    let source = ClientCredentials::new(
        endpoints(&server),
        "app-id".to_string(),
        Secret::new(CLIENT_SECRET),
        transport(),
    );
    let credential = Credential::Bearer(Arc::new(TokenCache::new(source)));
    let mut config = LogAnalyticsConfig::new("ws");
    config.endpoint = server.url();
    let client = LogAnalytics::new(config, credential, &test_http_options()).unwrap();

    client
        .run(&QueryRequest::new("T"))
        .await
        .expect("succeeds with the second token");
    assert_eq!(*tokens_issued.lock().unwrap(), 2);
    let queries: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|r| r.path().ends_with("/query"))
        .collect();
    assert_eq!(queries.len(), 2);
    assert_eq!(queries[1].header("authorization"), Some("Bearer token-2"));
}

/// Starts a device-code server. It issues a code, replies to polls with `poll_replies` in order
/// (then `expired_token`), and grants a new access token for any refresh token.
async fn device_code_server(poll_replies: Vec<Reply>) -> FakeServer {
    let replies = Arc::new(Mutex::new(poll_replies.into_iter()));
    FakeServer::start(move |request, _| {
        if request.path().ends_with("/devicecode") {
            return Reply::json(200, &json!({
                "user_code": "FJ7K-2QWM",
                "device_code": "device-code-abc",
                "verification_uri": "https://microsoft.com/devicelogin",
                "expires_in": 900,
                "interval": 5,
                "message": "To sign in, use a web browser to open the page https://microsoft.com/devicelogin and enter the code FJ7K-2QWM to authenticate."
            }));
        }
        if request.form().get("grant_type").map(String::as_str) == Some("refresh_token") {
            return Reply::json(200, &json!({"access_token": "refreshed-token", "refresh_token": "refresh-2", "expires_in": 3600}));
        }
        replies.lock().unwrap().next().unwrap_or_else(|| oauth_error("expired_token", "AADSTS70020: expired"))
    })
    .await
}

fn fast_timing() -> PollTiming {
    PollTiming {
        interval_override: Some(Duration::from_millis(20)),
        slow_down_increment: Duration::from_millis(30),
    }
}

#[tokio::test]
async fn device_code_polls_until_signed_in() {
    let server = device_code_server(vec![
        oauth_error("authorization_pending", "AADSTS70016: OAuth 2.0 device flow error. Authorization is pending."),
        oauth_error("slow_down", "slow down"),
        oauth_error("authorization_pending", "pending"),
        Reply::json(200, &json!({"access_token": "device-token", "refresh_token": "refresh-1", "expires_in": 3600})),
    ])
    .await;
    let prompts: Arc<Mutex<Vec<DeviceCodePrompt>>> = Arc::default();
    let shown = prompts.clone();
    let flow = DeviceCodeFlow::new(
        endpoints(&server),
        "public-client".to_string(),
        transport(),
        Arc::new(move |prompt: &DeviceCodePrompt| shown.lock().unwrap().push(prompt.clone())),
    )
    .with_timing(fast_timing());

    let token = flow.token(SCOPE).await.expect("signed in");
    assert_eq!(token.token.expose(), "device-token");

    let shown_prompts = prompts.lock().unwrap().clone();
    assert_eq!(shown_prompts.len(), 1);
    assert_eq!(shown_prompts[0].user_code, "FJ7K-2QWM");
    assert_eq!(
        shown_prompts[0].verification_uri,
        "https://microsoft.com/devicelogin"
    );
    assert_eq!(shown_prompts[0].expires_in, Duration::from_secs(900));

    let requests = server.requests();
    assert_eq!(
        requests[0].path(),
        format!("/{TENANT}/oauth2/v2.0/devicecode")
    );
    let start_form = requests[0].form();
    assert_eq!(start_form["client_id"], "public-client");
    assert_eq!(start_form["scope"], format!("{SCOPE} offline_access"));
    let polls = &requests[1..];
    assert_eq!(polls.len(), 4);
    // The third poll follows the `slow_down` reply, so it waits the interval plus the increment.
    let gap = polls[2].received_at - polls[1].received_at;
    assert!(
        gap >= Duration::from_millis(50),
        "waited {gap:?} after slow_down"
    );
    for poll in polls {
        let form = poll.form();
        assert_eq!(
            form["grant_type"],
            "urn:ietf:params:oauth:grant-type:device_code"
        );
        assert_eq!(form["device_code"], "device-code-abc");
        assert_eq!(form["client_id"], "public-client");
    }

    // The second token comes from the refresh token, with no new prompt.
    let again = flow.token(SCOPE).await.expect("refreshed");
    assert_eq!(again.token.expose(), "refreshed-token");
    let last = server.requests().pop().unwrap().form();
    assert_eq!(last["grant_type"], "refresh_token");
    assert_eq!(last["refresh_token"], "refresh-1");
    assert_eq!(prompts.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn device_code_declined() {
    let server = device_code_server(vec![oauth_error(
        "authorization_declined",
        "The user declined",
    )])
    .await;
    let flow = DeviceCodeFlow::new(
        endpoints(&server),
        "public-client".to_string(),
        transport(),
        Arc::new(|_: &DeviceCodePrompt| {}),
    )
    .with_timing(fast_timing());
    let error = flow.token(SCOPE).await.expect_err("declined");
    assert!(error.to_string().contains("was declined"), "{error}");
}

#[tokio::test]
async fn device_code_expired() {
    let server = device_code_server(vec![oauth_error("authorization_pending", "pending")]).await;
    let flow = DeviceCodeFlow::new(
        endpoints(&server),
        "public-client".to_string(),
        transport(),
        Arc::new(|_: &DeviceCodePrompt| {}),
    )
    .with_timing(fast_timing());
    let error = flow.token(SCOPE).await.expect_err("expired");
    assert!(error.to_string().contains("device code expired"), "{error}");
    assert!(error.to_string().contains("enter the new code"), "{error}");
}

#[tokio::test]
async fn unreachable_token_endpoint() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let authority = url::Url::parse(&format!("http://127.0.0.1:{port}")).unwrap();
    let endpoints = OAuthEndpoints::azure(&authority, TENANT).unwrap();
    let source = ClientCredentials::new(
        endpoints,
        "app-id".to_string(),
        Secret::new(CLIENT_SECRET),
        transport(),
    );
    let error = source.token(SCOPE).await.expect_err("nothing listens");
    assert!(
        error
            .to_string()
            .contains("could not reach the token endpoint"),
        "{error}"
    );
}

#[tokio::test]
async fn sign_in_before_short_run() {
    let server = device_code_server(vec![
        oauth_error("authorization_pending", "pending"),
        Reply::json(200, &json!({"access_token": "device-token", "refresh_token": "refresh-1", "expires_in": 3600})),
    ])
    .await;
    let flow = DeviceCodeFlow::new(
        endpoints(&server),
        "public-client".to_string(),
        transport(),
        Arc::new(|_: &DeviceCodePrompt| {}),
    )
    .with_timing(fast_timing());
    let mut config = LogAnalyticsConfig::new("ws");
    config.endpoint = server.url();
    let client = LogAnalytics::new(
        config,
        Credential::Bearer(Arc::new(TokenCache::new(flow))),
        &test_http_options(),
    )
    .unwrap();

    client
        .sign_in(&tokio_util::sync::CancellationToken::new())
        .await
        .expect("signed in");
    let requests_after_sign_in = server.requests().len();
    assert_eq!(
        requests_after_sign_in, 3,
        "device code, one pending poll, one granted poll"
    );

    // The run reuses the cached token, so its short timeout covers only the query. The device
    // code fake replies to the query path with an OAuth error, which is enough to see the header.
    let mut request = QueryRequest::new("T");
    request.options.timeout = Duration::from_millis(500);
    let error = client
        .run(&request)
        .await
        .expect_err("the fake does not serve queries");
    let requests = server.requests();
    assert_eq!(
        requests.len(),
        requests_after_sign_in + 1,
        "no new sign-in request"
    );
    let query = requests.last().unwrap();
    assert_eq!(query.path(), "/v1/workspaces/ws/query");
    assert_eq!(query.header("authorization"), Some("Bearer device-token"));
    assert!(
        !matches!(error, quarry_providers::ProviderError::Timeout { .. }),
        "{error:?}"
    );
}

#[tokio::test]
async fn sign_in_cancelled() {
    let server =
        device_code_server(vec![oauth_error("authorization_pending", "pending"); 1000]).await;
    let flow = DeviceCodeFlow::new(
        endpoints(&server),
        "public-client".to_string(),
        transport(),
        Arc::new(|_: &DeviceCodePrompt| {}),
    )
    .with_timing(fast_timing());
    let mut config = LogAnalyticsConfig::new("ws");
    config.endpoint = server.url();
    let client = LogAnalytics::new(
        config,
        Credential::Bearer(Arc::new(TokenCache::new(flow))),
        &test_http_options(),
    )
    .unwrap();

    let cancel = tokio_util::sync::CancellationToken::new();
    let trigger = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(150)).await;
        trigger.cancel();
    });
    let error = client.sign_in(&cancel).await.expect_err("cancelled");
    assert!(
        matches!(error, quarry_providers::ProviderError::Cancelled),
        "{error:?}"
    );
}
