//! Running a bubblewrap plan: exec'd directly (`exec.rs`) when the planner chose that, otherwise
//! spawned and waited for as follows.
//!
//! `bwrap` gets the seccomp program on fd 3 (a pipe filled before the spawn) and reports through
//! `--json-status-fd 4`: `{"child-pid": N, …}` once its pid-1 (which also leads the command's
//! session and process group) exists, and `{"exit-code": N}` only if the command was executed.
//! No `exit-code` line means the sandbox failed before the command started (or could not exec it).
//! bwrap runs in its own process group so a terminal's Ctrl-C reaches us, not it; we forward
//! signals to the sandbox's process group (its pid 1 ignores them, the command gets them).

use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::process::ExitStatus;

use crate::error::RunSandboxError;
use crate::mount_points::{self, MountPointGuard};
use crate::request::{BubblewrapDetails, BubblewrapLaunch, SECCOMP_FD, STATUS_FD};
use crate::runner::signals::{self, Signals};
use crate::runner::{Launch, command_exists, exec, fill_pipe, pipe, prepare, spawn};
use crate::userns::UserNamespaceSysctls;

/// How long to wait for the sandbox's pid namespace to die after bwrap exited before removing
/// mount points (if it does not die, they are left in place: a trace, but never a hole).
const NAMESPACE_EXIT_TIMEOUT_MS: i32 = 5_000;

pub(crate) fn run(
    launch: &Launch<'_>,
    details: BubblewrapDetails,
) -> Result<ExitStatus, RunSandboxError> {
    if details.launch == BubblewrapLaunch::Exec {
        return exec::exec(launch, &details);
    }
    let mut guards: Vec<MountPointGuard> = Vec::new();
    for path in &details.mount_points {
        match mount_points::acquire(path) {
            Ok(guard) => guards.push(guard),
            Err(error) => {
                release(guards, None);
                return Err(error);
            }
        }
    }
    let result = run_bwrap(launch, &details);
    let (status, namespace) = match result {
        Ok((status, namespace)) => (Ok(status), namespace),
        Err(error) => (Err(error), None),
    };
    release(guards, namespace.as_ref());
    classify(status?, &details)
}

/// What bwrap reported plus its own status.
struct Outcome {
    status: ExitStatus,
    exit_code: Option<i32>,
}

fn run_bwrap(
    launch: &Launch<'_>,
    details: &BubblewrapDetails,
) -> Result<(Outcome, Option<OwnedFd>), RunSandboxError> {
    let seccomp_read = match &details.seccomp {
        Some(program) => Some(fill_pipe(program)?),
        None => None,
    };
    let (status_read, status_write) = pipe()?;
    // SAFETY: sets O_NONBLOCK on a valid descriptor we own.
    unsafe { libc::fcntl(status_read.as_raw_fd(), libc::F_SETFL, libc::O_NONBLOCK) };

    let signals = Signals::block().map_err(|error| prepare("blocking signals", error))?;
    let mut mappings = vec![(status_write.as_raw_fd(), STATUS_FD)];
    if let Some(fd) = &seccomp_read {
        mappings.push((fd.as_raw_fd(), SECCOMP_FD));
    }
    let mut child = spawn::spawn(launch, &mappings).map_err(|source| RunSandboxError::Spawn {
        program: launch.program.to_path_buf(),
        source,
    })?;
    drop(seccomp_read);
    drop(status_write);

    let bwrap_pid = child.pid();
    let child_pidfd = signals::pidfd(bwrap_pid);
    let mut report = StatusReport::new(status_read);
    let mut namespace: Option<OwnedFd> = None;
    let status = loop {
        let mut fds = vec![signals.raw_fd(), report.pollable_fd()];
        if let Some(fd) = &child_pidfd {
            fds.push(fd.as_raw_fd());
        }
        let timeout = if child_pidfd.is_some() { -1 } else { 50 };
        let ready = signals::poll_readable(&fds, timeout)
            .map_err(|source| RunSandboxError::Wait { source })?;
        if ready[1] {
            report.read_available();
            if namespace.is_none()
                && let Some(pid) = report.child_pid()
            {
                namespace = signals::pidfd(pid);
            }
        }
        if ready[0] {
            for received in signals.take() {
                let delivered = report
                    .child_pid()
                    .is_some_and(|pid| signals::send(-pid, received.signal));
                if !delivered {
                    // No sandbox yet: stopping bwrap (which takes its children with it) is all
                    // that is left.
                    signals::send(bwrap_pid, received.signal);
                }
            }
        }
        if let Some(status) = child
            .try_wait()
            .map_err(|source| RunSandboxError::Wait { source })?
        {
            break status;
        }
    };
    drop(signals);
    report.read_available();
    if namespace.is_none()
        && let Some(pid) = report.child_pid()
    {
        namespace = signals::pidfd(pid);
    }
    Ok((
        Outcome {
            status,
            exit_code: report.exit_code(),
        },
        namespace,
    ))
}

