//! The subset of Python's `str.format` that MSTICPy templates use: `{name}` fields, `{{` and
//! `}}` for literal braces, and the `!s` / `!r` conversions.
//!
//! Fields with a format spec (`{name:>10}`), attribute or index access (`{name.attr}`,
//! `{name[0]}`) or positional fields (`{}`, `{0}`) are rejected, because MSTICPy templates
//! only pass keyword values and no template in MSTICPy's own library uses them.

use std::ops::Range;

/// A piece of a parsed format string.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Piece {
    /// Literal text, with `{{` and `}}` already turned into single braces.
    Text(String),
    Field {
        name: String,
        /// `Some('r')` for `{name!r}`, `Some('s')` for `{name!s}`.
        conversion: Option<char>,
        /// Byte range of the whole field, braces included, in the format string.
        span: Range<usize>,
    },
}

/// A format string that Python's `str.format` would reject, or a form this module does not
/// support.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FormatError {
    pub span: Range<usize>,
    pub message: String,
}

/// Splits a format string into literal text and fields.
pub fn parse(template: &str) -> Result<Vec<Piece>, FormatError> {
    let mut pieces = Vec::new();
    let mut text = String::new();
    let bytes = template.as_bytes();
    let mut index = 0;
    while index < template.len() {
        let ch = template[index..].chars().next().unwrap_or_default();
        match ch {
            '{' if bytes.get(index + 1) == Some(&b'{') => {
                text.push('{');
                index += 2;
            }
            '}' if bytes.get(index + 1) == Some(&b'}') => {
                text.push('}');
                index += 2;
            }
            '}' => {
                return Err(FormatError {
                    span: index..index + 1,
                    message: "single `}` in the query; write `}}` for a literal brace".to_string(),
                });
            }
            '{' => {
                let Some(length) = template[index + 1..].find('}') else {
                    return Err(FormatError {
                        span: index..template.len(),
                        message:
                            "`{` without a closing `}` in the query; write `{{` for a literal brace"
                                .to_string(),
                    });
                };
                let end = index + 1 + length + 1;
                let inner = &template[index + 1..end - 1];
                if inner.contains('{') {
                    return Err(FormatError {
                        span: index..end,
                        message: format!(
                            "nested `{{` inside the field `{{{inner}}}`; write `{{{{` for a literal brace"
                        ),
                    });
                }
                let (name, conversion) = parse_field(inner, index..end)?;
                if !text.is_empty() {
                    pieces.push(Piece::Text(std::mem::take(&mut text)));
                }
                pieces.push(Piece::Field {
                    name,
                    conversion,
                    span: index..end,
                });
                index = end;
            }
            other => {
                text.push(other);
                index += other.len_utf8();
            }
        }
    }
    if !text.is_empty() {
        pieces.push(Piece::Text(text));
    }
    Ok(pieces)
}

fn parse_field(inner: &str, span: Range<usize>) -> Result<(String, Option<char>), FormatError> {
    let (name_part, spec) = match inner.find(':') {
        Some(colon) => (&inner[..colon], Some(&inner[colon + 1..])),
        None => (inner, None),
    };
    let (name, conversion) = match name_part.find('!') {
        Some(bang) => {
            let conversion = &name_part[bang + 1..];
            match conversion {
                "r" | "s" => (&name_part[..bang], conversion.chars().next()),
                _ => {
                    return Err(FormatError {
                        span,
                        message: format!(
                            "unknown conversion `!{conversion}` in `{{{inner}}}`; use `!s`, `!r` or none"
                        ),
                    });
                }
            }
        }
        None => (name_part, None),
    };
    if spec.is_some_and(|spec| !spec.is_empty()) {
        return Err(FormatError {
            span,
            message: format!(
                "format specs such as `{{{inner}}}` are not supported; write `{{{name}}}`"
            ),
        });
    }
    if name.is_empty() || name.chars().all(|c| c.is_ascii_digit()) {
        return Err(FormatError {
            span,
            message: format!(
                "positional field `{{{inner}}}` in the query; name the parameter, as in `{{host_name}}`"
            ),
        });
    }
    if name.contains(['.', '[']) {
        return Err(FormatError {
            span,
            message: format!(
                "attribute or index access in `{{{inner}}}` is not supported; use a plain parameter name"
            ),
        });
    }
    Ok((name.to_string(), conversion))
}

/// Returns the names that MSTICPy's validation treats as parameters of the query: every
/// `{name}` that is not part of `{{` or `}}` (MSTICPy's pattern
/// `{(?<!{{)(?!{)([^}]+)}(?!})(?<!}})`), with the byte range of each match.
pub fn msticpy_placeholders(query: &str) -> Vec<(String, Range<usize>)> {
    let bytes = query.as_bytes();
    let mut out = Vec::new();
    let mut index = 0;
    while index < bytes.len() {
        let opens = bytes[index] == b'{'
            && (index == 0 || bytes[index - 1] != b'{')
            && bytes.get(index + 1).is_some_and(|next| *next != b'{');
        if opens && let Some(length) = query[index + 1..].find('}') {
            let close = index + 1 + length;
            if length > 0 && bytes.get(close + 1) != Some(&b'}') {
                out.push((query[index + 1..close].to_string(), index..close + 1));
                index = close + 1;
                continue;
            }
        }
        index += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_splits_fields_and_braces() {
        let pieces = parse("a {{b}} {c}!").unwrap();
        assert_eq!(pieces[0], Piece::Text("a {b} ".into()));
        assert!(matches!(&pieces[1], Piece::Field { name, .. } if name == "c"));
        assert_eq!(pieces[2], Piece::Text("!".into()));
    }

    #[test]
    fn parse_rejects_unbalanced_braces() {
        assert!(parse("a } b").is_err());
        assert!(parse("a { b").is_err());
        assert!(parse("{}").is_err());
        assert!(parse("{x:>3}").is_err());
    }

    #[test]
    fn placeholders_skip_doubled_braces() {
        let found: Vec<String> = msticpy_placeholders("{{a}} {b} {{ {c} }}")
            .into_iter()
            .map(|(name, _)| name)
            .collect();
        assert_eq!(found, vec!["b", "c"]);
    }
}
