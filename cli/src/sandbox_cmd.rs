//! `codex sandbox [linux|macos|windows] [OPTIONS] [--] COMMAND...` and the legacy
//! `codex debug landlock|seatbelt` spellings.
//!
//! Flow: options → configuration (upstream rules for `-P`, managed requirements and legacy
//! configs) → resolved policy → platform plan → `--dry-run` JSON or run and mirror the exit code.

use std::ffi::{OsStr, OsString};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Subcommand;
use codex_config::{Config, PermissionSyntax, RequirementsMode, SandboxMode, SandboxSelection};
use codex_sandboxing::{
    CommandRequest, RunCommandError, SandboxBackend, SandboxPlan, SandboxSettings, StdioPolicy,
};

use crate::exit::CliError;
use crate::options::SharedOptions;

/// The helper name under which the `codex` binary acts as `codex-linux-sandbox`.
#[cfg(target_os = "linux")]
const LINUX_SANDBOX_ARG0: &str = "codex-linux-sandbox";

#[derive(Debug, clap::Args)]
#[command(
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true,
    after_help = "The host OS selects the backend: bubblewrap + seccomp on Linux (Landlock with \
                  `-c use_legacy_landlock=true`), Seatbelt on macOS.\n\
                  Use `--` before a command that starts with `-`."
)]
pub struct SandboxArgs {
    #[command(subcommand)]
    platform: Option<PlatformCommand>,

    #[command(flatten)]
    options: SandboxOptions,
}

#[derive(Debug, Subcommand)]
enum PlatformCommand {
    /// Run a command under the Linux sandbox (bubblewrap by default).
    #[command(visible_alias = "landlock")]
    Linux(SandboxOptions),

    /// Run a command under Seatbelt (macOS only; `--dry-run` works everywhere).
    #[command(visible_alias = "seatbelt")]
    Macos(SandboxOptions),

    /// Run a command under a Windows restricted token (Windows only).
    Windows(SandboxOptions),
}

#[derive(Debug, clap::Args)]
pub struct DebugArgs {
    #[command(subcommand)]
    command: DebugCommand,
}

#[derive(Debug, Subcommand)]
enum DebugCommand {
    /// Same as `codex sandbox linux`.
    Landlock(SandboxOptions),
    /// Same as `codex sandbox macos`.
    Seatbelt(SandboxOptions),
}

#[derive(Debug, clap::Args)]
struct SandboxOptions {
    #[command(flatten)]
    shared: SharedOptions,

    /// Named permission profile from the configuration (`:read-only`, `:workspace`,
    /// `:danger-full-access`, or a `[permissions.<NAME>]` table).
    #[arg(
        short = 'P',
        long = "permission-profile",
        alias = "permissions-profile",
        value_name = "NAME"
    )]
    permission_profile: Option<String>,

    /// Working directory for resolving the profile and running the command (needs `-P`).
    #[arg(
        short = 'C',
        long = "cd",
        value_name = "DIR",
        requires = "permission_profile"
    )]
    cd: Option<PathBuf>,

    /// Apply managed requirements even though `-P` was given (needs `-P`).
    #[arg(long, requires = "permission_profile")]
    include_managed_config: bool,

    /// Deprecated: for legacy `sandbox_mode` configs, run with workspace-write.
    #[arg(long)]
    full_auto: bool,

    /// Allow the command to connect to (and bind) the unix socket at PATH. Repeatable.
    #[arg(long = "allow-unix-socket", value_name = "PATH")]
    allow_unix_socket: Vec<PathBuf>,

    /// Print sandbox denials after the command exits (Seatbelt only).
    #[arg(long)]
    log_denials: bool,

    /// Print the exact invocation as JSON on stdout and run nothing.
    #[arg(long)]
    dry_run: bool,

    /// The command to run and its arguments.
    #[arg(
        value_name = "COMMAND",
        required = true,
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    command: Vec<OsString>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Platform {
    Linux,
    Macos,
    Windows,
}

