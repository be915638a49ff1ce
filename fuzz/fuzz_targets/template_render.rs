//! Renders fixed KQL templates with an arbitrary parameter value in safe mode and checks that
//! the value does not change the query's syntax tree: a value placed in a string literal or a comment
//! must stay there. Also feeds the value to the format-string and time parsers.

#![no_main]

use std::path::Path;
use std::sync::LazyLock;

use chrono::{TimeZone, Utc};
use libfuzzer_sys::fuzz_target;
use quarry_templates::{
    ArgValue, Dialect, Escaping, ParamType, RenderOptions, Template, TemplateFile, render,
};

/// One query per KQL context a `{value}` field can sit in: double- and single-quoted strings,
/// a verbatim string, a list formatted into `in (...)` and a line comment.
const TEMPLATE: &str = r#"metadata:
  version: 1
  description: Fuzzing template
  data_environments: [LogAnalytics]
  data_families: [Fuzz]
defaults:
  parameters:
    value:
      description: The fuzzed value
      type: str
sources:
  double_quoted:
    description: A value in a double-quoted string
    args:
      query: 'SecurityEvent | where Computer == "{value}" | take 10'
  single_quoted:
    description: A value in a single-quoted string
    args:
      query: 'SecurityEvent | where Account has ''{value}'' | take 10'
  verbatim:
    description: A value in a verbatim string
    args:
      query: 'SecurityEvent | where CommandLine has @"{value}" | take 10'
  list:
    description: Values formatted as a list
    args:
      query: 'SecurityEvent | where Process in ({value}) | take 10'
    parameters:
      value:
        description: The fuzzed values
        type: list
  comment:
    description: A value in a line comment
    args:
      query: "SecurityEvent\n// {value}\n| take 10"
"#;

static TEMPLATES: LazyLock<Vec<Template>> = LazyLock::new(|| {
    let file = TemplateFile::parse(Path::new("contexts.yaml"), TEMPLATE.to_owned());
    assert!(
        file.is_valid(),
        "the fuzzing template is invalid: {:?}",
        file.problems
    );
    assert_eq!(
        file.templates.len(),
        5,
        "the fuzzing template has five queries"
    );
    file.templates
});

fuzz_target!(|data: &[u8]| {
    let value = String::from_utf8_lossy(data).into_owned();
    let _ = quarry_templates::pyformat::parse(&value);
    let now = Utc.with_ymd_and_hms(2024, 5, 1, 12, 0, 0).unwrap();
    let _ = quarry_templates::time::parse_time(&value, now);

    let options = RenderOptions {
        dialect: Dialect::Kql,
        escaping: Escaping::Safe,
        now,
    };
    for template in TEMPLATES.iter() {
        let is_list = template.parameters[0].param_type == Some(ParamType::List);
        let (fuzzed, plain) = if is_list {
            let items: Vec<&str> = value.split(',').collect();
            (list(&items), list(&vec!["x"; items.len()]))
        } else {
            (
                ArgValue::Text(value.clone()),
                ArgValue::Text("x".to_owned()),
            )
        };

        let benign = render(template, &[("value".to_owned(), plain)], &options)
            .expect("plain values always render");
        // A value that its context cannot hold is rejected with an error; that is fine.
        let Ok(rendered) = render(template, &[("value".to_owned(), fuzzed)], &options) else {
            continue;
        };

        let expected = quarry_syntax::parse(&benign);
        let actual = quarry_syntax::parse(&rendered);
        assert_eq!(
            actual.root().to_sexp(),
            expected.root().to_sexp(),
            "the value changed the structure of `{}`\nvalue: {value:?}\nquery: {rendered}",
            template.name
        );
        assert_eq!(
            actual.errors.len(),
            expected.errors.len(),
            "the value changed the syntax errors of `{}`\nvalue: {value:?}\nquery: {rendered}",
            template.name
        );
    }
});

fn list(items: &[&str]) -> ArgValue {
    ArgValue::List(
        items
            .iter()
            .map(|item| ArgValue::Text((*item).to_owned()))
            .collect(),
    )
}
