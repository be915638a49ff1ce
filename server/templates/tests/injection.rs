//! Injection safety of rendered templates: a value placed in a string literal must stay one
//! literal with exactly the value as its content, whatever characters it contains. KQL output
//! is checked with Quarry's KQL parser; SPL output with an independent literal scanner.

use std::path::Path;

use chrono::{DateTime, Utc};
use quarry_syntax::kinds;
use quarry_templates::{
    ArgValue, Dialect, Escaping, RenderOptions, Template, TemplateFile, render,
};

const KQL_TEMPLATES: &str = r#"
metadata:
  version: 1
  description: Templates that place values in each kind of KQL context
  data_environments: [MSSentinel]
  data_families: [Injection]
sources:
  double_quoted:
    description: Value in a double-quoted literal
    args:
      query: |
        SecurityEvent
        | where Computer has "{value}"
        | take 10
    parameters:
      value: {description: The value, type: str}
  single_quoted:
    description: Value in a single-quoted literal
    args:
      query: |
        SecurityEvent
        | where Computer has '{value}'
        | take 10
    parameters:
      value: {description: The value, type: str}
  verbatim:
    description: Value in a verbatim literal
    args:
      query: |
        SecurityEvent
        | where CommandLine has @"{value}"
        | take 10
    parameters:
      value: {description: The value, type: str}
  list_items:
    description: Values of a list parameter
    args:
      query: |
        SecurityEvent
        | where Computer in ({values})
        | take 10
    parameters:
      values: {description: The values, type: list}
  in_comment:
    description: Value in a line comment
    args:
      query: |
        SecurityEvent
        // hunting note: {value}
        | take 10
    parameters:
      value: {description: The value, type: str}
  number:
    description: Value of an integer parameter
    args:
      query: |
        SecurityEvent
        | take {count}
    parameters:
      count: {description: Row count, type: int}
  code_field:
    description: Query text inserted by design
    args:
      query: |
        {table}
        {add_query_items}
        | take 10
    parameters:
      table: {description: Table name, type: str, default: SecurityEvent}
      add_query_items: {description: Extra clauses, type: str, default: ""}
"#;

const SPL_TEMPLATES: &str = r#"
metadata:
  version: 1
  description: Templates that place values in SPL contexts
  data_environments: [Splunk]
  data_families: [InjectionSplunk]
sources:
  quoted:
    description: Value in a double-quoted SPL literal
    args:
      query: 'search index=main user="{value}" | head 10'
    parameters:
      value: {description: The value, type: str}
  field_value:
    description: Value right after field=
    args:
      query: 'search index={value} | head 10'
    parameters:
      value: {description: The value, type: str}
  list_items:
    description: Values of a list parameter
    args:
      query: 'search index=main | where user in ({values}) | head 10'
    parameters:
      values: {description: The values, type: list}
"#;

/// Values that would end a literal, add a stage or a comment, or confuse a reader about line
/// ends, if inserted as they are.
fn hostile_values() -> Vec<String> {
    vec![
        r#"x" | take 0 //"#.to_string(),
        "x' | take 0 //".to_string(),
        r"back\slash\".to_string(),
        "line1\nline2 | evil".to_string(),
        "\r\n| evil".to_string(),
        r#""|"#.to_string(),
        "// comment".to_string(),
        "fullwidth \u{FF02} quote \u{FF07} and pipe \u{FF5C}".to_string(),
        "separators \u{2028} \u{2029} \u{85} end".to_string(),
        "tab\t nul\u{0} bell\u{7} del\u{7f}".to_string(),
        "emoji 🦀 and combining e\u{301}".to_string(),
        r#"\" | take 0"#.to_string(),
        r"\\' | take 0".to_string(),
        "```fenced``` ~~~".to_string(),
        "\"".repeat(20_000) + &"\\".repeat(20_000) + &"\n|".repeat(20_000),
    ]
}

