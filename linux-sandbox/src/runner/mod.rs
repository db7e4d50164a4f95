//! [`run`]: execute a plan exactly: either replace the calling process with `bwrap` (exec mode,
//! `exec.rs`), or spawn it, forward SIGHUP/SIGINT/SIGQUIT/SIGTERM to the command, wait, clean up
//! what was created, and return the status.

mod bubblewrap;
mod exec;
mod landlock;
mod signals;
mod spawn;

use std::ffi::{OsStr, OsString};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::ExitStatus;

use crate::error::RunSandboxError;
use crate::request::{LinuxPlan, PlanDetails};

/// Execute exactly `plan` and return the command's status.
///
/// When [`LinuxPlan::replaces_process`] is true (`RunMode::ExecWhenPossible` and nothing to do
/// afterwards), this process becomes `bwrap` and the function returns only on error.
///
/// Bubblewrap reports a command killed by signal N as exit code 128+N (it cannot pass the signal
/// through), so for that backend the status holds that code; for Landlock it holds the signal.
/// Errors mean the command did not run (or the sandbox could not be set up); it never runs
/// unsandboxed.
pub fn run(plan: LinuxPlan) -> Result<ExitStatus, RunSandboxError> {
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
    };
    match details {
        PlanDetails::Bubblewrap(details) => bubblewrap::run(&launch, details),
        PlanDetails::Landlock(details) => landlock::run(&launch, details),
    }
}

/// The process to start.
pub(crate) struct Launch<'a> {
    pub program: &'a Path,
    pub argv: &'a [OsString],
    pub cwd: &'a Path,
    pub env: &'a [(OsString, OsString)],
}

impl Launch<'_> {
    fn command(&self) -> std::process::Command {
        use std::os::unix::process::CommandExt;
        let mut command = std::process::Command::new(self.program);
        if let Some((first, rest)) = self.argv.split_first() {
            command.arg0(first).args(rest);
        }
        command
            .env_clear()
            .envs(self.env.iter().map(|(name, value)| (name, value)))
            .current_dir(self.cwd);
        command
    }
}

/// A pipe whose ends are close-on-exec and numbered >= 10 (so `dup2` onto 3/4 never clobbers
/// them).
pub(crate) fn pipe() -> Result<(OwnedFd, OwnedFd), RunSandboxError> {
    let mut fds = [0; 2];
    // SAFETY: `fds` is valid storage for two descriptors.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(prepare("creating a pipe", io::Error::last_os_error()));
    }
    // SAFETY: freshly created descriptors owned by nobody else.
    let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    Ok((high(read)?, high(write)?))
}

fn high(fd: OwnedFd) -> Result<OwnedFd, RunSandboxError> {
    // SAFETY: duplicates a valid descriptor; returns a new one or -1.
    let duplicate = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_DUPFD_CLOEXEC, 10) };
    if duplicate < 0 {
        return Err(prepare(
            "duplicating a descriptor",
            io::Error::last_os_error(),
        ));
    }
    // SAFETY: freshly created descriptor owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(duplicate) })
}

/// A close-on-exec pipe already holding `bytes` (the write end is closed).
pub(crate) fn fill_pipe(bytes: &[u8]) -> Result<OwnedFd, RunSandboxError> {
    let (read, write) = pipe()?;
    if bytes.len() > 65_536 {
        return Err(prepare(
            "passing the seccomp program",
            io::Error::other("program larger than a pipe buffer"),
        ));
    }
    let mut written = 0;
    while written < bytes.len() {
        // SAFETY: writes from a valid buffer range into a valid descriptor.
        let result = unsafe {
            libc::write(
                write.as_raw_fd(),
                bytes[written..].as_ptr().cast(),
                bytes.len() - written,
            )
        };
        if result < 0 {
            let error = io::Error::last_os_error();
            if error.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(prepare("passing the seccomp program", error));
        }
        written += result as usize;
    }
    Ok(read)
}

pub(crate) fn prepare(context: &'static str, source: io::Error) -> RunSandboxError {
    RunSandboxError::Prepare { context, source }
}

/// The highest descriptor number to mark close-on-exec when `close_range` is unavailable.
pub(crate) fn descriptor_limit() -> RawFd {
    // SAFETY: an all-zero rlimit is valid storage.
    let mut limit: libc::rlimit = unsafe { std::mem::zeroed() };
    // SAFETY: `limit` is a valid out-pointer.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return 1024;
    }
    RawFd::try_from(limit.rlim_cur.min(65_536)).unwrap_or(65_536)
}

/// Mark every descriptor from `first` on close-on-exec, so nothing the caller inherited (a
/// directory fd anchoring the host root, a socket, …) reaches the sandbox. Async-signal-safe.
pub(crate) fn cloexec_from(first: RawFd, limit: RawFd) -> io::Result<()> {
    // SAFETY: close_range with CLOSE_RANGE_CLOEXEC only changes descriptor flags.
    let result = unsafe {
        libc::syscall(
            libc::SYS_close_range,
            first as libc::c_uint,
            libc::c_uint::MAX,
            libc::CLOSE_RANGE_CLOEXEC,
        )
    };
    if result == 0 {
        return Ok(());
    }
    for fd in first..=limit {
        // SAFETY: fcntl on a possibly-closed descriptor fails harmlessly with EBADF.
        unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) };
    }
    Ok(())
}

/// Whether `program` resolves to an executable file, looked up on `path` like `execvp` does.
pub(crate) fn command_exists(program: &OsStr, path: Option<&OsStr>) -> bool {
    let executable = |candidate: &Path| {
        std::fs::metadata(candidate)
            .is_ok_and(|metadata| metadata.is_file() && metadata.permissions().mode() & 0o111 != 0)
    };
    if program.as_bytes().contains(&b'/') {
        return executable(Path::new(program));
    }
    let default_path = OsStr::new("/bin:/usr/bin");
    std::env::split_paths(path.unwrap_or(default_path))
        .any(|directory| executable(&directory.join(program)))
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
