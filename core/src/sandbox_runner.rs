//! [`SandboxRunner`]: the real [`CommandRunner`], on the sandbox library's one entry point
//! (`codex_sandboxing::spawn` with captured output, a timeout and a cancel handle). A timeout
//! or a cancel kills every process of the sandbox before `run` returns; a policy that cannot be
//! enforced here is an error, never a weaker run.

use std::time::Duration;

use codex_sandboxing::{
    CommandRequest, Enforcement, NetworkAccess, RunCommandError, SandboxPolicy, SandboxSettings,
    StdioPolicy,
};

use crate::runner::{
    CancelToken, CommandEnding, CommandRunner, RunToolError, ToolCommand, ToolCommandOutput,
};

/// Runs commands under one policy.
#[derive(Debug, Clone)]
pub struct SandboxRunner {
    policy: SandboxPolicy,
    settings: SandboxSettings,
    network_disabled: bool,
}

impl SandboxRunner {
    /// `settings`: `SandboxSettings::from_config(&config)`.
    pub fn new(policy: &SandboxPolicy, settings: SandboxSettings) -> SandboxRunner {
        SandboxRunner {
            policy: policy.clone(),
            settings,
            network_disabled: policy.enforcement != Enforcement::FullAccess
                && policy.network == NetworkAccess::Restricted,
        }
    }
}

fn run_error(error: RunCommandError) -> RunToolError {
    match error {
        RunCommandError::CommandNotFound { program } => RunToolError::NotFound(program),
        other => RunToolError::Sandbox {
            hint: other.hint(),
            message: other.to_string(),
        },
    }
}

impl CommandRunner for SandboxRunner {
    fn run(
        &self,
        command: &ToolCommand,
        cancel: &CancelToken,
    ) -> Result<ToolCommandOutput, RunToolError> {
        if cancel.is_cancelled() {
            return Err(RunToolError::Start("the turn was interrupted".into()));
        }
        let request = CommandRequest {
            policy: &self.policy,
            command: command.argv.clone(),
            cwd: command.cwd.clone(),
            env: command.env.clone(),
            stdio: StdioPolicy::Capture {
                max_bytes: command.max_output_bytes,
            },
            timeout: Some(command.timeout.max(Duration::from_millis(1))),
            settings: &self.settings,
        };
        let running = codex_sandboxing::spawn(&request).map_err(run_error)?;
        let handle = running.cancel_handle();
        let _registration = cancel.on_cancel(move || handle.cancel());
        let outcome = running.wait().map_err(run_error)?;
        let ending = match outcome.ending {
            codex_sandboxing::Ending::Exited(code) => CommandEnding::Exited(code),
            codex_sandboxing::Ending::Signaled(signal) => CommandEnding::Signaled(signal),
            codex_sandboxing::Ending::TimedOut => CommandEnding::TimedOut,
            codex_sandboxing::Ending::Cancelled => CommandEnding::Cancelled,
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
