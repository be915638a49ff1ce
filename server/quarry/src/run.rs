//! `quarry run`: runs one KQL query on a data folder or the built-in demo dataset.
//!
//! Output is an aligned text table (long cells shortened), CSV, or JSON in the same shape as
//! the `quarry.runQuery` LSP command's result. CSV and JSON carry every value unshortened.
//! A query error prints the query line with a caret under the problem and exits with code 1.
//!
//! With `--connection NAME` the query runs on a configured remote back end instead (see
//! `quarry config check`), and its result goes through the same output. The service's warnings
//! and partial errors go to standard error.

use std::fs;
use std::io::{self, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use quarry_engine::{DataSource, EngineError, QueryOutput, RunOptions, Session};
use quarry_syntax::LineIndex;
use serde_json::Value;

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The KQL query to run.
    #[arg(
        value_name = "QUERY",
        required_unless_present = "file",
        conflicts_with = "file"
    )]
    query: Option<String>,

    /// Read the query from a file instead (`-` reads standard input).
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    file: Option<PathBuf>,

    /// Run only the Nth query block (from 1) of a text with several blocks separated by blank
    /// lines.
    #[arg(long, value_name = "N", conflicts_with = "line")]
    block: Option<usize>,

    /// Run only the query block that contains this line (from 1), as the editor runs the block
    /// under the cursor.
    #[arg(long, value_name = "LINE")]
    line: Option<usize>,

    /// Folder or quoted glob pattern of CSV, TSV, JSON, JSON-lines and Parquet files, gzipped
    /// or not; each file is a table named by its stem, each subfolder a table of its files.
    /// Windows event logs (.evtx) feed the tables SecurityEvent and WindowsEvent.
    /// `--data demo`, or no `--data` at all, runs on the built-in demo dataset.
    #[arg(long, value_name = "DIR")]
    data: Option<String>,

    /// JSON file of column types by table, such as {"SigninLogs": {"ResultType": "string"}},
    /// used instead of the data folder's quarry-schema.json. Types: string, int, long, real,
    /// bool, datetime.
    #[arg(long, value_name = "FILE", conflicts_with = "connection")]
    schema: Option<PathBuf>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,

    /// Write the output to this file instead of standard output (required for Parquet).
    #[arg(long, visible_alias = "output", value_name = "FILE")]
    out: Option<PathBuf>,

    /// The maximum number of rows to output; by default every row.
    #[arg(long, value_name = "N")]
    max_rows: Option<usize>,

    /// Run on this remote connection from quarry.toml or msticpyconfig.yaml instead of local data.
    #[arg(long, value_name = "NAME", conflicts_with = "data")]
    connection: Option<String>,

    /// With --connection: the period ending now that the query covers, such as P1D or 7d.
    #[arg(
        long,
        value_name = "DURATION",
        requires = "connection",
        allow_hyphen_values = true
    )]
    timespan: Option<String>,

    /// The start of the time range (2024-05-01T00:00:00Z, 2024-05-01 or -7d). Local runs keep
    /// the rows of every table whose TimeGenerated lies in the range.
    #[arg(long, value_name = "TIME", allow_hyphen_values = true)]
    start: Option<String>,

    /// The end of the time range, exclusive (default: now).
    #[arg(
        long,
        value_name = "TIME",
        requires = "start",
        allow_hyphen_values = true
    )]
    end: Option<String>,

    /// With --connection: split the time range into runs of this length, such as P1D or 6h, and
    /// join their rows. A failed chunk is reported as a warning.
    #[arg(long, value_name = "DURATION", requires = "connection")]
    chunk: Option<String>,

    /// Print the time the local engine took on standard error: from opening the data to the
    /// finished result, without process start-up or output formatting.
    #[arg(long, conflicts_with = "connection")]
    timing: bool,

    /// With --connection: seconds allowed for the run after sign-in (for each chunk with --chunk).
    #[arg(
        long,
        value_name = "SECS",
        default_value_t = 180,
        requires = "connection"
    )]
    timeout: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    /// Aligned columns for reading in a terminal; cells longer than 60 characters are shortened.
    Table,
    /// Comma-separated values with a header row.
    Csv,
    /// One JSON object: columns with their KQL types, rows, rowCount and truncated.
    Json,
    /// A Parquet file with typed columns, written to --out.
    Parquet,
}

/// Cells longer than this, in characters, are shortened in table output.
const MAX_CELL_CHARS: usize = 60;

