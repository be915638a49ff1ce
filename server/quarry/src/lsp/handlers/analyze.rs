//! Hunting analyses on a result table that the client already holds: `quarry/analyzeTimeseries`
//! (STL anomalies), `quarry/analyzeSequences` (anomalous command sessions), `quarry/processTree`
//! and `quarry/decode`, as specified in `docs/lsp-extensions.md`. Each request calls `quarry-analytics`, the crate behind
//! `quarry analyze` and `quarry decode`, on a blocking thread.

use quarry_analytics::chrono::{DateTime, Duration, SecondsFormat, Utc};
use quarry_analytics::decode::{DecodeOptions, decode_with};
use quarry_analytics::input::{number_at, timestamp_at};
use quarry_analytics::proctree;
use quarry_analytics::sequences::{self, Event, ModelKind, ScoreOptions, SessionLimits};
use quarry_analytics::stl::StlParams;
use quarry_analytics::timeseries::{self, AnomalyOptions, anomaly_periods, kql_time_filter};
use serde::Deserialize;
use serde_json::{Value, json};
use tower_lsp_server::jsonrpc::{Error, ErrorCode, Result};

use crate::lsp::server::Server;

pub const ANALYZE_TIMESERIES: &str = "quarry/analyzeTimeseries";
pub const ANALYZE_SEQUENCES: &str = "quarry/analyzeSequences";
pub const PROCESS_TREE: &str = "quarry/processTree";
pub const DECODE: &str = "quarry/decode";

/// The largest text `quarry/decode` accepts, in bytes. A command line is far shorter; the limit
/// keeps one request from holding a worker thread on megabytes of pasted data.
const MAX_DECODE_INPUT: usize = 1 << 20;

/// A column of a result table, as `quarry.runQuery` returns it. Other fields are ignored.
#[derive(Debug, Deserialize)]
struct Column {
    name: String,
}

/// A result table, as `quarry.runQuery` returns it: cells are JSON values.
#[derive(Debug, Deserialize)]
struct TableParams {
    columns: Vec<Column>,
    rows: Vec<Vec<Value>>,
}

impl TableParams {
    fn header(&self) -> Vec<String> {
        self.columns
            .iter()
            .map(|column| column.name.clone())
            .collect()
    }

    fn column_index(&self, name: &str) -> Result<usize> {
        self.columns
            .iter()
            .position(|column| column.name == name)
            .ok_or_else(|| {
                let names: Vec<&str> = self.columns.iter().map(|c| c.name.as_str()).collect();
                invalid_params(format!(
                    "column `{name}` not found; the table has {}",
                    names.join(", ")
                ))
            })
    }

