//! `quarry iocs`: extract indicators (IP addresses, domains, URLs, hashes, e-mail addresses,
//! paths) from text or a file, defanged forms included.
//!
//! Human output prints `line:column  type  value`, with 1-based lines and columns counted in
//! characters. JSON output is one array with byte offsets as well. The exit code is 0 when at
//! least one indicator was found and 1 when none was, like `grep`.

use std::io::{self, Read, Write};
use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use quarry_enrichment::{Indicator, IocType, extract, ip_type};
use serde::Serialize;

#[derive(Debug, clap::Args)]
pub struct IocsArgs {
    /// Text to scan. Several arguments are joined with spaces.
    #[arg(value_name = "TEXT", conflicts_with = "file")]
    text: Vec<String>,

    /// Read the text from FILE instead; `-` reads standard input.
    #[arg(short = 'f', long, value_name = "FILE")]
    file: Option<PathBuf>,

    /// Report only these indicator types (MSTICPy names such as ipv4, dns, url, md5_hash);
    /// repeatable.
    #[arg(short = 't', long = "type", value_name = "TYPE")]
    types: Vec<IocType>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    /// `line:column  type  value`, one indicator a line.
    Human,
    /// A JSON array of indicators with byte offsets, lines and columns.
    Json,
}

/// One indicator in JSON output.
#[derive(Debug, Serialize)]
struct JsonIndicator<'a> {
    #[serde(flatten)]
    indicator: &'a Indicator,
    /// The text as written, before defanging was removed.
    original: &'a str,
    /// 1-based line of the start.
    line: usize,
    /// 1-based column of the start, in characters.
    column: usize,
    /// The address type for IPv4 and IPv6 indicators.
    #[serde(skip_serializing_if = "Option::is_none")]
    ip_type: Option<&'static str>,
}

pub fn main(args: IocsArgs) -> anyhow::Result<ExitCode> {
    let text = read_input(&args)?;
    let mut indicators = extract(&text);
    if !args.types.is_empty() {
        indicators.retain(|indicator| args.types.contains(&indicator.ioc_type));
    }

    let stdout = io::stdout();
    let mut out = stdout.lock();
    match args.format {
        Format::Human => write_human(&text, &indicators, &mut out)?,
        Format::Json => write_json(&text, &indicators, &mut out)?,
    }
    out.flush().context("failed to write to standard output")?;

    Ok(if indicators.is_empty() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn read_input(args: &IocsArgs) -> anyhow::Result<String> {
    match &args.file {
        Some(path) if path.as_os_str() == "-" => {
            let mut text = String::new();
            io::stdin()
                .read_to_string(&mut text)
                .context("failed to read standard input")?;
            Ok(text)
        }
        Some(path) => {
            let bytes = std::fs::read(path)
                .with_context(|| format!("failed to read {}", path.display()))?;
            // Logs and reports are not always valid UTF-8; scan what can be decoded.
            Ok(String::from_utf8_lossy(&bytes).into_owned())
        }
        None if args.text.is_empty() => {
            bail!(
                "no input: pass the text as arguments, or a file with -f FILE (`-f -` reads standard input)"
            )
        }
        None => Ok(args.text.join(" ")),
    }
}

/// Returns the 1-based line and character column of byte `offset` in `text`.
fn line_and_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |index| index + 1);
    let column = text[line_start..offset].chars().count() + 1;
    (line, column)
}

fn address_type(indicator: &Indicator) -> Option<&'static str> {
    if !indicator.ioc_type.is_ip() {
        return None;
    }
    let address: IpAddr = indicator.value.parse().ok()?;
    Some(ip_type(address).as_str())
}

fn write_human(text: &str, indicators: &[Indicator], out: &mut impl Write) -> anyhow::Result<()> {
    let positions: Vec<String> = indicators
        .iter()
        .map(|indicator| {
            let (line, column) = line_and_column(text, indicator.start);
            format!("{line}:{column}")
        })
        .collect();
    let position_width = positions.iter().map(String::len).max().unwrap_or(0);
    for (indicator, position) in indicators.iter().zip(&positions) {
        let mut notes = Vec::new();
        if let Some(kind) = address_type(indicator) {
            notes.push(kind.to_owned());
        }
        if indicator.defanged {
            notes.push(format!("defanged: {}", &text[indicator.range()]));
        }
        let notes = if notes.is_empty() {
            String::new()
        } else {
            format!("  ({})", notes.join(", "))
        };
        writeln!(
            out,
            "{position:<position_width$}  {:<12}  {}{notes}",
            indicator.ioc_type.as_str(),
            indicator.value
        )?;
    }
    Ok(())
}

fn write_json(text: &str, indicators: &[Indicator], out: &mut impl Write) -> anyhow::Result<()> {
    let items: Vec<JsonIndicator> = indicators
        .iter()
        .map(|indicator| {
            let (line, column) = line_and_column(text, indicator.start);
            JsonIndicator {
                indicator,
                original: &text[indicator.range()],
                line,
                column,
                ip_type: address_type(indicator),
            }
        })
        .collect();
    serde_json::to_writer_pretty(&mut *out, &items)?;
    writeln!(out)?;
    Ok(())
}
