//! Result conformance: KQL queries run by Quarry, checked against results computed
//! independently by DuckDB (or written by hand) on the same data.
//!
//! Cases live in `tests/conformance/*.kqlt` (the format is described in
//! `tests/conformance/README.md`). Each run:
//! 1. assembles the MSTICPy sample logs into a temporary folder and writes the demo dataset,
//!    generated for the fixed test clock, as Parquet next to them;
//! 2. sends every SQL expectation to `tests/conformance/expect.py`, which runs it in DuckDB over
//!    those files (the CSV files are read by DuckDB's own CSV reader, not by Quarry's loader);
//! 3. runs every KQL query in Quarry and compares the rows.
//!
//! Cases that Quarry cannot pass yet are listed in `tests/conformance/pending.txt`. The test
//! fails when a case outside that list fails, and also when a listed case passes, so that the
//! list stays exact. `QUARRY_CONFORMANCE_WRITE_PENDING=1` rewrites the list from the current
//! results. `QUARRY_CONFORMANCE_FILTER=text` runs only the cases whose name contains `text`.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;

use polars::prelude::{ParquetCompression, ParquetWriter};
use quarry_engine::{DataSource, FixedClock, QueryOutput, RunOptions, Session, demo};
use serde_json::{Value, json};

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn cases_dir() -> PathBuf {
    manifest_dir().join("tests/conformance")
}

/// The folders whose CSV files make up the `msticpy` data set.
fn msticpy_sources() -> Vec<PathBuf> {
    let root = manifest_dir().join("../../tests/fixtures");
    vec![root.join("msticpy"), root.join("conformance/msticpy")]
}

/// How a case's expected result is obtained.
#[derive(Debug, Clone)]
enum Expectation {
    /// SQL run by DuckDB over the same tables.
    Sql(String),
    /// Column names and rows written by hand, as JSON.
    Rows {
        columns: Vec<String>,
        rows: Vec<Vec<Value>>,
    },
    /// The query must fail with a message that contains this text.
    Error(String),
}

#[derive(Debug, Clone)]
struct Case {
    name: String,
    /// `file.kqlt:line` of the case header, for failure messages.
    location: String,
    data: String,
    kql: String,
    expectation: Expectation,
    /// Rows are compared in order; otherwise both sides are sorted first.
    ordered: bool,
    /// Relative tolerance for real numbers.
    tolerance: f64,
    /// Column names are compared too.
    check_names: bool,
    /// Arrays inside cells are compared as sets (for `make_set` and similar).
    sort_arrays: bool,
    /// The expected result may have no rows.
    allow_empty: bool,
}

/// Parses one `.kqlt` file.
fn parse_cases(path: &Path) -> Vec<Case> {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()));
    let file = path.file_name().unwrap().to_string_lossy().into_owned();
    let mut cases = Vec::new();
    let mut data = String::from("demo");
    // The case being read, and the section (`kql`, `sql`, `rows`, `error`) its lines go to.
    let mut current: Option<(Case, String, BTreeMap<String, String>)> = None;

    let finish = |entry: Option<(Case, String, BTreeMap<String, String>)>,
                  cases: &mut Vec<Case>| {
        let Some((mut case, _, sections)) = entry else {
            return;
        };
        case.kql = sections
            .get("kql")
            .cloned()
            .unwrap_or_default()
            .trim()
            .to_owned();
        assert!(
            !case.kql.is_empty(),
            "{}: the case has no KQL",
            case.location
        );
        case.expectation = if let Some(sql) = sections.get("sql") {
            Expectation::Sql(sql.trim().to_owned())
        } else if let Some(rows) = sections.get("rows") {
            let mut lines = rows.lines().map(str::trim).filter(|l| !l.is_empty());
            let header = lines.next().unwrap_or("[]");
            let columns: Vec<String> = serde_json::from_str(header).unwrap_or_else(|error| {
                panic!(
                    "{}: the first `rows` line must be a JSON array of column names: {error}",
                    case.location
                )
            });
            let rows = lines
                .map(|line| {
                    serde_json::from_str(line).unwrap_or_else(|error| {
                        panic!("{}: invalid JSON row `{line}`: {error}", case.location)
                    })
                })
                .collect();
            Expectation::Rows { columns, rows }
        } else if let Some(error) = sections.get("error") {
            Expectation::Error(error.trim().to_owned())
        } else {
            panic!(
                "{}: the case needs a `--- sql`, `--- rows` or `--- error` section",
                case.location
            )
        };
        cases.push(case);
    };

    for (index, line) in text.lines().enumerate() {
        let location = format!("{file}:{}", index + 1);
        if let Some(header) = line.strip_prefix("=== ") {
            finish(current.take(), &mut cases);
            let mut words = header.split_whitespace();
            let name = words
                .next()
                .unwrap_or_else(|| panic!("{location}: the case header needs a name"))
                .to_owned();
            let mut case = Case {
                name,
                location,
                data: data.clone(),
                kql: String::new(),
                expectation: Expectation::Error(String::new()),
                ordered: false,
                tolerance: 1e-9,
                check_names: true,
                sort_arrays: false,
                allow_empty: false,
            };
            for word in words {
                match word {
                    "ordered" => case.ordered = true,
                    "nonames" => case.check_names = false,
                    "sets" => case.sort_arrays = true,
                    "empty" => case.allow_empty = true,
                    _ => match word.strip_prefix("tol=").map(str::parse::<f64>) {
                        Some(Ok(tolerance)) => case.tolerance = tolerance,
                        _ => panic!("{}: unknown case option `{word}`", case.location),
                    },
                }
            }
            current = Some((case, "kql".to_owned(), BTreeMap::new()));
        } else if let Some(section) = line.strip_prefix("--- ") {
            let Some((_, current_section, _)) = current.as_mut() else {
                panic!("{location}: a section outside a case");
            };
            let section = section.trim();
            assert!(
                ["sql", "rows", "error"].contains(&section),
                "{location}: unknown section `{section}`"
            );
            *current_section = section.to_owned();
        } else if let Some(name) = line.strip_prefix("@data ") {
            finish(current.take(), &mut cases);
            data = name.trim().to_owned();
        } else if let Some((_, section, sections)) = current.as_mut() {
            if section == "kql" && line.starts_with('#') {
                continue;
            }
            let text = sections.entry(section.clone()).or_default();
            text.push_str(line);
            text.push('\n');
        } else if !(line.trim().is_empty() || line.starts_with('#')) {
            panic!("{location}: text outside a case: `{line}`");
        }
    }
    finish(current.take(), &mut cases);
    cases
}

