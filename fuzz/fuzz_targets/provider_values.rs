//! Decodes arbitrary result cells as the query back ends' clients do: JSON rows into typed
//! tables, and the text forms of datetimes and timespans.
//!
//! The clients' whole-response decoders are private to quarry-providers, so this target covers
//! the public pieces they are built from.

#![no_main]

use libfuzzer_sys::fuzz_target;
use quarry_providers::table::parse_datetime;
use quarry_providers::table::{Column, ColumnType, DynamicEncoding, Table, TimeSpan, Value};

const TYPES: [ColumnType; 10] = [
    ColumnType::Bool,
    ColumnType::Int,
    ColumnType::Long,
    ColumnType::Real,
    ColumnType::Decimal,
    ColumnType::String,
    ColumnType::DateTime,
    ColumnType::TimeSpan,
    ColumnType::Guid,
    ColumnType::Dynamic,
];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);

    let _ = ColumnType::from_service_name(&text);
    let _ = parse_datetime(&text);
    if let Some(span) = TimeSpan::parse(&text) {
        let printed = span.to_string();
        assert_eq!(
            TimeSpan::parse(&printed),
            Some(span),
            "timespan `{text}` prints as `{printed}`, which reads back differently"
        );
    }

    let Ok(json) = serde_json::from_str::<serde_json::Value>(&text) else {
        return;
    };
    let encoding = if selector & 1 == 0 {
        DynamicEncoding::Native
    } else {
        DynamicEncoding::JsonText
    };
    for column_type in TYPES {
        let _ = Value::from_json(column_type, json.clone(), encoding);
    }

    // An array of arrays is a table, whose columns take their types from the selector's bits.
    if let serde_json::Value::Array(rows) = json {
        let json_rows: Vec<Vec<serde_json::Value>> = rows
            .into_iter()
            .filter_map(|row| match row {
                serde_json::Value::Array(cells) => Some(cells),
                _ => None,
            })
            .collect();
        let width = json_rows.first().map_or(0, Vec::len);
        let columns = (0..width)
            .map(|index| {
                let column_type = TYPES[(usize::from(selector >> 1) + index) % TYPES.len()];
                Column::new(format!("c{index}"), column_type)
            })
            .collect();
        let row_limit = (selector & 0x80 != 0).then_some(2);
        if let Ok(table) =
            Table::from_json_rows("T".to_owned(), columns, json_rows, encoding, row_limit)
        {
            assert!(
                table.rows.len() <= table.total_rows,
                "more rows kept than received"
            );
            assert!(row_limit.is_none_or(|limit| table.rows.len() <= limit));
        }
    }
});
