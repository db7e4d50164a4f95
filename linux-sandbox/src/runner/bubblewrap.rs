//! Running a bubblewrap plan in spawn mode (exec mode: `exec.rs`).
//!
//! `bwrap` gets the seccomp program on fd 3 (a pipe filled before the spawn), reports through
//! `--json-status-fd 4` (`{"child-pid": N, …}` once its pid 1 exists, `{"exit-code": N}` only if
//! the stage was executed), executes the stage from fd 5, and the stage reports its own failures
//! on fd 6. bwrap runs in its own process group so a terminal's Ctrl-C reaches the caller, which
//! forwards it; signals go to the sandbox's process group (its pid 1 ignores them, the command
//! gets them). Killing the sandbox's pid 1 ends its pid namespace, so a timeout or cancel leaves
//! nothing behind, whatever the command forked or `setsid`ed. With a pids cgroup (fds 8 and 9:
//! the stage joins it before the command runs) the cgroup's members are killed too.

use std::cell::Cell;
use std::ffi::OsStr;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::process::ExitStatus;
use std::time::Instant;

use codex_sandbox_process::{
    CancelHandle, Hooks, SpawnOptions, SpawnedProcess, Supervision, fill_pipe, high_pipe, pidfd,
    poll_readable, supervise as supervise_loop,
};

use crate::cgroup::RunCgroup;
use crate::error::RunSandboxError;
use crate::mount_points::{self, MountPointGuard};
use crate::request::{
    BubblewrapDetails, LIFELINE_FD, SECCOMP_FD, STAGE_EXE_FD, STAGE_STATUS_FD, STATUS_FD,
};
use crate::runner::{Kind, Launch, LinuxChild, command_exists, prepare};
use crate::userns::UserNamespaceSysctls;

/// How long to wait for the sandbox's pid namespace to die after bwrap exited before removing
/// mount points (if it does not die, they are left in place: a trace, but never a hole).
const NAMESPACE_EXIT_TIMEOUT_MS: i32 = 5_000;

/// What a spawned bwrap needs until it is reaped.
pub(crate) struct State {
    status: OwnedFd,
    guards: Vec<MountPointGuard>,
    /// Held open for the whole run: the stage refuses to start the command once it is closed.
    _lifeline: OwnedFd,
}

/// What bwrap reported.
#[derive(Debug, Default)]
pub(crate) struct Report {
    pub child_pid: Option<i32>,
    pub exit_code: Option<i32>,
}

pub(crate) fn spawn(
    launch: &Launch<'_>,
    details: BubblewrapDetails,
) -> Result<LinuxChild, RunSandboxError> {
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
    // The pid namespace ends the tree; the cgroup holds the limit.
    let cgroup = match RunCgroup::create(&details.process_limit, details.max_processes, false) {
        Ok(cgroup) => cgroup,
        Err(error) => {
            release(guards, None);
            return Err(error);
        }
    };
    match start(launch, &details, cgroup.as_ref()) {
        Ok((process, status, stage_status, lifeline)) => Ok(LinuxChild {
            process,
            kind: Kind::Bubblewrap(State {
                status,
                guards,
                _lifeline: lifeline,
            }),
            stage_status,
            command: details.command,
            command_path: details.command_path,
            cgroup,
        }),
        Err(error) => {
            release(guards, None);
            Err(error)
        }
    }
}

