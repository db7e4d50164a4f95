//! A command in a process group of its own, started with `std::process`, for backends whose
//! launcher has no pid namespace to end the tree (Seatbelt on macOS). Plain Unix, so it is built
//! and tested on Linux too.
//!
//! - Captured stdio: stdin from `/dev/null`, stdout and stderr read by two threads into the same
//!   bounded buffers the Linux runner uses, plus the interleaved view in arrival order.
//! - The wait loop serves the [`CancelHandle`] (cancel, forwarded signals) and a deadline; a cut
//!   run gets `SIGKILL` sent to the whole group, and when the command's top process exits, what
//!   is left of its group is killed too, so nothing it started in the group outlives the call.
//! - A process that leaves the group (`setsid`) is beyond a group kill: the output wait after the
//!   exit is bounded, so such a process holding the pipes never hangs the caller; it is the
//!   sandbox profile's job to confine what it can do. (Linux runs use a pid namespace or the
//!   subreaper instead and have no such gap.)
//!
//! Nothing process-wide changes: several threads may supervise runs at once.

use std::ffi::OsString;
use std::io::{self, Read};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::Stdio;
use crate::capture::CaptureBuffer;
use crate::control::{CancelHandle, Request};
use crate::outcome::{Ending, Supervision};

/// How often the loop looks at the process between wake-ups (std has no exit notification).
const POLL_INTERVAL: Duration = Duration::from_millis(5);
/// How long output is still read after the command's group was ended.
const DRAIN_AFTER_EXIT: Duration = Duration::from_millis(500);

#[derive(Clone, Copy, PartialEq, Eq)]
enum Stream {
    Stdout,
    Stderr,
}

/// A started command, the leader of its own process group.
pub struct GroupChild {
    child: Child,
    started: Instant,
    output: Option<Receiver<(Stream, Vec<u8>)>>,
    readers: Vec<JoinHandle<()>>,
}

/// Start `argv` (`argv[0]` is passed as the process name, `program` is executed) with exactly
/// `env` in `cwd`, as the leader of a new process group.
pub fn spawn_group(
    program: &Path,
    argv: &[OsString],
    env: &[(OsString, OsString)],
    cwd: &Path,
    stdio: Stdio,
) -> io::Result<GroupChild> {
    let mut command = Command::new(program);
    if let Some(name) = argv.first() {
        command.arg0(name);
    }
    command
        .args(argv.iter().skip(1))
        .env_clear()
        .envs(env.iter().map(|(name, value)| (name, value)))
        .current_dir(cwd)
        .process_group(0);
    if stdio == Stdio::Capture {
        command
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
    }
    let mut child = command.spawn()?;
    let mut readers = Vec::new();
    let output = if stdio == Stdio::Capture {
        let (sender, receiver) = mpsc::channel();
        if let Some(stdout) = child.stdout.take() {
            readers.push(reader(stdout, Stream::Stdout, sender.clone())?);
        }
        if let Some(stderr) = child.stderr.take() {
            readers.push(reader(stderr, Stream::Stderr, sender)?);
        }
        Some(receiver)
    } else {
        None
    };
    Ok(GroupChild {
        child,
        started: Instant::now(),
        output,
        readers,
    })
}

fn reader(
    mut source: impl Read + Send + 'static,
    stream: Stream,
    sender: mpsc::Sender<(Stream, Vec<u8>)>,
) -> io::Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name("codex-output".into())
        .spawn(move || {
            let mut buffer = vec![0u8; 64 * 1024];
            loop {
                match source.read(&mut buffer) {
                    Ok(0) => break,
                    Ok(read) => {
                        if sender.send((stream, buffer[..read].to_vec())).is_err() {
                            break;
                        }
                    }
                    Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                    Err(_) => break,
                }
            }
        })
}

/// The three views of captured output.
struct Buffers {
    stdout: CaptureBuffer,
    stderr: CaptureBuffer,
    aggregated: CaptureBuffer,
}

