//! Repositories: worktree, git directory, common directory.

use std::path::{Component, Path, PathBuf};

use crate::files::read_small_regular_file;
use crate::index::{Index, IndexError};
use crate::object::{ObjectFormat, blob_id};

/// Largest pointer file (`.git`, `commondir`, `gitdir`) that is read.
const MAX_POINTER_BYTES: u64 = 4096;
/// Largest `config` read to learn the object format.
const MAX_CONFIG_BYTES: u64 = 1 << 20;
/// Most linked worktrees listed.
const MAX_WORKTREES: usize = 1024;

/// A repository found on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repository {
    /// The directory holding `.git`.
    pub worktree: PathBuf,
    /// `<worktree>/.git`, or the directory a `.git` pointer file names.
    pub git_dir: PathBuf,
    /// Shared by linked worktrees (`<git_dir>/commondir`); `git_dir` otherwise.
    pub common_dir: PathBuf,
}

/// Whether a file's contents are what the index holds for its path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrackedState {
    /// Tracked as a regular file and byte-for-byte the staged blob.
    Unmodified,
    /// Tracked, but the contents differ (or it is tracked as something other than a file).
    Modified,
    /// Not in the index.
    Untracked,
    /// The index could not be read (split, malformed, too large): nothing can be vouched for.
    Unknown(String),
}

impl Repository {
    /// The repository whose worktree is `dir`: `dir/.git` is a directory holding `HEAD`, or a
    /// `gitdir:` pointer file naming an existing directory.
    pub fn at(dir: &Path) -> Option<Repository> {
        let dot_git = dir.join(".git");
        let metadata = std::fs::symlink_metadata(&dot_git).ok()?;
        let git_dir = if metadata.is_dir() {
            dot_git.join("HEAD").exists().then_some(dot_git)?
        } else if metadata.is_file() {
            let target = pointer_target(&dot_git)?;
            target.is_dir().then_some(target)?
        } else {
            return None;
        };
        let common_dir = read_pointer(&git_dir.join("commondir"))
            .map(|common| lexical_join(&git_dir, &common))
            .filter(|common| common.is_dir())
            .unwrap_or_else(|| git_dir.clone());
        Some(Repository {
            worktree: dir.to_path_buf(),
            git_dir,
            common_dir,
        })
    }

    /// The nearest repository at or above `dir`.
    pub fn discover(dir: &Path) -> Option<Repository> {
        dir.ancestors().find_map(Repository::at)
    }

    /// `extensions.objectformat` of the repository (SHA-1 unless it says `sha256`).
    pub fn object_format(&self) -> ObjectFormat {
        let Some(config) =
            read_small_regular_file(&self.common_dir.join("config"), MAX_CONFIG_BYTES)
        else {
            return ObjectFormat::Sha1;
        };
        let text = String::from_utf8_lossy(&config).to_ascii_lowercase();
        let sha256 = text.lines().any(|line| {
            let line = line.trim();
            line.strip_prefix("objectformat")
                .and_then(|rest| rest.trim_start().strip_prefix('='))
                .is_some_and(|value| value.trim().trim_matches('"') == "sha256")
        });
        if sha256 {
            ObjectFormat::Sha256
        } else {
            ObjectFormat::Sha1
        }
    }

    pub fn index(&self) -> Result<Index, IndexError> {
        Index::read(&self.git_dir, self.object_format())
    }

    /// The `.git` files of the repository's linked worktrees (`<common>/worktrees/*/gitdir`),
    /// whether they still exist or not.
    pub fn linked_worktrees(&self) -> Vec<PathBuf> {
        let Ok(entries) = std::fs::read_dir(self.common_dir.join("worktrees")) else {
            return Vec::new();
        };
        let mut found = Vec::new();
        for entry in entries.flatten().take(MAX_WORKTREES) {
            let admin = entry.path();
            if let Some(back) = read_pointer(&admin.join("gitdir")) {
                found.push(lexical_join(&admin, &back));
            }
        }
        found.sort();
        found
    }

    /// Whether `contents`, read from `path` (inside the worktree), are what `index` holds.
    pub fn tracked_state(&self, index: &Index, path: &Path, contents: &[u8]) -> TrackedState {
        let Some(relative) = relative_bytes(&self.worktree, path) else {
            return TrackedState::Untracked;
        };
        match index.find(&relative) {
            None => TrackedState::Untracked,
            Some(entry)
                if entry.is_regular_file()
                    && entry.id == blob_id(contents, self.object_format()) =>
            {
                TrackedState::Unmodified
            }
            Some(_) => TrackedState::Modified,
        }
    }
}

