//! Formatter output for typical hunting queries. Run with `UPDATE_EXPECT=1` to refresh the
//! expectations after an intended layout change.

use expect_test::{Expect, expect};
use quarry_fmt::{FormatOptions, format_document, format_range};

fn check(input: &str, expect: Expect) {
    check_with(input, FormatOptions::default(), expect);
}

fn check_with(input: &str, options: FormatOptions, expect: Expect) {
    let formatted = format_document(input, &options);
    expect.assert_eq(&formatted.text);
    let again = format_document(&formatted.text, &options);
    assert_eq!(again.text, formatted.text, "formatting is not idempotent");
}

#[test]
fn pipeline_one_stage_per_line() {
    check(
        "SecurityEvent|where EventID==4625 and AccountType=~'User'|summarize Failures=count() by Account,bin(TimeGenerated,1h)|where Failures>10",
        expect![[r#"
            SecurityEvent
            | where EventID == 4625 and AccountType =~ 'User'
            | summarize Failures = count() by Account, bin(TimeGenerated, 1h)
            | where Failures > 10
        "#]],
    );
}

#[test]
fn let_statements_each_on_own_line() {
    check(
        "let lookback=14d; let threshold = 5;let Failed=SigninLogs | where TimeGenerated>ago(lookback) | where ResultType!=0; Failed | take threshold",
        expect![[r#"
            let lookback = 14d;
            let threshold = 5;
            let Failed = SigninLogs
                | where TimeGenerated > ago(lookback)
                | where ResultType != 0;
            Failed
            | take threshold
        "#]],
    );
}

#[test]
fn long_summarize_moves_by_to_next_line() {
    check(
        "DeviceProcessEvents | summarize Commands = make_set(ProcessCommandLine), Parents = make_set(InitiatingProcessFileName), Count = count() by DeviceName, AccountName, bin(Timestamp, 1h)",
        expect![[r#"
            DeviceProcessEvents
            | summarize Commands = make_set(ProcessCommandLine), Parents = make_set(InitiatingProcessFileName),
                Count = count()
                by DeviceName, AccountName, bin(Timestamp, 1h)
        "#]],
    );
}

#[test]
fn long_in_list_wraps_inside_parentheses() {
    check_with(
        "SecurityEvent | where EventID in (4624, 4625, 4634, 4647, 4648, 4672, 4720, 4722, 4724, 4728)",
        FormatOptions {
            indent_width: 4,
            line_width: 60,
        },
        expect![[r#"
            SecurityEvent
            | where EventID in (
                4624, 4625, 4634, 4647, 4648, 4672, 4720, 4722, 4724,
                4728
            )
        "#]],
    );
}

#[test]
fn long_and_chain_breaks_before_operators() {
    check_with(
        "DeviceNetworkEvents | where RemotePort == 3389 and ActionType == 'ConnectionSuccess' and not(ipv4_is_private(RemoteIP))",
        FormatOptions {
            indent_width: 4,
            line_width: 80,
        },
        expect![[r#"
            DeviceNetworkEvents
            | where RemotePort == 3389
                and ActionType == 'ConnectionSuccess'
                and not(ipv4_is_private(RemoteIP))
        "#]],
    );
}

#[test]
fn join_subquery_breaks_inside_parentheses() {
    check(
        "SigninLogs | where ResultType == 0 | join kind=inner (AuditLogs | where OperationName == 'Add member to role' | extend UserPrincipalName = tostring(InitiatedBy.user.userPrincipalName)) on UserPrincipalName | project TimeGenerated, UserPrincipalName",
        expect![[r#"
            SigninLogs
            | where ResultType == 0
            | join kind=inner (
                AuditLogs
                | where OperationName == 'Add member to role'
                | extend UserPrincipalName = tostring(InitiatedBy.user.userPrincipalName)
            ) on UserPrincipalName
            | project TimeGenerated, UserPrincipalName
        "#]],
    );
}

#[test]
fn comments_stay_in_place() {
    check(
        "// Failed logons\nSecurityEvent // all events\n// only failures\n| where EventID == 4625   // 4625 is a failed logon\n| project Account,   // who\n  Computer\n// end of query\n",
        expect![[r#"
            // Failed logons
            SecurityEvent // all events
            // only failures
            | where EventID == 4625 // 4625 is a failed logon
            | project Account, // who
                Computer
            // end of query
        "#]],
    );
}

#[test]
fn strings_untouched() {
    check(
        "T | where CommandLine has @'C:\\Windows\\  Temp' or Script == ```\nmulti  line\n\n  text```|extend x=h'secret  value'",
        expect![[r#"
            T
            | where CommandLine has @'C:\Windows\  Temp'
                or Script == ```
            multi  line

              text```
            | extend x = h'secret  value'
        "#]],
    );
}

#[test]
fn blocks_separated_by_one_blank_line() {
    check(
        "\n\nT | take 1\n\n\n\n// second\nU | count\n\n\n",
        expect![[r#"
            T
            | take 1

            // second
            U
            | count
        "#]],
    );
}

#[test]
fn block_with_errors_left_unchanged() {
    let input = "T|take 1\n\nSecurityEvent |  where   EventID ==\n| take   10\n\nU|count\n";
    let formatted = format_document(input, &FormatOptions::default());
    expect![[r#"
        T
        | take 1

        SecurityEvent |  where   EventID ==
        | take   10

        U
        | count
    "#]]
    .assert_eq(&formatted.text);
    assert_eq!(formatted.unformatted_blocks, vec![10..57]);
    assert_eq!(
        &input[10..57],
        "SecurityEvent |  where   EventID ==\n| take   10"
    );
}

#[test]
fn datatable_one_row_per_line() {
    check(
        "let Allowed = datatable(Account:string, Computer:string)['alice', 'WS01', 'bob', 'WS02', 'carol', 'SRV01', 'dave', 'SRV02', 'erin', 'SRV03'];\nAllowed",
        expect![[r#"
            let Allowed = datatable(Account:string, Computer:string) [
                'alice', 'WS01',
                'bob', 'WS02',
                'carol', 'SRV01',
                'dave', 'SRV02',
                'erin', 'SRV03'
            ];
            Allowed
        "#]],
    );
}

#[test]
fn functions_and_dynamic_values() {
    check(
        "let IsAdmin=(name:string){name in~ (dynamic(['admin','root']))};\nlet f = view () { range x from 1 to 3 step 1 };\nT | extend Roles=dynamic({\"a\":1,\"b\":[1,2]}), Neg=-1, Bag=bag_pack('k',-x)|mv-expand Roles|where IsAdmin(User)",
        expect![[r#"
            let IsAdmin = (name:string) { name in~ (dynamic(['admin', 'root'])) };
            let f = view () { range x from 1 to 3 step 1 };
            T
            | extend Roles = dynamic({"a": 1, "b": [1, 2]}), Neg = -1, Bag = bag_pack('k', -x)
            | mv-expand Roles
            | where IsAdmin(User)
        "#]],
    );
}

#[test]
fn operators_keep_their_spelling() {
    check(
        "T|where a!contains_cs'x' and b !in~ ('y') and c matches regex '[0-9]+' and d between(1 .. 10) and e!between(datetime(2024-01-01)..now())|order by a desc nulls last|top 5 by b asc|project-away c*",
        expect![[r#"
            T
            | where a !contains_cs 'x'
                and b !in~ ('y')
                and c matches regex '[0-9]+'
                and d between (1 .. 10)
                and e !between (datetime(2024-01-01) .. now())
            | order by a desc nulls last
            | top 5 by b asc
            | project-away c*
        "#]],
    );
}

#[test]
fn indent_width_option() {
    check_with(
        "let x = T | take 1;\nx",
        FormatOptions {
            indent_width: 2,
            line_width: 100,
        },
        expect![[r#"
            let x = T
              | take 1;
            x
        "#]],
    );
}

#[test]
fn crlf_line_endings_kept() {
    let formatted = format_document("T|take 1\r\n\r\nU|count\r\n", &FormatOptions::default());
    assert_eq!(formatted.text, "T\r\n| take 1\r\n\r\nU\r\n| count\r\n");
}

#[test]
fn range_formats_touched_blocks_only() {
    let text = "A|take 1\n\nB|take 2\n\nC|take 3\n";
    let parse = quarry_syntax::parse(text);

    // From inside the first block to the start of the second.
    let formatted = format_range(text, &parse, 3..10, &FormatOptions::default());

    let edits: Vec<_> = formatted
        .edits
        .iter()
        .map(|edit| (edit.range.clone(), edit.new_text.as_str()))
        .collect();
    assert_eq!(edits, vec![(0..8, "A\n| take 1"), (10..18, "B\n| take 2")]);
    assert!(formatted.unformatted_blocks.is_empty());
}

#[test]
fn range_reports_touched_block_with_errors() {
    let text = "A|take 1\n\nB|take\n";
    let parse = quarry_syntax::parse(text);

    let formatted = format_range(text, &parse, 12..12, &FormatOptions::default());

    assert!(formatted.edits.is_empty(), "{:?}", formatted.edits);
    assert_eq!(formatted.unformatted_blocks, vec![10..16]);
}

#[test]
fn empty_document_stays_empty() {
    let formatted = format_document("\n  \n\n", &FormatOptions::default());
    assert_eq!(formatted.text, "");
    assert!(formatted.unformatted_blocks.is_empty());
}

#[test]
fn search_column_terms_stay_tight() {
    check(
        r#"T|search Col : "x" and "y" or ['A b']:"z*""#,
        expect![[r#"
            T
            | search Col:"x" and "y" or ['A b']:"z*"
        "#]],
    );
}