impl Buffers {
    fn push(&mut self, stream: Stream, bytes: &[u8]) {
        match stream {
            Stream::Stdout => self.stdout.push(bytes),
            Stream::Stderr => self.stderr.push(bytes),
        }
        self.aggregated.push(bytes);
    }
}

impl GroupChild {
    /// The command's pid, which is also its process group id.
    pub fn pid(&self) -> i32 {
        // Pids are positive `pid_t` values; `Child::id` only widens them.
        self.child.id() as i32
    }

    /// Wait for the command, serving `control` and `deadline`, keeping at most `max_bytes` of
    /// each stream.
    pub fn supervise(
        mut self,
        control: &CancelHandle,
        deadline: Option<Instant>,
        max_bytes: usize,
    ) -> io::Result<Supervision> {
        let mut buffers = Buffers {
            stdout: CaptureBuffer::new(max_bytes),
            stderr: CaptureBuffer::new(max_bytes),
            aggregated: CaptureBuffer::new(max_bytes),
        };
        let group = self.pid();
        let ending = loop {
            if let Some(receiver) = &self.output {
                while let Ok((stream, bytes)) = receiver.try_recv() {
                    buffers.push(stream, &bytes);
                }
            }
            if let Some(status) = self.child.try_wait()? {
                break Ending::Exited(status);
            }
            let mut cut = None;
            for request in control.take() {
                match request {
                    Request::Cancel => cut = Some(Ending::Cancelled as fn(_) -> Ending),
                    Request::Signal(signal) => signal_group(group, signal),
                }
            }
            if cut.is_none() && deadline.is_some_and(|deadline| Instant::now() >= deadline) {
                cut = Some(Ending::TimedOut);
            }
            if let Some(ending) = cut {
                signal_group(group, libc::SIGKILL);
                break ending(self.child.wait()?);
            }
            let mut wait = POLL_INTERVAL;
            if let Some(deadline) = deadline {
                wait = wait.min(deadline.saturating_duration_since(Instant::now()));
            }
            let timeout = i32::try_from(wait.as_millis()).unwrap_or(i32::MAX);
            wait_for_wake(control, timeout);
        };
        // Whatever the command left in its group goes with it.
        signal_group(group, libc::SIGKILL);
        if let Some(receiver) = self.output.take() {
            drain(&receiver, &mut buffers, Instant::now() + DRAIN_AFTER_EXIT);
        }
        for reader in self.readers.drain(..) {
            if reader.is_finished() {
                let _ = reader.join();
            }
            // Otherwise a process outside the group still holds the pipe: the thread ends when
            // it closes; nobody waits for it.
        }
        Ok(Supervision {
            ending,
            stdout: buffers.stdout.finish(),
            stderr: buffers.stderr.finish(),
            aggregated: buffers.aggregated.finish(),
            duration: self.started.elapsed(),
        })
    }
}

/// Read what is left until both streams close or `until` passes.
fn drain(receiver: &Receiver<(Stream, Vec<u8>)>, buffers: &mut Buffers, until: Instant) {
    loop {
        let left = until.saturating_duration_since(Instant::now());
        match receiver.recv_timeout(left) {
            Ok((stream, bytes)) => buffers.push(stream, &bytes),
            Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => return,
        }
    }
}

