//! String functions: search, replace, split, extract, decoding, parsing of URLs, paths and
//! command lines, and hashes.

use base64::Engine as _;
use md5::Digest as _;
use polars::prelude::{
    Column, DataType, Expr as PlExpr, Field, IntoColumn as _, NewChunkedArray as _, StringChunked,
    StringChunkedBuilder,
};
use regex::Regex;
use serde_json::{Map, Value as Json};

use super::{Call, text_of};
use crate::EngineError;
use crate::eval::expr::Compiled;
use crate::eval::types::KqlType;
use crate::eval::value::{Value, from_any_value};

pub(super) fn compile(call: &Call<'_>) -> Option<Result<Compiled, EngineError>> {
    let result = match call.name {
        "strcat_delim" => call.arity(2, 64).map(|()| {
            call.row(KqlType::String, |v| {
                let delimiter = text_of(v[0]);
                let parts: Vec<String> = v[1..].iter().map(|x| text_of(x)).collect();
                Value::String(parts.join(&delimiter))
            })
        }),
        "substring" => call.arity(2, 3).map(|()| {
            call.row(KqlType::String, |v| {
                let chars: Vec<char> = text_of(v[0]).chars().collect();
                let (Some(start), length) = (v[1].to_long(), v.get(2).map(|x| x.to_long()))
                else {
                    return Value::Null;
                };
                let start = usize::try_from(start.max(0))
                    .unwrap_or(0)
                    .min(chars.len());
                let end = match length {
                    None => chars.len(),
                    Some(None) => return Value::Null,
                    Some(Some(n)) => start.saturating_add(usize::try_from(n.max(0)).unwrap_or(0)),
                }
                .min(chars.len());
                Value::String(chars[start..end].iter().collect())
            })
        }),
        "indexof" => call.arity(2, 5).map(|()| {
            call.row(KqlType::Long, |v| {
                let text = text_of(v[0]);
                let lookup = text_of(v[1]);
                let start = v.get(2).and_then(|x| x.to_long()).unwrap_or(0);
                let occurrence = v.get(4).and_then(|x| x.to_long()).unwrap_or(1);
                let chars: Vec<char> = text.chars().collect();
                let Ok(start) = usize::try_from(start) else {
                    return Value::Null;
                };
                if start > chars.len() || occurrence < 1 {
                    return Value::Null;
                }
                let length = v.get(3).and_then(|x| x.to_long()).unwrap_or(-1);
                let end = if length < 0 {
                    chars.len()
                } else {
                    start
                        .saturating_add(usize::try_from(length).unwrap_or(0))
                        .min(chars.len())
                };
                let window: String = chars[start..end].iter().collect();
                let mut found = 0;
                let mut from = 0;
                while let Some(offset) = window[from..].find(&lookup) {
                    found += 1;
                    let byte = from + offset;
                    if found == occurrence {
                        let position = window[..byte].chars().count() + start;
                        return Value::Long(position as i64);
                    }
                    from = byte + lookup.len().max(1);
                    if from > window.len() {
                        break;
                    }
                }
                Value::Long(-1)
            })
        }),
        "countof" => count_of(call),
        "replace_string" => call.arity(3, 3).map(|()| {
            call.row(KqlType::String, |v| {
                let lookup = text_of(v[1]);
                let text = text_of(v[0]);
                if lookup.is_empty() {
                    return Value::String(text);
                }
                Value::String(text.replace(&lookup, &text_of(v[2])))
            })
        }),
        "replace_regex" | "replace" => replace_regex(call),
        "trim" | "trim_start" | "trim_end" => trim(call),
        "reverse" => call.arity(1, 1).map(|()| {
            call.row(KqlType::String, |v| {
                Value::String(text_of(v[0]).chars().rev().collect())
            })
        }),
        "strrep" => call.arity(2, 3).map(|()| {
            call.row(KqlType::String, |v| {
                let count = v[1].to_long().unwrap_or(0).clamp(0, 1024) as usize;
                let delimiter = v.get(2).map(|x| text_of(x)).unwrap_or_default();
                Value::String(vec![text_of(v[0]); count].join(&delimiter))
            })
        }),
        "split" => call.arity(2, 3).map(|()| {
            call.row(KqlType::Dynamic, |v| {
                let text = text_of(v[0]);
                let delimiter = text_of(v[1]);
                let parts: Vec<Json> = if delimiter.is_empty() {
                    vec![Json::String(text)]
                } else {
                    text.split(delimiter.as_str())
                        .map(|part| Json::String(part.to_owned()))
                        .collect()
                };
                match v.get(2) {
                    None => Value::Dynamic(Json::Array(parts)),
                    Some(index) => {
                        let picked = index
                            .to_long()
                            .and_then(|i| usize::try_from(i).ok())
                            .and_then(|i| parts.get(i).cloned());
                        Value::Dynamic(Json::Array(picked.into_iter().collect()))
                    }
                }
            })
        }),
        "extract" => extract(call),
        "extract_all" => extract_all(call),
        "base64_decode_tostring" => call.arity(1, 1).map(|()| {
            call.row(KqlType::String, |v| {
                let text = text_of(v[0]);
                match base64::engine::general_purpose::STANDARD.decode(text.trim()) {
                    Ok(bytes) => match String::from_utf8(bytes) {
                        Ok(decoded) => Value::String(decoded),
                        Err(_) => Value::Null,
                    },
                    Err(_) => Value::Null,
                }
            })
        }),
        "base64_encode_tostring" => call.arity(1, 1).map(|()| {
            call.row(KqlType::String, |v| {
                Value::String(base64::engine::general_purpose::STANDARD.encode(text_of(v[0])))
            })
        }),
        "url_decode" => call.arity(1, 1).map(|()| {
            call.row(KqlType::String, |v| match url_decode(&text_of(v[0])) {
                Some(decoded) => Value::String(decoded),
                None => Value::Null,
            })
        }),
        "url_encode" | "url_encode_component" => call.arity(1, 1).map(|()| {
            call.row(KqlType::String, |v| Value::String(url_encode(&text_of(v[0]))))
        }),
        "parse_url" => call.arity(1, 1).map(|()| {
            call.row(KqlType::Dynamic, |v| Value::Dynamic(parse_url(&text_of(v[0]))))
        }),
        "parse_path" => call.arity(1, 1).map(|()| {
            call.row(KqlType::Dynamic, |v| Value::Dynamic(parse_path(&text_of(v[0]))))
        }),
        "parse_command_line" => call.arity(1, 2).and_then(|()| {
            if call.args.len() == 2 {
                let kind = call.constant_string(1, "parser kind")?;
                if !kind.eq_ignore_ascii_case("windows") {
                    return Err(EngineError::at(
                        format!("`parse_command_line()` supports only the \"windows\" parser, not {kind:?}"),
                        call.ranges[1].clone(),
                    ));
                }
            }
            Ok(call.row(KqlType::Dynamic, |v| {
                let arguments = parse_windows_command_line(&text_of(v[0]));
                Value::Dynamic(Json::Array(arguments.into_iter().map(Json::String).collect()))
            }))
        }),
        "parse_csv" => call.arity(1, 1).map(|()| {
            call.row(KqlType::Dynamic, |v| {
                let fields = parse_csv_line(&text_of(v[0]));
                Value::Dynamic(Json::Array(fields.into_iter().map(Json::String).collect()))
            })
        }),
        "tohex" => call.arity(1, 2).map(|()| {
            call.row(KqlType::String, |v| match v[0].to_long() {
                Some(n) => {
                    let digits = format!("{n:x}");
                    let width = v.get(1).and_then(|x| x.to_long()).unwrap_or(0).clamp(0, 64) as usize;
                    Value::String(format!("{digits:0>width$}"))
                }
                None => Value::Null,
            })
        }),
        "hash_sha256" | "hash_sha1" | "hash_md5" => call.arity(1, 1).map(|()| {
            let algorithm = call.name.to_owned();
            call.row(KqlType::String, move |v| {
                if v[0].is_null() {
                    return Value::Null;
                }
                let bytes = text_of(v[0]).into_bytes();
                let digest: Vec<u8> = match algorithm.as_str() {
                    "hash_sha256" => sha2::Sha256::digest(&bytes).to_vec(),
                    "hash_sha1" => sha1::Sha1::digest(&bytes).to_vec(),
                    _ => md5::Md5::digest(&bytes).to_vec(),
                };
                Value::String(digest.iter().map(|b| format!("{b:02x}")).collect())
            })
        }),
        "tostring" => call.arity(1, 1).map(|()| {
            if call.args[0].ty == KqlType::Dynamic {
                return Compiled::new(dynamic_to_string(call.args[0].expr.clone()), KqlType::String);
            }
            if call.args[0].ty == KqlType::String {
                return Compiled::new(call.args[0].expr.clone(), KqlType::String);
            }
            call.row(KqlType::String, |v| Value::String(v[0].to_text()))
        }),
        "strcmp" => call.arity(2, 2).map(|()| {
            call.row(KqlType::Int, |v| {
                Value::Long(text_of(v[0]).cmp(&text_of(v[1])) as i64)
            })
        }),
        "strcat_array" => call.arity(2, 2).map(|()| {
            call.row(KqlType::String, |v| match super::dynamic::as_json(v[0]) {
                Json::Array(items) => {
                    let parts: Vec<String> = items
                        .into_iter()
                        .map(|item| Value::Dynamic(item).to_text())
                        .collect();
                    Value::String(parts.join(&text_of(v[1])))
                }
                _ => Value::Null,
            })
        }),
        "replace_strings" => call.arity(3, 3).map(|()| {
            call.row(KqlType::String, |v| {
                let (Json::Array(lookups), Json::Array(rewrites)) = (
                    super::dynamic::as_json(v[1]),
                    super::dynamic::as_json(v[2]),
                ) else {
                    return Value::Null;
                };
                let pairs: Vec<(String, String)> = lookups
                    .iter()
                    .zip(rewrites.iter())
                    .map(|(l, r)| (Value::Dynamic(l.clone()).to_text(), Value::Dynamic(r.clone()).to_text()))
                    .filter(|(l, _)| !l.is_empty())
                    .collect();
                // One left-to-right pass; at each position the first matching lookup wins, so a
                // replacement is never replaced again.
                let text = text_of(v[0]);
                let mut out = String::with_capacity(text.len());
                let mut rest = text.as_str();
                'outer: while let Some(c) = rest.chars().next() {
                    for (lookup, rewrite) in &pairs {
                        if let Some(after) = rest.strip_prefix(lookup.as_str()) {
                            out.push_str(rewrite);
                            rest = after;
                            continue 'outer;
                        }
                    }
                    out.push(c);
                    rest = &rest[c.len_utf8()..];
                }
                Value::String(out)
            })
        }),
        "string_size" => call.arity(1, 1).map(|()| {
            call.row(KqlType::Long, |v| Value::Long(text_of(v[0]).len() as i64))
        }),
        _ => return None,
    };
    Some(result)
}

