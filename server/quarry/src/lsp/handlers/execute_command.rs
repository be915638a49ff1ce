//! `workspace/executeCommand`: `quarry.runQuery` and the debug commands.

use std::borrow::Cow;
use std::ops::Range;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use ropey::Rope;
use serde_json::{Value, json};
use tower_lsp_server::jsonrpc::{Error, ErrorCode, Result};
use tower_lsp_server::ls_types::{ExecuteCommandParams, LSPAny};

use super::run_expansion::RunExpansion;
use crate::lsp::dispatch;
use crate::lsp::ext::{self, QueryTarget, RunQueryArgs, RunQueryResult};
use crate::lsp::server::Session;
use crate::lsp::{from_proto, to_proto};

/// JSON-RPC error code of a request that was valid but failed (LSP `RequestFailed`).
pub(crate) const REQUEST_FAILED: i64 = -32803;

pub async fn handle(session: Arc<Session>, params: ExecuteCommandParams) -> Result<Option<LSPAny>> {
    match params.command.as_str() {
        ext::RUN_QUERY => {
            let args = single_argument(&params.arguments)?;
            let result = run_query(&session, args).await?;
            let result = serde_json::to_value(result).map_err(|error| {
                Error::invalid_params(format!("failed to serialize the query result: {error}"))
            })?;
            Ok(Some(result))
        }
        ext::DEBUG_PANIC if session.debug_commands => {
            panic!("`{}` was called", ext::DEBUG_PANIC)
        }
        other => Err(Error::invalid_params(format!("unknown command `{other}`"))),
    }
}

pub(crate) fn single_argument(arguments: &[Value]) -> Result<RunQueryArgs> {
    let [argument] = arguments else {
        return Err(Error::invalid_params(format!(
            "`{}` takes one argument object, got {} arguments",
            ext::RUN_QUERY,
            arguments.len()
        )));
    };
    serde_json::from_value(argument.clone()).map_err(|error| {
        Error::invalid_params(format!("invalid `{}` argument: {error}", ext::RUN_QUERY))
    })
}

/// The query text to run and how to map engine byte ranges back to LSP ranges.
pub(crate) struct ResolvedQuery {
    pub(crate) query: String,
    /// The text the query came from, and the byte offset of the query in it.
    pub(crate) origin: Rope,
    pub(crate) origin_offset: usize,
    /// The map back to `origin` when template calls were expanded into `query`.
    pub(crate) expansion: Option<RunExpansion>,
}

impl ResolvedQuery {
    /// Maps a byte range of `query`, such as an error's place, to a byte range of `origin`.
    pub(crate) fn origin_range(&self, range: Range<usize>) -> Range<usize> {
        if let Some(expansion) = &self.expansion {
            return expansion.to_document(range);
        }
        let start = range.start.min(self.query.len());
        let end = range.end.clamp(start, self.query.len());
        self.origin_offset + start..self.origin_offset + end
    }

    /// Appends `(in template Family.name)` to an error message when the error's range lies in
    /// a template's own text. That range covers the whole call, so without the note the user
    /// would search their own text for the bad name.
    pub(crate) fn with_template_note(
        &self,
        message: String,
        range: Option<Range<usize>>,
    ) -> String {
        let template = self
            .expansion
            .as_ref()
            .zip(range)
            .and_then(|(expansion, range)| expansion.template_containing(range));
        match template {
            Some(template) => format!("{message} (in template {template})"),
            None => message,
        }
    }
}

async fn run_query(session: &Session, args: RunQueryArgs) -> Result<RunQueryResult> {
    let target = args.target().map_err(Error::invalid_params)?;
    let resolved = resolve_target(session, target)?;

    let mut config = session.config();
    if let Some(folder) = args.data_folder.filter(|folder| !folder.trim().is_empty()) {
        config.data_folder = Some(PathBuf::from(folder));
    }
    if let Some(max_rows) = args.max_rows {
        config.max_rows = max_rows;
    }
    let source = config.data_source();
    let source_label = match &config.data_folder {
        Some(folder) => format!("folder:{}", folder.display()),
        None => "demo".to_owned(),
    };

    let query = resolved.query.clone();
    let time_range = match &args.time_range {
        Some(range) => crate::run::local_time_window(range.start.as_deref(), range.end.as_deref())
            .map_err(|message| Error::invalid_params(format!("invalid `timeRange`: {message}")))?,
        None => None,
    };
    let options = quarry_engine::RunOptions {
        max_rows: config.max_rows,
        time_range,
    };
    let engine = session.engine(source);
    let started = Instant::now();
    tracing::info!(source = %source_label, query_bytes = query.len(), "running query");
    // NOTE: a cancelled request drops this future, but the blocking engine call runs to its end.
    let outcome = tokio::task::spawn_blocking(move || engine.run(&query, &options)).await;
    let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;

    let output = match outcome {
        Ok(Ok(output)) => output,
        Ok(Err(error)) => {
            tracing::info!(%error, elapsed_ms, "query failed");
            return Err(engine_error(&resolved, error));
        }
        Err(join_error) => {
            let message = match join_error.try_into_panic() {
                Ok(payload) => dispatch::panic_message(&*payload),
                Err(join_error) => join_error.to_string(),
            };
            tracing::error!(panic = %message, "the engine panicked");
            return Err(dispatch::internal_error(ext::RUN_QUERY, &message));
        }
    };
    tracing::info!(rows = output.row_count, elapsed_ms, "query finished");

    Ok(RunQueryResult {
        query: resolved.query,
        source: source_label,
        columns: output.columns,
        rows: output.rows,
        row_count: output.row_count,
        truncated: output.truncated,
        elapsed_ms,
        render: output.render,
    })
}

