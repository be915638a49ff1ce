//! Reading `quarry.toml` and `msticpyconfig.yaml`, and building clients from them.

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use common::{FakeServer, Reply, test_http_options};
use quarry_providers::config::{
    AuthMethod, AzureCloud, Backend, BuildOptions, ConfigSources, Environment, LoadedConfig,
    SecretRef, build_provider, check_connection, read_msticpy_yaml, read_quarry_toml,
};
use quarry_providers::defender::DefenderApi;
use quarry_providers::{QueryRequest, Secret};
use serde_json::json;

/// An environment from a map, so tests never change the process's variables.
#[derive(Default)]
struct MapEnvironment {
    vars: HashMap<String, String>,
    home: Option<PathBuf>,
}

impl MapEnvironment {
    fn with(mut self, name: &str, value: &str) -> MapEnvironment {
        self.vars.insert(name.to_string(), value.to_string());
        self
    }
}

impl Environment for MapEnvironment {
    fn var(&self, name: &str) -> Option<String> {
        self.vars.get(name).cloned()
    }

    fn home_dir(&self) -> Option<PathBuf> {
        self.home.clone()
    }
}

fn toml(text: &str) -> LoadedConfig {
    let mut loaded = LoadedConfig::default();
    read_quarry_toml(Path::new("/work/quarry.toml"), text, &mut loaded);
    loaded
}

fn msticpy(text: &str) -> LoadedConfig {
    let mut loaded = LoadedConfig::default();
    read_msticpy_yaml(
        Path::new("/home/me/.msticpy/msticpyconfig.yaml"),
        text,
        &mut loaded,
    );
    loaded
}

const QUARRY_TOML: &str = r#"
[connections.prod]
kind = "log-analytics"
workspace-id = "6b0f1c9e-52d3-4a8c-9f1e-3d2c1b0a9f8e"
additional-workspaces = ["second"]
auth = { method = "azure-cli", tenant-id = "contoso.onmicrosoft.com" }

[connections.adx]
kind = "azure-data-explorer"
cluster = "https://help.kusto.windows.net"
database = "Samples"
auth = "device-code"

[connections.mde]
kind = "defender"
api = "advanced-hunting"
[connections.mde.auth]
method = "client-secret"
tenant-id = "t1"
client-id = "app"
client-secret = { env = "MDE_SECRET" }

[connections.splunk]
kind = "splunk"
url = "https://splunk.example.com:8089"
auth = { method = "token", token = { env = "SPLUNK_TOKEN" } }
"#;

#[test]
fn quarry_toml_connections() {
    let loaded = toml(QUARRY_TOML);
    assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
    assert_eq!(loaded.connections.len(), 4);

    let prod = loaded.connection("prod").expect("prod");
    assert_eq!(
        prod.backend,
        Backend::LogAnalytics {
            workspace_id: "6b0f1c9e-52d3-4a8c-9f1e-3d2c1b0a9f8e".to_string(),
            endpoint: None,
            additional_workspaces: vec!["second".to_string()]
        }
    );
    assert_eq!(
        prod.auth,
        AuthMethod::AzureCli {
            tenant: Some("contoso.onmicrosoft.com".to_string())
        }
    );
    assert_eq!(
        loaded.connection("adx").unwrap().auth,
        AuthMethod::DeviceCode {
            tenant: None,
            client_id: None
        }
    );
    let mde = loaded.connection("mde").unwrap();
    assert_eq!(
        mde.backend,
        Backend::Defender {
            api: DefenderApi::AdvancedHunting,
            endpoint: None
        }
    );
    assert_eq!(
        mde.auth,
        AuthMethod::ClientSecret {
            tenant: "t1".to_string(),
            client_id: "app".to_string(),
            secret: SecretRef::Env("MDE_SECRET".to_string())
        }
    );
    assert_eq!(
        loaded.connection("splunk").unwrap().auth,
        AuthMethod::Token {
            token: SecretRef::Env("SPLUNK_TOKEN".to_string())
        }
    );
}

#[test]
fn unknown_kind_names_file_key_value() {
    let loaded = toml("[connections.x]\nkind = \"elastic\"\n");
    assert_eq!(loaded.problems.len(), 1);
    assert_eq!(
        loaded.problems[0].to_string(),
        "/work/quarry.toml: connections.x.kind: unknown value `elastic`: use one of log-analytics, azure-data-explorer, defender, splunk"
    );
}

