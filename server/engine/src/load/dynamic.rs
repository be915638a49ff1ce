//! JSON objects and arrays of objects in JSON and JSON-lines files, loaded as dynamic values.
//!
//! polars reads a nested object as a struct column, which the evaluator cannot index by key
//! and which merges the keys of all rows into one shape. The loader replaces such columns
//! with the file's own JSON text of each value, stored the way the evaluator stores dynamic
//! values: JSON text in a `Binary` column.

use polars::prelude::*;
use serde_json::Value as Json;

/// Returns whether a column of type `dtype` must become dynamic: structs, and lists that hold
/// structs at any depth.
fn is_nested(dtype: &DataType) -> bool {
    match dtype {
        DataType::Struct(_) => true,
        DataType::List(inner) => is_nested(inner),
        _ => false,
    }
}

/// Replaces the struct columns of `frame` (read from the JSON text `bytes`) with dynamic
/// columns that hold each row's value as written in the file.
pub(super) fn nested_to_dynamic(frame: DataFrame, bytes: &[u8]) -> Result<DataFrame, String> {
    let nested: Vec<PlSmallStr> = frame
        .columns()
        .iter()
        .filter(|column| is_nested(column.dtype()))
        .map(|column| column.name().clone())
        .collect();
    if nested.is_empty() {
        return Ok(frame);
    }
    let rows = json_rows(bytes)?;
    if rows.len() != frame.height() {
        return Err(format!(
            "found {} JSON records but polars read {} rows",
            rows.len(),
            frame.height()
        ));
    }
    let mut frame = frame;
    for name in nested {
        let values: BinaryChunked = rows
            .iter()
            .map(|row| match row.get(name.as_str()) {
                None | Some(Json::Null) => None,
                Some(value) => Some(value.to_string().into_bytes()),
            })
            .collect();
        frame
            .with_column(values.with_name(name).into_column())
            .map_err(|error| error.to_string())?;
    }
    Ok(frame)
}

/// Parses a JSON array of records or a sequence of JSON records (one per line).
fn json_rows(bytes: &[u8]) -> Result<Vec<serde_json::Map<String, Json>>, String> {
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    let values: Vec<Json> = if first == Some(&b'[') {
        serde_json::from_slice(bytes).map_err(|error| error.to_string())?
    } else {
        serde_json::Deserializer::from_slice(bytes)
            .into_iter::<Json>()
            .collect::<Result<_, _>>()
            .map_err(|error| error.to_string())?
    };
    Ok(values
        .into_iter()
        .map(|value| match value {
            Json::Object(map) => map,
            _ => serde_json::Map::new(),
        })
        .collect())
}
