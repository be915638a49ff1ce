//! Checks that the demo dataset's schema, which `quarry-analysis` bundles for completion and
//! diagnostics, matches the tables the generator builds. Run with `UPDATE_EXPECT=1` to rewrite
//! the JSON file after changing the generator.

use quarry_engine::demo;
use quarry_engine::eval::types::KqlType;

const SCHEMA_PATH: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../analysis/data/schema/demo-tables.json"
);

/// Renders the generated tables in the Quarry schema shape, columns in frame order.
fn generated_schema_json() -> String {
    // 2024-03-10T00:00:00Z; the schema does not depend on the day.
    let dataset = demo::generate(1_710_028_800 * 1_000_000_000);
    let mut out = String::from("{\n \"tables\": {\n");
    for (i, (table, frame)) in dataset.iter().enumerate() {
        out.push_str(&format!(
            "  {}: {{\n",
            serde_json::to_string(table).unwrap()
        ));
        let schema = frame.schema();
        for (j, (name, dtype)) in schema.iter().enumerate() {
            let separator = if j + 1 < schema.len() { "," } else { "" };
            out.push_str(&format!(
                "   {}: \"{}\"{separator}\n",
                serde_json::to_string(name.as_str()).unwrap(),
                KqlType::from_polars(dtype).name()
            ));
        }
        let separator = if i + 1 < dataset.len() { "," } else { "" };
        out.push_str(&format!("  }}{separator}\n"));
    }
    out.push_str(" }\n}\n");
    out
}

#[test]
fn demo_schema_file_matches_generator() {
    let expected = generated_schema_json();
    if std::env::var_os("UPDATE_EXPECT").is_some() {
        std::fs::write(SCHEMA_PATH, &expected).expect("the schema file is writable");
    }
    let actual = std::fs::read_to_string(SCHEMA_PATH).expect("the demo schema file exists");
    assert_eq!(
        actual, expected,
        "demo-tables.json is out of date; rerun this test with UPDATE_EXPECT=1"
    );
}