#[test]
fn missing_workspace_id_is_problem() {
    let loaded = toml("[connections.x]\nkind = \"log-analytics\"\n");
    assert_eq!(loaded.problems[0].origin.key, "connections.x.workspace-id");
    assert!(loaded.problems[0].message.starts_with("is missing"));
}

#[test]
fn toml_syntax_error_has_line() {
    let loaded = toml("[connections.x]\nkind = \"splunk\"\nurl = \n");
    assert_eq!(loaded.problems.len(), 1);
    assert_eq!(loaded.problems[0].origin.line, Some(3));
    assert!(loaded.problems[0].message.starts_with("invalid TOML"));
}

#[test]
fn literal_secret_not_printed_in_problem() {
    let loaded = toml(
        "[connections.s]\nkind = \"splunk\"\nurl = \"https://s:8089\"\nauth = { method = \"token\", token = 12345 }\n",
    );
    let message = loaded.problems[0].to_string();
    assert!(
        message.contains("must be a string or a table, not a integer"),
        "{message}"
    );
    assert!(!message.contains("12345"), "{message}");
}

const MSTICPY_YAML: &str = r#"
Azure:
  cloud: usgov
  auth_methods: [msi, cli]
AzureSentinel:
  Workspaces:
    Default:
      WorkspaceId: "11111111-1111-1111-1111-111111111111"
      TenantId: "22222222-2222-2222-2222-222222222222"
    Broken:
      TenantId: "22222222-2222-2222-2222-222222222222"
KustoClusters:
  ClusterDefaults:
    Args:
      TenantId: "tenant-d"
      ClientId: "client-d"
      ClientSecret:
        EnvironmentVar: KUSTO_SECRET
  MDE:
    Args:
      Cluster: https://mde.kusto.windows.net
      Database: Hunting
  Integrated:
    Args:
      Cluster: https://other.kusto.windows.net
      IntegratedAuth: true
DataProviders:
  MicrosoftDefender:
    Args:
      ClientId: "mde-app"
      TenantId: "tenant-m"
      ClientSecret:
        KeyVault:
  Splunk:
    Args:
      host: splunk.contoso.com
      port: 8089
      username: hunter
      password:
        EnvironmentVar: SPLUNK_PASSWORD
TIProviders:
  OTX:
    Args:
      AuthKey: "x"
  VirusTotal:
    Args:
      AuthKey: "y"
"#;

#[test]
fn msticpy_sections_become_connections() {
    let loaded = msticpy(MSTICPY_YAML);

    let names: Vec<&str> = loaded.connections.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "sentinel:Default",
            "kusto:MDE",
            "kusto:Integrated",
            "defender",
            "splunk"
        ]
    );

    let sentinel = loaded.connection("sentinel:Default").unwrap();
    assert_eq!(sentinel.cloud, AzureCloud::UsGov);
    assert_eq!(
        sentinel.auth,
        AuthMethod::AzureCli {
            tenant: Some("22222222-2222-2222-2222-222222222222".to_string())
        }
    );
    assert_eq!(sentinel.origin.key, "AzureSentinel.Workspaces.Default");
    assert_eq!(sentinel.origin.line, Some(8));

    let mde = loaded.connection("kusto:MDE").unwrap();
    assert_eq!(
        mde.auth,
        AuthMethod::ClientSecret {
            tenant: "tenant-d".to_string(),
            client_id: "client-d".to_string(),
            secret: SecretRef::Env("KUSTO_SECRET".to_string())
        }
    );
    assert!(
        matches!(&mde.backend, Backend::DataExplorer { database: Some(db), .. } if db == "Hunting")
    );
    let integrated = loaded.connection("kusto:Integrated").unwrap();
    assert_eq!(
        integrated.auth,
        AuthMethod::AzureCli {
            tenant: Some("tenant-d".to_string())
        }
    );

    let splunk = loaded.connection("splunk").unwrap();
    assert_eq!(
        splunk.backend,
        Backend::Splunk {
            url: url::Url::parse("https://splunk.contoso.com:8089").unwrap()
        }
    );
    assert_eq!(
        splunk.auth,
        AuthMethod::Basic {
            username: "hunter".to_string(),
            password: SecretRef::Env("SPLUNK_PASSWORD".to_string())
        }
    );

    let problems: Vec<String> = loaded.problems.iter().map(ToString::to_string).collect();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].contains("AzureSentinel.Workspaces.Broken.WorkspaceId: is missing"),
        "{}",
        problems[0]
    );
    assert_eq!(loaded.other_sections.len(), 1);
    assert_eq!(loaded.other_sections[0].entries, ["OTX", "VirusTotal"]);
}

