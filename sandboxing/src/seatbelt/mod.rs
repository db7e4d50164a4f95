//! macOS Seatbelt: the `sandbox-exec` invocation and denial-log parsing.
//!
//! Everything here except `run` (macOS only) is plain Rust, compiled and tested on every
//! platform, so `codex sandbox macos --dry-run` works anywhere.
//!
//! - [`plan`]: policy + command + environment + working directory → the exact
//!   `/usr/bin/sandbox-exec` argv, the child's complete environment and its working directory.
//! - `profile` / `rules` / `glob` / `canonical`: how the profile text is built (see `profile`
//!   for the section order, `rules` for how "most specific rule wins" is expressed).
//! - `environment`: the command's complete environment (caller's list + the sandbox's variables).
//! - `symlinks`: refusing paths that cross a symbolic link the command could re-point.
//! - `rename_guards` / `nested_metadata`: the deny rules that keep path-based carve-outs from
//!   being escaped by renaming a directory above them, or by creating `.codex` / `.agents`
//!   deeper in a writable root.
//! - [`DenialCollector`]: parsing `log stream --style ndjson` lines for `--log-denials`.
//! - `macos`: spawning, `log stream` and process-tree tracking (macOS only).

mod canonical;
mod denials;
mod environment;
mod glob;
#[cfg(target_os = "macos")]
mod macos;
mod nested_metadata;
mod profile;
mod rename_guards;
mod rules;
mod symlinks;

#[cfg(test)]
mod golden_tests;
#[cfg(test)]
mod property_tests;
#[cfg(test)]
mod regex_matcher;
#[cfg(test)]
mod sbpl_evaluator;
#[cfg(test)]
mod security_tests;
#[cfg(test)]
mod test_support;

use std::ffi::OsString;
use std::path::PathBuf;

use thiserror::Error;

use codex_sandbox_policy::{SandboxPolicy, env_names};

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
///
/// `Debug` shows only the names of `env`: values may be secrets.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SeatbeltOptions {
    /// `--allow-unix-socket` paths (absolute), added to the policy's own unix sockets.
    pub extra_unix_sockets: Vec<PathBuf>,
    /// `confstr(_CS_DARWIN_USER_CACHE_DIR)`: pass [`darwin_user_cache_dir`]`()`.
    pub darwin_user_cache_dir: Option<PathBuf>,
    /// The complete environment of the command, built by the caller (from
    /// `shell_environment_policy`). The process that runs the plan passes on nothing of its
    /// own environment beyond this.
    pub env: Vec<(OsString, OsString)>,
    /// The command's working directory (absolute).
    pub cwd: PathBuf,
}

impl std::fmt::Debug for SeatbeltOptions {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("SeatbeltOptions")
            .field("extra_unix_sockets", &self.extra_unix_sockets)
            .field("darwin_user_cache_dir", &self.darwin_user_cache_dir)
            .field("env_names", &environment::names(&self.env))
            .field("cwd", &self.cwd)
            .finish()
    }
}

/// The complete `sandbox-exec` invocation.
///
/// `Debug` shows only the names of `env`: values may be secrets.
#[derive(Clone, PartialEq, Eq)]
pub struct SeatbeltPlan {
    /// Always [`SANDBOX_EXEC_PATH`].
    pub program: PathBuf,
    /// The exact argv: `[/usr/bin/sandbox-exec, -p, <profile>, -D<KEY>=<value>…, --, command…]`.
    pub argv: Vec<OsString>,
    /// Only the variables the sandbox adds or overrides (`CODEX_SANDBOX=seatbelt`, and
    /// `CODEX_SANDBOX_NETWORK_DISABLED=1` when the network is restricted); what `--dry-run`
    /// prints.
    pub env_changes: Vec<(String, String)>,
    /// The complete environment of `sandbox-exec` (and so of the command): the caller's
    /// [`SeatbeltOptions::env`] with `env_changes` applied, one entry per name. The runner
    /// clears its own environment and sets exactly this.
    pub env: Vec<(OsString, OsString)>,
    /// The working directory `sandbox-exec` (and so the command) starts in.
    pub cwd: PathBuf,
}

impl SeatbeltPlan {
    /// The profile text passed with `-p`.
    pub fn profile(&self) -> Option<&str> {
        self.argv.get(2).and_then(|profile| profile.to_str())
    }
}

