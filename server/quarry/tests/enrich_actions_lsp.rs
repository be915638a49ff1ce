//! Indicator code actions in `quarry lsp` and the commands they carry: threat-intelligence
//! lookup from a local indicator file, GeoIP, RDAP whois against a fake server on 127.0.0.1,
//! and one pivot per matching template.

mod lsp_client;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use lsp_client::{LspClient, position_of};
use serde_json::{Value, json};

const URI: &str = "file:///hunt/actions.kql";
const DOCUMENT: &str = "// seen beaconing to bad-example.com\nSecurityEvent\n| where IpAddress == \"185.220.101.4\" or IpAddress == \"10.1.2.3\"\n| where Account == \"alice\"\n";

const TEMPLATES: &str = r#"
metadata:
  version: 1
  description: Action tests
  data_environments: [MSSentinel]
  data_families: [ActionTest]
sources:
  logons_from_ip:
    description: Counts logon events from an address
    args:
      query: 'SecurityEvent | where IpAddress == "{ip_address}" | summarize Events = count()'
    parameters:
      ip_address:
        description: The source address
        type: str
"#;

/// Starts a fake RDAP server that records request targets and serves one IP network record.
fn fake_rdap() -> (String, Arc<Mutex<Vec<String>>>) {
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
            let body = json!({
                "objectClassName": "ip network",
                "handle": "NET-185-220-100-0-1",
                "name": "TOR-EXIT-NET",
                "country": "DE"
            })
            .to_string();
            let response = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/rdap+json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.write_all(response.as_bytes());
        }
    });
    (base_url, targets)
}

fn setup(name: &str, rdap_base: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("quarry-actions-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("templates")).unwrap();
    std::fs::create_dir_all(dir.join("config")).unwrap();
    std::fs::write(dir.join("templates/action_tests.yaml"), TEMPLATES).unwrap();
    std::fs::write(
        dir.join("indicators.csv"),
        "indicator,severity,description\n185.220.101.4,high,Known Tor exit used for brute force\n",
    )
    .unwrap();
    let settings = format!(
        "[geoip]\nmsticpy = false\nuser_cache = false\n\n[[ti.indicator_files]]\nname = \"LocalList\"\npath = \"{}\"\n\n[rdap]\nenabled = true\ndefault_base_url = \"{rdap_base}\"\n",
        dir.join("indicators.csv").display()
    );
    std::fs::write(dir.join("enrichment.toml"), settings).unwrap();
    dir
}

fn start_server(dir: &Path) -> LspClient {
    let mut client = LspClient::spawn_with_env(&[
        ("HOME", dir.to_str().unwrap()),
        ("QUARRY_CACHE_DIR", dir.join("cache").to_str().unwrap()),
        ("QUARRY_CONFIG_DIR", dir.join("config").to_str().unwrap()),
        (
            "QUARRY_TEMPLATE_PATH",
            dir.join("templates").to_str().unwrap(),
        ),
        ("MSTICPYCONFIG", dir.join("absent.yaml").to_str().unwrap()),
    ]);
    let root = url::Url::from_directory_path(dir).unwrap().to_string();
    client.request_ok(
        "initialize",
        json!({
            "processId": std::process::id(),
            "rootUri": root,
            "workspaceFolders": [{"uri": root, "name": "hunt"}],
            "capabilities": {},
        }),
    );
    client.notify("initialized", json!({}));
    client.did_open(URI, DOCUMENT);
    client
}

fn actions_at(client: &mut LspClient, needle: &str, only: Option<Value>) -> Vec<Value> {
    let position = position_of(DOCUMENT, needle);
    let mut context = json!({"diagnostics": []});
    if let Some(only) = only {
        context["only"] = only;
    }
    let result = client.request_ok(
        "textDocument/codeAction",
        json!({
            "textDocument": {"uri": URI},
            "range": {"start": position, "end": position},
            "context": context,
        }),
    );
    result.as_array().cloned().unwrap_or_default()
}

fn titles(actions: &[Value]) -> Vec<String> {
    actions
        .iter()
        .map(|action| action["title"].as_str().unwrap().to_owned())
        .collect()
}

fn command_of<'a>(actions: &'a [Value], title: &str) -> &'a Value {
    &actions
        .iter()
        .find(|action| action["title"] == title)
        .unwrap_or_else(|| panic!("no action `{title}` in {actions:?}"))["command"]
}