fn load_cases() -> Vec<Case> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(cases_dir())
        .expect("the conformance folder exists")
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "kqlt"))
        .collect();
    files.sort();
    let cases: Vec<Case> = files.iter().flat_map(|path| parse_cases(path)).collect();
    let mut seen = BTreeSet::new();
    for case in &cases {
        assert!(
            seen.insert(case.name.clone()),
            "{}: the case name `{}` is used twice",
            case.location,
            case.name
        );
    }
    cases
}

/// Writes the data sets to `root/msticpy` and `root/demo` and returns their folders.
fn prepare_data(root: &Path) -> BTreeMap<String, PathBuf> {
    let msticpy = root.join("msticpy");
    std::fs::create_dir_all(&msticpy).unwrap();
    for source in msticpy_sources() {
        for entry in std::fs::read_dir(&source).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "csv") {
                std::fs::copy(&path, msticpy.join(path.file_name().unwrap())).unwrap();
            }
        }
    }

    let demo_folder = root.join("demo");
    std::fs::create_dir_all(&demo_folder).unwrap();
    for (name, frame) in demo::dataset_for(common::NOW).iter() {
        let path = demo_folder.join(format!("{name}.parquet"));
        let file = std::fs::File::create(&path).unwrap();
        ParquetWriter::new(file)
            .with_compression(ParquetCompression::Uncompressed)
            .finish(&mut frame.clone())
            .unwrap_or_else(|error| panic!("cannot write {}: {error}", path.display()));
    }
    BTreeMap::from([
        ("msticpy".to_owned(), msticpy),
        ("demo".to_owned(), demo_folder),
    ])
}

