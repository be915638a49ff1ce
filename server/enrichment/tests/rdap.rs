//! RDAP whois lookups against a fake RDAP server on 127.0.0.1: IP and domain records,
//! per-TLD base URLs, 404, 429, timeouts, malformed bodies, the privacy guard and the disk cache.

mod common;

use std::time::Duration;

use common::{FakeServer, Response, temp_dir};
use quarry_enrichment::rdap::{RdapClient, RdapConfig, RdapError};
use quarry_enrichment::ti::PrivacyGuard;
use quarry_enrichment::{IocType, Observable};
use serde_json::json;
use url::Url;

fn ip_network() -> serde_json::Value {
    json!({
        "objectClassName": "ip network",
        "handle": "NET-185-220-100-0-1",
        "startAddress": "185.220.100.0",
        "endAddress": "185.220.101.255",
        "name": "TOR-EXIT-NET",
        "country": "DE",
        "cidr0_cidrs": [{"v4prefix": "185.220.100.0", "length": 23}],
        "events": [{"eventAction": "last changed", "eventDate": "2024-01-02T03:04:05Z"}],
        "entities": [{
            "handle": "ORG-ZA1-RIPE",
            "roles": ["registrant"],
            "vcardArray": ["vcard", [["fn", {}, "text", "Zwiebelfreunde e.V."]]]
        }],
        "links": [{"rel": "self", "href": "https://rdap.example/ip/185.220.100.0/23"}]
    })
}

fn domain_object(name: &str) -> serde_json::Value {
    json!({
        "objectClassName": "domain",
        "ldhName": name,
        "status": ["client transfer prohibited"],
        "events": [
            {"eventAction": "registration", "eventDate": "2026-11-30T10:00:00Z"},
            {"eventAction": "expiration", "eventDate": "2027-11-30T10:00:00Z"}
        ],
        "nameservers": [{"objectClassName": "nameserver", "ldhName": "ns1.example.net"}],
        "entities": [{"roles": ["registrar"], "vcardArray": ["vcard", [["fn", {}, "text", "Example Registrar"]]]}]
    })
}

async fn rdap_server() -> FakeServer {
    FakeServer::start(|request| {
        let target = request.target.as_str();
        if target.ends_with("/ip/185.220.101.4") {
            Response::json(200, ip_network())
        } else if target.ends_with("/domain/evil-example.com") {
            Response::json(200, domain_object("evil-example.com"))
        } else if target.ends_with("/domain/xn--80ak6aa92e.com") {
            Response::json(200, domain_object("xn--80ak6aa92e.com"))
        } else if target.ends_with("/ip/8.8.4.4") {
            Response::json(429, json!({"errorCode": 429})).with_header("Retry-After", "120")
        } else if target.ends_with("/ip/9.9.9.9") {
            Response::json(200, ip_network()).with_delay(Duration::from_secs(3))
        } else if target.ends_with("/domain/broken-example.com") {
            Response::text(200, "<html>not json</html>")
        } else {
            Response::json(404, json!({"errorCode": 404, "title": "Not Found"}))
        }
    })
    .await
}

fn config_for(server: &FakeServer) -> RdapConfig {
    RdapConfig {
        enabled: true,
        default_base_url: Some(Url::parse(&server.base_url).unwrap()),
        timeout_seconds: Some(1.0),
        ..RdapConfig::default()
    }
}

#[tokio::test]
async fn ip_record_fields() {
    let server = rdap_server().await;
    let client = RdapClient::new(&config_for(&server), &PrivacyGuard::default());
    let record = client
        .lookup(&Observable::new("185.220.101.4", IocType::Ipv4))
        .await
        .unwrap();
    assert_eq!(record.object_class, "ip network");
    assert_eq!(record.name.as_deref(), Some("TOR-EXIT-NET"));
    assert_eq!(record.cidrs, ["185.220.100.0/23"]);
    assert_eq!(record.country.as_deref(), Some("DE"));
    assert_eq!(
        record.entities[0].name.as_deref(),
        Some("Zwiebelfreunde e.V.")
    );
    assert_eq!(
        record.source_url,
        format!("{}ip/185.220.101.4", server.base_url)
    );

    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].target, "/ip/185.220.101.4");
    assert!(
        requests[0]
            .header("accept")
            .is_some_and(|accept| accept.contains("application/rdap+json"))
    );
}

