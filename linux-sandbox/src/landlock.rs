//! The legacy Landlock backend: what it can enforce (decided at plan time from the kernel's ABI)
//! and the ruleset (built in the parent, applied in the child by `runner`).
//!
//! Landlock only grants access beneath paths; it cannot take access away below a granted path. So
//! it refuses, saying exactly what cannot be enforced: protected paths inside writable roots
//! (`.git`, `.codex`, … — even missing ones, which it could not keep uncreatable), an existing
//! denied path inside a writable one, a denied directory inside a readable one, a read-only path
//! inside a writable one, allowed unix socket paths before ABI 9, and deny rules under full
//! access. A denied file or directory inside a readable path (e.g. `$CODEX_HOME` under `/`) is
//! hidden by granting around it (`exclusions.rs`): its contents become unreadable, the names of
//! a denied directory's entries stay listable.
//!
//! Enforced: filesystem rights for the ABI, TCP bind/connect (ABI >= 4) when the network is
//! restricted (seccomp blocks every non-unix socket anyway), signal and abstract-unix-socket
//! scoping (ABI >= 6), pathname unix socket connections (ABI >= 9), the seccomp program, no
//! capabilities, `no_new_privs`. Not enforced (no namespaces): `/proc/<pid>` of same-user processes
//! stays visible (capability drop + Landlock's ptrace restriction keep it unreadable), and signals
//! to outside processes before ABI 6.

use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

use codex_sandbox_policy::{Access, Enforcement, SandboxPolicy};
use landlock::{
    ABI, Access as _, AccessFs, AccessNet, CompatLevel, Compatible, Ruleset, RulesetAttr,
    RulesetCreatedAttr, Scope, path_beneath_rules,
};

use std::ffi::OsString;

use crate::error::{PlanSandboxError, RunSandboxError};
use crate::planner::Common;
use crate::request::{
    LandlockDetails, LandlockRuleset, LinuxEnforcement, LinuxPlan, PlanDetails, SECCOMP_FD,
    STAGE_STATUS_FD, SandboxRequest,
};
use crate::seccomp::{self, MetadataRules, NetworkRules, ProcessRules, ProgramKind};
use crate::stage::StageArgs;

/// The only device files a command can open (Landlock backend), read-write. The rest of the
/// host's `/dev` is hidden: raw disks (every deny rule bypassed by reading the block device as
/// root), consoles, input devices, and `/dev/pts` with every other terminal (the command's own
/// terminal is granted through its descriptors).
const DEVICES: &[&str] = &[
    "/dev/null",
    "/dev/zero",
    "/dev/full",
    "/dev/random",
    "/dev/urandom",
    "/dev/tty",
    "/dev/ptmx",
];

/// Device files inside bubblewrap's private `/dev`.
const BUBBLEWRAP_DEVICES: &[&str] = &[
    "/dev/null",
    "/dev/zero",
    "/dev/full",
    "/dev/random",
    "/dev/urandom",
    "/dev/tty",
];

/// The host's devices (Landlock backend): never readable but for [`DEVICES`].
const HOST_DEVICES: &str = "/dev";

/// The running kernel's Landlock ABI version (<= 0: unavailable).
pub(crate) fn kernel_abi() -> i32 {
    const LANDLOCK_CREATE_RULESET_VERSION: libc::c_uint = 1;
    // SAFETY: with a NULL attribute and size 0 this only queries the ABI version.
    let version = unsafe {
        libc::syscall(
            libc::SYS_landlock_create_ruleset,
            std::ptr::null::<u8>(),
            0usize,
            LANDLOCK_CREATE_RULESET_VERSION,
        )
    };
    i32::try_from(version).unwrap_or(-1)
}

