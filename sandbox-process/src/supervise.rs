//! The one wait loop for a sandboxed run: the process's exit (through a pidfd), captured
//! output, requests from other threads (cancel, signals to forward), a deadline, and one extra
//! descriptor a backend watches (bubblewrap's status pipe). Nothing process-wide is changed: no
//! signal mask, no handler, no working directory, so any number of threads can supervise runs
//! at once.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::process::ExitStatus;
use std::time::{Duration, Instant};

use crate::capture::{CaptureBuffer, Captured};
use crate::control::{CancelHandle, Request};
use crate::spawn::SpawnedProcess;

/// How long output is still read after the process exited (every process of the sandbox is
/// gone by then, so the pipes close at once; this only bounds a misbehaving backend).
const DRAIN_AFTER_EXIT: Duration = Duration::from_secs(2);

/// Why the run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// The process exited on its own with this status.
    Exited(ExitStatus),
    /// The deadline passed; everything was killed.
    TimedOut(ExitStatus),
    /// A cancel request arrived; everything was killed.
    Cancelled(ExitStatus),
}

impl Ending {
    pub fn status(&self) -> ExitStatus {
        match self {
            Ending::Exited(status) | Ending::TimedOut(status) | Ending::Cancelled(status) => {
                *status
            }
        }
    }
}

/// What the backend does for the loop.
pub struct Hooks<'a> {
    /// Kill every process of the sandbox (timeout, cancel).
    pub kill_tree: &'a mut dyn FnMut(),
    /// Deliver a forwarded signal to the command.
    pub forward: &'a mut dyn FnMut(i32),
    /// A descriptor to read when it becomes readable; the closure returns false once it is
    /// done with it (e.g. at end of file).
    pub extra: Option<(RawFd, &'a mut dyn FnMut() -> bool)>,
}

/// Everything the loop observed.
#[derive(Debug)]
pub struct Supervision {
    pub ending: Ending,
    pub stdout: Captured,
    pub stderr: Captured,
    /// stdout and stderr in arrival order.
    pub aggregated: Captured,
    pub duration: Duration,
}