#[tokio::test]
async fn domain_uses_tld_base_url() {
    let default_server = rdap_server().await;
    let com_server = rdap_server().await;
    let mut config = config_for(&default_server);
    config.domain_base_urls.insert(
        ".COM".to_owned(),
        Url::parse(&format!("{}com/v1/", com_server.base_url)).unwrap(),
    );
    let client = RdapClient::new(&config, &PrivacyGuard::default());

    let record = client
        .lookup(&Observable::new("Evil-Example.com", IocType::Dns))
        .await
        .unwrap();
    assert_eq!(record.name.as_deref(), Some("evil-example.com"));
    assert_eq!(record.nameservers, ["ns1.example.net"]);
    assert_eq!(record.events[1].action, "expiration");
    assert_eq!(com_server.hits("/com/v1/domain/evil-example.com"), 1);
    assert_eq!(default_server.requests().len(), 0);

    let punycode = client
        .lookup(&Observable::new("xn--80ak6aa92e.com", IocType::Dns))
        .await
        .unwrap();
    assert_eq!(punycode.name.as_deref(), Some("xn--80ak6aa92e.com"));
}

#[tokio::test]
async fn not_found_is_reported() {
    let server = rdap_server().await;
    let client = RdapClient::new(&config_for(&server), &PrivacyGuard::default());
    let error = client
        .lookup(&Observable::new("unknown-example.org", IocType::Dns))
        .await
        .unwrap_err();
    assert_eq!(
        error,
        RdapError::NotFound {
            value: "unknown-example.org".to_owned()
        }
    );
}

#[tokio::test]
async fn rate_limit_and_timeout() {
    let server = rdap_server().await;
    let client = RdapClient::new(&config_for(&server), &PrivacyGuard::default());

    let limited = client
        .lookup(&Observable::new("8.8.4.4", IocType::Ipv4))
        .await
        .unwrap_err();
    assert!(
        matches!(limited, RdapError::RateLimited { .. }),
        "{limited:?}"
    );
    assert!(limited.to_string().contains("120"), "{limited}");

    // The 429 paused this server's client, so the timeout needs a fresh one.
    let paused = client
        .lookup(&Observable::new("9.9.9.9", IocType::Ipv4))
        .await
        .unwrap_err();
    assert!(
        matches!(paused, RdapError::RateLimited { .. }),
        "{paused:?}"
    );
    assert_eq!(server.hits("/ip/9.9.9.9"), 0);

    let client = RdapClient::new(&config_for(&server), &PrivacyGuard::default());
    let slow = client
        .lookup(&Observable::new("9.9.9.9", IocType::Ipv4))
        .await
        .unwrap_err();
    assert!(matches!(slow, RdapError::TimedOut { .. }), "{slow:?}");
}

#[tokio::test]
async fn malformed_body_fails_cleanly() {
    let server = rdap_server().await;
    let client = RdapClient::new(&config_for(&server), &PrivacyGuard::default());
    let error = client
        .lookup(&Observable::new("broken-example.com", IocType::Dns))
        .await
        .unwrap_err();
    assert!(matches!(error, RdapError::Failed { .. }), "{error:?}");
    assert!(error.to_string().contains("not valid JSON"), "{error}");
}

#[tokio::test]
async fn disabled_and_unsupported_send_nothing() {
    let server = rdap_server().await;
    let mut config = config_for(&server);
    config.enabled = false;
    let disabled = RdapClient::new(&config, &PrivacyGuard::default());
    let error = disabled
        .lookup(&Observable::new("185.220.101.4", IocType::Ipv4))
        .await
        .unwrap_err();
    assert_eq!(error, RdapError::NotEnabled);

    let enabled = RdapClient::new(&config_for(&server), &PrivacyGuard::default());
    let hash = Observable::new("d41d8cd98f00b204e9800998ecf8427e", IocType::Md5);
    let error = enabled.lookup(&hash).await.unwrap_err();
    assert!(
        matches!(error, RdapError::UnsupportedType { .. }),
        "{error:?}"
    );
    assert_eq!(server.requests().len(), 0);
}

