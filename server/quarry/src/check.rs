//! `quarry check`: syntax diagnostics for KQL files or for a JSON-lines batch of queries.
//!
//! Human output names the place as `file:line:column` (1-based, columns counted in characters)
//! and shows the source line with a caret. JSON output gives offsets in UTF-16 code units, the
//! unit Kusto.Language and JavaScript tools use, so a corpus can be compared line by line.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use quarry_syntax::{LineIndex, SyntaxError, parse};
use serde::{Deserialize, Serialize};

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// KQL files to check; `-` reads standard input.
    #[arg(required_unless_present = "jsonl", value_name = "FILE")]
    files: Vec<PathBuf>,

    /// Check the queries of a JSON-lines file with one `{"id", "query"}` object a line
    /// (`-` reads standard input) instead of KQL files.
    #[arg(long, value_name = "FILE", conflicts_with = "files")]
    jsonl: Option<PathBuf>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    /// `file:line:column: error[CODE]: message`, the source line and a caret.
    Human,
    /// One JSON object a line with the errors' UTF-16 offsets.
    Json,
}

/// A syntax error in JSON output, with offsets in UTF-16 code units.
#[derive(Debug, Serialize)]
struct JsonError {
    start: usize,
    end: usize,
    code: &'static str,
    message: String,
}

/// One line of JSON output for a file.
#[derive(Debug, Serialize)]
struct FileResult {
    file: String,
    errors: Vec<JsonError>,
}

/// One line of JSON output for a `--jsonl` query.
#[derive(Debug, Serialize)]
struct QueryResult {
    id: serde_json::Value,
    errors: Vec<JsonError>,
}

/// One line of the `--jsonl` input. The id is echoed back as it is, string or number.
#[derive(Debug, Deserialize)]
struct JsonlQuery {
    id: serde_json::Value,
    query: String,
}

pub fn main(args: CheckArgs) -> anyhow::Result<ExitCode> {
    let stdout = io::stdout();
    let mut out = stdout.lock();

    let error_count = match &args.jsonl {
        Some(path) => check_jsonl(path, args.format, &mut out)?,
        None => check_files(&args.files, args.format, &mut out)?,
    };
    out.flush().context("failed to write to standard output")?;

    if error_count == 0 {
        Ok(ExitCode::SUCCESS)
    } else {
        if args.format == Format::Human {
            let noun = if error_count == 1 { "error" } else { "errors" };
            eprintln!("{error_count} syntax {noun} found");
        }
        Ok(ExitCode::from(1))
    }
}

/// Checks each file and returns the number of syntax errors found.
fn check_files(paths: &[PathBuf], format: Format, out: &mut impl Write) -> anyhow::Result<usize> {
    let mut error_count = 0;
    for path in paths {
        let text = read_input(path)?;
        let errors = parse(&text).errors;
        error_count += errors.len();

        let name = path.display().to_string();
        match format {
            Format::Human => write_human(out, &name, &text, &errors)?,
            Format::Json => {
                let result = FileResult {
                    file: name,
                    errors: errors_to_json(&text, &errors),
                };
                writeln!(out, "{}", serde_json::to_string(&result)?)?;
            }
        }
    }
    Ok(error_count)
}

/// Checks each query of a JSON-lines file and returns the number of syntax errors found.
fn check_jsonl(path: &Path, format: Format, out: &mut impl Write) -> anyhow::Result<usize> {
    let reader: Box<dyn BufRead> = if path == Path::new("-") {
        Box::new(BufReader::new(io::stdin()))
    } else {
        let file = std::fs::File::open(path)
            .with_context(|| format!("failed to open `{}`", path.display()))?;
        Box::new(BufReader::new(file))
    };

    let mut error_count = 0;
    for (index, line) in reader.lines().enumerate() {
        let line_number = index + 1;
        let line = line.with_context(|| format!("failed to read `{}`", path.display()))?;
        if line.trim().is_empty() {
            continue;
        }
        let record: JsonlQuery = serde_json::from_str(&line).with_context(|| {
            format!(
                "invalid record on line {line_number} of `{}`: expected a JSON object with `id` and `query`",
                path.display()
            )
        })?;

        let errors = parse(&record.query).errors;
        error_count += errors.len();
        match format {
            Format::Human => {
                let name = match &record.id {
                    serde_json::Value::String(id) => id.clone(),
                    other => other.to_string(),
                };
                write_human(out, &name, &record.query, &errors)?;
            }
            Format::Json => {
                let result = QueryResult {
                    errors: errors_to_json(&record.query, &errors),
                    id: record.id,
                };
                writeln!(out, "{}", serde_json::to_string(&result)?)?;
            }
        }
    }
    Ok(error_count)
}

fn read_input(path: &Path) -> anyhow::Result<String> {
    if path == Path::new("-") {
        let mut text = String::new();
        io::stdin()
            .read_to_string(&mut text)
            .context("failed to read standard input")?;
        return Ok(text);
    }
    std::fs::read_to_string(path).with_context(|| format!("failed to read `{}`", path.display()))
}

fn errors_to_json(text: &str, errors: &[SyntaxError]) -> Vec<JsonError> {
    let index = LineIndex::new(text);
    errors
        .iter()
        .map(|error| JsonError {
            start: index.utf16_offset(error.range.start),
            end: index.utf16_offset(error.range.end),
            code: error.code,
            message: error.message.clone(),
        })
        .collect()
}

/// Writes each error as `name:line:column: error[CODE]: message`, then the source line and a
/// caret under the error's range.
fn write_human(
    out: &mut impl Write,
    name: &str,
    text: &str,
    errors: &[SyntaxError],
) -> io::Result<()> {
    let index = LineIndex::new(text);
    for error in errors {
        let line = index.line_col(error.range.start).line;
        let line_start = index.line_start(line).unwrap_or(0);
        let line_text = text[line_start..].lines().next().unwrap_or("");
        let line_end = line_start + line_text.len();

        let error_start = error.range.start.min(line_end);
        let prefix = &text[line_start..error_start];
        let caret_end = error.range.end.clamp(error_start, line_end);
        let caret_width = text[error_start..caret_end].chars().count().max(1);

        writeln!(
            out,
            "{name}:{}:{}: error[{}]: {}",
            line + 1,
            prefix.chars().count() + 1,
            error.code,
            error.message
        )?;
        let gutter = (line + 1).to_string();
        writeln!(out, "{gutter} | {}", line_text.trim_end_matches('\r'))?;
        writeln!(
            out,
            "{} | {}{}",
            " ".repeat(gutter.len()),
            caret_padding(prefix),
            "^".repeat(caret_width)
        )?;
    }
    Ok(())
}

/// Whitespace as wide as `prefix`, keeping its tabs so the caret lines up in a terminal.
fn caret_padding(prefix: &str) -> String {
    prefix
        .chars()
        .map(|ch| if ch == '\t' { '\t' } else { ' ' })
        .collect()
}
