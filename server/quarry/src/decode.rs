//! `quarry decode`: decode obfuscated commands and payloads (base64, PowerShell
//! `-EncodedCommand`, hex, char codes, gzip/zlib/deflate, zip and tar) into a tree of layers,
//! with file types, hashes and the indicators found in the decoded text.
//!
//! The exit code is 0 when at least one layer was decoded and 1 when nothing was.

use std::fmt::Write as _;
use std::io::{self, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use quarry_analytics::decode::{DecodeNode, DecodeOptions, DecodeReport, decode_with};
use quarry_enrichment::{IocType, extract};
use serde::Serialize;

#[derive(Debug, clap::Args)]
pub struct DecodeArgs {
    /// Text to decode. Several arguments are joined with spaces.
    #[arg(value_name = "TEXT", conflicts_with = "file")]
    text: Vec<String>,

    /// Read the input bytes from FILE instead; `-` reads standard input.
    #[arg(short = 'f', long, value_name = "FILE")]
    file: Option<PathBuf>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,

    /// Maximum number of nested decoded layers.
    #[arg(long, value_name = "N", default_value_t = DecodeOptions::default().max_depth)]
    max_depth: usize,

    /// Maximum number of decoded bytes over the whole tree; decoding stops there.
    #[arg(long, value_name = "BYTES", default_value_t = DecodeOptions::default().max_total_bytes)]
    max_bytes: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    /// An indented tree, then the indicators and any limits hit.
    Human,
    /// One JSON object: `tree`, `indicators`, `limits` and totals.
    Json,
}

/// An indicator found in the text of one decoded layer.
#[derive(Debug, Serialize)]
pub(crate) struct LayerIndicator {
    #[serde(rename = "type")]
    ioc_type: IocType,
    value: String,
    /// Depth-first index of the layer (the input is 0).
    layer: usize,
    /// Byte range in the layer's text.
    start: usize,
    end: usize,
}

#[derive(Debug, Serialize)]
struct JsonOutput<'a> {
    tree: &'a DecodeNode,
    layers: usize,
    max_depth_reached: usize,
    total_decoded_bytes: usize,
    limits: &'a [quarry_analytics::decode::LimitHit],
    indicators: &'a [LayerIndicator],
}

pub fn main(args: DecodeArgs) -> anyhow::Result<ExitCode> {
    let input = read_input(&args)?;
    let options = DecodeOptions {
        max_depth: args.max_depth,
        max_total_bytes: args.max_bytes,
        ..DecodeOptions::default()
    };
    let report = decode_with(&input, options);
    let indicators = decoded_indicators(&report);

    let output = match args.format {
        Format::Json => {
            let json = JsonOutput {
                tree: &report.root,
                layers: report.layers,
                max_depth_reached: report.max_depth_reached,
                total_decoded_bytes: report.total_decoded_bytes,
                limits: &report.limits,
                indicators: &indicators,
            };
            serde_json::to_string_pretty(&json)? + "\n"
        }
        Format::Human => human(&report, &indicators),
    };
    io::stdout().lock().write_all(output.as_bytes())?;
    Ok(if report.layers > 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn read_input(args: &DecodeArgs) -> anyhow::Result<Vec<u8>> {
    match &args.file {
        Some(path) if path.as_os_str() == "-" => {
            let mut bytes = Vec::new();
            io::stdin()
                .read_to_end(&mut bytes)
                .context("failed to read standard input")?;
            Ok(bytes)
        }
        Some(path) => {
            std::fs::read(path).with_context(|| format!("failed to read {}", path.display()))
        }
        None if args.text.is_empty() => bail!("missing input: pass TEXT or --file FILE"),
        None => Ok(args.text.join(" ").into_bytes()),
    }
}

/// Extracts indicators from the text of every decoded layer below the input, once per value.
pub(crate) fn decoded_indicators(report: &DecodeReport) -> Vec<LayerIndicator> {
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for (layer, node) in report.nodes().into_iter().enumerate().skip(1) {
        let Some(text) = node.text.as_deref() else {
            continue;
        };
        for indicator in extract(text) {
            if seen.insert((indicator.ioc_type, indicator.value.clone())) {
                out.push(LayerIndicator {
                    ioc_type: indicator.ioc_type,
                    value: indicator.value,
                    layer,
                    start: indicator.start,
                    end: indicator.end,
                });
            }
        }
    }
    out
}

fn human(report: &DecodeReport, indicators: &[LayerIndicator]) -> String {
    let mut out = String::new();
    let mut layer = 0;
    write_node(&mut out, &report.root, 0, &mut layer);
    let _ = writeln!(
        out,
        "\n{} decoded layer(s), depth {}, {} decoded bytes",
        report.layers, report.max_depth_reached, report.total_decoded_bytes
    );
    if !indicators.is_empty() {
        let _ = writeln!(out, "\nindicators:");
        for indicator in indicators {
            let _ = writeln!(
                out,
                "  {:<12} {}  (layer {})",
                indicator.ioc_type.as_str(),
                indicator.value,
                indicator.layer
            );
        }
    }
    if !report.limits.is_empty() {
        let _ = writeln!(out, "\nlimits:");
        for limit in &report.limits {
            let _ = writeln!(
                out,
                "  {} at depth {}: {}",
                limit.kind, limit.depth, limit.message
            );
        }
    }
    out
}

fn write_node(out: &mut String, node: &DecodeNode, indent: usize, layer: &mut usize) {
    let pad = "  ".repeat(indent);
    let encoding = serde_json::to_value(node.encoding)
        .ok()
        .and_then(|value| value.as_str().map(str::to_owned))
        .unwrap_or_default();
    let name = node
        .name
        .as_deref()
        .map(|name| format!(" {name:?}"))
        .unwrap_or_default();
    let truncated = if node.truncated { ", truncated" } else { "" };
    let _ = writeln!(
        out,
        "{pad}[{layer}] {encoding}{name} bytes {}..{} -> {} bytes, {}{truncated}",
        node.start, node.end, node.size, node.file_type
    );
    let _ = writeln!(
        out,
        "{pad}    sha256 {}  md5 {}  sha1 {}",
        node.sha256, node.md5, node.sha1
    );
    if *layer > 0
        && let Some(preview) = &node.preview
    {
        let escaped = escape_control_characters(preview);
        let _ = writeln!(out, "{pad}    \"{escaped}\"");
    }
    *layer += 1;
    for child in &node.children {
        write_node(out, child, indent + 1, layer);
    }
}

/// Returns `text` as written except for control characters (newlines, tabs, terminal escape
/// sequences and the like), which become Rust-style escapes so the preview stays on one line
/// and cannot drive the terminal.
fn escape_control_characters(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        if character.is_control() {
            escaped.extend(character.escape_default());
        } else {
            escaped.push(character);
        }
    }
    escaped
}
