//! Canonical spellings of the paths handed to Seatbelt.
//!
//! Seatbelt matches the resolved path of a file (`/private/var/…`), not the spelling in the policy
//! (`/var/…`), so every path parameter is canonicalised. A path that does not exist yet (a missing
//! `.codex`) keeps its missing tail but still gets its existing ancestor resolved: otherwise the
//! carve-out would be written as `/var/…/.codex` and never match the real `mkdir`.
//!
//! The file system is reached through [`Canonicalize`] so tests on Linux can describe a macOS
//! layout (`/var` → `/private/var`) deterministically.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

/// Resolves symbolic links the way `realpath(3)` does.
pub(crate) trait Canonicalize {
    /// The fully resolved form of `path`, or `None` when it does not exist (or cannot be
    /// resolved).
    fn canonicalize(&self, path: &Path) -> Option<PathBuf>;

    /// The target of `path` when `path` itself (not following its last component) is a
    /// symbolic link; `None` for anything else, including a missing path.
    fn read_link(&self, path: &Path) -> Option<PathBuf>;
}

/// The real file system.
pub(crate) struct FileSystem;

impl Canonicalize for FileSystem {
    fn canonicalize(&self, path: &Path) -> Option<PathBuf> {
        std::fs::canonicalize(path).ok()
    }

    fn read_link(&self, path: &Path) -> Option<PathBuf> {
        std::fs::read_link(path).ok()
    }
}

/// Canonicalise the longest existing ancestor of `path` (which must be absolute and lexically
/// normalised) and append the part that does not exist yet. Falls back to `path` unchanged when
/// not even `/` resolves.
pub(crate) fn resolve(canonicalizer: &dyn Canonicalize, path: &Path) -> PathBuf {
    let mut existing = path;
    let mut missing_tail: Vec<&OsStr> = Vec::new();
    loop {
        if let Some(mut resolved) = canonicalizer.canonicalize(existing) {
            for part in missing_tail.iter().rev() {
                resolved.push(part);
            }
            return resolved;
        }
        match (existing.parent(), existing.file_name()) {
            (Some(parent), Some(name)) => {
                missing_tail.push(name);
                existing = parent;
            }
            _ => return path.to_path_buf(),
        }
    }
}

/// The spellings under which a carve-out (a protected or denied path) must be excluded.
///
/// * The path with its parent resolved but its last component kept: this is the directory entry
///   itself, which is what `unlink`, `rename` and `mkdir` act on, even when the entry is a symlink.
/// * The fully resolved path: where reads and writes through a symlink really land.
///
/// The two are equal unless the last component is a symbolic link; duplicates are dropped.
pub(crate) fn carve_out_spellings(canonicalizer: &dyn Canonicalize, path: &Path) -> Vec<PathBuf> {
    let entry = match (path.parent(), path.file_name()) {
        (Some(parent), Some(name)) => resolve(canonicalizer, parent).join(name),
        _ => resolve(canonicalizer, path),
    };
    let target = resolve(canonicalizer, path);
    if entry == target {
        vec![entry]
    } else {
        vec![entry, target]
    }
}

#[cfg(test)]
pub(crate) mod fake {
    use std::path::{Path, PathBuf};

    use super::Canonicalize;

    /// A described file system: symbolic links (as prefix rewrites) and the resolved paths that
    /// exist (every ancestor of an existing path exists too).
    #[derive(Default)]
    pub(crate) struct FakeFileSystem {
        links: Vec<(PathBuf, PathBuf)>,
        existing: Vec<PathBuf>,
    }

    impl FakeFileSystem {
        /// The usual macOS layout: `/var`, `/tmp` and `/etc` are links into `/private`.
        pub(crate) fn macos() -> Self {
            Self::default()
                .link("/var", "/private/var")
                .link("/tmp", "/private/tmp")
                .link("/etc", "/private/etc")
        }

        pub(crate) fn link(mut self, from: &str, to: &str) -> Self {
            self.links.push((PathBuf::from(from), PathBuf::from(to)));
            self
        }

        pub(crate) fn exists(mut self, resolved: &str) -> Self {
            self.existing.push(PathBuf::from(resolved));
            self
        }
    }

    impl Canonicalize for FakeFileSystem {
        fn canonicalize(&self, path: &Path) -> Option<PathBuf> {
            let mut current = path.to_path_buf();
            // Bounded, like the kernel's own symlink loop limit.
            for _ in 0..32 {
                let rewrite = self.links.iter().find_map(|(from, to)| {
                    current.strip_prefix(from).ok().map(|rest| {
                        if rest.as_os_str().is_empty() {
                            to.clone()
                        } else {
                            to.join(rest)
                        }
                    })
                });
                match rewrite {
                    Some(next) => current = next,
                    None => break,
                }
            }
            let exists = current == Path::new("/")
                || self
                    .existing
                    .iter()
                    .any(|existing| existing.starts_with(&current));
            exists.then_some(current)
        }

        /// A link is found under the spelling with its parent resolved (how a component-wise
        /// resolution reaches it).
        fn read_link(&self, path: &Path) -> Option<PathBuf> {
            self.links.iter().find_map(|(from, to)| {
                let entry = match (from.parent(), from.file_name()) {
                    (Some(parent), Some(name)) => self
                        .canonicalize(parent)
                        .unwrap_or_else(|| parent.to_path_buf())
                        .join(name),
                    _ => from.clone(),
                };
                (entry == path).then(|| to.clone())
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::fake::FakeFileSystem;
    use super::*;

    #[test]
    fn existing_path_is_fully_resolved() {
        let file_system = FakeFileSystem::macos().exists("/private/var/folders/x/T");
        assert_eq!(
            resolve(&file_system, Path::new("/var/folders/x/T")),
            PathBuf::from("/private/var/folders/x/T")
        );
    }

    #[test]
    fn missing_tail_is_kept_below_the_resolved_ancestor() {
        let file_system = FakeFileSystem::macos().exists("/private/var/folders/x/repo");
        assert_eq!(
            resolve(&file_system, Path::new("/var/folders/x/repo/.codex")),
            PathBuf::from("/private/var/folders/x/repo/.codex")
        );
        assert_eq!(
            resolve(&file_system, Path::new("/nowhere/at/all")),
            PathBuf::from("/nowhere/at/all")
        );
    }

    #[test]
    fn symlinked_carve_out_is_excluded_as_entry_and_as_target() {
        let file_system = FakeFileSystem::default()
            .link("/repo/.codex", "/repo/decoy")
            .exists("/repo/decoy");
        assert_eq!(
            carve_out_spellings(&file_system, Path::new("/repo/.codex")),
            vec![PathBuf::from("/repo/.codex"), PathBuf::from("/repo/decoy")]
        );
        assert_eq!(
            carve_out_spellings(&file_system, Path::new("/repo/.git")),
            vec![PathBuf::from("/repo/.git")]
        );
        assert_eq!(
            carve_out_spellings(&file_system, Path::new("/")),
            vec![PathBuf::from("/")]
        );
    }
}
