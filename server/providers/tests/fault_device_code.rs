//! Faults of the device-code sign-in (RFC 8628) against a fake Entra endpoint on 127.0.0.1: a
//! sign-in that stays pending until the code expires, `slow_down` replies, `expired_token`, and
//! bodies that are not what the flow expects. Each ends with a clear error, within the code's
//! lifetime, after a bounded number of polls.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{FakeServer, Reply, test_http_options};
use quarry_providers::auth::{
    DeviceCodeFlow, DeviceCodePrompt, OAuthEndpoints, PollTiming, TokenSource,
};
use quarry_providers::http::Transport;
use serde_json::json;

const TENANT: &str = "contoso.onmicrosoft.com";
const SCOPE: &str = "https://api.loganalytics.io/.default";

fn oauth_error(code: &str) -> Reply {
    Reply::json(
        400,
        &json!({"error": code, "error_description": format!("AADSTS: {code}\nTrace ID: 1")}),
    )
}

fn device_code_reply(expires_in: u64) -> Reply {
    Reply::json(
        200,
        &json!({
            "user_code": "FJ7K-2QWM",
            "device_code": "device-code-abc",
            "verification_uri": "https://microsoft.com/devicelogin",
            "expires_in": expires_in,
            "interval": 1,
        }),
    )
}

/// A server that issues a code valid for `expires_in` seconds and replies to every poll with `poll`.
async fn server(
    expires_in: u64,
    poll: impl Fn(usize) -> Reply + Send + Sync + 'static,
) -> FakeServer {
    let polls = Arc::new(Mutex::new(0usize));
    FakeServer::start(move |request, _| {
        if request.path().ends_with("/devicecode") {
            return device_code_reply(expires_in);
        }
        let mut count = polls.lock().unwrap();
        *count += 1;
        poll(*count)
    })
    .await
}

fn flow(server: &FakeServer, timing: PollTiming) -> DeviceCodeFlow {
    DeviceCodeFlow::new(
        OAuthEndpoints::azure(&server.url(), TENANT).expect("endpoints"),
        "public-client".to_string(),
        Transport::new(&test_http_options()).expect("transport"),
        Arc::new(|_: &DeviceCodePrompt| {}),
    )
    .with_timing(timing)
}

fn polls(server: &FakeServer) -> usize {
    server
        .requests()
        .iter()
        .filter(|request| request.path().ends_with("/token"))
        .count()
}

#[tokio::test]
async fn pending_forever_ends_at_expiry() {
    let server = server(1, |_| oauth_error("authorization_pending")).await;
    let flow = flow(
        &server,
        PollTiming {
            interval_override: Some(Duration::from_millis(50)),
            slow_down_increment: Duration::from_millis(50),
        },
    );
    let started = Instant::now();
    let error = flow.token(SCOPE).await.expect_err("never approved");
    let elapsed = started.elapsed();
    assert!(error.to_string().contains("device code expired"), "{error}");
    assert!(error.to_string().contains("enter the new code"), "{error}");
    assert!(
        elapsed >= Duration::from_millis(900),
        "gave up early: {elapsed:?}"
    );
    assert!(
        elapsed < Duration::from_secs(5),
        "ran past the expiry: {elapsed:?}"
    );
    // One second at one poll per 50 ms: about 20 polls, never more.
    let count = polls(&server);
    assert!((5..=21).contains(&count), "{count} polls");
}

#[tokio::test]
async fn slow_down_stops_at_expiry() {
    // Waits of 200 ms, then 1.7 s after the first `slow_down`, then 3.2 s after the second. The
    // third wait would end long after the code's 2-second lifetime, so the flow stops at the
    // expiry instead of sleeping on.
    let server = server(2, |_| oauth_error("slow_down")).await;
    let flow = flow(
        &server,
        PollTiming {
            interval_override: Some(Duration::from_millis(200)),
            slow_down_increment: Duration::from_millis(1500),
        },
    );
    let started = Instant::now();
    let error = flow.token(SCOPE).await.expect_err("never approved");
    let elapsed = started.elapsed();
    assert!(error.to_string().contains("device code expired"), "{error}");
    assert!(
        elapsed >= Duration::from_millis(1900),
        "gave up early: {elapsed:?}"
    );
    assert!(
        elapsed < Duration::from_millis(3000),
        "slept past the expiry: {elapsed:?}"
    );

    let requests = server.requests();
    let token_polls: Vec<_> = requests
        .iter()
        .filter(|request| request.path().ends_with("/token"))
        .collect();
    assert_eq!(token_polls.len(), 2);
    let gap = token_polls[1].received_at - token_polls[0].received_at;
    assert!(
        gap >= Duration::from_millis(1700),
        "waited {gap:?} after slow_down"
    );
}

