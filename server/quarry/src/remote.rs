//! Remote runs, shared by `quarry run --connection` and the language server: finding a
//! configured connection, reading time ranges, and turning a back end's result into the table
//! model that local runs print.

use std::ops::Range;
use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, Utc};
use quarry_engine::{ColumnInfo, QueryOutput};
use quarry_providers::config::{
    AuthMethod, Backend, ConfigSources, Connection, Environment, LoadedConfig, ProcessEnvironment,
};
use quarry_providers::defender::DefenderApi;
use quarry_providers::table::RenderHint;
use quarry_providers::{
    Provider, ProviderError, QueryError, QueryRequest, QueryResult, TimeRange, Value, Warning,
};

/// Reads `quarry.toml` and `msticpyconfig.yaml` as `quarry config check` does.
pub fn load_connections(working_dir: &Path) -> LoadedConfig {
    ConfigSources::discover(working_dir, &ProcessEnvironment).load()
}

/// Finds the connection `name`. The error lists the configured names.
pub fn find_connection<'a>(loaded: &'a LoadedConfig, name: &str) -> Result<&'a Connection, String> {
    if let Some(connection) = loaded.connection(name) {
        return Ok(connection);
    }
    let known: Vec<&str> = loaded.connections.iter().map(|c| c.name.as_str()).collect();
    Err(if known.is_empty() {
        format!(
            "no connection is named `{name}`, and no connections are configured; add one to quarry.toml (see `quarry config check`)"
        )
    } else {
        format!(
            "no connection is named `{name}`; configured: {}",
            known.join(", ")
        )
    })
}

/// Returns whether the connection's credentials are in place: its secret resolves, or its
/// method (Azure CLI, device code) signs in without a stored secret.
pub fn credentials_configured(connection: &Connection, env: &dyn Environment) -> bool {
    match &connection.auth {
        AuthMethod::AzureCli { .. } | AuthMethod::DeviceCode { .. } => true,
        method => method
            .secret()
            .is_some_and(|secret| secret.resolve(env).is_ok()),
    }
}

/// Reads a duration: ISO 8601 (`P1D`, `PT12H`, `P1DT30M`) or a relative form (`7d`, `-7d`,
/// `24h`, `30m`, `90s`). The sign of a relative form is ignored.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    if let Some(rest) = text.strip_prefix(['P', 'p']) {
        return parse_iso_duration(rest);
    }
    let body = text.strip_prefix('-').unwrap_or(text);
    let unit_at = body.find(|c: char| !c.is_ascii_digit())?;
    let (number, unit) = body.split_at(unit_at);
    let number: u64 = number.parse().ok()?;
    let seconds = match unit {
        "d" => 86_400,
        "h" => 3_600,
        "m" => 60,
        "s" => 1,
        _ => return None,
    };
    number.checked_mul(seconds).map(Duration::from_secs)
}

fn parse_iso_duration(rest: &str) -> Option<Duration> {
    let mut seconds: u64 = 0;
    let mut in_time = false;
    let mut number = String::new();
    let mut any = false;
    for c in rest.chars() {
        match c.to_ascii_uppercase() {
            'T' if !in_time && number.is_empty() => in_time = true,
            '0'..='9' => number.push(c),
            unit => {
                let value: u64 = number.parse().ok()?;
                number.clear();
                let factor = match (in_time, unit) {
                    (false, 'W') => 604_800,
                    (false, 'D') => 86_400,
                    (true, 'H') => 3_600,
                    (true, 'M') => 60,
                    (true, 'S') => 1,
                    _ => return None,
                };
                seconds = seconds.checked_add(value.checked_mul(factor)?)?;
                any = true;
            }
        }
    }
    (any && number.is_empty()).then(|| Duration::from_secs(seconds))
}

