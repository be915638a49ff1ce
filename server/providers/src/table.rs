//! The result model shared by every back end: typed columns, rows of typed values, warnings.
//!
//! Kusto's scalar types survive the trip: `datetime`, `timespan`, `dynamic`, `guid` and `decimal`
//! each have their own variant, so the editor and the exporters can format them as Kusto does.

use std::fmt;

use chrono::{DateTime, NaiveDateTime, Utc};

/// The Kusto scalar type of a result column.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ColumnType {
    Bool,
    Int,
    Long,
    Real,
    Decimal,
    String,
    DateTime,
    TimeSpan,
    Guid,
    Dynamic,
}

impl ColumnType {
    /// Maps a type name as the services spell it to a column type. Accepts Kusto names
    /// (`datetime`), their aliases (`date`, `double`, `boolean`, `uniqueid`, `time`), the names
    /// that Defender's APIs send (`DateTime`, `Int64`, `Object`) and .NET names
    /// (`System.String`). Matching ignores case.
    pub fn from_service_name(name: &str) -> Option<ColumnType> {
        let lower = name.to_ascii_lowercase();
        let bare = lower.strip_prefix("system.").unwrap_or(&lower);
        let column_type = match bare {
            "bool" | "boolean" | "sbyte" => ColumnType::Bool,
            "int" | "int32" | "int16" | "byte" => ColumnType::Int,
            "long" | "int64" => ColumnType::Long,
            "real" | "double" | "single" | "float" => ColumnType::Real,
            "decimal" | "data.sqltypes.sqldecimal" => ColumnType::Decimal,
            "string" => ColumnType::String,
            "datetime" | "date" => ColumnType::DateTime,
            "timespan" | "time" => ColumnType::TimeSpan,
            "guid" | "uniqueid" => ColumnType::Guid,
            "dynamic" | "object" => ColumnType::Dynamic,
            _ => return None,
        };
        Some(column_type)
    }

    /// Returns the Kusto name of the type, as `getschema` prints it.
    pub fn kusto_name(self) -> &'static str {
        match self {
            ColumnType::Bool => "bool",
            ColumnType::Int => "int",
            ColumnType::Long => "long",
            ColumnType::Real => "real",
            ColumnType::Decimal => "decimal",
            ColumnType::String => "string",
            ColumnType::DateTime => "datetime",
            ColumnType::TimeSpan => "timespan",
            ColumnType::Guid => "guid",
            ColumnType::Dynamic => "dynamic",
        }
    }
}

impl fmt::Display for ColumnType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.kusto_name())
    }
}

/// A column name with its type.
#[derive(Clone, Debug, PartialEq)]
pub struct Column {
    pub name: String,
    pub column_type: ColumnType,
}

impl Column {
    pub fn new(name: impl Into<String>, column_type: ColumnType) -> Column {
        Column {
            name: name.into(),
            column_type,
        }
    }
}

/// A Kusto `timespan` in ticks of 100 nanoseconds, the unit Kusto stores.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TimeSpan {
    pub ticks: i64,
}

const TICKS_PER_SECOND: i64 = 10_000_000;

impl TimeSpan {
    /// Parses Kusto's text form `[-][d.]hh:mm:ss[.fffffff]`, which every service returns.
    pub fn parse(text: &str) -> Option<TimeSpan> {
        let (negative, rest) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };

        let (clock, fraction) = match rest.split_once(':') {
            None => return None,
            Some(_) => match rest.rsplit_once('.') {
                // A dot after the last colon starts the fraction; one before it ends the days.
                Some((head, tail)) if !tail.contains(':') => (head, Some(tail)),
                _ => (rest, None),
            },
        };
        let (days, clock) = match clock.split_once('.') {
            Some((days, clock)) => (parse_digits(days)?, clock),
            None => (0, clock),
        };

