//! `quarry templates`: list, show, render and validate MSTICPy-format query templates.
//!
//! Templates are read from Quarry's own library (`queries/`, built into the binary), from each
//! `--path` folder and from the folders in `QUARRY_TEMPLATE_PATH`, in that order. A later definition of
//! the same `Family.name` replaces an earlier one.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use chrono::{DateTime, Utc};
use quarry_engine::EngineError;
use quarry_ide::SourceFile;
use quarry_ide::templates as ide_templates;
use quarry_templates::library::{env_template_paths, template_dialect};
use quarry_templates::{
    ArgValue, Dialect, Entry, Escaping, Library, ParamType, RenderOptions, Severity, Template,
    TemplateFile, render,
};
use serde::Serialize;

use crate::lsp::RunExpansion;

#[derive(Debug, clap::Args)]
pub struct TemplatesArgs {
    /// A folder (or file) of template YAML files to read besides the bundled library;
    /// repeatable. `QUARRY_TEMPLATE_PATH` adds more, separated like PATH.
    #[arg(long = "path", value_name = "DIR", global = true)]
    paths: Vec<PathBuf>,

    #[command(subcommand)]
    command: TemplatesCommand,
}

#[derive(Debug, clap::Subcommand)]
enum TemplatesCommand {
    /// List templates as Family.name with their descriptions.
    List {
        /// Only templates whose name, description, parameters or query contain TEXT
        /// (case-insensitive).
        #[arg(long, value_name = "TEXT")]
        search: Option<String>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Show a template's description, parameters and query.
    Show {
        /// Family.name, or name alone when only one family has it.
        name: String,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Render a template with parameter values and print the query.
    Render {
        /// Family.name, or name alone when only one family has it.
        name: String,
        /// A parameter value as NAME=VALUE; repeatable. Aliases are accepted. A list
        /// parameter takes comma-separated items.
        #[arg(long = "param", value_name = "NAME=VALUE")]
        params: Vec<String>,
        /// Query language of the output; the default follows the template's data environment
        /// (splunk for Splunk, kql otherwise).
        #[arg(long, value_enum)]
        dialect: Option<DialectArg>,
        /// Insert values exactly as MSTICPy does, without Quarry's escaping of quotes and line
        /// breaks inside string literals.
        #[arg(long)]
        msticpy_compatible: bool,
        /// The time relative datetimes such as -3d count from (RFC 3339); default: now.
        #[arg(long, value_name = "TIME")]
        now: Option<DateTime<Utc>>,
    },
    /// Check template files; exits with 1 when any file has an error.
    Validate {
        /// Template files or folders to check.
        #[arg(required = true, value_name = "PATH")]
        files: Vec<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum DialectArg {
    Kql,
    Splunk,
}

pub fn main(args: TemplatesArgs) -> anyhow::Result<ExitCode> {
    let stdout = io::stdout();
    let mut out = stdout.lock();
    match args.command {
        TemplatesCommand::Validate { files, format } => validate(&files, format, &mut out),
        TemplatesCommand::List { search, format } => {
            let library = load_library(&args.paths)?;
            let entries = match &search {
                Some(text) => library.search(text),
                None => library.entries(),
            };
            list(&entries, format, &mut out)?;
            Ok(ExitCode::SUCCESS)
        }
        TemplatesCommand::Show { name, format } => {
            let library = load_library(&args.paths)?;
            let entry = library.find(&name)?;
            show(entry, format, &mut out)?;
            Ok(ExitCode::SUCCESS)
        }
        TemplatesCommand::Render {
            name,
            params,
            dialect,
            msticpy_compatible,
            now,
        } => {
            let library = load_library(&args.paths)?;
            let entry = library.find(&name)?;
            let template = entry.template;
            let values = parse_params(template, &params)?;
            let options = RenderOptions {
                dialect: match dialect {
                    Some(DialectArg::Kql) => Dialect::Kql,
                    Some(DialectArg::Splunk) => Dialect::Splunk,
                    None => template_dialect(template),
                },
                escaping: if msticpy_compatible {
                    Escaping::Msticpy
                } else {
                    Escaping::Safe
                },
                now: now.unwrap_or_else(Utc::now),
            };
            let query = render(template, &values, &options)
                .with_context(|| format!("cannot render `{}`", entry.qualified_name()))?;
            writeln!(out, "{query}")?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Returns the template folders read after the bundled library: `--path`, then
/// `QUARRY_TEMPLATE_PATH`.
fn search_paths(extra: &[PathBuf]) -> Vec<PathBuf> {
    let mut paths = extra.to_vec();
    paths.extend(env_template_paths());
    paths
}

pub(crate) fn load_library(extra: &[PathBuf]) -> anyhow::Result<Library> {
    for path in extra {
        if !path.exists() {
            bail!(
                "template folder {} given with --path does not exist; fix the path or leave it out",
                path.display()
            );
        }
    }
    for path in env_template_paths() {
        if !path.exists() {
            bail!(
                "template folder {} named in QUARRY_TEMPLATE_PATH does not exist; fix or remove \
                 it from that variable (folders are separated by `{}`)",
                path.display(),
                if cfg!(windows) { ';' } else { ':' }
            );
        }
    }
    let paths = search_paths(extra);
    let library = Library::load_with_bundled(&paths).context("cannot read the template folders")?;
    for file in library.files.iter().filter(|file| !file.is_valid()) {
        eprintln!(
            "warning: skipping {} because it has errors; run `quarry templates validate {}`",
            file.path.display(),
            file.path.display()
        );
    }
    Ok(library)
}

/// Parses `NAME=VALUE` arguments. Values stay text, as MSTICPy receives them from a notebook
/// user typing strings, except that a list parameter's text is split at commas by the renderer.
fn parse_params(template: &Template, params: &[String]) -> anyhow::Result<Vec<(String, ArgValue)>> {
    params
        .iter()
        .map(|param| {
            let Some((name, value)) = param.split_once('=') else {
                bail!("invalid --param {param:?}: write NAME=VALUE");
            };
            let name = name.trim();
            if template.resolve_parameter(name).is_none() {
                let known: Vec<&str> = template
                    .parameters
                    .iter()
                    .map(|p| p.name.as_str())
                    .collect();
                bail!(
                    "unknown parameter `{name}` for `{}`; its parameters are: {}",
                    template.name,
                    known.join(", ")
                );
            }
            Ok((name.to_string(), ArgValue::Text(value.to_string())))
        })
        .collect()
}

#[derive(Serialize)]
struct ListItem<'a> {
    name: String,
    family: &'a str,
    template: &'a str,
    description: &'a str,
    environments: &'a [String],
    file: String,
}

fn list(entries: &[Entry<'_>], format: Format, out: &mut impl Write) -> anyhow::Result<()> {
    match format {
        Format::Json => {
            let items: Vec<ListItem<'_>> = entries
                .iter()
                .map(|entry| ListItem {
                    name: entry.qualified_name(),
                    family: entry.family,
                    template: &entry.template.name,
                    description: &entry.template.description,
                    environments: &entry.template.environments,
                    file: entry.template.path.display().to_string(),
                })
                .collect();
            serde_json::to_writer_pretty(&mut *out, &items)?;
            writeln!(out)?;
        }
        Format::Text => {
            let width = entries
                .iter()
                .map(|entry| entry.qualified_name().len())
                .max()
                .unwrap_or(0);
            for entry in entries {
                writeln!(
                    out,
                    "{:width$}  {}",
                    entry.qualified_name(),
                    entry.template.description
                )?;
            }
        }
    }
    Ok(())
}

#[derive(Serialize)]
struct ParameterInfo<'a> {
    name: &'a str,
    #[serde(rename = "type")]
    param_type: Option<ParamType>,
    description: Option<&'a str>,
    required: bool,
    default: Option<serde_json::Value>,
    aliases: &'a [String],
}

#[derive(Serialize)]
struct TemplateInfo<'a> {
    name: String,
    description: &'a str,
    families: &'a [String],
    environments: &'a [String],
    file: String,
    line: usize,
    parameters: Vec<ParameterInfo<'a>>,
    query: &'a str,
}

fn show(entry: Entry<'_>, format: Format, out: &mut impl Write) -> anyhow::Result<()> {
    let template = entry.template;
    let line = TemplateFile::read(&template.path)
        .map(|file| {
            file.lines
                .line_column(&file.text, template.name_span.start)
                .0
        })
        .unwrap_or(0);
    let mut parameters: Vec<ParameterInfo<'_>> = template
        .parameters
        .iter()
        .map(|param| ParameterInfo {
            name: &param.name,
            param_type: param.param_type,
            description: param.description.as_deref(),
            required: param.is_required(),
            default: param
                .default
                .as_ref()
                .and_then(ArgValue::from_node)
                .map(|value| arg_to_json(&value)),
            aliases: &param.aliases,
        })
        .collect();
    parameters.sort_by_key(|param| (!param.required, param.name));
    let info = TemplateInfo {
        name: entry.qualified_name(),
        description: &template.description,
        families: &template.families,
        environments: &template.environments,
        file: template.path.display().to_string(),
        line,
        parameters,
        query: &template.query,
    };
    match format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, &info)?;
            writeln!(out)?;
        }
        Format::Text => {
            writeln!(out, "{}\n  {}", info.name, info.description)?;
            writeln!(
                out,
                "  defined in {}:{}",
                display_template_path(&template.path),
                info.line
            )?;
            writeln!(out, "  families: {}", info.families.join(", "))?;
            writeln!(out, "  environments: {}", info.environments.join(", "))?;
            writeln!(out, "\nParameters:")?;
            for param in &info.parameters {
                let type_name = param.param_type.map_or("(no type)", ParamType::name);
                let status = if param.required {
                    "required".to_string()
                } else {
                    "optional".to_string()
                };
                writeln!(out, "  {}: {type_name}, {status}", param.name)?;
                if let Some(description) = param.description {
                    writeln!(out, "      {description}")?;
                }
                if let Some(default) = &param.default {
                    writeln!(
                        out,
                        "      default: {}",
                        abbreviate(&default.to_string(), 70)
                    )?;
                }
                if !param.aliases.is_empty() {
                    writeln!(out, "      aliases: {}", param.aliases.join(", "))?;
                }
            }
            writeln!(out, "\nQuery:\n{}", info.query.trim())?;
        }
    }
    Ok(())
}

/// Converts a template value to JSON: datetimes as ISO 8601 text, lists as arrays.
pub(crate) fn arg_to_json(value: &ArgValue) -> serde_json::Value {
    match value {
        ArgValue::Text(text) => serde_json::Value::from(text.as_str()),
        ArgValue::Int(number) => serde_json::Value::from(*number),
        ArgValue::Float(number) => serde_json::Value::from(*number),
        ArgValue::Bool(flag) => serde_json::Value::from(*flag),
        ArgValue::List(items) => items.iter().map(arg_to_json).collect(),
        ArgValue::Time(time) => serde_json::Value::from(time.isoformat('T')),
    }
}

fn abbreviate(text: &str, max_chars: usize) -> String {
    let single_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if single_line.chars().count() <= max_chars {
        return single_line;
    }
    let cut: String = single_line.chars().take(max_chars).collect();
    format!("{cut}...")
}

/// Returns a template file's path for display: `(bundled) queries/...` for Quarry's own
/// library, whether it was read from the source checkout or from the copies in the binary,
/// and the path itself otherwise.
fn display_template_path(path: &Path) -> String {
    let source_folder = normalize(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../queries"));
    let relative = path
        .strip_prefix(quarry_templates::library::BUNDLED_PREFIX)
        .ok()
        .map(Path::to_path_buf)
        .or_else(|| {
            normalize(path)
                .strip_prefix(&source_folder)
                .ok()
                .map(Path::to_path_buf)
        });
    match relative {
        Some(relative) => format!("(bundled) queries/{}", relative.display()),
        None => path.display().to_string(),
    }
}

/// Removes `.` and resolves `..` components without touching the file system.
fn normalize(path: &Path) -> PathBuf {
    let mut normalized = PathBuf::new();
    for component in path.components() {
        match component {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                normalized.pop();
            }
            other => normalized.push(other),
        }
    }
    normalized
}

fn validate(paths: &[PathBuf], format: Format, out: &mut impl Write) -> anyhow::Result<ExitCode> {
    if let Some(missing) = paths.iter().find(|path| !path.exists()) {
        bail!(
            "`{}` does not exist; pass a folder or a .yaml file of templates to validate",
            missing.display()
        );
    }
    let library = Library::load(paths).with_context(|| {
        format!(
            "cannot read the files to validate in {}",
            paths
                .iter()
                .map(|path| format!("`{}`", path.display()))
                .collect::<Vec<_>>()
                .join(", ")
        )
    })?;
    if library.files.is_empty() {
        bail!(
            "no .yaml or .yml files found in {}",
            paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let mut error_count = 0;
    let mut warning_count = 0;
    for file in &library.files {
        for problem in &file.problems {
            match problem.severity {
                Severity::Error => error_count += 1,
                Severity::Warning => warning_count += 1,
            }
            match format {
                Format::Json => {
                    serde_json::to_writer(&mut *out, problem)?;
                    writeln!(out)?;
                }
                Format::Text => writeln!(out, "{problem}")?,
            }
        }
    }
    let templates: usize = library.files.iter().map(|file| file.templates.len()).sum();
    eprintln!(
        "{}, {}: {}, {}",
        plural(library.files.len(), "file"),
        plural(templates, "template"),
        plural(error_count, "error"),
        plural(warning_count, "warning")
    );
    Ok(if error_count > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn plural(count: usize, noun: &str) -> String {
    if count == 1 {
        format!("1 {noun}")
    } else {
        format!("{count} {noun}s")
    }
}

/// Expands the template calls (`Family.template(name=value, ...)`) in a query for `quarry run`,
/// with the bundled library and the folders in `QUARRY_TEMPLATE_PATH`. Returns `None` for text
/// without calls. A call that cannot be expanded is an error that names its line and column in
/// `origin`.
pub fn expand_template_calls(query: &str, origin: &str) -> anyhow::Result<Option<RunExpansion>> {
    let file = SourceFile::parse(query);
    if ide_templates::template_calls(&file).is_empty() {
        return Ok(None);
    }
    let library = load_library(&[])?;
    let catalog = ide_templates::TemplateCatalog::new(&library);
    RunExpansion::build(&catalog, &file, 0..query.len(), Utc::now())
        .map(Some)
        .map_err(|error| {
            let before = &query[..error.range.start];
            let line = before.matches('\n').count() + 1;
            let line_start = before.rfind('\n').map_or(0, |index| index + 1);
            let column = before[line_start..].chars().count() + 1;
            anyhow::anyhow!("{origin}:{line}:{column}: {}", error.message)
        })
}

/// Maps the range of an error in the expanded query back to `document`, the text that was
/// expanded. When the range falls inside a template call, also returns a note that names the
/// template and states whether the text came from an argument or from the template's own query.
pub fn map_run_error(
    mut error: EngineError,
    document: &str,
    expansion: &RunExpansion,
) -> (EngineError, Option<String>) {
    let Some(range) = error.range.take() else {
        return (error, None);
    };
    let mapped = expansion.to_document(range);
    let file = SourceFile::parse(document);
    let call = ide_templates::template_calls(&file)
        .into_iter()
        .filter(|call| call.range.start <= mapped.start && mapped.end <= call.range.end)
        .min_by_key(|call| call.range.len());
    let note = call.map(|call| {
        let template = format!("{}.{}", call.family, call.name);
        let argument = call.arguments.iter().find(|argument| {
            argument.value_range.start <= mapped.start && mapped.end <= argument.value_range.end
        });
        match argument.and_then(|argument| argument.name.as_ref()) {
            Some((parameter, _)) => format!(
                "the error is in the value of `{parameter}`, which template `{template}` inserts \
                 into its query"
            ),
            None if argument.is_some() => {
                format!("the error is in an argument of the call of template `{template}`")
            }
            None => format!(
                "the error is in the query text of template `{template}`, which this call \
                 expands to; `quarry templates show {template}` prints that text"
            ),
        }
    });
    error.range = Some(mapped);
    (error, note)
}