/// Reads an instant: RFC 3339 (`2024-05-01T00:00:00Z`), a date (`2024-05-01`), `now`, or a
/// relative form counted back from `now` (`-7d`).
pub fn parse_instant(text: &str, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if text.eq_ignore_ascii_case("now") {
        return Some(now);
    }
    if let Ok(instant) = DateTime::parse_from_rfc3339(text) {
        return Some(instant.with_timezone(&Utc));
    }
    if let Ok(date) = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return date.and_hms_opt(0, 0, 0).map(|naive| naive.and_utc());
    }
    if text.starts_with('-') {
        let back = chrono::Duration::from_std(parse_duration(text)?).ok()?;
        return now.checked_sub_signed(back);
    }
    None
}

/// Builds the time range from a duration, or from a start and an optional end (`now` when
/// absent). Returns `None` when none is given, which leaves the range to the query.
pub fn time_range(
    timespan: Option<&str>,
    start: Option<&str>,
    end: Option<&str>,
) -> Result<Option<TimeRange>, String> {
    let now = Utc::now();
    match (timespan, start, end) {
        (Some(_), Some(_), _) | (Some(_), _, Some(_)) => {
            Err("give either a timespan or a start and end, not both".to_owned())
        }
        (Some(span), None, None) => parse_duration(span)
            .map(|span| Some(TimeRange::Last(span)))
            .ok_or_else(|| format!("`{span}` is not a duration; write it as P1D, PT12H or 7d")),
        (None, None, Some(_)) => Err("an end needs a start".to_owned()),
        (None, Some(start_text), end_text) => {
            let start = parse_instant(start_text, now).ok_or_else(|| {
                format!("`{start_text}` is not a time; write it as 2024-05-01T00:00:00Z or -7d")
            })?;
            let end = match end_text {
                None => now,
                Some(text) => parse_instant(text, now).ok_or_else(|| {
                    format!("`{text}` is not a time; write it as 2024-05-01T00:00:00Z or now")
                })?,
            };
            if end <= start {
                return Err("the end of the time range must be after its start".to_owned());
            }
            Ok(Some(TimeRange::Between { start, end }))
        }
        (None, None, None) => Ok(None),
    }
}

/// Returns whether the connection's service takes a time range beside the query, which
/// splitting a run into chunks needs.
pub fn takes_time_range(connection: &Connection) -> bool {
    match &connection.backend {
        Backend::LogAnalytics { .. } | Backend::Splunk { .. } => true,
        Backend::Defender { api, .. } => *api == DefenderApi::Graph,
        Backend::DataExplorer { .. } => false,
    }
}

/// Signs in, then runs `request` whole or, with `chunk`, once per chunk of its time range.
pub async fn sign_in_and_run(
    provider: &dyn Provider,
    connection: &Connection,
    request: &QueryRequest,
    chunk: Option<Duration>,
) -> Result<QueryResult, ProviderError> {
    if chunk.is_some() && !takes_time_range(connection) {
        return Err(ProviderError::Unsupported(format!(
            "connection `{}` ({}) takes no time range, so it cannot be split into chunks: filter on a datetime column in the query instead",
            connection.name,
            connection.backend.kind()
        )));
    }
    provider.sign_in(&request.options.cancel).await?;
    match chunk {
        Some(chunk) => run_chunked(provider, request, chunk).await,
        None => provider.run(request).await,
    }
}

/// A start and an end time, the end excluded.
pub type Interval = (DateTime<Utc>, DateTime<Utc>);

/// Splits `range` into consecutive pieces of at most `chunk`, oldest first.
pub fn split_range(
    range: TimeRange,
    chunk: Duration,
    now: DateTime<Utc>,
) -> Result<Vec<Interval>, String> {
    let (start, end) = match range {
        TimeRange::Between { start, end } => (start, end),
        TimeRange::Last(span) => {
            let span =
                chrono::Duration::from_std(span).map_err(|_| "the time range is too long")?;
            (now - span, now)
        }
    };
    let step = chrono::Duration::from_std(chunk).map_err(|_| "the chunk is too long")?;
    if step <= chrono::Duration::zero() {
        return Err("the chunk must be longer than zero".to_owned());
    }
    let mut pieces = Vec::new();
    let mut from = start;
    while from < end {
        let to = (from + step).min(end);
        pieces.push((from, to));
        if pieces.len() > MAX_CHUNKS {
            return Err(format!(
                "the time range splits into more than {MAX_CHUNKS} chunks: choose a longer chunk"
            ));
        }
        from = to;
    }
    Ok(pieces)
}

