//! The confinement checks of policy compilation: what a sandboxed command must not be able to
//! turn into host execution or credentials later (see the callers in `compile.rs`).
//!
//! - the implicit workspace root may not be `/` or hold a home directory;
//! - `$CODEX_HOME` may not be reached through a symlink the command may write, nor `auth.json`
//!   be a symlink out of it;
//! - no `.git` inside a writable root may be a symlink;
//! - what one root's git configuration points at inside another root is protected there.
//!
//! "Reached through a symlink the command may replace" is the policy crate's one rule
//! ([`codex_sandbox_policy::replaceable_symlink`]).

use std::path::{Path, PathBuf};

use codex_sandbox_policy::{
    Enforcement, HostFileSystem, ProtectedKind, ProtectedPath, ResolveSymlinksError, SandboxPolicy,
    WritableRoot, inside_root, normalize, replaceable_symlink,
};
use codex_utils_git::{ConfigLocations, Repository};

use super::CompileContext;
use crate::permissions::PermissionsError;

/// True when `dir` (as written or canonical) is `/`, or a home directory or an ancestor of one:
/// granting it implicitly (as `:tmpdir`, or as the working directory's workspace root) would
/// make the whole filesystem or the user's dotfiles writable.
pub(super) fn is_root_or_home_ancestor(dir: &Path, homes: &[PathBuf]) -> bool {
    let mut spellings = vec![normalize(dir)];
    if let Ok(canonical) = dir.canonicalize() {
        spellings.push(canonical);
    }
    let mut homes: Vec<PathBuf> = homes.iter().map(|home| normalize(home)).collect();
    homes.extend(
        homes
            .clone()
            .iter()
            .filter_map(|home| home.canonicalize().ok()),
    );
    spellings.iter().any(|spelling| {
        spelling.parent().is_none() || homes.iter().any(|home| home.starts_with(spelling))
    })
}

/// Refuse a policy under which a sandboxed command could change where the next run finds
/// `$CODEX_HOME` or its credentials: a symlink on the way to `$CODEX_HOME` that lives where the
/// policy lets the command write (mounts follow a link, so it cannot be pinned read-only), or an
/// `auth.json` that is a symlink to a file outside `$CODEX_HOME` (masking the name would leave
/// the target readable). Full access hides `$CODEX_HOME` but confines nothing else, so only the
/// `auth.json` rule applies there.
pub(super) fn check_codex_home_links(
    policy: &SandboxPolicy,
    context: &CompileContext,
) -> Result<(), PermissionsError> {
    if !context.confinement_checks {
        return Ok(());
    }
    if policy.enforcement == Enforcement::Managed
        && let Some(spelled) = context
            .codex_home_spelled
            .as_ref()
            .filter(|spelled| spelled.is_absolute())
    {
        let writable = |path: &Path| policy.access_for(path).can_write();
        let found = replaceable_symlink(spelled, &HostFileSystem, &|entry| {
            writable(entry.spelled) || writable(entry.resolved)
        });
        let link = match found {
            Ok(None) => None,
            Ok(Some(link)) if writable(&link.spelled) => Some(link.spelled),
            Ok(Some(link)) => Some(link.resolved),
            // A loop or an unreadable component: fail closed, naming where it stopped.
            Err(ResolveSymlinksError::TooManyLinks { path })
            | Err(ResolveSymlinksError::Inspect { path, .. }) => Some(path),
        };
        if let Some(link) = link {
            return Err(PermissionsError::CodexHomeThroughWritableSymlink {
                link: link.display().to_string(),
                target: context
                    .codex_home
                    .canonicalize()
                    .unwrap_or_else(|_| context.codex_home.clone())
                    .display()
                    .to_string(),
            });
        }
    }
    if policy.enforcement == Enforcement::Managed
        && let Some(file) = hard_linked_file(&context.codex_home)
    {
        return Err(PermissionsError::CodexHomeFileHardLinked(
            file.display().to_string(),
        ));
    }
    let auth = context.auth_file();
    let is_link =
        std::fs::symlink_metadata(&auth).is_ok_and(|metadata| metadata.file_type().is_symlink());
    if is_link {
        let home = context.codex_home.canonicalize().ok();
        let inside = match (auth.canonicalize(), home) {
            (Ok(target), Some(home)) => target.starts_with(&home),
            // Dangling (or unresolvable): the command might create the target.
            _ => false,
        };
        if !inside {
            return Err(PermissionsError::CredentialsFileIsSymlink(
                auth.display().to_string(),
            ));
        }
    }
    check_git_symlinks(policy)
}