fn now() -> DateTime<Utc> {
    "2024-03-15T10:20:30Z".parse().unwrap()
}

fn load(text: &str) -> TemplateFile {
    let file = TemplateFile::parse(Path::new("injection.yaml"), text.to_string());
    assert!(
        file.is_valid(),
        "test templates are valid: {:?}",
        file.problems
    );
    file
}

fn template<'a>(file: &'a TemplateFile, name: &str) -> &'a Template {
    file.templates
        .iter()
        .find(|t| t.name == name)
        .expect("test template exists")
}

fn render_safe(
    template: &Template,
    name: &str,
    value: ArgValue,
    dialect: Dialect,
) -> Result<String, String> {
    let options = RenderOptions {
        dialect,
        escaping: Escaping::Safe,
        now: now(),
    };
    render(template, &[(name.to_string(), value)], &options).map_err(|error| error.message)
}

/// Decodes the body of a KQL string literal as Kusto reads it.
fn decode_kql_literal(literal: &str) -> String {
    if let Some(body) = literal
        .strip_prefix("@\"")
        .and_then(|b| b.strip_suffix('"'))
    {
        return body.replace("\"\"", "\"");
    }
    if let Some(body) = literal
        .strip_prefix("@'")
        .and_then(|b| b.strip_suffix('\''))
    {
        return body.replace("''", "'");
    }
    let body = &literal[1..literal.len() - 1];
    let mut out = String::new();
    let mut chars = body.chars();
    while let Some(ch) = chars.next() {
        if ch != '\\' {
            out.push(ch);
            continue;
        }
        match chars.next().expect("escape has a character") {
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            't' => out.push('\t'),
            'u' => {
                let hex: String = chars.by_ref().take(4).collect();
                out.push(char::from_u32(u32::from_str_radix(&hex, 16).unwrap()).unwrap());
            }
            other => out.push(other),
        }
    }
    out
}

/// Returns the string literals of a KQL parse (outermost first) and the text outside them.
fn kql_literals(text: &str) -> (Vec<String>, String) {
    let parse = quarry_syntax::parse(text);
    assert!(
        parse.errors.is_empty(),
        "rendered KQL has syntax errors: {:?}\n{text}",
        parse.errors
    );
    let mut literals = Vec::new();
    let mut ranges = Vec::new();
    let mut stack = vec![parse.root()];
    while let Some(node) = stack.pop() {
        if node.kind() == kinds::STRING_LITERAL {
            literals.push(text[node.byte_range()].to_string());
            ranges.push(node.byte_range());
            continue;
        }
        let mut cursor = node.walk();
        stack.extend(node.children(&mut cursor));
    }
    ranges.sort_by_key(|range| range.start);
    let mut outside = String::new();
    let mut position = 0;
    for range in ranges {
        outside.push_str(&text[position..range.start]);
        outside.push_str("<lit>");
        position = range.end;
    }
    outside.push_str(&text[position..]);
    (literals, outside)
}

#[test]
fn kql_double_quoted_value_stays_one_literal() {
    let file = load(KQL_TEMPLATES);
    for value in hostile_values() {
        let rendered = render_safe(
            template(&file, "double_quoted"),
            "value",
            ArgValue::Text(value.clone()),
            Dialect::Kql,
        )
        .unwrap();
        let (literals, outside) = kql_literals(&rendered);
        assert_eq!(literals.len(), 1, "one literal for {value:?}: {rendered}");
        assert_eq!(decode_kql_literal(&literals[0]), value, "literal content");
        assert_eq!(
            outside.matches('|').count(),
            2,
            "pipeline stages for {value:?}: {outside}"
        );
        assert!(
            !outside.contains("//"),
            "no comment outside literals: {outside}"
        );
    }
}

