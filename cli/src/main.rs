//! The `codex` binary: clap types, dispatch and error printing. Logic lives in the library crates.

mod apply_patch_cmd;
mod completion_cmd;
mod config_cmd;
mod config_json;
mod did_you_mean;
mod doctor_cmd;
#[cfg(target_os = "linux")]
mod doctor_linux;
mod doctor_report;
mod doctor_sandbox;
mod exit;
mod login_cmd;
mod login_status;
mod options;
mod output;
mod sandbox_cmd;

use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

use crate::options::SharedOptions;

/// Sandbox, configuration and sign-in for a local coding agent.
#[derive(Debug, Parser)]
#[command(
    name = "codex",
    display_name = "codex-cli",
    version,
    about = "Run commands in an OS sandbox, manage layered configuration, and sign in",
    subcommand_required = true,
    arg_required_else_help = true
)]
struct Cli {
    #[command(flatten)]
    shared: SharedOptions,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a command within a Codex-provided sandbox.
    Sandbox(sandbox_cmd::SandboxArgs),

    /// Manage login.
    Login(login_cmd::LoginArgs),

    /// Remove stored authentication credentials.
    Logout(login_cmd::LogoutArgs),

    /// Inspect the effective configuration.
    Config(config_cmd::ConfigArgs),

    /// Inspect feature flags.
    Features(config_cmd::FeaturesArgs),

    /// Apply a patch in the `*** Begin Patch` format (also runs as `apply_patch`).
    ApplyPatch(apply_patch_cmd::ApplyPatchArgs),

    /// Run the agent without a user interface: one task, then exit.
    #[command(visible_alias = "e")]
    Exec(codex_exec::ExecArgs),

    /// Check whether a sandboxed command can run here and what codex would use.
    Doctor(doctor_cmd::DoctorArgs),

    /// Print a shell completion script.
    Completion(completion_cmd::CompletionArgs),

    /// Legacy spellings of `codex sandbox linux|macos` (`codex debug landlock|seatbelt`).
    #[command(hide = true)]
    Debug(sandbox_cmd::DebugArgs),
}

fn main() -> ExitCode {
    // First: inside a sandbox, this binary may be the stage that applies the last layers.
    #[cfg(target_os = "linux")]
    codex_linux_sandbox::stage_main_if_requested();
    if let Some(code) = sandbox_cmd::dispatch_arg0().or_else(apply_patch_cmd::dispatch_arg0) {
        return code;
    }
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let cli = match Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(error) => did_you_mean::refine(error, &Cli::command(), &args).exit(),
    };
    let result = match cli.command {
        Command::Sandbox(args) => sandbox_cmd::run_sandbox(cli.shared, args),
        Command::Debug(args) => sandbox_cmd::run_debug(cli.shared, args),
        Command::Login(args) => login_cmd::run_login(cli.shared, args),
        Command::Logout(args) => login_cmd::run_logout(cli.shared, args),
        Command::Config(args) => config_cmd::run_config(cli.shared, args),
        Command::Features(args) => config_cmd::run_features(cli.shared, args),
        Command::ApplyPatch(args) => apply_patch_cmd::run_apply_patch(args),
        Command::Exec(args) => cli
            .shared
            .raw_overrides()
            .map(|raw_overrides| {
                let root = codex_exec::RootOptions {
                    raw_overrides,
                    profile: cli.shared.profile.clone(),
                    strict_config: cli.shared.strict_config,
                };
                ExitCode::from(codex_exec::run_exec(args, root))
            })
            .map_err(anyhow::Error::from),
        Command::Doctor(args) => doctor_cmd::run(cli.shared, args),
        Command::Completion(args) => completion_cmd::run(args, Cli::command()),
    };
    match result {
        Ok(code) => code,
        Err(error) => exit::report(&error),
    }
}
