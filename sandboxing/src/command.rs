//! The one entry point: run this command under this policy.
//!
//! [`plan`] (what would run: `--dry-run`), [`spawn`] (start it: a [`RunningCommand`] with a
//! [`CancelHandle`]) and [`run`] (spawn and wait). Callable from any number of threads at once: no
//! global state but the process-wide spawner thread, no signal mask, no working directory change.
//! A timeout or cancel kills every process the command started before `wait` returns; the command
//! never runs unsandboxed, and a protection that cannot be applied is an error.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use codex_sandbox_policy::SandboxPolicy;

use crate::enforcement::EnforcementReport;
use crate::error::RunCommandError;
use crate::settings::{SandboxBackend, SandboxSettings};

#[cfg(target_os = "linux")]
pub use codex_sandbox_process::SignalForwarder;
pub use codex_sandbox_process::{CancelHandle, Captured};

/// What to run.
#[derive(Debug, Clone)]
pub struct CommandRequest<'a> {
    pub policy: &'a SandboxPolicy,
    /// argv; `argv[0]` is looked up on `env`'s `PATH`.
    pub command: Vec<OsString>,
    /// Absolute.
    pub cwd: PathBuf,
    /// The complete child environment.
    pub env: Vec<(OsString, OsString)>,
    pub stdio: StdioPolicy,
    pub timeout: Option<Duration>,
    pub settings: &'a SandboxSettings,
}

/// The command's standard streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StdioPolicy {
    /// The caller's stdin, stdout and stderr (`codex sandbox`).
    Inherit,
    /// stdin from `/dev/null`; stdout, stderr and the interleaved stream kept up to `max_bytes`
    /// each (head and tail, the middle dropped).
    Capture { max_bytes: usize },
}

/// Why the run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// The command exited with this code (128+N when the launcher reports a death by signal N).
    Exited(i32),
    /// The command's top process died of this signal (reported directly).
    Signaled(i32),
    /// The timeout passed; every process of the sandbox was killed.
    TimedOut,
    /// [`CancelHandle::cancel`] was called; every process of the sandbox was killed.
    Cancelled,
}

/// The result of a run.
#[derive(Debug, Clone)]
pub struct CommandOutcome {
    pub ending: Ending,
    /// The shell convention: the exit code, or 128+N for a death by signal N (a killed run:
    /// the code of the kill).
    pub exit_code: i32,
    /// Empty with [`StdioPolicy::Inherit`].
    pub stdout: Captured,
    pub stderr: Captured,
    /// stdout and stderr in arrival order.
    pub aggregated: Captured,
    pub duration: Duration,
    pub enforcement: EnforcementReport,
}

/// The exact invocation, for `--dry-run`.
#[derive(Debug)]
pub struct SandboxPlan {
    /// `"bubblewrap"`, `"landlock"` or `"seatbelt"`.
    pub backend: &'static str,
    pub program: PathBuf,
    /// The exact argv, including `argv[0]`.
    pub argv: Vec<OsString>,
    /// Only the variables the sandbox adds or changes.
    pub env_changes: Vec<(String, String)>,
    /// A readable line: what may be written and read, whether the network is on.
    pub summary: String,
    pub enforcement: EnforcementReport,
    #[cfg_attr(
        not(any(target_os = "linux", target_os = "macos")),
        expect(dead_code, reason = "no process backend runs plans here yet")
    )]
    inner: PlatformPlan,
}

enum PlatformPlan {
    #[cfg(target_os = "linux")]
    Linux(Box<codex_linux_sandbox::LinuxPlan>),
    #[cfg_attr(
        not(target_os = "macos"),
        expect(
            dead_code,
            reason = "planned everywhere for --dry-run, run only on macOS"
        )
    )]
    Seatbelt(Box<crate::seatbelt::SeatbeltPlan>),
}

impl std::fmt::Debug for PlatformPlan {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(match self {
            #[cfg(target_os = "linux")]
            PlatformPlan::Linux(_) => "Linux",
            PlatformPlan::Seatbelt(_) => "Seatbelt",
        })
    }
}