    /// Returns the rows as text, the form the analytics crate reads from CSV files.
    fn text_rows(&self) -> Result<Vec<Vec<String>>> {
        let width = self.columns.len();
        self.rows
            .iter()
            .enumerate()
            .map(|(index, row)| {
                if row.len() != width {
                    return Err(invalid_params(format!(
                        "row {} has {} cells, but the table has {width} columns",
                        index + 1,
                        row.len()
                    )));
                }
                Ok(row.iter().map(cell_text).collect())
            })
            .collect()
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TimeseriesParams {
    #[serde(flatten)]
    table: TableParams,
    #[serde(default = "default_time_column")]
    time_column: String,
    value_column: String,
    #[serde(default = "default_period")]
    period: usize,
    #[serde(default = "default_score_threshold")]
    score_threshold: f64,
    #[serde(default = "default_bucket_minutes")]
    bucket_minutes: i64,
}

fn default_time_column() -> String {
    "TimeGenerated".to_owned()
}

fn default_period() -> usize {
    24
}

fn default_score_threshold() -> f64 {
    3.0
}

fn default_bucket_minutes() -> i64 {
    60
}

/// Model of the parameters column in `quarry/analyzeSequences`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "lowercase")]
enum ParamsMode {
    Names,
    Values,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SequencesParams {
    #[serde(flatten)]
    table: TableParams,
    user_columns: Vec<String>,
    #[serde(default = "default_time_column")]
    time_column: String,
    event_column: String,
    params_column: Option<String>,
    params_mode: Option<ParamsMode>,
    #[serde(default = "default_window")]
    window: usize,
    #[serde(default = "default_max_session_minutes")]
    max_session_minutes: i64,
    #[serde(default = "default_max_gap_minutes")]
    max_gap_minutes: i64,
    #[serde(default)]
    geo_mean: bool,
}

fn default_window() -> usize {
    3
}

fn default_max_session_minutes() -> i64 {
    20
}

fn default_max_gap_minutes() -> i64 {
    2
}

#[derive(Debug, Deserialize)]
pub struct ProcessTreeParams {
    #[serde(flatten)]
    table: TableParams,
    schema: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DecodeParams {
    text: String,
    max_depth: Option<usize>,
}

impl Server {
    /// `quarry/analyzeTimeseries`: STL decomposition of one numeric column over time, with
    /// MSTICPy's z-score rule marking anomalies.
    pub async fn analyze_timeseries(&self, params: TimeseriesParams) -> Result<Value> {
        run_blocking(move || timeseries_result(&params)).await
    }

    /// `quarry/analyzeSequences`: sessions of commands per user, scored by a Markov model
    /// trained on all of them, rarest first.
    pub async fn analyze_sequences(&self, params: SequencesParams) -> Result<Value> {
        run_blocking(move || sequences_result(&params)).await
    }

    /// `quarry/processTree`: the process tree of process-creation events.
    pub async fn process_tree(&self, params: ProcessTreeParams) -> Result<Value> {
        run_blocking(move || process_tree_result(&params)).await
    }

    /// `quarry/decode`: the layers of an obfuscated command and the indicators in them.
    pub async fn decode(&self, params: DecodeParams) -> Result<Value> {
        run_blocking(move || decode_result(&params)).await
    }
}

async fn run_blocking(work: impl FnOnce() -> Result<Value> + Send + 'static) -> Result<Value> {
    tokio::task::spawn_blocking(work).await.map_err(|error| {
        tracing::error!(%error, "analysis task failed");
        Error {
            code: ErrorCode::InternalError,
            message: format!("the analysis failed: {error}").into(),
            data: None,
        }
    })?
}

fn timeseries_result(params: &TimeseriesParams) -> Result<Value> {
    if params.period < 2 {
        return Err(invalid_params(format!(
            "period must be at least 2 observations, got {}",
            params.period
        )));
    }
    if params.bucket_minutes <= 0 {
        return Err(invalid_params(format!(
            "bucketMinutes must be positive, got {}",
            params.bucket_minutes
        )));
    }
    let table = &params.table;
    let time_index = table.column_index(&params.time_column)?;
    let value_index = table.column_index(&params.value_column)?;
    let rows = table.text_rows()?;

    let mut times = Vec::with_capacity(rows.len());
    let mut values = Vec::with_capacity(rows.len());
    for (row, cells) in rows.iter().enumerate() {
        times.push(
            timestamp_at(&cells[time_index], row, &params.time_column)
                .map_err(|error| invalid_params(error.to_string()))?,
        );
        values.push(
            number_at(&cells[value_index], row, &params.value_column)
                .map_err(|error| invalid_params(error.to_string()))?,
        );
    }

    let options = AnomalyOptions {
        stl: StlParams::new(params.period),
        score_threshold: params.score_threshold,
        truncate_to_integers: true,
    };
    let points = timeseries::score_anomalies(&times, &values, &options).map_err(|error| {
        invalid_params(format!(
            "STL decomposition of `{}` failed: {error}",
            params.value_column
        ))
    })?;
    let periods = anomaly_periods(&points, Duration::minutes(params.bucket_minutes), true);
    let filter = kql_time_filter(&params.time_column, &periods);

    let points: Vec<Value> = points
        .iter()
        .map(|point| {
            json!({
                "time": format_time(point.time),
                "value": point.value,
                "baseline": point.baseline,
                "score": point.score.filter(|score| score.is_finite()),
                "anomalies": point.anomalies,
            })
        })
        .collect();
    let periods: Vec<Value> = periods
        .iter()
        .map(|period| json!({"start": format_time(period.start), "end": format_time(period.end)}))
        .collect();
    Ok(json!({
        "timeColumn": params.time_column,
        "valueColumn": params.value_column,
        "points": points,
        "periods": periods,
        "kqlFilter": filter,
    }))
}

fn sequences_result(params: &SequencesParams) -> Result<Value> {
    if params.user_columns.is_empty() {
        return Err(invalid_params(
            "userColumns must name at least one column that identifies a user".to_owned(),
        ));
    }
    if params.window == 0 {
        return Err(invalid_params(
            "window must be at least 1 command".to_owned(),
        ));
    }
    if params.max_session_minutes < 0 || params.max_gap_minutes < 0 {
        return Err(invalid_params(format!(
            "maxSessionMinutes ({}) and maxGapMinutes ({}) must not be negative",
            params.max_session_minutes, params.max_gap_minutes
        )));
    }
    let kind = match (&params.params_column, &params.params_mode) {
        (None, None) => ModelKind::Commands,
        (Some(_), Some(ParamsMode::Names)) => ModelKind::ParamNames,
        (Some(_), Some(ParamsMode::Values)) => ModelKind::ParamValues,
        _ => {
            return Err(invalid_params(
                "paramsColumn and paramsMode go together: give both or neither".to_owned(),
            ));
        }
    };

    let table = &params.table;
    let time_index = table.column_index(&params.time_column)?;
    let event_index = table.column_index(&params.event_column)?;
    let user_indices = params
        .user_columns
        .iter()
        .map(|name| table.column_index(name))
        .collect::<Result<Vec<_>>>()?;
    let params_index = match &params.params_column {
        Some(name) => Some((name, table.column_index(name)?)),
        None => None,
    };

    let rows = table.text_rows()?;
    let mut events = Vec::with_capacity(rows.len());
    for (row, cells) in rows.iter().enumerate() {
        let event_params = match params_index {
            Some((name, index)) => {
                sequences::parse_parameters(&cells[index]).map_err(|message| {
                    invalid_params(format!("row {}, column `{name}`: {message}", row + 1))
                })?
            }
            None => Vec::new(),
        };
        events.push(Event {
            time: timestamp_at(&cells[time_index], row, &params.time_column)
                .map_err(|error| invalid_params(error.to_string()))?,
            command: cells[event_index].clone(),
            user: user_indices
                .iter()
                .map(|&index| (!cells[index].is_empty()).then(|| cells[index].clone()))
                .collect(),
            params: event_params,
        });
    }

    let limits = SessionLimits {
        max_session: Duration::minutes(params.max_session_minutes),
        max_gap: Duration::minutes(params.max_gap_minutes),
    };
    let sessions = sequences::sessionize(&events, limits);
    let options = ScoreOptions {
        kind,
        window_len: params.window,
        use_geo_mean: params.geo_mean,
        modellable_params: None,
    };
    let mut scores = sequences::score_sessions(&events, &sessions, &options);
    // Rarest first, as `quarry analyze sequences` prints them. Sessions shorter than the window
    // have no score and go last.
    scores.sessions.sort_by(|a, b| {
        let a = a.rarest_window_likelihood.unwrap_or(f64::INFINITY);
        let b = b.rarest_window_likelihood.unwrap_or(f64::INFINITY);
        a.total_cmp(&b)
    });
    Ok(json!({
        "userColumns": params.user_columns,
        "window": params.window,
        "modellableParams": scores.modellable_params,
        "sessions": scores.sessions,
    }))
}

fn process_tree_result(params: &ProcessTreeParams) -> Result<Value> {
    let schema = match &params.schema {
        None => None,
        Some(name) => Some(
            proctree::SCHEMAS
                .iter()
                .find(|schema| schema.name == name)
                .ok_or_else(|| {
                    let names: Vec<&str> =
                        proctree::SCHEMAS.iter().map(|schema| schema.name).collect();
                    invalid_params(format!(
                        "unknown process schema `{name}`; expected one of {}",
                        names.join(", ")
                    ))
                })?,
        ),
    };
    let header = params.table.header();
    let rows = params.table.text_rows()?;
    let processes = proctree::build_process_tree(&header, &rows, schema)
        .map_err(|error| invalid_params(error.to_string()))?;
    Ok(json!({
        "summary": proctree::summarize(&processes),
        "processes": processes,
    }))
}

fn decode_result(params: &DecodeParams) -> Result<Value> {
    if params.text.len() > MAX_DECODE_INPUT {
        return Err(invalid_params(format!(
            "the text to decode has {} bytes; the maximum is {MAX_DECODE_INPUT}",
            params.text.len()
        )));
    }
    let mut options = DecodeOptions::default();
    if let Some(max_depth) = params.max_depth {
        options.max_depth = max_depth;
    }
    let report = decode_with(params.text.as_bytes(), options);
    let indicators = crate::decode::decoded_indicators(&report);
    Ok(json!({
        "tree": report.root,
        "layers": report.layers,
        "maxDepthReached": report.max_depth_reached,
        "totalDecodedBytes": report.total_decoded_bytes,
        "limits": report.limits,
        "indicators": indicators,
    }))
}

/// Returns a cell as the text a CSV file would hold: strings as they are, null as empty text,
/// other values as JSON.
fn cell_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn format_time(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

fn invalid_params(message: String) -> Error {
    Error {
        code: ErrorCode::InvalidParams,
        message: message.into(),
        data: None,
    }
}
