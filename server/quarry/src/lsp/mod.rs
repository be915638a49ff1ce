//! `quarry lsp`: the KQL language server over stdin and stdout.
//!
//! Module map:
//! - [`server`]: the `LanguageServer` implementation that routes each request to a handler.
//! - [`dispatch`]: the transport-side wrapper that applies document edits in arrival order and
//!   turns a panicking request into an `InternalError` response.
//! - [`documents`]: open documents (ropey text, incremental tree-sitter reparse) and snapshots.
//! - [`diagnostics`]: debounced publishing of syntax diagnostics.
//! - [`framing`]: reads the `Content-Length` frames of stdin, replies to malformed ones with a
//!   JSON-RPC error and passes the others to the transport, which would stop at the first.
//! - [`handlers`]: one module per request; each converts its input, calls `quarry-ide` and
//!   converts the output.
//! - [`to_proto`] and [`from_proto`]: every conversion between LSP types and `quarry-ide` data.
//! - [`ext`] and [`config`]: the `quarry.runQuery` command and the client settings, as documented
//!   in `docs/lsp-extensions.md`.

use std::process::ExitCode;

use tower_lsp_server::{LspService, Server};

mod capabilities;
mod config;
mod diagnostics;
mod dispatch;
mod documents;
mod ext;
mod framing;
mod from_proto;
mod handlers;
mod remote;
mod schema;
mod server;
mod to_proto;

/// The template expansion map, which `quarry run` uses too, so that its errors point at the
/// text the user wrote. It contains no LSP types.
pub(crate) use handlers::run_expansion::RunExpansion;

#[derive(Debug, clap::Args)]
pub struct LspArgs {
    /// Log filter in `tracing` syntax, such as `info` or `quarry=debug`; overrides `QUARRY_LOG`.
    #[arg(long, value_name = "FILTER")]
    log: Option<String>,
    /// Accepted for clients that always pass it (stdio is the only transport).
    #[arg(long)]
    stdio: bool,
}

/// Environment variable that sets the log filter when `--log` is absent (default `info`).
const LOG_ENV: &str = "QUARRY_LOG";

pub fn main(args: LspArgs) -> anyhow::Result<ExitCode> {
    init_logging(args.log.as_deref());

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_stack_size(crate::COMMAND_STACK_BYTES)
        .build()
        .map_err(|error| anyhow::anyhow!("failed to start the async runtime: {error}"))?;
    runtime.block_on(serve());
    // A read of stdin may still block a runtime thread after `exit`; do not wait for it.
    runtime.shutdown_timeout(std::time::Duration::from_millis(100));

    tracing::info!("language server stopped");
    Ok(ExitCode::SUCCESS)
}

async fn serve() {
    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        "language server starting"
    );

    let (service, socket) = LspService::build(server::Server::new)
        .custom_method(remote::LIST_CONNECTIONS, server::Server::list_connections)
        .custom_method(
            handlers::templates::LIST_TEMPLATES,
            server::Server::list_templates,
        )
        .custom_method(
            handlers::templates::RENDER_TEMPLATE,
            server::Server::render_template,
        )
        .custom_method(remote::SET_SECRET, server::Server::set_secret)
        .custom_method(handlers::pivot::PIVOTS, server::Server::pivots)
        .custom_method(
            handlers::analyze::ANALYZE_TIMESERIES,
            server::Server::analyze_timeseries,
        )
        .custom_method(
            handlers::analyze::ANALYZE_SEQUENCES,
            server::Server::analyze_sequences,
        )
        .custom_method(
            handlers::analyze::PROCESS_TREE,
            server::Server::process_tree,
        )
        .custom_method(handlers::analyze::DECODE, server::Server::decode)
        .custom_method(handlers::enrich_request::ENRICH, server::Server::enrich)
        .finish();
    let service = dispatch::OrderedService::new(service);

    // The transport reads and writes in-memory pipes; `framing` sits between them and stdio.
    let (transport_in, filter_out) = tokio::io::duplex(FRAMING_BUFFER);
    let (transport_out, pump_in) = tokio::io::duplex(FRAMING_BUFFER);
    let (frames, frames_rx) = tokio::sync::mpsc::channel(64);
    let input = tokio::spawn(framing::filter_input(
        tokio::io::stdin(),
        filter_out,
        frames.clone(),
    ));
    let pump = tokio::spawn(framing::pump_output(pump_in, frames));
    let writer = tokio::spawn(framing::write_output(tokio::io::stdout(), frames_rx));

    Server::new(transport_in, transport_out, socket)
        .serve(service)
        .await;

    // After `exit` stdin may stay open; stop reading it so the output can finish.
    input.abort();
    let _ = input.await;
    let _ = pump.await;
    let _ = writer.await;
}

/// The capacity of each in-memory pipe between stdio and the transport.
const FRAMING_BUFFER: usize = 64 * 1024;

/// Sends `tracing` output to stderr, because stdout carries the JSON-RPC stream.
///
/// `tower_lsp_server::codec` logs every whole message at trace level, document text included,
/// so it stays at `warn` whatever the filter sets.
fn init_logging(filter: Option<&str>) {
    use tracing_subscriber::EnvFilter;

    let filter = filter
        .map(str::to_owned)
        .or_else(|| std::env::var(LOG_ENV).ok());
    let filter = filter.unwrap_or_else(|| "info".to_owned());
    let filter = EnvFilter::try_new(format!("{filter},tower_lsp_server::codec=warn"))
        .unwrap_or_else(|_| EnvFilter::new("info,tower_lsp_server::codec=warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .init();
}