/// Build the exact plan for `request` (nothing is started). The program must exist on the
/// child's `PATH`: a missing one is [`RunCommandError::CommandNotFound`].
pub fn plan(request: &CommandRequest<'_>) -> Result<SandboxPlan, RunCommandError> {
    let Some(program) = request.command.first() else {
        return Err(RunCommandError::EmptyCommand);
    };
    if !request.cwd.is_absolute() {
        return Err(RunCommandError::RelativeCwd(request.cwd.clone()));
    }
    let path = request
        .env
        .iter()
        .find(|(name, _)| name == "PATH")
        .map(|(_, value)| value.as_os_str());
    if find_program(program, path, &request.cwd).is_none() {
        return Err(RunCommandError::CommandNotFound {
            program: program.to_string_lossy().into_owned(),
        });
    }
    let summary = codex_utils_sandbox_summary::describe(request.policy);
    match request.settings.backend {
        SandboxBackend::Seatbelt => seatbelt_plan(request, summary),
        #[cfg(target_os = "linux")]
        SandboxBackend::Bubblewrap | SandboxBackend::Landlock => linux_plan(request, summary),
        #[cfg(not(target_os = "linux"))]
        SandboxBackend::Bubblewrap | SandboxBackend::Landlock => {
            Err(RunCommandError::Unsupported {
                what: "The Linux sandbox",
                platform: "Linux",
                hint: None,
            })
        }
    }
}

/// One `PATH` lookup for every backend and front end (as `execvp` does).
fn find_program(
    program: &std::ffi::OsStr,
    path: Option<&std::ffi::OsStr>,
    cwd: &Path,
) -> Option<PathBuf> {
    #[cfg(unix)]
    {
        codex_sandbox_process::find_program(program, path, cwd)
    }
    #[cfg(not(unix))]
    {
        let _ = (path, cwd);
        Some(PathBuf::from(program))
    }
}

#[cfg(target_os = "linux")]
fn linux_plan(
    request: &CommandRequest<'_>,
    summary: String,
) -> Result<SandboxPlan, RunCommandError> {
    use codex_linux_sandbox::{LinuxBackend, RunMode, SandboxRequest};
    let backend = match request.settings.backend {
        SandboxBackend::Landlock => LinuxBackend::Landlock,
        _ => LinuxBackend::Bubblewrap,
    };
    let options = request.settings.linux_options();
    let linux = codex_linux_sandbox::plan(&SandboxRequest {
        policy: request.policy,
        command: &request.command,
        cwd: &request.cwd,
        env: &request.env,
        backend,
        run_mode: RunMode::SpawnAndWait,
        options: &options,
    })
    .map_err(RunCommandError::LinuxPlan)?;
    let enforcement = EnforcementReport::from_linux(&linux.enforcement);
    Ok(SandboxPlan {
        backend: linux.backend_name(),
        program: linux.program.clone(),
        argv: linux.argv.clone(),
        env_changes: linux.env_changes.clone(),
        summary,
        enforcement,
        inner: PlatformPlan::Linux(Box::new(linux)),
    })
}

fn seatbelt_plan(
    request: &CommandRequest<'_>,
    summary: String,
) -> Result<SandboxPlan, RunCommandError> {
    use crate::seatbelt;
    let options = seatbelt::SeatbeltOptions {
        extra_unix_sockets: Vec::new(),
        darwin_user_cache_dir: seatbelt::darwin_user_cache_dir(),
        env: request.env.clone(),
        cwd: request.cwd.clone(),
    };
    let plan = seatbelt::plan(request.policy, &request.command, &options)
        .map_err(RunCommandError::SeatbeltPlan)?;
    Ok(SandboxPlan {
        backend: "seatbelt",
        program: plan.program.clone(),
        argv: plan.argv.clone(),
        env_changes: plan.env_changes.clone(),
        summary,
        enforcement: EnforcementReport::seatbelt(request.policy),
        inner: PlatformPlan::Seatbelt(Box::new(plan)),
    })
}

/// A started command.
pub struct RunningCommand {
    child: PlatformChild,
    control: CancelHandle,
    #[cfg_attr(
        not(any(target_os = "linux", target_os = "macos")),
        expect(dead_code, reason = "no process backend runs plans here yet")
    )]
    deadline: Option<Instant>,
    #[cfg_attr(
        not(any(target_os = "linux", target_os = "macos")),
        expect(dead_code, reason = "no process backend runs plans here yet")
    )]
    max_bytes: usize,
    enforcement: EnforcementReport,
}

enum PlatformChild {
    #[cfg(target_os = "linux")]
    Linux(codex_linux_sandbox::LinuxChild),
    #[cfg(target_os = "macos")]
    Seatbelt(crate::seatbelt::SeatbeltPlan, bool),
}

/// Start `request`.
pub fn spawn(request: &CommandRequest<'_>) -> Result<RunningCommand, RunCommandError> {
    let plan = plan(request)?;
    start(request, plan)
}

/// No process backend here yet (Windows): planning works (`--dry-run`), running is refused.
#[cfg(not(any(target_os = "linux", target_os = "macos")))]
fn start(
    _request: &CommandRequest<'_>,
    _plan: SandboxPlan,
) -> Result<RunningCommand, RunCommandError> {
    Err(RunCommandError::Unsupported {
        what: "Running a sandboxed command",
        platform: "Linux or macOS",
        hint: Some("`codex sandbox macos --dry-run …` prints the Seatbelt plan on any OS".into()),
    })
}

