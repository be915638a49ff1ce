//! Functions on dynamic values: parsing JSON, building and reading arrays and property bags.

use serde_json::{Map, Value as Json};

use super::Call;
use crate::EngineError;
use crate::eval::expr::Compiled;
use crate::eval::types::KqlType;
use crate::eval::value::Value;

pub(super) fn compile(call: &Call<'_>) -> Option<Result<Compiled, EngineError>> {
    let result = match call.name {
        "parse_json" | "todynamic" | "parsejson" | "toobject" => call
            .arity(1, 1)
            .map(|()| call.row(KqlType::Dynamic, |v| Value::Dynamic(parse_json_value(v[0])))),
        "array_length" => call.arity(1, 1).map(|()| {
            call.row(KqlType::Long, |v| match as_json(v[0]) {
                Json::Array(items) => Value::Long(items.len() as i64),
                _ => Value::Null,
            })
        }),
        "pack_array" => call.arity(1, 64).map(|()| {
            call.row(KqlType::Dynamic, |v| {
                Value::Dynamic(Json::Array(v.iter().map(|x| x.to_json()).collect()))
            })
        }),
        "bag_pack" | "pack" | "pack_dictionary" => {
            if call.args.is_empty() || !call.args.len().is_multiple_of(2) {
                Err(EngineError::at(
                    format!("`{}()` takes pairs of key and value arguments", call.name),
                    call.range.clone(),
                ))
            } else {
                Ok(call.row(KqlType::Dynamic, |v| {
                    let mut bag = Map::new();
                    for pair in v.chunks(2) {
                        bag.insert(pair[0].to_text(), pair[1].to_json());
                    }
                    Value::Dynamic(Json::Object(bag))
                }))
            }
        }
        "set_has_element" => call.arity(2, 2).map(|()| {
            call.row(KqlType::Bool, |v| match as_json(v[0]) {
                Json::Array(items) => {
                    let needle = v[1].to_json();
                    Value::Bool(items.iter().any(|item| json_equal(item, &needle)))
                }
                _ => Value::Null,
            })
        }),
        "array_index_of" => call.arity(2, 2).map(|()| {
            call.row(KqlType::Long, |v| match as_json(v[0]) {
                Json::Array(items) => {
                    let needle = v[1].to_json();
                    let position = items.iter().position(|item| json_equal(item, &needle));
                    Value::Long(position.map_or(-1, |p| p as i64))
                }
                _ => Value::Null,
            })
        }),
        "bag_keys" => call.arity(1, 1).map(|()| {
            call.row(KqlType::Dynamic, |v| match as_json(v[0]) {
                Json::Object(bag) => Value::Dynamic(Json::Array(
                    bag.keys().map(|k| Json::String(k.clone())).collect(),
                )),
                _ => Value::Null,
            })
        }),
        "bag_has_key" => call.arity(2, 2).map(|()| {
            call.row(KqlType::Bool, |v| match as_json(v[0]) {
                Json::Object(bag) => Value::Bool(bag.contains_key(&v[1].to_text())),
                _ => Value::Null,
            })
        }),
        "bag_merge" => call.arity(1, 64).map(|()| {
            call.row(KqlType::Dynamic, |v| {
                let mut merged = Map::new();
                for value in v {
                    if let Json::Object(bag) = as_json(value) {
                        for (key, item) in bag {
                            merged.entry(key).or_insert(item);
                        }
                    }
                }
                Value::Dynamic(Json::Object(merged))
            })
        }),
        "bag_remove_keys" => call.arity(2, 2).map(|()| {
            call.row(KqlType::Dynamic, |v| match (as_json(v[0]), as_json(v[1])) {
                (Json::Object(mut bag), Json::Array(keys)) => {
                    for key in keys {
                        if let Json::String(key) = key {
                            bag.remove(&key);
                        }
                    }
                    Value::Dynamic(Json::Object(bag))
                }
                _ => Value::Null,
            })
        }),
        "array_concat" => call.arity(1, 64).map(|()| {
            call.row(KqlType::Dynamic, |v| {
                let mut all = Vec::new();
                for value in v {
                    match as_json(value) {
                        Json::Array(items) => all.extend(items),
                        _ => return Value::Null,
                    }
                }
                Value::Dynamic(Json::Array(all))
            })
        }),
        "array_slice" => call.arity(3, 3).map(|()| {
            call.row(KqlType::Dynamic, |v| {
                let Json::Array(items) = as_json(v[0]) else {
                    return Value::Null;
                };
                let length = items.len() as i64;
                let resolve = |index: i64| if index < 0 { index + length } else { index };
                let (Some(start), Some(end)) = (v[1].to_long(), v[2].to_long()) else {
                    return Value::Null;
                };
                let start = resolve(start).clamp(0, length) as usize;
                let end = resolve(end).clamp(-1, length - 1);
                if end < start as i64 {
                    return Value::Dynamic(Json::Array(Vec::new()));
                }
                Value::Dynamic(Json::Array(items[start..=end as usize].to_vec()))
            })
        }),
        "array_reverse" => call.arity(1, 1).map(|()| {
            call.row(KqlType::Dynamic, |v| match as_json(v[0]) {
                Json::Array(mut items) => {
                    items.reverse();
                    Value::Dynamic(Json::Array(items))
                }
                _ => Value::Null,
            })
        }),
        "array_sort_asc" | "array_sort_desc" => call.arity(1, 2).map(|()| {
            let descending = call.name == "array_sort_desc";
            call.row(KqlType::Dynamic, move |v| match as_json(v[0]) {
                Json::Array(mut items) => {
                    // Nulls go last unless the second argument is false.
                    let nulls_last = !matches!(v.get(1), Some(Value::Bool(false)));
                    items.sort_by(|a, b| {
                        let order = json_order(a, b, nulls_last);
                        if descending && !a.is_null() && !b.is_null() {
                            order.reverse()
                        } else {
                            order
                        }
                    });
                    Value::Dynamic(Json::Array(items))
                }
                _ => Value::Null,
            })
        }),
        "array_sum" => call.arity(1, 1).map(|()| {
            call.row(KqlType::Real, |v| match as_json(v[0]) {
                Json::Array(items) => {
                    let mut total = 0.0;
                    for item in items {
                        match item.as_f64() {
                            Some(x) => total += x,
                            None => return Value::Null,
                        }
                    }
                    Value::Real(total)
                }
                _ => Value::Null,
            })
        }),
        "set_union" | "set_intersect" | "set_difference" => call.arity(2, 64).map(|()| {
            let operation = call.name.to_owned();
            call.row(KqlType::Dynamic, move |v| {
                let mut arrays = Vec::with_capacity(v.len());
                for value in v {
                    match as_json(value) {
                        Json::Array(items) => arrays.push(items),
                        _ => return Value::Null,
                    }
                }
                let mut result: Vec<Json> = Vec::new();
                let push_unique = |item: &Json, result: &mut Vec<Json>| {
                    if !result.iter().any(|known| json_equal(known, item)) {
                        result.push(item.clone());
                    }
                };
                match operation.as_str() {
                    "set_union" => {
                        for item in arrays.iter().flatten() {
                            push_unique(item, &mut result);
                        }
                    }
                    "set_intersect" => {
                        for item in &arrays[0] {
                            if arrays[1..]
                                .iter()
                                .all(|other| other.iter().any(|x| json_equal(x, item)))
                            {
                                push_unique(item, &mut result);
                            }
                        }
                    }
                    _ => {
                        for item in &arrays[0] {
                            if !arrays[1..]
                                .iter()
                                .any(|other| other.iter().any(|x| json_equal(x, item)))
                            {
                                push_unique(item, &mut result);
                            }
                        }
                    }
                }
                Value::Dynamic(Json::Array(result))
            })
        }),
        "zip" => call.arity(2, 16).map(|()| {
            call.row(KqlType::Dynamic, |v| {
                let mut arrays = Vec::with_capacity(v.len());
                for value in v {
                    match as_json(value) {
                        Json::Array(items) => arrays.push(items),
                        _ => return Value::Null,
                    }
                }
                let longest = arrays.iter().map(Vec::len).max().unwrap_or(0);
                let rows = (0..longest)
                    .map(|i| {
                        Json::Array(
                            arrays
                                .iter()
                                .map(|a| a.get(i).cloned().unwrap_or(Json::Null))
                                .collect(),
                        )
                    })
                    .collect();
                Value::Dynamic(Json::Array(rows))
            })
        }),
        "extract_json" | "extractjson" => call.arity(2, 2).and_then(|()| {
            let path =
                parse_json_path(&call.constant_string(0, "JSON path")?).ok_or_else(|| {
                    EngineError::at(
                        "invalid JSON path; write it like $.a.b, $['a b'] or $.items[0]",
                        call.ranges[0].clone(),
                    )
                })?;
            let ty = call.type_arg.unwrap_or(KqlType::String);
            Ok(call.row(ty, move |v| {
                let mut current = parse_json_value(v[1]);
                for step in &path {
                    current = get_member(&current, step);
                }
                match (ty, current) {
                    (_, Json::Null) => Value::Null,
                    (KqlType::Dynamic, json) => Value::Dynamic(json),
                    (_, Json::String(text)) => super::text::convert_text(&text, ty),
                    (_, json) => super::text::convert_text(&json.to_string(), ty),
                }
            }))
        }),
        "bag_zip" => call.arity(2, 2).map(|()| {
            call.row(KqlType::Dynamic, |v| match (as_json(v[0]), as_json(v[1])) {
                (Json::Array(keys), Json::Array(values)) => {
                    let mut bag = Map::new();
                    for (index, key) in keys.into_iter().enumerate() {
                        if let Json::String(key) = key {
                            bag.insert(key, values.get(index).cloned().unwrap_or(Json::Null));
                        }
                    }
                    Value::Dynamic(Json::Object(bag))
                }
                _ => Value::Null,
            })
        }),
        "array_iff" | "array_iif" => call.arity(3, 3).map(|()| {
            call.row(KqlType::Dynamic, |v| {
                let Json::Array(conditions) = as_json(v[0]) else {
                    return Value::Null;
                };
                let pick = |value: &Value, index: usize| match as_json(value) {
                    Json::Array(items) => items.get(index).cloned().unwrap_or(Json::Null),
                    scalar => scalar,
                };
                let items = conditions
                    .iter()
                    .enumerate()
                    .map(|(index, condition)| match condition {
                        Json::Bool(true) => pick(v[1], index),
                        Json::Bool(false) => pick(v[2], index),
                        Json::Number(n) if n.as_f64() != Some(0.0) => pick(v[1], index),
                        Json::Number(_) => pick(v[2], index),
                        _ => Json::Null,
                    })
                    .collect();
                Value::Dynamic(Json::Array(items))
            })
        }),
        "array_shift_left" | "array_shift_right" | "array_rotate_left" | "array_rotate_right" => {
            call.arity(2, 3).map(|()| {
                let name = call.name.to_owned();
                call.row(KqlType::Dynamic, move |v| {
                    let (Json::Array(items), Some(shift)) = (as_json(v[0]), v[1].to_long()) else {
                        return Value::Null;
                    };
                    let length = items.len() as i64;
                    if length == 0 {
                        return Value::Dynamic(Json::Array(items));
                    }
                    let left = name.ends_with("left");
                    let offset = if left { shift } else { -shift };
                    let fill = v.get(2).map_or(Json::Null, |x| x.to_json());
                    let rotate = name.starts_with("array_rotate");
                    let shifted = (0..length)
                        .map(|i| {
                            let source = i + offset;
                            if rotate {
                                items[source.rem_euclid(length) as usize].clone()
                            } else if (0..length).contains(&source) {
                                items[source as usize].clone()
                            } else {
                                fill.clone()
                            }
                        })
                        .collect();
                    Value::Dynamic(Json::Array(shifted))
                })
            })
        }
        "repeat" => call.arity(2, 2).map(|()| {
            call.row(KqlType::Dynamic, |v| match v[1].to_long() {
                Some(count) if count >= 0 => Value::Dynamic(Json::Array(vec![
                    v[0].to_json();
                    count.min(1_000_000)
                        as usize
                ])),
                _ => Value::Null,
            })
        }),
        "gettype" => call.arity(1, 1).map(|()| {
            call.row(KqlType::String, |v| {
                let name = match v[0] {
                    Value::Null => "null",
                    Value::Bool(_) => "bool",
                    Value::Long(_) => "long",
                    Value::Real(_) => "real",
                    Value::String(_) => "string",
                    Value::Datetime(_) => "datetime",
                    Value::Timespan(_) => "timespan",
                    Value::Dynamic(Json::Array(_)) => "array",
                    Value::Dynamic(Json::Object(_)) => "dictionary",
                    Value::Dynamic(Json::String(_)) => "string",
                    Value::Dynamic(Json::Bool(_)) => "bool",
                    Value::Dynamic(Json::Number(n)) if n.is_i64() => "long",
                    Value::Dynamic(Json::Number(_)) => "real",
                    Value::Dynamic(Json::Null) => "null",
                };
                Value::String(name.to_owned())
            })
        }),
        _ => return None,
    };
    Some(result)
}