/// A pidfd for `pid` (kernel >= 5.3), readable once the process has exited.
pub fn pidfd(pid: i32) -> Option<OwnedFd> {
    // SAFETY: pidfd_open has no memory effects; a new descriptor is returned or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if fd < 0 {
        return None;
    }
    // SAFETY: freshly created descriptor owned by nobody else.
    Some(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

/// `poll` for readability; negative descriptors are ignored. Returns which are readable (or
/// hung up).
pub fn poll_readable(fds: &[RawFd], timeout_ms: i32) -> io::Result<Vec<bool>> {
    let mut entries: Vec<libc::pollfd> = fds
        .iter()
        .map(|fd| libc::pollfd {
            fd: *fd,
            events: libc::POLLIN,
            revents: 0,
        })
        .collect();
    loop {
        // SAFETY: `entries` is a valid array of `entries.len()` pollfd structs.
        let result = unsafe {
            libc::poll(
                entries.as_mut_ptr(),
                entries.len() as libc::nfds_t,
                timeout_ms,
            )
        };
        if result >= 0 {
            return Ok(entries
                .iter()
                .map(|entry| entry.fd >= 0 && entry.revents != 0)
                .collect());
        }
        let error = io::Error::last_os_error();
        if error.kind() != io::ErrorKind::Interrupted {
            return Err(error);
        }
    }
}

struct Output {
    fd: Option<OwnedFd>,
    buffer: CaptureBuffer,
}

impl Output {
    fn new(fd: Option<OwnedFd>, limit: usize) -> Output {
        if let Some(fd) = &fd {
            // SAFETY: sets O_NONBLOCK on a descriptor we own.
            unsafe {
                let flags = libc::fcntl(fd.as_raw_fd(), libc::F_GETFL);
                libc::fcntl(fd.as_raw_fd(), libc::F_SETFL, flags | libc::O_NONBLOCK);
            }
        }
        Output {
            fd,
            buffer: CaptureBuffer::new(limit),
        }
    }

    fn raw(&self) -> RawFd {
        self.fd.as_ref().map_or(-1, AsRawFd::as_raw_fd)
    }

    /// Read what is available into this buffer and the aggregated one; closes at end of file.
    fn read_available(&mut self, aggregated: &mut CaptureBuffer) {
        let Some(fd) = &self.fd else {
            return;
        };
        let mut chunk = [0u8; 16 * 1024];
        loop {
            // SAFETY: reads into a valid buffer from a valid non-blocking descriptor.
            let read =
                unsafe { libc::read(fd.as_raw_fd(), chunk.as_mut_ptr().cast(), chunk.len()) };
            if read > 0 {
                let bytes = &chunk[..read as usize];
                self.buffer.push(bytes);
                aggregated.push(bytes);
                continue;
            }
            if read == 0 {
                self.fd = None;
            } else {
                let error = io::Error::last_os_error();
                if error.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                if error.kind() != io::ErrorKind::WouldBlock {
                    self.fd = None;
                }
            }
            return;
        }
    }
}

/// Wait for `process` to exit while serving everything else; see the module docs.
pub fn supervise(
    process: &mut SpawnedProcess,
    control: &CancelHandle,
    deadline: Option<Instant>,
    max_bytes: usize,
    hooks: Hooks<'_>,
) -> io::Result<Supervision> {
    let started = Instant::now();
    let Hooks {
        kill_tree,
        forward,
        mut extra,
    } = hooks;
    let process_fd = pidfd(process.pid());
    let mut stdout = Output::new(process.stdout.take(), max_bytes);
    let mut stderr = Output::new(process.stderr.take(), max_bytes);
    let mut aggregated = CaptureBuffer::new(max_bytes);
    let mut killed: Option<fn(ExitStatus) -> Ending> = None;
    let mut exited: Option<(ExitStatus, Instant)> = None;
    loop {
        if let Some((status, at)) = exited {
            let drained = stdout.fd.is_none() && stderr.fd.is_none();
            if drained || at.elapsed() >= DRAIN_AFTER_EXIT {
                let ending = killed.map_or(Ending::Exited(status), |make| make(status));
                return Ok(Supervision {
                    ending,
                    stdout: stdout.buffer.finish(),
                    stderr: stderr.buffer.finish(),
                    aggregated: aggregated.finish(),
                    duration: started.elapsed(),
                });
            }
        }
        let mut timeout = -1i32;
        let mut tighten = |candidate: Duration| {
            let candidate =
                i32::try_from(candidate.as_millis().saturating_add(1)).unwrap_or(i32::MAX);
            if timeout < 0 || candidate < timeout {
                timeout = candidate;
            }
        };
        if process_fd.is_none() && exited.is_none() {
            tighten(Duration::from_millis(20));
        }
        if let (Some(deadline), None) = (deadline, killed) {
            tighten(deadline.saturating_duration_since(Instant::now()));
        }
        if let Some((_, at)) = exited {
            tighten(DRAIN_AFTER_EXIT.saturating_sub(at.elapsed()));
        }
        let extra_fd = extra.as_ref().map_or(-1, |(fd, _)| *fd);
        let fds = [
            control.wake_fd(),
            if exited.is_some() {
                -1
            } else {
                process_fd.as_ref().map_or(-1, AsRawFd::as_raw_fd)
            },
            stdout.raw(),
            stderr.raw(),
            extra_fd,
        ];
        let ready = poll_readable(&fds, timeout)?;
        if ready[2] {
            stdout.read_available(&mut aggregated);
        }
        if ready[3] {
            stderr.read_available(&mut aggregated);
        }
        if ready[4]
            && let Some((_, on_readable)) = extra.as_mut()
            && !on_readable()
        {
            extra = None;
        }
        if ready[0] {
            for request in control.take() {
                match request {
                    Request::Cancel if killed.is_none() && exited.is_none() => {
                        killed = Some(Ending::Cancelled);
                        kill_tree();
                    }
                    Request::Signal(signal) if exited.is_none() => forward(signal),
                    _ => {}
                }
            }
        }
        if killed.is_none()
            && exited.is_none()
            && deadline.is_some_and(|deadline| Instant::now() >= deadline)
        {
            killed = Some(Ending::TimedOut);
            kill_tree();
        }
        if exited.is_none()
            && let Some(status) = process.try_wait()?
        {
            exited = Some((status, Instant::now()));
            if let Some((_, on_readable)) = extra.as_mut() {
                on_readable();
            }
            extra = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Stdio;
    use crate::spawn::{SpawnOptions, spawn};
    use std::ffi::OsString;
    use std::path::Path;

    fn shell(script: &str) -> SpawnedProcess {
        let argv: Vec<OsString> = ["sh", "-c", script].iter().map(OsString::from).collect();
        let env = vec![(OsString::from("PATH"), OsString::from("/usr/bin:/bin"))];
        spawn(&SpawnOptions {
            program: Path::new("/bin/sh"),
            argv: &argv,
            env: &env,
            cwd: Path::new("/"),
            mappings: &[],
            stdio: Stdio::Capture,
            process_group: true,
        })
        .unwrap()
    }

    fn run(
        process: &mut SpawnedProcess,
        control: &CancelHandle,
        deadline: Option<Instant>,
    ) -> Supervision {
        let pid = process.pid();
        let mut kill = move || {
            // SAFETY: signals the test's own child process group.
            unsafe { libc::kill(-pid, libc::SIGKILL) };
        };
        let mut forward = move |signal: i32| {
            // SAFETY: as above.
            unsafe { libc::kill(pid, signal) };
        };
        supervise(
            process,
            control,
            deadline,
            1024,
            Hooks {
                kill_tree: &mut kill,
                forward: &mut forward,
                extra: None,
            },
        )
        .unwrap()
    }

    #[test]
    fn captures_interleaved_output_and_the_status() {
        let control = CancelHandle::new().unwrap();
        let mut process =
            shell("echo one; sleep 0.05; echo two >&2; sleep 0.05; echo three; exit 3");
        let result = run(&mut process, &control, None);
        assert_eq!(result.ending.status().code(), Some(3));
        assert!(matches!(result.ending, Ending::Exited(_)));
        assert_eq!(result.stdout.text(), "one\nthree\n");
        assert_eq!(result.stderr.text(), "two\n");
        assert_eq!(result.aggregated.text(), "one\ntwo\nthree\n");
    }

    #[test]
    fn a_deadline_kills_and_reports_a_timeout() {
        let control = CancelHandle::new().unwrap();
        let mut process = shell("echo started; exec sleep 30");
        let deadline = Instant::now() + Duration::from_millis(200);
        let result = run(&mut process, &control, Some(deadline));
        assert!(
            matches!(result.ending, Ending::TimedOut(_)),
            "{:?}",
            result.ending
        );
        assert_eq!(result.stdout.text(), "started\n");
    }

    #[test]
    fn cancel_and_signals_from_another_thread() {
        let control = CancelHandle::new().unwrap();
        let mut process =
            shell("trap 'echo got-term; exit 7' TERM; echo ready; while :; do sleep 0.01; done");
        let remote = control.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(200));
            remote.signal(libc::SIGTERM);
        });
        let result = run(&mut process, &control, None);
        assert_eq!(result.ending.status().code(), Some(7));
        assert_eq!(result.stdout.text(), "ready\ngot-term\n");

        let control = CancelHandle::new().unwrap();
        let mut process = shell("trap '' TERM; echo ready; while :; do sleep 0.01; done");
        control.cancel();
        let result = run(&mut process, &control, None);
        assert!(
            matches!(result.ending, Ending::Cancelled(_)),
            "{:?}",
            result.ending
        );
    }
}
