//! Protected metadata paths (`.git`, `.codex`, `.agents`) inside writable roots.
//!
//! Every writable root keeps `<root>/.git`, `<root>/.codex` and `<root>/.agents` read-only,
//! **whether or not they exist**: a missing one must be masked by the backend so that the
//! sandboxed command cannot create it (a created `.git` or `.codex` would be trusted by the next
//! session). When `<root>/.git` is a `gitdir: <path>` pointer file (a linked worktree or a
//! submodule), the resolved target (relative paths against the root) is protected too when it
//! exists.
//!
//! A pointer file is only read when it is a regular file of at most 4 KiB (a FIFO or a huge
//! file planted in a writable root must not hang or exhaust the next session).

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::policy::{ProtectedKind, ProtectedPath, WritableRoot, normalize};

/// Names protected directly inside every writable root.
pub const PROTECTED_METADATA_NAMES: &[&str] = &[".git", ".agents", ".codex"];

/// Largest `.git` pointer file that is read.
const MAX_POINTER_FILE_BYTES: u64 = 4096;

/// The protected carve-outs of `root` (absolute), de-duplicated and sorted by path:
/// `<root>/.git`, `<root>/.agents`, `<root>/.codex` (existing or not) and, for a `.git` pointer
/// file, its existing target.
///
/// `_cwd` is no longer consulted (every root is protected the same way); it is kept so callers
/// do not change.
pub fn protected_paths(root: &Path, _cwd: &Path) -> Vec<ProtectedPath> {
    let root = normalize(root);
    let mut protected: Vec<ProtectedPath> = PROTECTED_METADATA_NAMES
        .iter()
        .map(|name| ProtectedPath {
            path: root.join(name),
            kind: ProtectedKind::Metadata,
        })
        .collect();
    if let Some(target) = gitdir_target(&root.join(".git")) {
        protected.push(ProtectedPath {
            path: target,
            kind: ProtectedKind::GitDirTarget,
        });
    }
    protected.sort_by(|a, b| a.path.cmp(&b.path));
    protected.dedup_by(|a, b| a.path == b.path);
    protected
}

/// `root` with its protected carve-outs.
pub fn writable_root(root: &Path, cwd: &Path) -> WritableRoot {
    WritableRoot {
        root: normalize(root),
        protected: protected_paths(root, cwd),
    }
}

/// The existing path a `.git` pointer file names (`gitdir: <path>`, relative paths against the
/// directory holding `.git`); `None` for a directory, a missing or oversized file, anything that
/// is not a regular file, or malformed contents.
fn gitdir_target(git_file: &Path) -> Option<PathBuf> {
    let contents = read_small_regular_file(git_file, MAX_POINTER_FILE_BYTES)?;
    let target = contents.trim().strip_prefix("gitdir:")?.trim();
    if target.is_empty() {
        return None;
    }
    let base = git_file.parent()?;
    let resolved = normalize(&base.join(target));
    resolved.exists().then_some(resolved)
}

