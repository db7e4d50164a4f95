//! Executing a plan: [`spawn`] it (on the spawner thread) and [`LinuxChild::supervise`] it
//! (captured output, timeout, cancellation, forwarded signals, cleanup, classification), or, for
//! the `codex-linux-sandbox` helper, [`run`] it in exec mode when the planner chose that.

mod bubblewrap;
mod exec;
mod landlock;

use std::ffi::{OsStr, OsString};
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::Path;
use std::process::ExitStatus;
use std::time::{Duration, Instant};

use codex_sandbox_process::{CancelHandle, Captured, Ending, SpawnedProcess, Stdio};

use crate::cgroup::RunCgroup;
use crate::error::RunSandboxError;
use crate::request::{LinuxPlan, PlanDetails};

/// A started sandbox.
pub struct LinuxChild {
    process: SpawnedProcess,
    kind: Kind,
    /// The stage's failure report (read end).
    stage_status: OwnedFd,
    /// `argv[0]` of the user command and the child's `PATH`, to explain a failure to start.
    command: OsString,
    command_path: Option<OsString>,
    /// The run's pids cgroup: its members are killed and it is removed when the run ends (or
    /// when this is dropped unsupervised).
    cgroup: Option<RunCgroup>,
}

enum Kind {
    Bubblewrap(bubblewrap::State),
    Landlock,
}

/// How a supervised run ended.
#[derive(Debug)]
pub struct LinuxOutcome {
    pub ending: Ending,
    /// The command's exit code, 128+N when it died of signal N (as a shell reports it).
    pub exit_code: i32,
    pub stdout: Captured,
    pub stderr: Captured,
    pub aggregated: Captured,
    pub duration: Duration,
}

/// Start exactly `plan` (never exec mode).
pub fn spawn(plan: LinuxPlan, stdio: Stdio) -> Result<LinuxChild, RunSandboxError> {
    let LinuxPlan {
        program,
        argv,
        cwd,
        env,
        details,
        ..
    } = plan;
    let launch = Launch {
        program: &program,
        argv: &argv,
        cwd: &cwd,
        env: &env,
        stdio,
    };
    match details {
        PlanDetails::Bubblewrap(details) => bubblewrap::spawn(&launch, details),
        PlanDetails::Landlock(details) => landlock::spawn(&launch, details),
    }
}

impl LinuxChild {
    pub fn pid(&self) -> i32 {
        self.process.pid()
    }

    /// Wait for the run while serving `control` (cancel, forwarded signals) and the deadline;
    /// then clean up and classify. A timeout or cancel kills every process of the sandbox
    /// before this returns.
    pub fn supervise(
        self,
        control: &CancelHandle,
        deadline: Option<Instant>,
        max_bytes: usize,
    ) -> Result<LinuxOutcome, RunSandboxError> {
        let LinuxChild {
            mut process,
            kind,
            stage_status,
            command,
            command_path,
            cgroup,
        } = self;
        let wait_error = |source| RunSandboxError::Wait { source };
        let (supervision, bubblewrap_report) = match kind {
            Kind::Bubblewrap(state) => {
                let (supervision, report) = bubblewrap::supervise(
                    &mut process,
                    state,
                    cgroup.as_ref(),
                    control,
                    deadline,
                    max_bytes,
                )
                .map_err(wait_error)?;
                (supervision, Some(report))
            }
            Kind::Landlock => (
                landlock::supervise(&mut process, cgroup.as_ref(), control, deadline, max_bytes)
                    .map_err(wait_error)?,
                None,
            ),
        };
        // Whatever is still in the cgroup is killed, then the cgroup is removed.
        drop(cgroup);
        let status = supervision.ending.status();
        let stage_failure = read_stage_status(&stage_status);
        let killed = !matches!(supervision.ending, Ending::Exited(_));
        if !killed {
            if let Some(failure) = stage_failure {
                return Err(failure.into_error(&command));
            }
            if let Some(report) = &bubblewrap_report
                && report.exit_code.is_none()
                && status.code().is_some()
            {
                return Err(bubblewrap::setup_failure(
                    status,
                    &command,
                    command_path.as_deref(),
                ));
            }
        }
        let exit_code = bubblewrap_report
            .and_then(|report| report.exit_code)
            .unwrap_or_else(|| codex_sandbox_process::shell_exit_code(status));
        Ok(LinuxOutcome {
            ending: supervision.ending,
            exit_code,
            stdout: supervision.stdout,
            stderr: supervision.stderr,
            aggregated: supervision.aggregated,
            duration: supervision.duration,
        })
    }
}

