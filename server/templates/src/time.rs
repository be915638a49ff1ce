//! Datetime parameter values: parsing, relative offsets and MSTICPy's formatting.
//!
//! MSTICPy 3.0.2 (`QuerySource._convert_datetime`) turns a value into a datetime as follows.
//! A number is an offset in days from now, and so is a string that Python's `int()` accepts.
//! A string that `dateutil` parses is a date or timestamp. Anything else is a relative offset
//! such as `-3d` or `-3d@d` (`_calc_timeoffset`). Quarry follows the same rules for every input
//! whose meaning is clear and rejects the rest with an error, where MSTICPy would silently pick a
//! surprising time:
//! - `dateutil` reads `-2h`, `10m` or `5s` as a clock time today (02:00, 00:10, 00:00:05), not as
//!   an offset;
//! - the unit `mon` is read as minutes, because `[ywdhms]?` matches its `m` first;
//! - rounding to `y` or `mon` makes MSTICPy raise, and rounding to `w` only drops microseconds;
//! - a string that is neither a timestamp nor an offset becomes "now".
//!
//! Only ISO 8601 timestamps are accepted as absolute times, where `dateutil` accepts many more
//! spellings.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, Timelike, Utc};

/// A datetime as MSTICPy represents it: naive or with a UTC offset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimeValue {
    /// The wall-clock time (in the offset's zone when there is one).
    pub local: NaiveDateTime,
    /// Offset from UTC in seconds, or `None` for a naive datetime.
    pub offset_seconds: Option<i32>,
}

impl TimeValue {
    fn utc(instant: DateTime<Utc>) -> TimeValue {
        TimeValue {
            local: instant.naive_utc(),
            offset_seconds: Some(0),
        }
    }

    /// Formats like Python's `datetime.isoformat(sep=...)`.
    pub fn isoformat(&self, separator: char) -> String {
        let date = self.local.date();
        let time = self.local.time();
        let mut out = format!(
            "{:04}-{:02}-{:02}{separator}{:02}:{:02}:{:02}",
            date.year(),
            date.month(),
            date.day(),
            time.hour(),
            time.minute(),
            time.second()
        );
        let micros = time.nanosecond() / 1000;
        if micros != 0 {
            out.push_str(&format!(".{micros:06}"));
        }
        if let Some(offset) = self.offset_seconds {
            let sign = if offset < 0 { '-' } else { '+' };
            let offset = offset.unsigned_abs();
            out.push_str(&format!(
                "{sign}{:02}:{:02}",
                offset / 3600,
                offset / 60 % 60
            ));
            if offset % 60 != 0 {
                out.push_str(&format!(":{:02}", offset % 60));
            }
        }
        out
    }

    /// MSTICPy's default datetime formatting (used by its KQL drivers): ISO 8601 with `T`, and a
    /// `Z` appended when the datetime is naive.
    pub fn format_kql(&self) -> String {
        let text = self.isoformat('T');
        if self.offset_seconds.is_some() {
            text
        } else {
            format!("{text}Z")
        }
    }

    /// MSTICPy's Splunk driver formatting: ISO 8601 with a space, in double quotes.
    pub fn format_splunk(&self) -> String {
        format!("\"{}\"", self.isoformat(' '))
    }
}

/// Converts a number of days from `now` as MSTICPy does for numeric values.
pub fn from_day_offset(days: f64, now: DateTime<Utc>) -> Result<TimeValue, String> {
    let micros = (days * 86_400_000_000.0).round_ties_even();
    if !micros.is_finite() || micros.abs() > 1e17 {
        return Err(format!("the day offset {days} is out of range"));
    }
    Ok(TimeValue::utc(now + Duration::microseconds(micros as i64)))
}

/// Converts a datetime parameter given as text.
pub fn parse_time(text: &str, now: DateTime<Utc>) -> Result<TimeValue, String> {
    let trimmed = text.trim();
    if let Some(days) = parse_python_int(trimmed) {
        return relative_offset(&days.to_string(), now);
    }
    if let Some(value) = parse_iso(trimmed) {
        return Ok(value);
    }
    relative_offset(text, now)
}

/// Parses an integer the way Python's `int()` accepts it from ASCII text: an optional sign and
/// digits with single `_` between them.
fn parse_python_int(text: &str) -> Option<i64> {
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    let valid = !digits.is_empty()
        && digits.starts_with(|c: char| c.is_ascii_digit())
        && digits.ends_with(|c: char| c.is_ascii_digit())
        && !digits.contains("__")
        && digits.chars().all(|c| c.is_ascii_digit() || c == '_');
    if !valid {
        return None;
    }
    text.replace('_', "").parse().ok()
}