impl Platform {
    fn host() -> Option<Platform> {
        if cfg!(target_os = "linux") {
            Some(Platform::Linux)
        } else if cfg!(target_os = "macos") {
            Some(Platform::Macos)
        } else if cfg!(target_os = "windows") {
            Some(Platform::Windows)
        } else {
            None
        }
    }
}

/// When invoked as `codex-linux-sandbox`, act as the standalone Linux helper.
#[cfg(target_os = "linux")]
pub fn dispatch_arg0() -> Option<ExitCode> {
    let arg0 = std::env::args_os().next()?;
    let name = std::path::Path::new(&arg0).file_name()?;
    if name == LINUX_SANDBOX_ARG0 {
        Some(codex_linux_sandbox::helper_main())
    } else {
        None
    }
}

#[cfg(not(target_os = "linux"))]
pub fn dispatch_arg0() -> Option<ExitCode> {
    None
}

pub fn run_sandbox(root: SharedOptions, args: SandboxArgs) -> anyhow::Result<ExitCode> {
    match args.platform {
        Some(PlatformCommand::Linux(options)) => run(root, options, Platform::Linux),
        Some(PlatformCommand::Macos(options)) => run(root, options, Platform::Macos),
        Some(PlatformCommand::Windows(options)) => run(root, options, Platform::Windows),
        None => match Platform::host() {
            Some(platform) => run(root, args.options, platform),
            None => Err(
                CliError::new("`codex sandbox` is not supported on this operating system").into(),
            ),
        },
    }
}

pub fn run_debug(root: SharedOptions, args: DebugArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        DebugCommand::Landlock(options) => run(root, options, Platform::Linux),
        DebugCommand::Seatbelt(options) => run(root, options, Platform::Macos),
    }
}

fn run(
    root: SharedOptions,
    options: SandboxOptions,
    platform: Platform,
) -> anyhow::Result<ExitCode> {
    let shared = root.merge(options.shared.clone());
    if options.log_denials && platform != Platform::Macos {
        return Err(CliError::new(
            "`--log-denials` is only supported by the Seatbelt backend (macOS)",
        )
        .into());
    }
    if platform == Platform::Windows {
        return Err(windows_unavailable());
    }
    let config = load_sandbox_config(&shared, &options)?;
    for warning in &config.warnings {
        eprintln!("warning: {warning}");
    }
    // The policy hides `$CODEX_HOME`; it must exist to be hidden (a login during the run would
    // otherwise create it in plain view). Also before `--dry-run`, so the plan shown is the one
    // that runs. If it cannot be created, nobody with our rights can create it either.
    if let Err(error) = codex_config::create_codex_home(&config.codex_home) {
        eprintln!(
            "warning: cannot create `{}`: {error}",
            config.codex_home.display()
        );
    }
    for note in &config.notes {
        eprintln!("note: {note}");
    }
    let policy = config.sandbox_policy.clone();
    let env = config
        .shell_environment_policy
        .create_env(std::env::vars_os());
    let mut settings = SandboxSettings::from_config(&config);
    match platform {
        // `linux` keeps the configured Linux backend; off Linux the planner refuses.
        Platform::Linux if settings.backend == SandboxBackend::Seatbelt => {
            settings.backend = SandboxBackend::Bubblewrap;
        }
        Platform::Linux => {}
        Platform::Macos => settings.backend = SandboxBackend::Seatbelt,
        Platform::Windows => return Err(windows_unavailable()),
    }
    settings.seatbelt_log_denials = options.log_denials;
    let request = CommandRequest {
        policy: &policy,
        command: options.command.clone(),
        cwd: config.cwd.clone(),
        env,
        stdio: StdioPolicy::Inherit,
        timeout: None,
        settings: &settings,
    };
    if options.dry_run {
        let plan = codex_sandboxing::plan(&request).map_err(sandbox_error)?;
        print_plan(&plan)?;
        return Ok(ExitCode::SUCCESS);
    }
    let running = codex_sandboxing::spawn(&request).map_err(sandbox_error)?;
    // Signals sent to `codex` reach the command (`trap … TERM` runs); the Seatbelt runner
    // forwards them itself.
    #[cfg(target_os = "linux")]
    let _forwarding = codex_sandboxing::SignalForwarder::install(&running.cancel_handle())
        .context("cannot install signal handlers")?;
    let outcome = running.wait().map_err(sandbox_error)?;
    Ok(ExitCode::from(
        u8::try_from(outcome.exit_code & 0xff).unwrap_or(1),
    ))
}

