//! The request (what to run, under which policy) and the plan (exactly what will be executed).

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use codex_sandbox_policy::SandboxPolicy;

/// Which Linux mechanism enforces the policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinuxBackend {
    /// The system `bwrap` (namespaces + mounts) with a seccomp program. The default.
    Bubblewrap,
    /// Landlock + seccomp + capability drop, no namespaces (`use_legacy_landlock`).
    Landlock,
}

/// What [`run`](crate::run) may do with the calling process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RunMode {
    /// Start the sandbox as a child, forward signals to it, wait, clean up, and return the
    /// command's status. For callers that go on after the command.
    #[default]
    SpawnAndWait,
    /// When the plan needs no host-side bookkeeping (no mount points to remove, no diagnosis that
    /// only a waiting parent could make), replace the calling process with `bwrap`: `run()` then
    /// returns only on error. For command-line front ends that exit with the command's status.
    /// Signals then reach `bwrap` directly (see the crate README).
    ExecWhenPossible,
}

/// Settings of the Linux backends (from `[linux_sandbox]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinuxOptions {
    /// An explicit bubblewrap (`linux_sandbox.bwrap_path`); otherwise a root-owned one is found.
    pub bwrap_path: Option<PathBuf>,
    /// The most processes and threads the command may have at once (`None`: no limit).
    pub max_processes: Option<u64>,
    /// Apply Landlock inside bubblewrap as a second layer.
    pub landlock_layer: bool,
    /// Refuse to run when `max_processes` is set but nothing can hold it: codex runs as root
    /// (exempt from `RLIMIT_NPROC`) and no pids cgroup can be created.
    pub require_process_limit: bool,
    /// The program that runs as the sandbox stage (see `stage`): the running binary by default
    /// (`/proc/self/exe`, whose `main` calls `stage_main_if_requested`). Tests that run the
    /// library from a test harness name the `codex-linux-sandbox` binary here.
    pub stage_executable: Option<PathBuf>,
}

impl Default for LinuxOptions {
    fn default() -> Self {
        LinuxOptions {
            bwrap_path: None,
            max_processes: Some(4096),
            landlock_layer: true,
            require_process_limit: false,
            stage_executable: None,
        }
    }
}

/// Everything [`plan`](crate::plan) needs.
#[derive(Debug, Clone, Copy)]
pub struct SandboxRequest<'a> {
    pub policy: &'a SandboxPolicy,
    /// The command's argv; must not be empty. `argv[0]` is looked up on the child's `PATH`.
    pub command: &'a [OsString],
    /// The command's working directory (absolute).
    pub cwd: &'a Path,
    /// The complete child environment (already built from `shell_environment_policy`).
    pub env: &'a [(OsString, OsString)],
    pub backend: LinuxBackend,
    pub run_mode: RunMode,
    pub options: &'a LinuxOptions,
}

/// File descriptor numbers that appear in a bubblewrap argv; `run()` places the real descriptors
/// at exactly these numbers in the `bwrap` process.
pub(crate) const SECCOMP_FD: i32 = 3;
pub(crate) const STATUS_FD: i32 = 4;
/// The stage executable inside bubblewrap (executed as `/proc/self/fd/5`).
pub(crate) const STAGE_EXE_FD: i32 = 5;
/// Where the stage reports a failure (spawn mode).
pub(crate) const STAGE_STATUS_FD: i32 = 6;
/// The supervisor's lifeline inside bubblewrap (spawn mode).
pub(crate) const LIFELINE_FD: i32 = 7;
/// `cgroup.procs` of the run's pids cgroup, and of its v1 freezer cgroup: the stage writes its
/// own pid there before it executes the command.
pub(crate) const CGROUP_FD: i32 = 8;
pub(crate) const FREEZER_FD: i32 = 9;

/// How strongly a plan enforces its policy: what running it applies, for callers that report it
/// (modelled on rust-landlock's `RestrictionStatus`: a value, not a log line).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LinuxEnforcement {
    /// `"bubblewrap"` or `"landlock"`.
    pub backend: &'static str,
    /// New user, pid, ipc and UTS namespaces and a private mount view (bubblewrap).
    pub namespaces: bool,
    /// A private network namespace (network restricted under bubblewrap).
    pub network_namespace: bool,
    pub seccomp: bool,
    /// Landlock applied with this ABI (the second layer under bubblewrap, or the backend).
    pub landlock_abi: Option<i32>,
    /// Landlock's signal and abstract-socket scoping (ABI >= 6).
    pub landlock_scoped: bool,
    pub max_processes: Option<u64>,
    /// How `max_processes` holds.
    pub process_limit: ProcessLimit,
    /// `:danger-full-access`: only the credential masks.
    pub full_access: bool,
}

/// How the process limit of a run holds (what `--dry-run` and the enforcement report say).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ProcessLimit {
    /// A pids cgroup of its own per run (`pids.max` = the limit), created below `parent` (a
    /// cgroup v2 directory); it also ends the whole tree when the run ends (`cgroup.kill`, or
    /// freeze then kill).
    CgroupV2 { parent: PathBuf },
    /// The same in the cgroup v1 `pids` hierarchy (`parent`), with a v1 freezer cgroup below
    /// `freezer` when that hierarchy is mounted.
    CgroupV1 {
        parent: PathBuf,
        freezer: Option<PathBuf>,
    },
    /// Only `RLIMIT_NPROC` (it binds a non-root user, per user id; root is exempt).
    Rlimit,
    /// No limit: none configured, or codex runs as root with no usable pids cgroup (and
    /// `require_process_limit` is off).
    #[default]
    None,
}

