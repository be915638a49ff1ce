//! Generates the GeoIP database that the VS Code end-to-end test configures, so the editor's
//! hover and enrichment panel answer from it without a download, and checks that the committed
//! copy is current. Run with `QUARRY_BLESS=1` to write it again after a change here.

use std::net::IpAddr;
use std::path::PathBuf;

use quarry_enrichment::GeoIp;
use quarry_enrichment::mmdb_writer::{MmdbValue, MmdbWriter};

const FIXTURE: &str = "../../tests/vscode-e2e/fixtures/geo-city.mmdb";

/// Returns the database: 185.220.101.0/24 in Frankfurt, Germany, and 81.2.69.0/24 in London.
fn city_database() -> Vec<u8> {
    let mut writer = MmdbWriter::new(
        "GeoLite2-City",
        "Quarry end-to-end test fixture",
        1_700_000_000,
    );
    let english = |text: &str| MmdbValue::map([("en", MmdbValue::string(text))]);
    let place = |city: &str, code: &str, country: &str, latitude: f64, longitude: f64| {
        MmdbValue::map([
            ("city", MmdbValue::map([("names", english(city))])),
            (
                "country",
                MmdbValue::map([
                    ("iso_code", MmdbValue::string(code)),
                    ("names", english(country)),
                ]),
            ),
            (
                "location",
                MmdbValue::map([
                    ("latitude", MmdbValue::Double(latitude)),
                    ("longitude", MmdbValue::Double(longitude)),
                ]),
            ),
        ])
    };
    let networks = [
        (
            "185.220.101.0",
            place("Frankfurt", "DE", "Germany", 50.11, 8.68),
        ),
        (
            "81.2.69.0",
            place("London", "GB", "United Kingdom", 51.51, -0.13),
        ),
    ];
    for (network, record) in &networks {
        writer.insert(network.parse().unwrap(), 24, record).unwrap();
    }
    writer.to_bytes().unwrap()
}

#[test]
fn e2e_geoip_fixture_current() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(FIXTURE);
    let bytes = city_database();
    if std::env::var_os("QUARRY_BLESS").is_some() {
        std::fs::write(&path, &bytes).unwrap();
    }
    let committed = std::fs::read(&path).unwrap_or_else(|error| {
        panic!(
            "{} is missing ({error}); run this test with QUARRY_BLESS=1",
            path.display()
        )
    });
    assert!(
        committed == bytes,
        "{} is out of date; run this test with QUARRY_BLESS=1",
        path.display()
    );

    let config = quarry_enrichment::GeoIpConfig {
        databases: vec![path.clone()],
        msticpy: false,
        user_cache: false,
        ..Default::default()
    };
    let geoip = GeoIp::discover(&config).unwrap();
    let address: IpAddr = "185.220.101.4".parse().unwrap();
    let location = geoip
        .lookup(address)
        .location
        .expect("the fixture locates 185.220.101.4");
    assert_eq!(location.city.as_deref(), Some("Frankfurt"));
    assert_eq!(location.latitude, Some(50.11));
}