/// Sleep until `control` has a request or `timeout_ms` passes.
fn wait_for_wake(control: &CancelHandle, timeout_ms: i32) {
    let mut entry = libc::pollfd {
        fd: control.wake_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: polls one valid pollfd; the result only shortens the sleep.
    unsafe { libc::poll(&mut entry, 1, timeout_ms) };
}

fn signal_group(group: i32, signal: i32) {
    // SAFETY: kill(2) on a process group id this run created; a group that is gone is ESRCH.
    unsafe { libc::kill(-group, signal) };
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str) -> Vec<OsString> {
        vec!["sh".into(), "-c".into(), script.into()]
    }

    fn env() -> Vec<(OsString, OsString)> {
        vec![("PATH".into(), "/usr/bin:/bin".into())]
    }

    fn start(script: &str) -> GroupChild {
        spawn_group(
            Path::new("/bin/sh"),
            &sh(script),
            &env(),
            Path::new("/"),
            Stdio::Capture,
        )
        .unwrap()
    }

    /// Running (a killed process whose parent died may linger as a zombie until init reaps it).
    fn alive(pid: i32) -> bool {
        if let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            let state = stat.rsplit(')').next().unwrap_or("").trim_start();
            return !state.starts_with('Z');
        }
        // SAFETY: signal 0 only checks for existence.
        unsafe { libc::kill(pid, 0) == 0 }
    }

    #[test]
    fn captures_both_streams_in_order_with_the_exit_code() {
        let control = CancelHandle::new().unwrap();
        let run = start("echo out; echo err >&2; echo more; exit 3");
        let outcome = run.supervise(&control, None, 1024).unwrap();
        assert_eq!(outcome.ending.status().code(), Some(3));
        assert_eq!(outcome.stdout.text(), "out\nmore\n");
        assert_eq!(outcome.stderr.text(), "err\n");
        assert_eq!(outcome.aggregated.total_bytes, 13);
        assert!(matches!(outcome.ending, Ending::Exited(_)));
    }

    #[test]
    fn a_deadline_kills_the_whole_group_and_says_so() {
        let control = CancelHandle::new().unwrap();
        // A background child in the same group, and a foreground sleep that would outlast the
        // test: both go at the deadline.
        let run = start("sleep 300 & echo $! ; sleep 300");
        let outcome = run
            .supervise(
                &control,
                Some(Instant::now() + Duration::from_millis(300)),
                1024,
            )
            .unwrap();
        assert!(matches!(outcome.ending, Ending::TimedOut(_)));
        let background: i32 = outcome.stdout.text().trim().parse().unwrap();
        let gone = (0..100).any(|_| {
            std::thread::sleep(Duration::from_millis(10));
            !alive(background)
        });
        assert!(gone, "the background process {background} survived");
    }

    #[test]
    fn a_cancel_from_another_thread_ends_the_run() {
        let control = CancelHandle::new().unwrap();
        let run = start("sleep 300");
        let canceller = control.clone();
        let thread = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            canceller.cancel();
        });
        let outcome = run.supervise(&control, None, 1024).unwrap();
        thread.join().unwrap();
        assert!(matches!(outcome.ending, Ending::Cancelled(_)));
    }

    #[test]
    fn forwarded_signals_reach_the_command_and_its_group() {
        let control = CancelHandle::new().unwrap();
        let run =
            start("trap 'echo got-term; exit 7' TERM; echo ready; while :; do sleep 0.05; done");
        let signaller = control.clone();
        let thread = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(200));
            signaller.signal(libc::SIGTERM);
        });
        let outcome = run.supervise(&control, None, 1024).unwrap();
        thread.join().unwrap();
        assert_eq!(outcome.ending.status().code(), Some(7));
        assert_eq!(outcome.stdout.text(), "ready\ngot-term\n");
    }

    #[test]
    fn a_process_that_left_the_group_and_holds_the_pipe_does_not_hang_the_caller() {
        let control = CancelHandle::new().unwrap();
        let run = start("setsid sleep 300 & echo $!");
        let outcome = run.supervise(&control, None, 1024).unwrap();
        assert_eq!(outcome.ending.status().code(), Some(0));
        let escaped: i32 = outcome.stdout.text().trim().parse().unwrap();
        // The call returned while the escaped process still holds the pipe open.
        assert!(alive(escaped));
        // SAFETY: kills the test's own stray process.
        unsafe { libc::kill(escaped, libc::SIGKILL) };
    }
}