#[test]
fn ip_actions_and_commands() {
    let (rdap_base, targets) = fake_rdap();
    let dir = setup("ip", &rdap_base);
    let mut client = start_server(&dir);

    let geoip = client.request_ok(
        "workspace/executeCommand",
        json!({"command": "quarry.geoip", "arguments": [{"value": "185.220.101.4"}]}),
    );
    assert_eq!(geoip["ipType"], "public");

    let actions = actions_at(&mut client, "220.101", None);
    let titles = titles(&actions);
    assert!(
        titles.contains(&"Look up 185.220.101.4 in threat intelligence".to_owned()),
        "{titles:?}"
    );
    assert!(
        titles.contains(&"GeoIP: 185.220.101.4".to_owned()),
        "{titles:?}"
    );
    assert!(
        titles.contains(&"Whois (RDAP): 185.220.101.4".to_owned()),
        "{titles:?}"
    );
    assert!(
        titles.contains(&"Pivot: ActionTest.logons_from_ip".to_owned()),
        "{titles:?}"
    );
    for action in &actions {
        assert_eq!(action["kind"], "quarry.enrich", "{action}");
    }

    let lookup = command_of(&actions, "Look up 185.220.101.4 in threat intelligence").clone();
    assert_eq!(lookup["command"], "quarry.lookupIndicator");
    let result = client.request_ok(
        "workspace/executeCommand",
        json!({"command": lookup["command"], "arguments": lookup["arguments"]}),
    );
    assert_eq!(result["tiConfigured"], true, "{result}");
    assert_eq!(result["results"][0]["provider"], "LocalList", "{result}");
    assert_eq!(result["results"][0]["severity"], "high", "{result}");
    assert!(
        result["markdown"]
            .as_str()
            .unwrap()
            .contains("185.220.101.4")
    );

    let whois = command_of(&actions, "Whois (RDAP): 185.220.101.4").clone();
    let record = client.request_ok(
        "workspace/executeCommand",
        json!({"command": whois["command"], "arguments": whois["arguments"]}),
    );
    assert_eq!(record["name"], "TOR-EXIT-NET", "{record}");
    assert_eq!(targets.lock().unwrap().clone(), ["/ip/185.220.101.4"]);

    let pivot = command_of(&actions, "Pivot: ActionTest.logons_from_ip").clone();
    assert_eq!(pivot["command"], "quarry.pivot");
    assert_eq!(pivot["arguments"][0]["value"], "185.220.101.4");
    assert_eq!(pivot["arguments"][0]["parameter"], "ip_address");
    let ran = client.request_ok(
        "workspace/executeCommand",
        json!({"command": pivot["command"], "arguments": pivot["arguments"]}),
    );
    assert_eq!(ran["template"], "ActionTest.logons_from_ip", "{ran}");
    client.shutdown();
}

#[test]
fn private_ip_whois_sends_nothing() {
    let (rdap_base, targets) = fake_rdap();
    let dir = setup("private", &rdap_base);
    let mut client = start_server(&dir);

    let actions = actions_at(&mut client, "1.2.3", None);
    let whois = command_of(&actions, "Whois (RDAP): 10.1.2.3").clone();
    let error = client
        .request(
            "workspace/executeCommand",
            json!({"command": whois["command"], "arguments": whois["arguments"]}),
        )
        .unwrap_err();
    let message = error["message"].as_str().unwrap();
    assert!(message.contains("not sent"), "{message}");
    assert!(targets.lock().unwrap().is_empty());
    client.shutdown();
}

#[test]
fn domain_actions_and_filters() {
    let (rdap_base, _targets) = fake_rdap();
    let dir = setup("domain", &rdap_base);
    let mut client = start_server(&dir);

    let titles_at_domain = titles(&actions_at(&mut client, "example.com", None));
    assert!(
        titles_at_domain.contains(&"Whois (RDAP): bad-example.com".to_owned()),
        "{titles_at_domain:?}"
    );
    assert!(
        !titles_at_domain
            .iter()
            .any(|title| title.starts_with("GeoIP")),
        "{titles_at_domain:?}"
    );

    let quick_fixes_only = actions_at(&mut client, "220.101", Some(json!(["quickfix"])));
    assert!(
        !quick_fixes_only
            .iter()
            .any(|action| action["kind"] == "quarry.enrich"),
        "{quick_fixes_only:?}"
    );
    let no_indicator = actions_at(&mut client, "SecurityEvent", None);
    assert!(
        !no_indicator
            .iter()
            .any(|action| action["kind"] == "quarry.enrich"),
        "{no_indicator:?}"
    );

    let bad_type = client
        .request(
            "workspace/executeCommand",
            json!({"command": "quarry.whois", "arguments": [{"value": "x", "type": "planet"}]}),
        )
        .unwrap_err();
    assert!(
        bad_type["message"].as_str().unwrap().contains("planet"),
        "{bad_type}"
    );
    client.shutdown();
}

/// Returns the diagnostics with code `QTI001` from the first publication for `version` that has
/// any, or panics when none arrives before the client's timeout.
fn wait_for_ti_hints(client: &mut LspClient, version: i64) -> Vec<Value> {
    let params = client.wait_for_notification("textDocument/publishDiagnostics", |params| {
        params["uri"] == URI
            && params["version"] == json!(version)
            && params["diagnostics"]
                .as_array()
                .is_some_and(|items| items.iter().any(|item| item["code"] == "QTI001"))
    });
    params["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|item| item["code"] == "QTI001")
        .cloned()
        .collect()
}

#[test]
fn high_severity_hint_after_lookup() {
    let (rdap_base, _targets) = fake_rdap();
    let dir = setup("hint", &rdap_base);
    let mut client = start_server(&dir);

    let before = client.wait_for_diagnostics(URI, 1);
    assert!(
        !before.iter().any(|item| item["code"] == "QTI001"),
        "{before:?}"
    );

    client.request_ok(
        "workspace/executeCommand",
        json!({"command": "quarry.lookupIndicator", "arguments": [{"value": "185.220.101.4"}]}),
    );
    client.notify(
        "textDocument/didChange",
        json!({
            "textDocument": {"uri": URI, "version": 2},
            "contentChanges": [{"text": DOCUMENT}],
        }),
    );
    let hints = wait_for_ti_hints(&mut client, 2);
    assert_eq!(hints.len(), 1, "{hints:?}");
    let hint = &hints[0];
    assert_eq!(hint["severity"], 3, "Information");
    assert_eq!(hint["source"], "quarry-ti");
    let start = position_of(DOCUMENT, "185.220.101.4");
    assert_eq!(hint["range"]["start"], start);
    let message = hint["message"].as_str().unwrap();
    assert!(message.contains("185.220.101.4"), "{message}");
    assert!(message.contains("LocalList"), "{message}");

    // The private address in the same document gets no hint.
    assert!(!message.contains("10.1.2.3"), "{message}");
    client.shutdown();
}
