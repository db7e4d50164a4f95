//! [`RunCommandError`]: a command could not be run under its policy. It never ran unsandboxed.

use std::path::PathBuf;

/// Planning, starting or waiting for a sandboxed command failed.
#[derive(Debug, thiserror::Error)]
pub enum RunCommandError {
    #[error("sandbox command must not be empty")]
    EmptyCommand,
    #[error("the working directory `{}` is not an absolute path", .0.display())]
    RelativeCwd(PathBuf),
    #[error("command not found: `{program}`")]
    CommandNotFound { program: String },
    #[cfg(target_os = "linux")]
    #[error("cannot build the sandbox: {0}")]
    LinuxPlan(codex_linux_sandbox::PlanSandboxError),
    #[cfg(target_os = "linux")]
    #[error("the sandbox failed: {0}")]
    LinuxRun(codex_linux_sandbox::RunSandboxError),
    #[error("cannot build the Seatbelt profile: {0}")]
    SeatbeltPlan(crate::seatbelt::SeatbeltPlanError),
    #[error("failed to prepare the sandbox: {0}")]
    Prepare(#[source] std::io::Error),
    #[error("{what} is only available on {platform}")]
    Unsupported {
        what: &'static str,
        platform: &'static str,
        hint: Option<String>,
    },
}

impl RunCommandError {
    /// What the user can do about it.
    pub fn hint(&self) -> Option<String> {
        match self {
            RunCommandError::EmptyCommand => {
                Some("pass the command after `--`, e.g. `-- ls -l`".into())
            }
            RunCommandError::RelativeCwd(_) => {
                Some("run from (or pass) an existing absolute directory".into())
            }
            // One line, as a shell says it.
            RunCommandError::CommandNotFound { .. } => None,
            #[cfg(target_os = "linux")]
            RunCommandError::LinuxPlan(error) => error.hint(),
            #[cfg(target_os = "linux")]
            RunCommandError::LinuxRun(error) => error.hint(),
            RunCommandError::SeatbeltPlan(error) => error.hint(),
            RunCommandError::Prepare(_) => None,
            RunCommandError::Unsupported { hint, .. } => hint.clone(),
        }
    }

    /// The exit code a command-line front end uses: 127 for a missing command, 126 for one
    /// that cannot be executed, 1 otherwise.
    pub fn exit_code(&self) -> u8 {
        match self {
            RunCommandError::CommandNotFound { .. } => 127,
            #[cfg(target_os = "linux")]
            RunCommandError::LinuxRun(error) => error.exit_code(),
            _ => 1,
        }
    }
}
