//! Pivot pipelines: a YAML file of steps that run a template or a query on the local engine,
//! join on a column, enrich a column with IP type, GeoIP and threat intelligence, and filter
//! rows. `quarry pivot FILE [--param NAME=VALUE]` runs one, and the language server runs one
//! with the `quarry.runPivotPipeline` command. `docs/enrichment.md` describes the format.

use std::collections::{BTreeMap, HashMap};
use std::io::{self, Write};
use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use quarry_engine::{DataSource, RunOptions, Session};
use quarry_enrichment::{EnrichmentConfig, GeoIp, Observable, Severity, TiResult, ip_type};
use quarry_templates::yaml::{self, Node, Value as YamlValue};
use quarry_templates::{ArgValue, Dialect, Library, RenderOptions, render};
use serde::Serialize;
use serde_json::Value;

#[derive(Debug, clap::Args)]
pub struct PivotArgs {
    /// The pipeline file (YAML).
    #[arg(value_name = "FILE")]
    file: PathBuf,

    /// A pipeline parameter as NAME=VALUE; repeat for several. Overrides the file's default.
    #[arg(long = "param", value_name = "NAME=VALUE")]
    params: Vec<String>,

    /// Data to run on: `demo` (the built-in dataset, the default) or a folder of CSV, JSON or
    /// Parquet files.
    #[arg(long, value_name = "FOLDER|demo")]
    data: Option<String>,

    /// Extra template folder, searched before `QUARRY_TEMPLATE_PATH` and the bundled templates.
    #[arg(long = "path", value_name = "FOLDER")]
    template_paths: Vec<PathBuf>,

    /// Enrichment configuration file for `enrich` steps (default: enrichment.toml in the
    /// Quarry configuration folder).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    /// Tab-separated columns with a header line.
    Table,
    /// The final table and a summary of each step as JSON.
    Json,
}

/// The result of a pipeline run: the last step's table and a row count per step.
#[derive(Debug, Clone, Serialize)]
pub struct PipelineOutput {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Value>>,
    pub steps: Vec<StepSummary>,
}

#[derive(Debug, Clone, Serialize)]
pub struct StepSummary {
    pub name: String,
    pub action: String,
    pub rows: usize,
}

/// Lookup sources of `enrich` steps: GeoIP databases and a threat-intelligence lookup.
pub struct EnrichContext<'a> {
    pub geoip: Option<&'a GeoIp>,
    /// Returns the threat-intelligence results of an indicator. The CLI sends lookups to the
    /// configured providers (the privacy guard applies), and the editor reads the cache.
    pub threat_intel: &'a dyn Fn(&Observable) -> Vec<TiResult>,
}

/// A table between steps.
#[derive(Debug, Clone, Default)]
struct Table {
    columns: Vec<String>,
    rows: Vec<Vec<Value>>,
}

impl Table {
    fn column_index(&self, name: &str, step: &str) -> Result<usize, String> {
        self.columns
            .iter()
            .position(|column| column == name)
            .ok_or_else(|| {
                format!(
                    "step `{step}`: column `{name}` not found; the table has {}",
                    self.columns.join(", ")
                )
            })
    }
}

/// Maximum rows a source step reads, so a pipeline over a large folder stays bounded.
const MAX_STEP_ROWS: usize = 100_000;

/// Runs the pipeline in `text` with `overrides` for its parameters.
pub fn run_pipeline(
    text: &str,
    overrides: &BTreeMap<String, String>,
    session: &Session,
    library: &Library,
    enrich: &EnrichContext<'_>,
) -> Result<PipelineOutput, String> {
    let document = yaml::parse(text).map_err(|error| {
        format!(
            "invalid pipeline YAML at byte {}: {}",
            error.offset, error.message
        )
    })?;
    if document.as_map().is_none() {
        return Err("a pipeline is a mapping with `steps` and optional `parameters`".to_owned());
    }
    let parameters = read_parameters(&document, overrides)?;
    let steps = document
        .get("steps")
        .and_then(Node::as_seq)
        .filter(|steps| !steps.is_empty())
        .ok_or("the pipeline needs a non-empty `steps` list")?;

    let mut current = Table::default();
    let mut saved: HashMap<String, Table> = HashMap::new();
    let mut summaries = Vec::new();
    for (index, step) in steps.iter().enumerate() {
        let name = step
            .get("name")
            .and_then(scalar_text)
            .unwrap_or_else(|| format!("step{}", index + 1));
        let (action, body) = step_action(step, &name)?;
        current = match action {
            "template" => run_template(body, step, &name, &parameters, session, library)?,
            "query" => run_query(body, &name, session)?,
            "join" => join(&current, body, &name, &saved)?,
            "enrich" => enrich_column(current, body, &name, enrich)?,
            "filter" => filter(current, body, &name)?,
            _ => unreachable!("step_action returns only known actions"),
        };
        tracing::info!(step = %name, action, rows = current.rows.len(), "pipeline step finished");
        summaries.push(StepSummary {
            name: name.clone(),
            action: action.to_owned(),
            rows: current.rows.len(),
        });
        saved.insert(name, current.clone());
    }
    Ok(PipelineOutput {
        columns: current.columns,
        rows: current.rows,
        steps: summaries,
    })
}

