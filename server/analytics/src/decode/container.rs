//! Compressed streams (gzip, zlib, raw deflate) and archives (zip, tar), read within the size
//! budget so that a compression bomb stops at the limit.

use std::io::Read;

use flate2::{Decompress, FlushDecompress, Status};

use super::magic::{as_text, has_strong_signature, is_tar, is_zlib};
use super::{Budget, Candidate, Encoding};

/// Output grows in steps of this many bytes while inflating.
const INFLATE_CHUNK: usize = 64 * 1024;

/// Opens `bytes` as a compressed stream or an archive and returns its decoded members, or
/// `None` when `bytes` is neither (text layers are then scanned for encoded spans instead).
pub(crate) fn open(bytes: &[u8], budget: &mut Budget, depth: usize) -> Option<Vec<Candidate>> {
    if bytes.starts_with(b"\x1f\x8b") {
        return Some(gunzip(bytes, budget, depth).into_iter().collect());
    }
    if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
        return Some(unzip(bytes, budget, depth));
    }
    if is_tar(bytes) {
        return Some(untar(bytes, budget, depth));
    }
    if is_zlib(bytes)
        && let Some(child) = inflate_whole(bytes, true, budget, depth)
    {
        return Some(vec![child]);
    }
    // Raw deflate has no header, so it is only tried on binary data (PowerShell's
    // `DeflateStream` over `FromBase64String` produces exactly that) and only accepted when the
    // stream ends cleanly at the end of the input.
    // Random bytes sometimes form a short valid deflate stream, so the output must look decoded.
    if as_text(bytes).is_none()
        && inflated_prefix(bytes, false, 4096)
            .is_some_and(|out| as_text(&out).is_some() || has_strong_signature(&out))
        && let Some(child) = inflate_whole(bytes, false, budget, depth)
    {
        return Some(vec![child]);
    }
    None
}

/// Charges `len` decoded bytes to the budget and records a stop when the output was cut.
fn charge(budget: &mut Budget, len: usize, truncated: bool, depth: usize, what: &str) {
    budget.used = budget.used.saturating_add(len);
    if truncated {
        budget.hit(
            "max-total-bytes",
            depth + 1,
            format!(
                "stopped {what} at the limit of {} decoded bytes (possible compression bomb)",
                budget.options.max_total_bytes
            ),
        );
    }
}

fn gunzip(bytes: &[u8], budget: &mut Budget, depth: usize) -> Option<Candidate> {
    let limit = budget.remaining();
    let mut out = Vec::new();
    let result = flate2::read::MultiGzDecoder::new(bytes)
        .take(limit as u64 + 1)
        .read_to_end(&mut out);
    let truncated = out.len() > limit;
    out.truncate(limit);
    if let Err(error) = result {
        if out.is_empty() {
            budget.hit("malformed", depth, format!("invalid gzip stream: {error}"));
            return None;
        }
        budget.hit(
            "malformed",
            depth,
            format!(
                "gzip stream ends early ({error}); kept the {} bytes decoded before the error",
                out.len()
            ),
        );
    }
    charge(budget, out.len(), truncated, depth, "gzip");
    Some(Candidate {
        encoding: Encoding::Gzip,
        start: 0,
        end: bytes.len(),
        name: None,
        bytes: out,
        text: None,
        truncated,
    })
}

/// Inflates a zlib (`zlib_header`) or raw deflate stream that spans all of `bytes`.
fn inflate_whole(
    bytes: &[u8],
    zlib_header: bool,
    budget: &mut Budget,
    depth: usize,
) -> Option<Candidate> {
    let limit = budget.remaining();
    let (out, truncated) = inflate(bytes, zlib_header, limit)?;
    if out.is_empty() {
        return None;
    }
    charge(
        budget,
        out.len(),
        truncated,
        depth,
        if zlib_header { "zlib" } else { "deflate" },
    );
    Some(Candidate {
        encoding: if zlib_header {
            Encoding::Zlib
        } else {
            Encoding::Deflate
        },
        start: 0,
        end: bytes.len(),
        name: None,
        bytes: out,
        text: None,
        truncated,
    })
}

