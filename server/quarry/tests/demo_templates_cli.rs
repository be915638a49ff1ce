//! Runs every `DemoHunt` template of `queries/demo` with its defaults on the built-in demo
//! dataset and checks that it returns rows. A change to the demo generator then cannot silently
//! empty a step of the hunt in `docs/demo-hunt.md`.

use std::process::{Command, Output};

fn quarry(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_quarry"))
        .args(args)
        .env_remove("QUARRY_TEMPLATE_PATH")
        .output()
        .expect("quarry runs")
}

/// Returns the `DemoHunt` template names that `quarry templates list` prints.
fn demo_templates() -> Vec<String> {
    let output = quarry(&["templates", "list"]);
    assert!(output.status.success(), "{output:?}");
    let mut names: Vec<String> = String::from_utf8(output.stdout)
        .expect("UTF-8 output")
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| name.starts_with("DemoHunt."))
        .map(str::to_owned)
        .collect();
    names.sort();
    names.dedup();
    names
}

#[test]
fn demo_templates_return_rows() {
    let names = demo_templates();
    assert!(names.len() >= 10, "{names:?}");

    for name in &names {
        let query = format!("{name}()");
        let output = quarry(&["run", &query, "--format", "csv"]);
        assert!(
            output.status.success(),
            "{name} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let csv = String::from_utf8(output.stdout).expect("UTF-8 output");
        let rows = csv.lines().skip(1).filter(|line| !line.is_empty()).count();
        assert!(rows > 0, "{name} returned no rows:\n{csv}");
    }
}