/// Remove the mount points once the sandbox's pid namespace is gone (its init's pidfd readable).
fn release(guards: Vec<MountPointGuard>, namespace: Option<&OwnedFd>) {
    if guards.is_empty() {
        return;
    }
    if let Some(fd) = namespace {
        let gone = signals::poll_readable(&[fd.as_raw_fd()], NAMESPACE_EXIT_TIMEOUT_MS)
            .is_ok_and(|ready| ready[0]);
        if !gone {
            return;
        }
    }
    for guard in guards.into_iter().rev() {
        guard.release();
    }
}

fn classify(outcome: Outcome, details: &BubblewrapDetails) -> Result<ExitStatus, RunSandboxError> {
    if outcome.exit_code.is_some() || outcome.status.code().is_none() {
        return Ok(outcome.status);
    }
    if !command_exists(&details.command, details.command_path.as_deref()) {
        return Err(RunSandboxError::CommandNotFound {
            program: details.command.to_string_lossy().into_owned(),
        });
    }
    // SAFETY: geteuid has no preconditions.
    let privileged = unsafe { libc::geteuid() } == 0;
    Err(RunSandboxError::SetupFailed {
        code: outcome.status.code().unwrap_or(1),
        diagnosis: UserNamespaceSysctls::read().possible_blocker(privileged),
    })
}

/// The `--json-status-fd` stream.
struct StatusReport {
    fd: OwnedFd,
    text: Vec<u8>,
    closed: bool,
}

impl StatusReport {
    fn new(fd: OwnedFd) -> Self {
        StatusReport {
            fd,
            text: Vec::new(),
            closed: false,
        }
    }

    /// The descriptor to poll, or -1 (ignored by poll) once the writer closed it.
    fn pollable_fd(&self) -> RawFd {
        if self.closed { -1 } else { self.fd.as_raw_fd() }
    }

    fn read_available(&mut self) {
        let mut buffer = [0u8; 1024];
        loop {
            // SAFETY: reads into a valid buffer from a valid non-blocking descriptor.
            let read = unsafe {
                libc::read(
                    self.fd.as_raw_fd(),
                    buffer.as_mut_ptr().cast(),
                    buffer.len(),
                )
            };
            if read == 0 || self.text.len() > 65_536 {
                self.closed = true;
                return;
            }
            if read < 0 {
                return;
            }
            self.text.extend_from_slice(&buffer[..read as usize]);
        }
    }

    fn child_pid(&self) -> Option<i32> {
        number_after(&self.text, b"\"child-pid\":")
    }

    fn exit_code(&self) -> Option<i32> {
        number_after(&self.text, b"\"exit-code\":")
    }
}

/// The integer following the first occurrence of `key` in `text`.
fn number_after(text: &[u8], key: &[u8]) -> Option<i32> {
    let start = text.windows(key.len()).position(|window| window == key)? + key.len();
    let digits: String = text[start..]
        .iter()
        .skip_while(|byte| byte.is_ascii_whitespace())
        .take_while(|byte| byte.is_ascii_digit())
        .map(|byte| char::from(*byte))
        .collect();
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_bubblewrap_status_lines() {
        let text =
            b"{ \"child-pid\": 5009, \"mnt-namespace\": 4026532178 }\n{ \"exit-code\": 3 }\n";
        assert_eq!(number_after(text, b"\"child-pid\":"), Some(5009));
        assert_eq!(number_after(text, b"\"exit-code\":"), Some(3));
        assert_eq!(
            number_after(b"{ \"child-pid\": 7 }", b"\"exit-code\":"),
            None
        );
    }
}