fn start(
    launch: &Launch<'_>,
    details: &BubblewrapDetails,
    cgroup: Option<&RunCgroup>,
) -> Result<(SpawnedProcess, OwnedFd, OwnedFd, OwnedFd), RunSandboxError> {
    let pipe_error = |error| prepare("creating a pipe", error);
    let seccomp_read = match &details.seccomp {
        Some(program) => Some(
            fill_pipe(program).map_err(|error| prepare("passing the seccomp program", error))?,
        ),
        None => None,
    };
    let (status_read, status_write) = high_pipe().map_err(pipe_error)?;
    let (stage_read, stage_write) = high_pipe().map_err(pipe_error)?;
    let (lifeline_read, lifeline_write) = high_pipe().map_err(pipe_error)?;
    let stage_exe = open_stage_executable(&details.stage_executable)?;
    let mut mappings = vec![
        (status_write.as_raw_fd(), STATUS_FD),
        (stage_exe.as_raw_fd(), STAGE_EXE_FD),
        (stage_write.as_raw_fd(), STAGE_STATUS_FD),
        (lifeline_read.as_raw_fd(), LIFELINE_FD),
    ];
    if let Some(fd) = &seccomp_read {
        mappings.push((fd.as_raw_fd(), SECCOMP_FD));
    }
    mappings.extend(cgroup.iter().flat_map(|cgroup| cgroup.join_descriptors()));
    let process = codex_sandbox_process::spawn(&SpawnOptions {
        program: launch.program,
        argv: launch.argv,
        env: launch.env,
        cwd: launch.cwd,
        mappings: &mappings,
        stdio: launch.stdio,
        process_group: true,
    })
    .map_err(|source| RunSandboxError::Spawn {
        program: launch.program.to_path_buf(),
        source,
    })?;
    if let Some(cgroup) = cgroup {
        cgroup.adopt(process.pid());
    }
    // SAFETY: sets O_NONBLOCK on a valid descriptor we own.
    unsafe {
        let flags = libc::fcntl(status_read.as_raw_fd(), libc::F_GETFL);
        libc::fcntl(
            status_read.as_raw_fd(),
            libc::F_SETFL,
            flags | libc::O_NONBLOCK,
        );
    }
    Ok((process, status_read, stage_read, lifeline_write))
}

/// The stage executable, opened read-only for bwrap to execute through `/proc/self/fd/5` (the
/// running binary's own inode when it is `/proc/self/exe`).
pub(crate) fn open_stage_executable(path: &std::path::Path) -> Result<OwnedFd, RunSandboxError> {
    let error = |source| prepare("opening the stage executable", source);
    // std opens with O_CLOEXEC. Renumbered above the numbers it is placed among (3..=9): a low
    // number would be overwritten by another placement before its own.
    let file = std::fs::File::open(path).map_err(error)?;
    codex_sandbox_process::high(OwnedFd::from(file)).map_err(error)
}

pub(crate) fn supervise(
    process: &mut SpawnedProcess,
    state: State,
    cgroup: Option<&RunCgroup>,
    control: &CancelHandle,
    deadline: Option<Instant>,
    max_bytes: usize,
) -> std::io::Result<(Supervision, Report)> {
    let State {
        status,
        guards,
        _lifeline,
    } = state;
    let bwrap_pid = process.pid();
    let mut stream = StatusStream::new(status);
    let child_pid: Cell<Option<i32>> = Cell::new(None);
    let mut kill = || {
        match child_pid.get() {
            // SAFETY: SIGKILL to the sandbox's pid 1 ends its whole pid namespace.
            Some(pid) => unsafe {
                libc::kill(pid, libc::SIGKILL);
            },
            // Not reported yet, but bwrap may already have created it (in its own session, its
            // parent-death signal not armed yet): killing bwrap alone would orphan it. Stop
            // bwrap first (a stopped process cannot finish creating another), then kill every
            // child it has.
            None => {
                // SAFETY: our own unreaped child.
                unsafe { libc::kill(bwrap_pid, libc::SIGSTOP) };
                // The stop is delivered asynchronously: a bwrap inside `clone` stops only when
                // the call returns, with the new child listed. Wait for the stop (or its exit)
                // before listing its children, leaving the state to be collected later.
                // SAFETY: `info` is plain old data written by the kernel; the pid is our own
                // unreaped child.
                unsafe {
                    let mut info: libc::siginfo_t = std::mem::zeroed();
                    libc::waitid(
                        libc::P_PID,
                        bwrap_pid as libc::id_t,
                        &mut info,
                        libc::WSTOPPED | libc::WEXITED | libc::WNOWAIT,
                    );
                }
                for pid in codex_sandbox_process::children_of(bwrap_pid) {
                    // SAFETY: a child of our unreaped (stopped) child: its pid cannot be reused.
                    unsafe { libc::kill(pid, libc::SIGKILL) };
                }
            }
        }
        // SAFETY: our own unreaped child.
        unsafe { libc::kill(bwrap_pid, libc::SIGKILL) };
        if let Some(cgroup) = cgroup {
            cgroup.kill_all();
        }
    };
    let mut forward = |signal: i32| match child_pid.get() {
        // SAFETY: the sandbox's process group (its pid 1 ignores the signal, the command
        // gets it).
        Some(pid) => unsafe {
            libc::kill(-pid, signal);
        },
        // No sandbox yet: stopping bwrap (which takes its children with it) is all there is.
        // SAFETY: our own unreaped child.
        None => unsafe {
            libc::kill(bwrap_pid, signal);
        },
    };
    let status_fd = stream.fd.as_raw_fd();
    let mut on_status = || {
        let open = stream.read_available();
        child_pid.set(stream.report.child_pid);
        open
    };
    let supervision = supervise_loop(
        process,
        control,
        deadline,
        max_bytes,
        Hooks {
            kill_tree: &mut kill,
            forward: &mut forward,
            extra: Some((status_fd, &mut on_status)),
        },
    );
    stream.read_available();
    let namespace = stream.report.child_pid.and_then(pidfd);
    release(guards, namespace.as_ref());
    Ok((supervision?, stream.report))
}