/// The maximum number of chunks in one run, so a typo such as `1s` over a year fails fast.
const MAX_CHUNKS: usize = 1_000;

/// Runs `request` once per chunk of its time range and joins the first table of each chunk.
/// A chunk that fails becomes a warning naming its range, unless every chunk fails or the
/// service rejects the query itself, which would fail every chunk the same way.
pub async fn run_chunked(
    provider: &dyn Provider,
    request: &QueryRequest,
    chunk: Duration,
) -> Result<QueryResult, ProviderError> {
    let range = request.time_range.ok_or_else(|| {
        ProviderError::Unsupported(
            "splitting into chunks needs a time range: add a timespan or a start".to_owned(),
        )
    })?;
    let pieces = split_range(range, chunk, Utc::now()).map_err(ProviderError::Unsupported)?;
    let limit = request.options.row_limit.unwrap_or(usize::MAX);
    let mut joined = QueryResult::default();
    let mut first_error = None;
    for (start, end) in pieces {
        let mut piece = request.clone();
        piece.time_range = Some(TimeRange::Between { start, end });
        let label = format!("{}/{}", datetime_text(&start), datetime_text(&end));
        tracing::info!(chunk = %label, "running chunk");
        match provider.run(&piece).await {
            Ok(result) => join_chunk(&mut joined, result, &label, limit),
            Err(error @ (ProviderError::Query(_) | ProviderError::Cancelled)) => return Err(error),
            Err(error) => {
                tracing::warn!(chunk = %label, %error, "chunk failed");
                joined.warnings.push(Warning {
                    code: None,
                    message: format!("the chunk {label} failed: {error}"),
                });
                first_error.get_or_insert(error);
            }
        }
    }
    match first_error {
        Some(error) if joined.tables.is_empty() => Err(error),
        _ => Ok(joined),
    }
}

/// Appends the first table of one chunk's result to `joined`, keeping at most `limit` rows.
fn join_chunk(joined: &mut QueryResult, result: QueryResult, label: &str, limit: usize) {
    joined
        .warnings
        .extend(result.warnings.into_iter().map(|warning| Warning {
            code: warning.code,
            message: format!("{label}: {}", warning.message),
        }));
    if joined.render.is_none() {
        joined.render = result.render;
    }
    let Some(table) = result.tables.into_iter().next() else {
        return;
    };
    let Some(target) = joined.tables.first_mut() else {
        let mut table = table;
        table.rows.truncate(limit);
        joined.tables.push(table);
        return;
    };
    if target.columns != table.columns {
        joined.warnings.push(Warning {
            code: None,
            message: format!(
                "the chunk {label} returned different columns, so its {} rows were left out",
                table.total_rows
            ),
        });
        return;
    }
    target.total_rows += table.total_rows;
    let room = limit.saturating_sub(target.rows.len());
    target.rows.extend(table.rows.into_iter().take(room));
}

/// A remote result in the local table model, with the notes to show beside it.
pub struct RemoteOutput {
    pub output: QueryOutput,
    /// The service's warnings and partial errors, and a note when tables were left out.
    pub warnings: Vec<String>,
}