#[test]
fn kql_single_quoted_value_stays_one_literal() {
    let file = load(KQL_TEMPLATES);
    for value in hostile_values() {
        let rendered = render_safe(
            template(&file, "single_quoted"),
            "value",
            ArgValue::Text(value.clone()),
            Dialect::Kql,
        )
        .unwrap();
        let (literals, outside) = kql_literals(&rendered);
        assert_eq!(literals.len(), 1, "one literal for {value:?}: {rendered}");
        assert_eq!(decode_kql_literal(&literals[0]), value, "literal content");
        assert_eq!(
            outside.matches('|').count(),
            2,
            "pipeline stages for {value:?}: {outside}"
        );
    }
}

#[test]
fn kql_verbatim_value_stays_literal() {
    let file = load(KQL_TEMPLATES);
    for value in hostile_values() {
        let result = render_safe(
            template(&file, "verbatim"),
            "value",
            ArgValue::Text(value.clone()),
            Dialect::Kql,
        );
        let has_break = value.chars().any(|c| {
            (c as u32) < 0x20 || matches!(c, '\u{7f}' | '\u{85}' | '\u{2028}' | '\u{2029}')
        });
        if has_break {
            let message = result.expect_err("a line break cannot be written in a verbatim literal");
            assert!(message.contains("verbatim"), "{message}");
            continue;
        }
        let rendered = result.unwrap();
        let (literals, outside) = kql_literals(&rendered);
        assert_eq!(literals.len(), 1, "one literal for {value:?}: {rendered}");
        assert_eq!(decode_kql_literal(&literals[0]), value, "literal content");
        assert_eq!(
            outside.matches('|').count(),
            2,
            "pipeline stages for {value:?}"
        );
    }
}

#[test]
fn kql_list_items_stay_literals() {
    let file = load(KQL_TEMPLATES);
    let values = hostile_values();
    let items: Vec<ArgValue> = values.iter().cloned().map(ArgValue::Text).collect();
    let rendered = render_safe(
        template(&file, "list_items"),
        "values",
        ArgValue::List(items),
        Dialect::Kql,
    )
    .unwrap();
    let (literals, outside) = kql_literals(&rendered);
    let decoded: Vec<String> = literals
        .iter()
        .map(|literal| decode_kql_literal(literal))
        .collect();
    let mut expected = values.clone();
    expected.sort();
    let mut actual = decoded;
    actual.sort();
    assert_eq!(actual, expected);
    assert_eq!(
        outside.matches('|').count(),
        2,
        "pipeline stages: {outside}"
    );
}

#[test]
fn kql_comment_value_cannot_break_the_line() {
    let file = load(KQL_TEMPLATES);
    for value in hostile_values() {
        let rendered = render_safe(
            template(&file, "in_comment"),
            "value",
            ArgValue::Text(value.clone()),
            Dialect::Kql,
        )
        .unwrap();
        assert_eq!(rendered.lines().count(), 3, "three lines for {value:?}");
        let parse = quarry_syntax::parse(&rendered);
        assert!(parse.errors.is_empty(), "{rendered}");
    }
}

#[test]
fn kql_integer_parameter_rejects_text() {
    let file = load(KQL_TEMPLATES);
    let number = template(&file, "number");
    assert_eq!(
        render_safe(number, "count", ArgValue::Text("25".into()), Dialect::Kql).unwrap(),
        "SecurityEvent\n| take 25\n"
    );
    let error = render_safe(
        number,
        "count",
        ArgValue::Text("1 | take 0".into()),
        Dialect::Kql,
    )
    .unwrap_err();
    assert!(error.contains("not an integer"), "{error}");
}

#[test]
fn kql_code_field_must_close_its_literals() {
    let file = load(KQL_TEMPLATES);
    let code = template(&file, "code_field");
    let rendered = render_safe(
        code,
        "add_query_items",
        ArgValue::Text("| where Account == \"a|b\"".into()),
        Dialect::Kql,
    )
    .unwrap();
    assert_eq!(
        rendered,
        "SecurityEvent\n| where Account == \"a|b\"\n| take 10\n"
    );
    let error = render_safe(
        code,
        "add_query_items",
        ArgValue::Text("| where Account == \"open".into()),
        Dialect::Kql,
    )
    .unwrap_err();
    assert!(
        error.contains("leaves a string literal or comment open"),
        "{error}"
    );
    let error = render_safe(
        code,
        "add_query_items",
        ArgValue::Text("// trailing comment".into()),
        Dialect::Kql,
    )
    .unwrap_err();
    assert!(error.contains("open"), "{error}");
}

