//! Starting `bwrap` with `posix_spawn` (glibc: `clone(CLONE_VM | CLONE_VFORK)`): no page-table
//! copy and no copy-on-write faults in the caller, which is measurably cheaper than `fork` for a
//! large caller like `codex`. The file actions place our pipes at exactly the descriptor numbers
//! the argv names and close every other descriptor the caller inherited without close-on-exec (a
//! leaked directory descriptor would anchor a path outside every mount of the sandbox).

use std::ffi::{CString, OsStr};
use std::io;
use std::os::fd::RawFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;

use crate::runner::{Launch, descriptor_limit};

/// A spawned child we reap ourselves.
pub(crate) struct SpawnedChild {
    pid: libc::pid_t,
    reaped: bool,
}

fn c_string(text: &OsStr) -> io::Result<CString> {
    CString::new(text.as_bytes()).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))
}

fn check(result: libc::c_int) -> io::Result<()> {
    if result == 0 {
        Ok(())
    } else {
        Err(io::Error::from_raw_os_error(result))
    }
}

/// Descriptors >= 3 open without close-on-exec in this process (they would be inherited).
pub(crate) fn inheritable_descriptors() -> Vec<RawFd> {
    let is_inheritable = |fd: RawFd| {
        // SAFETY: F_GETFD on any number only reads descriptor flags (EBADF when closed).
        let flags = unsafe { libc::fcntl(fd, libc::F_GETFD) };
        flags >= 0 && flags & libc::FD_CLOEXEC == 0
    };
    match std::fs::read_dir("/proc/self/fd") {
        Ok(entries) => entries
            .flatten()
            .filter_map(|entry| entry.file_name().to_str()?.parse::<RawFd>().ok())
            .filter(|fd| *fd >= 3 && is_inheritable(*fd))
            .collect(),
        Err(_) => (3..=descriptor_limit())
            .filter(|fd| is_inheritable(*fd))
            .collect(),
    }
}

/// `launch` as the C strings and NULL-terminated pointer arrays `posix_spawn`/`execve` take.
pub(crate) struct CLaunch {
    pub program: CString,
    pub cwd: CString,
    /// Owners of the strings `argv`/`envp` point into (their heap buffers never move).
    _strings: Vec<CString>,
    pub argv: Vec<*mut libc::c_char>,
    pub envp: Vec<*mut libc::c_char>,
}

impl CLaunch {
    pub(crate) fn new(launch: &Launch<'_>) -> io::Result<CLaunch> {
        let mut strings: Vec<CString> = Vec::with_capacity(launch.argv.len() + launch.env.len());
        for arg in launch.argv {
            strings.push(c_string(arg)?);
        }
        for (name, value) in launch.env {
            let mut pair = Vec::with_capacity(name.len() + value.len() + 1);
            pair.extend_from_slice(name.as_bytes());
            pair.push(b'=');
            pair.extend_from_slice(value.as_bytes());
            strings.push(
                CString::new(pair).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?,
            );
        }
        let pointer = |string: &CString| string.as_ptr().cast_mut();
        let (argv, envp) = strings.split_at(launch.argv.len());
        let argv = argv
            .iter()
            .map(pointer)
            .chain([std::ptr::null_mut()])
            .collect();
        let envp = envp
            .iter()
            .map(pointer)
            .chain([std::ptr::null_mut()])
            .collect();
        Ok(CLaunch {
            program: c_string(launch.program.as_os_str())?,
            cwd: c_string(launch.cwd.as_os_str())?,
            _strings: strings,
            argv,
            envp,
        })
    }
}