fn count_of(call: &Call<'_>) -> Result<Compiled, EngineError> {
    call.arity(2, 3)?;
    let kind = if call.args.len() == 3 {
        call.constant_string(2, "kind (\"normal\" or \"regex\")")?
    } else {
        "normal".to_owned()
    };
    match kind.as_str() {
        "normal" => Ok(call.row(KqlType::Long, |v| {
            let search = text_of(v[1]);
            if search.is_empty() {
                return Value::Long(0);
            }
            Value::Long(text_of(v[0]).matches(search.as_str()).count() as i64)
        })),
        "regex" => {
            let regex = call.regex(1)?;
            Ok(call.row(KqlType::Long, move |v| {
                Value::Long(regex.find_iter(&text_of(v[0])).count() as i64)
            }))
        }
        other => Err(EngineError::at(
            format!("`countof()` kind must be \"normal\" or \"regex\", not {other:?}"),
            call.ranges[2].clone(),
        )),
    }
}

/// Rewrites Kusto's `\1` group references as the regex crate's `${1}`.
fn rewrite_template(rewrite: &str) -> String {
    let mut out = String::with_capacity(rewrite.len());
    let mut chars = rewrite.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek().is_some_and(char::is_ascii_digit) => {
                let digit = chars.next().expect("peeked a digit");
                out.push_str(&format!("${{{digit}}}"));
            }
            '$' => out.push_str("$$"),
            other => out.push(other),
        }
    }
    out
}

