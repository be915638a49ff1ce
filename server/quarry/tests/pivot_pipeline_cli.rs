//! `quarry pivot FILE`: pivot pipelines on the demo dataset with a template folder, a local
//! indicator file and a configuration the test writes. Nothing leaves the machine.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

use serde_json::Value;

const TEMPLATES: &str = r#"
metadata:
  version: 1
  description: Pipeline tests
  data_environments: [MSSentinel]
  data_families: [PipelineTest]
sources:
  failed_logons_from_ip:
    description: Failed logons from one address by account
    args:
      query: 'SecurityEvent | where EventID == 4625 and IpAddress == "{ip_address}" | summarize Failures = count() by TargetUserName, IpAddress'
    parameters:
      ip_address:
        description: The source address
        type: str
"#;

/// Runs a template for the spraying address, joins the per-address totals, enriches the
/// address and drops loopback rows.
const PIPELINE: &str = r#"
parameters:
  ip:
    default: 203.0.113.77
steps:
  - name: totals
    query: SecurityEvent | where EventID == 4625 | summarize Total = count() by IpAddress
  - name: accounts
    template: PipelineTest.failed_logons_from_ip
    parameters:
      ip_address: $ip
  - name: joined
    join:
      step: totals
      column: IpAddress
  - name: enriched
    enrich:
      column: IpAddress
  - name: not_loopback
    filter:
      column: IpAddress_IpType
      not_equals: loopback
"#;

fn setup(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("quarry-pipeline-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("templates")).unwrap();
    std::fs::create_dir_all(dir.join("config")).unwrap();
    std::fs::write(dir.join("templates/pipeline_tests.yaml"), TEMPLATES).unwrap();
    std::fs::write(dir.join("pipeline.yaml"), PIPELINE).unwrap();
    std::fs::write(
        dir.join("indicators.csv"),
        "indicator,severity,description\n203.0.113.77,high,Password spraying source\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("enrichment.toml"),
        format!(
            "[geoip]\nmsticpy = false\nuser_cache = false\n\n[ti]\ncache = false\n\n[[ti.indicator_files]]\nname = \"LocalList\"\npath = \"{}\"\n",
            dir.join("indicators.csv").display()
        ),
    )
    .unwrap();
    dir
}

fn pivot(dir: &Path, pipeline: &str, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_quarry"))
        .arg("pivot")
        .arg(dir.join(pipeline))
        .args(["--config", dir.join("enrichment.toml").to_str().unwrap()])
        .args(extra)
        .env("HOME", dir)
        .env("QUARRY_CACHE_DIR", dir.join("cache"))
        .env("QUARRY_CONFIG_DIR", dir.join("config"))
        .env("QUARRY_TEMPLATE_PATH", dir.join("templates"))
        .env_remove("MSTICPYCONFIG")
        .output()
        .unwrap()
}

fn column(output: &Value, name: &str) -> usize {
    output["columns"]
        .as_array()
        .unwrap()
        .iter()
        .position(|column| column == name)
        .unwrap_or_else(|| panic!("no column {name} in {}", output["columns"]))
}

#[test]
fn pipeline_template_join_enrich_filter() {
    let dir = setup("full");
    let output = pivot(&dir, "pipeline.yaml", &["--format", "json"]);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let result: Value = serde_json::from_slice(&output.stdout).unwrap();

    let steps: Vec<(&str, &str)> = result["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|step| {
            (
                step["name"].as_str().unwrap(),
                step["action"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        steps,
        [
            ("totals", "query"),
            ("accounts", "template"),
            ("joined", "join"),
            ("enriched", "enrich"),
            ("not_loopback", "filter")
        ]
    );

    let rows = result["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 45, "{result}");
    let address = column(&result, "IpAddress");
    let total = column(&result, "Total");
    let ip_type = column(&result, "IpAddress_IpType");
    let severity = column(&result, "IpAddress_TiSeverity");
    let providers = column(&result, "IpAddress_TiProviders");
    for row in rows {
        assert_eq!(row[address], "203.0.113.77");
        assert_eq!(row[total], 45);
        assert_eq!(row[ip_type], "documentation");
        assert_eq!(row[severity], "high");
        assert_eq!(row[providers], "LocalList");
    }
}

#[test]
fn pipeline_param_override_and_filter() {
    let dir = setup("override");
    let output = pivot(
        &dir,
        "pipeline.yaml",
        &["--param", "ip=127.0.0.1", "--format", "json"],
    );
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let result: Value = serde_json::from_slice(&output.stdout).unwrap();
    let counts: Vec<u64> = result["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|step| step["rows"].as_u64().unwrap())
        .collect();
    assert!(
        counts[1] > 0,
        "the template found loopback failures: {result}"
    );
    assert_eq!(counts[3], counts[1], "{result}");
    assert_eq!(
        counts[4], 0,
        "the filter drops every loopback row: {result}"
    );
}

#[test]
fn pipeline_table_output() {
    let dir = setup("table");
    let output = pivot(&dir, "pipeline.yaml", &[]);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    let header = stdout.lines().next().unwrap();
    assert!(
        header.starts_with("TargetUserName\tIpAddress\tFailures\tTotal\tIpAddress_IpType"),
        "{header}"
    );
    assert_eq!(stdout.lines().count(), 46);
}

#[test]
fn pipeline_errors_name_the_fix() {
    let dir = setup("errors");
    let cases = [
        (
            "parameters:\n  ip: {}\nsteps:\n  - query: SecurityEvent | take 1\n",
            "parameter ip has no value",
        ),
        (
            "steps:\n  - join: {step: later, column: IpAddress}\n",
            "step `later`, which has not run",
        ),
        (
            "steps:\n  - query: SecurityEvent | take 1\n    filter: {column: x, equals: y}\n",
            "several actions",
        ),
        ("steps: []\n", "non-empty `steps`"),
        (
            "steps:\n  - query: SecurityEvent | take 1\n  - filter: {column: Nope, equals: y}\n",
            "column `Nope` not found",
        ),
        (
            "steps:\n  - template: PipelineTest.failed_logons_from_ip\n    parameters: {ip_address: $missing}\n",
            "`$missing` names no pipeline parameter",
        ),
    ];
    for (index, (pipeline, expected)) in cases.iter().enumerate() {
        let file = format!("bad{index}.yaml");
        std::fs::write(dir.join(&file), pipeline).unwrap();
        let output = pivot(&dir, &file, &[]);
        assert_eq!(output.status.code(), Some(1), "{pipeline}: {output:?}");
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert!(stderr.contains(expected), "{pipeline}: {stderr}");
    }

    let undeclared = pivot(&dir, "pipeline.yaml", &["--param", "other=1"]);
    assert_eq!(undeclared.status.code(), Some(1));
    let stderr = String::from_utf8(undeclared.stderr).unwrap();
    assert!(stderr.contains("`other` is not declared"), "{stderr}");
}

/// Starts a fake AbuseIPDB API that records request targets and reports every address as
/// abusive.
fn fake_abuseipdb() -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base_url = format!("http://{}/", listener.local_addr().unwrap());
    let targets = Arc::new(Mutex::new(Vec::new()));
    let recorded = Arc::clone(&targets);
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request_line = String::new();
            reader.read_line(&mut request_line).unwrap();
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap() == 0 || line == "\r\n" {
                    break;
                }
            }
            let target = request_line.split_whitespace().nth(1).unwrap_or_default();
            recorded.lock().unwrap().push(target.to_owned());
            let body = r#"{"data":{"ipAddress":"x","isPublic":true,"abuseConfidenceScore":100,"countryCode":"DE","usageType":"Data Center","isp":"Example","domain":"example.net","hostnames":[],"totalReports":100,"lastReportedAt":null}}"#;
            let response = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.write_all(response.as_bytes());
        }
    });
    (base_url, targets)
}

