//! The bubblewrap filesystem arguments for a policy. Order matters: bubblewrap applies them in
//! sequence and a later mount hides what is below it, so
//! 1. the base: `--ro-bind / /` (full read), `--tmpfs /` + readable roots (restricted read),
//!    `--bind / /` (full write) or `--dev-bind / /` (full access); fresh `--dev` and `--proc`,
//!    the whole `/proc` remounted read-only: when codex runs as root, uid 0 inside is uid 0 outside,
//!    and sysctls (`/proc/sys/kernel/core_pattern`, …), `/proc/sysrq-trigger` and
//!    `/proc/pressure/*` check the uid, not capabilities (one remount instead of a bind per entry:
//!    it covers whatever a kernel adds, at the price of the command's own `/proc/self/*` knobs);
//! 2. every rule path, writable root and protected path, shallowest first, with the access the
//!    policy gives it (`SandboxPolicy::access_for`: most specific rule, protection beats write);
//!    directories between a writable root and a protected path are bound onto themselves so that
//!    renaming them (to move the read-only mount away) fails with `EBUSY`;
//!    a missing protected path gets an empty read-only directory on a host mount point (created
//!    by `run()`) so that it cannot be created; an existing mount point of another run (an empty
//!    directory of mode [`MOUNT_POINT_MODE`]) counts as missing, so this run shares it (`run()`
//!    holds it) instead of binding a directory the other run will remove;
//! 3. deny-glob matches and (when unix socket paths are allowed) the other host sockets;
//! 4. `--remount-ro` for every tmpfs mask (deferred so nested mounts could be created first).
//!
//! Masks: a directory becomes `--perms 000 --tmpfs P` (111 when something below it is reopened), a
//! file becomes `--ro-bind /dev/null P` (a device on a `nodev` mount: every open fails with
//! `EACCES`, no file descriptor per file needed). Missing rule paths are skipped: no host traces.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};

use codex_sandbox_policy::{Access, Enforcement, SandboxPolicy};

use crate::error::{PathRole, PlanSandboxError};
use crate::paths::{check_writable_symlinks, depth, resolve};

/// The mode of the host mount points `run()` creates for missing protected paths (see
/// `mount_points.rs`): readable by everyone so that other users' runs can lock and share them,
/// writable by nobody, and the sticky bit as the marker that tells them from a user's directory.
pub(crate) const MOUNT_POINT_MODE: u32 = 0o1555;

/// Whether `metadata` (from `lstat`) describes a sandbox mount point: a directory of exactly
/// [`MOUNT_POINT_MODE`] (still to be checked for emptiness).
fn has_mount_point_mode(metadata: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    metadata.is_dir() && metadata.permissions().mode() & 0o7777 == MOUNT_POINT_MODE
}

/// Whether `path` is an existing sandbox mount point of some run: an empty directory of mode
/// [`MOUNT_POINT_MODE`], not a symlink.
fn is_mount_point(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|metadata| has_mount_point_mode(&metadata))
        && std::fs::read_dir(path).is_ok_and(|mut entries| entries.next().is_none())
}

/// Where the empty directory protecting `path` goes: its first component that is missing or is
/// already a sandbox mount point; `None` when every component exists and none is one.
fn mount_point_for(path: &Path) -> Option<PathBuf> {
    let mut prefix = PathBuf::from("/");
    for component in path.components() {
        let std::path::Component::Normal(name) = component else {
            continue;
        };
        prefix.push(name);
        match std::fs::symlink_metadata(&prefix) {
            Err(_) => return Some(prefix),
            Ok(metadata) if has_mount_point_mode(&metadata) && is_mount_point(&prefix) => {
                return Some(prefix);
            }
            Ok(_) => {}
        }
    }
    None
}

/// `:minimal` on Linux: runtime directories readable under a restricted read policy.
pub(crate) const PLATFORM_DEFAULTS: &[&str] = &[
    "/bin",
    "/sbin",
    "/usr",
    "/etc",
    "/lib",
    "/lib32",
    "/lib64",
    "/libx32",
    "/nix/store",
    "/run/current-system/sw",
];