fn replace_regex(call: &Call<'_>) -> Result<Compiled, EngineError> {
    call.arity(3, 3)?;
    let regex = call.regex(1)?;
    Ok(call.row(KqlType::String, move |v| {
        let template = rewrite_template(&text_of(v[2]));
        Value::String(
            regex
                .replace_all(&text_of(v[0]), template.as_str())
                .into_owned(),
        )
    }))
}

fn trim(call: &Call<'_>) -> Result<Compiled, EngineError> {
    call.arity(2, 2)?;
    let pattern = call.constant_string(0, "regular expression")?;
    let build = |anchored: String| {
        Regex::new(&anchored).map_err(|error| {
            EngineError::at(
                format!("invalid regular expression {pattern:?}: {error}"),
                call.ranges[0].clone(),
            )
        })
    };
    let start = build(format!("^(?:{pattern})+"))?;
    let end = build(format!("(?:{pattern})+$"))?;
    let (trim_start, trim_end) = match call.name {
        "trim_start" => (true, false),
        "trim_end" => (false, true),
        _ => (true, true),
    };
    Ok(call.row(KqlType::String, move |v| {
        let mut text = text_of(v[1]);
        if trim_start {
            text = start.replace(&text, "").into_owned();
        }
        if trim_end {
            text = end.replace(&text, "").into_owned();
        }
        Value::String(text)
    }))
}

