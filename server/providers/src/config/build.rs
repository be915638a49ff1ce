//! Turns a configured connection into a ready client, resolving its secrets.

use std::path::Path;
use std::sync::Arc;

use super::{AuthMethod, Backend, ConfigProblem, Connection, Environment};
use crate::auth::{
    AzureCliCredential, ClientCredentials, Credential, DeviceCodeFlow, OAuthEndpoints, PollTiming,
    StaticToken, TokenCache,
};
use crate::auth::{DeviceCodePrompt, PromptCallback};
use crate::defender::{Defender, DefenderConfig};
use crate::http::{HttpOptions, Transport};
use crate::kusto::{DataExplorer, DataExplorerConfig};
use crate::log_analytics::{LogAnalytics, LogAnalyticsConfig};
use crate::query::Provider;
use crate::splunk::{Splunk, SplunkConfig};

/// The Azure CLI's public client id, which Entra accepts for device-code sign-in to Azure
/// resources without an app registration of one's own.
const AZURE_CLI_CLIENT_ID: &str = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";

/// Settings that come from the caller rather than the file.
#[derive(Clone)]
pub struct BuildOptions {
    pub http: HttpOptions,
    /// The callback that shows the device-code prompt. The editor forwards it to the user.
    pub prompt: PromptCallback,
    pub poll_timing: PollTiming,
}

impl Default for BuildOptions {
    fn default() -> BuildOptions {
        BuildOptions {
            http: HttpOptions::default(),
            prompt: Arc::new(|prompt: &DeviceCodePrompt| {
                tracing::warn!(user_code = %prompt.user_code, url = %prompt.verification_uri, "device-code sign-in needed");
            }),
            poll_timing: PollTiming::default(),
        }
    }
}

/// Builds the client for `connection`. Fails with a problem naming the setting to fix.
pub fn build_provider(
    connection: &Connection,
    env: &dyn Environment,
    options: &BuildOptions,
) -> Result<Box<dyn Provider>, ConfigProblem> {
    let problem = |key: &str, message: String| ConfigProblem {
        origin: super::Origin {
            file: connection.origin.file.clone(),
            key: if key.is_empty() {
                connection.origin.key.clone()
            } else {
                format!("{}.{key}", connection.origin.key)
            },
            line: connection.origin.line,
        },
        message,
    };
    let to_problem = |error: crate::ProviderError| problem("", error.to_string());
    let credential =
        credential(connection, env, options).map_err(|message| problem("auth", message))?;

    let provider: Box<dyn Provider> = match &connection.backend {
        Backend::LogAnalytics {
            workspace_id,
            endpoint,
            additional_workspaces,
        } => {
            let mut config = LogAnalyticsConfig::new(workspace_id.clone());
            config.endpoint = endpoint
                .clone()
                .unwrap_or_else(|| connection.cloud.log_analytics_endpoint());
            config.additional_workspaces = additional_workspaces.clone();
            Box::new(LogAnalytics::new(config, credential, &options.http).map_err(to_problem)?)
        }
        Backend::DataExplorer { cluster, database } => {
            let database = database.clone().ok_or_else(|| {
                problem(
                    "database",
                    "is not set: name the database that queries run in".to_string(),
                )
            })?;
            let config = DataExplorerConfig {
                cluster: cluster.clone(),
                database,
                scope: None,
            };
            Box::new(DataExplorer::new(config, credential, &options.http).map_err(to_problem)?)
        }
        Backend::Defender { api, endpoint } => {
            let mut config = DefenderConfig::new(*api);
            if let Some(endpoint) = endpoint {
                config.endpoint = endpoint.clone();
            }
            Box::new(Defender::new(config, credential, &options.http).map_err(to_problem)?)
        }
        Backend::Splunk { url } => {
            if matches!(credential, Credential::Bearer(_)) {
                return Err(problem(
                    "auth",
                    "Splunk needs method token or basic".to_string(),
                ));
            }
            Box::new(
                Splunk::new(
                    SplunkConfig {
                        base_url: url.clone(),
                    },
                    credential,
                    &options.http,
                )
                .map_err(to_problem)?,
            )
        }
    };
    Ok(provider)
}

