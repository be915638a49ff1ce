//! Secrets never reach the output of the command-line tool. Distinctive fake secrets go into
//! the environment and into configuration files as plain strings. Then the commands that use
//! them run against fake services that fail and copy the credentials their client sent into
//! their error bodies, as misbehaving proxies do. Every output is searched: stdout, and stderr with trace
//! logging on.

#[path = "../../providers/tests/fault_server/mod.rs"]
mod fault_server;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use fault_server::{Fault, FaultServer, refused_url};

const ENV_TOKEN: &str = "cli-env-token-2c9d41";
const FILE_TOKEN: &str = "cli-file-token-b7e0f3";
const SPLUNK_PASSWORD: &str = "cli-splunk-password-5d18";
const CLIENT_SECRET: &str = "cli-client-secret-aa40c2";
const TI_KEY: &str = "cli-ti-api-key-0f6e77";
const TI_PASSWORD: &str = "cli-ti-password-9b3c15";

const ALL_SECRETS: [&str; 6] = [
    ENV_TOKEN,
    FILE_TOKEN,
    SPLUNK_PASSWORD,
    CLIENT_SECRET,
    TI_KEY,
    TI_PASSWORD,
];

/// A fake service that rejects every request with a body repeating `secrets`, the credentials
/// that its one client sends.
fn echoing_server(status: u16, secrets: &[&str]) -> FaultServer {
    let body = format!(
        "{{\"error\": {{\"code\": \"Denied\", \"message\": \"denied: Bearer {}\"}}}}",
        secrets.join(" ")
    );
    FaultServer::start(move |_| Fault::json(status, &body))
}

struct Setup {
    dir: PathBuf,
    _services: Vec<FaultServer>,
}

impl Drop for Setup {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn setup(name: &str) -> Setup {
    let dir = std::env::temp_dir().join(format!("quarry-secrets-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("quarry")).unwrap();
    let env_token_service = echoing_server(401, &[ENV_TOKEN]);
    let file_token_service = echoing_server(500, &[FILE_TOKEN]);
    let splunk_service = echoing_server(400, &[SPLUNK_PASSWORD]);
    let token_endpoint = echoing_server(400, &[CLIENT_SECRET]);
    let virustotal = echoing_server(401, &[TI_KEY]);
    let xforce = echoing_server(500, &[TI_KEY, TI_PASSWORD]);
    let abuseipdb = echoing_server(400, &[TI_KEY]);
    let config = format!(
        r#"
[connections.envtoken]
kind = "log-analytics"
workspace-id = "ws-1"
endpoint = "{env_token_service}"
auth = {{ method = "token", token = {{ env = "SECRET_TEST_TOKEN" }} }}

[connections.filetoken]
kind = "log-analytics"
workspace-id = "ws-2"
endpoint = "{file_token_service}"
auth = {{ method = "token", token = "{FILE_TOKEN}" }}

[connections.splunk]
kind = "splunk"
url = "{splunk_service}"
auth = {{ method = "basic", username = "hunter", password = "{SPLUNK_PASSWORD}" }}

[connections.app]
kind = "log-analytics"
workspace-id = "ws-3"
endpoint = "{refused}"
[connections.app.auth]
method = "client-secret"
tenant-id = "contoso.onmicrosoft.com"
client-id = "11111111-2222-3333-4444-555555555555"
client-secret = "{CLIENT_SECRET}"
authority = "{token_endpoint}"
"#,
        env_token_service = env_token_service.http_url(),
        file_token_service = file_token_service.http_url(),
        splunk_service = splunk_service.http_url(),
        token_endpoint = token_endpoint.http_url(),
        refused = refused_url(),
    );
    std::fs::write(dir.join("quarry").join("quarry.toml"), config).unwrap();

    let ti = format!(
        r#"
[ti]
cache = false
[ti.providers.virustotal]
api_key = "{TI_KEY}"
base_url = "{virustotal}"
[ti.providers.xforce]
api_key = "{TI_KEY}"
api_password = "{TI_PASSWORD}"
base_url = "{xforce}"
[ti.providers.abuseipdb]
api_key = "{TI_KEY}"
base_url = "{abuseipdb}"
"#,
        virustotal = virustotal.http_url(),
        xforce = xforce.http_url(),
        abuseipdb = abuseipdb.http_url(),
    );
    std::fs::write(dir.join("enrichment.toml"), ti).unwrap();
    Setup {
        dir,
        _services: vec![
            env_token_service,
            file_token_service,
            splunk_service,
            token_endpoint,
            virustotal,
            xforce,
            abuseipdb,
        ],
    }
}

fn quarry(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_quarry"))
        .args(args)
        .current_dir(dir)
        .env("HOME", dir)
        .env("XDG_CONFIG_HOME", dir)
        .env("QUARRY_CONFIG_DIR", dir.join("quarry"))
        .env("QUARRY_CACHE_DIR", dir.join("cache"))
        .env("SECRET_TEST_TOKEN", ENV_TOKEN)
        .env("QUARRY_LOG", "trace")
        .env("RUST_LOG", "trace")
        .env_remove("MSTICPYCONFIG")
        .env_remove("HTTPS_PROXY")
        .env_remove("HTTP_PROXY")
        .env_remove("https_proxy")
        .env_remove("http_proxy")
        .output()
        .expect("run quarry")
}

fn assert_no_secret(args: &[&str], output: &Output) {
    for (stream, bytes) in [("stdout", &output.stdout), ("stderr", &output.stderr)] {
        let text = String::from_utf8_lossy(bytes);
        for secret in ALL_SECRETS {
            assert!(
                !text.contains(secret),
                "`quarry {}` wrote {secret:?} to {stream}:\n{text}",
                args.join(" ")
            );
        }
    }
}

#[test]
fn failing_commands_hide_secrets() {
    let setup = setup("commands");
    let config = setup.dir.join("enrichment.toml");
    let config = config.to_str().unwrap();
    let commands: Vec<Vec<&str>> = vec![
        vec!["config", "check"],
        vec!["config", "check", "--format", "json"],
        vec!["config", "check", "--probe", "envtoken"],
        vec!["config", "check", "--probe", "filetoken"],
        vec!["config", "check", "--probe", "splunk"],
        vec!["config", "check", "--probe", "app"],
        vec!["run", "--connection", "envtoken", "SecurityEvent | take 1"],
        vec!["run", "--connection", "filetoken", "SecurityEvent | take 1"],
        vec!["run", "--connection", "splunk", "search index=main"],
        vec!["run", "--connection", "app", "SecurityEvent | take 1"],
        vec!["run", "--connection", "missing", "T"],
        vec!["enrich", "--config", config, "185.220.101.4"],
        vec![
            "enrich",
            "--config",
            config,
            "--format",
            "json",
            "185.220.101.4",
        ],
        vec!["enrich", "--config", config, "evil.example.net"],
    ];
    let mut failures = 0;
    for args in &commands {
        let output = quarry(&setup.dir, args);
        assert_no_secret(args, &output);
        if !output.status.success() {
            failures += 1;
        }
    }
    // Every run and probe against a failing service fails, while `config check` itself may pass.
    assert!(failures >= 5, "only {failures} commands failed");
}
