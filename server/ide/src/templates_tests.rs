use std::path::Path;

use chrono::{DateTime, Utc};
use quarry_templates::{Library, TemplateFile};

use super::*;

const TEMPLATES: &str = r#"
metadata:
  version: 1
  description: Test templates
  data_environments: [MSSentinel]
  data_families: [WindowsSecurity]
defaults:
  parameters:
    start:
      description: Start time
      type: datetime
      default: -7
    end:
      description: End time
      type: datetime
      default: 0
sources:
  list_host_logons:
    description: Lists logons on a host.
    metadata:
      pivot:
        direct_func_entities: [Host]
    args:
      query: |
        SecurityEvent
        | where TimeGenerated between (datetime({start}) .. datetime({end}))
        | where Computer has "{host_name}"
        | take {count}
    parameters:
      host_name:
        description: Host name
        type: str
        aliases: [hostname]
      count:
        description: Row count
        type: int
        default: 100
  list_processes:
    description: Lists processes whose name is in a list.
    args:
      query: |
        SecurityEvent
        | where NewProcessName in~ ({names})
    parameters:
      names:
        description: Process names
        type: list
"#;

fn catalog() -> TemplateCatalog {
    let file = TemplateFile::parse(Path::new("test.yaml"), TEMPLATES.to_owned());
    assert!(file.problems.is_empty(), "{:?}", file.problems);
    TemplateCatalog::new(&Library { files: vec![file] })
}

fn now() -> DateTime<Utc> {
    "2024-05-20T10:00:00Z".parse().unwrap()
}

fn codes(text: &str) -> Vec<String> {
    let file = SourceFile::parse(text);
    template_diagnostics(&catalog(), &file, now())
        .into_iter()
        .map(|diagnostic| format!("{} {}", diagnostic.code, &text[diagnostic.range]))
        .collect()
}

#[test]
fn call_is_found_with_named_arguments() {
    let text = "WindowsSecurity.list_host_logons(host_name=\"WS1\", start=ago(7d)) | take 10";
    let calls = template_calls(&SourceFile::parse(text));
    assert_eq!(calls.len(), 1);
    let call = &calls[0];
    assert_eq!(call.family, "WindowsSecurity");
    assert_eq!(call.name, "list_host_logons");
    assert_eq!(call.arguments.len(), 2);
    assert_eq!(call.arguments[0].name.as_ref().unwrap().0, "host_name");
    assert!(!call.needs_parentheses);
    assert_eq!(&text[call.range.clone()], &text[..text.find(" |").unwrap()]);
}

#[test]
fn valid_call_has_no_diagnostics() {
    assert!(
        codes(
            "WindowsSecurity.list_host_logons(host_name=\"WS1\", start=ago(7d), end=now(), count=5)"
        )
        .is_empty()
    );
    assert!(codes("WindowsSecurity.list_host_logons(hostname='WS1', start=datetime(2024-05-01), end=\"-1d\")").is_empty());
    assert!(
        codes("WindowsSecurity.list_processes(names=dynamic([\"a.exe\", \"b.exe\"]))").is_empty()
    );
}

#[test]
fn unknown_names_are_errors() {
    assert_eq!(
        codes("Nope.list_host_logons(host_name=\"x\")"),
        ["TPL001 Nope"]
    );
    assert_eq!(codes("WindowsSecurity.nope()"), ["TPL002 nope"]);
    assert_eq!(
        codes("WindowsSecurity.list_host_logons(host_name=\"x\", colour=\"red\")"),
        ["TPL003 colour"]
    );
}

#[test]
fn missing_positional_and_duplicate_are_errors() {
    assert_eq!(
        codes("WindowsSecurity.list_host_logons()"),
        ["TPL004 list_host_logons"]
    );
    assert_eq!(
        codes("WindowsSecurity.list_host_logons(\"WS1\")"),
        ["TPL006 \"WS1\"", "TPL004 list_host_logons"]
    );
    assert_eq!(
        codes("WindowsSecurity.list_host_logons(host_name=\"a\", hostname=\"b\")"),
        ["TPL007 hostname"]
    );
}

#[test]
fn wrong_types_are_errors() {
    assert_eq!(
        codes("WindowsSecurity.list_host_logons(host_name=42)"),
        ["TPL005 42"]
    );
    assert_eq!(
        codes("WindowsSecurity.list_host_logons(host_name=\"a\", count=\"ten\")"),
        ["TPL005 \"ten\""]
    );
    assert_eq!(
        codes("WindowsSecurity.list_host_logons(host_name=\"a\", start=\"yesterday\")"),
        ["TPL005 \"yesterday\""]
    );
    assert_eq!(
        codes("WindowsSecurity.list_host_logons(host_name=Computer)"),
        ["TPL005 Computer"]
    );
}

#[test]
fn expansion_renders_call_in_place() {
    let text = "WindowsSecurity.list_host_logons(host_name=\"WS\\\"1\", start=ago(1d), end=now(), count=5)\n| project Computer";
    let file = SourceFile::parse(text);
    let expanded = expand_range(&catalog(), &file, 0..text.len(), now()).unwrap();
    assert_eq!(
        expanded,
        "SecurityEvent\n| where TimeGenerated between (datetime(2024-05-19T10:00:00+00:00) .. datetime(2024-05-20T10:00:00+00:00))\n| where Computer has \"WS\\\"1\"\n| take 5\n| project Computer"
    );
    assert!(
        quarry_syntax::parse(&expanded).errors.is_empty(),
        "{expanded}"
    );
}

