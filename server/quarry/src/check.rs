//! `quarry check`: syntax errors and template-call errors for KQL files or for a JSON-lines
//! batch of queries.
//!
//! Template calls such as `Family.name(param=value)` are checked against the template library
//! that `quarry run` expands them from, with the editor's `TPL` codes. `--syntax-only` skips
//! that check and reports syntax errors alone.
//!
//! Human output names the place as `file:line:column` (1-based, columns counted in characters)
//! and shows the source line with a caret. JSON output gives offsets in UTF-16 code units, the
//! unit Kusto.Language and JavaScript tools use, so a corpus can be compared line by line.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use quarry_ide::templates::{self as ide_templates, TemplateCatalog};
use quarry_ide::{Severity, SourceFile};
use quarry_syntax::LineIndex;
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

    /// Report syntax errors only, without checking template calls against the template
    /// library.
    #[arg(long)]
    syntax_only: bool,

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

/// A syntax or template-call error in JSON output, with offsets in UTF-16 code units.
#[derive(Debug, Serialize)]
struct JsonError {
    start: usize,
    end: usize,
    code: String,
    message: String,
}

/// An error found in one query text, with byte offsets.
struct Problem {
    range: Range<usize>,
    code: String,
    message: String,
}

/// The error counts of a run, by kind.
#[derive(Default)]
struct Counts {
    syntax: usize,
    template: usize,
}

/// Finds and counts the errors of query texts. The template library is loaded when the first
/// text with a template call is checked, so texts without calls never read it.
struct Checker {
    check_templates: bool,
    catalog: Option<TemplateCatalog>,
    counts: Counts,
}

impl Checker {
    fn new(check_templates: bool) -> Checker {
        Checker {
            check_templates,
            catalog: None,
            counts: Counts::default(),
        }
    }

    /// Returns the syntax and template-call errors of `text` sorted by offset, and counts them.
    fn check(&mut self, text: &str) -> anyhow::Result<Vec<Problem>> {
        let file = SourceFile::parse(text);
        let mut problems: Vec<Problem> = file
            .syntax()
            .errors
            .iter()
            .map(|error| Problem {
                range: error.range.clone(),
                code: error.code.to_owned(),
                message: error.message.clone(),
            })
            .collect();
        self.counts.syntax += problems.len();
        if !self.check_templates || ide_templates::template_calls(&file).is_empty() {
            return Ok(problems);
        }

        let catalog = match self.catalog.take() {
            Some(catalog) => catalog,
            None => TemplateCatalog::new(&crate::templates::load_library(&[])?),
        };
        let template_errors =
            ide_templates::template_diagnostics(&catalog, &file, chrono::Utc::now())
                .into_iter()
                .filter(|diagnostic| matches!(diagnostic.severity, Severity::Error))
                .map(|diagnostic| Problem {
                    range: diagnostic.range,
                    code: diagnostic.code,
                    message: diagnostic.message,
                });
        let before = problems.len();
        problems.extend(template_errors);
        self.counts.template += problems.len() - before;
        self.catalog = Some(catalog);
        problems.sort_by_key(|problem| problem.range.start);
        Ok(problems)
    }
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

    let mut checker = Checker::new(!args.syntax_only);
    match &args.jsonl {
        Some(path) => check_jsonl(path, args.format, &mut checker, &mut out)?,
        None => check_files(&args.files, args.format, &mut checker, &mut out)?,
    }
    out.flush().context("failed to write to standard output")?;

    let Counts { syntax, template } = checker.counts;
    if syntax + template == 0 {
        return Ok(ExitCode::SUCCESS);
    }
    if args.format == Format::Human {
        eprintln!("{} found", error_summary(syntax, template));
    }
    Ok(ExitCode::from(1))
}

/// Describes the error counts, such as "2 syntax errors and 1 template-call error".
fn error_summary(syntax: usize, template: usize) -> String {
    let count = |number: usize, kind: &str| {
        let noun = if number == 1 { "error" } else { "errors" };
        format!("{number} {kind} {noun}")
    };
    match (syntax, template) {
        (_, 0) => count(syntax, "syntax"),
        (0, _) => count(template, "template-call"),
        _ => format!(
            "{} and {}",
            count(syntax, "syntax"),
            count(template, "template-call")
        ),
    }
}

/// Checks each file and writes its errors.
fn check_files(
    paths: &[PathBuf],
    format: Format,
    checker: &mut Checker,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    for path in paths {
        let text = read_input(path)?;
        let errors = checker.check(&text)?;

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
    Ok(())
}

/// Checks each query of a JSON-lines file and writes its errors.
fn check_jsonl(
    path: &Path,
    format: Format,
    checker: &mut Checker,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    let reader: Box<dyn BufRead> = if path == Path::new("-") {
        Box::new(BufReader::new(io::stdin()))
    } else {
        let file = std::fs::File::open(path)
            .with_context(|| format!("failed to open `{}`", path.display()))?;
        Box::new(BufReader::new(file))
    };

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

        let errors = checker.check(&record.query)?;
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
    Ok(())
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

fn errors_to_json(text: &str, errors: &[Problem]) -> Vec<JsonError> {
    let index = LineIndex::new(text);
    errors
        .iter()
        .map(|error| JsonError {
            start: index.utf16_offset(error.range.start),
            end: index.utf16_offset(error.range.end),
            code: error.code.clone(),
            message: error.message.clone(),
        })
        .collect()
}

/// Writes each error as `name:line:column: error[CODE]: message`, then the source line and a
/// caret under the error's range.
fn write_human(out: &mut impl Write, name: &str, text: &str, errors: &[Problem]) -> io::Result<()> {
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
