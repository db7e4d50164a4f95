//! Starting a process with `posix_spawn` (glibc: `clone(CLONE_VM | CLONE_VFORK)`, no page-table
//! copy for a large caller) on one long-lived spawner thread.
//!
//! Why a thread: the sandboxes bind their lifetime to their parent with `PR_SET_PDEATHSIG`
//! (bubblewrap's `--die-with-parent`, the Landlock stage), and Linux fires that signal when the
//! *thread* that forked exits. Spawning from the caller's thread would kill a sandbox whenever a
//! short-lived worker thread of a multi-threaded caller ended; the spawner thread lives as long as
//! the process, so the sandbox dies with the process (also on `SIGKILL`), never earlier.
//!
//! The file actions place the caller's descriptors at exactly the numbers the argv names and close
//! every other descriptor inherited without close-on-exec (a leaked directory descriptor would
//! anchor a path outside every mount of the sandbox). The child starts with an empty signal mask
//! and default `SIGPIPE`, optionally in its own process group.

use std::ffi::{CString, OsStr, OsString};
use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::ExitStatus;
use std::sync::mpsc;
use std::sync::{Mutex, OnceLock};

use crate::Stdio;
use crate::fds::{high_pipe, inheritable_descriptors};

/// What to start.
pub struct SpawnOptions<'a> {
    pub program: &'a Path,
    /// The exact argv, including `argv[0]`.
    pub argv: &'a [OsString],
    pub env: &'a [(OsString, OsString)],
    pub cwd: &'a Path,
    /// Caller descriptor → descriptor number in the child.
    pub mappings: &'a [(RawFd, RawFd)],
    pub stdio: Stdio,
    /// Put the child in a new process group (so a terminal's signals reach us, not it).
    pub process_group: bool,
}

/// A started child that this process reaps (killed and reaped on drop if still running).
#[derive(Debug)]
pub struct SpawnedProcess {
    pid: libc::pid_t,
    reaped: Option<ExitStatus>,
    pub stdout: Option<OwnedFd>,
    pub stderr: Option<OwnedFd>,
}

/// Owned, `Send` form of the C strings `posix_spawn` needs.
struct OwnedLaunch {
    program: CString,
    cwd: CString,
    argv: Vec<CString>,
    envp: Vec<CString>,
    mappings: Vec<(RawFd, RawFd)>,
    close: Vec<RawFd>,
    null_stdin: bool,
    process_group: bool,
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

/// Start `options` on the spawner thread.
pub fn spawn(options: &SpawnOptions<'_>) -> io::Result<SpawnedProcess> {
    let mut mappings = options.mappings.to_vec();
    let mut parent_ends = (None, None);
    let mut child_ends: Vec<OwnedFd> = Vec::new();
    if options.stdio == Stdio::Capture {
        let (out_read, out_write) = high_pipe()?;
        let (err_read, err_write) = high_pipe()?;
        mappings.push((out_write.as_raw_fd(), 1));
        mappings.push((err_write.as_raw_fd(), 2));
        child_ends.push(out_write);
        child_ends.push(err_write);
        parent_ends = (Some(out_read), Some(err_read));
    }
    let targets: Vec<RawFd> = mappings.iter().map(|(_, target)| *target).collect();
    let close = inheritable_descriptors()
        .into_iter()
        .filter(|fd| !targets.contains(fd))
        .collect();
    let mut envp = Vec::with_capacity(options.env.len());
    for (name, value) in options.env {
        let mut pair = Vec::with_capacity(name.len() + value.len() + 1);
        pair.extend_from_slice(name.as_bytes());
        pair.push(b'=');
        pair.extend_from_slice(value.as_bytes());
        envp.push(CString::new(pair).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?);
    }
    let launch = OwnedLaunch {
        program: c_string(options.program.as_os_str())?,
        cwd: c_string(options.cwd.as_os_str())?,
        argv: options
            .argv
            .iter()
            .map(|arg| c_string(arg))
            .collect::<io::Result<_>>()?,
        envp,
        mappings,
        close,
        null_stdin: options.stdio == Stdio::Capture,
        process_group: options.process_group,
    };
    let pid = on_spawner_thread(move || spawn_now(&launch))?;
    // The child holds its copies now.
    drop(child_ends);
    Ok(SpawnedProcess {
        pid,
        reaped: None,
        stdout: parent_ends.0,
        stderr: parent_ends.1,
    })
}

type Job = Box<dyn FnOnce() + Send>;

/// Run `job` on the process-wide spawner thread and return its result.
fn on_spawner_thread<T: Send + 'static>(
    job: impl FnOnce() -> io::Result<T> + Send + 'static,
) -> io::Result<T> {
    static SPAWNER: OnceLock<Option<Mutex<mpsc::Sender<Job>>>> = OnceLock::new();
    let sender = SPAWNER.get_or_init(|| {
        let (sender, receiver) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("codex-sandbox-spawner".into())
            .spawn(move || {
                for job in receiver {
                    job();
                }
            })
            .ok()
            .map(|_| Mutex::new(sender))
    });
    let sender = sender
        .as_ref()
        .ok_or_else(|| io::Error::other("cannot start the sandbox spawner thread"))?;
    let (reply, result) = mpsc::channel();
    let job: Job = Box::new(move || {
        let _ = reply.send(job());
    });
    sender
        .lock()
        .map_err(|_| io::Error::other("the sandbox spawner thread failed"))?
        .send(job)
        .map_err(|_| io::Error::other("the sandbox spawner thread is gone"))?;
    result
        .recv()
        .map_err(|_| io::Error::other("the sandbox spawner thread is gone"))?
}