        let mut parts = clock.split(':');
        let hours = parse_digits(parts.next()?)?;
        let minutes = parse_digits(parts.next()?)?;
        let seconds = parse_digits(parts.next()?)?;
        if parts.next().is_some() || minutes >= 60 || seconds >= 60 {
            return None;
        }

        let fraction_ticks = match fraction {
            None => 0,
            Some(digits) if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) => {
                let mut padded: String = digits.chars().take(7).collect();
                while padded.len() < 7 {
                    padded.push('0');
                }
                padded.parse::<i64>().ok()?
            }
            Some(_) => return None,
        };

        // Day and hour counts that fit an i64 can still overflow once converted to ticks.
        let whole_hours = days.checked_mul(24)?.checked_add(hours)?;
        let whole_minutes = whole_hours.checked_mul(60)?.checked_add(minutes)?;
        let whole_seconds = whole_minutes.checked_mul(60)?.checked_add(seconds)?;
        let ticks = whole_seconds
            .checked_mul(TICKS_PER_SECOND)?
            .checked_add(fraction_ticks)?;
        Some(TimeSpan {
            ticks: if negative { -ticks } else { ticks },
        })
    }
}

/// Parses a run of ASCII digits. Returns `None` for a sign or any other character.
fn parse_digits(text: &str) -> Option<i64> {
    if text.is_empty() || !text.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

impl fmt::Display for TimeSpan {
    /// Formats as Kusto does: `[-][d.]hh:mm:ss[.fffffff]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.ticks < 0 { "-" } else { "" };
        let ticks = self.ticks.unsigned_abs();
        let fraction = ticks % TICKS_PER_SECOND as u64;
        let seconds = ticks / TICKS_PER_SECOND as u64;
        let (days, hours) = (seconds / 86_400, seconds / 3_600 % 24);
        let (minutes, seconds) = (seconds / 60 % 60, seconds % 60);
        write!(f, "{sign}")?;
        if days > 0 {
            write!(f, "{days}.")?;
        }
        write!(f, "{hours:02}:{minutes:02}:{seconds:02}")?;
        if fraction > 0 {
            write!(f, ".{fraction:07}")?;
        }
        Ok(())
    }
}

/// One cell of a result table.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    /// Both `int` and `long` cells. The column type distinguishes them.
    Long(i64),
    Real(f64),
    /// The decimal's exact text, because `f64` would round it.
    Decimal(String),
    String(String),
    DateTime(DateTime<Utc>),
    TimeSpan(TimeSpan),
    /// The GUID's text as the service sent it.
    Guid(String),
    Dynamic(serde_json::Value),
}

/// The JSON encoding a service uses for `dynamic` cells.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DynamicEncoding {
    /// The cell is the JSON value itself (Azure Data Explorer v2).
    Native,
    /// The cell is a string holding serialized JSON (Log Analytics, Defender).
    JsonText,
}

