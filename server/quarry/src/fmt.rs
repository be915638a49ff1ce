//! `quarry fmt`: formats KQL files in place, or checks that they are formatted.
//!
//! Query blocks with syntax errors are left as they are and reported on stderr as
//! `file:line: ...`. With `--check`, no file is written and the exit code is 1 when a file
//! would change, or 3 when a file has query blocks with syntax errors.

use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use quarry_fmt::{FormatOptions, format_document};
use quarry_syntax::LineIndex;

#[derive(Debug, clap::Args)]
pub struct FmtArgs {
    /// KQL files to format; `-` reads standard input and writes the result to standard output.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,

    /// Write nothing; list the files that would change and exit with 1 if there are any.
    /// Exit with 3 instead if a file has query blocks with syntax errors.
    #[arg(long)]
    check: bool,

    /// Spaces per indentation level.
    #[arg(long, value_name = "SPACES", default_value_t = FormatOptions::default().indent_width)]
    indent_width: usize,

    /// Line width, in characters, at which lists and bracket contents wrap.
    #[arg(long, value_name = "CHARACTERS", default_value_t = FormatOptions::default().line_width)]
    line_width: usize,
}

pub fn main(args: FmtArgs) -> anyhow::Result<ExitCode> {
    let options = FormatOptions {
        indent_width: args.indent_width,
        line_width: args.line_width,
    };
    let mut changed_files = 0;
    let mut files_with_syntax_errors = 0;
    for path in &args.files {
        let text = read_input(path)?;
        let formatted = format_document(&text, &options);
        report_unformatted_blocks(path, &text, &formatted.unformatted_blocks);
        if !formatted.unformatted_blocks.is_empty() {
            files_with_syntax_errors += 1;
        }

        let changed = formatted.text != text;
        if args.check {
            if changed {
                changed_files += 1;
                eprintln!("{}: not formatted", path.display());
            }
        } else if path == Path::new("-") {
            let mut stdout = io::stdout().lock();
            stdout
                .write_all(formatted.text.as_bytes())
                .and_then(|()| stdout.flush())
                .context("failed to write to standard output")?;
        } else if changed {
            std::fs::write(path, &formatted.text)
                .with_context(|| format!("failed to write `{}`", path.display()))?;
        }
    }

    if args.check && files_with_syntax_errors > 0 {
        let noun = if files_with_syntax_errors == 1 {
            "file has"
        } else {
            "files have"
        };
        eprintln!(
            "{files_with_syntax_errors} {noun} syntax errors and cannot be formatted; fix the \
             blocks listed above (`quarry check` shows each error)"
        );
        return Ok(ExitCode::from(SYNTAX_ERROR_EXIT));
    }
    if changed_files > 0 {
        let noun = if changed_files == 1 { "file" } else { "files" };
        eprintln!("{changed_files} {noun} would be reformatted; run `quarry fmt` without --check");
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

/// The exit code of `--check` when a file has query blocks with syntax errors.
const SYNTAX_ERROR_EXIT: u8 = 3;

fn report_unformatted_blocks(path: &Path, text: &str, blocks: &[std::ops::Range<usize>]) {
    if blocks.is_empty() {
        return;
    }
    let lines = LineIndex::new(text);
    for block in blocks {
        let line = lines.line_col(block.start).line + 1;
        eprintln!(
            "{}:{line}: query block left unformatted because it has syntax errors; \
             `quarry check` lists them",
            path.display()
        );
    }
}

fn read_input(path: &Path) -> anyhow::Result<String> {
    if path == Path::new("-") {
        let mut text = String::new();
        io::stdin()
            .read_to_string(&mut text)
            .context("failed to read standard input")?;
        return Ok(text);
    }
    std::fs::read_to_string(path).with_context(|| format!("failed to read `{}`", path.display()))
}
