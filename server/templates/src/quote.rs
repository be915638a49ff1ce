//! Lexical contexts of query text and the escaping that keeps a value inside its context.
//!
//! For each `{param}` field, the renderer finds what the text before it has opened: a string
//! literal, a comment or nothing (code). A value placed inside a string literal is escaped so
//! that no character of it can end the literal; a value placed in a comment cannot break the
//! line. These rules are Quarry's own: MSTICPy inserts values as they are.

/// Query language whose literal syntax the renderer follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Dialect {
    /// Kusto Query Language (Microsoft Sentinel, Defender, Azure Data Explorer).
    Kql,
    /// Splunk's Search Processing Language.
    Splunk,
}

/// Lexical context at the end of a piece of query text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Context {
    Code,
    /// Inside `"..."` (backslash escapes).
    DoubleQuoted,
    /// Inside `'...'` (backslash escapes in KQL, none in SPL).
    SingleQuoted,
    /// Inside KQL `@"..."`, where `""` is a quote and backslashes are plain.
    VerbatimDouble,
    /// Inside KQL `@'...'`.
    VerbatimSingle,
    /// Inside a KQL multi-line literal (three backticks or tildes) or an SPL comment (three
    /// backticks).
    Fenced(char),
    /// Inside a KQL `//` comment, which ends at the line break.
    LineComment,
}

/// Returns the lexical context at the end of `text`.
pub fn context_at_end(dialect: Dialect, text: &str) -> Context {
    let chars: Vec<char> = text.chars().collect();
    let mut context = Context::Code;
    let mut index = 0;
    while index < chars.len() {
        let ch = chars[index];
        let next = chars.get(index + 1).copied();
        let fence = |c: char| {
            chars
                .get(index..index + 3)
                .is_some_and(|run| run.iter().all(|x| *x == c))
        };
        match context {
            Context::Code => match ch {
                '"' => context = Context::DoubleQuoted,
                '\'' => context = Context::SingleQuoted,
                '@' if dialect == Dialect::Kql && next == Some('"') => {
                    context = Context::VerbatimDouble;
                    index += 1;
                }
                '@' if dialect == Dialect::Kql && next == Some('\'') => {
                    context = Context::VerbatimSingle;
                    index += 1;
                }
                '/' if dialect == Dialect::Kql && next == Some('/') => {
                    context = Context::LineComment;
                    index += 1;
                }
                '`' if fence('`') => {
                    context = Context::Fenced('`');
                    index += 2;
                }
                '~' if dialect == Dialect::Kql && fence('~') => {
                    context = Context::Fenced('~');
                    index += 2;
                }
                _ => {}
            },
            Context::DoubleQuoted | Context::SingleQuoted => {
                let quote = if context == Context::DoubleQuoted {
                    '"'
                } else {
                    '\''
                };
                let escapes = dialect == Dialect::Kql || quote == '"';
                if ch == '\\' && escapes {
                    index += 1;
                } else if ch == quote || (dialect == Dialect::Kql && ch == '\n') {
                    context = Context::Code;
                }
            }
            Context::VerbatimDouble | Context::VerbatimSingle => {
                let quote = if context == Context::VerbatimDouble {
                    '"'
                } else {
                    '\''
                };
                if ch == quote && next == Some(quote) {
                    index += 1;
                } else if ch == quote || ch == '\n' {
                    context = Context::Code;
                }
            }
            Context::Fenced(marker) => {
                if ch == marker && fence(marker) {
                    context = Context::Code;
                    index += 2;
                }
            }
            Context::LineComment => {
                if ch == '\n' {
                    context = Context::Code;
                }
            }
        }
        index += 1;
    }
    context
}

/// Characters that some readers treat as line breaks or that are invisible controls. They are
/// written as `\uXXXX` inside KQL literals so the rendered text stays on one line.
fn needs_unicode_escape(ch: char) -> bool {
    (ch as u32) < 0x20 || ch == '\u{7f}' || ch == '\u{85}' || ch == '\u{2028}' || ch == '\u{2029}'
}