fn extract(call: &Call<'_>) -> Result<Compiled, EngineError> {
    call.arity(3, 3)?;
    let regex = call.regex(0)?;
    let group = call.constant_long(1, "capture group")?;
    let group = usize::try_from(group)
        .ok()
        .filter(|g| *g < regex.captures_len())
        .ok_or_else(|| {
            EngineError::at(
                format!(
                    "capture group {group} does not exist; the expression has {} groups",
                    regex.captures_len() - 1
                ),
                call.ranges[1].clone(),
            )
        })?;
    let ty = call.type_arg.unwrap_or(KqlType::String);
    Ok(call.row(ty, move |v| {
        let text = text_of(v[2]);
        let Some(found) = regex
            .captures(&text)
            .and_then(|captures| captures.get(group))
        else {
            return Value::Null;
        };
        convert_text(found.as_str(), ty)
    }))
}

/// Converts extracted text to `ty`, as `extract(..., typeof(T))` does; failures are null.
pub fn convert_text(text: &str, ty: KqlType) -> Value {
    let value = Value::String(text.to_owned());
    match ty {
        KqlType::String => value,
        KqlType::Long | KqlType::Int => value.to_long().map_or(Value::Null, Value::Long),
        KqlType::Real => value.to_real().map_or(Value::Null, Value::Real),
        KqlType::Bool => match text.to_ascii_lowercase().as_str() {
            "true" | "1" => Value::Bool(true),
            "false" | "0" => Value::Bool(false),
            _ => Value::Null,
        },
        KqlType::Datetime => {
            super::time::parse_datetime_text(text).map_or(Value::Null, Value::Datetime)
        }
        KqlType::Timespan => {
            super::time::parse_timespan_text(text).map_or(Value::Null, Value::Timespan)
        }
        KqlType::Dynamic | KqlType::Null => Value::Dynamic(
            serde_json::from_str(text).unwrap_or_else(|_| Json::String(text.to_owned())),
        ),
    }
}

