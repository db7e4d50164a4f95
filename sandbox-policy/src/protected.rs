//! Protected metadata paths (`.git`, `.codex`, `.agents`) inside writable roots.
//!
//! Every writable root keeps `<root>/.git`, `<root>/.codex` and `<root>/.agents` read-only,
//! **whether or not they exist**: a missing one must be masked by the backend so that the
//! sandboxed command cannot create it (a created `.git` or `.codex` would be trusted by the next
//! session). When `<root>/.git` is a `gitdir: <path>` pointer file (a linked worktree or a
//! submodule), the resolved target (relative paths against the root) is protected too when it
//! exists.
//!
//! Other repositories git itself enters from inside the root are protected the same way, because
//! a rewritten `.git` pointer there makes the host's next `git status` run a configuration the
//! command wrote (`core.fsmonitor`): the `.git` of every submodule (each gitlink entry of the
//! index of the repository at or above the root, and recursively of initialized submodules,
//! existing or not: git enters a planted `sub/.git` for a gitlink even without `.gitmodules`),
//! and of every linked worktree (`<common dir>/worktrees/*/gitdir`). The index and those files
//! live in `.git`, which the command cannot change; nothing walks the tree. When the index cannot
//! be read (a split index), the paths named by `.gitmodules` are used instead. Not covered: a
//! brand-new nested repository the command creates (git does not enter it from the root), and
//! gitlinks it could only add through the protected index.
//!
//! A pointer file is only read when it is a regular file of at most 4 KiB (a FIFO or a huge
//! file planted in a writable root must not hang or exhaust the next session).

use std::path::{Path, PathBuf};

use codex_utils_git::{Repository, read_small_regular_file};

use crate::policy::{ProtectedKind, ProtectedPath, WritableRoot, normalize};

/// Names protected directly inside every writable root.
pub const PROTECTED_METADATA_NAMES: &[&str] = &[".git", ".agents", ".codex"];

/// Largest `.git` pointer file that is read.
const MAX_POINTER_FILE_BYTES: u64 = 4096;
/// Largest `.gitmodules` read when the index cannot be.
const MAX_GITMODULES_BYTES: u64 = 1 << 20;
/// How deep submodules of submodules are followed.
const MAX_SUBMODULE_DEPTH: usize = 4;
/// Most nested repositories protected in one root.
const MAX_NESTED_REPOSITORIES: usize = 4096;

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
    protected.extend(
        nested_repositories(&root)
            .into_iter()
            .map(|path| ProtectedPath {
                path,
                kind: ProtectedKind::NestedRepository,
            }),
    );
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

/// The `.git` entries strictly inside `root` (other than `root/.git`) of submodules and linked
/// worktrees of the repository at or above `root`.
fn nested_repositories(root: &Path) -> Vec<PathBuf> {
    let Some(repository) = Repository::discover(root) else {
        return Vec::new();
    };
    let inside = |path: &Path| path.starts_with(root) && path != root.join(".git");
    let mut found: Vec<PathBuf> = repository
        .linked_worktrees()
        .into_iter()
        .map(|path| normalize(&path))
        .filter(|path| inside(path))
        .collect();
    let mut pending = vec![(repository, 0usize)];
    while let Some((repository, depth)) = pending.pop() {
        for worktree in submodule_worktrees(&repository) {
            if found.len() >= MAX_NESTED_REPOSITORIES {
                return found;
            }
            let dot_git = worktree.join(".git");
            if inside(&dot_git) {
                found.push(dot_git);
            }
            if depth + 1 < MAX_SUBMODULE_DEPTH
                && worktree.starts_with(root)
                && let Some(submodule) = Repository::at(&worktree)
            {
                pending.push((submodule, depth + 1));
            }
        }
    }
    found.sort();
    found.dedup();
    found
}

/// A path git stored as bytes: raw on Unix, UTF-8 elsewhere.
fn path_from_bytes(bytes: &[u8]) -> PathBuf {
    #[cfg(unix)]
    {
        PathBuf::from(<std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(bytes))
    }
    #[cfg(not(unix))]
    {
        PathBuf::from(String::from_utf8_lossy(bytes).into_owned())
    }
}

/// Worktree directories of `repository`'s submodules: its gitlink entries, or (when the index
/// cannot be read) the paths `.gitmodules` names. Paths with `..` or absolute ones are dropped.
fn submodule_worktrees(repository: &Repository) -> Vec<PathBuf> {
    let relative: Vec<Vec<u8>> = match repository.index() {
        Ok(index) => index.gitlinks().map(<[u8]>::to_vec).collect(),
        Err(_) => gitmodules_paths(&repository.worktree),
    };
    relative
        .into_iter()
        .map(|bytes| path_from_bytes(&bytes))
        .filter(|path| {
            path.components()
                .all(|component| matches!(component, std::path::Component::Normal(_)))
        })
        .map(|path| repository.worktree.join(path))
        .collect()
}