/// Execute `plan` with inherited stdio and return the command's status: in exec mode this
/// process becomes `bwrap` and this returns only on error; otherwise the sandbox is spawned and
/// supervised; `control` (when given) cancels it or forwards signals to it.
pub fn run(plan: LinuxPlan, control: Option<&CancelHandle>) -> Result<ExitStatus, RunSandboxError> {
    use std::os::unix::process::ExitStatusExt;
    if plan.replaces_process()
        && let PlanDetails::Bubblewrap(details) = &plan.details
    {
        let launch = Launch {
            program: &plan.program,
            argv: &plan.argv,
            cwd: &plan.cwd,
            env: &plan.env,
            stdio: Stdio::Inherit,
        };
        return exec::exec(&launch, details);
    }
    let own;
    let control = match control {
        Some(control) => control,
        None => {
            own = CancelHandle::new().map_err(|error| prepare("creating a pipe", error))?;
            &own
        }
    };
    let child = spawn(plan, Stdio::Inherit)?;
    let outcome = child.supervise(control, None, 0)?;
    Ok(ExitStatus::from_raw((outcome.exit_code & 0xff) << 8))
}

/// The process to start.
pub(crate) struct Launch<'a> {
    pub program: &'a Path,
    pub argv: &'a [OsString],
    pub cwd: &'a Path,
    pub env: &'a [(OsString, OsString)],
    pub stdio: Stdio,
}

pub(crate) fn prepare(context: &'static str, source: io::Error) -> RunSandboxError {
    RunSandboxError::Prepare { context, source }
}

/// What the stage reported before it failed.
struct StageFailure {
    step: String,
    reason: String,
}

impl StageFailure {
    fn into_error(self, command: &OsStr) -> RunSandboxError {
        let program = command.to_string_lossy().into_owned();
        if self.step == "exec" {
            let errno: i32 = self.reason.trim().parse().unwrap_or(0);
            return if errno == libc::ENOENT || errno == libc::ENOTDIR {
                RunSandboxError::CommandNotFound { program }
            } else {
                RunSandboxError::CommandNotExecutable {
                    program,
                    source: io::Error::from_raw_os_error(errno),
                }
            };
        }
        RunSandboxError::StageFailed {
            step: self.step,
            reason: self.reason,
        }
    }
}

/// The first `<step>: <reason>` line the stage wrote, if any (the write ends are closed: the
/// stage exec'd the command, or exited).
fn read_stage_status(fd: &OwnedFd) -> Option<StageFailure> {
    // SAFETY: sets O_NONBLOCK on a descriptor we own (a stray holder must not block us).
    unsafe {
        let flags = libc::fcntl(fd.as_raw_fd(), libc::F_GETFL);
        libc::fcntl(fd.as_raw_fd(), libc::F_SETFL, flags | libc::O_NONBLOCK);
    }
    let mut text = Vec::new();
    let mut chunk = [0u8; 1024];
    while text.len() < 16 * 1024 {
        // SAFETY: reads into a valid buffer from a valid descriptor.
        let read = unsafe { libc::read(fd.as_raw_fd(), chunk.as_mut_ptr().cast(), chunk.len()) };
        if read <= 0 {
            break;
        }
        text.extend_from_slice(&chunk[..read as usize]);
    }
    let text = String::from_utf8_lossy(&text);
    let line = text.lines().next()?;
    let (step, reason) = line.split_once(": ").unwrap_or((line, ""));
    Some(StageFailure {
        step: step.to_string(),
        reason: reason.to_string(),
    })
}

/// Whether `program` resolves to an executable file on `path` (the one lookup, as `execvp` does;
/// relative names are checked from `/` as the command's own working directory is inside the
/// sandbox).
pub(crate) fn command_exists(program: &OsStr, path: Option<&OsStr>) -> bool {
    codex_sandbox_process::find_program(program, path, Path::new("/")).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_lookup_follows_execvp_rules() {
        assert!(command_exists(
            OsStr::new("sh"),
            Some(OsStr::new("/usr/bin:/bin"))
        ));
        assert!(command_exists(OsStr::new("/bin/sh"), None));
        assert!(!command_exists(
            OsStr::new("sh"),
            Some(OsStr::new("/nonexistent"))
        ));
        assert!(!command_exists(
            OsStr::new("definitely-not-a-command-xyz"),
            None
        ));
    }
}
