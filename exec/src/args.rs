//! `codex exec [OPTIONS] [PROMPT]` and `codex exec resume [SESSION_ID] [PROMPT]`: clap types
//! only; [`crate::run_exec`] turns them into settings.

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};

pub(crate) const STDIN_HELP: &str = "\
Prompt and stdin:
  PROMPT given, stdin a terminal        the prompt is used as given
  PROMPT given, stdin a pipe or file    stdin is appended as <stdin>…</stdin> when it delivers data
                                        or closes within 2 seconds; a pipe that stays silent longer
                                        is ignored (exec says so) and the prompt is used alone
  no PROMPT (or `-`)                    the prompt is read from stdin to its end

Exit codes: 0 turn completed (also when a command failed), 1 turn failed or start-up error,
2 usage error, 130 interrupted (SIGINT), 143 terminated (SIGTERM).";

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SandboxModeArg {
    ReadOnly,
    WorkspaceWrite,
    DangerFullAccess,
}

impl SandboxModeArg {
    /// The configuration's one `SandboxMode`.
    pub(crate) fn mode(self) -> codex_config::SandboxMode {
        match self {
            SandboxModeArg::ReadOnly => codex_config::SandboxMode::ReadOnly,
            SandboxModeArg::WorkspaceWrite => codex_config::SandboxMode::WorkspaceWrite,
            SandboxModeArg::DangerFullAccess => codex_config::SandboxMode::DangerFullAccess,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum ColorArg {
    Always,
    Never,
    #[default]
    Auto,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LocalProviderArg {
    Lmstudio,
    Ollama,
}

/// Options valid before and after `resume`.
#[derive(Debug, Clone, Default, Args)]
pub struct ExecOptions {
    /// Override a configuration value (`key=value`, the value parsed as TOML). Repeatable.
    #[arg(short = 'c', long = "config", value_name = "key=value", global = true)]
    pub config: Vec<String>,

    /// Enable a feature flag (`-c features.<FEATURE>=true`). Repeatable.
    #[arg(long = "enable", value_name = "FEATURE", global = true)]
    pub enable: Vec<String>,

    /// Disable a feature flag (`-c features.<FEATURE>=false`). Repeatable.
    #[arg(long = "disable", value_name = "FEATURE", global = true)]
    pub disable: Vec<String>,

    /// Layer `$CODEX_HOME/<NAME>.config.toml` on top of the user configuration.
    #[arg(short = 'p', long = "profile", value_name = "NAME", global = true)]
    pub profile: Option<String>,

    /// Fail on unknown configuration keys instead of ignoring them.
    #[arg(long = "strict-config", global = true)]
    pub strict_config: bool,

    /// Image files to attach to the prompt (repeatable, or comma-separated).
    #[arg(
        short = 'i',
        long = "image",
        value_name = "FILE",
        value_delimiter = ',',
        global = true
    )]
    pub images: Vec<PathBuf>,

    /// The model to use.
    #[arg(short = 'm', long = "model", global = true)]
    pub model: Option<String>,

    /// Use a local provider (`--local-provider`, else `oss_provider` from config.toml).
    #[arg(long = "oss", global = true)]
    pub oss: bool,

    /// The local provider for `--oss`.
    #[arg(long = "local-provider", value_enum, global = true)]
    pub local_provider: Option<LocalProviderArg>,

    /// The sandbox for commands the model runs (default: config, else read-only).
    #[arg(short = 's', long = "sandbox", value_enum, global = true)]
    pub sandbox: Option<SandboxModeArg>,

    /// Deprecated: same as `--sandbox workspace-write`.
    #[arg(
        long = "full-auto",
        hide = true,
        global = true,
        conflicts_with = "yolo"
    )]
    pub full_auto: bool,

    /// Run commands without any sandbox (credentials stay masked). Dangerous.
    #[arg(
        long = "dangerously-bypass-approvals-and-sandbox",
        alias = "yolo",
        global = true
    )]
    pub yolo: bool,

    /// The working root for the agent (config is loaded relative to it).
    #[arg(short = 'C', long = "cd", value_name = "DIR", global = true)]
    pub cd: Option<PathBuf>,

    /// An extra writable root (repeatable).
    #[arg(long = "add-dir", value_name = "DIR", global = true)]
    pub add_dir: Vec<PathBuf>,

    /// Allow running outside a git repository.
    #[arg(long = "skip-git-repo-check", global = true)]
    pub skip_git_repo_check: bool,

    /// Write no session file.
    #[arg(long = "ephemeral", global = true)]
    pub ephemeral: bool,

    /// Print events as JSON Lines on stdout.
    #[arg(long = "json", alias = "experimental-json", global = true)]
    pub json: bool,

    /// Write the final message to FILE.
    #[arg(
        short = 'o',
        long = "output-last-message",
        value_name = "FILE",
        global = true
    )]
    pub output_last_message: Option<PathBuf>,

    /// A JSON Schema the final message must follow.
    #[arg(long = "output-schema", value_name = "FILE", global = true)]
    pub output_schema: Option<PathBuf>,

    /// Colours on stderr.
    #[arg(long = "color", value_enum, default_value_t = ColorArg::Auto, global = true)]
    pub color: ColorArg,
}

/// `codex exec`.
#[derive(Debug, Clone, Args)]
#[command(
    args_conflicts_with_subcommands = false,
    subcommand_negates_reqs = true,
    after_help = STDIN_HELP
)]
pub struct ExecArgs {
    #[command(subcommand)]
    pub command: Option<ExecCommand>,

    #[command(flatten)]
    pub options: ExecOptions,

    /// The instructions for the agent; `-` reads them from stdin.
    #[arg(value_name = "PROMPT")]
    pub prompt: Option<String>,
}

#[derive(Debug, Clone, Subcommand)]
pub enum ExecCommand {
    /// Continue a saved session.
    #[command(after_help = STDIN_HELP)]
    Resume(ResumeArgs),
}

#[derive(Debug, Clone, Args)]
pub struct ResumeArgs {
    /// The session id (a UUID). With `--last`, a single value is the prompt.
    #[arg(value_name = "SESSION_ID")]
    pub session_id: Option<String>,

    /// The newest session started in this directory.
    #[arg(long = "last")]
    pub last: bool,

    /// With `--last`: the newest session from any directory.
    #[arg(long = "all", requires = "last")]
    pub all: bool,

    /// The instructions for the agent; `-` reads them from stdin.
    #[arg(value_name = "PROMPT")]
    pub prompt: Option<String>,
}