pub fn main(args: RunArgs) -> anyhow::Result<ExitCode> {
    let (query, origin) = match (&args.query, &args.file) {
        (Some(query), _) => (query.clone(), "query".to_owned()),
        (None, Some(path)) => (read_query(path)?, path.display().to_string()),
        (None, None) => anyhow::bail!("give a query, or a file with -f FILE"),
    };
    let document = select_block(&query, args.block, args.line).map_err(anyhow::Error::msg)?;
    let expansion = crate::templates::expand_template_calls(&document, &origin)?;
    let query = expansion
        .as_ref()
        .map_or_else(|| document.clone(), |expansion| expansion.text.clone());
    if let Some(name) = &args.connection {
        return match remote_run(&args, name, &query)? {
            Ok(output) => {
                write_output(&args, &output)?;
                Ok(ExitCode::SUCCESS)
            }
            Err(error) => {
                report_error(error, &document, expansion.as_ref(), &origin);
                Ok(ExitCode::from(1))
            }
        };
    }
    let source = match args.data.as_deref() {
        None | Some("demo") => DataSource::Demo,
        Some(folder) => DataSource::Folder(PathBuf::from(folder)),
    };

    let started = std::time::Instant::now();
    let session = match (&args.schema, &source) {
        (None, _) => Session::new(source),
        (Some(path), DataSource::Demo) => anyhow::bail!(
            "--schema {} sets column types of local files, but the demo dataset's types are \
             fixed; add --data DIR",
            path.display()
        ),
        (Some(path), DataSource::Folder(_)) => Session::new(source).with_schema_file(path.clone()),
    };
    let options = RunOptions {
        max_rows: args.max_rows.unwrap_or(usize::MAX),
        time_range: local_time_window(args.start.as_deref(), args.end.as_deref())
            .map_err(anyhow::Error::msg)?,
    };
    let output = match session.run(&query, &options) {
        Ok(output) => output,
        Err(error) => {
            let error = explain_demo_column(error, &query, &session);
            report_error(error, &document, expansion.as_ref(), &origin);
            return Ok(ExitCode::from(1));
        }
    };
    if args.timing {
        eprintln!(
            "timing: the engine ran the query in {:.4} s",
            started.elapsed().as_secs_f64()
        );
    }
    write_output(&args, &output)?;
    Ok(ExitCode::SUCCESS)
}

/// Reads a local run's time window from a start and an optional end (`now` when absent), in
/// the forms that remote runs accept. Returns `None` when neither is given.
pub(crate) fn local_time_window(
    start: Option<&str>,
    end: Option<&str>,
) -> Result<Option<quarry_engine::TimeWindow>, String> {
    let nanos = |instant: chrono::DateTime<chrono::Utc>| {
        instant
            .timestamp_nanos_opt()
            .ok_or_else(|| format!("{instant} is outside the range of datetime values"))
    };
    match crate::remote::time_range(None, start, end)? {
        None => Ok(None),
        Some(quarry_providers::TimeRange::Between { start, end }) => {
            Ok(Some(quarry_engine::TimeWindow {
                start: nanos(start)?,
                end: nanos(end)?,
            }))
        }
        Some(quarry_providers::TimeRange::Last(span)) => {
            let end = chrono::Utc::now();
            let span = chrono::Duration::from_std(span).map_err(|error| error.to_string())?;
            Ok(Some(quarry_engine::TimeWindow {
                start: nanos(end - span)?,
                end: nanos(end)?,
            }))
        }
    }
}

/// Prints `output` in the chosen format, then a note on stderr when rows were left out.
fn write_output(args: &RunArgs, output: &QueryOutput) -> anyhow::Result<()> {
    let text = match args.format {
        Format::Parquet => {
            let Some(path) = &args.out else {
                anyhow::bail!("--format parquet writes a file: add --out FILE");
            };
            crate::export::write_parquet(output, path)?;
            note_truncation(output);
            return Ok(());
        }
        Format::Table => render_table(output),
        Format::Csv => render_csv(output),
        Format::Json => {
            let mut json = serde_json::to_string_pretty(&output)
                .context("failed to encode the result as JSON")?;
            json.push('\n');
            json
        }
    };
    match &args.out {
        Some(path) => fs::write(path, text)
            .with_context(|| format!("failed to write `{}`", path.display()))?,
        None => {
            let mut stdout = io::stdout().lock();
            stdout
                .write_all(text.as_bytes())
                .context("failed to write to standard output")?;
            stdout
                .flush()
                .context("failed to write to standard output")?;
        }
    }
    note_truncation(output);
    Ok(())
}

fn note_truncation(output: &QueryOutput) {
    if output.truncated {
        eprintln!(
            "note: showing {} of {} rows; raise --max-rows to see more",
            output.rows.len(),
            output.row_count
        );
    }
}

