//! Type errors and warnings with their quick fixes, on small queries against the bundled
//! Sentinel schema.

use quarry_analysis::{BundledSchema, Catalog};
use quarry_hir::{Diagnostic, Model, Severity, analyze, codes};

fn model(text: &str) -> Model {
    let parse = quarry_syntax::parse(text);
    analyze(text, &parse, Catalog::get(), BundledSchema::Sentinel.get())
}

/// Returns the diagnostics with `code` as `text of the range: message`.
fn with_code(text: &str, code: &str) -> Vec<String> {
    model(text)
        .diagnostics
        .iter()
        .filter(|diagnostic| diagnostic.code == code)
        .map(|diagnostic| {
            format!(
                "{}: {}",
                &text[diagnostic.range.clone()],
                diagnostic.message
            )
        })
        .collect()
}

fn only(text: &str, code: &str) -> Diagnostic {
    let model = model(text);
    let mut found = model.diagnostics.into_iter().filter(|d| d.code == code);
    let diagnostic = found
        .next()
        .unwrap_or_else(|| panic!("no {code} in {text}"));
    assert!(found.next().is_none(), "more than one {code} in {text}");
    diagnostic
}

/// Applies the edits of the fix at `index` of a diagnostic.
fn apply_fix(text: &str, diagnostic: &Diagnostic, index: usize) -> String {
    let mut edits = diagnostic.fixes[index].edits.clone();
    edits.sort_by_key(|edit| std::cmp::Reverse(edit.range.start));
    let mut result = text.to_owned();
    for edit in edits {
        result.replace_range(edit.range, &edit.new_text);
    }
    result
}

#[test]
fn ordering_number_with_string() {
    let text = "SecurityEvent | where TimeGenerated > ago(1h) | summarize Count = count() by Account | where Count > \"abc\"";
    assert_eq!(
        with_code(text, codes::OPERAND_TYPES),
        ["Count > \"abc\": `>` cannot compare a long with a string"]
    );
    assert_eq!(only(text, codes::OPERAND_TYPES).severity, Severity::Error);
}

#[test]
fn ordering_datetime_with_number() {
    let text = "SigninLogs | where TimeGenerated > 5";
    assert_eq!(
        with_code(text, codes::OPERAND_TYPES),
        ["TimeGenerated > 5: `>` cannot compare a datetime with a long"]
    );
}

#[test]
fn equality_string_number_allowed() {
    let text = "SecurityEvent | where TimeGenerated > ago(1h) | where EventID == \"4624\"";
    assert!(with_code(text, codes::OPERAND_TYPES).is_empty());
}

#[test]
fn string_function_on_datetime() {
    let text = "SigninLogs | where TimeGenerated > ago(1h) | extend n = strlen(TimeGenerated)";
    assert_eq!(
        with_code(text, codes::ARGUMENT_TYPE),
        [
            "TimeGenerated: `strlen` expects a string for `string`, but `TimeGenerated` is a datetime"
        ]
    );
}

#[test]
fn sum_of_string() {
    let text = "SigninLogs | where TimeGenerated > ago(1h) | summarize sum(UserPrincipalName)";
    assert_eq!(
        with_code(text, codes::ARGUMENT_TYPE),
        [
            "UserPrincipalName: `sum` expects a number, datetime or timespan for `expr`, but `UserPrincipalName` is a string"
        ]
    );
}

#[test]
fn overloads_accept_other_types() {
    // `avg` has overloads for numbers, timespans and datetimes; `bin` for numbers and dates.
    let text = "SigninLogs | where TimeGenerated > ago(1h) | summarize avg(TimeGenerated), sum(toint(IsInteractive)) by bin(TimeGenerated, 1h)";
    assert!(with_code(text, codes::ARGUMENT_TYPE).is_empty());
    // Dynamic and unknown arguments are never reported.
    let text = "SigninLogs | where TimeGenerated > ago(1h) | extend n = strlen(DeviceDetail.name)";
    assert!(with_code(text, codes::ARGUMENT_TYPE).is_empty());
}

#[test]
fn contains_term_fix() {
    let text =
        "SecurityEvent | where TimeGenerated > ago(1h) | where CommandLine contains \"mimikatz\"";
    let diagnostic = only(text, codes::CONTAINS_TERM);
    assert_eq!(diagnostic.severity, Severity::Warning);
    assert_eq!(&text[diagnostic.range.clone()], "contains");
    assert_eq!(
        apply_fix(text, &diagnostic, 0),
        "SecurityEvent | where TimeGenerated > ago(1h) | where CommandLine has \"mimikatz\""
    );
}

