//! A [`CommandRunner`] that runs every command through the `codex-linux-sandbox` helper (the
//! `codex` binary started under that name) with captured output, a timeout and cancellation.
//!
//! Interim: this is replaced by the `codex-sandboxing` entry point (`spawn` / `CancelHandle`)
//! when it lands; until then the helper is the one sandbox entry point the binary has.

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Instant;

use codex_config::LinuxSandboxSettings;
use codex_sandboxing::{Enforcement, NetworkAccess, SandboxPolicy};

use crate::runner::{
    CancelToken, CommandEnding, CommandRunner, RunToolError, ToolCommand, ToolCommandOutput,
};

/// How long the output readers may take after the helper exited.
const READER_GRACE: std::time::Duration = std::time::Duration::from_secs(2);

/// The helper's argv[0].
const HELPER_NAME: &str = "codex-linux-sandbox";

/// Runs commands under `policy` through the helper.
#[derive(Debug, Clone)]
pub struct HelperRunner {
    codex_exe: PathBuf,
    policy_json: String,
    network_disabled: bool,
    settings: LinuxSandboxSettings,
}

impl HelperRunner {
    pub fn new(
        codex_exe: PathBuf,
        policy: &SandboxPolicy,
        settings: &LinuxSandboxSettings,
    ) -> HelperRunner {
        HelperRunner {
            codex_exe,
            policy_json: serde_json::to_string(policy).unwrap_or_default(),
            network_disabled: policy.enforcement != Enforcement::FullAccess
                && policy.network == NetworkAccess::Restricted,
            settings: settings.clone(),
        }
    }
}

/// Head and tail of one stream, plus the interleaved stream.
#[derive(Default)]
struct Capture {
    stdout: Bounded,
    stderr: Bounded,
    aggregated: Bounded,
}

#[derive(Default)]
struct Bounded {
    head: Vec<u8>,
    tail: std::collections::VecDeque<u8>,
    total: u64,
}

impl Bounded {
    fn push(&mut self, bytes: &[u8], max: usize) {
        self.total += bytes.len() as u64;
        let half = max / 2;
        let room = half.saturating_sub(self.head.len());
        let (head, rest) = bytes.split_at(room.min(bytes.len()));
        self.head.extend_from_slice(head);
        self.tail.extend(rest);
        while self.tail.len() > max - half {
            self.tail.pop_front();
        }
    }

    fn finish(self) -> (Vec<u8>, bool) {
        let truncated = self.total > (self.head.len() + self.tail.len()) as u64;
        let mut bytes = self.head;
        bytes.extend(self.tail);
        (bytes, truncated)
    }
}

fn spawn_reader(
    mut stream: impl Read + Send + 'static,
    capture: Arc<Mutex<Capture>>,
    is_stderr: bool,
    max: usize,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut buffer = [0u8; 8192];
        loop {
            match stream.read(&mut buffer) {
                Ok(0) | Err(_) => break,
                Ok(read) => {
                    let mut capture = capture
                        .lock()
                        .unwrap_or_else(|poisoned| poisoned.into_inner());
                    let chunk = &buffer[..read];
                    if is_stderr {
                        capture.stderr.push(chunk, max);
                    } else {
                        capture.stdout.push(chunk, max);
                    }
                    capture.aggregated.push(chunk, max);
                }
            }
        }
    })
}

/// The children of every process, from `/proc/<pid>/stat`.
fn children_of(parents: &[i32]) -> Vec<i32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .ok()
                .and_then(|stat| {
                    // `pid (comm) state ppid …`; comm may hold spaces and parentheses.
                    let after = stat.rsplit_once(')')?.1;
                    after.split_whitespace().nth(1)?.parse::<i32>().ok()
                })
                .is_some_and(|parent| parents.contains(&parent))
        })
        .collect()
}

fn signal(pid: i32, signal: libc::c_int) {
    // SAFETY: kill(2) takes no pointers.
    unsafe {
        libc::kill(pid, signal);
    }
}

/// Kill `root` and every process below it. Each process is stopped first, top-down, so none
/// can start another one (or finish starting the sandbox's inner process, which lives in its
/// own session and pid namespace) while the tree is collected; then all are killed.
fn kill_tree(root: u32) {
    let Ok(root) = i32::try_from(root) else {
        return;
    };
    let mut tree = vec![root];
    signal(root, libc::SIGSTOP);
    loop {
        let fresh: Vec<i32> = children_of(&tree)
            .into_iter()
            .filter(|pid| !tree.contains(pid))
            .collect();
        if fresh.is_empty() {
            break;
        }
        for pid in &fresh {
            signal(*pid, libc::SIGSTOP);
        }
        tree.extend(fresh);
    }
    for pid in tree {
        signal(pid, libc::SIGKILL);
    }
    signal(-root, libc::SIGKILL);
}

fn kill_group(pid: u32) {
    if let Ok(pid) = i32::try_from(pid) {
        // SAFETY: kill(2) with a negative pid signals the process group the child leads; it
        // takes no pointers.
        unsafe {
            libc::kill(-pid, libc::SIGKILL);
        }
    }
}

