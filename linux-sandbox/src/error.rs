//! Errors of [`plan`](crate::plan) and [`run`](crate::run). Each has a `hint()` telling the user
//! what to do next. None of them ever holds environment values (which may be secrets).

use std::io;
use std::path::PathBuf;

use crate::userns;

const INSTALL_BWRAP: &str = "install bubblewrap with your package manager, e.g. `apt-get install bubblewrap` or `dnf install bubblewrap`";
const LEGACY_HINT: &str =
    "or opt into the legacy Landlock backend with `-c use_legacy_landlock=true`";

/// How a path is enforced (in [`PlanSandboxError::CrossesWritableSymlink`]).
pub use codex_sandbox_policy::PathRole;

/// Building a [`LinuxPlan`](crate::LinuxPlan) failed: nothing was started.
#[derive(Debug, thiserror::Error)]
pub enum PlanSandboxError {
    #[error("sandbox command must not be empty")]
    EmptyCommand,
    #[error("the working directory `{}` is not an absolute path", .0.display())]
    RelativeCwd(PathBuf),
    #[error("cannot use the working directory `{}`: {source}", path.display())]
    Cwd { path: PathBuf, source: io::Error },
    #[error("the working directory `{}` is not readable under the sandbox policy", .0.display())]
    CwdNotReadable(PathBuf),
    #[error("bubblewrap (`bwrap`) was not found on PATH or at `/usr/bin/bwrap`")]
    BubblewrapNotFound,
    #[error("refusing to run bubblewrap at `{}`: {reason}", path.display())]
    BubblewrapNotTrusted { path: PathBuf, reason: String },
    #[error("bubblewrap at `{}` is too old: it lacks `{flag}`", path.display())]
    BubblewrapTooOld { path: PathBuf, flag: &'static str },
    #[error("cannot inspect bubblewrap at `{}`: {reason}", path.display())]
    BubblewrapUnusable { path: PathBuf, reason: String },
    #[error("user namespaces are unavailable: {reason}")]
    UserNamespacesUnavailable { reason: String },
    /// One of the bubblewrap errors above, with whether the legacy Landlock backend could run
    /// the same policy on this machine (so the hint only offers what would work).
    #[error("{cause}")]
    BubblewrapUnavailable {
        cause: Box<PlanSandboxError>,
        /// `Err`: why the Landlock backend would refuse this policy here.
        legacy: Result<(), String>,
    },
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
    #[error("cannot inspect `{}` while building the sandbox: {source}", path.display())]
    Inspect { path: PathBuf, source: io::Error },
    #[error(
        "cannot hide `{}`: the file has {links} hard links, and the others would stay readable under their own names",
        path.display()
    )]
    HardLinkedDenial { path: PathBuf, links: u64 },
    #[error("invalid deny glob `{pattern}`: {reason}")]
    InvalidDenyGlob { pattern: String, reason: String },
    #[error("deny glob `{pattern}` cannot be expanded: {reason}")]
    DenyGlobScan { pattern: String, reason: String },
    #[error("cannot list the host's unix sockets from `/proc/net/unix`: {source}")]
    UnixSocketList { source: io::Error },
    #[error("cannot build the seccomp filter: {reason}")]
    Seccomp { reason: String },
    #[error("Landlock is unavailable: {reason}")]
    LandlockUnavailable { reason: String },
    #[error(
        "Landlock is unavailable on this kernel, so it cannot be applied inside bubblewrap as the second layer"
    )]
    LandlockLayerUnavailable,
    #[error("the legacy Landlock backend cannot enforce this policy: {reason}")]
    LandlockCannotEnforce { reason: String },
    #[error(
        "no process limit can hold: codex runs as root, which `RLIMIT_NPROC` does not bind, and no pids cgroup can be created here (`linux_sandbox.require_process_limit = true`)"
    )]
    ProcessLimitUnavailable,
    #[error("the Linux sandbox is only available on Linux")]
    UnsupportedPlatform,
}

