//! `quarry analyze`: MSTICPy's hunting analyses on CSV files (time-series anomalies, anomalous
//! command sequences and process trees), printed as CSV or JSON.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use quarry_analytics::chrono::{self, DateTime, Duration, Utc};
use quarry_analytics::input::{FullTable, Table, number_at, timestamp_at};
use quarry_analytics::proctree;
use quarry_analytics::sequences::{
    self, Event, ModelKind, ScoreOptions, ScoredSession, SessionLimits,
};
use quarry_analytics::stl::StlParams;
use quarry_analytics::timeseries::{
    self, AnomalyOptions, AnomalyPeriod, ScoredPoint, anomaly_periods, kql_time_filter,
};

#[derive(Debug, clap::Args)]
pub struct AnalyzeArgs {
    #[command(subcommand)]
    analysis: Analysis,
}

#[derive(Debug, clap::Subcommand)]
enum Analysis {
    /// Find anomalies in a time series with STL decomposition and MSTICPy's z-score rule.
    Timeseries(TimeseriesArgs),
    /// Score user sessions of commands with Markov models and find each session's rarest window.
    Sequences(SequencesArgs),
    /// Build process trees from process-creation events (Windows 4688, Sysmon 1, auditd).
    Proctree(ProctreeArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum OutputFormat {
    Csv,
    Json,
    /// Only the KQL `where` clause that selects the anomaly periods.
    Kql,
}

/// The output formats of the analyses that produce rows, where a KQL filter does not apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum TableFormat {
    Csv,
    Json,
}

#[derive(Debug, clap::Args)]
struct TimeseriesArgs {
    /// CSV file with a header row.
    #[arg(long)]
    input: PathBuf,
    /// Column with the timestamps, one row per evenly spaced observation.
    #[arg(long, default_value = "TimeGenerated")]
    time_column: String,
    /// Column with the numeric values.
    #[arg(long)]
    value_column: String,
    /// Observations per seasonal cycle (24 for hourly data with a daily cycle).
    #[arg(long, default_value_t = 24)]
    period: usize,
    /// Length of the seasonal smoother, in cycles; an odd number >= 3.
    #[arg(long, default_value_t = 7)]
    seasonal: usize,
    /// Z-score of the residual above which an observation is an anomaly.
    #[arg(long, default_value_t = 3.0)]
    score_threshold: f64,
    /// Downweight outliers with STL's robust fitting (15 outer iterations).
    #[arg(long)]
    robust: bool,
    /// Keep fractional components; MSTICPy truncates them to integers before scoring.
    #[arg(long)]
    keep_fractions: bool,
    /// Length, in minutes, of the buckets that anomaly periods are built from.
    #[arg(long, default_value_t = 60)]
    bucket_minutes: i64,
    /// Include dips (anomalies of -1) in the anomaly periods, not only spikes.
    #[arg(long)]
    include_dips: bool,
    /// Output format, written to standard output.
    #[arg(long, value_enum, default_value_t = OutputFormat::Csv)]
    format: OutputFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum ParamsMode {
    /// Model the set of parameter names of each command.
    Names,
    /// Model parameter names and the values of parameters with few distinct values.
    Values,
}

#[derive(Debug, clap::Args)]
struct SequencesArgs {
    /// CSV file with a header row.
    #[arg(long)]
    input: PathBuf,
    /// Comma-separated columns that identify a user; a change in any of them starts a session.
    #[arg(long, value_delimiter = ',', required = true)]
    user_columns: Vec<String>,
    /// Column with the event timestamps.
    #[arg(long, default_value = "TimeGenerated")]
    time_column: String,
    /// Column with the command name.
    #[arg(long)]
    event_column: String,
    /// Column with the parameters as JSON: an array of {"Name", "Value"} objects or an object.
    #[arg(long, requires = "params_mode")]
    params_column: Option<String>,
    /// How the parameters column is modelled; without it only the commands are.
    #[arg(long, value_enum, requires = "params_column")]
    params_mode: Option<ParamsMode>,
    /// Comma-separated parameters whose values are modelled with `--params-mode values`,
    /// instead of MSTICPy's rule.
    #[arg(long, value_delimiter = ',')]
    modellable_params: Option<Vec<String>>,
    /// Sliding window length, in commands.
    #[arg(long, default_value_t = 3)]
    window: usize,
    /// Maximum session length, in minutes.
    #[arg(long, default_value_t = 20)]
    max_session_minutes: i64,
    /// Maximum gap between two events of a session, in minutes.
    #[arg(long, default_value_t = 2)]
    max_gap_minutes: i64,
    /// Use the geometric mean of each window's likelihood.
    #[arg(long)]
    geo_mean: bool,
    /// Output format, written to standard output.
    #[arg(long, value_enum, default_value_t = TableFormat::Csv)]
    format: TableFormat,
}

#[derive(Debug, clap::Args)]
struct ProctreeArgs {
    /// CSV file with a header row.
    #[arg(long)]
    input: PathBuf,
    /// Schema of the events, by default the one whose columns match best: windows-4688,
    /// linux-auditd, sysmon-1, osquery or hx-process-event.
    #[arg(long)]
    schema: Option<String>,
    /// Output format, written to standard output.
    #[arg(long, value_enum, default_value_t = TableFormat::Csv)]
    format: TableFormat,
}

pub fn main(args: AnalyzeArgs) -> anyhow::Result<ExitCode> {
    let stdout = std::io::stdout().lock();
    let mut out = BufWriter::new(stdout);
    let result = match args.analysis {
        Analysis::Timeseries(args) => run_timeseries(&args, &mut out),
        Analysis::Sequences(args) => run_sequences(&args, &mut out),
        Analysis::Proctree(args) => run_proctree(&args, &mut out),
    }
    .and_then(|()| out.flush().map_err(anyhow::Error::from));
    match result {
        Ok(()) => Ok(ExitCode::SUCCESS),
        // A reader such as `head` that closes the pipe early has all it wanted.
        Err(error) if is_broken_pipe(&error) => Ok(ExitCode::SUCCESS),
        Err(error) => Err(error),
    }
}

fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

fn open_input(path: &Path) -> anyhow::Result<File> {
    File::open(path).with_context(|| format!("failed to open input file {}", path.display()))
}

fn run_timeseries(args: &TimeseriesArgs, out: &mut impl Write) -> anyhow::Result<()> {
    if args.bucket_minutes <= 0 {
        bail!(
            "--bucket-minutes must be positive, got {}",
            args.bucket_minutes
        );
    }
    let file = open_input(&args.input)?;
    let columns = [args.time_column.as_str(), args.value_column.as_str()];
    let table = Table::read_csv(file, &columns)
        .with_context(|| format!("failed to read {}", args.input.display()))?;
    let mut times = Vec::with_capacity(table.rows.len());
    let mut values = Vec::with_capacity(table.rows.len());
    for (row, cells) in table.rows.iter().enumerate() {
        times.push(timestamp_at(&cells[0], row, &args.time_column)?);
        values.push(number_at(&cells[1], row, &args.value_column)?);
    }

    let mut stl = StlParams::new(args.period);
    stl.seasonal = args.seasonal;
    stl.robust = args.robust;
    let options = AnomalyOptions {
        stl,
        score_threshold: args.score_threshold,
        truncate_to_integers: !args.keep_fractions,
    };
    let points = timeseries::score_anomalies(&times, &values, &options)
        .context("STL decomposition failed")?;
    let bucket = Duration::minutes(args.bucket_minutes);
    let periods = anomaly_periods(&points, bucket, !args.include_dips);
    let filter = kql_time_filter(&args.time_column, &periods);

    match args.format {
        OutputFormat::Csv => write_points_csv(out, args, &points)?,
        OutputFormat::Json => write_points_json(out, args, &points, &periods, filter.as_deref())?,
        OutputFormat::Kql => {
            if let Some(filter) = filter {
                writeln!(out, "{filter}")?;
            }
        }
    }
    Ok(())
}

fn write_points_csv(
    out: &mut impl Write,
    args: &TimeseriesArgs,
    points: &[ScoredPoint],
) -> anyhow::Result<()> {
    let header = [
        args.time_column.as_str(),
        args.value_column.as_str(),
        "residual",
        "trend",
        "seasonal",
        "weights",
        "baseline",
        "score",
        "anomalies",
    ];
    write_csv_row(out, header.iter().map(|name| name.to_string()))?;
    for point in points {
        write_csv_row(
            out,
            [
                format_time(point.time),
                format_number(point.value),
                format_number(point.residual),
                format_number(point.trend),
                format_number(point.seasonal),
                format_number(point.weights),
                format_number(point.baseline),
                point.score.map(format_number).unwrap_or_default(),
                point.anomalies.to_string(),
            ],
        )?;
    }
    Ok(())
}

fn write_points_json(
    out: &mut impl Write,
    args: &TimeseriesArgs,
    points: &[ScoredPoint],
    periods: &[AnomalyPeriod],
    filter: Option<&str>,
) -> anyhow::Result<()> {
    let rows: Vec<serde_json::Value> = points
        .iter()
        .map(|point| {
            serde_json::json!({
                args.time_column.as_str(): format_time(point.time),
                args.value_column.as_str(): point.value,
                "residual": point.residual,
                "trend": point.trend,
                "seasonal": point.seasonal,
                "weights": point.weights,
                "baseline": point.baseline,
                "score": point.score,
                "anomalies": point.anomalies,
            })
        })
        .collect();
    let periods: Vec<serde_json::Value> = periods
        .iter()
        .map(|p| serde_json::json!({"start": format_time(p.start), "end": format_time(p.end)}))
        .collect();
    let document = serde_json::json!({
        "rows": rows,
        "anomaly_periods": periods,
        "kql_filter": filter,
    });
    serde_json::to_writer_pretty(&mut *out, &document)?;
    writeln!(out)?;
    Ok(())
}

fn run_sequences(args: &SequencesArgs, out: &mut impl Write) -> anyhow::Result<()> {
    if args.window == 0 {
        bail!("--window must be at least 1");
    }
    if args.max_session_minutes < 0 || args.max_gap_minutes < 0 {
        bail!("--max-session-minutes and --max-gap-minutes must not be negative");
    }
    let events = read_events(args)?;
    let limits = SessionLimits {
        max_session: Duration::minutes(args.max_session_minutes),
        max_gap: Duration::minutes(args.max_gap_minutes),
    };
    let sessions = sequences::sessionize(&events, limits);
    if sessions.is_empty() {
        bail!("{} has no events", args.input.display());
    }

    let kind = match args.params_mode {
        None => ModelKind::Commands,
        Some(ParamsMode::Names) => ModelKind::ParamNames,
        Some(ParamsMode::Values) => ModelKind::ParamValues,
    };
    let options = ScoreOptions {
        kind,
        window_len: args.window,
        use_geo_mean: args.geo_mean,
        modellable_params: args.modellable_params.clone(),
    };
    let mut scores = sequences::score_sessions(&events, &sessions, &options);
    // Rarest first; sessions shorter than the window have no score and go last.
    scores.sessions.sort_by(|a, b| {
        let a = a.rarest_window_likelihood.unwrap_or(f64::INFINITY);
        let b = b.rarest_window_likelihood.unwrap_or(f64::INFINITY);
        a.total_cmp(&b)
    });

    match args.format {
        TableFormat::Csv => write_sessions_csv(out, args, &scores.sessions),
        TableFormat::Json => {
            let document = serde_json::json!({
                "user_columns": args.user_columns,
                "window": args.window,
                "modellable_params": scores.modellable_params,
                "sessions": scores.sessions,
            });
            serde_json::to_writer_pretty(&mut *out, &document)?;
            writeln!(out)?;
            Ok(())
        }
    }
}

fn read_events(args: &SequencesArgs) -> anyhow::Result<Vec<Event>> {
    let file = open_input(&args.input)?;
    let mut columns: Vec<&str> = vec![args.time_column.as_str(), args.event_column.as_str()];
    columns.extend(args.user_columns.iter().map(String::as_str));
    if let Some(params) = &args.params_column {
        columns.push(params);
    }
    let table = Table::read_csv(file, &columns)
        .with_context(|| format!("failed to read {}", args.input.display()))?;

    let user_count = args.user_columns.len();
    let mut events = Vec::with_capacity(table.rows.len());
    for (row, cells) in table.rows.iter().enumerate() {
        let params = match &args.params_column {
            Some(column) => {
                sequences::parse_parameters(&cells[2 + user_count]).map_err(|message| {
                    quarry_analytics::input::InputError::InvalidParameters {
                        row: row + 1,
                        column: column.clone(),
                        message,
                    }
                })?
            }
            None => Vec::new(),
        };
        events.push(Event {
            time: timestamp_at(&cells[0], row, &args.time_column)?,
            command: cells[1].clone(),
            user: cells[2..2 + user_count]
                .iter()
                .map(|cell| (!cell.is_empty()).then(|| cell.clone()))
                .collect(),
            params,
        });
    }
    Ok(events)
}

fn write_sessions_csv(
    out: &mut impl Write,
    args: &SequencesArgs,
    sessions: &[ScoredSession],
) -> anyhow::Result<()> {
    let mut header: Vec<String> = vec!["session".to_string()];
    header.extend(args.user_columns.iter().cloned());
    header.extend(
        [
            "start",
            "end",
            "duration_seconds",
            "number_events",
            "likelihood",
            "geomean_likelihood",
            "rarest_window_likelihood",
            "rarest_window_start",
            "rarest_window",
        ]
        .map(String::from),
    );
    write_csv_row(out, header)?;

    for session in sessions {
        let mut row = vec![session.session.to_string()];
        row.extend(
            session
                .user
                .iter()
                .map(|cell| cell.clone().unwrap_or_default()),
        );
        row.extend([
            format_time(session.start),
            format_time(session.end),
            (session.end - session.start).num_seconds().to_string(),
            session.number_events.to_string(),
            format_number(session.likelihood),
            format_number(session.geomean_likelihood),
            session
                .rarest_window_likelihood
                .map(format_number)
                .unwrap_or_default(),
            session
                .rarest_window_start
                .map(|start| start.to_string())
                .unwrap_or_default(),
            serde_json::to_string(&session.rarest_window)?,
        ]);
        write_csv_row(out, row)?;
    }
    Ok(())
}

fn run_proctree(args: &ProctreeArgs, out: &mut impl Write) -> anyhow::Result<()> {
    let schema = match &args.schema {
        None => None,
        Some(name) => {
            let found = proctree::SCHEMAS.iter().find(|schema| schema.name == name);
            let names: Vec<&str> = proctree::SCHEMAS.iter().map(|schema| schema.name).collect();
            Some(found.with_context(|| {
                format!(
                    "unknown schema `{name}`; expected one of {}",
                    names.join(", ")
                )
            })?)
        }
    };
    let file = open_input(&args.input)?;
    let table = FullTable::read_csv(file)
        .with_context(|| format!("failed to read {}", args.input.display()))?;
    let processes =
        proctree::build_process_tree(&table.header, &table.rows, schema).with_context(|| {
            format!(
                "failed to build a process tree from {}",
                args.input.display()
            )
        })?;

    if args.format == TableFormat::Json {
        let document = serde_json::json!({
            "summary": proctree::summarize(&processes),
            "processes": processes,
        });
        serde_json::to_writer_pretty(&mut *out, &document)?;
        writeln!(out)?;
        return Ok(());
    }

    let header = [
        "path",
        "depth",
        "key",
        "parent_key",
        "is_root",
        "is_leaf",
        "is_branch",
        "inferred",
        "time",
        "host",
        "process_id",
        "parent_id",
        "name",
        "command_line",
    ];
    write_csv_row(out, header.iter().map(|name| name.to_string()))?;
    for process in &processes {
        write_csv_row(
            out,
            [
                process.path.clone(),
                process.depth.to_string(),
                process.key.clone(),
                process.parent_key.clone().unwrap_or_default(),
                process.is_root.to_string(),
                process.is_leaf.to_string(),
                process.is_branch.to_string(),
                process.inferred.to_string(),
                format_time(process.time),
                process.host.clone().unwrap_or_default(),
                process.process_id.clone(),
                process.parent_id.clone().unwrap_or_default(),
                process.name.clone(),
                process.command_line.clone().unwrap_or_default(),
            ],
        )?;
    }
    Ok(())
}

fn write_csv_row(
    out: &mut impl Write,
    cells: impl IntoIterator<Item = String>,
) -> std::io::Result<()> {
    let mut first = true;
    for cell in cells {
        if !first {
            out.write_all(b",")?;
        }
        first = false;
        if cell.contains([',', '"', '\n', '\r']) {
            write!(out, "\"{}\"", cell.replace('"', "\"\""))?;
        } else {
            out.write_all(cell.as_bytes())?;
        }
    }
    out.write_all(b"\n")
}

fn format_time(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

/// Formats a number with the fewest digits that read back to the same value, in scientific
/// notation when it is very small or very large.
fn format_number(value: f64) -> String {
    if value.is_nan() {
        return String::new();
    }
    let magnitude = value.abs();
    if magnitude != 0.0 && !(1e-4..1e16).contains(&magnitude) {
        format!("{value:e}")
    } else {
        format!("{value}")
    }
}
