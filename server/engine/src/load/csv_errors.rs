//! Error messages for CSV and TSV files that polars cannot read: they name the file, the
//! line and the fix, instead of passing on polars' hints about its own reader options.

use std::path::Path;

use crate::EngineError;

/// A delimited text file that failed to parse, with the text the loader tried.
pub struct Failure {
    pub text: String,
    pub separator: u8,
    pub polars_error: String,
}

/// Builds the error for a file that could not be read.
pub fn error(path: &Path, tsv: bool, failure: &Failure) -> EngineError {
    let kind = if tsv { "TSV" } else { "CSV" };
    let place = path.display();
    let message = match diagnose(&failure.text, failure.separator) {
        Some(Problem::FieldCount {
            line,
            found,
            expected,
        }) => format!(
            "cannot read `{place}` as {kind}: line {line} has {found} fields, but the header \
             has {expected}; quote the values that contain the separator or a line break, or \
             fix the line's number of fields"
        ),
        Some(Problem::UnclosedQuote { line }) => format!(
            "cannot read `{place}` as {kind}: the quoted field that starts on line {line} is \
             never closed; add the closing `\"` or double the quotes inside the field (`\"\"`)"
        ),
        None => {
            let detail = clean_polars_message(&failure.polars_error);
            match find_value_line(&failure.text, failure.separator, &failure.polars_error) {
                Some((line, column)) => format!(
                    "cannot read `{place}` as {kind}: line {line}, column `{column}`: {detail}; \
                     fix the value, or set the column's type in the folder's quarry-schema.json"
                ),
                None => format!(
                    "cannot read `{place}` as {kind}: {detail}; check that the file is valid \
                     {kind} or remove it from the data folder"
                ),
            }
        }
    };
    EngineError::new(message)
}

#[derive(Debug, PartialEq, Eq)]
pub enum Problem {
    /// A record whose field count differs from the header's (lines count from 1).
    FieldCount {
        line: usize,
        found: usize,
        expected: usize,
    },
    /// A quoted field that runs to the end of the file.
    UnclosedQuote { line: usize },
}

/// Splits `text` into records with RFC 4180 quoting; each record comes with the line it
/// starts on.
fn records(text: &str, separator: u8) -> (Vec<(usize, Vec<String>)>, Option<usize>) {
    let separator = char::from(separator);
    let mut records = Vec::new();
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut line = 1;
    let mut record_line = 1;
    let mut quoted_since = None;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if let Some(_start) = quoted_since {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => quoted_since = None,
                '\n' => {
                    line += 1;
                    field.push(c);
                }
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' if field.is_empty() => quoted_since = Some(line),
            c if c == separator => fields.push(std::mem::take(&mut field)),
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' => {
                fields.push(std::mem::take(&mut field));
                let blank = fields.len() == 1 && fields[0].is_empty();
                if !blank {
                    records.push((record_line, std::mem::take(&mut fields)));
                }
                fields.clear();
                line += 1;
                record_line = line;
            }
            _ => field.push(c),
        }
    }
    if quoted_since.is_none() && (!field.is_empty() || !fields.is_empty()) {
        fields.push(field);
        records.push((record_line, fields));
    }
    (records, quoted_since)
}

/// Finds the first structural problem in delimited text.
pub fn diagnose(text: &str, separator: u8) -> Option<Problem> {
    let (records, unclosed) = records(text, separator);
    let expected = records.first().map(|(_, fields)| fields.len())?;
    for (line, fields) in &records[1..] {
        if fields.len() != expected {
            return Some(Problem::FieldCount {
                line: *line,
                found: fields.len(),
                expected,
            });
        }
    }
    unclosed.map(|line| Problem::UnclosedQuote { line })
}

/// Finds the line of the value that polars could not parse, from a message such as
/// "could not parse `abc` as dtype `i64` at column 'Port' (column number 2)".
fn find_value_line(text: &str, separator: u8, polars_error: &str) -> Option<(usize, String)> {
    let value = polars_error.split('`').nth(1)?;
    let column = polars_error.split('\'').nth(1)?;
    let (records, _) = records(text, separator);
    let (_, header) = records.first()?;
    let index = header.iter().position(|name| name == column)?;
    records[1..]
        .iter()
        .find(|(_, fields)| fields.get(index).is_some_and(|field| field == value))
        .map(|(line, _)| (*line, column.to_owned()))
}

/// Returns the line on which the first data record whose `column` field is `value` starts.
/// The caller passes the first value in the column that failed to convert, so an earlier
/// record with the same value cannot exist. `row` is that value's row in the frame (from 0):
/// the reader keeps blank lines as rows while [`records`] drops them, so the record sits at
/// that index or before it.
pub fn value_record_line(
    text: &str,
    separator: u8,
    column: &str,
    row: usize,
    value: &str,
) -> Option<usize> {
    let (records, _) = records(text, separator);
    let (_, header) = records.first()?;
    let index = header.iter().position(|name| name == column)?;
    records
        .iter()
        .skip(1)
        .take(row + 1)
        .find(|(_, fields)| fields.get(index).is_some_and(|field| field.trim() == value))
        .map(|(line, _)| *line)
}

/// Keeps the first line of a polars error and drops its advice about reader options, which
/// Quarry's users cannot set.
fn clean_polars_message(message: &str) -> String {
    let first_line = message.lines().next().unwrap_or("").trim();
    let sentences: Vec<&str> = first_line
        .split_inclusive(". ")
        .filter(|sentence| {
            let lower = sentence.to_ascii_lowercase();
            !(lower.contains("consider")
                || lower.contains("you might want")
                || lower.contains("=true")
                || lower.contains("infer_schema")
                || lower.contains("ignore_errors")
                || lower.contains("truncate_ragged_lines")
                || lower.contains("schema_overrides"))
        })
        .collect();
    let cleaned = sentences.concat().trim().trim_end_matches('.').to_owned();
    if cleaned.is_empty() {
        "the file's structure is invalid".to_owned()
    } else {
        cleaned
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extra_field_reports_its_line() {
        let text = "a,b\n1,2\n3,4,5\n";
        assert_eq!(
            diagnose(text, b','),
            Some(Problem::FieldCount {
                line: 3,
                found: 3,
                expected: 2
            })
        );
    }

    #[test]
    fn quoted_line_breaks_count_lines() {
        let text = "a,b\n\"x\ny\",2\n3\n";
        assert_eq!(
            diagnose(text, b','),
            Some(Problem::FieldCount {
                line: 4,
                found: 1,
                expected: 2
            })
        );
    }

    #[test]
    fn unclosed_quote_reports_start() {
        let text = "a,b\n1,2\n\"open,3\n4,5\n";
        assert_eq!(
            diagnose(text, b','),
            Some(Problem::UnclosedQuote { line: 3 })
        );
    }

    #[test]
    fn valid_text_has_no_problem() {
        assert_eq!(diagnose("a\tb\n1\t\"x\ty\"\r\n\n", b'\t'), None);
    }

    #[test]
    fn polars_advice_is_dropped() {
        let cleaned = clean_polars_message(
            "found more fields than defined in 'Schema'. Consider setting 'truncate_ragged_lines=true'.",
        );
        assert_eq!(cleaned, "found more fields than defined in 'Schema'");
    }

    #[test]
    fn parse_failure_finds_value_line() {
        let text = "Host,Port\nweb,443\ndb,abc\n";
        let error = "could not parse `abc` as dtype `i64` at column 'Port' (column number 2)";
        assert_eq!(
            find_value_line(text, b',', error),
            Some((3, "Port".to_owned()))
        );
    }
}
