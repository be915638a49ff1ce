//! Helpers shared by the engine's integration tests: temporary data folders and query runs.

#![allow(
    dead_code,
    reason = "each test binary uses a different subset of the helpers"
)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use quarry_engine::{DataSource, EngineError, FixedClock, QueryOutput, RunOptions, Session};
use serde_json::Value;

/// 2024-03-10T12:00:00Z, the clock of every test run.
pub const NOW: i64 = 1_710_072_000 * 1_000_000_000;

/// A folder under the system temporary directory, removed when dropped.
pub struct TempFolder {
    pub path: PathBuf,
}

impl TempFolder {
    pub fn new() -> TempFolder {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let path =
            std::env::temp_dir().join(format!("quarry-engine-test-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("the temporary directory is writable");
        TempFolder { path }
    }

    pub fn write(&self, name: &str, contents: &str) -> PathBuf {
        let path = self.path.join(name);
        std::fs::write(&path, contents).expect("the temporary directory is writable");
        path
    }
}

impl Drop for TempFolder {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

pub fn session(folder: &Path) -> Session {
    Session::with_clock(
        DataSource::Folder(folder.to_owned()),
        Arc::new(FixedClock(NOW)),
    )
}

/// Runs `query` over CSV tables given as (file name, contents).
pub fn run_csv(tables: &[(&str, &str)], query: &str) -> Result<QueryOutput, EngineError> {
    let folder = TempFolder::new();
    for (name, contents) in tables {
        folder.write(name, contents);
    }
    session(&folder.path).run(
        query,
        &RunOptions {
            max_rows: usize::MAX,
            time_range: None,
        },
    )
}

/// Runs `query` and panics with the engine's message if it fails.
pub fn run_ok(tables: &[(&str, &str)], query: &str) -> QueryOutput {
    run_csv(tables, query)
        .unwrap_or_else(|error| panic!("query failed: {error} at {:?}\n{query}", error.range))
}

pub fn column_names(output: &QueryOutput) -> Vec<&str> {
    output.columns.iter().map(|c| c.name.as_str()).collect()
}

pub fn column_types(output: &QueryOutput) -> Vec<&str> {
    output.columns.iter().map(|c| c.ty.as_str()).collect()
}

/// Returns one column of the output as JSON values.
pub fn column(output: &QueryOutput, name: &str) -> Vec<Value> {
    let index = output
        .columns
        .iter()
        .position(|c| c.name == name)
        .unwrap_or_else(|| panic!("no column {name} in {:?}", column_names(output)));
    output.rows.iter().map(|row| row[index].clone()).collect()
}

/// Returns one string column of the output.
pub fn strings(output: &QueryOutput, name: &str) -> Vec<String> {
    column(output, name)
        .into_iter()
        .map(|v| match v {
            Value::String(s) => s,
            Value::Null => "<null>".to_owned(),
            other => other.to_string(),
        })
        .collect()
}

/// Returns one integer column of the output; nulls become `None`.
pub fn longs(output: &QueryOutput, name: &str) -> Vec<Option<i64>> {
    column(output, name)
        .into_iter()
        .map(|v| v.as_i64())
        .collect()
}