pub(crate) struct MountInputs<'a> {
    pub policy: &'a SandboxPolicy,
    pub platform_defaults: &'a [&'a str],
    /// Expanded deny-glob matches.
    pub deny_matches: &'a [PathBuf],
    /// Host pathname sockets to make unreachable (only when some socket paths are allowed).
    pub host_sockets: &'a [PathBuf],
}

#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct MountPlan {
    pub args: Vec<OsString>,
    /// Host directories `run()` must provide as mount points (missing protected paths).
    pub mount_points: Vec<PathBuf>,
}

/// What is visible at a path after the mounts emitted so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum View {
    ReadOnly,
    Writable,
    /// Nothing (restricted-read base) or a deny mask.
    Hidden,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Rule,
    WritableRoot,
    Protected,
    PlatformDefault,
    RenameGuard,
}

#[derive(Debug, Clone)]
struct Op {
    logical: PathBuf,
    source: PathBuf,
    dest: PathBuf,
    access: Access,
    /// False also for a protected path that exists only as another run's mount point (the path
    /// itself or an ancestor): it is handled like a missing one.
    exists: bool,
    kind: Kind,
}

struct Emitter {
    args: Vec<OsString>,
    /// Mounts in emission order: the last one at or above a path decides what is visible there.
    views: Vec<(PathBuf, View)>,
    base: View,
    /// Directory masks: index of their `--perms` value in `args`, index in `views`, path.
    masks: Vec<(usize, usize, PathBuf)>,
    remounts: Vec<PathBuf>,
    mount_points: Vec<PathBuf>,
}

impl Emitter {
    fn push(&mut self, parts: &[&OsStr]) {
        self.args
            .extend(parts.iter().map(|part| part.to_os_string()));
    }

    fn view(&self, path: &Path) -> View {
        self.views
            .iter()
            .rev()
            .find(|(mounted, _)| path.starts_with(mounted))
            .map_or(self.base, |(_, view)| *view)
    }

    fn mask(&mut self, path: &Path, is_dir: bool) {
        if is_dir {
            self.push(&[os("--perms"), os("000")]);
            let perms_index = self.args.len() - 1;
            self.masks
                .push((perms_index, self.views.len(), path.to_path_buf()));
            self.push(&[os("--tmpfs"), path.as_os_str()]);
            self.remounts.push(path.to_path_buf());
        } else {
            self.push(&[os("--ro-bind"), os("/dev/null"), path.as_os_str()]);
        }
        self.views.push((path.to_path_buf(), View::Hidden));
    }
}

fn os(text: &str) -> &OsStr {
    OsStr::new(text)
}

pub(crate) fn build(inputs: &MountInputs<'_>) -> Result<MountPlan, PlanSandboxError> {
    let policy = inputs.policy;
    let full_access = policy.enforcement == Enforcement::FullAccess;
    let root_access = if full_access {
        Access::Write
    } else {
        policy.access_for(Path::new("/"))
    };
    let mut emitter = Emitter {
        args: Vec::new(),
        views: Vec::new(),
        base: match root_access {
            Access::Read => View::ReadOnly,
            Access::Write => View::Writable,
            Access::Deny => View::Hidden,
        },
        masks: Vec::new(),
        remounts: Vec::new(),
        mount_points: Vec::new(),
    };
    match (full_access, root_access) {
        (true, _) => emitter.push(&[os("--dev-bind"), os("/"), os("/")]),
        (false, Access::Write) => emitter.push(&[os("--bind"), os("/"), os("/")]),
        (false, Access::Read) => emitter.push(&[os("--ro-bind"), os("/"), os("/")]),
        (false, Access::Deny) => emitter.push(&[os("--tmpfs"), os("/")]),
    }
    if !full_access {
        emitter.push(&[os("--dev"), os("/dev")]);
    }
    emitter.push(&[os("--proc"), os("/proc"), os("--remount-ro"), os("/proc")]);

    for op in collect_ops(inputs, root_access == Access::Deny)? {
        emit_op(&mut emitter, &op)?;
    }
    for path in inputs.deny_matches {
        mask_glob_match(&mut emitter, path)?;
    }
    mask_host_sockets(&mut emitter, policy, inputs.host_sockets);

    let masks = std::mem::take(&mut emitter.masks);
    for (perms_index, view_index, path) in masks {
        let reopened = emitter.views[view_index + 1..]
            .iter()
            .any(|(mounted, view)| {
                mounted != &path && mounted.starts_with(&path) && *view != View::Hidden
            });
        if reopened {
            emitter.args[perms_index] = OsString::from("111");
        }
    }
    for path in std::mem::take(&mut emitter.remounts) {
        emitter.push(&[os("--remount-ro"), path.as_os_str()]);
    }
    if root_access == Access::Deny && !full_access {
        emitter.push(&[os("--remount-ro"), os("/")]);
    }
    Ok(MountPlan {
        args: emitter.args,
        mount_points: emitter.mount_points,
    })
}