/// The library's error as the CLI prints it (message, hint, exit code).
fn sandbox_error(error: RunCommandError) -> anyhow::Error {
    let mut cli_error = CliError::new(error.to_string()).with_code(error.exit_code());
    cli_error.hint = error.hint();
    cli_error.into()
}

/// The Windows restricted-token backend is not built yet; it is refused before any
/// configuration work.
fn windows_unavailable() -> anyhow::Error {
    CliError::new("Windows sandbox is only available on Windows").into()
}

/// Upstream §1.3: `-P` selects the permission profile; with `-P`, managed requirements are
/// ignored unless `--include-managed-config`; a legacy (or implicit) configuration runs read-only
/// unless `-c sandbox_mode=…` is given (`--full-auto`: workspace-write).
fn load_sandbox_config(shared: &SharedOptions, options: &SandboxOptions) -> anyhow::Result<Config> {
    let current_dir = std::env::current_dir().context("cannot read the current directory")?;
    let cwd = match &options.cd {
        Some(dir) => {
            let dir = codex_sandboxing::normalize(&current_dir.join(dir));
            if !dir.is_dir() {
                return Err(
                    CliError::new(format!("`--cd {}` is not a directory", dir.display())).into(),
                );
            }
            dir
        }
        None => current_dir.clone(),
    };
    let mut loader = shared.loader_options(cwd)?;
    if options.permission_profile.is_some() && !options.include_managed_config {
        loader.requirements = RequirementsMode::Ignore;
    }
    loader.sandbox = SandboxSelection {
        permission_profile: options.permission_profile.clone(),
        legacy_fallback: Some(if options.full_auto {
            SandboxMode::WorkspaceWrite
        } else {
            SandboxMode::ReadOnly
        }),
        // Relative to the directory `codex` was started in, not `--cd`.
        unix_sockets: options
            .allow_unix_socket
            .iter()
            .map(|socket| current_dir.join(socket))
            .collect(),
        ..SandboxSelection::default()
    };
    let config = codex_config::load_config(&loader)?;
    let uses_profiles = config.permission_syntax == PermissionSyntax::Profiles;
    if uses_profiles && options.full_auto {
        return Err(CliError::new(
            "`codex sandbox --full-auto` is only supported for legacy `sandbox_mode` configs; \
             choose a writable `[permissions]` profile instead",
        )
        .into());
    }
    if options.full_auto {
        if config.legacy_fallback_applied {
            eprintln!(
                "warning: `--full-auto` is deprecated; use `-c sandbox_mode=workspace-write` instead"
            );
        } else {
            eprintln!("warning: `--full-auto` is ignored because `-c sandbox_mode` was given");
        }
    }
    Ok(config)
}

/// The `--dry-run` JSON object: one line on stdout.
fn print_plan(plan: &SandboxPlan) -> anyhow::Result<()> {
    let env: serde_json::Map<String, serde_json::Value> = plan
        .env_changes
        .iter()
        .map(|(key, value)| (key.clone(), serde_json::Value::String(value.clone())))
        .collect();
    let json = serde_json::json!({
        "backend": plan.backend,
        "program": plan.program.to_string_lossy(),
        "argv": plan.argv.iter().map(|arg| lossy(arg)).collect::<Vec<_>>(),
        "env": env,
        "summary": plan.summary,
        "process_limit": {
            "kind": plan.enforcement.process_limit.kind(),
            "max_processes": plan.enforcement.max_processes,
            "cgroup_parent": plan
                .enforcement
                .process_limit
                .cgroup_parent()
                .map(|path| path.to_string_lossy().into_owned()),
        },
        "enforcement": plan.enforcement.describe(),
    });
    crate::output::line(json)
}

fn lossy(value: &OsStr) -> String {
    value.to_string_lossy().into_owned()
}
