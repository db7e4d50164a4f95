//! `codex login …` and `codex logout` (owned by the sign-in work).

use std::process::ExitCode;

use crate::options::SharedOptions;

#[derive(Debug, clap::Args)]
pub struct LoginArgs {
    #[command(flatten)]
    pub shared: SharedOptions,
}

#[derive(Debug, clap::Args)]
pub struct LogoutArgs {
    #[command(flatten)]
    pub shared: SharedOptions,
}

pub fn run_login(_root: SharedOptions, _args: LoginArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`codex login` is not available yet")
}

pub fn run_logout(_root: SharedOptions, _args: LogoutArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`codex logout` is not available yet")
}