#[tokio::test]
async fn privacy_guard_blocks_internal() {
    let server = rdap_server().await;
    let guard = PrivacyGuard {
        internal_domains: vec!["corp.example.com".to_owned()],
        internal_hosts: vec!["dc01".to_owned()],
    };
    let client = RdapClient::new(&config_for(&server), &guard);
    let private = [
        ("10.0.0.1", IocType::Ipv4),
        ("192.168.1.10", IocType::Ipv4),
        ("127.0.0.1", IocType::Ipv4),
        ("169.254.169.254", IocType::Ipv4),
        ("100.64.0.1", IocType::Ipv4),
        ("fd12:3456:789a::1", IocType::Ipv6),
        ("fe80::1", IocType::Ipv6),
        ("vpn.corp.example.com", IocType::Dns),
        ("corp.example.com", IocType::Dns),
        ("dc01.example.org", IocType::Dns),
        ("printer.local", IocType::Dns),
    ];
    for (value, ioc_type) in private {
        let error = client
            .lookup(&Observable::new(value, ioc_type))
            .await
            .unwrap_err();
        assert!(
            matches!(error, RdapError::Blocked { .. }),
            "{value}: {error:?}"
        );
    }
    assert_eq!(server.requests().len(), 0, "{:?}", server.requests());

    // A public control shows that the server was reachable all along.
    client
        .lookup(&Observable::new("185.220.101.4", IocType::Ipv4))
        .await
        .unwrap();
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn second_lookup_uses_cache() {
    let server = rdap_server().await;
    let folder = temp_dir("rdap-cache");
    let config = config_for(&server);
    let ip = Observable::new("185.220.101.4", IocType::Ipv4);
    let unknown = Observable::new("unknown-example.org", IocType::Dns);
    let broken = Observable::new("broken-example.com", IocType::Dns);

    let first = RdapClient::new(&config, &PrivacyGuard::default()).with_cache_folder(Some(&folder));
    let fresh = first.lookup(&ip).await.unwrap();
    assert!(!fresh.cached);
    first.lookup(&unknown).await.unwrap_err();
    first.lookup(&broken).await.unwrap_err();

    // A new client reads the responses that the first one wrote to disk.
    let second =
        RdapClient::new(&config, &PrivacyGuard::default()).with_cache_folder(Some(&folder));
    let cached = second.lookup(&ip).await.unwrap();
    assert!(cached.cached);
    assert_eq!(cached.name, fresh.name);
    assert_eq!(cached.cidrs, fresh.cidrs);
    assert_eq!(cached.entities, fresh.entities);
    assert_eq!(cached.source_url, fresh.source_url);
    assert_eq!(server.hits("/ip/185.220.101.4"), 1);

    // "No record" is cached as well. A failure is not, so the server is asked again.
    let error = second.lookup(&unknown).await.unwrap_err();
    assert!(matches!(error, RdapError::NotFound { .. }), "{error:?}");
    assert_eq!(server.hits("/domain/unknown-example.org"), 1);
    second.lookup(&broken).await.unwrap_err();
    assert_eq!(server.hits("/domain/broken-example.com"), 2);

    // The serialized record leaves out `cached` unless it is set.
    let json = serde_json::to_value(&fresh).unwrap();
    assert!(json.get("cached").is_none(), "{json}");
    assert_eq!(serde_json::to_value(&cached).unwrap()["cached"], true);
    let _ = std::fs::remove_dir_all(&folder);
}

#[tokio::test]
async fn cache_off_asks_every_time() {
    let server = rdap_server().await;
    let folder = temp_dir("rdap-no-cache");
    let ip = Observable::new("185.220.101.4", IocType::Ipv4);

    let mut config = config_for(&server);
    config.cache = false;
    let disabled =
        RdapClient::new(&config, &PrivacyGuard::default()).with_cache_folder(Some(&folder));
    disabled.lookup(&ip).await.unwrap();
    disabled.lookup(&ip).await.unwrap();
    assert_eq!(server.hits("/ip/185.220.101.4"), 2);

    // Without a folder (`quarry enrich --no-cache`) nothing is cached either.
    let no_folder =
        RdapClient::new(&config_for(&server), &PrivacyGuard::default()).with_cache_folder(None);
    no_folder.lookup(&ip).await.unwrap();
    no_folder.lookup(&ip).await.unwrap();
    assert_eq!(server.hits("/ip/185.220.101.4"), 4);
    assert!(std::fs::read_dir(&folder).unwrap().next().is_none());
    let _ = std::fs::remove_dir_all(&folder);
}
