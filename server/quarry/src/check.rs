//! `quarry check` (placeholder until its slice lands).

use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct CheckArgs {}

pub fn main(_args: CheckArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`quarry check` is not built yet")
}
