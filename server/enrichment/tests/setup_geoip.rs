//! `setup_geoip` against a fake npm registry on 127.0.0.1 that serves tarballs built here, in
//! the layout of the real ip-location-db packages.

mod common;

use std::net::IpAddr;
use std::time::Duration;

use base64::Engine;
use common::{FakeServer, Response, temp_dir};
use flate2::Compression;
use flate2::write::GzEncoder;
use quarry_enrichment::geoip::{GeoIp, GeoIpConfig};
use quarry_enrichment::mmdb_writer::{MmdbValue, MmdbWriter};
use quarry_enrichment::setup::{ASN_DATABASE, SetupError, SetupOptions, setup_geoip};
use serde_json::json;
use sha2::{Digest, Sha512};
use url::Url;

/// Builds a gzip-compressed npm tarball with `files` under `package/`.
fn tarball(files: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let mut builder = tar::Builder::new(GzEncoder::new(Vec::new(), Compression::fast()));
    for (name, bytes) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder
            .append_data(&mut header, format!("package/{name}"), bytes.as_slice())
            .unwrap();
    }
    builder.into_inner().unwrap().finish().unwrap()
}

fn integrity(bytes: &[u8]) -> String {
    format!(
        "sha512-{}",
        base64::engine::general_purpose::STANDARD.encode(Sha512::digest(bytes))
    )
}

fn country_tarball() -> Vec<u8> {
    let mut writer = MmdbWriter::new("geo-whois-asn-country", "test", 1_700_000_000);
    let australia = MmdbValue::map([("country_code", MmdbValue::string("AU"))]);
    writer
        .insert("1.0.0.0".parse().unwrap(), 24, &australia)
        .unwrap();
    let japan = MmdbValue::map([("country_code", MmdbValue::string("JP"))]);
    writer
        .insert("2001:200::".parse().unwrap(), 23, &japan)
        .unwrap();
    tarball(&[
        (
            "geo-whois-asn-country-ipv4.mmdb",
            writer.to_bytes().unwrap(),
        ),
        ("LICENSE", b"CC0 1.0 Universal".to_vec()),
        ("package.json", b"{}".to_vec()),
    ])
}

fn asn_tarball() -> Vec<u8> {
    let ipv4 =
        "1.0.0.0,1.0.0.255,13335,\"Cloudflare, Inc.\"\n1.0.4.0,1.0.7.255,38803,Gtelecom Pty Ltd\n";
    let ipv6 = "2001:200::,2001:200:1b9:ffff:ffff:ffff:ffff:ffff,2500,WIDE Project\n";
    tarball(&[
        ("asn-ipv4.csv", ipv4.as_bytes().to_vec()),
        ("asn-ipv6.csv", ipv6.as_bytes().to_vec()),
        ("asn-ipv4-num.csv", b"16777216,16777471,13335,x\n".to_vec()),
        ("ROUTEVIEWS-LICENSE", b"CC BY 4.0".to_vec()),
    ])
}

/// Starts a registry that serves both packages; `corrupt` serves a wrong integrity value.
async fn registry(corrupt: bool) -> FakeServer {
    let country = country_tarball();
    let asn = asn_tarball();
    let listener_url = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let url_for_handler = std::sync::Arc::clone(&listener_url);
    let server = FakeServer::start(move |request| {
        let base = url_for_handler.lock().unwrap().clone();
        let target = request.target.as_str();
        let metadata = |name: &str, file: &str, bytes: &[u8]| {
            let hash = if corrupt {
                integrity(b"something else")
            } else {
                integrity(bytes)
            };
            Response::json(
                200,
                json!({"name": name, "version": "2.3.2026061719",
                    "dist": {"tarball": format!("{base}tarballs/{file}"), "integrity": hash, "shasum": "ignored"}}),
            )
        };
        if target == "/@ip-location-db%2fgeo-whois-asn-country-mmdb/latest" {
            metadata("@ip-location-db/geo-whois-asn-country-mmdb", "country.tgz", &country)
        } else if target == "/@ip-location-db%2fasn/latest" {
            metadata("@ip-location-db/asn", "asn.tgz", &asn)
        } else if target == "/tarballs/country.tgz" {
            Response::bytes(200, country.clone())
        } else if target == "/tarballs/asn.tgz" {
            Response::bytes(200, asn.clone())
        } else {
            Response::json(404, json!({"error": "Not found"}))
        }
    })
    .await;
    *listener_url.lock().unwrap() = server.base_url.clone();
    server
}

