//! `quarry enrich --whois` against a fake RDAP server on 127.0.0.1.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

use serde_json::Value;

/// A fake RDAP server that records request targets and serves one IP network record.
struct FakeRdap {
    base_url: String,
    targets: Arc<Mutex<Vec<String>>>,
}

impl FakeRdap {
    fn start() -> FakeRdap {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base_url = format!("http://{}/rdap/", listener.local_addr().unwrap());
        let targets = Arc::new(Mutex::new(Vec::new()));
        let recorded = Arc::clone(&targets);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                answer(stream, &recorded);
            }
        });
        FakeRdap { base_url, targets }
    }

    fn targets(&self) -> Vec<String> {
        self.targets.lock().unwrap().clone()
    }
}

fn answer(mut stream: TcpStream, recorded: &Mutex<Vec<String>>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut request_line = String::new();
    reader.read_line(&mut request_line).unwrap();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap() == 0 || line == "\r\n" {
            break;
        }
    }
    let target = request_line
        .split_whitespace()
        .nth(1)
        .unwrap_or_default()
        .to_owned();
    recorded.lock().unwrap().push(target.clone());

    let (status, body) = if target == "/rdap/ip/185.220.101.4" {
        let body = serde_json::json!({
            "objectClassName": "ip network",
            "handle": "NET-185-220-100-0-1",
            "name": "TOR-EXIT-NET",
            "country": "DE",
            "cidr0_cidrs": [{"v4prefix": "185.220.100.0", "length": 23}],
            "entities": [{
                "roles": ["abuse"],
                "vcardArray": ["vcard", [["fn", {}, "text", "Abuse Desk"], ["email", {}, "text", "abuse@example.net"]]]
            }]
        });
        ("200 OK", body.to_string())
    } else {
        ("404 Not Found", r#"{"errorCode":404}"#.to_owned())
    };
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/rdap+json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(response.as_bytes());
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("quarry-rdap-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write_config(dir: &Path, server: &FakeRdap, enabled: bool) -> PathBuf {
    let text = format!(
        "[geoip]\nmsticpy = false\nuser_cache = false\n\n[ti.privacy]\ninternal_domains = [\"corp.example.com\"]\n\n[rdap]\nenabled = {enabled}\ndefault_base_url = \"{}\"\n",
        server.base_url
    );
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
fn whois_json_record_and_errors() {
    let server = FakeRdap::start();
    let dir = temp_dir("json");
    let config = write_config(&dir, &server, true);
    let output = enrich(
        &dir,
        &[
            "--config",
            config.to_str().unwrap(),
            "--whois",
            "--no-geoip",
            "--format",
            "json",
            "185.220.101.4",
            "unknown-example.org",
            "vpn.corp.example.com",
            "10.1.2.3",
        ],
    );
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let items: Value = serde_json::from_slice(&output.stdout).unwrap();

    let record = &items[0]["whois"];
    assert_eq!(record["name"], "TOR-EXIT-NET");
    assert_eq!(record["cidrs"][0], "185.220.100.0/23");
    assert_eq!(record["entities"][0]["email"], "abuse@example.net");

    let not_found = items[1]["whois"]["error"].as_str().unwrap();
    assert!(not_found.contains("no record"), "{not_found}");
    let internal = items[2]["whois"]["error"].as_str().unwrap();
    assert!(internal.contains("not sent"), "{internal}");
    let private = items[3]["whois"]["error"].as_str().unwrap();
    assert!(private.contains("not sent"), "{private}");

    // Lookups run concurrently, so the order of arrival varies.
    let mut targets = server.targets();
    targets.sort();
    assert_eq!(
        targets,
        ["/rdap/domain/unknown-example.org", "/rdap/ip/185.220.101.4"]
    );
}

#[test]
fn whois_human_output() {
    let server = FakeRdap::start();
    let dir = temp_dir("human");
    let config = write_config(&dir, &server, true);
    let output = enrich(
        &dir,
        &[
            "--config",
            config.to_str().unwrap(),
            "--whois",
            "--no-geoip",
            "185.220.101.4",
        ],
    );
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        stdout.contains("whois        ip network  TOR-EXIT-NET  NET-185-220-100-0-1  DE"),
        "{stdout}"
    );
    assert!(
        stdout.contains("abuse: Abuse Desk <abuse@example.net>"),
        "{stdout}"
    );
}

#[test]
fn whois_run_omits_ti_note() {
    let server = FakeRdap::start();
    let dir = temp_dir("no-ti-note");
    let config = write_config(&dir, &server, true);
    let output = enrich(
        &dir,
        &[
            "--config",
            config.to_str().unwrap(),
            "--whois",
            "--no-geoip",
            "185.220.101.4",
        ],
    );
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !stderr.contains("threat-intelligence provider"),
        "a --whois run without TI providers printed the TI note: {stderr}"
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(stdout.contains("TOR-EXIT-NET"), "{stdout}");
}

#[test]
fn whois_disabled_sends_nothing() {
    let server = FakeRdap::start();
    let dir = temp_dir("disabled");
    let config = write_config(&dir, &server, false);
    let output = enrich(
        &dir,
        &[
            "--config",
            config.to_str().unwrap(),
            "--whois",
            "--no-geoip",
            "--format",
            "json",
            "185.220.101.4",
        ],
    );
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let items: Value = serde_json::from_slice(&output.stdout).unwrap();
    let error = items[0]["whois"]["error"].as_str().unwrap();
    assert!(error.contains("enabled = true"), "{error}");
    assert!(server.targets().is_empty());
}

#[test]
fn whois_second_run_uses_cache() {
    let server = FakeRdap::start();
    let dir = temp_dir("cache");
    let config = write_config(&dir, &server, true);
    let args = [
        "--config",
        config.to_str().unwrap(),
        "--whois",
        "--no-geoip",
        "185.220.101.4",
    ];

    let first = enrich(&dir, &args);
    assert_eq!(first.status.code(), Some(0), "{first:?}");
    assert!(!String::from_utf8_lossy(&first.stdout).contains("(cached)"));
    let second = enrich(&dir, &args);
    let stdout = String::from_utf8(second.stdout).unwrap();
    assert!(
        stdout.contains("whois        ip network  TOR-EXIT-NET  NET-185-220-100-0-1  DE  (cached)"),
        "{stdout}"
    );
    assert_eq!(server.targets(), ["/rdap/ip/185.220.101.4"]);
    assert!(dir.join("cache/rdap/rdap-whois.json").is_file());

    let mut no_cache = args.to_vec();
    no_cache.push("--no-cache");
    let third = enrich(&dir, &no_cache);
    assert!(!String::from_utf8_lossy(&third.stdout).contains("(cached)"));
    assert_eq!(server.targets().len(), 2);
    let _ = std::fs::remove_dir_all(&dir);
}