/// The contents of `path` when it is a regular file (symlinks followed) of at most `limit`
/// bytes. The type is checked before opening, so a FIFO is never opened (opening one blocks),
/// and again on the opened file.
fn read_small_regular_file(path: &Path, limit: u64) -> Option<String> {
    let metadata = std::fs::metadata(path).ok()?;
    if !metadata.is_file() || metadata.len() > limit {
        return None;
    }
    let file = std::fs::File::open(path).ok()?;
    let opened = file.metadata().ok()?;
    if !opened.is_file() || opened.len() > limit {
        return None;
    }
    let mut contents = String::new();
    file.take(limit + 1).read_to_string(&mut contents).ok()?;
    (contents.len() as u64 <= limit).then_some(contents)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(protected: &[ProtectedPath]) -> Vec<(PathBuf, ProtectedKind)> {
        protected.iter().map(|p| (p.path.clone(), p.kind)).collect()
    }

    fn metadata_of(root: &Path) -> Vec<(PathBuf, ProtectedKind)> {
        vec![
            (root.join(".agents"), ProtectedKind::Metadata),
            (root.join(".codex"), ProtectedKind::Metadata),
            (root.join(".git"), ProtectedKind::Metadata),
        ]
    }

    #[test]
    fn existing_metadata_directories_are_protected() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        std::fs::create_dir(root.join(".git")).unwrap();
        std::fs::create_dir(root.join(".agents")).unwrap();
        assert_eq!(paths(&protected_paths(&root, &root)), metadata_of(&root));
    }

    /// Regression (review finding 4): missing `.git` / `.agents` (and `.codex` outside the cwd)
    /// were not protected, so the command could create them.
    #[test]
    fn missing_metadata_is_protected_in_every_writable_root() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        assert_eq!(
            paths(&protected_paths(&root, Path::new("/elsewhere"))),
            metadata_of(&root)
        );
        assert_eq!(paths(&protected_paths(&root, &root)), metadata_of(&root));
        // A file named `.agents` is protected like a directory.
        std::fs::write(root.join(".agents"), "").unwrap();
        assert_eq!(
            paths(&protected_paths(&root, Path::new("/elsewhere"))),
            metadata_of(&root)
        );
    }

    #[test]
    fn gitdir_pointer_file_adds_existing_target() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().canonicalize().unwrap();
        let root = base.join("worktree");
        let target = base.join("main/.git/worktrees/wt");
        std::fs::create_dir_all(&root).unwrap();
        std::fs::create_dir_all(&target).unwrap();
        std::fs::write(root.join(".git"), "gitdir: ../main/.git/worktrees/wt\n").unwrap();
        let writable = writable_root(&root, &base);
        assert_eq!(writable.root, root);
        let mut expected = vec![(target, ProtectedKind::GitDirTarget)];
        expected.extend(metadata_of(&root));
        assert_eq!(paths(&writable.protected), expected);
    }

    #[test]
    fn gitdir_pointer_to_missing_or_malformed_target_keeps_only_metadata() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        std::fs::write(root.join(".git"), "gitdir: /does/not/exist\n").unwrap();
        assert_eq!(
            paths(&protected_paths(&root, Path::new("/x"))),
            metadata_of(&root)
        );
        std::fs::write(root.join(".git"), "garbage").unwrap();
        assert_eq!(
            paths(&protected_paths(&root, Path::new("/x"))),
            metadata_of(&root)
        );
    }

    /// Regression (review finding 16): an oversized `.git` pointer file is not read.
    #[test]
    fn oversized_git_pointer_file_is_not_read() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        std::fs::create_dir_all(root.join("target")).unwrap();
        let padding = " ".repeat(MAX_POINTER_FILE_BYTES as usize);
        std::fs::write(root.join(".git"), format!("gitdir: target{padding}\n")).unwrap();
        assert_eq!(
            paths(&protected_paths(&root, &root)),
            metadata_of(&root),
            "the target of an oversized pointer file is ignored"
        );
        std::fs::write(root.join(".git"), "gitdir: target\n").unwrap();
        assert!(
            protected_paths(&root, &root)
                .iter()
                .any(|p| p.path == root.join("target"))
        );
    }

    /// Regression (review finding 16): a FIFO named `.git` in a writable root must not hang the
    /// next session.
    #[cfg(unix)]
    #[test]
    fn git_pointer_fifo_does_not_block() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        let status = std::process::Command::new("mkfifo")
            .arg(root.join(".git"))
            .status()
            .expect("mkfifo (POSIX) must be available to run this test");
        assert!(status.success());
        let (sender, receiver) = std::sync::mpsc::channel();
        let thread_root = root.clone();
        std::thread::spawn(move || {
            let _ = sender.send(protected_paths(&thread_root, &thread_root));
        });
        let protected = receiver
            .recv_timeout(std::time::Duration::from_secs(5))
            .expect("protected_paths blocked on a FIFO");
        assert_eq!(paths(&protected), metadata_of(&root));
    }
}
