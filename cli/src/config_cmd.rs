//! `codex config …` and `codex features …` (owned by the configuration work).

use std::process::ExitCode;

use crate::options::SharedOptions;

#[derive(Debug, clap::Args)]
pub struct ConfigArgs {
    #[command(flatten)]
    pub shared: SharedOptions,
}

#[derive(Debug, clap::Args)]
pub struct FeaturesArgs {
    #[command(flatten)]
    pub shared: SharedOptions,
}

pub fn run_config(_root: SharedOptions, _args: ConfigArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`codex config` is not available yet")
}

pub fn run_features(_root: SharedOptions, _args: FeaturesArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`codex features` is not available yet")
}