const ACTIONS: [&str; 5] = ["template", "query", "join", "enrich", "filter"];

/// Returns the one action key of `step` and its value.
fn step_action<'a>(step: &'a Node, name: &str) -> Result<(&'static str, &'a Node), String> {
    let found: Vec<(&'static str, &Node)> = ACTIONS
        .iter()
        .filter_map(|action| step.get(action).map(|body| (*action, body)))
        .collect();
    match found.as_slice() {
        [one] => Ok(*one),
        [] => Err(format!(
            "step `{name}` has no action; give one of {}",
            ACTIONS.join(", ")
        )),
        _ => Err(format!(
            "step `{name}` has several actions ({}); split it into one step per action",
            found
                .iter()
                .map(|(action, _)| *action)
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

fn scalar_text(node: &Node) -> Option<String> {
    match &node.value {
        YamlValue::Str(text) | YamlValue::Timestamp(text) => Some(text.clone()),
        YamlValue::Int(number) => Some(number.to_string()),
        YamlValue::Float(number) => Some(number.to_string()),
        YamlValue::Bool(flag) => Some(flag.to_string()),
        _ => None,
    }
}

/// Reads `parameters:` (name to default value, or to a mapping with `default`) and applies the
/// overrides. A parameter without a value is an error that names it.
fn read_parameters(
    document: &Node,
    overrides: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, String>, String> {
    let mut values = BTreeMap::new();
    let mut missing = Vec::new();
    for (key, value) in document
        .get("parameters")
        .and_then(Node::as_map)
        .unwrap_or_default()
    {
        let Some(name) = key.key_text() else { continue };
        let default = match value.get("default") {
            Some(default) => scalar_text(default),
            None if value.as_map().is_some() => None,
            None => scalar_text(value),
        };
        match overrides.get(&name).cloned().or(default) {
            Some(text) => {
                values.insert(name, text);
            }
            None => missing.push(name),
        }
    }
    for name in overrides.keys() {
        if !values.contains_key(name) && !missing.contains(name) {
            return Err(format!(
                "parameter `{name}` is not declared under `parameters` in the pipeline"
            ));
        }
    }
    if !missing.is_empty() {
        return Err(format!(
            "parameter{} {} ha{} no value; pass --param NAME=VALUE or set a default",
            if missing.len() == 1 { "" } else { "s" },
            missing.join(", "),
            if missing.len() == 1 { "s" } else { "ve" }
        ));
    }
    Ok(values)
}

/// Renders a template with the step's `parameters` and runs it. A value `$name` is the
/// pipeline parameter `name`. The template's own escaping quotes every value.
fn run_template(
    body: &Node,
    step: &Node,
    name: &str,
    parameters: &BTreeMap<String, String>,
    session: &Session,
    library: &Library,
) -> Result<Table, String> {
    let template_name = body
        .as_str()
        .ok_or_else(|| format!("step `{name}`: `template` must be a template name"))?;
    let entry = library
        .find(template_name)
        .map_err(|error| format!("step `{name}`: {error}"))?;
    let mut args = Vec::new();
    for (key, value) in step
        .get("parameters")
        .and_then(Node::as_map)
        .unwrap_or_default()
    {
        let Some(parameter) = key.key_text() else {
            continue;
        };
        let text = scalar_text(value).ok_or_else(|| {
            format!("step `{name}`: parameter `{parameter}` must be a string or number")
        })?;
        let text = match text.strip_prefix('$') {
            Some(reference) => parameters.get(reference).cloned().ok_or_else(|| {
                format!(
                    "step `{name}`: `${reference}` names no pipeline parameter; declare it under `parameters`"
                )
            })?,
            None => text,
        };
        args.push((parameter, ArgValue::Text(text)));
    }
    let query = render(entry.template, &args, &RenderOptions::new(Dialect::Kql))
        .map_err(|error| format!("step `{name}`: template `{template_name}`: {error}"))?;
    run_query_text(&query, name, session)
}

fn run_query(body: &Node, name: &str, session: &Session) -> Result<Table, String> {
    let query = body
        .as_str()
        .ok_or_else(|| format!("step `{name}`: `query` must be KQL text"))?;
    run_query_text(query, name, session)
}

fn run_query_text(query: &str, name: &str, session: &Session) -> Result<Table, String> {
    let options = RunOptions {
        max_rows: MAX_STEP_ROWS,
        time_range: None,
    };
    let output = session
        .run(query, &options)
        .map_err(|error| format!("step `{name}`: the query failed: {error}"))?;
    Ok(Table {
        columns: output
            .columns
            .into_iter()
            .map(|column| column.name)
            .collect(),
        rows: output.rows,
    })
}

/// Joins the current table (left) with an earlier step's table (right) on equal values of
/// `column` (and `right_column` for a differently named right column). The key is not `on`,
/// because YAML 1.1 reads a plain `on` as the boolean true. `kind` is `inner` (default) or
/// `left`. Right columns whose names are taken get a `_right` suffix.
fn join(
    left: &Table,
    body: &Node,
    name: &str,
    saved: &HashMap<String, Table>,
) -> Result<Table, String> {
    let field = |key: &str| body.get(key).and_then(scalar_text);
    let other = field("step").ok_or_else(|| format!("step `{name}`: `join` needs `step`"))?;
    let right = saved.get(&other).ok_or_else(|| {
        format!("step `{name}`: `join` names step `{other}`, which has not run before it")
    })?;
    let on = field("column").ok_or_else(|| format!("step `{name}`: `join` needs `column`"))?;
    let right_on = field("right_column").unwrap_or_else(|| on.clone());
    let kind = field("kind").unwrap_or_else(|| "inner".to_owned());
    if kind != "inner" && kind != "left" {
        return Err(format!(
            "step `{name}`: join kind `{kind}` is not supported; use inner or left"
        ));
    }
    let left_index = left.column_index(&on, name)?;
    let right_index = right.column_index(&right_on, name)?;

    let mut by_key: HashMap<String, Vec<&Vec<Value>>> = HashMap::new();
    for row in &right.rows {
        if let Some(key) = join_key(&row[right_index]) {
            by_key.entry(key).or_default().push(row);
        }
    }
    let right_columns: Vec<usize> = (0..right.columns.len())
        .filter(|index| *index != right_index)
        .collect();
    let mut columns = left.columns.clone();
    for index in &right_columns {
        let mut column = right.columns[*index].clone();
        if columns.contains(&column) {
            column.push_str("_right");
        }
        columns.push(column);
    }

    let mut rows = Vec::new();
    for row in &left.rows {
        let matches = join_key(&row[left_index]).and_then(|key| by_key.get(&key));
        match matches {
            Some(matches) => {
                for matched in matches {
                    let mut joined = row.clone();
                    joined.extend(right_columns.iter().map(|index| matched[*index].clone()));
                    rows.push(joined);
                }
            }
            None if kind == "left" => {
                let mut joined = row.clone();
                joined.extend(right_columns.iter().map(|_| Value::Null));
                rows.push(joined);
            }
            None => {}
        }
    }
    Ok(Table { columns, rows })
}

/// Returns the text that join keys compare, or `None` for null, which matches nothing as in
/// KQL.
fn join_key(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(text) => Some(text.clone()),
        other => Some(other.to_string()),
    }
}

/// Adds columns about the indicator in `column`: `<column>_IpType`, `<column>_Country` and
/// `<column>_Asn` for IP addresses, and `<column>_TiSeverity` (the highest verdict) and
/// `<column>_TiProviders` for every indicator type. Each distinct value is looked up once.
fn enrich_column(
    mut table: Table,
    body: &Node,
    name: &str,
    context: &EnrichContext<'_>,
) -> Result<Table, String> {
    let column = body
        .get("column")
        .and_then(scalar_text)
        .ok_or_else(|| format!("step `{name}`: `enrich` needs `column`"))?;
    let index = table.column_index(&column, name)?;
    for suffix in ["IpType", "Country", "Asn", "TiSeverity", "TiProviders"] {
        table.columns.push(format!("{column}_{suffix}"));
    }

    let mut known: HashMap<String, [Value; 5]> = HashMap::new();
    for row in &mut table.rows {
        let text = match &row[index] {
            Value::String(text) => text.trim().to_owned(),
            Value::Null => String::new(),
            other => other.to_string(),
        };
        let added = known
            .entry(text.clone())
            .or_insert_with(|| enrich_value(&text, context))
            .clone();
        row.extend(added);
    }
    Ok(table)
}

fn enrich_value(text: &str, context: &EnrichContext<'_>) -> [Value; 5] {
    let mut added = [
        Value::Null,
        Value::Null,
        Value::Null,
        Value::Null,
        Value::Null,
    ];
    if let Ok(address) = text.parse::<IpAddr>() {
        added[0] = Value::String(ip_type(address).to_string());
        if let Some(location) = context
            .geoip
            .and_then(|geoip| geoip.lookup(address).location)
        {
            added[1] = location
                .country_code
                .or(location.country)
                .map_or(Value::Null, Value::String);
            added[2] = location.asn.map_or(Value::Null, Value::from);
        }
    }
    let Some(observable) = Observable::parse(text) else {
        return added;
    };
    let results: Vec<TiResult> = (context.threat_intel)(&observable)
        .into_iter()
        .filter(|result| result.status.is_answer())
        .collect();
    if let Some(severity) = results.iter().map(|result| result.severity).max() {
        added[3] = Value::String(severity.as_str().to_owned());
        let providers: Vec<&str> = results
            .iter()
            .filter(|result| result.severity > Severity::Information)
            .map(|result| result.provider.as_str())
            .collect();
        added[4] = Value::String(providers.join(", "));
    }
    added
}

/// Keeps the rows whose `column` matches: `equals`, `not_equals`, `in` (a list) or `contains`
/// (case-insensitive), compared as text.
fn filter(mut table: Table, body: &Node, name: &str) -> Result<Table, String> {
    let column = body
        .get("column")
        .and_then(scalar_text)
        .ok_or_else(|| format!("step `{name}`: `filter` needs `column`"))?;
    let index = table.column_index(&column, name)?;
    let text_of = |value: &Value| match value {
        Value::String(text) => text.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    };
    let keep: Box<dyn Fn(&str) -> bool> = if let Some(value) = body.get("equals") {
        let expected = scalar_text(value).unwrap_or_default();
        Box::new(move |text| text == expected)
    } else if let Some(value) = body.get("not_equals") {
        let expected = scalar_text(value).unwrap_or_default();
        Box::new(move |text| text != expected)
    } else if let Some(items) = body.get("in").and_then(Node::as_seq) {
        let allowed: Vec<String> = items.iter().filter_map(scalar_text).collect();
        Box::new(move |text| allowed.iter().any(|item| item == text))
    } else if let Some(value) = body.get("contains") {
        let needle = scalar_text(value).unwrap_or_default().to_lowercase();
        Box::new(move |text| text.to_lowercase().contains(&needle))
    } else {
        return Err(format!(
            "step `{name}`: `filter` needs one of equals, not_equals, in or contains"
        ));
    };
    table.rows.retain(|row| keep(&text_of(&row[index])));
    Ok(table)
}

/// Parses `NAME=VALUE` arguments.
pub fn parse_params(params: &[String]) -> anyhow::Result<BTreeMap<String, String>> {
    let mut values = BTreeMap::new();
    for param in params {
        let Some((name, value)) = param.split_once('=') else {
            anyhow::bail!("--param `{param}` has no `=`; write it as NAME=VALUE");
        };
        values.insert(name.trim().to_owned(), value.to_owned());
    }
    Ok(values)
}

pub fn main(args: PivotArgs) -> anyhow::Result<ExitCode> {
    let text = std::fs::read_to_string(&args.file)
        .with_context(|| format!("failed to read {}", args.file.display()))?;
    let overrides = parse_params(&args.params)?;
    let source = match args.data.as_deref() {
        None | Some("demo") => DataSource::Demo,
        Some(folder) => DataSource::Folder(PathBuf::from(folder)),
    };
    let session = Session::new(source);
    let library = crate::templates::load_library(&args.template_paths)?;

    let config = EnrichmentConfig::load(args.config.as_deref())?;
    let geoip = GeoIp::discover(&config.geoip).context("failed to open the GeoIP databases")?;
    let cache_folder = quarry_enrichment::paths::cache_dir().map(|dir| dir.join("ti"));
    let keyring = crate::secrets::SecretStore::default();
    let lookup = |name: &str| keyring.lookup_enrichment(name);
    let enricher = config
        .ti
        .build_with_secrets(cache_folder.as_deref(), &lookup)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("failed to start the async runtime")?;
    let threat_intel = |observable: &Observable| runtime.block_on(enricher.lookup(observable));
    let context = EnrichContext {
        geoip: Some(&geoip),
        threat_intel: &threat_intel,
    };

    let output = match run_pipeline(&text, &overrides, &session, &library, &context) {
        Ok(output) => output,
        Err(message) => {
            eprintln!("error: {}: {message}", args.file.display());
            return Ok(ExitCode::from(1));
        }
    };
    let stdout = io::stdout();
    let mut out = stdout.lock();
    match args.format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, &output)?;
            writeln!(out)?;
        }
        Format::Table => {
            writeln!(out, "{}", output.columns.join("\t"))?;
            for row in &output.rows {
                let cells: Vec<String> = row
                    .iter()
                    .map(|value| match value {
                        Value::String(text) => text.replace(['\t', '\n'], " "),
                        Value::Null => String::new(),
                        other => other.to_string(),
                    })
                    .collect();
                writeln!(out, "{}", cells.join("\t"))?;
            }
        }
    }
    out.flush().context("failed to write to standard output")?;
    Ok(ExitCode::SUCCESS)
}
