//! Encoded spans inside text: PowerShell `-EncodedCommand` arguments, char-code arrays, hex
//! strings and base64 runs.

use std::sync::LazyLock;

use base64::Engine;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use regex::Regex;

use super::container::inflated_prefix;
use super::magic::{as_text, has_strong_signature, is_zlib, utf16le_text};
use super::{Budget, Candidate, Encoding};

/// Shortest base64 run that is decoded (12 characters encode 9 bytes).
const MIN_BASE64_CHARS: usize = 12;

/// Binary base64 payloads of at least this many characters are kept even without a known
/// file type, because long runs of the base64 alphabet are rarely anything else.
const MIN_OPAQUE_BASE64_CHARS: usize = 64;

const CONFIG: GeneralPurposeConfig = GeneralPurposeConfig::new()
    .with_decode_padding_mode(DecodePaddingMode::Indifferent)
    .with_decode_allow_trailing_bits(true);
const STANDARD: GeneralPurpose = GeneralPurpose::new(&alphabet::STANDARD, CONFIG);
const URL_SAFE: GeneralPurpose = GeneralPurpose::new(&alphabet::URL_SAFE, CONFIG);

static ENCODED_COMMAND: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?i)(?:^|[\s"'])[-/\x{2013}]([a-z]+)\s+["']?([A-Za-z0-9+/]+={0,2})"#).unwrap()
});
static CHAR_PLUS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\[char\]\s*\(?\s*(?:0x[0-9a-f]+|\d+)\s*\)?(?:\s*\+\s*\[char\]\s*\(?\s*(?:0x[0-9a-f]+|\d+)\s*\)?)+")
        .unwrap()
});
static CHAR_PIPE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\(\s*\d+(?:\s*,\s*\d+)+\s*\)\s*\|\s*(?:%|foreach(?:-object)?)\s*\{\s*\[char\]\s*\$_\s*\}")
        .unwrap()
});
static CHAR_ARRAY_CAST: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)\[char\[\]\]\s*\(\s*\d+(?:\s*,\s*\d+)+\s*\)").unwrap());
static FROM_CHAR_CODE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)fromCharCode\s*\(\s*(?:0x[0-9a-f]+|\d+)(?:\s*,\s*(?:0x[0-9a-f]+|\d+))*\s*\)")
        .unwrap()
});
static NUMBER: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(?i)0x[0-9a-f]+|\d+").unwrap());
static HEX: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)(?:\\x[0-9a-f]{2}){4,}|(?:0x[0-9a-f]{2}(?:\s*,\s*|\b)){4,}|\b(?:[0-9a-f]{2}){8,}\b",
    )
    .unwrap()
});
static BASE64: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[A-Za-z0-9+/_-]{12,}={0,2}").unwrap());
static HEX_DIGITS: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(?i)[0-9a-f]{2}").unwrap());

/// Finds and decodes the encoded spans in `text`, keeping the first of overlapping spans in the
/// order: encoded command, char codes, hex, base64.
pub(crate) fn scan(text: &str, budget: &mut Budget, depth: usize) -> Vec<Candidate> {
    let mut found = Vec::new();
    encoded_commands(text, &mut found);
    char_codes(text, &mut found);
    hex_strings(text, &mut found);
    base64_runs(text, budget, depth, &mut found);

    let mut kept: Vec<Candidate> = Vec::new();
    for candidate in found {
        let overlaps = kept
            .iter()
            .any(|other| candidate.start < other.end && other.start < candidate.end);
        if !overlaps {
            kept.push(candidate);
        }
    }
    kept.sort_by_key(|candidate| candidate.start);

    if kept.len() > budget.options.max_children {
        budget.hit(
            "max-children",
            depth,
            format!(
                "decoded only the first {} of {} encoded spans",
                budget.options.max_children,
                kept.len()
            ),
        );
        kept.truncate(budget.options.max_children);
    }
    for candidate in &mut kept {
        let limit = budget.remaining();
        if candidate.bytes.len() > limit {
            candidate.bytes.truncate(limit);
            candidate.truncated = true;
            candidate.text = None;
            budget.hit(
                "max-total-bytes",
                depth + 1,
                format!(
                    "stopped at the limit of {} decoded bytes",
                    budget.options.max_total_bytes
                ),
            );
        }
        budget.used = budget.used.saturating_add(candidate.bytes.len());
    }
    kept.retain(|candidate| !candidate.bytes.is_empty());
    kept
}

fn candidate(
    encoding: Encoding,
    start: usize,
    end: usize,
    bytes: Vec<u8>,
    text: Option<String>,
) -> Candidate {
    Candidate {
        encoding,
        start,
        end,
        name: None,
        bytes,
        text,
        truncated: false,
    }
}

