//! The three schema JSON shapes and how to tell them apart.

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use serde::Deserialize;
use serde::de::{Deserializer, MapAccess, Visitor};
use serde_json::Value;

use super::{ColumnSchema, Schema, TableSchema};
use crate::ScalarType;

/// Parses `text` in whichever shape its top-level keys announce.
pub(super) fn parse(text: &str, source: &str) -> Result<Schema, String> {
    let value: Value =
        serde_json::from_str(text).map_err(|error| format!("invalid JSON: {error}"))?;
    let source: Arc<str> = Arc::from(source);
    match &value {
        Value::Object(object) if object.contains_key("Databases") => parse_adx(&value, &source),
        Value::Object(object) => match object.get("tables") {
            Some(Value::Object(_)) => parse_quarry(text, &source),
            Some(Value::Array(_)) => parse_log_analytics(&value, &source),
            _ => Err(
                "expected a `tables` object (Quarry), a `tables` array (Log Analytics /metadata) \
                 or a `Databases` object (Azure Data Explorer `.show database schema as json`)"
                    .to_owned(),
            ),
        },
        _ => Err("expected a JSON object at the top level".to_owned()),
    }
}

fn parse_type(ty: &str, table: &str, column: &str) -> Result<ScalarType, String> {
    ScalarType::parse(ty)
        .ok_or_else(|| format!("column `{table}.{column}` has an unknown type `{ty}`"))
}

/// Quarry's shape. It is read with an order-keeping map so columns stay in file order.
fn parse_quarry(text: &str, source: &Arc<str>) -> Result<Schema, String> {
    #[derive(Deserialize)]
    struct File {
        tables: OrderedMap<OrderedMap<String>>,
    }
    let file: File =
        serde_json::from_str(text).map_err(|error| format!("invalid schema: {error}"))?;
    let mut tables = Vec::with_capacity(file.tables.0.len());
    for (table, columns) in file.tables.0 {
        let columns = columns
            .0
            .into_iter()
            .map(|(name, ty)| {
                let ty = parse_type(&ty, &table, &name)?;
                Ok(ColumnSchema { name, ty })
            })
            .collect::<Result<Vec<_>, String>>()?;
        tables.push(TableSchema {
            name: table,
            columns,
            source: Arc::clone(source),
        });
    }
    Ok(Schema::from_tables(tables))
}

/// Azure Data Explorer's `.show database X schema as json`. Tables and materialized views of
/// every database in the output are read; each column's `CslType` is preferred over `Type`.
fn parse_adx(value: &Value, source: &Arc<str>) -> Result<Schema, String> {
    let databases = value["Databases"]
        .as_object()
        .ok_or("`Databases` is not an object")?;
    let mut tables = Vec::new();
    for database in databases.values() {
        for key in ["Tables", "MaterializedViews", "ExternalTables"] {
            let Some(entries) = database.get(key).and_then(Value::as_object) else {
                continue;
            };
            for (name, table) in entries {
                let name = table["Name"].as_str().unwrap_or(name).to_owned();
                let columns = table["OrderedColumns"]
                    .as_array()
                    .ok_or_else(|| format!("table `{name}` has no `OrderedColumns` array"))?;
                let columns = columns
                    .iter()
                    .map(|column| {
                        let column_name = column["Name"]
                            .as_str()
                            .ok_or_else(|| format!("a column of `{name}` has no `Name`"))?;
                        let ty = column["CslType"]
                            .as_str()
                            .or_else(|| column["Type"].as_str())
                            .ok_or_else(|| format!("column `{name}.{column_name}` has no type"))?;
                        Ok(ColumnSchema {
                            name: column_name.to_owned(),
                            ty: parse_type(ty, &name, column_name)?,
                        })
                    })
                    .collect::<Result<Vec<_>, String>>()?;
                tables.push(TableSchema {
                    name,
                    columns,
                    source: Arc::clone(source),
                });
            }
        }
    }
    Ok(Schema::from_tables(tables))
}