#[test]
fn contains_negated_and_case_sensitive() {
    let text =
        "SecurityEvent | where TimeGenerated > ago(1h) | where CommandLine !contains_cs 'Invoke'";
    let diagnostic = only(text, codes::CONTAINS_TERM);
    assert!(apply_fix(text, &diagnostic, 0).ends_with("CommandLine !has_cs 'Invoke'"));
}

#[test]
fn contains_non_term_no_warning() {
    for literal in ["\"cmd.exe\"", "\"ab\"", "\"two words\""] {
        let text = format!(
            "SecurityEvent | where TimeGenerated > ago(1h) | where CommandLine contains {literal}"
        );
        assert!(with_code(&text, codes::CONTAINS_TERM).is_empty(), "{text}");
    }
}

#[test]
fn join_without_kind_fixes() {
    let text = "SigninLogs | where TimeGenerated > ago(1h) | join (AuditLogs) on CorrelationId";
    let diagnostic = only(text, codes::JOIN_WITHOUT_KIND);
    assert_eq!(&text[diagnostic.range.clone()], "join");
    assert_eq!(diagnostic.fixes.len(), 2);
    assert_eq!(
        apply_fix(text, &diagnostic, 0),
        "SigninLogs | where TimeGenerated > ago(1h) | join kind=innerunique (AuditLogs) on CorrelationId"
    );
    assert_eq!(
        apply_fix(text, &diagnostic, 1),
        "SigninLogs | where TimeGenerated > ago(1h) | join kind=inner (AuditLogs) on CorrelationId"
    );
    let explicit = "SigninLogs | where TimeGenerated > ago(1h) | join kind=leftouter (AuditLogs) on CorrelationId";
    assert!(with_code(explicit, codes::JOIN_WITHOUT_KIND).is_empty());
}

#[test]
fn large_table_without_time_filter() {
    let text = "SecurityEvent | where EventID == 4688 | take 10";
    let diagnostic = only(text, codes::NO_TIME_FILTER);
    assert_eq!(&text[diagnostic.range.clone()], "SecurityEvent");
    assert_eq!(
        apply_fix(text, &diagnostic, 0),
        "SecurityEvent | where TimeGenerated > ago(1d) | where EventID == 4688 | take 10"
    );
}

#[test]
fn defender_table_uses_timestamp() {
    let text = "DeviceProcessEvents | where FileName == 'cmd.exe'";
    let diagnostic = only(text, codes::NO_TIME_FILTER);
    assert!(apply_fix(text, &diagnostic, 0).contains("| where Timestamp > ago(1d) |"));
}

#[test]
fn time_filters_silence_warning() {
    for text in [
        "SecurityEvent | where TimeGenerated > ago(7d)",
        "let start = ago(1d); SecurityEvent | where TimeGenerated > start",
        "SecurityEvent | where TimeGenerated between (datetime(2024-01-01) .. datetime(2024-01-02))",
        "let t = 1d; SecurityEvent | where TimeGenerated >= startofday(now()) - t",
    ] {
        assert!(with_code(text, codes::NO_TIME_FILTER).is_empty(), "{text}");
    }
    // A small table is not reported.
    assert!(with_code("BehaviorAnalytics | take 1", codes::NO_TIME_FILTER).is_empty());
}

#[test]
fn join_side_gets_warning_without_fix() {
    let text = "SigninLogs | where TimeGenerated > ago(1h) | join kind=inner (SecurityEvent) on $left.UserPrincipalName == $right.Account";
    assert!(with_code(text, codes::NO_TIME_FILTER).is_empty());
    let text = "union SecurityEvent, SigninLogs | take 1";
    let model = model(text);
    let warnings: Vec<&Diagnostic> = model
        .diagnostics
        .iter()
        .filter(|d| d.code == codes::NO_TIME_FILTER)
        .collect();
    assert_eq!(warnings.len(), 2);
    assert!(warnings.iter().all(|warning| warning.fixes.is_empty()));
}