/// Converts the first table of `result`. The columns keep their Kusto type names.
pub fn to_output(result: &QueryResult) -> RemoteOutput {
    let mut warnings: Vec<String> = result
        .warnings
        .iter()
        .map(|warning| match &warning.code {
            Some(code) => format!("{} ({code})", warning.message),
            None => warning.message.clone(),
        })
        .collect();
    if result.tables.len() > 1 {
        warnings.push(format!(
            "the query returned {} tables; showing the first, `{}`",
            result.tables.len(),
            result.tables[0].name
        ));
    }
    let output = match result.tables.first() {
        None => QueryOutput {
            columns: Vec::new(),
            rows: Vec::new(),
            row_count: 0,
            truncated: false,
            render: None,
        },
        Some(table) => QueryOutput {
            columns: table
                .columns
                .iter()
                .map(|column| ColumnInfo {
                    name: column.name.clone(),
                    ty: column.column_type.kusto_name().to_owned(),
                })
                .collect(),
            rows: table
                .rows
                .iter()
                .map(|row| row.iter().map(value_json).collect())
                .collect(),
            row_count: table.total_rows,
            truncated: table.is_truncated(),
            render: result.render.as_ref().map(render_hint),
        },
    };
    RemoteOutput { output, warnings }
}

/// Encodes a cell as local runs do: datetimes as ISO 8601 in UTC, timespans in Kusto's
/// `d.hh:mm:ss` form, decimals and GUIDs as text, dynamic values as JSON.
pub fn value_json(value: &Value) -> serde_json::Value {
    use serde_json::Value as Json;
    match value {
        Value::Null => Json::Null,
        Value::Bool(b) => Json::Bool(*b),
        Value::Long(n) => Json::from(*n),
        Value::Real(x) => serde_json::Number::from_f64(*x)
            .map(Json::Number)
            .unwrap_or_else(|| Json::String(x.to_string())),
        Value::Decimal(text) | Value::String(text) | Value::Guid(text) => {
            Json::String(text.clone())
        }
        Value::DateTime(instant) => Json::String(datetime_text(instant)),
        Value::TimeSpan(span) => Json::String(span.to_string()),
        Value::Dynamic(json) => json.clone(),
    }
}

/// Converts the service's `render` hint to the engine's form, which the local output and the
/// `quarry.runQuery` result share. Property names become lower case, null properties are left
/// out, and `ycolumns`, `anomalycolumns` and `series` become string arrays when the service sent
/// one comma-separated string.
pub fn render_hint(hint: &RenderHint) -> quarry_engine::RenderHint {
    use serde_json::Value as Json;
    let mut properties = serde_json::Map::new();
    for (key, value) in &hint.properties {
        let key = key.to_ascii_lowercase();
        let value = match (key.as_str(), value) {
            (_, Json::Null) => continue,
            ("ycolumns" | "anomalycolumns" | "series", Json::String(list)) => Json::Array(
                list.split(',')
                    .map(str::trim)
                    .filter(|name| !name.is_empty())
                    .map(|name| Json::String(name.to_owned()))
                    .collect(),
            ),
            _ => value.clone(),
        };
        properties.insert(key, value);
    }
    quarry_engine::RenderHint {
        kind: hint.visualization.to_ascii_lowercase(),
        properties,
    }
}

/// Formats an instant as ISO 8601 in UTC with only the fraction digits it needs, as Kusto
/// prints it: `2024-03-01T10:00:00.1234567Z`.
fn datetime_text(instant: &DateTime<Utc>) -> String {
    let seconds = instant.format("%Y-%m-%dT%H:%M:%S");
    let nanos = instant.timestamp_subsec_nanos();
    if nanos == 0 {
        return format!("{seconds}Z");
    }
    let fraction = format!("{nanos:09}");
    format!("{seconds}.{}Z", fraction.trim_end_matches('0'))
}

/// Maps the service's 1-based line and column to a byte range in `query`: the word there, or
/// one character.
pub fn error_range(query: &str, error: &QueryError) -> Option<Range<usize>> {
    let location = error.location?;
    let line_start = if location.line <= 1 {
        0
    } else {
        query
            .match_indices('\n')
            .nth(location.line as usize - 2)
            .map(|(index, _)| index + 1)?
    };
    let line_end = query[line_start..]
        .find('\n')
        .map_or(query.len(), |index| line_start + index);
    let line = &query[line_start..line_end];
    let column = location.column.saturating_sub(1) as usize;
    let start = line
        .char_indices()
        .nth(column)
        .map_or(line.len(), |(index, _)| index);
    let rest = &line[start..];
    let word = |c: char| c.is_alphanumeric() || c == '_';
    let length = match rest.find(|c: char| !word(c)) {
        Some(0) => rest.chars().next().map_or(0, char::len_utf8),
        Some(length) => length,
        None => rest.len(),
    };
    Some(line_start + start..line_start + start + length)
}

