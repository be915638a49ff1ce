//! Reads connections from MSTICPy's `msticpyconfig.yaml` as MSTICPy writes it.
//!
//! Sections read: `Azure` (`cloud`, `auth_methods`), `AzureSentinel.Workspaces`, `KustoClusters`
//! (with `ClusterDefaults`), `DataProviders.MicrosoftDefender`, `DataProviders.Splunk` and
//! `DataProviders.AzureCLI` (the app credentials that the `env` auth method uses). `TIProviders`,
//! `OtherProviders` and `QueryDefinitions` are listed but are not query connections.

use std::path::Path;

use quarry_templates::yaml::{self, Node, Value as YamlValue};
use url::Url;

use super::{
    AuthMethod, AzureCloud, Backend, ConfigProblem, Connection, LoadedConfig, Origin, OtherSection,
    SecretRef,
};
use crate::defender::DefenderApi;
use crate::secret::Secret;

pub(super) fn read(path: &Path, text: &str, loaded: &mut LoadedConfig) {
    let reader = Reader { path, text };
    let root = match yaml::parse(text) {
        Ok(root) => root,
        Err(error) => {
            loaded.problems.push(ConfigProblem {
                origin: Origin {
                    file: path.to_path_buf(),
                    key: String::new(),
                    line: Some(reader.line(error.offset)),
                },
                message: format!("invalid YAML: {}", error.message),
            });
            return;
        }
    };
    if root.is_null() {
        return;
    }

    let cloud = match root.get("Azure").and_then(|azure| azure.get("cloud")) {
        None => AzureCloud::Global,
        Some(node) => match node.as_str().and_then(AzureCloud::parse) {
            Some(cloud) => cloud,
            None => {
                loaded.problems.push(reader.problem(
                    node,
                    "Azure.cloud",
                    "unknown cloud: use global, usgov or cn; using global",
                ));
                AzureCloud::Global
            }
        },
    };
    let azure_auth = reader.azure_auth(&root, loaded);

    if let Some(workspaces) = root
        .get("AzureSentinel")
        .and_then(|section| section.get("Workspaces"))
    {
        for (name, settings) in entries(workspaces) {
            let key = format!("AzureSentinel.Workspaces.{name}");
            let Some(workspace_id) = settings.get("WorkspaceId").and_then(scalar_text) else {
                loaded.problems.push(reader.problem(
                    settings,
                    &format!("{key}.WorkspaceId"),
                    "is missing: add the workspace's id",
                ));
                continue;
            };
            let tenant = settings.get("TenantId").and_then(scalar_text);
            loaded.add(Connection {
                name: format!("sentinel:{name}"),
                backend: Backend::LogAnalytics {
                    workspace_id,
                    endpoint: None,
                    additional_workspaces: Vec::new(),
                },
                auth: azure_auth.with_tenant(tenant),
                cloud,
                authority: None,
                origin: reader.origin(settings, &key),
            });
        }
    }

    if let Some(clusters) = root.get("KustoClusters") {
        let defaults = clusters
            .get("ClusterDefaults")
            .and_then(|node| node.get("Args"));
        for (name, settings) in entries(clusters) {
            if name == "ClusterDefaults" || name == "ClusterGroups" {
                continue;
            }
            let key = format!("KustoClusters.{name}");
            match reader.kusto_cluster(&key, settings, defaults, &azure_auth) {
                Ok((backend, auth)) => loaded.add(Connection {
                    name: format!("kusto:{name}"),
                    backend,
                    auth,
                    cloud,
                    authority: None,
                    origin: reader.origin(settings, &key),
                }),
                Err(problem) => loaded.problems.push(problem),
            }
        }
    }

    let providers = root.get("DataProviders");
    if let Some(args) = providers
        .and_then(|p| p.get("MicrosoftDefender"))
        .and_then(|p| p.get("Args"))
    {
        let key = "DataProviders.MicrosoftDefender.Args";
        match reader.app_auth(key, args, &azure_auth) {
            Ok(auth) => loaded.add(Connection {
                name: "defender".to_string(),
                backend: Backend::Defender {
                    api: DefenderApi::Graph,
                    endpoint: None,
                },
                auth,
                cloud,
                authority: None,
                origin: reader.origin(args, key),
            }),
            Err(problem) => loaded.problems.push(problem),
        }
    }
    if let Some(args) = providers
        .and_then(|p| p.get("Splunk"))
        .and_then(|p| p.get("Args"))
    {
        match reader.splunk("DataProviders.Splunk.Args", args) {
            Ok(connection) => loaded.add(connection),
            Err(problem) => loaded.problems.push(problem),
        }
    }

    for section in ["TIProviders", "OtherProviders", "QueryDefinitions"] {
        if let Some(node) = root.get(section) {
            let names = entries(node).map(|(name, _)| name).collect();
            loaded.other_sections.push(OtherSection {
                section: section.to_string(),
                entries: names,
            });
        }
    }
}

/// The Azure auth chosen by `Azure.auth_methods`, before a tenant is filled in.
#[derive(Clone)]
enum AzureAuth {
    Cli,
    DeviceCode,
    App {
        tenant: String,
        client_id: String,
        secret: SecretRef,
    },
}

