//! Network and protocol faults against `quarry setup geoip`'s download from a configurable npm
//! registry: refused connections, an unresolvable host, TLS against a plain-TCP server, stalls,
//! 5xx, malformed metadata and an endless body. Each case checks the error and its message,
//! that the registry received one request (the download does not retry), and that the
//! download ended within its timeout plus a margin, a hang guard rather than a speed test.

#[path = "../../providers/tests/fault_server/mod.rs"]
mod fault_server;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use fault_server::{Fault, FaultServer, refused_url, unresolvable_url};
use quarry_enrichment::setup::{SetupError, SetupOptions, setup_geoip};
use url::Url;

/// Slack on top of the download timeout before a run counts as hung.
const HANG_MARGIN: Duration = Duration::from_secs(5);

fn destination(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("quarry-fault-setup-{name}-{}", std::process::id()))
}

/// Runs the setup against `registry` with `timeout` and returns its error.
async fn failing_setup(name: &str, registry: &str, timeout: Duration) -> SetupError {
    let options = SetupOptions {
        registry: Url::parse(registry).unwrap(),
        destination: destination(name),
        timeout,
    };
    let started = Instant::now();
    let outcome = setup_geoip(&options).await;
    let elapsed = started.elapsed();
    let _ = std::fs::remove_dir_all(&options.destination);
    assert!(
        elapsed < timeout + HANG_MARGIN,
        "{name}: the setup took {elapsed:?} with a {timeout:?} timeout"
    );
    assert!(
        !options.destination.join("GeoLite2-Country.mmdb").exists(),
        "{name}: a database was installed"
    );
    outcome.expect_err("the setup against a fault fails")
}

#[tokio::test]
async fn refused_registry_names_cause() {
    let error = failing_setup("refused", &refused_url(), Duration::from_secs(10)).await;
    let message = error.to_string().to_lowercase();
    assert!(matches!(error, SetupError::Download { .. }), "{error:?}");
    assert!(message.contains("connection refused"), "{message}");
}

#[tokio::test]
async fn unresolvable_registry_names_cause() {
    let error = failing_setup("dns", &unresolvable_url(), Duration::from_secs(10)).await;
    assert!(matches!(error, SetupError::Download { .. }), "{error:?}");
    assert!(error.to_string().contains("dns error"), "{error}");
}

#[tokio::test]
async fn tls_to_plain_registry_fails() {
    let server = FaultServer::start(|_| Fault::json(200, "{}"));
    let error = failing_setup("tls", &server.https_url(), Duration::from_secs(10)).await;
    assert!(matches!(error, SetupError::Download { .. }), "{error:?}");
    assert_eq!(server.requests(), 0);
    assert_eq!(server.tls_handshakes(), 1);
}

#[tokio::test]
async fn stalled_registry_times_out() {
    let stalls = [
        Fault::StallBeforeHeaders,
        Fault::StallInBody {
            status: 200,
            announced: 1000,
            sent: b"{\"version\": ".to_vec(),
        },
    ];
    for (index, fault) in stalls.into_iter().enumerate() {
        let server = FaultServer::start(move |_| fault.clone());
        let name = format!("stall-{index}");
        let error = failing_setup(&name, &server.http_url(), Duration::from_secs(1)).await;
        let message = error.to_string();
        assert!(matches!(error, SetupError::Download { .. }), "{error:?}");
        assert!(message.contains("timed out"), "{name}: {message}");
        assert_eq!(server.requests(), 1, "{name}");
    }
}

#[tokio::test]
async fn registry_errors_not_retried() {
    for status in [404, 429, 500, 503] {
        let server = FaultServer::start(move |_| Fault::json(status, "{}"));
        let error = failing_setup("status", &server.http_url(), Duration::from_secs(10)).await;
        assert!(
            error.to_string().contains(&format!("HTTP {status}")),
            "{error}"
        );
        assert_eq!(server.requests(), 1, "HTTP {status}");
    }
}

#[tokio::test]
async fn malformed_metadata_named() {
    for body in [
        "{\"version\": ",
        "[]",
        "<html>login</html>",
        "{\"version\": \"1\"}",
    ] {
        let server = FaultServer::start(move |_| Fault::json(200, body));
        let error = failing_setup("metadata", &server.http_url(), Duration::from_secs(10)).await;
        assert!(
            matches!(error, SetupError::Metadata { .. }),
            "{body}: {error:?}"
        );
        assert!(error.to_string().contains("invalid"), "{error}");
    }
}

#[tokio::test]
async fn endless_download_stops_at_limit() {
    for announced in [true, false] {
        let server = FaultServer::start(move |_| Fault::Endless {
            status: 200,
            announced,
        });
        let error = failing_setup("endless", &server.http_url(), Duration::from_secs(60)).await;
        assert!(
            error.to_string().contains("larger than 268435456 bytes"),
            "announced {announced}: {error}"
        );
        assert_eq!(server.requests(), 1);
    }
}