/// The directory a `.git` pointer file names (relative to the file's directory).
fn pointer_target(dot_git: &Path) -> Option<PathBuf> {
    let contents = read_pointer(dot_git)?;
    let target = contents.strip_prefix("gitdir:")?.trim();
    if target.is_empty() {
        return None;
    }
    Some(lexical_join(dot_git.parent()?, target))
}

/// A small pointer file's trimmed contents.
fn read_pointer(path: &Path) -> Option<String> {
    let bytes = read_small_regular_file(path, MAX_POINTER_BYTES)?;
    Some(String::from_utf8(bytes).ok()?.trim().to_string())
}

/// `base.join(relative)` with `.` and `..` resolved lexically (never above `/`).
fn lexical_join(base: &Path, relative: impl AsRef<Path>) -> PathBuf {
    let mut result = PathBuf::new();
    for component in base.join(relative).components() {
        match component {
            Component::ParentDir => {
                result.pop();
            }
            Component::CurDir => {}
            other => result.push(other),
        }
    }
    result
}

/// `path` relative to `root` as index bytes (`/`-separated), if it lies strictly inside.
fn relative_bytes(root: &Path, path: &Path) -> Option<Vec<u8>> {
    let relative = path.strip_prefix(root).ok()?;
    let mut bytes = Vec::new();
    for component in relative.components() {
        let Component::Normal(name) = component else {
            return None;
        };
        if !bytes.is_empty() {
            bytes.push(b'/');
        }
        // The raw bytes on Unix; WTF-8 (UTF-8 for every valid name) on Windows.
        bytes.extend_from_slice(name.as_encoded_bytes());
    }
    (!bytes.is_empty()).then_some(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    fn git(directory: &Path, args: &[&str]) {
        let status = Command::new("git")
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

    #[test]
    fn finds_repositories_worktrees_and_tracked_state() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().canonicalize().unwrap();
        let main = base.join("main");
        std::fs::create_dir_all(main.join("sub/deeper")).unwrap();
        git(&main, &["init", "-q", "."]);
        std::fs::write(main.join("sub/tracked.txt"), "v1\n").unwrap();
        git(&main, &["add", "sub/tracked.txt"]);
        git(&main, &["commit", "-qm", "init"]);
        git(&main, &["worktree", "add", "-q", "../linked"]);

        let found = Repository::discover(&main.join("sub/deeper")).unwrap();
        assert_eq!(found.worktree, main);
        assert_eq!(found.git_dir, main.join(".git"));
        assert_eq!(found.common_dir, main.join(".git"));
        assert_eq!(found.linked_worktrees(), vec![base.join("linked/.git")]);

        let linked = Repository::at(&base.join("linked")).unwrap();
        assert_eq!(linked.git_dir, main.join(".git/worktrees/linked"));
        assert_eq!(linked.common_dir, main.join(".git"));

        let index = found.index().unwrap();
        let tracked = main.join("sub/tracked.txt");
        assert_eq!(
            found.tracked_state(&index, &tracked, b"v1\n"),
            TrackedState::Unmodified
        );
        assert_eq!(
            found.tracked_state(&index, &tracked, b"v2\n"),
            TrackedState::Modified
        );
        assert_eq!(
            found.tracked_state(&index, &main.join("sub/other.txt"), b"v1\n"),
            TrackedState::Untracked
        );
        assert_eq!(
            found.tracked_state(&index, &base.join("elsewhere"), b"v1\n"),
            TrackedState::Untracked
        );
    }

    #[test]
    fn stray_or_broken_git_entries_are_not_repositories() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        std::fs::create_dir(root.join(".git")).unwrap();
        assert_eq!(Repository::at(&root), None, "no HEAD");
        std::fs::remove_dir(root.join(".git")).unwrap();
        std::fs::write(root.join(".git"), "gitdir: /does/not/exist\n").unwrap();
        assert_eq!(Repository::at(&root), None);
        std::fs::write(root.join(".git"), "garbage\n").unwrap();
        assert_eq!(Repository::at(&root), None);
    }

    #[test]
    fn sha256_repositories_are_recognised() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        git(&root, &["init", "-q", "--object-format=sha256", "."]);
        std::fs::write(root.join("a.txt"), "x\n").unwrap();
        git(&root, &["add", "a.txt"]);
        let repository = Repository::at(&root).unwrap();
        assert_eq!(repository.object_format(), ObjectFormat::Sha256);
        let index = repository.index().unwrap();
        assert_eq!(
            repository.tracked_state(&index, &root.join("a.txt"), b"x\n"),
            TrackedState::Unmodified
        );
    }
}
