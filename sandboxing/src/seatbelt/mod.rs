//! macOS Seatbelt: the `sandbox-exec` invocation and denial-log parsing.
//!
//! Everything here except `run` (macOS only) is plain Rust, compiled and tested on every
//! platform, so `codex sandbox macos --dry-run` works anywhere.
//!
//! - [`plan`]: policy + command → the exact `/usr/bin/sandbox-exec` argv and environment.
//! - `profile` / `rules` / `glob` / `canonical`: how the profile text is built (see `profile`
//!   for the section order, `rules` for how "most specific rule wins" is expressed).
//! - [`DenialCollector`]: parsing `log stream --style ndjson` lines for `--log-denials`.
//! - `macos`: spawning, `log stream` and process-tree tracking (macOS only).

mod canonical;
mod denials;
mod glob;
#[cfg(target_os = "macos")]
mod macos;
mod profile;
mod rules;

#[cfg(test)]
mod golden_tests;
#[cfg(test)]
mod property_tests;
#[cfg(test)]
mod test_support;

use std::ffi::OsString;
use std::path::PathBuf;

use thiserror::Error;

use crate::policy::SandboxPolicy;

use canonical::{Canonicalize, FileSystem};

pub use denials::{
    DenialCollector, LOG_STREAM_PREDICATE, SandboxDenial, is_log_stream_ready_line,
    parse_denial_line,
};
#[cfg(target_os = "macos")]
pub use macos::run;

/// The only program ever used to apply Seatbelt. Never looked up on `PATH`: whoever can replace
/// `/usr/bin` already has root.
pub const SANDBOX_EXEC_PATH: &str = "/usr/bin/sandbox-exec";

/// Inputs that do not come from the policy.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SeatbeltOptions {
    /// `--allow-unix-socket` paths (absolute), added to the policy's own unix sockets.
    pub extra_unix_sockets: Vec<PathBuf>,
    /// `confstr(_CS_DARWIN_USER_CACHE_DIR)`: pass [`darwin_user_cache_dir`]`()`.
    pub darwin_user_cache_dir: Option<PathBuf>,
}

/// The complete `sandbox-exec` invocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeatbeltPlan {
    /// Always [`SANDBOX_EXEC_PATH`].
    pub program: PathBuf,
    /// The exact argv: `[/usr/bin/sandbox-exec, -p, <profile>, -D<KEY>=<value>…, --, command…]`.
    pub argv: Vec<OsString>,
    /// Variables to set in the child's environment (`CODEX_SANDBOX=seatbelt`, and
    /// `CODEX_SANDBOX_NETWORK_DISABLED=1` when the network is restricted).
    pub env_changes: Vec<(String, String)>,
}

impl SeatbeltPlan {
    /// The profile text passed with `-p`.
    pub fn profile(&self) -> Option<&str> {
        self.argv.get(2).and_then(|profile| profile.to_str())
    }
}

/// Why a policy could not be turned into a Seatbelt invocation.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum SeatbeltPlanError {
    #[error("sandbox command must not be empty")]
    EmptyCommand,
    #[error("Seatbelt needs absolute paths, but the policy contains `{}`", path.display())]
    RelativePath { path: PathBuf },
    #[error("deny glob `{pattern}` must be an absolute pattern (start with `/`)")]
    RelativeDenyGlob { pattern: String },
    #[error(
        "write rule `{}` has no writable-root entry, so its protected paths are unknown; this is a bug in the policy builder",
        path.display()
    )]
    WriteRuleWithoutWritableRoot { path: PathBuf },
    #[error(
        "writable root `{}` has no matching write rule in the policy; this is a bug in the policy builder",
        path.display()
    )]
    WritableRootWithoutWriteRule { path: PathBuf },
    #[error(
        "the directory part of deny glob `{pattern}` resolves to a path that is not valid UTF-8"
    )]
    NonUtf8GlobPrefix { pattern: String },
}

/// The per-user cache directory (`confstr(_CS_DARWIN_USER_CACHE_DIR)`, under `/var/folders`) on
/// macOS; `None` on every other OS, where the plan is only ever printed.
pub fn darwin_user_cache_dir() -> Option<PathBuf> {
    #[cfg(target_os = "macos")]
    {
        macos::darwin_user_cache_dir()
    }
    #[cfg(not(target_os = "macos"))]
    {
        None
    }
}

/// Build the `sandbox-exec` invocation that runs `command` under `policy`. Paths are
/// canonicalised against the real file system (where they exist).
pub fn plan(
    policy: &SandboxPolicy,
    command: &[OsString],
    options: &SeatbeltOptions,
) -> Result<SeatbeltPlan, SeatbeltPlanError> {
    plan_with(policy, command, options, &FileSystem)
}

pub(crate) fn plan_with(
    policy: &SandboxPolicy,
    command: &[OsString],
    options: &SeatbeltOptions,
    canonicalizer: &dyn Canonicalize,
) -> Result<SeatbeltPlan, SeatbeltPlanError> {
    if command.is_empty() {
        return Err(SeatbeltPlanError::EmptyCommand);
    }
    let profile = profile::render(policy, options, canonicalizer)?;
    let mut argv: Vec<OsString> = Vec::with_capacity(4 + profile.parameters.len() + command.len());
    argv.push(OsString::from(SANDBOX_EXEC_PATH));
    argv.push(OsString::from("-p"));
    argv.push(OsString::from(profile.text));
    for (name, value) in profile.parameters {
        let mut definition = OsString::from(format!("-D{name}="));
        definition.push(value.as_os_str());
        argv.push(definition);
    }
    argv.push(OsString::from("--"));
    argv.extend(command.iter().cloned());

    let mut env_changes = vec![("CODEX_SANDBOX".to_string(), "seatbelt".to_string())];
    if policy.network_restricted() {
        env_changes.push((
            "CODEX_SANDBOX_NETWORK_DISABLED".to_string(),
            "1".to_string(),
        ));
    }
    Ok(SeatbeltPlan {
        program: PathBuf::from(SANDBOX_EXEC_PATH),
        argv,
        env_changes,
    })
}