fn options(server: &FakeServer, name: &str) -> SetupOptions {
    SetupOptions {
        registry: Url::parse(&server.base_url).unwrap(),
        destination: temp_dir(name).join("geoip"),
        timeout: Duration::from_secs(10),
    }
}

#[tokio::test]
async fn setup_installs_databases() {
    let server = registry(false).await;
    let options = options(&server, "setup");
    let report = setup_geoip(&options).await.unwrap();
    assert_eq!(report.asn_ranges, 3);
    assert_eq!(report.packages[0].1, "2.3.2026061719");

    let folder = &options.destination;
    assert!(folder.join("geo-whois-asn-country-ipv4.mmdb").is_file());
    assert!(folder.join(ASN_DATABASE).is_file());
    assert!(folder.join("LICENSE").is_file());
    assert!(folder.join("asn-ROUTEVIEWS-LICENSE").is_file());
    assert!(!folder.join("package.json").exists());
    assert!(!folder.join("asn-ipv4-num.csv").exists());
    let built = maxminddb::Reader::open_readfile(folder.join(ASN_DATABASE)).unwrap();
    built
        .verify()
        .expect("the built ASN database passes the reader's format check");
    let sources = std::fs::read_to_string(folder.join("SOURCES.json")).unwrap();
    assert!(sources.contains("CC BY 4.0"), "{sources}");

    let geoip = GeoIp::discover(&GeoIpConfig {
        folders: vec![folder.clone()],
        msticpy: false,
        user_cache: false,
        ..GeoIpConfig::default()
    })
    .unwrap();
    let address: IpAddr = "1.0.0.1".parse().unwrap();
    let location = geoip.lookup(address).location.unwrap();
    assert_eq!(location.country_code.as_deref(), Some("AU"));
    assert_eq!(location.asn, Some(13335));
    assert_eq!(
        location.as_organization.as_deref(),
        Some("Cloudflare, Inc.")
    );

    let gtelecom = geoip.lookup("1.0.7.255".parse().unwrap()).location.unwrap();
    assert_eq!(gtelecom.asn, Some(38803));
    let wide = geoip
        .lookup("2001:200:1b9::1".parse().unwrap())
        .location
        .unwrap();
    assert_eq!(wide.asn, Some(2500));
    assert_eq!(wide.country_code.as_deref(), Some("JP"));

    let paths: Vec<String> = server
        .requests()
        .into_iter()
        .map(|request| request.target)
        .collect();
    assert_eq!(paths.len(), 4, "{paths:?}");
}

#[tokio::test]
async fn integrity_mismatch_writes_nothing() {
    let server = registry(true).await;
    let options = options(&server, "setup-corrupt");
    let error = setup_geoip(&options).await.unwrap_err();
    assert!(matches!(error, SetupError::Integrity { .. }), "{error}");
    assert!(error.to_string().contains("geo-whois-asn-country-mmdb"));
    assert!(!options.destination.exists());
}

#[tokio::test]
async fn missing_package_reports_url() {
    let server = FakeServer::start(|_| Response::json(404, json!({"error": "Not found"}))).await;
    let options = options(&server, "setup-missing");
    let error = setup_geoip(&options).await.unwrap_err().to_string();
    assert!(
        error.contains("geo-whois-asn-country-mmdb/latest"),
        "{error}"
    );
    assert!(error.contains("404"), "{error}");
}
