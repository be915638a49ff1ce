//! Connection settings from `quarry.toml` and MSTICPy's `msticpyconfig.yaml`.
//!
//! Loading never stops at the first mistake: every connection that reads cleanly is returned,
//! and each mistake becomes a [`ConfigProblem`] naming the file, the key, the value and the fix.
//! Secrets stay references ([`SecretRef`]) until a provider is built, so `quarry config check`
//! can report a missing environment variable without printing any secret.

mod build;
mod msticpy;
mod quarry_toml;

use std::fmt;
use std::path::{Path, PathBuf};

use url::Url;

pub use build::{BuildOptions, build_provider, check_connection};

use crate::defender::DefenderApi;
use crate::secret::Secret;

/// The source of a secret.
#[derive(Clone, Debug, PartialEq)]
pub enum SecretRef {
    /// Written in the file itself.
    Literal(Secret),
    /// An environment variable's name.
    Env(String),
    /// An entry in the OS keyring.
    Keyring(String),
    /// An Azure Key Vault secret, as MSTICPy's `KeyVault` form names it.
    KeyVault(String),
}

impl fmt::Display for SecretRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretRef::Literal(_) => f.write_str("a value written in the file"),
            SecretRef::Env(name) => write!(f, "environment variable {name}"),
            SecretRef::Keyring(name) => write!(f, "keyring entry {name}"),
            SecretRef::KeyVault(name) => write!(f, "Key Vault secret {name}"),
        }
    }
}

/// Reads the process environment and secret stores. Tests and the editor pass their own: the
/// VS Code extension can hand in secrets from its SecretStorage here.
pub trait Environment {
    fn var(&self, name: &str) -> Option<String>;

    fn home_dir(&self) -> Option<PathBuf>;

    /// Looks up a keyring entry. The default has no keyring and returns an error saying so;
    /// [`ProcessEnvironment`] reads the OS keyring.
    fn keyring(&self, name: &str) -> Result<Option<Secret>, String> {
        let _ = name;
        Err(format!(
            "keyring entry {name} cannot be read here, because this environment has no keyring: use an environment variable"
        ))
    }
}

/// The real process environment.
#[derive(Clone, Copy, Debug, Default)]
pub struct ProcessEnvironment;

impl Environment for ProcessEnvironment {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }

    fn home_dir(&self) -> Option<PathBuf> {
        std::env::var_os("HOME")
            .or_else(|| std::env::var_os("USERPROFILE"))
            .map(PathBuf::from)
    }

    fn keyring(&self, name: &str) -> Result<Option<Secret>, String> {
        crate::keyring_store::read(name)
    }
}

impl SecretRef {
    /// Returns the secret, or the problem to report (without the secret).
    pub fn resolve(&self, env: &dyn Environment) -> Result<Secret, String> {
        match self {
            SecretRef::Literal(secret) => Ok(secret.clone()),
            SecretRef::Env(name) => match env.var(name) {
                Some(value) if !value.is_empty() => Ok(Secret::new(value)),
                Some(_) => Err(format!(
                    "environment variable {name} is empty: set it to the secret"
                )),
                None => Err(format!(
                    "environment variable {name} is not set: export it before starting Quarry"
                )),
            },
            SecretRef::Keyring(name) => match env.keyring(name)? {
                Some(secret) => Ok(secret),
                None => Err(format!(
                    "keyring entry {name} was not found: add it to the OS keyring (service `quarry`, account `{name}`) or set it from the editor"
                )),
            },
            SecretRef::KeyVault(name) => Err(format!(
                "Key Vault secret {name} cannot be read yet: put the secret in an environment variable and use EnvironmentVar"
            )),
        }
    }
}

/// The Azure cloud a connection lives in; it sets the default sign-in and Log Analytics hosts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum AzureCloud {
    #[default]
    Global,
    UsGov,
    China,
}

impl AzureCloud {
    /// Reads MSTICPy's and Quarry's names: `global`, `usgov`, `cn`.
    pub fn parse(name: &str) -> Option<AzureCloud> {
        match name.to_ascii_lowercase().as_str() {
            "global" | "public" | "azurecloud" => Some(AzureCloud::Global),
            "usgov" | "azureusgovernment" => Some(AzureCloud::UsGov),
            "cn" | "china" | "azurechinacloud" => Some(AzureCloud::China),
            _ => None,
        }
    }

    pub fn authority_host(self) -> Url {
        let host = match self {
            AzureCloud::Global => "https://login.microsoftonline.com",
            AzureCloud::UsGov => "https://login.microsoftonline.us",
            AzureCloud::China => "https://login.chinacloudapi.cn",
        };
        Url::parse(host).expect("valid URL")
    }