/// Inflates `data` into at most `limit` bytes. Returns the output and whether it was cut at the
/// limit, or `None` when the stream is invalid, ends early, or (when the limit was not reached)
/// leaves input unread.
fn inflate(data: &[u8], zlib_header: bool, limit: usize) -> Option<(Vec<u8>, bool)> {
    let mut decoder = Decompress::new(zlib_header);
    let mut out: Vec<u8> = Vec::new();
    loop {
        // Inflating one byte past the limit proves that the stream was cut.
        if out.len() > limit {
            out.truncate(limit);
            return Some((out, true));
        }
        let consumed = usize::try_from(decoder.total_in()).ok()?;
        let before_in = decoder.total_in();
        let before_out = decoder.total_out();
        out.reserve_exact(INFLATE_CHUNK.min(limit.saturating_add(1) - out.len()));
        let status = decoder
            .decompress_vec(data.get(consumed..)?, &mut out, FlushDecompress::None)
            .ok()?;
        if status == Status::StreamEnd {
            let used = usize::try_from(decoder.total_in()).ok()?;
            return (used == data.len()).then_some((out, false));
        }
        if decoder.total_in() == before_in && decoder.total_out() == before_out {
            // No progress: the input ended before the end of the stream.
            return None;
        }
    }
}

/// Inflates up to `probe` bytes of a zlib (`zlib_header`) or raw deflate stream, or returns
/// `None` when `data` is not a valid stream or yields no output.
pub(crate) fn inflated_prefix(data: &[u8], zlib_header: bool, probe: usize) -> Option<Vec<u8>> {
    inflate(data, zlib_header, probe).and_then(|(out, _)| (!out.is_empty()).then_some(out))
}

fn read_u16(bytes: &[u8], at: usize) -> Option<usize> {
    let slice = bytes.get(at..at.checked_add(2)?)?;
    Some(usize::from(u16::from_le_bytes([slice[0], slice[1]])))
}

fn read_u32(bytes: &[u8], at: usize) -> Option<usize> {
    let slice = bytes.get(at..at.checked_add(4)?)?;
    usize::try_from(u32::from_le_bytes([slice[0], slice[1], slice[2], slice[3]])).ok()
}

/// Lists a zip archive's members from its central directory and decodes stored and deflated
/// members. Encrypted members and other compression methods are listed as limits, not decoded.
/// NOTE: CRC-32 values are not checked, and ZIP64 archives are not supported.
fn unzip(bytes: &[u8], budget: &mut Budget, depth: usize) -> Vec<Candidate> {
    let mut members = Vec::new();
    let Some(eocd) = find_end_of_central_directory(bytes) else {
        budget.hit(
            "malformed",
            depth,
            "zip archive has no end of central directory record".into(),
        );
        return members;
    };
    let count = read_u16(bytes, eocd + 10).unwrap_or(0);
    let mut at = read_u32(bytes, eocd + 16).unwrap_or(usize::MAX);
    for index in 0..count {
        if members.len() >= budget.options.max_children {
            budget.hit(
                "max-children",
                depth,
                format!("listed only the first {} zip members", members.len()),
            );
            break;
        }
        if bytes.get(at..at.saturating_add(4)) != Some(b"PK\x01\x02") {
            budget.hit(
                "malformed",
                depth,
                format!("zip central directory entry {index} is invalid"),
            );
            break;
        }
        let (
            Some(flags),
            Some(method),
            Some(compressed),
            Some(name_len),
            Some(extra_len),
            Some(comment_len),
            Some(local),
        ) = (
            read_u16(bytes, at + 8),
            read_u16(bytes, at + 10),
            read_u32(bytes, at + 20),
            read_u16(bytes, at + 28),
            read_u16(bytes, at + 30),
            read_u16(bytes, at + 32),
            read_u32(bytes, at + 42),
        )
        else {
            budget.hit(
                "malformed",
                depth,
                format!("zip central directory entry {index} is cut off"),
            );
            break;
        };
        let name = bytes
            .get(at + 46..at + 46 + name_len)
            .map(|raw| String::from_utf8_lossy(raw).into_owned())
            .unwrap_or_default();
        at = at + 46 + name_len + extra_len + comment_len;
        if name.ends_with('/') {
            continue;
        }
        let data_range = local_data_range(bytes, local, compressed);
        let Some((start, end)) = data_range else {
            budget.hit(
                "malformed",
                depth,
                format!("zip member {name:?} points outside the archive"),
            );
            continue;
        };
        if flags & 1 != 0 {
            budget.hit(
                "malformed",
                depth,
                format!("zip member {name:?} is encrypted and was not decoded"),
            );
            continue;
        }
        let limit = budget.remaining();
        let data = &bytes[start..end];
        let decoded = match method {
            0 => Some((data[..data.len().min(limit)].to_vec(), data.len() > limit)),
            8 => inflate(data, false, limit),
            other => {
                budget.hit(
                    "malformed",
                    depth,
                    format!("zip member {name:?} uses unsupported compression method {other}"),
                );
                continue;
            }
        };
        let Some((out, truncated)) = decoded else {
            budget.hit(
                "malformed",
                depth,
                format!("zip member {name:?} has an invalid deflate stream"),
            );
            continue;
        };
        charge(
            budget,
            out.len(),
            truncated,
            depth,
            &format!("zip member {name:?}"),
        );
        members.push(Candidate {
            encoding: Encoding::Zip,
            start,
            end,
            name: Some(name),
            bytes: out,
            text: None,
            truncated,
        });
        if truncated {
            break;
        }
    }
    members
}