pub(crate) fn plan(
    request: &SandboxRequest<'_>,
    common: Common,
) -> Result<LinuxPlan, PlanSandboxError> {
    let mut details = details(request.policy, kernel_abi())?;
    details.command = request.command[0].clone();
    let stage_executable = crate::planner::stage_executable(request.options)?;
    details.process_limit = crate::cgroup::probe(
        request.options.max_processes,
        request.options.require_process_limit,
    )?;
    details.max_processes = request.options.max_processes;
    let stage = StageArgs {
        landlock: details.ruleset.clone(),
        grant_terminals: details.ruleset.is_some(),
        max_processes: request.options.max_processes,
        status_fd: Some(STAGE_STATUS_FD),
        // SAFETY: getpid has no preconditions.
        reaper: Some(unsafe { libc::getpid() }),
        seccomp_fd: details.seccomp.as_ref().map(|_| SECCOMP_FD),
        cgroup_fds: crate::planner::cgroup_descriptors(&details.process_limit),
        drop_capabilities: details.ruleset.is_some(),
        command: request.command.to_vec(),
        ..StageArgs::default()
    };
    let mut argv = vec![OsString::from("codex-sandbox-stage")];
    argv.extend(stage.to_args());
    let enforcement = LinuxEnforcement {
        backend: "landlock",
        seccomp: details.seccomp.is_some(),
        landlock_abi: details.ruleset.as_ref().map(|ruleset| ruleset.abi),
        landlock_scoped: details
            .ruleset
            .as_ref()
            .is_some_and(|ruleset| ruleset.scope),
        max_processes: request.options.max_processes,
        process_limit: details.process_limit.clone(),
        full_access: request.policy.enforcement == Enforcement::FullAccess,
        ..LinuxEnforcement::default()
    };
    Ok(LinuxPlan {
        program: stage_executable,
        argv,
        env_changes: common.env_changes,
        enforcement,
        cwd: common.cwd,
        env: common.env,
        details: PlanDetails::Landlock(details),
    })
}

/// More read rules than this and the second layer reads everything the mounts show instead of
/// excluding the denied paths (bubblewrap's masks still hide them).
const MAX_EXCLUSION_RULES: usize = 4096;

/// The ruleset the stage applies inside bubblewrap (the second layer): read everything the
/// mounts show but the denied paths outside the writable roots, write only beneath the writable
/// roots (their protected carve-outs are bubblewrap's job) and the sandbox's private `/dev/pts`
/// and `/dev/shm`, the usual devices; TCP (ABI 4) and abstract unix sockets and signals (ABI 6)
/// scoped to the sandbox. `None` for full access.
///
/// The read exclusions keep a denied path unreadable after the host replaces it: bubblewrap's
/// mask is a mount on the old file, which the kernel detaches when the host renames another
/// file over it (`mv new .env`, `rm -rf ~/.codex && codex login`), while the Landlock rules name
/// the directories around it, not the name. Denied paths inside writable roots cannot be
/// excluded (Landlock grants beneath a path); there the mask alone holds.
pub(crate) fn second_layer(
    policy: &SandboxPolicy,
    abi: i32,
    deny_matches: &[PathBuf],
) -> Option<LandlockRuleset> {
    if policy.enforcement == Enforcement::FullAccess {
        return None;
    }
    let mut writable: Vec<PathBuf> = policy
        .writable_roots
        .iter()
        .map(|root| std::fs::canonicalize(&root.root).unwrap_or_else(|_| root.root.clone()))
        .filter(|root| root.exists())
        .collect();
    if policy.has_full_write() {
        writable = vec![PathBuf::from("/")];
    }
    writable.extend(["/dev/pts", "/dev/shm"].map(PathBuf::from));
    writable.sort();
    writable.dedup();
    let root = vec![PathBuf::from("/")];
    let mut hidden: Vec<PathBuf> = policy
        .denied_paths()
        .map(Path::to_path_buf)
        .chain(deny_matches.iter().cloned())
        .filter(|path| {
            !path.starts_with("/proc")
                && !path.starts_with("/dev")
                && !writable.iter().any(|root| path.starts_with(root))
                && std::fs::symlink_metadata(path).is_ok()
        })
        .collect();
    hidden.sort();
    hidden.dedup();
    let grants = crate::exclusions::exclude(&root, &hidden)
        .ok()
        .filter(|grants| grants.full.len() + grants.list_only.len() <= MAX_EXCLUSION_RULES)
        .unwrap_or_else(|| crate::exclusions::ReadGrants {
            full: root.clone(),
            list_only: Vec::new(),
        });
    Some(LandlockRuleset {
        abi,
        readable: grants.full,
        listable: grants.list_only,
        writable,
        devices: BUBBLEWRAP_DEVICES.iter().map(PathBuf::from).collect(),
        restrict_tcp: policy.network_restricted() && abi >= 4,
        scope: abi >= 6,
        // With `--allow-unix-socket`, connect() is allowed by seccomp; from ABI 9 Landlock
        // limits it to the allowed paths, which also covers sockets bound after the start
        // (bubblewrap's masks only cover the ones listed in `/proc/net/unix` at start).
        allowed_unix_sockets: (policy.network_restricted()
            && !policy.unix_sockets.is_empty()
            && abi >= 9)
            .then(|| policy.unix_sockets.clone()),
    })
}

