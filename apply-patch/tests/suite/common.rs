//! A temporary tree, its snapshot, and a `:workspace`-like policy over it.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use codex_apply_patch::{ApplyPatchError, WriteGuard, apply_patch};
use codex_sandbox_policy::{
    Access, Enforcement, NetworkAccess, PathRule, SandboxPolicy, writable_root,
};

/// A temporary directory with a `ws/` workspace inside (so escapes have somewhere to land).
pub struct Tree {
    _dir: tempfile::TempDir,
    pub base: PathBuf,
}

/// One entry of a snapshot: file bytes, symlink target or a directory, with the mode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    File(Vec<u8>, u32),
    Link(PathBuf),
    Dir(u32),
    /// A FIFO, socket or device (never opened).
    Special(u32),
}

#[allow(dead_code)]
impl Tree {
    pub fn new() -> Tree {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().canonicalize().unwrap();
        std::fs::create_dir(base.join("ws")).unwrap();
        Tree { _dir: dir, base }
    }

    pub fn ws(&self) -> PathBuf {
        self.base.join("ws")
    }

    /// Write `contents` at `relative` (against `base`), creating directories.
    pub fn write(&self, relative: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.base.join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, contents).unwrap();
        path
    }

    pub fn read(&self, relative: &str) -> String {
        String::from_utf8(std::fs::read(self.base.join(relative)).unwrap()).unwrap()
    }

    pub fn exists(&self, relative: &str) -> bool {
        std::fs::symlink_metadata(self.base.join(relative)).is_ok()
    }

    /// Every entry below `base`.
    pub fn snapshot(&self) -> BTreeMap<PathBuf, Entry> {
        let mut entries = BTreeMap::new();
        let mut pending = vec![self.base.clone()];
        while let Some(directory) = pending.pop() {
            for entry in std::fs::read_dir(&directory).unwrap() {
                let path = entry.unwrap().path();
                let metadata = std::fs::symlink_metadata(&path).unwrap();
                let mode = metadata.permissions().mode();
                let entry = if metadata.file_type().is_symlink() {
                    Entry::Link(std::fs::read_link(&path).unwrap())
                } else if metadata.is_dir() {
                    pending.push(path.clone());
                    Entry::Dir(mode)
                } else if !metadata.is_file() {
                    Entry::Special(mode)
                } else {
                    Entry::File(std::fs::read(&path).unwrap(), mode)
                };
                entries.insert(path.strip_prefix(&self.base).unwrap().to_path_buf(), entry);
            }
        }
        entries
    }

    /// Apply `patch` in `ws/` without a policy; the summary or the error text.
    pub fn apply(&self, patch: &str) -> Result<String, String> {
        self.apply_with(patch, &WriteGuard::unrestricted())
    }

    pub fn apply_with(&self, patch: &str, guard: &WriteGuard) -> Result<String, String> {
        self.apply_error(patch, guard)
            .map_err(|error| error.to_string())
    }

    pub fn apply_error(&self, patch: &str, guard: &WriteGuard) -> Result<String, ApplyPatchError> {
        apply_patch(patch, &self.ws(), guard).map(|summary| summary.to_string())
    }

    /// A guard for what `:workspace` allows in `ws/`.
    pub fn workspace_guard(&self) -> WriteGuard {
        WriteGuard::for_policy(&workspace_policy(&self.ws()))
    }
}

/// `:workspace` over `root`: read everything, write `root` except its protected metadata.
pub fn workspace_policy(root: &Path) -> SandboxPolicy {
    SandboxPolicy {
        profile: ":workspace".to_string(),
        enforcement: Enforcement::Managed,
        cwd: root.to_path_buf(),
        rules: vec![
            PathRule {
                path: PathBuf::from("/"),
                access: Access::Read,
            },
            PathRule {
                path: root.to_path_buf(),
                access: Access::Write,
            },
        ],
        platform_defaults: false,
        deny_globs: Vec::new(),
        glob_scan_max_depth: None,
        writable_roots: vec![writable_root(root, root)],
        network: NetworkAccess::Restricted,
        unix_sockets: Vec::new(),
    }
}

/// `*** Begin Patch\n{body}\n*** End Patch\n`.
pub fn patch(body: &str) -> String {
    format!("*** Begin Patch\n{body}\n*** End Patch\n")
}
