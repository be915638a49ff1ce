//! Tests of `quarry enrich`, run as a child process against a fake AbuseIPDB on 127.0.0.1 and a
//! GeoIP database written by the test.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

use quarry_enrichment::mmdb_writer::{MmdbValue, MmdbWriter};
use serde_json::Value;

/// A fake AbuseIPDB that rates 185.220.101.4 at 100 and everything else at 0, and records the
/// request targets.
struct FakeAbuseIpDb {
    base_url: String,
    targets: Arc<Mutex<Vec<String>>>,
}

impl FakeAbuseIpDb {
    fn start() -> FakeAbuseIpDb {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base_url = format!("http://{}/", listener.local_addr().unwrap());
        let targets = Arc::new(Mutex::new(Vec::new()));
        let recorded = Arc::clone(&targets);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { return };
                let recorded = Arc::clone(&recorded);
                std::thread::spawn(move || answer(stream, &recorded));
            }
        });
        FakeAbuseIpDb { base_url, targets }
    }

    fn targets(&self) -> Vec<String> {
        self.targets.lock().unwrap().clone()
    }
}

fn answer(mut stream: TcpStream, recorded: &Mutex<Vec<String>>) {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte).unwrap_or(0) == 0 {
            return;
        }
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head);
    let target = head.split(' ').nth(1).unwrap_or_default().to_owned();
    recorded.lock().unwrap().push(target.clone());
    let score = if target.contains("185.220.101.4") {
        100
    } else {
        0
    };
    let body = format!(
        r#"{{"data":{{"ipAddress":"x","isPublic":true,"abuseConfidenceScore":{score},"countryCode":"DE","usageType":"Data Center","isp":"Example","domain":"example.net","hostnames":[],"totalReports":{score},"lastReportedAt":null}}}}"#
    );
    let response = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(response.as_bytes());
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("quarry-enrich-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write_geoip(folder: &Path) {
    let mut writer = MmdbWriter::new("GeoLite2-City", "test", 1_700_000_000);
    let record = MmdbValue::map([
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
        (
            "city",
            MmdbValue::map([(
                "names",
                MmdbValue::map([("en", MmdbValue::string("Frankfurt"))]),
            )]),
        ),
        ("autonomous_system_number", MmdbValue::Uint32(60729)),
        (
            "autonomous_system_organization",
            MmdbValue::string("Example Hosting"),
        ),
    ]);
    writer
        .insert("185.220.101.0".parse().unwrap(), 24, &record)
        .unwrap();
    std::fs::write(
        folder.join("GeoLite2-City.mmdb"),
        writer.to_bytes().unwrap(),
    )
    .unwrap();
}

/// Writes a configuration with GeoIP from `dir/geoip` and, when `server` is given, AbuseIPDB.
fn write_config(dir: &Path, server: Option<&FakeAbuseIpDb>) -> PathBuf {
    let geoip = dir.join("geoip");
    std::fs::create_dir_all(&geoip).unwrap();
    write_geoip(&geoip);
    let mut text = format!(
        "[geoip]\nfolders = [\"{}\"]\nmsticpy = false\nuser_cache = false\n\n[ti.privacy]\ninternal_domains = [\"corp.example.com\"]\n",
        geoip.display()
    );
    if let Some(server) = server {
        text.push_str(&format!(
            "\n[ti.providers.abuseipdb]\napi_key = \"secret-abuse-key\"\nbase_url = \"{}\"\n",
            server.base_url
        ));
    }
    let path = dir.join("enrichment.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn enrich(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_quarry"))
        .arg("enrich")
        .args(args)
        .env("QUARRY_CACHE_DIR", dir.join("cache"))
        .env("QUARRY_CONFIG_DIR", dir.join("config"))
        .env_remove("MSTICPYCONFIG")
        .output()
        .unwrap()
}

