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
//!
//! Independent repositories below the root (a clone inside the workspace, not a submodule) are
//! found by a bounded scan ([`MAX_SCAN_DEPTH`] levels, [`MAX_SCAN_ENTRIES`] directory entries,
//! symlinks not followed, other filesystems not entered, `.git` directories not entered): their
//! `.git` is protected too, since the host's next `git` run in that directory reads it. Shared
//! temporary roots (`/tmp`, `/var/tmp`, `/dev/shm`, `$TMPDIR`) and `/` are not scanned, and a
//! `.git` that is a mount point is left alone. A `.git` that is a symlink is listed like any
//! other; the configuration compiler refuses it (a mount follows the link, so the link itself
//! could be replaced). Known limit: a repository the command creates during the run, or one
//! beyond the scan's bounds, is not protected.
//!
//! Finally, what git configuration points the host's next `git` at for code is kept read-only
//! when it lies inside the root: the `core.hooksPath` directory (each hook name when it is the
//! root itself) and the files `include.path` / `includeIf.*.path` name, from the system, global
//! and repository configuration of the repository at or above the root and of every nested one
//! (not for `/`, which holds everything).

use std::path::{Path, PathBuf};

use codex_utils_git::{ConfigLocations, Repository, read_small_regular_file};

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
/// How many directory levels below a writable root are scanned for independent repositories.
pub const MAX_SCAN_DEPTH: usize = 5;
/// Most directory entries the scan for independent repositories looks at in one root.
pub const MAX_SCAN_ENTRIES: usize = 10_000;
/// Hook names git runs (`githooks(5)`): protected one by one when `core.hooksPath` is the
/// writable root itself.
const HOOK_NAMES: &[&str] = &[
    "applypatch-msg",
    "pre-applypatch",
    "post-applypatch",
    "pre-commit",
    "pre-merge-commit",
    "prepare-commit-msg",
    "commit-msg",
    "post-commit",
    "pre-rebase",
    "post-checkout",
    "post-merge",
    "pre-push",
    "pre-receive",
    "update",
    "proc-receive",
    "post-receive",
    "post-update",
    "reference-transaction",
    "push-to-checkout",
    "pre-auto-gc",
    "post-rewrite",
    "sendemail-validate",
    "fsmonitor-watchman",
    "p4-changelist",
    "p4-prepare-changelist",
    "p4-post-changelist",
    "p4-pre-submit",
    "post-index-change",
];

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
    let scanned = scan_independent_repositories(&root);
    for dot_git in &scanned {
        protected.push(ProtectedPath {
            path: dot_git.clone(),
            kind: ProtectedKind::NestedRepository,
        });
        if let Some(target) = gitdir_target(dot_git) {
            protected.push(ProtectedPath {
                path: target,
                kind: ProtectedKind::GitDirTarget,
            });
        }
    }
    let repositories = Repository::discover(&root).into_iter().chain(
        scanned
            .iter()
            .filter_map(|dot_git| dot_git.parent())
            .filter_map(Repository::at),
    );
    // Everything is inside `/`: a policy that writes it can write `~/.bashrc` too, and listing
    // every hook and include on the machine would only make its plan fail on symlinked dotfiles.
    if root.parent().is_some() {
        protected.extend(git_config_targets(&root, repositories));
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

/// Shared temporary directories: never scanned (anyone's files live there, and a scan there
/// would be unbounded work on every run).
fn is_shared_temporary_root(root: &Path) -> bool {
    let mut shared = vec![
        PathBuf::from("/tmp"),
        PathBuf::from("/var/tmp"),
        PathBuf::from("/dev/shm"),
    ];
    shared.extend(
        std::env::var_os("TMPDIR")
            .map(PathBuf::from)
            .filter(|dir| dir.is_absolute()),
    );
    let canonical = root.canonicalize().ok();
    shared.iter().any(|dir| {
        normalize(dir) == root || (canonical.is_some() && dir.canonicalize().ok() == canonical)
    })
}

/// The `.git` entries (of any type, symlinks included) strictly below `root` other than
/// `root/.git`, found breadth-first within [`MAX_SCAN_DEPTH`] levels and [`MAX_SCAN_ENTRIES`]
/// entries; symlinked directories and other filesystems are not entered, a `.git` mount point
/// is skipped.
fn scan_independent_repositories(root: &Path) -> Vec<PathBuf> {
    if root.parent().is_none() || is_shared_temporary_root(root) {
        return Vec::new();
    }
    let Some(root_device) = device(root) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    let mut seen = 0usize;
    let mut queue = std::collections::VecDeque::from([(root.to_path_buf(), 0usize)]);
    while let Some((dir, depth)) = queue.pop_front() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            seen += 1;
            if seen > MAX_SCAN_ENTRIES || found.len() >= MAX_NESTED_REPOSITORIES {
                found.sort();
                return found;
            }
            let Ok(file_type) = entry.file_type() else {
                continue;
            };
            let path = entry.path();
            if entry.file_name() == ".git" {
                let mount_point = file_type.is_dir() && device(&path) != Some(root_device);
                if depth > 0 && !mount_point {
                    found.push(path);
                }
                continue;
            }
            if file_type.is_dir()
                && depth + 1 < MAX_SCAN_DEPTH
                && device(&path) == Some(root_device)
            {
                queue.push_back((path, depth + 1));
            }
        }
    }
    found.sort();
    found
}