fn extract_all(call: &Call<'_>) -> Result<Compiled, EngineError> {
    call.arity(2, 3)?;
    let regex = call.regex(0)?;
    let groups: Vec<usize> = if call.args.len() == 3 {
        let Some(crate::ast::Literal::Dynamic(Json::Array(items))) = &call.args[1].constant else {
            return Err(EngineError::at(
                "`extract_all()` needs the capture groups as a constant array, such as dynamic([1, 2])",
                call.ranges[1].clone(),
            ));
        };
        items
            .iter()
            .map(|item| {
                item.as_u64()
                    .and_then(|g| usize::try_from(g).ok())
                    .filter(|g| *g < regex.captures_len())
                    .ok_or_else(|| {
                        EngineError::at(
                            format!("capture group {item} does not exist in the expression"),
                            call.ranges[1].clone(),
                        )
                    })
            })
            .collect::<Result<_, _>>()?
    } else if regex.captures_len() > 1 {
        (1..regex.captures_len()).collect()
    } else {
        vec![0]
    };
    let text_index = call.args.len() - 1;
    Ok(call.row(KqlType::Dynamic, move |v| {
        let text = text_of(v[text_index]);
        let matches: Vec<Json> = regex
            .captures_iter(&text)
            .map(|captures| {
                let picked: Vec<Json> = groups
                    .iter()
                    .map(|g| {
                        captures
                            .get(*g)
                            .map_or(Json::Null, |m| Json::String(m.as_str().to_owned()))
                    })
                    .collect();
                if picked.len() == 1 {
                    picked.into_iter().next().expect("one group")
                } else {
                    Json::Array(picked)
                }
            })
            .collect();
        if matches.is_empty() {
            Value::Null
        } else {
            Value::Dynamic(Json::Array(matches))
        }
    }))
}

/// Decodes `%XX` escapes and `+` as a space. A `%` without two hex digits stays as it is.
/// Returns `None` when the decoded bytes are not UTF-8.
fn url_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let byte = bytes[index];
        if byte == b'%' {
            let escaped = bytes
                .get(index + 1..index + 3)
                .and_then(|hex| std::str::from_utf8(hex).ok())
                .and_then(|hex| u8::from_str_radix(hex, 16).ok());
            if let Some(value) = escaped {
                decoded.push(value);
                index += 3;
                continue;
            }
        }
        decoded.push(if byte == b'+' { b' ' } else { byte });
        index += 1;
    }
    String::from_utf8(decoded).ok()
}

fn url_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Splits a URL into Kusto's `parse_url()` bag; text that is not an absolute URL gives an
/// empty bag.
fn parse_url(text: &str) -> Json {
    let mut bag = Map::new();
    let Some((scheme, rest)) = text.split_once("://") else {
        return Json::Object(bag);
    };
    if scheme.is_empty()
        || !scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
    {
        return Json::Object(bag);
    }
    let (rest, fragment) = match rest.split_once('#') {
        Some((before, fragment)) => (before, fragment),
        None => (rest, ""),
    };
    let (rest, query) = match rest.split_once('?') {
        Some((before, query)) => (before, query),
        None => (rest, ""),
    };
    let (authority, path) = match rest.find('/') {
        Some(slash) => (&rest[..slash], &rest[slash..]),
        None => (rest, ""),
    };
    let (user_info, host_port) = match authority.rsplit_once('@') {
        Some((user, host)) => (user, host),
        None => ("", authority),
    };
    let (username, password) = match user_info.split_once(':') {
        Some((user, password)) => (user, password),
        None => (user_info, ""),
    };
    let (host, port) = if host_port.starts_with('[') {
        match host_port.find(']') {
            Some(end) => (
                &host_port[..=end],
                host_port[end + 1..].strip_prefix(':').unwrap_or(""),
            ),
            None => (host_port, ""),
        }
    } else {
        match host_port.rsplit_once(':') {
            Some((host, port)) => (host, port),
            None => (host_port, ""),
        }
    };
    let mut parameters = Map::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        parameters.insert(key.to_owned(), Json::String(value.to_owned()));
    }
    bag.insert("Scheme".into(), Json::String(scheme.to_owned()));
    bag.insert("Host".into(), Json::String(host.to_owned()));
    bag.insert("Port".into(), Json::String(port.to_owned()));
    bag.insert("Path".into(), Json::String(path.to_owned()));
    bag.insert("Username".into(), Json::String(username.to_owned()));
    bag.insert("Password".into(), Json::String(password.to_owned()));
    bag.insert("Query Parameters".into(), Json::Object(parameters));
    bag.insert("Fragment".into(), Json::String(fragment.to_owned()));
    Json::Object(bag)
}

