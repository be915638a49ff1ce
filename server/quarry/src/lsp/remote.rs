//! Remote runs in the language server: `quarry.runQuery` with a `connection`, and the
//! `quarry/listConnections` request, as specified in `docs/lsp-extensions.md`.
//!
//! A remote run reports work-done progress while it waits for the service. `$/cancelRequest`
//! drops the run's future, which closes the HTTP connection; a guard then ends the progress.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, OnceLock};
use std::time::{Duration, Instant};

use quarry_providers::auth::DeviceCodePrompt;
use quarry_providers::config::{BuildOptions, build_provider, check_connection};
use quarry_providers::{ProviderError, QueryRequest, QueryResult, RunOptions, Secret};
use serde::Deserialize;
use serde_json::{Value, json};
use tower_lsp_server::Client;
use tower_lsp_server::jsonrpc::{Error, ErrorCode, Result};
use tower_lsp_server::ls_types::notification::Progress;
use tower_lsp_server::ls_types::request::WorkDoneProgressCreate;
use tower_lsp_server::ls_types::{
    ExecuteCommandParams, InitializeParams, LSPAny, MessageType, NumberOrString, ProgressParams,
    ProgressParamsValue, WorkDoneProgress, WorkDoneProgressBegin, WorkDoneProgressCreateParams,
    WorkDoneProgressEnd,
};

use super::ext::{self, RunQueryArgs};
use super::handlers::execute_command::{
    REQUEST_FAILED, ResolvedQuery, request_failed, resolve_target, single_argument,
};
use super::server::{Server, Session};
use super::to_proto;
use crate::remote;
use crate::secrets::SecretStore;

/// Lists the configured connections for the editor's picker.
pub const LIST_CONNECTIONS: &str = "quarry/listConnections";

/// Stores a secret the editor keeps in its secret store, in memory only.
pub const SET_SECRET: &str = "quarry/setSecret";

/// The secrets handed over with `quarry/setSecret`, read before the OS keyring.
pub static SECRETS: LazyLock<SecretStore> = LazyLock::new(SecretStore::default);

/// Seconds a remote run may take after sign-in when the client sets no `timeoutSeconds`.
const DEFAULT_TIMEOUT_SECS: u64 = 180;

/// The folder whose `quarry.toml` and `msticpyconfig.yaml` are read: the first workspace folder,
/// else the server's working folder.
static WORKSPACE: OnceLock<PathBuf> = OnceLock::new();

/// Whether the client accepts `window/workDoneProgress/create`.
static WORK_DONE_PROGRESS: AtomicBool = AtomicBool::new(false);

/// Remembers the client's first workspace folder and its progress support from `initialize`.
pub fn remember_client(params: &InitializeParams) {
    let progress = params
        .capabilities
        .window
        .as_ref()
        .and_then(|window| window.work_done_progress)
        .unwrap_or(false);
    WORK_DONE_PROGRESS.store(progress, Ordering::Relaxed);
    #[allow(deprecated)]
    let uri = params
        .workspace_folders
        .as_ref()
        .and_then(|folders| folders.first())
        .map(|folder| folder.uri.clone())
        .or_else(|| params.root_uri.clone());
    let path = uri
        .and_then(|uri| url::Url::parse(uri.as_str()).ok())
        .and_then(|url| url.to_file_path().ok());
    if let Some(path) = path {
        tracing::info!(workspace = %path.display(), "connections are read from the workspace");
        let _ = WORKSPACE.set(path);
    }
}

pub fn workspace() -> PathBuf {
    WORKSPACE
        .get()
        .cloned()
        .or_else(|| std::env::current_dir().ok())
        .unwrap_or_default()
}

/// The remote fields of the `quarry.runQuery` argument.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RemoteArgs {
    connection: String,
    time_range: Option<TimeRangeArg>,
    timeout_seconds: Option<u64>,
    chunk: Option<String>,
}

#[derive(Debug, Deserialize)]
struct TimeRangeArg {
    start: Option<String>,
    end: Option<String>,
}

/// Runs `quarry.runQuery` remotely when its argument names a `connection`. Returns `None` for
/// every other command, so the local handler takes it.
pub async fn execute_command(
    session: &Session,
    client: &Client,
    params: &ExecuteCommandParams,
) -> Option<Result<Option<LSPAny>>> {
    if params.command != ext::RUN_QUERY {
        return None;
    }
    let [argument] = params.arguments.as_slice() else {
        return None;
    };
    if argument.get("connection").is_none_or(Value::is_null) {
        return None;
    }
    Some(run(session, client, &params.arguments).await.map(Some))
}