#[test]
fn case_variants_or_fix() {
    let text = "SecurityEvent | where TimeGenerated > ago(1h) | where Account == \"admin\" or Account == \"ADMIN\"";
    let diagnostic = only(text, codes::CASE_VARIANTS);
    assert_eq!(
        diagnostic.message,
        "`Account` is compared with \"admin\" and \"ADMIN\", which differ only in case"
    );
    assert!(apply_fix(text, &diagnostic, 0).ends_with("| where Account =~ \"admin\""));
    let different = "SecurityEvent | where TimeGenerated > ago(1h) | where Account == \"admin\" or Account == \"root\"";
    assert!(with_code(different, codes::CASE_VARIANTS).is_empty());
}

#[test]
fn case_variants_in_list_fix() {
    let text = "SecurityEvent | where TimeGenerated > ago(1h) | where Process !in (\"cmd.exe\", \"CMD.EXE\")";
    let diagnostic = only(text, codes::CASE_VARIANTS);
    assert!(apply_fix(text, &diagnostic, 0).ends_with("Process !in~ (\"cmd.exe\", \"CMD.EXE\")"));
}

#[test]
fn warnings_are_not_errors() {
    let text = "SecurityEvent | join (SigninLogs) on $left.Account == $right.UserPrincipalName";
    let model = model(text);
    assert!(model.errors().next().is_none());
    assert!(model.diagnostics.len() >= 2);
}

#[test]
fn unknown_plugin_and_join_side_suggest() {
    let text = "SigninLogs | where TimeGenerated > ago(1h) | evaluate bag_unpak(DeviceDetail)";
    let plugin = only(text, codes::UNKNOWN_PLUGIN);
    assert_eq!(plugin.help.as_deref(), Some("did you mean `bag_unpack`?"));

    let text = "SigninLogs | where TimeGenerated > ago(1h) | join kind=inner (AuditLogs) on $left.CorrelationId == $right.CorelationId";
    let column = only(text, codes::UNKNOWN_NAME);
    assert_eq!(
        column.help.as_deref(),
        Some("did you mean `CorrelationId`?")
    );
}

#[test]
fn type_name_call_needs_constant() {
    let text = "SecurityEvent | extend d = double(EventID)";
    let diagnostic = only(text, codes::UNKNOWN_FUNCTION);
    assert_eq!(&text[diagnostic.range.clone()], "double(EventID)");
    assert!(
        diagnostic.message.contains("typed literal"),
        "{}",
        diagnostic.message
    );
    assert!(
        diagnostic
            .help
            .as_deref()
            .unwrap_or_default()
            .contains("todouble()"),
        "{:?}",
        diagnostic.help
    );
}

#[test]
fn type_name_call_of_let_function() {
    let text = "let double = (x: long) { x * 2 };\nSecurityEvent | extend d = double(EventID)";
    assert!(with_code(text, codes::UNKNOWN_FUNCTION).is_empty());
}

#[test]
fn typed_literal_constants_clean() {
    let text =
        "print a = long(-1), b = real(+inf), c = int(0x1f), d = bool(true), e = double(null)";
    assert!(
        model(text).diagnostics.is_empty(),
        "{:?}",
        model(text).diagnostics
    );
}

#[test]
fn search_column_term_binds_column() {
    let clean = r#"SecurityEvent | search Account:"admin" and "x""#;
    assert!(with_code(clean, codes::UNKNOWN_NAME).is_empty());
    let misspelled = r#"SecurityEvent | search Acount:"admin""#;
    let names = with_code(misspelled, codes::UNKNOWN_NAME);
    assert_eq!(names.len(), 1, "{names:?}");
    assert!(names[0].starts_with("Acount:"), "{names:?}");
}

#[test]
fn search_keeps_columns_adds_table() {
    let piped = r#"SecurityEvent | search "x" | project $table, Account, Missing"#;
    let names = with_code(piped, codes::UNKNOWN_NAME);
    assert_eq!(names.len(), 1, "{names:?}");
    assert!(names[0].starts_with("Missing:"), "{names:?}");

    let over_tables = r#"search in (SecurityEvent, SigninLogs) "x" | project $table, Account, UserPrincipalName, Missing"#;
    let names = with_code(over_tables, codes::UNKNOWN_NAME);
    assert_eq!(names.len(), 1, "{names:?}");
    assert!(names[0].starts_with("Missing:"), "{names:?}");

    let every_table = r#"search "x" | project $table, Anything"#;
    assert!(with_code(every_table, codes::UNKNOWN_NAME).is_empty());
}
