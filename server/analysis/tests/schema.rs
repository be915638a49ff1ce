//! Checks the bundled schemas, schema files on disk and the built-in reference list.

use std::io::Write;

use quarry_analysis::{
    BundledSchema, Catalog, FunctionKind, ScalarType, Schema, SchemaFile, SchemaSource,
};

#[test]
fn sentinel_schema_has_common_tables() {
    let schema = BundledSchema::Sentinel.get();
    assert!(schema.len() >= 50, "only {} tables", schema.len());
    let security_event = schema
        .table("SecurityEvent")
        .expect("SecurityEvent is bundled");
    assert_eq!(
        security_event.column("EventID").unwrap().ty,
        ScalarType::Int
    );
    assert_eq!(
        security_event.column("TimeGenerated").unwrap().ty,
        ScalarType::DateTime
    );
    let process_events = schema.table("DeviceProcessEvents").unwrap();
    assert_eq!(
        process_events.column("Timestamp").unwrap().ty,
        ScalarType::DateTime
    );
}

#[test]
fn demo_schema_tables_are_sentinel_subsets() {
    let demo = BundledSchema::Demo.get();
    let sentinel = BundledSchema::Sentinel.get();
    let names: Vec<&str> = demo.tables().map(|table| table.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "DeviceNetworkEvents",
            "DeviceProcessEvents",
            "SecurityEvent",
            "SigninLogs"
        ]
    );
    for table in demo.tables() {
        let reference = sentinel.table(&table.name).unwrap();
        for column in &table.columns {
            assert!(
                reference.column(&column.name).is_some(),
                "{}.{} is not a Sentinel column",
                table.name,
                column.name
            );
        }
    }
}

#[test]
fn schema_file_loads_from_disk() {
    let directory = std::env::temp_dir().join(format!("quarry-schema-{}", std::process::id()));
    std::fs::create_dir_all(&directory).unwrap();
    let path = directory.join("schema.json");
    let mut file = std::fs::File::create(&path).unwrap();
    file.write_all(br#"{"tables": {"Custom_CL": {"Message": "string", "Count": "long"}}}"#)
        .unwrap();
    drop(file);

    let source = SchemaFile::new(&path);
    let schema = source.load().unwrap();
    let table = schema.table("Custom_CL").unwrap();
    assert_eq!(table.columns.len(), 2);
    assert_eq!(&*table.source, source.describe());

    let missing = SchemaFile::new(directory.join("missing.json"));
    let error = missing.load().unwrap_err();
    assert!(
        error.message.starts_with("failed to read the schema file"),
        "{error}"
    );
    std::fs::remove_dir_all(&directory).unwrap();
}

#[test]
fn load_all_merges_and_keeps_going() {
    let missing = SchemaFile::new("/nonexistent/quarry/schema.json");
    let sources: [&dyn SchemaSource; 3] =
        [&BundledSchema::Sentinel, &missing, &BundledSchema::Demo];
    let (schema, errors) = Schema::load_all(&sources);
    assert_eq!(errors.len(), 1);
    // The demo dataset's SecurityEvent, loaded last, replaces the fuller Sentinel one.
    let security_event = schema.table("SecurityEvent").unwrap();
    assert_eq!(&*security_event.source, "demo dataset");
    assert!(schema.table("AuditLogs").is_some());
}

#[test]
fn builtins_cover_undocumented_functions() {
    let catalog = Catalog::get();
    // hll_merge is both a scalar function with any number of arguments and an aggregate.
    let merged = catalog.builtin("hll_merge").unwrap();
    assert_eq!(merged.signatures.len(), 2);
    assert!(catalog.builtin("parsejson").is_some());
    let all: Vec<_> = catalog.builtins().collect();
    assert!(all.len() >= 470, "only {} built-ins", all.len());
    let aggregates = all
        .iter()
        .filter(|function| function.kind == FunctionKind::Aggregate)
        .count();
    assert!(aggregates >= 50, "only {aggregates} aggregates");
    assert!(catalog.builtin("no_such_function").is_none());
}