    pub fn log_analytics_endpoint(self) -> Url {
        let host = match self {
            AzureCloud::Global => "https://api.loganalytics.io",
            AzureCloud::UsGov => "https://api.loganalytics.us",
            AzureCloud::China => "https://api.loganalytics.azure.cn",
        };
        Url::parse(host).expect("valid URL")
    }
}

/// The service and target a connection queries.
#[derive(Clone, Debug, PartialEq)]
pub enum Backend {
    LogAnalytics {
        workspace_id: String,
        endpoint: Option<Url>,
        additional_workspaces: Vec<String>,
    },
    DataExplorer {
        cluster: Url,
        database: Option<String>,
    },
    Defender {
        api: DefenderApi,
        endpoint: Option<Url>,
    },
    Splunk {
        url: Url,
    },
}

impl Backend {
    pub fn kind(&self) -> &'static str {
        match self {
            Backend::LogAnalytics { .. } => "log-analytics",
            Backend::DataExplorer { .. } => "azure-data-explorer",
            Backend::Defender { .. } => "defender",
            Backend::Splunk { .. } => "splunk",
        }
    }

    /// Returns a one-line description of the target, for listings.
    pub fn target(&self) -> String {
        match self {
            Backend::LogAnalytics { workspace_id, .. } => format!("workspace {workspace_id}"),
            Backend::DataExplorer { cluster, database } => match database {
                Some(database) => format!("{cluster} database {database}"),
                None => format!("{cluster} (no database)"),
            },
            Backend::Defender {
                api: DefenderApi::Graph,
                ..
            } => "Microsoft Graph runHuntingQuery".to_string(),
            Backend::Defender {
                api: DefenderApi::AdvancedHunting,
                ..
            } => "advanced hunting API".to_string(),
            Backend::Splunk { url } => url.to_string(),
        }
    }
}

/// The sign-in method of a connection.
#[derive(Clone, Debug, PartialEq)]
pub enum AuthMethod {
    AzureCli {
        tenant: Option<String>,
    },
    ClientSecret {
        tenant: String,
        client_id: String,
        secret: SecretRef,
    },
    DeviceCode {
        tenant: Option<String>,
        client_id: Option<String>,
    },
    /// A ready bearer token (or a Splunk token).
    Token {
        token: SecretRef,
    },
    /// Splunk's username and password.
    Basic {
        username: String,
        password: SecretRef,
    },
}

impl AuthMethod {
    pub fn name(&self) -> &'static str {
        match self {
            AuthMethod::AzureCli { .. } => "azure-cli",
            AuthMethod::ClientSecret { .. } => "client-secret",
            AuthMethod::DeviceCode { .. } => "device-code",
            AuthMethod::Token { .. } => "token",
            AuthMethod::Basic { .. } => "basic",
        }
    }

    /// The secret the method needs, if any.
    pub fn secret(&self) -> Option<&SecretRef> {
        match self {
            AuthMethod::ClientSecret { secret, .. } => Some(secret),
            AuthMethod::Token { token } => Some(token),
            AuthMethod::Basic { password, .. } => Some(password),
            AuthMethod::AzureCli { .. } | AuthMethod::DeviceCode { .. } => None,
        }
    }
}

/// The place a setting was read from.
#[derive(Clone, Debug, PartialEq)]
pub struct Origin {
    pub file: PathBuf,
    /// The dotted key path, such as `connections.prod.workspace-id`.
    pub key: String,
    /// 1-based line, when the format keeps positions.
    pub line: Option<usize>,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        write!(f, ": {}", self.key)
    }
}

/// One named connection.
#[derive(Clone, Debug, PartialEq)]
pub struct Connection {
    pub name: String,
    pub backend: Backend,
    pub auth: AuthMethod,
    pub cloud: AzureCloud,
    /// Replaces the cloud's sign-in host, for proxies and test servers.
    pub authority: Option<Url>,
    pub origin: Origin,
}

/// A mistake in a configuration file, or a setting that will fail at run time.
#[derive(Clone, Debug, PartialEq)]
pub struct ConfigProblem {
    pub origin: Origin,
    pub message: String,
}

impl fmt::Display for ConfigProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.origin, self.message)
    }
}

/// Non-connection sections of `msticpyconfig.yaml` that were found, for `config check`.
#[derive(Clone, Debug, PartialEq)]
pub struct OtherSection {
    pub section: String,
    pub entries: Vec<String>,
}

