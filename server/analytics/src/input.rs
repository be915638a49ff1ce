//! Reading analysis inputs from CSV: named columns, timestamps and numbers.

use std::io::Read;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use thiserror::Error;

/// A failure to read or interpret an input table.
#[derive(Debug, Error)]
pub enum InputError {
    #[error("failed to read CSV: {0}")]
    Csv(#[from] csv::Error),
    #[error("column `{name}` not found; the header has: {available}")]
    MissingColumn { name: String, available: String },
    #[error(
        "row {row}, column `{column}`: invalid timestamp `{value}`; expected ISO 8601 such as 2020-04-18T04:50:30Z"
    )]
    InvalidTimestamp {
        row: usize,
        column: String,
        value: String,
    },
    #[error("row {row}, column `{column}`: invalid number `{value}`")]
    InvalidNumber {
        row: usize,
        column: String,
        value: String,
    },
    #[error("row {row}, column `{column}`: invalid parameter JSON: {message}")]
    InvalidParameters {
        row: usize,
        column: String,
        message: String,
    },
}

/// A CSV table with the values of the requested columns, row by row.
#[derive(Debug, Clone)]
pub struct Table {
    pub columns: Vec<String>,
    /// One entry per data row, holding the requested columns in request order.
    pub rows: Vec<Vec<String>>,
}

impl Table {
    /// Reads the columns named in `wanted` from CSV text with a header row. Quoted fields may
    /// span lines.
    pub fn read_csv<R: Read>(reader: R, wanted: &[&str]) -> Result<Table, InputError> {
        let mut csv = csv::ReaderBuilder::new().flexible(true).from_reader(reader);
        let header: Vec<String> = csv
            .headers()?
            .iter()
            .map(|name| name.trim_start_matches('\u{feff}').to_string())
            .collect();
        let mut indices = Vec::with_capacity(wanted.len());
        for name in wanted {
            match header.iter().position(|column| column == name) {
                Some(index) => indices.push(index),
                None => {
                    return Err(InputError::MissingColumn {
                        name: name.to_string(),
                        available: header.join(", "),
                    });
                }
            }
        }

        let mut rows = Vec::new();
        for record in csv.records() {
            let record = record?;
            let row = indices
                .iter()
                .map(|&index| record.get(index).unwrap_or("").to_string())
                .collect();
            rows.push(row);
        }
        Ok(Table {
            columns: wanted.iter().map(|name| name.to_string()).collect(),
            rows,
        })
    }
}

/// A CSV table with all its columns.
#[derive(Debug, Clone)]
pub struct FullTable {
    pub header: Vec<String>,
    /// One entry per data row, one cell per header column (empty when the row is short).
    pub rows: Vec<Vec<String>>,
}

impl FullTable {
    /// Reads CSV text with a header row. Quoted fields may span lines.
    pub fn read_csv<R: Read>(reader: R) -> Result<FullTable, InputError> {
        let mut csv = csv::ReaderBuilder::new().flexible(true).from_reader(reader);
        let header: Vec<String> = csv
            .headers()?
            .iter()
            .map(|name| name.trim_start_matches('\u{feff}').to_string())
            .collect();
        let mut rows = Vec::new();
        for record in csv.records() {
            let record = record?;
            let row = (0..header.len())
                .map(|index| record.get(index).unwrap_or("").to_string())
                .collect();
            rows.push(row);
        }
        Ok(FullTable { header, rows })
    }
}

/// Parses a timestamp as pandas' `to_datetime` reads the common log formats: RFC 3339 with an
/// offset or `Z`, or a date and time without an offset, taken as UTC. The separator may be `T`
/// or a space, and fractional seconds are optional.
pub fn parse_timestamp(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Some(time.with_timezone(&Utc));
    }
    if let Ok(time) = DateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f%:z") {
        return Some(time.with_timezone(&Utc));
    }
    for format in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(time) = NaiveDateTime::parse_from_str(text, format) {
            return Some(time.and_utc());
        }
    }
    let date = NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?;
    Some(date.and_hms_opt(0, 0, 0)?.and_utc())
}

/// Parses a timestamp cell or returns an error naming its row (1-based, header excluded).
pub fn timestamp_at(text: &str, row: usize, column: &str) -> Result<DateTime<Utc>, InputError> {
    parse_timestamp(text).ok_or_else(|| InputError::InvalidTimestamp {
        row: row + 1,
        column: column.to_string(),
        value: text.to_string(),
    })
}

/// Parses a numeric cell or returns an error naming its row (1-based, header excluded).
pub fn number_at(text: &str, row: usize, column: &str) -> Result<f64, InputError> {
    text.trim()
        .parse::<f64>()
        .map_err(|_| InputError::InvalidNumber {
            row: row + 1,
            column: column.to_string(),
            value: text.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_in_common_forms_parse() {
        let expected = DateTime::from_timestamp(1_587_185_430, 0).unwrap();
        for text in [
            "2020-04-18T04:50:30Z",
            "2020-04-18T04:50:30.000Z",
            "2020-04-18T06:50:30+02:00",
            "2020-04-18 04:50:30",
            "2020-04-18T04:50:30",
            "2020-04-18 04:50:30+00:00",
        ] {
            assert_eq!(parse_timestamp(text), Some(expected), "{text}");
        }
        assert_eq!(parse_timestamp("yesterday"), None);
    }

    #[test]
    fn csv_reads_named_columns_and_multiline_fields() {
        let text = "\u{feff}A,B,C\n1,\"x\ny\",3\n4,5,6\n";
        let table = Table::read_csv(text.as_bytes(), &["C", "B"]).unwrap();
        assert_eq!(table.rows, vec![vec!["3", "x\ny"], vec!["6", "5"]]);
    }

    #[test]
    fn missing_column_lists_header() {
        let error = Table::read_csv("A,B\n1,2\n".as_bytes(), &["Z"]).unwrap_err();
        assert_eq!(
            error.to_string(),
            "column `Z` not found; the header has: A, B"
        );
    }
}