/// Finds the end of central directory record, which sits in the last 64 KiB + 22 bytes.
fn find_end_of_central_directory(bytes: &[u8]) -> Option<usize> {
    let lowest = bytes.len().saturating_sub(65_535 + 22);
    (lowest..bytes.len().saturating_sub(21))
        .rev()
        .find(|&at| bytes.get(at..at + 4) == Some(b"PK\x05\x06"))
}

/// Returns the byte range of a member's compressed data from its local header.
fn local_data_range(bytes: &[u8], local: usize, compressed: usize) -> Option<(usize, usize)> {
    if bytes.get(local..local.checked_add(4)?)? != b"PK\x03\x04" {
        return None;
    }
    let name_len = read_u16(bytes, local + 26)?;
    let extra_len = read_u16(bytes, local + 28)?;
    let start = local.checked_add(30 + name_len + extra_len)?;
    let end = start.checked_add(compressed)?;
    (end <= bytes.len()).then_some((start, end))
}

/// Lists a tar archive's regular files and reads each within the size budget.
fn untar(bytes: &[u8], budget: &mut Budget, depth: usize) -> Vec<Candidate> {
    let mut members = Vec::new();
    let mut archive = tar::Archive::new(bytes);
    let entries = match archive.entries() {
        Ok(entries) => entries,
        Err(error) => {
            budget.hit("malformed", depth, format!("invalid tar archive: {error}"));
            return members;
        }
    };
    for entry in entries {
        if members.len() >= budget.options.max_children {
            budget.hit(
                "max-children",
                depth,
                format!("listed only the first {} tar members", members.len()),
            );
            break;
        }
        let mut entry = match entry {
            Ok(entry) => entry,
            Err(error) => {
                budget.hit(
                    "malformed",
                    depth,
                    format!("tar archive is cut off or invalid: {error}"),
                );
                break;
            }
        };
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let name = entry
            .path()
            .map(|path| path.to_string_lossy().into_owned())
            .unwrap_or_default();
        let start = usize::try_from(entry.raw_file_position()).unwrap_or(0);
        let size = usize::try_from(entry.size()).unwrap_or(usize::MAX);
        let limit = budget.remaining();
        let mut out = Vec::new();
        let result = (&mut entry).take(limit as u64 + 1).read_to_end(&mut out);
        let truncated = out.len() > limit;
        out.truncate(limit);
        if let Err(error) = result {
            budget.hit(
                "malformed",
                depth,
                format!("tar member {name:?} is cut off: {error}"),
            );
        }
        charge(
            budget,
            out.len(),
            truncated,
            depth,
            &format!("tar member {name:?}"),
        );
        members.push(Candidate {
            encoding: Encoding::Tar,
            start,
            end: start.saturating_add(size).min(bytes.len()),
            name: Some(name),
            bytes: out,
            text: None,
            truncated,
        });
        if truncated {
            break;
        }
    }
    members
}