impl PlanSandboxError {
    /// What the user can do about it.
    pub fn hint(&self) -> Option<String> {
        match self {
            PlanSandboxError::EmptyCommand => {
                Some("pass the command after `--`, e.g. `-- ls -l`".to_string())
            }
            PlanSandboxError::RelativeCwd(_) | PlanSandboxError::Cwd { .. } => {
                Some("run from (or pass) an existing absolute directory".to_string())
            }
            PlanSandboxError::CwdNotReadable(_) => Some(
                "grant read access to the working directory in the permission profile".to_string(),
            ),
            PlanSandboxError::BubblewrapNotFound => Some(INSTALL_BWRAP.to_string()),
            PlanSandboxError::BubblewrapNotTrusted { .. } => Some(format!(
                "bubblewrap runs outside the sandbox, so only a root-owned copy is used; {INSTALL_BWRAP}, or name a binary you trust with `linux_sandbox.bwrap_path` in `$CODEX_HOME/config.toml`"
            )),
            PlanSandboxError::BubblewrapTooOld { .. } => {
                Some("install bubblewrap 0.8.0 or newer".to_string())
            }
            PlanSandboxError::BubblewrapUnusable { .. } => {
                Some(format!("reinstall bubblewrap ({INSTALL_BWRAP})"))
            }
            PlanSandboxError::UserNamespacesUnavailable { .. } => Some(userns::ENABLE_HINT.to_string()),
            PlanSandboxError::BubblewrapUnavailable { cause, legacy } => {
                let fix = cause.hint().unwrap_or_default();
                Some(match legacy {
                    Ok(()) => format!("{fix}, {LEGACY_HINT}"),
                    Err(reason) => format!(
                        "{fix}; the legacy Landlock backend (`-c use_legacy_landlock=true`) cannot run this profile here either ({reason}); a read-only profile (`-P :read-only`) would run with it"
                    ),
                })
            }
            PlanSandboxError::CrossesWritableSymlink { symlink, .. } => Some(format!(
                "a command could re-point `{}` during the run; name the real path in the profile or remove the symlink",
                symlink.display()
            )),
            PlanSandboxError::Inspect { .. } => None,
            PlanSandboxError::HardLinkedDenial { path, .. } => Some(format!(
                "remove the other links (`find / -xdev -samefile {}` lists them), or deny the directories that hold them too",
                path.display()
            )),
            PlanSandboxError::InvalidDenyGlob { .. } => {
                Some("fix the pattern in the permission profile".to_string())
            }
            PlanSandboxError::DenyGlobScan { .. } => Some(
                "narrow the pattern or set `glob_scan_max_depth` in the permission profile"
                    .to_string(),
            ),
            PlanSandboxError::UnixSocketList { .. } => Some(
                "`--allow-unix-socket` needs a readable `/proc/net/unix`; drop the option or mount procfs"
                    .to_string(),
            ),
            PlanSandboxError::Seccomp { .. } => None,
            PlanSandboxError::LandlockUnavailable { .. } => Some(
                "use the default bubblewrap backend (drop `use_legacy_landlock`), or boot a kernel with Landlock enabled (`lsm=landlock,…`)"
                    .to_string(),
            ),
            PlanSandboxError::LandlockLayerUnavailable => Some(
                "boot a kernel with Landlock enabled (`lsm=landlock,…`), or run with bubblewrap alone: `-c linux_sandbox.landlock_layer=false`"
                    .to_string(),
            ),
            PlanSandboxError::LandlockCannotEnforce { .. } => Some(
                "use the default bubblewrap backend (drop `use_legacy_landlock`), or relax the permission profile"
                    .to_string(),
            ),
            PlanSandboxError::ProcessLimitUnavailable => Some(
                "run codex as a non-root user (then `RLIMIT_NPROC` holds), give it a writable pids cgroup (cgroup v2 with `pids` delegated, or the v1 `pids` hierarchy), or accept no limit as root with `-c linux_sandbox.require_process_limit=false`"
                    .to_string(),
            ),
            PlanSandboxError::UnsupportedPlatform => None,
        }
    }
}

/// Running a plan failed. The command never ran unsandboxed.
#[derive(Debug, thiserror::Error)]
pub enum RunSandboxError {
    #[error("failed to start `{}`: {source}", program.display())]
    Spawn { program: PathBuf, source: io::Error },
    #[error("failed to prepare the sandbox ({context}): {source}")]
    Prepare {
        context: &'static str,
        source: io::Error,
    },
    #[error("cannot prepare the process-limit cgroup `{}` ({context}): {source}", path.display())]
    Cgroup {
        context: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    #[error("cannot prepare the mount point `{}` for a protected path: {reason}", path.display())]
    MountPoint { path: PathBuf, reason: String },
    #[error(
        "the sandbox failed to start before running the command (bubblewrap exited with status {code})"
    )]
    SetupFailed {
        code: i32,
        diagnosis: Option<String>,
    },
    #[error("command not found: `{program}`")]
    CommandNotFound { program: String },
    #[error("cannot execute `{program}`: {source}")]
    CommandNotExecutable { program: String, source: io::Error },
    #[error("the sandbox stage failed before running the command ({step}): {reason}")]
    StageFailed { step: String, reason: String },
    #[error("failed to wait for the sandboxed command: {source}")]
    Wait { source: io::Error },
    #[error("the Linux sandbox is only available on Linux")]
    UnsupportedPlatform,
}

impl RunSandboxError {
    /// What the user can do about it.
    pub fn hint(&self) -> Option<String> {
        match self {
            RunSandboxError::Spawn { .. } => Some(format!("{INSTALL_BWRAP}, {LEGACY_HINT}")),
            RunSandboxError::SetupFailed { diagnosis, .. } => Some(match diagnosis {
                Some(reason) => format!("{reason}; {}", userns::ENABLE_HINT),
                None => format!(
                    "see bubblewrap's message above; if it mentions namespaces: {}",
                    userns::ENABLE_HINT
                ),
            }),
            RunSandboxError::CommandNotFound { .. } => {
                Some("check the spelling and that the command is on PATH".to_string())
            }
            RunSandboxError::StageFailed { step, .. } if step.contains("Landlock") => Some(
                "boot a kernel with Landlock enabled, or run bubblewrap alone with `-c linux_sandbox.landlock_layer=false`"
                    .to_string(),
            ),
            RunSandboxError::StageFailed { .. } => None,
            RunSandboxError::MountPoint { .. } => Some(
                "another process changed the directory while the sandbox was being prepared; retry"
                    .to_string(),
            ),
            RunSandboxError::Cgroup { .. } => Some(
                "the cgroup seemed writable when the sandbox was planned; retry, or run without a process limit: `-c linux_sandbox.max_processes=0`"
                    .to_string(),
            ),
            RunSandboxError::Prepare { .. }
            | RunSandboxError::CommandNotExecutable { .. }
            | RunSandboxError::Wait { .. }
            | RunSandboxError::UnsupportedPlatform => None,
        }
    }

    /// The exit code a command-line front end should use: 127 for a missing command, 126 for one
    /// that cannot be executed, 1 otherwise.
    pub fn exit_code(&self) -> u8 {
        match self {
            RunSandboxError::CommandNotFound { .. } => 127,
            RunSandboxError::CommandNotExecutable { .. } => 126,
            _ => 1,
        }
    }
}
