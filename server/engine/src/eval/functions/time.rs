//! Datetime and timespan functions: parts, start and end of periods, differences, formatting
//! and conversions.

use chrono::{DateTime, Datelike as _, Months, NaiveDate, NaiveDateTime, Timelike as _, Utc};

use super::Call;
use crate::EngineError;
use crate::eval::expr::Compiled;
use crate::eval::types::KqlType;
use crate::eval::value::Value;

const SECOND: i64 = 1_000_000_000;
const MINUTE: i64 = 60 * SECOND;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;
/// Kusto's smallest time unit, 100 nanoseconds.
const TICK: i64 = 100;

pub(super) fn compile(call: &Call<'_>) -> Option<Result<Compiled, EngineError>> {
    let result = match call.name {
        "startofhour" | "startofday" | "startofweek" | "startofmonth" | "startofyear"
        | "endofhour" | "endofday" | "endofweek" | "endofmonth" | "endofyear" => {
            period_boundary(call)
        }
        "dayofweek" => call.arity(1, 1).and_then(|()| {
            call.expect(0, &[KqlType::Datetime])?;
            Ok(call.row(KqlType::Timespan, |v| match v[0] {
                Value::Datetime(n) => {
                    let days = i64::from(to_datetime(*n).weekday().num_days_from_sunday());
                    Value::Timespan(days * DAY)
                }
                _ => Value::Null,
            }))
        }),
        "hourofday" | "dayofmonth" | "dayofyear" | "monthofyear" | "getmonth" | "week_of_year"
        | "getyear" => {
            let part = match call.name {
                "hourofday" => "hour",
                "dayofmonth" => "day",
                "dayofyear" => "dayofyear",
                "monthofyear" | "getmonth" => "month",
                "week_of_year" => "week_of_year",
                _ => "year",
            };
            let ty = if call.name == "getyear" {
                KqlType::Long
            } else {
                KqlType::Int
            };
            call.arity(1, 1).and_then(|()| {
                call.expect(0, &[KqlType::Datetime])?;
                Ok(call.row(ty, move |v| match v[0] {
                    Value::Datetime(n) => date_part(part, *n).map_or(Value::Null, Value::Long),
                    _ => Value::Null,
                }))
            })
        }
        "datetime_part" => call.arity(2, 2).and_then(|()| {
            let part = normalize_part(&call.constant_string(0, "part name")?, call, 0)?;
            call.expect(1, &[KqlType::Datetime])?;
            Ok(call.row(KqlType::Int, move |v| match v[1] {
                Value::Datetime(n) => date_part(&part, *n).map_or(Value::Null, Value::Long),
                _ => Value::Null,
            }))
        }),
        "datetime_diff" => call.arity(3, 3).and_then(|()| {
            let part = normalize_part(&call.constant_string(0, "part name")?, call, 0)?;
            call.expect(1, &[KqlType::Datetime])?;
            call.expect(2, &[KqlType::Datetime])?;
            Ok(call.row(KqlType::Long, move |v| match (v[1], v[2]) {
                (Value::Datetime(a), Value::Datetime(b)) => {
                    datetime_diff(&part, *a, *b).map_or(Value::Null, Value::Long)
                }
                _ => Value::Null,
            }))
        }),
        "datetime_add" => call.arity(3, 3).and_then(|()| {
            let part = normalize_part(&call.constant_string(0, "part name")?, call, 0)?;
            call.expect(2, &[KqlType::Datetime])?;
            Ok(
                call.row(KqlType::Datetime, move |v| match (v[1].to_long(), v[2]) {
                    (Some(amount), Value::Datetime(n)) => {
                        datetime_add(&part, amount, *n).map_or(Value::Null, Value::Datetime)
                    }
                    _ => Value::Null,
                }),
            )
        }),
        "format_datetime" => call.arity(2, 2).and_then(|()| {
            call.expect(0, &[KqlType::Datetime])?;
            let format = call.constant_string(1, "format")?;
            Ok(call.row(KqlType::String, move |v| match v[0] {
                Value::Datetime(n) => Value::String(format_datetime(*n, &format)),
                _ => Value::Null,
            }))
        }),
        "format_timespan" => call.arity(2, 2).and_then(|()| {
            call.expect(0, &[KqlType::Timespan])?;
            let format = call.constant_string(1, "format")?;
            Ok(call.row(KqlType::String, move |v| match v[0] {
                Value::Timespan(n) => Value::String(format_timespan(*n, &format)),
                _ => Value::Null,
            }))
        }),
        "todatetime" => call.arity(1, 1).map(|()| {
            call.row(KqlType::Datetime, |v| match v[0] {
                Value::Datetime(n) => Value::Datetime(*n),
                Value::Long(ticks) => Value::Datetime(ticks.saturating_mul(TICK)),
                other => other
                    .as_str()
                    .and_then(parse_datetime_text)
                    .map_or(Value::Null, Value::Datetime),
            })
        }),
        "make_datetime" => call.arity(3, 7).map(|()| {
            call.row(KqlType::Datetime, |v| {
                let mut parts = Vec::with_capacity(6);
                for value in v.iter().take(5) {
                    match value.to_long() {
                        Some(n) => parts.push(n),
                        None => return Value::Null,
                    }
                }
                let seconds = v.get(5).and_then(|x| x.to_real()).unwrap_or(0.0);
                parts.resize(5, 0);
                let date = NaiveDate::from_ymd_opt(
                    parts[0] as i32,
                    u32::try_from(parts[1]).unwrap_or(0),
                    u32::try_from(parts[2]).unwrap_or(0),
                );
                let Some(time) = date.and_then(|d| {
                    d.and_hms_opt(
                        u32::try_from(parts[3]).ok()?,
                        u32::try_from(parts[4]).ok()?,
                        0,
                    )
                }) else {
                    return Value::Null;
                };
                let base = time.and_utc().timestamp_nanos_opt().unwrap_or(0);
                Value::Datetime(base + (seconds * SECOND as f64).round() as i64)
            })
        }),
        "totimespan" | "totime" => call.arity(1, 1).map(|()| {
            call.row(KqlType::Timespan, |v| match v[0] {
                Value::Timespan(n) => Value::Timespan(*n),
                Value::Long(ticks) => Value::Timespan(ticks.saturating_mul(TICK)),
                other => other
                    .as_str()
                    .and_then(parse_timespan_text)
                    .map_or(Value::Null, Value::Timespan),
            })
        }),
        "make_timespan" => call.arity(2, 5).map(|()| {
            call.row(KqlType::Timespan, |v| {
                let numbers: Option<Vec<f64>> = v.iter().map(|x| x.to_real()).collect();
                let Some(numbers) = numbers else {
                    return Value::Null;
                };
                let units: &[i64] = match numbers.len() {
                    2 => &[HOUR, MINUTE],
                    3 => &[HOUR, MINUTE, SECOND],
                    _ => &[DAY, HOUR, MINUTE, SECOND],
                };
                let total: f64 = numbers
                    .iter()
                    .zip(units)
                    .map(|(n, unit)| n * *unit as f64)
                    .sum();
                Value::Timespan(total.round() as i64)
            })
        }),
        "unixtime_seconds_todatetime"
        | "unixtime_milliseconds_todatetime"
        | "unixtime_microseconds_todatetime"
        | "unixtime_nanoseconds_todatetime" => call.arity(1, 1).map(|()| {
            let scale = match call.name {
                "unixtime_seconds_todatetime" => 1e9,
                "unixtime_milliseconds_todatetime" => 1e6,
                "unixtime_microseconds_todatetime" => 1e3,
                _ => 1.0,
            };
            call.row(KqlType::Datetime, move |v| match v[0] {
                Value::Long(n) if scale == 1.0 => Value::Datetime(*n),
                other => other
                    .to_real()
                    .map_or(Value::Null, |x| Value::Datetime((x * scale).round() as i64)),
            })
        }),
        "bin_at" => call.arity(3, 3).map(|()| {
            call.row(call.args[0].ty, |v| match (v[0], v[1], v[2]) {
                (Value::Datetime(x), Value::Timespan(step), Value::Datetime(anchor))
                    if *step > 0 =>
                {
                    Value::Datetime(anchor + (x - anchor).div_euclid(*step) * step)
                }
                (Value::Timespan(x), Value::Timespan(step), Value::Timespan(anchor))
                    if *step > 0 =>
                {
                    Value::Timespan(anchor + (x - anchor).div_euclid(*step) * step)
                }
                (Value::Long(x), Value::Long(step), Value::Long(anchor)) if *step > 0 => {
                    Value::Long(anchor + (x - anchor).div_euclid(*step) * step)
                }
                (x, step, anchor) => match (x.to_real(), step.to_real(), anchor.to_real()) {
                    (Some(x), Some(step), Some(anchor)) if step > 0.0 => {
                        Value::Real(anchor + ((x - anchor) / step).floor() * step)
                    }
                    _ => Value::Null,
                },
            })
        }),
        _ => return None,
    };
    Some(result)
}