/// Landlock rights for a rule on the single file behind a standard descriptor opened with
/// `access_mode` (`O_RDONLY`, `O_WRONLY`, `O_RDWR`) whose file type is `kind` (`S_IF*`), as raw
/// bits: reading and/or writing as it was opened, device ioctls on character devices only.
pub(crate) fn file_access_bits(abi: i32, access_mode: i32, kind: libc::mode_t) -> u64 {
    let mut access = landlock::BitFlags::<AccessFs>::empty();
    if access_mode == libc::O_RDONLY || access_mode == libc::O_RDWR {
        access |= AccessFs::ReadFile;
    }
    if access_mode == libc::O_WRONLY || access_mode == libc::O_RDWR {
        access |= AccessFs::WriteFile | AccessFs::Truncate;
    }
    if kind == libc::S_IFCHR && !access.is_empty() {
        access |= AccessFs::IoctlDev;
    }
    (access & AccessFs::from_all(ABI::from(abi))).bits()
}

fn cannot(reason: String) -> PlanSandboxError {
    PlanSandboxError::LandlockCannotEnforce { reason }
}

/// Decide what to enforce for `policy` on a kernel with Landlock ABI `abi`.
pub(crate) fn details(
    policy: &SandboxPolicy,
    abi: i32,
) -> Result<LandlockDetails, PlanSandboxError> {
    let deny_matches = crate::bwrap::expand_deny_globs(policy)?;
    let exists = |path: &Path| std::fs::symlink_metadata(path).is_ok();
    if policy.enforcement == Enforcement::FullAccess {
        if let Some(path) = policy
            .denied_paths()
            .find(|path| exists(path))
            .or(deny_matches.first().map(PathBuf::as_path))
        {
            return Err(cannot(format!(
                "cannot hide `{}` from a full-access command (Landlock cannot deny below a readable path)",
                path.display()
            )));
        }
        return Ok(LandlockDetails::default());
    }
    if abi < 1 {
        return Err(PlanSandboxError::LandlockUnavailable {
            reason: "the kernel does not support Landlock or it is disabled".to_string(),
        });
    }
    let protected: Vec<_> = policy
        .writable_roots
        .iter()
        .flat_map(|root| root.protected.iter().map(move |path| (root, path)))
        .collect();
    if let Some((root, path)) = protected.first() {
        let more = match protected.len() {
            1 => String::new(),
            count => format!(" (and {} more protected paths)", count - 1),
        };
        return Err(cannot(format!(
            "cannot keep `{}` read-only inside the writable root `{}`{more}: Landlock has no carve-outs inside a granted path",
            path.path.display(),
            root.root.display()
        )));
    }
    for rule in &policy.rules {
        let Some(parent) = nearest_ancestor_rule(policy, &rule.path) else {
            continue;
        };
        if rule.access == Access::Read && parent.1 == Access::Write && exists(&rule.path) {
            return Err(cannot(format!(
                "cannot keep `{}` read-only inside the writable path `{}`",
                rule.path.display(),
                parent.0.display()
            )));
        }
    }
    let allow_unix = policy.network_restricted() && !policy.unix_sockets.is_empty();
    if allow_unix && abi < 9 {
        return Err(cannot(format!(
            "cannot limit unix socket connections to the allowed paths: that needs Landlock ABI 9, this kernel has ABI {abi}"
        )));
    }
    let existing = |paths: Vec<PathBuf>| -> Vec<PathBuf> {
        let mut paths: Vec<PathBuf> = paths.into_iter().filter(|path| exists(path)).collect();
        paths.sort();
        paths.dedup();
        paths
    };
    let mut readable: Vec<PathBuf> = policy
        .rules
        .iter()
        .filter(|rule| rule.access == Access::Read)
        .map(|rule| rule.path.clone())
        .collect();
    if policy.platform_defaults {
        readable.extend(
            crate::bwrap::mounts::PLATFORM_DEFAULTS
                .iter()
                .map(PathBuf::from),
        );
    }
    let readable = existing(readable);
    let writable: Vec<PathBuf> = existing(
        policy
            .rules
            .iter()
            .filter(|rule| rule.access == Access::Write)
            .map(|rule| rule.path.clone())
            .chain(policy.writable_roots.iter().map(|root| root.root.clone()))
            .collect(),
    );
    // Landlock has no rights for inode metadata (mode, owner, timestamps, xattrs, flags): with
    // nothing writable the seccomp program denies those calls outright; with writable roots below
    // `/` it cannot tell the roots from the rest, so such plans are refused.
    let full_write = writable.iter().any(|path| path == Path::new("/"));
    if let Some(root) = writable.first()
        && !full_write
    {
        return Err(cannot(format!(
            "cannot keep `chmod`, `chown`, timestamp and extended-attribute changes inside the writable root `{}`: Landlock has no rights for them, so they would reach every file the user owns",
            root.display()
        )));
    }
    let metadata = if writable.is_empty() {
        MetadataRules::DenyChanges
    } else {
        MetadataRules::Allow
    };
    let denied = policy
        .denied_paths()
        .map(Path::to_path_buf)
        .chain(deny_matches.iter().cloned())
        .chain((!full_write).then(|| PathBuf::from(HOST_DEVICES)));
    let hidden = files_to_hide(denied, &readable, &writable)?;
    let grants = crate::exclusions::exclude(&readable, &hidden).map_err(|error| {
        cannot(format!(
            "cannot list a directory to hide denied files: {error}"
        ))
    })?;
    let rules = if policy.network_restricted() {
        if allow_unix {
            NetworkRules::AllowUnixSockets
        } else {
            NetworkRules::Restricted
        }
    } else {
        NetworkRules::Enabled
    };
    Ok(LandlockDetails {
        ruleset: Some(LandlockRuleset {
            abi,
            readable: grants.full,
            listable: grants.list_only,
            writable,
            devices: existing(DEVICES.iter().map(PathBuf::from).collect()),
            restrict_tcp: policy.network_restricted() && abi >= 4,
            scope: abi >= 6,
            allowed_unix_sockets: allow_unix.then(|| policy.unix_sockets.clone()),
        }),
        command: OsString::new(),
        seccomp: Some(seccomp::program(ProgramKind {
            network: rules,
            metadata,
            processes: ProcessRules::Shared,
        })?),
        ..LandlockDetails::default()
    })
}

