//! `quarry run` (placeholder until its slice lands).

use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct RunArgs {}

pub fn main(_args: RunArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`quarry run` is not built yet")
}