#[test]
fn msticpy_checks_report_secrets() {
    let loaded = msticpy(MSTICPY_YAML);
    let env = MapEnvironment::default().with("KUSTO_SECRET", "s3cret-value");

    let mde_kusto = check_connection(loaded.connection("kusto:MDE").unwrap(), &env);
    assert!(mde_kusto.is_empty(), "{mde_kusto:?}");

    let defender = check_connection(loaded.connection("defender").unwrap(), &env);
    assert_eq!(defender.len(), 1);
    assert!(
        defender[0].message.contains("Key Vault secret"),
        "{}",
        defender[0]
    );
    assert!(
        defender[0].message.contains("use EnvironmentVar"),
        "{}",
        defender[0]
    );

    let splunk = check_connection(loaded.connection("splunk").unwrap(), &env);
    assert_eq!(splunk.len(), 1);
    assert!(
        splunk[0]
            .message
            .contains("environment variable SPLUNK_PASSWORD is not set"),
        "{}",
        splunk[0]
    );

    let integrated = check_connection(loaded.connection("kusto:Integrated").unwrap(), &env);
    let messages: Vec<String> = integrated.iter().map(ToString::to_string).collect();
    assert!(
        messages
            .iter()
            .any(|m| m.contains("Args.database") || m.contains("database: is not set")),
        "{messages:?}"
    );
    assert!(
        messages.iter().any(|m| m.contains("`az` is not on PATH")),
        "{messages:?}"
    );
    for message in &messages {
        assert!(!message.contains("s3cret-value"), "{message}");
    }
}

#[test]
fn unsupported_auth_methods_reported() {
    let loaded = msticpy(
        "Azure:\n  auth_methods: [msi, interactive]\nAzureSentinel:\n  Workspaces:\n    W:\n      WorkspaceId: abc\n",
    );
    assert_eq!(
        loaded.connection("sentinel:W").unwrap().auth,
        AuthMethod::AzureCli { tenant: None }
    );
    assert_eq!(loaded.problems.len(), 1);
    assert!(
        loaded.problems[0].message.contains("Add cli or devicecode"),
        "{}",
        loaded.problems[0]
    );
}

