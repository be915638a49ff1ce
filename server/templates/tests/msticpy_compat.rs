//! Differential test: Quarry's rendering of MSTICPy's template library against MSTICPy's own.
//!
//! `tests/msticpy-compat/msticpy_renderings.json` holds what msticpy 3.0.2 rendered for every
//! template and several sets of parameter values (written by
//! `tests/msticpy-compat/render_msticpy.py`, with the clock fixed). Quarry renders the same
//! templates with the same values in MSTICPy-compatible mode and must produce the same text,
//! and must fail where MSTICPy failed.

use std::collections::HashMap;
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use quarry_templates::{ArgValue, Dialect, Escaping, Library, RenderOptions, Template, render};
use serde_json::Value;

fn repo_path(relative: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(relative)
}

fn arg_from_json(value: &Value) -> ArgValue {
    match value {
        Value::String(text) => ArgValue::Text(text.clone()),
        Value::Number(number) => match number.as_i64() {
            Some(integer) => ArgValue::Int(integer),
            None => ArgValue::Float(number.as_f64().expect("JSON number")),
        },
        Value::Bool(flag) => ArgValue::Bool(*flag),
        Value::Array(items) => ArgValue::List(items.iter().map(arg_from_json).collect()),
        other => panic!("unexpected parameter value in the snapshot: {other}"),
    }
}

#[test]
fn rendering_matches_msticpy_snapshot() {
    let fixtures = repo_path("tests/fixtures/msticpy-queries");
    let snapshot_text =
        std::fs::read_to_string(repo_path("tests/msticpy-compat/msticpy_renderings.json"))
            .expect("snapshot is readable");
    let snapshot: Value = serde_json::from_str(&snapshot_text).expect("snapshot is JSON");
    let now: DateTime<Utc> = snapshot["now"]
        .as_str()
        .unwrap()
        .parse()
        .expect("snapshot time");

    let library = Library::load(std::slice::from_ref(&fixtures)).expect("fixtures load");
    let mut templates: HashMap<(String, String), &Template> = HashMap::new();
    for file in &library.files {
        let relative = file
            .path
            .strip_prefix(&fixtures)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        for template in &file.templates {
            templates.insert((relative.clone(), template.name.clone()), template);
        }
    }

    let renderings = snapshot["renderings"].as_array().expect("renderings list");
    assert!(
        renderings.len() >= 1200,
        "snapshot has {} renderings",
        renderings.len()
    );
    let mut mismatches = Vec::new();
    let mut safe_mismatches = Vec::new();
    let mut compared = 0;
    for entry in renderings {
        let file = entry["file"].as_str().unwrap();
        let name = entry["template"].as_str().unwrap();
        let case = entry["case"].as_str().unwrap();
        let template = templates
            .get(&(file.to_string(), name.to_string()))
            .unwrap_or_else(|| panic!("template {file}:{name} from the snapshot is not loaded"));
        let dialect = match entry["dialect"].as_str().unwrap() {
            "splunk" => Dialect::Splunk,
            _ => Dialect::Kql,
        };
        let args: Vec<(String, ArgValue)> = entry["params"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(key, value)| (key.clone(), arg_from_json(value)))
            .collect();
        let options = RenderOptions {
            dialect,
            escaping: Escaping::Msticpy,
            now,
        };
        let ours = render(template, &args, &options);

        // The generated values of the other cases contain no quotes, backslashes or control
        // characters, so Quarry's safe mode must render them exactly as MSTICPy does too.
        if case != "quotes" {
            let safe = RenderOptions {
                escaping: Escaping::Safe,
                ..options
            };
            let safe_output = render(template, &args, &safe);
            if safe_output.as_ref().ok() != ours.as_ref().ok() {
                safe_mismatches.push(format!(
                    "{file} {name} [{case}]\n  msticpy mode: {ours:?}\n  safe mode:    {safe_output:?}"
                ));
            }
        }
        compared += 1;
        match (entry.get("rendered").and_then(Value::as_str), ours) {
            (Some(expected), Ok(actual)) if expected == actual => {}
            (None, Err(_)) => {}
            (expected, actual) => mismatches.push(format!(
                "{file} {name} [{case}]\n  msticpy: {expected:?}\n  quarry:  {actual:?}"
            )),
        }
    }
    assert_eq!(compared, renderings.len());
    assert!(
        safe_mismatches.is_empty(),
        "{} renderings differ between safe and MSTICPy mode; first ones:\n{}",
        safe_mismatches.len(),
        safe_mismatches
            .iter()
            .take(8)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(
        mismatches.is_empty(),
        "{} of {compared} renderings differ; first ones:\n{}",
        mismatches.len(),
        mismatches
            .iter()
            .take(8)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}