fn to_datetime(nanos: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_nanos(nanos)
}

fn to_nanos(datetime: NaiveDateTime) -> Option<i64> {
    datetime.and_utc().timestamp_nanos_opt()
}

/// Compiles `startof*` and `endof*`, with their optional offset in periods.
fn period_boundary(call: &Call<'_>) -> Result<Compiled, EngineError> {
    call.arity(1, 2)?;
    call.expect(0, &[KqlType::Datetime])?;
    let period = call
        .name
        .trim_start_matches("startof")
        .trim_start_matches("endof")
        .to_owned();
    let end = call.name.starts_with("endof");
    Ok(call.row(KqlType::Datetime, move |v| {
        let Value::Datetime(n) = v[0] else {
            return Value::Null;
        };
        let offset = v.get(1).and_then(|x| x.to_long()).unwrap_or(0);
        let start = start_of(&period, *n, offset);
        let result = if end {
            start_of(&period, *n, offset + 1).map(|next| next - TICK)
        } else {
            start
        };
        result.map_or(Value::Null, Value::Datetime)
    }))
}

/// Returns the start of the day, week (from Sunday), month or year of `nanos`, moved by
/// `offset` whole periods.
fn start_of(period: &str, nanos: i64, offset: i64) -> Option<i64> {
    let datetime = to_datetime(nanos).naive_utc();
    let date = datetime.date();
    if period == "hour" {
        return nanos
            .div_euclid(HOUR)
            .checked_add(offset)?
            .checked_mul(HOUR);
    }
    let start = match period {
        "day" => date.checked_add_signed(chrono::Duration::days(offset))?,
        "week" => {
            let back = i64::from(date.weekday().num_days_from_sunday());
            date.checked_add_signed(chrono::Duration::days(offset * 7 - back))?
        }
        "month" => shift_months(date.with_day(1)?, offset)?,
        _ => shift_months(date.with_day(1)?.with_month(1)?, offset * 12)?,
    };
    to_nanos(start.and_hms_opt(0, 0, 0)?)
}

