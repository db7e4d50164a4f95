//! Refusing policy paths that cross a symbolic link the sandboxed command could re-point.
//!
//! Every path handed to Seatbelt is canonicalised when the profile is built, so a symlink on the
//! way to a policy path decides *which* directory the rule lands on. If that symlink lies where
//! the command may write, the command can replace it (`rm -rf /tmp/cache; ln -s ~ /tmp/cache`)
//! and the next run grants or protects a different directory: a writable root becomes `$HOME`,
//! a protected `.git` becomes a decoy. The same rule as the Linux sandbox applies, with the same
//! words: such a path is refused (`cannot enforce sandbox read-only path <p> because it crosses
//! writable symlink <s>`).
//!
//! "Where the command may write" is decided by the profile itself ([`WritableArea`]): a symlink
//! whose own directory entry could be removed, renamed or created by the command. Consequences:
//!
//! * a writable root is refused when one of its ancestors, or the root itself, is a symlink
//!   inside *another* writable area (a root's own entry lies in its parent, never in itself);
//! * a protected or denied path is refused when any symlink on its way is replaceable,
//!   including one inside its own writable root (`repo/link/.git/worktrees/wt`). A protected
//!   entry that is itself a symlink (`repo/.codex -> decoy`) is *not* replaceable: the entry is
//!   excluded from writes (and guarded against renames of its ancestors), and both the entry and
//!   its target are excluded, so it is enforced rather than refused;
//! * links are followed through their targets, so a chain `/opt/x -> /tmp/y/z` with `/tmp/y` a
//!   symlink in writable `/tmp` is refused too (the walk is the shared one,
//!   [`codex_sandbox_policy::replaceable_symlink`], that the Linux backend uses as well).
//!
//! * the per-user cache directory, writable while the network is enabled, is refused when it
//!   resolves through any symlink but `/var` ([`check_cache_dir`]).
//!
//! Symlinks directly in `/` (`/tmp`, `/var`, `/etc`) are followed even under a policy that
//! writes `/`: on macOS they live on the sealed, read-only system volume, which no process can
//! modify.
//!
//! Not covered: a symlink planted *before* this run (by a run with another policy, or outside
//! any sandbox) in a directory that this policy does not make writable is followed like any
//! other. Full-access policies are not checked (everything is writable there, and only the
//! credential denials are enforced).

use std::io;
use std::path::{Path, PathBuf};

use codex_sandbox_policy::{
    Access, LinkEntry, ReadLink, ResolveSymlinksError, SandboxPolicy, replaceable_symlink,
};

use super::canonical::Canonicalize;
use super::rules::WritableArea;
use super::{PathRole, SeatbeltPlanError};

/// Fail when a path of the policy crosses a symlink the command could replace.
pub(crate) fn check(
    policy: &SandboxPolicy,
    area: &WritableArea<'_>,
    canonicalizer: &dyn Canonicalize,
) -> Result<(), SeatbeltPlanError> {
    for (path, role) in enforced_paths(policy) {
        if let Some(symlink) = first_replaceable(canonicalizer, area, &path)? {
            return Err(SeatbeltPlanError::CrossesWritableSymlink {
                role,
                path,
                symlink,
            });
        }
    }
    Ok(())
}

/// Fail when the per-user cache directory (writable while the network is enabled) resolves
/// through any symlink other than one directly in `/`. `confstr` names a plain directory under
/// `/var/folders`; a symlink there was planted (the directory's own entry is writable in a run
/// with the network, and `rm -rf C; ln -s ~ C` would make `$HOME` writable in the next one).
pub(crate) fn check_cache_dir(
    path: &Path,
    canonicalizer: &dyn Canonicalize,
) -> Result<(), SeatbeltPlanError> {
    let anywhere = WritableArea::Everywhere { denied: &[] };
    match first_replaceable(canonicalizer, &anywhere, path)? {
        None => Ok(()),
        Some(symlink) => Err(SeatbeltPlanError::SymlinkedCacheDir {
            path: path.to_path_buf(),
            symlink,
        }),
    }
}

/// The shared walk ([`replaceable_symlink`]): a link is replaceable when its directory entry
/// (parent resolved) lies in `area`, unless it sits directly in `/` (the sealed system volume).
fn first_replaceable(
    canonicalizer: &dyn Canonicalize,
    area: &WritableArea<'_>,
    path: &Path,
) -> Result<Option<PathBuf>, SeatbeltPlanError> {
    let in_area = |entry: LinkEntry<'_>| {
        let in_root_directory = entry.resolved.parent() == Some(Path::new("/"));
        !in_root_directory && area.contains(entry.resolved)
    };
    match replaceable_symlink(path, &Links(canonicalizer), &in_area) {
        Ok(symlink) => Ok(symlink.map(|symlink| symlink.resolved)),
        Err(ResolveSymlinksError::TooManyLinks { .. }) => Err(SeatbeltPlanError::SymlinkLoop {
            path: path.to_path_buf(),
        }),
        Err(ResolveSymlinksError::Inspect {
            path: component,
            source,
        }) => Err(SeatbeltPlanError::InspectSymlink {
            path: path.to_path_buf(),
            component,
            reason: source.to_string(),
        }),
    }
}

