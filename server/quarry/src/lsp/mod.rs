//! `quarry lsp` (placeholder until its slice lands).

use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct LspArgs {}

pub fn main(_args: LspArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`quarry lsp` is not built yet")
}
