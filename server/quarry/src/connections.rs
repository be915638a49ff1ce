//! `quarry config check`: lists the remote connections found in `quarry.toml` and
//! `msticpyconfig.yaml`, and what would stop each from working.
//!
//! Without `--probe` the check contacts no service. It reads the files, resolves secret
//! references (printing only where a secret comes from, never the secret), and looks for `az`
//! when a connection uses the Azure CLI. `--probe NAME` also signs in to a connection and runs a
//! one-row query there, which shows whether the credentials and permissions work.

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use quarry_providers::auth::DeviceCodePrompt;
use quarry_providers::config::{
    Backend, BuildOptions, ConfigProblem, ConfigSources, Connection, LoadedConfig,
    ProcessEnvironment, build_provider, check_connection,
};
use quarry_providers::{QueryRequest, RunOptions};
use serde_json::json;

#[derive(Debug, clap::Args)]
pub struct ConfigArgs {
    #[command(subcommand)]
    command: ConfigCommand,
}

#[derive(Debug, clap::Subcommand)]
enum ConfigCommand {
    /// List configured connections and the problems that would stop them from working.
    Check(CheckArgs),
    /// Store or delete a secret in the OS keyring, for `{ keyring = "NAME" }` references.
    #[command(subcommand)]
    Secret(SecretCommand),
}

#[derive(Debug, clap::Subcommand)]
enum SecretCommand {
    /// Store the secret read from standard input (up to the first line break) as entry NAME.
    Set {
        /// The entry name that configuration files reference.
        name: String,
    },
    /// Delete entry NAME from the OS keyring.
    Delete {
        /// The entry name.
        name: String,
    },
}

#[derive(Debug, clap::Args)]
struct CheckArgs {
    /// Folder whose `quarry.toml` and `msticpyconfig.yaml` are read; the current folder by default.
    #[arg(long, value_name = "DIR")]
    workspace: Option<PathBuf>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,

    /// Sign in to this connection and run a one-row query on it; repeat for several connections.
    #[arg(long, value_name = "NAME")]
    probe: Vec<String>,

    /// Seconds allowed for each probe query, after sign-in.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    probe_timeout: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    Human,
    /// One JSON document with files, connections and problems.
    Json,
}

pub fn main(args: ConfigArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        ConfigCommand::Check(args) => check(args),
        ConfigCommand::Secret(command) => secret(command),
    }
}

