//! A threat-intelligence provider whose HTTPS certificate no trust store accepts: a self-signed
//! certificate on 127.0.0.1. The lookup fails at once with a message that states the
//! certificate is not trusted and how to make it trusted, and sends no retries.

#[path = "../../providers/tests/fault_tls_server/mod.rs"]
mod fault_tls_server;

use std::time::{Duration, Instant};

use fault_tls_server::SelfSignedServer;
use quarry_enrichment::ti::TiConfig;
use quarry_enrichment::{IocType, LookupStatus, Observable};

/// API key of the provider. No result may contain it.
const API_KEY: &str = "ti-tls-key-91d2c4";

#[tokio::test]
async fn self_signed_certificate_not_trusted() {
    let server = SelfSignedServer::start().await;
    let config: TiConfig = toml::from_str(&format!(
        r#"
cache = false
[providers.abuseipdb]
api_key = "{API_KEY}"
base_url = "{}"
timeout_seconds = 20
max_retries = 2
"#,
        server.url()
    ))
    .expect("test configuration parses");
    let enricher = config.build(None).expect("test configuration builds");

    let started = Instant::now();
    let mut results = enricher
        .lookup(&Observable::new("185.220.101.4", IocType::Ipv4))
        .await;
    let elapsed = started.elapsed();

    assert_eq!(results.len(), 1, "{results:?}");
    let result = results.remove(0);
    assert_eq!(result.status, LookupStatus::Failed, "{result:?}");
    let message = result.message.clone().unwrap_or_default();
    assert!(message.contains("certificate is not trusted"), "{message}");
    assert!(message.contains("SSL_CERT_FILE"), "{message}");
    assert!(!format!("{result:?}").contains(API_KEY), "{result:?}");
    assert_eq!(server.connections(), 1, "{message}");
    // This bound only catches a hang, because a handshake on 127.0.0.1 takes milliseconds.
    assert!(elapsed < Duration::from_secs(10), "{elapsed:?}");
}