/// The first regular file directly inside `codex_home` (configuration, credentials) with more
/// than one hard link: its other name lies outside the hidden `$CODEX_HOME`.
#[cfg(unix)]
fn hard_linked_file(codex_home: &Path) -> Option<PathBuf> {
    use std::os::unix::fs::MetadataExt;
    std::fs::read_dir(codex_home)
        .ok()?
        .take(4096)
        .flatten()
        .find(|entry| {
            entry
                .metadata()
                .is_ok_and(|metadata| metadata.is_file() && metadata.nlink() > 1)
        })
        .map(|entry| entry.path())
}

/// Hard links are a Unix matter here.
#[cfg(not(unix))]
fn hard_linked_file(_codex_home: &Path) -> Option<PathBuf> {
    None
}

/// Refuse a `.git` that is a symlink inside a writable root (the root's own, or a nested
/// repository's): protecting it mounts over where it points, and the link itself, a plain entry
/// of a writable directory, could be replaced by one to a git directory the command wrote, whose
/// configuration the host's next `git` would run.
fn check_git_symlinks(policy: &SandboxPolicy) -> Result<(), PermissionsError> {
    if policy.enforcement != Enforcement::Managed {
        return Ok(());
    }
    let link = policy
        .writable_roots
        .iter()
        .flat_map(|root| root.protected.iter())
        .filter(|protected| {
            matches!(
                protected.kind,
                ProtectedKind::Metadata | ProtectedKind::NestedRepository
            ) && protected.path.file_name() == Some(std::ffi::OsStr::new(".git"))
        })
        .find(|protected| {
            std::fs::symlink_metadata(&protected.path)
                .is_ok_and(|metadata| metadata.file_type().is_symlink())
        });
    match link {
        Some(protected) => Err(PermissionsError::GitDirSymlink(
            protected.path.display().to_string(),
        )),
        None => Ok(()),
    }
}

/// Each root protects what the git configuration of its own repository points at inside it
/// (see `codex_sandbox_policy::protected_paths`); a repository in one root can also point
/// into another (`core.hooksPath = /tmp/hooks` with `/tmp` writable). Those are added here,
/// except a hooks directory that is another root itself (its hook names are not listed here).
pub(super) fn protect_git_pointers_across_roots(roots: &mut [WritableRoot]) {
    if roots.len() < 2 {
        return;
    }
    let locations = ConfigLocations::from_environment();
    let mut repositories: Vec<Repository> = roots
        .iter()
        .filter_map(|root| Repository::discover(&root.root))
        .collect();
    repositories.sort_by(|a, b| a.worktree.cmp(&b.worktree));
    repositories.dedup_by(|a, b| a.worktree == b.worktree);
    let pointers: Vec<PathBuf> = repositories
        .iter()
        .flat_map(|repository| {
            let pointers = repository.config_pointers(&locations);
            // A linked worktree's common git directory (its config, hooks) may lie in another
            // root (`/tmp/main/.git` for a workspace worktree).
            let shared = (repository.common_dir != repository.git_dir)
                .then(|| repository.common_dir.clone());
            pointers
                .hooks
                .into_iter()
                .chain(pointers.includes)
                .chain(shared)
        })
        .collect();
    // `/` holds everything (see `protected_paths`).
    for root in roots.iter_mut().filter(|root| root.root.parent().is_some()) {
        let mut added = false;
        for pointer in &pointers {
            if let Some(path) = inside_root(&root.root, pointer) {
                root.protected.push(ProtectedPath {
                    path,
                    kind: ProtectedKind::GitDirTarget,
                });
                added = true;
            }
        }
        if added {
            root.protected.sort_by(|a, b| a.path.cmp(&b.path));
            root.protected.dedup_by(|a, b| a.path == b.path);
        }
    }
}
