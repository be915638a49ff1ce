//! Reads `[connections.NAME]` tables from `quarry.toml`.
//!
//! ```toml
//! [connections.sentinel-prod]
//! kind = "log-analytics"            # log-analytics, azure-data-explorer, defender, splunk
//! workspace-id = "00000000-0000-0000-0000-000000000000"
//! auth = { method = "azure-cli", tenant-id = "contoso.onmicrosoft.com" }
//! ```

use std::path::Path;

use toml::{Table, Value};
use url::Url;

use super::{
    AuthMethod, AzureCloud, Backend, ConfigProblem, Connection, LoadedConfig, Origin, SecretRef,
};
use crate::defender::DefenderApi;
use crate::secret::Secret;

const KINDS: &str = "log-analytics, azure-data-explorer, defender, splunk";
const METHODS: &str = "azure-cli, client-secret, device-code, token, basic";

pub(super) fn read(path: &Path, text: &str, loaded: &mut LoadedConfig) {
    let table: Table = match text.parse() {
        Ok(table) => table,
        Err(error) => {
            let line = error
                .span()
                .map(|span| text[..span.start].matches('\n').count() + 1);
            loaded.problems.push(ConfigProblem {
                origin: Origin {
                    file: path.to_path_buf(),
                    key: String::new(),
                    line,
                },
                message: format!("invalid TOML: {}", error.message()),
            });
            return;
        }
    };
    let Some(connections) = table.get("connections") else {
        return;
    };
    let reader = Reader { path };
    let Some(connections) = connections.as_table() else {
        loaded.problems.push(reader.problem(
            "connections",
            "must be a table of named connections, such as [connections.prod]",
        ));
        return;
    };
    for (name, value) in connections {
        let key = format!("connections.{name}");
        let Some(settings) = value.as_table() else {
            loaded
                .problems
                .push(reader.problem(&key, "must be a table"));
            continue;
        };
        loaded.problems.extend(reader.unknown_keys(&key, settings));
        match reader.connection(name, &key, settings) {
            Ok(connection) => loaded.add(connection),
            Err(problem) => loaded.problems.push(problem),
        }
    }
}

/// Keys a connection table may have, whatever its kind; a kind uses only some of them.
const CONNECTION_KEYS: &[&str] = &[
    "kind",
    "auth",
    "cloud",
    "workspace-id",
    "additional-workspaces",
    "endpoint",
    "cluster",
    "database",
    "api",
    "url",
];

/// Keys an `auth` table may have.
const AUTH_KEYS: &[&str] = &[
    "method",
    "tenant-id",
    "client-id",
    "client-secret",
    "token",
    "username",
    "password",
    "authority",
];

struct Reader<'a> {
    path: &'a Path,
}