/// Runs `quarry config secret`. The secret comes from standard input, so it stays out of the
/// shell history and the process list, and it is never printed.
fn secret(command: SecretCommand) -> anyhow::Result<ExitCode> {
    use quarry_providers::{Secret, keyring_store};
    match command {
        SecretCommand::Set { name } => {
            let mut line = String::new();
            io::stdin()
                .read_line(&mut line)
                .context("failed to read the secret from standard input")?;
            let value = line.trim_end_matches(['\r', '\n']);
            if value.is_empty() {
                anyhow::bail!(
                    "the secret for keyring entry {name} is empty: pipe it in, as in `printenv SPLUNK_TOKEN | quarry config secret set {name}`"
                );
            }
            keyring_store::write(&name, &Secret::new(value)).map_err(anyhow::Error::msg)?;
            eprintln!(
                "stored keyring entry {name} (service `{}`)",
                keyring_store::SERVICE
            );
        }
        SecretCommand::Delete { name } => {
            keyring_store::delete(&name).map_err(anyhow::Error::msg)?;
            eprintln!("deleted keyring entry {name}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Flags Log Analytics workspace ids that are not GUIDs, which Azure rejects only when a query
/// runs. Connections with their own `endpoint` (a proxy or an emulator) are left alone, because
/// such a service may name workspaces differently.
fn workspace_id_problems(connection: &Connection) -> Vec<ConfigProblem> {
    let Backend::LogAnalytics {
        workspace_id,
        endpoint: None,
        additional_workspaces,
    } = &connection.backend
    else {
        return Vec::new();
    };
    std::iter::once(("workspace-id", workspace_id))
        .chain(
            additional_workspaces
                .iter()
                .map(|id| ("additional-workspaces", id)),
        )
        .filter(|(_, id)| !is_guid(id))
        .map(|(key, id)| ConfigProblem {
            origin: connection.origin.clone(),
            message: format!(
                "{key} `{id}` is not a GUID: set it to the workspace id from the Log Analytics \
                 workspace's Overview page, such as 6b0f1c9e-52d3-4a8c-9f1e-3d2c1b0a9f8e"
            ),
        })
        .collect()
}

/// Returns whether `text` has the 8-4-4-4-12 hexadecimal form of a GUID.
fn is_guid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.len() == 5
        && groups.iter().zip([8, 4, 4, 4, 12]).all(|(group, length)| {
            group.len() == length && group.chars().all(|c| c.is_ascii_hexdigit())
        })
}

fn check(args: CheckArgs) -> anyhow::Result<ExitCode> {
    let working_dir = match args.workspace {
        Some(dir) => dir,
        None => std::env::current_dir().context("could not read the current folder")?,
    };
    let env = ProcessEnvironment;
    let sources = ConfigSources::discover(&working_dir, &env);
    let mut loaded = sources.load();
    for connection in &loaded.connections {
        let problems = check_connection(connection, &env);
        loaded.problems.extend(problems);
        loaded.problems.extend(workspace_id_problems(connection));
    }

    let mut out = io::stdout().lock();
    match args.format {
        Format::Human => {
            let candidates = ConfigSources::candidates(&working_dir, &env);
            write_human(&mut out, &loaded, &candidates)?;
        }
        Format::Json => writeln!(out, "{}", to_json(&loaded))?,
    }

    let mut healthy = loaded.problems.is_empty() && !loaded.connections.is_empty();
    if !args.probe.is_empty() {
        let timeout = Duration::from_secs(args.probe_timeout);
        let failures = probe_connections(&mut out, &loaded, &args.probe, timeout)?;
        healthy &= failures == 0;
    }
    Ok(if healthy {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Signs in to each named connection and runs a one-row query. Returns the number that failed.
fn probe_connections(
    out: &mut impl Write,
    loaded: &LoadedConfig,
    names: &[String],
    timeout: Duration,
) -> anyhow::Result<usize> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("could not start the async runtime")?;
    let options = BuildOptions {
        prompt: Arc::new(|prompt: &DeviceCodePrompt| {
            let fallback = format!(
                "To sign in, open {} and enter the code {}",
                prompt.verification_uri, prompt.user_code
            );
            eprintln!("{}", prompt.message.clone().unwrap_or(fallback));
        }),
        ..BuildOptions::default()
    };

    writeln!(out, "\nProbes:")?;
    let mut failures = 0;
    for name in names {
        let outcome = match loaded.connection(name) {
            None => {
                let known: Vec<&str> = loaded.connections.iter().map(|c| c.name.as_str()).collect();
                Err(format!(
                    "no connection is named `{name}`; configured: {}",
                    known.join(", ")
                ))
            }
            Some(connection) => runtime.block_on(probe(connection, &options, timeout)),
        };
        match outcome {
            Ok(rows) => writeln!(out, "  {name}: ok, {rows} row(s)")?,
            Err(message) => {
                failures += 1;
                writeln!(out, "  {name}: failed: {message}")?;
            }
        }
    }
    Ok(failures)
}

async fn probe(
    connection: &Connection,
    options: &BuildOptions,
    timeout: Duration,
) -> Result<usize, String> {
    let provider = build_provider(connection, &ProcessEnvironment, options)
        .map_err(|problem| problem.to_string())?;
    let run_options = RunOptions {
        timeout,
        row_limit: Some(10),
        ..RunOptions::default()
    };

    provider
        .sign_in(&run_options.cancel)
        .await
        .map_err(|error| error.to_string())?;

    // NOTE: `print` is part of KQL, but whether Defender's advanced hunting accepts a query
    // without a table has not been checked against the live service.
    let query = match connection.backend {
        Backend::Splunk { .. } => "| makeresults count=1",
        _ => "print probe = 1",
    };
    let request = QueryRequest {
        query: query.to_string(),
        time_range: None,
        options: run_options,
    };
    let result = provider
        .run(&request)
        .await
        .map_err(|error| error.to_string())?;
    Ok(result.tables.first().map_or(0, |table| table.rows.len()))
}

fn write_human(
    out: &mut impl Write,
    loaded: &LoadedConfig,
    candidates: &quarry_providers::config::ConfigCandidates,
) -> io::Result<()> {
    if loaded.files.is_empty() {
        writeln!(out, "No configuration found. Searched:")?;
        for path in candidates.msticpy.iter().chain(&candidates.quarry) {
            writeln!(out, "  {}", path.display())?;
        }
        writeln!(
            out,
            "Create quarry.toml with a [connections.NAME] table (kind, workspace-id or cluster, auth), or point MSTICPYCONFIG at msticpyconfig.yaml."
        )?;
        return Ok(());
    }

    writeln!(out, "Configuration files:")?;
    for file in &loaded.files {
        writeln!(out, "  {}", file.display())?;
    }

    writeln!(out, "\nConnections:")?;
    if loaded.connections.is_empty() {
        writeln!(out, "  none")?;
    }
    let width = loaded
        .connections
        .iter()
        .map(|c| c.name.len())
        .max()
        .unwrap_or(0);
    for connection in &loaded.connections {
        writeln!(
            out,
            "  {:width$}  {:19}  {}  auth {}{}  ({})",
            connection.name,
            connection.backend.kind(),
            connection.backend.target(),
            connection.auth.name(),
            secret_source(connection),
            connection.origin,
        )?;
    }

    if !loaded.other_sections.is_empty() {
        writeln!(out, "\nOther MSTICPy sections (not query connections):")?;
        for section in &loaded.other_sections {
            writeln!(out, "  {}: {}", section.section, section.entries.join(", "))?;
        }
    }

    if !loaded.problems.is_empty() {
        writeln!(out, "\nProblems:")?;
        for problem in &loaded.problems {
            writeln!(out, "  {problem}")?;
        }
    }
    writeln!(
        out,
        "\n{} connections, {} problems",
        loaded.connections.len(),
        loaded.problems.len()
    )
}

/// Names where the connection's secret comes from, such as ` (secret from environment variable X)`.
fn secret_source(connection: &Connection) -> String {
    match connection.auth.secret() {
        Some(secret) => format!(" (secret from {secret})"),
        None => String::new(),
    }
}

fn to_json(loaded: &LoadedConfig) -> serde_json::Value {
    let connections: Vec<_> = loaded
        .connections
        .iter()
        .map(|connection| {
            json!({
                "name": connection.name,
                "kind": connection.backend.kind(),
                "target": connection.backend.target(),
                "auth": connection.auth.name(),
                "secret": connection.auth.secret().map(ToString::to_string),
                "file": connection.origin.file,
                "key": connection.origin.key,
                "line": connection.origin.line,
            })
        })
        .collect();
    let problems: Vec<_> = loaded
        .problems
        .iter()
        .map(|problem| {
            json!({
                "file": problem.origin.file,
                "key": problem.origin.key,
                "line": problem.origin.line,
                "message": problem.message,
            })
        })
        .collect();
    json!({"files": loaded.files, "connections": connections, "problems": problems})
}
