//! docs/demo-hunt.md lists each demo table's columns; the list must match the generated tables.

use quarry_engine::{DataSource, Session};

#[test]
fn demo_hunt_lists_demo_columns() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/demo-hunt.md");
    let text = std::fs::read_to_string(path).expect("docs/demo-hunt.md is readable");
    let session = Session::new(DataSource::Demo);
    let tables = session.table_names().expect("the demo dataset has tables");
    assert_eq!(tables.len(), 4, "{tables:?}");

    for table in tables {
        let columns = session
            .table_columns(&table)
            .expect("the demo table loads")
            .expect("the demo table exists");
        let names: Vec<String> = columns.iter().map(|c| format!("`{}`", c.name)).collect();
        let line = format!("- `{table}`: {}.", names.join(", "));
        assert!(
            text.lines().any(|l| l == line),
            "docs/demo-hunt.md lacks the line\n{line}"
        );
    }
}