impl AzureAuth {
    fn with_tenant(&self, tenant: Option<String>) -> AuthMethod {
        match self {
            AzureAuth::Cli => AuthMethod::AzureCli { tenant },
            AzureAuth::DeviceCode => AuthMethod::DeviceCode {
                tenant,
                client_id: None,
            },
            AzureAuth::App {
                tenant: app_tenant,
                client_id,
                secret,
            } => AuthMethod::ClientSecret {
                tenant: tenant.unwrap_or_else(|| app_tenant.clone()),
                client_id: client_id.clone(),
                secret: secret.clone(),
            },
        }
    }
}

/// Lists the keys of a mapping with their values.
fn entries(node: &Node) -> impl Iterator<Item = (String, &Node)> {
    node.as_map()
        .unwrap_or_default()
        .iter()
        .filter_map(|(key, value)| Some((key.key_text()?, value)))
}

/// Returns the text of a scalar. Numbers become their decimal text (a port, an unquoted id).
fn scalar_text(node: &Node) -> Option<String> {
    match &node.value {
        YamlValue::Str(text) | YamlValue::Timestamp(text) => {
            Some(text.clone()).filter(|text| !text.is_empty())
        }
        YamlValue::Int(number) => Some(number.to_string()),
        _ => None,
    }
}

struct Reader<'a> {
    path: &'a Path,
    text: &'a str,
}

