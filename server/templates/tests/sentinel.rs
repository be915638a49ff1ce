//! Sentinel hunting queries and analytics rules read as templates without parameters.

use std::path::{Path, PathBuf};

use quarry_templates::library::template_dialect;
use quarry_templates::{Dialect, Library, RenderOptions, Severity, TemplateFile, render};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/sentinel")
}

#[test]
fn sentinel_files_load_as_templates() {
    let library = Library::load(&[fixtures()]).unwrap();
    let names: Vec<String> = library
        .entries()
        .iter()
        .map(|entry| entry.qualified_name())
        .collect();
    assert_eq!(
        names,
        [
            "SentinelAnalytics.encoded_powershell_rule",
            "SentinelHunting.broken_rule",
            "SentinelHunting.password_spray_hunting",
        ]
    );
    let spray = library
        .find("SentinelHunting.password_spray_hunting")
        .unwrap()
        .template;
    assert!(
        spray.description.starts_with("Finds addresses that failed"),
        "{}",
        spray.description
    );
    assert_eq!(spray.environments, ["MSSentinel"]);
    assert!(spray.parameters.is_empty());
    assert_eq!(template_dialect(spray), Dialect::Kql);
}

#[test]
fn sentinel_entities_become_pivot_entities() {
    let text = std::fs::read_to_string(fixtures().join("encoded_powershell_rule.yaml")).unwrap();
    let file = TemplateFile::parse(Path::new("encoded_powershell_rule.yaml"), text);
    let template = &file.templates[0];
    let entities: Vec<&str> = template
        .metadata
        .get("pivot")
        .and_then(|pivot| pivot.get("direct_func_entities"))
        .and_then(|entities| entities.as_seq())
        .unwrap()
        .iter()
        .filter_map(|entity| entity.as_str())
        .collect();
    assert_eq!(entities, ["Host", "Account"]);
}

#[test]
fn sentinel_problems_are_warnings() {
    let text = std::fs::read_to_string(fixtures().join("broken_rule.yaml")).unwrap();
    let file = TemplateFile::parse(Path::new("broken_rule.yaml"), text.clone());
    assert!(file.is_valid());
    let problem = file
        .problems
        .iter()
        .find(|problem| problem.message.contains("technique id"))
        .unwrap_or_else(|| panic!("{:?}", file.problems));
    assert_eq!(problem.severity, Severity::Warning);
    assert_eq!(&text[problem.range.clone()], "T1547-001");

    let missing = TemplateFile::parse(
        Path::new("no_query_text.yaml"),
        "id: x\nname: Broken\nquery: [1, 2]\n".to_owned(),
    );
    assert!(!missing.is_valid(), "{:?}", missing.problems);
}

#[test]
fn sentinel_query_renders_as_written() {
    let query = "let fields = dynamic({\"a\": [1, 2]});\nSecurityEvent\n| extend Extra = fields\n| where Computer has \"{not a field}\"\n";
    let yaml = format!(
        "id: 1\nname: Braces\ndescription: A query with braces\nquery: |\n{}",
        query
            .lines()
            .map(|line| format!("  {line}\n"))
            .collect::<String>()
    );
    let file = TemplateFile::parse(Path::new("Braces Query.yaml"), yaml);
    assert!(file.problems.is_empty(), "{:?}", file.problems);
    let template = &file.templates[0];
    assert_eq!(template.name, "braces_query");
    let rendered = render(template, &[], &RenderOptions::new(Dialect::Kql)).unwrap();
    assert_eq!(rendered, query);
}
