//! The privacy guard under every combination of its settings: no private or internal indicator
//! may reach a third-party provider. Every remote provider points at one fake API on 127.0.0.1,
//! which counts the requests it receives.
//!
//! The combinations are the internal-domain and internal-host lists (empty, set, and set in
//! unusual spellings), the result cache (off, or on with an empty folder), and both lookup entry
//! points. Indicators come with their type given, and also classified from text the way
//! `quarry enrich` and the editor classify them. A public control indicator checks that the
//! fake API is reachable, so the zero counts mean something.

#[path = "../../providers/tests/fault_server/mod.rs"]
mod fault_server;

use std::sync::Arc;
use std::time::Duration;

use fault_server::{Fault, FaultServer};
use quarry_enrichment::ti::TiConfig;
use quarry_enrichment::{Enricher, IocType, LookupStatus, Observable};

/// Indicators that no setting lets out: addresses that are not public, names without a public
/// suffix, and file paths, in several spellings.
const ALWAYS_PRIVATE: &[(&str, IocType)] = &[
    ("10.0.0.1", IocType::Ipv4),
    ("10.255.255.255", IocType::Ipv4),
    ("172.16.5.4", IocType::Ipv4),
    ("192.168.1.10", IocType::Ipv4),
    ("127.0.0.1", IocType::Ipv4),
    ("169.254.169.254", IocType::Ipv4),
    ("100.64.0.1", IocType::Ipv4),
    ("0.0.0.0", IocType::Ipv4),
    ("255.255.255.255", IocType::Ipv4),
    ("224.0.0.251", IocType::Ipv4),
    ("192.0.2.1", IocType::Ipv4),
    ("::1", IocType::Ipv6),
    ("fe80::1", IocType::Ipv6),
    ("fd12:3456:789a::1", IocType::Ipv6),
    ("FD00::ABCD", IocType::Ipv6),
    ("::ffff:10.0.0.1", IocType::Ipv6),
    ("::ffff:192.168.0.1", IocType::Ipv6),
    ("::", IocType::Ipv6),
    ("ff02::1", IocType::Ipv6),
    ("2001:db8::1", IocType::Ipv6),
    ("fileserver", IocType::Dns),
    ("printer.local", IocType::Dns),
    ("printer.local.", IocType::Dns),
    ("PRINTER.LOCAL", IocType::Dns),
    ("host.corp", IocType::Dns),
    ("nas.home.arpa", IocType::Dns),
    ("db.internal", IocType::Dns),
    ("1.0.0.10.in-addr.arpa", IocType::Dns),
    ("gateway.lan", IocType::Dns),
    ("localhost", IocType::Dns),
    ("http://10.1.1.1/admin", IocType::Url),
    ("http://[fd00::1]/", IocType::Url),
    ("http://[::ffff:10.0.0.1]/", IocType::Url),
    ("https://printer.local/status", IocType::Url),
    ("http://user:pw@192.168.0.1:8080/x", IocType::Url),
    ("http://evil.example.net@10.0.0.1/", IocType::Url),
    ("http://167772161/", IocType::Url),
    ("http://0x0a000001/", IocType::Url),
    ("http://localhost:8080/", IocType::Url),
    ("alice@fileserver", IocType::Email),
    ("bob@printer.local", IocType::Email),
    (r"C:\Users\alice\secret.docx", IocType::WindowsPath),
    ("/home/alice/.ssh/id_rsa", IocType::LinuxPath),
];

/// Names that are internal only when the configuration lists them.
const CONFIGURED_INTERNAL: &[(&str, IocType)] = &[
    ("corp.example.com", IocType::Dns),
    ("files.corp.example.com", IocType::Dns),
    ("FILES.CORP.EXAMPLE.COM", IocType::Dns),
    ("files.corp.example.com.", IocType::Dns),
    ("https://wiki.corp.example.com/page?q=1", IocType::Url),
    ("alice@corp.example.com", IocType::Email),
    ("dc01.example.net", IocType::Dns),
    ("DC01.example.net", IocType::Dns),
    ("http://dc01.example.net/", IocType::Url),
    ("admin@dc01.example.net", IocType::Email),
];

/// A public indicator that every setting lets through.
const PUBLIC: (&str, IocType) = ("185.220.101.4", IocType::Ipv4);

/// The privacy part of the `[ti]` table, and whether it lists the names of
/// [`CONFIGURED_INTERNAL`].
const PRIVACY_SETTINGS: &[(&str, bool)] = &[
    ("", false),
    ("[privacy]\n", false),
    (
        "[privacy]\ninternal_domains = [\"corp.example.com\"]\ninternal_hosts = [\"dc01\"]\n",
        true,
    ),
    (
        "[privacy]\ninternal_domains = [\".CORP.example.com.\"]\ninternal_hosts = [\"DC01.\"]\n",
        true,
    ),
    (
        "[privacy]\ninternal_domains = [\"corp.example.com\", \"\"]\ninternal_hosts = [\"\", \"dc01\"]\n",
        true,
    ),
    (
        "[privacy]\ninternal_domains = [\"corp.example.com\"]\n",
        false,
    ),
    ("[privacy]\ninternal_hosts = [\"dc01\"]\n", false),
];

