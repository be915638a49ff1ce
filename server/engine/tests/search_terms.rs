//! `search` with long lists of bare terms joined by `or`, run on the demo DeviceNetworkEvents.
//!
//! The engine matches two or more such terms through regex alternations, one pass over each
//! string column for up to 256 terms, while a lone term keeps its own string test. Each test
//! here compares a grouped search with single-term searches, so any change that grouping makes
//! to the matched rows fails it.

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;

use common::*;
use quarry_engine::{DataSource, FixedClock, QueryOutput, RunOptions, Session};

fn demo() -> Session {
    Session::with_clock(DataSource::Demo, Arc::new(FixedClock(NOW)))
}

fn run(session: &Session, query: &str) -> QueryOutput {
    session
        .run(
            query,
            &RunOptions {
                max_rows: usize::MAX,
                time_range: None,
            },
        )
        .unwrap_or_else(|error| panic!("query failed: {error} at {:?}\n{query}", error.range))
}

/// Writes a term as a verbatim KQL string, in which only `'` needs escaping.
fn quote(term: &str) -> String {
    format!("@'{}'", term.replace('\'', "''"))
}

/// Returns the numbers of the DeviceNetworkEvents rows that `search kind=KIND PREDICATE`
/// keeps. Rows are numbered before the search, and the number column is a long, which
/// `search` does not test.
fn matched_rows(session: &Session, kind: &str, predicate: &str) -> BTreeSet<i64> {
    let query = format!(
        "DeviceNetworkEvents | serialize Row = row_number() \
         | search kind={kind} {predicate} | project Row"
    );
    longs(&run(session, &query), "Row")
        .into_iter()
        .map(|row| row.expect("every row has a number"))
        .collect()
}

/// Returns the rows that the terms match one at a time, which is the meaning of their `or`.
fn rows_of_each_term(session: &Session, kind: &str, terms: &[String]) -> BTreeSet<i64> {
    let mut rows = BTreeSet::new();
    for term in terms {
        rows.extend(matched_rows(session, kind, &quote(term)));
    }
    rows
}

fn or_of_terms(terms: &[String]) -> String {
    let quoted: Vec<String> = terms.iter().map(|term| quote(term)).collect();
    quoted.join(" or ")
}

/// Terms that match few or none of the demo rows, and whose text is full of regex
/// metacharacters, wildcards and term edges that are punctuation.
fn absent_terms(count: usize) -> Vec<String> {
    (0..count)
        .map(|n| match n % 10 {
            0 => format!("ioc{n}.bad(x)+y"),
            1 => format!("c:\\temp\\drop{n}\\a.exe"),
            2 => format!("203.0.113.{n}"),
            3 => format!("evil{n}.example.org"),
            4 => format!("[x{n}]|^q$?{{2}}"),
            5 => format!("zz{n}*"),
            6 => format!("*qq{n}"),
            7 => format!("*mid{n}x*"),
            8 => format!("no{n}*where"),
            _ => format!("{n:032x}"),
        })
        .collect()
}

/// Terms that match some demo rows or sit just beside a match: mixed case, wildcards,
/// backslashes, dots, quotes, and near-misses on term boundaries.
fn probe_terms() -> Vec<String> {
    [
        "uma.ito",
        "Jordan.Lee",
        "wks-020",
        "c:\\windows\\system32\\windowspowershell\\v1.0",
        "OUTLOOK.EXE",
        "\"OUTLOOK.EXE\"",
        "sqbfafga*",
        "SQBFAFgA*",
        "SQBFAFgA",
        "*.example.net",
        "cdn*NET",
        "*crosoftonl*",
        "*OUTLOOK.E*",
        "*Microsoft*",
        "FS01*",
        "bing.co",
        "192.0.2.4",
        "10.20.1.29",
        "-enc",
        "*Sync.Example",
        "val.evans",
        "Lsass",
    ]
    .iter()
    .map(|term| (*term).to_owned())
    .collect()
}

/// Checks a list longer than one alternation, for both kinds: the grouped search keeps
/// exactly the rows of its terms searched one at a time.
#[test]
fn long_list_matches_single_terms() {
    let session = demo();
    let mut terms = absent_terms(280);
    // Spread the probes over the list, so they land in different alternations.
    for (n, probe) in probe_terms().into_iter().enumerate() {
        terms.insert(n * 13, probe);
    }
    let mut results = Vec::new();
    for kind in ["case_insensitive", "case_sensitive"] {
        let grouped = matched_rows(&session, kind, &or_of_terms(&terms));
        let expected = rows_of_each_term(&session, kind, &terms);
        assert!(!expected.is_empty(), "no row matches under {kind}");
        assert_eq!(grouped, expected, "search kind={kind}");
        results.push(grouped);
    }
    assert!(
        results[1].is_subset(&results[0]),
        "a case-sensitive match is also a case-insensitive one"
    );
    assert_ne!(
        results[0], results[1],
        "the mixed-case terms make the kinds differ"
    );
}