/// Parses a JSON path such as `$.a.b`, `$['a b']` or `$.items[0]` into member keys.
fn parse_json_path(path: &str) -> Option<Vec<Value>> {
    let mut rest = path.trim().strip_prefix('$')?;
    let mut steps = Vec::new();
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('.') {
            let end = after.find(['.', '[']).unwrap_or(after.len());
            if end == 0 {
                return None;
            }
            steps.push(Value::String(after[..end].to_owned()));
            rest = &after[end..];
        } else if let Some(after) = rest.strip_prefix('[') {
            let end = after.find(']')?;
            let inside = after[..end].trim();
            let step = if let Some(quoted) = inside
                .strip_prefix('\'')
                .and_then(|t| t.strip_suffix('\''))
                .or_else(|| inside.strip_prefix('"').and_then(|t| t.strip_suffix('"')))
            {
                Value::String(quoted.to_owned())
            } else {
                Value::Long(inside.parse().ok()?)
            };
            steps.push(step);
            rest = &after[end + 1..];
        } else {
            return None;
        }
    }
    Some(steps)
}

/// Returns the dynamic content of a value; a string is parsed when it contains JSON.
pub fn as_json(value: &Value) -> Json {
    match value {
        Value::Dynamic(json) => json.clone(),
        Value::String(text) => serde_json::from_str(text).unwrap_or(Json::String(text.clone())),
        other => other.to_json(),
    }
}

