//! A YAML document tree that keeps the byte range of every key and value.
//!
//! MSTICPy reads template files with PyYAML's `safe_load`, which resolves plain scalars by the
//! YAML 1.1 rules (`yes`, `on` and `off` are booleans, `0o17`-style octals do not exist, `017`
//! is octal). The tree here applies the same rules so that values compare equal to what MSTICPy
//! reads, and it keeps positions so that problems, hover and completion can point into the file.

use std::collections::HashMap;
use std::ops::Range;

use saphyr_parser::{Event, Parser, ScalarStyle, Span as ParserSpan};

/// A node of a YAML document with the byte range it was read from.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub value: Value,
    pub span: Range<usize>,
}

/// The value of a YAML node after PyYAML-compatible scalar resolution.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    /// A plain scalar that PyYAML reads as a date or timestamp, kept as written.
    Timestamp(String),
    Seq(Vec<Node>),
    /// Entries in file order. Duplicate keys stay in the list; lookups return the last one,
    /// as PyYAML does.
    Map(Vec<(Node, Node)>),
}

impl Node {
    pub fn new(value: Value, span: Range<usize>) -> Node {
        Node { value, span }
    }

    /// Returns the value of the last entry whose key is the string `key`.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|(_, value)| value)
    }

    /// Returns the last entry (key node and value node) whose key is the string `key`.
    pub fn entry(&self, key: &str) -> Option<(&Node, &Node)> {
        match &self.value {
            Value::Map(entries) => entries
                .iter()
                .rev()
                .find(|(k, _)| k.key_text().as_deref() == Some(key))
                .map(|(k, v)| (k, v)),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Str(text) => Some(text),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&[(Node, Node)]> {
        match &self.value {
            Value::Map(entries) => Some(entries),
            _ => None,
        }
    }

    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.value {
            Value::Seq(items) => Some(items),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self.value, Value::Null)
    }

    /// Returns whether Python would treat the value as false (`None`, empty string, empty
    /// collection, zero or `False`).
    pub fn is_falsy(&self) -> bool {
        match &self.value {
            Value::Null => true,
            Value::Bool(flag) => !flag,
            Value::Int(number) => *number == 0,
            Value::Float(number) => *number == 0.0,
            Value::Str(text) => text.is_empty(),
            Value::Timestamp(_) => false,
            Value::Seq(items) => items.is_empty(),
            Value::Map(entries) => entries.is_empty(),
        }
    }

    /// Returns the text a mapping key is looked up by: the string itself, or the Python `str()`
    /// of a number or boolean key.
    pub fn key_text(&self) -> Option<String> {
        match &self.value {
            Value::Str(text) | Value::Timestamp(text) => Some(text.clone()),
            Value::Int(_) | Value::Float(_) | Value::Bool(_) => Some(python_str(&self.value)),
            Value::Null => Some("None".to_string()),
            Value::Seq(_) | Value::Map(_) => None,
        }
    }

    /// Returns the name of the value's type in the words of the template schema.
    pub fn type_name(&self) -> &'static str {
        match &self.value {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Int(_) => "integer",
            Value::Float(_) => "number",
            Value::Str(_) | Value::Timestamp(_) => "string",
            Value::Seq(_) => "array",
            Value::Map(_) => "object",
        }
    }
}

/// Formats a scalar value the way Python's `str()` does.
pub fn python_str(value: &Value) -> String {
    match value {
        Value::Null => "None".to_string(),
        Value::Bool(true) => "True".to_string(),
        Value::Bool(false) => "False".to_string(),
        Value::Int(number) => number.to_string(),
        Value::Float(number) => python_float_repr(*number),
        Value::Str(text) | Value::Timestamp(text) => text.clone(),
        Value::Seq(items) => {
            let inner: Vec<String> = items.iter().map(|item| python_repr(&item.value)).collect();
            format!("[{}]", inner.join(", "))
        }
        Value::Map(entries) => {
            let inner: Vec<String> = entries
                .iter()
                .map(|(key, value)| {
                    format!("{}: {}", python_repr(&key.value), python_repr(&value.value))
                })
                .collect();
            format!("{{{}}}", inner.join(", "))
        }
    }
}