#[test]
fn msticpy_mode_inserts_values_unchanged() {
    let file = load(KQL_TEMPLATES);
    let options = RenderOptions {
        dialect: Dialect::Kql,
        escaping: Escaping::Msticpy,
        now: now(),
    };
    let value = r#"x" | take 0 //"#;
    let rendered = render(
        template(&file, "double_quoted"),
        &[("value".into(), ArgValue::Text(value.into()))],
        &options,
    )
    .unwrap();
    assert_eq!(
        rendered,
        "SecurityEvent\n| where Computer has \"x\" | take 0 //\"\n| take 10\n"
    );
}

/// Splits SPL text into double-quoted literals (decoded) and the text outside them.
fn spl_literals(text: &str) -> (Vec<String>, String) {
    let mut literals = Vec::new();
    let mut outside = String::new();
    let mut chars = text.chars();
    while let Some(ch) = chars.next() {
        if ch != '"' {
            outside.push(ch);
            continue;
        }
        let mut literal = String::new();
        loop {
            match chars.next() {
                None => panic!("unterminated SPL literal in {text}"),
                Some('\\') => literal.push(chars.next().expect("escaped character")),
                Some('"') => break,
                Some(other) => literal.push(other),
            }
        }
        literals.push(literal);
        outside.push_str("<lit>");
    }
    (literals, outside)
}

#[test]
fn spl_quoted_value_stays_one_literal() {
    let file = load(SPL_TEMPLATES);
    for value in hostile_values() {
        let rendered = render_safe(
            template(&file, "quoted"),
            "value",
            ArgValue::Text(value.clone()),
            Dialect::Splunk,
        )
        .unwrap();
        let (literals, outside) = spl_literals(&rendered);
        assert_eq!(
            literals,
            vec![value.clone()],
            "literal content for {value:?}"
        );
        assert_eq!(
            outside, "search index=main user=<lit> | head 10",
            "{value:?}"
        );
    }
}

#[test]
fn spl_field_value_is_quoted_unless_plain() {
    let file = load(SPL_TEMPLATES);
    let field = template(&file, "field_value");
    assert_eq!(
        render_safe(
            field,
            "value",
            ArgValue::Text("main*".into()),
            Dialect::Splunk
        )
        .unwrap(),
        "search index=main* | head 10"
    );
    for value in hostile_values() {
        let rendered = render_safe(
            field,
            "value",
            ArgValue::Text(value.clone()),
            Dialect::Splunk,
        )
        .unwrap();
        let (literals, outside) = spl_literals(&rendered);
        if let [single] = literals.as_slice() {
            assert_eq!(outside, "search index=<lit> | head 10", "{value:?}");
            // A value that was already one quoted string is kept as written.
            assert!(
                single == &value || format!("\"{single}\"") == value,
                "{value:?}"
            );
        } else {
            panic!("one literal expected for {value:?}: {rendered}");
        }
    }
}

#[test]
fn spl_list_items_stay_literals() {
    let file = load(SPL_TEMPLATES);
    let values = hostile_values();
    let items: Vec<ArgValue> = values.iter().cloned().map(ArgValue::Text).collect();
    let rendered = render_safe(
        template(&file, "list_items"),
        "values",
        ArgValue::List(items),
        Dialect::Splunk,
    )
    .unwrap();
    let (literals, outside) = spl_literals(&rendered);
    assert_eq!(literals, values);
    assert_eq!(outside.matches('|').count(), 2, "{outside}");
}