impl std::fmt::Debug for SeatbeltPlan {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("SeatbeltPlan")
            .field("program", &self.program)
            .field("argv", &self.argv)
            .field("env_changes", &self.env_changes)
            .field("env_names", &environment::names(&self.env))
            .field("cwd", &self.cwd)
            .finish()
    }
}

/// Why a policy could not be turned into a Seatbelt invocation.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum SeatbeltPlanError {
    #[error("sandbox command must not be empty")]
    EmptyCommand,
    #[error("Seatbelt needs absolute paths, but the policy contains `{}`", path.display())]
    RelativePath { path: PathBuf },
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
    #[error(
        "writable path `{}` is not valid UTF-8, so its protected metadata cannot be matched",
        path.display()
    )]
    NonUtf8WritablePath { path: PathBuf },
    #[error("the working directory `{}` is not an absolute path", path.display())]
    RelativeCwd { path: PathBuf },
    #[error("environment variable name `{name}` is empty or contains `=` or a NUL byte")]
    InvalidEnvironmentName { name: String },
    #[error("the value of environment variable `{name}` contains a NUL byte")]
    InvalidEnvironmentValue { name: String },
    #[error("sandbox path `{}` contains a NUL byte", path.display())]
    NulInPath { path: PathBuf },
    #[error(
        "cannot enforce sandbox {role} path {} because it crosses writable symlink {}",
        path.display(),
        symlink.display()
    )]
    CrossesWritableSymlink {
        role: PathRole,
        path: PathBuf,
        symlink: PathBuf,
    },
    #[error(
        "the per-user cache directory `{}` resolves through symlink `{}`; refusing to make its target writable",
        path.display(),
        symlink.display()
    )]
    SymlinkedCacheDir { path: PathBuf, symlink: PathBuf },
    #[error("too many levels of symbolic links while resolving sandbox path `{}`", path.display())]
    SymlinkLoop { path: PathBuf },
    #[error(
        "cannot inspect `{}` while checking sandbox path `{}` for symlinks: {reason}",
        component.display(),
        path.display()
    )]
    InspectSymlink {
        path: PathBuf,
        component: PathBuf,
        reason: String,
    },
}

impl SeatbeltPlanError {
    /// What the user can do about the error, when there is something.
    pub fn hint(&self) -> Option<String> {
        match self {
            SeatbeltPlanError::CrossesWritableSymlink { symlink, .. } => Some(format!(
                "the sandboxed command could re-point `{}` between runs; replace the symlink \
                 with a real directory, or configure the resolved path instead",
                symlink.display()
            )),
            SeatbeltPlanError::SymlinkedCacheDir { symlink, .. } => Some(format!(
                "remove the symlink `{}` (macOS recreates the cache directory), or run with the \
                 network restricted",
                symlink.display()
            )),
            _ => None,
        }
    }
}

/// How a path is enforced (in [`SeatbeltPlanError::CrossesWritableSymlink`]).
pub use crate::PathRole;

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
    if !options.cwd.is_absolute() {
        return Err(SeatbeltPlanError::RelativeCwd {
            path: options.cwd.clone(),
        });
    }
    let profile = profile::render(policy, options, canonicalizer)?;
    let mut argv: Vec<OsString> = Vec::with_capacity(4 + profile.parameters.len() + command.len());
    argv.push(OsString::from(SANDBOX_EXEC_PATH));
    argv.push(OsString::from("-p"));
    argv.push(OsString::from(profile.text));
    for (name, value) in profile.parameters {
        // One argv element per definition: `sandbox-exec` splits it at the first `=`, and the
        // names never contain one, so `=` or a newline in the path stays part of the value.
        // A NUL byte cannot be passed at all.
        if value.as_os_str().as_encoded_bytes().contains(&0) {
            return Err(SeatbeltPlanError::NulInPath { path: value });
        }
        let mut definition = OsString::from(format!("-D{name}="));
        definition.push(value.as_os_str());
        argv.push(definition);
    }
    argv.push(OsString::from("--"));
    argv.extend(command.iter().cloned());

    let mut env_changes = vec![(env_names::CODEX_SANDBOX.to_string(), "seatbelt".to_string())];
    if policy.network_restricted() {
        env_changes.push((
            env_names::CODEX_SANDBOX_NETWORK_DISABLED.to_string(),
            "1".to_string(),
        ));
    }
    let env = environment::complete(&options.env, &env_changes)?;
    Ok(SeatbeltPlan {
        program: PathBuf::from(SANDBOX_EXEC_PATH),
        argv,
        env_changes,
        env,
        cwd: codex_sandbox_policy::normalize(&options.cwd),
    })
}