/// Formats a value the way Python's `repr()` does for the types YAML produces.
pub fn python_repr(value: &Value) -> String {
    match value {
        Value::Str(text) | Value::Timestamp(text) => python_string_repr(text),
        other => python_str(other),
    }
}

fn python_string_repr(text: &str) -> String {
    let quote = if text.contains('\'') && !text.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(text.len() + 2);
    out.push(quote);
    for ch in text.chars() {
        match ch {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// Formats a float as Python's `repr()`: the shortest round-trip digits, in positional
/// notation for exponents from -4 to 15 and in scientific notation outside that range.
pub fn python_float_repr(number: f64) -> String {
    if number.is_nan() {
        return "nan".to_string();
    }
    if number.is_infinite() {
        return if number > 0.0 { "inf" } else { "-inf" }.to_string();
    }
    // Rust's `{:e}` prints the shortest round-trip digits, like Python's repr.
    let scientific = format!("{number:e}");
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let negative = mantissa.starts_with('-');
    let digits: String = mantissa.chars().filter(|c| c.is_ascii_digit()).collect();
    let sign = if negative { "-" } else { "" };
    if (-4..16).contains(&exponent) {
        let point = exponent + 1;
        let text = if point <= 0 {
            format!("0.{}{}", "0".repeat((-point) as usize), digits)
        } else if point as usize >= digits.len() {
            format!("{}{}.0", digits, "0".repeat(point as usize - digits.len()))
        } else {
            format!(
                "{}.{}",
                &digits[..point as usize],
                &digits[point as usize..]
            )
        };
        format!("{sign}{text}")
    } else {
        let (first, rest) = digits.split_at(1);
        let fraction = if rest.is_empty() {
            String::new()
        } else {
            format!(".{rest}")
        };
        let exponent_sign = if exponent < 0 { '-' } else { '+' };
        format!(
            "{sign}{first}{fraction}e{exponent_sign}{:02}",
            exponent.abs()
        )
    }
}

/// A YAML syntax error with the byte offset where the parser stopped.
#[derive(Clone, Debug, PartialEq)]
pub struct YamlError {
    pub offset: usize,
    pub message: String,
}

/// Parses the first document of `text`. An empty document is `Value::Null`.
///
/// PyYAML accepts continuation lines of a quoted scalar that are indented no deeper than the
/// key (`query: '` followed by lines at the key's indentation), and MSTICPy's own files use
/// them. The YAML specification and saphyr reject them. Such lines are indented by the missing
/// spaces and parsed again; the added spaces do not change the value, because line folding
/// drops leading whitespace, and spans are mapped back to the original text.
pub fn parse(text: &str) -> Result<Node, YamlError> {
    let mut current = text.to_string();
    let mut insertions: Vec<(usize, usize)> = Vec::new();
    loop {
        match parse_once(&current) {
            Ok(mut node) => {
                remap_spans(&mut node, &insertions);
                return Ok(node);
            }
            Err(error) => {
                let fixable = error
                    .message
                    .contains("invalid indentation in quoted scalar")
                    || error.message.contains("tab cannot be used as indentation");
                let fixed = fixable && insertions.len() < 10_000 && {
                    let before = insertions.len();
                    indent_quoted_scalar(&mut current, error.offset, &mut insertions);
                    insertions.len() > before
                };
                if !fixed {
                    return Err(YamlError {
                        offset: original_offset(error.offset, &insertions),
                        message: error.message,
                    });
                }
            }
        }
    }
}

fn parse_once(text: &str) -> Result<Node, YamlError> {
    let offsets = CharOffsets::new(text);
    let mut builder = TreeBuilder::default();
    for event in Parser::new_from_str(text) {
        let (event, span) = event.map_err(|error| YamlError {
            offset: offsets.byte(error.marker().index()),
            message: error.info().to_string(),
        })?;
        let range = offsets.byte(span.start.index())..offsets.byte(span.end.index());
        if let Some(error) = builder.push(event, range, span) {
            return Err(error);
        }
        if builder.finished {
            break;
        }
    }
    Ok(builder
        .document
        .unwrap_or_else(|| Node::new(Value::Null, 0..0)))
}

/// Indents the under-indented continuation lines of the quoted scalar that contains `offset`
/// (or starts on its line). Records each insertion as (offset in the text at that time, number
/// of spaces).
fn indent_quoted_scalar(text: &mut String, offset: usize, insertions: &mut Vec<(usize, usize)>) {
    let Some((indent, start, end)) = find_quoted_scalar(text, offset.min(text.len())) else {
        return;
    };
    let mut line_starts: Vec<usize> = text[start..end]
        .match_indices('\n')
        .map(|(index, _)| start + index + 1)
        .collect();
    // Insert from the back so earlier offsets stay valid.
    line_starts.reverse();
    let mut applied = Vec::new();
    for position in line_starts {
        let rest = &text[position..];
        let spaces = rest.len() - rest.trim_start_matches(' ').len();
        let blank = rest[spaces..].starts_with(['\n', '\r']) || rest[spaces..].is_empty();
        if blank || spaces > indent {
            continue;
        }
        let count = indent + 1 - spaces;
        text.insert_str(position, &" ".repeat(count));
        applied.push((position, count));
    }
    // Recorded in application order: from the back of the text to the front.
    insertions.extend(applied);
}

/// Finds the quoted scalar (a value starting with a quote after `key:` or `-`) that starts on
/// the line of `offset` or spans it. Returns the indentation of its first line and the byte
/// range of its body.
fn find_quoted_scalar(text: &str, offset: usize) -> Option<(usize, usize, usize)> {
    let mut line_start = text[..offset].rfind('\n').map_or(0, |index| index + 1);
    for _ in 0..2000 {
        let line_end = text[line_start..]
            .find('\n')
            .map_or(text.len(), |index| line_start + index);
        let line = &text[line_start..line_end];
        let opening = line.char_indices().find(|(index, ch)| {
            (*ch == '\'' || *ch == '"') && {
                let before = line[..*index].trim_end();
                before.ends_with(':') || before.ends_with('-')
            }
        });
        if let Some((quote_index, quote)) = opening {
            let start = line_start + quote_index + 1;
            let end = quoted_scalar_end(text, start, quote);
            if end >= offset {
                let indent = line.len() - line.trim_start_matches(' ').len();
                return Some((indent, start, end));
            }
        }
        if line_start == 0 {
            return None;
        }
        line_start = text[..line_start - 1]
            .rfind('\n')
            .map_or(0, |index| index + 1);
    }
    None
}

fn quoted_scalar_end(text: &str, start: usize, quote: char) -> usize {
    let bytes = text.as_bytes();
    let mut index = start;
    while index < bytes.len() {
        let byte = bytes[index];
        if quote == '"' && byte == b'\\' {
            index += 2;
            continue;
        }
        if byte == quote as u8 {
            if quote == '\'' && bytes.get(index + 1) == Some(&b'\'') {
                index += 2;
                continue;
            }
            return index;
        }
        index += 1;
    }
    text.len()
}

/// Maps an offset in the edited text back to the original text.
fn original_offset(offset: usize, insertions: &[(usize, usize)]) -> usize {
    let mut offset = offset;
    for (position, count) in insertions.iter().rev() {
        if offset >= position + count {
            offset -= count;
        } else if offset > *position {
            offset = *position;
        }
    }
    offset
}

fn remap_spans(node: &mut Node, insertions: &[(usize, usize)]) {
    if insertions.is_empty() {
        return;
    }
    node.span =
        original_offset(node.span.start, insertions)..original_offset(node.span.end, insertions);
    match &mut node.value {
        Value::Seq(items) => items
            .iter_mut()
            .for_each(|item| remap_spans(item, insertions)),
        Value::Map(entries) => entries.iter_mut().for_each(|(key, value)| {
            remap_spans(key, insertions);
            remap_spans(value, insertions);
        }),
        _ => {}
    }
}

/// Converts the parser's character indexes into byte offsets.
struct CharOffsets {
    /// Byte offset of each character, or `None` when the text is ASCII and the two agree.
    bytes: Option<Vec<usize>>,
    len: usize,
}

impl CharOffsets {
    fn new(text: &str) -> CharOffsets {
        let bytes = (!text.is_ascii()).then(|| text.char_indices().map(|(i, _)| i).collect());
        CharOffsets {
            bytes,
            len: text.len(),
        }
    }

    fn byte(&self, char_index: usize) -> usize {
        match &self.bytes {
            None => char_index.min(self.len),
            Some(table) => table.get(char_index).copied().unwrap_or(self.len),
        }
    }
}

enum Frame {
    Seq {
        items: Vec<Node>,
        start: usize,
        anchor: usize,
    },
    Map {
        entries: Vec<(Node, Node)>,
        pending_key: Option<Node>,
        start: usize,
        anchor: usize,
    },
}

#[derive(Default)]
struct TreeBuilder {
    stack: Vec<Frame>,
    anchors: HashMap<usize, Node>,
    document: Option<Node>,
    finished: bool,
}

impl TreeBuilder {
    fn push(
        &mut self,
        event: Event<'_>,
        range: Range<usize>,
        span: ParserSpan,
    ) -> Option<YamlError> {
        match event {
            Event::Scalar(text, style, anchor, tag) => {
                let tag_suffix = tag.as_ref().map(|tag| tag.suffix.clone());
                let value = resolve_scalar(&text, style, tag_suffix.as_deref());
                let node = Node::new(value, range);
                if anchor > 0 {
                    self.anchors.insert(anchor, node.clone());
                }
                self.add(node)
            }
            // An alias keeps the span of the anchored node, where its text is written.
            Event::Alias(anchor) => match self.anchors.get(&anchor) {
                Some(node) => {
                    let node = node.clone();
                    self.add(node)
                }
                None => Some(YamlError {
                    offset: range.start,
                    message: "alias refers to an unknown anchor".to_string(),
                }),
            },
            Event::SequenceStart(anchor, _) => {
                self.stack.push(Frame::Seq {
                    items: Vec::new(),
                    start: range.start,
                    anchor,
                });
                None
            }
            Event::MappingStart(anchor, _) => {
                self.stack.push(Frame::Map {
                    entries: Vec::new(),
                    pending_key: None,
                    start: range.start,
                    anchor,
                });
                None
            }
            Event::SequenceEnd | Event::MappingEnd => {
                // A flow collection ends at its `]` or `}`. A block collection's end event has an
                // empty span at the next token, so it ends with its last child instead.
                let closing_end = (span.end.index() > span.start.index()).then_some(range.end);
                let frame = self.stack.pop()?;
                let (value, start, anchor, last_child_end) = match frame {
                    Frame::Seq {
                        items,
                        start,
                        anchor,
                    } => {
                        let last = items.last().map(|item| item.span.end);
                        (Value::Seq(items), start, anchor, last)
                    }
                    Frame::Map {
                        entries,
                        start,
                        anchor,
                        ..
                    } => {
                        let last = entries.last().map(|(_, value)| value.span.end);
                        (Value::Map(entries), start, anchor, last)
                    }
                };
                let end = closing_end
                    .or(last_child_end)
                    .unwrap_or(range.start)
                    .max(start);
                let node = Node::new(value, start..end);
                if anchor > 0 {
                    self.anchors.insert(anchor, node.clone());
                }
                self.add(node)
            }
            Event::DocumentEnd => {
                self.finished = true;
                None
            }
            Event::StreamEnd => {
                self.finished = true;
                None
            }
            Event::Nothing | Event::StreamStart | Event::DocumentStart(_) => None,
        }
    }

    fn add(&mut self, node: Node) -> Option<YamlError> {
        match self.stack.last_mut() {
            None => {
                self.document = Some(node);
            }
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map {
                entries,
                pending_key,
                ..
            }) => match pending_key.take() {
                None => *pending_key = Some(node),
                Some(key) => {
                    let is_merge_key = matches!(&key.value, Value::Str(text) if text == "<<")
                        && matches!(node.value, Value::Map(_) | Value::Seq(_));
                    if is_merge_key {
                        merge_into(entries, &node);
                    } else {
                        entries.push((key, node));
                    }
                }
            },
        }
        None
    }
}

/// Applies a YAML merge key (`<<: *anchor`): entries of the merged mappings are added unless
/// the mapping already has the key.
fn merge_into(entries: &mut Vec<(Node, Node)>, merged: &Node) {
    let sources: Vec<&Node> = match &merged.value {
        Value::Map(_) => vec![merged],
        Value::Seq(items) => items.iter().collect(),
        _ => Vec::new(),
    };
    for source in sources {
        if let Value::Map(source_entries) = &source.value {
            for (key, value) in source_entries {
                let exists = entries.iter().any(|(k, _)| k.key_text() == key.key_text());
                if !exists {
                    entries.push((key.clone(), value.clone()));
                }
            }
        }
    }
}

/// Resolves a scalar to a typed value as PyYAML's SafeLoader does (YAML 1.1 core types).
fn resolve_scalar(text: &str, style: ScalarStyle, tag_suffix: Option<&str>) -> Value {
    if let Some(suffix) = tag_suffix {
        return match suffix {
            "str" => Value::Str(text.to_string()),
            "int" => {
                parse_yaml11_int(text).map_or_else(|| Value::Str(text.to_string()), Value::Int)
            }
            "float" => {
                parse_yaml11_float(text).map_or_else(|| Value::Str(text.to_string()), Value::Float)
            }
            "bool" => {
                parse_yaml11_bool(text).map_or_else(|| Value::Str(text.to_string()), Value::Bool)
            }
            "null" => Value::Null,
            _ => Value::Str(text.to_string()),
        };
    }
    if style != ScalarStyle::Plain {
        return Value::Str(text.to_string());
    }
    if matches!(text, "" | "~" | "null" | "Null" | "NULL") {
        return Value::Null;
    }
    if let Some(flag) = parse_yaml11_bool(text) {
        return Value::Bool(flag);
    }
    if let Some(number) = parse_yaml11_int(text) {
        return Value::Int(number);
    }
    if let Some(number) = parse_yaml11_float(text) {
        return Value::Float(number);
    }
    if is_yaml11_timestamp(text) {
        return Value::Timestamp(text.to_string());
    }
    Value::Str(text.to_string())
}

fn parse_yaml11_bool(text: &str) -> Option<bool> {
    match text {
        "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => Some(true),
        "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => Some(false),
        _ => None,
    }
}

fn split_sign(text: &str) -> (i64, &str) {
    if let Some(rest) = text.strip_prefix('-') {
        (-1, rest)
    } else if let Some(rest) = text.strip_prefix('+') {
        (1, rest)
    } else {
        (1, text)
    }
}

/// Parses a YAML 1.1 integer: decimal, `0b` binary, `0x` hex, leading-zero octal, `_`
/// separators and base-60 (`1:30`).
fn parse_yaml11_int(text: &str) -> Option<i64> {
    let (sign, body) = split_sign(text);
    if body.is_empty() {
        return None;
    }
    let digits: String = body.chars().filter(|c| *c != '_').collect();
    let magnitude = if let Some(binary) = body.strip_prefix("0b") {
        let binary: String = binary.chars().filter(|c| *c != '_').collect();
        if binary.is_empty() || !binary.chars().all(|c| c == '0' || c == '1') {
            return None;
        }
        i64::from_str_radix(&binary, 2).ok()?
    } else if let Some(hex) = body.strip_prefix("0x") {
        let hex: String = hex.chars().filter(|c| *c != '_').collect();
        if hex.is_empty() || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        i64::from_str_radix(&hex, 16).ok()?
    } else if body.contains(':') {
        if !body.starts_with(|c: char| ('1'..='9').contains(&c)) {
            return None;
        }
        let mut total: i64 = 0;
        for (index, part) in body.split(':').enumerate() {
            let part: String = part.chars().filter(|c| *c != '_').collect();
            let valid = !part.is_empty()
                && part.chars().all(|c| c.is_ascii_digit())
                && (index == 0 || (part.len() <= 2 && part.parse::<i64>().ok()? <= 59));
            if !valid {
                return None;
            }
            total = total.checked_mul(60)?.checked_add(part.parse().ok()?)?;
        }
        total
    } else if body.starts_with('0') && body.len() > 1 {
        if !digits.chars().all(|c| ('0'..='7').contains(&c)) {
            return None;
        }
        i64::from_str_radix(&digits, 8).ok()?
    } else {
        if !body.starts_with(|c: char| c.is_ascii_digit())
            || digits.is_empty()
            || !digits.chars().all(|c| c.is_ascii_digit())
        {
            return None;
        }
        digits.parse().ok()?
    };
    Some(sign * magnitude)
}

/// Parses a YAML 1.1 float as PyYAML's resolver accepts it. A float must contain a `.`
/// (so `1e5` is a string, as in PyYAML).
fn parse_yaml11_float(text: &str) -> Option<f64> {
    let (sign, body) = split_sign(text);
    match body {
        ".inf" | ".Inf" | ".INF" => return Some(sign as f64 * f64::INFINITY),
        ".nan" | ".NaN" | ".NAN" if sign == 1 && !text.starts_with('+') => return Some(f64::NAN),
        _ => {}
    }

    if !body.contains('.') {
        return None;
    }
    let (number_part, exponent) = match body.find(['e', 'E']) {
        Some(index) => (&body[..index], Some(&body[index + 1..])),
        None => (body, None),
    };
    if let Some(exponent) = exponent {
        let (_, exponent_digits) = split_sign(exponent);
        let signed = exponent.starts_with(['+', '-']);
        if !signed
            || exponent_digits.is_empty()
            || !exponent_digits.chars().all(|c| c.is_ascii_digit())
        {
            return None;
        }
    }

    // Base 60, such as `1:30.5`.
    if number_part.contains(':') {
        let (whole, fraction) = number_part.rsplit_once('.')?;
        let mut total = 0f64;
        for part in whole.split(':') {
            if part.is_empty() || !part.chars().all(|c| c.is_ascii_digit() || c == '_') {
                return None;
            }
            total = total * 60.0 + part.replace('_', "").parse::<f64>().ok()?;
        }
        let fraction: String = fraction.chars().filter(|c| *c != '_').collect();
        let fraction_value: f64 = format!("0.{fraction}0").parse().ok()?;
        return Some(sign as f64 * (total + fraction_value));
    }

    let (whole, fraction) = number_part.split_once('.')?;
    let whole_ok = whole.is_empty()
        || (whole.starts_with(|c: char| c.is_ascii_digit())
            && whole.chars().all(|c| c.is_ascii_digit() || c == '_'));
    let fraction_ok = fraction.chars().all(|c| c.is_ascii_digit() || c == '_');
    if !whole_ok || !fraction_ok || (whole.is_empty() && fraction.is_empty()) {
        return None;
    }
    if whole.is_empty() && !fraction.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }

    let cleaned: String = body.chars().filter(|c| *c != '_').collect();
    let cleaned = if cleaned.ends_with('.') {
        format!("{cleaned}0")
    } else {
        cleaned
    };
    let cleaned = cleaned.replace(".e", ".0e").replace(".E", ".0E");
    cleaned.parse::<f64>().ok().map(|value| sign as f64 * value)
}

/// Returns whether PyYAML would read a plain scalar as a date (`2002-12-14`) or timestamp
/// (`2001-12-14t21:59:43.10-05:00` and its space-separated forms).
fn is_yaml11_timestamp(text: &str) -> bool {
    let bytes = text.as_bytes();
    let is_date = |b: &[u8]| {
        b.len() >= 8 && {
            let parts: Vec<&[u8]> = b.splitn(3, |c| *c == b'-').collect();
            parts.len() == 3
                && parts[0].len() == 4
                && (1..=2).contains(&parts[1].len())
                && (1..=2).contains(&parts[2].len())
                && parts.iter().all(|p| p.iter().all(u8::is_ascii_digit))
        }
    };
    if is_date(bytes) {
        return true;
    }
    let split = text.find(['T', 't', ' ']);
    match split {
        Some(index) if is_date(text[..index].trim_end().as_bytes()) => {
            let rest = text[index + 1..].trim_start();
            let time: &str = rest.split(['Z', '+', '-', ' ']).next().unwrap_or("");
            let fields: Vec<&str> = time.split(':').collect();
            fields.len() == 3
                && (1..=2).contains(&fields[0].len())
                && fields[1].len() == 2
                && fields[2].split('.').next().is_some_and(|s| s.len() == 2)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value_of(text: &str) -> Value {
        let root = parse(&format!("key: {text}\n")).unwrap();
        root.get("key").unwrap().value.clone()
    }

    #[test]
    fn scalars_resolve_like_pyyaml() {
        assert_eq!(value_of("yes"), Value::Bool(true));
        assert_eq!(value_of("Off"), Value::Bool(false));
        assert_eq!(value_of("None"), Value::Str("None".into()));
        assert_eq!(value_of("~"), Value::Null);
        assert_eq!(value_of(""), Value::Null);
        assert_eq!(value_of("010"), Value::Int(8));
        assert_eq!(value_of("0x1F"), Value::Int(31));
        assert_eq!(value_of("1_000"), Value::Int(1000));
        assert_eq!(value_of("1:30"), Value::Int(90));
        assert_eq!(value_of("1e5"), Value::Str("1e5".into()));
        assert_eq!(value_of("1.5e+3"), Value::Float(1500.0));
        assert_eq!(value_of("'yes'"), Value::Str("yes".into()));
        assert_eq!(
            value_of("2023-01-02"),
            Value::Timestamp("2023-01-02".into())
        );
        assert_eq!(value_of("-3d@d"), Value::Str("-3d@d".into()));
    }

    #[test]
    fn float_repr_matches_python() {
        assert_eq!(python_float_repr(1.0), "1.0");
        assert_eq!(python_float_repr(0.1), "0.1");
        assert_eq!(python_float_repr(1e16), "1e+16");
        assert_eq!(python_float_repr(123456789012345.6), "123456789012345.6");
        assert_eq!(python_float_repr(0.0001), "0.0001");
        assert_eq!(python_float_repr(0.00001), "1e-05");
        assert_eq!(python_float_repr(-2.5), "-2.5");
    }

    #[test]
    fn spans_point_at_keys_and_values() {
        let text = "a:\n  bé: [1, two]\n  c: 'x'\n";
        let root = parse(text).unwrap();
        let inner = root.get("a").unwrap();
        let (key, value) = inner.entry("bé").unwrap();
        assert_eq!(&text[key.span.clone()], "bé");
        assert_eq!(&text[value.span.clone()], "[1, two]");
        let c = inner.get("c").unwrap();
        assert_eq!(&text[c.span.clone()], "'x'");
    }

    #[test]
    fn folded_single_quoted_scalar_matches_pyyaml() {
        let text = "q: '\n  T\n  | where x\n\n  | take 1'\n";
        let root = parse(text).unwrap();
        assert_eq!(
            root.get("q").unwrap().as_str(),
            Some(" T | where x\n| take 1")
        );
    }

    #[test]
    fn underindented_quoted_scalar_loads_like_pyyaml() {
        let text = "a:\n  query: '\n  | x\n    y\n\t\t| z'\nb: 1\n";
        let root = parse(text).unwrap();
        let inner = root.get("a").unwrap();
        let query = inner.get("query").unwrap();
        assert_eq!(query.as_str(), Some(" | x y | z"));
        assert_eq!(&text[query.span.clone()], "'\n  | x\n    y\n\t\t| z'");
        let b = root.get("b").unwrap();
        assert_eq!(&text[b.span.clone()], "1");
    }

    #[test]
    fn syntax_error_has_offset() {
        let error = parse("a: [1, 2\nb: 3\n").unwrap_err();
        assert!(error.offset > 0, "{error:?}");
    }
}
