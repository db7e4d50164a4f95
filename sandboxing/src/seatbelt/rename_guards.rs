//! Rename guards: keeping path-based carve-outs where their rules expect them.
//!
//! Seatbelt matches a path, not an inode. A carve-out (a protected `.git`, a read-only or denied
//! path inside a writable root, the static directory of a deny glob) is only enforced while it
//! sits at that path. Renaming a directory above it moves it out from under its rule:
//!
//! ```text
//! mv /tmp/w/repo /tmp/w/r2; echo x > /tmp/w/r2/.git/hooks/pre-commit; mv /tmp/w/r2 /tmp/w/repo
//! mv config c2; cat c2/secrets/*
//! ```
//!
//! and replacing a directory above it (renaming a prepared tree over an empty directory, or
//! creating a missing ancestor by renaming one into place) plants content the carve-out should
//! have kept out. So every **ancestor of a carve-out that lies in a writable area**, and every
//! **writable subtree itself** (a writable root, or the per-user cache directory while the
//! network is enabled: a subtree's own entry is inside its `subpath`, so it could be removed and
//! replaced by a symlink to anywhere, which the next run would follow: see
//! [`super::symlinks`]), gets
//!
//! ```text
//! (deny file-write-unlink file-write-create (literal <path>))
//! ```
//!
//! `rename(2)` checks `file-write-unlink` on its source (macOS reports `mv` and `rmdir` of a
//! directory as `file-write-unlink` denials) and `file-write-create` on its destination;
//! `unlink`/`rmdir` check `file-write-unlink`; `mkdir`, `symlink` and `link` check
//! `file-write-create`. The entries below the guarded directories stay writable: only these
//! exact directory entries are pinned. The cost: a writable root, and the directories between a
//! writable root and a carve-out, cannot be removed, renamed, or created when missing.
//!
//! Not covered:
//! * deny globs with wildcards in a *directory* component (`/repo/a?c/key`): a matching
//!   directory can be renamed to a name that no longer matches. `**` and `*` components keep
//!   matching after a rename within the same parent; the static directory part is guarded;
//! * hard links: `ln repo/.git/config /tmp/x` followed by writes through `/tmp/x`, where the file
//!   system and macOS allow hard links to that file;
//! * carve-outs that are not below any writable area need no guard (nothing above them can be
//!   renamed by the command).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::rules::WritableArea;

/// The canonical directory entries to pin, sorted: every ancestor of each of `carve_outs` (not
/// the carve-out itself, which is excluded from writes already) and each of `entries`, where
/// they lie in `area`. `/` is never guarded: it cannot be renamed or removed.
pub(crate) fn guarded_paths(
    area: &WritableArea<'_>,
    carve_outs: impl IntoIterator<Item = PathBuf>,
    entries: impl IntoIterator<Item = PathBuf>,
) -> Vec<PathBuf> {
    let mut candidates: BTreeSet<PathBuf> = BTreeSet::new();
    for carve_out in carve_outs {
        candidates.extend(carve_out.ancestors().skip(1).map(Path::to_path_buf));
    }
    candidates.extend(entries);
    candidates
        .into_iter()
        .filter(|path| path.parent().is_some() && area.contains(path))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::rules::{AllowedRoot, DeniedPath};
    use super::super::test_support::paths;
    use super::*;

    #[test]
    fn ancestors_inside_writable_areas_are_guarded_up_to_the_outermost_root() {
        // cwd /private/tmp/w/repo under :workspace, /private/tmp writable too.
        let roots = vec![
            AllowedRoot {
                lexical: PathBuf::from("/tmp/w/repo"),
                path: PathBuf::from("/private/tmp/w/repo"),
                excluded: paths(&["/private/tmp/w/repo/.git"]),
            },
            AllowedRoot {
                lexical: PathBuf::from("/tmp"),
                path: PathBuf::from("/private/tmp"),
                excluded: paths(&["/private/tmp/w/repo/.git"]),
            },
        ];
        let denied: Vec<DeniedPath> = Vec::new();
        let area = WritableArea::Roots {
            roots: &roots,
            extra: Vec::new(),
            denied: &denied,
        };
        let guarded = guarded_paths(
            &area,
            paths(&["/private/tmp/w/repo/.git/hooks", "/Users/dev/.ssh/id"]),
            paths(&["/private/tmp/w/repo", "/private/tmp", "/Users/dev/repo"]),
        );
        // `.git` itself is excluded (not writable), so it is not listed; `/Users/dev` is not in
        // a writable area.
        assert_eq!(
            guarded,
            paths(&["/private/tmp", "/private/tmp/w", "/private/tmp/w/repo"])
        );
    }

    #[test]
    fn full_access_guards_every_ancestor_but_the_root_directory() {
        let denied = vec![DeniedPath {
            path: PathBuf::from("/Users/dev/.codex/auth.json"),
            reopened_for_read: Vec::new(),
            reopened_for_write: Vec::new(),
        }];
        let area = WritableArea::Everywhere { denied: &denied };
        assert_eq!(
            guarded_paths(&area, paths(&["/Users/dev/.codex/auth.json"]), Vec::new()),
            paths(&["/Users", "/Users/dev", "/Users/dev/.codex"])
        );
    }
}