fn shift_months(date: NaiveDate, months: i64) -> Option<NaiveDate> {
    let count = Months::new(u32::try_from(months.unsigned_abs()).ok()?);
    if months >= 0 {
        date.checked_add_months(count)
    } else {
        date.checked_sub_months(count)
    }
}

/// Maps Kusto's part names and their abbreviations to one spelling.
fn normalize_part(name: &str, call: &Call<'_>, index: usize) -> Result<String, EngineError> {
    let part = match name.to_ascii_lowercase().as_str() {
        "year" | "yy" | "yyyy" => "year",
        "quarter" | "q" | "qq" => "quarter",
        "month" | "m" | "mm" => "month",
        "week" | "wk" | "ww" | "week_of_year" => "week",
        "day" | "d" | "dd" => "day",
        "dayofyear" | "dy" | "y" => "dayofyear",
        "hour" | "hh" => "hour",
        "minute" | "mi" | "n" => "minute",
        "second" | "ss" | "s" => "second",
        "millisecond" | "ms" => "millisecond",
        "microsecond" | "mcs" => "microsecond",
        "nanosecond" | "ns" => "nanosecond",
        _ => {
            return Err(EngineError::at(
                format!(
                    "unknown datetime part {name:?}; use year, quarter, month, week, day, hour, minute, second, millisecond, microsecond or nanosecond"
                ),
                call.ranges[index].clone(),
            ));
        }
    };
    Ok(part.to_owned())
}

