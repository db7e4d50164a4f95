//! Resolving a patch path to the file that would really be written: against the working
//! directory, with `.`/`..` and every symbolic link resolved the way the kernel would, also for
//! components that do not exist yet.

use std::collections::VecDeque;
use std::ffi::OsString;
use std::io;
use std::path::{Component, Path, PathBuf};

/// More symbolic links than this in one resolution is a loop (Linux's limit).
const MAX_SYMLINKS: usize = 40;

/// Whether a symbolic link as the last component is followed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LastComponent {
    /// Writing or reading the file: follow it, as `open` does.
    Follow,
    /// Removing the entry itself: keep it.
    Keep,
}

/// The absolute, lexically normalised spelling of `path` against `cwd` (for messages).
pub(crate) fn display_path(cwd: &Path, path: &Path) -> PathBuf {
    codex_sandbox_policy::normalize(&cwd.join(path))
}

/// The real location of `path` (relative paths against `cwd`, which must be absolute): every
/// existing component is looked up and symbolic links are followed; once a component is missing
/// the rest is appended lexically.
pub(crate) fn resolve(cwd: &Path, path: &Path, last: LastComponent) -> io::Result<PathBuf> {
    let mut pending: VecDeque<OsString> = VecDeque::new();
    let mut real = PathBuf::from("/");
    push_components(&mut pending, &mut real, &cwd.join(path));
    let mut links = 0;
    let mut missing = false;
    while let Some(part) = pending.pop_front() {
        if part == ".." {
            real.pop();
            continue;
        }
        let candidate = real.join(&part);
        if missing {
            real = candidate;
            continue;
        }
        let is_last = pending.is_empty();
        match std::fs::symlink_metadata(&candidate) {
            Ok(metadata)
                if metadata.file_type().is_symlink()
                    && (!is_last || last == LastComponent::Follow) =>
            {
                links += 1;
                if links > MAX_SYMLINKS {
                    return Err(io::Error::from_raw_os_error(libc::ELOOP));
                }
                let target = std::fs::read_link(&candidate)?;
                let mut expanded = VecDeque::new();
                push_components(&mut expanded, &mut real, &target);
                expanded.extend(pending.drain(..));
                pending = expanded;
            }
            Ok(metadata) => {
                if !is_last && !metadata.is_dir() {
                    return Err(io::Error::from_raw_os_error(libc::ENOTDIR));
                }
                real = candidate;
            }
            Err(error) if error.kind() == io::ErrorKind::NotFound => {
                missing = true;
                real = candidate;
            }
            Err(error) => return Err(error),
        }
    }
    Ok(real)
}

/// Queue the components of `path`; an absolute `path` restarts `real` at `/`.
fn push_components(pending: &mut VecDeque<OsString>, real: &mut PathBuf, path: &Path) {
    for component in path.components() {
        match component {
            Component::RootDir => {
                pending.clear();
                *real = PathBuf::from("/");
            }
            Component::Prefix(prefix) => *real = PathBuf::from(prefix.as_os_str()),
            Component::CurDir => {}
            Component::ParentDir => pending.push_back(OsString::from("..")),
            Component::Normal(part) => pending.push_back(part.to_os_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn resolves_dots_symlinks_and_missing_tails() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        std::fs::create_dir_all(root.join("real/sub")).unwrap();
        symlink(root.join("real"), root.join("link")).unwrap();
        symlink("sub/../sub", root.join("real/rel")).unwrap();
        symlink("missing-target", root.join("dangling")).unwrap();
        let follow = LastComponent::Follow;
        assert_eq!(
            resolve(&root, Path::new("link/sub/../x.txt"), follow).unwrap(),
            root.join("real/x.txt")
        );
        assert_eq!(
            resolve(&root, Path::new("link/rel/new/dir/f"), follow).unwrap(),
            root.join("real/sub/new/dir/f")
        );
        assert_eq!(
            resolve(&root, Path::new("../outside"), follow).unwrap(),
            root.parent().unwrap().join("outside")
        );
        assert_eq!(
            resolve(&root, Path::new("dangling"), follow).unwrap(),
            root.join("missing-target")
        );
        assert_eq!(
            resolve(&root, Path::new("dangling"), LastComponent::Keep).unwrap(),
            root.join("dangling")
        );
        assert_eq!(
            resolve(&root, Path::new("/etc/../tmp"), follow).unwrap(),
            Path::new("/tmp").canonicalize().unwrap()
        );
        // The link in the middle is followed even when the last one is kept.
        assert_eq!(
            resolve(&root, Path::new("link/rel"), LastComponent::Keep).unwrap(),
            root.join("real/rel")
        );
    }

    #[test]
    fn loops_and_files_used_as_directories_fail() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        symlink("b", root.join("a")).unwrap();
        symlink("a", root.join("b")).unwrap();
        std::fs::write(root.join("file"), "").unwrap();
        let error = resolve(&root, Path::new("a"), LastComponent::Follow).unwrap_err();
        assert_eq!(error.raw_os_error(), Some(libc::ELOOP));
        let error = resolve(&root, Path::new("file/x"), LastComponent::Follow).unwrap_err();
        assert_eq!(error.raw_os_error(), Some(libc::ENOTDIR));
    }
}