/// Escapes `value` so that, placed in `context`, it stays inside that context. Returns an error
/// message when the context has no way to hold the value.
pub fn escape_for_context(
    dialect: Dialect,
    context: Context,
    value: &str,
) -> Result<String, String> {
    match (dialect, context) {
        (_, Context::Code) => Ok(value.to_string()),
        (Dialect::Kql, Context::DoubleQuoted) => Ok(escape_kql_body(value, '"')),
        (Dialect::Kql, Context::SingleQuoted) => Ok(escape_kql_body(value, '\'')),
        (Dialect::Kql, Context::VerbatimDouble | Context::VerbatimSingle) => {
            let quote = if context == Context::VerbatimDouble {
                '"'
            } else {
                '\''
            };
            if value.chars().any(needs_unicode_escape) {
                return Err(
                    "contains a line break or control character, which a verbatim (@) string cannot hold; change the template to use a regular \"...\" literal".to_string(),
                );
            }
            Ok(value.replace(quote, &format!("{quote}{quote}")))
        }
        (_, Context::Fenced(marker)) => {
            let fence: String = std::iter::repeat_n(marker, 3).collect();
            if value.contains(&fence) || value.ends_with(marker) {
                return Err(format!(
                    "contains `{fence}` or ends with `{marker}`, which would end the surrounding {fence} block"
                ));
            }
            Ok(value.to_string())
        }
        (_, Context::LineComment) => Ok(value
            .chars()
            .map(|ch| if needs_unicode_escape(ch) { ' ' } else { ch })
            .collect()),
        (Dialect::Splunk, Context::DoubleQuoted) => Ok(escape_splunk_body(value)),
        (Dialect::Splunk, _) => {
            if value.contains(['\'', '\\']) || value.chars().any(needs_unicode_escape) {
                return Err(
                    "contains a quote, backslash or line break, which a single-quoted SPL field name cannot hold".to_string(),
                );
            }
            Ok(value.to_string())
        }
    }
}

/// Escapes the body of a KQL `"..."` or `'...'` literal.
pub fn escape_kql_body(value: &str, quote: char) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    for ch in value.chars() {
        match ch {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if needs_unicode_escape(c) => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// Escapes the body of an SPL `"..."` literal: backslash and double quote get a backslash.
pub fn escape_splunk_body(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    for ch in value.chars() {
        if ch == '\\' || ch == '"' {
            out.push('\\');
        }
        out.push(ch);
    }
    out
}

/// Returns whether an SPL value can stand unquoted after `field=`: letters, digits and
/// `_ . * : / - @ + %`.
pub fn is_plain_splunk_token(value: &str) -> bool {
    !value.is_empty()
        && value
            .chars()
            .all(|ch| ch.is_alphanumeric() || "_.*:/-@+%".contains(ch))
}

/// Returns whether `value` is exactly one complete SPL `"..."` literal.
pub fn is_single_splunk_string(value: &str) -> bool {
    let Some(body) = value
        .strip_prefix('"')
        .and_then(|rest| rest.strip_suffix('"'))
    else {
        return false;
    };
    let mut chars = body.chars();
    while let Some(ch) = chars.next() {
        match ch {
            '\\' if chars.next().is_none() => {
                return false;
            }
            '"' => return false,
            _ => {}
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contexts_follow_kql_literals() {
        assert_eq!(
            context_at_end(Dialect::Kql, "T | where a == \""),
            Context::DoubleQuoted
        );
        assert_eq!(
            context_at_end(Dialect::Kql, "T | where a == \"x\\\"y"),
            Context::DoubleQuoted
        );
        assert_eq!(
            context_at_end(Dialect::Kql, "T | where a == \"x\" and b == "),
            Context::Code
        );
        assert_eq!(
            context_at_end(Dialect::Kql, "T | where a has @\"x\"\"y"),
            Context::VerbatimDouble
        );
        assert_eq!(
            context_at_end(Dialect::Kql, "T // note "),
            Context::LineComment
        );
        assert_eq!(
            context_at_end(Dialect::Kql, "T // note\n| take "),
            Context::Code
        );
        assert_eq!(
            context_at_end(Dialect::Kql, "print ```a"),
            Context::Fenced('`')
        );
        assert_eq!(
            context_at_end(Dialect::Splunk, "search a='"),
            Context::SingleQuoted
        );
        assert_eq!(
            context_at_end(Dialect::Splunk, "search a=\"x\\\\\" b"),
            Context::Code
        );
    }

    #[test]
    fn kql_body_escapes_quotes_and_breaks() {
        assert_eq!(
            escape_kql_body("a\"b\\c\nd\u{2028}", '"'),
            "a\\\"b\\\\c\\nd\\u2028"
        );
        assert_eq!(escape_kql_body("it's", '\''), "it\\'s");
    }

    #[test]
    fn splunk_single_string_detection() {
        assert!(is_single_splunk_string("\"%Y-%m-%d\""));
        assert!(!is_single_splunk_string("\"a\" | delete \"b\""));
        assert!(is_plain_splunk_token("main*"));
        assert!(!is_plain_splunk_token("main | delete"));
    }
}