/// Splits a file path into Kusto's `parse_path()` bag, for Windows, UNC and Unix paths.
fn parse_path(text: &str) -> Json {
    let mut bag = Map::new();
    let (scheme, rest) = match text.split_once("://") {
        Some((scheme, rest)) if !scheme.contains(['\\', '/']) => (scheme, rest),
        _ => ("", text),
    };
    // A drive letter is the root. A UNC path such as `\\server\share\dir\file.txt` has an
    // empty root and the directory `\\server\share\dir`, as in the example output of Kusto's
    // documentation of `parse_path()`.
    let root_length = if rest.len() >= 2 && rest.as_bytes()[1] == b':' {
        2
    } else {
        0
    };
    let root = &rest[..root_length];
    let last_separator = rest.rfind(['\\', '/']);
    let (directory, file) = match last_separator {
        Some(i) if i >= root_length => (&rest[..i], &rest[i + 1..]),
        _ => (root, &rest[root_length..]),
    };
    // An alternate data stream follows a file name with an extension, as in `file.txt:some.exe`.
    // NOTE: Kusto's documentation shows only such names. A colon after a name without a dot, as
    // in `C:\Users\$env:UserName`, stays in the file name here, and Kusto's output for that case
    // has not been checked.
    let (file, stream) = match file.split_once(':') {
        Some((name, stream)) if name.contains('.') => (name, stream),
        _ => (file, ""),
    };
    let extension = match file.rfind('.') {
        Some(dot) if dot + 1 < file.len() => &file[dot + 1..],
        _ => "",
    };
    let directory_name = directory
        .rsplit(['\\', '/'])
        .next()
        .filter(|_| directory.len() > root_length)
        .unwrap_or("");
    bag.insert("Scheme".into(), Json::String(scheme.to_owned()));
    bag.insert("RootPath".into(), Json::String(root.to_owned()));
    bag.insert("DirectoryPath".into(), Json::String(directory.to_owned()));
    bag.insert(
        "DirectoryName".into(),
        Json::String(directory_name.to_owned()),
    );
    bag.insert("Filename".into(), Json::String(file.to_owned()));
    bag.insert("Extension".into(), Json::String(extension.to_owned()));
    bag.insert(
        "AlternateDataStreamName".into(),
        Json::String(stream.to_owned()),
    );
    Json::Object(bag)
}

/// Splits a command line into arguments with the rules of Windows' `CommandLineToArgvW`:
/// white space separates arguments, double quotes group them, `2n` backslashes before a quote
/// become `n` backslashes and `2n+1` become `n` and a literal quote.
pub fn parse_windows_command_line(text: &str) -> Vec<String> {
    let mut arguments = Vec::new();
    let mut current = String::new();
    let mut in_argument = false;
    let mut quoted = false;
    let chars: Vec<char> = text.chars().collect();
    let mut index = 0;
    while index < chars.len() {
        let c = chars[index];
        match c {
            '\\' => {
                let mut backslashes = 0;
                while index < chars.len() && chars[index] == '\\' {
                    backslashes += 1;
                    index += 1;
                }
                in_argument = true;
                if index < chars.len() && chars[index] == '"' {
                    current.extend(std::iter::repeat_n('\\', backslashes / 2));
                    if backslashes % 2 == 1 {
                        current.push('"');
                        index += 1;
                    }
                } else {
                    current.extend(std::iter::repeat_n('\\', backslashes));
                }
                continue;
            }
            '"' => {
                in_argument = true;
                if quoted && chars.get(index + 1) == Some(&'"') {
                    current.push('"');
                    index += 1;
                } else {
                    quoted = !quoted;
                }
            }
            c if c.is_whitespace() && !quoted => {
                if in_argument {
                    arguments.push(std::mem::take(&mut current));
                    in_argument = false;
                }
            }
            c => {
                in_argument = true;
                current.push(c);
            }
        }
        index += 1;
    }
    if in_argument {
        arguments.push(current);
    }
    arguments
}

