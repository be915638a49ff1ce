//! The `quarry` binary: the KQL language server (`quarry lsp`) and the hunting CLI.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

// The system allocator returns freed pages to the kernel eagerly, and the page faults and
// TLB flushes of polars' short-lived column buffers then cost a large share of a query.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod analyze;
mod check;
mod connections;
mod decode;
mod enrich;
mod export;
mod fmt;
mod iocs;
mod lsp;
mod pivot_cli;
mod remote;
mod run;
mod secrets;
mod sentinel_ti;
mod setup;
mod templates;

#[derive(Debug, Parser)]
#[command(
    name = "quarry",
    version,
    about = "KQL language server and threat-hunting CLI"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check KQL files for syntax errors and template-call errors.
    Check(check::CheckArgs),
    /// Format KQL files, or check that they are formatted (`--check`).
    Fmt(fmt::FmtArgs),
    /// Run a KQL query on local files or the built-in demo dataset.
    Run(run::RunArgs),
    /// List, show, render and validate MSTICPy-format query templates.
    Templates(templates::TemplatesArgs),
    /// Extract indicators (IPs, domains, URLs, hashes, e-mail addresses, paths) from text.
    Iocs(iocs::IocsArgs),
    /// Look indicators up: IP type, GeoIP and ASN, and threat-intelligence verdicts.
    Enrich(enrich::EnrichArgs),
    /// Run a pivot pipeline (YAML: templates, queries, joins, enrichment, filters) on local data.
    Pivot(pivot_cli::PivotArgs),
    /// Download optional data, such as the free GeoIP databases (`quarry setup geoip`).
    Setup(setup::SetupArgs),
    /// Serve the Language Server Protocol over stdin and stdout.
    Lsp(lsp::LspArgs),
    /// Inspect remote connections from quarry.toml and msticpyconfig.yaml.
    Config(connections::ConfigArgs),
    /// Run MSTICPy's hunting analyses (time-series anomalies, anomalous sequences, process trees) on CSV files.
    Analyze(analyze::AnalyzeArgs),
    /// Decode obfuscated commands and payloads (base64, -EncodedCommand, hex, char codes,
    /// gzip, zip, tar) into a tree of layers with hashes and indicators.
    Decode(decode::DecodeArgs),
}

/// Stack size of the thread that runs a command. Lowering, type checking and formatting
/// recurse once per nesting level of an expression, and debug builds use large stack frames,
/// so the usual 8 MiB main thread overflows on deeply nested generated queries. The system
/// commits stack memory only as the stack grows.
const COMMAND_STACK_BYTES: usize = 256 * 1024 * 1024;

/// Environment variable that sets the stack size of threads spawned without an explicit one,
/// which includes the polars worker threads that evaluate expressions recursively.
const MIN_STACK_ENV: &str = "RUST_MIN_STACK";

fn main() -> ExitCode {
    if std::env::var_os(MIN_STACK_ENV).is_none() {
        // SAFETY: no other thread exists yet, so nothing can read the environment while it
        // changes. The standard library reads this variable when it spawns the first thread
        // without an explicit stack size.
        unsafe { std::env::set_var(MIN_STACK_ENV, COMMAND_STACK_BYTES.to_string()) };
    }
    let cli = Cli::parse();
    let command = std::thread::Builder::new()
        .name("quarry".to_owned())
        .stack_size(COMMAND_STACK_BYTES)
        .spawn(move || run_command(cli));
    match command {
        Ok(handle) => handle
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
        Err(error) => {
            eprintln!("error: failed to start the command thread: {error}");
            ExitCode::from(2)
        }
    }
}

fn run_command(cli: Cli) -> ExitCode {
    let result = match cli.command {
        Command::Check(args) => check::main(args),
        Command::Fmt(args) => fmt::main(args),
        Command::Run(args) => run::main(args),
        Command::Templates(args) => templates::main(args),
        Command::Iocs(args) => iocs::main(args),
        Command::Enrich(args) => enrich::main(args),
        Command::Setup(args) => setup::main(args),
        Command::Pivot(args) => pivot_cli::main(args),
        Command::Lsp(args) => lsp::main(args),
        Command::Analyze(args) => analyze::main(args),
        Command::Decode(args) => decode::main(args),
        Command::Config(args) => connections::main(args),
    };
    match result {
        Ok(code) => code,
        // A reader such as `head` that closes the pipe early has all the output it wants.
        Err(error) if is_broken_pipe(&error) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(2)
        }
    }
}

/// Returns whether any cause of `error` is a write to a closed pipe.
fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io_error| io_error.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
