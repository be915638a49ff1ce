//! File types from magic bytes, text detection and hashes of decoded bytes.

use md5::Md5;
use sha1::Sha1;
use sha2::{Digest, Sha256};

/// Returns the file type of `bytes` from its leading magic bytes, or `text`, `utf-16le-text`
/// or `data` when no signature matches. `is_text` is true when the bytes decoded as text.
pub fn file_type(bytes: &[u8], is_text: bool) -> &'static str {
    const SIGNATURES: &[(&[u8], &str)] = &[
        (b"MZ", "pe"),
        (b"\x7fELF", "elf"),
        (b"%PDF-", "pdf"),
        (b"PK\x03\x04", "zip"),
        (b"PK\x05\x06", "zip"),
        (b"\x1f\x8b", "gzip"),
        (b"\x89PNG\r\n\x1a\n", "png"),
        (b"GIF87a", "gif"),
        (b"GIF89a", "gif"),
        (b"\xff\xd8\xff", "jpeg"),
        (b"7z\xbc\xaf\x27\x1c", "7z"),
        (b"Rar!\x1a\x07", "rar"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "ole2"),
        (b"\xca\xfe\xba\xbe", "mach-o-fat"),
        (b"\xcf\xfa\xed\xfe", "mach-o"),
        (b"\xfe\xed\xfa\xcf", "mach-o"),
        (b"BZh", "bzip2"),
        (b"\xfd7zXZ\x00", "xz"),
        (b"\x28\xb5\x2f\xfd", "zstd"),
        (b"#!", "script"),
    ];
    if let Some((_, name)) = SIGNATURES
        .iter()
        .find(|(magic, _)| bytes.starts_with(magic))
    {
        return name;
    }
    if is_tar(bytes) {
        return "tar";
    }
    if is_zlib(bytes) {
        return "zlib";
    }
    if is_text {
        if std::str::from_utf8(bytes).is_ok_and(is_printable) {
            "text"
        } else {
            "utf-16le-text"
        }
    } else {
        "data"
    }
}

/// Checks whether `bytes` carry a signature that random bytes rarely match: one of at least four
/// bytes, or a two- or three-byte one (`MZ`, gzip, zlib, `BZh`) with its next fields checked. Short
/// signatures alone match about one random input in 65,536, too often for scanned text.
pub fn has_strong_signature(bytes: &[u8]) -> bool {
    match file_type(bytes, false) {
        "data" | "text" | "utf-16le-text" | "script" => false,
        // A complete DOS header, or the `MZ\x90\0` that most linkers write.
        "pe" => bytes.len() >= 64 || bytes.starts_with(b"MZ\x90\x00"),
        // Deflate method and no reserved flag bits.
        "gzip" => bytes.get(2) == Some(&8) && bytes.get(3).is_some_and(|flags| flags & 0xe0 == 0),
        "bzip2" => bytes.get(4..10) == Some(b"1AY&SY"),
        // The zlib header check matches one random pair in about 500, so the caller inflates.
        "zlib" => false,
        _ => true,
    }
}

/// Checks for the `ustar` magic of POSIX and GNU tar headers.
pub fn is_tar(bytes: &[u8]) -> bool {
    bytes.get(257..262) == Some(b"ustar")
}

/// Checks for a zlib header: deflate method, a window of at most 32 KiB and a valid check value.
pub fn is_zlib(bytes: &[u8]) -> bool {
    match bytes {
        [cmf, flg, ..] => {
            cmf & 0x0f == 8 && cmf >> 4 <= 7 && (u16::from(*cmf) << 8 | u16::from(*flg)) % 31 == 0
        }
        _ => false,
    }
}

/// Returns `bytes` as text when they are printable UTF-8 or printable UTF-16LE.
pub fn as_text(bytes: &[u8]) -> Option<String> {
    if bytes.is_empty() {
        return Some(String::new());
    }
    if let Ok(text) = std::str::from_utf8(bytes)
        && is_printable(text)
    {
        return Some(text.to_owned());
    }
    utf16le_text(bytes)
}

/// Decodes UTF-16LE bytes when they form printable, mostly ASCII text.
pub fn utf16le_text(bytes: &[u8]) -> Option<String> {
    if bytes.len() < 2 || !bytes.len().is_multiple_of(2) {
        return None;
    }
    let units: Vec<u16> = bytes
        .chunks_exact(2)
        .map(|pair| u16::from_le_bytes([pair[0], pair[1]]))
        .collect();
    // Random bytes often pair into valid CJK code units, so require mostly ASCII, as PowerShell
    // scripts are. NOTE: this misses UTF-16LE text written mostly in non-Latin scripts.
    let ascii = units.iter().filter(|&&unit| unit < 0x80).count();
    if ascii * 5 < units.len() * 4 {
        return None;
    }
    let text = String::from_utf16(&units).ok()?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text).to_owned();
    is_printable(&text).then_some(text)
}

/// At least 95% of the characters are neither control characters nor U+FFFD (tab, CR and LF
/// count as printable).
pub fn is_printable(text: &str) -> bool {
    let mut total = 0usize;
    let mut bad = 0usize;
    for c in text.chars() {
        total += 1;
        if (c.is_control() && !matches!(c, '\t' | '\r' | '\n')) || c == '\u{fffd}' {
            bad += 1;
        }
    }
    total > 0 && bad * 20 <= total
}

/// MD5, SHA-1 and SHA-256 of some bytes, as lowercase hex.
pub struct Hashes {
    pub md5: String,
    pub sha1: String,
    pub sha256: String,
}

impl Hashes {
    pub fn of(bytes: &[u8]) -> Hashes {
        Hashes {
            md5: to_hex(&Md5::digest(bytes)),
            sha1: to_hex(&Sha1::digest(bytes)),
            sha256: to_hex(&Sha256::digest(bytes)),
        }
    }
}

fn to_hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        let _ = write!(out, "{byte:02x}");
    }
    out
}
