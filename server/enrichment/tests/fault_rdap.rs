//! Network and protocol faults against the RDAP (whois) client. Each case checks the error and
//! its message, the number of requests the fake server received, and that the lookup ended
//! within its timeout plus a margin, a hang guard rather than a speed test. Private addresses
//! and internal names must not reach the RDAP server at all.

#[path = "../../providers/tests/fault_server/mod.rs"]
mod fault_server;

use std::time::{Duration, Instant};

use fault_server::{Fault, FaultServer, FullBacklog, refused_url, unresolvable_url};
use quarry_enrichment::rdap::{RdapClient, RdapConfig, RdapError};
use quarry_enrichment::ti::PrivacyGuard;
use quarry_enrichment::{IocType, Observable};
use url::Url;

/// Slack on top of the worst-case time (three timeouts and the retry waits) before a lookup
/// counts as hung.
const HANG_MARGIN: Duration = Duration::from_secs(5);

fn client(url: &str, timeout_seconds: f64) -> RdapClient {
    let config = RdapConfig {
        enabled: true,
        default_base_url: Some(Url::parse(&format!("{url}/")).unwrap()),
        timeout_seconds: Some(timeout_seconds),
        ..RdapConfig::default()
    };
    RdapClient::new(&config, &PrivacyGuard::default())
}

async fn failing_lookup(url: &str, timeout_seconds: f64, value: &str, kind: IocType) -> RdapError {
    let started = Instant::now();
    let outcome = client(url, timeout_seconds)
        .lookup(&Observable::new(value, kind))
        .await;
    let elapsed = started.elapsed();
    // The TI HTTP layer allows two retries after 502-504 and 429.
    let bound = Duration::from_secs_f64(3.0 * timeout_seconds) + HANG_MARGIN;
    assert!(elapsed < bound, "{value}: the lookup took {elapsed:?}");
    outcome.expect_err("the lookup against a fault fails")
}

#[tokio::test]
async fn network_failures_named() {
    let error = failing_lookup(&refused_url(), 5.0, "8.8.8.8", IocType::Ipv4).await;
    assert!(matches!(error, RdapError::Failed { .. }), "{error:?}");
    assert!(
        error
            .to_string()
            .to_lowercase()
            .contains("connection refused"),
        "{error}"
    );

    let error = failing_lookup(&unresolvable_url(), 5.0, "8.8.8.8", IocType::Ipv4).await;
    assert!(error.to_string().contains("dns error"), "{error}");

    let server = FaultServer::start(|_| Fault::json(200, "{}"));
    let error = failing_lookup(&server.https_url(), 5.0, "8.8.8.8", IocType::Ipv4).await;
    assert!(matches!(error, RdapError::Failed { .. }), "{error:?}");
    assert_eq!(server.requests(), 0);
}

#[tokio::test]
async fn phase_timeouts() {
    let backlog = FullBacklog::new();
    let error = failing_lookup(&backlog.http_url(), 0.5, "8.8.8.8", IocType::Ipv4).await;
    assert!(matches!(error, RdapError::TimedOut { .. }), "{error:?}");

    let stalls = [
        Fault::StallBeforeHeaders,
        Fault::StallInBody {
            status: 200,
            announced: 500,
            sent: b"{\"objectClassName\": ".to_vec(),
        },
    ];
    for fault in stalls {
        let server = FaultServer::start(move |_| fault.clone());
        let error = failing_lookup(&server.http_url(), 1.0, "example.com", IocType::Dns).await;
        assert!(matches!(error, RdapError::TimedOut { .. }), "{error:?}");
        assert_eq!(server.requests(), 1);
    }
}

#[tokio::test]
async fn error_statuses_bounded() {
    let cases = [
        (429, 3, "429"),
        (503, 3, "unavailable"),
        (500, 1, "HTTP 500"),
        (400, 1, "HTTP 400"),
    ];
    for (status, expected_requests, words) in cases {
        let server =
            FaultServer::start(move |_| Fault::json(status, "{}").with_header("Retry-After", "0"));
        let error = failing_lookup(&server.http_url(), 5.0, "8.8.8.8", IocType::Ipv4).await;
        assert!(error.to_string().contains(words), "HTTP {status}: {error}");
        assert_eq!(server.requests(), expected_requests, "HTTP {status}");
    }
}

#[tokio::test]
async fn bad_bodies_named() {
    let bodies = [
        Fault::json(200, "{\"objectClassName\": "),
        Fault::text(200, "text/html", "<html>captcha</html>"),
        Fault::Truncated {
            status: 200,
            body: br#"{"objectClassName": "ip network", "handle": "NET-8-8-8-0-1"}"#.to_vec(),
            cut: 10,
        },
        Fault::Endless {
            status: 200,
            announced: false,
        },
    ];
    for fault in bodies {
        let server = FaultServer::start(move |_| fault.clone());
        let error = failing_lookup(&server.http_url(), 10.0, "8.8.8.8", IocType::Ipv4).await;
        assert!(matches!(error, RdapError::Failed { .. }), "{error:?}");
        assert_eq!(server.requests(), 1);
    }
}

#[tokio::test]
async fn private_values_not_sent() {
    let server = FaultServer::start(|_| Fault::json(404, "{}"));
    let rdap = client(&server.http_url(), 5.0);
    let private = [
        ("10.0.0.1", IocType::Ipv4),
        ("192.168.1.1", IocType::Ipv4),
        ("fd00::1", IocType::Ipv6),
        ("printer.local", IocType::Dns),
        ("nas.home.arpa", IocType::Dns),
        ("fileserver", IocType::Dns),
    ];
    for (value, kind) in private {
        let error = rdap
            .lookup(&Observable::new(value, kind))
            .await
            .expect_err("a private value is blocked");
        assert!(
            matches!(error, RdapError::Blocked { .. }),
            "{value}: {error:?}"
        );
    }
    assert_eq!(server.requests(), 0);
}