/// Log Analytics' `/metadata` response: a `tables` array of `{name, columns: [{name, type}]}`.
fn parse_log_analytics(value: &Value, source: &Arc<str>) -> Result<Schema, String> {
    let entries = value["tables"]
        .as_array()
        .ok_or("`tables` is not an array")?;
    let mut tables = Vec::with_capacity(entries.len());
    for table in entries {
        let name = table["name"]
            .as_str()
            .ok_or("a table in `tables` has no `name`")?
            .to_owned();
        let columns = table["columns"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        let columns = columns
            .iter()
            .map(|column| {
                let column_name = column["name"]
                    .as_str()
                    .ok_or_else(|| format!("a column of `{name}` has no `name`"))?;
                let ty = column["type"]
                    .as_str()
                    .ok_or_else(|| format!("column `{name}.{column_name}` has no `type`"))?;
                Ok(ColumnSchema {
                    name: column_name.to_owned(),
                    ty: parse_type(ty, &name, column_name)?,
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        tables.push(TableSchema {
            name,
            columns,
            source: Arc::clone(source),
        });
    }
    Ok(Schema::from_tables(tables))
}

/// A JSON object read as its entries in document order; `serde_json::Map` sorts its keys.
struct OrderedMap<V>(Vec<(String, V)>);

impl<'de, V: Deserialize<'de>> Deserialize<'de> for OrderedMap<V> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct EntriesVisitor<V>(PhantomData<V>);

        impl<'de, V: Deserialize<'de>> Visitor<'de> for EntriesVisitor<V> {
            type Value = OrderedMap<V>;

            fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
                formatter.write_str("a JSON object")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0));
                while let Some(entry) = map.next_entry()? {
                    entries.push(entry);
                }
                Ok(OrderedMap(entries))
            }
        }

        deserializer.deserialize_map(EntriesVisitor(PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quarry_shape_keeps_column_order() {
        let schema = parse(
            r#"{"tables": {"T": {"z": "string", "a": "long", "m": "datetime"}}}"#,
            "test",
        )
        .unwrap();
        let names: Vec<&str> = schema
            .table("T")
            .unwrap()
            .columns
            .iter()
            .map(|c| c.name.as_str())
            .collect();
        assert_eq!(names, ["z", "a", "m"]);
    }

    #[test]
    fn adx_shape_reads_tables_and_views() {
        let text = r#"{"Plugins": [], "Databases": {"Logs": {"Name": "Logs",
            "Tables": {"Events": {"Name": "Events", "OrderedColumns": [
                {"Name": "Timestamp", "Type": "System.DateTime", "CslType": "datetime"},
                {"Name": "Payload", "Type": "System.Object", "CslType": "dynamic"}]}},
            "MaterializedViews": {"Daily": {"Name": "Daily", "OrderedColumns": [
                {"Name": "Count", "Type": "System.Int64"}]}},
            "Functions": {}}}}"#;
        let schema = parse(text, "adx.json").unwrap();
        let events = schema.table("Events").unwrap();
        assert_eq!(events.columns[0].ty, ScalarType::DateTime);
        assert_eq!(events.columns[1].ty, ScalarType::Dynamic);
        assert_eq!(
            schema.table("Daily").unwrap().columns[0].ty,
            ScalarType::Long
        );
        assert_eq!(&*events.source, "adx.json");
    }

    #[test]
    fn log_analytics_shape_reads_tables() {
        let text = r#"{"tables": [{"id": "t/SecurityEvent", "name": "SecurityEvent",
            "columns": [{"name": "EventID", "type": "int"}, {"name": "Account", "type": "string"}]}],
            "workspaces": []}"#;
        let schema = parse(text, "la").unwrap();
        let table = schema.table("SecurityEvent").unwrap();
        assert_eq!(table.column("EventID").unwrap().ty, ScalarType::Int);
        assert_eq!(table.column("Account").unwrap().ty, ScalarType::String);
    }

    #[test]
    fn errors_name_the_problem() {
        let error = parse(r#"{"tables": {"T": {"c": "text"}}}"#, "x").unwrap_err();
        assert_eq!(error, "column `T.c` has an unknown type `text`");
        let error = parse("[1]", "x").unwrap_err();
        assert_eq!(error, "expected a JSON object at the top level");
        let error = parse(r#"{"other": 1}"#, "x").unwrap_err();
        assert!(error.starts_with("expected a `tables` object"), "{error}");
        let error = parse("{", "x").unwrap_err();
        assert!(error.starts_with("invalid JSON"), "{error}");
    }
}