impl Reader<'_> {
    fn line(&self, offset: usize) -> usize {
        self.text[..offset.min(self.text.len())]
            .matches('\n')
            .count()
            + 1
    }

    fn origin(&self, node: &Node, key: &str) -> Origin {
        Origin {
            file: self.path.to_path_buf(),
            key: key.to_string(),
            line: Some(self.line(node.span.start)),
        }
    }

    fn problem(&self, node: &Node, key: &str, message: impl Into<String>) -> ConfigProblem {
        ConfigProblem {
            origin: self.origin(node, key),
            message: message.into(),
        }
    }

    /// Reads a secret: a literal string, `EnvironmentVar: NAME` or `KeyVault: ...`.
    fn secret(&self, node: &Node, key: &str) -> Result<SecretRef, ConfigProblem> {
        if let Some(text) = scalar_text(node) {
            return Ok(SecretRef::Literal(Secret::new(text)));
        }
        if let Some(name) = node.get("EnvironmentVar").and_then(scalar_text) {
            return Ok(SecretRef::Env(name));
        }
        if let Some(vault) = node.get("KeyVault") {
            return Ok(SecretRef::KeyVault(
                scalar_text(vault).unwrap_or_else(|| key.to_string()),
            ));
        }
        Err(self.problem(
            node,
            key,
            "must be a string, EnvironmentVar: NAME or KeyVault: NAME",
        ))
    }

    fn azure_auth(&self, root: &Node, loaded: &mut LoadedConfig) -> AzureAuth {
        let Some(methods_node) = root
            .get("Azure")
            .and_then(|azure| azure.get("auth_methods"))
        else {
            return AzureAuth::Cli;
        };
        let methods: Vec<String> = methods_node
            .as_seq()
            .unwrap_or_default()
            .iter()
            .filter_map(scalar_text)
            .collect();
        for method in &methods {
            match method.as_str() {
                "cli" => return AzureAuth::Cli,
                "devicecode" | "device_code" => return AzureAuth::DeviceCode,
                "env" | "clientsecret" => {
                    let args = root
                        .get("DataProviders")
                        .and_then(|p| p.get("AzureCLI"))
                        .and_then(|p| p.get("Args"));
                    let key = "DataProviders.AzureCLI.Args";
                    let Some(args) = args else {
                        loaded.problems.push(self.problem(
                            methods_node,
                            "Azure.auth_methods",
                            format!(
                                "`{method}` needs {key} with clientId, tenantId and clientSecret"
                            ),
                        ));
                        continue;
                    };
                    let client_id = args.get("clientId").and_then(scalar_text);
                    let tenant = args.get("tenantId").and_then(scalar_text);
                    let secret = args
                        .get("clientSecret")
                        .map(|node| self.secret(node, &format!("{key}.clientSecret")));
                    match (client_id, tenant, secret) {
                        (Some(client_id), Some(tenant), Some(Ok(secret))) => {
                            return AzureAuth::App {
                                tenant,
                                client_id,
                                secret,
                            };
                        }
                        (_, _, Some(Err(problem))) => loaded.problems.push(problem),
                        _ => loaded.problems.push(self.problem(
                            args,
                            key,
                            "needs clientId, tenantId and clientSecret",
                        )),
                    }
                }
                _ => {}
            }
        }
        loaded.problems.push(self.problem(
            methods_node,
            "Azure.auth_methods",
            format!("Quarry supports none of {methods:?}; it uses the Azure CLI. Add cli or devicecode to the list"),
        ));
        AzureAuth::Cli
    }

    /// Reads app credentials (`ClientId`, `TenantId`, `ClientSecret`); without a secret the
    /// connection falls back to the Azure auth methods.
    fn app_auth(
        &self,
        key: &str,
        args: &Node,
        azure_auth: &AzureAuth,
    ) -> Result<AuthMethod, ConfigProblem> {
        let tenant = args.get("TenantId").and_then(scalar_text);
        let client_id = args.get("ClientId").and_then(scalar_text);
        let Some(secret_node) = args.get("ClientSecret") else {
            return Ok(azure_auth.with_tenant(tenant));
        };
        let secret = self.secret(secret_node, &format!("{key}.ClientSecret"))?;
        let tenant = tenant.ok_or_else(|| {
            self.problem(
                args,
                &format!("{key}.TenantId"),
                "is missing: ClientSecret needs the tenant id",
            )
        })?;
        let client_id = client_id.ok_or_else(|| {
            self.problem(
                args,
                &format!("{key}.ClientId"),
                "is missing: ClientSecret needs the app's client id",
            )
        })?;
        Ok(AuthMethod::ClientSecret {
            tenant,
            client_id,
            secret,
        })
    }

    fn kusto_cluster(
        &self,
        key: &str,
        settings: &Node,
        defaults: Option<&Node>,
        azure_auth: &AzureAuth,
    ) -> Result<(Backend, AuthMethod), ConfigProblem> {
        let args_key = format!("{key}.Args");
        let args = settings.get("Args").ok_or_else(|| {
            self.problem(settings, &args_key, "is missing: add Args with Cluster")
        })?;
        // A cluster's own Args override ClusterDefaults.Args.
        let lookup = |name: &str| {
            args.get(name)
                .or_else(|| defaults.and_then(|defaults| defaults.get(name)))
        };

        let cluster_text = args.get("Cluster").and_then(scalar_text).ok_or_else(|| {
            self.problem(
                args,
                &format!("{args_key}.Cluster"),
                "is missing: set it to the cluster URL",
            )
        })?;
        let cluster = Url::parse(&cluster_text).map_err(|error| {
            self.problem(
                args,
                &format!("{args_key}.Cluster"),
                format!("`{cluster_text}` is not a valid URL ({error})"),
            )
        })?;
        let database = lookup("Database").and_then(scalar_text);
        let tenant = lookup("TenantId").and_then(scalar_text);
        let integrated = lookup("IntegratedAuth")
            .is_some_and(|node| matches!(node.value, YamlValue::Bool(true)));

        let auth = match (lookup("ClientSecret"), integrated) {
            (Some(secret_node), false) => {
                let secret = self.secret(secret_node, &format!("{args_key}.ClientSecret"))?;
                let client_id = lookup("ClientId").and_then(scalar_text).ok_or_else(|| {
                    self.problem(
                        args,
                        &format!("{args_key}.ClientId"),
                        "is missing: ClientSecret needs the app's client id",
                    )
                })?;
                let tenant = tenant.ok_or_else(|| {
                    self.problem(
                        args,
                        &format!("{args_key}.TenantId"),
                        "is missing: ClientSecret needs the tenant id",
                    )
                })?;
                AuthMethod::ClientSecret {
                    tenant,
                    client_id,
                    secret,
                }
            }
            _ => azure_auth.with_tenant(tenant),
        };
        Ok((Backend::DataExplorer { cluster, database }, auth))
    }

    fn splunk(&self, key: &str, args: &Node) -> Result<Connection, ConfigProblem> {
        let host = args.get("host").and_then(scalar_text).ok_or_else(|| {
            self.problem(
                args,
                &format!("{key}.host"),
                "is missing: set it to the Splunk server's host name",
            )
        })?;
        let port = args
            .get("port")
            .and_then(scalar_text)
            .unwrap_or_else(|| "8089".to_string());
        let url_text = if host.contains("://") {
            format!("{host}:{port}")
        } else {
            format!("https://{host}:{port}")
        };
        let url = Url::parse(&url_text).map_err(|error| {
            self.problem(
                args,
                &format!("{key}.host"),
                format!("`{url_text}` is not a valid URL ({error})"),
            )
        })?;

        let auth = if let Some(token) = args.get("bearer_token") {
            AuthMethod::Token {
                token: self.secret(token, &format!("{key}.bearer_token"))?,
            }
        } else {
            let username = args.get("username").and_then(scalar_text).ok_or_else(|| {
                self.problem(
                    args,
                    &format!("{key}.username"),
                    "is missing: set username and password, or bearer_token",
                )
            })?;
            let password_node = args.get("password").ok_or_else(|| {
                self.problem(
                    args,
                    &format!("{key}.password"),
                    "is missing: set it, for example to EnvironmentVar: SPLUNK_PASSWORD",
                )
            })?;
            AuthMethod::Basic {
                username,
                password: self.secret(password_node, &format!("{key}.password"))?,
            }
        };
        Ok(Connection {
            name: "splunk".to_string(),
            backend: Backend::Splunk { url },
            auth,
            cloud: AzureCloud::Global,
            authority: None,
            origin: self.origin(args, key),
        })
    }
}