/// [`Canonicalize::read_link`] as the shared walk reads links (an unreadable entry is treated as
/// no link, as everywhere else in the profile builder).
struct Links<'a>(&'a dyn Canonicalize);

impl ReadLink for Links<'_> {
    fn read_link(&self, path: &Path) -> io::Result<Option<PathBuf>> {
        Ok(self.0.read_link(path))
    }
}

/// Every path whose canonical form ends up in the profile as a rule, with how it is enforced.
fn enforced_paths(policy: &SandboxPolicy) -> Vec<(PathBuf, PathRole)> {
    let mut paths: Vec<(PathBuf, PathRole)> = Vec::new();
    for rule in &policy.rules {
        let role = match rule.access {
            Access::Read => PathRole::ReadOnly,
            Access::Write => PathRole::Writable,
            Access::Deny => PathRole::DenyRead,
        };
        paths.push((rule.path.clone(), role));
    }
    for root in &policy.writable_roots {
        paths.push((root.root.clone(), PathRole::Writable));
        for protected in &root.protected {
            paths.push((protected.path.clone(), PathRole::ReadOnly));
        }
    }
    for pattern in &policy.deny_globs {
        if pattern.base() != Path::new("/") {
            paths.push((pattern.base().to_path_buf(), PathRole::DenyRead));
        }
    }
    let mut seen: Vec<PathBuf> = Vec::new();
    paths.retain(|(path, _)| {
        if seen.contains(path) {
            false
        } else {
            seen.push(path.clone());
            true
        }
    });
    paths
}

#[cfg(test)]
mod tests {
    use super::super::canonical::fake::FakeFileSystem;
    use super::super::rules::{AllowedRoot, DeniedPath};
    use super::*;

    fn roots(paths: &[(&str, &[&str])]) -> Vec<AllowedRoot> {
        paths
            .iter()
            .map(|(path, excluded)| AllowedRoot {
                lexical: PathBuf::from(path),
                path: PathBuf::from(path),
                excluded: excluded.iter().map(PathBuf::from).collect(),
            })
            .collect()
    }

    fn first(file_system: &FakeFileSystem, area: &WritableArea<'_>, path: &str) -> Option<PathBuf> {
        match first_replaceable(file_system, area, Path::new(path)) {
            Ok(symlink) => symlink,
            Err(SeatbeltPlanError::SymlinkLoop { .. }) => Some(PathBuf::from("<loop>")),
            Err(error) => panic!("{error}"),
        }
    }

    #[test]
    fn symlink_in_another_writable_root_is_found_through_chains() {
        let file_system = FakeFileSystem::macos()
            .link("/private/tmp/cache", "/Users/dev")
            .link("/opt/x", "/tmp/y/z")
            .link("/private/tmp/y", "/Users/dev/real");
        let denied: Vec<DeniedPath> = Vec::new();
        let roots = roots(&[("/private/tmp", &[])]);
        let area = WritableArea::Roots {
            roots: &roots,
            extra: Vec::new(),
            denied: &denied,
        };
        assert_eq!(
            first(&file_system, &area, "/tmp/cache"),
            Some(PathBuf::from("/private/tmp/cache"))
        );
        assert_eq!(
            first(&file_system, &area, "/opt/x/file"),
            Some(PathBuf::from("/private/tmp/y"))
        );
        // `/tmp` itself is a symlink in `/`, on the sealed system volume.
        assert_eq!(first(&file_system, &area, "/tmp/w/repo"), None);
    }

    #[test]
    fn excluded_symlink_entry_is_not_replaceable_and_loops_are_refused() {
        let file_system = FakeFileSystem::default()
            .link("/repo/.codex", "/repo/decoy")
            .link("/opt/a", "/opt/b")
            .link("/opt/b", "/opt/a");
        let denied: Vec<DeniedPath> = Vec::new();
        let roots = roots(&[("/repo", &["/repo/.codex", "/repo/decoy"])]);
        let area = WritableArea::Roots {
            roots: &roots,
            extra: Vec::new(),
            denied: &denied,
        };
        assert_eq!(first(&file_system, &area, "/repo/.codex"), None);
        assert_eq!(
            first(&file_system, &area, "/opt/a/x"),
            Some(PathBuf::from("<loop>"))
        );
    }
}
