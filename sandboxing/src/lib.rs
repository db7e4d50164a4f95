//! The one entry point "run this command under this policy", for `codex sandbox` and every tool
//! call of the agent: [`plan`] / [`spawn`] / [`run`] a [`CommandRequest`] with the backend chosen
//! by [`SandboxSettings`] (bubblewrap or Landlock on Linux, Seatbelt on macOS), inherited or
//! captured output, a timeout and cancellation ([`CancelHandle`]), and a [`CommandOutcome`] that
//! says how it ended and how strongly it was sandboxed ([`EnforcementReport`]).
//!
//! - `command`: the entry point.
//! - `settings`: the backend and its settings, from the configuration.
//! - `enforcement`: what a run applies.
//! - `error`: [`RunCommandError`], with hints and front-end exit codes.
//! - `seatbelt`: the macOS `sandbox-exec` plan (pure, tested everywhere), denial logs, the runner.
//!
//! The policy types come from `codex-sandbox-policy` and are re-exported here.

mod command;
mod enforcement;
mod error;
pub mod seatbelt;
mod settings;

pub use command::CancelHandle;
pub use command::Captured;
pub use command::CommandOutcome;
pub use command::CommandRequest;
pub use command::Ending;
pub use command::RunningCommand;
pub use command::SandboxPlan;
#[cfg(target_os = "linux")]
pub use command::SignalForwarder;
pub use command::StdioPolicy;
pub use command::plan;
pub use command::run;
pub use command::spawn;
pub use enforcement::EnforcementReport;
pub use enforcement::ProcessLimitMechanism;
pub use error::RunCommandError;
pub use settings::SandboxBackend;
pub use settings::SandboxSettings;

pub use codex_sandbox_policy::Access;
pub use codex_sandbox_policy::DenyGlob;
pub use codex_sandbox_policy::Enforcement;
pub use codex_sandbox_policy::NetworkAccess;
pub use codex_sandbox_policy::PROTECTED_METADATA_NAMES;
pub use codex_sandbox_policy::PathRole;
pub use codex_sandbox_policy::PathRule;
pub use codex_sandbox_policy::ProtectedKind;
pub use codex_sandbox_policy::ProtectedPath;
pub use codex_sandbox_policy::SandboxPolicy;
pub use codex_sandbox_policy::WritableRoot;
pub use codex_sandbox_policy::env_names;
pub use codex_sandbox_policy::normalize;
pub use codex_sandbox_policy::protected_paths;
pub use codex_sandbox_policy::writable_root;
