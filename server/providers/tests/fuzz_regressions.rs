//! Inputs found by fuzzing (`fuzz/` at the repository root) that once failed, kept so that they
//! stay fixed or, where the problem remains, so that a change in behaviour is noticed.

use quarry_providers::table::TimeSpan;

/// Timespans whose day or hour count is a valid `i64` but whose tick count is not.
const OVERFLOWING: [&str; 3] = [
    "999999999999999999:00:00",
    "999999999999999999.00:00:00",
    "6024.888888888888888810:11:2",
];

#[test]
fn timespan_overflow_returns_none() {
    for text in OVERFLOWING {
        let result = std::panic::catch_unwind(|| TimeSpan::parse(text));
        let parsed = result.unwrap_or_else(|_| panic!("`{text}` panicked"));
        assert_eq!(parsed, None, "`{text}` parsed");
    }
}

#[test]
fn timespan_rejects_signed_parts() {
    // Only the whole span carries a sign, because a sign inside would make a part count backwards.
    for text in [
        "1.-5:00:00",
        "00:-1:00",
        "+01:00:00",
        "00:00:+5",
        "-1.00:-01:00",
    ] {
        assert_eq!(TimeSpan::parse(text), None, "`{text}` parsed");
    }
}

#[test]
fn timespan_limits_parse() {
    // The largest and smallest tick counts still parse and print back unchanged.
    for text in ["10675199.02:48:05.4775807", "-10675199.02:48:05.4775807"] {
        let span = TimeSpan::parse(text).unwrap_or_else(|| panic!("`{text}` did not parse"));
        assert_eq!(span.to_string(), text);
    }
}