/// Everything read from the configuration files.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LoadedConfig {
    pub files: Vec<PathBuf>,
    /// Connections by name; a later file replaces an earlier one's connection of the same name.
    pub connections: Vec<Connection>,
    pub problems: Vec<ConfigProblem>,
    pub other_sections: Vec<OtherSection>,
}

impl LoadedConfig {
    pub fn connection(&self, name: &str) -> Option<&Connection> {
        self.connections
            .iter()
            .find(|connection| connection.name == name)
    }

    fn add(&mut self, connection: Connection) {
        self.connections
            .retain(|existing| existing.name != connection.name);
        self.connections.push(connection);
    }
}

/// Every path searched for configuration, in search order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ConfigCandidates {
    pub msticpy: Vec<PathBuf>,
    pub quarry: Vec<PathBuf>,
}

/// The files to read, in order of increasing precedence.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ConfigSources {
    pub msticpy: Option<PathBuf>,
    /// The user's `quarry.toml`, then the workspace's.
    pub quarry: Vec<PathBuf>,
}

impl ConfigSources {
    /// Finds the files that exist among [`ConfigSources::candidates`]: the first MSTICPy file,
    /// and every `quarry.toml`.
    pub fn discover(working_dir: &Path, env: &dyn Environment) -> ConfigSources {
        let candidates = ConfigSources::candidates(working_dir, env);
        ConfigSources {
            msticpy: candidates.msticpy.into_iter().find(|path| path.is_file()),
            quarry: candidates
                .quarry
                .into_iter()
                .filter(|path| path.is_file())
                .collect(),
        }
    }

    /// Lists the places searched, whether or not a file is there. MSTICPy's config comes
    /// through `MSTICPYCONFIG`, then the working folder, then `~/.msticpy/`. Quarry's comes from
    /// `$QUARRY_CONFIG_DIR` (else `$XDG_CONFIG_HOME/quarry/` or `~/.config/quarry/`), then the
    /// working folder.
    pub fn candidates(working_dir: &Path, env: &dyn Environment) -> ConfigCandidates {
        let home = env.home_dir();
        let mut msticpy = Vec::new();
        if let Some(path) = env.var("MSTICPYCONFIG").filter(|path| !path.is_empty()) {
            msticpy.push(PathBuf::from(path));
        }
        msticpy.push(working_dir.join("msticpyconfig.yaml"));
        if let Some(home) = &home {
            msticpy.push(home.join(".msticpy").join("msticpyconfig.yaml"));
        }

        // The same folder as enrichment.toml's: `$QUARRY_CONFIG_DIR` when it is set.
        let config_dir = env
            .var("QUARRY_CONFIG_DIR")
            .filter(|path| !path.is_empty())
            .map(PathBuf::from)
            .or_else(|| {
                env.var("XDG_CONFIG_HOME")
                    .filter(|path| !path.is_empty())
                    .map(|path| PathBuf::from(path).join("quarry"))
            })
            .or_else(|| {
                home.as_ref()
                    .map(|home| home.join(".config").join("quarry"))
            });
        let mut quarry = Vec::new();
        if let Some(config_dir) = config_dir {
            quarry.push(config_dir.join("quarry.toml"));
        }
        quarry.push(working_dir.join("quarry.toml"));
        ConfigCandidates { msticpy, quarry }
    }

    /// Reads the files. MSTICPy's connections come first, so `quarry.toml` can override them.
    pub fn load(&self) -> LoadedConfig {
        let mut loaded = LoadedConfig::default();
        if let Some(path) = &self.msticpy {
            loaded.files.push(path.clone());
            match std::fs::read_to_string(path) {
                Ok(text) => msticpy::read(path, &text, &mut loaded),
                Err(error) => loaded.problems.push(unreadable(path, &error)),
            }
        }
        for path in &self.quarry {
            loaded.files.push(path.clone());
            match std::fs::read_to_string(path) {
                Ok(text) => quarry_toml::read(path, &text, &mut loaded),
                Err(error) => loaded.problems.push(unreadable(path, &error)),
            }
        }
        loaded
    }
}

fn unreadable(path: &Path, error: &std::io::Error) -> ConfigProblem {
    ConfigProblem {
        origin: Origin {
            file: path.to_path_buf(),
            key: String::new(),
            line: None,
        },
        message: format!("could not read the file: {error}"),
    }
}

/// Reads one file's text; for tests and the editor, which has the text in memory.
pub fn read_quarry_toml(path: &Path, text: &str, loaded: &mut LoadedConfig) {
    quarry_toml::read(path, text, loaded);
}

/// Reads MSTICPy's configuration text.
pub fn read_msticpy_yaml(path: &Path, text: &str, loaded: &mut LoadedConfig) {
    msticpy::read(path, text, loaded);
}