/// Splits one CSV record: commas separate fields and double quotes group them.
fn parse_csv_line(text: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                current.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            ',' if !quoted => fields.push(std::mem::take(&mut current)),
            other => current.push(other),
        }
    }
    fields.push(current);
    fields
}

/// Compiles `tostring()` of a dynamic column. A JSON string without escapes is sliced out of
/// its quotes without parsing, because `mv-expand` of `split()` makes many of them. Any other
/// value is parsed and written as `Value::to_text` does.
fn dynamic_to_string(dynamic: PlExpr) -> PlExpr {
    dynamic.map(
        |column: Column| {
            let name = column.name().clone();
            if !matches!(column.dtype(), DataType::Binary) {
                let texts: Vec<String> = column
                    .as_materialized_series()
                    .iter()
                    .map(|value| from_any_value(&value).to_text())
                    .collect();
                return Ok(StringChunked::from_iter_values(name, texts.into_iter()).into_column());
            }
            let values = column.binary()?;
            let mut builder = StringChunkedBuilder::new(name, values.len());
            let mut scratch = Vec::new();
            for value in values.iter() {
                let Some(bytes) = value else {
                    builder.append_value("");
                    continue;
                };
                if let Some(text) = simple_json_string(bytes, &mut scratch) {
                    builder.append_value(text);
                } else {
                    let json = serde_json::from_slice(bytes).unwrap_or(Json::Null);
                    builder.append_value(Value::Dynamic(json).to_text());
                }
            }
            Ok(builder.finish().into_column())
        },
        |_, field: &Field| Ok(Field::new(field.name().clone(), DataType::String)),
    )
}