async fn run(session: &Session, client: &Client, arguments: &[Value]) -> Result<Value> {
    let args: RunQueryArgs = single_argument(arguments)?;
    let remote_args: RemoteArgs =
        serde_json::from_value(arguments[0].clone()).map_err(|error| {
            Error::invalid_params(format!("invalid `{}` argument: {error}", ext::RUN_QUERY))
        })?;
    let target = args.target().map_err(Error::invalid_params)?;
    let resolved = resolve_target(session, target)?;
    let time_range = remote_args
        .time_range
        .as_ref()
        .map_or(Ok(None), |range| {
            remote::time_range(None, range.start.as_deref(), range.end.as_deref())
        })
        .map_err(|message| Error::invalid_params(format!("invalid `timeRange`: {message}")))?;

    let chunk = match remote_args.chunk.as_deref() {
        None => None,
        Some(text) => Some(remote::parse_duration(text).ok_or_else(|| {
            Error::invalid_params(format!(
                "invalid `chunk`: `{text}` is not a duration; write it as P1D, PT6H or 6h"
            ))
        })?),
    };
    let name = remote_args.connection;
    let loaded = remote::load_connections(&workspace());
    let connection =
        remote::find_connection(&loaded, &name).map_err(|message| request_failed(message, None))?;
    let prompt_client = client.clone();
    let options = BuildOptions {
        prompt: Arc::new(move |prompt: &DeviceCodePrompt| {
            let message = prompt.message.clone().unwrap_or_else(|| {
                format!(
                    "To sign in, open {} and enter the code {}",
                    prompt.verification_uri, prompt.user_code
                )
            });
            let client = prompt_client.clone();
            tokio::spawn(async move { client.show_message(MessageType::INFO, message).await });
        }),
        ..BuildOptions::default()
    };
    let provider = build_provider(connection, &SECRETS.environment(), &options)
        .map_err(|problem| request_failed(problem.to_string(), None))?;
    let max_rows = args.max_rows.unwrap_or(session.config().max_rows);
    let request = QueryRequest {
        query: resolved.query.clone(),
        time_range,
        options: RunOptions {
            timeout: Duration::from_secs(
                remote_args.timeout_seconds.unwrap_or(DEFAULT_TIMEOUT_SECS),
            ),
            row_limit: Some(max_rows),
            ..RunOptions::default()
        },
    };

    let progress = RunProgress::begin(client, &name).await;
    let started = Instant::now();
    tracing::info!(connection = %name, query_bytes = request.query.len(), "running query remotely");
    let outcome = remote::sign_in_and_run(provider.as_ref(), connection, &request, chunk).await;
    let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;

    match outcome {
        Ok(result) => {
            let query = resolved.query.clone();
            let connection = name.clone();
            // Converting 100,000 rows takes a noticeable time, so it runs off the async workers.
            let converted = tokio::task::spawn_blocking(move || {
                result_json(query, &connection, &result, elapsed_ms)
            })
            .await;
            let (row_count, body) = match converted {
                Ok(converted) => converted,
                Err(join_error) => {
                    tracing::error!(error = %join_error, "converting the remote result failed");
                    progress.end("failed".to_owned()).await;
                    return Err(request_failed(
                        format!("converting the result failed: {join_error}"),
                        None,
                    ));
                }
            };
            tracing::info!(rows = row_count, elapsed_ms, "remote query finished");
            progress.end(format!("{row_count} rows")).await;
            Ok(body)
        }
        Err(error) => {
            tracing::info!(%error, elapsed_ms, "remote query failed");
            progress.end("failed".to_owned()).await;
            Err(provider_error(&resolved, error))
        }
    }
}

/// Builds the `quarry.runQuery` result of a remote run and returns it with its row count.
fn result_json(
    query: String,
    connection: &str,
    result: &QueryResult,
    elapsed_ms: f64,
) -> (usize, Value) {
    let converted = remote::to_output(result);
    let output = converted.output;
    let body = json!({
        "query": query,
        "source": format!("connection:{connection}"),
        "connection": connection,
        "columns": output.columns,
        "rows": output.rows,
        "rowCount": output.row_count,
        "truncated": output.truncated,
        "elapsedMs": elapsed_ms,
        "warnings": converted.warnings,
        "render": output.render,
    });
    (output.row_count, body)
}

/// Converts a run's failure to `RequestFailed`. A rejected query also carries its place in the
/// document and the service's error code.
fn provider_error(resolved: &ResolvedQuery, error: ProviderError) -> Error {
    let ProviderError::Query(query_error) = &error else {
        return request_failed(error.to_string(), None);
    };
    let query_range = remote::error_range(&resolved.query, query_error);
    let message = resolved.with_template_note(error.to_string(), query_range.clone());
    let range =
        query_range.map(|range| to_proto::range(&resolved.origin, resolved.origin_range(range)));
    let mut data = serde_json::Map::new();
    if let Some(range) = range {
        data.insert("range".to_owned(), json!(range));
    }
    if let Some(code) = &query_error.code {
        data.insert("code".to_owned(), json!(code));
    }
    Error {
        code: ErrorCode::ServerError(REQUEST_FAILED),
        message: message.into(),
        data: (!data.is_empty()).then_some(Value::Object(data)),
    }
}