fn date_part(part: &str, nanos: i64) -> Option<i64> {
    let datetime = to_datetime(nanos);
    let value = match part {
        "year" => i64::from(datetime.year()),
        "quarter" => i64::from((datetime.month() - 1) / 3 + 1),
        "month" => i64::from(datetime.month()),
        "week" | "week_of_year" => i64::from(datetime.iso_week().week()),
        "day" => i64::from(datetime.day()),
        "dayofyear" => i64::from(datetime.ordinal()),
        "hour" => i64::from(datetime.hour()),
        "minute" => i64::from(datetime.minute()),
        "second" => i64::from(datetime.second()),
        "millisecond" => i64::from(datetime.timestamp_subsec_millis()),
        "microsecond" => i64::from(datetime.timestamp_subsec_micros()),
        "nanosecond" => i64::from(datetime.timestamp_subsec_nanos()),
        _ => return None,
    };
    Some(value)
}

/// Counts the `part` boundaries between `b` and `a` (`a - b`), as `datetime_diff()` does.
fn datetime_diff(part: &str, a: i64, b: i64) -> Option<i64> {
    let (x, y) = (to_datetime(a), to_datetime(b));
    let months = |d: &DateTime<Utc>| i64::from(d.year()) * 12 + i64::from(d.month0());
    let value = match part {
        "year" => i64::from(x.year() - y.year()),
        "quarter" => {
            let quarters = |d: &DateTime<Utc>| i64::from(d.year()) * 4 + i64::from(d.month0() / 3);
            quarters(&x) - quarters(&y)
        }
        "month" => months(&x) - months(&y),
        "week" => (start_of("week", a, 0)? - start_of("week", b, 0)?) / (7 * DAY),
        "day" => (start_of("day", a, 0)? - start_of("day", b, 0)?) / DAY,
        "hour" => a.div_euclid(HOUR) - b.div_euclid(HOUR),
        "minute" => a.div_euclid(MINUTE) - b.div_euclid(MINUTE),
        "second" => a.div_euclid(SECOND) - b.div_euclid(SECOND),
        "millisecond" => a.div_euclid(1_000_000) - b.div_euclid(1_000_000),
        "microsecond" => a.div_euclid(1_000) - b.div_euclid(1_000),
        "nanosecond" => a - b,
        _ => return None,
    };
    Some(value)
}

fn datetime_add(part: &str, amount: i64, nanos: i64) -> Option<i64> {
    let fixed = |unit: i64| amount.checked_mul(unit).and_then(|d| nanos.checked_add(d));
    match part {
        "year" | "quarter" | "month" => {
            let months = match part {
                "year" => amount.checked_mul(12)?,
                "quarter" => amount.checked_mul(3)?,
                _ => amount,
            };
            let datetime = to_datetime(nanos).naive_utc();
            let shifted = shift_months(datetime.date(), months)?.and_time(datetime.time());
            to_nanos(shifted)
        }
        "week" => fixed(7 * DAY),
        "day" | "dayofyear" => fixed(DAY),
        "hour" => fixed(HOUR),
        "minute" => fixed(MINUTE),
        "second" => fixed(SECOND),
        "millisecond" => fixed(1_000_000),
        "microsecond" => fixed(1_000),
        _ => fixed(1),
    }
}

