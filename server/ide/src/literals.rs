//! Human-readable forms of timespan and datetime literals for hover.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

/// Ticks (100 nanoseconds) per unit, for the unit words KQL accepts after a number.
fn ticks_per_unit(unit: &str) -> Option<f64> {
    let ticks = match unit {
        "d" | "day" | "days" => 864_000_000_000.0,
        "h" | "hr" | "hrs" | "hour" | "hours" => 36_000_000_000.0,
        "m" | "min" | "minute" | "minutes" => 600_000_000.0,
        "s" | "sec" | "second" | "seconds" => 10_000_000.0,
        "ms" | "milli" | "millis" | "millisecond" | "milliseconds" => 10_000.0,
        "microsecond" | "microseconds" => 10.0,
        "tick" | "ticks" => 1.0,
        _ => return None,
    };
    Some(ticks)
}

/// Parses a timespan literal (`1.5h`, `100ms`, `10tick`, `time(1.02:03:04)`, `time(2d)`) into
/// ticks of 100 nanoseconds.
pub fn timespan_ticks(literal: &str) -> Option<i64> {
    let literal = literal.trim();
    if let Some(inner) = literal
        .strip_prefix("time")
        .map(str::trim_start)
        .and_then(|rest| rest.strip_prefix('('))
        .and_then(|rest| rest.strip_suffix(')'))
    {
        let inner = inner.trim();
        return if inner.contains(':') {
            clock_ticks(inner)
        } else if inner.chars().all(|c| c.is_ascii_digit() || c == '.') {
            // `time(2)` is two days.
            Some((inner.parse::<f64>().ok()? * 864_000_000_000.0).round() as i64)
        } else {
            timespan_ticks(inner)
        };
    }
    let split = literal
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(literal.len());
    let (number, unit) = literal.split_at(split);
    let number: f64 = number.parse().ok()?;
    let unit = if unit.is_empty() { "d" } else { unit };
    Some((number * ticks_per_unit(unit)?).round() as i64)
}

/// Parses `[d.]hh:mm[:ss[.fffffff]]`.
fn clock_ticks(text: &str) -> Option<i64> {
    let (days, clock) = match text.split_once('.') {
        Some((days, rest)) if rest.contains(':') && !days.contains(':') => {
            (days.parse::<i64>().ok()?, rest)
        }
        _ => (0, text),
    };
    let parts: Vec<&str> = clock.split(':').collect();
    if parts.len() < 2 || parts.len() > 3 {
        return None;
    }
    let hours: i64 = parts[0].parse().ok()?;
    let minutes: i64 = parts[1].parse().ok()?;
    let seconds: f64 = parts.get(2).map_or(Ok(0.0), |s| s.parse()).ok()?;
    Some(
        days * 864_000_000_000
            + hours * 36_000_000_000
            + minutes * 600_000_000
            + (seconds * 10_000_000.0).round() as i64,
    )
}

/// Renders ticks as days, hours, minutes, seconds and milliseconds, largest first:
/// `1 day 2 hours 30 minutes`.
pub fn describe_timespan(ticks: i64) -> String {
    if ticks == 0 {
        return "0 seconds".to_owned();
    }
    let sign = if ticks < 0 { "minus " } else { "" };
    let mut rest = ticks.unsigned_abs();
    let mut parts = Vec::new();
    for (unit, size) in [
        ("day", 864_000_000_000u64),
        ("hour", 36_000_000_000),
        ("minute", 600_000_000),
        ("second", 10_000_000),
        ("millisecond", 10_000),
        ("tick", 1),
    ] {
        let count = rest / size;
        rest %= size;
        if count > 0 {
            let plural = if count == 1 { "" } else { "s" };
            parts.push(format!("{count} {unit}{plural}"));
        }
    }
    format!("{sign}{}", parts.join(" "))
}

/// Parses the text inside `datetime(...)` as a UTC instant. KQL reads datetimes without an
/// offset as UTC; ISO 8601 with `Z` or an offset, `2024-01-15 05:24:24.010` and dates alone
/// are accepted.
pub fn datetime_utc(literal: &str) -> Option<DateTime<Utc>> {
    let inner = literal
        .trim()
        .strip_prefix("datetime")?
        .trim_start()
        .strip_prefix('(')?
        .strip_suffix(')')?
        .trim();
    if let Ok(instant) = DateTime::parse_from_rfc3339(inner) {
        return Some(instant.with_timezone(&Utc));
    }
    for format in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M:%S%.fZ",
    ] {
        if let Ok(naive) = NaiveDateTime::parse_from_str(inner, format) {
            return Some(naive.and_utc());
        }
    }
    for format in ["%Y-%m-%d", "%Y/%m/%d"] {
        if let Ok(date) = NaiveDate::parse_from_str(inner, format) {
            return date.and_hms_opt(0, 0, 0).map(|naive| naive.and_utc());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timespan_units() {
        assert_eq!(timespan_ticks("1d"), Some(864_000_000_000));
        assert_eq!(timespan_ticks("1.5h"), Some(54_000_000_000));
        assert_eq!(timespan_ticks("100ms"), Some(1_000_000));
        assert_eq!(timespan_ticks("10tick"), Some(10));
        assert_eq!(timespan_ticks("30min"), Some(18_000_000_000));
        assert_eq!(timespan_ticks("time(1.02:03:04)"), Some(937_840_000_000));
        assert_eq!(timespan_ticks("time(2)"), Some(1_728_000_000_000));
        assert_eq!(timespan_ticks("5parsecs"), None);
    }

    #[test]
    fn timespan_descriptions() {
        assert_eq!(describe_timespan(54_000_000_000), "1 hour 30 minutes");
        assert_eq!(
            describe_timespan(937_840_000_000),
            "1 day 2 hours 3 minutes 4 seconds"
        );
        assert_eq!(describe_timespan(-10_000), "minus 1 millisecond");
        assert_eq!(describe_timespan(0), "0 seconds");
    }

    #[test]
    fn datetimes_in_utc() {
        let format = |literal| datetime_utc(literal).map(|instant| instant.to_rfc3339());
        assert_eq!(
            format("datetime(2024-03-10)").as_deref(),
            Some("2024-03-10T00:00:00+00:00")
        );
        assert_eq!(
            format("datetime(2024-03-10 05:24:24.010)").as_deref(),
            Some("2024-03-10T05:24:24.010+00:00")
        );
        assert_eq!(
            format("datetime(2024-03-10T05:00:00+02:00)").as_deref(),
            Some("2024-03-10T03:00:00+00:00")
        );
        assert_eq!(format("datetime(yesterday)"), None);
    }
}