/// Every path that needs a mount, with its access, resolved and sorted shallowest first.
fn collect_ops(
    inputs: &MountInputs<'_>,
    restricted_read: bool,
) -> Result<Vec<Op>, PlanSandboxError> {
    let policy = inputs.policy;
    let full_access = policy.enforcement == Enforcement::FullAccess;
    let is_writable = |path: &Path| !full_access && policy.access_for(path) == Access::Write;
    let mut candidates: Vec<(PathBuf, Kind)> = Vec::new();
    for rule in &policy.rules {
        if !full_access || rule.access == Access::Deny {
            candidates.push((rule.path.clone(), Kind::Rule));
        }
    }
    if !full_access {
        for root in &policy.writable_roots {
            candidates.push((root.root.clone(), Kind::WritableRoot));
            for protected in &root.protected {
                candidates.push((protected.path.clone(), Kind::Protected));
            }
        }
        if restricted_read && policy.platform_defaults {
            for path in inputs.platform_defaults {
                if !policy.rules.iter().any(|rule| rule.path == Path::new(path)) {
                    candidates.push((PathBuf::from(path), Kind::PlatformDefault));
                }
            }
        }
    }

    let mut ops: Vec<Op> = Vec::new();
    for (logical, kind) in candidates {
        if logical == Path::new("/") || logical.starts_with("/proc") {
            continue;
        }
        let access = match kind {
            Kind::PlatformDefault => Access::Read,
            _ if full_access => Access::Deny,
            _ => policy.access_for(&logical),
        };
        if !full_access {
            let role = match access {
                Access::Write => PathRole::Writable,
                Access::Read => PathRole::ReadOnly,
                Access::Deny => PathRole::DenyRead,
            };
            check_writable_symlinks(&logical, role, &is_writable)?;
        }
        let resolved = resolve(&logical)?;
        let keep_logical = restricted_read && access == Access::Read && kind != Kind::Protected;
        let (source, dest) = if keep_logical {
            (logical.clone(), logical.clone())
        } else {
            (resolved.real.clone(), resolved.real.clone())
        };
        let exists = if kind == Kind::PlatformDefault {
            std::fs::symlink_metadata(&logical).is_ok()
        } else {
            resolved.exists
        };
        // Every component exists, so a mount point found on the way is another run's.
        let shared_mount_point =
            kind == Kind::Protected && exists && mount_point_for(&dest).is_some();
        ops.push(Op {
            logical,
            source,
            dest,
            access,
            exists: exists && !shared_mount_point,
            kind,
        });
    }
    if !full_access {
        let root_access = policy.access_for(Path::new("/"));
        add_rename_guards(&mut ops, root_access);
    }
    ops.sort_by(|a, b| (depth(&a.dest), &a.dest, rank(a)).cmp(&(depth(&b.dest), &b.dest, rank(b))));
    // One op per destination: the most restrictive wins.
    ops.reverse();
    let mut unique: Vec<Op> = Vec::with_capacity(ops.len());
    for op in ops {
        if unique.last().is_none_or(|last| last.dest != op.dest) {
            unique.push(op);
        }
    }
    unique.reverse();
    Ok(unique)
}