/// Runs every SQL expectation in DuckDB and returns the results by case name.
fn run_duckdb(cases: &[Case], folders: &BTreeMap<String, PathBuf>) -> BTreeMap<String, Value> {
    let requests: Vec<Value> = cases
        .iter()
        .filter_map(|case| match &case.expectation {
            Expectation::Sql(sql) => {
                Some(json!({"name": case.name, "data": case.data, "sql": sql}))
            }
            _ => None,
        })
        .collect();
    let input = json!({"folders": folders, "cases": requests}).to_string();
    let mut child = Command::new("python3")
        .arg(cases_dir().join("expect.py"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|error| {
            panic!("cannot run python3 ({error}); install Python 3 and `pip install duckdb`")
        });
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    if stderr.contains("No module named 'duckdb'") {
        panic!("DuckDB is missing: run `python3 -m pip install duckdb` and rerun the tests");
    }
    assert!(
        output.status.success(),
        "tests/conformance/expect.py failed:\n{stderr}"
    );
    serde_json::from_slice(&output.stdout).expect("expect.py prints a JSON object")
}

/// Returns the cell with arrays sorted when the case compares them as sets.
fn normalize_cell(value: &Value, sort_arrays: bool) -> Value {
    match value {
        Value::Array(items) => {
            let mut items: Vec<Value> = items
                .iter()
                .map(|v| normalize_cell(v, sort_arrays))
                .collect();
            if sort_arrays {
                items.sort_by_key(sort_key);
            }
            Value::Array(items)
        }
        other => other.clone(),
    }
}

fn sort_key(value: &Value) -> String {
    match value {
        // Rounding keeps rows whose reals differ in the last bits in the same sort position.
        Value::Number(n) if n.is_f64() => format!("{:.6e}", n.as_f64().unwrap()),
        Value::Number(n) => format!("{:.6e}", n.as_f64().unwrap()),
        Value::Array(items) => {
            let keys: Vec<String> = items.iter().map(sort_key).collect();
            format!("[{}]", keys.join(","))
        }
        other => other.to_string(),
    }
}

fn row_key(row: &[Value]) -> String {
    let keys: Vec<String> = row.iter().map(sort_key).collect();
    keys.join("|")
}

fn cells_equal(actual: &Value, expected: &Value, tolerance: f64) -> bool {
    match (actual, expected) {
        (Value::Number(a), Value::Number(b)) => {
            if let (Some(a), Some(b)) = (a.as_i64(), b.as_i64()) {
                return a == b;
            }
            let (a, b) = (a.as_f64().unwrap(), b.as_f64().unwrap());
            (a - b).abs() <= tolerance * a.abs().max(b.abs()).max(1.0)
        }
        (Value::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| cells_equal(x, y, tolerance))
        }
        _ => actual == expected,
    }
}

/// Compares a result with the expected columns and rows; returns what differs.
fn compare(
    case: &Case,
    actual: &QueryOutput,
    columns: &[String],
    rows: &[Vec<Value>],
) -> Result<(), String> {
    let actual_names: Vec<String> = actual.columns.iter().map(|c| c.name.clone()).collect();
    if case.check_names && actual_names != columns {
        return Err(format!("columns {actual_names:?}, expected {columns:?}"));
    }
    if actual_names.len() != columns.len() {
        return Err(format!(
            "{} columns, expected {}",
            actual_names.len(),
            columns.len()
        ));
    }
    if actual.rows.len() != rows.len() {
        return Err(format!(
            "{} rows, expected {}; first rows: {:?} expected {:?}",
            actual.rows.len(),
            rows.len(),
            actual.rows.iter().take(3).collect::<Vec<_>>(),
            rows.iter().take(3).collect::<Vec<_>>()
        ));
    }
    let prepare = |rows: &[Vec<Value>]| -> Vec<Vec<Value>> {
        let mut rows: Vec<Vec<Value>> = rows
            .iter()
            .map(|row| {
                row.iter()
                    .map(|v| normalize_cell(v, case.sort_arrays))
                    .collect()
            })
            .collect();
        if !case.ordered {
            rows.sort_by_cached_key(|row| row_key(row));
        }
        rows
    };
    let actual_rows = prepare(&actual.rows);
    let expected_rows = prepare(rows);
    for (index, (got, want)) in actual_rows.iter().zip(&expected_rows).enumerate() {
        let same = got.len() == want.len()
            && got
                .iter()
                .zip(want)
                .all(|(a, b)| cells_equal(a, b, case.tolerance));
        if !same {
            return Err(format!("row {index}: {got:?}, expected {want:?}"));
        }
    }
    Ok(())
}

/// The start of a failure that is a bug in the case itself, which no pending entry may excuse.
const BROKEN_EXPECTATION: &str = "broken expectation";

/// Runs one case and returns why it did not pass as the error.
fn check_case(case: &Case, session: &Session, expected: Option<&Value>) -> Result<(), String> {
    let options = RunOptions {
        max_rows: usize::MAX,
        time_range: None,
    };
    let result = session.run(&case.kql, &options);
    match &case.expectation {
        Expectation::Error(text) => match result {
            Ok(_) => Err(format!("the query ran, but it should fail with `{text}`")),
            Err(error) if error.message.contains(text.as_str()) => Ok(()),
            Err(error) => Err(format!(
                "error `{}`, expected one containing `{text}`",
                error.message
            )),
        },
        Expectation::Rows { columns, rows } => {
            let output = result.map_err(|error| format!("engine error: {}", error.message))?;
            compare(case, &output, columns, rows)
        }
        Expectation::Sql(_) => {
            let expected = expected.ok_or("DuckDB returned nothing for this case")?;
            if let Some(error) = expected.get("error") {
                return Err(format!(
                    "{BROKEN_EXPECTATION}: the SQL failed in DuckDB: {error}"
                ));
            }
            let columns: Vec<String> = serde_json::from_value(expected["columns"].clone()).unwrap();
            let rows: Vec<Vec<Value>> = serde_json::from_value(expected["rows"].clone()).unwrap();
            if rows.is_empty() && !case.allow_empty {
                return Err(format!(
                    "{BROKEN_EXPECTATION}: DuckDB returned no rows, so the case would prove little; \
                     change the query or mark the case `empty`"
                ));
            }
            let output = result.map_err(|error| format!("engine error: {}", error.message))?;
            compare(case, &output, &columns, &rows)
        }
    }
}

