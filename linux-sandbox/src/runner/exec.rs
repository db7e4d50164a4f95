//! Exec mode: replace the calling process with `bwrap` when the plan needs nothing done after it.
//!
//! Spawning and waiting costs a `vfork`, a signalfd, pidfds, a poll loop, the status pipe and the
//! wait for the pid namespace (~1 ms); exec'ing costs none of that. The caller's exit status then
//! is bwrap's: the command's code, 128+N when it was killed by signal N. What the spawn mode
//! diagnoses after the fact is checked before: a missing command here (127), user namespace
//! settings that may make bwrap fail in the planner (which then chooses the spawn mode).
//!
//! Process state: descriptors from 3 on (4 with the seccomp program on 3) are marked
//! close-on-exec, SIGPIPE is reset to its default action (Rust ignores it) and the signal mask is
//! emptied; if `execve` fails, descriptor 3, the working directory, SIGPIPE and the mask are
//! restored and an error is returned.

use std::io::{self, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::process::ExitStatus;

use crate::error::RunSandboxError;
use crate::request::{BubblewrapDetails, SECCOMP_FD};
use crate::runner::spawn::{CLaunch, inheritable_descriptors};
use crate::runner::{Launch, command_exists, fill_pipe, prepare};

/// Replace this process with `bwrap`; returns only if that failed (the command did not run).
pub(crate) fn exec(
    launch: &Launch<'_>,
    details: &BubblewrapDetails,
) -> Result<ExitStatus, RunSandboxError> {
    if !command_exists(&details.command, details.command_path.as_deref()) {
        return Err(RunSandboxError::CommandNotFound {
            program: details.command.to_string_lossy().into_owned(),
        });
    }
    let spawn_error = |source| RunSandboxError::Spawn {
        program: launch.program.to_path_buf(),
        source,
    };
    let c_launch = CLaunch::new(launch).map_err(spawn_error)?;
    let seccomp = match &details.seccomp {
        Some(program) => Some(fill_pipe(program)?),
        None => None,
    };
    // Whatever Rust buffered for stdout would be lost by the exec.
    let _ = io::stdout().flush();
    let saved = SavedState::save(seccomp.is_some())?;
    let error = match prepare_and_exec(&c_launch, seccomp.as_ref()) {
        Ok(()) => io::Error::last_os_error(),
        Err(error) => error,
    };
    saved.restore();
    Err(spawn_error(error))
}

/// Put the seccomp program on its descriptor, mark the rest close-on-exec, enter the working
/// directory, reset signals and exec. Returns only on failure (`Ok` with errno set by `execve`).
fn prepare_and_exec(c_launch: &CLaunch, seccomp: Option<&OwnedFd>) -> io::Result<()> {
    let first_closed = match seccomp {
        Some(fd) => {
            // SAFETY: duplicates a valid descriptor onto SECCOMP_FD (closing what was there; the
            // caller saved it). The duplicate does not have close-on-exec.
            if unsafe { libc::dup2(fd.as_raw_fd(), SECCOMP_FD) } < 0 {
                return Err(io::Error::last_os_error());
            }
            SECCOMP_FD + 1
        }
        None => SECCOMP_FD,
    };
    cloexec_all_from(first_closed);
    // SAFETY: `cwd` is a valid NUL-terminated path.
    if unsafe { libc::chdir(c_launch.cwd.as_ptr()) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: resets a disposition and the mask of this thread; both are restored by the caller
    // if the exec fails.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        let mut empty: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut empty);
        libc::pthread_sigmask(libc::SIG_SETMASK, &empty, std::ptr::null_mut());
    }
    // SAFETY: every pointer is valid and NUL-terminated, the arrays are NULL-terminated, and
    // `c_launch` outlives the call.
    unsafe {
        libc::execve(
            c_launch.program.as_ptr(),
            c_launch.argv.as_ptr().cast(),
            c_launch.envp.as_ptr().cast(),
        )
    };
    Ok(())
}

/// Mark every descriptor from `first` on close-on-exec (nothing the caller inherited reaches the
/// sandbox: a leaked directory descriptor would anchor a path outside every mount).
fn cloexec_all_from(first: RawFd) {
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
        return;
    }
    // Kernels before 5.11: the open descriptors from /proc/self/fd.
    for fd in inheritable_descriptors() {
        if fd >= first {
            // SAFETY: fcntl on a possibly-closed descriptor fails harmlessly with EBADF.
            unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) };
        }
    }
}

