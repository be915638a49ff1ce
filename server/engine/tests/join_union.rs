//! `join`, `union`, `has_any`, `has_all` and `in~` on small tables with hand-computed results.

mod common;

use common::*;
use serde_json::{Value, json};

const HOSTS: &str = "\
Account,Host
alice,WKS-1
alice,WKS-2
bob,WKS-3
";

const LOGONS: &str = "\
Account,Result
alice,ok
alice,fail
carol,ok
";

const USERS: &str = "\
User,Department
alice,Finance
bob,IT
";

fn run(query: &str) -> quarry_engine::QueryOutput {
    run_ok(
        &[
            ("Hosts.csv", HOSTS),
            ("Logons.csv", LOGONS),
            ("Users.csv", USERS),
        ],
        query,
    )
}

fn rows(output: &quarry_engine::QueryOutput) -> Vec<Vec<Value>> {
    output.rows.clone()
}

#[test]
fn join_innerunique_dedups_left_side() {
    // Kusto's default dedups the left side on the key first: alice keeps only WKS-1, so two
    // rows come back instead of the four that an inner join returns.
    let output = run("Hosts | join (Logons) on Account | order by Result asc");
    assert_eq!(
        column_names(&output),
        ["Account", "Host", "Account1", "Result"]
    );
    assert_eq!(
        rows(&output),
        [
            vec![
                json!("alice"),
                json!("WKS-1"),
                json!("alice"),
                json!("fail")
            ],
            vec![json!("alice"), json!("WKS-1"), json!("alice"), json!("ok")],
        ]
    );
}

#[test]
fn join_inner_keeps_every_pair() {
    let output = run(
        "Hosts | join kind=inner Logons on Account | order by Host asc, Result asc | project Host, Result",
    );
    assert_eq!(
        rows(&output),
        [
            vec![json!("WKS-1"), json!("fail")],
            vec![json!("WKS-1"), json!("ok")],
            vec![json!("WKS-2"), json!("fail")],
            vec![json!("WKS-2"), json!("ok")],
        ]
    );
}

#[test]
fn join_leftouter_keeps_unmatched_rows() {
    let output = run(
        "Hosts | join kind=leftouter Logons on Account | order by Host asc, Result asc nulls first",
    );
    assert_eq!(output.row_count, 5);
    // Kusto strings are never null, so the unmatched right columns are empty strings.
    assert_eq!(
        output.rows[4],
        vec![json!("bob"), json!("WKS-3"), json!(""), json!("")]
    );
}

#[test]
fn join_on_left_right_columns() {
    let output = run(
        "Hosts | join kind=inner (Users | where Department != \"HR\") on $left.Account == $right.User \
         | order by Host asc",
    );
    assert_eq!(
        column_names(&output),
        ["Account", "Host", "User", "Department"]
    );
    assert_eq!(strings(&output, "Department"), ["Finance", "Finance", "IT"]);

    let swapped = run("Hosts | join kind=inner Users on $right.User == $left.Account | count");
    assert_eq!(column(&swapped, "Count"), [json!(3)]);
}

#[test]
fn join_unknown_kind_is_named() {
    let query = "Hosts | join kind=sideways Logons on Account";
    let error = run_csv(&[("Hosts.csv", HOSTS), ("Logons.csv", LOGONS)], query)
        .expect_err("sideways is not a join kind");
    assert!(error.message.contains("kind=sideways"), "{}", error.message);
    assert_eq!(
        error.range,
        Some(query.find("sideways").unwrap()..query.find(" Logons").unwrap())
    );
}

#[test]
fn union_outer_with_source() {
    let output = run("Hosts | union withsource=SourceTable Users, (Logons | take 1)");
    assert_eq!(
        column_names(&output),
        [
            "SourceTable",
            "Account",
            "Host",
            "User",
            "Department",
            "Result"
        ]
    );
    assert_eq!(
        strings(&output, "SourceTable"),
        ["Hosts", "Hosts", "Hosts", "Users", "Users", "union_arg2"]
    );
    assert_eq!(
        output.rows[3],
        vec![
            json!("Users"),
            Value::Null,
            Value::Null,
            json!("alice"),
            json!("Finance"),
            Value::Null
        ]
    );
}

#[test]
fn union_inner_keeps_common_columns() {
    let output = run("Hosts | union kind=inner Logons");
    assert_eq!(column_names(&output), ["Account"]);
    assert_eq!(output.row_count, 6);
}

#[test]
fn has_any_has_all_in_ignoring_case() {
    let output = run("Hosts | where Host has_any (\"wks-2\", \"nothing\") | project Host");
    assert_eq!(strings(&output, "Host"), ["WKS-2"]);
    // `has` matches whole terms: `WKS` is a term of every host, `WKS-` is not.
    let output = run("Hosts | where Host has_all (\"wks\", \"3\") | project Host");
    assert_eq!(strings(&output, "Host"), ["WKS-3"]);
    let output = run("Hosts | where Account in~ (\"ALICE\") | count");
    assert_eq!(column(&output, "Count"), [json!(2)]);
    let output = run("Hosts | where Account !in~ (\"ALICE\") | project Account");
    assert_eq!(strings(&output, "Account"), ["bob"]);
}

#[test]
fn query_can_start_with_union() {
    let output = run(
        "union withsource=T Hosts, (Users | take 1) | summarize n = count() by T | order by T asc",
    );
    assert_eq!(strings(&output, "T"), ["Hosts", "union_arg1"]);
    assert_eq!(column(&output, "n"), [json!(3), json!(1)]);
}

#[test]
fn join_keys_of_different_types_name_both() {
    // A long key against a real key is an error that names both columns, their types and a
    // conversion. Int against long joins by value.
    let left = "Id,Name\n1,a\n2,b\n";
    let right = "Ref,Score\n1.5,9\n2.0,8\n";
    let error = run_csv(
        &[("L.csv", left), ("R.csv", right)],
        "L | join kind=inner (R) on $left.Id == $right.Ref",
    )
    .expect_err("long and real keys do not join");
    assert!(error.message.contains("`Id` (long)"), "{}", error.message);
    assert!(error.message.contains("`Ref` (real)"), "{}", error.message);
    // The hint converts the right key to the left key's type.
    assert!(
        error.message.contains("extend Ref = tolong(Ref)"),
        "{}",
        error.message
    );

    let output = run_ok(
        &[("L.csv", left), ("R.csv", "Ref,Score\n2,8\n")],
        "L | join kind=inner (R | extend Ref = toint(Ref)) on $left.Id == $right.Ref | project Name",
    );
    assert_eq!(strings(&output, "Name"), ["b"]);
}