/// The device of `path` itself (not followed); a constant where there is no such notion.
fn device(path: &Path) -> Option<u64> {
    let metadata = std::fs::symlink_metadata(path).ok()?;
    #[cfg(unix)]
    {
        Some(std::os::unix::fs::MetadataExt::dev(&metadata))
    }
    #[cfg(not(unix))]
    {
        let _ = metadata;
        Some(0)
    }
}

/// `path` spelled below `root` when it lies inside it (lexically, or once the deepest existing
/// ancestor of each is canonicalised: `/tmp` may be a symlink, `path` may not exist yet); never
/// `root` itself.
pub fn inside_root(root: &Path, path: &Path) -> Option<PathBuf> {
    let path = normalize(path);
    if path.starts_with(root) {
        return (path != root).then_some(path);
    }
    let canonical_root = root.canonicalize().ok()?;
    let mut existing = path.as_path();
    let mut missing = Vec::new();
    let canonical = loop {
        if let Ok(canonical) = existing.canonicalize() {
            break canonical;
        }
        missing.push(existing.file_name()?.to_os_string());
        existing = existing.parent()?;
    };
    let mut resolved = canonical;
    resolved.extend(missing.iter().rev());
    let relative = resolved.strip_prefix(&canonical_root).ok()?;
    (!relative.as_os_str().is_empty()).then(|| root.join(relative))
}