#[test]
fn enrich_json_with_provider() {
    let server = FakeAbuseIpDb::start();
    let dir = temp_dir("json");
    let config = write_config(&dir, Some(&server));
    let output = enrich(
        &dir,
        &[
            "--config",
            config.to_str().unwrap(),
            "--format",
            "json",
            "185.220.101.4",
            "10.0.0.5",
            "files.corp.example.com",
        ],
    );
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let items: Value = serde_json::from_slice(&output.stdout).unwrap();
    let items = items.as_array().unwrap();
    assert_eq!(items.len(), 3);

    let public = &items[0];
    assert_eq!(public["type"], "ipv4");
    assert_eq!(public["geoip"]["ip_type"], "public");
    assert_eq!(public["geoip"]["location"]["country_code"], "DE");
    assert_eq!(public["geoip"]["location"]["city"], "Frankfurt");
    assert_eq!(public["geoip"]["location"]["asn"], 60729);
    let verdict = &public["threat_intel"][0];
    assert_eq!(verdict["provider"], "AbuseIPDB");
    assert_eq!(verdict["severity"], "high");
    assert_eq!(verdict["verdict"], "malicious");
    assert_eq!(
        verdict["reference"],
        "https://www.abuseipdb.com/check/185.220.101.4"
    );

    let private = &items[1];
    assert_eq!(private["geoip"]["ip_type"], "private");
    assert!(private["geoip"].get("location").is_none());
    assert_eq!(private["threat_intel"][0]["status"], "blocked");

    let internal = &items[2];
    assert_eq!(internal["type"], "dns");
    assert!(internal.get("geoip").is_none());
    assert!(
        internal["threat_intel"].as_array().unwrap().is_empty(),
        "AbuseIPDB takes addresses only"
    );

    let targets = server.targets();
    assert_eq!(targets.len(), 1, "{targets:?}");
    assert!(targets[0].contains("185.220.101.4"));

    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("secret-abuse-key"), "{stderr}");
}

#[test]
fn enrich_human_uses_cache() {
    let server = FakeAbuseIpDb::start();
    let dir = temp_dir("human");
    let config = write_config(&dir, Some(&server));
    let args = ["--config", config.to_str().unwrap(), "185[.]220[.]101[.]4"];

    let first = enrich(&dir, &args);
    assert_eq!(first.status.code(), Some(0), "{first:?}");
    let stdout = String::from_utf8(first.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines[0], "185.220.101.4  ipv4  (public)");
    assert_eq!(
        lines[1],
        "  geoip        Frankfurt, Germany; AS60729 Example Hosting"
    );
    assert_eq!(
        lines[2],
        "  AbuseIPDB    high        abuse confidence 100%, 100 report(s)"
    );
    assert_eq!(
        lines[3].trim(),
        "https://www.abuseipdb.com/check/185.220.101.4"
    );

    let second = enrich(&dir, &args);
    let stdout = String::from_utf8(second.stdout).unwrap();
    assert!(stdout.contains("100 report(s) (cached)"), "{stdout}");
    assert_eq!(server.targets().len(), 1);
}

#[test]
fn enrich_without_providers_notes_it() {
    let dir = temp_dir("no-providers");
    let config = write_config(&dir, None);
    let output = enrich(
        &dir,
        &["--config", config.to_str().unwrap(), "185.220.101.9"],
    );
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("no threat-intelligence provider is configured"),
        "{stderr}"
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(stdout.contains("AS60729 Example Hosting"), "{stdout}");
}

#[test]
fn enrich_rejects_non_indicator() {
    let dir = temp_dir("invalid");
    let config = write_config(&dir, None);
    let output = enrich(&dir, &["--config", config.to_str().unwrap(), "hello world"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("`hello world` is not an IP address"),
        "{stderr}"
    );
}

#[test]
fn enrich_missing_config_fails() {
    let dir = temp_dir("missing-config");
    let output = enrich(
        &dir,
        &["--config", "/nonexistent/enrichment.toml", "8.8.8.8"],
    );
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("/nonexistent/enrichment.toml"), "{stderr}");
}