impl ProcessLimit {
    /// `"cgroup-v2"`, `"cgroup-v1"`, `"rlimit"` or `"none"`.
    pub fn kind(&self) -> &'static str {
        match self {
            ProcessLimit::CgroupV2 { .. } => "cgroup-v2",
            ProcessLimit::CgroupV1 { .. } => "cgroup-v1",
            ProcessLimit::Rlimit => "rlimit",
            ProcessLimit::None => "none",
        }
    }

    /// The same without the v1 freezer twin (for plans whose pid namespace ends the tree).
    pub(crate) fn without_freezer(self) -> ProcessLimit {
        match self {
            ProcessLimit::CgroupV1 { parent, .. } => ProcessLimit::CgroupV1 {
                parent,
                freezer: None,
            },
            other => other,
        }
    }

    /// The directory the run's cgroup is created in, when there is one.
    pub fn cgroup_parent(&self) -> Option<&Path> {
        match self {
            ProcessLimit::CgroupV2 { parent } | ProcessLimit::CgroupV1 { parent, .. } => {
                Some(parent)
            }
            ProcessLimit::Rlimit | ProcessLimit::None => None,
        }
    }
}

/// The exact program, argv and environment changes [`run`](crate::run) will execute.
pub struct LinuxPlan {
    /// The program that is executed (`bwrap`, or the command itself for Landlock).
    pub program: PathBuf,
    /// The exact argv, including `argv[0]`.
    pub argv: Vec<OsString>,
    /// Only the variables the sandbox adds or changes (e.g. `CODEX_SANDBOX_NETWORK_DISABLED=1`).
    pub env_changes: Vec<(String, String)>,
    pub enforcement: LinuxEnforcement,
    /// Working directory for the spawned program.
    pub(crate) cwd: PathBuf,
    /// The environment of the spawned program.
    pub(crate) env: Vec<(OsString, OsString)>,
    pub(crate) details: PlanDetails,
}

impl LinuxPlan {
    /// `"bubblewrap"` or `"landlock"`.
    pub fn backend_name(&self) -> &'static str {
        match self.details {
            PlanDetails::Bubblewrap(_) => "bubblewrap",
            PlanDetails::Landlock(_) => "landlock",
        }
    }

    /// Whether [`run`](crate::run) replaces the calling process with `program` (it then returns
    /// only on error) instead of spawning it and waiting.
    pub fn replaces_process(&self) -> bool {
        matches!(
            &self.details,
            PlanDetails::Bubblewrap(details) if details.launch == BubblewrapLaunch::Exec
        )
    }
}

/// Environment values may be secrets: only names are shown.
impl std::fmt::Debug for LinuxPlan {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let env_names: Vec<_> = self.env.iter().map(|(name, _)| name).collect();
        formatter
            .debug_struct("LinuxPlan")
            .field("backend", &self.backend_name())
            .field("program", &self.program)
            .field("argv", &self.argv)
            .field("env_changes", &self.env_changes)
            .field("cwd", &self.cwd)
            .field("env_names", &env_names)
            .field("replaces_process", &self.replaces_process())
            .finish_non_exhaustive()
    }
}

/// Backend-specific parts `run()` needs beyond program/argv/env.
pub(crate) enum PlanDetails {
    Bubblewrap(BubblewrapDetails),
    Landlock(LandlockDetails),
}

/// How `run()` starts `bwrap` (decided by the planner: the argv differs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BubblewrapLaunch {
    /// `execve` in the calling process: no `--json-status-fd`, nothing to clean up afterwards.
    Exec,
    /// Spawn, forward signals, read `--json-status-fd`, wait, remove mount points, classify.
    Spawn,
}

pub(crate) struct BubblewrapDetails {
    pub launch: BubblewrapLaunch,
    /// Opened and placed on [`STAGE_EXE_FD`] for bwrap to execute.
    pub stage_executable: PathBuf,
    /// The compiled seccomp program (native `sock_filter` layout) fed to `--seccomp 3`.
    pub seccomp: Option<Vec<u8>>,
    /// Host directories to create (and remove afterwards) as mount points for missing protected
    /// paths; see `mount_points.rs`.
    pub mount_points: Vec<PathBuf>,
    /// The pids cgroup to create for the run (`CgroupV1`/`CgroupV2`), else nothing to create.
    pub process_limit: ProcessLimit,
    pub max_processes: Option<u64>,
    /// `argv[0]` of the user command and the child's `PATH`, to explain an exec failure.
    pub command: OsString,
    pub command_path: Option<OsString>,
}

/// What the Landlock backend enforces (decided at plan time, applied in the child).
#[derive(Debug, Clone, Default)]
pub(crate) struct LandlockDetails {
    /// `None` = no Landlock ruleset at all (full access without deny rules).
    pub ruleset: Option<LandlockRuleset>,
    pub seccomp: Option<Vec<u8>>,
    /// `argv[0]` of the user command (to explain a failure to start it).
    pub command: OsString,
    /// As in [`BubblewrapDetails`].
    pub process_limit: ProcessLimit,
    pub max_processes: Option<u64>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct LandlockRuleset {
    /// The kernel's Landlock ABI version (>= 1).
    pub abi: i32,
    /// Full read access beneath these.
    pub readable: Vec<PathBuf>,
    /// Directory listing only (readable roots with denied files below them).
    pub listable: Vec<PathBuf>,
    pub writable: Vec<PathBuf>,
    /// Device files that may be opened read-write (e.g. `/dev/null`).
    pub devices: Vec<PathBuf>,
    /// Handle TCP bind/connect with no allowed port (ABI >= 4).
    pub restrict_tcp: bool,
    /// Scope signals and abstract unix sockets to the sandbox (ABI >= 6).
    pub scope: bool,
    /// Handle connecting to pathname unix sockets, allowed only beneath these (ABI >= 9).
    pub allowed_unix_sockets: Option<Vec<PathBuf>>,
}