/// `path = …` values of `<worktree>/.gitmodules`.
fn gitmodules_paths(worktree: &Path) -> Vec<Vec<u8>> {
    let Some(bytes) = read_small_regular_file(&worktree.join(".gitmodules"), MAX_GITMODULES_BYTES)
    else {
        return Vec::new();
    };
    String::from_utf8_lossy(&bytes)
        .lines()
        .filter_map(|line| {
            let (key, value) = line.split_once('=')?;
            key.trim()
                .eq_ignore_ascii_case("path")
                .then(|| value.trim().trim_matches('"').as_bytes().to_vec())
        })
        .filter(|value| !value.is_empty())
        .collect()
}

/// The existing path a `.git` pointer file names (`gitdir: <path>`, relative paths against the
/// directory holding `.git`); `None` for a directory, a missing or oversized file, anything that
/// is not a regular file, or malformed contents.
fn gitdir_target(git_file: &Path) -> Option<PathBuf> {
    let contents = read_small_regular_file(git_file, MAX_POINTER_FILE_BYTES)?;
    let contents = String::from_utf8(contents).ok()?;
    let target = contents.trim().strip_prefix("gitdir:")?.trim();
    if target.is_empty() {
        return None;
    }
    let base = git_file.parent()?;
    let resolved = normalize(&base.join(target));
    resolved.exists().then_some(resolved)
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

    fn git(directory: &Path, args: &[&str]) {
        let status = std::process::Command::new("git")
            .args(args)
            .current_dir(directory)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("HOME", directory)
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@t")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@t")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .expect("git must be installed to run this test");
        assert!(status.success(), "git {args:?}");
    }

    /// A rewritten `sub/.git` (or a planted one for an uninitialized submodule) made the host's
    /// next `git status` at the root run the command's `core.fsmonitor`: every gitlink's `.git`
    /// is protected, existing or not, and linked worktrees inside the root too.
    #[test]
    fn submodule_and_worktree_git_pointers_are_protected() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().canonicalize().unwrap();
        let root = base.join("repo");
        std::fs::create_dir_all(root.join("vendor/lib")).unwrap();
        std::fs::create_dir_all(root.join("tools/gen")).unwrap();
        git(&root, &["init", "-q", "."]);
        std::fs::write(root.join("a.txt"), "a\n").unwrap();
        git(&root, &["add", "a.txt"]);
        git(&root, &["commit", "-qm", "init"]);
        // An initialized submodule (its own repository at vendor/lib) and an uninitialized one.
        git(&root.join("vendor/lib"), &["init", "-q", "."]);
        git(
            &root.join("vendor/lib"),
            &["commit", "-q", "--allow-empty", "-m", "x"],
        );
        git(&root, &["add", "vendor/lib"]);
        git(
            &root,
            &[
                "update-index",
                "--add",
                "--cacheinfo",
                "160000,a3ff4301665010aa1e376801f7a2de0b2f3db46c,tools/gen",
            ],
        );
        // A gitlink inside the initialized submodule, and a linked worktree inside the root.
        git(
            &root.join("vendor/lib"),
            &[
                "update-index",
                "--add",
                "--cacheinfo",
                "160000,a3ff4301665010aa1e376801f7a2de0b2f3db46c,deep",
            ],
        );
        git(&root, &["worktree", "add", "-q", ".worktrees/feature"]);
        let nested: Vec<PathBuf> = protected_paths(&root, &root)
            .into_iter()
            .filter(|protected| protected.kind == ProtectedKind::NestedRepository)
            .map(|protected| protected.path)
            .collect();
        assert_eq!(
            nested,
            vec![
                root.join(".worktrees/feature/.git"),
                root.join("tools/gen/.git"),
                root.join("vendor/lib/.git"),
                root.join("vendor/lib/deep/.git"),
            ]
        );
        // A writable root inside the repository gets the ones below it.
        let vendor: Vec<PathBuf> = protected_paths(&root.join("vendor"), &root)
            .into_iter()
            .filter(|protected| protected.kind == ProtectedKind::NestedRepository)
            .map(|protected| protected.path)
            .collect();
        assert_eq!(
            vendor,
            vec![
                root.join("vendor/lib/.git"),
                root.join("vendor/lib/deep/.git")
            ]
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
