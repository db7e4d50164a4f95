//! Running a Landlock plan: the command is the direct child; between `fork` and `exec` it marks
//! inherited descriptors close-on-exec, drops every capability, sets `no_new_privs`, restricts
//! itself with the ruleset built by the parent and installs the seccomp program. A failing step
//! writes its number to a pipe so the error names it; the command never runs half-restricted.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::process::CommandExt;
use std::process::ExitStatus;

use crate::capabilities;
use crate::error::RunSandboxError;
use crate::request::LandlockDetails;
use crate::runner::signals::{self, Signals};
use crate::runner::{Launch, cloexec_from, descriptor_limit, pipe, prepare};

const STAGES: [&str; 6] = [
    "binding to the parent's lifetime",
    "closing inherited descriptors",
    "dropping capabilities",
    "setting no_new_privs",
    "landlock_restrict_self",
    "installing the seccomp program",
];

pub(crate) fn run(
    launch: &Launch<'_>,
    details: LandlockDetails,
) -> Result<ExitStatus, RunSandboxError> {
    let ruleset = match &details.ruleset {
        Some(ruleset) => Some(crate::landlock::create_ruleset(ruleset)?),
        None => None,
    };
    let (stage_read, stage_write) = pipe()?;
    let ruleset_fd: RawFd = ruleset.as_ref().map_or(-1, |fd| fd.as_raw_fd());
    let stage_fd = stage_write.as_raw_fd();
    let seccomp = details.seccomp.unwrap_or_default();
    let restricted = ruleset_fd >= 0;
    let limit = descriptor_limit();
    // SAFETY: getpid has no preconditions.
    let parent = unsafe { libc::getpid() };

    let signals = Signals::block().map_err(|error| prepare("blocking signals", error))?;
    let mut command = launch.command();
    // SAFETY: the closure makes only async-signal-safe system calls and touches memory that was
    // fully built before the fork (the seccomp bytes); it allocates nothing.
    unsafe {
        command.pre_exec(move || {
            let fail = |stage: u8| -> io::Error {
                let error = io::Error::last_os_error();
                libc::write(stage_fd, (&stage as *const u8).cast(), 1);
                error
            };
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0) != 0
                || libc::getppid() != parent
            {
                return Err(fail(0));
            }
            if cloexec_from(3, limit).is_err() {
                return Err(fail(1));
            }
            if restricted {
                if let Err(error) = capabilities::drop_all() {
                    let stage = 2u8;
                    libc::write(stage_fd, (&stage as *const u8).cast(), 1);
                    return Err(error);
                }
                if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 {
                    return Err(fail(3));
                }
                if libc::syscall(libc::SYS_landlock_restrict_self, ruleset_fd, 0) != 0 {
                    return Err(fail(4));
                }
            }
            if !seccomp.is_empty() {
                let program = libc::sock_fprog {
                    len: (seccomp.len() / 8) as libc::c_ushort,
                    filter: seccomp.as_ptr() as *mut libc::sock_filter,
                };
                if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 {
                    return Err(fail(3));
                }
                let installed = libc::syscall(
                    libc::SYS_seccomp,
                    libc::SECCOMP_SET_MODE_FILTER,
                    0,
                    &program as *const libc::sock_fprog,
                );
                if installed != 0 {
                    return Err(fail(5));
                }
            }
            Ok(())
        });
    }
    let spawned = command.spawn();
    drop(stage_write);
    drop(ruleset);
    let mut child = match spawned {
        Ok(child) => child,
        Err(source) => return Err(spawn_error(launch, &stage_read, source)),
    };

    let pid = child.id() as i32;
    let pidfd = signals::pidfd(pid);
    loop {
        let mut fds = vec![signals.raw_fd()];
        if let Some(fd) = &pidfd {
            fds.push(fd.as_raw_fd());
        }
        let timeout = if pidfd.is_some() { -1 } else { 50 };
        let ready = signals::poll_readable(&fds, timeout)
            .map_err(|source| RunSandboxError::Wait { source })?;
        if ready[0] {
            for received in signals.take() {
                // The child shares our process group: a terminal's signals (SI_KERNEL) reached it
                // already.
                if received.code != libc::SI_KERNEL {
                    signals::send(pid, received.signal);
                }
            }
        }
        if let Some(status) = child
            .try_wait()
            .map_err(|source| RunSandboxError::Wait { source })?
        {
            return Ok(status);
        }
    }
}

fn spawn_error(launch: &Launch<'_>, stage_read: &OwnedFd, source: io::Error) -> RunSandboxError {
    let mut stage = [u8::MAX];
    // SAFETY: reads at most one byte into a valid buffer; the write end is closed everywhere.
    let read = unsafe { libc::read(stage_read.as_raw_fd(), stage.as_mut_ptr().cast(), 1) };
    if read == 1
        && let Some(name) = STAGES.get(usize::from(stage[0]))
    {
        return RunSandboxError::ApplyLandlock {
            stage: name,
            source,
        };
    }
    let program = launch.argv.first().map_or_else(String::new, |program| {
        program.to_string_lossy().into_owned()
    });
    match source.kind() {
        io::ErrorKind::NotFound => RunSandboxError::CommandNotFound { program },
        io::ErrorKind::PermissionDenied => {
            RunSandboxError::CommandNotExecutable { program, source }
        }
        _ => RunSandboxError::Spawn {
            program: launch.program.to_path_buf(),
            source,
        },
    }
}