/// The work-done progress of one run. Dropping it before [`RunProgress::end`], as a cancelled
/// request does, still ends the progress.
struct RunProgress {
    client: Client,
    token: Option<NumberOrString>,
}

impl RunProgress {
    async fn begin(client: &Client, connection: &str) -> RunProgress {
        if !WORK_DONE_PROGRESS.load(Ordering::Relaxed) {
            return RunProgress {
                client: client.clone(),
                token: None,
            };
        }
        static NEXT: AtomicU64 = AtomicU64::new(1);
        let token = NumberOrString::String(format!(
            "quarry/run/{}",
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let created = client
            .send_request::<WorkDoneProgressCreate>(WorkDoneProgressCreateParams {
                token: token.clone(),
            })
            .await;
        if let Err(error) = created {
            tracing::debug!(%error, "the client declined work-done progress");
            return RunProgress {
                client: client.clone(),
                token: None,
            };
        }
        let begin = WorkDoneProgress::Begin(WorkDoneProgressBegin {
            title: format!("Running query on {connection}"),
            cancellable: Some(false),
            message: None,
            percentage: None,
        });
        client
            .send_notification::<Progress>(ProgressParams {
                token: token.clone(),
                value: ProgressParamsValue::WorkDone(begin),
            })
            .await;
        RunProgress {
            client: client.clone(),
            token: Some(token),
        }
    }

    async fn end(mut self, message: String) {
        if let Some(token) = self.token.take() {
            send_end(&self.client, token, message).await;
        }
    }
}

impl Drop for RunProgress {
    fn drop(&mut self) {
        if let Some(token) = self.token.take() {
            let client = self.client.clone();
            tokio::spawn(async move { send_end(&client, token, "cancelled".to_owned()).await });
        }
    }
}

async fn send_end(client: &Client, token: NumberOrString, message: String) {
    let end = WorkDoneProgress::End(WorkDoneProgressEnd {
        message: Some(message),
    });
    client
        .send_notification::<Progress>(ProgressParams {
            token,
            value: ProgressParamsValue::WorkDone(end),
        })
        .await;
}

impl Server {
    /// `quarry/listConnections`: name, kind, target, sign-in method, whether the credentials are
    /// in place, and the problems `quarry config check` would report. Secrets are never sent.
    pub async fn list_connections(&self) -> Result<Value> {
        let env = SECRETS.environment();
        let loaded = remote::load_connections(&workspace());
        let connections: Vec<Value> = loaded
            .connections
            .iter()
            .map(|connection| {
                let problems: Vec<String> = check_connection(connection, &env)
                    .into_iter()
                    .map(|problem| problem.message)
                    .collect();
                json!({
                    "name": connection.name,
                    "kind": connection.backend.kind(),
                    "target": connection.backend.target(),
                    "auth": connection.auth.name(),
                    "credentialsConfigured": remote::credentials_configured(connection, &env),
                    "problems": problems,
                })
            })
            .collect();
        let files: Vec<String> = loaded
            .files
            .iter()
            .map(|path| path.display().to_string())
            .collect();
        let problems: Vec<String> = loaded.problems.iter().map(ToString::to_string).collect();
        Ok(json!({ "connections": connections, "files": files, "problems": problems }))
    }
}

impl Server {
    /// `quarry/setSecret`: stores or removes one secret in memory. The params are read by hand,
    /// so that no deserialization error can quote the secret.
    pub async fn set_secret(&self, params: Value) -> Result<Value> {
        let name = params
            .get("name")
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|name| !name.is_empty())
            .ok_or_else(|| {
                Error::invalid_params(format!(
                    "`{SET_SECRET}` needs `name`, a non-empty string naming the entry"
                ))
            })?;
        let value = match params.get("value") {
            None | Some(Value::Null) => None,
            Some(Value::String(text)) => Some(Secret::new(text.clone())),
            Some(_) => {
                return Err(Error::invalid_params(format!(
                    "`{SET_SECRET}` for entry {name}: `value` must be a string or null"
                )));
            }
        };
        let removed = value.as_ref().is_none_or(Secret::is_empty);
        SECRETS.set(name, value);
        tracing::info!(entry = name, removed, "secret set from the editor");
        Ok(Value::Null)
    }
}