/// Finds PowerShell's `-EncodedCommand` argument. PowerShell accepts any prefix of the
/// parameter name (`-e`, `-en`, `-enc`, ...) and the `-ec` alias, with `-` or `/`.
fn encoded_commands(text: &str, found: &mut Vec<Candidate>) {
    for captures in ENCODED_COMMAND.captures_iter(text) {
        let (Some(flag), Some(value)) = (captures.get(1), captures.get(2)) else {
            continue;
        };
        let flag = flag.as_str().to_ascii_lowercase();
        if !(flag == "ec" || "encodedcommand".starts_with(&flag)) {
            continue;
        }
        let Some(bytes) = decode_base64(value.as_str()) else {
            continue;
        };
        if let Some(decoded) = utf16le_text(&bytes) {
            found.push(candidate(
                Encoding::PowershellEncodedCommand,
                value.start(),
                value.end(),
                bytes,
                Some(decoded),
            ));
        }
    }
}

fn char_codes(text: &str, found: &mut Vec<Candidate>) {
    for pattern in [
        &*CHAR_PLUS,
        &*CHAR_PIPE,
        &*CHAR_ARRAY_CAST,
        &*FROM_CHAR_CODE,
    ] {
        for matched in pattern.find_iter(text) {
            let mut decoded = String::new();
            for number in NUMBER.find_iter(matched.as_str()) {
                let digits = number.as_str();
                let code = match digits.get(..2) {
                    Some("0x" | "0X") => u32::from_str_radix(&digits[2..], 16).ok(),
                    _ => digits.parse::<u32>().ok(),
                };
                if let Some(c) = code.and_then(char::from_u32) {
                    decoded.push(c);
                }
            }
            if !decoded.is_empty() {
                found.push(candidate(
                    Encoding::CharCodes,
                    matched.start(),
                    matched.end(),
                    decoded.into_bytes(),
                    None,
                ));
            }
        }
    }
}

fn hex_strings(text: &str, found: &mut Vec<Candidate>) {
    for matched in HEX.find_iter(text) {
        let raw = matched.as_str();
        let digits: String = if raw.contains(['x', 'X']) {
            // `\x41\x42` or `0x41, 0x42`: take the two digits after each `x`.
            raw.split(['x', 'X'])
                .skip(1)
                .filter_map(|part| part.get(..2))
                .collect()
        } else {
            raw.to_owned()
        };
        let bytes: Vec<u8> = HEX_DIGITS
            .find_iter(&digits)
            .filter_map(|pair| u8::from_str_radix(pair.as_str(), 16).ok())
            .collect();
        if is_meaningful(&bytes) {
            found.push(candidate(
                Encoding::Hex,
                matched.start(),
                matched.end(),
                bytes,
                None,
            ));
        }
    }
}

fn base64_runs(text: &str, budget: &mut Budget, depth: usize, found: &mut Vec<Candidate>) {
    for matched in BASE64.find_iter(text) {
        let run = matched.as_str();
        let body = run.trim_end_matches('=');
        if body.len() < MIN_BASE64_CHARS {
            continue;
        }
        // A run whose length leaves one spare character cannot be complete base64, so the
        // string was cut: decode the whole groups before the spare character.
        let usable = if body.len() % 4 == 1 {
            &body[..body.len() - 1]
        } else {
            body
        };
        let Some(bytes) = decode_base64(usable) else {
            continue;
        };
        let opaque_ok = usable.len() >= MIN_OPAQUE_BASE64_CHARS
            && !usable.bytes().all(|byte| byte.is_ascii_hexdigit());
        if !(is_meaningful(&bytes) || opaque_ok) {
            continue;
        }
        if usable.len() != body.len() {
            budget.hit(
                "malformed",
                depth + 1,
                format!(
                    "base64 at bytes {}..{} is cut off (length {} is not valid); decoded its first {} characters",
                    matched.start(),
                    matched.end(),
                    body.len(),
                    usable.len()
                ),
            );
        }
        found.push(candidate(
            Encoding::Base64,
            matched.start(),
            matched.end(),
            bytes,
            None,
        ));
    }
}

/// Decodes standard or URL-safe base64, with or without padding.
fn decode_base64(value: &str) -> Option<Vec<u8>> {
    let url_safe = value.contains(['-', '_']);
    let standard = value.contains(['+', '/']);
    match (standard, url_safe) {
        (true, true) => None,
        (false, true) => URL_SAFE.decode(value).ok(),
        _ => STANDARD.decode(value).ok(),
    }
}

/// Decoded bytes are kept when they are text, carry a strong file signature, or form a zlib or
/// raw deflate stream whose first 4 KiB of output are text or carry a strong signature.
/// NOTE: a deflate stream of binary data without a signature (raw shellcode) is not kept.
fn is_meaningful(bytes: &[u8]) -> bool {
    if bytes.is_empty() {
        return false;
    }
    if as_text(bytes).is_some() || has_strong_signature(bytes) {
        return true;
    }
    inflated_prefix(bytes, is_zlib(bytes), 4096)
        .is_some_and(|out| as_text(&out).is_some() || has_strong_signature(&out))
}
