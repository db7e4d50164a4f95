//! Protected metadata paths (`.git`, `.codex`, `.agents`) inside writable roots.
//!
//! A writable root keeps these read-only (and, when missing, uncreatable):
//! - `<root>/.git` when it is a directory or a file; for a `gitdir: <path>` pointer file the
//!   resolved target (relative to the root) is added too when it exists;
//! - `<root>/.agents` when it is a directory;
//! - `<root>/.codex` when it is a directory, and always when the root is the working directory.

use std::path::{Path, PathBuf};

use crate::policy::{ProtectedKind, ProtectedPath, WritableRoot, normalize};

/// Names protected directly inside every writable root.
pub const PROTECTED_METADATA_NAMES: &[&str] = &[".git", ".agents", ".codex"];

/// The protected carve-outs of `root` (absolute), de-duplicated and sorted by path.
pub fn protected_paths(root: &Path, cwd: &Path) -> Vec<ProtectedPath> {
    let root = normalize(root);
    let mut protected = Vec::new();

    let git = root.join(".git");
    if git.is_dir() {
        protected.push(metadata(git));
    } else if git.is_file() {
        if let Some(target) = gitdir_target(&git) {
            protected.push(ProtectedPath {
                path: target,
                kind: ProtectedKind::GitDirTarget,
            });
        }
        protected.push(metadata(git));
    }

    let agents = root.join(".agents");
    if agents.is_dir() {
        protected.push(metadata(agents));
    }

    let dot_codex = root.join(".codex");
    if dot_codex.is_dir() || root == normalize(cwd) {
        protected.push(metadata(dot_codex));
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

fn metadata(path: PathBuf) -> ProtectedPath {
    ProtectedPath {
        path,
        kind: ProtectedKind::Metadata,
    }
}

/// The existing directory a `.git` pointer file names (`gitdir: <path>`, relative paths against
/// the directory holding `.git`); `None` for anything else.
fn gitdir_target(git_file: &Path) -> Option<PathBuf> {
    let contents = std::fs::read_to_string(git_file).ok()?;
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

    #[test]
    fn git_dir_agents_dir_and_missing_codex_in_cwd() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        std::fs::create_dir(root.join(".git")).unwrap();
        std::fs::create_dir(root.join(".agents")).unwrap();
        assert_eq!(
            paths(&protected_paths(&root, &root)),
            vec![
                (root.join(".agents"), ProtectedKind::Metadata),
                (root.join(".codex"), ProtectedKind::Metadata),
                (root.join(".git"), ProtectedKind::Metadata),
            ]
        );
    }

    #[test]
    fn missing_codex_outside_cwd_is_not_protected_and_agents_file_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        std::fs::write(root.join(".agents"), "").unwrap();
        assert!(protected_paths(&root, Path::new("/elsewhere")).is_empty());
        std::fs::create_dir(root.join(".codex")).unwrap();
        assert_eq!(
            paths(&protected_paths(&root, Path::new("/elsewhere"))),
            vec![(root.join(".codex"), ProtectedKind::Metadata)]
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
        assert_eq!(
            paths(&writable.protected),
            vec![
                (target, ProtectedKind::GitDirTarget),
                (root.join(".git"), ProtectedKind::Metadata),
            ]
        );
    }

    #[test]
    fn gitdir_pointer_to_missing_or_malformed_target_keeps_only_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        std::fs::write(root.join(".git"), "gitdir: /does/not/exist\n").unwrap();
        let only_file = vec![(root.join(".git"), ProtectedKind::Metadata)];
        assert_eq!(paths(&protected_paths(&root, Path::new("/x"))), only_file);
        std::fs::write(root.join(".git"), "garbage").unwrap();
        assert_eq!(paths(&protected_paths(&root, Path::new("/x"))), only_file);
    }
}
