//! The seam between the turn loop and the sandbox: every command the agent runs for the model
//! goes through a [`CommandRunner`]. The real one is [`SandboxRunner`] (the `codex-sandboxing`
//! entry point); tests of the loop use a fake.

use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One command to run under the session's sandbox policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolCommand {
    /// argv; `argv[0]` is an absolute path (the agent never looks a program up on a PATH a
    /// sandboxed command could have written to).
    pub argv: Vec<OsString>,
    /// Absolute.
    pub cwd: PathBuf,
    /// The complete environment of the command.
    pub env: Vec<(OsString, OsString)>,
    pub timeout: Duration,
    /// Bytes of output kept (head and tail; the middle is dropped).
    pub max_output_bytes: usize,
}

/// How the command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommandEnding {
    Exited(i32),
    Signaled(i32),
    TimedOut,
    Cancelled,
}

/// What the command printed and how it ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolCommandOutput {
    pub ending: CommandEnding,
    /// The shell convention: the exit code, or 128 + signal.
    pub exit_code: i32,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    /// stdout and stderr interleaved in arrival order (bounded).
    pub aggregated: Vec<u8>,
    /// Bytes the command wrote in all (stdout + stderr), kept or not.
    pub total_bytes: u64,
    pub truncated: bool,
    pub duration: Duration,
}

/// The command could not be run at all (nothing ran).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RunToolError {
    #[error("command not found: `{0}`")]
    NotFound(String),
    /// The policy cannot be enforced here: the command was refused, not run weaker.
    #[error("the sandbox cannot run this command: {message}")]
    Sandbox {
        message: String,
        hint: Option<String>,
    },
    #[error("the command could not be started: {0}")]
    Start(String),
}

/// Cancels the command currently running (Ctrl-C, SIGTERM). Cheap to clone; callable from any
/// thread. Once cancelled it stays cancelled: a command started afterwards is cancelled at once.
#[derive(Clone, Default)]
pub struct CancelToken {
    inner: Arc<CancelInner>,
}

type CancelHook = Box<dyn Fn() + Send + Sync>;

#[derive(Default)]
struct CancelInner {
    cancelled: AtomicBool,
    hooks: Mutex<Vec<(u64, CancelHook)>>,
    next_id: Mutex<u64>,
}

impl std::fmt::Debug for CancelToken {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("CancelToken")
            .field("cancelled", &self.is_cancelled())
            .finish()
    }
}

/// Removes its hook from the token when dropped.
pub struct CancelRegistration {
    token: CancelToken,
    id: u64,
}

impl Drop for CancelRegistration {
    fn drop(&mut self) {
        lock(&self.token.inner.hooks).retain(|(id, _)| *id != self.id);
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl CancelToken {
    pub fn new() -> CancelToken {
        CancelToken::default()
    }

    pub fn cancel(&self) {
        self.inner.cancelled.store(true, Ordering::SeqCst);
        for (_, hook) in lock(&self.inner.hooks).iter() {
            hook();
        }
    }

    pub fn is_cancelled(&self) -> bool {
        self.inner.cancelled.load(Ordering::SeqCst)
    }

    /// Run `hook` on [`CancelToken::cancel`] (at once when already cancelled) until the
    /// registration is dropped.
    pub fn on_cancel(&self, hook: impl Fn() + Send + Sync + 'static) -> CancelRegistration {
        let id = {
            let mut next = lock(&self.inner.next_id);
            *next += 1;
            *next
        };
        lock(&self.inner.hooks).push((id, Box::new(hook)));
        if self.is_cancelled() {
            for (hook_id, hook) in lock(&self.inner.hooks).iter() {
                if *hook_id == id {
                    hook();
                }
            }
        }
        CancelRegistration {
            token: self.clone(),
            id,
        }
    }
}

/// Runs tool commands under the session's sandbox.
pub trait CommandRunner: Send + Sync {
    /// Run `command` to its end (exit, timeout, or `cancel`). A cancelled or timed-out command
    /// has every process it started killed before this returns.
    fn run(
        &self,
        command: &ToolCommand,
        cancel: &CancelToken,
    ) -> Result<ToolCommandOutput, RunToolError>;

    /// Whether the network is off for commands (for the denial hints and
    /// `CODEX_SANDBOX_NETWORK_DISABLED`).
    fn network_disabled(&self) -> bool;
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    #[test]
    fn hooks_run_on_cancel_and_at_once_when_late() {
        let token = CancelToken::new();
        let count = Arc::new(AtomicUsize::new(0));
        let seen = count.clone();
        let registration = token.on_cancel(move || {
            seen.fetch_add(1, Ordering::SeqCst);
        });
        token.cancel();
        assert_eq!(count.load(Ordering::SeqCst), 1);
        drop(registration);
        token.cancel();
        assert_eq!(
            count.load(Ordering::SeqCst),
            1,
            "a dropped hook does not run"
        );
        let late = count.clone();
        let _registration = token.on_cancel(move || {
            late.fetch_add(10, Ordering::SeqCst);
        });
        assert_eq!(count.load(Ordering::SeqCst), 11, "late hook runs at once");
    }
}