/// What `prepare_and_exec` changes in this process, to undo it when `execve` fails.
struct SavedState {
    /// Whether SECCOMP_FD is replaced, and if so a duplicate of what was open there and whether
    /// it was close-on-exec.
    replaces_seccomp_slot: bool,
    seccomp_slot: Option<(OwnedFd, bool)>,
    cwd: OwnedFd,
    sigpipe: libc::sighandler_t,
    mask: libc::sigset_t,
}

impl SavedState {
    fn save(replaces_seccomp_slot: bool) -> Result<SavedState, RunSandboxError> {
        let flags = if replaces_seccomp_slot {
            // SAFETY: F_GETFD only reads descriptor flags (EBADF when closed).
            unsafe { libc::fcntl(SECCOMP_FD, libc::F_GETFD) }
        } else {
            -1
        };
        let seccomp_slot = if flags >= 0 {
            // SAFETY: duplicates an open descriptor to a new one >= 10.
            let duplicate = unsafe { libc::fcntl(SECCOMP_FD, libc::F_DUPFD_CLOEXEC, 10) };
            if duplicate < 0 {
                return Err(prepare("saving a descriptor", io::Error::last_os_error()));
            }
            // SAFETY: freshly created descriptor owned by nobody else.
            let duplicate = unsafe { OwnedFd::from_raw_fd(duplicate) };
            Some((duplicate, flags & libc::FD_CLOEXEC != 0))
        } else {
            None
        };
        // SAFETY: a valid NUL-terminated path; returns a new descriptor or -1.
        let cwd = unsafe { libc::open(c".".as_ptr(), libc::O_PATH | libc::O_CLOEXEC) };
        if cwd < 0 {
            return Err(prepare(
                "saving the working directory",
                io::Error::last_os_error(),
            ));
        }
        // SAFETY: freshly created descriptor owned by nobody else.
        let cwd = unsafe { OwnedFd::from_raw_fd(cwd) };
        // SAFETY: an all-zero sigset_t is valid storage; only reads the current mask.
        let mut mask: libc::sigset_t = unsafe { std::mem::zeroed() };
        // SAFETY: a NULL new set only reads the current mask into valid storage.
        unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, std::ptr::null(), &mut mask) };
        // SAFETY: an all-zero sigaction is valid storage; a NULL new action only reads.
        let mut action: libc::sigaction = unsafe { std::mem::zeroed() };
        // SAFETY: as above.
        unsafe { libc::sigaction(libc::SIGPIPE, std::ptr::null(), &mut action) };
        Ok(SavedState {
            replaces_seccomp_slot,
            seccomp_slot,
            cwd,
            sigpipe: action.sa_sigaction,
            mask,
        })
    }

    fn restore(self) {
        match &self.seccomp_slot {
            Some((duplicate, cloexec)) => {
                let flags = if *cloexec { libc::O_CLOEXEC } else { 0 };
                // SAFETY: puts the saved descriptor back on its number.
                unsafe { libc::dup3(duplicate.as_raw_fd(), SECCOMP_FD, flags) };
            }
            None if self.replaces_seccomp_slot => {
                // SAFETY: closes the seccomp pipe we placed there (nothing else was open there).
                unsafe { libc::close(SECCOMP_FD) };
            }
            None => {}
        }
        // SAFETY: valid descriptor, set and handler values saved in `save`.
        unsafe {
            libc::fchdir(self.cwd.as_raw_fd());
            libc::signal(libc::SIGPIPE, self.sigpipe);
            libc::pthread_sigmask(libc::SIG_SETMASK, &self.mask, std::ptr::null_mut());
        }
    }
}
