//! Helpers shared by the agreement tests.

use std::path::PathBuf;

/// Returns the path of a file in the repository's analytics fixtures.
pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/analytics")
        .join(name)
}

/// Reads a JSON fixture.
pub fn read_json(name: &str) -> serde_json::Value {
    let path = fixture(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("failed to read {}: {error}", path.display()));
    serde_json::from_str(&text).expect("fixture is valid JSON")
}

/// Returns `|actual - expected| / |expected|`, or the absolute difference when `expected` is 0.
#[allow(dead_code)]
pub fn relative_error(actual: f64, expected: f64) -> f64 {
    let difference = (actual - expected).abs();
    if expected == 0.0 {
        difference
    } else {
        difference / expected.abs()
    }
}