/// Parses `YYYY-MM-DD` and `YYYY-MM-DD[T ]HH:MM[:SS[.ffffff]]` with an optional `Z`, `+HH:MM`,
/// `+HHMM` or `+HH` offset.
fn parse_iso(text: &str) -> Option<TimeValue> {
    if text.len() < 10 || !text.is_char_boundary(10) {
        return None;
    }
    let date = NaiveDate::parse_from_str(&text[..10], "%Y-%m-%d").ok()?;
    if text[..10].len() != 10 || !text.as_bytes()[4].eq(&b'-') {
        return None;
    }
    let rest = &text[10..];
    if rest.is_empty() {
        return Some(TimeValue {
            local: date.and_time(NaiveTime::MIN),
            offset_seconds: None,
        });
    }
    let rest = rest.strip_prefix(['T', 't', ' '])?;
    let zone_start = rest.find(['Z', 'z', '+', '-']).unwrap_or(rest.len());
    let (clock, zone) = rest.split_at(zone_start);
    let time = parse_clock(clock.trim_end())?;
    let offset_seconds = match zone {
        "" => None,
        "Z" | "z" => Some(0),
        _ => Some(parse_offset(zone)?),
    };
    Some(TimeValue {
        local: date.and_time(time),
        offset_seconds,
    })
}