#[cfg(test)]
mod tests {
    use super::*;
    use quarry_providers::{Service, SourceLocation};

    #[test]
    fn durations_in_both_forms() {
        let day = Duration::from_secs(86_400);
        assert_eq!(parse_duration("P1D"), Some(day));
        assert_eq!(parse_duration("PT12H"), Some(day / 2));
        assert_eq!(
            parse_duration("P1DT30M"),
            Some(day + Duration::from_secs(1_800))
        );
        assert_eq!(parse_duration("-7d"), Some(day * 7));
        assert_eq!(parse_duration("90s"), Some(Duration::from_secs(90)));
        for bad in ["", "P", "PT", "P1H", "7", "7y", "P1D2"] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
    }

    #[test]
    fn instants_absolute_and_relative() {
        let now = DateTime::parse_from_rfc3339("2024-05-08T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(
            parse_instant("-7d", now).unwrap().to_rfc3339(),
            "2024-05-01T12:00:00+00:00"
        );
        assert_eq!(
            parse_instant("2024-05-01", now).unwrap().to_rfc3339(),
            "2024-05-01T00:00:00+00:00"
        );
        assert_eq!(parse_instant("now", now), Some(now));
        assert_eq!(parse_instant("yesterday", now), None);
    }

    #[test]
    fn time_range_rejects_mixed_and_reversed() {
        assert!(time_range(Some("P1D"), Some("-2d"), None).is_err());
        assert!(time_range(None, Some("2024-05-02"), Some("2024-05-01")).is_err());
        assert!(time_range(None, None, Some("now")).is_err());
        assert_eq!(time_range(None, None, None), Ok(None));
    }

    #[test]
    fn split_range_into_days() {
        let now = DateTime::parse_from_rfc3339("2024-05-08T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let day = Duration::from_secs(86_400);
        let pieces = split_range(TimeRange::Last(day * 3 / 2), day, now).unwrap();
        let texts: Vec<(String, String)> = pieces
            .iter()
            .map(|(start, end)| (datetime_text(start), datetime_text(end)))
            .collect();
        assert_eq!(
            texts,
            [
                (
                    "2024-05-07T00:00:00Z".to_owned(),
                    "2024-05-08T00:00:00Z".to_owned()
                ),
                (
                    "2024-05-08T00:00:00Z".to_owned(),
                    "2024-05-08T12:00:00Z".to_owned()
                ),
            ]
        );
        assert!(split_range(TimeRange::Last(day * 365), Duration::from_secs(1), now).is_err());
        assert!(split_range(TimeRange::Last(day), Duration::ZERO, now).is_err());
    }

    #[test]
    fn render_hint_normalized() {
        let properties =
            serde_json::json!({"Title": "Logons", "YColumns": "Failures, Other", "Xtitle": null});
        let hint = RenderHint {
            visualization: "TimeChart".to_owned(),
            properties: properties.as_object().unwrap().clone(),
        };
        let converted = render_hint(&hint);
        assert_eq!(converted.kind, "timechart");
        assert_eq!(
            serde_json::Value::Object(converted.properties),
            serde_json::json!({"title": "Logons", "ycolumns": ["Failures", "Other"]})
        );
    }

    #[test]
    fn error_range_covers_the_word() {
        let error = QueryError {
            service: Service::LogAnalytics,
            code: None,
            message: String::new(),
            location: Some(SourceLocation { line: 2, column: 3 }),
        };
        let query = "T\n| whre x";
        let range = error_range(query, &error).unwrap();
        assert_eq!(&query[range], "whre");
    }
}