#[cfg(any(target_os = "linux", target_os = "macos"))]
fn start(
    request: &CommandRequest<'_>,
    plan: SandboxPlan,
) -> Result<RunningCommand, RunCommandError> {
    let control = CancelHandle::new().map_err(RunCommandError::Prepare)?;
    let deadline = request.timeout.map(|timeout| Instant::now() + timeout);
    let (stdio, max_bytes) = match request.stdio {
        StdioPolicy::Inherit => (codex_sandbox_process::Stdio::Inherit, 0),
        StdioPolicy::Capture { max_bytes } => (codex_sandbox_process::Stdio::Capture, max_bytes),
    };
    let enforcement = plan.enforcement.clone();
    let child = match plan.inner {
        #[cfg(target_os = "linux")]
        PlatformPlan::Linux(linux) => PlatformChild::Linux(
            codex_linux_sandbox::spawn(*linux, stdio).map_err(RunCommandError::LinuxRun)?,
        ),
        #[cfg(target_os = "macos")]
        PlatformPlan::Seatbelt(seatbelt) => {
            if stdio != codex_sandbox_process::Stdio::Inherit || deadline.is_some() {
                return Err(RunCommandError::NotImplemented(
                    "captured output or a timeout under Seatbelt",
                ));
            }
            PlatformChild::Seatbelt(*seatbelt, request.settings.seatbelt_log_denials)
        }
        #[cfg(not(target_os = "macos"))]
        PlatformPlan::Seatbelt(_) => {
            return Err(RunCommandError::Unsupported {
                what: "Seatbelt sandbox",
                platform: "macOS",
                hint: Some("`codex sandbox macos --dry-run …` prints the plan on any OS".into()),
            });
        }
    };
    let _ = stdio;
    Ok(RunningCommand {
        child,
        control,
        deadline,
        max_bytes,
        enforcement,
    })
}

/// Start `request` and wait for it.
pub fn run(request: &CommandRequest<'_>) -> Result<CommandOutcome, RunCommandError> {
    spawn(request)?.wait()
}

impl RunningCommand {
    /// Cancel the run or forward signals to it, from any thread.
    pub fn cancel_handle(&self) -> CancelHandle {
        self.control.clone()
    }

    pub fn enforcement(&self) -> &EnforcementReport {
        &self.enforcement
    }

    /// Wait for the command (serving cancel requests, forwarded signals and the timeout).
    #[cfg(not(any(target_os = "linux", target_os = "macos")))]
    pub fn wait(self) -> Result<CommandOutcome, RunCommandError> {
        match self.child {}
    }

    /// Wait for the command (serving cancel requests, forwarded signals and the timeout).
    #[cfg(any(target_os = "linux", target_os = "macos"))]
    pub fn wait(self) -> Result<CommandOutcome, RunCommandError> {
        let RunningCommand {
            child,
            control,
            deadline,
            max_bytes,
            enforcement,
        } = self;
        match child {
            #[cfg(target_os = "linux")]
            PlatformChild::Linux(child) => {
                let outcome = child
                    .supervise(&control, deadline, max_bytes)
                    .map_err(RunCommandError::LinuxRun)?;
                use codex_sandbox_process::Ending as Raw;
                let ending = match outcome.ending {
                    Raw::TimedOut(_) => Ending::TimedOut,
                    Raw::Cancelled(_) => Ending::Cancelled,
                    Raw::Exited(status) => {
                        use std::os::unix::process::ExitStatusExt;
                        match status.signal() {
                            Some(signal) => Ending::Signaled(signal),
                            None => Ending::Exited(outcome.exit_code),
                        }
                    }
                };
                Ok(CommandOutcome {
                    ending,
                    exit_code: outcome.exit_code,
                    stdout: outcome.stdout,
                    stderr: outcome.stderr,
                    aggregated: outcome.aggregated,
                    duration: outcome.duration,
                    enforcement,
                })
            }
            #[cfg(target_os = "macos")]
            PlatformChild::Seatbelt(plan, log_denials) => {
                let _ = (&control, deadline, max_bytes);
                let started = Instant::now();
                let status =
                    crate::seatbelt::run(plan, log_denials).map_err(RunCommandError::Prepare)?;
                let exit_code = codex_sandbox_process::shell_exit_code(status);
                Ok(CommandOutcome {
                    ending: Ending::Exited(exit_code),
                    exit_code,
                    stdout: Captured::default(),
                    stderr: Captured::default(),
                    aggregated: Captured::default(),
                    duration: started.elapsed(),
                    enforcement,
                })
            }
        }
    }
}