/// Datetime layouts that `todatetime()` reads, tried in order after RFC 3339.
const DATETIME_FORMATS: &[&str] = &[
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M",
    "%m/%d/%Y %H:%M:%S%.f",
    "%m/%d/%Y %I:%M:%S %p",
    "%m/%d/%Y %H:%M",
];

/// Parses ISO 8601, RFC 822 and a few common layouts to nanoseconds since the epoch, UTC.
pub fn parse_datetime_text(text: &str) -> Option<i64> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    if let Ok(parsed) = DateTime::parse_from_rfc3339(text) {
        return parsed.timestamp_nanos_opt();
    }
    if let Ok(parsed) = DateTime::parse_from_rfc2822(text) {
        return parsed.timestamp_nanos_opt();
    }
    let trimmed = text.strip_suffix('Z').unwrap_or(text);
    for format in DATETIME_FORMATS {
        if let Ok(parsed) = NaiveDateTime::parse_from_str(trimmed, format) {
            return to_nanos(parsed);
        }
    }
    for format in ["%Y-%m-%d", "%m/%d/%Y", "%Y%m%d"] {
        if let Ok(date) = NaiveDate::parse_from_str(trimmed, format) {
            return to_nanos(date.and_hms_opt(0, 0, 0)?);
        }
    }
    None
}

/// Parses `[-][d.]hh:mm[:ss[.fffffff]]` or a literal such as `2h` to nanoseconds.
pub fn parse_timespan_text(text: &str) -> Option<i64> {
    let text = text.trim();
    crate::lower::parse_timespan(text).or_else(|| {
        if text.contains(':') {
            crate::lower::parse_timespan(&format!("time({text})"))
        } else {
            None
        }
    })
}

/// Formats a datetime with Kusto's format specifiers, such as `yyyy-MM-dd HH:mm:ss.fff`.
fn format_datetime(nanos: i64, format: &str) -> String {
    let datetime = to_datetime(nanos);
    let mut out = String::new();
    for (token, count) in tokens(format) {
        let text = match (token, count) {
            ('y', 1) => (datetime.year() % 100).to_string(),
            ('y', 2) => format!("{:02}", datetime.year() % 100),
            ('y', n) => format!("{:0width$}", datetime.year(), width = n),
            ('M', 1) => datetime.month().to_string(),
            ('M', _) => format!("{:02}", datetime.month()),
            ('d', 1) => datetime.day().to_string(),
            ('d', _) => format!("{:02}", datetime.day()),
            ('H', 1) => datetime.hour().to_string(),
            ('H', _) => format!("{:02}", datetime.hour()),
            ('h', n) => {
                let hour = datetime.hour12().1;
                if n == 1 {
                    hour.to_string()
                } else {
                    format!("{hour:02}")
                }
            }
            ('m', 1) => datetime.minute().to_string(),
            ('m', _) => format!("{:02}", datetime.minute()),
            ('s', 1) => datetime.second().to_string(),
            ('s', _) => format!("{:02}", datetime.second()),
            ('f' | 'F', n) => {
                let digits = format!("{:09}", datetime.timestamp_subsec_nanos());
                let shown = &digits[..n.min(9)];
                if token == 'F' {
                    shown.trim_end_matches('0').to_owned()
                } else {
                    shown.to_owned()
                }
            }
            ('t', n) => {
                let marker = if datetime.hour12().0 { "PM" } else { "AM" };
                marker[..n.min(2)].to_owned()
            }
            (other, n) => std::iter::repeat_n(other, n).collect(),
        };
        out.push_str(&text);
    }
    out
}