#[test]
fn invalid_yaml_has_line() {
    let loaded = msticpy("AzureSentinel:\n  Workspaces:\n    W: [unclosed\n");
    assert_eq!(loaded.problems.len(), 1);
    assert!(
        loaded.problems[0].message.starts_with("invalid YAML"),
        "{}",
        loaded.problems[0]
    );
    assert!(loaded.problems[0].origin.line.is_some());
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("quarry-config-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

#[test]
fn discovery_order_and_override() {
    let root = temp_dir("discover");
    let (work, home) = (root.join("work"), root.join("home"));
    std::fs::create_dir_all(home.join(".msticpy")).unwrap();
    std::fs::create_dir_all(home.join(".config/quarry")).unwrap();
    std::fs::create_dir_all(&work).unwrap();
    std::fs::write(
        home.join(".msticpy/msticpyconfig.yaml"),
        "AzureSentinel:\n  Workspaces:\n    W:\n      WorkspaceId: from-home\n",
    )
    .unwrap();
    std::fs::write(
        home.join(".config/quarry/quarry.toml"),
        "[connections.user]\nkind = \"log-analytics\"\nworkspace-id = \"u\"\n",
    )
    .unwrap();
    std::fs::write(
        work.join("quarry.toml"),
        "[connections.\"sentinel:W\"]\nkind = \"log-analytics\"\nworkspace-id = \"from-workspace\"\n",
    )
    .unwrap();

    let env = MapEnvironment {
        home: Some(home.clone()),
        ..MapEnvironment::default()
    };
    let sources = ConfigSources::discover(&work, &env);
    assert_eq!(
        sources.msticpy,
        Some(home.join(".msticpy/msticpyconfig.yaml"))
    );
    assert_eq!(
        sources.quarry,
        [
            home.join(".config/quarry/quarry.toml"),
            work.join("quarry.toml")
        ]
    );

    let loaded = sources.load();
    assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
    let overridden = loaded.connection("sentinel:W").unwrap();
    assert!(
        matches!(&overridden.backend, Backend::LogAnalytics { workspace_id, .. } if workspace_id == "from-workspace")
    );
    assert!(loaded.connection("user").is_some());

    // MSTICPYCONFIG wins over the home folder.
    let explicit = root.join("explicit.yaml");
    std::fs::write(&explicit, "{}\n").unwrap();
    let env = env.with("MSTICPYCONFIG", explicit.to_str().unwrap());
    assert_eq!(ConfigSources::discover(&work, &env).msticpy, Some(explicit));
    std::fs::remove_dir_all(&root).ok();
}

#[test]
fn config_dir_variable_locates_quarry_toml() {
    let env = MapEnvironment {
        home: Some(PathBuf::from("/home/me")),
        ..MapEnvironment::default()
    }
    .with("XDG_CONFIG_HOME", "/xdg")
    .with("QUARRY_CONFIG_DIR", "/etc/quarry-team");

    let candidates = ConfigSources::candidates(Path::new("/work"), &env);

    assert_eq!(
        candidates.quarry,
        [
            PathBuf::from("/etc/quarry-team/quarry.toml"),
            PathBuf::from("/work/quarry.toml")
        ]
    );
    let without = MapEnvironment::default().with("XDG_CONFIG_HOME", "/xdg");
    assert_eq!(
        ConfigSources::candidates(Path::new("/work"), &without).quarry[0],
        PathBuf::from("/xdg/quarry/quarry.toml")
    );
}

#[tokio::test]
async fn configured_client_secret_runs_query() {
    let server = FakeServer::start(|request, _| {
        if request.path().ends_with("/oauth2/v2.0/token") {
            Reply::json(200, &json!({"access_token": "from-config", "expires_in": 3600}))
        } else {
            Reply::json(200, &json!({"tables": [{"name": "PrimaryResult", "columns": [{"name": "n", "type": "long"}], "rows": [[1]]}]}))
        }
    })
    .await;
    let text = format!(
        "[connections.prod]\nkind = \"log-analytics\"\nworkspace-id = \"ws\"\nendpoint = \"{url}\"\n\
         [connections.prod.auth]\nmethod = \"client-secret\"\ntenant-id = \"t1\"\nclient-id = \"app\"\n\
         client-secret = {{ env = \"APP_SECRET\" }}\nauthority = \"{url}\"\n",
        url = server.url()
    );
    let loaded = toml(&text);
    assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
    let env = MapEnvironment::default().with("APP_SECRET", "the-app-secret");
    let options = BuildOptions {
        http: test_http_options(),
        ..BuildOptions::default()
    };
    let provider =
        build_provider(loaded.connection("prod").unwrap(), &env, &options).expect("provider");

    let result = provider
        .run(&QueryRequest::new("print n = 1"))
        .await
        .expect("query");
    assert_eq!(result.tables[0].rows.len(), 1);
    let requests = server.requests();
    assert_eq!(requests[0].path(), "/t1/oauth2/v2.0/token");
    assert_eq!(requests[0].form()["client_secret"], "the-app-secret");
    assert_eq!(
        requests[0].form()["scope"],
        format!("{}/.default", server.url().as_str().trim_end_matches('/'))
    );
    assert_eq!(requests[1].path(), "/v1/workspaces/ws/query");
    assert_eq!(
        requests[1].header("authorization"),
        Some("Bearer from-config")
    );
}

#[test]
fn secret_ref_display_hides_literal() {
    let literal = SecretRef::Literal(Secret::new("abc123"));
    assert_eq!(literal.to_string(), "a value written in the file");
    assert_eq!(format!("{literal:?}"), "Literal([redacted])");
}

#[test]
fn unknown_keys_are_reported() {
    let loaded = toml(
        "[connections.x]\nkind = \"log-analytics\"\nworkspace_id = \"a\"\nworkspace-id = \"a\"\nendpiont = \"https://x\"\n\
         auth = { method = \"azure-cli\", tenant = \"t\" }\n",
    );
    let messages: Vec<String> = loaded.problems.iter().map(ToString::to_string).collect();
    assert_eq!(messages.len(), 3, "{messages:?}");
    assert!(
        messages.contains(&"/work/quarry.toml: connections.x.workspace_id: unknown key, ignored: did you mean `workspace-id`?".to_string()),
        "{messages:?}"
    );
    assert!(messages.iter().any(|m| m.starts_with("/work/quarry.toml: connections.x.endpiont: unknown key, ignored: known keys are kind, auth")), "{messages:?}");
    assert!(
        messages
            .iter()
            .any(|m| m.contains("connections.x.auth.tenant: unknown key")),
        "{messages:?}"
    );
    assert!(
        loaded.connection("x").is_some(),
        "the connection still loads"
    );
}