impl CommandRunner for HelperRunner {
    fn run(
        &self,
        command: &ToolCommand,
        cancel: &CancelToken,
    ) -> Result<ToolCommandOutput, RunToolError> {
        if cancel.is_cancelled() {
            return Err(RunToolError::Start("the turn was interrupted".into()));
        }
        let mut process = Command::new(&self.codex_exe);
        process
            .arg0(HELPER_NAME)
            .arg("--policy")
            .arg(&self.policy_json)
            .arg("--cwd")
            .arg(&command.cwd);
        if self.settings.backend == codex_config::LinuxSandboxBackend::Landlock {
            process.arg("--use-legacy-landlock");
        }
        if let Some(bwrap) = &self.settings.bwrap_path {
            process.arg("--bwrap").arg(bwrap);
        }
        if let Some(limit) = self.settings.max_processes {
            process.arg("--max-processes").arg(limit.to_string());
        }
        if !self.settings.landlock_layer {
            process.arg("--no-landlock-layer");
        }
        process
            .arg("--")
            .args(&command.argv)
            .current_dir(&command.cwd)
            .env_clear()
            .envs(command.env.iter().map(|(name, value)| (name, value)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        // SAFETY: the closure runs in the forked child before exec and only calls prctl(2) and
        // getppid(2), which are async-signal-safe; it allocates nothing.
        unsafe {
            process.pre_exec(|| {
                // The helper (and with it bwrap, which dies with its parent) is killed when the
                // agent dies, even by SIGKILL.
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                if libc::getppid() == 1 {
                    return Err(std::io::Error::other("the agent exited"));
                }
                Ok(())
            });
        }
        let started = Instant::now();
        let mut child = process
            .spawn()
            .map_err(|error| RunToolError::Start(error.to_string()))?;
        let pid = child.id();
        // Set by the waiter once the helper is reaped: its pid may then belong to someone else.
        let reaped = Arc::new(Mutex::new(false));
        let cancel_reaped = reaped.clone();
        let _registration = cancel.on_cancel(move || {
            let reaped = cancel_reaped
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            if !*reaped {
                kill_tree(pid);
            }
        });
        let capture = Arc::new(Mutex::new(Capture::default()));
        let max = command.max_output_bytes.max(2);
        let mut readers = Vec::new();
        if let Some(stdout) = child.stdout.take() {
            readers.push(spawn_reader(stdout, capture.clone(), false, max));
        }
        if let Some(stderr) = child.stderr.take() {
            readers.push(spawn_reader(stderr, capture.clone(), true, max));
        }
        let (sender, receiver) = mpsc::channel();
        let waiter_reaped = reaped.clone();
        let waiter = std::thread::spawn(move || {
            // Hold the flag while waiting: a cancel either kills the live tree first or sees
            // that the helper is gone.
            let status = loop {
                match child.try_wait() {
                    Ok(Some(status)) => break Ok(status),
                    Ok(None) => {}
                    Err(error) => break Err(error),
                }
                // SAFETY: waitid(2) with WNOWAIT only waits for the child to become waitable,
                // leaving it unreaped so its pid stays ours until `try_wait` reaps it under
                // the lock below; `info` is a valid out-parameter.
                let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
                let waited = unsafe {
                    libc::waitid(libc::P_PID, pid, &mut info, libc::WEXITED | libc::WNOWAIT)
                };
                if waited != 0
                    && std::io::Error::last_os_error().kind() != std::io::ErrorKind::Interrupted
                {
                    break child.wait();
                }
                let mut reaped = waiter_reaped
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                if let Ok(Some(status)) = child.try_wait() {
                    *reaped = true;
                    break Ok(status);
                }
            };
            let _ = sender.send(status);
        });
        let mut timed_out = false;
        let status = match receiver.recv_timeout(command.timeout) {
            Ok(status) => status,
            Err(_) => {
                timed_out = true;
                {
                    let reaped = reaped
                        .lock()
                        .unwrap_or_else(|poisoned| poisoned.into_inner());
                    if !*reaped {
                        kill_tree(pid);
                    }
                }
                receiver
                    .recv()
                    .unwrap_or_else(|_| Err(std::io::Error::other("the waiter stopped")))
            }
        };
        // Whatever is left in the group (a command that closed its output and kept running).
        kill_group(pid);
        let _ = waiter.join();
        // A process that escaped (it should not exist) may still hold the pipes: wait a little,
        // then stop waiting for the readers rather than for it.
        let deadline = Instant::now() + READER_GRACE;
        for reader in readers {
            while !reader.is_finished() && Instant::now() < deadline {
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
            if reader.is_finished() {
                let _ = reader.join();
            }
        }
        let status = status.map_err(|error| RunToolError::Start(error.to_string()))?;
        let capture = std::mem::take(
            &mut *capture
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        );
        let total_bytes = capture.aggregated.total;
        let (stdout, _) = capture.stdout.finish();
        let (stderr, _) = capture.stderr.finish();
        let (aggregated, truncated) = capture.aggregated.finish();
        use std::os::unix::process::ExitStatusExt;
        let (ending, exit_code) = match (status.code(), status.signal()) {
            _ if timed_out => (CommandEnding::TimedOut, 128 + libc::SIGKILL),
            _ if cancel.is_cancelled() => (CommandEnding::Cancelled, 128 + libc::SIGKILL),
            (Some(code), _) => (CommandEnding::Exited(code), code),
            (None, Some(signal)) => (CommandEnding::Signaled(signal), 128 + signal),
            (None, None) => (CommandEnding::Exited(1), 1),
        };
        Ok(ToolCommandOutput {
            ending,
            exit_code,
            stdout,
            stderr,
            aggregated,
            total_bytes,
            truncated,
            duration: started.elapsed(),
        })
    }

    fn network_disabled(&self) -> bool {
        self.network_disabled
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_keeps_head_and_tail() {
        let mut bounded = Bounded::default();
        bounded.push(b"0123456789", 4);
        bounded.push(b"abcdef", 4);
        assert_eq!(bounded.total, 16);
        assert_eq!(bounded.finish(), (b"01ef".to_vec(), true));
        let mut small = Bounded::default();
        small.push(b"ab", 10);
        assert_eq!(small.finish(), (b"ab".to_vec(), false));
    }
}