fn credential(
    connection: &Connection,
    env: &dyn Environment,
    options: &BuildOptions,
) -> Result<Credential, String> {
    let is_splunk = matches!(connection.backend, Backend::Splunk { .. });
    let authority = connection
        .authority
        .clone()
        .unwrap_or_else(|| connection.cloud.authority_host());
    let endpoints = |tenant: &str| {
        OAuthEndpoints::azure(&authority, tenant)
            .map_err(|error| format!("the authority `{authority}` is not usable ({error})"))
    };
    let transport = || Transport::new(&options.http).map_err(|error| error.to_string());

    let credential = match &connection.auth {
        AuthMethod::Token { token } => {
            let token = token.resolve(env)?;
            if is_splunk {
                Credential::SplunkToken(token)
            } else {
                Credential::Bearer(Arc::new(StaticToken::new(
                    token,
                    connection
                        .auth
                        .secret()
                        .map(ToString::to_string)
                        .unwrap_or_default(),
                )))
            }
        }
        AuthMethod::Basic { username, password } => {
            if !is_splunk {
                return Err("basic authentication works only for Splunk: use azure-cli, client-secret or device-code".to_string());
            }
            Credential::Basic {
                username: username.clone(),
                password: password.resolve(env)?,
            }
        }
        _ if is_splunk => {
            return Err(format!(
                "method {} does not work for Splunk: use token or basic",
                connection.auth.name()
            ));
        }
        AuthMethod::AzureCli { tenant } => Credential::Bearer(Arc::new(TokenCache::new(
            AzureCliCredential::new(tenant.clone()),
        ))),
        AuthMethod::ClientSecret {
            tenant,
            client_id,
            secret,
        } => {
            let source = ClientCredentials::new(
                endpoints(tenant)?,
                client_id.clone(),
                secret.resolve(env)?,
                transport()?,
            );
            Credential::Bearer(Arc::new(TokenCache::new(source)))
        }
        AuthMethod::DeviceCode { tenant, client_id } => {
            let tenant = tenant.as_deref().unwrap_or("organizations");
            let client_id = client_id
                .clone()
                .unwrap_or_else(|| AZURE_CLI_CLIENT_ID.to_string());
            let flow = DeviceCodeFlow::new(
                endpoints(tenant)?,
                client_id,
                transport()?,
                options.prompt.clone(),
            )
            .with_timing(options.poll_timing.clone());
            Credential::Bearer(Arc::new(TokenCache::new(flow)))
        }
    };
    Ok(credential)
}

/// Lists what would stop `connection` from working, without contacting any service: secrets
/// that do not resolve, a missing `az`, a missing database.
pub fn check_connection(connection: &Connection, env: &dyn Environment) -> Vec<ConfigProblem> {
    let mut problems = Vec::new();
    if let Err(problem) = build_provider(connection, env, &BuildOptions::default()) {
        problems.push(problem);
    }
    if matches!(connection.auth, AuthMethod::AzureCli { .. }) && !program_on_path("az", env) {
        problems.push(ConfigProblem {
            origin: connection.origin.clone(),
            message: "uses the Azure CLI, but `az` is not on PATH: install the Azure CLI and run `az login`".to_string(),
        });
    }
    problems
}

fn program_on_path(program: &str, env: &dyn Environment) -> bool {
    let Some(path) = env.var("PATH") else {
        return false;
    };
    std::env::split_paths(&path).any(|dir| is_executable(&dir.join(program)))
}

fn is_executable(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        path.metadata()
            .is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
    }
    #[cfg(not(unix))]
    {
        path.is_file() || path.with_extension("cmd").is_file()
    }
}