/// Implements `parse_json()`: text that contains JSON becomes that value, other text stays a
/// string, and a value that is already dynamic is returned as it is.
pub fn parse_json_value(value: &Value) -> Json {
    match value {
        Value::Null => Json::Null,
        Value::String(text) if text.trim().is_empty() => Json::Null,
        Value::String(text) => {
            serde_json::from_str(text).unwrap_or_else(|_| Json::String(text.clone()))
        }
        other => other.clone().into_json(),
    }
}

/// Reads `object[key]`: a property name for bags, an index for arrays (negative counts from
/// the end). Anything missing is null.
pub fn get_member(object: &Json, key: &Value) -> Json {
    match object {
        Json::Object(bag) => bag.get(&key.to_text()).cloned().unwrap_or(Json::Null),
        Json::Array(items) => {
            let Some(index) = key.to_long() else {
                return Json::Null;
            };
            let index = if index < 0 {
                index + items.len() as i64
            } else {
                index
            };
            usize::try_from(index)
                .ok()
                .and_then(|i| items.get(i).cloned())
                .unwrap_or(Json::Null)
        }
        _ => Json::Null,
    }
}

/// Compares two JSON values, treating numbers by value so that `1` equals `1.0`.
pub fn json_equal(a: &Json, b: &Json) -> bool {
    match (a, b) {
        (Json::Number(x), Json::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

fn json_order(a: &Json, b: &Json, nulls_last: bool) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    match (a, b) {
        (Json::Null, Json::Null) => Ordering::Equal,
        (Json::Null, _) => {
            if nulls_last {
                Ordering::Greater
            } else {
                Ordering::Less
            }
        }
        (_, Json::Null) => {
            if nulls_last {
                Ordering::Less
            } else {
                Ordering::Greater
            }
        }
        (Json::Number(x), Json::Number(y)) => x
            .as_f64()
            .partial_cmp(&y.as_f64())
            .unwrap_or(Ordering::Equal),
        (Json::String(x), Json::String(y)) => x.cmp(y),
        (Json::Bool(x), Json::Bool(y)) => x.cmp(y),
        _ => a.to_string().cmp(&b.to_string()),
    }
}