fn spawn_now(launch: &OwnedLaunch) -> io::Result<libc::pid_t> {
    let pointer = |string: &CString| string.as_ptr().cast_mut();
    let argv: Vec<*mut libc::c_char> = launch
        .argv
        .iter()
        .map(pointer)
        .chain([std::ptr::null_mut()])
        .collect();
    let envp: Vec<*mut libc::c_char> = launch
        .envp
        .iter()
        .map(pointer)
        .chain([std::ptr::null_mut()])
        .collect();
    let dev_null = c"/dev/null";

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
        for fd in &launch.close {
            // SAFETY: `actions` is initialised; the descriptor number is only recorded.
            check(unsafe { libc::posix_spawn_file_actions_addclose(&mut actions, *fd) })?;
        }
        if launch.null_stdin {
            // SAFETY: `actions` is initialised; the path is a static NUL-terminated string.
            check(unsafe {
                libc::posix_spawn_file_actions_addopen(
                    &mut actions,
                    0,
                    dev_null.as_ptr(),
                    libc::O_RDONLY,
                    0,
                )
            })?;
        }
        for (source, target) in &launch.mappings {
            // SAFETY: as above.
            check(unsafe {
                libc::posix_spawn_file_actions_adddup2(&mut actions, *source, *target)
            })?;
        }
        // SAFETY: `actions` is initialised and `launch.cwd` outlives the spawn.
        check(unsafe {
            libc::posix_spawn_file_actions_addchdir_np(&mut actions, launch.cwd.as_ptr())
        })?;
        // SAFETY: empty sets on valid storage.
        let mut empty: libc::sigset_t = unsafe { std::mem::zeroed() };
        // SAFETY: as above.
        let mut defaults: libc::sigset_t = unsafe { std::mem::zeroed() };
        // SAFETY: valid storage for the set operations.
        unsafe {
            libc::sigemptyset(&mut empty);
            libc::sigemptyset(&mut defaults);
            for signal in [
                libc::SIGPIPE,
                libc::SIGHUP,
                libc::SIGINT,
                libc::SIGQUIT,
                libc::SIGTERM,
                libc::SIGUSR1,
                libc::SIGUSR2,
            ] {
                libc::sigaddset(&mut defaults, signal);
            }
        }
        let mut flags = libc::POSIX_SPAWN_SETSIGMASK | libc::POSIX_SPAWN_SETSIGDEF;
        if launch.process_group {
            flags |= libc::POSIX_SPAWN_SETPGROUP;
        }
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
                launch.program.as_ptr(),
                &actions,
                &attributes,
                argv.as_ptr(),
                envp.as_ptr(),
            )
        })?;
        Ok(pid)
    })();
    // SAFETY: both were initialised above and are not used afterwards.
    unsafe {
        libc::posix_spawn_file_actions_destroy(&mut actions);
        libc::posix_spawnattr_destroy(&mut attributes);
    }
    result
}

impl SpawnedProcess {
    pub fn pid(&self) -> libc::pid_t {
        self.pid
    }

    /// The status if the child has exited (reaping it), else `None`.
    pub fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        if let Some(status) = self.reaped {
            return Ok(Some(status));
        }
        let mut status = 0;
        loop {
            // SAFETY: waits for our own child; `status` is a valid out-pointer.
            let result = unsafe { libc::waitpid(self.pid, &mut status, libc::WNOHANG) };
            if result == self.pid {
                let status = ExitStatus::from_raw(status);
                self.reaped = Some(status);
                return Ok(Some(status));
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

    /// Block until the child exits.
    pub fn wait(&mut self) -> io::Result<ExitStatus> {
        if let Some(status) = self.reaped {
            return Ok(status);
        }
        let mut status = 0;
        loop {
            // SAFETY: waits for our own child; `status` is a valid out-pointer.
            let result = unsafe { libc::waitpid(self.pid, &mut status, 0) };
            if result == self.pid {
                let status = ExitStatus::from_raw(status);
                self.reaped = Some(status);
                return Ok(status);
            }
            let error = io::Error::last_os_error();
            if error.kind() != io::ErrorKind::Interrupted {
                return Err(error);
            }
        }
    }

    /// Send `signal` to the child (never to a reaped, possibly reused pid).
    pub fn kill(&self, signal: i32) {
        if self.reaped.is_none() {
            // SAFETY: signals our own unreaped child.
            unsafe { libc::kill(self.pid, signal) };
        }
    }
}

impl Drop for SpawnedProcess {
    /// Never leave a running child (or a zombie) behind on an error path.
    fn drop(&mut self) {
        if self.reaped.is_none() {
            self.kill(libc::SIGKILL);
            let _ = self.wait();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn captures_output_from_the_spawner_thread() {
        let argv: Vec<OsString> = [
            "sh",
            "-c",
            "echo out; echo err >&2; read x || echo no-stdin",
        ]
        .iter()
        .map(OsString::from)
        .collect();
        let env = vec![(OsString::from("PATH"), OsString::from("/usr/bin:/bin"))];
        let mut child = spawn(&SpawnOptions {
            program: Path::new("/bin/sh"),
            argv: &argv,
            env: &env,
            cwd: Path::new("/"),
            mappings: &[],
            stdio: Stdio::Capture,
            process_group: true,
        })
        .unwrap();
        let read_all = |fd: OwnedFd| {
            let mut text = String::new();
            std::io::Read::read_to_string(&mut std::fs::File::from(fd), &mut text).unwrap();
            text
        };
        let stdout = read_all(child.stdout.take().unwrap());
        let stderr = read_all(child.stderr.take().unwrap());
        assert!(child.wait().unwrap().success());
        assert_eq!(stdout, "out\nno-stdin\n");
        assert_eq!(stderr, "err\n");
    }
}