/// `enrich` steps send lookups to remote providers only for public indicators: the private,
/// loopback and documentation addresses of the demo logons reach the fake provider zero times,
/// and a public control does.
#[test]
fn pipeline_enrich_privacy_guard() {
    let dir = setup("privacy");
    let (base_url, targets) = fake_abuseipdb();
    std::fs::write(
        dir.join("enrichment.toml"),
        format!(
            "[geoip]\nmsticpy = false\nuser_cache = false\n\n[ti]\ncache = false\n\n[ti.privacy]\ninternal_domains = [\"corp.example.com\"]\n\n[ti.providers.abuseipdb]\napi_key = \"pipeline-test-key\"\nbase_url = \"{base_url}\"\n"
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join("private.yaml"),
        "steps:\n  - query: SecurityEvent | where EventID == 4624 and isnotempty(IpAddress) and IpAddress != \"-\" | distinct IpAddress\n  - enrich: {column: IpAddress}\n",
    )
    .unwrap();
    let output = pivot(&dir, "private.yaml", &["--format", "json"]);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let result: Value = serde_json::from_slice(&output.stdout).unwrap();
    let rows = result["rows"].as_array().unwrap();
    assert!(rows.len() > 1, "{result}");
    let ip_type = column(&result, "IpAddress_IpType");
    for row in rows {
        let kind = row[ip_type].as_str().unwrap();
        assert_ne!(kind, "public", "{row:?}");
    }
    assert!(
        targets.lock().unwrap().is_empty(),
        "{:?}",
        targets.lock().unwrap()
    );

    std::fs::write(
        dir.join("public.yaml"),
        "steps:\n  - query: print IpAddress = \"185.220.101.4\"\n  - enrich: {column: IpAddress}\n",
    )
    .unwrap();
    let output = pivot(&dir, "public.yaml", &["--format", "json"]);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let result: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        result["rows"][0][column(&result, "IpAddress_TiSeverity")],
        "high",
        "{result}"
    );
    let sent = targets.lock().unwrap().clone();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert!(sent[0].contains("185.220.101.4"), "{sent:?}");
}
