//! Linux enforcement of a [`SandboxPolicy`](codex_sandbox_policy::SandboxPolicy).
//!
//! Two backends run a command under the policy:
//! - **bubblewrap** (default): the system `bwrap` builds the filesystem view in fresh user, pid,
//!   ipc and (unless the network is enabled) network namespaces; a seccomp program compiled here is
//!   handed to it as a file descriptor, so our own binary is never re-executed.
//! - **Landlock** (legacy): Landlock rules + the same seccomp program + a full capability drop,
//!   applied in the child between `fork` and `exec`. It refuses policies it cannot express.
//!
//! The flow is [`plan`] (pure apart from reading the filesystem; what `--dry-run` prints) then
//! [`run`] (executes exactly that plan). [`helper_main`] is the `codex-linux-sandbox` command line.
//!
//! Modules:
//! - `request`: the request and plan types.
//! - `error`: [`PlanSandboxError`] and [`RunSandboxError`], each with a `hint()`.
//! - `planner`: [`plan`]: validation shared by both backends, then the backend planner.
//! - `bwrap`: bubblewrap discovery, flags, mount plan (`bwrap::mounts`).
//! - `paths`: symlink resolution and the "crosses writable symlink" checks.
//! - `globs`: expansion of deny globs into concrete paths.
//! - `unix_sockets`: host pathname sockets from `/proc/net/unix`.
//! - `seccomp`: the BPF program (seccompiler + a hand-written prologue).
//! - `landlock`: what the Landlock backend can enforce and the ruleset.
//! - `exclusions`: hiding denied files below readable paths with grant-only rules.
//! - `cgroup`: the pids cgroup of a run (the process limit that binds root; ending the tree).
//! - `capabilities`: dropping every capability (Landlock backend).
//! - `mount_points`: host mount points for missing protected paths (create, lock, remove).
//! - `runner`: [`spawn`] + [`LinuxChild::supervise`] (captured output, timeout, cancellation,
//!   forwarded signals, cleanup, classification) and [`run`] (the helper's exec mode).
//! - `stage`: our binary as the last step inside the sandbox (Landlock second layer, process
//!   limit; the Landlock backend's subreaper): [`stage_main_if_requested`].
//! - `userns`: whether user namespaces are available (for errors and hints).
//! - `helper`: [`helper_main`].
//! - `diagnostics`: what this machine offers the backends (for `codex doctor`).

// Off Linux only the pure planners are compiled (and unit-tested); nothing calls them there.
#![cfg_attr(
    not(target_os = "linux"),
    expect(dead_code, reason = "the planners are only reachable on Linux")
)]

mod bwrap;
mod diagnostics;
mod error;
mod globs;
mod helper;
mod paths;
mod planner;
mod request;
#[cfg(target_os = "linux")]
mod stage;
mod unix_sockets;
mod userns;

#[cfg(target_os = "linux")]
mod capabilities;
#[cfg(target_os = "linux")]
mod cgroup;
#[cfg(target_os = "linux")]
mod exclusions;
#[cfg(target_os = "linux")]
mod landlock;
#[cfg(target_os = "linux")]
mod mount_points;
#[cfg(target_os = "linux")]
mod runner;
#[cfg(target_os = "linux")]
mod seccomp;

pub use diagnostics::BubblewrapDiscovery;
pub use diagnostics::BubblewrapTrust;
pub use diagnostics::FoundBubblewrap;
pub use diagnostics::RefusedBubblewrap;
pub use diagnostics::USER_NAMESPACE_HINT;
pub use diagnostics::UserNamespaceReport;
pub use diagnostics::discover_bubblewrap;
#[cfg(target_os = "linux")]
pub use diagnostics::landlock_abi;
#[cfg(target_os = "linux")]
pub use diagnostics::seccomp_available;
pub use diagnostics::user_namespaces;
pub use error::PathRole;
pub use error::PlanSandboxError;
pub use error::RunSandboxError;
pub use helper::helper_main;
pub use planner::plan;
pub use request::LinuxBackend;
pub use request::LinuxEnforcement;
pub use request::LinuxOptions;
pub use request::LinuxPlan;
pub use request::ProcessLimit;
pub use request::RunMode;
pub use request::SandboxRequest;
#[cfg(target_os = "linux")]
pub use stage::stage_main_if_requested;

#[cfg(target_os = "linux")]
pub use codex_sandbox_process::{CancelHandle, Captured, Ending, SignalForwarder, Stdio};
/// Execute `plan` exactly; see [`runner`](crate) docs in `runner.rs`.
#[cfg(target_os = "linux")]
pub use runner::run;
#[cfg(target_os = "linux")]
pub use runner::{LinuxChild, LinuxOutcome, spawn};

/// On other platforms there is nothing to run.
#[cfg(not(target_os = "linux"))]
pub fn run(_plan: LinuxPlan) -> Result<std::process::ExitStatus, RunSandboxError> {
    Err(RunSandboxError::UnsupportedPlatform)
}
