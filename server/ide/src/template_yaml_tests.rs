use std::path::{Path, PathBuf};

use quarry_analysis::Catalog;

use super::*;

fn fixture(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/sentinel")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

fn analysis() -> Analysis {
    Analysis::new(Catalog::get())
}

const MSTICPY: &str = r#"metadata:
  version: 1
  description: Test templates
  data_environments: [MSSentinel]
  data_families: [Test]
sources:
  by_host:
    description: Events on a host
    args:
      query: |
        SecurityEvent
        | where Computer has "{host_name}"
        | take {count}
    parameters:
      host_name:
        description: Host name
        type: str
      count:
        description: Row count
        type: int
        default: 5
"#;

#[test]
fn kind_is_judged_by_top_level_keys() {
    assert_eq!(yaml_kind(MSTICPY), Some(YamlKind::Msticpy));
    assert_eq!(
        yaml_kind(&fixture("password_spray_hunting.yaml")),
        Some(YamlKind::Sentinel)
    );
    assert_eq!(yaml_kind("SecurityEvent\n| take 10\n"), None);
}

#[test]
fn msticpy_field_hover_and_completion() {
    let path = Path::new("test.yaml");
    let offset = MSTICPY.find("{host_name}").unwrap() + 3;
    let hover = yaml_hover(&analysis(), path, MSTICPY, offset).unwrap();
    assert_eq!(&MSTICPY[hover.range], "{host_name}");
    assert!(
        hover
            .markdown
            .starts_with("**Parameter `host_name`**: `str`, required"),
        "{}",
        hover.markdown
    );

    let mut text = MSTICPY.to_owned();
    let insert = text.find("| take").unwrap();
    text.insert_str(insert, "| where Account == \"{ho\"\n        ");
    let offset = text.find("{ho\"").unwrap() + 3;
    let completions = yaml_completions(&analysis(), path, &text, offset).unwrap();
    let labels: Vec<&str> = completions
        .items
        .iter()
        .map(|item| item.label.as_str())
        .collect();
    assert_eq!(labels, ["host_name", "count"]);
    assert_eq!(&text[completions.replace], "ho");
}

#[test]
fn msticpy_problems_are_diagnostics() {
    let text = MSTICPY.replace("        type: int\n", "        type: integer\n");
    let diagnostics = yaml_diagnostics(&analysis(), Path::new("test.yaml"), &text);
    assert!(!diagnostics.is_empty());
    assert!(
        diagnostics
            .iter()
            .any(|d| &text[d.range.clone()] == "integer"),
        "{diagnostics:?}"
    );
}

#[test]
fn sentinel_query_maps_offsets() {
    let text = fixture("password_spray_hunting.yaml");
    let file = SentinelFile::parse(&text);
    assert!(file.problems.is_empty(), "{:?}", file.problems);
    let query = file.query.unwrap();
    let in_query = query.file.text().find("dcount").unwrap();
    let in_file = query.to_file(in_query);
    assert_eq!(&text[in_file..in_file + 6], "dcount");
    assert_eq!(query.to_query(in_file), Some(in_query));
}

#[test]
fn sentinel_query_errors_land_in_yaml() {
    let text = fixture("broken_rule.yaml");
    let diagnostics = yaml_diagnostics(&analysis(), Path::new("rule.yaml"), &text);
    let syntax = diagnostics
        .iter()
        .find(|d| d.code.starts_with("KQL"))
        .unwrap_or_else(|| panic!("no KQL diagnostic in {diagnostics:?}"));
    let line = text[..syntax.range.start].matches('\n').count();
    assert!((9..=10).contains(&line), "line {line}: {diagnostics:?}");
    assert!(
        diagnostics
            .iter()
            .any(|d| d.code == YAML_PROBLEM && &text[d.range.clone()] == "T1547-001"),
        "{diagnostics:?}"
    );
    let clean = yaml_diagnostics(
        &analysis(),
        Path::new("rule.yaml"),
        &fixture("encoded_powershell_rule.yaml"),
    );
    assert!(
        clean.iter().all(|d| d.severity != Severity::Error),
        "{clean:?}"
    );
}

#[test]
fn sentinel_hover_shows_kql_and_metadata() {
    let text = fixture("encoded_powershell_rule.yaml");
    let offset = text.find("ago(1h)").unwrap() + 1;
    let hover = yaml_hover(&analysis(), Path::new("rule.yaml"), &text, offset).unwrap();
    assert_eq!(&text[hover.range.clone()], "ago");

    let offset = text.find("T1059.001").unwrap() + 1;
    let hover = yaml_hover(&analysis(), Path::new("rule.yaml"), &text, offset).unwrap();
    assert!(
        hover.markdown.starts_with(
            "**MITRE ATT&CK T1059.001**: Command and Scripting Interpreter: PowerShell"
        ),
        "{}",
        hover.markdown
    );
    assert!(
        hover.markdown.contains("(analytics rule)"),
        "{}",
        hover.markdown
    );
    assert!(
        hover
            .markdown
            .contains("Tactics: Execution, DefenseEvasion"),
        "{}",
        hover.markdown
    );
    assert!(
        hover.markdown.contains("Host (HostName = DeviceName)"),
        "{}",
        hover.markdown
    );
    assert!(
        hover
            .markdown
            .contains("MicrosoftThreatProtection (DeviceProcessEvents)"),
        "{}",
        hover.markdown
    );

    let offset = text.find("DefenseEvasion").unwrap() + 1;
    let hover = yaml_hover(&analysis(), Path::new("rule.yaml"), &text, offset).unwrap();
    assert!(
        hover
            .markdown
            .starts_with("**PowerShell started with an encoded command** (analytics rule)"),
        "{}",
        hover.markdown
    );
}

#[test]
fn sentinel_completion_in_query() {
    let text = fixture("encoded_powershell_rule.yaml");
    let offset = text.find("| project").unwrap() + 2;
    let completions = yaml_completions(&analysis(), Path::new("rule.yaml"), &text, offset).unwrap();
    assert!(
        completions
            .items
            .iter()
            .any(|item| item.label == "summarize"),
        "{:?}",
        completions
            .items
            .iter()
            .map(|item| &item.label)
            .collect::<Vec<_>>()
    );
}
