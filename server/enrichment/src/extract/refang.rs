//! Removal of defanging (`hxxp`, `[.]`, `(.)`, `[at]`) with a map back to the original offsets.

/// A text with its defanging removed. Every byte of `text` remembers the original byte range it
/// came from, so matches found in `text` map back to ranges in the input.
pub(crate) struct Refanged {
    pub text: String,
    /// For each byte of `text`: the original start offset of the token that produced it.
    origin_start: Vec<usize>,
    /// For each byte of `text`: the original end offset of the token that produced it.
    origin_end: Vec<usize>,
    /// For each byte of `text`: true when it came from a defanging token.
    replaced: Vec<bool>,
}

impl Refanged {
    /// Maps a byte range of the refanged text to the original text, and reports whether any
    /// byte in it came from a defanging token.
    pub fn original_range(&self, start: usize, end: usize) -> (usize, usize, bool) {
        debug_assert!(start < end && end <= self.text.len());
        let defanged = self.replaced[start..end].iter().any(|&flag| flag);
        (self.origin_start[start], self.origin_end[end - 1], defanged)
    }
}

/// Defanging tokens and their replacements. `needs_word_around` requires a letter or digit on
/// both sides, so KQL such as `extract("(.)", ...)` or `arr[at]` is left alone unless it sits
/// inside a name.
struct Token {
    defanged: &'static str,
    plain: &'static str,
    needs_word_around: bool,
}

const TOKENS: &[Token] = &[
    Token {
        defanged: "[.]",
        plain: ".",
        needs_word_around: false,
    },
    Token {
        defanged: "(.)",
        plain: ".",
        needs_word_around: true,
    },
    Token {
        defanged: "{.}",
        plain: ".",
        needs_word_around: true,
    },
    Token {
        defanged: "[dot]",
        plain: ".",
        needs_word_around: true,
    },
    Token {
        defanged: "[at]",
        plain: "@",
        needs_word_around: true,
    },
    Token {
        defanged: "(at)",
        plain: "@",
        needs_word_around: true,
    },
    Token {
        defanged: "[@]",
        plain: "@",
        needs_word_around: false,
    },
    Token {
        defanged: "[://]",
        plain: "://",
        needs_word_around: false,
    },
    Token {
        defanged: "[:]",
        plain: ":",
        needs_word_around: false,
    },
];

/// URL schemes written defanged, and their real form. A scheme counts only when `://` (or a
/// defanged `[:]//`, `[://]`) follows.
const SCHEMES: &[(&str, &str)] = &[("hxxps", "https"), ("hxxp", "http"), ("fxp", "ftp")];

/// Removes defanging from `input`.
pub(crate) fn refang(input: &str) -> Refanged {
    let bytes = input.as_bytes();
    let mut out = Refanged {
        text: String::with_capacity(input.len()),
        origin_start: Vec::with_capacity(input.len()),
        origin_end: Vec::with_capacity(input.len()),
        replaced: Vec::with_capacity(input.len()),
    };
    let mut out_bytes: Vec<u8> = Vec::with_capacity(input.len());
    let mut position = 0;

    while position < bytes.len() {
        if let Some((token_len, plain)) = match_token(bytes, position) {
            for &byte in plain.as_bytes() {
                out_bytes.push(byte);
                out.origin_start.push(position);
                out.origin_end.push(position + token_len);
                out.replaced.push(true);
            }
            position += token_len;
            continue;
        }
        out_bytes.push(bytes[position]);
        out.origin_start.push(position);
        out.origin_end.push(position + 1);
        out.replaced.push(false);
        position += 1;
    }

    // Tokens are ASCII and replace whole ASCII sequences, so multi-byte characters are copied
    // unchanged and the result stays valid UTF-8.
    out.text = String::from_utf8(out_bytes).expect("refanging keeps UTF-8 intact");
    out
}

fn match_token(bytes: &[u8], position: usize) -> Option<(usize, &'static str)> {
    let rest = &bytes[position..];
    for (defanged, plain) in SCHEMES {
        if starts_with_ignore_case(rest, defanged.as_bytes())
            && word_boundary_before(bytes, position)
        {
            let after = &rest[defanged.len()..];
            let separator_follows = after.starts_with(b"://")
                || after.starts_with(b"[:]//")
                || after.starts_with(b"[://]");
            if separator_follows {
                return Some((defanged.len(), plain));
            }
        }
    }
    for token in TOKENS {
        if !starts_with_ignore_case(rest, token.defanged.as_bytes()) {
            continue;
        }
        let end = position + token.defanged.len();
        if token.needs_word_around {
            let before = position.checked_sub(1).map(|index| bytes[index]);
            let after = bytes.get(end).copied();
            let word_before = before.is_some_and(|byte| byte.is_ascii_alphanumeric());
            let word_after = after.is_some_and(|byte| byte.is_ascii_alphanumeric());
            if !(word_before && word_after) {
                continue;
            }
        }
        return Some((token.defanged.len(), token.plain));
    }
    None
}

fn starts_with_ignore_case(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.len() >= needle.len() && haystack[..needle.len()].eq_ignore_ascii_case(needle)
}

fn word_boundary_before(bytes: &[u8], position: usize) -> bool {
    position == 0 || !bytes[position - 1].is_ascii_alphanumeric()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refang_maps_offsets_back() {
        let input = "see hxxps://evil[.]com now";
        let refanged = refang(input);
        assert_eq!(refanged.text, "see https://evil.com now");

        let start = refanged.text.find("evil.com").unwrap();
        let (original_start, original_end, defanged) =
            refanged.original_range(start, start + "evil.com".len());
        assert_eq!(&input[original_start..original_end], "evil[.]com");
        assert!(defanged);
    }

    #[test]
    fn refang_leaves_regex_groups() {
        let input = r#"extract("(.)", 1, x) and arr[at]"#;
        assert_eq!(refang(input).text, input);
    }

    #[test]
    fn refang_handles_email_and_multibyte() {
        let refanged = refang("bob[at]example(.)org – ok");
        assert_eq!(refanged.text, "bob@example.org – ok");
    }
}