impl Reader<'_> {
    /// Reports keys that Quarry does not read, which are usually typos such as `workspace_id`.
    fn unknown_keys(&self, key: &str, settings: &Table) -> Vec<ConfigProblem> {
        let mut problems = Vec::new();
        let mut check = |parent: &str, table: &Table, allowed: &[&str]| {
            for name in table.keys() {
                if allowed.contains(&name.as_str()) {
                    continue;
                }
                let dashed = name.replace('_', "-").to_ascii_lowercase();
                let hint = if allowed.contains(&dashed.as_str()) {
                    format!("did you mean `{dashed}`?")
                } else {
                    format!("known keys are {}", allowed.join(", "))
                };
                problems.push(self.problem(
                    &format!("{parent}.{name}"),
                    format!("unknown key, ignored: {hint}"),
                ));
            }
        };
        check(key, settings, CONNECTION_KEYS);
        if let Some(auth) = settings.get("auth").and_then(Value::as_table) {
            check(&format!("{key}.auth"), auth, AUTH_KEYS);
        }
        problems
    }

    fn problem(&self, key: &str, message: impl Into<String>) -> ConfigProblem {
        ConfigProblem {
            origin: Origin {
                file: self.path.to_path_buf(),
                key: key.to_string(),
                line: None,
            },
            message: message.into(),
        }
    }

    fn string(
        &self,
        table: &Table,
        parent: &str,
        key: &str,
    ) -> Result<Option<String>, ConfigProblem> {
        match table.get(key) {
            None => Ok(None),
            Some(Value::String(text)) => Ok(Some(text.clone())),
            Some(other) => Err(self.problem(
                &format!("{parent}.{key}"),
                format!("must be a string, not `{other}`"),
            )),
        }
    }

    fn required(
        &self,
        table: &Table,
        parent: &str,
        key: &str,
        hint: &str,
    ) -> Result<String, ConfigProblem> {
        self.string(table, parent, key)?
            .ok_or_else(|| self.problem(&format!("{parent}.{key}"), format!("is missing: {hint}")))
    }

    fn url(&self, table: &Table, parent: &str, key: &str) -> Result<Option<Url>, ConfigProblem> {
        let Some(text) = self.string(table, parent, key)? else {
            return Ok(None);
        };
        Url::parse(&text).map(Some).map_err(|error| {
            self.problem(
                &format!("{parent}.{key}"),
                format!("`{text}` is not a valid URL ({error})"),
            )
        })
    }

    fn connection(
        &self,
        name: &str,
        key: &str,
        settings: &Table,
    ) -> Result<Connection, ConfigProblem> {
        let kind = self.required(settings, key, "kind", &format!("set it to one of {KINDS}"))?;
        let backend = match kind.as_str() {
            "log-analytics" | "sentinel" => Backend::LogAnalytics {
                workspace_id: self.required(settings, key, "workspace-id", "set it to the workspace's id (a GUID)")?,
                endpoint: self.url(settings, key, "endpoint")?,
                additional_workspaces: self.string_list(settings, key, "additional-workspaces")?,
            },
            "azure-data-explorer" | "kusto" => Backend::DataExplorer {
                cluster: self
                    .url(settings, key, "cluster")?
                    .ok_or_else(|| self.problem(&format!("{key}.cluster"), "is missing: set it to the cluster URL"))?,
                database: self.string(settings, key, "database")?,
            },
            "defender" => {
                let api = match self.string(settings, key, "api")?.as_deref() {
                    None | Some("graph") => DefenderApi::Graph,
                    Some("advanced-hunting") => DefenderApi::AdvancedHunting,
                    Some(other) => {
                        return Err(self.problem(
                            &format!("{key}.api"),
                            format!("unknown value `{other}`: use graph or advanced-hunting"),
                        ));
                    }
                };
                Backend::Defender { api, endpoint: self.url(settings, key, "endpoint")? }
            }
            "splunk" => Backend::Splunk {
                url: self
                    .url(settings, key, "url")?
                    .ok_or_else(|| self.problem(&format!("{key}.url"), "is missing: set it to the management URL, such as https://splunk.example.com:8089"))?,
            },
            other => {
                return Err(self.problem(&format!("{key}.kind"), format!("unknown value `{other}`: use one of {KINDS}")));
            }
        };

        let cloud = match self.string(settings, key, "cloud")? {
            None => AzureCloud::Global,
            Some(name) => AzureCloud::parse(&name).ok_or_else(|| {
                self.problem(
                    &format!("{key}.cloud"),
                    format!("unknown value `{name}`: use global, usgov or cn"),
                )
            })?,
        };
        let auth = self.auth(settings, key, &backend)?;
        let authority = match settings.get("auth").and_then(Value::as_table) {
            Some(auth_table) => self.url(auth_table, &format!("{key}.auth"), "authority")?,
            None => None,
        };
        Ok(Connection {
            name: name.to_string(),
            backend,
            auth,
            cloud,
            authority,
            origin: Origin {
                file: self.path.to_path_buf(),
                key: key.to_string(),
                line: None,
            },
        })
    }

    fn string_list(
        &self,
        table: &Table,
        parent: &str,
        key: &str,
    ) -> Result<Vec<String>, ConfigProblem> {
        let Some(value) = table.get(key) else {
            return Ok(Vec::new());
        };
        let items = value
            .as_array()
            .ok_or_else(|| self.problem(&format!("{parent}.{key}"), "must be a list of strings"))?;
        items
            .iter()
            .map(|item| {
                item.as_str().map(str::to_string).ok_or_else(|| {
                    self.problem(
                        &format!("{parent}.{key}"),
                        format!("must be a list of strings, not contain `{item}`"),
                    )
                })
            })
            .collect()
    }

    /// Reads `auth`, either a method name or a table with `method` and its settings. Without
    /// it, Azure back ends use the Azure CLI; Splunk has no default.
    fn auth(
        &self,
        settings: &Table,
        key: &str,
        backend: &Backend,
    ) -> Result<AuthMethod, ConfigProblem> {
        let auth_key = format!("{key}.auth");
        let empty = Table::new();
        let (method, table) = match settings.get("auth") {
            None if matches!(backend, Backend::Splunk { .. }) => {
                return Err(self.problem(
                    &auth_key,
                    "is missing: Splunk needs method = \"token\" or \"basic\"",
                ));
            }
            None => ("azure-cli".to_string(), &empty),
            Some(Value::String(method)) => (method.clone(), &empty),
            Some(Value::Table(table)) => (
                self.required(
                    table,
                    &auth_key,
                    "method",
                    &format!("set it to one of {METHODS}"),
                )?,
                table,
            ),
            Some(other) => {
                return Err(self.problem(
                    &auth_key,
                    format!("must be a method name or a table, not `{other}`"),
                ));
            }
        };
        let tenant = self.string(table, &auth_key, "tenant-id")?;
        let method = match method.as_str() {
            "azure-cli" => AuthMethod::AzureCli { tenant },
            "device-code" => AuthMethod::DeviceCode {
                tenant,
                client_id: self.string(table, &auth_key, "client-id")?,
            },
            "client-secret" => AuthMethod::ClientSecret {
                tenant: tenant.ok_or_else(|| {
                    self.problem(
                        &format!("{auth_key}.tenant-id"),
                        "is missing: client-secret needs the tenant id",
                    )
                })?,
                client_id: self.required(
                    table,
                    &auth_key,
                    "client-id",
                    "set it to the app registration's client id",
                )?,
                secret: self.secret(table, &auth_key, "client-secret")?,
            },
            "token" => AuthMethod::Token {
                token: self.secret(table, &auth_key, "token")?,
            },
            "basic" => AuthMethod::Basic {
                username: self.required(
                    table,
                    &auth_key,
                    "username",
                    "set it to the Splunk user name",
                )?,
                password: self.secret(table, &auth_key, "password")?,
            },
            other => {
                return Err(self.problem(
                    &format!("{auth_key}.method"),
                    format!("unknown value `{other}`: use one of {METHODS}"),
                ));
            }
        };
        Ok(method)
    }

    /// Reads a secret: a string, `{ env = "NAME" }` or `{ keyring = "NAME" }`.
    fn secret(&self, table: &Table, parent: &str, key: &str) -> Result<SecretRef, ConfigProblem> {
        let full_key = format!("{parent}.{key}");
        match table.get(key) {
            None => Err(self.problem(
                &full_key,
                "is missing: set it to { env = \"VARIABLE\" } or { keyring = \"ENTRY\" }",
            )),
            Some(Value::String(text)) => Ok(SecretRef::Literal(Secret::new(text.clone()))),
            Some(Value::Table(reference)) => {
                if let Some(Value::String(name)) = reference.get("env") {
                    Ok(SecretRef::Env(name.clone()))
                } else if let Some(Value::String(name)) = reference.get("keyring") {
                    Ok(SecretRef::Keyring(name.clone()))
                } else {
                    Err(self.problem(
                        &full_key,
                        "must have env = \"VARIABLE\" or keyring = \"ENTRY\"",
                    ))
                }
            }
            // Printing the value could print a secret, so the message shows only its type.
            Some(other) => Err(self.problem(
                &full_key,
                format!("must be a string or a table, not a {}", other.type_str()),
            )),
        }
    }
}
