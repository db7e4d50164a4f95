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

use std::ffi::CString;
use std::io::{self, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::process::ExitStatus;

use codex_sandbox_process::{cloexec_from, descriptor_limit, fill_pipe};

use crate::error::RunSandboxError;
use crate::request::{BubblewrapDetails, SECCOMP_FD, STAGE_EXE_FD};
use crate::runner::bubblewrap::open_stage_executable;
use crate::runner::{Launch, command_exists, prepare};

/// Descriptor numbers exec mode places (and restores if `execve` fails).
const SLOTS: [RawFd; 2] = [SECCOMP_FD, STAGE_EXE_FD];

/// `launch` as the C strings `execve` takes.
struct CLaunch {
    program: CString,
    cwd: CString,
    _strings: Vec<CString>,
    argv: Vec<*const libc::c_char>,
    envp: Vec<*const libc::c_char>,
}

impl CLaunch {
    fn new(launch: &Launch<'_>) -> io::Result<CLaunch> {
        let invalid = |_| io::Error::from(io::ErrorKind::InvalidInput);
        let mut strings = Vec::with_capacity(launch.argv.len() + launch.env.len());
        for arg in launch.argv {
            strings.push(CString::new(arg.as_bytes()).map_err(invalid)?);
        }
        for (name, value) in launch.env {
            let mut pair = name.as_bytes().to_vec();
            pair.push(b'=');
            pair.extend_from_slice(value.as_bytes());
            strings.push(CString::new(pair).map_err(invalid)?);
        }
        let (argv, envp) = strings.split_at(launch.argv.len());
        let terminated = |list: &[CString]| {
            list.iter()
                .map(|string| string.as_ptr())
                .chain([std::ptr::null()])
                .collect()
        };
        let (argv, envp) = (terminated(argv), terminated(envp));
        Ok(CLaunch {
            program: CString::new(launch.program.as_os_str().as_bytes()).map_err(invalid)?,
            cwd: CString::new(launch.cwd.as_os_str().as_bytes()).map_err(invalid)?,
            _strings: strings,
            argv,
            envp,
        })
    }
}

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
        Some(program) => Some(
            fill_pipe(program).map_err(|error| prepare("passing the seccomp program", error))?,
        ),
        None => None,
    };
    let stage = open_stage_executable(&details.stage_executable)?;
    // Whatever Rust buffered for stdout would be lost by the exec.
    let _ = io::stdout().flush();
    let saved = SavedState::save()?;
    let error = match prepare_and_exec(&c_launch, seccomp.as_ref(), &stage) {
        Ok(()) => io::Error::last_os_error(),
        Err(error) => error,
    };
    saved.restore();
    Err(spawn_error(error))
}

/// Mark every descriptor from 3 on close-on-exec, put the seccomp program and the stage
/// executable on their numbers, enter the working directory, reset signals and exec. Returns
/// only on failure (`Ok` with errno set by `execve`).
fn prepare_and_exec(
    c_launch: &CLaunch,
    seccomp: Option<&OwnedFd>,
    stage: &OwnedFd,
) -> io::Result<()> {
    cloexec_from(3, descriptor_limit())?;
    let placements = [(seccomp, SECCOMP_FD), (Some(stage), STAGE_EXE_FD)];
    for (fd, target) in placements {
        if let Some(fd) = fd {
            // SAFETY: duplicates a valid descriptor onto `target` (closing what was there; the
            // caller saved it). The duplicate does not have close-on-exec.
            if unsafe { libc::dup2(fd.as_raw_fd(), target) } < 0 {
                return Err(io::Error::last_os_error());
            }
        }
    }
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
            c_launch.argv.as_ptr(),
            c_launch.envp.as_ptr(),
        )
    };
    Ok(())
}

/// What `prepare_and_exec` changes in this process, to undo it when `execve` fails.
struct SavedState {
    /// Each slot's previous descriptor (a duplicate) and whether it was close-on-exec.
    slots: Vec<(RawFd, Option<(OwnedFd, bool)>)>,
    /// Every descriptor that was not close-on-exec before the sweep.
    inheritable: Vec<RawFd>,
    cwd: OwnedFd,
    sigpipe: libc::sighandler_t,
    mask: libc::sigset_t,
}

impl SavedState {
    fn save() -> Result<SavedState, RunSandboxError> {
        let mut slots = Vec::new();
        for slot in SLOTS {
            // SAFETY: F_GETFD only reads descriptor flags (EBADF when closed).
            let flags = unsafe { libc::fcntl(slot, libc::F_GETFD) };
            let saved = if flags >= 0 {
                // SAFETY: duplicates an open descriptor to a new one >= 10.
                let duplicate = unsafe { libc::fcntl(slot, libc::F_DUPFD_CLOEXEC, 10) };
                if duplicate < 0 {
                    return Err(prepare("saving a descriptor", io::Error::last_os_error()));
                }
                // SAFETY: freshly created descriptor owned by nobody else.
                let duplicate = unsafe { OwnedFd::from_raw_fd(duplicate) };
                Some((duplicate, flags & libc::FD_CLOEXEC != 0))
            } else {
                None
            };
            slots.push((slot, saved));
        }
        let inheritable = codex_sandbox_process::inheritable_descriptors();
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
            slots,
            inheritable,
            cwd,
            sigpipe: action.sa_sigaction,
            mask,
        })
    }

    fn restore(self) {
        for (slot, saved) in &self.slots {
            match saved {
                Some((duplicate, cloexec)) => {
                    let flags = if *cloexec { libc::O_CLOEXEC } else { 0 };
                    // SAFETY: puts the saved descriptor back on its number.
                    unsafe { libc::dup3(duplicate.as_raw_fd(), *slot, flags) };
                }
                None => {
                    // SAFETY: closes what we placed there (nothing else was open there).
                    unsafe { libc::close(*slot) };
                }
            }
        }
        for fd in &self.inheritable {
            // SAFETY: clears close-on-exec again on a descriptor that had it cleared.
            unsafe { libc::fcntl(*fd, libc::F_SETFD, 0) };
        }
        // SAFETY: valid descriptor, set and handler values saved in `save`.
        unsafe {
            libc::fchdir(self.cwd.as_raw_fd());
            libc::signal(libc::SIGPIPE, self.sigpipe);
            libc::pthread_sigmask(libc::SIG_SETMASK, &self.mask, std::ptr::null_mut());
        }
    }
}