/// Sort key among ops on the same destination: higher = more restrictive = kept; among writable
/// ops a rename guard wins (it is always bound), among read-only and denied ones a protected path.
fn rank(op: &Op) -> u8 {
    let access = match op.access {
        Access::Write => 0,
        Access::Read => 2,
        Access::Deny => 4,
    };
    access + u8::from(matches!(op.kind, Kind::Protected | Kind::RenameGuard))
}

/// Make every directory that could be renamed to move a protected path away a mount point (a
/// rename or removal of a mount point fails with `EBUSY`): each ancestor of a protected path whose
/// parent is writable in the sandbox, up to the first one whose parent is not. That covers
/// directories inside a writable root and writable roots nested in writable areas (`/tmp/proj`).
fn add_rename_guards(ops: &mut Vec<Op>, root_access: Access) {
    let view = |ops: &[Op], path: &Path| -> Access {
        ops.iter()
            .filter(|op| op.exists && path.starts_with(&op.dest))
            .max_by_key(|op| (depth(&op.dest), rank(op)))
            .map_or(root_access, |op| op.access)
    };
    let mut guards: Vec<Op> = Vec::new();
    for protected in ops.iter().filter(|op| op.kind == Kind::Protected) {
        let mut ancestor = protected.dest.parent();
        while let Some(directory) = ancestor {
            let Some(parent) = directory.parent() else {
                break;
            };
            if view(ops, parent) != Access::Write {
                break;
            }
            // Another run's mount point is handled like a missing directory (it is masked).
            let is_dir = std::fs::symlink_metadata(directory).is_ok_and(|m| m.is_dir())
                && !is_mount_point(directory);
            if is_dir && !guards.iter().any(|guard| guard.dest == directory) {
                guards.push(Op {
                    logical: directory.to_path_buf(),
                    source: directory.to_path_buf(),
                    dest: directory.to_path_buf(),
                    access: Access::Write,
                    exists: true,
                    kind: Kind::RenameGuard,
                });
            }
            ancestor = Some(parent);
        }
    }
    // A guard on a path that has its own op keeps that op's access (the dedup below prefers the
    // more restrictive one; a writable op there becomes a guard, so it is always bound).
    ops.extend(guards);
}

fn emit_op(emitter: &mut Emitter, op: &Op) -> Result<(), PlanSandboxError> {
    let covering = emitter.view(&op.dest);
    if !op.exists {
        // A missing denied path (a `$CODEX_HOME` not created yet) must stay uncreatable inside
        // a writable view just like a missing protected one: created during the run, it would
        // be in plain view (and `config.toml` written into it read by the next codex run).
        if (op.kind == Kind::Protected && op.access == Access::Read) || op.access == Access::Deny {
            mask_missing_protected(emitter, op);
        }
        return Ok(());
    }
    if op.kind == Kind::PlatformDefault
        && let Ok(target) = std::fs::read_link(&op.logical)
    {
        emitter.push(&[os("--symlink"), target.as_os_str(), op.dest.as_os_str()]);
        emitter.views.push((op.dest.clone(), View::ReadOnly));
        return Ok(());
    }
    match op.access {
        Access::Read => {
            if covering == View::ReadOnly && op.kind != Kind::Protected {
                return Ok(());
            }
            emitter.push(&[os("--ro-bind"), op.source.as_os_str(), op.dest.as_os_str()]);
            emitter.views.push((op.dest.clone(), View::ReadOnly));
        }
        Access::Write => {
            if covering == View::Writable && op.kind != Kind::RenameGuard {
                return Ok(());
            }
            emitter.push(&[os("--bind"), op.source.as_os_str(), op.dest.as_os_str()]);
            emitter.views.push((op.dest.clone(), View::Writable));
        }
        Access::Deny => {
            if covering == View::Hidden {
                return Ok(());
            }
            let metadata = std::fs::metadata(&op.dest)
                .map_err(|error| crate::paths::inspect_error(&op.dest, error))?;
            crate::paths::refuse_hard_linked(&op.dest, &metadata)?;
            emitter.mask(&op.dest, metadata.is_dir());
        }
    }
    Ok(())
}