/// Formats a timespan with Kusto's specifiers: `d` days, `h`/`H` hours, `m` minutes, `s`
/// seconds and `f`/`F` fractions.
fn format_timespan(nanos: i64, format: &str) -> String {
    let total = nanos.unsigned_abs();
    let days = total / DAY as u64;
    let hours = total / HOUR as u64 % 24;
    let minutes = total / MINUTE as u64 % 60;
    let seconds = total / SECOND as u64 % 60;
    let fraction = total % SECOND as u64;
    let mut out = String::new();
    if nanos < 0 {
        out.push('-');
    }
    for (token, count) in tokens(format) {
        let text = match token {
            'd' => format!("{days:0count$}"),
            'h' | 'H' => format!("{hours:0count$}"),
            'm' => format!("{minutes:0count$}"),
            's' => format!("{seconds:0count$}"),
            'f' | 'F' => {
                let digits = format!("{fraction:09}");
                let shown = &digits[..count.min(9)];
                if token == 'F' {
                    shown.trim_end_matches('0').to_owned()
                } else {
                    shown.to_owned()
                }
            }
            other => std::iter::repeat_n(other, count).collect(),
        };
        out.push_str(&text);
    }
    out
}

/// Splits a format string into runs of one specifier letter; other characters are literal
/// runs of length one.
fn tokens(format: &str) -> Vec<(char, usize)> {
    let mut runs: Vec<(char, usize)> = Vec::new();
    for c in format.chars() {
        match runs.last_mut() {
            Some((last, count)) if *last == c && "yMdHhmsfFt".contains(c) => *count += 1,
            _ => runs.push((c, 1)),
        }
    }
    runs
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2024-03-10T12:34:56.789Z, a Sunday.
    const SAMPLE: i64 = 1_710_074_096_789_000_000;

    #[test]
    fn period_starts() {
        assert_eq!(
            start_of("day", SAMPLE, 0),
            parse_datetime_text("2024-03-10")
        );
        assert_eq!(
            start_of("week", SAMPLE, 0),
            parse_datetime_text("2024-03-10")
        );
        assert_eq!(
            start_of("week", SAMPLE + DAY, 0),
            parse_datetime_text("2024-03-10")
        );
        assert_eq!(
            start_of("month", SAMPLE, 1),
            parse_datetime_text("2024-04-01")
        );
        assert_eq!(
            start_of("year", SAMPLE, -1),
            parse_datetime_text("2023-01-01")
        );
    }

    #[test]
    fn diff_counts_boundaries() {
        let a = parse_datetime_text("2024-01-01T00:00:00Z").unwrap();
        let b = parse_datetime_text("2023-12-31T23:59:59Z").unwrap();
        assert_eq!(datetime_diff("year", a, b), Some(1));
        assert_eq!(datetime_diff("month", a, b), Some(1));
        assert_eq!(datetime_diff("day", a, b), Some(1));
        assert_eq!(datetime_diff("second", a, b), Some(1));
        assert_eq!(datetime_diff("minute", b, a), Some(-1));
    }

    #[test]
    fn add_months_clamps_day() {
        let jan31 = parse_datetime_text("2024-01-31").unwrap();
        assert_eq!(
            datetime_add("month", 1, jan31),
            parse_datetime_text("2024-02-29")
        );
    }

    #[test]
    fn formats() {
        assert_eq!(
            format_datetime(SAMPLE, "yyyy-MM-dd HH:mm:ss.fff"),
            "2024-03-10 12:34:56.789"
        );
        assert_eq!(format_datetime(SAMPLE, "M/d/yy h tt"), "3/10/24 12 PM");
        assert_eq!(
            format_timespan(DAY + 2 * HOUR + 3 * MINUTE + 4 * SECOND, "d.hh:mm:ss"),
            "1.02:03:04"
        );
    }

    #[test]
    fn parses_datetime_text() {
        assert_eq!(
            parse_datetime_text("2024-03-10T12:34:56.789Z"),
            Some(SAMPLE)
        );
        assert_eq!(parse_datetime_text("2024-03-10 12:34:56.789"), Some(SAMPLE));
        assert_eq!(parse_datetime_text("yesterday"), None);
        assert_eq!(parse_timespan_text("01:00:00"), Some(HOUR));
        assert_eq!(parse_timespan_text("2.00:00:00"), Some(2 * DAY));
    }
}