/// Runs `query` on the connection `name`. The outer error is a setup problem, which exits with
/// code 2. The inner one is a failed run, shown like a local query error with exit code 1.
fn remote_run(
    args: &RunArgs,
    name: &str,
    query: &str,
) -> anyhow::Result<Result<QueryOutput, EngineError>> {
    use quarry_providers::config::{BuildOptions, ProcessEnvironment, build_provider};
    use quarry_providers::{ProviderError, QueryRequest, RunOptions};

    let time_range = crate::remote::time_range(
        args.timespan.as_deref(),
        args.start.as_deref(),
        args.end.as_deref(),
    )
    .map_err(anyhow::Error::msg)?;
    let chunk = match args.chunk.as_deref() {
        None => None,
        Some(text) => Some(crate::remote::parse_duration(text).ok_or_else(|| {
            anyhow::anyhow!("--chunk `{text}` is not a duration; write it as P1D, PT6H or 6h")
        })?),
    };
    let working_dir = std::env::current_dir().context("could not read the current folder")?;
    let loaded = crate::remote::load_connections(&working_dir);
    let connection = crate::remote::find_connection(&loaded, name).map_err(anyhow::Error::msg)?;
    let options = BuildOptions {
        prompt: std::sync::Arc::new(|prompt: &quarry_providers::auth::DeviceCodePrompt| {
            let fallback = format!(
                "To sign in, open {} and enter the code {}",
                prompt.verification_uri, prompt.user_code
            );
            eprintln!("{}", prompt.message.clone().unwrap_or(fallback));
        }),
        ..BuildOptions::default()
    };
    let provider = build_provider(connection, &ProcessEnvironment, &options)
        .map_err(|problem| anyhow::anyhow!("{problem}"))?;
    let request = QueryRequest {
        query: query.to_owned(),
        time_range,
        options: RunOptions {
            timeout: std::time::Duration::from_secs(args.timeout),
            row_limit: args.max_rows,
            ..RunOptions::default()
        },
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("could not start the async runtime")?;
    let outcome = runtime.block_on(crate::remote::sign_in_and_run(
        provider.as_ref(),
        connection,
        &request,
        chunk,
    ));
    match outcome {
        Ok(result) => {
            let remote = crate::remote::to_output(&result);
            for warning in &remote.warnings {
                eprintln!("warning: {warning}");
            }
            Ok(Ok(remote.output))
        }
        Err(ProviderError::Query(error)) => {
            let range = crate::remote::error_range(query, &error);
            Ok(Err(EngineError {
                message: error.to_string(),
                range,
            }))
        }
        Err(error) => Ok(Err(EngineError {
            message: error.to_string(),
            range: None,
        })),
    }
}

fn read_query(path: &PathBuf) -> anyhow::Result<String> {
    if path.as_os_str() == "-" {
        let mut text = String::new();
        io::stdin()
            .read_to_string(&mut text)
            .context("failed to read the query from standard input")?;
        return Ok(text);
    }
    fs::read_to_string(path)
        .with_context(|| format!("failed to read the query file `{}`", path.display()))
}

/// Extends an unknown-column error on the demo dataset: when a demo table that the query names
/// lacks a column that Sentinel's table has, the message lists the demo table's columns.
fn explain_demo_column(mut error: EngineError, query: &str, session: &Session) -> EngineError {
    if !matches!(session.source(), DataSource::Demo) {
        return error;
    }
    let Some(column) = error
        .message
        .strip_prefix("unknown column or name `")
        .and_then(|rest| rest.split('`').next())
        .map(str::to_owned)
    else {
        return error;
    };
    let sentinel = quarry_analysis::BundledSchema::Sentinel.get();
    let words: std::collections::HashSet<&str> = query
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .collect();
    for table in session.table_names().unwrap_or_default() {
        if !words.contains(table.as_str()) {
            continue;
        }
        let in_sentinel = sentinel
            .table(&table)
            .is_some_and(|schema| schema.column(&column).is_some());
        let Ok(Some(columns)) = session.table_columns(&table) else {
            continue;
        };
        if !in_sentinel || columns.iter().any(|info| info.name == column) {
            continue;
        }
        let names: Vec<&str> = columns.iter().map(|info| info.name.as_str()).collect();
        error.message = format!(
            "{}. Sentinel's `{table}` has `{column}`, but the demo dataset carries only these \
             columns of `{table}`: {}. Run on your own export with --data FOLDER for the other \
             columns",
            error.message,
            names.join(", ")
        );
        break;
    }
    error
}

/// Returns `text` with every query block except the chosen one blanked out, so that error
/// positions keep their line and column in the file. A text of one block needs no choice; a
/// text of several needs `block` (1-based) or `line` (1-based).
fn select_block(text: &str, block: Option<usize>, line: Option<usize>) -> Result<String, String> {
    let blocks = quarry_syntax::query_blocks(&quarry_syntax::parse(text), text);
    let index = LineIndex::new(text);
    let first_lines: Vec<String> = blocks
        .iter()
        .map(|range| (index.line_col(range.start).line + 1).to_string())
        .collect();
    let chosen = match (block, line) {
        (None, None) if blocks.len() <= 1 => return Ok(text.to_owned()),
        (None, None) => {
            return Err(format!(
                "the text contains {} query blocks separated by blank lines (starting on lines \
                 {}); choose one with --block N (1 to {}) or --line LINE",
                blocks.len(),
                first_lines.join(", "),
                blocks.len()
            ));
        }
        (Some(number), _) => match number.checked_sub(1).and_then(|i| blocks.get(i)) {
            Some(range) => range.clone(),
            None => {
                return Err(format!(
                    "--block {number} is out of range: the text contains {} query blocks; \
                     give a number from 1 to {}",
                    blocks.len(),
                    blocks.len()
                ));
            }
        },
        (None, Some(number)) => {
            let found = blocks.iter().find(|range| {
                let first = index.line_col(range.start).line as usize + 1;
                let last = index.line_col(range.end).line as usize + 1;
                (first..=last).contains(&number)
            });
            match found {
                Some(range) => range.clone(),
                None => {
                    return Err(format!(
                        "--line {number} is not inside a query block; the blocks start on \
                         lines {}",
                        first_lines.join(", ")
                    ));
                }
            }
        }
    };
    // Spaces keep byte offsets, so the engine's error positions still point into the file.
    let blanked = text
        .char_indices()
        .map(|(offset, character)| {
            if chosen.contains(&offset) || character == '\n' {
                character.to_string()
            } else {
                " ".repeat(character.len_utf8())
            }
        })
        .collect();
    Ok(blanked)
}

/// Prints a run error at its place in `document`, the text before template calls were expanded,
/// with a note naming the template when the error lies in a call's expansion.
fn report_error(
    error: EngineError,
    document: &str,
    expansion: Option<&crate::lsp::RunExpansion>,
    origin: &str,
) {
    let (error, note) = match expansion {
        Some(expansion) => crate::templates::map_run_error(error, document, expansion),
        None => (error, None),
    };
    eprint!("{}", render_error(&error, document, origin));
    if let Some(note) = note {
        eprintln!("note: {note}");
    }
}

/// Formats an engine error; when it has a place in the query, shows that line with a caret.
fn render_error(error: &EngineError, query: &str, origin: &str) -> String {
    let Some(range) = &error.range else {
        return format!("error: {}\n", error.message);
    };
    let index = LineIndex::new(query);
    let start = range.start.min(query.len());
    let line = index.line_col(start).line as usize;
    let line_start = index.line_start(line as u32).unwrap_or(0);
    let line_end = query[line_start..]
        .find('\n')
        .map_or(query.len(), |i| line_start + i);
    let line_text = query[line_start..line_end].trim_end_matches('\r');
    let column = query[line_start..start].chars().count();
    let end = range.end.clamp(start, line_start + line_text.len());
    let width = query[start..end].chars().count().max(1);
    let number = (line + 1).to_string();
    let gutter = " ".repeat(number.len());
    format!(
        "error: {}\n{gutter}--> {origin}:{}:{}\n{gutter} |\n{number} | {line_text}\n{gutter} | {}{}\n",
        error.message,
        line + 1,
        column + 1,
        " ".repeat(column),
        "^".repeat(width),
    )
}

/// Returns the text of a cell: strings as they are, null as empty, other values as JSON.
fn cell_text(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Shortens `text` to [`MAX_CELL_CHARS`] characters and shows control characters as escapes.
fn table_cell(value: &Value) -> String {
    let text = cell_text(value)
        .replace('\n', "\\n")
        .replace('\r', "\\r")
        .replace('\t', "\\t");
    if text.chars().count() <= MAX_CELL_CHARS {
        return text;
    }
    let mut short: String = text.chars().take(MAX_CELL_CHARS - 1).collect();
    short.push('…');
    short
}

fn render_table(output: &QueryOutput) -> String {
    let headers: Vec<String> = output.columns.iter().map(|c| c.name.clone()).collect();
    let cells: Vec<Vec<String>> = output
        .rows
        .iter()
        .map(|row| row.iter().map(table_cell).collect())
        .collect();
    let numeric: Vec<bool> = output
        .columns
        .iter()
        .map(|c| matches!(c.ty.as_str(), "long" | "int" | "real"))
        .collect();
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in &cells {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }

    let mut text = String::new();
    let line = |text: &mut String, values: &[String]| {
        let mut parts = Vec::with_capacity(values.len());
        for (index, value) in values.iter().enumerate() {
            let padding = " ".repeat(widths[index] - value.chars().count());
            parts.push(if numeric[index] {
                format!("{padding}{value}")
            } else {
                format!("{value}{padding}")
            });
        }
        text.push_str(parts.join("  ").trim_end());
        text.push('\n');
    };
    line(&mut text, &headers);
    let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
    text.push_str(&rule.join("  "));
    text.push('\n');
    for row in &cells {
        line(&mut text, row);
    }
    let noun = if output.row_count == 1 { "row" } else { "rows" };
    if output.truncated {
        text.push_str(&format!(
            "({} of {} {noun})\n",
            output.rows.len(),
            output.row_count
        ));
    } else {
        text.push_str(&format!("({} {noun})\n", output.row_count));
    }
    if let Some(render) = &output.render {
        text.push_str(&format!(
            "(the query renders a {}; the editor draws it, this output shows the rows)\n",
            render.kind
        ));
    }
    text
}

fn render_csv(output: &QueryOutput) -> String {
    let mut text = String::new();
    let header: Vec<String> = output.columns.iter().map(|c| csv_field(&c.name)).collect();
    text.push_str(&header.join(","));
    text.push('\n');
    for row in &output.rows {
        let fields: Vec<String> = row
            .iter()
            .map(|value| csv_field(&cell_text(value)))
            .collect();
        text.push_str(&fields.join(","));
        text.push('\n');
    }
    text
}

/// Quotes a CSV field when it contains a comma, a quote, a line break or edge spaces.
fn csv_field(text: &str) -> String {
    let needs_quotes =
        text.contains([',', '"', '\n', '\r']) || text.starts_with(' ') || text.ends_with(' ');
    if needs_quotes {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quarry_engine::ColumnInfo;
    use serde_json::json;

    fn output(columns: &[(&str, &str)], rows: Vec<Vec<Value>>) -> QueryOutput {
        QueryOutput {
            columns: columns
                .iter()
                .map(|(n, t)| ColumnInfo {
                    name: (*n).into(),
                    ty: (*t).into(),
                })
                .collect(),
            row_count: rows.len(),
            rows,
            truncated: false,
            render: None,
        }
    }

    #[test]
    fn table_aligns_and_right_aligns_numbers() {
        let out = output(
            &[("Account", "string"), ("n", "long")],
            vec![
                vec![json!("alice"), json!(26)],
                vec![json!("bob"), json!(2)],
            ],
        );
        assert_eq!(
            render_table(&out),
            "Account   n\n-------  --\nalice    26\nbob       2\n(2 rows)\n"
        );
    }

    #[test]
    fn table_notes_the_render_kind() {
        let mut out = output(&[("n", "long")], vec![vec![json!(1)]]);
        out.render = Some(quarry_engine::RenderHint {
            kind: "timechart".into(),
            properties: serde_json::Map::new(),
        });
        assert_eq!(
            render_table(&out),
            "n\n-\n1\n(1 row)\n(the query renders a timechart; the editor draws it, this output shows the rows)\n"
        );
    }

    #[test]
    fn table_shortens_long_cells() {
        let long = "x".repeat(100);
        let out = output(&[("CommandLine", "string")], vec![vec![json!(long)]]);
        let table = render_table(&out);
        let row = table.lines().nth(2).unwrap();
        assert_eq!(row.chars().count(), MAX_CELL_CHARS);
        assert!(row.ends_with('…'));
    }

    #[test]
    fn csv_quotes_only_when_needed() {
        let out = output(
            &[("a", "string"), ("b", "long"), ("c", "dynamic")],
            vec![
                vec![json!("x,y \"z\""), Value::Null, json!(["p", "q"])],
                vec![json!("plain"), json!(3), json!([])],
            ],
        );
        assert_eq!(
            render_csv(&out),
            "a,b,c\n\"x,y \"\"z\"\"\",,\"[\"\"p\"\",\"\"q\"\"]\"\nplain,3,[]\n"
        );
    }

    #[test]
    fn error_shows_line_and_caret() {
        let query = "T\n| where computer == 1";
        let error = EngineError::at("unknown column or name `computer`", 10..18);
        assert_eq!(
            render_error(&error, query, "query"),
            "error: unknown column or name `computer`\n --> query:2:9\n  |\n2 | | where computer == 1\n  |         ^^^^^^^^\n"
        );
    }
}