/// A missing protected path must stay uncreatable: its first missing component (or the other
/// run's mount point already there) gets an empty read-only directory (the host mount point is
/// created, or joined, by `run()`). Not needed where neither the sandbox nor we could create it;
/// another run's mount point there is then bound read-only like any existing directory (its owner
/// could otherwise make it writable in the sandbox).
fn mask_missing_protected(emitter: &mut Emitter, op: &Op) {
    let Some(missing) = mount_point_for(&op.dest) else {
        return;
    };
    let Some(parent) = missing.parent() else {
        return;
    };
    if emitter.mount_points.contains(&missing) {
        return;
    }
    if emitter.view(parent) != View::Writable || !crate::paths::host_writable(parent) {
        let shared = std::fs::symlink_metadata(&missing).is_ok();
        if shared && emitter.view(&missing) != View::Hidden {
            emitter.push(&[os("--ro-bind"), missing.as_os_str(), missing.as_os_str()]);
            emitter.views.push((missing, View::ReadOnly));
        }
        return;
    }
    emitter.push(&[os("--perms"), os("555"), os("--tmpfs"), missing.as_os_str()]);
    emitter.views.push((missing.clone(), View::ReadOnly));
    emitter.remounts.push(missing.clone());
    emitter.mount_points.push(missing);
}

fn mask_glob_match(emitter: &mut Emitter, path: &Path) -> Result<(), PlanSandboxError> {
    let Ok(metadata) = std::fs::symlink_metadata(path) else {
        return Ok(());
    };
    let target = if metadata.file_type().is_symlink() {
        match std::fs::canonicalize(path) {
            Ok(target) => target,
            Err(_) => return Ok(()),
        }
    } else {
        path.to_path_buf()
    };
    if target.starts_with("/proc") || emitter.view(&target) == View::Hidden {
        return Ok(());
    }
    let metadata =
        std::fs::metadata(&target).map_err(|error| crate::paths::inspect_error(&target, error))?;
    crate::paths::refuse_hard_linked(&target, &metadata)?;
    emitter.mask(&target, metadata.is_dir());
    Ok(())
}

/// With some unix socket paths allowed, `connect()` stays permitted: every other bound pathname
/// socket that is visible in the sandbox is covered by `/dev/null` (connecting to it then fails).
/// Allowed sockets hidden by the policy are bound in.
fn mask_host_sockets(emitter: &mut Emitter, policy: &SandboxPolicy, sockets: &[PathBuf]) {
    use std::os::unix::fs::FileTypeExt;
    if sockets.is_empty() {
        return;
    }
    let allowed: Vec<PathBuf> = policy
        .unix_sockets
        .iter()
        .map(|path| std::fs::canonicalize(path).unwrap_or_else(|_| path.clone()))
        .collect();
    for socket in sockets {
        if socket.starts_with("/proc") || socket.starts_with("/dev") {
            continue;
        }
        let is_socket = std::fs::symlink_metadata(socket).is_ok_and(|m| m.file_type().is_socket());
        let Ok(real) = std::fs::canonicalize(socket) else {
            continue;
        };
        if !is_socket || allowed.contains(&real) || emitter.view(&real) == View::Hidden {
            continue;
        }
        emitter.push(&[os("--ro-bind"), os("/dev/null"), real.as_os_str()]);
        emitter.views.push((real, View::Hidden));
    }
    for socket in allowed {
        let is_socket = std::fs::symlink_metadata(&socket).is_ok_and(|m| m.file_type().is_socket());
        if is_socket && emitter.view(&socket) == View::Hidden {
            emitter.push(&[os("--ro-bind"), socket.as_os_str(), socket.as_os_str()]);
            emitter.views.push((socket, View::ReadOnly));
        }
    }
}

#[cfg(test)]
#[path = "mounts_tests.rs"]
mod tests;