/// Reads `pending.txt`: one case name a line, then optionally `#` and the reason.
fn read_pending() -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(cases_dir().join("pending.txt")).unwrap_or_default();
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(|line| match line.split_once('#') {
            Some((name, reason)) => (name.trim().to_owned(), reason.trim().to_owned()),
            None => (line.to_owned(), String::new()),
        })
        .collect()
}

fn write_pending(failures: &BTreeMap<String, String>) {
    let mut text = String::from(
        "# Conformance cases that Quarry does not pass yet, with the first line of the reason.\n\
         # Regenerate with QUARRY_CONFORMANCE_WRITE_PENDING=1 cargo test -p quarry-engine --test conformance\n",
    );
    for (name, reason) in failures {
        let reason: String = reason
            .lines()
            .next()
            .unwrap_or("")
            .chars()
            .take(110)
            .collect();
        let _ = writeln!(text, "{name}  # {reason}");
    }
    std::fs::write(cases_dir().join("pending.txt"), text).unwrap();
}

#[test]
fn conformance_suite() {
    let mut cases = load_cases();
    if let Ok(filter) = std::env::var("QUARRY_CONFORMANCE_FILTER") {
        cases.retain(|case| case.name.contains(&filter));
    }
    let root = common::TempFolder::new();
    let folders = prepare_data(&root.path);
    let expected = run_duckdb(&cases, &folders);

    let clock = Arc::new(FixedClock(common::NOW));
    let sessions: BTreeMap<&str, Session> = BTreeMap::from([
        ("demo", Session::with_clock(DataSource::Demo, clock.clone())),
        (
            "msticpy",
            Session::with_clock(DataSource::Folder(folders["msticpy"].clone()), clock),
        ),
    ]);

    let mut failures = BTreeMap::new();
    for case in &cases {
        let session = sessions
            .get(case.data.as_str())
            .unwrap_or_else(|| panic!("{}: unknown data set `{}`", case.location, case.data));
        if let Err(reason) = check_case(case, session, expected.get(&case.name)) {
            failures.insert(case.name.clone(), reason);
        }
    }

    if std::env::var("QUARRY_CONFORMANCE_WRITE_PENDING").is_ok_and(|v| v == "1") {
        let engine_failures: BTreeMap<String, String> = failures
            .iter()
            .filter(|(_, reason)| !reason.starts_with(BROKEN_EXPECTATION))
            .map(|(name, reason)| (name.clone(), reason.clone()))
            .collect();
        write_pending(&engine_failures);
    }
    let pending = read_pending();
    let names: BTreeSet<&str> = cases.iter().map(|c| c.name.as_str()).collect();
    let filtered = std::env::var("QUARRY_CONFORMANCE_FILTER").is_ok();

    let mut problems = Vec::new();
    for case in &cases {
        if let Some(reason) = failures.get(&case.name)
            && reason.starts_with(BROKEN_EXPECTATION)
        {
            problems.push(format!("{} {}: {reason}", case.location, case.name));
            continue;
        }
        match (failures.get(&case.name), pending.contains_key(&case.name)) {
            (Some(reason), false) => problems.push(format!(
                "{} {}: {reason}\n    KQL: {}",
                case.location,
                case.name,
                case.kql.replace('\n', " ")
            )),
            (None, true) => problems.push(format!(
                "{} {}: passes now; remove it from tests/conformance/pending.txt",
                case.location, case.name
            )),
            _ => {}
        }
    }
    if !filtered {
        for name in pending.keys() {
            if !names.contains(name.as_str()) {
                problems.push(format!("pending.txt names `{name}`, which is no case"));
            }
        }
    }

    let passing = cases.len() - failures.len();
    let mut summary = format!(
        "conformance: {} cases, {passing} passing, {} pending",
        cases.len(),
        failures.len()
    );
    let mut by_file: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for case in &cases {
        let file = case.location.split(':').next().unwrap();
        let entry = by_file.entry(file).or_default();
        entry.0 += 1;
        if !failures.contains_key(&case.name) {
            entry.1 += 1;
        }
    }
    for (file, (total, passed)) in by_file {
        let _ = write!(summary, "\n  {file}: {passed}/{total} passing");
    }
    eprintln!("{summary}");
    assert!(
        problems.is_empty(),
        "{} conformance problems:\n{}\n{summary}",
        problems.len(),
        problems.join("\n")
    );
}