/// Spawn `launch` in its own process group with an empty signal mask, default SIGPIPE, and
/// `mappings` (source → target descriptor) applied.
pub(crate) fn spawn(launch: &Launch<'_>, mappings: &[(RawFd, RawFd)]) -> io::Result<SpawnedChild> {
    let c_launch = CLaunch::new(launch)?;
    let targets: Vec<RawFd> = mappings.iter().map(|(_, target)| *target).collect();
    let to_close: Vec<RawFd> = inheritable_descriptors()
        .into_iter()
        .filter(|fd| !targets.contains(fd))
        .collect();

    // SAFETY: zeroed storage is initialised by the *_init calls before any other use.
    let mut actions: libc::posix_spawn_file_actions_t = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    let mut attributes: libc::posix_spawnattr_t = unsafe { std::mem::zeroed() };
    // SAFETY: initialises valid storage; destroyed below on every path.
    check(unsafe { libc::posix_spawn_file_actions_init(&mut actions) })?;
    // SAFETY: as above.
    if let Err(error) = check(unsafe { libc::posix_spawnattr_init(&mut attributes) }) {
        // SAFETY: `actions` was initialised above.
        unsafe { libc::posix_spawn_file_actions_destroy(&mut actions) };
        return Err(error);
    }
    let result = (|| -> io::Result<libc::pid_t> {
        for fd in &to_close {
            // SAFETY: `actions` is initialised; the descriptor number is only recorded.
            check(unsafe { libc::posix_spawn_file_actions_addclose(&mut actions, *fd) })?;
        }
        for (source, target) in mappings {
            // SAFETY: as above.
            check(unsafe {
                libc::posix_spawn_file_actions_adddup2(&mut actions, *source, *target)
            })?;
        }
        // SAFETY: `actions` is initialised and `c_launch.cwd` outlives the spawn.
        check(unsafe {
            libc::posix_spawn_file_actions_addchdir_np(&mut actions, c_launch.cwd.as_ptr())
        })?;
        // SAFETY: empty sets on valid storage.
        let mut empty: libc::sigset_t = unsafe { std::mem::zeroed() };
        // SAFETY: as above.
        let mut defaults: libc::sigset_t = unsafe { std::mem::zeroed() };
        // SAFETY: valid storage for the set operations.
        unsafe {
            libc::sigemptyset(&mut empty);
            libc::sigemptyset(&mut defaults);
            libc::sigaddset(&mut defaults, libc::SIGPIPE);
        }
        let flags = libc::POSIX_SPAWN_SETPGROUP
            | libc::POSIX_SPAWN_SETSIGMASK
            | libc::POSIX_SPAWN_SETSIGDEF;
        // SAFETY: `attributes` is initialised; the sets are copied.
        unsafe {
            check(libc::posix_spawnattr_setflags(
                &mut attributes,
                flags as libc::c_short,
            ))?;
            check(libc::posix_spawnattr_setpgroup(&mut attributes, 0))?;
            check(libc::posix_spawnattr_setsigmask(&mut attributes, &empty))?;
            check(libc::posix_spawnattr_setsigdefault(
                &mut attributes,
                &defaults,
            ))?;
        }
        let mut pid: libc::pid_t = 0;
        // SAFETY: every pointer is valid and NUL-terminated (arrays NULL-terminated) for the call.
        check(unsafe {
            libc::posix_spawn(
                &mut pid,
                c_launch.program.as_ptr(),
                &actions,
                &attributes,
                c_launch.argv.as_ptr(),
                c_launch.envp.as_ptr(),
            )
        })?;
        Ok(pid)
    })();
    // SAFETY: both were initialised above and are not used afterwards.
    unsafe {
        libc::posix_spawn_file_actions_destroy(&mut actions);
        libc::posix_spawnattr_destroy(&mut attributes);
    }
    result.map(|pid| SpawnedChild { pid, reaped: false })
}

impl SpawnedChild {
    pub(crate) fn pid(&self) -> libc::pid_t {
        self.pid
    }

    /// The status if the child has exited (reaping it), else `None`.
    pub(crate) fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        let mut status = 0;
        loop {
            // SAFETY: waits for our own child; `status` is a valid out-pointer.
            let result = unsafe { libc::waitpid(self.pid, &mut status, libc::WNOHANG) };
            if result == self.pid {
                self.reaped = true;
                return Ok(Some(ExitStatus::from_raw(status)));
            }
            if result == 0 {
                return Ok(None);
            }
            let error = io::Error::last_os_error();
            if error.kind() != io::ErrorKind::Interrupted {
                return Err(error);
            }
        }
    }
}

impl Drop for SpawnedChild {
    /// Never leave a running `bwrap` (or a zombie) behind on an error path.
    fn drop(&mut self) {
        if !self.reaped {
            // SAFETY: signals and reaps our own child.
            unsafe {
                libc::kill(self.pid, libc::SIGKILL);
                let mut status = 0;
                libc::waitpid(self.pid, &mut status, 0);
            }
        }
    }
}
