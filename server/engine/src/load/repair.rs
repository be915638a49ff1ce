//! Rewriting loosely quoted CSV into strict CSV, for files that polars' parser rejects.
//!
//! Some exports contain a bare `"` inside a quoted field, as in `"a -c "x",next`. Python's
//! `csv` module, and so pandas, accept such files: a quote that closes a field early, followed
//! by more text, is kept as ordinary text. This module applies the same rules and writes every
//! field back with strict quoting, so polars can then read the file and the values match what
//! pandas reads.

/// Re-emits `input`, a delimiter-separated text, with strict quoting, following the lenient
/// parsing rules described in the module documentation.
pub fn requote(input: &str, delimiter: char) -> String {
    #[derive(Clone, Copy, PartialEq)]
    enum State {
        StartField,
        InField,
        InQuoted,
        QuoteInQuoted,
    }

    let mut output = String::with_capacity(input.len() + input.len() / 8);
    let mut field = String::new();
    let mut state = State::StartField;
    let mut at_record_start = true;

    let end_field = |output: &mut String, field: &mut String, at_record_start: &mut bool| {
        if !*at_record_start {
            output.push(delimiter);
        }
        // Fields without special characters stay bare, so that polars still infers numbers
        // and reads empty fields as missing values.
        if field.contains([delimiter, '"', '\n', '\r']) {
            output.push('"');
            output.push_str(&field.replace('"', "\"\""));
            output.push('"');
        } else {
            output.push_str(field);
        }
        field.clear();
        *at_record_start = false;
    };

    let mut chars = input.chars().peekable();
    while let Some(c) = chars.next() {
        let is_newline = c == '\n' || c == '\r';
        match state {
            State::StartField | State::InField | State::QuoteInQuoted if is_newline => {
                // A record ends; "\r\n" counts as one line break.
                if c == '\r' && chars.peek() == Some(&'\n') {
                    chars.next();
                }
                let blank_line = state == State::StartField && at_record_start;
                if !blank_line {
                    end_field(&mut output, &mut field, &mut at_record_start);
                    output.push('\n');
                }
                at_record_start = true;
                state = State::StartField;
            }
            State::StartField if c == '"' => state = State::InQuoted,
            State::StartField | State::InField | State::QuoteInQuoted if c == delimiter => {
                end_field(&mut output, &mut field, &mut at_record_start);
                state = State::StartField;
            }
            State::StartField | State::InField => {
                field.push(c);
                state = State::InField;
            }
            State::InQuoted if c == '"' => state = State::QuoteInQuoted,
            State::InQuoted => field.push(c),
            State::QuoteInQuoted if c == '"' => {
                field.push('"');
                state = State::InQuoted;
            }
            State::QuoteInQuoted => {
                field.push(c);
                state = State::InField;
            }
        }
    }
    if !(state == State::StartField && at_record_start) {
        end_field(&mut output, &mut field, &mut at_record_start);
        output.push('\n');
    }
    output
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requote_keeps_strict_csv_values() {
        assert_eq!(requote("a,b\n1,\"x,y\"\n", ','), "a,b\n1,\"x,y\"\n");
        assert_eq!(
            requote("a\n\"say \"\"hi\"\"\"\n", ','),
            "a\n\"say \"\"hi\"\"\"\n"
        );
        assert_eq!(requote("a,b\r\n1,2", ','), "a,b\n1,2\n");
        assert_eq!(requote("a,b\n\"plain\",\n", ','), "a,b\nplain,\n");
    }

    #[test]
    fn requote_reads_stray_quotes_like_python() {
        // Python's csv module reads the field as `-c x"`.
        assert_eq!(requote("\"-c \"x\",2\n", ','), "\"-c x\"\"\",2\n");
    }

    #[test]
    fn requote_keeps_newlines_inside_quotes() {
        assert_eq!(requote("\"a\nb\",c\n", ','), "\"a\nb\",c\n");
    }

    #[test]
    fn requote_handles_tabs() {
        assert_eq!(requote("a\tb\n1\t\"2\t3\"\n", '\t'), "a\tb\n1\t\"2\t3\"\n");
    }
}