/// Returns the text of `bytes` when they are one JSON string whose only escapes are `\"`,
/// `\\` and `\/`. Other strings and values return `None`, for `serde_json` to read.
fn simple_json_string<'a>(bytes: &'a [u8], scratch: &'a mut Vec<u8>) -> Option<&'a str> {
    let inner = bytes.strip_prefix(b"\"")?.strip_suffix(b"\"")?;
    if !inner.contains(&b'\\') {
        if inner.iter().any(|&byte| byte == b'"' || byte < 0x20) {
            return None;
        }
        return std::str::from_utf8(inner).ok();
    }
    scratch.clear();
    let mut bytes = inner.iter();
    while let Some(&byte) = bytes.next() {
        match byte {
            b'\\' => match bytes.next() {
                Some(&escaped @ (b'"' | b'\\' | b'/')) => scratch.push(escaped),
                _ => return None,
            },
            b'"' => return None,
            byte if byte < 0x20 => return None,
            byte => scratch.push(byte),
        }
    }
    std::str::from_utf8(scratch).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simple_json_string_matches_serde() {
        let cases: [&[u8]; 12] = [
            br#""""#,
            br#""plain""#,
            br#""C:\\Windows\\x""#,
            br#""say \"hi\"""#,
            br#""a\/b""#,
            br#""line\nbreak""#,
            br#""\u0041""#,
            br#""unterminated\""#,
            br#""inner"quote""#,
            br#"42"#,
            br#"{"a":1}"#,
            "\"ünï\"".as_bytes(),
        ];
        let mut scratch = Vec::new();
        for bytes in cases {
            let parsed: Option<String> = serde_json::from_slice(bytes).ok();
            match simple_json_string(bytes, &mut scratch) {
                Some(text) => assert_eq!(Some(text.to_owned()), parsed, "{bytes:?}"),
                None => {
                    let escaped = bytes
                        .windows(2)
                        .any(|pair| pair[0] == b'\\' && !matches!(pair[1], b'"' | b'\\' | b'/'));
                    assert!(
                        parsed.is_none() || escaped,
                        "{bytes:?} is a simple JSON string but was not read"
                    );
                }
            }
        }
    }

    #[test]
    fn command_line_quotes_and_backslashes() {
        assert_eq!(
            parse_windows_command_line(r#"cmd.exe /c "echo hi" a\\\"b "c d\\""#),
            vec!["cmd.exe", "/c", "echo hi", r#"a\"b"#, r"c d\"]
        );
        assert_eq!(parse_windows_command_line("  "), Vec::<String>::new());
        assert_eq!(parse_windows_command_line(r#""""#), vec![""]);
    }

    #[test]
    fn url_decoding() {
        assert_eq!(url_decode("a%20b+c%2Fd").as_deref(), Some("a b c/d"));
        assert_eq!(url_decode("100%").as_deref(), Some("100%"));
        assert_eq!(url_encode("a b/c"), "a%20b%2Fc");
    }

    #[test]
    fn rewrite_group_references() {
        assert_eq!(rewrite_template(r"x\1-\2$"), "x${1}-${2}$$");
    }

    #[test]
    fn path_parts() {
        let parsed = parse_path(r"C:\Windows\System32\cmd.exe");
        assert_eq!(parsed["RootPath"], "C:");
        assert_eq!(parsed["DirectoryPath"], r"C:\Windows\System32");
        assert_eq!(parsed["DirectoryName"], "System32");
        assert_eq!(parsed["Filename"], "cmd.exe");
        assert_eq!(parsed["Extension"], "exe");
        let unc = parse_path(r"\\server\share\dir\file.txt:hidden");
        assert_eq!(unc["RootPath"], "");
        assert_eq!(unc["DirectoryPath"], r"\\server\share\dir");
        assert_eq!(unc["DirectoryName"], "dir");
        assert_eq!(unc["Filename"], "file.txt");
        assert_eq!(unc["AlternateDataStreamName"], "hidden");
    }

    #[test]
    fn path_colon_and_share() {
        let parsed = parse_path(r"C:\Users\$env:UserName");
        assert_eq!(parsed["DirectoryPath"], r"C:\Users");
        assert_eq!(parsed["Filename"], "$env:UserName");
        assert_eq!(parsed["Extension"], "");
        assert_eq!(parsed["AlternateDataStreamName"], "");

        let scheme = parse_path("file://C:/temp/file.txt:some.exe");
        assert_eq!(scheme["Scheme"], "file");
        assert_eq!(scheme["Filename"], "file.txt");
        assert_eq!(scheme["AlternateDataStreamName"], "some.exe");

        let share = parse_path(r"\\MSTICAlertsWin1\TestShare");
        assert_eq!(share["DirectoryPath"], r"\\MSTICAlertsWin1");
        assert_eq!(share["Filename"], "TestShare");
    }

    #[test]
    fn url_parts() {
        let parsed = parse_url("https://user:pw@example.com:8080/a/b?x=1&y=#frag");
        assert_eq!(parsed["Scheme"], "https");
        assert_eq!(parsed["Host"], "example.com");
        assert_eq!(parsed["Port"], "8080");
        assert_eq!(parsed["Path"], "/a/b");
        assert_eq!(parsed["Username"], "user");
        assert_eq!(parsed["Password"], "pw");
        assert_eq!(parsed["Query Parameters"]["x"], "1");
        assert_eq!(parsed["Fragment"], "frag");
        assert_eq!(parse_url("not a url"), Json::Object(Map::new()));
    }
}