/// Remove the mount points once the sandbox's pid namespace is gone (its init's pidfd readable).
fn release(guards: Vec<MountPointGuard>, namespace: Option<&OwnedFd>) {
    if guards.is_empty() {
        return;
    }
    if let Some(fd) = namespace {
        let gone =
            poll_readable(&[fd.as_raw_fd()], NAMESPACE_EXIT_TIMEOUT_MS).is_ok_and(|ready| ready[0]);
        if !gone {
            return;
        }
    }
    for guard in guards.into_iter().rev() {
        guard.release();
    }
}

/// bwrap exited without running the stage: a missing command, or a setup failure (with a user
/// namespace diagnosis when one applies).
pub(crate) fn setup_failure(
    status: ExitStatus,
    command: &OsStr,
    command_path: Option<&OsStr>,
) -> RunSandboxError {
    if !command_exists(command, command_path) {
        return RunSandboxError::CommandNotFound {
            program: command.to_string_lossy().into_owned(),
        };
    }
    // SAFETY: geteuid has no preconditions.
    let privileged = unsafe { libc::geteuid() } == 0;
    RunSandboxError::SetupFailed {
        code: status.code().unwrap_or(1),
        diagnosis: UserNamespaceSysctls::read().possible_blocker(privileged),
    }
}

/// The `--json-status-fd` stream.
struct StatusStream {
    fd: OwnedFd,
    text: Vec<u8>,
    closed: bool,
    report: Report,
}

impl StatusStream {
    fn new(fd: OwnedFd) -> Self {
        StatusStream {
            fd,
            text: Vec::new(),
            closed: false,
            report: Report::default(),
        }
    }

    /// Read what is available; false once the writer closed it.
    fn read_available(&mut self) -> bool {
        if self.closed {
            return false;
        }
        let mut buffer = [0u8; 1024];
        loop {
            let fd: RawFd = self.fd.as_raw_fd();
            // SAFETY: reads into a valid buffer from a valid non-blocking descriptor.
            let read = unsafe { libc::read(fd, buffer.as_mut_ptr().cast(), buffer.len()) };
            if read == 0 || self.text.len() > 65_536 {
                self.closed = true;
                break;
            }
            if read < 0 {
                break;
            }
            self.text.extend_from_slice(&buffer[..read as usize]);
        }
        self.report.child_pid = number_after(&self.text, b"\"child-pid\":");
        self.report.exit_code = number_after(&self.text, b"\"exit-code\":");
        !self.closed
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