impl Value {
    /// Converts one JSON cell to a value of `column_type`. Returns the reason on failure; the
    /// caller adds the column and row.
    pub fn from_json(
        column_type: ColumnType,
        cell: serde_json::Value,
        dynamic: DynamicEncoding,
    ) -> Result<Value, String> {
        use serde_json::Value as Json;

        if cell.is_null() {
            return Ok(Value::Null);
        }
        let value = match (column_type, cell) {
            (ColumnType::Bool, Json::Bool(flag)) => Value::Bool(flag),
            (ColumnType::Bool, Json::Number(number)) if number.as_i64().is_some() => {
                Value::Bool(number.as_i64() != Some(0))
            }
            (ColumnType::Bool, Json::String(text)) => match text.to_ascii_lowercase().as_str() {
                "true" | "1" => Value::Bool(true),
                "false" | "0" => Value::Bool(false),
                _ => return Err(format!("invalid bool value `{text}`")),
            },
            (ColumnType::Int | ColumnType::Long, Json::Number(number)) => match number.as_i64() {
                Some(integer) => Value::Long(integer),
                None => return Err(format!("invalid integer value `{number}`")),
            },
            (ColumnType::Int | ColumnType::Long, Json::String(text)) => match text.parse() {
                Ok(integer) => Value::Long(integer),
                Err(_) => return Err(format!("invalid integer value `{text}`")),
            },
            (ColumnType::Real, Json::Number(number)) => {
                Value::Real(number.as_f64().unwrap_or(f64::NAN))
            }
            // Kusto writes the IEEE special values as strings.
            (ColumnType::Real, Json::String(text)) => match text.as_str() {
                "NaN" => Value::Real(f64::NAN),
                "Infinity" => Value::Real(f64::INFINITY),
                "-Infinity" => Value::Real(f64::NEG_INFINITY),
                _ => match text.parse() {
                    Ok(real) => Value::Real(real),
                    Err(_) => return Err(format!("invalid real value `{text}`")),
                },
            },
            (ColumnType::Decimal, Json::String(text)) => Value::Decimal(text),
            (ColumnType::Decimal, Json::Number(number)) => Value::Decimal(number.to_string()),
            (ColumnType::String, Json::String(text)) => Value::String(text),
            (ColumnType::String, other) => Value::String(other.to_string()),
            (ColumnType::DateTime, Json::String(text)) => match parse_datetime(&text) {
                Some(instant) => Value::DateTime(instant),
                None => return Err(format!("invalid datetime value `{text}`")),
            },
            (ColumnType::TimeSpan, Json::String(text)) => match TimeSpan::parse(&text) {
                Some(span) => Value::TimeSpan(span),
                None => return Err(format!("invalid timespan value `{text}`")),
            },
            (ColumnType::Guid, Json::String(text)) => Value::Guid(text),
            (ColumnType::Dynamic, Json::String(text)) if dynamic == DynamicEncoding::JsonText => {
                // A dynamic string scalar arrives as plain text, not as a quoted JSON string.
                match serde_json::from_str(&text) {
                    Ok(parsed) => Value::Dynamic(parsed),
                    Err(_) => Value::Dynamic(Json::String(text)),
                }
            }
            (ColumnType::Dynamic, other) => Value::Dynamic(other),
            (column_type, other) => {
                return Err(format!(
                    "a {column_type} cell cannot be the JSON value `{other}`"
                ));
            }
        };
        Ok(value)
    }
}

/// Parses the ISO 8601 forms the services send: `Z` or an offset, up to 7 fraction digits, and
/// the offset-less form Splunk and some Defender rows use (read as UTC).
pub fn parse_datetime(text: &str) -> Option<DateTime<Utc>> {
    if let Ok(instant) = DateTime::parse_from_rfc3339(text) {
        return Some(instant.with_timezone(&Utc));
    }
    if let Ok(instant) = DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f%z") {
        return Some(instant.with_timezone(&Utc));
    }
    NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f")
        .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f"))
        .ok()
        .map(|naive| naive.and_utc())
}

/// One table of a query result.
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    pub name: String,
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<Value>>,
    /// Rows the service returned, which is more than `rows.len()` when the row limit cut the
    /// table.
    pub total_rows: usize,
}

impl Table {
    pub fn is_truncated(&self) -> bool {
        self.total_rows > self.rows.len()
    }

    /// Builds a table from JSON rows whose cells follow `columns` in order.
    pub fn from_json_rows(
        name: String,
        columns: Vec<Column>,
        json_rows: Vec<Vec<serde_json::Value>>,
        dynamic: DynamicEncoding,
        row_limit: Option<usize>,
    ) -> Result<Table, String> {
        let total_rows = json_rows.len();
        let kept = row_limit.unwrap_or(usize::MAX).min(total_rows);
        let mut rows = Vec::with_capacity(kept);
        for (index, json_row) in json_rows.into_iter().take(kept).enumerate() {
            if json_row.len() != columns.len() {
                return Err(format!(
                    "table `{name}` row {index} has {} cells but the table has {} columns",
                    json_row.len(),
                    columns.len()
                ));
            }
            let mut row = Vec::with_capacity(columns.len());
            for (column, cell) in columns.iter().zip(json_row) {
                let value =
                    Value::from_json(column.column_type, cell, dynamic).map_err(|reason| {
                        format!(
                            "table `{name}` row {index} column `{}`: {reason}",
                            column.name
                        )
                    })?;
                row.push(value);
            }
            rows.push(row);
        }
        Ok(Table {
            name,
            columns,
            rows,
            total_rows,
        })
    }
}

