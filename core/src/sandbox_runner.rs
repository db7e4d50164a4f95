//! [`SandboxRunner`]: the real [`CommandRunner`]: every command is planned and run by the Linux
//! sandbox (`codex-linux-sandbox`: bubblewrap + seccomp + the Landlock stage, or the Landlock
//! backend), spawned with captured output and supervised with a deadline and a cancel handle.
//! A timeout or a cancel kills every process of the sandbox before `run` returns; the sandbox
//! dies with this process (its spawner thread carries the parent-death signal).
//!
//! Switch to `codex_sandboxing::spawn` once the cross-platform entry point lands: the request,
//! outcome and cancel shapes are the same.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use codex_config::{LinuxSandboxBackend, LinuxSandboxSettings};
use codex_sandboxing::{Enforcement, NetworkAccess, SandboxPolicy};

use crate::runner::{
    CancelToken, CommandEnding, CommandRunner, RunToolError, ToolCommand, ToolCommandOutput,
};

/// Runs commands under one policy.
#[derive(Debug, Clone)]
pub struct SandboxRunner {
    policy: SandboxPolicy,
    settings: LinuxSandboxSettings,
    network_disabled: bool,
}

impl SandboxRunner {
    pub fn new(policy: &SandboxPolicy, settings: &LinuxSandboxSettings) -> SandboxRunner {
        SandboxRunner {
            policy: policy.clone(),
            settings: settings.clone(),
            network_disabled: policy.enforcement != Enforcement::FullAccess
                && policy.network == NetworkAccess::Restricted,
        }
    }
}

#[cfg(target_os = "linux")]
fn run_error(error: codex_linux_sandbox::RunSandboxError) -> RunToolError {
    match error {
        codex_linux_sandbox::RunSandboxError::CommandNotFound { program } => {
            RunToolError::NotFound(program)
        }
        other => RunToolError::Sandbox {
            hint: other.hint(),
            message: other.to_string(),
        },
    }
}

#[cfg(target_os = "linux")]
impl CommandRunner for SandboxRunner {
    fn run(
        &self,
        command: &ToolCommand,
        cancel: &CancelToken,
    ) -> Result<ToolCommandOutput, RunToolError> {
        use codex_linux_sandbox::{LinuxBackend, LinuxOptions, RunMode, SandboxRequest, Stdio};
        use std::os::unix::process::ExitStatusExt;
        if cancel.is_cancelled() {
            return Err(RunToolError::Start("the turn was interrupted".into()));
        }
        let options = LinuxOptions {
            bwrap_path: self.settings.bwrap_path.clone(),
            max_processes: self.settings.max_processes,
            landlock_layer: self.settings.landlock_layer,
            stage_executable: None,
        };
        let request = SandboxRequest {
            policy: &self.policy,
            command: &command.argv,
            cwd: &command.cwd,
            env: &command.env,
            backend: match self.settings.backend {
                LinuxSandboxBackend::Landlock => LinuxBackend::Landlock,
                LinuxSandboxBackend::Bubblewrap => LinuxBackend::Bubblewrap,
            },
            run_mode: RunMode::SpawnAndWait,
            options: &options,
        };
        let plan = codex_linux_sandbox::plan(&request).map_err(|error| RunToolError::Sandbox {
            hint: error.hint(),
            message: error.to_string(),
        })?;
        let control = codex_linux_sandbox::CancelHandle::new()
            .map_err(|error| RunToolError::Start(error.to_string()))?;
        let deadline = Instant::now() + command.timeout;
        let child = codex_linux_sandbox::spawn(plan, Stdio::Capture).map_err(run_error)?;
        // While the run is supervised, a cancel first stops and kills the whole tree below the
        // sandbox's first process (see `process_tree`), then tells the supervisor.
        let supervised = Arc::new(Mutex::new(u32::try_from(child.pid()).ok()));
        let hook = control.clone();
        let hook_pid = supervised.clone();
        let _registration = cancel.on_cancel(move || {
            if let Some(pid) = *hook_pid
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
            {
                crate::process_tree::kill_tree(pid);
            }
            hook.cancel();
        });
        let outcome = child.supervise(&control, Some(deadline), command.max_output_bytes);
        // The first process is reaped now: its pid is no longer ours to signal.
        *supervised
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = None;
        let outcome = outcome.map_err(run_error)?;
        let ending = match outcome.ending {
            codex_linux_sandbox::Ending::TimedOut(_) => CommandEnding::TimedOut,
            codex_linux_sandbox::Ending::Cancelled(_) => CommandEnding::Cancelled,
            codex_linux_sandbox::Ending::Exited(_) if cancel.is_cancelled() => {
                CommandEnding::Cancelled
            }
            codex_linux_sandbox::Ending::Exited(status) => match status.signal() {
                Some(signal) => CommandEnding::Signaled(signal),
                None => CommandEnding::Exited(outcome.exit_code),
            },
        };
        Ok(ToolCommandOutput {
            ending,
            exit_code: outcome.exit_code,
            stdout: outcome.stdout.bytes,
            stderr: outcome.stderr.bytes,
            total_bytes: outcome.aggregated.total_bytes,
            truncated: outcome.aggregated.truncated,
            aggregated: outcome.aggregated.bytes,
            duration: outcome.duration,
        })
    }

    fn network_disabled(&self) -> bool {
        self.network_disabled
    }
}

/// Elsewhere there is no sandbox yet: every command is refused (never run unsandboxed).
#[cfg(not(target_os = "linux"))]
impl CommandRunner for SandboxRunner {
    fn run(
        &self,
        _command: &ToolCommand,
        _cancel: &CancelToken,
    ) -> Result<ToolCommandOutput, RunToolError> {
        Err(RunToolError::Sandbox {
            message: "the agent's sandbox is only implemented on Linux so far".into(),
            hint: None,
        })
    }

    fn network_disabled(&self) -> bool {
        self.network_disabled
    }
}