fn parse_clock(clock: &str) -> Option<NaiveTime> {
    let (main, fraction) = match clock.split_once('.') {
        Some((main, fraction)) => (main, Some(fraction)),
        None => (clock, None),
    };
    let fields: Vec<&str> = main.split(':').collect();
    if !(2..=3).contains(&fields.len())
        || fields
            .iter()
            .any(|f| f.len() != 2 || !f.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    let hour: u32 = fields[0].parse().ok()?;
    let minute: u32 = fields[1].parse().ok()?;
    let second: u32 = fields.get(2).map_or(Some(0), |s| s.parse().ok())?;
    let micros = match fraction {
        None => 0,
        Some(digits)
            if (1..=6).contains(&digits.len())
                && digits.bytes().all(|b| b.is_ascii_digit())
                && fields.len() == 3 =>
        {
            format!("{digits:0<6}").parse().ok()?
        }
        Some(_) => return None,
    };
    NaiveTime::from_hms_micro_opt(hour, minute, second, micros)
}

fn parse_offset(zone: &str) -> Option<i32> {
    let sign = if zone.starts_with('-') { -1 } else { 1 };
    let digits: String = zone[1..].chars().filter(|c| *c != ':').collect();
    if !digits.bytes().all(|b| b.is_ascii_digit()) || !matches!(digits.len(), 2 | 4) {
        return None;
    }
    let hours: i32 = digits[..2].parse().ok()?;
    let minutes: i32 = if digits.len() == 4 {
        digits[2..].parse().ok()?
    } else {
        0
    };
    if hours > 23 || minutes > 59 {
        return None;
    }
    Some(sign * (hours * 3600 + minutes * 60))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Unit {
    Years,
    Weeks,
    Days,
    Hours,
    Minutes,
    Seconds,
}

/// Applies a relative offset `[+-]N[unit][@rounding]` to `now` (MSTICPy's `_calc_timeoffset`).
fn relative_offset(text: &str, now: DateTime<Utc>) -> Result<TimeValue, String> {
    let invalid = || {
        format!(
            "invalid datetime {text:?}: write an ISO 8601 time such as 2024-03-01T12:00:00Z, a number of days such as -7, or an offset such as -3d, -12h@h or -3d@d (units y, w, d, h, m, s)"
        )
    };
    let (delta, rounding) = match text.split_once('@') {
        Some((delta, rounding)) => (delta, Some(rounding.to_lowercase())),
        None => (text, None),
    };
    let delta = delta.trim();
    let (sign, body) = match delta.strip_prefix('-') {
        Some(body) => (-1i64, body.trim_start()),
        None => (1, delta.strip_prefix('+').unwrap_or(delta).trim_start()),
    };
    let digit_count = body.bytes().take_while(u8::is_ascii_digit).count();
    if digit_count == 0 {
        return Err(invalid());
    }
    let amount: i64 = body[..digit_count].parse().map_err(|_| invalid())?;
    let unit_text = body[digit_count..].trim().to_lowercase();
    if unit_text.starts_with("mon") {
        return Err(format!(
            "the unit `mon` in {text:?} is read by MSTICPy as minutes; write the offset in days (for example -30d) or minutes (m)"
        ));
    }
    let unit = match unit_text.as_str() {
        "" | "d" => Unit::Days,
        "y" => Unit::Years,
        "w" => Unit::Weeks,
        "h" => Unit::Hours,
        "m" => Unit::Minutes,
        "s" => Unit::Seconds,
        _ => return Err(invalid()),
    };
    if rounding.is_none() && matches!(unit, Unit::Hours | Unit::Minutes | Unit::Seconds) {
        return Err(format!(
            "MSTICPy reads {text:?} as a clock time today, not as an offset from now; add a rounding suffix such as {text}@s to mean an offset"
        ));
    }
    let shifted = add_offset(now, sign * amount, unit).ok_or_else(invalid)?;
    let Some(rounding) = rounding else {
        return Ok(TimeValue::utc(shifted));
    };

    let round_to = match rounding.chars().next() {
        _ if rounding.starts_with('y') || rounding.starts_with("mon") => {
            return Err(format!(
                "rounding to years or months in {text:?} fails in MSTICPy; round to d, h, m or s"
            ));
        }
        Some('d') => Unit::Days,
        Some('h') => Unit::Hours,
        Some('m') => Unit::Minutes,
        Some('s') => Unit::Seconds,
        _ => {
            return Err(format!(
                "unknown rounding `@{rounding}` in {text:?}; round to d, h, m or s"
            ));
        }
    };
    // MSTICPy drops the time zone and microseconds, zeroes the fields below the rounding unit,
    // and for an offset not written with `-` moves one unit forward (rounding up).
    let local = shifted.naive_utc();
    let time = match round_to {
        Unit::Days => NaiveTime::MIN,
        Unit::Hours => NaiveTime::from_hms_opt(local.hour(), 0, 0).unwrap_or_default(),
        Unit::Minutes => {
            NaiveTime::from_hms_opt(local.hour(), local.minute(), 0).unwrap_or_default()
        }
        _ => NaiveTime::from_hms_opt(local.hour(), local.minute(), local.second())
            .unwrap_or_default(),
    };
    let mut rounded = local.date().and_time(time);
    if !text.trim().starts_with('-') {
        rounded += match round_to {
            Unit::Days => Duration::days(1),
            Unit::Hours => Duration::hours(1),
            Unit::Minutes => Duration::minutes(1),
            _ => Duration::seconds(1),
        };
    }
    Ok(TimeValue {
        local: rounded,
        offset_seconds: None,
    })
}

fn add_offset(now: DateTime<Utc>, amount: i64, unit: Unit) -> Option<DateTime<Utc>> {
    match unit {
        Unit::Years => {
            let naive = now.naive_utc();
            let year = i32::try_from(i64::from(naive.year()) + amount).ok()?;
            // relativedelta clamps 29 February to 28 February in a non-leap year.
            let day = naive.day().min(days_in_month(year, naive.month()));
            let date = NaiveDate::from_ymd_opt(year, naive.month(), day)?;
            Some(date.and_time(naive.time()).and_utc())
        }
        Unit::Weeks => now.checked_add_signed(Duration::try_weeks(amount)?),
        Unit::Days => now.checked_add_signed(Duration::try_days(amount)?),
        Unit::Hours => now.checked_add_signed(Duration::try_hours(amount)?),
        Unit::Minutes => now.checked_add_signed(Duration::try_minutes(amount)?),
        Unit::Seconds => now.checked_add_signed(Duration::try_seconds(amount)?),
    }
}

fn days_in_month(year: i32, month: u32) -> u32 {
    let next = if month == 12 {
        NaiveDate::from_ymd_opt(year + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(year, month + 1, 1)
    };
    next.and_then(|first| first.pred_opt())
        .map_or(28, |last| last.day())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        "2024-03-15T10:20:30.123456Z".parse().unwrap()
    }

    #[test]
    fn iso_forms_format_like_python() {
        let cases = [
            ("2024-01-02", "2024-01-02T00:00:00Z"),
            ("2024-01-02T03:04:05Z", "2024-01-02T03:04:05+00:00"),
            (
                "2024-01-02 03:04:05.5+05:30",
                "2024-01-02T03:04:05.500000+05:30",
            ),
            ("2024-01-02T03:04", "2024-01-02T03:04:00Z"),
        ];
        for (input, expected) in cases {
            assert_eq!(
                parse_time(input, now()).unwrap().format_kql(),
                expected,
                "{input}"
            );
        }
    }

    #[test]
    fn offsets_follow_msticpy() {
        let cases = [
            ("-3", "2024-03-12T10:20:30.123456+00:00"),
            ("-3d", "2024-03-12T10:20:30.123456+00:00"),
            ("-3d@d", "2024-03-12T00:00:00Z"),
            ("2d@d", "2024-03-18T00:00:00Z"),
            ("-2h@h", "2024-03-15T08:00:00Z"),
            ("1w", "2024-03-22T10:20:30.123456+00:00"),
            ("-1y", "2023-03-15T10:20:30.123456+00:00"),
        ];
        for (input, expected) in cases {
            assert_eq!(
                parse_time(input, now()).unwrap().format_kql(),
                expected,
                "{input}"
            );
        }
    }

    #[test]
    fn ambiguous_forms_are_rejected() {
        for input in [
            "-2h", "10m", "-1mon", "-1d@y", "-1d@mon", "-1d@w", "garbage", "",
        ] {
            assert!(parse_time(input, now()).is_err(), "{input}");
        }
    }

    #[test]
    fn splunk_format_quotes_with_space() {
        let value = parse_time("2024-01-02T03:04:05", now()).unwrap();
        assert_eq!(value.format_splunk(), "\"2024-01-02 03:04:05\"");
    }
}