/// What the configuration of `repositories` points git at for code inside `root`: the hooks
/// directory (its hook names when it is `root` itself) and included files.
fn git_config_targets(
    root: &Path,
    repositories: impl Iterator<Item = Repository>,
) -> Vec<ProtectedPath> {
    let locations = ConfigLocations::from_environment();
    let mut targets = Vec::new();
    // The system and global files apply to every repository, also one the command creates in
    // a root that is none yet.
    let global = locations.global_pointers();
    let pointers = std::iter::once(global)
        .chain(repositories.map(|repository| repository.config_pointers(&locations)));
    let canonical_root = root.canonicalize().ok();
    for pointers in pointers {
        for hooks in &pointers.hooks {
            if normalize(hooks) == root
                || canonical_root.is_some() && hooks.canonicalize().ok() == canonical_root
            {
                targets.extend(HOOK_NAMES.iter().map(|name| root.join(name)));
            } else if let Some(path) = inside_root(root, hooks) {
                targets.push(path);
            }
        }
        targets.extend(
            pointers
                .includes
                .iter()
                .filter_map(|include| inside_root(root, include)),
        );
    }
    targets
        .into_iter()
        .map(|path| ProtectedPath {
            path,
            kind: ProtectedKind::GitDirTarget,
        })
        .collect()
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

    fn kinds(protected: &[ProtectedPath], kind: ProtectedKind) -> Vec<PathBuf> {
        protected
            .iter()
            .filter(|protected| protected.kind == kind)
            .map(|protected| protected.path.clone())
            .collect()
    }

    /// Red-team finding: an independent clone inside the workspace (not a submodule) kept a
    /// writable `.git`, so a sandboxed command set `core.fsmonitor` there and the host's next
    /// `git status` in that directory ran it. Found by the bounded scan; symlinked directories
    /// are not entered, and a `.git` symlink is listed (the compiler refuses it).
    #[cfg(unix)]
    #[test]
    fn independent_repositories_below_the_root_are_protected() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().canonicalize().unwrap();
        let root = base.join("work");
        std::fs::create_dir_all(root.join("third_party/lib")).unwrap();
        git(&root.join("third_party/lib"), &["init", "-q", "."]);
        std::fs::create_dir_all(root.join("pointer")).unwrap();
        std::fs::create_dir_all(base.join("elsewhere/gitdir")).unwrap();
        std::fs::write(
            root.join("pointer/.git"),
            format!("gitdir: {}\n", base.join("elsewhere/gitdir").display()),
        )
        .unwrap();
        std::fs::create_dir_all(root.join("linked")).unwrap();
        std::os::unix::fs::symlink(base.join("elsewhere/gitdir"), root.join("linked/.git"))
            .unwrap();
        // Not entered: a symlink to a directory holding a repository, and anything deeper than
        // the scan's depth.
        std::fs::create_dir_all(base.join("outside/repo/.git")).unwrap();
        std::os::unix::fs::symlink(base.join("outside"), root.join("via-link")).unwrap();
        let mut deep = root.clone();
        for level in 0..MAX_SCAN_DEPTH {
            deep = deep.join(format!("d{level}"));
        }
        std::fs::create_dir_all(deep.join(".git")).unwrap();
        let protected = protected_paths(&root, &root);
        assert_eq!(
            kinds(&protected, ProtectedKind::NestedRepository),
            vec![
                root.join("linked/.git"),
                root.join("pointer/.git"),
                root.join("third_party/lib/.git"),
            ]
        );
        assert!(
            kinds(&protected, ProtectedKind::GitDirTarget).contains(&base.join("elsewhere/gitdir"))
        );
        // Shared temporary roots and `/` are never scanned.
        assert!(is_shared_temporary_root(Path::new("/tmp")));
        assert!(is_shared_temporary_root(Path::new("/var/tmp")));
        assert!(!is_shared_temporary_root(&root));
        assert_eq!(
            scan_independent_repositories(Path::new("/")),
            Vec::<PathBuf>::new()
        );
    }

    /// The scan stops after [`MAX_SCAN_ENTRIES`] entries, whatever the tree holds.
    #[test]
    fn the_scan_is_bounded_by_entries() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        for index in 0..MAX_SCAN_ENTRIES {
            std::fs::write(root.join(format!("f{index}")), "").unwrap();
        }
        std::fs::create_dir_all(root.join("z/sub/.git")).unwrap();
        assert_eq!(scan_independent_repositories(&root), Vec::<PathBuf>::new());
        // Room for `z`, `z/sub` and `z/sub/.git` within the budget.
        for index in 0..3 {
            std::fs::remove_file(root.join(format!("f{index}"))).unwrap();
        }
        assert_eq!(
            scan_independent_repositories(&root),
            vec![root.join("z/sub/.git")]
        );
    }

    /// Red-team finding: `core.hooksPath = .githooks` (husky and friends) and included
    /// configuration files inside the workspace were writable, so a sandboxed command planted a
    /// hook (or `core.fsmonitor` in an included file) that the host's next `git commit` ran.
    #[test]
    fn hooks_and_included_configuration_inside_the_root_are_protected() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().canonicalize().unwrap();
        let root = base.join("repo");
        std::fs::create_dir_all(&root).unwrap();
        git(&root, &["init", "-q", "."]);
        let config = root.join(".git/config");
        let mut text = std::fs::read_to_string(&config).unwrap();
        text.push_str(&format!(
            "[core]\n\thooksPath = .githooks\n[include]\n\tpath = ../tools/git.conf\n[includeIf \"gitdir:/x/\"]\n\tpath = {}\n",
            base.join("outside.conf").display()
        ));
        std::fs::write(&config, text).unwrap();
        std::fs::create_dir_all(root.join("tools")).unwrap();
        std::fs::write(
            root.join("tools/git.conf"),
            "[include]\n\tpath = more.conf\n",
        )
        .unwrap();
        let protected = protected_paths(&root, &root);
        let targets = kinds(&protected, ProtectedKind::GitDirTarget);
        assert_eq!(
            targets,
            vec![
                root.join(".githooks"),
                root.join("tools/git.conf"),
                root.join("tools/more.conf"),
            ],
            "hooks directory (missing: creation is blocked too) and included files, not the one outside"
        );
        // `core.hooksPath = .`: every hook name in the root, not the whole root.
        let mut text = std::fs::read_to_string(&config).unwrap();
        text = text.replace("hooksPath = .githooks", "hooksPath = .");
        std::fs::write(&config, text).unwrap();
        let targets = kinds(&protected_paths(&root, &root), ProtectedKind::GitDirTarget);
        assert!(targets.contains(&root.join("pre-commit")));
        assert!(targets.contains(&root.join("post-checkout")));
        assert!(!targets.contains(&root));
        // A writable root below the repository gets what lies inside it.
        let tools = kinds(
            &protected_paths(&root.join("tools"), &root),
            ProtectedKind::GitDirTarget,
        );
        assert_eq!(
            tools,
            vec![root.join("tools/git.conf"), root.join("tools/more.conf")]
        );
    }
}