#[tokio::test]
async fn expired_token_stops_at_once() {
    let server = server(900, |count| {
        if count == 1 {
            oauth_error("authorization_pending")
        } else {
            oauth_error("expired_token")
        }
    })
    .await;
    let flow = flow(
        &server,
        PollTiming {
            interval_override: Some(Duration::from_millis(20)),
            slow_down_increment: Duration::from_millis(20),
        },
    );
    let error = flow.token(SCOPE).await.expect_err("expired");
    assert!(error.to_string().contains("device code expired"), "{error}");
    assert_eq!(polls(&server), 2, "no poll after expired_token");
}

#[tokio::test]
async fn malformed_device_code_named() {
    let server = FakeServer::start(|request, _| {
        if request.path().ends_with("/devicecode") {
            Reply::json(200, &json!({"user_code": "X", "interval": "soon"}))
        } else {
            Reply::json(500, &json!({}))
        }
    })
    .await;
    let flow = flow(&server, PollTiming::default());
    let error = flow.token(SCOPE).await.expect_err("malformed");
    assert!(
        error
            .to_string()
            .contains("device-code endpoint sent an unexpected response"),
        "{error}"
    );
    assert_eq!(polls(&server), 0, "no poll without a device code");
}

#[tokio::test]
async fn device_code_html_error_named() {
    let server = FakeServer::start(|_, _| {
        Reply::raw(502, "text/html", b"<html>Bad Gateway</html>".to_vec())
    })
    .await;
    let flow = flow(&server, PollTiming::default());
    let started = Instant::now();
    let error = flow.token(SCOPE).await.expect_err("gateway error");
    assert!(error.to_string().contains("HTTP 502"), "{error}");
    assert!(error.to_string().contains("client id"), "{error}");
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn malformed_poll_replies_are_named() {
    let cases: Vec<(Reply, &str)> = vec![
        (
            Reply::raw(200, "application/json", b"{\"access_tok".to_vec()),
            "not a token",
        ),
        (
            Reply::raw(200, "text/html", b"<html>signed in</html>".to_vec()),
            "not a token",
        ),
        (
            Reply::raw(400, "text/plain", b"bad request".to_vec()),
            "without an OAuth error",
        ),
        (
            Reply::json(200, &json!({"token_type": "Bearer"})),
            "not a token",
        ),
    ];
    for (reply, expected) in cases {
        let reply = Arc::new(reply);
        let server = server(900, {
            let reply = reply.clone();
            move |_| (*reply).clone()
        })
        .await;
        let flow = flow(
            &server,
            PollTiming {
                interval_override: Some(Duration::from_millis(20)),
                slow_down_increment: Duration::from_millis(20),
            },
        );
        let error = flow.token(SCOPE).await.expect_err("malformed");
        assert!(error.to_string().contains(expected), "{error}");
        assert_eq!(
            polls(&server),
            1,
            "a malformed reply ends the flow: {error}"
        );
    }
}

#[tokio::test]
async fn truncated_poll_reply_bounded() {
    let server = server(900, |_| {
        Reply::json(200, &json!({"access_token": "abc", "expires_in": 3600})).cut_at(5)
    })
    .await;
    let flow = flow(
        &server,
        PollTiming {
            interval_override: Some(Duration::from_millis(20)),
            slow_down_increment: Duration::from_millis(20),
        },
    );
    let started = Instant::now();
    let error = flow.token(SCOPE).await.expect_err("truncated");
    assert!(error.to_string().contains("token endpoint"), "{error}");
    assert!(started.elapsed() < Duration::from_secs(10));
    // The transport may retry a broken transfer, but only a bounded number of times.
    assert!(polls(&server) <= 3, "{} polls", polls(&server));
}