/// The denied paths that Landlock's grants would expose (an existing path below a granted one),
/// if each can be hidden: a file or directory below readable paths only (a directory's names stay
/// listable, its contents do not). Anything below a writable path is refused.
fn files_to_hide(
    denied: impl Iterator<Item = PathBuf>,
    readable: &[PathBuf],
    writable: &[PathBuf],
) -> Result<Vec<PathBuf>, PlanSandboxError> {
    let below = |path: &Path, roots: &[PathBuf]| -> Option<PathBuf> {
        roots
            .iter()
            .find(|root| path.starts_with(root) && path != root.as_path())
            .cloned()
    };
    let mut hidden = Vec::new();
    for path in denied {
        if std::fs::symlink_metadata(&path).is_err() {
            continue;
        }
        if let Ok(metadata) = std::fs::metadata(&path) {
            crate::paths::refuse_hard_linked(&path, &metadata)?;
        }
        if let Some(root) = below(&path, writable) {
            return Err(cannot(format!(
                "cannot deny reading `{}` inside the writable path `{}`",
                path.display(),
                root.display()
            )));
        }
        if below(&path, readable).is_none() {
            continue;
        }
        // A directory's contents become unreadable; the names inside stay listable (the
        // readable root keeps `ReadDir` beneath it). Documented in the README.
        hidden.push(path);
    }
    hidden.sort();
    hidden.dedup();
    Ok(hidden)
}

