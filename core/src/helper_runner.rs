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
        let started = Instant::now();
        let mut child = process
            .spawn()
            .map_err(|error| RunToolError::Start(error.to_string()))?;
        let pid = child.id();
        let _registration = cancel.on_cancel(move || kill_group(pid));
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
        let waiter = std::thread::spawn(move || {
            let _ = sender.send(child.wait());
        });
        let mut timed_out = false;
        let status = match receiver.recv_timeout(command.timeout) {
            Ok(status) => status,
            Err(_) => {
                timed_out = true;
                kill_group(pid);
                receiver
                    .recv()
                    .unwrap_or_else(|_| Err(std::io::Error::other("the waiter stopped")))
            }
        };
        // Whatever is left in the group (a command that closed its output and kept running).
        kill_group(pid);
        let _ = waiter.join();
        for reader in readers {
            let _ = reader.join();
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