const PROVIDERS: [&str; 5] = ["abuseipdb", "greynoise", "otx", "virustotal", "xforce"];

/// Builds an enricher with every remote provider at `url`.
fn enricher(url: &str, privacy: &str, cache_folder: Option<&std::path::Path>) -> Enricher {
    let mut text = format!("cache = {}\n", cache_folder.is_some());
    for key in PROVIDERS {
        text.push_str(&format!(
            "[providers.{key}]\napi_key = \"privacy-test-key\"\nbase_url = \"{url}\"\n\
             timeout_seconds = 5\nrequests_per_minute = 60000\nburst = 1000\nmax_retries = 0\n"
        ));
        if key == "xforce" {
            text.push_str("api_password = \"privacy-test-password\"\n");
        }
    }
    text.push_str(privacy);
    let config: TiConfig = toml::from_str(&text).unwrap_or_else(|error| panic!("{error}\n{text}"));
    config
        .build(cache_folder)
        .expect("test configuration builds")
}

/// Returns the observables of `value`: with the type given, and as the extractor classifies
/// the text, when it does.
fn observables(value: &str, ioc_type: IocType) -> Vec<Observable> {
    let mut list = vec![Observable::new(value, ioc_type)];
    if let Some(parsed) = Observable::parse(value) {
        list.push(parsed);
    }
    list
}

#[tokio::test(flavor = "multi_thread")]
async fn private_indicators_never_sent() {
    // Every request gets a 404, which the providers read as "not found".
    let server = FaultServer::start(|_| Fault::json(404, "{}"));
    let cache_root = std::env::temp_dir().join(format!("quarry-privacy-{}", std::process::id()));
    let mut combinations = 0;

    for (index, (privacy, lists_internal)) in PRIVACY_SETTINGS.iter().enumerate() {
        for use_cache in [false, true] {
            let folder = cache_root.join(format!("{index}-{use_cache}"));
            let _ = std::fs::remove_dir_all(&folder);
            let cache = use_cache.then_some(folder.as_path());
            let enricher = Arc::new(enricher(&server.http_url(), privacy, cache));
            combinations += 1;

            let mut blocked: Vec<(&str, IocType)> = ALWAYS_PRIVATE.to_vec();
            if *lists_internal {
                blocked.extend_from_slice(CONFIGURED_INTERNAL);
            }
            for (value, ioc_type) in &blocked {
                for observable in observables(value, *ioc_type) {
                    let before = server.requests();
                    let results = enricher.lookup(&observable).await;
                    let partial = enricher
                        .lookup_within(&observable, Duration::from_millis(500))
                        .await;
                    assert!(
                        partial.pending.is_empty(),
                        "{observable:?} started a background lookup: {:?}",
                        partial.pending
                    );
                    assert_eq!(
                        server.requests(),
                        before,
                        "{observable:?} reached a third-party provider with settings {privacy:?}, cache {use_cache}"
                    );
                    // No remote provider takes e-mail addresses or file paths today.
                    let takes_type = !matches!(
                        observable.ioc_type,
                        IocType::Email | IocType::WindowsPath | IocType::LinuxPath
                    );
                    assert!(
                        !takes_type || !results.is_empty(),
                        "{observable:?}: no provider applies"
                    );
                    for result in results.iter().chain(&partial.results) {
                        assert_eq!(
                            result.status,
                            LookupStatus::Blocked,
                            "{observable:?} with settings {privacy:?}: {result:?}"
                        );
                        let message = result.message.as_deref().unwrap_or_default();
                        assert!(message.starts_with("not sent to"), "{message}");
                    }
                }
            }

            // The control: a public address reaches the fake API.
            let before = server.requests();
            let (value, ioc_type) = PUBLIC;
            let results = enricher.lookup(&Observable::new(value, ioc_type)).await;
            assert!(!results.is_empty());
            assert!(
                server.requests() > before,
                "the public control indicator sent no request with settings {privacy:?}"
            );
            let _ = std::fs::remove_dir_all(&folder);
        }
    }
    let _ = std::fs::remove_dir_all(&cache_root);
    assert_eq!(combinations, PRIVACY_SETTINGS.len() * 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn configured_names_sent_without_config() {
    // The same names pass when nothing marks them internal, which shows that the blocking in
    // the test above comes from the configuration and not from the names' shape.
    let server = FaultServer::start(|_| Fault::json(404, "{}"));
    let enricher = enricher(&server.http_url(), "", None);
    for (value, ioc_type) in CONFIGURED_INTERNAL {
        if *ioc_type == IocType::Email {
            continue;
        }
        let before = server.requests();
        let results = enricher.lookup(&Observable::new(*value, *ioc_type)).await;
        assert!(
            results
                .iter()
                .all(|result| result.status != LookupStatus::Blocked),
            "{value}: {results:?}"
        );
        assert!(server.requests() > before, "{value} sent no request");
    }
}