pub(crate) fn resolve_target(session: &Session, target: QueryTarget) -> Result<ResolvedQuery> {
    let (snapshot, range) = match target {
        QueryTarget::Text(query) => {
            let file = quarry_ide::SourceFile::parse(&query);
            let origin = Rope::from_str(&query);
            return match super::templates::expand_for_run(session, &file, 0..query.len()) {
                Ok(Some(expansion)) => Ok(ResolvedQuery {
                    query: expansion.text.clone(),
                    origin,
                    origin_offset: 0,
                    expansion: Some(expansion),
                }),
                Ok(None) => Ok(ResolvedQuery {
                    query,
                    origin,
                    origin_offset: 0,
                    expansion: None,
                }),
                Err(error) => {
                    let range = to_proto::range(&origin, error.range);
                    Err(request_failed(error.message, Some(range)))
                }
            };
        }
        QueryTarget::Cursor { uri, position } => {
            let snapshot = open_document(session, &uri)?;
            let offset = from_proto::offset(&snapshot.rope, position);
            let Some(block) = session.analysis.query_block_at(&snapshot.file, offset) else {
                return Err(request_failed(
                    format!(
                        "no query at line {}, character {} of `{}`",
                        position.line + 1,
                        position.character + 1,
                        uri.as_str()
                    ),
                    None,
                ));
            };
            (snapshot, block)
        }
        QueryTarget::Selection { uri, range } => {
            let snapshot = open_document(session, &uri)?;
            let range = from_proto::text_range(&snapshot.rope, range);
            (snapshot, range)
        }
    };

    match super::templates::expand_for_run(session, &snapshot.file, range.clone()) {
        Ok(Some(expansion)) => {
            return Ok(ResolvedQuery {
                query: expansion.text.clone(),
                origin: snapshot.rope,
                origin_offset: 0,
                expansion: Some(expansion),
            });
        }
        Ok(None) => {}
        Err(error) => {
            let range = to_proto::range(&snapshot.rope, error.range);
            return Err(request_failed(error.message, Some(range)));
        }
    }
    let query = snapshot.text()[range.clone()].to_owned();
    if query.trim().is_empty() {
        return Err(request_failed(
            "the selected text is empty; select a query to run".to_owned(),
            None,
        ));
    }
    Ok(ResolvedQuery {
        query,
        origin: snapshot.rope,
        origin_offset: range.start,
        expansion: None,
    })
}

fn open_document(
    session: &Session,
    uri: &tower_lsp_server::ls_types::Uri,
) -> Result<crate::lsp::documents::DocumentSnapshot> {
    session.documents.snapshot(uri).ok_or_else(|| {
        request_failed(
            format!(
                "`{}` is not open in the editor; open it or pass the query text",
                uri.as_str()
            ),
            None,
        )
    })
}

/// Converts an engine error to `RequestFailed`, with the error's place in document coordinates.
fn engine_error(resolved: &ResolvedQuery, error: quarry_engine::EngineError) -> Error {
    let message = resolved.with_template_note(error.message, error.range.clone());
    let range = error
        .range
        .map(|range| to_proto::range(&resolved.origin, resolved.origin_range(range)));
    request_failed(message, range)
}

pub(crate) fn request_failed(
    message: String,
    range: Option<tower_lsp_server::ls_types::Range>,
) -> Error {
    Error {
        code: ErrorCode::ServerError(REQUEST_FAILED),
        message: Cow::Owned(message),
        data: range.map(|range| json!({ "range": range })),
    }
}