/// Checks each probe term on its own inside a list of absent terms, so that losing any one
/// term, or matching one where its single search does not, fails.
#[test]
fn each_term_inside_long_list() {
    let session = demo();
    let absent = absent_terms(80);
    for kind in ["case_insensitive", "case_sensitive"] {
        for probe in probe_terms() {
            let mut terms = absent.clone();
            terms.insert(40, probe.clone());
            let grouped = matched_rows(&session, kind, &or_of_terms(&terms));
            let single = matched_rows(&session, kind, &quote(&probe));
            assert_eq!(grouped, single, "term {probe:?} under kind={kind}");
        }
    }
}

/// Checks that mixed-case terms keep Kusto's case rules when grouped: `Jordan.Lee` matches
/// the account `jordan.lee` only without `kind=case_sensitive`.
#[test]
fn grouped_terms_follow_kind() {
    let session = demo();
    let terms: Vec<String> = ["Jordan.Lee", "UMA.ITO", "absent.term"]
        .iter()
        .map(|term| (*term).to_owned())
        .collect();
    let insensitive = matched_rows(&session, "case_insensitive", &or_of_terms(&terms));
    let sensitive = matched_rows(&session, "case_sensitive", &or_of_terms(&terms));
    let accounts = matched_rows(
        &session,
        "case_insensitive",
        "InitiatingProcessAccountName:'jordan.lee' or InitiatingProcessAccountName:'uma.ito'",
    );
    assert!(!accounts.is_empty(), "the demo has rows of both accounts");
    assert_eq!(insensitive, accounts);
    assert!(sensitive.is_empty(), "{} rows", sensitive.len());
}

/// Checks bare terms mixed with column terms, ordinary conditions, `and` and parentheses:
/// only the bare terms of an `or` are grouped, and the predicate keeps its meaning.
#[test]
fn mixed_predicate_keeps_meaning() {
    let session = demo();
    let absent = or_of_terms(&absent_terms(50));
    let kind = "case_insensitive";

    let mixed = matched_rows(
        &session,
        kind,
        &format!("{absent} or RemoteUrl:'github' or RemotePort == 445 or 'uma.ito'"),
    );
    let mut expected = matched_rows(&session, kind, "RemoteUrl:'github'");
    expected.extend(matched_rows(&session, kind, "RemotePort == 445"));
    expected.extend(matched_rows(&session, kind, "'uma.ito'"));
    assert!(!expected.is_empty());
    assert_eq!(mixed, expected);

    let nested = matched_rows(
        &session,
        kind,
        &format!("({absent} or 'wks-020' or ('10.20.1.29' or 'val.evans')) and 'chrome.exe'"),
    );
    let mut either: BTreeSet<i64> = BTreeSet::new();
    for term in ["'wks-020'", "'10.20.1.29'", "'val.evans'"] {
        either.extend(matched_rows(&session, kind, term));
    }
    let chrome = matched_rows(&session, kind, "'chrome.exe'");
    let expected: BTreeSet<i64> = either.intersection(&chrome).copied().collect();
    assert!(!expected.is_empty());
    assert_eq!(nested, expected);
}

/// Checks `search in (...)` over two tables, where the string columns are those of both.
/// A row is known by its table, time, device and report id.
#[test]
fn search_in_tables_groups_terms() {
    let session = demo();
    let terms: Vec<String> = ["uma.ito", "powershell.exe", "*.EXAMPLE.NET", "absent(1)+x"]
        .iter()
        .map(|term| (*term).to_owned())
        .chain(absent_terms(40))
        .collect();
    let row_keys = |predicate: &str| -> Vec<String> {
        let query = format!(
            "search in (DeviceNetworkEvents, DeviceProcessEvents) {predicate} \
             | project Key = strcat($table, '|', TimeGenerated, '|', DeviceName, '|', ReportId)"
        );
        strings(&run(&session, &query), "Key")
    };

    let grouped = row_keys(&or_of_terms(&terms));
    let grouped_set: BTreeSet<String> = grouped.iter().cloned().collect();
    assert_eq!(grouped_set.len(), grouped.len(), "row keys are unique");
    let mut expected = BTreeSet::new();
    for term in &terms {
        expected.extend(row_keys(&quote(term)));
    }
    for table in ["DeviceNetworkEvents|", "DeviceProcessEvents|"] {
        assert!(
            expected.iter().any(|key| key.starts_with(table)),
            "{table} has matches"
        );
    }
    assert_eq!(grouped_set, expected);
}