/// A problem the service reported beside the rows, such as a partial failure or a truncation.
#[derive(Clone, Debug, PartialEq)]
pub struct Warning {
    pub code: Option<String>,
    pub message: String,
}

/// The `render` operator's hint: the visualization kind and its properties.
#[derive(Clone, Debug, PartialEq)]
pub struct RenderHint {
    pub visualization: String,
    pub properties: serde_json::Map<String, serde_json::Value>,
}

/// The outcome of a query on any back end.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct QueryResult {
    /// The primary result tables in the order the service returned them.
    pub tables: Vec<Table>,
    pub warnings: Vec<Warning>,
    pub render: Option<RenderHint>,
    /// Execution statistics as the service sent them, when it sent any.
    pub statistics: Option<serde_json::Value>,
}

impl QueryResult {
    /// Returns whether the row limit cut any table.
    pub fn is_truncated(&self) -> bool {
        self.tables.iter().any(Table::is_truncated)
    }
}

/// Tables and columns of a workspace or database, from the service's schema endpoint.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Schema {
    pub tables: Vec<TableSchema>,
}

/// One table's columns.
#[derive(Clone, Debug, PartialEq)]
pub struct TableSchema {
    pub name: String,
    pub columns: Vec<Column>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timespan_round_trips() {
        for text in [
            "00:05:00",
            "1.02:03:04.5000000",
            "-00:00:01",
            "10.00:00:00.0000001",
        ] {
            let span = TimeSpan::parse(text).unwrap_or_else(|| panic!("{text} should parse"));
            assert_eq!(span.to_string(), text);
        }
    }

    #[test]
    fn timespan_rejects_garbage() {
        for text in ["", "5", "aa:bb:cc", "00:61:00", "00:00:00.x"] {
            assert_eq!(TimeSpan::parse(text), None, "{text}");
        }
    }

    #[test]
    fn timespan_fraction_is_ticks() {
        assert_eq!(
            TimeSpan::parse("00:00:00.5").map(|s| s.ticks),
            Some(5_000_000)
        );
    }

    #[test]
    fn datetime_accepts_service_forms() {
        for text in [
            "2024-01-02T03:04:05Z",
            "2024-01-02T03:04:05.1234567Z",
            "2024-01-02T03:04:05.000+00:00",
            "2024-01-02T03:04:05",
        ] {
            assert!(parse_datetime(text).is_some(), "{text}");
        }
    }

    #[test]
    fn dynamic_json_text_is_parsed() {
        let cell = serde_json::json!("{\"a\":1}");
        let value = Value::from_json(ColumnType::Dynamic, cell, DynamicEncoding::JsonText);
        assert_eq!(value, Ok(Value::Dynamic(serde_json::json!({"a": 1}))));
    }

    #[test]
    fn type_names_from_services() {
        assert_eq!(
            ColumnType::from_service_name("DateTime"),
            Some(ColumnType::DateTime)
        );
        assert_eq!(
            ColumnType::from_service_name("Int64"),
            Some(ColumnType::Long)
        );
        assert_eq!(
            ColumnType::from_service_name("System.String"),
            Some(ColumnType::String)
        );
        assert_eq!(
            ColumnType::from_service_name("Object"),
            Some(ColumnType::Dynamic)
        );
        assert_eq!(ColumnType::from_service_name("blob"), None);
    }
}