/// The most specific rule strictly above `path`.
fn nearest_ancestor_rule(policy: &SandboxPolicy, path: &Path) -> Option<(PathBuf, Access)> {
    policy
        .rules
        .iter()
        .filter(|rule| rule.path != path && path.starts_with(&rule.path))
        .max_by_key(|rule| rule.path.components().count())
        .map(|rule| (rule.path.clone(), rule.access))
}

/// Build the ruleset in the parent; the child only calls `landlock_restrict_self` on the fd.
pub(crate) fn create_ruleset(ruleset: &LandlockRuleset) -> Result<OwnedFd, RunSandboxError> {
    let failed = |error: landlock::RulesetError| RunSandboxError::StageFailed {
        step: "building the Landlock ruleset".into(),
        reason: error.to_string(),
    };
    // The ABI comes from the kernel at plan time: we decide (and report) exactly what is enforced
    // instead of letting the crate degrade silently, and require all of it.
    let abi = ABI::from(ruleset.abi);
    let mut handled = Ruleset::default()
        .set_compatibility(CompatLevel::HardRequirement)
        .handle_access(AccessFs::from_all(abi))
        .map_err(failed)?;
    if ruleset.restrict_tcp {
        handled = handled
            .handle_access(AccessNet::BindTcp | AccessNet::ConnectTcp)
            .map_err(failed)?;
    }
    if ruleset.scope {
        handled = handled
            .scope(Scope::AbstractUnixSocket | Scope::Signal)
            .map_err(failed)?;
    }
    if ruleset.allowed_unix_sockets.is_some() {
        handled = handled
            .handle_access(AccessFs::ResolveUnix)
            .map_err(failed)?;
    }
    let unix_access = if ruleset.allowed_unix_sockets.is_some() {
        AccessFs::ResolveUnix.into()
    } else {
        landlock::BitFlags::EMPTY
    };
    let read = AccessFs::from_read(abi);
    let write_all = AccessFs::from_all(abi) & !unix_access;
    let device =
        (AccessFs::ReadFile | AccessFs::WriteFile | AccessFs::IoctlDev | AccessFs::Truncate)
            & AccessFs::from_all(abi);
    let mut created = handled
        .create()
        .map_err(failed)?
        .add_rules(path_beneath_rules(&ruleset.readable, read))
        .map_err(failed)?
        .add_rules(path_beneath_rules(&ruleset.listable, AccessFs::ReadDir))
        .map_err(failed)?
        .add_rules(path_beneath_rules(&ruleset.writable, write_all))
        .map_err(failed)?
        .add_rules(path_beneath_rules(&ruleset.devices, device))
        .map_err(failed)?;
    if let Some(sockets) = &ruleset.allowed_unix_sockets {
        created = created
            .add_rules(path_beneath_rules(sockets, AccessFs::ResolveUnix))
            .map_err(failed)?;
    }
    Option::<OwnedFd>::from(created).ok_or_else(|| RunSandboxError::StageFailed {
        step: "building the Landlock ruleset".into(),
        reason: "Landlock is not supported by the kernel".into(),
    })
}