#[test]
fn nested_call_is_parenthesized() {
    let text =
        "SigninLogs | join (WindowsSecurity.list_processes(names=\"a.exe,b.exe\")) on Computer";
    let file = SourceFile::parse(text);
    let calls = template_calls(&file);
    assert!(calls[0].needs_parentheses);
    let expanded = expand_range(&catalog(), &file, 0..text.len(), now()).unwrap();
    assert!(
        expanded.contains("((SecurityEvent\n| where NewProcessName in~ ('a.exe', 'b.exe')\n))"),
        "{expanded}"
    );
}

#[test]
fn expansion_reports_problem_range() {
    let text = "WindowsSecurity.list_host_logons(count=1)";
    let file = SourceFile::parse(text);
    let error = expand_range(&catalog(), &file, 0..text.len(), now()).unwrap_err();
    assert_eq!(&text[error.range], "list_host_logons");
    assert!(error.message.contains("host_name"), "{}", error.message);
}

#[test]
fn hover_describes_template_and_parameter() {
    let text = "WindowsSecurity.list_host_logons(hostname=\"WS1\")";
    let file = SourceFile::parse(text);
    let (range, markdown) = template_hover(&catalog(), &file, 20).unwrap();
    assert_eq!(&text[range], "list_host_logons");
    assert!(markdown.contains("Lists logons on a host."), "{markdown}");
    assert!(
        markdown.contains("`host_name` (aliases: hostname) | str | **required**"),
        "{markdown}"
    );
    assert!(
        markdown.contains("| `count` | int | `100` | Row count |"),
        "{markdown}"
    );
    assert!(markdown.contains("Pivot entities: Host"), "{markdown}");

    let (range, markdown) = template_hover(&catalog(), &file, 36).unwrap();
    assert_eq!(&text[range], "hostname");
    assert!(
        markdown.starts_with("**Parameter `host_name`**: `str`, required"),
        "{markdown}"
    );

    let (_, markdown) = template_hover(&catalog(), &file, 3).unwrap();
    assert!(markdown.contains("`list_processes`"), "{markdown}");
}

#[test]
fn completion_lists_families_templates_and_parameters() {
    let labels = |text: &str, offset: usize| -> Vec<String> {
        let file = SourceFile::parse(text);
        template_completions(&catalog(), &file, offset)
            .map(|(_, items)| items.into_iter().map(|item| item.insert_text).collect())
            .unwrap_or_default()
    };
    assert_eq!(labels("Win", 3), ["WindowsSecurity"]);
    assert_eq!(
        labels("WindowsSecurity.li", 18),
        ["list_host_logons", "list_processes"]
    );
    let text = "WindowsSecurity.list_host_logons(host_name=\"a\", )";
    assert_eq!(labels(text, text.len() - 1), ["start=", "end=", "count="]);
    assert!(labels("SecurityEvent | where x", 23).is_empty());
}

#[test]
fn signature_marks_active_parameter() {
    let text = "WindowsSecurity.list_host_logons(host_name=\"a\", count=3)";
    let file = SourceFile::parse(text);
    let signature = template_signature(&catalog(), &file, text.len() - 2).unwrap();
    assert_eq!(
        signature.label,
        "WindowsSecurity.list_host_logons(host_name: str, start: datetime = -7, end: datetime = 0, count: int = 100)"
    );
    let active = signature.active_parameter.unwrap();
    let (range, _) = &signature.parameters[active];
    assert_eq!(&signature.label[range.clone()], "count: int = 100");
}

#[test]
fn signature_follows_keyword_arguments() {
    let cases = [
        (
            "WindowsSecurity.list_host_logons(count=3, |)",
            "host_name: str",
        ),
        (
            "WindowsSecurity.list_host_logons(host_name=\"a\", |)",
            "start: datetime = -7",
        ),
        (
            "WindowsSecurity.list_host_logons(host_name=\"a\", end=|)",
            "end: datetime = 0",
        ),
        (
            "WindowsSecurity.list_host_logons(host_name=\"a\", count=|)",
            "count: int = 100",
        ),
        (
            "WindowsSecurity.list_host_logons(host_name=\"a\", co|)",
            "count: int = 100",
        ),
        (
            "WindowsSecurity.list_host_logons(host_name=\"a\", en|)",
            "end: datetime = 0",
        ),
    ];
    for (marked, expected) in cases {
        let offset = marked.find('|').unwrap();
        let text = marked.replacen('|', "", 1);
        let file = SourceFile::parse(&text);
        let signature = template_signature(&catalog(), &file, offset).unwrap();
        let active = signature.active_parameter.unwrap();
        let (range, _) = &signature.parameters[active];
        assert_eq!(&signature.label[range.clone()], expected, "{marked}");
    }
}

#[test]
fn call_at_matches_search_of_all_calls() {
    let text = "Outer.first(value=Inner.second(n=1), other='x')\n\
                | where Other.third() > 1 and tolower(Name) == 'a'\n\
                | extend y = Last.fourth(";
    let file = SourceFile::parse(text);
    let calls = template_calls(&file);
    assert_eq!(calls.len(), 4, "{calls:?}");
    for offset in 0..=text.len() {
        let expected = calls
            .iter()
            .filter(|call| call.range.start <= offset && offset <= call.range.end)
            .min_by_key(|call| call.range.len());
        assert_eq!(
            template_call_at(&file, offset).as_ref(),
            expected,
            "offset {offset}"
        );
    }
}
